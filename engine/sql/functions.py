"""SQL forms of the language's list, text and decimal functions (the value column only).

Each form takes the operands' value columns and gives the result's value column; masks are
the caller's (`ExprCompiler._strict`): these functions are strict, so a NULL result from
unknown operands carries the operands' paths. The forms follow `engine.language.functions`
exactly: an unknown element of a list makes `sort`, `min`, `max`, `flatten` and the rest
unknown where the interpreter's `_strict_list` does, and `index_of` stops at the first
unknown element as the interpreter does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlglot import exp

from engine.language import static_types as T
from engine.sql.builders import (
    ZERO,
    case,
    error_text,
    field_of,
    half_even_div,
    is_null,
    list_exists,
    list_map,
    list_size,
    not_null,
    num,
    struct,
    typed_null,
)
from engine.sql.types import DECIMAL_SCALE, Unsupported, cast, sql_type

# A record the interpreter decides but whose value a SQL column cannot hold (an integer past
# 64 bits, a decimal past 38 digits, a computed number of places past 10): that row's error
# says so, with E-EVAL-RANGE, and ends with these words.
PYTHON_DECIDES = "(`--engine python` decides this record)"


BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
WIDE = "DECIMAL(38, 0)"  # holds any sum or product of two BIGINTs exactly (below 2^126)


def no_error() -> exp.Expression:
    return cast(exp.Null(), "VARCHAR")


def checked_whole(
    op: Callable[..., exp.Expression], args: list[exp.Expression], message: str
) -> tuple[exp.Expression, exp.Expression]:
    """A whole-number operation worked out exactly in DECIMAL(38, 0), where it cannot
    overflow, then kept as a BIGINT when it fits; where it does not, the value is NULL and the
    row's error is `message` (E-EVAL-RANGE): the interpreter's integers have no such limit."""
    exact = op(*(cast(a.copy(), WIDE) for a in args))
    fits = exp.Between(this=exact.copy(), low=num(BIGINT_MIN), high=num(BIGINT_MAX))
    value = case([(fits, cast(exact, "BIGINT"))], cast(exp.Null(), "BIGINT"))
    known: exp.Expression = not_null(args[0])
    for a in args[1:]:
        known = exp.And(this=known, expression=not_null(a))
    over = exp.And(this=known, expression=exp.Not(this=fits.copy()))
    return value, case([(over, error_text(message, "E-EVAL-RANGE"))], no_error())


def decimal_within(
    cls: Any, a: exp.Expression, b: exp.Expression, digits: int, message: str
) -> tuple[exp.Expression, exp.Expression]:
    """`a + b`, `a - b` or `a * b` of decimals, worked out only where its magnitude, estimated
    in DOUBLE, is below 0.999 * 10^digits (the whole digits its scale leaves of 38); elsewhere
    NULL and the row's error `message`, so the engine never meets the overflow itself."""

    def dbl(x: exp.Expression) -> exp.Expression:
        return cast(x.copy(), "DOUBLE")

    if cls is exp.Mul:
        size: exp.Expression = exp.Mul(this=exp.Abs(this=dbl(a)), expression=exp.Abs(this=dbl(b)))
    else:
        size = exp.Add(this=exp.Abs(this=dbl(a)), expression=exp.Abs(this=dbl(b)))
    fits = exp.LT(this=size, expression=exp.Literal.number(f"{0.999 * 10.0**digits:.6e}"))
    value = case([(fits, exp.Paren(this=cls(this=a.copy(), expression=b.copy())))], exp.Null())
    known = exp.And(this=not_null(a), expression=not_null(b))
    over = exp.And(this=known, expression=exp.Not(this=fits.copy()))
    return value, case([(over, error_text(message, "E-EVAL-RANGE"))], no_error())


def wide_sum(dialect: str, items: exp.Expression, a: str, b: str) -> exp.Expression:
    """The exact sum of a list of BIGINTs in DECIMAL(38, 0) (a list holds at most 100,000 of
    them, so it cannot overflow), 0 when it is empty."""
    if dialect == "spark":
        merge = exp.Lambda(
            this=exp.Add(this=exp.column(a), expression=exp.column(b)),
            expressions=[exp.to_identifier(a), exp.to_identifier(b)],
        )
        return exp.Anonymous(
            this="AGGREGATE", expressions=[items.copy(), cast(ZERO.copy(), WIDE), merge]
        )
    total = cast(exp.Anonymous(this="LIST_SUM", expressions=[items.copy()]), WIDE)
    return exp.Coalesce(this=total, expressions=[cast(ZERO.copy(), WIDE)])


