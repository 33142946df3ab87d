"""Hypothesis-generated expressions of the language, over generated facts: the SQL form gives
the value and the missing fact paths the Python form gives, on every record."""

from __future__ import annotations

import decimal
from decimal import Decimal
from functools import cache
from typing import Any

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.api import out_of_range
from engine.language import static_types as T
from engine.language.check import SimpleScope, Symbol, check
from engine.language.codegen import compile_checked
from engine.language.convert import to_json as plain
from engine.language.parse import parse
from engine.language.runtime import EXACT, Unknown
from engine.packs.facts_schema import root_types
from engine.problems import EvaluationError
from engine.sql.expressions import ExprCompiler, PathBits, Scope
from engine.sql.functions import PYTHON_DECIDES
from engine.sql.run import converted, facts_table, sql_plain
from engine.sql.types import Unsupported
from engine.tools.population import Population

BOOLS = [
    "prisoner.cev",
    "prisoner.tact",
    'prisoner.acct == "open"',
    'prisoner.rosh in ["HIGH", "VERY_HIGH"]',
    'prisoner.rosh not in ["LOW"]',
    "known(prisoner.release_date)",
    "as_of >= prisoner.release_date - 4 weeks",
    "as_of >= prisoner.release_date - 2 months",
    "prisoner.release_date + 1 month <= as_of + 30 days",
    "establishment.regime_level >= 3",
    "count(s in prisoner.keywork.sessions: s.minutes >= 45) >= 1",
    '(any s in prisoner.keywork.sessions: s.kind == "session")',
    "(all s in prisoner.keywork.sessions: s.date <= as_of)",
    "age(prisoner.date_of_birth) >= 18",
    "days(prisoner.release_date - as_of) <= 28",
    "month_end(prisoner.release_date) == prisoner.release_date",
    "coalesce(prisoner.tact, prisoner.pathfinder_recommended, false)",
    "prisoner.release_date - 1 month + 1 month == prisoner.release_date",
    "week_start(as_of) <= as_of - 6 days",
    '"HA" in prisoner.alerts',
    'contains_any(coalesce(prisoner.rosh, ""), ["high", prisoner.acct])',
    'contains_any(prisoner.cell_location, ["wing", "B"])',
    'index_of("HA", prisoner.alerts) > 0',
    "2.5 * len(prisoner.alerts) >= 5",
    "len(prisoner.alerts) / 4 > 0.5",
    "-(0.25 * len(prisoner.alerts)) < -0.5",
    'text(prisoner.cev) == "true"',
    "{d: prisoner.release_date, t: prisoner.tact}.d <= as_of",
    "(any d in map(s in prisoner.keywork.sessions: s.date): d <= as_of)",
    "count(d in filter(s in prisoner.keywork.sessions: s.minutes > 30): d.date >= as_of) > 0",
    "(as_of - prisoner.release_date) / 2 >= 3 days",
    "as_of - 1 day / 3 < as_of",
    "prisoner.release_date + (as_of - prisoner.release_date) / 3 >= as_of",
]
INTS = [
    "sum(s in prisoner.keywork.sessions: s.minutes)",
    "len(prisoner.alerts)",
    "count(s in prisoner.keywork.sessions: s.date >= as_of - 1 month)",
    "year(prisoner.release_date) - year(as_of)",
    "days(as_of - coalesce(prisoner.irmm_keywork_from, as_of))",
    'index_of("HA", prisoner.alerts)',
    'index_of(prisoner.acct, ["open", prisoner.rosh, "post_closure"])',
    'len(flatten([prisoner.alerts, ["X"], sort(prisoner.alerts)]))',
    "len(sort(prisoner.alerts))",
    "abs(days(as_of - prisoner.release_date))",
    "max(map(s in prisoner.keywork.sessions: s.minutes))",
    "sum(map(s in prisoner.keywork.sessions: s.minutes)) + sum([])",
    "min(compact([day(prisoner.release_date), len(prisoner.alerts)]))",
    "minutes((as_of - prisoner.release_date) / 7)",
    "days((prisoner.release_date - as_of) / 3)",
    "minutes(45 minutes / (len(prisoner.alerts) - 2))",
    "minutes(sum(s in prisoner.keywork.sessions: 1 day / s.minutes))",
]
DATES = [
    "earliest(prisoner.release_date, as_of + 3 months)",
    "latest(prisoner.irmm_keywork_from, prisoner.pathfinder_keywork_from)",
    "prisoner.release_date - 2 months",
    "month_start(prisoner.date_of_birth + 1 year)",
    "earliest(map(s in prisoner.keywork.sessions: s.date))",
    "latest([prisoner.release_date, as_of])",
    "max(map(s in prisoner.keywork.sessions: s.date))",
]
OTHERS = [  # text, lists and decimals, compared as values
    "text(len(prisoner.alerts))",
    "text(prisoner.release_date)",
    "lower(text(as_of)) + text(prisoner.tact)",
    "sort(prisoner.alerts)",
    "unique(flatten([prisoner.alerts, sort(prisoner.alerts)]))",
    "flatten(map(s in prisoner.keywork.sessions: [s.minutes, 1]))",
    "round(len(prisoner.alerts) / 8, 1)",
    "round(2.345 * len(prisoner.alerts), 2)",
    "len(prisoner.alerts) / 2 + 0.25 - 1",
    "min(map(s in prisoner.keywork.sessions: s.minutes)) / 5",
    "abs(0.5 - len(prisoner.alerts))",
    "max(1.5, len(prisoner.alerts) * 0.5)",
    "if prisoner.cev then 3.25 else null",
    "1.05 * 2.5 + len(prisoner.alerts)",
    "(as_of - prisoner.release_date) / 7",
    "1 week / (3 - len(prisoner.alerts))",
    "sum(s in prisoner.keywork.sessions: s.minutes * 0.25)",
    "sum(map(s in prisoner.keywork.sessions: s.minutes / 4))",
    "sum([1.5, 2.25, len(prisoner.alerts) * 0.5])",
    "sum(filter(x in [0.5, 1.25]: len(prisoner.alerts) > 1))",
    "round(len(prisoner.alerts) / 8, establishment.regime_level)",
    # the text of a decimal, as the interpreter writes it: places, notation and a zero's sign
    "text(len(prisoner.alerts) / 4)",
    "text(0 * -1.5)",
    "text(10 / (len(prisoner.alerts) * 0.5 + 0.5))",
    "text(round(len(prisoner.alerts) * -0.001, 2))",
    "text(len(prisoner.alerts) * 1.50 - 3)",
    "text(len(prisoner.alerts) * 0.0000001)",
    "text(-(len(prisoner.alerts) * 0.0))",
    "text(len(prisoner.alerts) * 100 / 0.25)",
    "text(max(1.50, len(prisoner.alerts) * 0.5, 1.5))",
    "text(if prisoner.cev then 2.50 else len(prisoner.alerts) * -0.0)",
    "text(coalesce(if prisoner.cev then 2.50 else null, 1.0))",
    "text(abs(len(prisoner.alerts) * -0.10))",
    "text(0 / (len(prisoner.alerts) - 2.5))",
    "text(-0.0 + -0.00)",
    "text(2.50 + len(prisoner.alerts) * 2.5)",
    # sums, extremes and list elements: the places the interpreter's values have
    "text(round(sum(a in prisoner.alerts: 0.5), 2))",
    "text(round(sum(a in prisoner.alerts: 0.5) - len(prisoner.alerts) * 0.5, 1))",
    "text(sum(a in prisoner.alerts: -0.0))",
    "text(sum(s in prisoner.keywork.sessions: if s.minutes > 40 then 0.50 else 1.5))",
    "text(sum([1.5, 2.25, len(prisoner.alerts) * 0.5]))",
    "text(sum(map(s in prisoner.keywork.sessions: s.minutes / 4)))",
    "text(sum(filter(x in [0.5, 1.5]: len(prisoner.alerts) > 1)))",
    "text(max(map(s in prisoner.keywork.sessions: s.minutes * 0.5)))",
    "text(min(map(s in prisoner.keywork.sessions: if s.minutes > 40 then 0.5 else -0.0)))",
    "text(max([len(prisoner.alerts) * 0.5, 1.50, 1.5, -0.0]))",
    "text(min([len(prisoner.alerts) * -0.0, 0.00, 1.5]))",
    "map(x in [0.50, 1.25]: text(x * len(prisoner.alerts)))",
    # rounding to places written outside 0 to 10
    "round(len(prisoner.alerts) * 1.23456789012345, 12)",
    "text(round(len(prisoner.alerts) * 1234.5, -2))",
    "text(round(len(prisoner.alerts) * 1234.5, -40))",
    "text(round(len(prisoner.alerts) * 1.5, 14))",
    # a quotient with more significant digits than a float holds, exact in integers
    "(len(prisoner.alerts) + 1) * 1234567890123456.25 / 5",
    "text((len(prisoner.alerts) + 1) * 1234567890123456.25 / 5)",
    "establishment.regime_level * 1.000000000000000001 / 0.000000001",
]
# Values the interpreter computes but a SQL column cannot hold: the row errs (E-EVAL-RANGE,
# saying `--engine python` decides it) exactly where the second expression, evaluated by the
# interpreter, holds; elsewhere the two agree.
BIG = 4611686018427387904  # 2^62: twice it passes a BIGINT
LIMITED = [
    (
        "round(2.345 * len(prisoner.alerts), len(prisoner.alerts) * 2 - 1)",
        "len(prisoner.alerts) * 2 - 1 > 10 or len(prisoner.alerts) * 2 - 1 < 0",
    ),
    # exact, but at 11 places for an odd number: the interpreter's value, past SQL's 10
    ("len(prisoner.alerts) / 2048", "len(prisoner.alerts) in [1, 3, 5, 7, 9, 11, 13, 15]"),
    ("(establishment.regime_level + 1) / 4096 * 2 > 0", "establishment.regime_level in [1, 2, 4]"),
    (f"establishment.regime_level * {BIG} > 0", "establishment.regime_level >= 2"),
    # decimals past 38 digits (the interpreter holds 200)
    (
        "len(prisoner.alerts) * 1000000000000000000000000000.5 * 1000000000000.5 > 0",
        "len(prisoner.alerts) >= 1",
    ),
    (
        "5000000000000000000000000000000000000.0 "
        "+ len(prisoner.alerts) * 2500000000000000000000000000000000000.0",
        "len(prisoner.alerts) >= 2",
    ),
    (f"1 - len(prisoner.alerts) * {BIG} - {BIG}", "len(prisoner.alerts) >= 2"),
    # operands whose SQL does not show their places (an extreme of a list, a quantifier's
    # element): the places follow from the expression
    (
        "max(map(a in prisoner.alerts: 3000000000000000000000000000000000000.5))"
        " * len(prisoner.alerts)",
        "len(prisoner.alerts) >= 4",
    ),
    (
        "sum(x in [len(prisoner.alerts) * 30000000000000000.25]: x * x)",
        "len(prisoner.alerts) >= 4",
    ),
    (
        "max(map(a in prisoner.alerts: 4000000000000000000000000000000000000.5))"
        " + max(map(a in prisoner.alerts: 6000000000000000000000000000000000000.5))",
        "len(prisoner.alerts) >= 1",
    ),
    (
        "max(map(a in prisoner.alerts: 4000000000000000000000000000000000000.5))"
        " - min(map(a in prisoner.alerts: -6000000000000000000000000000000000000.5))",
        "len(prisoner.alerts) >= 1",
    ),
    (
        "len(prisoner.alerts) + 2000000000000000000000000000000000000.5 * 0.5",
        "known(prisoner.alerts)",
    ),
    # a decimal quotient past 18 whole digits, or exact only past 10 places
    (
        "(len(prisoner.alerts) + 1) * 12345678901234567.5 / 0.0000002",
        "known(prisoner.alerts)",
    ),
    ("len(prisoner.alerts) * 7.000000000000000007 / 7", "len(prisoner.alerts) >= 1"),
    # a sum of decimals past 38 digits
    (
        "sum(s in prisoner.keywork.sessions: 5000000000000000000000000000000000000.0)",
        "len(prisoner.keywork.sessions) >= 2",
    ),
    (
        "sum([5000000000000000000000000000000000000.0, "
        "len(prisoner.alerts) * 5000000000000000000000000000000000000.0])",
        "len(prisoner.alerts) >= 1",
    ),
    # rounding past the whole digits a SQL decimal holds at that many places
    (
        "round(len(prisoner.alerts) * 10000000000000000000000.5, 16)",
        "len(prisoner.alerts) >= 1",
    ),
    # -2^63 at level 1, which only the negation (or abs) takes past a BIGINT
    (f"-(0 - establishment.regime_level * {BIG} - {BIG}) > 1", "establishment.regime_level >= 1"),
    (f"abs(0 - establishment.regime_level * {BIG} - {BIG}) > 1", "establishment.regime_level >= 1"),
    ("days(3000000 days * (len(prisoner.alerts) * 20)) > 1", "len(prisoner.alerts) >= 2"),
    (f"sum(s in prisoner.keywork.sessions: {BIG})", "len(prisoner.keywork.sessions) >= 2"),
    (
        f"sum(map(s in prisoner.keywork.sessions: {BIG})) > 0",
        "len(prisoner.keywork.sessions) >= 2",
    ),
    (
        f"sum(s in prisoner.keywork.sessions: s.minutes * {BIG // 32})",
        "(any s in prisoner.keywork.sessions: s.minutes >= 64) or "
        "sum(s in prisoner.keywork.sessions: s.minutes) >= 64",
    ),
]
# A field of a record inside a computed list takes the mask of the whole list: the value and
# whether it is unknown agree, and the facts named include the interpreter's (more only when
# two fields of those records are unknown for different facts).
WIDER = ["any r in map(s in prisoner.keywork.sessions: {d: s.date, k: s.kind}): r.d <= as_of"]
# dates near the calendar's edges, which vary with the record (the 10th to the 31st)
NEAR_9999 = 'date("9999-12-" + text(10 + 3 * min(len(prisoner.alerts), 7)))'
NEAR_0001 = 'date("0001-01-" + text(31 - 3 * min(len(prisoner.alerts), 7)))'
ERRORS = [  # the interpreter stops a decision here; the query errs on that row, same words
    ("len(prisoner.alerts) / 3", "E-EVAL-RANGE"),
    ("1 / (len(prisoner.alerts) - len(prisoner.alerts))", "E-EVAL-DIV0"),
    ("(if prisoner.cev then 1 / 0 else 2) > 1", "E-EVAL-DIV0"),
    ("prisoner.cev or 1 / 0 > 1", "E-EVAL-DIV0"),
    ("len(prisoner.alerts) + 1 / 0 > 1", "E-EVAL-DIV0"),
    # the greatest of no sessions is a none (an unknown naming no fact): the division beside
    # it is not worked out, so only records with sessions and two alerts err
    (
        "max(map(s in prisoner.keywork.sessions: s.minutes))"
        " + minutes(45 minutes / (len(prisoner.alerts) - 2))",
        "E-EVAL-DIV0",
    ),
    (
        "(all s in prisoner.keywork.sessions: (s.minutes - 45) / (s.minutes - 45) > 0)",
        "E-EVAL-DIV0",
    ),
    ("count(s in prisoner.keywork.sessions: s.minutes / 7 > 5)", "E-EVAL-RANGE"),
    # a date pushed past the years 1 to 9999: Python's date overflows, in its words
    ("prisoner.release_date + len(prisoner.alerts) * 1000000 days", "E-EVAL-RANGE"),
    ("as_of - len(prisoner.alerts) * 300000 days <= as_of", "E-EVAL-RANGE"),
    ("prisoner.release_date + len(prisoner.alerts) * 30000 months", "E-EVAL-RANGE"),
    ("year(as_of - len(prisoner.alerts) * 10000 months)", "E-EVAL-RANGE"),
    # a bounded move (a week, a month) of a date near the years 1 or 9999, tested where made
    (f"{NEAR_9999} + 1 week", "E-EVAL-RANGE"),
    (f"{NEAR_9999} + 1 month <= as_of", "E-EVAL-RANGE"),
    (f"{NEAR_0001} - 2 weeks", "E-EVAL-RANGE"),
    (
        f"count(s in prisoner.keywork.sessions: {NEAR_9999} + s.minutes * 1 day > as_of)",
        "E-EVAL-RANGE",
    ),
]
# Divisors that are zero on some records and give inexact quotients on others (each quotient is
# exact in 10 places when it is exact at all, so both engines' decimals agree)
DIVISORS = [
    "0",
    "3",
    "8",
    "(len(prisoner.alerts) - 2)",
    "(establishment.regime_level - 3)",
    "(s.minutes - 45)",
    "len(filter(s in prisoner.keywork.sessions: s.minutes > 40))",
]


