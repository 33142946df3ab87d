"""Runtime values: the unknown value, calendar durations and helpers that compiled code calls."""

from __future__ import annotations

import calendar
import datetime as dt
import threading
from collections.abc import Callable, Iterable
from decimal import (
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
)
from typing import Any

from engine.problems import EvaluationError


class Unknown:
    """The third truth value: a fact that is absent (or null, unless its schema says a null is a
    known none), remembering which facts it came from. With no facts it is the decided no-value.

    Combining unknowns only links them; the set of fact paths is worked out when asked for,
    so that evaluations that never report it do not pay for it.
    """

    __slots__ = ("_paths", "_parts")

    def __init__(self, paths: frozenset[str] = frozenset(), parts: tuple[Unknown, ...] = ()):
        self._paths: frozenset[str] | None = paths if not parts else None
        self._parts = parts

    @property
    def paths(self) -> frozenset[str]:
        if self._paths is None:
            acc: set[str] = set()
            stack = list(self._parts)
            while stack:
                u = stack.pop()
                if u._paths is not None:
                    acc.update(u._paths)
                else:
                    stack.extend(u._parts)
            self._paths = frozenset(acc)
            self._parts = ()
        return self._paths

    def get(self, key: str, default: Any = None) -> Unknown:
        """Field access on an unknown record is unknown, for the same reasons."""
        return self

    def __repr__(self) -> str:
        return f"unknown({', '.join(sorted(self.paths))})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unknown) and other.paths == self.paths

    def __hash__(self) -> int:
        return hash(self.paths)

    def __bool__(self) -> bool:
        raise TypeError("an unknown value has no truth value; compiled code must test for it")

    def __reduce__(self) -> str | tuple[Any, ...]:
        """Copied and pickled as its fact paths; the decided no-value and the withheld marker,
        compared by identity, as themselves (by name)."""
        if self is NULL:
            return "NULL"
        if self is WITHHELD:
            return "WITHHELD"
        return Unknown, (self.paths,)


NULL = Unknown(frozenset())  # the decided no-value: `null`, and a null the schema marks none

# Decimal arithmetic is exact or an error, never rounded silently: a result that would need
# more than 200 significant digits, or that has no exact decimal form (1 / 3), raises
# decimal.Inexact (an ArithmeticError, reported as E-EVAL-RANGE). `round` rounds on purpose.
EXACT = Context(
    prec=200,
    Emax=999_999,
    Emin=-999_999,
    traps=[InvalidOperation, DivisionByZero, Overflow, Inexact],
)

# What a custodial audience is told a value needs when healthcare-only facts decide it: one
# fixed marker, so that neither which facts are missing nor why can depend on those facts.
WITHHELD = Unknown(frozenset(("(healthcare-only facts withheld)",)))


class GaveUp(Exception):
    """The two-valued form of a program met a value that is not plainly known (an unknown,
    the decided no-value, a withheld value): the three-valued form decides instead."""


def give_up() -> Any:
    """Stop the two-valued form where it stands (what its generated code calls)."""
    raise GaveUp


def unknown(path: str) -> Unknown:
    return Unknown(frozenset((path,)))


def is_unknown(value: Any) -> bool:
    return value.__class__ is Unknown


def merge(*values: Any) -> Unknown:
    """The unknown that results from an operation on these values (at least one unknown)."""
    parts = []
    for v in values:
        if v.__class__ is Unknown:
            parts.append(v)
        elif v.__class__ is list or v.__class__ is tuple:
            parts.extend(item for item in v if item.__class__ is Unknown)
    if len(parts) == 1:
        return parts[0]
    return Unknown(parts=tuple(parts))


def and_unknown(left: Unknown, right: Any) -> Any:
    """Kleene `and` when the left side is unknown."""
    if right is False:
        return False
    return merge(left, right)


def or_unknown(left: Unknown, right: Any) -> Any:
    """Kleene `or` when the left side is unknown."""
    if right is True:
        return True
    return merge(left, right)


