"""Fuzzing the expression language: expressions generated from its grammar (every operator and
function, literals at the edges of their ranges, comprehensions, nesting) are parsed, checked,
compiled and run against facts drawn from a schema. Parsing and checking give a tree or errors
with codes; running a checked expression gives a value or an EvaluationError with a code."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.language.check import check
from engine.language.codegen import compile_checked
from engine.language.cost import estimate
from engine.language.functions import FUNCTIONS
from engine.language.parse import ExprError, parse
from engine.problems import EvaluationError

from ..unit.language_scope import AS_OF, scope
from .harness import SETTINGS, Timer, corpus

SCOPE = scope()

LITERALS = st.sampled_from(
    [
        "0",
        "1",
        "-1",
        "42",
        "9" * 30,
        "2.50",
        "0.1",
        "1e3",
        "99999999999999999999.99",
        "true",
        "false",
        "null",
        '"open"',
        "'x'",
        '"\\n"',
        "2020-01-31",
        "0001-01-01",
        "9999-12-31",
        "2020-02-30",
        "7 days",
        "1 week",
        "45 minutes",
        "3 months",
        "1 year",
        "99999999999 days",
        "99999999999 years",
        "[]",
        "[1, 2]",
        '{count: 1, per: "week"}',
        "as_of",
        "version",
    ]
)
PATHS = st.sampled_from(
    [
        "p.a",
        "p.b",
        "p.n",
        "p.m",
        "p.x",
        "p.y",
        "p.d",
        "p.e",
        "p.s",
        "p.level",
        "p.score",
        "p.xs",
        "p.sessions",
        "p.r",
        "p.r.k",
        "p.nope",
        "q",
    ]
)
BINARY = st.sampled_from(
    ["+", "-", "*", "/", "==", "!=", "<", "<=", ">", ">=", "in", "not in", "and", "or"]
)
FUNCS = st.sampled_from(sorted(FUNCTIONS) + ["nope"])


def expressions() -> st.SearchStrategy[str]:
    return st.recursive(
        st.one_of(LITERALS, PATHS),
        lambda inner: st.one_of(
            st.builds(lambda a, op, b: f"({a}) {op} ({b})", inner, BINARY, inner),
            st.builds(lambda a: f"not ({a})", inner),
            st.builds(lambda a: f"-({a})", inner),
            st.builds(lambda c, a, b: f"if {c} then {a} else {b}", inner, inner, inner),
            st.builds(
                lambda f, args: f"{f}({', '.join(args)})", FUNCS, st.lists(inner, max_size=3)
            ),
            st.builds(
                lambda q, src, body: f"{q}(v in {src}: {body})",
                st.sampled_from(["count", "filter", "map", "sum"]),
                st.one_of(st.just("p.xs"), st.just("p.sessions"), inner),
                st.one_of(st.just("v"), st.just("v.date"), st.just("v > 1"), inner),
            ),
            st.builds(
                lambda q, src, body: f"{q} v in {src}: {body}",
                st.sampled_from(["any", "all"]),
                st.one_of(st.just("p.xs"), inner),
                st.one_of(st.just("v > 0"), inner),
            ),
            st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
            st.builds(lambda a: f"({a}).k", inner),
        ),
        max_leaves=10,
    )


def maybe(s: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), s)


EDGE_DATES = st.one_of(
    st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1)),
    st.sampled_from([dt.date(1, 1, 1), dt.date(9999, 12, 31)]),
)
EDGE_INTS = st.one_of(st.integers(-100, 100), st.sampled_from([10**18, -(10**18), 2**63]))
facts = st.fixed_dictionaries(
    {},
    optional={
        "a": maybe(st.booleans()),
        "b": maybe(st.booleans()),
        "n": maybe(EDGE_INTS),
        "m": maybe(EDGE_INTS),
        "x": maybe(st.decimals("-1e6", "1e6", places=3)),
        "d": maybe(EDGE_DATES),
        "e": maybe(EDGE_DATES),
        "s": maybe(st.text(max_size=12)),
        "level": maybe(st.sampled_from(["LOW", "MEDIUM", "HIGH"])),
        "xs": maybe(st.lists(EDGE_INTS, max_size=5)),
        "sessions": maybe(
            st.lists(
                st.fixed_dictionaries(
                    {}, optional={"date": maybe(EDGE_DATES), "minutes": maybe(EDGE_INTS)}
                ),
                max_size=3,
            )
        ),
        "r": maybe(st.fixed_dictionaries({}, optional={"k": maybe(EDGE_INTS)})),
    },
)


def run_text(text: str, f: dict[str, Any]) -> str:
    """`ok`, or the code of the error the text gives (parse, check or evaluation)."""
    try:
        node = parse(text)
    except ExprError as e:
        assert e.line >= 1 and e.col >= 1
        return e.code
    checked = check(node, SCOPE)
    if checked.errors:
        return checked.errors[0].code
    assert estimate(checked, lambda name: None).cost >= 1  # the static cost is total too
    fn = compile_checked(checked).fn
    try:
        fn({"as_of": AS_OF, "version": "1", "p": f}, lambda name: None)
    except EvaluationError as e:
        assert e.code.startswith("E-EVAL")
        return e.code
    except (OverflowError, ValueError, ArithmeticError):
        return "E-EVAL-RANGE"  # as engine.evaluate reports a date or decimal out of range
    return "ok"


@SETTINGS
@given(text=expressions(), f=facts)
def test_expressions_parse_check_and_run_totally(text: str, f: dict[str, Any]) -> None:
    with Timer("expressions"):
        code = run_text(text, f)
    assert code == "ok" or code.startswith("E-")


@pytest.mark.parametrize("case", corpus("expressions"), ids=lambda c: c[0].stem)
def test_saved_expressions_give_their_expected_error(case: tuple[Path, str, str]) -> None:
    _, expect, text = case
    assert run_text(text.strip(), {"n": 10**18, "d": dt.date(9999, 12, 31), "xs": [1]}) == expect
