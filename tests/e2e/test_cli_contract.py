"""End to end: command-line behaviours the product contract states, each run through the real
`regime` application in-process (click's test runner)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

import engine
from cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "tests" / "data" / "docs" / "docs_small.yaml"
KEYWORK_FACTS = ROOT / "examples" / "prisoners" / "a2041kw_open_acct.yaml"
AS_OF = "2020-07-01"


def regime(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> Result:
    """Run `regime ARGS` in `cwd`; an exception other than an exit fails the test."""
    before = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(cli, list(args), prog_name="regime", env=env)
    finally:
        os.chdir(before)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


@pytest.mark.parametrize("command", ["check", "test"])
def test_paths_default_to_the_packs_directory_from_the_environment(
    command: str, tmp_path: Path
) -> None:
    packs = tmp_path / "packs"
    (packs / "tests").mkdir(parents=True)
    shutil.copy(SMALL, packs / SMALL.name)
    shutil.copy(SMALL.parent / "tests" / SMALL.name, packs / "tests" / SMALL.name)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = regime(command, cwd=elsewhere, env={"REGIME_PACKS": str(packs)})
    assert result.exit_code == 0, result.output
    said = {"test": "2 passed, 0 failed", "check": "1 pack(s) checked: 0 error(s)"}
    assert said[command] in result.stdout


def small_project(tmp_path: Path) -> tuple[Path, Path]:
    """A folder with the small pack under `policies/` and its worked examples copied to
    `my/examples.yaml`, outside any `tests` folder; returns (the folder, the examples)."""
    (tmp_path / "policies").mkdir()
    shutil.copy(SMALL, tmp_path / "policies" / SMALL.name)
    (tmp_path / "my").mkdir()
    examples = tmp_path / "my" / "examples.yaml"
    shutil.copy(SMALL.parent / "tests" / SMALL.name, examples)
    return tmp_path, examples


def test_an_examples_file_outside_a_tests_folder_runs_against_the_current_packs(
    tmp_path: Path,
) -> None:
    # not the packs two folders up (here the project folder itself, where there are none)
    project, _ = small_project(tmp_path)
    result = regime("test", "my/examples.yaml", cwd=project, env={"REGIME_PACKS": ""})
    assert result.exit_code == 0, result.output
    assert "2 passed, 0 failed" in result.stdout
    assert "`my/examples.yaml`" in result.stderr and "`policies`" in result.stderr


def test_an_examples_file_outside_a_tests_folder_uses_regime_packs_or_packs(
    tmp_path: Path,
) -> None:
    project, examples = small_project(tmp_path)
    (project / "policies").rename(project / "packs")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    packs = str(project / "packs")
    by_env = regime("test", str(examples), cwd=elsewhere, env={"REGIME_PACKS": packs})
    assert by_env.exit_code == 0, by_env.output
    assert "2 passed" in by_env.stdout and packs in by_env.stderr
    by_option = regime("test", str(examples), "--packs", packs, cwd=elsewhere)
    assert by_option.exit_code == 0, by_option.output
    assert "2 passed" in by_option.stdout and by_option.stderr == ""  # chosen, so no note


def test_an_examples_file_in_a_packs_tests_folder_runs_against_that_pack(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    examples = SMALL.parent / "tests" / SMALL.name
    result = regime("test", str(examples), cwd=elsewhere, env={"REGIME_PACKS": ""})
    assert result.exit_code == 0, result.output
    assert "2 passed" in result.stdout and result.stderr == ""


def test_a_local_plans_examples_file_finds_the_national_packs() -> None:
    # policies/local/tests: the folder above holds only local plans, not the packs they extend
    result = regime("test", "policies/local/tests/keywork_edm_local.yaml", env={"REGIME_PACKS": ""})
    assert result.exit_code == 0, result.output
    assert " 0 failed" in result.stdout


def test_an_examples_file_whose_pack_is_not_there_is_a_usage_error(tmp_path: Path) -> None:
    project, _ = small_project(tmp_path)
    (project / "policies" / SMALL.name).unlink()
    shutil.copy(ROOT / "policies" / "pmp.yaml", project / "policies" / "pmp.yaml")
    result = regime("test", "my/examples.yaml", cwd=project, env={"REGIME_PACKS": ""})
    assert result.exit_code == 2, result.output
    assert "no pack `docs_small` in `policies`" in result.stderr
    assert "`my/examples.yaml`" in result.stderr and "--packs" in result.stderr
    assert "passed" not in result.stdout


def test_an_examples_file_with_no_packs_to_run_against_is_a_usage_error(tmp_path: Path) -> None:
    project, _ = small_project(tmp_path)
    shutil.rmtree(project / "policies")
    result = regime("test", "my/examples.yaml", cwd=project, env={"REGIME_PACKS": ""})
    assert result.exit_code == 2, result.output
    assert "no packs directory `policies`" in result.stderr and "--packs" in result.stderr


def test_without_paths_or_environment_a_missing_policies_folder_is_a_usage_error(
    tmp_path: Path,
) -> None:
    result = regime("check", cwd=tmp_path, env={"REGIME_PACKS": ""})
    assert result.exit_code == 2
    assert "no such file or directory `policies`" in result.stderr
    assert "REGIME_PACKS" in result.stderr


def test_explain_takes_a_rule_id_and_says_whether_the_rule_applies() -> None:
    result = regime(
        "explain", "keywork_edm", "KW-PG-01", "--facts", str(KEYWORK_FACTS), "--as-of", AS_OF
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    (rule,) = [i for i, line in enumerate(lines) if " rule KW-PG-01: applies" in line]
    assert lines[rule + 1].strip().startswith("because ")
    assert lines[rule + 2].strip().startswith("see ")
    assert "`KW-PG-01` decided" in lines[0]


def test_explaining_a_rule_that_does_not_apply_says_so() -> None:
    facts = ROOT / "examples" / "prisoners" / "e6485kw_ordinary.yaml"
    result = regime("explain", "keywork_edm", "KW-PG-01", "--facts", str(facts), "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    assert "rule KW-PG-01: does not apply" in result.stdout


def test_eval_markdown_shows_every_output_the_json_has() -> None:
    common = ("eval", "keywork_edm", "--facts", str(KEYWORK_FACTS), "--as-of", AS_OF)
    markdown = regime(*common, "--format", "markdown")
    data = json.loads(regime(*common, "--format", "json").stdout)
    assert markdown.exit_code == 0, markdown.output
    text = markdown.stdout
    assert text.startswith(f"## keywork_edm {data['version']}: {data['status']}\n")
    assert f"as of {AS_OF}, for a custodial audience" in text
    for name, value in data["outputs"].items():
        assert f"`{name}`" in text, name
        if isinstance(value, str) and "\n" not in value:
            assert f"| `{name}` | {value} |" in text, name
    for obligation in data["obligations"]:
        assert obligation["rule"] in text, obligation["rule"]


COVERAGE_CASES = """\
pack: docs_small
cases:
  - name: no ACCT at level 3 is not a priority
    as_of: 2021-02-01
    facts:
      establishment: {regime_level: 3}
      prisoner: {prison_number: A1234BC, acct: none}
    expect:
      outputs: {is_priority: false}
  - name: an open ACCT at level 4 in version 1, expected wrongly
    as_of: 2020-07-01
    facts:
      establishment: {regime_level: 4}
      prisoner: {prison_number: A1234BC, acct: open}
    expect:
      outputs: {is_priority: false, groups: ["risk"]}
