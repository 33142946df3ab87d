"""The output columns of a batch, the same whatever engine decided them.

`--outputs a,b` narrows the columns a query returns, never the decision. Status, error,
undetermined items, missing facts and obligations stay those of the whole decision, as the
interpreter makes it: a query compiled for some outputs alone decides only those, and would
call a record decided whose obligation's due date stops the whole decision with a run-time
error.

Each output's column type in a results file comes from the pack's checked types (the static
checker, not the query), so the Python interpreter, DuckDB and Spark write the same schema
and the same values: the SQL type of `engine.sql.types.sql_type`, except that a duration or a
number of months is the ISO 8601 text a decision shows (`P14D`, `P18M`), anywhere in the
value, and an output whose type the checker does not know fully (`any`, a record whose
fields differ from one rule to another) is its JSON text.
"""

from __future__ import annotations

import dataclasses
import decimal
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sqlglot import exp

from engine.language import static_types as T
from engine.packs import model as M
from engine.sql.query import CompiledPack, no_such_outputs
from engine.sql.types import (
    DECIMAL_PRECISION,
    DECIMAL_SCALE,
    Unsupported,
    data_type,
    sql_type,
)


def narrowed(pack: M.Pack, visible: Iterable[str], wanted: list[str] | None) -> list[str]:
    """The `visible` outputs among `wanted` (all with none wanted), in pack order; an output
    the pack does not have, or one withheld from the audience (asked for, it would silently
    be missing), is a ValueError naming it."""
    visible = list(visible)
    if wanted is None:
        return visible
    unknown = [n for n in wanted if n not in pack.outputs]
    if unknown:
        raise ValueError(no_such_outputs(pack, unknown))
    withheld = [n for n in wanted if n not in visible]
    if withheld:
        names = ", ".join(f"`{n}`" for n in withheld)
        raise ValueError(
            f"pack `{pack.id}` output {names} {'is' if len(withheld) == 1 else 'are'} withheld "
            "from a custodial audience; ask for outputs it may see, or use --audience healthcare"
        )
    return [n for n in visible if n in wanted]


def with_outputs(compiled: CompiledPack, wanted: list[str] | None) -> CompiledPack:
    """The whole decision's query (`compiled`) returning only the `wanted` outputs among its
    columns; an output the audience may not see stays out, as in the whole query."""
    keep = narrowed(compiled.pack, compiled.outputs, wanted)
    dropped = {n for n in compiled.outputs if n not in keep}
    query = compiled.query.copy()
    if dropped and isinstance(query, exp.Select):
        query.set("expressions", [e for e in query.expressions if e.alias_or_name not in dropped])
    outputs = {n: t for n, t in compiled.outputs.items() if n in keep}
    return dataclasses.replace(compiled, query=query, outputs=outputs)


def output_types(pack: M.Pack) -> dict[str, T.Type]:
    """Each output's static type where the language knows it (from the checked expressions
    of its value, rules or table rows and its default); `any` elsewhere."""
    found: dict[str, T.Type] = {}
    for name, out in pack.outputs.items():
        types: list[T.Type] = []
        if out.mode == "value" and out.expr is not None:
            types.append(out.expr.checked.type)
        elif out.mode == "rules":
            if out.combine == "any":
                found[name] = T.BOOL
                continue
            sets = [e.checked.type for r in pack.rules for o, e in r.sets if o == name]
            joined = _join(sets)
            types.append(T.list_of(joined) if out.combine == "collect" else joined)
        elif out.table is not None:
            table = pack.tables[out.table]
            types.append(
                _join([e.checked.type for r in table.rows for c, e in r.then if c == name])
            )
        if out.default is not None:
            types.append(out.default.checked.type)
        found[name] = _join(types)
    return found


def _join(types: list[T.Type]) -> T.Type:
    if not types:
        return T.ANY
    t: T.Type | None = types[0]
    for o in types[1:]:
        t = T.join(t, o) if t is not None else None
    return t if t is not None else T.ANY


def _as_text(t: T.Type) -> bool:
    return t.kind in ("duration", "months")


def _file_type(t: T.Type) -> exp.DataType:
    """`sql_type(t)` with every duration and number of months as text (raises Unsupported)."""
    if _as_text(t):
        return data_type("VARCHAR")
    if t.kind == "list" and t.elem is not None and t.elem.kind not in ("any", "null"):
        return exp.DataType(
            this=exp.DataType.Type.ARRAY, expressions=[_file_type(t.elem)], nested=True
        )
    if t.kind == "record" and t.fields:
        cols = [
            exp.ColumnDef(this=exp.to_identifier(name, quoted=True), kind=_file_type(ft))
            for name, ft, _ in t.fields
        ]
        return exp.DataType(this=exp.DataType.Type.STRUCT, expressions=cols, nested=True)
    return sql_type(t)


def is_json_text(t: T.Type) -> bool:
    """Whether an output of type `t` is written as its JSON text (no SQL type holds it)."""
    try:
        _file_type(t)
    except Unsupported:
        return True
    return False


def file_type(t: T.Type) -> str:
    """The DuckDB spelling of the column type a results file gives an output of type `t`."""
    try:
        return str(_file_type(t).sql("duckdb"))
    except Unsupported:
        return "VARCHAR"


def holds(t: T.Type, kinds: tuple[str, ...]) -> bool:
    """Whether a value of type `t` is, or holds in a list or record, one of `kinds` (`any`
    may hold anything)."""
    if t.kind in kinds or t.kind == "any":
        return True
    if t.kind == "list":
        return t.elem is None or holds(t.elem, kinds)
    if t.kind == "record":
        return any(holds(ft, kinds) for _, ft, _ in t.fields or ())
    return False


def _has_text_times(t: T.Type) -> bool:
    return holds(t, ("duration", "months")) and not is_json_text(t)