def bools(depth: int) -> st.SearchStrategy[str]:
    atom = st.sampled_from(BOOLS)
    if depth == 0:
        return atom
    sub = bools(depth - 1)
    return st.one_of(
        atom,
        st.builds(lambda a, b: f"({a} and {b})", sub, sub),
        st.builds(lambda a, b: f"({a} or {b})", sub, sub),
        st.builds(lambda a: f"not ({a})", sub),
        st.builds(lambda c, a, b: f"(if {c} then {a} else {b})", sub, sub, sub),
        st.builds(lambda i, n: f"({i} >= {n})", ints(depth - 1), st.integers(-2, 60)),
        st.builds(lambda d: f"({d} <= as_of)", dates(depth - 1)),
    )


def ints(depth: int) -> st.SearchStrategy[str]:
    atom = st.sampled_from(INTS)
    if depth == 0:
        return atom
    return st.one_of(
        atom,
        st.builds(lambda c, a, b: f"(if {c} then {a} else {b})", bools(depth - 1), atom, atom),
        st.builds(lambda a, b: f"({a} + {b})", atom, atom),
    )


def quotients(depth: int) -> st.SearchStrategy[str]:
    """Expressions that divide, some of them by zero or inexactly on some records, placed where
    the interpreter may or may not work them out (a branch, a short-circuit, a quantifier)."""
    divisor = st.sampled_from([d for d in DIVISORS if "s." not in d])
    numerator = st.sampled_from(["1", "len(prisoner.alerts)", "establishment.regime_level"])
    atom = st.one_of(
        st.builds(lambda a, b: f"({a} / {b} >= 1)", numerator, divisor),
        # a known divisor beside an operand that may be unknown: the interpreter tests the
        # unknown one first and divides only when it is known
        st.builds(lambda a, b: f"({a} + 1 / {b} >= 1)", numerator, divisor),
        st.builds(lambda a, b: f"(max({a}, 2 / {b}) >= 1)", numerator, divisor),
        st.builds(lambda a, b: f'(text({a}) + text(3 / {b} > 1) == "x")', numerator, divisor),
        # a date moved far enough, on some records, to pass the years 1 to 9999
        st.builds(
            lambda d, n: f"({d} + len(prisoner.alerts) * {n} <= as_of)",
            st.sampled_from(DATES),
            st.sampled_from(["-400000 days", "1000000 days", "150000 weeks", "-12000 months"]),
        ),
        # a date near the calendar's edges moved by a bounded duration or months
        st.builds(
            lambda d, n: f"({d} {n} <= as_of)",
            st.sampled_from([NEAR_9999, NEAR_0001]),
            st.sampled_from(["+ 1 week", "- 2 weeks", "+ 1 month", "- 1 month", "+ 3 days"]),
        ),
    )
    if depth == 0:
        return atom
    sub = quotients(depth - 1)
    return st.one_of(
        atom,
        st.builds(lambda a, b: f"({a} and {b})", bools(0), sub),
        st.builds(lambda a, b: f"({a} or {b})", sub, bools(0)),
        st.builds(lambda c, a, b: f"(if {c} then {a} else {b})", bools(0), sub, sub),
        st.builds(lambda c, a: f"(if {c} then {a} else false)", sub, bools(0)),
        st.builds(
            lambda q, d: f"(any s in prisoner.keywork.sessions: {q} or s.minutes / {d} > 1)",
            sub,
            st.sampled_from(DIVISORS),
        ),
        st.builds(
            lambda d: f"(count(s in prisoner.keywork.sessions: s.minutes / {d} > 5) > 1)",
            st.sampled_from(DIVISORS),
        ),
        st.builds(
            lambda d: f"(all s in prisoner.keywork.sessions: s.minutes / {d} < 20)",
            st.sampled_from(DIVISORS),
        ),
    )