def dated(
    value: exp.Expression,
    operands: list[exp.Expression],
    prefix: str,
    near: exp.Expression | None = None,
) -> tuple[exp.Expression, exp.Expression]:
    """A computed date, NULL past the years 1 to 9999 with the interpreter's error for Python's
    date overflow (`date value out of range`) on that row; both engines hold such dates."""
    ok = exp.Between(this=exp.Year(this=value.copy()), low=num(1), high=num(9999))
    known: exp.Expression = not_null(operands[0])
    for a in operands[1:]:
        known = exp.And(this=known, expression=not_null(a))
    over = exp.And(this=known, expression=exp.Not(this=ok.copy()))
    text = error_text(f"{prefix}date value out of range", "E-EVAL-RANGE")
    return edged(value, ok, case([(over, text)], no_error()), near, "DATE")


def edged(
    value: exp.Expression,
    ok: exp.Expression,
    error: exp.Expression,
    near: exp.Expression | None,
    sql: str,
) -> tuple[exp.Expression, exp.Expression]:
    """`value` where `ok` holds (NULL elsewhere) and `error`, both tested only on the rows
    `near` picks (all when None): the rest keep the value as it is and no error."""
    if near is None:
        return case([(ok, value)], cast(exp.Null(), sql)), error
    far = exp.Not(this=exp.Paren(this=near.copy()))
    v = case([(far, value), (ok, value)], cast(exp.Null(), sql))
    return v, case([(near, error)], no_error())


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
    """`text(x)`: a number, date or boolean as text (the interpreter's `str`/`isoformat`); a
    decimal's text is `decimal_text`, from the places the expression gives it."""
    if t.kind == "string":
        return value
    if t.kind in ("int", "bool", "date"):
        return cast(value.copy(), "VARCHAR")
    if t.kind in ("null", "any"):
        return cast(exp.Null(), "VARCHAR")
    raise Unsupported("text()", f"of {T.article(t)}")


def _s(text: str) -> exp.Expression:
    return exp.Literal.string(text)


def _cat(*parts: exp.Expression) -> exp.Expression:
    out = parts[0].copy()
    for p in parts[1:]:
        out = exp.DPipe(this=out, expression=p.copy())
    return out


def _digits(value: exp.Expression) -> tuple[exp.Expression, exp.Expression]:
    """The digits of a decimal's magnitude as SQL writes them (`12.50` at scale 2: `1250`) and
    that scale, read from its plain text (both engines write a DECIMAL so)."""
    shown = cast(exp.Abs(this=value.copy()), "VARCHAR")
    dot = exp.StrPosition(this=shown.copy(), substr=_s("."))
    digits = exp.Replace(this=shown.copy(), expression=_s("."), replacement=_s(""))
    scale = case(
        [
            (
                exp.GT(this=dot.copy(), expression=ZERO.copy()),
                exp.Sub(this=exp.Length(this=shown.copy()), expression=dot),
            )
        ],
        ZERO.copy(),
    )
    return digits, scale


def let(
    dialect: str, value: exp.Expression, var: str, body: Callable[[exp.Expression], exp.Expression]
) -> exp.Expression:
    """`body` of `value` worked out once (a one-element list mapped, its element taken): the
    SQL of `body` names `value` as often as it likes without copying it."""
    mapped = list_map(exp.Array(expressions=[value.copy()]), var, body(exp.column(var)))
    return dialect_fn(dialect, "LIST_EXTRACT", "ELEMENT_AT", mapped, num(1))


