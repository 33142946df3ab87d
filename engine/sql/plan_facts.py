"""A local plan's facts in a population run: what the plan supplies (its establishment's code
and name, the facts its chosen options fill) set in the facts table where a record leaves them
unset, and a reason for each record whose facts contradict the plan, so that the record goes
to the rejects. Column by column, as `engine.api.evaluate` does it document by document."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from engine.language import static_types as T
from engine.packs import model as M
from engine.sql.expressions import NONE_DATE, NONE_TEXT
from engine.sql.read_checks import reserved_sql, sql_str
from engine.sql.types import duckdb_type_text

# a field's SQL, given the SQL that reads it in the record
Fill = Callable[[str], str]


def plan_update(plan: M.LocalPlan, types: dict[str, T.Type]) -> str | None:
    """An UPDATE of the `checked` table that fills what `plan` supplies and adds to `reasons`
    a record's contradictions of it (the values before the fill); None when the plan supplies
    nothing the facts have a place for."""
    fills: dict[str, dict[tuple[str, ...], Fill]] = {}
    reasons: list[str] = []
    est = types.get("establishment")
    code_t = _field(est, ("code",))
    if est is not None and code_t is not None:
        code = _unset('establishment."code"', code_t)
        fills["establishment"] = {("code",): _fill_with(sql_str(plan.establishment_code), code_t)}
        if _field(est, ("name",)) is not None:
            name = sql_str(plan.establishment_name)
            fills["establishment"][("name",)] = lambda sub: (
                f"CASE WHEN {code} IS NULL THEN coalesce({sub}, {name}) ELSE {sub} END"
            )
        reasons.append(
            f"CASE WHEN {code} IS NOT NULL AND {code} <> {sql_str(plan.establishment_code)} "
            f"THEN 'establishment.code: the facts are for establishment `' || {code} || "
            f"{sql_str('` but the local plan `' + plan.file + '` is for `')} || "
            f"{sql_str(plan.establishment_code + '`')} END"
        )
    for path, value in plan.facts():
        root, *rest = path.split(".")
        t = types.get(root)
        ft = _field(t, tuple(rest)) if t is not None and rest else None
        if ft is None:
            continue  # no place for it in these facts: the facts check refuses it anyway
        given = _unset(root + "".join(f'."{p}"' for p in rest), ft)
        literal = _literal(value, ft)
        fills.setdefault(root, {})[tuple(rest)] = _fill_with(literal, ft)
        reasons.append(
            f"CASE WHEN {given} IS NOT NULL AND {given} <> {literal} "
            f"THEN {sql_str(path + ': the facts give `' + path + '` as `')} || "
            f"CAST({given} AS VARCHAR) || "
            f"{sql_str('` but the local plan `' + plan.file + '` chose `' + _shown(value) + '`')}"
            " END"
        )
    if not fills:
        return None
    sets = [f"{root} = {_filled(root, types[root], paths)}" for root, paths in fills.items()]
    found = f"list_filter([{', '.join(reasons)}], lambda x: x IS NOT NULL)"
    sets.append(f"reasons = list_concat(reasons, {found})")
    return f"UPDATE checked SET {', '.join(sets)}"


def _fill_with(literal: str, t: T.Type) -> Fill:
    """The field's SQL, or `literal` where the record leaves it unset."""
    return lambda sub: f"coalesce({_unset(sub, t)}, {literal})"


def _field(t: T.Type | None, path: tuple[str, ...]) -> T.Type | None:
    """The type of the field at `path` inside a record of type `t`, if it has one."""
    for part in path:
        if t is None or t.kind != "record":
            return None
        t = next((ft for name, ft, _ in t.fields or () if name == part), None)
    return t


def _filled(expr: str, t: T.Type, fills: dict[tuple[str, ...], Fill]) -> str:
    """The record `expr` of type `t` rebuilt, each field under `fills` given its SQL (a record
    left absent is made, as the interpreter makes a missing parent)."""
    parts = []
    for name, ft, _ in t.fields or ():
        sub = f'{expr}."{name}"'
        here = {p[1:]: f for p, f in fills.items() if p[0] == name}
        if () in here:
            value = here[()](sub)
        elif here:
            value = _filled(sub, ft, here)
        else:
            value = sub
        parts.append(f'"{name}" := {value}')
    return f"CAST(struct_pack({', '.join(parts)}) AS {duckdb_type_text(t)})"


def _literal(value: Any, t: T.Type) -> str:
    """`value` as a SQL constant of the field's type."""
    text = sql_str(json.dumps(value, default=str))
    return f"CAST(CAST({text} AS JSON) ->> '$' AS {duckdb_type_text(t)})"


def _unset(sub: str, t: T.Type | None) -> str:
    """The field's SQL with a known none read as unset: the interpreter fills a null as it
    fills an absent field (the facts table keeps a known none as a sentinel)."""
    if t is None or not getattr(t, "null_none", False):
        return sub
    if t.kind == "date":
        return f"NULLIF({sub}, DATE '{NONE_DATE.isoformat()}')"
    if t.kind == "string":
        return f"NULLIF({sub}, {reserved_sql(NONE_TEXT)})"
    return sub


def _shown(value: Any) -> str:
    """A value as the interpreter's message shows it."""
    return str(value)
