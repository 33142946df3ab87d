"""Golden tests for compiling: the Python source generated for representative expressions,
pinned under tests/unit/snapshots/compile_golden next to the value each must produce."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from engine.language import static_types as T
from engine.language.check import check
from engine.language.codegen import CompiledExpr, compile_checked, describe_const
from engine.language.parse import parse
from engine.language.runtime import Months, Unknown

from .language_scope import AS_OF, scope

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots" / "compile_golden"

SCOPE = scope(review_interval=T.MONTHS)
NAMES: dict[str, Any] = {"review_interval": Months(3)}
SESSIONS = [{"date": dt.date(2022, 6, 1), "minutes": 45}, {"date": dt.date(2022, 6, 13)}]

CASES: list[tuple[str, str, dict[str, Any], Any]] = [
    # Kleene `and` over two facts read raw: one unknown, the other true
    ("kleene_and", "p.a and p.b", {"a": True}, Unknown(frozenset({"p.b"}))),
    # a strict region: guarded once at the top, plain Python operators inside
    ("strict_region", "p.n + 1 > 2 * p.m", {"n": 3, "m": 1}, True),
    # membership in a list of literals: a frozenset constant
    ("constant_membership", 'p.level in ["LOW", "HIGH"]', {"level": "HIGH"}, True),
    # a comprehension whose body reads a field of each element and as_of
    (
        "count_recent",
        "count(s in p.sessions: s.date > as_of - 7 days) >= 1",
        {"sessions": SESSIONS},
        True,
    ),
    # a fact whose null is a known none: read once; the key tested only when the value is None
    ("none_field", "not is_none(p.z) and p.z <= as_of", {"z": None}, False),
    # choice on a possibly-unknown condition, with an exact decimal
    ("choice_decimal", "if p.a then 2.50 else 1", {"a": True}, Decimal("2.50")),
    # division: the divide-by-zero raiser knows where it is; a parameter read by name
    (
        "division_and_calendar",
        "p.x / p.n > 1 or as_of >= coalesce(p.d, as_of) + review_interval",
        {"x": Decimal("1"), "n": 4, "d": dt.date(2022, 3, 15)},
        True,
    ),
]


def compiled(text: str) -> CompiledExpr:
    checked = check(parse(text), SCOPE)
    assert checked.errors == []
    return compile_checked(checked)


def constants(expr: CompiledExpr) -> list[tuple[str, Any]]:
    """The constants the compiled function closes over, in order."""
    cells = zip(expr.fn.__code__.co_freevars, expr.fn.__closure__ or (), strict=True)
    found = [(name, cell.cell_contents) for name, cell in cells if name.startswith("_k")]
    return sorted(found, key=lambda c: int(c[0][2:]))


def golden(name: str, text: str, facts: dict[str, Any], value: Any) -> str:
    expr = compiled(text)
    lines = [f"# expression: {text}", f"# facts: {facts!r}", f"# value: {value!r}"]
    lines += [f"# {k} = {describe_const(v)}" for k, v in constants(expr)]
    return "\n".join(lines) + "\n" + expr.source


@pytest.mark.parametrize(("name", "text", "facts", "want"), CASES, ids=[c[0] for c in CASES])
def test_compiled_source(
    snapshot: Any, name: str, text: str, facts: dict[str, Any], want: Any
) -> None:
    expr = compiled(text)
    got = expr.fn({"as_of": AS_OF, "p": facts}, NAMES.__getitem__)
    assert type(got) is type(want) and got == want and repr(got) == repr(want)
    snapshot.snapshot_dir = SNAPSHOTS
    snapshot.assert_match(golden(name, text, facts, got), f"{name}.py.txt")


def test_every_snapshot_has_a_case() -> None:
    assert {p.name for p in SNAPSHOTS.glob("*.py.txt")} == {f"{c[0]}.py.txt" for c in CASES}


def test_compiling_is_deterministic() -> None:
    for _, text, _, _ in CASES:
        first, second = compiled(text), compiled(text)
        assert first.source == second.source
        assert [(k, describe_const(v)) for k, v in constants(first)] == [
            (k, describe_const(v)) for k, v in constants(second)
        ]