def least_exponent(dialect: str, value: exp.Expression, var: str) -> exp.Expression:
    """The largest exponent e with the value a whole multiple of 10^e (its trailing zeros
    stripped: `20.00` gives 1); for a zero value, 0 (callers treat zero apart)."""

    def body(v: exp.Expression) -> exp.Expression:
        digits, scale = _digits(v)
        stripped = exp.Trim(this=digits.copy(), expression=_s("0"), position="TRAILING")
        zeros = exp.Sub(this=exp.Length(this=digits), expression=exp.Length(this=stripped))
        return case(
            [(exp.EQ(this=v.copy(), expression=ZERO.copy()), ZERO.copy())],
            exp.Sub(this=zeros, expression=scale),
        )

    return let(dialect, value, var, body)


def decimal_text(
    dialect: str,
    value: exp.Expression,
    exponent: exp.Expression,
    negative_zero: exp.Expression,
    fresh: Callable[[], str],
) -> exp.Expression:
    """A decimal written as the interpreter writes it (Python's `str` of a Decimal): the
    coefficient at the record's exponent (`6.50`, `2E+1`, `1E-7`, `0E-7`), in plain notation
    while the exponent is at most 0 and the point at most 6 places left of the first digit,
    in scientific notation otherwise; `-` for a negative value and a negative zero. The value,
    exponent and coefficient are each worked out once (`let`)."""

    def parts(x: exp.Expression) -> exp.Expression:
        v, e = field_of(x, "v"), field_of(x, "e")
        digits, scale = _digits(v)
        drop = exp.Paren(this=exp.Add(this=scale, expression=e.copy()))
        shorter = exp.Sub(this=exp.Length(this=digits.copy()), expression=drop.copy())
        at_exponent = case(
            [
                (
                    exp.GTE(this=drop.copy(), expression=ZERO.copy()),
                    exp.Substring(this=digits.copy(), start=num(1), length=shorter),
                )
            ],
            _cat(digits, exp.Repeat(this=_s("0"), times=exp.Neg(this=drop.copy()))),
        )
        trimmed = exp.Trim(this=at_exponent, expression=_s("0"), position="LEADING")
        written = exp.Coalesce(
            this=exp.Nullif(this=trimmed, expression=_s("")), expressions=[_s("0")]
        )
        coef = case([(is_null(v), cast(exp.Null(), "VARCHAR"))], written)
        minus = exp.Or(
            this=exp.LT(this=v.copy(), expression=ZERO.copy()),
            expression=exp.Paren(this=field_of(x, "n")),
        )
        return struct([("c", coef), ("e", e.copy()), ("neg", minus)])

    given = struct([("v", value), ("e", exponent), ("n", negative_zero)])
    # NULL for an unknown value: every part of the text is then NULL
    return let(dialect, let(dialect, given, fresh(), parts), fresh(), _format)


def _format(x: exp.Expression) -> exp.Expression:
    """Python's `Decimal.__str__` from the coefficient's digits `c`, the exponent `e` and the
    sign `neg` (fields of `x`)."""
    coef, exponent = field_of(x, "c"), field_of(x, "e")
    n = exp.Length(this=coef.copy())
    left = exp.Paren(this=exp.Add(this=exponent.copy(), expression=n.copy()))  # digits left of .
    plain = exp.And(
        this=exp.LTE(this=exponent.copy(), expression=ZERO.copy()),
        expression=exp.GT(this=left.copy(), expression=num(-6)),
    )
    before_point = exp.LTE(this=left.copy(), expression=ZERO.copy())
    whole = exp.GTE(this=left.copy(), expression=n.copy())
    zeros = exp.Repeat(this=_s("0"), times=exp.Neg(this=left.copy()))
    plain_text = case(
        [(before_point, _cat(_s("0."), zeros, coef)), (whole, coef.copy())],
        _cat(
            exp.Substring(this=coef.copy(), start=num(1), length=left.copy()),
            _s("."),
            exp.Substring(this=coef.copy(), start=exp.Add(this=left.copy(), expression=num(1))),
        ),
    )
    power = exp.Paren(this=exp.Sub(this=left.copy(), expression=num(1)))
    rest = _cat(_s("."), exp.Substring(this=coef.copy(), start=num(2)))
    mantissa = _cat(
        exp.Substring(this=coef.copy(), start=num(1), length=num(1)),
        case([(exp.GT(this=n.copy(), expression=num(1)), rest)], _s("")),
    )
    sci = _cat(
        mantissa,
        _s("E"),
        case([(exp.GTE(this=power.copy(), expression=ZERO.copy()), _s("+"))], _s("-")),
        cast(exp.Abs(this=power.copy()), "VARCHAR"),
    )
    sign = case([(field_of(x, "neg"), _s("-"))], _s(""))
    return _cat(sign, case([(plain, plain_text)], sci))


