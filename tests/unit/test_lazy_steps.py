"""A decision made without recording its steps explains itself exactly as one that recorded
them: the same steps, result and explanation, for every audience (the recorded one made as
`evaluate` makes it: the audience's preparation, its evaluation, the exact decimal context)."""

from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path

import pytest

from engine.api import evaluate, load
from engine.evaluation.decision import LazySteps, build_decision
from engine.evaluation.evaluate import Evaluation
from engine.language.runtime import EXACT
from engine.packs.facts_schema import prepare, read_facts_file

ROOT = Path(__file__).resolve().parents[2]
PACKS = load(ROOT / "policies")
PRISONERS = sorted((ROOT / "examples" / "prisoners").glob("*.yaml"))


@pytest.mark.parametrize("audience", ["custodial", "healthcare"])
@pytest.mark.parametrize("pack_id", ["keywork_edm", "omu_edm", "pmp"])
def test_replayed_steps_equal_recorded_steps(pack_id: str, audience: str) -> None:
    pack = PACKS[pack_id]
    for path in PRISONERS:
        facts = read_facts_file(path)
        day = dt.date(2023, 1, 9) if pack_id == "pmp" else dt.date(2020, 7, 1)
        custodial = audience != "healthcare"
        ev = Evaluation(
            pack, prepare(facts, name=pack.facts, custodial=custodial), day, custodial, record=True
        )
        with decimal.localcontext(EXACT):
            ev.run()
            eager = build_decision(ev, audience, pack.facts)
        lazy = evaluate(pack, facts, day, audience)
        assert isinstance(lazy.steps, LazySteps)
        assert lazy.to_dict() == eager.to_dict()
        assert lazy.explain() == eager.explain()
        assert tuple(lazy.steps) == tuple(eager.steps)
        for out in eager.outputs:
            assert lazy.explain(out) == eager.explain(out)
