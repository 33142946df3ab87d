"""The quick parts of preparing facts agree with the slow ones they stand in for: the limits
scan never passes what `_limits` would report, and each type's converter gives what
`_convert_given` gives, on generated documents of every facts schema."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.packs.facts_schema import (
    MAX_DEPTH,
    _convert_given,
    _converter,
    _limits,
    _scan,
    root_types,
)
from engine.problems import Problem
from engine.tools.population import Population

_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**31), max_value=10**31),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
    st.dates(),
    st.text(max_size=5),
    st.sampled_from(["x" * 100_001, "2020-01-01"]),
)
_values = st.recursive(
    _leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=20,
)


def _nested(value: Any, depth: int) -> Any:
    for _ in range(depth):
        value = {"a": value}
    return value


@settings(max_examples=300, deadline=None)
@given(_values, st.sampled_from([0, MAX_DEPTH - 2, MAX_DEPTH + 1]))
def test_the_scan_passes_only_what_limits_would(value: Any, depth: int) -> None:
    value = _nested(value, depth)
    found: list[Problem] = []
    _limits(value, "$", "<facts>", 0, found)
    if found:
        assert _scan(value) & 1  # over the limits: the full path words the problem


def test_the_scan_passes_ordinary_documents() -> None:
    for _, _, doc in Population(seed=5).documents(50, ("prisoner", "establishment")):
        assert not _scan(doc) & 1


def test_converters_give_what_the_general_conversion_gives() -> None:
    for name in ("facts",):
        types = root_types(name)
        for _, _, doc in Population(seed=8, schema=name).documents(200):
            for key, value in doc.items():
                if key in types:
                    assert _converter(types[key])(value) == _convert_given(value, types[key])