def _floor_div(a: str, b: int) -> tuple[str, str]:
    """Floor quotient and remainder of an integer column by `b`, exactly, as Python's divmod
    (SQL's `%` takes the dividend's sign)."""
    rem = f"((({a}) % {b}) + {b}) % {b}"
    return f"((({a}) - {rem}) // {b})", rem


def _shown(column: str, t: T.Type, depth: int = 0) -> str:
    """DuckDB SQL turning a query's value of type `t` into the file's form: a duration (whole
    microseconds in the query) or a number of months (a whole number) into the ISO 8601 text
    a decision gives, inside records and lists too; anything else as it is."""
    if t.kind == "duration":
        minutes, _ = _floor_div(column, 60_000_000)
        days, rest = _floor_div(minutes, 1440)
        text = (
            f"CASE WHEN {rest} = 0 THEN 'P' || {days} || 'D' "
            f"WHEN {days} <> 0 THEN 'P' || {days} || 'DT' || {rest} || 'M' "
            f"ELSE 'PT' || {rest} || 'M' END"
        )
    elif t.kind == "months":
        text = (
            f"CASE WHEN ({column}) % 12 <> 0 THEN 'P' || ({column}) || 'M' "
            f"ELSE 'P' || (({column}) // 12) || 'Y' END"
        )
    elif t.kind == "list" and t.elem is not None and _has_text_times(t.elem):
        x = f"x{depth}"
        text = f"list_transform({column}, lambda {x}: {_shown(x, t.elem, depth + 1)})"
    elif t.kind == "record" and _has_text_times(t):
        parts = ", ".join(
            f'"{n}" := {_shown(f"({column}).{_quoted(n)}", ft, depth + 1)}'
            for n, ft, _ in t.fields or ()
        )
        text = f"struct_pack({parts})"
    else:
        return column
    return f"CASE WHEN {column} IS NULL THEN NULL ELSE {text} END"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def file_column(column: str, t: T.Type, name: str, from_json: bool = False) -> str:
    """DuckDB SQL for the results file's column `name` from an engine's `column`: a query's
    value (`from_json` false) or the JSON text of the interpreter's value (`from_json`), both
    cast to `file_type(t)` so that every engine writes the same type and the same values."""
    alias = _quoted(name)
    if is_json_text(t):
        # a JSON text that reads the same from each engine: DuckDB's compact rendering
        value = f"json(nullif({column}, 'null'))" if from_json else f"to_json({column})"
        return f"CAST({value} AS VARCHAR) AS {alias}"
    if from_json and (t.kind == "string" or _as_text(t)):  # cast to text, it keeps its quotes
        return f"json_extract_string(CAST({column} AS JSON), '$') AS {alias}"
    if from_json:
        return f"CAST(CAST({column} AS JSON) AS {file_type(t)}) AS {alias}"
    return f"CAST({_shown(column, t)} AS {file_type(t)}) AS {alias}"


_BIGINT = 2**63
_WHOLE_DIGITS = DECIMAL_PRECISION - DECIMAL_SCALE


def unfit_value(name: str, value: Any, t: T.Type) -> str | None:
    """Why the interpreter's `value` of output `name` cannot be written to its column
    exactly (a whole number past 64 bits, a decimal past 10 places or 28 whole digits), as
    the error text of the row; None when it fits. The SQL engines stop those rows with the
    same code."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int) and t.kind in ("int", "decimal"):
        if not -_BIGINT <= value < _BIGINT:
            return (
                f"output `{name}` is a whole number past the 64 bits a column of the results "
                "holds (`regime eval` shows it) [E-EVAL-RANGE]"
            )
        return None
    if isinstance(value, Decimal) and t.kind == "decimal":
        with decimal.localcontext(decimal.Context(prec=400)):  # exact, as the interpreter's
            exponent = value.normalize().as_tuple().exponent if value.is_finite() else "n"
            fits = (
                isinstance(exponent, int)
                and (value == 0 or value.adjusted() < _WHOLE_DIGITS)
                and (value == 0 or exponent >= -DECIMAL_SCALE)
            )
            # written as a number without trailing zeros, as the SQL engines write it
            shown = format(value.normalize(), "f") if value.is_finite() else str(value)
        if not fits:
            return (
                f"output `{name}` is {shown}, which the DECIMAL({DECIMAL_PRECISION}, "
                f"{DECIMAL_SCALE}) column of the results does not hold exactly (`regime eval` "
                "shows it) [E-EVAL-RANGE]"
            )
        return None
    if isinstance(value, Mapping) and t.kind == "record":
        fields = {n: ft for n, ft, _ in t.fields or ()}
        for key, v in value.items():
            found = unfit_value(f"{name}.{key}", v, fields.get(key, T.ANY))
            if found:
                return found
    if isinstance(value, list | tuple) and t.kind == "list" and t.elem is not None:
        for v in value:
            found = unfit_value(f"{name}[]", v, t.elem)
            if found:
                return found
    return None


def read_back(value: Any, t: T.Type) -> Any:
    """A cell read from a results file as the value a reader works with: the JSON text of
    an output no SQL type holds parsed again; anything else as it is."""
    if isinstance(value, str) and is_json_text(t):
        return json.loads(value)
    return value


def shaped(value: Any, t: T.Type) -> Any:
    """The interpreter's plain (JSON) value of type `t` with every field of its records
    present, a field the value lacks as null: the shape the column's type reads."""
    if isinstance(value, Mapping) and t.kind == "record" and t.fields:
        return {n: shaped(value.get(n), ft) for n, ft, _ in t.fields}
    if isinstance(value, list) and t.kind == "list" and t.elem is not None:
        return [shaped(v, t.elem) for v in value]
    return value
