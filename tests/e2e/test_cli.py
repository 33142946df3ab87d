"""End to end: the `regime` command as a user runs it, with golden output. The commands run
in-process through click's test runner (the real subprocess is in test_smoke.py)."""

from __future__ import annotations

import json
import os
import traceback
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

import engine
from cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOTS = Path(__file__).parent / "snapshots"
AS_OF = "2020-07-01"


@dataclass(frozen=True)
class Result:
    """What a run of `regime` printed and its exit code."""

    returncode: int
    stdout: str
    stderr: str


def regime(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> Result:
    """Run `regime ARGS` in `cwd`; an unexpected exception shows as a traceback on stderr."""
    before = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(cli, list(args), prog_name="regime", env=env)
    finally:
        os.chdir(before)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        assert result.exc_info is not None
        stderr += "".join(traceback.format_exception(*result.exc_info))
    return Result(result.exit_code, result.stdout, stderr)


def no_traceback(result: Result) -> None:
    assert "Traceback" not in result.stdout + result.stderr


def examples() -> list[Path]:
    return sorted((ROOT / "examples" / "prisoners").glob("*.yaml"))


def test_help_shows_examples() -> None:
    result = regime("--help")
    assert result.returncode == 0
    assert "regime check policies/" in result.stdout
    for command in ("check", "test", "eval", "explain", "plan"):
        sub = regime(command, "--help")
        assert sub.returncode == 0 and "Examples:" in sub.stdout, command


def test_check_passes_on_the_policies() -> None:
    result = regime("check", "policies/")
    no_traceback(result)
    assert result.returncode == 0, result.stdout
    assert "0 error(s)" in result.stdout
    assert "releasable to custodial staff: pmp output `eligible`" in result.stdout


def test_check_reports_a_bad_pack_with_position_and_exit_1() -> None:
    result = regime("check", "tests/corpus/packs/unknown_fact_path.yaml")
    no_traceback(result)
    assert result.returncode == 1
    assert (
        "tests/corpus/packs/unknown_fact_path.yaml:12:21: error: `prisoner` has no field "
        "`relese_date`" in result.stdout
    )
    assert "did you mean `release_date`?" in result.stdout


def test_check_json_is_machine_readable() -> None:
    result = regime("check", "tests/corpus/packs/cycle.yaml", "--format", "json")
    data = json.loads(result.stdout)
    assert result.returncode == 1
    assert data["errors"] == 1 and data["problems"][0]["code"] == "E-CYCLE"


def test_worked_examples_pass() -> None:
    result = regime("test", "policies/")
    no_traceback(result)
    assert result.returncode == 0, result.stdout[-3000:]
    assert result.stdout.strip().splitlines()[-1].endswith(" 0 failed")


@pytest.mark.parametrize("path", examples(), ids=[p.stem for p in examples()])
def test_eval_json_is_golden_and_valid(path: Path, snapshot: object) -> None:
    result = regime(
        "eval",
        "keywork_edm",
        "--facts",
        str(path.relative_to(ROOT)),
        "--as-of",
        AS_OF,
        "--format",
        "json",
    )
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    schema = json.loads((ROOT / "schemas" / "decision.schema.json").read_text())
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(
        data
    )
    snapshot.snapshot_dir = SNAPSHOTS  # type: ignore[attr-defined]
    snapshot.assert_match(result.stdout, f"eval_keywork_{path.stem}.json")  # type: ignore


@pytest.mark.parametrize("target", ["session_frequency", "compliance", "priority_groups"])
def test_explain_is_golden(target: str, snapshot: object) -> None:
    path = examples()[1].relative_to(ROOT)
    result = regime("explain", "keywork_edm", target, "--facts", str(path), "--as-of", AS_OF)
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert "see " in result.stdout  # every step carries its citation
    snapshot.snapshot_dir = SNAPSHOTS  # type: ignore[attr-defined]
    snapshot.assert_match(result.stdout, f"explain_keywork_{target}.txt")  # type: ignore


def test_pmp_custodial_and_healthcare_side_by_side(snapshot: object) -> None:
    facts = sorted((ROOT / "examples" / "pmp").glob("*.yaml"))[0].relative_to(ROOT)
    outs = {}
    for audience in ("healthcare", "custodial"):
        result = regime(
            "eval", "pmp", "--facts", str(facts), "--audience", audience, "--format", "json"
        )
        no_traceback(result)
        assert result.returncode == 0, result.stderr
        outs[audience] = json.loads(result.stdout)
    custodial, healthcare = outs["custodial"], outs["healthcare"]
    assert "eligible" in custodial["outputs"]
    assert custodial["outputs"]["eligible"] == healthcare["outputs"]["eligible"]
    assert "eligibility_basis" in healthcare["outputs"]
    assert "eligibility_basis" not in custodial["outputs"]
    assert "eligibility_basis" in custodial["withheld"]
    clinical = json.dumps(healthcare["outputs"]["eligibility_basis"])
    text = json.dumps(custodial)
    conditions = _yaml(ROOT / facts)["prisoner"]["clinical"].get("conditions", [])  # type: ignore
    assert conditions
    for condition in conditions:
        assert condition not in text, condition
    assert clinical not in text or clinical in ("[]", "null")
    side = [f"{'healthcare':<60}| custodial"]
    left = json.dumps(healthcare["outputs"], indent=1).splitlines()
    right = json.dumps(custodial["outputs"], indent=1).splitlines()
    for i in range(max(len(left), len(right))):
        a = left[i] if i < len(left) else ""
        b = right[i] if i < len(right) else ""
        side.append(f"{a[:59]:<60}| {b}")
    snapshot.snapshot_dir = SNAPSHOTS  # type: ignore[attr-defined]
    snapshot.assert_match("\n".join(side) + "\n", "eval_pmp_side_by_side.txt")  # type: ignore


def _yaml(path: Path) -> object:
    return yaml.safe_load(path.read_text())


BAD_FACTS = {"prisoner": {"acct": "opened", "rosh": "HIGH", "release_date": "2020-13-01"}}
ONE_LINE = {"prisoner": {"alerts": ["x"] * 40, **BAD_FACTS["prisoner"]}}  # minified, 300 wide


@pytest.mark.parametrize(
    "name, text",
    [
        ("bad.json", json.dumps(BAD_FACTS, indent=2)),
        ("one_line.json", json.dumps(ONE_LINE)),
        ("bad.yaml", yaml.safe_dump(BAD_FACTS, sort_keys=False)),
    ],
    ids=["json", "one-line-json", "yaml"],
)
def test_bad_facts_are_shown_at_their_line_and_column_and_exit_2(
    name: str, text: str, tmp_path: Path, snapshot: object
) -> None:
    # facts with no healthcare-only part: placed alike for either audience (one with such a
    # part is placed for a custodial reader by path alone: tests/e2e/test_need_to_know_attacks)
    (tmp_path / name).write_text(text, encoding="utf-8")
    runs = {
        audience: regime(
            "eval",
            "keywork_edm",
            "--facts",
            name,
            "--as-of",
            AS_OF,
            "--audience",
            audience,
            cwd=tmp_path,
            env={"REGIME_PACKS": str(ROOT / "policies")},
        )  # fmt: skip
        for audience in ("healthcare", "custodial")
    }
    result = runs["healthcare"]
    no_traceback(result)
    assert result.returncode == 2
    assert "nothing was evaluated" in result.stderr
    snapshot.snapshot_dir = SNAPSHOTS  # type: ignore[attr-defined]
    snapshot.assert_match(result.stdout, f"bad_facts_{name.replace('.', '_')}.txt")  # type: ignore
    assert runs["custodial"].returncode == 2
    assert runs["custodial"].stdout == result.stdout


def test_a_date_no_version_covers_is_a_clear_error() -> None:
    result = regime(
        "eval",
        "keywork_edm",
        "--facts",
        str(examples()[0].relative_to(ROOT)),
        "--as-of",
        "1999-01-01",
    )
    no_traceback(result)
    assert result.returncode == 2
    assert (
        "E-EVAL-VERSION" in result.stderr and "no version in force on 1999-01-01" in result.stderr
    )
    # the hint names the nearest day a version is in force: key work's first version starts
    first = engine.load(ROOT / "policies")["keywork_edm"].versions[0].effective_from
    assert f"hint: give a day a version is in force, e.g. {first}" in result.stderr


def test_unknown_pack_and_bad_date_are_usage_errors() -> None:
    result = regime("eval", "keywork", "--facts", str(examples()[0].relative_to(ROOT)))
    no_traceback(result)
    assert result.returncode == 2 and "did you mean `keywork_edm`?" in result.stderr
    result = regime(
        "eval",
        "keywork_edm",
        "--facts",
        str(examples()[0].relative_to(ROOT)),
        "--as-of",
        "01/07/2020",
    )
    assert result.returncode == 2 and "YYYY-MM-DD" in result.stderr
    result = regime("eval", "keywork_edm", "--facts", "no/such/file.yaml")
    assert result.returncode == 2
    no_traceback(result)


def test_packs_dir_comes_from_the_environment(tmp_path: Path) -> None:
    facts = ROOT / "examples" / "prisoners" / examples()[0].name
    result = regime(
        "eval",
        "keywork_edm",
        "--facts",
        str(facts),
        "--as-of",
        AS_OF,
        cwd=tmp_path,
        env={"REGIME_PACKS": str(ROOT / "policies")},
    )
    assert result.returncode == 0, result.stderr


def test_plan_prints_mermaid_and_json() -> None:
    result = regime("plan", "omu_edm", "--stage", "3", "--format", "mermaid")
    assert result.returncode == 0 and result.stdout.startswith("flowchart")
    rows = json.loads(regime("plan", "omu_edm", "--stage", "3", "--format", "json").stdout)
    assert all({"id", "area", "weighting", "autonomy", "waits_for"} <= set(r) for r in rows)


def test_demo_runs(tmp_path: Path) -> None:
    result = regime("demo", "examples/")
    no_traceback(result)
    assert result.returncode == 0
    assert "keywork_edm" in result.stdout and "pmp" in result.stdout


def test_plan_json_is_golden(snapshot: object) -> None:
    result = regime("plan", "omu_edm", "--stage", "3", "--format", "json")
    assert result.returncode == 0, result.stderr
    snapshot.snapshot_dir = SNAPSHOTS  # type: ignore[attr-defined]
    snapshot.assert_match(result.stdout, "plan_omu_edm_stage3.json")  # type: ignore


@pytest.mark.parametrize("plan", ["social_care_2018", "hmp_send_2019"])
def test_action_plan_json_is_golden(plan: str, snapshot: object) -> None:
    result = regime(
        "eval",
        "action_plan",
        "--facts",
        f"policies/action_plans/{plan}.yaml",
        "--as-of",
        "2019-06-01",
        "--format",
        "json",
    )
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["status"] == "decided"
    snapshot.snapshot_dir = SNAPSHOTS  # type: ignore[attr-defined]
    snapshot.assert_match(result.stdout, f"eval_action_plan_{plan}.json")  # type: ignore


@pytest.mark.parametrize(
    "pack, facts, as_of",
    [
        ("keywork_edm", "examples/prisoners/b3152kw_high_rosh_release.yaml", AS_OF),
        ("action_plan", "policies/action_plans/social_care_2018.yaml", "2019-06-01"),
    ],
    ids=["keywork_edm", "action_plan"],
)
def test_eval_markdown_is_golden(pack: str, facts: str, as_of: str, snapshot: object) -> None:
    """The page a decision renders to: every output, each duty with who acts and what to
    record, the interpretations and the facts still needed."""
    result = regime("eval", pack, "--facts", facts, "--as-of", as_of, "--format", "markdown")
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert "  - *who:* " in result.stdout
    snapshot.snapshot_dir = SNAPSHOTS  # type: ignore[attr-defined]
    snapshot.assert_match(result.stdout, f"eval_markdown_{pack}.md")  # type: ignore


def _help_examples() -> list[str]:
    found: list[str] = []
    for command in ("", "check", "test", "eval", "explain", "plan", "diff"):
        text = regime(*([command] if command else []), "--help").stdout.replace("\\\n", " ")
        for line in text.splitlines():
            line = " ".join(line.split())
            # skip pipes, redirections and the illustrative `old/` copy of a pack
            if (
                line.startswith("regime ")
                and not any(c in line for c in "|>")
                and " old/" not in line
            ):
                found.append(line)
    return sorted(set(found))


@pytest.mark.parametrize("example", _help_examples())
def test_every_example_in_the_help_works(example: str) -> None:
    result = regime(*example.split()[1:])
    no_traceback(result)
    assert result.returncode == 0, f"{example}\n{result.stdout[-800:]}{result.stderr[-800:]}"


def test_problems_show_the_source_line_with_a_caret() -> None:
    result = regime("check", "tests/corpus/packs/unknown_fact_path.yaml")
    assert result.returncode == 1
    assert result.stdout.splitlines()[:4] == [
        "tests/corpus/packs/unknown_fact_path.yaml:12:21: error: `prisoner` has no field "
        "`relese_date` (in output `near_release`) [E-PATH]",
        " 12 |     value: prisoner.relese_date - as_of <= 28 days",
        "    |                     ^^^^^^^^^^^",
        "  hint: did you mean `release_date`?",
    ]


def test_demo_with_an_impossible_date_is_a_usage_error() -> None:
    result = regime("demo", "examples/", "--as-of", "2020-13-01")
    no_traceback(result)
    assert result.returncode == 2
    assert "`2020-13-01` is not a date" in result.stderr


@pytest.mark.parametrize("folder", ["missing", "empty"])
def test_check_sources_needs_a_folder_with_documents(folder: str, tmp_path: Path) -> None:
    sources = tmp_path / folder
    if folder == "empty":
        sources.mkdir()
    result = regime("check", "policies/", "--no-tests", "--sources", str(sources))
    no_traceback(result)
    assert result.returncode == 2
    assert "sources directory" in result.stderr


def test_a_facts_file_without_healthcare_text_is_placed_for_a_custodial_reader(
    tmp_path: Path,
) -> None:
    """Positions are withheld from a custodial reader only where healthcare-only text could
    move them: a key work file that YAML cannot read is still named at its line."""
    (tmp_path / "broken.yaml").write_text("prisoner:\n  acct: [open\n", encoding="utf-8")
    result = regime(
        "eval", "keywork_edm", "--facts", "broken.yaml", "--as-of", AS_OF,
        cwd=tmp_path, env={"REGIME_PACKS": str(ROOT / "policies")},
    )  # fmt: skip
    no_traceback(result)
    assert result.returncode == 2
    assert "broken.yaml:3:1: error:" in result.stderr + result.stdout
    (tmp_path / "clinical.yaml").write_text(
        "prisoner:\n  clinical: {conditions: []}\n  acct: [open\n", encoding="utf-8"
    )
    result = regime(
        "eval", "keywork_edm", "--facts", "clinical.yaml", "--as-of", AS_OF,
        cwd=tmp_path, env={"REGIME_PACKS": str(ROOT / "policies")},
    )  # fmt: skip
    assert result.returncode == 2
    assert "clinical.yaml:1:1: error:" in result.stderr + result.stdout
