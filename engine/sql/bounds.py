"""How large an integer, duration or month count an expression can be, read from its syntax:
a SQL BIGINT holds less than 2^63, so an operation whose result may pass it is checked per row
(see `checked_op`), and one that cannot (`len(x) + 1`, `days(d) * 7`) compiles as before."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from engine.evaluation.evaluate import MAX_LIST, MAX_TEXT
from engine.language import runtime as R
from engine.language import syntax as A
from engine.language.check import Checked
from engine.sql.builders import US_PER_DAY, microseconds

LIMIT = 2**63 - 1  # the largest BIGINT
DAYS_SPAN = (dt.date.max - dt.date.min).days  # the most days between two dates
KINDS = ("int", "duration", "months")
# a whole number read from these functions is never larger than this
SMALL = {
    "len": max(MAX_LIST, MAX_TEXT),
    "index_of": MAX_LIST,
    "year": 9999,
    "month": 12,
    "day": 31,
    "age": 9999,
    "age_on": 9999,
    "days": LIMIT // US_PER_DAY + 1,
    "minutes": LIMIT // 60_000_000 + 1,
}


def constant_bounds(parameters: Mapping[str, Any]) -> dict[str, int]:
    """The largest size of each parameter that is a whole number, duration or month count
    (over all its dated values), for `bound` to read a parameter by name."""
    out: dict[str, int] = {}
    for name, p in parameters.items():
        sizes = [_size(v.value) for v in p.values]
        if sizes and all(x is not None for x in sizes):
            out[name] = max(x for x in sizes if x is not None)
    return out


def _size(v: Any) -> int | None:
    if isinstance(v, bool) or v is None:
        return 0
    if isinstance(v, int):
        return abs(v)
    if isinstance(v, dt.timedelta):
        return abs(microseconds(v))
    if isinstance(v, R.Months):
        return abs(v.n)
    return None


def bound(node: A.Node, checked: Checked, consts: Mapping[str, int] | None = None) -> int | None:
    """The largest absolute value an integer-like expression can take, None when unbounded
    (a fact, a definition, a local name: anything a BIGINT holds); `consts` bounds names (the
    pack's parameters, and the locals of quantifiers over lists written out, see `with_local`)."""
    if isinstance(node, A.Lit):
        return _size(node.value)
    if isinstance(node, A.Name):
        return (consts or {}).get(node.name)
    if isinstance(node, A.Unary) and node.op == "-":
        return bound(node.operand, checked, consts)
    if isinstance(node, A.Binary):
        kinds = (_kind(node.left, checked), _kind(node.right, checked))
        if kinds == ("date", "date"):
            return DAYS_SPAN * US_PER_DAY
        if node.op in ("+", "-", "*") and set(kinds) <= set(KINDS):
            a, b = bound(node.left, checked, consts), bound(node.right, checked, consts)
            if a is None or b is None:
                return None
            return a + b if node.op != "*" else a * b
        return None
    if isinstance(node, A.If):
        return _widest([node.then, node.other], checked, consts)
    if isinstance(node, A.Comprehension):
        if node.kind == "count":
            return MAX_LIST
        if node.kind == "sum":
            b = bound(node.body, checked, consts)
            return None if b is None else b * MAX_LIST
        return None
    if isinstance(node, A.Call):
        if node.func in SMALL:
            return SMALL[node.func]
        if node.func in ("abs", "coalesce") or (node.func in ("min", "max") and len(node.args) > 1):
            return _widest(list(node.args), checked, consts)
    return None


def element_bound(
    iterable: A.Node, checked: Checked, consts: Mapping[str, int] | None = None
) -> int | None:
    """The largest size of an element of a list written out (`[0, 1, 2]`), None for any other
    list: what bounds a quantifier's name over it (`as_of - k * 1 day` moves at most 2 days)."""
    if not isinstance(iterable, A.ListLit) or not iterable.items:
        return None
    return _widest(list(iterable.items), checked, consts)


def with_local(consts: Mapping[str, int] | None, name: str, size: int | None) -> dict[str, int]:
    """`consts` inside a quantifier over `name`: the local's size where its list bounds it, and
    no size where it does not (a local shadows a parameter of the same spelling)."""
    out = {k: v for k, v in (consts or {}).items() if k != name}
    if size is not None:
        out[name] = size
    return out


def may_overflow(node: A.Node, checked: Checked, consts: Mapping[str, int] | None = None) -> bool:
    """Whether an integer, duration or month count worked out here may pass a BIGINT."""
    if _kind(node, checked) not in KINDS:
        return False
    b = bound(node, checked, consts)
    return b is None or b > LIMIT


def _widest(nodes: list[A.Node], checked: Checked, consts: Mapping[str, int] | None) -> int | None:
    found = [bound(n, checked, consts) for n in nodes]
    if any(b is None for b in found):
        return None
    return max((b for b in found if b is not None), default=0)


def _kind(node: A.Node, checked: Checked) -> str:
    return checked.info[id(node)].type.kind
