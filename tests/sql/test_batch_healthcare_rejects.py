"""Need-to-know in `regime batch`: for a custodial audience a record whose healthcare-only part
is broken is decided as if that part were absent (as the library decides it), not rejected
with reasons that name clinical fields; the healthcare audience gets the rejection in full."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import engine
from cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
DAY = "2022-11-01"


def _population(tmp_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    lines = (ROOT / "examples" / "population" / "pmp_2022.jsonl").read_text().splitlines()
    docs = [json.loads(line) for line in lines[:4]]
    docs[0]["prisoner"]["clinical"]["conditions"] = "secret-diagnosis"
    docs[1]["prisoner"]["clinical"]["vaccine_doses"] = [{"date": "2022-02-30", "dose": 1}]
    docs[2]["prisoner"]["clinical"]["secret_field"] = "secret-value"
    path = tmp_path / "people.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))
    return path, docs


@pytest.mark.parametrize("engine_name", ["duckdb", "python"])
def test_a_broken_clinical_part_is_left_out_for_custodial_staff(
    tmp_path: Path, engine_name: str
) -> None:
    facts, docs = _population(tmp_path)
    out = tmp_path / "out.jsonl"
    args = ["batch", "pmp", "--packs", str(ROOT / "policies"), "--facts", str(facts)]
    result = CliRunner().invoke(
        cli, [*args, "--as-of", DAY, "--out", str(out), "--engine", engine_name]
    )
    assert result.exit_code == 0, result.output
    rejects = (tmp_path / "out.rejects.jsonl").read_text()
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rejects == "" and len(rows) == 4
    shown = out.read_text() + result.output
    for secret in ("secret", "clinical.", "conditions", "vaccine_doses"):
        assert secret not in shown
    packs = engine.load(ROOT / "policies")
    for n, (doc, row) in enumerate(zip(docs, rows, strict=True)):
        left_out = copy.deepcopy(doc)
        if n < 3:  # the broken ones; the fourth is whole
            del left_out["prisoner"]["clinical"]
        expected = packs.evaluate("pmp", left_out, dt.date.fromisoformat(DAY)).to_dict()
        assert row["eligible"] == expected["outputs"]["eligible"]
        assert row["status"] == expected["status"]
    if engine_name != "duckdb":
        return  # the healthcare audience's rejects are the reader's, whatever the engine
    healthcare = CliRunner().invoke(
        cli,
        [*args, "--as-of", DAY, "--out", str(tmp_path / "h.jsonl"), "--audience", "healthcare"],
    )
    assert healthcare.exit_code == 0, healthcare.output
    assert (tmp_path / "h.rejects.jsonl").read_text().count("prisoner.clinical") == 3
