"""A field of a quantifier's element drawn from the facts is read as a fact is (unknown
exactly when absent or null), and a field of an element the expression built itself, which
may hold an unknown, is still tested for one: both give the evaluator's values."""

from __future__ import annotations

from typing import Any

import pytest

from engine.language.check import check
from engine.language.codegen import compile_checked
from engine.language.parse import parse
from engine.language.runtime import Unknown

from .language_scope import AS_OF, scope

SESSIONS = [
    [],
    [{"minutes": 40, "kind": "session", "date": "2022-06-14"}],
    [{"minutes": 10}, {}],
    [{"minutes": None, "kind": None}, {"minutes": 50}],
    [{"kind": "note", "minutes": 31}, {"date": None}],
]


def run(text: str, sessions: list[dict[str, Any]]) -> Any:
    checked = check(parse(text), scope())
    assert checked.errors == [], checked.errors
    return compiled_fn(checked)({"as_of": AS_OF, "p": {"sessions": sessions}}, {}.__getitem__)


def compiled_fn(checked: Any) -> Any:
    return compile_checked(checked).fn


def shown(value: Any) -> Any:
    return ("unknown", sorted(value.paths)) if isinstance(value, Unknown) else value


@pytest.mark.parametrize("sessions", SESSIONS)
@pytest.mark.parametrize(
    ("text", "want"),
    [
        (
            "any s in p.sessions: s.minutes > 30",
            lambda ss: _any([_gt(s.get("minutes"), 30) for s in ss]),
        ),
        (
            'count(s in p.sessions: s.kind == "session" and s.minutes >= 30)',
            lambda ss: _count(
                [_and(_eq(s.get("kind"), "session"), _ge(s.get("minutes"))) for s in ss]
            ),
        ),
        (
            "any r in map(s in p.sessions: {m: s.minutes}): r.m > 30",
            lambda ss: _any([_gt(s.get("minutes"), 30) for s in ss]),
        ),
    ],
)
def test_element_fields(text: str, want: Any, sessions: list[dict[str, Any]]) -> None:
    got = run(text, sessions)
    assert shown(got) == shown(want(sessions))
    # the same expression over elements the expression passes through `map` (read the
    # general way, as values that may be unknown) gives the same value, its unknowns
    # naming no fact path (a built list has none)
    built = run(text.replace("in p.sessions:", "in map(e in p.sessions: e):"), sessions)
    assert isinstance(built, Unknown) is isinstance(got, Unknown)
    if not isinstance(got, Unknown):
        assert built == got


def _gt(value: Any, limit: int) -> Any:
    return Unknown(frozenset({"p.sessions[].minutes"})) if value is None else value > limit


def _ge(value: Any) -> Any:
    return Unknown(frozenset({"p.sessions[].minutes"})) if value is None else value >= 30


def _eq(value: Any, want: str) -> Any:
    return Unknown(frozenset({"p.sessions[].kind"})) if value is None else value == want


def _and(a: Any, b: Any) -> Any:
    if a is False or b is False:
        return False
    if a is True and b is True:
        return True
    return Unknown(frozenset().union(*(v.paths for v in (a, b) if isinstance(v, Unknown))))


def _count(values: list[Any]) -> Any:
    pending = [v for v in values if isinstance(v, Unknown)]
    if pending:
        return Unknown(frozenset().union(*(v.paths for v in pending)))
    return sum(v is True for v in values)


def _any(values: list[Any]) -> Any:
    if any(v is True for v in values):
        return True
    pending = [v for v in values if isinstance(v, Unknown)]
    if pending:
        return Unknown(frozenset().union(*(v.paths for v in pending)))
    return False


@pytest.mark.parametrize(
    ("text", "given", "want"),
    [
        ("known(p.z)", {}, False),
        ("known(p.z)", {"z": None}, False),
        ("known(p.z)", {"z": "2022-01-01"}, True),
        ("is_none(p.z)", {}, ("unknown", ["p.z"])),
        ("is_none(p.z)", {"z": None}, True),  # a null the schema marks none: decided
        ("is_none(p.z)", {"z": "2022-01-01"}, False),
        ("is_none(p.n)", {"n": None}, ("unknown", ["p.n"])),
        ("is_none(p.r.k)", {"r": {}}, ("unknown", ["p.r.k"])),
        ("known(p.r.k)", {"r": {"k": 0}}, True),
        ("count(s in p.sessions: is_none(s.date))", {"sessions": [{"date": "2022-06-01"}]}, 0),
        (
            "count(s in p.sessions: is_none(s.date))",
            {"sessions": [{"date": "2022-06-01"}, {}]},
            ("unknown", ["p.sessions[].date"]),
        ),
        ("count(s in p.sessions: known(s.date))", {"sessions": [{"date": None}, {}]}, 0),
    ],
)
def test_known_and_is_none_of_a_field_read_raw(text: str, given: dict[str, Any], want: Any) -> None:
    """`known` and `is_none` of a field are written as a test of the field's read: the values
    the functions give (an absent or null field unknown, a null the schema marks none decided)."""
    checked = check(parse(text), scope())
    got = compiled_fn(checked)({"as_of": AS_OF, "p": given}, {}.__getitem__)
    assert shown(got) == want
