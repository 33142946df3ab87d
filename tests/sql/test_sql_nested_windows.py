"""A date moved by days and a month inside a quantifier nested in another: the SQL binds each
value the body reads more than once, so it stays small, and every decision equals the
interpreter's, on dates at month ends and leap days."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

from click.testing import CliRunner

from cli.main import cli
from engine.tools.population import Population

PACKS = Path(__file__).parent.parent / "fixtures" / "sql_nested_windows"
OUTPUTS = ("days_without_session", "days_with_unknown_session")
# the dates decided on: month ends, leap days and the days just after them
AS_OF = [
    dt.date(2020, 2, 29),
    dt.date(2020, 3, 1),
    dt.date(2020, 3, 6),
    dt.date(2021, 3, 3),
    dt.date(2024, 3, 31),
    dt.date(2023, 5, 31),
    dt.date(2000, 3, 2),
    dt.date(2100, 3, 1),
]


def facts(path: Path, as_of: dt.date, n: int) -> None:
    """Generated records whose sessions fall around `as_of` (some date or kind unknown)."""
    rng = random.Random(as_of.toordinal())
    with path.open("w", encoding="utf-8") as f:
        for _, _, doc in Population(seed=11).documents(n, roots=("prisoner", "establishment")):
            if doc.get("prisoner") is None:
                continue
            sessions = [
                {
                    "date": None
                    if rng.random() < 0.1
                    else str(as_of - dt.timedelta(rng.randint(0, 40))),
                    "kind": rng.choice(["session", "session", "wellbeing_check", None]),
                    "minutes": 45,
                    "regime_level": 1,
                }
                for _ in range(rng.randint(0, 4))
            ]
            doc["prisoner"]["keywork"] = {"key_worker": "A", "sessions": sessions}
            f.write(json.dumps(doc) + "\n")


def batch(path: Path, as_of: dt.date, out: Path, engine_name: str) -> dict[int, dict[str, object]]:
    args = ["batch", "windows", "--packs", str(PACKS), "--facts", str(path)]
    args += ["--as-of", as_of.isoformat(), "--out", str(out), "--engine", engine_name]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return {r["record"]: r for r in map(json.loads, out.read_text().splitlines())}


def test_nested_moves_give_sql_that_grows_with_the_expression() -> None:
    # each level of nesting used to copy the moved date into every guard and month clamp:
    # 12 MB of SQL for this pack; bound once per element it is about 200 KB
    result = CliRunner().invoke(cli, ["sql", "windows", "--packs", str(PACKS)])
    assert result.exit_code == 0, result.output
    assert len(result.output) < 400_000


def test_nested_moves_decide_as_the_interpreter(tmp_path: Path) -> None:
    shapes = set()
    for as_of in AS_OF:
        path = tmp_path / f"facts-{as_of}.jsonl"
        facts(path, as_of, 60)
        sql = batch(path, as_of, tmp_path / "sql.jsonl", "duckdb")
        python = batch(path, as_of, tmp_path / "python.jsonl", "python")
        assert sql.keys() == python.keys() and len(sql) > 30
        for record, row in sql.items():
            for name in OUTPUTS:
                assert row[name] == python[record][name], f"{as_of}, record {record}, {name}"
            shapes.add((row[OUTPUTS[0]] is None, row[OUTPUTS[1]] is None))
    assert len(shapes) > 1  # some decided, some unknown
