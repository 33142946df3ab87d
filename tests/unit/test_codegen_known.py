"""An expression's two-valued form gives up, fails, or gives exactly the three-valued form's
value: on every expression that uses each function and on random Kleene formulas, over
random facts (absent, null and present), as a whole value that may be unknown (`tail`) and
as one that must be known."""

from __future__ import annotations

import datetime as dt
import decimal
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from engine.language.check import check
from engine.language.codegen import GLOBALS, compile_checked
from engine.language.codegen_known import inline_known, may_give_unknown
from engine.language.parse import parse
from engine.language.runtime import EXACT, GaveUp, Unknown, give_up

from .language_scope import scope
from .test_language_properties import EXPRESSIONS, dates, facts, formulas

SCOPE = scope()
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MORE = [
    # values that may flow out unknown: a branch, a record's field, a list's item, map's value
    "if p.a then p.n else null",
    "{k: p.n, d: p.z, s: p.s}",
    "[p.n, p.m]",
    "map(s in p.sessions: s.minutes)",
    "len(map(s in p.sessions: {m: s.minutes, k: s.kind}))",
    "count(s in map(s in p.sessions: {m: s.minutes}): s.m > 30)",
    "is_none(p.z) and not is_none(p.d)",
    "known(p.z) or p.z == as_of",
    "coalesce(p.z, p.d, as_of) < as_of",
    'len(filter(s in p.sessions: s.kind == "session" and s.minutes > p.n))',
    "(any s in p.sessions: s.minutes > 10) and (all s in p.sessions: known(s.date))",
    "p.r.k + 1 > p.n",
]


@cache
def forms(text: str, tail: bool) -> tuple[Any, Any]:
    """The expression's three-valued function, and its two-valued form as a function."""
    checked = check(parse(text), SCOPE)
    assert checked.errors == [], (text, checked.errors)
    made = inline_known(checked, "0_", lambda name: f"N({name!r})", lambda name: False, tail)
    lines = ["def _expr(F, N):"]
    lines += [f"    {v} = {code}" for v, code in sorted(made.hoist.items())]
    lines.append(f"    return {made.body}")
    namespace = {**GLOBALS, **made.consts, "_gu": give_up}
    exec("\n".join(lines), namespace)  # noqa: S102  (the code under test)
    return compile_checked(checked).fn, namespace["_expr"]


def agree(text: str, f: dict[str, Any], as_of: dt.date, tail: bool) -> str:
    """How the two-valued form ended: gave up, failed, or gave the three-valued value."""
    three, two = forms(text, tail)
    F = {"as_of": as_of, "p": f}
    with decimal.localcontext(EXACT):
        try:
            value = two(F, lambda name: None)
        except GaveUp:
            return "gave up"
        except Exception:  # noqa: BLE001  (left to the three-valued form, which decides)
            return "failed"
        want = three(F, lambda name: None)  # (never fails where the two-valued form did not)
    assert type(value) is type(want) and value == want, (text, f)
    if isinstance(value, decimal.Decimal):
        assert str(value) == str(want), text
    if not tail:
        assert value.__class__ is not Unknown or may_give_unknown(forms_checked(text)), text
    return "decided"


@cache
def forms_checked(text: str) -> Any:
    return check(parse(text), SCOPE)


@pytest.mark.parametrize("tail", [True, False])
@SETTINGS
@given(facts, dates)
def test_two_valued_expressions_agree(tail: bool, f: dict[str, Any], as_of: dt.date) -> None:
    for text in [*EXPRESSIONS, *MORE]:
        agree(text, f, as_of, tail)


@pytest.mark.parametrize("tail", [True, False])
@SETTINGS
@given(formulas(), facts)
def test_two_valued_formulas_agree(tail: bool, text: str, f: dict[str, Any]) -> None:
    agree(text, f, dt.date(2022, 6, 15), tail)


def test_plain_facts_are_decided_without_giving_up() -> None:
    """On facts all given, the two-valued form decides each expression itself."""
    f = {
        "a": True,
        "b": False,
        "c": True,
        "n": 3,
        "m": 4,
        "x": decimal.Decimal("1.50"),
        "y": decimal.Decimal("2"),
        "d": dt.date(2020, 1, 31),
        "e": dt.date(2021, 2, 28),
        "z": dt.date(2022, 1, 1),
        "s": "ab",
        "level": "LOW",
        "xs": [1, 2, 3],
        "sessions": [{"date": dt.date(2022, 6, 10), "minutes": 50, "kind": "session"}],
        "r": {"k": 2},
    }
    ended = {text: agree(text, f, dt.date(2022, 6, 15), True) for text in EXPRESSIONS}
    # (10 / 3 has no exact decimal value: an error, left to the three-valued form)
    assert [text for text, how in ended.items() if how != "decided"] == ["sum(x in p.xs: 10 / x)"]


@cache
def looping(text: str, tail: bool) -> Any:
    """The two-valued form with each quantifier written as Python's own loop in a function
    of its own (as a program writes it), as a function."""
    checked = check(parse(text), SCOPE)
    made = inline_known(
        checked, "0_", lambda name: f"N({name!r})", lambda name: False, tail, loops=True
    )
    lines = [*made.defs, "def _expr(F, N):"]
    lines += [f"    {v} = {code}" for v, code in sorted(made.hoist.items())]
    lines.append(f"    return {made.body}")
    namespace = {**GLOBALS, **made.consts, "_gu": give_up}
    exec("\n".join(lines), namespace)  # noqa: S102  (the code under test)
    return namespace["_expr"]


def ended(two: Any, F: dict[str, Any]) -> Any:
    """A two-valued form's value, or how it ended otherwise."""
    with decimal.localcontext(EXACT):
        try:
            return ("value", two(F, lambda name: None))
        except GaveUp:
            return ("gave up",)
        except Exception as e:  # noqa: BLE001
            return ("failed", type(e))


@pytest.mark.parametrize("tail", [True, False])
@SETTINGS
@given(facts, dates)
def test_quantifiers_as_functions_agree(tail: bool, f: dict[str, Any], as_of: dt.date) -> None:
    """A quantifier's loop written as a function of its own ends as the comprehension does:
    the same value (of the same class), or giving up, or failing."""
    F = {"as_of": as_of, "p": f}
    for text in [*EXPRESSIONS, *MORE]:
        a, b = ended(forms(text, tail)[1], F), ended(looping(text, tail), F)
        assert a == b and type(a[-1]) is type(b[-1]), text


def test_quantifiers_as_functions_are_written() -> None:
    """Each kind of quantifier the two-valued form writes as Python's own loop is a function
    of its own, and its temporaries that function's own."""
    kinds = {"any": "any s in p.sessions: s.minutes > 3", "all": "all x in p.xs: x > 1"}
    kinds |= {"count": "count(x in p.xs: x > p.n)", "filter": "filter(x in p.xs: x > 1)"}
    kinds |= {"map": "map(s in p.sessions: s.minutes)"}
    for text in kinds.values():
        made = inline_known(
            check(parse(text), SCOPE),
            "0_",
            lambda n: f"N({n!r})",
            lambda n: False,
            True,
            loops=True,
        )
        assert len(made.defs) == 1 and made.defs[0].startswith("def _l0_"), text
        code = compile(
            "\n".join([*made.defs, f"def _e(F, N):\n    return {made.body}"]), "", "exec"
        )
        outer = [c for c in code.co_consts if hasattr(c, "co_cellvars") and c.co_name == "_e"]
        assert outer and outer[0].co_cellvars == (), text
