"""A decimal worked out from the facts past what a SQL decimal holds (`+`, `-`, `*`, a sum, in
an output, a definition, a quantifier's body, of a list's extreme) stops that record's
decision, not the query: `regime batch` decides every other record as `engine.evaluate` does,
and gives the record that overflows the status and problem code the python engine gives it
(its value is past the DECIMAL(38, 10) column of the results), whichever engine decides. A
value the column holds but not the SQL decimal of the operation (more places) is the record's
error saying the python engine decides it, which it does."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import engine
from cli.main import cli
from engine.language.convert import to_json
from engine.packs.facts_schema import parse_json
from engine.sql.functions import PYTHON_DECIDES

ROOT = Path(__file__).resolve().parents[2]
PACKS = ROOT / "tests" / "fixtures" / "decimal_overflow"
DAY = dt.date(2020, 7, 1)
FINE = '"hourly_rate": 6.5, "hours": 3, "bonus": 1.25, "extra": 0.5, "payments": [1.5, 2.25]'
# each record but the first takes one operation past 28 whole digits (held exactly: few
# digits, whole), the others on it staying within
RECORDS = {
    "fine": FINE,
    "times": '"hourly_rate": 9e26, "hours": 100, "bonus": 1, "extra": 2, "payments": []',
    "plus": '"hourly_rate": 1, "hours": 1, "bonus": 9e27, "extra": 9e27, "payments": [1]',
    "minus": '"hourly_rate": 1, "hours": 1, "bonus": 9e27, "extra": -9e27, "payments": [1]',
    "product": '"hourly_rate": 1, "hours": 1, "bonus": 1e15, "extra": -1e14, "payments": [1]',
    "definition": '"hourly_rate": 1, "hours": 1, "bonus": 6e27, "extra": 0, "payments": [1]',
    "sum": '"hourly_rate": 1, "hours": 1, "bonus": 1, "extra": 1, "payments": [9e27, 9e27]',
    "body": '"hourly_rate": 1, "hours": 1, "bonus": 1, "extra": 1, "payments": [5e27, 1]',
    "max": '"hourly_rate": 1, "hours": 100, "bonus": 1, "extra": 1, "payments": [1, 5e26]',
}
# values the results' column holds but not the SQL decimal of that operation, at more places
# (a product at 20, a sum at 11): the query gives the record an error saying the python engine
# decides it, which that engine does
NARROWER = {
    "product": '"hourly_rate": 1, "hours": 1, "bonus": 1e10, "extra": 1e10, "payments": [1]',
    "halves": '"hourly_rate": 1, "hours": 1, "bonus": 1, "extra": 1, "payments": [1e27, 1e27]',
}
OUTPUTS = (
    "weekly",
    "plus",
    "minus",
    "product",
    "bonuses_twice",
    "paid",
    "paid_thrice",
    "paid_halves",
    "halves",
    "each_thrice",
    "largest_weekly",
)


def _doc(fields: str, n: int) -> str:
    return '{"person": {"id": "p' + str(n) + '", ' + fields + "}}"


def _batch(
    tmp_path: Path, engine_name: str, records: dict[str, str] = RECORDS
) -> list[dict[str, Any]]:
    facts = tmp_path / "earnings.jsonl"
    facts.write_text("".join(_doc(f, n) + "\n" for n, f in enumerate(records.values(), 1)))
    out = tmp_path / f"out-{engine_name}.jsonl"
    args = ["batch", "earnings", "--packs", str(PACKS), "--facts", str(facts)]
    args += ["--as-of", DAY.isoformat(), "--out", str(out), "--engine", engine_name]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert not (tmp_path / f"out-{engine_name}.rejects.jsonl").read_text().strip()
    return [json.loads(x, parse_float=Decimal) for x in out.read_text().splitlines()]


def _code(error: str | None) -> str | None:
    return None if error is None else error.rsplit("[", 1)[1].rstrip("]")


def _number(value: Any) -> Any:
    """A decimal compared as a number (the column keeps 10 places), a list of them likewise."""
    if isinstance(value, list):
        return [_number(v) for v in value]
    return Decimal(value) if isinstance(value, str | Decimal) else value


@pytest.mark.parametrize("engine_name", ["duckdb", "python"])
def test_a_decimal_past_sql_is_that_records_error(tmp_path: Path, engine_name: str) -> None:
    _decided_or_erring_as_eval_does(tmp_path, engine_name)


def test_spark_gives_that_record_its_error_too(spark_session: Any, tmp_path: Path) -> None:
    _decided_or_erring_as_eval_does(tmp_path, "spark")


def _decided_or_erring_as_eval_does(tmp_path: Path, engine_name: str) -> None:
    rows = _batch(tmp_path, engine_name)
    assert [r["record"] for r in rows] == list(range(1, len(RECORDS) + 1))
    pack = engine.load(PACKS)["earnings"]
    for (name, fields), row in zip(RECORDS.items(), rows, strict=True):
        decided = engine.evaluate(pack, parse_json(_doc(fields, row["record"]), "<facts>"), DAY)
        values = {o: to_json(decided.outputs[o]) for o in OUTPUTS}
        if name == "fine":
            assert row["status"] == "decided" and row["error"] is None, row
            for o in OUTPUTS:
                assert _number(row[o]) == _number(values[o]), (o, row[o], values[o])
            continue
        # the interpreter decides it, with a value past 28 whole digits: the results' column
        # cannot hold it, so the record is an error in the interpreter's code for a range
        past = [o for o in OUTPUTS if _past_the_column(values[o])]
        assert past, (name, values)
        assert row["status"] == "error" and _code(row["error"]) == "E-EVAL-RANGE", (name, row)
        assert all(row[o] is None for o in OUTPUTS), (name, row)


def _past_the_column(value: Any) -> bool:
    if isinstance(value, list):
        return any(_past_the_column(v) for v in value)
    return isinstance(value, str) and abs(Decimal(value)) >= Decimal("1e28")


def test_duckdb_decides_every_record_as_the_python_engine(tmp_path: Path) -> None:
    duck, python = _batch(tmp_path, "duckdb"), _batch(tmp_path, "python")
    for d, p in zip(duck, python, strict=True):
        assert (d["status"], _code(d["error"])) == (p["status"], _code(p["error"])), (d, p)
        assert {o: _number(d[o]) for o in OUTPUTS} == {o: _number(p[o]) for o in OUTPUTS}


def test_a_value_past_the_sql_decimal_alone_names_the_python_engine(tmp_path: Path) -> None:
    duck, python = _batch(tmp_path, "duckdb", NARROWER), _batch(tmp_path, "python", NARROWER)
    pack = engine.load(PACKS)["earnings"]
    for fields, d, p in zip(NARROWER.values(), duck, python, strict=True):
        assert d["status"] == "error" and d["error"].endswith(f"{PYTHON_DECIDES} [E-EVAL-RANGE]")
        decided = engine.evaluate(pack, parse_json(_doc(fields, p["record"]), "<facts>"), DAY)
        assert p["status"] == "decided", p
        assert {o: _number(p[o]) for o in OUTPUTS} == {
            o: _number(to_json(decided.outputs[o])) for o in OUTPUTS
        }


# values with more places than the results' column keeps (a product of two facts of 9 places
# each has 18): never rounded to fit it, but each engine's error for the record, as the
# interpreter's value is; and the same within a list
MORE_PLACES = {
    "product": '"hourly_rate": 1, "hours": 1, "bonus": 0.123456789, "extra": 0.987654321, '
    '"payments": [1]',
    "halves": '"hourly_rate": 1, "hours": 3, "bonus": 1, "extra": 1, "payments": [0.1234567891]',
    "fine": FINE,
}


def test_a_value_with_more_places_than_the_column_is_the_records_error_in_each_engine(
    tmp_path: Path,
) -> None:
    _more_places_as_python(tmp_path, "duckdb")


def test_spark_makes_a_value_with_more_places_the_records_error_too(
    spark_session: Any, tmp_path: Path
) -> None:
    _more_places_as_python(tmp_path, "spark")


def _more_places_as_python(tmp_path: Path, engine_name: str) -> None:
    duck = _batch(tmp_path, engine_name, MORE_PLACES)
    python = _batch(tmp_path, "python", MORE_PLACES)
    pack = engine.load(PACKS)["earnings"]
    for (name, fields), d, p in zip(MORE_PLACES.items(), duck, python, strict=True):
        decided = engine.evaluate(pack, parse_json(_doc(fields, p["record"]), "<facts>"), DAY)
        assert (d["status"], _code(d["error"])) == (p["status"], _code(p["error"])), (d, p)
        assert {o: _number(d[o]) for o in OUTPUTS} == {o: _number(p[o]) for o in OUTPUTS}
        if name == "fine":
            assert d["status"] == "decided", d
            continue
        assert d["status"] == "error" and _code(d["error"]) == "E-EVAL-RANGE", d
        assert "does not hold exactly" in d["error"], d
        # the value the interpreter decides, which the column would have rounded
        assert any(
            isinstance(v, str) and Decimal(v) != round(Decimal(v), 10)
            for v in (to_json(decided.outputs[o]) for o in OUTPUTS)
        )
