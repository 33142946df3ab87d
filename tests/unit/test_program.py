"""A pack's compiled program decides exactly as the step-by-step evaluator: on generated facts
for every pack and audience, the same decision field by field, the same steps and explanation,
and the same error when there is one."""

from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path
from typing import Any

import pytest

from engine.api import evaluate, load
from engine.evaluation import program as program_module
from engine.evaluation.decision import build_decision
from engine.evaluation.evaluate import Evaluation
from engine.evaluation.program import program
from engine.language.runtime import EXACT
from engine.packs.facts_schema import prepare
from engine.problems import EvaluationError, FactsError
from engine.tools.population import Population

ROOT = Path(__file__).resolve().parents[2]
PACKS = load(ROOT / "policies")
# packs built to try every way of passing healthcare-only facts on (released outputs, errors
# in healthcare-only items), and to combine rules every way (`any`, `first`, `collect`)
PROBES = {**load(ROOT / "tests" / "data" / "ntk"), **load(ROOT / "tests" / "data" / "program")}
DOCS = 120
ROOTS = ("prisoner", "establishment")


def interpreted(pack: Any, facts: dict[str, Any], day: dt.date, audience: str) -> Any:
    """The decision the step-by-step evaluator makes (the path `evaluate` took before)."""
    custodial = audience != "healthcare"
    prepared = prepare(facts, "<facts>", pack.facts, custodial)
    ev = Evaluation(pack, prepared, day, custodial, record=False)
    with decimal.localcontext(EXACT):
        ev.run()
        return build_decision(ev, audience, pack.facts)


def states(pack: Any, facts: dict[str, Any], day: dt.date, audience: str) -> bool:
    """Whether the program leaves the evaluator's state: every name, table and rule result
    (unknowns equal by the facts they need, withheld ones the fixed marker)."""
    custodial = audience != "healthcare"
    prepared = prepare(facts, "<facts>", pack.facts, custodial)
    ev = Evaluation(pack, prepared, day, custodial, record=False)
    with decimal.localcontext(EXACT):
        ev.run()
        fast = program(pack, day, custodial, None).run(prepared, day)
    assert dict(fast.memo) == ev.memo
    assert dict(fast.rule_results) == ev.rule_results
    assert list(fast.rule_results) == list(ev.rule_results)  # worked out in the same order
    # (the names in any order: the two-valued run works each out after every name it reads,
    # and nothing reads the order they are kept in)
    return True


def outcome(make: Any, *args: Any) -> Any:
    """A decision, or the error's kind and message."""
    try:
        d = make(*args)
    except (EvaluationError, FactsError) as e:
        return ("error", type(e).__name__, str(e))
    except (OverflowError, ValueError, ArithmeticError) as e:
        return ("value error", type(e).__name__, str(e))
    return d


@pytest.fixture(params=["calls", "inline"])
def tier(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Programs of one tier: items calling their compiled expressions, or the expressions
    written in line (a program moves to it after INLINE_AFTER decisions)."""
    monkeypatch.setattr(program_module, "INLINE_AFTER", 1 if request.param == "inline" else 10**9)

    def fresh() -> None:
        for pack in (*PACKS.values(), *PROBES.values()):
            for key in [k for k in pack.derived if isinstance(k, tuple) and k[0] == "program"]:
                del pack.derived[key]

    fresh()
    yield request.param
    fresh()


@pytest.mark.parametrize("audience", ["custodial", "healthcare"])
@pytest.mark.parametrize("pack_id", sorted(PACKS) + sorted(PROBES))
def test_program_decides_as_the_evaluator(pack_id: str, audience: str, tier: str) -> None:
    pack = PACKS[pack_id] if pack_id in PACKS else PROBES[pack_id]
    decided = 0
    population = Population(seed=13 + n_of(pack_id), schema=pack.facts)
    # mostly documents of the two roots every pack reads (valid, so decided), then documents
    # of every root (some invalid: the same facts error both ways)
    docs = [*population.documents(DOCS, ROOTS), *population.documents(DOCS // 2)]
    for n, (_, day, facts) in enumerate(docs):
        want = outcome(interpreted, pack, facts, day, audience)
        got = outcome(evaluate, pack, facts, day, audience)
        if isinstance(want, tuple) or isinstance(got, tuple):
            assert got == want, f"document {n}"
            continue
        decided += 1
        assert got.to_dict() == want.to_dict(), f"document {n}"
        assert tuple(got.steps) == tuple(want.steps), f"document {n}"
        if n % 10 == 0:
            assert got.explain() == want.explain(), f"document {n}"
        assert states(pack, facts, day, audience), f"document {n}"
        assert program(pack, day, audience != "healthcare", None).inlined == (tier == "inline")
    assert decided > DOCS // 3  # most generated documents are decided, not errors


def n_of(pack_id: str) -> int:
    return sum(map(ord, pack_id))


@pytest.mark.parametrize("audience", ["custodial", "healthcare"])
def test_evaluate_many_decides_as_evaluate(audience: str) -> None:
    pack = PACKS["keywork_edm"]
    docs = [(day, facts) for _, day, facts in Population(seed=3).documents(DOCS, ROOTS)]
    given = dt.date(2020, 7, 20)
    many = PACKS.evaluate_many("keywork_edm", [facts for _, facts in docs], given, audience)
    for (_, facts), got in zip(docs, many, strict=True):
        assert got.to_dict() == evaluate(pack, facts, given, audience).to_dict()
    # without a date, each document's own as_of: a program per day
    dated = [{**facts, "as_of": day} for day, facts in docs if day >= dt.date(2020, 6, 1)]
    many = PACKS.evaluate_many("keywork_edm", dated, audience=audience)
    for facts, got in zip(dated, many, strict=True):
        assert got.to_dict() == interpreted(pack, facts, facts["as_of"], audience).to_dict()


def test_two_valued_run_decides_plain_facts_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    """On facts all given, the two-valued run decides without giving up or failing: names
    (a vocabulary among them) read inside a quantifier as the run's locals where it sets
    them, through the lookup where it does not (a vocabulary is never set in line)."""
    monkeypatch.setattr(program_module, "INLINE_AFTER", 1)
    pack = PROBES["program_inline"]
    for key in [k for k in pack.derived if isinstance(k, tuple) and k[0] == "program"]:
        del pack.derived[key]
    day = dt.date(2021, 3, 1)
    sessions = [{"date": dt.date(2021, 2, 1), "kind": "session", "minutes": 45, "regime_level": 2}]
    clinical = {"conditions": ["downs_syndrome"]}
    facts = {"prisoner": {"keywork": {"sessions": sessions * 3}, "clinical": clinical}}
    made = program(pack, day, False, None)
    prepared = prepare(facts, "<facts>", pack.facts, False)
    with decimal.localcontext(EXACT):
        for _ in range(3):
            made.run(prepared, day)
    day_parts = made._run[1]
    assert day_parts.known is not None and day_parts.tried >= 2
    assert day_parts.gave_up == 0
    assert outcome(evaluate, pack, facts, day, "healthcare").to_dict() == (
        interpreted(pack, facts, day, "healthcare").to_dict()
    )
