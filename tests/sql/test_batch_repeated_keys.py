"""A JSONL line whose object gives a key twice (at the top, in a nested object, in an object
inside a list) is refused by the facts reader (E-JSON-DUPKEY), and so by `regime batch` with
every engine: rejected at the repeated key's place, in the facts reader's words, the other
records decided. A line holding only JSON whitespace is a blank line, no record, as for the
population reader of `regime impact`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli.main import cli

POLICIES = Path(__file__).resolve().parents[2] / "policies"
PAY = Path(__file__).resolve().parents[1] / "fixtures" / "decimal_nested"
REGIME = Path(sys.executable).parent / "regime"

GOOD = '{"prisoner": {"acct": "open", "prison_number": "A1234BC"}, "establishment": {}}'
LINES = [
    GOOD,
    '{"prisoner": {"acct": "open", "acct": "closed"}}',  # in a nested object
    '{"prisoner": {"acct": "open"}, "prisoner": {"acct": "closed"}}',  # at the top
    '{"prisoner": {"keywork": {"sessions": [{"kind": "session"}, '
    '{"kind": "session", "minutes": 30, "kind": "wellbeing_check"}]}}}',  # inside a list
    '{"prisoner": {"acct": "open", "cell_location": "\\"acct\\": 1, \\"acct\\": 2"}}',  # text
    '{"establishment": {"code": "A", "code": "B"}, "prisoner": {"acct": "open"}}',
    GOOD,
]
KEEP = " (keep one of them: which one is meant cannot be guessed)"
REASONS = {
    2: "people.jsonl:2:31: key `acct` appears twice in one object" + KEEP,
    3: "people.jsonl:3:32: key `prisoner` appears twice in one object" + KEEP,
    4: "people.jsonl:4:96: key `kind` appears twice in one object" + KEEP,
    6: "people.jsonl:6:33: key `code` appears twice in one object" + KEEP,
}


def _rejects(path: Path) -> dict[int, list[str]]:
    rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    return {r["record"]: r["reasons"] for r in rows}


def _decided(path: Path) -> list[int]:
    return sorted({json.loads(x)["record"] for x in path.read_text(encoding="utf-8").splitlines()})


# the column of a refused line is given to the healthcare audience: for a custodial one it would
# move with the length of the clinical text before it (tests/e2e/test_need_to_know_attacks.py)
HEALTHCARE = ["--audience", "healthcare"]


@pytest.mark.parametrize("engine_name", ["duckdb", "python"])
def test_a_key_given_twice_is_rejected_at_its_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine_name: str
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("people.jsonl").write_text("\n".join(LINES) + "\n", encoding="utf-8")
    args = ["batch", "keywork_edm", "--packs", str(POLICIES), "--facts", "people.jsonl"]
    result = CliRunner().invoke(
        cli,
        [*args, "--as-of", "2020-07-20", "--out", "out.jsonl", "--engine", engine_name]
        + HEALTHCARE,
    )
    assert result.exit_code == 0, result.output
    rejects = _rejects(Path("out.rejects.jsonl"))
    assert {r: reasons[0] for r, reasons in rejects.items()} == REASONS
    assert _decided(Path("out.jsonl")) == [1, 5, 7]  # the key written in a text is no key


def test_the_facts_reader_refuses_the_same_lines_in_the_same_words(tmp_path: Path) -> None:
    # the reasons above are the facts reader's own problems for each line, placed in the file
    from engine.packs.facts_schema import parse_json
    from engine.problems import FactsError

    for n, line in enumerate(LINES, 1):
        try:
            parse_json(line, "people.jsonl")
        except FactsError as e:
            (p,) = e.problems
            assert p.code == "E-JSON-DUPKEY"
            assert f"people.jsonl:{n}:{p.col}: {p.message} ({p.hint})" == REASONS[n]
        else:
            assert n not in REASONS


@pytest.mark.parametrize("engine_name", ["duckdb", "spark"])
def test_spark_rejects_a_key_given_twice_in_the_same_words(
    spark_session: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine_name: str
) -> None:
    # a small pack: planning a policy pack's query in Spark takes half a minute
    monkeypatch.chdir(tmp_path)
    good = '{"person": {"id": "p1", "hours": 3, "hourly_rate": 6.5, "payments": [1.5]}}'
    lines = [good, good.replace('"hours": 3', '"hours": 3, "hours": 4'), good]
    Path("pay.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = ["batch", "pay", "--packs", str(PAY), "--facts", "pay.jsonl", "--as-of", "2020-07-20"]
    result = CliRunner().invoke(cli, [*args, "--out", "out.jsonl", "--engine", engine_name])
    assert result.exit_code == 0, result.output
    assert _rejects(Path("out.rejects.jsonl")) == {
        2: ["pay.jsonl:2:37: key `hours` appears twice in one object" + KEEP]
    }
    assert _decided(Path("out.jsonl")) == [1, 3]


def test_the_regime_command_rejects_a_key_given_twice(tmp_path: Path) -> None:
    facts = tmp_path / "people.jsonl"
    facts.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = subprocess.run(
        [str(REGIME), "batch", "keywork_edm", "--packs", str(POLICIES), "--facts", str(facts)]
        + ["--as-of", "2020-07-20", "--out", str(out), "--engine", "duckdb", *HEALTHCARE],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "rejected: 4" in result.stdout + result.stderr
    rejects = _rejects(tmp_path / "out.rejects.jsonl")
    assert rejects[2] == [f"{facts}:2:31: key `acct` appears twice in one object" + KEEP]
    assert _decided(out) == [1, 5, 7]


@pytest.mark.parametrize("engine_name", ["duckdb", "python"])
def test_a_line_of_only_json_whitespace_is_a_blank_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine_name: str
) -> None:
    # tabs and spaces around a document are JSON whitespace: a line of nothing else holds no
    # document, as an empty line holds none; a form feed is not JSON whitespace
    monkeypatch.chdir(tmp_path)
    lines = [GOOD, "\t", "  \t ", " ", GOOD, "\f"]
    Path("people.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = ["batch", "keywork_edm", "--packs", str(POLICIES), "--facts", "people.jsonl"]
    result = CliRunner().invoke(
        cli,
        [*args, "--as-of", "2020-07-20", "--out", "out.jsonl", "--engine", engine_name]
        + HEALTHCARE,
    )
    assert result.exit_code == 0, result.output
    assert _decided(Path("out.jsonl")) == [1, 2]
    assert _rejects(Path("out.rejects.jsonl")) == {
        3: ["people.jsonl:6:1: not JSON: Expecting value"]
    }


def test_a_key_given_twice_where_the_schema_names_no_keys_is_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an object open to other keys: the column-wise checks do not see the keys of those, so
    # every line is read for a key given twice
    packs = tmp_path / "packs"
    shutil.copytree(PAY, packs)
    schema_path = packs / "schemas" / "pay.schema.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    del schema["properties"]["person"]["additionalProperties"]
    schema_path.write_text(json.dumps(schema), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    good = '{"person": {"id": "p1", "hours": 3, "notes": {"a": [{"b": 1}]}}}'
    lines = [good, good.replace('"b": 1', '"b": 1, "b": 2'), good]
    Path("pay.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = ["batch", "pay", "--packs", str(packs), "--facts", "pay.jsonl", "--as-of", "2020-07-20"]
    result = CliRunner().invoke(cli, [*args, "--out", "out.jsonl", "--engine", "duckdb"])
    assert result.exit_code == 0, result.output
    assert _rejects(Path("out.rejects.jsonl")) == {
        2: ["pay.jsonl:2:62: key `b` appears twice in one object" + KEEP]
    }
    assert _decided(Path("out.jsonl")) == [1, 3]


def test_a_csv_cell_giving_a_key_twice_is_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a CSV cell holds a root's JSON: a key given twice in it is refused as in a JSONL line
    monkeypatch.chdir(tmp_path)
    Path("people.csv").write_text(
        'prisoner\n"{""acct"": ""open""}"\n"{""acct"": ""open"", ""acct"": ""closed""}"\n',
        encoding="utf-8",
    )
    args = ["batch", "keywork_edm", "--packs", str(POLICIES), "--facts", "people.csv"]
    result = CliRunner().invoke(
        cli, [*args, "--as-of", "2020-07-20", "--out", "out.jsonl", "--engine", "duckdb"]
    )
    assert result.exit_code == 0, result.output
    assert _rejects(Path("out.rejects.jsonl")) == {
        2: ["prisoner: key `acct` appears twice in one object" + KEEP]
    }
    assert _decided(Path("out.jsonl")) == [1]
