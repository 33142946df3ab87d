# Each target creates .venv when it is missing and installs what it needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench load fuzz timeline-check lint typecheck clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/regime demo examples/

lint: $(STAMP)
	$(BIN)/ruff check engine cli service tests bench conftest.py
	$(BIN)/ruff format --check engine cli service tests bench conftest.py
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

# pytest on every core (pytest-xdist: one worker per core); the Spark tests share one worker and
# its one Spark session (see tests/sql/conftest.py). `make test PYTEST_ARGS=-n0` runs it serially.
PYTEST_ARGS ?= -n auto --dist loadgroup

test: $(STAMP) lint typecheck
	@bash scripts/ensure-browser; bash scripts/ensure-java; bash scripts/ensure-postgres; $(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

# the long fuzz run (FUZZ_SECONDS, default 30 minutes), at the lowest priority, then each
# coverage-guided atheris target for ATHERIS_SECONDS (default 5 minutes)
fuzz: $(STAMP)
	nice -n 19 $(BIN)/python tests/fuzz/run.py; rc=$$?; \
	nice -n 19 $(BIN)/python tests/fuzz/atheris_run.py || rc=1; exit $$rc

bench: $(STAMP)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/population.py
	$(BIN)/python bench/sql_compile.py

# The decision service for 60 s at 32 clients, then killed with SIGKILL mid-load and restarted,
# with its log on SQLite and then on a throwaway PostgreSQL server.
load: $(STAMP)
	@bash scripts/ensure-postgres; $(BIN)/python bench/service_bench.py --load 60

# change points against every day's decision, on more generated documents than `make test`;
# then the SQL path against the interpreter for populations (states, upcoming, impact)
timeline-check: $(STAMP)
	$(BIN)/python bench/timeline_exact.py 40
	$(BIN)/python bench/sql_agreement.py 300

clean:
	rm -rf $(VENV) build *.egg-info
