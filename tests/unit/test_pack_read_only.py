"""A loaded pack is read-only all the way down: nothing a caller does to one changes a decision."""

from __future__ import annotations

import copy
import datetime as dt
import pickle
from pathlib import Path

import pytest

import engine
from engine.packs import model as M
from engine.packs.facts_schema import read_facts_file

ROOT = Path(__file__).resolve().parents[2]
FACTS = ROOT / "examples" / "prisoners" / "a2041kw_open_acct.yaml"
DAY = dt.date(2020, 7, 1)


@pytest.fixture(scope="module")
def packs() -> engine.Packs:
    return engine.load(ROOT / "policies")


def _record_parameter(pack: M.Pack) -> M.ParameterValue:
    for param in pack.parameters.values():
        for pv in param.values:
            if isinstance(pv.value, dict):
                return pv
    raise AssertionError("the pack has no record-valued parameter")


def test_parameter_values_refuse_changes_and_decisions_stay_the_same(packs: engine.Packs) -> None:
    pack = packs["keywork_edm"]
    facts = read_facts_file(FACTS)
    before = packs.evaluate("keywork_edm", facts, as_of=DAY).to_dict()
    pv = _record_parameter(pack)
    key = next(iter(pv.value))
    with pytest.raises(TypeError, match="read-only"):
        pv.value[key] = 99
    with pytest.raises(TypeError, match="read-only"):
        pv.value.update({key: 99})
    with pytest.raises(TypeError, match="read-only"):
        del pv.value[key]
    assert packs.evaluate("keywork_edm", facts, as_of=DAY).to_dict() == before


def test_obligation_records_vocabulary_extras_and_examples_refuse_changes(
    packs: engine.Packs,
) -> None:
    pack = packs["pmp"]
    records = [r for rule in pack.rules if rule.obligation for r in rule.obligation.records]
    assert records, "the pack has obligations with records"
    with pytest.raises(TypeError, match="read-only"):
        records[0]["where"] = "elsewhere"
    extras = [v.extra for vocab in pack.vocabulary.values() for v in vocab.values if v.extra]
    for extra in extras[:1]:
        with pytest.raises(TypeError, match="read-only"):
            extra.clear()
    for case in pack.tests[:1]:
        with pytest.raises(TypeError, match="read-only"):
            case["name"] = "renamed"


def test_frozen_lists_refuse_every_change() -> None:
    value = M.frozen({"a": [1, {"b": [2]}]})
    inner = value["a"]
    for change in (
        lambda: inner.append(3),
        lambda: inner.extend([3]),
        lambda: inner.insert(0, 3),
        lambda: inner.pop(),
        lambda: inner.remove(1),
        lambda: inner.clear(),
        lambda: inner.sort(),
        lambda: inner.reverse(),
        lambda: inner.__setitem__(0, 3),
        lambda: inner.__delitem__(0),
        lambda: inner[1]["b"].append(3),
    ):
        with pytest.raises(TypeError, match="read-only"):
            change()
    assert value == {"a": [1, {"b": [2]}]}


def test_a_deep_copy_is_plain_and_changeable_and_pickling_keeps_it_read_only() -> None:
    value = M.frozen({"a": [1, {"b": [2]}]})
    plain = copy.deepcopy(value)
    assert type(plain) is dict and type(plain["a"]) is list and type(plain["a"][1]) is dict
    plain["a"][1]["b"].append(3)
    assert value["a"][1]["b"] == [2]
    again = pickle.loads(pickle.dumps(value))
    assert again == value and isinstance(again, M.FrozenDict)
    assert isinstance(again["a"], M.FrozenList)
    with pytest.raises(TypeError, match="read-only"):
        again["a"].append(3)


def test_a_decision_never_hands_out_the_packs_own_values(packs: engine.Packs) -> None:
    facts = read_facts_file(FACTS)
    decision = packs.evaluate("keywork_edm", facts, as_of=DAY)
    for value in decision.outputs.values():
        assert not isinstance(value, M.FrozenDict | M.FrozenList)
    for ob in decision.obligations:
        for record in ob.record:
            assert type(record) is dict
    parameters = [s for s in decision.steps if s.kind == "parameter"]
    assert any(type(s.value) is dict for s in parameters)
    for step in parameters:
        assert not isinstance(step.value, M.FrozenDict | M.FrozenList)


def test_the_task_graph_and_plans_handed_out_are_the_callers_own(packs: engine.Packs) -> None:
    pack = packs["omu_edm"]
    before = pack.plan(stage=3)
    graph = pack.task_graph
    first = before[0]["id"]
    graph.remove_node(first)
    before[1]["stages"].append(99)
    before[1]["weighting"] = 0
    assert pack.plan(stage=3) == pack.plan(stage=3)
    again = pack.plan(stage=3)
    assert again[0]["id"] == first and 99 not in again[1]["stages"]
    assert again[1]["weighting"] != 0
    assert first in pack.task_graph
