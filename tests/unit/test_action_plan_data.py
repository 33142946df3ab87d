"""The two action plan fact files: complete, consistent with their own summary
tables, and valid against schemas/facts/action_plan.schema.json."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker

import engine

ROOT = Path(__file__).resolve().parents[2]
PLANS = ROOT / "policies" / "action_plans"
SCHEMA = ROOT / "schemas" / "facts" / "action_plan.schema.json"

# file name -> (recommendations expected, the summary table the document states)
EXPECTED = {
    "social_care_2018.yaml": (8, {"agreed": 6, "partly_agreed": 1, "not_agreed": 1}),
    "hmp_send_2019.yaml": (26, {"agreed": 20, "partly_agreed": 3, "not_agreed": 3}),
}


def _load(name: str) -> dict:
    with open(PLANS / name, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    assert isinstance(doc, dict) and set(doc) == {"action_plan"}, "one top-level key: action_plan"
    plan = doc["action_plan"]
    assert isinstance(plan, dict)
    return plan


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_plan_is_valid_against_schema(name: str, validator: Draft202012Validator) -> None:
    plan = _load(name)
    errors = sorted(validator.iter_errors(plan), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_recommendation_count(name: str) -> None:
    expected, _ = EXPECTED[name]
    recs = _load(name)["recommendations"]
    assert len(recs) == expected
    numbers = [r["number"] for r in recs]
    assert len(set(numbers)) == len(numbers), "recommendation numbers are unique"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_counts_match_the_documents_summary_table(name: str) -> None:
    _, table = EXPECTED[name]
    plan = _load(name)
    counted = Counter(r["response"] for r in plan["recommendations"])
    assert {k: counted.get(k, 0) for k in table} == table
    stated = plan["stated_summary"]
    assert {k: stated[k] for k in table} == table
    assert stated["total"] == sum(table.values()) == len(plan["recommendations"])


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_targets_are_consistent(name: str) -> None:
    for rec in _load(name)["recommendations"]:
        for action in rec["actions"]:
            status, month, text = (
                action["target_status"],
                action.get("target_month"),
                action.get("target_text"),
            )
            if status == "month":
                assert month and text, rec["number"]
            else:
                assert month is None, rec["number"]
            if status == "none":
                assert text is None, rec["number"]
            if status in ("completed", "ongoing"):
                assert text == status.capitalize(), rec["number"]


def test_send_numbers_run_6_1_to_6_26() -> None:
    numbers = [r["number"] for r in _load("hmp_send_2019.yaml")["recommendations"]]
    assert numbers == [f"6.{i}" for i in range(1, 27)]


def test_social_care_numbers_run_1_to_8() -> None:
    numbers = [r["number"] for r in _load("social_care_2018.yaml")["recommendations"]]
    assert numbers == [str(i) for i in range(1, 9)]


def test_schema_describes_every_property() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    missing: list[str] = []

    def walk(node: object, path: str) -> None:
        if isinstance(node, dict):
            for key, sub in node.get("properties", {}).items():
                if "description" not in sub:
                    missing.append(f"{path}.{key}")
                walk(sub, f"{path}.{key}")
            if "items" in node:
                walk(node["items"], f"{path}[]")
            if node.get("type") in ("object", ["object", "null"]) and "properties" in node:
                if node.get("additionalProperties") is not False:
                    missing.append(f"{path} (additionalProperties)")

    walk(schema, "$")
    assert not missing, missing


def test_a_target_month_in_the_wrong_form_is_refused_with_an_example_of_the_right_one() -> None:
    facts = {
        "action_plan": {
            "recommendations": [
                {
                    "number": "1",
                    "response": "agreed",
                    "actions": [
                        {"owners": ["Governor"], "target_status": "month", "target_month": "2019-3"}
                    ],
                }
            ]
        }
    }
    packs = engine.load(ROOT / "policies" / "action_plans")
    with pytest.raises(engine.FactsError) as info:
        packs.evaluate("action_plan", facts, as_of=dt.date(2019, 2, 1))
    message = info.value.problems[0].message
    assert "target_month" in message and "for example `2019-03`" in message, message
