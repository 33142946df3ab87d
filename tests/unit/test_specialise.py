"""The specialiser (a name fixed to a value, what becomes constant folded) and the printer that
writes its result back as expression text; each fold is checked against the compiled
expression, so that the runtime's own three-valued logic and its errors are what is matched."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from engine.language import static_types as T
from engine.language.check import Symbol, check
from engine.language.codegen import compile_checked
from engine.language.parse import parse
from engine.language.runtime import Unknown
from engine.language.specialise import literal_kind, specialise
from engine.language.unparse import unparse
from engine.problems import EvaluationError

from .language_scope import AS_OF, scope

SCOPE = scope()
SCOPE.symbols["version"] = Symbol("version", T.enum_of("string", ["1", "2"], "version"), False)
SCOPE.symbols["d"] = Symbol("definition", T.BOOL, True)  # a definition: reading it may fail
PLAIN = {"p", "as_of", "version"}


def spec(text: str, version: str = "1", plain: set[str] = PLAIN) -> str:
    return unparse(specialise(parse(text), {"version": version}, plain))


def run(text: str, facts: dict[str, Any], version: str = "1", d: Any = True) -> Any:
    """The compiled expression's value, or the code of the error it stops with."""
    checked = check(parse(text), SCOPE)
    assert checked.errors == [], (text, checked.errors)

    def name(n: str) -> Any:
        if isinstance(d, Exception):
            raise d
        return d

    try:
        return compiled(checked)({"as_of": AS_OF, "version": version, "p": facts}, name)
    except EvaluationError as e:
        return e.code


def compiled(checked: Any) -> Any:
    return compile_checked(checked).fn


@pytest.mark.parametrize(
    "text, version, expected",
    [
        ('version == "1"', "1", "true"),
        ('version == "1"', "2", "false"),
        ('version != "1"', "2", "true"),
        ('"2" == version', "2", "true"),
        ('version < "2"', "1", "true"),
        ('version >= "2"', "1", "false"),
        ('version in ["1", "3"]', "1", "true"),
        ('version in ["2", "3"]', "1", "false"),
        ('version not in ["2"]', "1", "true"),
        ("version in []", "1", "false"),
        ('not (version == "2")', "1", "true"),
        ('not not (version == "2")', "1", "false"),
        # and / or with a decided side
        ('version == "2" and p.a', "1", "false"),
        ('version == "2" and p.a', "2", "p.a"),
        ('version == "2" and d', "1", "false"),  # d is never evaluated
        ('version == "2" and d', "2", "d"),
        ('p.a and version == "1"', "1", "p.a"),
        ('d and version == "1"', "1", "d"),
        ('version == "1" or p.a', "1", "true"),
        ('version == "1" or d', "2", "d"),
        ('p.a or version == "2"', "1", "p.a"),
        # a side that cannot fail (a fact read) may be dropped before the deciding value
        ('p.a and version == "2"', "1", "false"),
        ('p.n > p.m or version == "1"', "1", "true"),
        ('not known(p.n) and version == "2"', "1", "false"),
        # a chain folds from the left, as it is evaluated
        ('version == "2" and p.a and d and p.n > 1', "1", "false"),
        ('version == "2" and p.a and d and p.n > 1', "2", "p.a and d and p.n > 1"),
        # if with a decided condition
        ('if version == "1" then p.n else p.m', "1", "p.n"),
        ('if version == "1" then p.n else p.m', "2", "p.m"),
        ('if version == "2" and p.a then 3 else null', "1", "null"),
        ('if version == "2" and p.a then 3 else null', "2", "if p.a then 3 else null"),
        ('if (if version == "1" then null else p.a) then p.n else p.m', "1", "null"),
        # inside quantifiers, calls, lists, records and field reads
        ('count(x in p.xs: version == "1" and x > 0)', "1", "count(x in p.xs: x > 0)"),
        ('any s in p.sessions: s.minutes > 1 or version == "1"', "1", "any s in p.sessions: true"),
        ('coalesce(if version == "1" then p.n else p.m, 0)', "2", "coalesce(p.m, 0)"),
        ('[version, "x"]', "2", '["2", "x"]'),
        ('{k: version == "2"}.k', "2", "{k: true}.k"),
    ],
)
def test_folds(text: str, version: str, expected: str) -> None:
    assert spec(text, version) == expected


@pytest.mark.parametrize(
    "text, version, expected",
    [
        # the left side is still evaluated first, and it may fail: left as it is
        ('d and version == "2"', "1", "d and false"),
        ('d or version == "1"', "1", "d or true"),
        ('p.n / p.m > 1 and version == "2"', "1", "p.n / p.m > 1 and false"),
        ('sum(p.xs) > 1 and version == "2"', "1", "sum(p.xs) > 1 and false"),
        ('(any x in p.xs: x > 0) and version == "2"', "1", "(any x in p.xs: x > 0) and false"),
        ('-p.n > 1 and version == "2"', "1", "-p.n > 1 and false"),
        # a quantifier's own variable named like the fixed name is not the fixed name
        ("any version in p.xs: version > 0", "1", "any version in p.xs: version > 0"),
        ('version in [p.s, "1"]', "2", '"2" in [p.s, "1"]'),
        ('version + "x" == "1x"', "1", '"1" + "x" == "1x"'),
    ],
)
def test_what_does_not_fold(text: str, version: str, expected: str) -> None:
    assert spec(text, version) == expected


