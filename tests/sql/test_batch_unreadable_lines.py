"""A JSONL line that is not JSON (cut short, a comma too many, a stray character) is rejected
by `regime batch` at its place, `file:line:col` where reading it stopped, as `regime impact`
and `regime eval` place it; the same words whatever engine decides the other records (the
facts file is read once, by DuckDB, before any engine decides)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli.main import cli

POLICIES = Path(__file__).resolve().parents[2] / "policies"
SNAPSHOTS = Path(__file__).parent / "snapshots"
PAY = Path(__file__).resolve().parents[1] / "fixtures" / "decimal_nested"

GOOD = {"prisoner": {"acct": "open", "prison_number": "A1234BC"}, "establishment": {}}
LINES = [
    json.dumps(GOOD),
    "",  # a blank line: not a record, but a line of the file
    json.dumps(GOOD)[:40],  # cut short
    '{"prisoner": {"acct": "open", "prison_number": "A1234BD",}}',  # a comma too many
    '{"prisoner": {"acct": "open"}} x',  # something after the document
    "[1, 2]",  # JSON, but not a document
    '{"prisoner": {"alerts": ["HA",]}}',  # a comma too many inside a list
    '{"prisoner": {"cell_location": "A-1,}"}}',  # text that only looks like one
]


@pytest.mark.parametrize("engine_name", ["duckdb", "python"])
def test_an_unreadable_line_is_rejected_at_its_line_and_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine_name: str, snapshot: object
) -> None:
    _rejected_at_their_places(tmp_path, monkeypatch, engine_name, snapshot)


@pytest.mark.parametrize("engine_name", ["duckdb", "spark"])
def test_spark_rejects_an_unreadable_line_in_the_same_words(
    spark_session: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine_name: str
) -> None:
    # Spark decides from the facts table DuckDB wrote (it does not read the JSONL itself); a
    # small pack, as planning a policy pack's query in Spark takes half a minute
    monkeypatch.chdir(tmp_path)
    good = '{"person": {"id": "p1", "hours": 3, "hourly_rate": 6.5, "payments": [1.5]}}'
    lines = [good, "", good[:30], good.replace("[1.5]", "[1.5,]"), good]
    Path("pay.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = ["batch", "pay", "--packs", str(PAY), "--facts", "pay.jsonl", "--as-of", "2020-07-20"]
    result = CliRunner().invoke(cli, [*args, "--out", "out.jsonl", "--engine", engine_name])
    assert result.exit_code == 0, result.output
    assert "2 decisions" in result.output and "rejected: 2" in result.output
    assert Path("out.rejects.jsonl").read_text(encoding="utf-8").splitlines() == [
        '{"record":2,"key":null,"as_of":null,"reasons":["pay.jsonl:3:25: not JSON: Unterminated '
        'string starting at"]}',
        '{"record":3,"key":null,"as_of":null,"reasons":["pay.jsonl:4:74: not JSON: Expecting '
        'value"]}',
    ]


def _rejected_at_their_places(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine_name: str, snapshot: object
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("people.jsonl").write_text("\n".join(LINES) + "\n", encoding="utf-8")
    args = ["batch", "keywork_edm", "--packs", str(POLICIES), "--facts", "people.jsonl"]
    args += ["--audience", "healthcare"]  # a custodial reader is given no column (see need-to-know)
    result = CliRunner().invoke(
        cli, [*args, "--as-of", "2020-07-20", "--out", "out.jsonl", "--engine", engine_name]
    )
    assert result.exit_code == 0, result.output
    assert "2 decisions" in result.output and "rejected: 5" in result.output
    rejects = Path("out.rejects.jsonl").read_text(encoding="utf-8")
    snapshot.snapshot_dir = SNAPSHOTS  # type: ignore[attr-defined]
    snapshot.assert_match(rejects, "batch_unreadable_lines.rejects.jsonl")  # type: ignore
    decided = [json.loads(x)["record"] for x in Path("out.jsonl").read_text().splitlines()]
    assert decided == [1, 7]  # the records are the file's documents, blank lines not counted
