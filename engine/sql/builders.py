"""Small sqlglot builders shared by the expression compiler, the query and the facts checks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, TypeAlias

from sqlglot import exp

from engine.language import runtime as R
from engine.language import static_types as T
from engine.sql.types import Unsupported, cast, sql_type


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
    for cond, val in whens:
        c = c.when(cond.copy(), val.copy(), copy=False)
    return c.else_(other.copy(), copy=False)


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


def decimal_type(value: Decimal) -> exp.DataType:
    exponent = value.as_tuple().exponent
    scale = min(max(0, -exponent), 38) if isinstance(exponent, int) else 0
    return exp.DataType.build(f"DECIMAL(38, {scale})")


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
    chosen = list_filter(items, var, pred)
    return exp.GT(this=exp.ArraySize(this=chosen), expression=ZERO.copy())


def list_map(items: exp.Expression, var: str, body: exp.Expression) -> exp.Expression:
    return exp.Transform(this=items.copy(), expression=lam(var, body))


def date_add_days(d: exp.Expression, days: exp.Expression) -> exp.Expression:
    added = exp.DateAdd(this=d, expression=cast(days, "INT"), unit=exp.var("DAY"))
    return cast(added, "DATE")  # DuckDB's date + interval is a timestamp


def floor_div(a: exp.Expression, n: int) -> exp.Expression:
    """Integer division rounding down, as Python's `//` does for negative numbers too."""
    return cast(exp.Floor(this=exp.Div(this=cast(a, "DOUBLE"), expression=num(n))), "BIGINT")


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
    return exp.Coalesce(this=parts[0].copy(), expressions=[p.copy() for p in parts[1:]])


def error_if(cond: exp.Expression, text: exp.Expression) -> exp.Expression:
    """The error `text` on the rows where `cond` holds, NULL elsewhere."""
    return exp.Case().when(cond.copy(), text.copy(), copy=False)


def error_text(message: exp.Expression | str, code: str) -> exp.Expression:
    """`message [CODE]`, as an EvaluationError reads (`message` may be built per row)."""
    if isinstance(message, str):
        return exp.Literal.string(f"{message} [{code}]")
    return exp.DPipe(this=message, expression=exp.Literal.string(f" [{code}]"))


def has_error(e: exp.Expression) -> exp.Expression:
    return exp.Not(this=exp.Is(this=e.copy(), expression=exp.Null()))
