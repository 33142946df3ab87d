"""Fuzzing facts: documents over the whole facts contract, then damaged the ways a careless or
hostile writer would (wrong types, unknown fields, NaN, huge numbers, deep nesting, long text,
duplicate keys), read as JSON text, validated and evaluated against every pack for both
audiences. Each gives a decision or the engine's own error with a code, never another
exception; and a custodial evaluation never fails because of the healthcare-only part."""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import engine
from engine.packs.facts_schema import parse_json
from engine.problems import EvaluationError, FactsError

from ..property.ntk_strategies import whole_contract
from .harness import SETTINGS, Timer

ROOT = Path(__file__).resolve().parents[2]


@cache
def packs() -> dict[str, Any]:
    loaded, _ = engine.check_paths([ROOT / "policies"])
    return loaded


BAD_VALUES = st.sampled_from(
    [
        float("nan"),
        float("inf"),
        10**40,
        -(10**40),
        "9999-12-31",
        "0001-01-01",
        "2020-02-30",
        "x" * 2000,
        [],
        {},
        [[[[[]]]]],
        {"a": {"b": {"c": {}}}},
        True,
        None,
        "",
        -1,
        1.5,
    ]
)


def damage(doc: Any, path: list[int], bad: Any) -> Any:
    """`doc` with the node that `path` picks (by position) replaced by `bad`."""
    if not path or not isinstance(doc, dict | list) or not doc:
        return bad
    if isinstance(doc, dict):
        keys = list(doc)
        k = keys[path[0] % len(keys)]
        return {**doc, k: damage(doc[k], path[1:], bad)}
    i = path[0] % len(doc)
    return doc[:i] + [damage(doc[i], path[1:], bad)] + doc[i + 1 :]


def text_of(doc: Any, trick: int) -> str:
    text = json.dumps(doc, default=str)
    if trick == 1:  # a key given twice
        return text.replace("{", '{"dup": 1, "dup": 2, ', 1) if text.startswith("{") else text
    if trick == 2:  # nested deeper than any fact
        return '{"prisoner": ' + "[" * 200 + "]" * 200 + "}"
    if trick == 3:
        return text[: len(text) // 2]
    return text


def decide(pack_id: str, facts: Any, as_of: dt.date, audience: str) -> str:
    try:
        d = engine.evaluate(packs()[pack_id], facts, as_of, audience)
    except FactsError as e:
        assert all(p.code.startswith("E-") for p in e.problems)
        return e.problems[0].code
    except EvaluationError as e:
        assert e.code.startswith("E-")
        return e.code
    json.dumps(d.to_dict())
    d.explain()
    return "ok"


@SETTINGS
@given(
    doc=whole_contract(),
    path=st.lists(st.integers(0, 20), max_size=5),
    bad=BAD_VALUES,
    damaged=st.booleans(),
    trick=st.integers(0, 6),
    day=st.dates(dt.date(2019, 1, 1), dt.date(2024, 12, 31)),
)
def test_facts_read_validate_and_evaluate_totally(
    doc: dict[str, Any], path: list[int], bad: Any, damaged: bool, trick: int, day: dt.date
) -> None:
    facts: Any = damage(doc, path, bad) if damaged else doc
    with Timer("facts"):
        try:
            data = parse_json(text_of(facts, trick), "fuzz.json")
        except FactsError as e:
            assert all(p.code.startswith("E-") for p in e.problems)
            return
        for pack_id in sorted(packs()):
            decide(pack_id, data, day, "custodial")
            decide(pack_id, data, day, "healthcare")


# Facts that once broke reading or evaluation stay in tests/corpus/facts (checked by
# tests/unit/test_later_stage_corpus.py): duplicate keys, 900-deep nesting, NaN, 5,000 digits.
