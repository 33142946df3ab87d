"""Tests for evaluating the expression language: every operator and built-in function with known
and unknown operands, calendar arithmetic, exact decimals, Kleene logic and the fact paths an
unknown remembers, comprehensions, records, membership, choice and division by zero."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

import pytest

from engine.language import static_types as T
from engine.language import syntax as A
from engine.language.check import check
from engine.language.codegen import compile_checked
from engine.language.functions import FUNCTIONS
from engine.language.parse import parse
from engine.language.runtime import Months, Unknown
from engine.problems import EvaluationError

from .language_scope import AS_OF, scope

SCOPE = scope(limit=T.INT)
NAMES = {"limit": 3}
D = dt.date
DAYS = dt.timedelta


def compiled(text: str) -> Any:
    checked = check(parse(text), SCOPE)
    assert checked.errors == [], checked.errors
    return compile_checked(checked).fn


def run(text: str, **facts: Any) -> Any:
    return compiled(text)({"as_of": AS_OF, "p": facts}, NAMES.__getitem__)


def U(*paths: str) -> Unknown:
    """The unknown expected from these fact paths."""
    return Unknown(frozenset(paths))


def same(got: Any, want: Any) -> bool:
    """Equal, of the same type, and (for decimals) with the same places."""
    if type(got) is not type(want):
        return False
    if isinstance(want, Unknown):
        return got.paths == want.paths
    if isinstance(want, list):
        return len(got) == len(want) and all(same(g, w) for g, w in zip(got, want, strict=True))
    if isinstance(want, Decimal):
        return str(got) == str(want)
    return bool(got == want)


def check_case(text: str, facts: dict[str, Any], want: Any) -> None:
    got = run(text, **facts)
    assert same(got, want), f"{text} with {facts}: got {got!r}, want {want!r}"


SESSIONS = [
    {"date": D(2022, 6, 13), "minutes": 45, "kind": "session"},
    {"date": D(2022, 6, 1), "minutes": 20, "kind": "note"},
    {"date": D(2022, 6, 14), "minutes": 60, "kind": "session"},
]

# -- every operator and function with known operands ------------------------------------------

KNOWN: list[tuple[str, dict[str, Any], Any]] = [
    # arithmetic
    ("p.n + 1", {"n": 2}, 3),
    ("p.n - p.m", {"n": 5, "m": 7}, -2),
    ("p.n * 4", {"n": 3}, 12),
    ("p.n / 2", {"n": 7}, Decimal("3.5")),
    ("-p.n", {"n": 4}, -4),
    ("-(2 days)", {}, DAYS(days=-2)),
    ("-(1 month)", {}, Months(-1)),
    ('p.s + "!"', {"s": "ab"}, "ab!"),
    ("p.xs + [3]", {"xs": [1, 2]}, [1, 2, 3]),
    ("2 days * 3", {}, DAYS(days=6)),
    ("p.n * 1 month", {"n": 2}, Months(2)),
    ("10 days / 4", {}, DAYS(days=2, hours=12)),
    ("1 year + 1 month", {}, Months(13)),
    ("1 year - 1 month", {}, Months(11)),
    ("45 minutes + 15 minutes", {}, DAYS(hours=1)),
    ("p.d + 7 days", {"d": D(2022, 12, 28)}, D(2023, 1, 4)),
    ("p.d - 1 week", {"d": D(2022, 1, 3)}, D(2021, 12, 27)),
    ("p.d - p.e", {"d": D(2022, 3, 1), "e": D(2022, 2, 1)}, DAYS(days=28)),
    ("as_of - 7 days", {}, D(2022, 6, 8)),
    # comparison
    ("p.n == 1", {"n": 1}, True),
    ("p.n != 1", {"n": 1}, False),
    ("p.n < 2", {"n": 1}, True),
    ("p.n <= 1", {"n": 1}, True),
    ("p.n > 1", {"n": 1}, False),
    ("p.n >= 2", {"n": 1}, False),
    ("p.x == 2", {"x": Decimal("2.00")}, True),
    ('p.s < "b"', {"s": "a"}, True),
    ("p.d < p.e", {"d": D(2022, 1, 1), "e": D(2022, 1, 2)}, True),
    ("2 weeks > 13 days", {}, True),
    ("3 months < 1 year", {}, True),
    ('p.level == "HIGH"', {"level": "HIGH"}, True),
    ("[1, 2] == [1, 2]", {}, True),
    ("{a: 1} == {a: 1}", {}, True),
    # logic
    ("not p.a", {"a": True}, False),
    ("p.a and p.b", {"a": True, "b": False}, False),
    ("p.a or p.b", {"a": False, "b": True}, True),
    # membership
    ("p.n in [1, 2]", {"n": 2}, True),
    ("p.n not in [1, 2]", {"n": 2}, False),
    ("p.n in p.xs", {"n": 3, "xs": [1, 2]}, False),
    ("p.n not in p.xs", {"n": 3, "xs": [1, 2]}, True),
    ("p.n in [p.m, 2]", {"n": 5, "m": 5}, True),
    ("p.n not in [p.m, 2]", {"n": 1, "m": 5}, True),
    # choice, records, names
    ('if p.a then "yes" else "no"', {"a": False}, "no"),
    ("if false then 1 else if true then 2 else 3", {}, 2),
    ('{count: 1, per: "week"}.per', {}, "week"),
    ("{outer: {inner: 2}}.outer.inner", {}, 2),
    ("p.r.k", {"r": {"k": 7}}, 7),
    ("p.n < limit", {"n": 2}, True),
    # comprehensions
    ("any s in p.sessions: s.minutes > 50", {"sessions": SESSIONS}, True),
    ("all s in p.sessions: s.minutes > 30", {"sessions": SESSIONS}, False),
    ("count(s in p.sessions: s.date > as_of - 7 days)", {"sessions": SESSIONS}, 2),
    ("filter(x in p.xs: x > 1)", {"xs": [1, 2, 3]}, [2, 3]),
    ("map(s in p.sessions: s.kind)", {"sessions": SESSIONS}, ["session", "note", "session"]),
    ("sum(s in p.sessions: s.minutes)", {"sessions": SESSIONS}, 125),
    # functions
    ("age(p.d)", {"d": D(2004, 6, 15)}, 18),
    ("age(p.d)", {"d": D(2004, 6, 16)}, 17),
    ("age_on(p.d, 2022-09-01)", {"d": D(2010, 9, 2)}, 11),
    ("days(p.d - p.e)", {"d": D(2022, 1, 10), "e": D(2022, 1, 1)}, 9),
    ("minutes(1 day + 30 minutes)", {}, 1470),
    ("len(p.xs)", {"xs": [4, 5]}, 2),
    ("len(p.s)", {"s": "abc"}, 3),
    ("min(p.n, 2, 3)", {"n": 5}, 2),
    ("max(p.xs)", {"xs": [3, 9, 1]}, 9),
    ("sum(p.xs)", {"xs": [1, 2, 3]}, 6),
    ("earliest(p.d, p.e)", {"d": D(2022, 1, 2), "e": D(2022, 1, 1)}, D(2022, 1, 1)),
    ("latest([p.d, p.e])", {"d": D(2022, 1, 2), "e": D(2022, 1, 1)}, D(2022, 1, 2)),
    ("known(p.n)", {"n": 0}, True),
    ("is_none(p.n)", {"n": 0}, False),
    ("is_none(null)", {}, True),
    ("coalesce(p.n, 5)", {"n": 1}, 1),
    ("compact([p.n, p.m])", {"n": 1, "m": 2}, [1, 2]),
    ("unique(p.xs)", {"xs": [2, 1, 2]}, [2, 1]),
    ("sort(p.xs)", {"xs": [2, 1, 3]}, [1, 2, 3]),
    ("flatten([p.xs, [3]])", {"xs": [1, 2]}, [1, 2, 3]),
    ("flatten(map(x in p.xs: [x, x]))", {"xs": [1, 2]}, [1, 1, 2, 2]),
    ("text(p.n)", {"n": 19}, "19"),
    ("text(p.x)", {"x": Decimal("2.50")}, "2.50"),
    ("text(p.d)", {"d": D(2022, 1, 2)}, "2022-01-02"),
    ("text(p.a)", {"a": True}, "true"),
    ("index_of(p.n, p.xs)", {"n": 3, "xs": [1, 3]}, 2),
    ("index_of(p.n, p.xs)", {"n": 4, "xs": [1, 3]}, 0),
    ("date(p.s)", {"s": "2019-03"}, D(2019, 3, 1)),
    ('date("2019-03-04")', {}, D(2019, 3, 4)),
    ("month_start(p.d)", {"d": D(2019, 2, 10)}, D(2019, 2, 1)),
    ("month_end(p.d)", {"d": D(2019, 2, 10)}, D(2019, 2, 28)),
    ("week_start(p.d)", {"d": D(2020, 7, 1)}, D(2020, 6, 29)),
    ("year(p.d)", {"d": D(2020, 7, 1)}, 2020),
    ("month(p.d)", {"d": D(2020, 7, 1)}, 7),
    ("day(p.d)", {"d": D(2020, 7, 1)}, 1),
    ("lower(p.s)", {"s": "AbC"}, "abc"),
    ("upper(p.s)", {"s": "AbC"}, "ABC"),
    ('contains(p.s, "POLICY")', {"s": "Policy reasons"}, True),
    ('contains_any(p.s, ["policy", "operational"])', {"s": "an Operational matter"}, True),
    ('contains_any(p.s, ["policy"])', {"s": "an operational matter"}, False),
    ('starts_with(p.s, "6.")', {"s": "6.17"}, True),
    ("abs(p.x)", {"x": Decimal("-2.50")}, Decimal("2.50")),
    ("round(p.x, 2)", {"x": Decimal("2.345")}, Decimal("2.35")),
]


@pytest.mark.parametrize(("text", "facts", "want"), KNOWN, ids=[c[0] for c in KNOWN])
def test_known_operands(text: str, facts: dict[str, Any], want: Any) -> None:
    check_case(text, facts, want)


# -- and with an unknown operand --------------------------------------------------------------

UNKNOWN: list[tuple[str, dict[str, Any], Any]] = [
    # arithmetic
    ("p.n + 1", {}, U("p.n")),
    ("p.n - p.m", {}, U("p.n", "p.m")),
    ("p.n * 4", {}, U("p.n")),
    ("p.n / 2", {}, U("p.n")),
    ("p.n / 0", {}, U("p.n")),
    ("-p.n", {}, U("p.n")),
    ('p.s + "!"', {}, U("p.s")),
    ("p.xs + [3]", {}, U("p.xs")),
    ("p.n * 1 month", {}, U("p.n")),
    ("p.d + 1 month", {}, U("p.d")),
    ("p.d - p.e", {"d": D(2022, 1, 1)}, U("p.e")),
    # comparison
    ("p.n == 1", {}, U("p.n")),
    ("p.n != 1", {}, U("p.n")),
    ("p.n < 2", {}, U("p.n")),
    ("p.n <= 1", {}, U("p.n")),
    ("p.n > 1", {}, U("p.n")),
    ("p.n >= 2", {}, U("p.n")),
    ("null == null", {}, U()),
    # logic
    ("not p.a", {}, U("p.a")),
    ("p.a and p.b", {"a": True}, U("p.b")),
    ("p.a or p.b", {"b": False}, U("p.a")),
    # membership
    ("p.n in [1, 2]", {}, U("p.n")),
    ("p.n not in [1, 2]", {}, U("p.n")),
    ("1 in p.xs", {}, U("p.xs")),
    ("p.n not in p.xs", {"xs": [1]}, U("p.n")),
    ("p.n in [p.m, 2]", {}, U("p.n", "p.m")),
    ("p.n in [p.m, 2]", {"n": 1}, U("p.m")),
    ("p.n in [p.m, 2]", {"n": 2}, True),
    ("1 not in [p.m, 1]", {}, False),
    ("1 not in [p.m, 2]", {}, U("p.m")),
    # choice, records
    ("if p.a then 1 else 2", {}, U("p.a")),
    ("if p.a then p.n else 0", {"a": True}, U("p.n")),
    ("if p.a then p.n else 0", {"a": False}, 0),
    ("p.r.k", {}, U("p.r.k")),
    ("p.r.k", {"r": {}}, U("p.r.k")),
    ("{k: p.n}.k", {}, U("p.n")),
    # comprehensions
    ("any x in p.xs: x > 1", {}, U("p.xs")),
    ("all x in p.xs: x > 1", {}, U("p.xs")),
    ("count(x in p.xs: x > 1)", {}, U("p.xs")),
    ("filter(x in p.xs: x > 1)", {}, U("p.xs")),
    ("map(x in p.xs: x * 2)", {}, U("p.xs")),
    ("sum(x in p.xs: x)", {}, U("p.xs")),
    # functions
    ("age(p.d)", {}, U("p.d")),
    ("age_on(p.d, p.e)", {}, U("p.d", "p.e")),
    ("days(p.d - as_of)", {}, U("p.d")),
    ("minutes(p.n * 1 minute)", {}, U("p.n")),
    ("len(p.xs)", {}, U("p.xs")),
    ("min(p.n, 1)", {}, U("p.n")),
    ("max([p.n, p.m])", {}, U("p.n", "p.m")),
    ("min([])", {}, U()),
    ("sum(p.xs)", {}, U("p.xs")),
    ("sum([p.n, 1])", {}, U("p.n")),
    ("earliest(p.d, as_of)", {}, U("p.d")),
    ("latest([p.d, p.e])", {}, U("p.d", "p.e")),
    ("known(p.n)", {}, False),
    ("is_none(p.n)", {}, U("p.n")),
    ("is_none(p.n)", {"n": None}, U("p.n")),
    ("known(p.r.k)", {"r": {}}, False),
    ("coalesce(p.n, p.m)", {}, U("p.n", "p.m")),
    ("coalesce(p.n, 3)", {}, 3),
    ("compact([p.n, 1])", {}, [1]),
    ("compact(p.xs)", {}, U("p.xs")),
    ("unique(p.xs)", {}, U("p.xs")),
    ("sort(p.xs)", {}, U("p.xs")),
    ("sort([p.n, 1])", {}, U("p.n")),
    ("flatten([p.xs, [3]])", {}, U("p.xs")),
    ("len(flatten([p.xs, [3]]))", {}, U("p.xs")),
    ("text(p.n)", {}, U("p.n")),
    ("index_of(p.n, [1])", {}, U("p.n")),
    ("index_of(2, [p.n, 2])", {}, U("p.n")),
    ("index_of(2, [2, p.n])", {}, 1),
    ("date(p.s)", {}, U("p.s")),
    ('date("2019-13-01")', {}, U()),
    ("month_start(p.d)", {}, U("p.d")),
    ("month_end(p.d)", {}, U("p.d")),
    ("week_start(p.d)", {}, U("p.d")),
    ("year(p.d)", {}, U("p.d")),
    ("month(p.d)", {}, U("p.d")),
    ("day(p.d)", {}, U("p.d")),
    ("lower(p.s)", {}, U("p.s")),
    ("upper(p.s)", {}, U("p.s")),
    ('contains(p.s, "a")', {}, U("p.s")),
    ('contains_any(p.s, ["a"])', {}, U("p.s")),
    ('contains_any("abc", [p.s])', {}, U("p.s")),
    ('contains_any("abc", [p.s, "B"])', {}, True),
    ('starts_with(p.s, "a")', {}, U("p.s")),
    ("abs(p.x)", {}, U("p.x")),
    ("round(p.x, 2)", {}, U("p.x")),
    ("round(2.5, p.n)", {}, U("p.n")),
]


@pytest.mark.parametrize(("text", "facts", "want"), UNKNOWN, ids=[c[0] for c in UNKNOWN])
def test_unknown_operands(text: str, facts: dict[str, Any], want: Any) -> None:
    check_case(text, facts, want)


def _parts(text: str) -> tuple[set[str], set[str]]:
    """The functions and the operators an expression uses."""
    funcs: set[str] = set()
    ops: set[str] = set()
    stack = [parse(text)]
    while stack:
        node = stack.pop()
        if isinstance(node, A.Call):
            funcs.add(node.func)
        elif isinstance(node, A.Unary | A.Binary | A.Logic):
            ops.add(node.op)
        elif isinstance(node, A.Comprehension):
            ops.add(node.kind)
        elif isinstance(node, A.If):
            ops.add("if")
        elif isinstance(node, A.Attr):
            ops.add(".")
        elif isinstance(node, A.RecordLit):
            ops.add("{}")
        stack.extend(A.children(node))
    return funcs, ops


OPERATORS = {
    "+",
    "-",
    "*",
    "/",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "in",
    "not in",
    "not",
    "and",
    "or",
    "if",
    ".",
    "{}",
    "any",
    "all",
    "count",
    "filter",
    "map",
    "sum",
}


@pytest.mark.parametrize("table", ["KNOWN", "UNKNOWN"])
def test_tables_cover_every_function_and_operator(table: str) -> None:
    funcs: set[str] = set()
    ops: set[str] = set()
    for text, _, _ in globals()[table]:
        f, o = _parts(text)
        funcs |= f
        ops |= o
    assert set(FUNCTIONS) - funcs == set()
    assert OPERATORS - ops == set()


# -- calendar arithmetic ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("2022-01-31 + 1 month", D(2022, 2, 28)),
        ("2024-01-31 + 1 month", D(2024, 2, 29)),
        ("2022-03-31 - 1 month", D(2022, 2, 28)),
        ("2022-12-15 + 1 month", D(2023, 1, 15)),
        ("2022-01-15 - 1 month", D(2021, 12, 15)),
        ("2022-01-31 + 2 months", D(2022, 3, 31)),
        ("2022-01-31 + 1 month + 1 month", D(2022, 3, 28)),
        ("2024-02-29 + 1 year", D(2025, 2, 28)),
        ("2024-02-29 - 1 year", D(2023, 2, 28)),
        ("2024-02-29 + 4 years", D(2028, 2, 29)),
        ("2023-02-28 + 12 months", D(2024, 2, 28)),
        ("2024-02-28 + 1 day", D(2024, 2, 29)),
        ("2023-02-28 + 1 day", D(2023, 3, 1)),
        ("2100-02-28 + 1 day", D(2100, 3, 1)),
        ("2000-02-28 + 1 day", D(2000, 2, 29)),
        ("month_end(2024-02-10)", D(2024, 2, 29)),
        ("month_end(2100-02-10)", D(2100, 2, 28)),
    ],
)
def test_calendar_arithmetic(text: str, want: dt.date) -> None:
    assert run(text) == want


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("2022-03-01 - 2022-02-01", DAYS(days=28)),
        ("2024-03-01 - 2024-02-01", DAYS(days=29)),
        ("2025-01-01 - 2024-01-01", DAYS(days=366)),
        ("2022-01-01 - 2022-01-10", DAYS(days=-9)),
        ("days(2023-01-01 - 2022-01-01)", 365),
        ("2022-01-10 - 2022-01-01 == 9 days", True),
        ("age_on(2000-02-29, 2001-02-28)", 0),
        ("age_on(2000-02-29, 2001-03-01)", 1),
        ("age_on(2000-02-29, 2004-02-29)", 4),
    ],
)
def test_date_minus_date_is_days(text: str, want: Any) -> None:
    assert same(run(text), want)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("4 weeks == 28 days", True),
        ("1 day == 1440 minutes", True),
        ("1 week == 7 days", True),
        ("1 year == 12 months", True),
        ("2 years > 23 months", True),
        ("1 month == 1 months", True),
    ],
)
def test_exact_and_calendar_durations(text: str, want: bool) -> None:
    assert run(text) is want


def test_exact_and_calendar_durations_are_different_values() -> None:
    assert isinstance(run("28 days"), dt.timedelta)
    assert isinstance(run("1 month"), Months)
    assert run("1 year") == Months(12)
    checked = check(parse("28 days < 1 month"), SCOPE)
    assert [e.code for e in checked.errors] == ["E-TYPE-DURATION"]


# -- decimals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("2.50", "2.50"),
        ("-2.50", "-2.50"),
        ("2.50 + 1", "3.50"),
        ("2.50 * 2", "5.00"),
        ("2.50 - 0.5", "2.00"),
        ("0.1 + 0.2", "0.3"),
        ("10 / 4", "2.5"),
        ("1 / 8", "0.125"),
        ("sum([0.1, 0.2, 2.50])", "2.80"),
        ("max(2.50, 1)", "2.50"),
        ("if true then 2.50 else 1", "2.50"),
        ("{price: 2.50}.price", "2.50"),
        ("round(2.345, 2)", "2.35"),
        ("round(2.5, 0)", "3"),
        ("round(-2.5, 0)", "-3"),
        ("round(2, 1)", "2.0"),
    ],
)
def test_decimals_are_exact(text: str, want: str) -> None:
    got = run(text)
    assert isinstance(got, Decimal)
    assert str(got) == want


def test_decimal_facts_keep_their_places() -> None:
    assert str(run("p.x + 0.10", x=Decimal("1.5"))) == "1.60"
    assert run("0.1 + 0.2 == 0.3") is True
    assert run("2.50 == 2.5") is True


# -- Kleene logic -----------------------------------------------------------------------------

TRUTH = [True, False, None]


def k_not(a: bool | None) -> bool | None:
    return None if a is None else not a


def k_and(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def k_or(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


def truth(value: Any) -> bool | None:
    if isinstance(value, Unknown):
        return None
    assert value is True or value is False
    return bool(value)


def as_facts(a: bool | None, b: bool | None) -> dict[str, Any]:
    # the same truth values as facts read directly and as the results of comparisons
    return {"a": a, "b": b, "n": None if a is None else int(a), "m": None if b is None else int(b)}


@pytest.mark.parametrize(("a", "b"), list(itertools.product(TRUTH, TRUTH)))
@pytest.mark.parametrize(
    ("text", "model"),
    [
        ("p.a and p.b", k_and),
        ("p.a or p.b", k_or),
        ("(p.n == 1) and (p.m == 1)", k_and),
        ("(p.n == 1) or (p.m == 1)", k_or),
        ("not p.a", lambda a, b: k_not(a)),
        ("not (p.n == 1)", lambda a, b: k_not(a)),
        ("p.a and p.b and true", k_and),
        ("false or p.a or p.b", k_or),
        ("any v in [p.a, p.b]: v", k_or),
        ("all v in [p.a, p.b]: v", k_and),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_kleene_truth_tables(text: str, model: Any, a: bool | None, b: bool | None) -> None:
    assert truth(run(text, **as_facts(a, b))) is model(a, b)


@pytest.mark.parametrize(
    ("text", "facts", "want"),
    [
        ("p.a and p.b", {}, U("p.a", "p.b")),
        ("p.a or p.b", {}, U("p.a", "p.b")),
        ("p.a and p.b", {"b": True}, U("p.a")),
        ("p.a or true", {}, True),
        ("true or p.a", {}, True),
        ("p.a and false", {}, False),
        ("p.a or false", {}, U("p.a")),
        ("not (p.a and p.b)", {}, U("p.a", "p.b")),
        ("p.n + p.m > p.r.k", {}, U("p.n", "p.m", "p.r.k")),
        ("p.a and (p.n > 1 or p.m > 1)", {"n": 0}, U("p.a", "p.m")),
        ("coalesce(p.n, p.m) + p.x", {"m": 1}, U("p.x")),
        (
            "any s in p.sessions: s.minutes > 30",
            {"sessions": [{"minutes": 10}, {}]},
            U("p.sessions[].minutes"),
        ),
        ("any s in p.sessions: s.minutes > 30", {"sessions": [{"minutes": 40}, {}]}, True),
        (
            'count(s in p.sessions: s.kind == "session")',
            {"sessions": [{"kind": "session"}, {}]},
            U("p.sessions[].kind"),
        ),
        ("if known(p.n) then p.n else p.m", {}, U("p.m")),
    ],
)
def test_unknowns_remember_their_fact_paths(text: str, facts: dict[str, Any], want: Any) -> None:
    check_case(text, facts, want)


def test_unknown_is_never_true_or_false() -> None:
    value = run("p.a")
    assert isinstance(value, Unknown)
    with pytest.raises(TypeError):
        bool(value)


# -- comprehensions, records, membership, choice ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("any x in []: true", False),
        ("all x in []: false", True),
        ("count(x in []: true)", 0),
        ("sum(x in []: x)", 0),
        ("map(x in []: x)", []),
        ("filter(x in [1, 2, 3]: x != 2)", [1, 3]),
        ("map(x in [1, 2]: {v: x * 10})", [{"v": 10}, {"v": 20}]),
        ("sum(x in [1, 2]: x * 1 day)", DAYS(days=3)),
        ("sum(x in [1, 2]: x * 1 month)", Months(3)),
        ("any x in [1, 2]: any y in [2, 3]: x == y", True),
        ("count(x in [1, 2, 3]: all y in [1]: x > y)", 2),
        ("map(x in filter(y in [3, 1, 2]: y > 1): x + 1)", [4, 3]),
        ("any x in [1, null]: x > 0", True),
        ("all x in [1, null]: x > 1", False),
    ],
)
def test_comprehensions(text: str, want: Any) -> None:
    assert same(run(text), want)


def test_comprehension_variable_shadows_a_root() -> None:
    assert run("any p in [1, 2]: p > 1") is True


def test_records() -> None:
    assert run('{count: 1, per: "week"}') == {"count": 1, "per": "week"}
    assert run('{count: 1, per: "week"}.count') == 1
    record = run("{k: p.n, j: 1}")
    assert same(record["k"], U("p.n")) and record["j"] == 1
    assert run("map(s in p.sessions: s.minutes)", sessions=[{"minutes": 1}, {}]) == [
        1,
        U("p.sessions[].minutes"),
    ]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ('"b" in ["a", "b"]', True),
        ('"c" not in ["a", "b"]', True),
        ("2022-01-01 in [2022-01-01, 2022-02-01]", True),
        ("1 in []", False),
        ("1 not in []", True),
        ("[1] in [[1], [2]]", True),
        ("1.0 in [1, 2]", True),
        ("1 in [null, 1]", True),
        ("true in [false]", False),
    ],
)
def test_membership(text: str, want: bool) -> None:
    assert run(text) is want


@pytest.mark.parametrize(("a", "want"), [(True, 1), (False, 2), (None, U("p.a"))])
def test_if_then_else(a: bool | None, want: Any) -> None:
    check_case("if p.a then 1 else 2", {"a": a}, want)


def test_if_only_evaluates_the_branch_taken() -> None:
    assert run("if p.n == 0 then 0 else 10 / p.n", n=0) == 0


# -- division by zero -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "facts", "where"),
    [
        ("p.n / p.m", {"n": 1, "m": 0}, "1:1"),
        ("10 / p.n", {"n": 0}, "1:1"),
        ("p.x / 0.0", {"x": Decimal("1")}, "1:1"),
        ("10 days / p.n", {"n": 0}, "1:1"),
        ("sum(x in p.xs: 10 / x)", {"xs": [1, 0]}, "1:16"),
        ("1 +\n  p.n / 0", {"n": 3}, "2:3"),
    ],
)
def test_division_by_zero_is_an_evaluation_error_at_the_expression(
    text: str, facts: dict[str, Any], where: str
) -> None:
    with pytest.raises(EvaluationError) as caught:
        run(text, **facts)
    assert caught.value.code == "E-EVAL-DIV0"
    assert f"at {where}" in str(caught.value)


def test_division_by_zero_names_the_expression_origin() -> None:
    checked = check(parse("1 / p.n"), SCOPE)
    fn = compile_checked(checked, origin="rule `r1`").fn
    with pytest.raises(EvaluationError, match=r"division by zero in rule `r1` at 1:1"):
        fn({"as_of": AS_OF, "p": {"n": 0}}, NAMES.__getitem__)
