"""`regime batch` writes the same file whatever the engine: the Python interpreter, DuckDB and
Spark give every pack's results the same column types and the same cells, in Parquet, CSV and
JSONL, with the same rejects and the same summary. A pack that has no SQL form is decided by
the interpreter with the column types the static checker gives its outputs."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

import engine
from cli.main import cli
from engine.language.convert import to_json
from engine.sql.query import unsupported
from engine.tools.population import Population, write_population

ROOT = Path(__file__).resolve().parents[2]
POLICIES = engine.load(ROOT / "policies")
FORMATS = (".parquet", ".csv", ".jsonl")
ENGINES = ("duckdb", "spark", "python")
RECORDS = 150
# which facts each pack reads, and a day it is in force on (by default the prisoner's facts,
# on the day the generated dates gather around)
ROOTS: dict[str, tuple[str, ...]] = {"action_plan": ("action_plan",)}
AS_OF = {"action_plan": "2019-06-01", "pmp": "2022-11-01"}
UNSUPPORTED = ROOT / "tests" / "fixtures" / "sql_unsupported"


@pytest.fixture(scope="module")
def populations(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, ...], Path]:
    folder = tmp_path_factory.mktemp("engines")
    made = {}
    for roots in {ROOTS.get(p, ("prisoner", "establishment")) for p in POLICIES}:
        path = folder / f"{'-'.join(roots)}.parquet"
        write_population(path, RECORDS, seed=31, roots=roots)
        made[roots] = path
    return made


def batch(
    pack: str, facts: Path, out: Path, engine_name: str, *more: str, days: int = 1
) -> tuple[int, list[str]]:
    """Exit code and the printed lines of one run, without the files and times they name."""
    first = dt.date.fromisoformat(AS_OF.get(pack, "2020-07-20"))
    as_of = f"{first}..{first + dt.timedelta(days=days - 1)}"
    args = ["batch", pack, "--facts", str(facts), "--as-of", as_of]
    result = CliRunner().invoke(cli, [*args, "--out", str(out), "--engine", engine_name, *more])
    lines = [
        re.sub(r" in [0-9.]+ s \(\w+\)", "", x.split(" -> ")[0]) for x in result.output.splitlines()
    ]
    return result.exit_code, lines


def assert_same_file(a: Path, b: Path) -> None:
    """The two results files have the same columns, types and cells, in the same order."""
    if a.suffix != ".parquet":  # a text format: the same text, line by line
        left, right = a.read_text().splitlines(), b.read_text().splitlines()
        assert len(left) == len(right), (a.name, b.name)
        for n, (x, y) in enumerate(zip(left, right, strict=True)):
            assert x == y, f"{a.name} / {b.name} line {n + 1}:\n{x}\n{y}"
        return
    types = [duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{p}')").fetchall() for p in (a, b)]
    assert [t[:2] for t in types[0]] == [t[:2] for t in types[1]], (a.name, b.name)
    names = [t[0] for t in types[0]]
    rows = [duckdb.sql(f"SELECT * FROM read_parquet('{p}')").fetchall() for p in (a, b)]
    assert len(rows[0]) == len(rows[1])
    for x, y in zip(*rows, strict=True):
        for name, u, v in zip(names, x, y, strict=True):
            assert u == v, f"record {x[0]} column {name}: {u!r} != {v!r}"


def run_engines(
    pack: str,
    facts: Path,
    folder: Path,
    suffix: str,
    engines: tuple[str, ...],
    *more: str,
    days: int = 1,
) -> list[str]:
    """Run `pack` with each engine into `folder`; the files and the summaries must agree."""
    summaries = {}
    for name in engines:
        out = folder / f"{name}{suffix}"
        code, summaries[name] = batch(pack, facts, out, name, *more, days=days)
        assert code == 0, summaries[name]
    first, *others = engines
    rejects = ".csv" if suffix == ".csv" else ".jsonl"
    for name in others:
        assert_same_file(folder / f"{first}{suffix}", folder / f"{name}{suffix}")
        left = (folder / f"{first}.rejects{rejects}").read_text()
        assert left == (folder / f"{name}.rejects{rejects}").read_text()
        assert summaries[name] == summaries[first]
    return summaries[first]


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("pack", sorted(POLICIES))
def test_python_and_duckdb_write_the_same_file(
    populations: dict[tuple[str, ...], Path], tmp_path: Path, pack: str, suffix: str
) -> None:
    facts = populations[ROOTS.get(pack, ("prisoner", "establishment"))]
    if unsupported(POLICIES[pack]):  # no SQL form: the SQL engines refuse it, the run stops
        code, lines = batch(pack, facts, tmp_path / f"duckdb{suffix}", "duckdb")
        assert code == 1 and "W-SQL-UNSUPPORTED" in "\n".join(lines)
        return
    summary = run_engines(pack, facts, tmp_path, suffix, ("duckdb", "python"))
    decided = int(summary[0].split()[0])
    assert decided > RECORDS // 5, summary  # enough records decided to compare
    if suffix == ".parquet":  # no output column is left as JSON text where a type holds it
        described = duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{tmp_path}/python.parquet')")
        kinds = {name: kind for name, kind, *_ in described.fetchall()}
        assert kinds["record"] == "BIGINT" and kinds["as_of"] == "DATE"
        typed = [n for n in POLICIES[pack].outputs if kinds.get(n, "VARCHAR") != "VARCHAR"]
        assert typed, kinds


@pytest.mark.parametrize(("folder", "pack"), [("sql_errors", "ratios"), ("sql_durations", "spans")])
def test_errors_and_durations_are_written_alike(tmp_path: Path, folder: str, pack: str) -> None:
    """A record whose decision stops with a run-time error (its status, error text and null
    outputs) and duration and month outputs (ISO 8601 text) read the same from each engine."""
    facts = tmp_path / "facts.parquet"
    write_population(facts, RECORDS, seed=34, roots=("prisoner", "establishment"))
    more = ("--packs", str(ROOT / "tests" / "fixtures" / folder))
    summary = run_engines(pack, facts, tmp_path, ".parquet", ("duckdb", "python"), *more)
    rows = duckdb.sql(f"SELECT status, error FROM read_parquet('{tmp_path}/python.parquet')")
    statuses = {status for status, _ in rows.fetchall()}
    assert ("error" in statuses) == (pack == "ratios"), (statuses, summary)


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_a_whole_number_written_with_a_point_is_the_integer_to_every_engine(
    tmp_path: Path, suffix: str
) -> None:
    """JSON Schema counts `3.0` an integer, so the facts check passes it where the schema says
    integer; the interpreter then holds the integer 3 (as the SQL engines read it), never a
    float: its text is `3`, as the SQL engines write it."""
    docs = [
        d for _, _, d in Population(seed=35).documents(120, roots=("prisoner", "establishment"))
    ]
    pointed = 0
    for n, doc in enumerate(docs):
        if n % 2:
            continue
        level = (doc.get("establishment") or {}).get("regime_level")
        if isinstance(level, int):
            doc["establishment"]["regime_level"] = float(level)
            pointed += 1
        for s in ((doc.get("prisoner") or {}).get("keywork") or {}).get("sessions") or []:
            if isinstance(s.get("minutes"), int):
                s["minutes"] = float(s["minutes"])
                pointed += 1
    assert pointed > 50
    facts = tmp_path / f"facts{suffix}"
    if suffix == ".jsonl":
        facts.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
        assert ".0," in facts.read_text() or ".0}" in facts.read_text()
    else:
        with facts.open("w", newline="", encoding="utf-8") as f:
            out = csv.writer(f)
            out.writerow(["prisoner", "establishment"])
            for d in docs:
                out.writerow(
                    [json.dumps(d[r]) if r in d else "" for r in ("prisoner", "establishment")]
                )
    folder = ROOT / "tests" / "fixtures" / "sql_whole_numbers"
    more = ("--packs", str(folder))
    run_engines("whole_numbers", facts, tmp_path, ".jsonl", ("duckdb", "python"), *more)
    rows = [json.loads(line) for line in (tmp_path / "duckdb.jsonl").open()]
    pack = engine.load(folder)["whole_numbers"]
    shown = ("level_text", "minutes_text", "minutes")
    for row, doc in zip(rows, docs, strict=True):  # as `regime eval` decides the document
        decided = engine.evaluate(pack, json.loads(json.dumps(doc)), dt.date(2020, 7, 20))
        expected = {n: to_json(decided.outputs.get(n)) for n in shown}
        assert {n: row[n] for n in shown} == expected, (row["record"], doc)
    texts = [row["level_text"] for row in rows]
    assert "4" in texts and not any(t and "." in t for t in texts), texts


def test_spark_writes_the_same_file(spark_session: Any, tmp_path: Path) -> None:
    """`regime batch keywork_edm --engine spark` writes the file DuckDB and the interpreter
    write, row for row (Spark's planning of a pack's query takes most of its time, so each
    pack is planned once: tests/sql/test_sql_spark.py compares the other prisoner packs)."""
    facts = tmp_path / "facts.parquet"
    write_population(facts, 400, seed=32, roots=("prisoner", "establishment"))
    summary = run_engines("keywork_edm", facts, tmp_path, ".parquet", ENGINES)
    assert summary[0] == "400 decisions", summary  # every record
    from engine.sql import spark

    assert spark.progress() is None  # the tasks of running stages: none runs now


def test_spark_writes_a_range_of_days_as_the_others_do(spark_session: Any, tmp_path: Path) -> None:
    """Over a range of days, a row per record and day on every engine (the PMP pack, whose
    query Spark plans fastest of the prisoner packs; planning grows with the pack, the rows
    with the days)."""
    facts = tmp_path / "facts.parquet"
    write_population(facts, 40, seed=33, roots=("prisoner", "establishment"))
    summary = run_engines("pmp", facts, tmp_path, ".parquet", ENGINES, days=2)
    assert summary[0] == "80 decisions", summary  # every record on both days


def _readable(value: Any) -> Any:
    """A cell read back from Parquet as plain data, decimals as numbers."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _readable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_readable(v) for v in value]
    return value


