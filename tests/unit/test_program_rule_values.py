"""A program's two-valued form hands its rule results over as one tuple, made a dict only when
read, where the order the rules are worked out in never depends on the facts: the dict is
the step-by-step evaluator's, in its order, and a pack whose outputs may stop at a rule (or
that a name read before its turn may reach) keeps each result in the dict as it goes."""

from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path
from typing import Any

import pytest

from engine.api import load
from engine.evaluation import program as program_module
from engine.evaluation.evaluate import Evaluation, select_version
from engine.evaluation.program import Program
from engine.language.runtime import EXACT
from engine.packs.facts_schema import prepare, read_facts_file
from engine.tools.population import Population

ROOT = Path(__file__).resolve().parents[2]
PACKS = load(ROOT / "policies")
PROBES = load(ROOT / "tests" / "data" / "program")
DAY = dt.date(2020, 7, 20)


def two_valued(pack: Any, day: dt.date, custodial: bool, monkeypatch: Any) -> Program:
    """The pack's program written in line, its two-valued form made."""
    monkeypatch.setattr(program_module, "INLINE_AFTER", 0)
    found = Program(pack, select_version(pack, day, None), custodial)
    found._known(found._run[1])
    return found


@pytest.mark.parametrize("custodial", [True, False])
def test_key_work_rule_results_come_as_one_tuple(
    custodial: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    pack = PACKS["keywork_edm"]
    found = two_valued(pack, DAY, custodial, monkeypatch)
    assert found._run[1].rule_ids is not None
    handed = 0
    examples = [read_facts_file(p) for p in sorted((ROOT / "examples" / "prisoners").glob("*"))]
    generated = Population(seed=3, schema=pack.facts).documents(30, ("prisoner", "establishment"))
    for facts in [*examples, *(facts for _, _, facts in generated)]:
        prepared = prepare(facts, "<facts>", pack.facts, custodial)
        with decimal.localcontext(EXACT):
            try:
                ev = found.run(prepared, DAY)
            except Exception:  # noqa: BLE001  (an error: the interpreter's, compared elsewhere)
                continue
            want = Evaluation(pack, prepared, DAY, custodial, record=False)
            want.run()
        if "rule_values" in ev.__dict__:  # (else it gave up: the three-valued form decided)
            handed += 1
            assert "rule_results" not in ev.__dict__  # (not made until read)
        assert list(ev.rule_results.items()) == list(want.rule_results.items())
        assert ev.rule_results is ev.rule_results  # made once, kept
    assert handed > 0


def test_outputs_that_may_stop_at_a_rule_keep_the_dict(monkeypatch: pytest.MonkeyPatch) -> None:
    """An output of `combine: first` or `any` leaves the rules after the one it stops at to
    their turn, so the order depends on the facts: such a pack's results stay a dict."""
    pack = PROBES["program_combine"]
    day = pack.versions[-1].effective_from
    found = two_valued(pack, day, True, monkeypatch)
    assert found._run[1].rule_ids is None
    assert not found._rules_in_order(True)
    assert not found._rules_in_order(False)  # (nor ever the three-valued form)
