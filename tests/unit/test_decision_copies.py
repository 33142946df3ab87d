"""Decisions cross processes and caches: `copy.deepcopy`, `copy.copy` and pickling give an
equal decision (every field, the JSON and every explanation), still immutable, and no copy
shares a list or record a caller could change with the original."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import engine
from engine.evaluation.decision import Decision
from engine.language.runtime import NULL, WITHHELD, Unknown
from engine.packs.facts_schema import read_facts_file
from engine.problems import EvaluationError

ROOT = Path(__file__).resolve().parents[2]
PRISONERS = sorted((ROOT / "examples" / "prisoners").glob("*.yaml"))
DAYS = {"keywork_edm": dt.date(2020, 7, 1), "pmp": dt.date(2022, 11, 7)}


@pytest.fixture(scope="module")
def packs() -> engine.Packs:
    return engine.load(ROOT / "policies")


def _pickled(value: Any) -> Any:
    return pickle.loads(pickle.dumps(value))  # noqa: S301 - our own bytes


COPIES: dict[str, Callable[[Any], Any]] = {
    "deepcopy": copy.deepcopy,
    "copy": copy.copy,
    "pickle": _pickled,
}


def _decisions(packs: engine.Packs) -> list[Decision]:
    found = []
    for path in PRISONERS[:4]:
        facts = read_facts_file(path)
        for pack_id, day in DAYS.items():
            for audience in ("custodial", "healthcare"):
                try:
                    found.append(packs.evaluate(pack_id, facts, as_of=day, audience=audience))
                except EvaluationError:
                    continue
    return found


@pytest.mark.parametrize("how", sorted(COPIES))
def test_a_copied_decision_equals_the_original(packs: engine.Packs, how: str) -> None:
    decisions = _decisions(packs)
    assert {d.audience for d in decisions} == {"custodial", "healthcare"}
    assert {d.status for d in decisions} >= {"decided", "undetermined"}
    for decision in decisions:
        again = COPIES[how](decision)
        assert again == decision
        assert again.to_dict() == decision.to_dict()
        assert again.to_json_bytes() == decision.to_json_bytes()
        assert again.explain() == decision.explain()
        for name in [*decision.outputs, *decision.withheld][:6]:
            assert again.explain(name) == decision.explain(name)
        with pytest.raises(EvaluationError) as info:
            again.explain("no_such_output")
        assert info.value.code == "E-EXPLAIN-TARGET"
        with pytest.raises(dataclasses.FrozenInstanceError):
            again.status = "decided"  # type: ignore[misc]


def test_a_decision_copied_before_it_is_read_is_worked_out(packs: engine.Packs) -> None:
    # a decision's fields are worked out when first read: a copy taken first has them all
    facts = read_facts_file(PRISONERS[0])
    for how, make in COPIES.items():
        fresh = packs.evaluate("keywork_edm", facts, as_of=DAYS["keywork_edm"])
        again = make(fresh)
        assert again == packs.evaluate("keywork_edm", facts, as_of=DAYS["keywork_edm"]), how


def test_a_deep_copy_or_an_unpickled_decision_shares_nothing_changeable(
    packs: engine.Packs,
) -> None:
    for decision in _decisions(packs):
        before = decision.to_dict()
        for how in ("deepcopy", "pickle"):
            again = COPIES[how](decision)
            for value in again.outputs.values():
                if isinstance(value, dict):
                    value["changed"] = True
                elif isinstance(value, list):
                    value.append("changed")
            again.outputs["added"] = 1
            assert decision.to_dict() == before, how


def test_the_runtime_markers_stay_themselves() -> None:
    # the decided no-value and the withheld marker are compared by identity
    for how, make in COPIES.items():
        assert make(NULL) is NULL and make(WITHHELD) is WITHHELD, how
        other = Unknown(frozenset({"prisoner.acct"}))
        assert make(other) == other and make(other).paths == other.paths


def test_loaded_packs_copy_as_themselves_and_do_not_pickle(packs: engine.Packs) -> None:
    # packs are deeply immutable: a copy is the same object; pickling a pack or the loaded
    # packs is refused with the reason (a worker process loads them itself)
    for value in (packs, packs["pmp"]):
        assert copy.copy(value) is value
        assert copy.deepcopy(value) is value
        with pytest.raises(TypeError, match="engine.load"):
            pickle.dumps(value)
