"""A CSV facts file whose columns are dotted fact paths (`person.born_on`), as
population files are written: each root's JSON assembled in SQL from its columns, each cell
read by its fact's type as the interpreter's reader reads it (engine.tools.population_source).

A column may instead hold a whole root's JSON (`person`); one file may mix the two forms for
different roots, never for one. A column that is neither is left alone (a table may carry its
own ids), but a dotted column whose first part is no root of the facts is refused: it reads
like a fact path, and leaving it alone would decide every record without it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from engine.language import static_types as T
from engine.packs.facts_schema import JSON_NUMBER, cell_kind
from engine.sql.read_checks import sql_str


class ColumnError(ValueError):
    """The header's columns cannot be read as fact paths (said in words for the header line)."""


def root_json(names: list[str], roots: list[str], types: Mapping[str, T.Type]) -> dict[str, str]:
    """For each root the header gives by dotted columns, the SQL of its JSON text (NULL where
    the row gives none of its facts). Raises ColumnError for clashing or unknown columns."""
    dotted = [n for n in names if "." in n]
    for name in dotted:
        root = name.split(".")[0]
        if root not in roots:
            raise ColumnError(
                f"column `{name}` names no root of the facts ({', '.join(roots)}): write "
                "a dotted path from one of them"
            )
        if root in names:
            raise ColumnError(
                f"column `{name}` goes inside `{root}`, which a column gives whole: give a root "
                "either whole or by its fields"
            )
    out: dict[str, str] = {}
    for root in roots:
        tree: dict[str, Any] = {}
        for name in dotted:
            if name.split(".")[0] == root:
                _place(tree, name.split(".")[1:], name)
        if tree:
            out[root] = _object(tree, types)
    return out


def _place(tree: dict[str, Any], parts: list[str], column: str) -> None:
    """Put `column` at `parts` of `tree` (a dict of dicts, leaves column names)."""
    for part in parts[:-1]:
        below = tree.setdefault(part, {})
        if not isinstance(below, dict):
            raise ColumnError(f"column `{column}` goes inside `{below}`, which gives a value")
        tree = below
    if isinstance(tree.get(parts[-1]), dict):
        raise ColumnError(f"column `{column}` gives a value to what other columns go inside")
    tree[parts[-1]] = column


def _object(tree: Mapping[str, Any], types: Mapping[str, T.Type]) -> str:
    """A JSON object's text from its fields' (NULL fields left out; NULL when all are)."""
    fields = [
        (json.dumps(key), _object(sub, types) if isinstance(sub, dict) else _cell(sub, types))
        for key, sub in tree.items()
    ]
    present = " OR ".join(f"({value}) IS NOT NULL" for _, value in fields)
    members = ", ".join(f"{sql_str(key + ':')} || ({value})" for key, value in fields)
    return f"CASE WHEN {present} THEN '{{' || concat_ws(',', {members}) || '}}' END"


def _cell(column: str, types: Mapping[str, T.Type]) -> str:
    """One cell's JSON text, by its fact's kind: absent when empty, `null` a recorded none, a
    number, true or false, or JSON where the kind takes them, else the text as a JSON string."""
    kind = cell_kind(types, column)
    c = '"' + column.replace('"', '""') + '"'
    cases = [f"WHEN {c} IS NULL OR {c} = '' THEN NULL", f"WHEN {c} = 'null' THEN 'null'"]
    if kind in ("int", "decimal"):
        cases.append(f"WHEN regexp_full_match({c}, {sql_str(JSON_NUMBER)}) THEN {c}")
    if kind in ("bool", "any"):
        cases.append(f"WHEN {c} IN ('true', 'false') THEN {c}")
    if kind in ("list", "record", "any"):
        cases.append(f"WHEN left({c}, 1) IN ('[', '{{') AND json_valid({c}) THEN {c}")
    return f"CASE {' '.join(cases)} ELSE CAST(to_json({c}) AS VARCHAR) END"
