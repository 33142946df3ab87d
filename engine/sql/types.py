"""SQL column types for the language's static types and for facts read from their JSON Schema."""

from __future__ import annotations

from functools import cache

from sqlglot import exp

from engine.language import static_types as T


class Unsupported(Exception):
    """A construct that has no SQL form (yet): `regime check` reports it as a warning."""

    def __init__(self, construct: str, why: str, line: int = 0, col: int = 0):
        super().__init__(f"{construct}: {why}")
        self.construct = construct
        self.why = why
        self.line = line  # where the expression stands in the pack file, when known
        self.col = col


@cache
def _parsed_type(text: str) -> exp.DataType:
    return exp.DataType.build(text)


def data_type(text: str) -> exp.DataType:
    """The SQL type spelt `text`, parsed once (parsing a type is most of building a cast)."""
    return _parsed_type(text).copy()


def cast(e: exp.Expression, to: str | exp.DataType) -> exp.Cast:
    """`CAST(e AS to)`, as sqlglot's `exp.cast` builds it, with the type parsed once."""
    return exp.cast(e, _parsed_type(to) if isinstance(to, str) else to)


# A decimal column (facts, typed NULLs) and a quotient are held at this scale; a quotient that
# needs more places stops the query with E-EVAL-RANGE (the interpreter's decimals are exact and
# never rounded silently). Literals, sums and products carry their own scale (see builders).
DECIMAL_PRECISION = 38
DECIMAL_SCALE = 10


def sql_type(t: T.Type) -> exp.DataType:
    """The SQL type holding values of static type `t` (durations in microseconds, months as
    months)."""
    kind = t.kind
    if kind == "bool":
        return data_type("BOOLEAN")
    if kind in ("int", "duration", "months"):
        return data_type("BIGINT")
    if kind == "decimal":
        return data_type(f"DECIMAL({DECIMAL_PRECISION}, {DECIMAL_SCALE})")
    if kind == "string":
        return data_type("VARCHAR")
    if kind == "date":
        return data_type("DATE")
    if kind == "list":
        if t.elem is None or t.elem.kind in ("any", "null"):
            raise Unsupported("list", "a list whose element type is not known statically")
        return exp.DataType(
            this=exp.DataType.Type.ARRAY, expressions=[sql_type(t.elem)], nested=True
        )
    if kind == "record":
        if not t.fields:
            raise Unsupported("record", "a record without fields")
        cols = [
            exp.ColumnDef(this=exp.to_identifier(name, quoted=True), kind=sql_type(ft))
            for name, ft, _ in t.fields
        ]
        return exp.DataType(this=exp.DataType.Type.STRUCT, expressions=cols, nested=True)
    raise Unsupported(kind, f"values of type `{t.describe()}` have no SQL column type")


def duckdb_type_text(t: T.Type) -> str:
    """The DuckDB spelling of `sql_type(t)`, for reading facts files with declared columns."""
    return sql_type(t).sql("duckdb")
