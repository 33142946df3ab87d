"""Built-in functions: the fixed, documented list an expression may call, with their types."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

from engine.language import static_types as T
from engine.language.runtime import NULL, Unknown, charge, merge, sum_values


@dataclass(frozen=True)
class Function:
    name: str
    min_args: int
    max_args: int | None  # None: any number
    check: Callable[[list[T.Type]], T.Type | str]  # the result type, or what is wrong
    impl: Callable[..., Any]
    doc: str
    example: str
    needs_as_of: bool = False  # called with as_of first
    null_aware: bool = False  # receives unknown arguments itself
    may_be_unknown: bool = False  # may return unknown from known arguments
    needs_zero: bool = False  # called with the zero of its result type last (when not 0)


def _strict_list(values: Sequence[Any]) -> Unknown | None:
    for v in values:
        if v.__class__ is Unknown:
            return merge(*values)
    return None


def _items(args: tuple[Any, ...]) -> Sequence[Any]:
    """Functions such as `min` take several arguments or one list."""
    if len(args) == 1 and isinstance(args[0], list | tuple):
        charge(len(args[0]))
        return args[0]
    return args


def _extreme(pick: Callable[..., Any]) -> Callable[..., Any]:
    def impl(*args: Any) -> Any:
        items = _items(args)
        if (u := _strict_list(items)) is not None:
            return u
        if not items:
            return NULL
        return pick(items)

    return impl


def _age_on(born: dt.date, on: dt.date) -> int:
    years = on.year - born.year
    if (on.month, on.day) < (born.month, born.day):
        years -= 1
    return years


def _age(as_of: dt.date, born: dt.date) -> int:
    return _age_on(born, as_of)


def _days(d: dt.timedelta) -> int:
    return d.days


def _minutes(d: dt.timedelta) -> int:
    return int(d.total_seconds() // 60)


def _known(x: Any) -> bool:
    return x.__class__ is not Unknown


def _is_none(x: Any) -> Any:
    """A known none is true, a value false, and an unknown stays unknown with its facts."""
    if x.__class__ is Unknown:
        return True if not x.paths else x
    return False


def _coalesce(*args: Any) -> Any:
    pending = []
    for a in args:
        if a.__class__ is not Unknown:
            return a
        pending.append(a)
    return merge(*pending)


def _compact(items: Any) -> Any:
    if items.__class__ is Unknown:
        return items
    charge(len(items))
    return [x for x in items if x.__class__ is not Unknown]


def _sum(items: Any, zero: Any = 0) -> Any:
    if (u := _strict_list(items)) is not None:
        return u
    charge(len(items))
    return sum_values(items, zero)


def _unique(items: Sequence[Any]) -> Any:
    """First occurrences kept; values that can be hashed are found in a set, the rest (records,
    lists) by comparing with each value kept, which is counted against the step budget."""
    charge(len(items))
    out: list[Any] = []
    seen: set[Any] = set()
    for x in items:
        try:
            if x in seen:
                continue
            seen.add(x)
        except TypeError:
            charge(len(out))
            if x in out:
                continue
        out.append(x)
    return out


def _sort(items: Sequence[Any]) -> Any:
    if (u := _strict_list(items)) is not None:
        return u
    charge(len(items))
    return sorted(items)


def _flatten(items: Sequence[Any]) -> Any:
    charge(len(items) + sum(len(x) for x in items if isinstance(x, list)))
    out: list[Any] = []
    for x in items:
        if x.__class__ is Unknown:
            return merge(*items)
        if isinstance(x, list):
            out.extend(x)
        else:
            out.append(x)
    return out


def _text(x: Any) -> str:
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, dt.date):
        return x.isoformat()
    return str(x)


def _index_of(x: Any, items: Sequence[Any]) -> Any:
    charge(len(items))
    for i, v in enumerate(items, 1):
        if v.__class__ is Unknown:  # it could be this one
            return merge(*items)
        if v == x:
            return i
    return 0


def _contains_any(s: str, parts: Sequence[Any]) -> Any:
    charge(len(parts))
    low = s.lower()
    if any(p.__class__ is not Unknown and p.lower() in low for p in parts):
        return True
    u = _strict_list(parts)
    return False if u is None else u


def _parse_date(text: str) -> Any:
    text = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}", text):
            return dt.date.fromisoformat(text + "-01")
        return dt.date.fromisoformat(text)
    except ValueError:
        return NULL


def _month_start(d: dt.date) -> dt.date:
    return d.replace(day=1)


def _month_end(d: dt.date) -> dt.date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def _week_start(d: dt.date) -> dt.date:
    return d - dt.timedelta(days=d.weekday())


def _round(x: Any, places: int) -> Decimal:
    return Decimal(x).quantize(
        Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=Context(prec=200)
    )


# -- type rules -------------------------------------------------------------------------------


def _hc(args: list[T.Type]) -> bool:
    return any(a.healthcare for a in args)


def _ret(t: T.Type, args: list[T.Type]) -> T.Type:
    return t.marked(_hc(args))


def _need(kind: str, what: str) -> Callable[[list[T.Type]], T.Type | str]:
    def check(args: list[T.Type]) -> T.Type | str:
        for a in args:
            if a.kind not in (kind, "any", "null"):
                return f"expects {T.article(T.Type(kind))}, got {T.article(a)}"
        return _ret(T.Type(what) if what != "same" else args[0], args)

    return check


def _check_age_on(args: list[T.Type]) -> T.Type | str:
    for a in args:
        if a.kind not in ("date", "any", "null"):
            return f"expects dates, got {T.article(a)}"
    return _ret(T.INT, args)


def _check_duration(args: list[T.Type]) -> T.Type | str:
    a = args[0]
    if a.kind == "months":
        return "needs an exact duration (days, weeks, minutes); months have no fixed length"
    if a.kind not in ("duration", "any", "null"):
        return f"expects a duration, got {T.article(a)}"
    return _ret(T.INT, args)


def _element_types(args: list[T.Type]) -> list[T.Type] | str:
    if len(args) == 1 and args[0].kind == "list":
        return [args[0].elem or T.ANY]
    if len(args) == 1 and args[0].kind == "any":
        return [T.ANY]
    return args


def _check_extreme(kinds: tuple[str, ...]) -> Callable[[list[T.Type]], T.Type | str]:
    def check(args: list[T.Type]) -> T.Type | str:
        elems = _element_types(args)
        if isinstance(elems, str):
            return elems
        result: T.Type = T.NULL
        for e in elems:
            if e.kind not in (*kinds, "any", "null"):
                return f"cannot order {T.article(e)}"
            joined = T.join(result, e)
            if joined is None:
                return f"mixes {T.article(result)} and {T.article(e)}"
            result = joined
        return _ret(result, args)

    return check


def _check_len(args: list[T.Type]) -> T.Type | str:
    if args[0].kind not in ("list", "string", "any", "null"):
        return f"expects a list or a string, got {T.article(args[0])}"
    return _ret(T.INT, args)


def _check_list(args: list[T.Type]) -> T.Type | str:
    if args[0].kind not in ("list", "any", "null"):
        return f"expects a list, got {T.article(args[0])}"
    return args[0]


def _check_sum(args: list[T.Type]) -> T.Type | str:
    if args[0].kind not in ("list", "any", "null"):
        return f"expects a list, got {T.article(args[0])}"
    elem = args[0].elem or T.ANY
    if not (T.is_numeric(elem) or elem.kind in ("duration", "months", "null")):
        return f"cannot add up a list of {elem.describe()}"
    return _ret(elem if elem.kind != "null" else T.INT, args)


def _check_known(args: list[T.Type]) -> T.Type | str:
    return _ret(T.BOOL, args)


def _check_coalesce(args: list[T.Type]) -> T.Type | str:
    result: T.Type = T.NULL
    for a in args:
        joined = T.join(result, a)
        if joined is None:
            return f"mixes {T.article(result)} and {T.article(a)}"
        result = joined
    return result


def _check_flatten(args: list[T.Type]) -> T.Type | str:
    if args[0].kind not in ("list", "any", "null"):
        return f"expects a list of lists, got {T.article(args[0])}"
    inner = args[0].elem or T.ANY
    if inner.kind == "list":
        return _ret(T.list_of(inner.elem or T.ANY), args)
    return args[0]


def _check_text(args: list[T.Type]) -> T.Type | str:
    if args[0].kind in ("list", "record", "duration", "months"):
        return f"cannot turn {T.article(args[0])} into text"
    return _ret(T.STRING, args)


def _check_index_of(args: list[T.Type]) -> T.Type | str:
    if args[1].kind not in ("list", "any", "null"):
        return f"expects a list second, got {T.article(args[1])}"
    return _ret(T.INT, args)


def _check_contains_any(args: list[T.Type]) -> T.Type | str:
    if args[0].kind not in ("string", "any", "null"):
        return f"expects a string first, got {T.article(args[0])}"
    if args[1].kind not in ("list", "any", "null"):
        return f"expects a list of strings second, got {T.article(args[1])}"
    return _ret(T.BOOL, args)


def _check_number(args: list[T.Type]) -> T.Type | str:
    if not T.is_numeric(args[0]) and args[0].kind != "null":
        return f"expects a number, got {T.article(args[0])}"
    return _ret(args[0], args)


def _check_round(args: list[T.Type]) -> T.Type | str:
    if not T.is_numeric(args[0]):
        return f"expects a number, got {T.article(args[0])}"
    if args[1].kind not in ("int", "any"):
        return "expects a whole number of places"
    return _ret(T.DECIMAL, args)


def _fn(
    name: str, lo: int, hi: int | None, check: Any, impl: Any, doc: str, example: str, **kw: Any
) -> Function:
    return Function(name, lo, hi, check, impl, doc, example, **kw)


FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in [
        _fn(
            "age",
            1,
            1,
            _need("date", "int"),
            _age,
            "whole years from a date to as_of",
            "age(1990-05-01) >= 18",
            needs_as_of=True,
        ),
        _fn(
            "age_on",
            2,
            2,
            _check_age_on,
            _age_on,
            "whole years from the first date to the second",
            "age_on(2010-09-02, 2022-09-01) == 11",
        ),
        _fn(
            "days",
            1,
            1,
            _check_duration,
            _days,
            "whole days in an exact duration",
            "days(2 weeks) == 14",
        ),
        _fn(
            "minutes",
            1,
            1,
            _check_duration,
            _minutes,
            "whole minutes in an exact duration",
            "minutes(1 day) == 1440",
        ),
        _fn("len", 1, 1, _check_len, len, "length of a list or string", "len([1, 2]) == 2"),
        _fn(
            "min",
            1,
            None,
            _check_extreme(("int", "decimal", "date", "duration", "string")),
            _extreme(min),
            "least of the arguments, or of one list",
            "min(3, 1, 2) == 1",
            may_be_unknown=True,
        ),
        _fn(
            "max",
            1,
            None,
            _check_extreme(("int", "decimal", "date", "duration", "string")),
            _extreme(max),
            "greatest of the arguments, or of one list",
            "max([3, 1]) == 3",
            may_be_unknown=True,
        ),
        _fn(
            "earliest",
            1,
            None,
            _check_extreme(("date",)),
            _extreme(min),
            "earliest date of the arguments, or of one list",
            "earliest(2022-01-02, 2022-01-01) == 2022-01-01",
            may_be_unknown=True,
        ),
        _fn(
            "latest",
            1,
            None,
            _check_extreme(("date",)),
            _extreme(max),
            "latest date of the arguments, or of one list",
            "latest([2022-01-02, 2022-01-01]) == 2022-01-02",
            may_be_unknown=True,
        ),
        _fn(
            "sum",
            1,
            1,
            _check_sum,
            _sum,
            "sum of a list",
            "sum([1, 2, 3]) == 6",
            may_be_unknown=True,
            needs_zero=True,
        ),
        _fn(
            "known",
            1,
            1,
            _check_known,
            _known,
            "true when the value is not unknown (never unknown itself)",
            "known(null) == false",
            null_aware=True,
        ),
        _fn(
            "is_none",
            1,
            1,
            _check_known,
            _is_none,
            "true for a known none (a null the facts schema marks `x-null: none`, or `null`), "
            "false for a value, unknown while the fact is absent",
            "is_none(null) == true",
            null_aware=True,
        ),
        _fn(
            "coalesce",
            1,
            None,
            _check_coalesce,
            _coalesce,
            "the first argument that is not unknown",
            "coalesce(null, 3) == 3",
            null_aware=True,
        ),
        _fn(
            "compact",
            1,
            1,
            _check_list,
            _compact,
            "the list without its unknown elements",
            "compact([1, null]) == [1]",
            null_aware=True,
        ),
        _fn(
            "unique",
            1,
            1,
            _check_list,
            _unique,
            "the list without repeats, first kept",
            "unique([1, 1, 2]) == [1, 2]",
        ),
        _fn(
            "sort",
            1,
            1,
            _check_list,
            _sort,
            "the list in ascending order",
            "sort([2, 1]) == [1, 2]",
            may_be_unknown=True,
        ),
        _fn(
            "flatten",
            1,
            1,
            _check_flatten,
            _flatten,
            "a list of lists as one list, in order",
            "flatten([[1, 2], [3]]) == [1, 2, 3]",
            may_be_unknown=True,
        ),
        _fn(
            "text",
            1,
            1,
            _check_text,
            _text,
            "a number, date or boolean as text",
            'text(19) == "19"',
        ),
        _fn(
            "index_of",
            2,
            2,
            _check_index_of,
            _index_of,
            "position of a value in a list from 1, or 0 when absent",
            'index_of("b", ["a", "b"]) == 2',
            may_be_unknown=True,
        ),
        _fn(
            "date",
            1,
            1,
            _need("string", "date"),
            _parse_date,
            "a date from text `YYYY-MM-DD`, or `YYYY-MM` (the first day); unknown if neither",
            'date("2019-03") == 2019-03-01',
            may_be_unknown=True,
        ),
        _fn(
            "month_start",
            1,
            1,
            _need("date", "date"),
            _month_start,
            "first day of the date's month",
            "month_start(2019-02-10) == 2019-02-01",
        ),
        _fn(
            "month_end",
            1,
            1,
            _need("date", "date"),
            _month_end,
            "last day of the date's month",
            "month_end(2019-02-10) == 2019-02-28",
        ),
        _fn(
            "week_start",
            1,
            1,
            _need("date", "date"),
            _week_start,
            "the Monday of the date's week",
            "week_start(2020-07-01) == 2020-06-29",
        ),
        _fn(
            "year",
            1,
            1,
            _need("date", "int"),
            lambda d: d.year,
            "the year of a date",
            "year(2020-07-01) == 2020",
        ),
        _fn(
            "month",
            1,
            1,
            _need("date", "int"),
            lambda d: d.month,
            "the month of a date (1-12)",
            "month(2020-07-01) == 7",
        ),
        _fn(
            "day",
            1,
            1,
            _need("date", "int"),
            lambda d: d.day,
            "the day of the month",
            "day(2020-07-01) == 1",
        ),
        _fn(
            "lower",
            1,
            1,
            _need("string", "string"),
            str.lower,
            "text in lower case",
            'lower("ABC") == "abc"',
        ),
        _fn(
            "upper",
            1,
            1,
            _need("string", "string"),
            str.upper,
            "text in upper case",
            'upper("abc") == "ABC"',
        ),
        _fn(
            "contains",
            2,
            2,
            _need("string", "bool"),
            lambda s, part: part.lower() in s.lower(),
            "the second text occurs in the first, ignoring case",
            'contains("Policy reasons", "policy")',
        ),
        _fn(
            "contains_any",
            2,
            2,
            _check_contains_any,
            _contains_any,
            "any of a list of texts occurs in the first, ignoring case",
            'contains_any("an operational matter", ["policy", "operational"])',
            may_be_unknown=True,
        ),
        _fn(
            "starts_with",
            2,
            2,
            _need("string", "bool"),
            lambda s, p: s.startswith(p),
            "the text begins with the prefix",
            'starts_with("6.17", "6.")',
        ),
        _fn("abs", 1, 1, _check_number, abs, "absolute value", "abs(-2) == 2"),
        _fn(
            "round",
            2,
            2,
            _check_round,
            _round,
            "round half up to a number of decimal places",
            "round(2.345, 2) == 2.35",
        ),
    ]
}