DECIMALS = [
    "len(prisoner.alerts) * 0.5",
    "2.50",
    "-0.0",
    "0.0000001",
    "len(prisoner.alerts) / 4",
    "establishment.regime_level * -1.25",
    "len(prisoner.alerts) - 2.5",
    "10",
    "0 * -1.5",
]


def decimals(depth: int) -> st.SearchStrategy[str]:
    """Decimal expressions whose places, notation and sign of zero vary by record (for `text`):
    sums, products, exact quotients, rounding to written places, signs and choices."""
    atom = st.sampled_from(DECIMALS)
    if depth == 0:
        return atom
    sub = decimals(depth - 1)
    divisor = st.sampled_from(["4", "0.5", "(len(prisoner.alerts) - 2.5)", "-0.25", "8.0"])
    return st.one_of(
        atom,
        st.builds(lambda a, b, op: f"({a} {op} {b})", sub, sub, st.sampled_from("+-*")),
        st.builds(lambda a, d: f"({a} / {d})", atom, divisor),
        st.builds(lambda a, n: f"round({a}, {n})", sub, st.sampled_from([-3, -1, 0, 1, 2, 12])),
        st.builds(lambda a: f"-({a})", sub),
        st.builds(lambda a: f"abs({a})", sub),
        st.builds(lambda c, a, b: f"(if {c} then {a} else {b})", bools(0), sub, sub),
        st.builds(lambda a, b: f"max({a}, {b})", sub, sub),
        st.builds(lambda a, b: f"min({a}, {b}, 0.50)", sub, sub),
        # sums and extremes of lists of them, and an element of a list of one shape (of atoms:
        # each copies its elements' places into the query, which nesting would multiply)
        st.builds(lambda a, b: f"sum([{a}, {b}])", atom, atom),
        st.builds(lambda a, b: f"max([{a}, {b}, -0.0])", atom, atom),
        st.builds(lambda a: f"sum(s in prisoner.keywork.sessions: {a})", atom),
        st.builds(lambda a: f"min(map(a in prisoner.alerts: {a}))", atom),
        st.builds(lambda a: f"sum(x in [{a}, {a}]: x)", atom),
    )