"""


def test_test_reports_the_rules_rows_and_outputs_its_passing_examples_cover(
    tmp_path: Path,
) -> None:
    (tmp_path / "tests").mkdir()
    shutil.copy(SMALL, tmp_path / SMALL.name)
    (tmp_path / "tests" / "cases.yaml").write_text(COVERAGE_CASES, encoding="utf-8")
    result = regime("test", str(tmp_path), "--coverage")
    assert result.exit_code == 1, result.output
    # The second case applies SM-01, SM-02 and SM-03 and matches row level-4, but it fails:
    # what a failing example exercises is not covered.
    assert result.stdout.splitlines()[-5:] == [
        "coverage docs_small: rules 0/3, table rows 1/2, outputs 1/3",
        "  rules not covered: SM-01, SM-02, SM-03",
        "  rows not covered: delivery/level-4",
        "  outputs not covered: groups, frequency",
        "1 passed, 1 failed",
    ]


INLINE_CASES = """
tests:
  cases:
    - name: inline passes
      as_of: 2021-02-01
      facts:
        establishment: {regime_level: 3}
        prisoner: {prison_number: A1234BC, acct: none}
      expect:
        outputs: {is_priority: false}
    - name: inline fails
      as_of: 2021-02-01
      facts:
        establishment: {regime_level: 3}
        prisoner: {prison_number: A1234BC, acct: none}
      expect:
        outputs: {is_priority: true}
