"""A duration or a number of months that a batch writes reads as the ISO 8601 text a decision
gives, whichever engine decided it: never the whole number the query holds it as."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from engine.tools.population import write_population

PACKS = Path(__file__).parent.parent / "fixtures" / "sql_durations"
OUTPUTS = ("since_release", "a_third_since_release", "alert_months", "alert_years")


def batch(facts: Path, out: Path, engine_name: str) -> dict[int, dict[str, object]]:
    args = ["batch", "spans", "--packs", str(PACKS), "--facts", str(facts)]
    args += ["--as-of", "2020-07-20", "--out", str(out), "--engine", engine_name]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return {r["record"]: r for r in map(json.loads, out.read_text().splitlines())}


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_batch_writes_durations_and_months_as_a_decision_shows_them(
    tmp_path: Path, suffix: str
) -> None:
    facts = tmp_path / f"population{suffix}"
    write_population(facts, 400, seed=23, roots=("prisoner", "establishment"))
    sql = batch(facts, tmp_path / "sql.jsonl", "duckdb")
    python = batch(facts, tmp_path / "python.jsonl", "python")
    assert sql.keys() == python.keys() and len(sql) == 400
    shown = 0
    for record, row in sql.items():
        for name in OUTPUTS:
            assert row[name] == python[record][name], f"record {record}, output {name}"
            shown += row[name] is not None
    assert shown > 400  # most records have a release date, and every one some alerts
    texts = {row["since_release"] for row in sql.values() if row["since_release"]}
    assert any("-" in t for t in texts) and any("-" not in t for t in texts)  # both signs
    assert any("T" in (row["a_third_since_release"] or "") for row in sql.values())
    months = {row["alert_months"] for row in sql.values()} - {None}
    assert any(m.endswith("M") for m in months) and any(m.endswith("Y") for m in months)
    assert all(row["alert_years"].endswith("Y") for row in sql.values() if row["alert_years"])
