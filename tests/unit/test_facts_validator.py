"""The compiled facts check agrees with the full JSON Schema validator: it never passes a
document the validator rejects, and its prepared facts equal the slow path's."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.language.convert import to_json
from engine.packs.facts_schema import (
    MAX_DIGITS,
    MAX_STRING,
    _compiled,
    _compiled_with_limits,
    _prepare_fast,
    _scan,
    convert,
    read_facts_file,
    root_types,
    settle_nulls,
    validate_facts,
)

ROOT = Path(__file__).resolve().parents[2]


def _slow(data: dict[str, Any]) -> dict[str, Any] | None:
    """The full validator's answer: the prepared facts, or None when the document is invalid."""
    if validate_facts(data):
        return None
    types = root_types()
    out: dict[str, Any] = {}
    for key, value in to_json(data, exact_numbers=True).items():
        if key == "as_of":
            out[key] = dt.date.fromisoformat(value) if isinstance(value, str) else value
        else:
            out[key] = convert(value, types[key]) if key in types else value
    return settle_nulls(out)  # a null its sibling makes not known is left out, as if absent


def _documents() -> list[dict[str, Any]]:
    files = sorted((ROOT / "examples").rglob("*.yaml"))
    docs = []
    for f in files:
        data = read_facts_file(f)
        if set(data) <= {"as_of", "prisoner", "establishment", "action_plan"}:
            docs.append(data)
    return docs


DOCS = _documents()


def test_examples_take_the_fast_path_with_the_same_facts() -> None:
    assert len(DOCS) >= 6
    for doc in DOCS:
        fast = _prepare_fast(doc, "facts")
        assert fast is not None
        assert fast == _slow(doc)


def test_an_invalid_document_never_passes() -> None:
    doc = copy.deepcopy(DOCS[0])
    doc["establishment"]["regime_level"] = 9
    assert _slow(doc) is None
    assert _prepare_fast(doc, "facts") is None


# values a test may put anywhere in a facts document, right or wrong for the schema there
SOME_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 400),
    st.sampled_from(["", "open", "HIGH", "weekly", "2020-02-30", "2020-07-01", "x" * 5]),
    st.dates(dt.date(2019, 1, 1), dt.date(2022, 1, 1)),
    st.decimals(min_value=-2, max_value=500, places=1, allow_nan=False),
    st.floats(-2, 5, allow_nan=False),
    st.just([]),
    st.just({}),
)

_VALUES = st.one_of(
    SOME_VALUES,
    st.just(("a",)),
    st.just([{"date": "2020-01-01", "kind": "session", "minutes": 30}]),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _paths(v, (*prefix, i))
    return found


def mutated(doc: Any, changes: list[tuple[int, Any]], extra_every: int = 7) -> Any:
    """A copy of `doc` with each change applied: `(where, value)` puts `value` at the node
    `where` picks, or, for every `extra_every`-th `where` inside a record, under a new key
    the schema may not allow."""
    doc = copy.deepcopy(doc)
    for where, value in changes:
        paths = _paths(doc)
        path = paths[where % len(paths)]
        target = doc
        for part in path[:-1]:
            target = target[part]
        if where % extra_every == 0 and isinstance(target, dict):
            target[f"extra_{where}"] = copy.deepcopy(value)
        else:
            target[path[-1]] = copy.deepcopy(value)
    return doc


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10_000), st.lists(st.tuples(st.integers(0, 10_000), _VALUES), max_size=3))
def test_mutated_documents_agree_with_the_full_validator(
    pick: int, changes: list[tuple[int, Any]]
) -> None:
    doc = mutated(DOCS[pick % len(DOCS)], changes)
    fast = _prepare_fast(doc, "facts")
    if fast is not None:
        assert fast == _slow(doc)


_OVER_LIMITS = st.one_of(
    _VALUES,
    st.just(10**MAX_DIGITS),
    st.just(-(10**MAX_DIGITS)),
    st.just("x" * (MAX_STRING + 1)),
    st.sampled_from([float("nan"), float("inf"), float("-inf")]),
    st.just(dt.datetime(2020, 1, 1, 12)),
    st.just({"deep": [[[[[[[[1]]]]]]]]}),
)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 10_000),
    st.lists(st.tuples(st.integers(0, 10_000), _OVER_LIMITS), max_size=3),
)
def test_the_one_walk_check_passes_only_what_the_check_and_the_scan_pass(
    pick: int, changes: list[tuple[int, Any]]
) -> None:
    """Schema and limits checked in one walk: never passes what the schema check or the
    limits scan would not, and says so when the document holds a Decimal."""
    doc = mutated(DOCS[pick % len(DOCS)], changes)
    one, check = _compiled_with_limits("facts"), _compiled("facts")
    assert one is not None and check is not None
    passed = one(doc)
    if passed:
        assert check(doc)
        assert not _scan(doc) & 1
        assert (passed == 2) == bool(_scan(doc) & 2)


def test_every_example_passes_the_one_walk_check() -> None:
    one = _compiled_with_limits("facts")
    assert one is not None
    for doc in DOCS:
        assert one(doc) is True
