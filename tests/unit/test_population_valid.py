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
