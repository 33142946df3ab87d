"""Static cost: an upper bound, from a checked expression alone, on the work evaluating it takes.

CEL bounds its expressions this way, and for the same reason: a pack that passes its checks
must not be able to hang or exhaust memory, whatever facts it is given. The estimate walks the
syntax tree once, carrying for every node an upper bound on the size of its value (`Size`:
items of a list, characters of a text, bits of an integer) and on the steps taken to compute
it. Sizes come from the declared bounds of facts (`maxItems`, `maxLength`, `maximum` in the
facts schema) where there are any, else from the limits facts are held to; from the sizes of
the names an expression reads (definitions, outputs, parameters), worked out in dependency
order, so growth composes through chains of definitions (squaring the last one forty times
gives an integer of about 2^40 bits, and a cost to match); and from the quantifier variables,
each one element of its list.

A step is roughly one element visited by a quantifier or list function, or one machine word of
integer or text arithmetic. Each expression is costed on its own: a name it reads is one step,
since each definition is worked out at most once per evaluation and costed where it is defined.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.language import static_types as T
from engine.language import syntax as A
from engine.language.check import Checked

# Sizes of facts whose schema gives no bound: the limits a facts document is held to when it
# is read (lists and texts of at most 100,000; integers of fewer than 30 digits).
FACT_LIST = 100_000
FACT_TEXT = 100_000
FACT_INT_BITS = 100
DECIMAL_DIGITS = 200  # the precision of exact decimal arithmetic
WORD = 64  # bits or characters handled in one step

# Above this an expression is rejected (E-COST-LIMIT); above the softer one it is a warning
# (W-COST-HIGH): it could meet the runtime step budget on the largest facts allowed.
COST_LIMIT = 10**9
COST_WARN = 10**8

_CAP = 10**60  # sizes and costs saturate here: past it the figure says only "more than"


def _cap(n: int) -> int:
    return n if n < _CAP else _CAP


@dataclass(frozen=True)
class Size:
    """An upper bound on a value: items of a list, characters of a text, bits of an integer
    (1 for anything else), with the bounds of a list's elements and of a record's fields."""

    n: int = 1
    elem: Size | None = None
    fields: Mapping[str, Size] = field(default_factory=dict)

    def field(self, name: str) -> Size | None:
        return self.fields.get(name)


ONE = Size()


def join(a: Size, b: Size) -> Size:
    """A bound on a value that is bounded by `a` or by `b`."""
    if a is b:
        return a
    elem = b.elem if a.elem is None else a.elem if b.elem is None else join(a.elem, b.elem)
    fields = dict(a.fields)
    for k, v in b.fields.items():
        fields[k] = join(fields[k], v) if k in fields else v
    return Size(max(a.n, b.n), elem, fields)


def of_type(t: T.Type) -> Size:
    """The bound of a value known only by its type: the limits facts are held to."""
    kind = t.kind
    if kind == "list":
        return Size(FACT_LIST, of_type(t.elem or T.ANY))
    if kind == "string":
        return Size(FACT_TEXT)
    if kind == "int":
        if t.values:
            return Size(max(abs(int(v)) for v in t.values).bit_length() + 1)
        return Size(FACT_INT_BITS)
    if kind == "record":
        return Size(1, None, {name: of_type(ft) for name, ft, _ in t.fields or ()})
    if kind == "any":
        return Size(FACT_LIST, Size(FACT_TEXT))
    return ONE


def of_value(value: Any) -> Size:
    """The size of a constant (a parameter's value, a vocabulary)."""
    if isinstance(value, bool) or value is None:
        return ONE
    if isinstance(value, int):
        return Size(value.bit_length() + 1)
    if isinstance(value, str):
        return Size(max(len(value), 1))
    if isinstance(value, list | tuple):
        elem: Size | None = None
        for v in value:
            s = of_value(v)
            elem = s if elem is None else join(elem, s)
        return Size(max(len(value), 1), elem or ONE)
    if isinstance(value, Mapping):
        return Size(1, None, {str(k): of_value(v) for k, v in value.items()})
    return ONE


def of_json_schema(node: Mapping[str, Any], t: T.Type) -> Size:
    """The bound of a fact from its (inlined) JSON Schema: `maxItems`, `maxLength`, `maximum`
    and `minimum` where given, else the limits facts are held to (`of_type`)."""
    kind = t.kind
    if kind == "list":
        items = node.get("items")
        elem_node = items if isinstance(items, Mapping) else {}
        elem = of_json_schema(elem_node, t.elem or T.ANY)
        n = node.get("maxItems")
        return Size(n if isinstance(n, int) and 0 <= n < FACT_LIST else FACT_LIST, elem)
    if kind == "string":
        n = node.get("maxLength")
        if t.values:
            n = max(len(str(v)) for v in t.values)
        return Size(n if isinstance(n, int) and 0 <= n < FACT_TEXT else FACT_TEXT)
    if kind == "int":
        lo, hi = node.get("minimum"), node.get("maximum")
        if isinstance(lo, int) and isinstance(hi, int):
            return Size(max(abs(lo), abs(hi)).bit_length() + 1)
        return of_type(t)
    if kind == "record":
        props = node.get("properties")
        props = props if isinstance(props, Mapping) else {}
        fields = {}
        for name, ft, _ in t.fields or ():
            sub = props.get(name)
            fields[name] = of_json_schema(sub if isinstance(sub, Mapping) else {}, ft)
        return Size(1, None, fields)
    return of_type(t)


@dataclass(frozen=True)
class Estimate:
    """An expression's cost (steps, an upper bound) and the bound on the size of its value."""

    cost: int
    size: Size


def describe(cost: int) -> str:
    """A cost for a message: exact below a million, else in powers of ten."""
    if cost >= _CAP:
        return f"more than 1e{round(math.log10(_CAP))}"
    if cost < 1_000_000:
        return f"{cost:,}"
    return f"{float(cost):.1e}"


def _words(n: int) -> int:
    return n // WORD + 1


def _log2(n: int) -> int:
    return max(n, 1).bit_length()


class _Estimator:
    def __init__(self, checked: Checked, names: Callable[[str], Size | None]):
        self.checked = checked
        self.names = names
        self.locals: list[tuple[str, Size]] = []

    def kind(self, node: A.Node) -> str:
        info = self.checked.info.get(id(node))
        return info.type.kind if info is not None else "any"

    def type(self, node: A.Node) -> T.Type:
        info = self.checked.info.get(id(node))
        return info.type if info is not None else T.ANY

    def visit(self, node: A.Node) -> Estimate:
        method: Callable[[Any], Estimate] = getattr(self, "_" + type(node).__name__)
        e = method(node)
        return Estimate(_cap(e.cost), e.size)

    def _Lit(self, node: A.Lit) -> Estimate:
        return Estimate(1, of_value(node.value))

    def _ListLit(self, node: A.ListLit) -> Estimate:
        cost = 1
        elem: Size | None = None
        for item in node.items:
            e = self.visit(item)
            cost += e.cost
            elem = e.size if elem is None else join(elem, e.size)
        return Estimate(cost, Size(max(len(node.items), 1), elem or ONE))

    def _RecordLit(self, node: A.RecordLit) -> Estimate:
        cost = 1
        fields = {}
        for name, value in node.fields:
            e = self.visit(value)
            cost += e.cost
            fields[name] = e.size
        return Estimate(cost, Size(1, None, fields))

    def _Name(self, node: A.Name) -> Estimate:
        for name, bound in reversed(self.locals):
            if name == node.name:
                return Estimate(1, bound)
        size = self.names(node.name)
        return Estimate(1, size if size is not None else of_type(self.type(node)))

    def _Attr(self, node: A.Attr) -> Estimate:
        obj = self.visit(node.obj)
        size = obj.size.field(node.name)
        return Estimate(obj.cost + 1, size if size is not None else of_type(self.type(node)))

    def _Unary(self, node: A.Unary) -> Estimate:
        e = self.visit(node.operand)
        return Estimate(e.cost + _words(e.size.n), e.size)

    def _Logic(self, node: A.Logic) -> Estimate:
        left, right = self.visit(node.left), self.visit(node.right)
        return Estimate(left.cost + right.cost + 1, ONE)

    def _If(self, node: A.If) -> Estimate:
        cond, then, other = self.visit(node.cond), self.visit(node.then), self.visit(node.other)
        return Estimate(cond.cost + max(then.cost, other.cost) + 1, join(then.size, other.size))

    def _Binary(self, node: A.Binary) -> Estimate:
        left, right = self.visit(node.left), self.visit(node.right)
        cost = left.cost + right.cost
        a, b = left.size, right.size
        op = node.op
        if op in ("in", "not in"):
            elem = b.elem or ONE
            return Estimate(cost + b.n * _compare(elem), ONE)
        if op in ("==", "!=", "<", "<=", ">", ">="):
            return Estimate(cost + _compare(a if a.n <= b.n else b), ONE)
        kind = self.kind(node)
        if kind in ("list", "string"):  # concatenation copies both sides, item by item
            size = Size(
                _cap(a.n + b.n), join(a.elem, b.elem) if a.elem and b.elem else a.elem or b.elem
            )
            return Estimate(cost + size.n, size)
        if kind == "int":
            if op == "*":
                return Estimate(cost + _words(a.n) * _words(b.n), Size(_cap(a.n + b.n)))
            if op == "/":
                return Estimate(cost + _words(a.n) * _words(b.n), Size(DECIMAL_DIGITS))
            return Estimate(cost + _words(max(a.n, b.n)), Size(_cap(max(a.n, b.n) + 1)))
        if kind == "decimal":
            return Estimate(cost + _words(DECIMAL_DIGITS * 4), Size(DECIMAL_DIGITS))
        return Estimate(cost + 1, ONE)

    def _Comprehension(self, node: A.Comprehension) -> Estimate:
        it = self.visit(node.iterable)
        elem = it.size.elem or of_type(self.type(node.iterable).elem or T.ANY)
        self.locals.append((node.var, elem))
        try:
            body = self.visit(node.body)
        finally:
            self.locals.pop()
        n = it.size.n
        cost = it.cost + n * (body.cost + 1) + 1
        if node.kind == "filter":
            return Estimate(cost, Size(n, elem))
        if node.kind == "map":
            return Estimate(cost, Size(n, body.size))
        if node.kind == "count":
            return Estimate(cost, Size(_log2(n) + 1))
        if node.kind == "sum":
            kind = self.kind(node)
            size = Size(_cap(body.size.n + _log2(n))) if kind == "int" else body.size
            return Estimate(cost + n * _words(size.n), size)
        return Estimate(cost, ONE)

    def _Call(self, node: A.Call) -> Estimate:
        args = [self.visit(a) for a in node.args]
        cost = sum(a.cost for a in args) + 1
        sizes = [a.size for a in args]
        types = [self.type(a) for a in node.args]
        own, size = _function(node.func, sizes, types, self.kind(node))
        return Estimate(cost + own, size)


def _compare(s: Size) -> int:
    """Steps to compare two values of at most this size."""
    if s.elem is not None:
        return s.n * _compare(s.elem) + 1
    if s.fields:
        return sum(_compare(f) for f in s.fields.values()) + 1
    return _words(s.n)


def _listed(sizes: list[Size], types: list[T.Type]) -> tuple[int, Size]:
    """The number of values and the bound on each, for functions given one list or several
    arguments (`min(xs)` or `min(a, b)`)."""
    if len(sizes) == 1 and types[0].kind in ("list", "any"):
        return sizes[0].n, sizes[0].elem or ONE
    elem = sizes[0]
    for s in sizes[1:]:
        elem = join(elem, s)
    return len(sizes), elem


def _function(name: str, sizes: list[Size], types: list[T.Type], result: str) -> tuple[int, Size]:
    """A built-in function's own steps and the bound on its result."""
    first = sizes[0] if sizes else ONE
    kind = types[0].kind if types else "any"
    if name in ("min", "max", "earliest", "latest"):
        n, elem = _listed(sizes, types)
        return n * _compare(elem), elem
    if name == "sum":
        n, elem = first.n, first.elem or ONE
        size = Size(_cap(elem.n + _log2(n))) if result == "int" else elem
        return n * _words(size.n), size
    if name == "len":
        return 1, Size(_log2(first.n) + 1)
    if name == "compact":
        return first.n, first
    if name == "coalesce":  # the first argument that is known, whatever its kind
        out = first
        for s in sizes[1:]:
            out = join(out, s)
        return len(sizes), out
    if name == "unique":
        elem = first.elem or ONE
        elem_kind = (types[0].elem or T.ANY).kind if types else "any"
        if elem_kind in ("list", "record", "any"):  # no hash: each is compared with those kept
            return first.n * first.n * _compare(elem) // 2 + first.n, first
        return first.n * _compare(elem), first
    if name == "sort":
        elem = first.elem or ONE
        return first.n * _log2(first.n) * _compare(elem), first
    if name == "flatten":
        inner = first.elem or ONE
        if inner.elem is None:  # a list of plain values: flattening copies it
            return first.n, first
        n = _cap(first.n * inner.n)
        return first.n + n, Size(n, inner.elem)
    if name == "index_of":
        second = sizes[1] if len(sizes) > 1 else ONE
        return second.n * _compare(second.elem or ONE), Size(_log2(second.n) + 1)
    if name == "text":
        if kind == "int":
            digits = first.n * 31 // 100 + 2
            return _words(first.n) * _words(first.n), Size(digits)
        if kind == "string":
            return _words(first.n), first
        return 1, Size(DECIMAL_DIGITS + 10)
    if name in ("lower", "upper", "date"):
        return _words(first.n), first if name != "date" else ONE
    if name in ("contains", "starts_with"):
        return sum(_words(s.n) for s in sizes), ONE
    if name == "contains_any":
        parts = sizes[1] if len(sizes) > 1 else ONE
        return parts.n * (_words(first.n) + _words((parts.elem or ONE).n)), ONE
    if name == "abs":
        return _words(first.n), first
    if name == "round":
        return _words(DECIMAL_DIGITS), Size(DECIMAL_DIGITS)
    if result == "int":
        return 1, Size(64)  # age, days, minutes, year, month, day: small whole numbers
    return 1, ONE


def estimate(checked: Checked, names: Callable[[str], Size | None]) -> Estimate:
    """The cost of evaluating a checked expression, and the bound on its value's size.

    `names(name)` gives the bound of a name the expression reads (a fact root, parameter,
    definition, output or vocabulary), or None to bound it by its type alone."""
    return _Estimator(checked, names).visit(checked.node)
