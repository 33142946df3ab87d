"""`regime batch` and `regime sql` end to end through the command, in process."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from cli.main import cli
from engine.tools.population import write_population


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("batch") / "population.parquet"
    write_population(path, 300, seed=11, roots=("prisoner", "establishment"))
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_batch_parquet_one_day(population: Path, tmp_path: Path) -> None:
    out = tmp_path / "today.parquet"
    code, text = run(
        "batch",
        "keywork_edm",
        "--facts",
        str(population),
        "--as-of",
        "2020-07-20",
        "--out",
        str(out),
    )
    assert code == 0, text
    assert "300 decisions" in text and "rejected: 0" in text
    assert "is_priority: true" in text and "undetermined:" in text
    rows = duckdb.sql(f"SELECT * FROM read_parquet('{out}')").fetchall()
    assert len(rows) == 300
    cols = duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{out}')").fetchall()
    names = [c[0] for c in cols]
    for wanted in (
        "record",
        "key",
        "as_of",
        "status",
        "is_priority",
        "obligations",
        "missing_facts",
        "version",
        "content_hash",
    ):
        assert wanted in names
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp file left


def test_batch_range_gives_a_row_per_day(population: Path, tmp_path: Path) -> None:
    out = tmp_path / "week.csv"
    code, text = run(
        "batch",
        "omu_edm",
        "--facts",
        str(population),
        "--as-of",
        "2020-07-01..2020-07-07",
        "--out",
        str(out),
        "--outputs",
        "oasys_priority",
    )
    assert code == 0, text
    assert "2100 decisions" in text
    header = out.read_text().splitlines()[0]
    assert "oasys_priority" in header and "stage_name" not in header


def test_batch_rejects_bad_records_and_goes_on(tmp_path: Path) -> None:
    facts = tmp_path / "facts.jsonl"
    good = {
        "prisoner": {"acct": "open", "prison_number": "A1234BC"},
        "establishment": {"regime_level": 4},
    }
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps({"prisoner": {"acct": "sometimes"}}),
        json.dumps({"prisoner": {"release_date": "2020-02-30"}}),
        json.dumps({"prisoner": {"prison_number": "12"}, "establishment": {"regime_level": 9}}),
        json.dumps({"prisoner": {"cev": "yes"}}),
    ]
    facts.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.jsonl"
    code, text = run(
        "batch", "keywork_edm", "--facts", str(facts), "--as-of", "2020-07-20", "--out", str(out)
    )
    assert code == 0, text
    assert "1 decisions" in text and "rejected: 5" in text
    rejects = [json.loads(x) for x in (tmp_path / "out.rejects.jsonl").read_text().splitlines()]
    reasons = {r["record"]: " ".join(r["reasons"]) for r in rejects}
    # the line alone for a custodial reader: a column would move with clinical text before it
    assert reasons[2] == f"{facts}:2: not JSON: Expecting property name enclosed in double quotes"
    assert "prisoner.acct: not one of" in reasons[3]
    assert "prisoner.release_date: not a date" in reasons[4]
    assert "prisoner.prison_number: does not match" in reasons[5]
    assert "establishment.regime_level: above maximum 4" in reasons[5]
    assert "prisoner.cev: not of type boolean" in reasons[6]
    decided = json.loads(out.read_text())
    assert decided["is_priority"] is True and decided["key"] == "A1234BC"


def test_batch_establishment_file_applies_to_every_row(population: Path, tmp_path: Path) -> None:
    est = tmp_path / "establishment.yaml"
    est.write_text("establishment:\n  regime_level: 1\n  keywork_model: weekly\n")
    out = tmp_path / "o.jsonl"
    code, text = run(
        "batch",
        "keywork_edm",
        "--facts",
        str(population),
        "--establishment",
        str(est),
        "--as-of",
        "2020-07-20",
        "--out",
        str(out),
    )
    assert code == 0, text
    levels = {json.loads(x)["level_descriptor"][:7] for x in out.read_text().splitlines()}
    assert levels == {"Level 1"}


def test_batch_failure_leaves_existing_output_alone(tmp_path: Path) -> None:
    out = tmp_path / "keep.jsonl"
    out.write_text("previous\n")
    code, text = run(
        "batch",
        "keywork_edm",
        "--facts",
        str(tmp_path / "missing.parquet"),
        "--as-of",
        "2020-07-20",
        "--out",
        str(out),
    )
    assert code == 2 and "no facts file" in text
    assert out.read_text() == "previous\n"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--as-of", "2020-07-20..2020-07-01"], "ends before it starts"),
        (["--as-of", "July"], "is not a date"),
        (["--as-of", "2020-07-20", "--outputs", "nope"], "has no output `nope`; its outputs: "),
    ],
)
def test_batch_bad_usage(population: Path, tmp_path: Path, args: list[str], message: str) -> None:
    code, text = run(
        "batch",
        "keywork_edm",
        "--facts",
        str(population),
        "--out",
        str(tmp_path / "x.parquet"),
        *args,
    )
    assert code == 2 and message in text and "Traceback" not in text


def test_sql_prints_a_query_for_each_dialect() -> None:
    code, text = run("sql", "keywork_edm")
    assert code == 0 and text.startswith("WITH level_0 AS") and "LIST_FILTER" in text
    code, text = run("sql", "keywork_edm", "--dialect", "spark")
    assert code == 0 and "FILTER(" in text and "`" in text


def test_sql_and_batch_narrow_outputs_alike(population: Path, tmp_path: Path) -> None:
    """`--outputs` goes through one function for both commands: the same columns kept, the
    same error for an output the pack does not have."""
    code, text = run("sql", "omu_edm", "--outputs", "oasys_priority,nope")
    assert code == 2 and "pack `omu_edm` has no output `nope`; its outputs: " in text
    assert "oasys_priority" in text.split("its outputs: ")[1]  # the hint names what it has
    code, text = run("sql", "omu_edm", "--outputs", "oasys_priority")
    final = text[text.rindex("\nSELECT") :]
    assert code == 0 and '"oasys_priority"' in final and "stage_name" not in final
    out = tmp_path / "o.parquet"
    args = ["--facts", str(population), "--as-of", "2020-07-20", "--out", str(out)]
    code, text = run("batch", "omu_edm", *args, "--outputs", "oasys_priority,nope")
    assert code == 2 and "pack `omu_edm` has no output `nope`; its outputs: " in text


def test_every_policy_pack_has_a_sql_form() -> None:
    code, text = run("sql", "action_plan")
    assert code == 0 and text.startswith("WITH level_0 AS")
    code, text = run("check", "policies/", "--no-tests")
    assert "W-SQL-UNSUPPORTED" not in text


def test_sql_names_a_pack_without_sql_form() -> None:
    corpus = Path(__file__).resolve().parents[1] / "corpus" / "sql" / "division.yaml"
    code, text = run("sql", "corpus", "--packs", str(corpus.parent))
    assert code == 1 and "W-SQL-UNSUPPORTED" in text and "half_period" in text


def test_sql_corpus_pack_is_reported_where_its_construct_stands() -> None:
    import engine
    from engine.sql.check import sql_problems
    from tests.unit.corpus_expect import assert_as_expected

    path = Path(__file__).resolve().parents[1] / "corpus" / "sql" / "division.yaml"
    packs = engine.load(path)
    (found,) = sql_problems({pid: packs[pid] for pid in packs})
    assert found.severity == "warning"
    assert_as_expected(found, path)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("engine_name", ["duckdb", "python"])
def test_batch_tells_its_progress_on_a_terminal_only(
    population: Path, tmp_path: Path, engine_name: str
) -> None:
    import engine
    from cli.batch import terminal_progress
    from engine.sql.batch import run_batch

    pack = engine.load(Path("policies"))["omu_edm"]
    day = dt.date(2020, 7, 20)
    seen: list[tuple[str, int, int]] = []
    out = tmp_path / "o.parquet"
    run_batch(pack, population, out, day, day, engine_name, progress=lambda *a: seen.append(a))
    stages = [s for s, _, _ in seen]
    assert stages[0] == "reading the facts" and stages[-1] == "writing the results"
    assert f"deciding ({engine_name})" in stages
    if engine_name == "python":  # the interpreter counts its decisions as it goes
        counted = [(d, t) for s, d, t in seen if t]
        assert counted[-1] == (300, 300) and counted == sorted(counted)
    assert terminal_progress(io.StringIO()) is None  # quiet when not a terminal
    screen = _Terminal()
    bar = terminal_progress(screen)
    assert bar is not None
    bar("deciding (python)", 150, 300)
    assert screen.getvalue() == "\rdeciding (python) [" + "#" * 15 + "-" * 15 + "] 150/300 (50%)"
    bar.close()
    assert screen.getvalue().endswith("\r")
    code, text = run(
        "batch",
        "omu_edm",
        "--facts",
        str(population),
        "--as-of",
        "2020-07-20",
        "--out",
        str(out),
        "--engine",
        engine_name,
    )
    assert code == 0 and "\r" not in text  # CliRunner's output is no terminal


def test_a_query_that_cannot_count_is_polled_for_its_progress_while_it_runs() -> None:
    """DuckDB's and Spark's progress is read from another thread while the query runs; the
    polling stops with the query."""
    import threading
    import time

    from engine.sql.batch import _polled

    told: list[tuple[str, int, int]] = []
    readings = iter([None, (10, 100), (60, 100)])
    finished = threading.Event()

    def probe() -> tuple[int, int] | None:
        found = next(readings, None)
        if found == (60, 100):
            finished.set()
        return found

    with _polled(lambda *a: told.append(a), "deciding (duckdb)", probe):
        assert finished.wait(5)
    after = len(told)
    time.sleep(0.5)
    assert told == [("deciding (duckdb)", 10, 100), ("deciding (duckdb)", 60, 100)]
    assert len(told) == after  # nothing told once the block is done
    with _polled(None, "quiet", probe):  # no bar: no thread, nothing polled
        pass


def test_outputs_withheld_from_the_audience_are_refused_not_dropped(tmp_path: Path) -> None:
    # `--outputs eligibility_basis` for custodial staff printed a query (and wrote a batch)
    # without that column and exited 0, as if it had been asked for nothing
    code, text = run("sql", "pmp", "--outputs", "eligible,eligibility_basis")
    assert code == 2 and "`eligibility_basis` is withheld from a custodial audience" in text
    assert "--audience healthcare" in text
    code, text = run(
        "batch", "pmp", "--facts", str(tmp_path / "none.jsonl"), "--as-of", "2022-11-01",
        "--out", str(tmp_path / "o.jsonl"), "--engine", "python", "--outputs", "eligibility_basis",
    )  # fmt: skip
    assert code == 2 and "withheld" in text, text
    assert list(tmp_path.iterdir()) == []
    code, text = run("sql", "pmp", "--outputs", "eligibility_basis", "--audience", "healthcare")
    assert code == 0 and '"eligibility_basis"' in text[text.rindex("\nSELECT") :]


def test_outputs_naming_nothing_is_refused() -> None:
    # `--outputs ,,` said the pack had no output ``, ``, ``; `--outputs " "` no output ``
    for given in (",,", " ", "eligible,,"):
        code, text = run("sql", "pmp", "--outputs", given)
        if given == "eligible,,":
            assert code == 0, text  # a stray comma is no name
            continue
        assert code == 2 and "--outputs names no output" in text and "``" not in text, text
