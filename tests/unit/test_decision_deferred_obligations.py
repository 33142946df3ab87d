"""A decision whose obligations cannot fail makes them when first read: the same decision,
field by field, as one that makes them at once; each decision's obligations its own; and an
obligation that can fail (a parameter not in force) still fails when the decision is made."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
from pathlib import Path
from typing import Any

import pytest

from engine.api import load
from engine.evaluation import decision as decision_module
from engine.evaluation.decision import build_decision
from engine.evaluation.program import program
from engine.language.runtime import EXACT
from engine.packs.facts_schema import prepare
from engine.problems import EvaluationError
from engine.tools.population import Population

ROOT = Path(__file__).resolve().parents[2]
PACKS = load(ROOT / "policies")
DAY = dt.date(2020, 7, 20)


def _decide(pack: Any, facts: dict[str, Any], audience: str, day: dt.date = DAY) -> Any:
    custodial = audience != "healthcare"
    prepared = prepare(facts, "<facts>", pack.facts, custodial)
    with decimal.localcontext(EXACT):
        ev = program(pack, day, custodial, None).run(prepared, day)
        return build_decision(ev, audience, pack.facts)


def _outcome(pack: Any, facts: dict[str, Any], audience: str, day: dt.date) -> Any:
    """A decision, or the error's code and message."""
    try:
        return _decide(pack, facts, audience, day)
    except EvaluationError as e:
        return (e.code, str(e))


def _eager(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every decision made with its obligations at once (as before they could wait)."""
    shape = decision_module._shape
    monkeypatch.setattr(
        decision_module,
        "_shape",
        lambda ev, custodial, facts: dataclasses.replace(
            shape(ev, custodial, facts), infallible=None
        ),
    )


@pytest.mark.parametrize("audience", ["custodial", "healthcare"])
@pytest.mark.parametrize("pack_id", sorted(PACKS))
def test_deferred_decision_is_the_eager_one(
    pack_id: str, audience: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pack = PACKS[pack_id]
    docs = list(Population(seed=7, schema=pack.facts).documents(40, ("prisoner", "establishment")))
    later = [_outcome(pack, facts, audience, day) for _, day, facts in docs]
    with monkeypatch.context() as patched:
        _eager(patched)
        now = [_outcome(pack, facts, audience, day) for _, day, facts in docs]
    deferred = decided = 0
    for a, b in zip(later, now, strict=True):
        if isinstance(a, tuple) or isinstance(b, tuple):
            assert a == b
            continue
        decided += 1
        deferred += "obligations" not in a.__dict__
        assert "obligations" in b.__dict__  # made at once
        # read in another order than `to_dict`: the steps first, then the obligations
        assert tuple(a.steps) == tuple(b.steps)
        assert a.obligations == b.obligations
        assert a.to_dict() == b.to_dict()
        assert a.to_json_bytes() == b.to_json_bytes()
        assert a == b
    assert decided > 0
    if pack_id == "keywork_edm":
        assert deferred == decided  # its obligations read only names it worked out


def test_obligations_are_each_decisions_own() -> None:
    pack = PACKS["keywork_edm"]
    for _, _, facts in Population(seed=5).documents(50, ("prisoner", "establishment")):
        one, two = _decide(pack, facts, "custodial"), _decide(pack, facts, "custodial")
        with_frequency = [i for i, o in enumerate(one.obligations) if isinstance(o.frequency, dict)]
        if with_frequency:
            break
    assert with_frequency  # the first decision with an obligation of a stated frequency
    for i in with_frequency:
        assert one.obligations[i].frequency is not two.obligations[i].frequency
        one.obligations[i].frequency["count"] = -1
        assert two.obligations[i].frequency["count"] != -1
        assert _decide(pack, facts, "custodial").obligations[i] == two.obligations[i]


def test_an_obligation_that_can_fail_fails_when_the_decision_is_made() -> None:
    """A frequency read from a parameter the evaluation does not hold (one not in force) is
    worked out at once, so its error comes from making the decision, not from reading it."""
    pack = PACKS["keywork_edm"]
    shape = decision_module._shape
    docs = Population(seed=11).documents(60, ("prisoner", "establishment"))
    failed = 0
    for _, _, facts in docs:
        prepared = prepare(facts, "<facts>", pack.facts, True)
        with decimal.localcontext(EXACT):
            ev = program(pack, DAY, True, None).run(prepared, DAY)
            found = shape(ev, True, pack.facts).infallible
            assert found  # the parameters its obligations read
            for name in found:
                dict.__delitem__(ev.memo, name)  # as if not in force on the day
            try:
                decision = build_decision(ev, "custodial", pack.facts)
            except EvaluationError as e:
                assert e.code == "E-EVAL-PARAM"
                failed += 1
                continue
        # no obligation reading one of them applies: made at once all the same
        assert "obligations" in decision.__dict__
    assert failed > 0
