"""Property: a pack with one of its versions pinned as in force on every day decides every
document on every day as the pack does when the interpreter is told that version, which is
what lets the SQL path compare two versions of a pack that the query chooses by date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine.evaluation.decision import build_decision
from engine.evaluation.evaluate import Evaluation
from engine.packs.facts_schema import prepare
from engine.problems import EvaluationError
from engine.tools.pinned_version import pin_version
from engine.tools.sample_population import generate
from engine.tools.timeline import observable

ROOT = Path(__file__).resolve().parents[2]
PACK = engine.load(ROOT / "policies")["pmp"]
PINNED = {v.id: pin_version(PACK, v.id) for v in PACK.versions}
PEOPLE = generate(12, seed=12, centre=dt.date(2022, 11, 1), roots=("establishment", "prisoner"))


def decided(pack: object, facts: dict, day: dt.date, version: str | None, audience: str) -> dict:
    """What the audience sees, or the error the evaluation stops with (a dated parameter with
    no value that day stops both alike)."""
    custodial = audience != "healthcare"
    prepared = prepare(facts, "<facts>", PACK.facts, custodial)
    try:
        ev = Evaluation(pack, prepared, day, custodial, version)  # type: ignore[arg-type]
        ev.run()
    except EvaluationError as e:
        return {"error": str(e)}
    return observable(build_decision(ev, audience, PACK.facts))


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    person=st.integers(min_value=0, max_value=len(PEOPLE) - 1),
    day=st.integers(min_value=-185, max_value=400).map(
        lambda n: dt.date(2022, 11, 1) + dt.timedelta(days=n)
    ),
    version=st.sampled_from(sorted(PINNED)),
    audience=st.sampled_from(["custodial", "healthcare"]),
)
def test_a_pinned_version_decides_as_the_told_version(
    person: int, day: dt.date, version: str, audience: str
) -> None:
    facts = PEOPLE[person]
    told = decided(PACK, facts, day, version, audience)
    pinned = decided(PINNED[version], facts, day, None, audience)
    assert pinned == told
    assert told.get("policy_version", version) == version
