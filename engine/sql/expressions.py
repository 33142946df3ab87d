"""One checked expression to SQL: a value column that is NULL when unknown, beside a mask.

Every value is a pair. `v` is the value, SQL NULL when the language's value is unknown (or a
decided "none"). `m` is a BIGINT bit mask of the fact paths the unknown came from: zero for a
decided "none" and for every known scalar, so that "unknown" and "none" stay apart. For a list
or a record that is known, `m` holds the paths of the unknowns inside it, as the Python
runtime's `unknown_paths` and `merge` see them. Bits are numbered per pack (`PathBits`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlglot import exp

from engine.language import runtime as R
from engine.language import static_types as T
from engine.language import syntax as A
from engine.language.check import Checked
from engine.sql.types import Unsupported, cast, sql_type

MAX_PATHS = 62

# A fact whose null the schema reads as a known none (`x-null: none`) differs from an absent
# one; the facts table keeps a known none as a sentinel value and an absent fact as NULL.
NONE_DATE = dt.date(1, 1, 1)
NONE_TEXT = "\u0000none"
NONE_SENTINELS: dict[str, Callable[[], exp.Expression]] = {
    "date": lambda: cast(exp.Literal.string(NONE_DATE.isoformat()), "DATE"),
    "string": lambda: exp.Literal.string(NONE_TEXT),
}


@dataclass(frozen=True)
class SV:
    """A compiled value: SQL for the value and for its mask, and which bits the mask may hold."""

    v: exp.Expression
    m: exp.Expression
    t: T.Type
    bits: frozenset[int] = frozenset()
    facts: bool = False  # read straight from the facts: a null field is an unknown fact path


class PathBits:
    """The fact paths a pack's decisions may name as missing, one bit each."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def bit(self, path: str) -> int:
        if path not in self.paths:
            if len(self.paths) >= MAX_PATHS:
                raise Unsupported(
                    "fact paths", f"more than {MAX_PATHS} distinct fact paths in one pack"
                )
            self.paths.append(path)
        return 1 << self.paths.index(path)


# -- small builders -----------------------------------------------------------------------


def num(n: int) -> exp.Expression:
    lit = exp.Literal.number(abs(n))
    return exp.Neg(this=lit) if n < 0 else lit


ZERO = exp.Literal.number(0)


def is_zero(e: exp.Expression) -> bool:
    return isinstance(e, exp.Literal) and e.is_number and e.this == "0"


def bor(*masks: exp.Expression) -> exp.Expression:
    """Bitwise OR of masks, dropping the zeros."""
    parts = [m for m in masks if not is_zero(m)]
    if not parts:
        return ZERO.copy()
    out = parts[0].copy()
    for m in parts[1:]:
        out = exp.Paren(this=exp.BitwiseOr(this=out, expression=m.copy()))
    return out


def is_null(e: exp.Expression) -> exp.Expression:
    return exp.Is(this=e.copy(), expression=exp.Null())


def not_null(e: exp.Expression) -> exp.Expression:
    return exp.Not(this=is_null(e))


def is_true(e: exp.Expression) -> exp.Expression:
    """True only when `e` is true (not when it is false or NULL)."""
    return exp.Coalesce(this=e.copy(), expressions=[exp.false()])


def case(
    whens: list[tuple[exp.Expression, exp.Expression]], other: exp.Expression
) -> exp.Expression:
    c = exp.Case()
    for cond, val in whens:  # each part copied once here, the growing CASE never again
        c = c.when(cond.copy(), val.copy(), copy=False)
    return c.else_(other.copy(), copy=False)


def typed_null(t: T.Type) -> exp.Expression:
    if t.kind in ("null", "any"):
        return exp.Null()
    try:
        return cast(exp.Null(), sql_type(t))
    except Unsupported:
        return exp.Null()