@pytest.mark.parametrize(
    "kept",
    [
        "1 + 2 == 3",  # arithmetic: never folded
        "2.50 == 2.5",  # decimals
        "1 == 1.0",  # literals of two kinds
        "true < false",
        "null == null",
        "not null",
        "-5 < 3",
        "p.a and true",  # what the version does not decide is left as written
    ],
)
def test_only_what_the_fixed_names_decide_folds(kept: str) -> None:
    assert spec(f'version == "1" and ({kept})') == unparse(parse(kept))


def test_a_name_that_is_not_plain_is_never_dropped() -> None:
    assert spec('p.a and version == "2"', plain=set()) == "p.a and false"
    assert spec('p.a and version == "2"', plain={"p"}) == "false"


def test_nothing_to_substitute_gives_back_the_same_tree() -> None:
    node = parse("p.a and (p.b or not p.c) and 1 + 2 == 3 and true")
    assert specialise(node, {"version": "1"}) is node
    shadowed = parse("any version in p.xs: version > 0")
    assert specialise(shadowed, {"version": "1"}) is shadowed


def test_fixed_values_of_each_kind() -> None:
    assert spec("version") == '"1"'
    node = parse("as_of > p.d and p.n == n and p.a == flag and p.s == s and z")
    fixed = {"as_of": dt.date(2022, 1, 31), "n": 3, "flag": True, "s": 'a"b', "z": None}
    out = unparse(specialise(node, fixed))
    assert out == '2022-01-31 > p.d and p.n == 3 and p.a == true and p.s == "a\\"b" and null'
    with pytest.raises(ValueError, match="cannot fix a name"):
        literal_kind(1.5)
    with pytest.raises(ValueError, match="cannot fix a name"):
        literal_kind(dt.datetime(2022, 1, 1))  # noqa: DTZ001 - a value that may not be fixed


# -- the folds are the runtime's ---------------------------------------------------------------

FACTS = [
    {},
    {"a": True, "b": False, "n": 2, "m": 0, "xs": [1, -1]},
    {"a": False, "n": 1, "m": 1, "xs": []},
    {"a": None, "n": None, "m": None},
]


@pytest.mark.parametrize(
    "text",
    [
        'version == "2" and d',
        'version == "1" or d',
        'd and version == "2"',
        'p.a and version == "2"',
        'p.a or version == "1"',
        'p.n / p.m > 1 and version == "2"',
        'version == "2" and p.n / p.m > 1',
        'if version == "2" and p.a then p.n else null',
        'if version == "1" then p.n / p.m else p.m',
        'count(x in p.xs: version == "1" and x > 0)',
        'not (version == "1") or p.a and d',
    ],
)
@pytest.mark.parametrize("version", ["1", "2"])
@pytest.mark.parametrize("d", [True, False, Unknown(frozenset({"p.q"})), "error"])
def test_specialised_evaluates_as_the_original(text: str, version: str, d: Any) -> None:
    value = EvaluationError("E-EVAL-DIV0", "a definition that fails") if d == "error" else d
    short = spec(text, version)
    for facts in FACTS:
        want = run(text, facts, version, value)
        got = run(short, facts, version, value)
        assert _same(got, want), (text, short, facts, got, want)


def _same(x: Any, y: Any) -> bool:
    if isinstance(x, Unknown) or isinstance(y, Unknown):
        return isinstance(x, Unknown) and isinstance(y, Unknown) and x.paths == y.paths
    return type(x) is type(y) and x == y


def test_unknown_and_false_is_false_at_run_time() -> None:
    # Kleene `and`: an unknown fact and `false` is false, so a fact read may be dropped
    assert run('p.a and version == "2"', {}) is False
    assert run('p.a or version == "1"', {}) is True
    # but a side that fails stops the expression before the deciding value is reached
    assert run('p.n / p.m > 1 and version == "2"', {"n": 1, "m": 0}) == "E-EVAL-DIV0"
    # and `false and <failing>` never evaluates the failing side
    assert run('version == "2" and p.n / p.m > 1', {"n": 1, "m": 0}) is False


# -- the printer -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, printed",
    [
        ("a and (b or c)", "a and (b or c)"),
        ("(a and b) or c", "a and b or c"),
        ("not (a and b)", "not (a and b)"),
        ("a - (b - c)", "a - (b - c)"),
        ("(a - b) - c", "a - b - c"),
        ("a * (b + c)", "a * (b + c)"),
        ("-(-a)", "- -a"),
        ("-(a.b)", "-a.b"),
        ("(-a).b", "(-a).b"),
        ("(a + b) < c", "a + b < c"),
        ("(a < b) == c", "(a < b) == c"),
        ("(any x in xs: x) and y", "(any x in xs: x) and y"),
        ("any x in (if a then xs else ys): x", "any x in (if a then xs else ys): x"),
        ("if (if a then b else c) then d else if e then f else g",
         "if (if a then b else c) then d else if e then f else g"),
        ("count(x in xs + ys: x > 1)", "count(x in xs + ys: x > 1)"),
        ("{k: [1, 2,], j: {}}", "{k: [1, 2], j: {}}"),
        ("f()", "f()"),
        ("1 week + 1 year + 1 day + 1 month + 90 minutes + 1 minute",
         "7 days + 12 months + 1 day + 1 month + 90 minutes + 1 minute"),
        ("2.50 + 0.0000001", "2.50 + 0.0000001"),
        ("'say \"hi\"\\n'", '"say \\"hi\\"\\n"'),
        ("2020-02-29 == null", "2020-02-29 == null"),
        ("x not in [1]", "x not in [1]"),
    ],
)  # fmt: skip
def test_printing(text: str, printed: str | None) -> None:
    try:
        node = parse(text)
    except Exception:  # noqa: BLE001 - a text that does not parse is not printed
        assert printed is None
        return
    assert unparse(node) == printed
