"""SQL forms of the language's list, text and decimal functions (the value column only).

Each form takes the operands' value columns and gives the result's value column; masks are
the caller's (`ExprCompiler._strict`): these functions are strict, so a NULL result from
unknown operands carries the operands' paths. The forms follow `engine.language.functions`
exactly: an unknown element of a list makes `sort`, `min`, `max`, `flatten` and the rest
unknown where the interpreter's `_strict_list` does, and `index_of` stops at the first
unknown element as the interpreter does.
"""

from __future__ import annotations

from sqlglot import exp

from engine.language import static_types as T
from engine.sql.builders import (
    ZERO,
    case,
    error_text,
    is_null,
    list_exists,
    list_map,
    list_size,
    not_null,
    num,
    typed_null,
)
from engine.sql.types import Unsupported, cast, sql_type


def dialect_fn(dialect: str, duckdb: str, spark: str, *args: exp.Expression) -> exp.Expression:
    """A function whose name differs between the engines (same arguments, same meaning)."""
    name = spark if dialect == "spark" else duckdb
    return exp.Anonymous(this=name, expressions=[a.copy() for a in args])


def has_null(items: exp.Expression, var: str) -> exp.Expression:
    return list_exists(items, var, is_null(exp.column(var)))


def whole_list(items: exp.Expression, var: str, t: T.Type, then: exp.Expression) -> exp.Expression:
    """`then` unless the list is unknown or holds an unknown element (the interpreter's
    `_strict_list`: such a list makes the result unknown)."""
    return case([(is_null(items), typed_null(t)), (has_null(items, var), typed_null(t))], then)


def sort_list(dialect: str, items: exp.Expression, var: str, t: T.Type) -> exp.Expression:
    return whole_list(items, var, t, dialect_fn(dialect, "LIST_SORT", "ARRAY_SORT", items))


def extreme(
    dialect: str, items: exp.Expression, var: str, t: T.Type, least: bool
) -> exp.Expression:
    """`min`/`max`/`earliest`/`latest` of one list: none for an empty list."""
    pick = (
        dialect_fn(dialect, "LIST_MIN", "ARRAY_MIN", items)
        if least
        else dialect_fn(dialect, "LIST_MAX", "ARRAY_MAX", items)
    )
    empty = exp.EQ(this=list_size(items), expression=ZERO.copy())
    return whole_list(items, var, t, case([(empty, typed_null(t))], pick))


def flatten_list(
    dialect: str, items: exp.Expression, var: str, elem: T.Type | None, t: T.Type
) -> exp.Expression:
    """A list of lists as one list; a list of other values unchanged (unknown if one is)."""
    if elem is not None and elem.kind == "list":
        return whole_list(items, var, t, exp.Flatten(this=items.copy()))
    return whole_list(items, var, t, items)


def contains_any(text: exp.Expression, parts: exp.Expression, var: str) -> exp.Expression:
    """True when a known part occurs in the text ignoring case; unknown when none does and a
    part is unknown."""
    x = exp.column(var)
    found = exp.And(
        this=not_null(x),
        expression=exp.GT(
            this=exp.StrPosition(this=exp.Lower(this=text.copy()), substr=exp.Lower(this=x)),
            expression=ZERO.copy(),
        ),
    )
    return case(
        [
            (is_null(text), exp.Null()),
            (is_null(parts), exp.Null()),
            (list_exists(parts, var, found), exp.true()),
            (has_null(parts, var), exp.Null()),
        ],
        exp.false(),
    )


def first_position(
    dialect: str, items: exp.Expression, var: str, pred: exp.Expression
) -> exp.Expression:
    """The position (from 1) of the first element `pred` holds for, 0 when there is none."""
    flags = list_map(items, var, exp.Coalesce(this=pred, expressions=[exp.false()]))
    pos = dialect_fn(dialect, "LIST_POSITION", "ARRAY_POSITION", flags, exp.true())
    return exp.Coalesce(this=cast(pos, "BIGINT"), expressions=[ZERO.copy()])


