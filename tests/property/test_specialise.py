"""Properties of the printer and the specialiser of the expression language:

- printing round-trips: `parse(unparse(tree))` is the tree (positions aside), for trees built
  directly (every node kind, nested any way the grammar allows) and for the text the fuzz
  target generates;
- specialising is exact: an expression with `version` fixed and folded, printed and parsed
  again, evaluates on any facts, version and definition value (a definition that fails
  included) exactly as the original does with that version, to the same value, the same
  unknown (naming the same facts) or the same error.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.language import static_types as T
from engine.language import syntax as A
from engine.language.check import Symbol, check
from engine.language.codegen import compile_checked
from engine.language.functions import FUNCTIONS
from engine.language.parse import ExprError, parse
from engine.language.runtime import Months, Unknown
from engine.language.specialise import specialise
from engine.language.unparse import unparse
from engine.problems import EvaluationError

from ..fuzz.test_fuzz_expressions import expressions
from ..unit.language_scope import AS_OF, scope

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def shape(node: Any) -> Any:
    """A tree as nested tuples without positions; a literal's value with its type and spelling
    (so that 2.50 and 2.5, or 1 and true, stay apart)."""
    if isinstance(node, A.Lit):
        return ("Lit", node.kind, type(node.value).__name__, repr(node.value))
    if isinstance(node, A.Node):
        return (type(node).__name__,) + tuple(
            shape(getattr(node, f.name)) for f in dataclasses.fields(node) if f.name != "loc"
        )
    if isinstance(node, tuple):
        return tuple(shape(x) for x in node)
    return node


# -- trees built directly ----------------------------------------------------------------------

LOC = A.Loc(1, 1, 1, 1)
NAMES = st.sampled_from(["a", "b", "p", "version", "as_of", "xs", "x_1", "days", "counter"])

literals = st.one_of(
    st.integers(0, 10**20).map(lambda n: A.Lit(LOC, n, "int")),
    st.decimals(0, 10**6, places=3, allow_nan=False, allow_infinity=False).map(
        lambda d: A.Lit(LOC, d, "decimal")
    ),
    st.text(max_size=10).map(lambda s: A.Lit(LOC, s, "string")),
    st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)).map(lambda d: A.Lit(LOC, d, "date")),
    st.integers(0, 100_000).map(lambda n: A.Lit(LOC, dt.timedelta(days=n), "duration")),
    st.integers(0, 10**6).map(lambda n: A.Lit(LOC, dt.timedelta(minutes=n), "duration")),
    st.integers(0, 1200).map(lambda n: A.Lit(LOC, Months(n), "duration")),
    st.booleans().map(lambda b: A.Lit(LOC, b, "bool")),
    st.just(A.Lit(LOC, None, "null")),
)
leaves = st.one_of(literals, NAMES.map(lambda n: A.Name(LOC, n)))
LOGIC = ["and", "or"]
BINARY = ["+", "-", "*", "/", "==", "!=", "<", "<=", ">", ">=", "in", "not in"]


def _record(fields: list[tuple[str, A.Node]]) -> A.RecordLit:
    seen: dict[str, A.Node] = dict(fields)  # a field appears once in a record
    return A.RecordLit(LOC, tuple(seen.items()))


def _extend(inner: st.SearchStrategy[A.Node]) -> st.SearchStrategy[A.Node]:
    return st.one_of(
        st.builds(lambda o, n: A.Attr(LOC, o, n), inner, NAMES),
        st.builds(lambda op, x: A.Unary(LOC, op, x), st.sampled_from(["not", "-"]), inner),
        st.builds(lambda op, x, y: A.Binary(LOC, op, x, y), st.sampled_from(BINARY), inner, inner),
        st.builds(lambda op, x, y: A.Logic(LOC, op, x, y), st.sampled_from(LOGIC), inner, inner),
        st.builds(lambda c, x, y: A.If(LOC, c, x, y), inner, inner, inner),
        st.builds(
            lambda k, v, it, body: A.Comprehension(LOC, k, v, it, body),
            st.sampled_from(["any", "all", "count", "filter", "map", "sum"]),
            NAMES,
            inner,
            inner,
        ),
        st.builds(
            lambda f, args: A.Call(LOC, f, tuple(args)),
            st.sampled_from(sorted(FUNCTIONS)),
            st.lists(inner, max_size=3),
        ),
        st.lists(inner, max_size=3).map(lambda xs: A.ListLit(LOC, tuple(xs))),
        st.lists(st.tuples(NAMES, inner), max_size=3).map(_record),
    )  # fmt: skip


trees = st.recursive(leaves, _extend, max_leaves=12)


@SETTINGS
@given(trees)
def test_printing_round_trips_on_built_trees(tree: A.Node) -> None:
    text = unparse(tree)
    assert "\n" not in text
    assert shape(parse(text)) == shape(tree), text


@SETTINGS
@given(expressions())
def test_printing_round_trips_on_generated_text(text: str) -> None:
    try:
        tree = parse(text)
    except ExprError:
        return
    printed = unparse(tree)
    assert shape(parse(printed)) == shape(tree), (text, printed)
    assert unparse(parse(printed)) == printed  # printing what was printed changes nothing


# -- specialising is exact ---------------------------------------------------------------------

SCOPE = scope()
SCOPE.symbols["version"] = Symbol("version", T.enum_of("string", ["1", "2", "3"], "version"), False)
SCOPE.symbols["d"] = Symbol("definition", T.BOOL, True)
SCOPE.symbols["k"] = Symbol("definition", T.INT, True)
PLAIN = frozenset({"p", "as_of", "version"})

CONDITIONS = [
    'version == "1"',
    'version != "2"',
    '"2" == version',
    'version in ["1", "3"]',
    'version not in ["2"]',
    'version < "2"',
    "p.a",
    "p.b",
    "not p.c",
    "p.n > 0",
    "p.n / p.m > 1",  # may divide by zero
    "10 / p.n == 5",
    "d",  # a definition: may be unknown or fail
    "k > 0",
    "known(p.n)",
    "is_none(p.z)",
    "true",
    "false",
    "null",
    "any x in p.xs: x > 0",
    "any version in p.xs: version > 1",  # a variable named like the fixed name
]
NUMBERS = ["p.n", "p.m", "k", "1", "null", "len(p.xs)"]


def formulas() -> st.SearchStrategy[str]:
    return st.recursive(
        st.sampled_from(CONDITIONS),
        lambda inner: st.one_of(
            st.builds(lambda x: f"not ({x})", inner),
            st.builds(lambda x, y: f"({x}) and ({y})", inner, inner),
            st.builds(lambda x, y: f"({x}) or ({y})", inner, inner),
            st.builds(lambda c, x, y: f"if {c} then ({x}) else ({y})", inner, inner, inner),
            st.builds(
                lambda c, x, y: f"(if {c} then {x} else {y}) > 0",
                inner,
                st.sampled_from(NUMBERS),
                st.sampled_from(NUMBERS),
            ),
            st.builds(lambda x: f"count(x in p.xs: ({x}) and x > 0) > 0", inner),
        ),
        max_leaves=8,
    )


ints = st.integers(-3, 3)
facts = st.fixed_dictionaries(
    {},
    optional={
        "a": st.one_of(st.none(), st.booleans()),
        "b": st.one_of(st.none(), st.booleans()),
        "c": st.one_of(st.none(), st.booleans()),
        "n": st.one_of(st.none(), ints),
        "m": st.one_of(st.none(), ints),
        "z": st.one_of(st.none(), st.dates(dt.date(2020, 1, 1), dt.date(2022, 1, 1))),
        "xs": st.one_of(st.none(), st.lists(ints, max_size=3)),
    },
)
FAILS = EvaluationError("E-EVAL-DIV0", "a definition that fails")
definitions = st.fixed_dictionaries(
    {
        "d": st.sampled_from([True, False, Unknown(frozenset({"p.q"})), FAILS]),
        "k": st.sampled_from([2, -1, Unknown(frozenset({"p.r"})), FAILS]),
    }
)


def outcome(text: str, f: dict[str, Any], version: str, names: dict[str, Any]) -> Any:
    checked = check(parse(text), SCOPE)
    assert checked.errors == [], (text, checked.errors)

    def name(n: str) -> Any:
        value = names[n]
        if isinstance(value, Exception):
            raise value
        return value

    try:
        value = compile_checked(checked).fn({"as_of": AS_OF, "version": version, "p": f}, name)
    except EvaluationError as e:
        return ("error", e.code)
    if isinstance(value, Unknown):
        return ("unknown", value.paths)
    return ("value", type(value).__name__, value)


@SETTINGS
@given(formulas(), st.sampled_from(["1", "2", "3"]), facts, definitions)
def test_specialised_evaluates_as_the_original(
    text: str, version: str, f: dict[str, Any], names: dict[str, Any]
) -> None:
    tree = parse(text)
    special = specialise(tree, {"version": version}, PLAIN)
    printed = unparse(special)
    assert shape(parse(printed)) == shape(special)
    assert outcome(printed, f, version, names) == outcome(text, f, version, names), printed


@SETTINGS
@given(formulas(), st.sampled_from(["1", "2", "3"]))
def test_specialising_twice_changes_nothing(text: str, version: str) -> None:
    once = specialise(parse(text), {"version": version}, PLAIN)
    assert specialise(once, {"version": version}, PLAIN) is once


def test_decimal_literal_spelling_survives() -> None:
    assert unparse(A.Lit(LOC, Decimal("2.50"), "decimal")) == "2.50"