# -- decimals ---------------------------------------------------------------------------------


def as_decimal(value: exp.Expression, t: T.Type) -> exp.Expression:
    """A number for decimal arithmetic: a whole number as a decimal of scale 0, a decimal as
    it is (SQL decimal types then carry the scale the interpreter's exponents would: the
    larger for a sum, the total for a product)."""
    if t.kind == "decimal":
        return value.copy()
    return cast(value.copy(), exp.DataType.build("DECIMAL(38, 0)"))


def divide(
    dialect: str,
    a: exp.Expression,
    b: exp.Expression,
    where: str,
    scales: tuple[int | None, int | None] = (None, None),
    written: tuple[exp.Expression | None, exp.Expression | None] = (None, None),
) -> tuple[exp.Expression, exp.Expression]:
    """`a / b` with a decimal operand, exactly (as the interpreter's `divide`), in integers
    and never through a float: both operands as whole numbers of 10^-S (S the larger of their
    scales, at least 10, at most 18), then the long division of `quotient_parts`, worked out
    once per row (`let`). E-EVAL-DIV0 for a zero divisor, E-EVAL-RANGE in the interpreter's
    words for a quotient with no exact value; a quotient or divisor past 18 whole digits (the
    integers would pass 38 digits) is that row's error, saying the interpreter decides it."""
    scale = min(max([DECIMAL_SCALE, *(x for x in scales if x is not None)]), 18)
    wide_type = "HUGEINT" if dialect != "spark" else WIDE

    def whole_of(x: exp.Expression) -> exp.Expression:
        """x as a whole number of 10^-scale: its whole part shifted, plus its places."""
        fixed = cast(x.copy(), f"DECIMAL(38, {scale})")
        frac = exp.Paren(this=exp.Mod(this=fixed.copy(), expression=num(1)))
        whole = cast(exp.Paren(this=exp.Sub(this=fixed, expression=frac.copy())), wide_type)
        places = cast(exp.Paren(this=exp.Mul(this=frac, expression=num(10**scale))), "BIGINT")
        return exp.Paren(
            this=exp.Add(
                this=exp.Mul(this=whole, expression=cast(num(10**scale), wide_type)),
                expression=places,
            )
        )

    def dbl(x: exp.Expression) -> exp.Expression:
        return exp.Abs(this=cast(x.copy(), "DOUBLE"))

    big = (
        f"a quotient or divisor past the 18 whole digits SQL divides decimals in, in {where} "
        f"{PYTHON_DECIDES}"
    )

    def body(x: exp.Expression) -> exp.Expression:
        """The quotient and its error from the operands `x.a` and `x.b`, each read by name."""
        xa, xb = field_of(x, "a"), field_of(x, "b")
        fits = exp.And(
            this=exp.And(
                this=exp.LT(this=dbl(xb), expression=exp.Literal.number(f"1e{28 - scale}")),
                expression=exp.LT(
                    this=dbl(xa), expression=exp.Literal.number(f"1e{38 - scale - 1}")
                ),
            ),
            expression=exp.LT(
                this=dbl(xa),
                expression=exp.Mul(this=exp.Literal.number("1e18"), expression=dbl(xb)),
            ),
        )
        # a divisor below 10^28 has at most 93 factors 2: 10 + 9 * 10 places tell them
        # past the limits no integer is built (its cast would fail the query)
        sa, sb = case([(fits, xa)], exp.Null()), case([(fits.copy(), xb)], exp.Null())
        ints = struct(
            [("a", whole_of(sa)), ("b", whole_of(sb)), ("ok", fits), ("x", xa), ("y", xb)]
            + [(f"t{i}", field_of(x, f"t{i}")) for i, w in enumerate(written) if w is not None]
        )
        return let(dialect, ints, "w_", divided)

    def divided(w: exp.Expression) -> exp.Expression:
        """The quotient and its error from the whole numbers `w.a` and `w.b` (read by name)."""
        value, exact, ends = quotient_parts(field_of(w, "a"), field_of(w, "b"), 10, 9)
        ok = field_of(w, "ok")
        texts = tuple(
            field_of(w, f"t{i}") if t is not None else None for i, t in enumerate(written)
        )
        error = _quotient_error(
            field_of(w, "x"),
            field_of(w, "y"),
            where,
            [
                (exp.Not(this=ok.copy()), error_text(big, "E-EVAL-RANGE")),
                (exact, no_error()),
                (ends, None),
            ],
            (texts[0], texts[1]),
        )
        q = case([(exp.And(this=ok, expression=exact.copy()), value)], typed_null(T.DECIMAL))
        return struct([("q", q), ("e", error)])

    given = [("a", a), ("b", b)] + [(f"t{i}", w) for i, w in enumerate(written) if w is not None]
    worked = let(dialect, struct(given), "q_", body)
    return field_of(worked, "q"), field_of(worked, "e")


