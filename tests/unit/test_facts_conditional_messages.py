"""A facts value refused by a conditional branch of the schema says why (the condition that
asks for it) and how to fix it, not only what the branch expected."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from engine.packs.facts_schema import validate_facts
from engine.packs.validate_schema import _condition_text

ROOT = Path(__file__).resolve().parents[2]
PLAN = ROOT / "policies" / "action_plans" / "social_care_2018.yaml"


def plan() -> dict[str, object]:
    return copy.deepcopy(yaml.safe_load(PLAN.read_text(encoding="utf-8")))


def test_a_table_beside_summary_table_none_names_the_condition_and_the_fix() -> None:
    facts = plan()
    facts["action_plan"]["summary_table"] = "none"  # type: ignore[index]
    problems = validate_facts(facts, "plan.yaml")
    assert len(problems) == 1, problems
    p = problems[0]
    assert "stated_summary" in p.message
    assert "`summary_table` is `none`" in p.message
    assert p.hint is not None and "summary_table" in p.hint and "stated_summary" in p.hint
    assert "printed" in p.hint  # the other way to fix it


def test_a_missing_field_the_condition_requires_names_the_condition() -> None:
    facts = plan()
    action = facts["action_plan"]["recommendations"][0]["actions"][0]  # type: ignore[index]
    action["target_status"] = "month"
    action.pop("target_month", None)
    problems = validate_facts(facts, "plan.yaml")
    assert any(
        "target_month" in p.message and "`target_status` is `month`" in p.message for p in problems
    ), problems


def test_the_else_branch_names_the_condition_that_fails() -> None:
    facts = plan()
    action = facts["action_plan"]["recommendations"][0]["actions"][0]  # type: ignore[index]
    action["target_status"] = "none"
    action["target_month"] = "2019-03"
    problems = validate_facts(facts, "plan.yaml")
    assert any(
        "target_month" in p.message and "`target_status` is not `month`" in p.message
        for p in problems
    ), problems


def test_conditions_are_described_generically() -> None:
    when = {"properties": {"kind": {"const": "x"}, "mode": {"enum": ["a", "b"]}}}
    assert _condition_text(when, True) == "`kind` is `x` and `mode` is one of `a`, `b`"
    assert _condition_text(when, False) == "`kind` is not `x` or `mode` is not one of `a`, `b`"
    assert _condition_text({"required": ["k"]}, True) == "`k` is given"
    assert _condition_text({"minimum": 3}, True) is None  # nothing to say in the user's terms


def test_a_null_where_text_is_needed_is_not_told_to_quote_null() -> None:
    facts = plan()
    action = facts["action_plan"]["recommendations"][0]["actions"][0]  # type: ignore[index]
    action["target_status"] = "month"
    action["target_month"] = None
    problems = validate_facts(facts, "plan.yaml")
    assert problems and all('"null"' not in (p.hint or "") for p in problems), problems
    assert any("write text here" in (p.hint or "") for p in problems), problems
