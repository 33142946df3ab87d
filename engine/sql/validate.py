"""Facts validation column-wise in SQL: each rule of the facts JSON Schema as a condition that
rejects a row, with the reason, for a whole table at once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlglot import exp

from engine.packs.facts_schema import MAX_LIST, MAX_STRING, facts_schema
from engine.sql.expressions import (
    NONE_SENTINELS,
    case,
    field_of,
    list_exists,
    list_filter,
    list_size,
    not_null,
    num,
)
from engine.sql.read_checks import schema_kinds
from engine.sql.types import cast


def _checks(
    node: Mapping[str, Any],
    value: exp.Expression,
    path: str,
    depth: int,
    parent: exp.Expression | None = None,
    required: bool = False,
) -> list[tuple[exp.Expression, str]]:
    """(condition that is true when the value breaks the schema, reason) for a node and below."""
    out: list[tuple[exp.Expression, str]] = []
    kinds = schema_kinds(node)
    if node.get("x-null") == "none" and ("string" in kinds or kinds == ["null"]):
        # a known none is its sentinel in the table: null for these checks, as in the JSON
        sentinel = NONE_SENTINELS["date" if node.get("format") == "date" else "string"]()
        value = exp.Nullif(this=value.copy(), expression=sentinel)
    present = not_null(value)
    if required and parent is not None and "null" not in kinds and kinds != ["any"]:
        missing = exp.And(this=not_null(parent), expression=exp.Not(this=present.copy()))
        out.append((missing, f"{path}: required"))
    if kinds == ["null"]:  # in a branch of `if`/`then`/`else`: only null (or absent) will do
        out.append((present.copy(), f"{path}: not null"))
    const = node.get("const")
    if isinstance(const, str) or (isinstance(const, int) and not isinstance(const, bool)):
        lit = exp.Literal.string(const) if isinstance(const, str) else num(const)
        cond = exp.And(this=present.copy(), expression=exp.NEQ(this=value.copy(), expression=lit))
        out.append((cond, f"{path}: not {const}"))
    if "enum" in node:
        allowed = [v for v in node["enum"] if v is not None]
        lits = [exp.Literal.string(v) if isinstance(v, str) else num(int(v)) for v in allowed]
        cond = exp.And(
            this=present.copy(),
            expression=exp.Not(this=exp.In(this=value.copy(), expressions=lits)),
        )
        out.append((cond, f"{path}: not one of {', '.join(map(str, allowed))}"))
    for key, op, word in (("minimum", exp.LT, "below"), ("maximum", exp.GT, "above")):
        bound = node.get(key)
        if isinstance(bound, int) and "enum" not in node:
            cond = exp.And(
                this=present.copy(), expression=op(this=value.copy(), expression=num(bound))
            )
            out.append((cond, f"{path}: {word} {key} {bound}"))
    for key, op, word in (
        ("exclusiveMinimum", exp.LTE, "not above"),
        ("exclusiveMaximum", exp.GTE, "not below"),
    ):
        bound = node.get(key)
        if isinstance(bound, int) and "enum" not in node:
            cond = exp.And(
                this=present.copy(), expression=op(this=value.copy(), expression=num(bound))
            )
            out.append((cond, f"{path}: {word} {bound}"))
    out += _lengths(node, kinds, value, present, path)
    if "pattern" in node:
        match = exp.RegexpLike(
            this=value.copy(), expression=exp.Literal.string(str(node["pattern"]))
        )
        out.append(
            (
                exp.And(this=present.copy(), expression=exp.Not(this=match)),
                f"{path}: does not match {node['pattern']}",
            )
        )
    if "object" in kinds:
        needed = set(node.get("required", []))
        for key, sub in node.get("properties", {}).items():
            out += _checks(
                sub, field_of(value, key), f"{path}.{key}", depth + 1, value, key in needed
            )
    if "object" in kinds:
        out += _conditionals(node, value, path, depth, present)
    if "array" in kinds and isinstance(node.get("items"), Mapping):
        var = f"v{depth}"
        for cond, reason in _checks(node["items"], exp.column(var), f"{path}[]", depth + 1, None):
            out.append(
                (exp.And(this=present.copy(), expression=list_exists(value, var, cond)), reason)
            )
    return out


def _conditionals(
    node: Mapping[str, Any],
    value: exp.Expression,
    path: str,
    depth: int,
    present: exp.Expression,
) -> list[tuple[exp.Expression, str]]:
    """The `if`/`then`/`else` members of an object's `allOf`, as the interpreter's validation
    holds them: where the `if` schema holds, what breaks the `then` schema rejects the row;
    where it does not, what breaks the `else` schema."""
    out: list[tuple[exp.Expression, str]] = []
    for member in node.get("allOf") or ():
        if not isinstance(member, Mapping) or not isinstance(member.get("if"), Mapping):
            continue
        test = _checks(_within(node, member["if"]), value, path, depth)
        breaks: exp.Expression = exp.false()
        for cond, _ in test:
            breaks = exp.Or(this=breaks, expression=cond)
        holds = exp.Not(this=exp.Paren(this=breaks))
        shown = _shown_condition(member["if"])
        for branch, when, word in (
            ("then", holds, "where"),
            ("else", exp.Not(this=holds.copy()), "unless"),
        ):
            if not isinstance(member.get(branch), Mapping):
                continue
            for cond, reason in _checks(_within(node, member[branch]), value, path, depth):
                where = exp.And(this=present.copy(), expression=when.copy())
                out.append((exp.And(this=where, expression=cond), f"{reason} {word} {shown}"))
    return out


def _within(node: Mapping[str, Any], sub: Mapping[str, Any]) -> dict[str, Any]:
    """A subschema of `node` (a branch of `if`/`then`/`else`) read against `node`: its type,
    and for each property the type it leaves open and how its null is kept in the table."""
    properties: dict[str, Any] = {}
    base = node.get("properties") or {}
    for key, prop in (sub.get("properties") or {}).items():
        kept = base.get(key) or {}
        merged = {k: kept[k] for k in ("type", "x-null", "format") if k in kept}
        properties[key] = {**merged, **prop}
    return {
        "type": sub.get("type", node.get("type", "object")),
        "properties": properties,
        "required": list(sub.get("required") or ()),
    }


def _shown_condition(test: Mapping[str, Any]) -> str:
    """The `if` of a conditional in words, for a reason (`kind is month`)."""
    parts = [
        f"{key} is {prop['const']}"
        for key, prop in (test.get("properties") or {}).items()
        if isinstance(prop, Mapping) and "const" in prop
    ]
    return " and ".join(parts) or "the schema's condition holds"


def _lengths(
    node: Mapping[str, Any],
    kinds: list[str],
    value: exp.Expression,
    present: exp.Expression,
    path: str,
) -> list[tuple[exp.Expression, str]]:
    """The bounds on a list's items and a text's characters: the schema's own, and the limits
    every facts document is held to (`MAX_LIST`, `MAX_STRING`), as the interpreter checks."""
    out: list[tuple[exp.Expression, str]] = []
    if "array" in kinds:
        size: exp.Expression = list_size(value)
        bounds = [
            (node.get("minItems"), "fewer than", "items"),
            (node.get("maxItems"), "more than", "items"),
        ]
        limit = MAX_LIST
    elif "string" in kinds and node.get("format") != "date":
        size = exp.Length(this=value.copy())
        bounds = [
            (node.get("minLength"), "fewer than", "characters"),
            (node.get("maxLength"), "more than", "characters"),
        ]
        limit = MAX_STRING
    else:
        return out
    high = bounds[1][0]
    if not isinstance(high, int) or high > limit:
        bounds[1] = (limit, "more than", bounds[1][2])
    for (bound, word, unit), op in zip(bounds, (exp.LT, exp.GT), strict=True):
        if isinstance(bound, int) and not (op is exp.LT and bound <= 0):
            cond = exp.And(
                this=present.copy(), expression=op(this=size.copy(), expression=num(bound))
            )
            out.append((cond, f"{path}: {word} {bound} {unit}"))
    return out


def reasons_expr(schema: str = "facts", roots: list[str] | None = None) -> exp.Expression:
    """A list of the reasons a row of facts is rejected (empty when it is valid)."""
    doc = facts_schema(schema)
    checks: list[tuple[exp.Expression, str]] = []
    for root, sub in doc.get("properties", {}).items():
        if root == "as_of" or (roots is not None and root not in roots):
            continue
        checks += _checks(sub, exp.column(root), root, 0)
    items = [case([(c, exp.Literal.string(r))], cast(exp.Null(), "VARCHAR")) for c, r in checks]
    if not items:
        return cast(exp.Array(expressions=[]), exp.DataType.build("VARCHAR[]", dialect="duckdb"))
    return list_filter(exp.Array(expressions=items), "x0", not_null(exp.column("x0")))