def const(value: Any, t: T.Type | None = None) -> exp.Expression:
    """A Python evaluation value as an SQL literal."""
    if value is None or value.__class__ is R.Unknown:
        return typed_null(t) if t is not None else exp.Null()
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if isinstance(value, int):
        return num(value)
    if isinstance(value, Decimal):
        return cast(exp.Literal.string(str(value)), sql_type(T.DECIMAL))
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, dt.date):
        return cast(exp.Literal.string(value.isoformat()), "DATE")
    if isinstance(value, dt.timedelta):
        return num(int(value.total_seconds() // 60))
    if isinstance(value, R.Months):
        return num(value.n)
    if isinstance(value, dict):
        ft = {n: ty for n, ty, _ in (t.fields or ())} if t is not None else {}
        return struct([(k, const(v, ft.get(k))) for k, v in value.items()])
    if isinstance(value, list | tuple):
        elem = t.elem if t is not None and t.kind == "list" else None
        if not value:
            if t is None:
                raise Unsupported("list", "an empty list of unknown type")
            return cast(exp.Array(expressions=[]), sql_type(t))
        return exp.Array(expressions=[const(v, elem) for v in value])
    raise Unsupported("constant", f"no SQL literal for {type(value).__name__}")


def struct(fields: list[tuple[str, exp.Expression]]) -> exp.Expression:
    return exp.Struct(
        expressions=[
            exp.PropertyEQ(this=exp.to_identifier(k, quoted=True), expression=v) for k, v in fields
        ]
    )


def field_of(obj: exp.Expression, name: str) -> exp.Expression:
    return exp.Dot(this=obj.copy(), expression=exp.to_identifier(name, quoted=True))


def lam(var: str, body: exp.Expression) -> exp.Lambda:
    return exp.Lambda(this=body, expressions=[exp.to_identifier(var)])


def list_filter(items: exp.Expression, var: str, pred: exp.Expression) -> exp.Expression:
    return exp.ArrayFilter(this=items.copy(), expression=lam(var, pred))


def list_size(items: exp.Expression) -> exp.Expression:
    return exp.ArraySize(this=items.copy())


def list_exists(items: exp.Expression, var: str, pred: exp.Expression) -> exp.Expression:
    return exp.GT(this=list_size(list_filter(items, var, pred)), expression=ZERO.copy())


def list_map(items: exp.Expression, var: str, body: exp.Expression) -> exp.Expression:
    return exp.Transform(this=items.copy(), expression=lam(var, body))


def date_add_days(d: exp.Expression, days: exp.Expression) -> exp.Expression:
    added = exp.DateAdd(this=d, expression=cast(days, "INT"), unit=exp.var("DAY"))
    return cast(added, "DATE")  # DuckDB's date + interval is a timestamp


def floor_div(a: exp.Expression, n: int) -> exp.Expression:
    """Integer division rounding down, as Python's `//` does for negative numbers too."""
    return cast(exp.Floor(this=exp.Div(this=cast(a, "DOUBLE"), expression=num(n))), "BIGINT")


# -- the compiler -------------------------------------------------------------------------


@dataclass
class Scope:
    """How names outside the facts read: pack names as columns or constants."""

    name: Callable[[str], SV]
    bits: PathBits
    dialect: str = "duckdb"
    as_of: exp.Expression = field(default_factory=lambda: exp.column("as_of"))
    version: exp.Expression = field(default_factory=lambda: exp.column("policy_version"))


class ExprCompiler:
    """Compiles one checked expression; raises `Unsupported` for a construct without SQL."""

    def __init__(self, checked: Checked, scope: Scope):
        self.checked = checked
        self.scope = scope
        self.locals: dict[str, SV] = {}
        self.n_lambda = 0

    def info_type(self, node: A.Node) -> T.Type:
        return self.checked.info[id(node)].type

    def nullable(self, node: A.Node) -> bool:
        return self.checked.info[id(node)].nullable

    def bit(self, path: str) -> int:
        return self.scope.bits.bit(path)

    def compile(self) -> SV:
        return self.gen(self.checked.node)

    def gen(self, node: A.Node) -> SV:
        method = getattr(self, "_" + type(node).__name__)
        try:
            result: SV = method(node)
        except Unsupported as u:
            if not u.line:  # the innermost construct: where it stands in the expression
                u.line, u.col = node.loc.line, node.loc.col
            raise
        return result

    # -- leaves ----------------------------------------------------------------------------

    def _Lit(self, node: A.Lit) -> SV:
        t = self.info_type(node)
        return SV(const(node.value, t), ZERO.copy(), t)

    def _ListLit(self, node: A.ListLit) -> SV:
        t = self.info_type(node)
        items = [self.gen(i) for i in node.items]
        if not items:
            if t.elem is None or t.elem.kind in ("null", "any"):
                return SV(exp.Array(expressions=[]), ZERO.copy(), t)  # typed where it is used
            return SV(const([], t), ZERO.copy(), t)
        elem = t.elem
        vals = []
        for i in items:
            v = i.v
            if elem is not None and i.t.kind != elem.kind and i.t.kind in ("null", "any"):
                v = typed_null(elem)
            vals.append(v)
        bits = frozenset().union(*(i.bits for i in items))
        return SV(exp.Array(expressions=vals), bor(*(i.m for i in items)), t, bits)

    def _RecordLit(self, node: A.RecordLit) -> SV:
        t = self.info_type(node)
        fields = [(k, self.gen(v)) for k, v in node.fields]
        ft = {n: ty for n, ty, _ in (t.fields or ())}
        vals = []
        for k, f in fields:
            v = f.v
            if isinstance(v, exp.Null) and k in ft:
                v = typed_null(ft[k])
            vals.append((k, v))
        bits = frozenset().union(*(f.bits for _, f in fields)) if fields else frozenset()
        return SV(struct(vals), bor(*(f.m for _, f in fields)), t, bits)

    def _Name(self, node: A.Name) -> SV:
        t = self.info_type(node)
        if node.name in self.locals:
            return self.locals[node.name]
        if node.name == "as_of":
            return SV(self.scope.as_of.copy(), ZERO.copy(), t)
        if node.name == "version":
            return SV(self.scope.version.copy(), ZERO.copy(), t)
        if node.name in self.checked.roots:
            return SV(exp.column(node.name), ZERO.copy(), t, facts=True)
        return self.scope.name(node.name)

    def _Attr(self, node: A.Attr) -> SV:
        t = self.info_type(node)
        info = self.checked.info[id(node)]
        obj = self.gen(node.obj)
        v = field_of(obj.v, node.name)
        if obj.facts and getattr(t, "null_none", False):
            # a known none is stored as a sentinel (see NONE_DATE), an absent field as NULL
            if t.kind not in NONE_SENTINELS:
                raise Unsupported(f"fact `{info.path}`", f"a known none of type {t.kind}")
            raw = v
            b = self.bit(info.path or f"?.{node.name}")
            value = case(
                [(exp.EQ(this=raw.copy(), expression=NONE_SENTINELS[t.kind]()), typed_null(t))], raw
            )
            return SV(value, case([(is_null(raw), num(b))], ZERO.copy()), t, frozenset({b}))
        if obj.facts:
            b = self.bit(info.path or f"?.{node.name}")
            inner: exp.Expression = num(b)
            bits = frozenset({b})
        else:
            inner = obj.m
            bits = obj.bits
        if not self.nullable(node):
            return SV(v, ZERO.copy(), t, facts=obj.facts)
        if t.kind in ("list", "record") and not obj.facts:
            raise Unsupported("field access", "a list or record field of a computed record")
        m = case([(is_null(obj.v), obj.m), (is_null(v), inner)], ZERO.copy())
        if is_zero(obj.m) or obj.facts:  # a fact read names its own path, absent parents or not
            m = case([(is_null(v), inner)], ZERO.copy())
        return SV(v, m, t, bits, facts=obj.facts)

    # -- operators -------------------------------------------------------------------------

    def _strict(self, t: T.Type, v: exp.Expression, args: list[SV]) -> SV:
        """A strict operation: unknown when any operand is unknown, with all their paths."""
        bits = frozenset().union(*(a.bits for a in args)) if args else frozenset()
        m = bor(*(a.m for a in args))
        if not is_zero(m) and any(a.t.kind in ("list", "record") for a in args):
            if t.kind not in ("list", "record"):
                m = case([(is_null(v), m)], ZERO.copy())
        return SV(v, m, t, bits)

    def _Unary(self, node: A.Unary) -> SV:
        x = self.gen(node.operand)
        t = self.info_type(node)
        if node.op == "not":
            return SV(exp.Not(this=exp.Paren(this=x.v)), x.m, t, x.bits)
        if t.kind == "decimal":
            raise Unsupported("negation", "decimal arithmetic")
        return SV(exp.Neg(this=exp.Paren(this=x.v)), x.m, t, x.bits)

    def _Binary(self, node: A.Binary) -> SV:
        t = self.info_type(node)
        op = node.op
        if op in ("in", "not in"):
            return self._membership(node, t)
        left, right = self.gen(node.left), self.gen(node.right)
        lk, rk = left.t.kind, right.t.kind
        lv, rv = left.v, right.v
        if op in ("==", "!=", "<", "<=", ">", ">="):
            cls = {
                "==": exp.EQ,
                "!=": exp.NEQ,
                "<": exp.LT,
                "<=": exp.LTE,
                ">": exp.GT,
                ">=": exp.GTE,
            }[op]
            if "decimal" in (lk, rk) or "any" in (lk, rk):
                raise Unsupported(f"comparison `{op}`", f"between {lk} and {rk}")
            return self._strict(t, cls(this=lv, expression=rv), [left, right])
        if op in ("+", "-"):
            if lk == "date" and rk == "duration":
                days = floor_div(rv, 1440) if op == "+" else floor_div(exp.Neg(this=rv), 1440)
                return self._strict(t, date_add_days(lv, days), [left, right])
            if lk == "duration" and rk == "date" and op == "+":
                return self._strict(t, date_add_days(rv, floor_div(lv, 1440)), [left, right])
            if lk == "date" and rk == "months":
                n = rv if op == "+" else exp.Neg(this=exp.Paren(this=rv))
                return self._strict(t, self._add_months(lv, n), [left, right])
            if lk == "months" and rk == "date" and op == "+":
                return self._strict(t, self._add_months(rv, lv), [left, right])
            if lk == "date" and rk == "date" and op == "-":
                days = exp.DateDiff(this=lv, expression=rv, unit=exp.var("DAY"))
                return self._strict(t, exp.Mul(this=days, expression=num(1440)), [left, right])
            if lk == rk and lk in ("int", "duration", "months"):
                cls2 = exp.Add if op == "+" else exp.Sub
                return self._strict(t, exp.Paren(this=cls2(this=lv, expression=rv)), [left, right])
            if lk == rk == "string" and op == "+":
                return self._strict(t, exp.DPipe(this=lv, expression=rv), [left, right])
            if lk == rk == "list" and op == "+":
                both = exp.And(this=not_null(lv), expression=not_null(rv))
                cat = exp.ArrayConcat(this=lv.copy(), expressions=[rv.copy()])
                return self._strict(t, case([(both, cat)], typed_null(t)), [left, right])
            raise Unsupported(f"`{op}`", f"between {left.t.describe()} and {right.t.describe()}")
        if op == "*":
            if {lk, rk} <= {"int", "duration", "months"} and "int" in (lk, rk):
                return self._strict(
                    t, exp.Paren(this=exp.Mul(this=lv, expression=rv)), [left, right]
                )
            raise Unsupported("`*`", f"between {left.t.describe()} and {right.t.describe()}")
        raise Unsupported(f"`{op}`", "division is exact in the language and has no SQL form yet")

    def _add_months(self, d: exp.Expression, n: exp.Expression) -> exp.Expression:
        """Calendar months, clamped at the month's end (both engines clamp)."""
        if self.scope.dialect == "spark":
            return exp.Anonymous(this="ADD_MONTHS", expressions=[d.copy(), n.copy()])
        interval = exp.Interval(this=exp.Paren(this=n.copy()), unit=exp.var("MONTH"))
        return cast(exp.Add(this=d.copy(), expression=interval), "DATE")

    def _membership(self, node: A.Binary, t: T.Type) -> SV:
        left = self.gen(node.left)
        negate = node.op == "not in"
        right_node = node.right
        if (
            isinstance(right_node, A.ListLit)
            and right_node.items
            and all(
                isinstance(i, A.Lit) and i.kind in ("string", "int", "bool", "date")
                for i in right_node.items
            )
        ):
            items = [const(i.value) for i in right_node.items]  # type: ignore[attr-defined]
            v: exp.Expression = exp.In(this=left.v.copy(), expressions=items)
            if negate:
                v = exp.Not(this=v)
            return SV(v, left.m, t, left.bits)
        right = self.gen(right_node)
        if right.t.kind != "list":
            raise Unsupported("`in`", "membership in something that is not a list")
        var = self._var()
        x = exp.column(var)
        contains = list_exists(right.v, var, exp.EQ(this=x, expression=left.v.copy()))
        has_null = list_exists(right.v, var, is_null(x))
        found = case(
            [
                (is_null(left.v), exp.Null()),
                (is_null(right.v), exp.Null()),
                (contains, exp.true()),
                (has_null, exp.Null()),
            ],
            exp.false(),
        )
        m = case([(is_null(found), bor(left.m, right.m))], ZERO.copy())
        v = exp.Not(this=exp.Paren(this=found)) if negate else found
        return SV(v, m, t, left.bits | right.bits)

    def _Logic(self, node: A.Logic) -> SV:
        operands = [self.gen(o) for o in _flatten(node, node.op)]
        t = self.info_type(node)
        cls = exp.And if node.op == "and" else exp.Or
        v = exp.Paren(this=operands[0].v.copy())
        for o in operands[1:]:
            v = cls(this=v, expression=exp.Paren(this=o.v.copy()))
        v = exp.Paren(this=v)
        m = bor(*(o.m for o in operands))
        bits = frozenset().union(*(o.bits for o in operands))
        if not is_zero(m):
            m = case([(is_null(v), m)], ZERO.copy())
        return SV(v, m, t, bits)

    def _If(self, node: A.If) -> SV:
        t = self.info_type(node)
        c, a, b = self.gen(node.cond), self.gen(node.then), self.gen(node.other)
        av = a.v if not isinstance(a.v, exp.Null) else typed_null(t)
        bv = b.v if not isinstance(b.v, exp.Null) else typed_null(t)
        if not self.nullable(node.cond):
            v = case([(c.v, av)], bv)
            m = case([(c.v, a.m)], b.m) if not (is_zero(a.m) and is_zero(b.m)) else ZERO.copy()
        else:
            neg = exp.Not(this=exp.Paren(this=c.v.copy()))
            v = case([(c.v, av), (neg, bv)], typed_null(t))
            m = case([(c.v, a.m), (neg, b.m)], c.m)
        return SV(v, m, t, c.bits | a.bits | b.bits)

    def _var(self) -> str:
        self.n_lambda += 1
        return f"x{self.n_lambda}"

    def _Comprehension(self, node: A.Comprehension) -> SV:
        t = self.info_type(node)
        items = self.gen(node.iterable)
        if items.t.kind != "list" or items.t.elem is None:
            raise Unsupported(node.kind, "a quantifier over something that is not a typed list")
        var = self._var()
        x = exp.column(var)
        elem = SV(x, ZERO.copy(), items.t.elem, frozenset(), facts=items.facts)
        saved = self.locals.get(node.var)
        self.locals[node.var] = elem
        try:
            body = self.gen(node.body)
        finally:
            if saved is None:
                del self.locals[node.var]
            else:
                self.locals[node.var] = saved
        L = items.v
        unknown_body = is_null(body.v)
        pending = self._pending_mask(L, var, body)
        any_unknown = list_exists(L, var, unknown_body)
        kind = node.kind
        if kind in ("any", "all"):
            decisive = exp.true() if kind == "any" else exp.false()
            hit = body.v.copy() if kind == "any" else exp.Not(this=exp.Paren(this=body.v.copy()))
            decided = list_exists(L, var, hit)
            v = case(
                [(is_null(L), exp.Null()), (decided, decisive), (any_unknown, exp.Null())],
                exp.false() if kind == "any" else exp.true(),
            )
            m = case([(is_null(L), items.m), (decided, ZERO.copy())], pending)
            return SV(v, m, t, items.bits | body.bits)
        if kind in ("count", "filter"):
            chosen = list_filter(L, var, is_true(body.v))
            value = list_size(chosen) if kind == "count" else chosen
            v = case([(is_null(L), exp.Null()), (any_unknown, exp.Null())], value)
            inner = ZERO.copy() if kind == "count" else items.m
            m = case([(is_null(L), items.m), (any_unknown, pending)], inner)
            return SV(v, m, t, items.bits | body.bits)
        if kind == "map":
            v = list_map(L, var, body.v)
            m = case([(is_null(L), items.m)], pending)
            return SV(v, m, t, items.bits | body.bits)
        if kind == "sum":
            if t.kind not in ("int", "duration", "months"):
                raise Unsupported("sum", f"a sum of {t.describe()} values")
            total = self._list_sum(list_map(L, var, body.v))
            v = case([(is_null(L), exp.Null()), (any_unknown, exp.Null())], total)
            m = case([(is_null(L), items.m), (any_unknown, pending)], ZERO.copy())
            return SV(v, m, t, items.bits | body.bits)
        raise Unsupported(kind, "no SQL form")

    def _list_sum(self, items: exp.Expression) -> exp.Expression:
        if self.scope.dialect == "spark":
            a, b = self._var(), self._var()
            merge = exp.Lambda(
                this=exp.Add(this=exp.column(a), expression=exp.column(b)),
                expressions=[exp.to_identifier(a), exp.to_identifier(b)],
            )
            return exp.Anonymous(
                this="AGGREGATE", expressions=[items, cast(ZERO.copy(), "BIGINT"), merge]
            )
        return exp.Coalesce(
            this=cast(exp.Anonymous(this="LIST_SUM", expressions=[items]), "BIGINT"),
            expressions=[ZERO.copy()],
        )

    def _pending_mask(self, L: exp.Expression, var: str, body: SV) -> exp.Expression:
        """The paths of the elements whose body is unknown: one test per bit it may hold."""
        if is_zero(body.m):
            return ZERO.copy()
        parts = []
        for b in sorted(body.bits):
            test = exp.And(
                this=is_null(body.v),
                expression=exp.NEQ(
                    this=exp.Paren(this=exp.BitwiseAnd(this=body.m.copy(), expression=num(b))),
                    expression=ZERO.copy(),
                ),
            )
            parts.append(case([(list_exists(L, var, test), num(b))], ZERO.copy()))
        return bor(*parts)

    # -- functions -------------------------------------------------------------------------

    def _Call(self, node: A.Call) -> SV:
        t = self.info_type(node)
        f = node.func
        args = [self.gen(a) for a in node.args]
        bits = frozenset().union(*(a.bits for a in args)) if args else frozenset()
        if f == "known":
            return SV(not_null(args[0].v), ZERO.copy(), t)
        if f == "coalesce":
            vals = [a.v if not isinstance(a.v, exp.Null) else typed_null(t) for a in args]
            first = exp.Coalesce(this=vals[0].copy(), expressions=[x.copy() for x in vals[1:]])
            m = bor(*(a.m for a in args))
            if not is_zero(m):
                m = case([(is_null(first), m)], ZERO.copy())
            return SV(first, m, t, bits)
        if f == "is_none":
            x = args[0]
            none = exp.And(
                this=is_null(x.v), expression=exp.EQ(this=x.m.copy(), expression=ZERO.copy())
            )
            answer = case([(none, exp.true()), (is_null(x.v), exp.Null())], exp.false())
            return SV(answer, case([(is_null(x.v), x.m)], ZERO.copy()), t, bits)
        if f == "compact":
            var = self._var()
            kept = list_filter(args[0].v, var, not_null(exp.column(var)))
            return SV(kept, case([(is_null(args[0].v), args[0].m)], ZERO.copy()), t, bits)
        if f == "unique":  # the first of each value, in order (DuckDB counts from 1, Spark 0)
            items = args[0].v
            xv, i = self._var(), self._var()
            pos: exp.Expression = exp.column(i)
            if self.scope.dialect == "spark":
                pos = exp.Add(this=pos, expression=num(1))
            first = exp.EQ(
                this=exp.ArrayPosition(this=items.copy(), expression=exp.column(xv)), expression=pos
            )
            lam2 = exp.Lambda(this=first, expressions=[exp.to_identifier(xv), exp.to_identifier(i)])
            kept = exp.ArrayFilter(this=items.copy(), expression=lam2)
            return SV(kept, args[0].m, t, bits)
        as_of = self.scope.as_of.copy()
        a0 = args[0].v if args else None
        v: exp.Expression
        if f == "len":
            if args[0].t.kind == "string":
                v = exp.Length(this=a0)
            else:
                v = list_size(a0)
        elif f == "minutes":
            v = a0
        elif f == "days":
            v = floor_div(a0, 1440)
        elif f in ("age", "age_on"):
            born = a0
            on = as_of if f == "age" else args[1].v
            v = _years_between(born, on)
        elif f == "month_end":
            v = exp.LastDay(this=a0)
        elif f == "month_start":
            v = cast(exp.DateTrunc(this=a0, unit=exp.var("MONTH")), "DATE")
        elif f == "week_start":
            v = cast(exp.DateTrunc(this=a0, unit=exp.var("WEEK")), "DATE")
        elif f in ("year", "month", "day"):
            cls = {"year": exp.Year, "month": exp.Month, "day": exp.Day}[f]
            v = cast(cls(this=a0), "BIGINT")
        elif f in ("lower", "upper"):
            v = (exp.Lower if f == "lower" else exp.Upper)(this=a0)
        elif f in ("earliest", "latest", "min", "max") and len(args) >= 2:
            if any(a.t.kind == "decimal" for a in args):
                raise Unsupported(f, "decimal arguments")
            cls = exp.Least if f in ("earliest", "min") else exp.Greatest
            picked = cls(this=args[0].v.copy(), expressions=[a.v.copy() for a in args[1:]])
            any_null = _any_null([a.v for a in args])
            v = case([(any_null, typed_null(t))], picked)
        elif f == "starts_with":
            v = exp.StartsWith(this=a0, expression=args[1].v)
        elif f == "contains":
            v = exp.GT(
                this=exp.StrPosition(
                    this=exp.Lower(this=a0), substr=exp.Lower(this=args[1].v.copy())
                ),
                expression=ZERO.copy(),
            )
        elif f == "date":
            return self._parse_date(args[0], t)
        else:
            raise Unsupported(f"{f}()", "this function has no SQL form yet")
        return self._strict(t, v, args)

    def _parse_date(self, text: SV, t: T.Type) -> SV:
        """`date(text)`: YYYY-MM-DD or YYYY-MM (first day); a decided "none" otherwise."""
        s = exp.Trim(this=text.v.copy())
        month = exp.RegexpLike(this=s.copy(), expression=exp.Literal.string(r"^[0-9]{4}-[0-9]{2}$"))
        day = exp.RegexpLike(
            this=s.copy(), expression=exp.Literal.string(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
        )
        as_date = exp.TryCast(this=s.copy(), to=exp.DataType.build("DATE"))
        first = exp.TryCast(
            this=exp.DPipe(this=s.copy(), expression=exp.Literal.string("-01")),
            to=exp.DataType.build("DATE"),
        )
        v = case([(month, first), (day, as_date)], typed_null(t))
        return SV(v, text.m, t, text.bits)


def _any_null(values: list[exp.Expression]) -> exp.Expression:
    out: exp.Expression = is_null(values[0])
    for v in values[1:]:
        out = exp.Or(this=out, expression=is_null(v))
    return exp.Paren(this=out)


def _years_between(born: exp.Expression, on: exp.Expression) -> exp.Expression:
    """Whole years from `born` to `on`, a year counted on the birthday itself."""

    def md(d: exp.Expression) -> exp.Expression:
        return exp.Add(
            this=exp.Mul(this=exp.Month(this=d.copy()), expression=num(100)),
            expression=exp.Day(this=d.copy()),
        )

    years = exp.Sub(this=exp.Year(this=on.copy()), expression=exp.Year(this=born.copy()))
    before = case([(exp.LT(this=md(on), expression=md(born)), num(1))], ZERO.copy())
    return cast(exp.Paren(this=exp.Sub(this=years, expression=before)), "BIGINT")


def _flatten(node: A.Node, op: str) -> list[A.Node]:
    if isinstance(node, A.Logic) and node.op == op:
        return _flatten(node.left, op) + _flatten(node.right, op)
    return [node]