# decimals whose SQL does not show their places (an extreme, a sum, a quantifier's element),
# some small and some large enough that two of them pass what a SQL decimal holds: each with
# the places the interpreter's value has (the same in SQL)
UNSHOWN = [
    ("max(map(a in prisoner.alerts: 3000000000000000000.5))", 1),
    ("sum(a in prisoner.alerts: 2000000000000000000000000000000000.25)", 2),
    ("min(map(s in prisoner.keywork.sessions: s.minutes * 10000000000000000.125))", 3),
    ("sum(x in [len(prisoner.alerts) * 0.5]: x)", 1),
    ("max(map(a in prisoner.alerts: len(prisoner.alerts) * -2.75))", 2),
    ("sum(map(s in prisoner.keywork.sessions: s.minutes * 4000000000000000000000000000000.5))", 1),
    ("max([establishment.regime_level * 7000000000000000000000000000000000.5, 0.25])", 2),
]


def past_sql(op: str, a: tuple[str, int], b: tuple[str, int]) -> tuple[str, str]:
    """`a op b`, and where it passes what a SQL decimal holds at its places, as the query
    tests it (the product of the magnitudes, or their sum, within one in a thousand of it)."""
    places = a[1] + b[1] if op == "*" else max(a[1], b[1])
    limit = f"{Decimal('0.999').scaleb(38 - places):f}.0"
    size = f"abs({a[0]}) {'*' if op == '*' else '+'} abs({b[0]})"
    return f"({a[0]}) {op} ({b[0]})", f"{size} >= {limit}"


