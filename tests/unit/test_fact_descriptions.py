"""A decision's needed facts are named with what the facts schema says each fact is, for its
audience: a healthcare-only fact's words never reach a custodial reader, whether the decision
has its pack or was read back without it."""

from __future__ import annotations

import datetime as dt
import json
import pickle
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

import engine
from cli.report import render_markdown, render_text
from engine.evaluation.decision import Decision
from engine.evaluation.explain import Need, described_needs, entries_text, unrecorded_entries
from engine.packs.facts_schema import (
    fact_description,
    fact_type,
    facts_schema,
    healthcare_roots,
)

ROOT = Path(__file__).resolve().parents[2]
CONDITIONS_ABSENT = ROOT / "tests" / "data" / "reader" / "pmp_conditions_absent.yaml"
CONDITIONS = "prisoner.clinical.conditions"


def test_a_fact_is_described_by_its_schema() -> None:
    """A plain path: the description, its line breaks and runs of spaces folded."""
    prisoner = facts_schema()["properties"]["prisoner"]["properties"]
    words = " ".join(prisoner["release_date"]["description"].split())
    assert fact_description("prisoner.release_date", "facts") == words


def test_a_list_elements_field_is_described_by_the_items_schema() -> None:
    by_items = fact_description("prisoner.keywork.sessions[].date")
    assert by_items and by_items.startswith("The day the session took place")
    assert fact_description("prisoner.keywork.sessions[0].date") == by_items


def test_no_description_for_a_name_the_schema_lacks() -> None:
    assert fact_description("prisoner.no_such_fact") is None
    assert fact_description("(healthcare-only facts withheld)") is None


def test_references_and_definitions_are_followed(tmp_path: Path) -> None:
    """A schema that reaches its parts through `$ref` to `$defs`, and one branch of `anyOf`."""
    schema = {
        "type": "object",
        "$defs": {
            "visit": {
                "description": "One visit.",
                "type": "object",
                "properties": {
                    "day": {"description": "The  day\n of the visit.", "type": "string"}
                },
            },
            "person": {
                "type": "object",
                "properties": {
                    "visits": {"type": "array", "items": {"$ref": "#/$defs/visit"}},
                    "plain": {"type": "string"},
                },
            },
        },
        "properties": {
            "person": {"anyOf": [{"$ref": "#/$defs/person"}, {"type": "null"}]},
            "named": {"description": "Said where it is used.", "$ref": "#/$defs/visit"},
        },
    }
    file = tmp_path / "own.schema.json"
    file.write_text(json.dumps(schema), encoding="utf-8")
    name = str(file)
    assert fact_description("person.visits[].day", name) == "The day of the visit."
    assert fact_description("person.visits[]", name) == "One visit."
    assert fact_description("named", name) == "Said where it is used."
    assert fact_description("person.plain", name) is None


def _walk(node: Any) -> Iterator[str]:
    if isinstance(node, Mapping):
        if isinstance(node.get("description"), str):
            yield " ".join(node["description"].split())
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def healthcare_descriptions(name: str = "facts") -> set[str]:
    """Every description the facts schema gives under its healthcare-only facts."""
    found: set[str] = set()
    for root in healthcare_roots(name):
        node: Any = facts_schema(name)
        for part in root.split("."):
            node = node["items"] if part == "[]" else node["properties"][part]
        found |= set(_walk(node))
    assert found
    return found


def _decision(audience: str, read_back: bool) -> Decision:
    facts = yaml.safe_load(CONDITIONS_ABSENT.read_text(encoding="utf-8"))
    packs = engine.load(ROOT / "policies")
    decision = packs.evaluate("pmp", facts, as_of=dt.date(2023, 4, 10), audience=audience)
    if read_back:
        decision = pickle.loads(pickle.dumps(decision))  # noqa: S301 - our own bytes
        assert decision.model is None and decision.explain_index is not None
    return decision


@pytest.mark.parametrize("read_back", [False, True])
def test_a_healthcare_reader_is_told_what_a_healthcare_fact_is(read_back: bool) -> None:
    decision = _decision("healthcare", read_back)
    assert CONDITIONS in decision.missing_facts
    about = fact_description(CONDITIONS)
    assert about
    assert Need(CONDITIONS, about) in described_needs(decision, decision.missing_facts)
    assert f"  - {CONDITIONS}: {about}" in render_text(decision).splitlines()
    assert f"- `{CONDITIONS}`: {about}" in render_markdown(decision).splitlines()
    assert f"  - {CONDITIONS}: {about}" in decision.explain("eligible").splitlines()


