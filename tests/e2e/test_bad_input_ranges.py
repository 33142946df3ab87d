"""End to end: a date range with one end left out is named as such, with the form to write,
by every command that takes one (not "`` is not a date"), and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_cli_contract import regime


@pytest.mark.parametrize(
    ("given", "missing"), [("2020-07-01..", "end"), ("..2020-07-01", "start"), ("..", "start")]
)
def test_a_range_missing_an_end_says_which(given: str, missing: str, tmp_path: Path) -> None:
    facts = tmp_path / "f.jsonl"
    facts.write_text('{"prisoner": {"prison_number": "A1234BC"}}\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = regime(
        "batch", "keywork_edm", "--facts", str(facts), "--as-of", given, "--out", str(out)
    )
    assert result.exit_code == 2, result.output
    assert f"`{given}` has no {missing} date" in result.stderr, result.stderr
    assert "START..END" in result.stderr
    assert "`` is not a date" not in result.stderr
    assert not out.exists()