def divide_duration(
    a: exp.Expression, b: exp.Expression, where: str
) -> tuple[exp.Expression, exp.Expression]:
    """`duration / n`: whole microseconds rounded half to even, as the interpreter's timedelta
    divides, and its error column (E-EVAL-DIV0 for a zero divisor, the value then NULL)."""
    zero = exp.And(
        this=not_null(a), expression=exp.EQ(this=b.copy(), expression=ZERO.copy())
    )  # an unknown duration is not divided
    error = case(
        [(zero, error_text(f"division by zero in {where}", "E-EVAL-DIV0"))],
        cast(exp.Null(), "VARCHAR"),
    )
    return half_even_div(a, b), error


def decimal_sum(
    dialect: str, items: exp.Expression, a: str, b: str, scale: int | None, message: str
) -> tuple[exp.Expression, exp.Expression]:
    """The exact sum of a list of decimals at the list's own scale (`scale`, 10 when not
    known), 0 when it is empty (the interpreter's empty sum), and its error column: a sum
    that may pass the 38 digits of a SQL decimal (the magnitudes' sum, as DOUBLEs, within
    one in a thousand of 10^(38 - scale)) is not worked out and is the row's error `message`
    (the interpreter holds 200 digits). Spark folds from the first element times zero, which
    has the element's type, so the fold keeps it (with `allowPrecisionLoss` off, spark.py)."""
    if dialect == "spark":
        zero = exp.Mul(
            this=dialect_fn(dialect, "LIST_EXTRACT", "TRY_ELEMENT_AT", items, num(1)),
            expression=ZERO.copy(),
        )
        merge = exp.Lambda(
            this=exp.Add(this=exp.column(a), expression=exp.column(b)),
            expressions=[exp.to_identifier(a), exp.to_identifier(b)],
        )
        total: exp.Expression = exp.Anonymous(
            this="AGGREGATE", expressions=[items.copy(), zero, merge]
        )
    else:
        total = exp.Anonymous(this="LIST_SUM", expressions=[items.copy()])
    sizes = list_map(items, a, exp.Abs(this=cast(exp.column(a), "DOUBLE")))
    if dialect == "spark":
        add = exp.Lambda(
            this=exp.Add(this=exp.column(a), expression=exp.column(b)),
            expressions=[exp.to_identifier(a), exp.to_identifier(b)],
        )
        size: exp.Expression = exp.Anonymous(
            this="AGGREGATE", expressions=[sizes, cast(ZERO.copy(), "DOUBLE"), add]
        )
    else:
        size = exp.Anonymous(this="LIST_SUM", expressions=[sizes])
    room = 38 - (DECIMAL_SCALE if scale is None else scale)
    fits = exp.LT(
        this=exp.Coalesce(this=size, expressions=[ZERO.copy()]),
        expression=exp.Literal.number(f"{0.999 * 10.0**room:.6e}"),
    )
    over = exp.And(
        this=exp.Not(this=exp.Paren(this=fits.copy())),
        expression=exp.Not(this=has_null(items, a)),
    )
    value = case([(fits, exp.Coalesce(this=total, expressions=[ZERO.copy()]))], exp.Null())
    return value, case([(over, error_text(message, "E-EVAL-RANGE"))], no_error())