class Months:
    """A calendar duration: whole months, added to dates with the day clamped to the month's end."""

    __slots__ = ("n",)

    def __init__(self, n: int):
        self.n = n

    def __repr__(self) -> str:
        return f"Months({self.n})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Months) and other.n == self.n

    def __hash__(self) -> int:
        return hash(("months", self.n))

    def __lt__(self, other: Months) -> bool:
        return self.n < other.n

    def __le__(self, other: Months) -> bool:
        return self.n <= other.n

    def __gt__(self, other: Months) -> bool:
        return self.n > other.n

    def __ge__(self, other: Months) -> bool:
        return self.n >= other.n

    def __add__(self, other: Any) -> Any:
        if isinstance(other, Months):
            return Months(self.n + other.n)
        if isinstance(other, dt.date):
            return add_months(other, self.n)
        return NotImplemented

    __radd__ = __add__

    def __sub__(self, other: Any) -> Any:
        if isinstance(other, Months):
            return Months(self.n - other.n)
        return NotImplemented

    def __rsub__(self, other: Any) -> Any:
        if isinstance(other, dt.date):
            return add_months(other, -self.n)
        return NotImplemented

    def __mul__(self, other: Any) -> Any:
        if isinstance(other, int) and not isinstance(other, bool):
            return Months(self.n * other)
        return NotImplemented

    __rmul__ = __mul__

    def __neg__(self) -> Months:
        return Months(-self.n)


_MONTH_DAYS = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # by month, February not leap


def add_months(d: dt.date, n: int) -> dt.date:
    """Calendar arithmetic: 31 January + 1 month is the last day of February."""
    total = d.year * 12 + (d.month - 1) + n
    year, month = divmod(total, 12)
    month += 1
    day = d.day
    if day > 28:  # only then can the month be too short (`monthrange` works out a weekday too)
        last = 29 if month == 2 and calendar.isleap(year) else _MONTH_DAYS[month]
        day = min(day, last)
    return dt.date(year, month, day)


def divide(a: Any, b: Any, raise_div0: Callable[[], Any]) -> Any:
    """`a / b`: exact (integers give a decimal); zero divisors report where they happened."""
    if b == 0:
        return raise_div0()
    if isinstance(a, dt.timedelta):
        return a / b
    try:
        return EXACT.divide(Decimal(a), Decimal(b))
    except Inexact:
        raise EvaluationError(
            "E-EVAL-RANGE",
            f"`{a} / {b}` has no exact decimal value; decimals are never rounded silently",
        ) from None


# The step budget: the elements that one quantifier or list function visits, with everything
# nested inside it (the quantifiers of its condition, the definitions they work out), are
# counted, so that a blow-up inside one expression (`map` nested over long lists, `flatten` of
# their product, a text or list doubled by `+`) stops with E-EVAL-LIMIT-STEPS instead of taking
# minutes or gigabytes. Each thread counts on its own; the count starts afresh at each
# outermost call, so no evaluation can exhaust the budget of another.
MAX_STEPS = 10_000_000


class _Steps(threading.local):
    depth = 0  # quantifiers in progress on this thread
    left = MAX_STEPS  # steps the outermost of them may still take


_STEPS = _Steps()


def _over_budget(n: int) -> EvaluationError:
    return EvaluationError(
        "E-EVAL-LIMIT-STEPS",
        f"one expression's quantifiers and list functions would visit {n:,} or more elements, "
        f"over the step budget of {MAX_STEPS:,}",
    )


def charge(n: int) -> None:
    """Count `n` steps of work that calls no expression back (a list function, `+`)."""
    s = _STEPS
    if s.depth == 0:
        if n > MAX_STEPS:
            raise _over_budget(n)
        return
    s.left -= n
    if s.left < 0:
        raise _over_budget(MAX_STEPS - s.left)


def _enter(n: int) -> _Steps:
    """Count a quantifier's `n` elements and mark it in progress (the caller leaves)."""
    s = _STEPS
    s.left = (MAX_STEPS if s.depth == 0 else s.left) - n
    if s.left < 0:
        raise _over_budget(MAX_STEPS - s.left)
    s.depth += 1
    return s


