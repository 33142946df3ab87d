"""What a decision shares and what it owns: parts fixed by the pack are one immutable object,
everything a caller can change is a copy of its own, and an evaluation's state is freed as
soon as it is dropped."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import gc
from pathlib import Path
from typing import Any

import pytest

import engine
from engine.evaluation.program import program
from engine.packs.facts_schema import read_facts_file
from tests.unit.national_packs import national

ROOT = Path(__file__).resolve().parents[2]
AS_OF = dt.date(2020, 7, 1)


def _examples() -> list[dict[str, Any]]:
    return [read_facts_file(p) for p in sorted((ROOT / "examples" / "prisoners").glob("*.yaml"))]


def test_an_evaluation_leaves_no_cycles_for_the_collector() -> None:
    pack = national()["keywork_edm"]
    docs = _examples()
    for facts in docs:
        engine.evaluate(pack, facts, AS_OF)  # programs and plans made once, before counting
    gc.collect()
    gc.disable()
    try:
        for facts in docs * 5:
            engine.evaluate(pack, facts, AS_OF)
            engine.evaluate(pack, facts, AS_OF, audience="healthcare")
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_fixed_obligations_are_shared_frozen_and_equal_to_ones_built_afresh() -> None:
    pack = national()["keywork_edm"]
    facts = _examples()[1]
    first = engine.evaluate(pack, facts, AS_OF)
    second = engine.evaluate(pack, copy.deepcopy(facts), AS_OF)
    assert first == second
    shared = [
        (a, b)
        for a, b in zip(first.obligations, second.obligations, strict=True)
        if a.due is None and a.frequency is None and not a.record
    ]
    assert shared, "the example applies an obligation with nothing that varies"
    for a, b in shared:
        assert a is b
        assert a == dataclasses.replace(a)  # the same fields as one made by its constructor
        with pytest.raises(dataclasses.FrozenInstanceError):
            a.title = "changed"  # type: ignore[misc]


def test_what_a_caller_can_change_is_its_own() -> None:
    pack = national()["keywork_edm"]
    facts = _examples()[1]
    first = engine.evaluate(pack, facts, AS_OF)
    for value in first.outputs.values():
        if isinstance(value, dict):
            value["changed"] = True
        elif isinstance(value, list):
            value.append("changed")
    for ob in first.obligations:
        for record in ob.record:
            record["changed"] = True
        if isinstance(ob.frequency, dict):
            ob.frequency["changed"] = True
    again = engine.evaluate(pack, copy.deepcopy(facts), AS_OF)
    assert "changed" not in repr(again.outputs)
    assert "changed" not in repr([(o.record, o.frequency) for o in again.obligations])


def test_kept_table_rows_give_the_decision_matched_afresh() -> None:
    pack = national()["keywork_edm"]
    docs = _examples()
    kept = [engine.evaluate(pack, facts, AS_OF).to_dict() for facts in docs]
    prog = program(pack, AS_OF, True, None)
    for match in prog._matches.values():
        match.found.clear()
    assert [engine.evaluate(pack, facts, AS_OF).to_dict() for facts in docs] == kept
    assert any(match.found for match in prog._matches.values())