def round_computed(
    value: exp.Expression, t: T.Type, places: exp.Expression
) -> tuple[exp.Expression, exp.Expression]:
    """`round(x, n)` with `n` worked out per record: half away from zero (ROUND_HALF_UP) to n
    places for n from 0 to 10, held at 10 places; another n is the row's error, as SQL holds
    no more places and rounds only to places fixed in the query."""
    arms = [
        (
            exp.EQ(this=places.copy(), expression=num(k)),
            cast(exp.Round(this=as_decimal(value, t), decimals=num(k)), sql_type(T.DECIMAL)),
        )
        for k in range(DECIMAL_SCALE + 1)
    ]
    v = case(arms, typed_null(T.DECIMAL))
    outside = exp.And(
        this=exp.And(this=not_null(value), expression=not_null(places)),
        expression=exp.Not(
            this=exp.Between(this=places.copy(), low=ZERO.copy(), high=num(DECIMAL_SCALE))
        ),
    )
    text = exp.DPipe(
        this=exp.DPipe(
            this=exp.Literal.string("`round` to "), expression=cast(places.copy(), "VARCHAR")
        ),
        expression=exp.Literal.string(
            f" places: the SQL form rounds to a computed number of places from 0 to "
            f"{DECIMAL_SCALE} only {PYTHON_DECIDES}"
        ),
    )
    error = case([(outside, error_text(text, "E-EVAL-RANGE"))], cast(exp.Null(), "VARCHAR"))
    return v, error


def divide_whole(
    dialect: str, a: exp.Expression, b: exp.Expression, where: str
) -> tuple[exp.Expression, exp.Expression]:
    """`a / b` of two integers, exactly, in integer arithmetic (never through a float), in a
    type that holds a BIGINT times 10^18 (HUGEINT, Spark's DECIMAL(38, 0)); see
    `quotient_parts`. A BIGINT divisor has at most 63 factors 2 and 27 factors 5, so 10 + 3 *
    18 places tell an exact quotient from one with no exact value."""
    wide_type = "HUGEINT" if dialect != "spark" else WIDE
    value, exact, ends = quotient_parts(cast(a.copy(), wide_type), cast(b.copy(), wide_type), 18, 3)
    error = _quotient_error(a, b, where, [(exact, no_error()), (ends, None)])
    return case([(exact, value)], typed_null(T.DECIMAL)), error


def quotient_parts(
    wa: exp.Expression, wb: exp.Expression, chunk: int, rounds: int
) -> tuple[exp.Expression, exp.Expression, exp.Expression]:
    """The quotient of two whole numbers `wa / wb` (exact integers below 10^38) at 10 places:
    the whole part and remainder, then ten places of the remainder (`remainder * 10^10 <
    10^38`); whether it is exact there; and whether it is exact after `rounds` more steps of
    `chunk` places (a value the interpreter gives and SQL cannot hold at 10 places) or not
    (no exact value at all). NULL for a zero divisor."""

    def rem(x: exp.Expression, y: exp.Expression) -> exp.Expression:
        return exp.Paren(this=exp.Mod(this=exp.Paren(this=x), expression=y.copy()))

    d = exp.Nullif(this=wb.copy(), expression=ZERO.copy())
    whole = exp.IntDiv(this=wa.copy(), expression=d.copy())
    r = rem(wa.copy(), d)
    scaled = exp.Mul(this=r.copy(), expression=num(10**DECIMAL_SCALE))
    places = exp.IntDiv(this=exp.Paren(this=scaled.copy()), expression=d.copy())
    fixed = sql_type(T.DECIMAL)
    step = cast(exp.Literal.string(f"1E-{DECIMAL_SCALE}"), fixed)
    value = cast(
        exp.Add(
            this=cast(exp.Paren(this=whole), WIDE),
            expression=exp.Mul(this=cast(exp.Paren(this=places), WIDE), expression=step),
        ),
        fixed,
    )
    left = rem(scaled, d)  # what the 10 places leave over
    exact = exp.EQ(this=left.copy(), expression=ZERO.copy())
    tail = left
    for _ in range(rounds):
        tail = rem(exp.Mul(this=tail, expression=num(10**chunk)), d)
    return value, exact, exp.EQ(this=tail, expression=ZERO.copy())


