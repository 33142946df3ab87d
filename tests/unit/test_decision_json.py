"""A decision's own JSON bytes are exactly its `to_dict()` serialised, whatever it holds."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import types
from pathlib import Path
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine.evaluation.decision import Decision
from engine.packs import model as M
from engine.packs.facts_schema import read_facts_file
from tests.unit.national_packs import national

ROOT = Path(__file__).resolve().parents[2]


def _same(d: Decision) -> None:
    whole = orjson.dumps(d.to_dict())
    assert d.to_json_bytes() == whole
    before, member, after = d.json_parts()
    assert before + member + after == whole
    assert orjson.loads(member) == d.to_dict()["interpretations"]


def test_every_example_for_every_audience_writes_its_to_dict() -> None:
    packs = national()
    docs = [read_facts_file(p) for p in sorted((ROOT / "examples" / "prisoners").glob("*.yaml"))]
    for pack_id in packs:
        for facts in docs:
            for audience in ("custodial", "healthcare"):
                for _ in range(2):  # the first writes the shared parts, the second reuses them
                    _same(engine.evaluate(packs[pack_id], facts, dt.date(2020, 7, 1), audience))


def _decision(**changes: Any) -> Decision:
    facts = read_facts_file(ROOT / "examples" / "prisoners" / "b3152kw_high_rosh_release.yaml")
    d = engine.evaluate(national()["keywork_edm"], facts, dt.date(2020, 7, 1))
    assert d.obligations and d.interpretations
    return dataclasses.replace(d, **changes)


def test_values_the_engine_converts_are_written_as_to_dict_writes_them() -> None:
    first = _decision().obligations[0]
    odd = dataclasses.replace(
        first,
        due=dt.date(2021, 2, 3),
        frequency={"count": decimal.Decimal("1.50"), "per": dt.timedelta(days=7)},
        record=(types.MappingProxyType({"system": "X"}), {"n": 1}),
        local=({"entry": "e1"},),
    )
    d = _decision(
        outputs={"a": decimal.Decimal("2.5"), "b": [dt.date(2020, 1, 1), 1], "c": {"k": None}},
        obligations=(odd, first),
        missing_facts=("x.y",),
        local_plan={"file": "plan.yaml", "entries": []},
    )
    _same(d)


def test_equal_but_different_citations_and_interpretations_are_each_written_afresh() -> None:
    d = _decision()
    first = d.obligations[0]
    cite = M.Citation(document="another document")
    changed = dataclasses.replace(first, cites=(cite,))
    again = _decision(obligations=(changed,), interpretations=tuple(d.interpretations[:1]))
    _same(d)
    _same(again)
    assert b"another document" in again.to_json_bytes()


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.text(min_size=1, max_size=5),
        st.recursive(
            st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=8),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner),
            max_leaves=6,
        ),
        max_size=4,
    ),
    st.lists(st.text(max_size=6), max_size=3).map(tuple),
)
def test_any_plain_outputs_and_missing_facts_are_written_as_to_dict(
    outputs: dict[str, Any], missing: tuple[str, ...]
) -> None:
    _same(_decision(outputs=outputs, missing_facts=missing, undetermined=missing))


def test_a_callers_changes_to_to_dict_stay_in_its_own_dict() -> None:
    d = _decision()
    first = d.to_dict()
    pristine = orjson.dumps(first)
    first["interpretations"][0]["citations"].clear()
    first["interpretations"][0]["id"] = "changed"
    first["obligations"][0]["citations"][0]["document"] = "changed"
    assert orjson.dumps(d.to_dict()) == pristine
    assert orjson.dumps(_decision().to_dict()) == pristine
    assert d.to_json_bytes() == pristine
