"""A decimal fact is exact to the interpreter (a JSON number read as its text says), while
`regime batch` reads facts through DuckDB, which parses a JSON number as a double and holds a
decimal at DECIMAL(38, 10). A record whose number the SQL engines cannot hold as written must
not be decided otherwise than `regime eval` decides it: it is rejected, with the reason and
the way to an exact answer; every other record's decision is the interpreter's."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

import engine
from cli.main import cli
from engine.language.convert import to_json
from engine.packs.facts_schema import parse_json

ROOT = Path(__file__).resolve().parents[2]
PACKS = ROOT / "tests" / "fixtures" / "decimal_facts"
DAY = dt.date(2020, 7, 1)

# held as written: at most 10 places and few enough digits for a double to give them back
HELD = ["6.50", "0.1", "1E-7", "-2.5e+3", "0.0000000001", "123456.5", "0"]
# not held as written, each of which DuckDB read as another number (or none)
NOT_HELD = [
    "0.1000000000000000000001",  # 22 places: read as 0.1
    "0.12345678901",  # 11 places: rounded to 10
    "0.30000000000000004",  # 17 places
    "1e30",  # past the 28 whole digits of DECIMAL(38, 10): read as unknown
    # 21 digits: read through a double (17 digits) from a JSON Lines document, whose roots
    # DuckDB extracts as parsed JSON; a CSV cell's JSON text is cast straight to DECIMAL
    "12345678901234567890.5",
]
HELD_FROM_CSV = {"12345678901234567890.5"}


def _line(rate: str, hours: int = 3) -> str:
    return '{"person": {"id": "p", "hourly_rate": ' + rate + ', "hours": ' + str(hours) + "}}"


def _facts(tmp_path: Path, kind: str, rates: list[str]) -> Path:
    if kind == "jsonl":
        path = tmp_path / "pay.jsonl"
        path.write_text("".join(_line(r) + "\n" for r in rates))
        return path
    path = tmp_path / "pay.csv"
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["person"])
    for r in rates:
        writer.writerow([_line(r)[len('{"person": ') : -1]])
    path.write_text(buffer.getvalue())
    return path


@pytest.mark.parametrize("kind", ["jsonl", "csv"])
@pytest.mark.parametrize("engine_name", ["duckdb", "python"])
def test_a_decimal_not_held_as_written_is_rejected_and_the_rest_decided_as_eval_does(
    tmp_path: Path, kind: str, engine_name: str
) -> None:
    _rejected_or_decided_as_eval_does(tmp_path, kind, engine_name)


def test_spark_rejects_and_decides_as_the_others_do(spark_session: Any, tmp_path: Path) -> None:
    _rejected_or_decided_as_eval_does(tmp_path, "jsonl", "spark")


def _rejected_or_decided_as_eval_does(tmp_path: Path, kind: str, engine_name: str) -> None:
    rates = HELD + NOT_HELD
    facts = _facts(tmp_path, kind, rates)
    out = tmp_path / "out.jsonl"
    args = ["batch", "weekly_pay", "--packs", str(PACKS), "--facts", str(facts)]
    args += ["--as-of", DAY.isoformat(), "--out", str(out), "--engine", engine_name]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output

    rejected = {
        r["record"]: r["reasons"]
        for r in map(json.loads, (tmp_path / "out.rejects.jsonl").read_text().splitlines())
    }
    not_held = [r for r in NOT_HELD if kind == "jsonl" or r not in HELD_FROM_CSV]
    assert sorted(rejected) == sorted(rates.index(r) + 1 for r in not_held), rejected
    for record, reasons in rejected.items():
        rate = rates[record - 1]
        assert len(reasons) == 1, reasons
        assert reasons[0].startswith(f"person.hourly_rate: {rate} ") or reasons[0].startswith(
            f"person.hourly_rate: {Decimal(rate)} "
        ), reasons
        assert "`regime eval`" in reasons[0], reasons

    pack = engine.load(PACKS)["weekly_pay"]
    rows = [json.loads(x, parse_float=Decimal) for x in out.read_text().splitlines()]
    assert [r["record"] for r in rows] == [n for n in range(1, len(rates) + 1) if n not in rejected]
    for row in rows:  # the interpreter's decision on the document as written
        doc = parse_json(_line(rates[row["record"] - 1]), "<facts>")
        decided = engine.evaluate(pack, doc, DAY)
        for name in ("rate", "tenth", "weekly"):
            expected = to_json(decided.outputs[name])
            got = row[name]
            if isinstance(expected, str):  # decimals: the column keeps 10 places
                assert Decimal(got) == Decimal(expected), (row["record"], name, got, expected)
            else:
                assert got == expected, (row["record"], name)


def test_a_parquet_decimal_with_more_places_than_the_column_is_rejected(tmp_path: Path) -> None:
    facts = tmp_path / "pay.parquet"
    duckdb.sql(
        "COPY (SELECT * FROM (VALUES "
        "({'id': 'a', 'hourly_rate': 6.5::DECIMAL(38, 20), 'hours': 3}), "
        "({'id': 'b', 'hourly_rate': 0.1000000000000000001::DECIMAL(38, 20), 'hours': 3})"
        ") t(person)) "
        f"TO '{facts}' (FORMAT parquet)"
    ).fetchall()
    out = tmp_path / "out.jsonl"
    args = ["batch", "weekly_pay", "--packs", str(PACKS), "--facts", str(facts)]
    result = CliRunner().invoke(cli, [*args, "--as-of", DAY.isoformat(), "--out", str(out)])
    assert result.exit_code == 0, result.output
    rejects = [json.loads(x) for x in (tmp_path / "out.rejects.jsonl").read_text().splitlines()]
    assert [r["record"] for r in rejects] == [2], rejects
    assert rejects[0]["reasons"][0].startswith("person.hourly_rate: "), rejects
    rows = [json.loads(x, parse_float=Decimal) for x in out.read_text().splitlines()]
    assert [(r["record"], r["tenth"]) for r in rows] == [(1, False)]


def test_a_whole_number_past_64_bits_points_to_what_reads_it_exactly(tmp_path: Path) -> None:
    # `--engine python` reads the same typed table, so it rejects the record too
    facts = tmp_path / "plans.jsonl"
    facts.write_text(
        '{"action_plan": {"stated_summary": {"agreed": 123456789012345678901}, '
        '"recommendations": []}}\n'
    )
    out = tmp_path / "out.jsonl"
    args = ["batch", "action_plan", "--facts", str(facts), "--as-of", "2019-06-01"]
    result = CliRunner().invoke(cli, [*args, "--out", str(out), "--engine", "python"])
    assert result.exit_code == 0, result.output
    (reject,) = [json.loads(x) for x in (tmp_path / "out.rejects.jsonl").read_text().splitlines()]
    (reason,) = reject["reasons"]
    assert reason.startswith("action_plan.stated_summary.agreed: a whole number past 64 bits")
    assert "`regime eval`" in reason and "--engine python" not in reason, reason