"""


def test_a_failing_inline_worked_example_is_reported_at_its_line(tmp_path: Path) -> None:
    pack = tmp_path / SMALL.name
    pack.write_text(SMALL.read_text(encoding="utf-8") + INLINE_CASES, encoding="utf-8")
    lines = pack.read_text(encoding="utf-8").splitlines()
    line = lines.index("    - name: inline fails") + 1
    result = regime("test", str(tmp_path))
    assert result.exit_code == 1, result.output
    assert f"FAIL {pack}:{line}: docs_small: inline fails" in result.stdout
    junit = regime("test", str(tmp_path), "--format", "junit").stdout
    assert f'name="inline fails" file="{pack}" line="{line}"' in junit
    check = regime("check", str(tmp_path))
    assert check.exit_code == 1
    assert check.stdout.startswith(f"{pack}:{line}:1: error: worked example `inline fails` fails")


@pytest.mark.parametrize(
    "pack_id, facts, audience",
    [
        ("keywork_edm", "examples/prisoners/c4263kw_tact_release.yaml", "custodial"),
        ("pmp", "examples/pmp/c3303pm_child_pending_advice.yaml", "custodial"),
        ("pmp", "examples/pmp/a1101pm_immunosuppressed_plan.yaml", "healthcare"),
        ("omu_edm", "examples/prisoners/a2041kw_open_acct.yaml", "custodial"),
        ("action_plan", "policies/action_plans/social_care_2018.yaml", "custodial"),
    ],
)
def test_eval_json_is_the_library_decision_to_dict(pack_id: str, facts: str, audience: str) -> None:
    result = regime("eval", pack_id, "--facts", facts, "--audience", audience, "--format", "json")
    assert result.exit_code == 0, result.output
    document = yaml.safe_load((ROOT / facts).read_text(encoding="utf-8"))
    decision = engine.load(ROOT / "policies").evaluate(pack_id, document, audience=audience)
    assert json.loads(result.stdout) == json.loads(json.dumps(decision.to_dict()))
    for key in ("pack", "version", "content_hash", "as_of", "audience", "status", "outputs"):
        assert key in decision.to_dict()
    assert {"obligations", "interpretations", "missing_facts"} <= set(decision.to_dict())


def test_check_json_lists_every_releasable_declaration() -> None:
    result = regime("check", "policies/", "--no-tests", "--format", "json")
    assert result.exit_code == 0, result.output
    releasable = json.loads(result.stdout)["releasable"]
    declared = [
        {"pack": pid, "output": name}
        for pid, pack in sorted(engine.load(ROOT / "policies").items())
        for name, output in pack.outputs.items()
        if getattr(output, "releasable", None)
    ]
    assert declared, "the shipped packs declare at least one releasable output"
    assert [{k: r[k] for k in ("pack", "output")} for r in releasable] == declared
    assert all(r["shown_as"] for r in releasable)


def test_demo_evaluates_the_example_establishment_on_its_own(tmp_path: Path) -> None:
    shutil.copy(ROOT / "examples" / "establishment.yaml", tmp_path / "establishment.yaml")
    result = regime("demo", str(tmp_path), "--packs", str(ROOT / "policies"))
    assert result.exit_code == 0, result.output
    report = result.stdout
    keywork = report.split("keywork_edm (policy version 1, as of 2020-07-01): ", 1)[1]
    keywork = keywork.split("\n  omu_edm", 1)[0]
    assert keywork.startswith("for the establishment\n")
    for decided in ("level_descriptor", "allocation", "quality_assurance", "communication"):
        assert f"    {decided} " in keywork, decided
    assert "priority_groups" not in keywork and "needs:" not in keywork
    assert "output(s) about a person" in keywork
    assert "omu_edm (policy version 1, as of 2020-07-01): for the establishment" in report
    assert "stage_name        Restrict" in report
    assert "add a prisoner" not in report


def test_test_reports_coverage_by_default_and_lists_gaps_on_request(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    shutil.copy(SMALL, tmp_path / SMALL.name)
    shutil.copy(SMALL.parent / "tests" / SMALL.name, tmp_path / "tests" / SMALL.name)
    plain = regime("test", str(tmp_path))
    assert plain.exit_code == 0, plain.output
    assert plain.stdout.splitlines() == [
        "coverage docs_small: rules 2/3, table rows 2/2, outputs 2/3",
        "2 passed, 0 failed",
    ]
    listed = regime("test", str(tmp_path), "--coverage")
    assert listed.stdout.splitlines()[1:3] == [
        "  rules not covered: SM-03",
        "  outputs not covered: groups",
    ]
