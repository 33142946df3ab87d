"""Property tests for the expression language: Kleene laws with unknowns, calendar arithmetic,
consistent comparisons, a parser that is total on any text, and evaluation that never fails on
facts matching the schema (division by zero aside)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cache
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.language import syntax as A
from engine.language.check import check
from engine.language.codegen import compile_checked
from engine.language.functions import FUNCTIONS
from engine.language.parse import ExprError, parse
from engine.language.runtime import Unknown
from engine.problems import EvaluationError

from .language_scope import AS_OF, scope

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SCOPE = scope()


@cache
def compiled(text: str) -> Any:
    checked = check(parse(text), SCOPE)
    assert checked.errors == [], (text, checked.errors)
    return compile_checked(checked).fn


def run(text: str, facts: dict[str, Any], as_of: dt.date = AS_OF) -> Any:
    return compiled(text)({"as_of": as_of, "p": facts}, lambda name: None)


# -- strategies -------------------------------------------------------------------------------

# Dates and counts stay inside realistic ranges: a date pushed past the years 1-9999 (say
# `p.d + p.n * 1 day` with n in the millions) raises OverflowError, which is not yet an
# evaluation error with a code of its own.
dates = st.dates(min_value=dt.date(1800, 1, 1), max_value=dt.date(2200, 12, 31))
ints = st.integers(min_value=-(10**4), max_value=10**4)
decimals = st.decimals(
    min_value=-(10**6), max_value=10**6, places=2, allow_nan=False, allow_infinity=False
)
truths = st.sampled_from([True, False, None])


def maybe(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), values)


sessions = st.fixed_dictionaries(
    {},
    optional={
        "date": maybe(dates),
        "minutes": maybe(st.integers(0, 600)),
        "kind": maybe(st.sampled_from(["session", "note"])),
    },
)
facts = st.fixed_dictionaries(
    {},
    optional={
        "a": maybe(st.booleans()),
        "b": maybe(st.booleans()),
        "c": maybe(st.booleans()),
        "n": maybe(ints),
        "m": maybe(ints),
        "x": maybe(decimals),
        "y": maybe(decimals),
        "d": maybe(dates),
        "e": maybe(dates),
        "s": maybe(st.text(max_size=12)),
        "level": maybe(st.sampled_from(["LOW", "MEDIUM", "HIGH"])),
        "xs": maybe(st.lists(ints, max_size=5)),
        "sessions": maybe(st.lists(sessions, max_size=4)),
        "r": maybe(st.fixed_dictionaries({}, optional={"k": maybe(ints)})),
    },
)

ATOMS = [
    "p.a",
    "p.b",
    "p.c",
    "p.n > 0",
    "p.m == p.n",
    "true",
    "false",
    "null",
    "any v in p.xs: v > 0",
    "known(p.n)",
    'p.level == "LOW"',
]


def formulas() -> st.SearchStrategy[str]:
    """Boolean expressions over possibly-unknown facts."""
    return st.recursive(
        st.sampled_from(ATOMS),
        lambda inner: st.one_of(
            st.builds(lambda x: f"not ({x})", inner),
            st.builds(lambda x, y: f"({x}) and ({y})", inner, inner),
            st.builds(lambda x, y: f"({x}) or ({y})", inner, inner),
        ),
        max_leaves=5,
    )


def truth(value: Any) -> bool | None:
    """True, False or None for unknown; anything else is a failure."""
    if isinstance(value, Unknown):
        return None
    assert value is True or value is False, value
    return bool(value)


def same(x: Any, y: Any) -> bool:
    """The same truth value, and when unknown, from the same facts."""
    if isinstance(x, Unknown) or isinstance(y, Unknown):
        return isinstance(x, Unknown) and isinstance(y, Unknown) and x.paths == y.paths
    return x is y


# -- Kleene laws ------------------------------------------------------------------------------


@SETTINGS
@given(formulas(), formulas(), facts)
def test_and_or_are_commutative(x: str, y: str, f: dict[str, Any]) -> None:
    assert same(run(f"({x}) and ({y})", f), run(f"({y}) and ({x})", f))
    assert same(run(f"({x}) or ({y})", f), run(f"({y}) or ({x})", f))


@SETTINGS
@given(formulas(), formulas(), facts)
def test_de_morgan(x: str, y: str, f: dict[str, Any]) -> None:
    assert same(run(f"not (({x}) and ({y}))", f), run(f"(not ({x})) or (not ({y}))", f))
    assert same(run(f"not (({x}) or ({y}))", f), run(f"(not ({x})) and (not ({y}))", f))


@SETTINGS
@given(formulas(), facts)
def test_double_negation(x: str, f: dict[str, Any]) -> None:
    assert same(run(f"not not ({x})", f), run(x, f))


@SETTINGS
@given(formulas(), formulas(), facts)
def test_absorption(x: str, y: str, f: dict[str, Any]) -> None:
    # the truth value is absorbed; an unknown may name more facts than `x` alone
    assert truth(run(f"({x}) or (({x}) and ({y}))", f)) is truth(run(x, f))
    assert truth(run(f"({x}) and (({x}) or ({y}))", f)) is truth(run(x, f))


@SETTINGS
@given(formulas(), facts)
def test_excluded_middle_is_never_false(x: str, f: dict[str, Any]) -> None:
    assert truth(run(f"({x}) or not ({x})", f)) is not False
    assert truth(run(f"({x}) and not ({x})", f)) is not True


@SETTINGS
@given(formulas(), formulas(), formulas(), facts)
def test_and_or_are_associative(x: str, y: str, z: str, f: dict[str, Any]) -> None:
    assert same(run(f"(({x}) and ({y})) and ({z})", f), run(f"({x}) and (({y}) and ({z}))", f))
    assert same(run(f"(({x}) or ({y})) or ({z})", f), run(f"({x}) or (({y}) or ({z}))", f))


@SETTINGS
@given(truths, truths)
def test_unknowns_name_exactly_their_facts(a: bool | None, b: bool | None) -> None:
    value = run("p.a and p.b", {"a": a, "b": b})
    if a is False or b is False:
        assert value is False
    elif a is None or b is None:
        assert value.paths == {p for p, v in (("p.a", a), ("p.b", b)) if v is None}
    else:
        assert value is True


# -- calendar arithmetic ----------------------------------------------------------------------


@SETTINGS
@given(dates, st.integers(min_value=-600, max_value=600))
def test_months_there_and_back_never_overshoot(d: dt.date, n: int) -> None:
    f = {"d": d, "n": n}
    assert run("(p.d + p.n * 1 month) - p.n * 1 month <= p.d", f) is True
    back = run("(p.d + p.n * 1 month) - p.n * 1 month", f)
    assert (back.year, back.month) == (d.year, d.month)


@SETTINGS
@given(dates, st.integers(min_value=-36500, max_value=36500))
def test_days_there_and_back_is_exact(d: dt.date, n: int) -> None:
    f = {"d": d, "n": n}
    assert run("p.d + p.n * 1 day - p.n * 1 day == p.d", f) is True
    assert run("days((p.d + p.n * 1 day) - p.d) == p.n", f) is True


@SETTINGS
@given(dates)
def test_a_month_later_is_later(d: dt.date) -> None:
    f = {"d": d}
    assert run("(p.d + 1 month) > p.d", f) is True
    assert run("(p.d - 1 month) < p.d", f) is True
    assert run("p.d + 1 year == p.d + 12 months", f) is True
    assert run("month_start(p.d) <= p.d and p.d <= month_end(p.d)", f) is True
    assert run("days(p.d - week_start(p.d)) < 7", f) is True


@SETTINGS
@given(dates, dates)
def test_age_is_whole_years(born: dt.date, on: dt.date) -> None:
    years = run("age_on(p.d, p.e)", {"d": born, "e": on})
    if on >= born:
        assert run("p.d + p.n * 1 year <= p.e", {"d": born, "e": on, "n": years}) is True
        assert run("p.d + (p.n + 1) * 1 year > p.e", {"d": born, "e": on, "n": years}) is True


# -- comparisons ------------------------------------------------------------------------------

COMPARE = (
    "[p.{0} < p.{1}, p.{0} == p.{1}, p.{0} > p.{1}, p.{0} <= p.{1}, p.{0} >= p.{1}, "
    "p.{0} != p.{1}, p.{1} > p.{0}]"
)


def _check_comparisons(result: list[bool], left: Any, right: Any) -> None:
    lt, eq, gt, le, ge, ne, flipped = result
    assert [lt, eq, gt].count(True) == 1
    assert le is (lt or eq) and ge is (gt or eq) and ne is (not eq) and flipped is lt
    assert (lt, eq, gt) == (left < right, left == right, left > right)


@SETTINGS
@given(ints, ints)
def test_integer_comparisons_are_consistent(n: int, m: int) -> None:
    _check_comparisons(run(COMPARE.format("n", "m"), {"n": n, "m": m}), n, m)


@SETTINGS
@given(decimals, ints)
def test_decimal_comparisons_are_consistent(x: Decimal, n: int) -> None:
    _check_comparisons(run(COMPARE.format("x", "n"), {"x": x, "n": n}), x, n)


@SETTINGS
@given(dates, dates)
def test_date_comparisons_are_consistent(d: dt.date, e: dt.date) -> None:
    _check_comparisons(run(COMPARE.format("d", "e"), {"d": d, "e": e}), d, e)
    assert run("p.d - p.e < 0 days", {"d": d, "e": e}) is (d < e)


one_line = st.text(max_size=8).filter(lambda t: "\n" not in t and "\r" not in t)


@SETTINGS
@given(st.text(max_size=8), one_line)
def test_string_comparisons_are_consistent(s: str, t: str) -> None:
    f = {"s": s, "level": None}
    assert run("[p.s < " + _quote(t) + ", p.s == " + _quote(t) + "]", f) == [s < t, s == t]


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@SETTINGS
@given(one_line)
def test_string_literals_round_trip(text: str) -> None:
    assert run(_quote(text), {}) == text


# -- totality ---------------------------------------------------------------------------------

TOKENS = [
    "p",
    ".",
    "a",
    "n",
    "xs",
    "sessions",
    "as_of",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "+",
    "-",
    "*",
    "/",
    "==",
    "<",
    ">=",
    "!=",
    "in",
    "not",
    "and",
    "or",
    "if",
    "then",
    "else",
    "any",
    "all",
    "count",
    "filter",
    "map",
    "sum",
    "1",
    "0",
    "2.50",
    '"LOW"',
    "'a'",
    "2022-01-31",
    "2022-02-30",
    "1 month",
    "7 days",
    "true",
    "false",
    "null",
    "age",
    "min",
    "coalesce",
    "\n",
    " ",
    "é",
    "\\",
    '"',
    "#",
    "=",
    "&",
    "\t",
    "9" * 30,
]


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(st.text(max_size=60), st.lists(st.sampled_from(TOKENS), max_size=25).map(" ".join))
)
def test_parse_is_total(text: str) -> None:
    try:
        node = parse(text)
    except ExprError as e:
        assert e.code.startswith("E-") and e.line >= 1 and e.col >= 1
        return
    assert isinstance(node, A.Node)
    check(node, SCOPE)  # checking a tree never raises either


EXPRESSIONS = [
    "p.a and p.b or not p.c",
    "if p.a then p.n else p.m",
    "p.n + p.m * 2 - -p.n",
    "p.x * p.y + p.n",
    "p.n / p.m",
    "p.x / p.n",
    "p.d - p.e <= 4 weeks",
    "p.d + 1 month >= p.e - 2 years",
    "p.d + p.n * 1 day == p.e",
    'p.level in ["LOW", "HIGH"] and p.n not in p.xs',
    "p.n in [p.m, 2]",
    'any s in p.sessions: s.date > as_of - 7 days and s.kind == "session"',
    "all s in p.sessions: s.minutes >= 45",
    "count(s in p.sessions: s.minutes > p.n) >= 1",
    'filter(s in p.sessions: s.kind == "note")',
    "map(s in p.sessions: s.date)",
    "sum(s in p.sessions: s.minutes * 1 minute) >= 1 day",
    "sum(x in p.xs: 10 / x)",
    "{k: p.r.k, n: p.n}.k",
    "age(p.d) >= 18 and age_on(p.d, p.e) < 3",
    "days(p.d - p.e) + minutes(p.n * 1 minute)",
    "len(p.xs) + len(p.s)",
    "min(p.n, p.m) + max(p.xs) + sum(p.xs) + max(p.xs + [p.n])",
    "earliest(p.d, p.e, as_of) <= latest(map(s in p.sessions: s.date))",
    "known(p.n) or coalesce(p.n, p.m, 0) > 1",
    "is_none(p.n) or is_none(p.m)",
    "compact([p.n, p.m])",
    "unique(sort(p.xs + [p.n]))",
    "flatten([p.xs, [p.m]])",
    "index_of(p.n, p.xs + [p.m])",
    "date(p.s)",
    "text(p.n) + text(p.x) + text(p.d) + text(p.a)",
    "month_start(p.d) + 1 month - 1 day == month_end(p.d)",
    "week_start(p.e) <= p.e",
    "year(p.d) * 10000 + month(p.d) * 100 + day(p.d)",
    "lower(p.s) == upper(p.s)",
    'contains(p.s, "a") or contains_any(p.s, ["b", p.s]) or starts_with(p.s, "c")',
    "abs(p.x) + round(p.x, 1)",
]


def test_the_expressions_use_every_function() -> None:
    used = {node.func for text in EXPRESSIONS for node in _calls(parse(text))}
    assert used == set(FUNCTIONS)


def _calls(node: A.Node) -> list[A.Call]:
    found = [node] if isinstance(node, A.Call) else []
    for child in A.children(node):
        found.extend(_calls(child))
    return found  # type: ignore[return-value]


@SETTINGS
@given(facts, dates)
def test_evaluation_never_raises_on_facts_matching_the_schema(
    f: dict[str, Any], as_of: dt.date
) -> None:
    for text in EXPRESSIONS:
        try:
            run(text, f, as_of)
        except EvaluationError as e:
            # dividing by zero, or a quotient with no exact decimal value (10 / 3)
            assert e.code in ("E-EVAL-DIV0", "E-EVAL-RANGE"), text