def _quotient_error(
    a: exp.Expression,
    b: exp.Expression,
    where: str,
    outcomes: list[tuple[exp.Expression, exp.Expression | None]],
    written: tuple[exp.Expression | None, exp.Expression | None] = (None, None),
) -> exp.Expression:
    """The error of `a / b`: none while an operand is unknown, E-EVAL-DIV0 for a zero divisor,
    then the first of `outcomes` that holds (None there: an exact value past 10 places, which
    the interpreter decides), else no exact value (E-EVAL-RANGE, the interpreter's words, with
    each operand's text as `written` gives it where it can, else as SQL writes it)."""
    ta = written[0] if written[0] is not None else cast(a.copy(), "VARCHAR")
    tb = written[1] if written[1] is not None else cast(b.copy(), "VARCHAR")
    shown = exp.DPipe(
        this=exp.DPipe(
            this=exp.DPipe(this=exp.Literal.string("`"), expression=ta.copy()),
            expression=exp.Literal.string(" / "),
        ),
        expression=tb.copy(),
    )
    longer = exp.DPipe(
        this=shown.copy(),
        expression=exp.Literal.string(
            f"` has an exact value with more than {DECIMAL_SCALE} places, which a SQL "
            f"decimal here does not hold {PYTHON_DECIDES}"
        ),
    )
    none = exp.DPipe(
        this=shown,
        expression=exp.Literal.string(
            "` has no exact decimal value; decimals are never rounded silently"
        ),
    )
    known = exp.And(this=not_null(a), expression=not_null(b))
    whens = [
        (exp.Not(this=exp.Paren(this=known)), exp.Null()),
        (
            exp.EQ(this=b.copy(), expression=ZERO.copy()),
            error_text(f"division by zero in {where}", "E-EVAL-DIV0"),
        ),
    ]
    whens += [(c, e if e is not None else error_text(longer, "E-EVAL-RANGE")) for c, e in outcomes]
    return case(whens, error_text(none, "E-EVAL-RANGE"))


def round_to(
    value: exp.Expression, t: T.Type, places: int, where: str
) -> tuple[exp.Expression, exp.Expression | None]:
    """Round half away from zero (the interpreter's ROUND_HALF_UP) to `places` places written
    in the pack, and the error column. From 0 to 10 places any value holds; past 10 places
    (up to 38) the whole digits left are fewer, and below 0 (to tens, hundreds...) a value
    may round up past 38 digits: such a record is its error, saying the interpreter decides
    it (tested on the magnitude as a DOUBLE, with a margin of one in a thousand). More than
    38 places has no SQL form (a SQL decimal holds at most 38)."""
    if places > 38:
        raise Unsupported("round()", f"to {places} places: a SQL decimal holds at most 38 places")
    scale = max(places, 0)
    to = exp.DataType.build(f"DECIMAL(38, {scale})")
    if 0 <= places <= DECIMAL_SCALE:
        rounded = exp.Round(this=as_decimal(value, t), decimals=num(places))
        return cast(rounded, to), None
    if places < -37:  # every value a SQL decimal holds below half of 10^-places rounds to 0
        rounded = cast(exp.Mul(this=as_decimal(value, t), expression=ZERO.copy()), to)
        limit = 0.999 * 5e37
    else:
        rounded = cast(exp.Round(this=as_decimal(value, t), decimals=num(places)), to)
        limit = 0.999 * 10.0 ** (38 - scale)
    size = exp.Abs(this=cast(value.copy(), "DOUBLE"))
    fits = exp.LT(this=size, expression=exp.Literal.number(f"{limit:.6e}"))
    message = (
        f"`round` to {places} places of a number past the {38 - scale} whole digits a SQL "
        f"decimal holds at {scale} places, in {where} {PYTHON_DECIDES}"
    )
    over = exp.And(this=not_null(value), expression=exp.Not(this=fits.copy()))
    return (
        case([(fits, rounded)], exp.Null()),
        case([(over, error_text(message, "E-EVAL-RANGE"))], no_error()),
    )
