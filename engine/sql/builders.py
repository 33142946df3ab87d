"""Small sqlglot builders shared by the expression compiler, the query and the facts checks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, TypeAlias, TypeVar

from sqlglot import exp

from engine.language import runtime as R
from engine.language import static_types as T
from engine.sql.types import Unsupported, cast, sql_type


def num(n: int) -> exp.Expression:
    lit = exp.Literal.number(abs(n))
    return exp.Neg(this=lit) if n < 0 else lit


ZERO = exp.Literal.number(0)

E = TypeVar("E", bound=exp.Expression)


def own(e: E) -> E:
    """`e` itself while it stands in no expression yet, else a copy of it: an expression
    placed in a tree once is placed again as a copy, and a fresh one is not copied at all
    (copying every operand at every level made building a tree quadratic in its depth)."""
    return e if e.parent is None else e.copy()


def unshare(root: exp.Expression) -> None:
    """Give each place in the tree under `root` a node of its own: a node placed once by
    `own` and later put in a second place unchanged is copied into the first, so that a
    rewrite in place never reaches two places at once."""
    seen = {id(root)}  # every node met so far, marked when met (twice under one parent too)
    stack = [root]
    while stack:
        node = stack.pop()
        for key, value in node.args.items():
            children = value if type(value) is list else [value]
            for i, child in enumerate(children):
                if not isinstance(child, exp.Expression):
                    continue
                if child.parent is not node or id(child) in seen:
                    child = child.copy()
                    if children is value:
                        value[i] = child
                        child.parent, child.arg_key, child.index = node, key, i
                    else:
                        node.set(key, child)
                seen.add(id(child))
                stack.append(child)


def is_zero(e: exp.Expression) -> bool:
    return isinstance(e, exp.Literal) and e.is_number and e.this == "0"


def bor(*masks: exp.Expression) -> exp.Expression:
    """Bitwise OR of masks, dropping the zeros and repeats (`a | a` is `a`): a balanced tree
    rather than a chain (the same value, but DuckDB plans a tree 6 deep measurably faster
    than a chain of 40)."""
    parts: list[exp.Expression] = []
    for m in masks:
        if not is_zero(m) and m not in parts:
            parts.append(m)
    if not parts:
        return ZERO.copy()
    return _bor_tree(parts)


def _bor_tree(parts: list[exp.Expression]) -> exp.Expression:
    if len(parts) == 1:
        return own(parts[0])
    half = len(parts) // 2
    return exp.Paren(
        this=exp.BitwiseOr(this=_bor_tree(parts[:half]), expression=_bor_tree(parts[half:]))
    )


def is_null(e: exp.Expression) -> exp.Expression:
    return exp.Is(this=own(e), expression=exp.Null())


def not_null(e: exp.Expression) -> exp.Expression:
    return exp.Not(this=is_null(e))


def is_true(e: exp.Expression) -> exp.Expression:
    """True only when `e` is true (not when it is false or NULL)."""
    return exp.Coalesce(this=own(e), expressions=[exp.false()])


def case(
    whens: list[tuple[exp.Expression, exp.Expression]], other: exp.Expression
) -> exp.Expression:
    c = exp.Case()
    for cond, val in whens:
        c = c.when(own(cond), own(val), copy=False)
    return c.else_(own(other), copy=False)


def typed_null(t: T.Type) -> exp.Expression:
    # a decimal NULL stays untyped, so that it takes the scale of the values beside it
    if t.kind in ("null", "any", "decimal"):
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
    if isinstance(value, Decimal):  # at its own scale, as the interpreter writes it (3.25)
        return cast(exp.Literal.string(str(value)), decimal_type(value))
    if isinstance(value, str):
        return exp.Literal.string(value)
    if isinstance(value, dt.date):
        return cast(exp.Literal.string(value.isoformat()), "DATE")
    if isinstance(value, dt.timedelta):
        return num(microseconds(value))
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


def decimal_type(value: Decimal) -> exp.DataType:
    exponent = value.as_tuple().exponent
    scale = min(max(0, -exponent), 38) if isinstance(exponent, int) else 0
    return exp.DataType.build(f"DECIMAL(38, {scale})")


def decimal_scale(e: exp.Expression) -> int | None:
    """The scale of a decimal SQL expression as the engines type it (a cast's, the larger of a
    sum's, the total of a product's), None when it cannot be read from the expression."""
    if isinstance(e, exp.Cast):
        to = e.to
        if to.this == exp.DataType.Type.DECIMAL:
            params = to.expressions
            return int(params[1].name) if len(params) > 1 else 0
        return 0 if to.is_type(*exp.DataType.INTEGER_TYPES) else None
    if isinstance(e, exp.Literal):
        return 0 if e.is_int else None
    if isinstance(e, exp.Paren | exp.Neg | exp.Abs):
        return decimal_scale(e.this)
    if isinstance(e, exp.Mul):
        a, b = decimal_scale(e.this), decimal_scale(e.expression)
        return None if a is None or b is None else min(a + b, 38)
    parts: list[exp.Expression] = []
    if isinstance(e, exp.Add | exp.Sub):
        parts = [e.this, e.expression]
    elif isinstance(e, exp.Case):
        parts = [i.args["true"] for i in e.args.get("ifs") or []]
        parts += [e.args["default"]] if e.args.get("default") is not None else []
    elif isinstance(e, exp.Coalesce | exp.Greatest | exp.Least):
        parts = [e.this, *e.expressions]
    scales = [decimal_scale(p) for p in parts if not isinstance(p, exp.Null)]
    if not scales or any(x is None for x in scales):
        return None
    return max(x for x in scales if x is not None)


def struct(fields: list[tuple[str, exp.Expression]]) -> exp.Expression:
    return exp.Struct(
        expressions=[
            exp.PropertyEQ(this=exp.to_identifier(k, quoted=True), expression=v) for k, v in fields
        ]
    )


def field_of(obj: exp.Expression, name: str) -> exp.Expression:
    return exp.Dot(this=own(obj), expression=exp.to_identifier(name, quoted=True))


def lam(var: str, body: exp.Expression) -> exp.Lambda:
    return exp.Lambda(this=body, expressions=[exp.to_identifier(var)])


def list_filter(items: exp.Expression, var: str, pred: exp.Expression) -> exp.Expression:
    return exp.ArrayFilter(this=own(items), expression=lam(var, pred))


def list_size(items: exp.Expression) -> exp.Expression:
    return exp.ArraySize(this=own(items))


def list_exists(items: exp.Expression, var: str, pred: exp.Expression) -> exp.Expression:
    chosen = list_filter(items, var, pred)
    return exp.GT(this=exp.ArraySize(this=chosen), expression=ZERO.copy())


def list_map(items: exp.Expression, var: str, body: exp.Expression) -> exp.Expression:
    return exp.Transform(this=own(items), expression=lam(var, body))


def date_add_days(d: exp.Expression, days: exp.Expression) -> exp.Expression:
    added = exp.DateAdd(this=d, expression=cast(days, "INT"), unit=exp.var("DAY"))
    return cast(added, "DATE")  # DuckDB's date + interval is a timestamp


# Exact durations are held as whole microseconds (a BIGINT reaches 292,000 years), the
# resolution of the interpreter's timedelta, so that a duration divided keeps its fraction.
US_PER_MINUTE = 60_000_000
US_PER_DAY = 86_400_000_000


def microseconds(d: dt.timedelta) -> int:
    """A duration as whole microseconds, exactly."""
    return (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds


def literal_int(e: exp.Expression) -> int | None:
    """The value of an integer literal (possibly negated or in brackets), else None."""
    if isinstance(e, exp.Paren):
        return literal_int(e.this)
    if isinstance(e, exp.Neg):
        inner = literal_int(e.this)
        return None if inner is None else -inner
    if isinstance(e, exp.Literal) and e.is_int:
        return int(e.this)
    return None


def constant_branches(
    e: exp.Expression,
) -> tuple[list[tuple[exp.Expression, int]], int | None] | None:
    """A CASE whose every branch is a whole-number literal or NULL, as (condition, value)
    pairs and the ELSE value (None for NULL); None for anything else."""
    if not isinstance(e, exp.Case) or e.this is not None:
        return None
    whens: list[tuple[exp.Expression, int]] = []
    for w in e.args.get("ifs") or []:
        k = literal_int(w.args.get("true"))
        if k is None:
            return None
        whens.append((w.this, k))
    other = e.args.get("default")
    if other is None or isinstance(other, exp.Null):
        return whens, None
    if isinstance(other, exp.Cast) and isinstance(other.this, exp.Null):
        return whens, None
    k = literal_int(other)
    return None if k is None else (whens, k)


def floor_div(a: exp.Expression, n: int) -> exp.Expression:
    """Integer division rounding down, as Python's `//` does for negative numbers too, exact
    in integers (both engines' integer division truncates towards zero)."""
    assert n > 0
    known = literal_int(a)
    if known is not None:  # a constant (a duration written in the pack): folded here
        return num(known // n)
    branches = constant_branches(a)
    if branches is not None:  # a parameter dated by version: each constant folded
        whens, other = branches
        rest = cast(exp.Null(), "BIGINT") if other is None else num(other // n)
        return case([(c, num(k // n)) for c, k in whens], rest)
    x = exp.Paren(this=a.copy())
    # x - (x mod n, from 0 to n - 1) is a multiple of n, so its division is exact
    pmod = exp.Mod(
        this=exp.Paren(this=exp.Add(this=exp.Mod(this=x, expression=num(n)), expression=num(n))),
        expression=num(n),
    )
    return exp.Paren(
        this=exp.IntDiv(
            this=exp.Paren(this=exp.Sub(this=x.copy(), expression=exp.Paren(this=pmod))),
            expression=num(n),
        )
    )


def half_even_div(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    """`a / b` of integers rounded to the nearest, a tie to the even one (Python's timedelta
    divided by an integer); exact in integers. NULL when `b` is zero."""
    x = exp.Paren(this=a.copy())
    y = exp.Paren(this=exp.Nullif(this=b.copy(), expression=ZERO.copy()))
    trunc, rem = exp.IntDiv(this=x, expression=y), exp.Mod(this=x.copy(), expression=y.copy())
    # floor division: one less (and the remainder one divisor more) when signs differ
    off = exp.And(
        this=exp.NEQ(this=rem.copy(), expression=ZERO.copy()),
        expression=exp.NEQ(
            this=exp.Paren(this=exp.LT(this=rem.copy(), expression=ZERO.copy())),
            expression=exp.Paren(this=exp.LT(this=y.copy(), expression=ZERO.copy())),
        ),
    )
    q = exp.Paren(
        this=exp.Sub(this=trunc, expression=exp.Case().when(off, num(1)).else_(ZERO.copy()))
    )
    r = exp.Paren(
        this=exp.Add(this=rem, expression=exp.Case().when(off.copy(), y.copy()).else_(ZERO.copy()))
    )
    rest = exp.Paren(this=exp.Sub(this=y.copy(), expression=r.copy()))  # b - r: no overflow
    over = (
        exp.Case()
        .when(exp.GT(this=y.copy(), expression=ZERO.copy()), exp.GT(this=r.copy(), expression=rest))
        .else_(exp.LT(this=r.copy(), expression=rest.copy()))
    )
    tie_odd = exp.And(
        this=exp.EQ(this=r.copy(), expression=rest.copy()),
        expression=exp.NEQ(this=exp.Mod(this=q.copy(), expression=num(2)), expression=ZERO.copy()),
    )
    up = exp.Or(this=exp.Paren(this=over), expression=exp.Paren(this=tie_odd))
    return exp.Add(this=q, expression=exp.Case().when(up, num(1)).else_(ZERO.copy()))


# -- run-time errors --------------------------------------------------------------------------
# An expression that may stop a decision (a zero divisor, an inexact quotient, a budget) has
# an error column beside its value: NULL while fine, else the interpreter's error text
# (`message [CODE]`). None stands for "cannot err", so expressions that cannot err carry none.

Err: TypeAlias = "exp.Expression | None"


def first_error(*errors: Err) -> Err:
    """The first error among operands evaluated in this order (None when none can err)."""
    parts = [e for e in errors if e is not None]
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    return exp.Coalesce(this=own(parts[0]), expressions=[own(p) for p in parts[1:]])


def error_if(cond: exp.Expression, text: exp.Expression) -> exp.Expression:
    """The error `text` on the rows where `cond` holds, NULL elsewhere."""
    return exp.Case().when(own(cond), own(text), copy=False)


def error_text(message: exp.Expression | str, code: str) -> exp.Expression:
    """`message [CODE]`, as an EvaluationError reads (`message` may be built per row)."""
    if isinstance(message, str):
        return exp.Literal.string(f"{message} [{code}]")
    return exp.DPipe(this=message, expression=exp.Literal.string(f" [{code}]"))


def has_error(e: exp.Expression) -> exp.Expression:
    return exp.Not(this=exp.Is(this=own(e), expression=exp.Null()))
