"""The `regime` command with local plans, run in-process: check, eval, plan, diff and docs."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner, Result

from cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
PRISONER = "examples/local/g8607kw_post_closure.yaml"


@pytest.fixture(autouse=True)
def in_root() -> Iterator[None]:
    here = Path.cwd()
    os.chdir(ROOT)
    try:
        yield
    finally:
        os.chdir(here)


def run(*args: str) -> Result:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


def test_check_passes_the_example_plans_and_places_an_error_in_a_bad_one() -> None:
    bad = "tests/corpus/overlays/limited_task_option.yaml"
    result = run("check", "policies/local/", bad, "--no-tests")
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if ": error: " in line]
    assert len(errors) == 1 and errors[0].startswith(f"{bad}:11:5: error: ")
    assert "limited autonomy" in errors[0] and errors[0].endswith("[E-LOCAL-LIMITED]")
    assert result.output.strip().endswith(
        "0 pack(s) and 5 local plan(s) checked: 1 error(s), 0 warning(s)"
    )


def test_eval_through_a_plan_by_code_is_valid_json_naming_the_plan() -> None:
    result = run(
        "eval",
        "keywork_edm",
        "--facts",
        PRISONER,
        "--establishment-plan",
        "LEI",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    schema = json.loads((ROOT / "schemas" / "decision.schema.json").read_text())
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(
        data
    )
    assert data["local_plan"]["establishment"]["code"] == "LEI"
    assert data["outputs"]["priority_groups"] == ["governor_added"]


def test_eval_text_through_a_plan_file_shows_the_plan_and_its_entries() -> None:
    plan = "policies/local/sdi/keywork_edm.yaml"
    result = run("eval", "keywork_edm", "--facts", PRISONER, "--establishment-plan", plan)
    assert result.exit_code == 0
    assert f"local plan {plan}:26 (choice:keywork_model, partial)" in result.output
    assert (
        "signed off: The establishment's regime recovery management plan by the Prison Gold "
        "command on 2020-07-09"
    ) in result.output


def test_eval_with_an_unknown_establishment_is_bad_usage() -> None:
    result = run("eval", "keywork_edm", "--facts", PRISONER, "--establishment-plan", "XYZ")
    assert result.exit_code == 2
    assert "no local plan `XYZ` for pack `keywork_edm`" in result.output


def test_plan_shows_local_choices_beside_the_tasks() -> None:
    result = run("plan", "omu_edm", "--stage", "3", "--establishment-plan", "SDI")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    at = next(i for i, line in enumerate(lines) if " 2.5 " in line)
    assert "partial autonomy" in lines[at]
    assert lines[at + 1].strip().startswith("local (policies/local/sdi/omu_edm.yaml:")
    assert "in-cell telephone" in lines[at + 1]


def test_diff_lists_every_variation_with_its_autonomy() -> None:
    result = run("diff", "policies/omu_edm.yaml", "policies/local/lei/omu_edm.yaml")
    assert result.exit_code == 0
    assert "9 local variation(s) of omu_edm:" in result.output
    for entry in ("task:2.4 [partial]", "task:2.6 [limited]", "choice:resourcing_plan [total]"):
        assert entry in result.output


def test_docs_render_a_page_per_local_plan(tmp_path: Path) -> None:
    result = run(
        "docs", "policies/omu_edm.yaml", "policies/local/lei/omu_edm.yaml", "--out", str(tmp_path)
    )
    assert result.exit_code == 0, result.output
    page = (tmp_path / "local-lei-omu_edm.md").read_text(encoding="utf-8")
    assert "| `task:2.5` | partial |" in page
    assert "Probation Gold command" in page
    assert "local-lei-omu_edm.html" in (tmp_path / "index.html").read_text(encoding="utf-8")


def test_timeline_through_a_plan_fills_its_facts_and_keeps_to_its_dates(tmp_path: Path) -> None:
    """`regime timeline --establishment-plan`: the plan's own priority group and its weekly
    model (so the frequency is known), dates before the plan's refused, and facts that
    contradict the plan an error, as `regime eval` gives them."""
    args = ["timeline", "keywork_edm", "--facts", PRISONER, "--to", "2020-12-31"]
    result = run(*args, "--from", "2020-07-06", "--establishment-plan", "LEI", "--format", "json")
    assert result.exit_code == 0, result.output
    first = json.loads(result.output)["initial"]
    assert first["outputs.priority_groups"] == ["governor_added"]
    assert first["status"] == "decided" and first["outputs.session_frequency"] is not None
    national = json.loads(run(*args, "--from", "2020-07-06", "--format", "json").output)
    assert national["initial"]["outputs.priority_groups"] == []
    assert national["initial"]["missing_facts"] == ["establishment.keywork_model"]
    early = run(*args, "--from", "2020-07-01", "--establishment-plan", "LEI")
    assert early.exit_code == 2
    assert "is not in force on 2020-07-01 (2020-07-06..open)" in early.output
    other = tmp_path / "fortnightly.yaml"
    text = (ROOT / PRISONER).read_text(encoding="utf-8")
    other.write_text(
        text.replace("regime_level: 1", "regime_level: 1\n  keywork_model: fortnightly")
    )
    wrong = run(
        *args[:3], str(other), *args[4:], "--from", "2020-07-06", "--establishment-plan", "LEI"
    )
    assert wrong.exit_code == 2 and wrong.output.endswith("chose `weekly` [E-EVAL-PLAN]\n")


def test_a_plan_diff_says_what_the_national_pack_leaves_each_task() -> None:
    """Against the national pack, a task of partial autonomy shows the options the plan chose
    among (not 'as stipulated'), and a detail a plan records reads by its description."""
    result = run("diff", "policies/omu_edm.yaml", "policies/local/lei/omu_edm.yaml")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    at = next(i for i, x in enumerate(lines) if "~ task:2.4 [partial]" in x)
    assert lines[at + 1].strip() == (
        "national: the establishment chooses among: Within a rank, the nearest to release "
        "first; Within a rank, the earliest in their sentence first"
    )
    at = next(i for i, x in enumerate(lines) if "~ task:2.6 [limited]" in x)
    assert "the plan records: How recategorisation decisions are fed back" in lines[at + 1]
    assert (
        lines[at + 2]
        .strip()
        .startswith("local:    How recategorisation decisions are fed back to the prisoner: ")
    )
    assert "prisoner_communication_method" not in result.output
