"""A decision's outputs, interpretations, missing facts and status are worked out when first
read: the decision is the same object to every reader, in every order, copied or pickled."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import pickle
import threading
from pathlib import Path

import pytest

from engine.api import evaluate, load
from engine.packs.facts_schema import read_facts_file

ROOT = Path(__file__).resolve().parents[2]
AS_OF = dt.date(2020, 7, 1)
DEFERRED = ("status", "outputs", "interpretations", "missing_facts", "undetermined")


@pytest.fixture(scope="module")
def pack():
    return load(ROOT / "policies")["keywork_edm"]


@pytest.fixture(scope="module")
def examples():
    return [read_facts_file(p) for p in sorted((ROOT / "examples" / "prisoners").glob("*.yaml"))]


def _fields(decision):
    return {f.name: getattr(decision, f.name) for f in dataclasses.fields(decision)}


@pytest.mark.parametrize("first", DEFERRED)
def test_any_field_read_first_gives_the_same_decision(pack, examples, first):
    for facts in examples:
        reference = evaluate(pack, copy.deepcopy(facts), AS_OF)
        expected = reference.to_dict()
        decision = evaluate(pack, copy.deepcopy(facts), AS_OF)
        getattr(decision, first)
        assert decision.to_dict() == expected
        assert decision == reference


def test_copy_and_pickle_carry_every_field_and_no_work(pack, examples):
    for facts in examples:
        decision = evaluate(pack, copy.deepcopy(facts), AS_OF)
        pickled = pickle.loads(pickle.dumps(dataclasses.replace(decision, steps=(), model=None)))
        copied = copy.copy(decision)
        assert "_pending" not in copied.__dict__
        assert "_pending" not in pickled.__dict__
        assert all(name in copied.__dict__ for name in DEFERRED)
        assert copied == decision
        assert pickled.to_dict() == decision.to_dict()


def test_unknown_attribute_is_an_attribute_error(pack, examples):
    decision = evaluate(pack, copy.deepcopy(examples[0]), AS_OF)
    with pytest.raises(AttributeError):
        decision.no_such_field  # noqa: B018
    assert not hasattr(decision, "_pending_work")


def _read_together(decision, readers: int = 4) -> list[object]:
    """The `outputs` each of several threads reads, all starting at once."""
    seen: list[object] = []
    barrier = threading.Barrier(readers)

    def read() -> None:
        barrier.wait()
        seen.append(decision.outputs)

    threads = [threading.Thread(target=read) for _ in range(readers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return seen


def test_threads_reading_a_new_decision_see_one_set_of_values(pack, examples):
    for _ in range(20):
        seen = _read_together(evaluate(pack, copy.deepcopy(examples[1]), AS_OF))
        assert len(seen) == 4
        assert all(s is seen[0] for s in seen)


def test_deferred_fields_are_worked_out_once(pack, examples):
    decision = evaluate(pack, copy.deepcopy(examples[0]), AS_OF)
    assert "_pending" in decision.__dict__
    outputs = decision.outputs
    assert "_pending" not in decision.__dict__
    assert decision.outputs is outputs
    assert _fields(decision)["status"] in ("decided", "undetermined")
