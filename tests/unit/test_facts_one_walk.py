"""Preparing facts in one walk (the compiled check converting as it goes) gives exactly what
checking and then converting in a second walk gives: the same verdict, the same values of the
same classes with keys in the same order, for both audiences, and nothing shared with the
document given (a caller's later change to it never reaches the prepared facts)."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.packs.facts_schema import (
    _compiled_converting,
    _prepare_fast,
    _prepare_two_walks,
    read_facts_file,
)
from engine.tools.population import Population

from .test_facts_validator import SOME_VALUES, mutated

ROOT = Path(__file__).resolve().parents[2]
DOCS = [
    doc
    for doc in (read_facts_file(f) for f in sorted((ROOT / "examples").rglob("*.yaml")))
    if isinstance(doc, dict)
]


def _same(a: Any, b: Any, path: str = "$") -> None:
    assert type(a) is type(b), path
    if isinstance(a, dict):
        assert list(a) == list(b), path
        for key in a:
            _same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{path}[{i}]")
    else:
        assert a == b or (a != a and b != b), path


def _containers(value: Any) -> set[int]:
    if isinstance(value, dict):
        return {id(value)}.union(*(_containers(v) for v in value.values()))
    if isinstance(value, list):
        return {id(value)}.union(*(_containers(v) for v in value))
    return set()


def _agree(doc: dict[str, Any]) -> bool:
    """Both ways agree on `doc` for both audiences; whether the quick path took it."""
    took = False
    for custodial in (False, True):
        one = _prepare_fast(copy.deepcopy(doc), "facts", custodial)
        two = _prepare_two_walks(copy.deepcopy(doc), "facts", custodial)
        assert (one is None) == (two is None)
        if one is not None:
            _same(one, two)
            given_doc = copy.deepcopy(doc)
            prepared = _prepare_fast(given_doc, "facts", custodial)
            assert not _containers(prepared) & _containers(given_doc)
            took = True
    return took


def test_the_facts_schema_is_prepared_in_one_walk() -> None:
    assert _compiled_converting("facts") is not None


def test_examples_and_generated_documents_agree() -> None:
    assert sum(_agree(doc) for doc in DOCS) >= 6  # the quick path is taken, not only refused
    for _, _, doc in Population(seed=11).documents(300):
        _agree(doc)


_VALUES = st.one_of(
    SOME_VALUES,
    st.just({"a": Decimal("2.5"), "b": dt.date(2020, 1, 1)}),
    st.just([{"date": "2020-01-01", "kind": "session", "minutes": 30}]),
)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10_000), st.lists(st.tuples(st.integers(0, 10_000), _VALUES), max_size=3))
def test_mutated_documents_agree(pick: int, changes: list[tuple[int, Any]]) -> None:
    doc = mutated(DOCS[pick % len(DOCS)], changes, extra_every=5)
    _agree(doc)