def dates(depth: int) -> st.SearchStrategy[str]:
    atom = st.sampled_from(DATES)
    if depth == 0:
        return atom
    return st.one_of(
        atom,
        st.builds(lambda c, a, b: f"(if {c} then {a} else {b})", bools(depth - 1), atom, atom),
    )


@cache
def population() -> tuple[list[tuple[int, Any, dict[str, Any]]], Any]:
    docs = list(Population(seed=4).documents(300, roots=("prisoner", "establishment")))
    prepared = [(i, a, converted(d)) for i, a, d in docs]
    return prepared, facts_table(prepared)


@cache
def facts_connection() -> Any:
    """One DuckDB database per test process with the population as table `facts`: opening a
    database costs more than running one of these queries over the 300 rows."""
    con = duckdb.connect()
    con.register("facts", population()[1])
    return con


def scope() -> SimpleScope:
    return SimpleScope(
        {
            **{name: Symbol("root", t, True) for name, t in root_types().items()},
            "as_of": Symbol("as_of", T.DATE, False),
        }
    )


def same_value(value: Any, t: T.Type) -> Any:
    """Decimals compared as numbers (a quotient is held at a fixed scale: 0.5 is 0.5000000000)
    and, where no division is involved, as text too (see `test_decimal_text`)."""
    if t.kind == "decimal" and value is not None:
        return Decimal(value).normalize()
    return value


