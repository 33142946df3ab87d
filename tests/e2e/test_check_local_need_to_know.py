"""`regime check` on local plans says what reaches custodial staff from healthcare-only facts,
as it does for the national packs: every releasable declaration a plan makes is listed, and a
plan rule that makes national outputs healthcare-only (withheld from custodial staff) is a
warning at the rule."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from cli.main import cli

ROOT = Path(__file__).resolve().parents[2]

PLAN = """\
# yaml-language-server: $schema=../../../schemas/overlay.schema.json
extends: {pack: keywork_edm, version: "1"}
establishment: {code: LEI, name: HMP Leeds}
title: A plan whose rules read clinical facts
version: 0.1.0
status: draft
effective_from: 2020-07-06
rules:
  - id: LEI-KW-20
    title: Wing staff check in on prisoners with a clinical condition
    when: 'len(prisoner.clinical.conditions) > 0'
    obligation:
      modality: should
      text: Check in with the prisoner each day.
      who: wing officer
      releasable: true
    cite: {section: Exceptional Delivery Models (EDMs), paragraph: 1}
  - id: LEI-KW-21
    title: Prisoners with a clinical condition are a local priority group
    group: added_by_governor
    when: 'len(prisoner.clinical.conditions) > 0'
    agreement: {body: pgd, date: 2020-07-01, by: Prison Group Director}
"""


def _folder(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "policies" / "keywork_edm.yaml", tmp_path / "keywork_edm.yaml")
    plan = tmp_path / "local" / "lei" / "keywork_edm.yaml"
    plan.parent.mkdir(parents=True)
    plan.write_text(PLAN)
    return tmp_path


def test_check_lists_a_plans_releasable_obligation(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    text = CliRunner().invoke(cli, ["check", str(folder), "--no-tests"])
    assert text.exit_code == 0, text.output
    assert (
        "releasable to custodial staff: keywork_edm local plan LEI rule `LEI-KW-20` "
        "(shown as: obligation without its reasons)"
    ) in text.output
    as_json = CliRunner().invoke(cli, ["check", str(folder), "--no-tests", "--format", "json"])
    listed = json.loads(as_json.stdout)["releasable"]
    assert {
        "pack": "keywork_edm",
        "plan": str(folder / "local" / "lei" / "keywork_edm.yaml"),
        "rule": "LEI-KW-20",
        "shown_as": "obligation without its reasons",
    } in listed


def test_check_warns_of_national_outputs_a_plan_rule_withholds(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    result = CliRunner().invoke(cli, ["check", str(folder), "--no-tests"])
    assert result.exit_code == 0, result.output
    (line,) = [x for x in result.output.splitlines() if "[W-LOCAL-HEALTHCARE]" in x]
    assert line.startswith(f"{folder / 'local' / 'lei' / 'keywork_edm.yaml'}:21:11: warning:")
    assert "`LEI-KW-21`" in line and "`priority_groups`" in line and "`is_priority`" in line
    assert "LEI-KW-20" not in line  # an obligation of its own hides nothing national


def test_the_shipped_plans_withhold_nothing_national() -> None:
    result = CliRunner().invoke(cli, ["check", str(ROOT / "policies"), "--no-tests"])
    assert result.exit_code == 0, result.output
    assert "W-LOCAL-HEALTHCARE" not in result.output
