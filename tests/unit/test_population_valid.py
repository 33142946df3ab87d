"""The population generator draws valid facts for every shipped pack's facts schema: each
required field present, texts as long as `minLength` asks and matching their `pattern`, and
the `if`/`then`/`else` of a schema followed (an action's target month exactly when its
target is a month). Absent and null fields, where the schema allows them, are still drawn."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

import engine
from engine.packs.facts_schema import validate_facts
from engine.tools.population import Population, from_pattern

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = sorted({pack.facts for pack in engine.load(ROOT / "policies").values()})


@pytest.mark.parametrize("schema", SCHEMAS)
def test_every_generated_document_is_valid(schema: str) -> None:
    population = Population(seed=7, schema=schema)
    failures = []
    for i, as_of, doc in population.documents(400):
        dated = {**doc, "as_of": as_of.isoformat()} if schema == "facts" else doc
        problems = validate_facts(dated, f"<record {i}>", schema)
        failures += [p.format() for p in problems]
    assert not failures, f"{len(failures)} problems, first: " + "\n".join(failures[:5])


@pytest.mark.parametrize("schema", SCHEMAS)
def test_dates_at_the_calendars_ends_are_valid_and_the_first_day_drawn_where_allowed(
    schema: str,
) -> None:
    """Drawn near the calendar's ends, a field whose null is a recorded none never holds the
    day the facts refuse there (engine.packs.reserved); any other date field may."""
    failures, first_days = [], 0
    for i, _, doc in Population(seed=8, schema=schema, edges=0.5).documents(200):
        failures += [p.format() for p in validate_facts(doc, f"<record {i}>", schema)]
        first_days += json.dumps(doc).count('"0001-01-01"')
    assert not failures, f"{len(failures)} problems, first: " + "\n".join(failures[:5])
    assert first_days > 0


def test_the_action_plan_population_visits_months_and_absences() -> None:
    seen: Counter[str] = Counter()
    for _, _, doc in Population(seed=7, schema="action_plan").documents(400):
        plan = doc  # (the schema is of the plan itself)
        for rec in plan.get("recommendations") or []:
            for action in rec.get("actions") or []:
                status = action["target_status"]
                seen[status] += 1
                month = action.get("target_month", "absent")
                if status == "month":
                    assert re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", month), month
                else:
                    seen[f"other month {month is None or month == 'absent'}"] += 1
                seen["description absent" if "description" not in action else "described"] += 1
    assert seen["month"] and seen["completed"] and seen["none"], seen
    assert seen["description absent"] and seen["described"], seen


@pytest.mark.parametrize(
    "pattern",
    [
        "^[A-Z][0-9]{4}[A-Z]{2}$",
        "^[0-9]{4}-(0[1-9]|1[0-2])$",
        "^(ab|c)+x?[a-c]*$",
        "^\\d{3}\\.[xy]$",
    ],
)
def test_a_pattern_gives_matching_text(pattern: str) -> None:
    import random

    rng = random.Random(3)
    for _ in range(200):
        text = from_pattern(pattern, rng)
        assert re.search(pattern, text), (pattern, text)


def _null_fields(value: object, name: str = "") -> set[str]:
    """The names of the fields (and list items, by their list's name) that hold null."""
    if value is None:
        return {name}
    if isinstance(value, dict):
        return set().union(*(_null_fields(v, k) for k, v in value.items()))
    if isinstance(value, list):
        return set().union(*(_null_fields(v, name) for v in value))
    return set()


def _branch_fields(node: object) -> set[str]:
    """The fields an `if`/`then`/`else` of the schema constrains: the only ones that may be
    null whatever is recorded (a branch may require a field to be null)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key in ("then", "else"):
            if isinstance(node.get(key), dict):
                found |= set(node[key].get("properties", {}))
        for v in node.values():
            found |= _branch_fields(v)
    elif isinstance(node, list):
        for v in node:
            found |= _branch_fields(v)
    return found


@pytest.mark.parametrize("schema", SCHEMAS)
def test_a_recorded_population_is_valid_with_every_root_and_no_null_but_where_forced(
    schema: str,
) -> None:
    """Every fact recorded (the bench's well-kept population): valid, every root of the
    schema present, and null only in a field a schema branch constrains."""
    population = Population(seed=7, schema=schema, absent=0.0, nulls=0.0)
    roots = set(population.schema.get("properties", {})) - {"as_of"}
    forced = _branch_fields(population.schema)
    failures, nulls = [], set()
    for i, as_of, doc in population.documents(300):
        dated = {**doc, "as_of": as_of.isoformat()} if schema == "facts" else doc
        failures += [p.format() for p in validate_facts(dated, f"<record {i}>", schema)]
        nulls |= _null_fields(doc)
        assert set(doc) == roots
    assert not failures, f"{len(failures)} problems, first: " + "\n".join(failures[:5])
    assert nulls <= forced, nulls - forced
