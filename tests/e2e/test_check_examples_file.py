"""End to end: `regime check` given a worked-example file checks it as one (its schema, the pack
it names, its facts, its cases), and `regime test` given one loads the packs beside it once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import engine.api
from tests.e2e.test_cli_contract import ROOT, SMALL, regime

EXAMPLES = SMALL.parent / "tests" / SMALL.name


def copied(tmp_path: Path) -> Path:
    """The small pack and its worked examples copied to `packs/` and `packs/tests/`; returns
    the examples file."""
    (tmp_path / "packs" / "tests").mkdir(parents=True)
    shutil.copy(SMALL, tmp_path / "packs" / SMALL.name)
    examples = tmp_path / "packs" / "tests" / SMALL.name
    shutil.copy(EXAMPLES, examples)
    return examples


def test_check_on_a_worked_example_file_checks_it_as_one() -> None:
    result = regime("check", str(EXAMPLES), env={"REGIME_PACKS": ""})
    assert result.exit_code == 0, result.output
    assert "E-SCHEMA" not in result.output
    assert "worked examples" in result.stdout and "docs_small" in result.stdout
    assert "2 case(s)" in result.stdout and "0 error(s)" in result.stdout


def test_check_on_the_shipped_examples_file_is_clean() -> None:
    result = regime("check", "policies/tests/keywork_edm_examples.yaml", env={"REGIME_PACKS": ""})
    assert result.exit_code == 0, result.output
    assert "unknown field `pack`" not in result.output


def test_check_reports_a_failing_case_at_its_line(tmp_path: Path) -> None:
    examples = copied(tmp_path)
    text = examples.read_text(encoding="utf-8").replace("is_priority: true", "is_priority: false")
    examples.write_text(text, encoding="utf-8")
    result = regime("check", str(examples))
    assert result.exit_code == 1, result.output
    assert f"{examples}:4:" in result.stdout and "[E-TEST]" in result.stdout


def test_check_reports_facts_the_packs_schema_refuses_even_without_running_cases(
    tmp_path: Path,
) -> None:
    examples = copied(tmp_path)
    text = examples.read_text(encoding="utf-8").replace("regime_level: 4", "regime_level: high")
    examples.write_text(text, encoding="utf-8")
    result = regime("check", str(examples), "--no-tests")
    assert result.exit_code == 1, result.output
    # at the value the schema refuses (line 7 of the file), not at the case's first line
    assert f"{examples}:7:37:" in result.stdout and "[E-FACTS]" in result.stdout
    assert "regime_level" in result.stdout


def test_test_reports_refused_facts_where_the_case_writes_them(tmp_path: Path) -> None:
    examples = copied(tmp_path)
    text = examples.read_text(encoding="utf-8").replace("regime_level: 4", "regime_level: high")
    examples.write_text(text, encoding="utf-8")
    result = regime("test", str(examples))
    assert result.exit_code == 1, result.output
    assert f"{examples}:7:37: error:" in result.output and "[E-FACTS]" in result.output
    assert "(open ACCT at level 4 is a priority):1:1" not in result.output


def test_check_reports_the_schema_of_a_worked_example_file(tmp_path: Path) -> None:
    examples = copied(tmp_path)
    text = examples.read_text(encoding="utf-8").replace("    expect:\n", "    expected:\n", 1)
    examples.write_text(text, encoding="utf-8")
    result = regime("check", str(examples))
    assert result.exit_code == 1, result.output
    assert "[E-SCHEMA]" in result.stdout and "`expected`" in result.stdout
    assert "`id`" not in result.stdout  # not read as a pack


def test_check_on_a_worked_example_file_whose_pack_is_missing_is_a_usage_error(
    tmp_path: Path,
) -> None:
    examples = copied(tmp_path)
    (tmp_path / "packs" / SMALL.name).unlink()
    shutil.copy(ROOT / "policies" / "pmp.yaml", tmp_path / "packs" / "pmp.yaml")
    result = regime("check", str(examples), cwd=tmp_path, env={"REGIME_PACKS": str(tmp_path)})
    assert result.exit_code == 2, result.output
    assert "no pack `docs_small`" in result.stderr and "--packs" in result.stderr


@pytest.mark.parametrize("command", ["test", "check"])
def test_an_examples_file_loads_the_packs_beside_it_once(
    command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the shipped packs: beside them are local plans, which the first look once left out
    examples = "policies/tests/pmp_pay.yaml"
    loads: list[list[str]] = []
    real = engine.api._check_files

    def counted(files: list[Path]) -> object:
        loads.append([str(f) for f in files])
        return real(files)

    monkeypatch.setattr(engine.api, "_check_files", counted)
    engine.api._LOADED.clear()
    result = regime(command, examples, env={"REGIME_PACKS": ""})
    assert result.exit_code == 0, result.output
    assert len(loads) == 1, loads


def test_check_on_a_folder_of_worked_examples_checks_each_file(tmp_path: Path) -> None:
    examples = copied(tmp_path)
    result = regime("check", str(examples.parent))
    assert result.exit_code == 0, result.output
    assert "1 worked-example file(s) checked: 0 error(s)" in result.stdout


def test_a_broken_file_given_to_check_is_reported_once(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [\n", encoding="utf-8")
    result = regime("check", str(bad))
    assert result.exit_code == 1, result.output
    assert result.stdout.count("[E-YAML]") == 1, result.stdout


def test_a_worked_example_file_without_cases_is_told_so(tmp_path: Path) -> None:
    examples = copied(tmp_path)
    examples.write_text("pack: docs_small\n", encoding="utf-8")
    result = regime("check", str(examples))
    assert result.exit_code == 1, result.output
    assert "missing required field `cases`" in result.stdout
    assert "`id`" not in result.stdout


@pytest.mark.parametrize("command", [["check"], ["docs", "--out", "site"]])
def test_a_facts_document_given_as_a_pack_is_named_as_one(
    command: list[str], tmp_path: Path
) -> None:
    facts = ROOT / "examples" / "prisoners" / "a2041kw_open_acct.yaml"
    result = regime(command[0], str(facts), *command[1:], cwd=tmp_path)
    assert result.exit_code == 2, result.output
    assert "is a facts document, not a pack" in result.stderr
    assert "regime eval PACK --facts" in result.stderr
    assert "E-SCHEMA" not in result.output
    assert not (tmp_path / "site").exists()


@pytest.mark.parametrize("command", ["test", "check"])
def test_a_worked_example_file_with_a_schema_error_still_runs_against_its_pack(
    command: str, tmp_path: Path
) -> None:
    examples = copied(tmp_path)
    text = examples.read_text(encoding="utf-8").replace("as_of: 2021-02-01", "as_of: 2021-02-30")
    examples.write_text(text, encoding="utf-8")
    result = regime(command, str(examples), env={"REGIME_PACKS": ""})
    assert result.exit_code == 1, result.output
    assert "note:" not in result.stderr  # the pack folder is the one above, as it names
    assert "is not a valid date" in result.stdout and "`None`" not in result.stdout