@pytest.mark.parametrize("read_back", [False, True])
def test_a_custodial_reader_never_sees_a_healthcare_facts_words(read_back: bool) -> None:
    """Asked even by its own path, a healthcare-only fact is not described to this audience;
    and nothing the custodial text, Markdown or explanations show holds any of those words."""
    decision = _decision("custodial", read_back)
    assert described_needs(decision, [CONDITIONS]) == [Need(CONDITIONS)]
    shown = [render_text(decision), render_markdown(decision), decision.explain()]
    shown += [decision.explain("eligible"), decision.explain("pmp_required")]
    assert all("Needs:" in s or "needs:" in s for s in shown[:3])
    for words in healthcare_descriptions():
        assert not any(words in s for s in shown), words


def test_a_fact_outside_the_schema_is_named_by_its_path_alone() -> None:
    decision = _decision("healthcare", False)
    assert described_needs(decision, ["prisoner.no_such_fact"]) == [Need("prisoner.no_such_fact")]


SESSIONS = "prisoner.keywork.sessions[]"


def _keywork(sessions: list[dict[str, Any]]) -> tuple[Decision, dict[str, Any]]:
    facts = {
        "establishment": {"regime_level": 3, "regime_level_since": "2020-06-01"},
        "prisoner": {"acct": "open", "keywork": {"sessions": sessions}},
    }
    packs = engine.load(ROOT / "policies")
    return packs.evaluate("keywork_edm", facts, as_of=dt.date(2020, 7, 20)), facts


def test_the_entries_that_lack_a_needed_field_are_named() -> None:
    """In a record of sessions, the one without a date is named, in text, Markdown and an
    explanation; without the facts, the fact is named alone, as before."""
    sessions = [
        {"date": "2020-07-18", "kind": "session", "minutes": 50},
        {"kind": "session", "minutes": 50},
        {"date": "2020-07-19", "kind": "session", "minutes": 50},
        {"date": None, "kind": "session", "minutes": 50},
    ]
    decision, facts = _keywork(sessions)
    path = f"{SESSIONS}.date"
    assert path in decision.missing_facts
    (need,) = [n for n in described_needs(decision, [path], facts)]
    assert need.entries == ("2", "4")
    line = f"{path} (not recorded in entries 2 and 4): {fact_description(path)}"
    assert f"  - {line}" in render_text(decision, facts).splitlines()
    assert f"  - {line}" in decision.explain("compliance", facts).splitlines()
    assert any(
        x.startswith(f"- `{path}` (not recorded in entries 2 and 4): ")
        for x in render_markdown(decision, facts).splitlines()
    )
    assert f"  - {path}: {fact_description(path)}" in render_text(decision).splitlines()


def test_which_entries_lack_a_field() -> None:
    doc = {"a": {"b": [{"c": 1}, {}, {"c": None}, {"d": [{"e": 1}, {"x": 2}]}, {"d": None}]}}
    assert unrecorded_entries("a.b[].c", doc, "facts") == ("2", "3", "4", "5")
    assert unrecorded_entries("a.b[].d[].e", doc, "facts") == ("1", "2", "3", "4.2", "5")
    # no list on the way: no entry to name; a list not there: nothing to name either
    assert unrecorded_entries("a.b", doc, "facts") == ()
    assert unrecorded_entries("z.b[].c", doc, "facts") == ()


def test_a_null_that_is_a_known_none_is_not_a_gap() -> None:
    """A recommendation's reason: a null records that the response gives none (the facts
    schema's `x-null: none`), so only an absent one is named; where a null is not known it is
    named too."""
    assert fact_type("recommendations[].reason", "action_plan").null_none
    doc = {"recommendations": [{"reason": None}, {}, {"reason": "staffing"}]}
    assert unrecorded_entries("recommendations[].reason", doc, "action_plan") == ("2",)
    assert not fact_type("recommendations[].response", "action_plan").null_none
    doc = {"recommendations": [{"response": None}, {}, {"response": "agreed"}]}
    assert unrecorded_entries("recommendations[].response", doc, "action_plan") == ("1", "2")


def test_many_entries_are_counted_past_ten() -> None:
    assert entries_text(()) == ""
    assert entries_text(("3",)) == " (not recorded in entry 3)"
    named = tuple(str(n) for n in range(1, 14))
    assert entries_text(named) == (
        " (not recorded in entries 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 3 more)"
    )