def sql_of(text: str) -> tuple[Any, Any, PathBits]:
    checked = check(parse(text), scope())
    assert not checked.errors, (text, checked.errors)
    bits = PathBits()

    def no_names(name: str) -> Any:
        raise AssertionError(name)

    try:
        sv = ExprCompiler(checked, Scope(name=no_names, bits=bits)).compile()
    except Unsupported as e:  # pragma: no cover - every construct used here has a SQL form
        raise AssertionError(f"{text}: {e}") from None
    return checked, sv, bits


def interpret(fn: Any, facts: dict[str, Any]) -> Any:
    """The interpreter's value, with its decimals and its words for a value out of range as
    `engine.api` decides (the SQL form names the pack `<pack>` when it has none)."""
    try:
        with decimal.localcontext(EXACT):
            return fn(facts, lambda name: None)
    except (OverflowError, ValueError, ArithmeticError) as e:
        raise out_of_range("<pack>", e) from None


def agree(text: str, wider: bool = False, limit: str | None = None) -> None:
    checked, sv, bits = sql_of(text)
    fn = compile_checked(checked).fn
    past = compile_checked(sql_of(limit)[0]).fn if limit is not None else None

    def no_names(name: str) -> Any:
        raise AssertionError(name)

    docs, _ = population()
    # each tree is rendered once and thrown away: no copy first (sqlglot copies by default)
    error = sv.e.sql("duckdb", copy=False) if sv.e is not None else "NULL"
    value, mask = sv.v.sql("duckdb", copy=False), sv.m.sql("duckdb", copy=False)
    sql = f"SELECT record, {value} AS v, {mask} AS m, {error} AS e FROM facts"
    rows = {r[0]: (r[1], r[2], r[3]) for r in facts_connection().execute(sql).fetchall()}
    for rid, as_of, doc in docs:
        if past is not None and past({**doc, "as_of": as_of}, no_names) is True:
            try:  # the interpreter decides it (or stops at a limit of its own, far beyond)
                interpret(fn, {**doc, "as_of": as_of})
            except EvaluationError as e:
                assert e.code in ("E-EVAL-RANGE", "E-EVAL-LIMIT-INT"), (rid, text, e)
            error = rows[rid][2] or ""
            assert error.endswith(f"{PYTHON_DECIDES} [E-EVAL-RANGE]"), (rid, text, rows[rid])
            continue
        try:
            value = interpret(fn, {**doc, "as_of": as_of})
        except EvaluationError as e:  # the decision stops: the row holds the same error
            assert rows[rid][2] == str(e), f"record {rid} (as_of {as_of}): {text}: {rows[rid]}"
            continue
        assert rows[rid][2] is None, f"record {rid} (as_of {as_of}): {text}: {rows[rid][2]}"
        if isinstance(value, Unknown):
            expected = (None, sorted(value.paths))
        else:
            expected = (same_value(plain(value), checked.type), [])
        v, m, _ = rows[rid]
        paths = sorted(p for i, p in enumerate(bits.paths) if int(m) >> i & 1) if v is None else []
        got = (same_value(sql_plain(v, checked.type), checked.type), paths)
        if wider and got[0] == expected[0] and set(paths) >= set(expected[1]):
            continue
        assert got == expected, f"record {rid} (as_of {as_of}): {text}: {got} != {expected}"


