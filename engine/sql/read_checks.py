"""Facts read from a file checked for what the typed table cannot show: each value's JSON
type, each date's text and each object's fields, as the facts JSON Schema allows them (JSONL
lines and CSV cells as written, Parquet columns through their JSON form). A typed read turns
`3` into the text `"3"` and drops a field the schema does not know; the interpreter refuses
both, so these checks reject the row instead, for the whole table at once (the rest of the
schema is checked on the typed table, `validate.py`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.packs.reserved import reserved_problem, reserved_value
from engine.sql.types import DECIMAL_PRECISION, DECIMAL_SCALE

EVERY = "[*]"  # a path step into every element of a list
DECIMAL = f"DECIMAL({DECIMAL_PRECISION}, {DECIMAL_SCALE})"  # a decimal fact, as the engines hold it
# why a number is rejected when the SQL engines would hold another
NOT_HELD = (
    "more exact than the SQL engines hold a number (from JSON through a double's 15 to 17 "
    "digits; at most 28 whole digits and 10 places), so they would decide on another number; "
    "`regime eval` decides this record exactly"
)

# the JSON types DuckDB's `json_type` gives for a value of each JSON Schema type
_JSON_TYPES = {
    "string": ("VARCHAR",),
    "integer": ("BIGINT", "UBIGINT"),
    "number": ("BIGINT", "UBIGINT", "DOUBLE"),
    "boolean": ("BOOLEAN",),
    "object": ("OBJECT",),
    "array": ("ARRAY",),
    "null": ("NULL",),
}


def sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def reserved_sql(text: str) -> str:
    """A text as a DuckDB literal, a leading NUL written with `chr` (a reserved value)."""
    if text.startswith("\u0000"):
        return f"(chr(0) || {sql_str(text[1:])})"
    return sql_str(text)


def schema_kinds(node: Mapping[str, Any]) -> list[str]:
    """The JSON types a facts schema node allows, as a list (`any` when it names none)."""
    kinds = node.get("type", "any")
    return list(kinds) if isinstance(kinds, list) else [kinds]


def _pointer(path: list[str]) -> str:
    return "$" + "".join(p if p == EVERY else f'."{p}"' for p in path)


def _name(root: str, path: list[str]) -> str:
    return root + "".join("[]" if p == EVERY else f".{p}" for p in path)


def _when(cond: str, reason: str) -> str:
    return f"CASE WHEN {cond} THEN {reason} END"


def _any(values: str, var: str, test: str) -> str:
    """Whether some element of the list `values` passes `test` (on `var`)."""
    return f"len(list_filter(coalesce({values}, []), lambda {var}: {test})) > 0"


def _integral(text: str) -> str:
    """Whether the number written `text` is a finite whole number."""
    number = f"TRY_CAST({text} AS DOUBLE)"
    return f"coalesce(isfinite({number}) AND {number} % 1 = 0, false)"


def _past_64_bits(json_type: str, text: str) -> str:
    """Whether a JSON number (of DuckDB's `json_type`, written `text`) is a whole number too
    large for a 64-bit integer."""
    return f"{json_type} IN ('UBIGINT', 'DOUBLE') AND TRY_CAST({text} AS BIGINT) IS NULL"


def json_checks(node: Mapping[str, Any], column: str, root: str, path: list[str]) -> list[str]:
    """DuckDB expressions, one a check, each the reason the JSON in `column` breaks `node` at
    `path` (below the fact root `root`), or NULL."""
    out: list[str] = []
    kinds = schema_kinds(node)
    many = EVERY in path
    pointer = sql_str(_pointer(path))
    name = _name(root, path)
    if "any" not in kinds and all(k in _JSON_TYPES for k in kinds):
        allowed = sorted({t for k in kinds for t in _JSON_TYPES[k]})
        listed = ", ".join(sql_str(t) for t in allowed)
        kind = next((k for k in kinds if k != "null"), "null")
        what = "a date" if node.get("format") == "date" else f"of type {kind}"
        types = f"json_type({column}, {pointer})"
        cond = _any(types, "t", f"t NOT IN ({listed})") if many else f"{types} NOT IN ({listed})"
        if "integer" in kinds and "number" not in kinds:
            # JSON Schema counts `1.0` an integer, as the interpreter's check does
            values = f"json_extract_string({column}, {pointer})"
            if many:
                bad = f"p[1] NOT IN ({listed}) AND NOT (p[1] = 'DOUBLE' AND {_integral('p[2]')})"
                pairs = f"list_zip(coalesce({types}, []), coalesce({values}, []))"
                cond = _any(pairs, "p", bad)
            else:
                whole = f"{types} = 'DOUBLE' AND {_integral(values)}"
                cond = f"{types} NOT IN ({listed}) AND NOT ({whole})"
            # a whole number past 64 bits: the typed table cannot hold it, and reading it as
            # unknown would decide otherwise than the interpreter, so the row is rejected
            if many:
                pairs = f"list_zip(coalesce({types}, []), coalesce({values}, []))"
                past = _any(pairs, "p", _past_64_bits("p[1]", "p[2]"))
            else:
                past = _past_64_bits(types, values)
            reason = f"{name}: a whole number past 64 bits, more than the SQL engines hold"
            reason += " (`regime eval` decides this record exactly)"
            out.append(_when(f"coalesce({past}, false)", sql_str(reason)))
        out.append(_when(f"coalesce({cond}, false)", sql_str(f"{name}: not {what}")))
    if node.get("format") == "date":
        text = f"json_extract_string({column}, {pointer})"
        bad = "s IS NOT NULL AND TRY_CAST(s AS DATE) IS NULL"
        cond = (
            _any(text, "s", bad)
            if many
            else f"({text} IS NOT NULL AND TRY_CAST({text} AS DATE) IS NULL)"
        )
        out.append(_when(cond, sql_str(f"{name}: not a date")))
    reserved = reserved_value(node)
    if reserved is not None:  # the value the facts table keeps a recorded none of it as
        text = f"json_extract_string({column}, {pointer})"
        held = reserved_sql(reserved)
        cond = _any(text, "s", f"s = {held}") if many else f"coalesce({text} = {held}, false)"
        out.append(_when(cond, sql_str(f"{name}: {reserved_problem(reserved)[0]}")))
    if "object" in kinds:
        properties = node.get("properties") or {}
        if node.get("additionalProperties") is False:
            out.append(unknown_fields(column, pointer, list(properties), name, many))
        out.append(repeated_key(column, pointer, name, many))
        for key, sub in properties.items():
            out += json_checks(sub, column, root, [*path, key])
    if "array" in kinds and isinstance(node.get("items"), Mapping):
        out += json_checks(node["items"], column, root, [*path, EVERY])
    return out


def unknown_fields(column: str, pointer: str, known: list[str], name: str, many: bool) -> str:
    """The reason naming the fields of the object(s) at `pointer` that are not in `known`."""
    keys = f"json_keys({column}, {pointer})"
    if many:
        keys = f"flatten(coalesce({keys}, []))"
    listed = ", ".join(sql_str(k) for k in known) or "NULL"
    extra = f"list_filter(coalesce({keys}, []), lambda k: k NOT IN ({listed}))"
    names = f"array_to_string(list_sort(list_distinct({extra})), ', ')"
    return _when(f"len({extra}) > 0", f"{sql_str(name + ': unknown field ')} || {names}")


# the end of the reason a key given twice in one object is rejected for, in the facts reader's
# words (E-JSON-DUPKEY)
TWICE = " appears twice in one object (keep one of them: which one is meant cannot be guessed)"


def repeated_key(column: str, pointer: str, name: str, many: bool) -> str:
    """The reason naming a key that the object(s) at `pointer` give twice (DuckDB's JSON keeps
    both, and its reads take one of them, where the facts reader refuses the document)."""
    keys = f"json_keys({column}, {pointer})"
    lists = f"coalesce({keys}, [])" if many else f"[coalesce({keys}, [])]"
    again = f"flatten(list_transform({lists}, lambda ks: list_filter(ks, lambda k, i: "
    again += "list_position(ks, k) < i)))"
    return _when(
        f"len({again}) > 0", f"{sql_str(name + ': key `')} || {again}[1] || {sql_str('`' + TWICE)}"
    )


def every_object_checked(node: Mapping[str, Any]) -> bool:
    """Whether `json_checks` looks at the keys of every object a document valid to `node` can
    hold: every object is one whose properties are all named, and nothing is of any type."""
    if not isinstance(node, Mapping):
        return False
    kinds = schema_kinds(node)
    if "any" in kinds or any(k not in _JSON_TYPES for k in kinds):
        return False
    if "object" in kinds:
        if node.get("additionalProperties") is not False:
            return False
        if not all(every_object_checked(sub) for sub in (node.get("properties") or {}).values()):
            return False
    # (conditions beside a node's type narrow the values it holds, and add no key)
    return "array" not in kinds or every_object_checked(node.get("items", {}))


_WHOLE = {"tinyint", "smallint", "integer", "bigint", "hugeint"}
_WHOLE |= {"u" + t for t in _WHOLE}
# the DuckDB types (by id) whose every value is of a JSON Schema type
_HOLDS = {
    "string": {"varchar"},
    "integer": _WHOLE,
    "number": _WHOLE | {"float", "double", "decimal"},
    "boolean": {"boolean"},
    "object": {"struct"},
    "array": {"list"},
    "null": {"null"},
}


def _held_as_decimal(t: Any) -> bool:
    """Whether every value of the DuckDB type `t` is held exactly by the facts' DECIMAL."""
    if t.id in _WHOLE - {"hugeint", "uhugeint", "ubigint"}:
        return True
    if t.id != "decimal":
        return t.id not in ("float", "double", "hugeint", "uhugeint", "ubigint")
    size = dict(t.children)
    return size["scale"] <= DECIMAL_SCALE and size["precision"] - size["scale"] <= (
        DECIMAL_PRECISION - DECIMAL_SCALE
    )


def column_checks(node: Mapping[str, Any], t: Any, value: str, name: str) -> list[str]:
    """DuckDB expressions, each the reason the typed column `value` (of DuckDB type `t`, as a
    Parquet file gives it) breaks `node`, or NULL. Worked out from the column's type once, so
    a column of the right type costs nothing a row; a NULL field is an absent one."""
    return [_when(cond, sql_str(reason)) for cond, reason in _typed(node, t, value, name, 0)]


def _typed(
    node: Mapping[str, Any], t: Any, value: str, name: str, depth: int
) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    kinds = schema_kinds(node)
    if "any" in kinds or any(k not in _HOLDS for k in kinds):
        return out
    kind = next((k for k in kinds if k != "null"), "null")
    tid = t.id
    if node.get("format") == "date" and "string" in kinds and tid in ("date", "varchar"):
        if tid == "varchar":
            out.append((f"TRY_CAST({value} AS DATE) IS NULL", f"{name}: not a date"))
    elif "integer" in kinds and tid in ("float", "double", "decimal"):
        out.append((f"NOT {_integral(value)}", f"{name}: not of type integer"))
    elif "number" in kinds and not _held_as_decimal(t):
        # read as DECIMAL(38, 10): a value that does not come back the same from it would be
        # decided as another number
        same = f"TRY_CAST(TRY_CAST({value} AS {DECIMAL}) AS {t}) IS NOT DISTINCT FROM {value}"
        out.append((f"NOT coalesce({same}, false)", f"{name}: a value {NOT_HELD}"))
    elif tid != "null" and not any(tid in _HOLDS[k] for k in kinds):
        what = "a date" if node.get("format") == "date" else f"of type {kind}"
        return [(f"{value} IS NOT NULL", f"{name}: not {what}")]
    if tid == "struct" and "object" in kinds:
        properties = node.get("properties") or {}
        for field, ft in t.children:
            sub = f"struct_extract({value}, {sql_str(field)})"
            if field in properties:
                out += _typed(properties[field], ft, sub, f"{name}.{field}", depth)
            elif node.get("additionalProperties") is False:
                out.append((f"{sub} IS NOT NULL", f"{name}: unknown field {field}"))
    if tid == "list" and "array" in kinds and isinstance(node.get("items"), Mapping):
        var = f"e{depth}"
        items = _typed(node["items"], t.child, var, f"{name}[]", depth + 1)
        if "null" not in schema_kinds(node["items"]):
            items.insert(
                0, (f"{var} IS NULL", f"{name}[]: not of type {schema_kinds(node['items'])[0]}")
            )
        out += [(_any(value, var, cond), reason) for cond, reason in items]
    return [(f"({value} IS NOT NULL AND {cond})", reason) for cond, reason in out]
