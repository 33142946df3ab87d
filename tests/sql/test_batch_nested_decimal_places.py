"""A decimal inside a list or record output with more places than the results' DECIMAL(38, 10)
column keeps (a product of two facts has the places of both) is never rounded to fit it: the
record is an error naming the output, and the field or element, as the python engine names it,
whichever engine decides (the differential test names the record and the field that differ)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from click.testing import CliRunner

import engine
from cli.main import cli
from engine.language.convert import to_json
from engine.packs.facts_schema import parse_json

ROOT = Path(__file__).resolve().parents[2]
PACKS = ROOT / "tests" / "fixtures" / "decimal_nested"
DAY = dt.date(2020, 7, 1)
OUTPUTS = ("weekly", "scaled", "split", "lines")
# the record's name, its facts, and the output field the python engine names, if any
RECORDS = {
    "fine": (
        '"hourly_rate": 6.5, "hours": 3, "bonus": 1.25, "extra": 0.5, "payments": [1.5]',
        None,
    ),
    "list": ('"hours": 1, "bonus": 0.123456789, "extra": 1, "payments": [2, 0.123456]', "scaled[]"),
    "record": (
        '"hours": 2, "bonus": 0.123456789, "extra": 0.987654321, "payments": []',
        "split.share",
    ),
    "list of records": (
        '"hours": 1, "bonus": 1, "extra": 0.000001, "payments": [0.5, 0.00001]',
        "lines[].scaled",
    ),
    "second element": (
        '"hours": 1, "bonus": 2, "extra": 0.5, "payments": [0.5, 0.1234567891]',
        "lines[].scaled",
    ),
}


def _doc(fields: str, n: int) -> str:
    return '{"person": {"id": "p' + str(n) + '", ' + fields + "}}"


def _batch(tmp_path: Path, engine_name: str) -> list[dict[str, Any]]:
    facts = tmp_path / "pay.jsonl"
    docs = [_doc(fields, n) for n, (fields, _) in enumerate(RECORDS.values(), 1)]
    facts.write_text("".join(d + "\n" for d in docs))
    out = tmp_path / f"out-{engine_name}.jsonl"
    args = ["batch", "pay", "--packs", str(PACKS), "--facts", str(facts)]
    args += ["--as-of", DAY.isoformat(), "--out", str(out), "--engine", engine_name]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert not (tmp_path / f"out-{engine_name}.rejects.jsonl").read_text().strip()
    return [json.loads(x, parse_float=Decimal) for x in out.read_text().splitlines()]


def _number(value: Any) -> Any:
    """A value with its decimals compared as numbers (the column keeps 10 places)."""
    if isinstance(value, list):
        return [_number(v) for v in value]
    if isinstance(value, dict):
        return {k: _number(v) for k, v in value.items()}
    return Decimal(value) if isinstance(value, str | Decimal) else value


def _differs(engine_name: str, tmp_path: Path) -> None:
    sql, python = _batch(tmp_path, engine_name), _batch(tmp_path, "python")
    pack = engine.load(PACKS)["pay"]
    for (name, (fields, field)), s, p in zip(RECORDS.items(), sql, python, strict=True):
        decided = engine.evaluate(pack, parse_json(_doc(fields, p["record"]), "<facts>"), DAY)
        # the python engine's own: the interpreter's value, or the error naming the field
        if field is None:
            assert p["status"] == "decided", (name, p)
            for o in OUTPUTS:
                assert _number(p[o]) == _number(to_json(decided.outputs[o])), (name, o)
        else:
            assert p["status"] == "error", (name, p)
            assert p["error"].startswith(f"output `{field}` is "), (name, p["error"])
            assert p["error"].endswith("[E-EVAL-RANGE]"), (name, p["error"])
        for column in ("status", "error"):
            assert s[column] == p[column], (name, column, s[column], p[column])
        for o in OUTPUTS:
            assert _number(s[o]) == _number(p[o]), (name, o, s[o], p[o])


def test_duckdb_names_a_nested_decimal_with_more_places_as_the_python_engine(
    tmp_path: Path,
) -> None:
    _differs("duckdb", tmp_path)


def test_spark_names_a_nested_decimal_with_more_places_as_the_python_engine(
    spark_session: Any, tmp_path: Path
) -> None:
    _differs("spark", tmp_path)