def concat(a: Any, b: Any) -> Any:
    """`a + b` for texts and lists: counted against the step budget before it is built."""
    charge(len(a) + len(b))
    return a + b


# The quantifiers below count their elements as `_enter` does, written out in each (with the
# depth read once and put back as it was): they run for every list of every decision.


def _decide(items: Any, pred: Callable[[Any], Any], decisive: bool) -> Any:
    """Kleene `or` (decisive True) or `and` (decisive False) of `pred` over the items."""
    if items.__class__ is Unknown:
        return items
    if not items:  # no steps to count (an empty list changes no budget)
        return not decisive
    pending = None
    s = _STEPS
    depth = s.depth
    left = s.left = (s.left if depth else MAX_STEPS) - len(items)
    if left < 0:
        raise _over_budget(MAX_STEPS - left)
    s.depth = depth + 1
    try:
        for item in items:
            r = pred(item)
            if r is decisive:
                return decisive
            if r.__class__ is Unknown:
                pending = r if pending is None else merge(pending, r)
    finally:
        s.depth = depth
    return (not decisive) if pending is None else pending


def k_any(items: Any, pred: Callable[[Any], Any]) -> Any:
    return _decide(items, pred, True)


def k_all(items: Any, pred: Callable[[Any], Any]) -> Any:
    return _decide(items, pred, False)


def _select(items: list[Any], pred: Callable[[Any], Any]) -> tuple[list[Any], Unknown | None]:
    """The items `pred` holds for, and the unknown from those it may or may not hold for."""
    out = []
    pending = None
    s = _STEPS
    depth = s.depth
    left = s.left = (s.left if depth else MAX_STEPS) - len(items)
    if left < 0:
        raise _over_budget(MAX_STEPS - left)
    s.depth = depth + 1
    try:
        for item in items:
            r = pred(item)
            if r is True:
                out.append(item)
            elif r.__class__ is Unknown:
                pending = r if pending is None else merge(pending, r)
    finally:
        s.depth = depth
    return out, pending


def k_count(items: Any, pred: Callable[[Any], Any]) -> Any:
    if items.__class__ is Unknown:
        return items
    if not items:
        return 0
    selected, pending = _select(items, pred)
    return len(selected) if pending is None else pending


def k_filter(items: Any, pred: Callable[[Any], Any]) -> Any:
    if items.__class__ is Unknown:
        return items
    if not items:
        return []
    selected, pending = _select(items, pred)
    return selected if pending is None else pending


def k_map(items: Any, fn: Callable[[Any], Any]) -> Any:
    if items.__class__ is Unknown:
        return items
    if not items:
        return []
    s = _STEPS
    depth = s.depth
    left = s.left = (s.left if depth else MAX_STEPS) - len(items)
    if left < 0:
        raise _over_budget(MAX_STEPS - left)
    s.depth = depth + 1
    try:
        return [fn(item) for item in items]
    finally:
        s.depth = depth


def k_sum(items: Any, fn: Callable[[Any], Any], zero: Any = 0) -> Any:
    if items.__class__ is Unknown:
        return items
    s = _enter(len(items))
    try:
        values = [fn(item) for item in items]
    finally:
        s.depth -= 1
    for v in values:
        if v.__class__ is Unknown:
            return merge(*values)
    return sum_values(values, zero)


def sum_values(values: Iterable[Any], zero: Any = 0) -> Any:
    """The sum; `zero` (of the values' type: 0, no days, no months) when there are none."""
    values = list(values)
    if not values:
        return zero
    total = values[0]
    for v in values[1:]:
        total = total + v
    return total


def in_list(item: Any, items: Any) -> Any:
    """List membership; an unknown element can make the answer unknown."""
    if item.__class__ is Unknown:
        return merge(item, items)
    charge(len(items))
    if item in items:
        return True
    for v in items:
        if v.__class__ is Unknown:
            return merge(*items)
    return False