def _numbers(value: Any) -> Any:
    """Plain decision data with decimal texts as numbers (the column keeps 10 places)."""
    if isinstance(value, str) and value.replace(".", "", 1).lstrip("-").isdigit():
        return Decimal(value)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    return value


def test_a_pack_without_sql_form_is_decided_by_python_with_typed_columns(
    tmp_path: Path,
) -> None:
    docs = list(Population(seed=33).documents(120, roots=("prisoner",)))
    facts = tmp_path / "facts.jsonl"
    facts.write_text("".join(json.dumps(doc) + "\n" for _, _, doc in docs))
    more = ("--packs", str(UNSUPPORTED))
    out = tmp_path / "texts.parquet"

    code, lines = batch("texts", facts, tmp_path / "sql.parquet", "duckdb", *more)
    text = "\n".join(lines)
    assert code == 1 and "has no SQL form" in text and "alerts_halved_text" in text, text
    assert "--engine python" in text and "Traceback" not in text
    assert not (tmp_path / "sql.parquet").exists()

    code, lines = batch("texts", facts, out, "python", *more)
    assert code == 0, lines
    described = duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{out}')").fetchall()
    kinds = {name: kind for name, kind, *_ in described}
    assert {n: kinds[n] for n in engine.load(UNSUPPORTED)["texts"].outputs} == {
        "alerts_halved_text": "VARCHAR",
        "alerts_halved": "DECIMAL(38,10)",
        "vulnerable": "BOOLEAN",
        "release_date": "DATE",
        "since_release": "VARCHAR",  # durations and months: the ISO 8601 text
        "review_every": "VARCHAR",
        "alert_codes": "VARCHAR[]",
        "summary": "STRUCT(alerts BIGINT, halved DECIMAL(38,10), released DATE, every VARCHAR)",
    }
    rows = duckdb.sql(f"SELECT * FROM read_parquet('{out}') ORDER BY record").fetchall()
    names = [d[0] for d in described]
    pack = engine.load(UNSUPPORTED)["texts"]
    assert len(rows) == len(docs)
    compared = 0
    for row in rows:
        cells = dict(zip(names, row, strict=True))
        decision = engine.evaluate(pack, docs[cells["record"] - 1][2], dt.date(2020, 7, 20))
        assert cells["status"] == decision.status
        for name, value in decision.outputs.items():
            want, got = _numbers(to_json(value)), _numbers(_readable(cells[name]))
            assert got == want, f"record {cells['record']} output {name}: {got!r} != {want!r}"
            compared += value is not None
    assert compared > len(rows) * 3


def test_an_interpreter_value_its_column_cannot_hold_is_named_never_rounded() -> None:
    from engine.language import static_types as T
    from engine.sql.output_columns import unfit_value

    assert unfit_value("x", Decimal("0.5"), T.DECIMAL) is None
    assert unfit_value("x", Decimal("-123456789012345678901234567.1234567891"), T.DECIMAL) is None
    places = unfit_value("x", Decimal("0.00048828125"), T.DECIMAL)
    assert places is not None and "0.00048828125" in places and places.endswith("[E-EVAL-RANGE]")
    assert unfit_value("x", Decimal("1E+28"), T.DECIMAL) is not None  # 29 whole digits
    assert unfit_value("n", 2**63 - 1, T.INT) is None
    assert unfit_value("n", 2**63, T.INT) is not None
    record = T.record_of([("rate", T.DECIMAL, True)])
    nested = unfit_value("r", [{"rate": Decimal("1.00000000001")}], T.list_of(record))
    assert nested is not None and "`r[].rate`" in nested
