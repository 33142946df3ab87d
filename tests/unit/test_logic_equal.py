"""Whether two disjunctions of conditions decide alike (engine.language.logic_equal), held to
what the compiled expressions decide: a difference it finds is one the runtime shows, and
conditions it calls alike decide alike on every facts document."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.language.logic_equal import MAX_ATOMS, TooManyAtoms, difference
from engine.language.parse import parse

from .test_language_properties import SETTINGS, run

ATOMS = ("p.a", "p.b", "p.c")


def _conditions(depth: int) -> st.SearchStrategy[str]:
    leaves = st.sampled_from([*ATOMS, "true", "false"])
    if depth == 0:
        return leaves
    inner = _conditions(depth - 1)
    return st.one_of(
        leaves,
        st.builds(lambda x: f"not ({x})", inner),
        st.builds(lambda x, y: f"({x}) and ({y})", inner, inner),
        st.builds(lambda x, y: f"({x}) or ({y})", inner, inner),
        st.builds(lambda x, y, z: f"if {x} then ({y}) else ({z})", inner, inner, inner),
    )


def _class(value: Any) -> bool | None:
    return value if value is True or value is False else None


def _decides(texts: list[str], facts: dict[str, Any]) -> bool | None:
    """The disjunction of `texts` on `facts`, as true, false or neither."""
    if not texts:
        return False
    return _class(run(" or ".join(f"({t})" for t in texts), facts))


# each atom true, false, recorded null or absent: null and absent are both "neither"
DOCUMENTS = [
    {k: v for k, v in zip("abc", values, strict=True) if v != "absent"}
    for values in itertools.product([True, False, None, "absent"], repeat=3)
]


@SETTINGS
@given(st.lists(_conditions(3), max_size=3), st.lists(_conditions(3), max_size=3))
def test_alike_is_alike_on_every_document_and_a_difference_is_shown(
    first: list[str], second: list[str]
) -> None:
    found = difference([parse(t) for t in first], [parse(t) for t in second])
    decided = [(_decides(first, d), _decides(second, d)) for d in DOCUMENTS]
    if found is None:
        assert all(one is two for one, two in decided), (first, second)
        return
    facts = {
        text[2:]: value for text, value in found.atoms if value is not None
    }  # `p.a` -> `a`; neither -> absent
    assert (_decides(first, facts), _decides(second, facts)) == (found.first, found.second)
    assert found.first is not found.second


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("p.a and p.b", "p.b and p.a"),
        ("p.a or (p.a and p.b)", "p.a"),
        ("not (p.a or p.b)", "not p.a and not p.b"),
        ("if p.a then p.b else p.c", "if not p.a then p.c else p.b"),
        ("(p.n > 3) and p.a", "p.a and (p.n  >  3)"),
    ],
)
def test_logically_equal_conditions_are_alike(first: str, second: str) -> None:
    assert difference([parse(first)], [parse(second)]) is None


def test_excluded_middle_does_not_hold_for_what_is_not_known() -> None:
    found = difference([parse("p.a or not p.a")], [parse("true")])
    assert found is not None and found.atoms == (("p.a", None),)
    assert (found.first, found.second) == (None, True)


def test_an_if_on_what_is_not_known_is_not_known_where_and_would_decide() -> None:
    found = difference([parse("if p.a then p.b else false")], [parse("p.a and p.b")])
    assert found is not None and found.atoms == (("p.a", None), ("p.b", False))
    assert (found.first, found.second) == (None, False)


def test_comparisons_are_parts_as_written() -> None:
    found = difference([parse("p.n > 3")], [parse("not (p.n <= 3)")])
    assert found is not None and [text for text, _ in found.atoms] == ["p.n > 3", "p.n <= 3"]


def test_a_disjunction_is_compared_whole() -> None:
    assert difference([parse("p.a"), parse("p.b")], [parse("p.b or p.a")]) is None
    assert difference([], [parse("false")]) is None


def test_too_many_parts_are_not_worked_out() -> None:
    names = " and ".join(f"p.n > {i}" for i in range(MAX_ATOMS + 1))
    with pytest.raises(TooManyAtoms):
        difference([parse(names)], [parse(names)])