def test_every_atom_agrees() -> None:
    for text in BOOLS + INTS + DATES + OTHERS:
        agree(text)


@pytest.mark.parametrize(("text", "past"), LIMITED)
def test_a_value_sql_cannot_hold_is_that_rows_error(text: str, past: str) -> None:
    agree(text, limit=past)


@pytest.mark.parametrize("text", WIDER)
def test_a_field_of_a_computed_list_element_names_at_least_the_interpreters_facts(
    text: str,
) -> None:
    agree(text, wider=True)


@pytest.mark.parametrize(("text", "code"), ERRORS)
def test_a_run_time_error_is_the_rows_and_the_interpreters(text: str, code: str) -> None:
    """The interpreter stops on some records (with `code`) and decides the others; the query
    runs to the end and gives each erring row the interpreter's error text."""
    checked, _, _ = sql_of(text)
    fn = compile_checked(checked).fn
    docs, _ = population()
    codes = []
    for _, as_of, doc in docs:
        try:
            interpret(fn, {**doc, "as_of": as_of})
        except EvaluationError as e:
            codes.append(e.code)
    assert set(codes) == {code}
    assert 0 < len(codes) < len(docs)  # both kinds of record are there
    agree(text)


@settings(max_examples=30, deadline=None)
@given(quotients(2))
def test_generated_divisions_err_on_the_same_records(text: str) -> None:
    agree(text)


@settings(max_examples=45, deadline=None)
@given(st.one_of(bools(3), ints(2), dates(2), st.sampled_from(OTHERS)))
def test_generated_expressions_agree(text: str) -> None:
    agree(text)


# (18 of the 147 pairs a run: a fixed draw under CI, where hypothesis is derandomised)
@settings(max_examples=18, deadline=None)
@given(st.sampled_from("+-*"), st.sampled_from(UNSHOWN), st.sampled_from(UNSHOWN))
def test_generated_decimals_past_sql_are_the_rows_error(
    op: str, a: tuple[str, int], b: tuple[str, int]
) -> None:
    """Decimal arithmetic on values whose SQL does not show their places: the query runs to
    the end, a row whose value SQL cannot hold errs (saying the interpreter decides it), and
    every other row has the interpreter's value."""
    text, limit = past_sql(op, a, b)
    agree(text, limit=limit)