def index_of(
    dialect: str, value: exp.Expression, items: exp.Expression, var: str
) -> exp.Expression:
    """Position from 1 of the value, 0 when absent; unknown when an unknown element comes
    first (it could be this one)."""
    x = exp.column(var)
    at = first_position(dialect, items, var, exp.EQ(this=x, expression=value.copy()))
    gap = first_position(dialect, items, var, is_null(x.copy()))
    unknown_first = exp.And(
        this=exp.GT(this=gap.copy(), expression=ZERO.copy()),
        expression=exp.Paren(
            this=exp.Or(
                this=exp.EQ(this=at.copy(), expression=ZERO.copy()),
                expression=exp.LT(this=gap.copy(), expression=at.copy()),
            )
        ),
    )
    return case(
        [
            (is_null(value), cast(exp.Null(), "BIGINT")),
            (is_null(items), cast(exp.Null(), "BIGINT")),
            (unknown_first, cast(exp.Null(), "BIGINT")),
        ],
        at,
    )


def text_of(value: exp.Expression, t: T.Type) -> exp.Expression:
    """`text(x)`: a number, date or boolean as text (the interpreter's `str`/`isoformat`)."""
    if t.kind == "string":
        return value
    if t.kind in ("int", "bool", "date"):
        return cast(value.copy(), "VARCHAR")
    if t.kind in ("null", "any"):
        return cast(exp.Null(), "VARCHAR")
    if t.kind == "decimal":
        raise Unsupported(
            "text()",
            "the interpreter writes a decimal with the digits its calculation produced; "
            "SQL decimals have a fixed scale",
        )
    raise Unsupported("text()", f"of {T.article(t)}")


# -- decimals ---------------------------------------------------------------------------------


def as_decimal(value: exp.Expression, t: T.Type) -> exp.Expression:
    """A number for decimal arithmetic: a whole number as a decimal of scale 0, a decimal as
    it is (SQL decimal types then carry the scale the interpreter's exponents would: the
    larger for a sum, the total for a product)."""
    if t.kind == "decimal":
        return value.copy()
    return cast(value.copy(), exp.DataType.build("DECIMAL(38, 0)"))


def divide(
    a: exp.Expression, b: exp.Expression, where: str
) -> tuple[exp.Expression, exp.Expression]:
    """`a / b`, exact, and its error column (as the interpreter's `divide`): E-EVAL-DIV0 for
    a zero divisor, E-EVAL-RANGE when the quotient has no exact decimal value (checked by
    multiplying back, so a rounded quotient never passes); the value is NULL on those rows."""
    fixed = sql_type(T.DECIMAL)  # a quotient at the fixed scale, checked by multiplying back
    da, db = cast(a.copy(), fixed), cast(b.copy(), fixed)
    # a zero divisor gives a NULL quotient (no engine is asked to divide by zero)
    nonzero = exp.Nullif(this=db.copy(), expression=cast(ZERO.copy(), fixed))
    quotient = cast(exp.Div(this=da.copy(), expression=nonzero), fixed)
    back = exp.Mul(this=quotient.copy(), expression=db.copy())
    zero = exp.EQ(this=b.copy(), expression=ZERO.copy())
    inexact = exp.NEQ(this=back, expression=da.copy())
    known = exp.And(this=not_null(a), expression=not_null(b))
    text = exp.DPipe(
        this=exp.DPipe(
            this=exp.DPipe(this=exp.Literal.string("`"), expression=cast(a.copy(), "VARCHAR")),
            expression=exp.Literal.string(" / "),
        ),
        expression=exp.DPipe(
            this=cast(b.copy(), "VARCHAR"),
            expression=exp.Literal.string(
                "` has no exact decimal value; decimals are never rounded silently"
            ),
        ),
    )
    error = case(
        [
            (exp.Not(this=exp.Paren(this=known)), exp.Null()),
            (zero, error_text(f"division by zero in {where}", "E-EVAL-DIV0")),
            (inexact, error_text(text, "E-EVAL-RANGE")),
        ],
        cast(exp.Null(), "VARCHAR"),
    )
    value = case([(inexact, typed_null(T.DECIMAL))], quotient)  # NULL too on a zero divisor
    return value, error


def round_to(value: exp.Expression, t: T.Type, places: int) -> exp.Expression:
    """Round half away from zero (the interpreter's ROUND_HALF_UP) to `places` places."""
    rounded = exp.Round(this=as_decimal(value, t), decimals=num(places))
    return cast(rounded, exp.DataType.build(f"DECIMAL(38, {places})"))