@settings(max_examples=12, deadline=None)
@given(decimals(2))
def test_generated_decimal_texts_agree(text: str) -> None:
    """The text of generated decimals equals the interpreter's on every record, character for
    character (so the places, notation and sign of zero agree, not only the values)."""
    agree(f"text({text})")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("3.25", "3.25"),
        ("if true then 3.50 else null", "3.50"),
        ("1.05 * 2.5", "2.625"),
        ("1.5 + 2", "3.5"),
        ("2.50 - 0.5", "2.00"),
        ("round(2.345, 2)", "2.35"),
        ("round(-2.345, 2)", "-2.35"),
    ],
)
def test_decimal_text(text: str, shown: str) -> None:
    """Sums, products and rounding carry the places the interpreter's decimals carry."""
    checked, sv, _ = sql_of(text)
    assert plain(compile_checked(checked).fn({"as_of": None}, lambda n: None)) == shown
    con = duckdb.connect()
    (value,) = con.execute(f"SELECT {sv.v.sql('duckdb')}").fetchone()
    con.close()
    assert sql_plain(value, checked.type) == shown


# The new forms and per-row errors, on Spark: each gives, row for row, what DuckDB gives (and
# DuckDB what the interpreter gives, above).
ON_SPARK = [
    "len(prisoner.alerts) / 2048",
    "sum(s in prisoner.keywork.sessions: s.minutes * 0.25)",
    "round(len(prisoner.alerts) / 8, establishment.regime_level)",
    "minutes(45 minutes / (len(prisoner.alerts) - 2))",
    "prisoner.release_date + len(prisoner.alerts) * 1000000 days",
    "prisoner.release_date + len(prisoner.alerts) * 30000 months",
    f"establishment.regime_level * {BIG} > 0",
    f"sum(s in prisoner.keywork.sessions: {BIG})",
    "len(prisoner.alerts) * 1000000000000000000000000000.5 * 1000000000000.5 > 0",
    "text(10 / (len(prisoner.alerts) * 0.5 + 0.5))",
    "text(round(len(prisoner.alerts) * -0.001, 2) + len(prisoner.alerts) * 0.0000001)",
    "text(round(len(prisoner.alerts) * 1234.5, -2))",
    "round(len(prisoner.alerts) * 10000000000000000000000.5, 16)",
    "(len(prisoner.alerts) + 1) * 12345678901234567.5 / 0.0000002",
    "sum(s in prisoner.keywork.sessions: 5000000000000000000000000000000000000.0)",
    "text(sum(s in prisoner.keywork.sessions: s.minutes * 0.25))",
    "text(max([len(prisoner.alerts) * 0.5, 1.50, 1.5, -0.0]))",
]


def test_new_forms_on_spark_equal_duckdb(spark_session: Any, tmp_path: Any) -> None:
    import pyarrow.parquet as pq

    _, table = population()
    path = tmp_path / "facts.parquet"
    pq.write_table(table, path)
    spark_session.read.parquet(str(path)).createOrReplaceTempView("facts")
    con = duckdb.connect()
    con.register("facts", table)
    results = {}
    for dialect in ("duckdb", "spark"):
        columns = []
        for i, text in enumerate(ON_SPARK):
            checked = check(parse(text), scope())
            sv = ExprCompiler(checked, Scope(name=None, bits=PathBits(), dialect=dialect)).compile()  # type: ignore[arg-type]
            error = sv.e.sql(dialect) if sv.e is not None else "NULL"
            columns += [f"{sv.v.sql(dialect)} AS v{i}", f"{sv.m.sql(dialect)} AS m{i}"]
            columns.append(f"{error} AS e{i}")
        sql = f"SELECT record, {', '.join(columns)} FROM facts"
        if dialect == "spark":
            rows = [tuple(r) for r in spark_session.sql(sql).collect()]
        else:
            rows = con.execute(sql).fetchall()
        results[dialect] = {r[0]: r[1:] for r in rows}
    con.close()
    assert set(results["spark"]) == set(results["duckdb"])
    failures = []
    for rid, duck in results["duckdb"].items():
        sprk = results["spark"][rid]
        for i, text in enumerate(ON_SPARK):
            t = check(parse(text), scope()).type
            a = (same_value(sql_plain(duck[3 * i], t), t), duck[3 * i + 1], duck[3 * i + 2])
            b = (same_value(sql_plain(sprk[3 * i], t), t), sprk[3 * i + 1], sprk[3 * i + 2])
            if a != b:
                failures.append(f"record {rid}: {text}: duckdb {a} != spark {b}")
    assert not failures, "\n".join(failures[:10])
