"""Building, stage `references`: the items the contract says must cite their source (rules,
decision-table rows, tasks and parameter values) that cite none (W-CITE-MISSING).

A citation applies where the pack format carries one down: a table's `cite` covers its rows (a
decision's step cites the table when its rows cite nothing) and a parameter's `cite` covers its
values. A task's `area` is a plain name with nothing to cite, so each task cites for itself."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from engine.packs.build_context import PackBuild, Path_

HOW = (
    "add `cite: {{section: ..., paragraph: ...}}` to {where}: the heading of the source's "
    "section it comes from and the paragraph within it"
)


def _cited(item: Any) -> bool:
    """Whether a pack item carries a `cite` of its own."""
    return isinstance(item, Mapping) and bool(item.get("cite"))


def uncited(data: Mapping[str, Any]) -> Iterator[tuple[Path_, str, str]]:
    """Each item that cites nothing and is covered by no citation: its path, what it is, and
    where a citation may go."""
    for i, rule in enumerate(data.get("rules") or ()):
        if isinstance(rule, Mapping) and not _cited(rule):
            yield ("rules", i), f"rule `{rule.get('id')}`", "the rule"
    for tid, table in (data.get("tables") or {}).items():
        if not isinstance(table, Mapping) or _cited(table):
            continue
        for j, row in enumerate(table.get("rows") or ()):
            if isinstance(row, Mapping) and not _cited(row):
                name = f"row `{row['id']}`" if row.get("id") is not None else f"row {j + 1}"
                where = "the row (or to the table, to cover all its rows)"
                yield ("tables", tid, "rows", j), f"{name} of table `{tid}`", where
    for tid, task in (data.get("tasks") or {}).items():
        if isinstance(task, Mapping) and not _cited(task):
            yield ("tasks", tid), f"task `{tid}`", "the task"
    for name, parameter in (data.get("parameters") or {}).items():
        if not isinstance(parameter, Mapping) or _cited(parameter):
            continue
        for j, value in enumerate(parameter.get("values") or ()):
            if isinstance(value, Mapping) and not _cited(value):
                start = value.get("from")
                what = f"the value of parameter `{name}`" + (f" from {start}" if start else "")
                where = "the value (or to the parameter, to cover all its values)"
                yield ("parameters", name, "values", j), what, where


def lint_uncited(b: PackBuild) -> None:
    """A warning at each item that cites no source, saying how to cite it."""
    for path, what, where in uncited(b.data):
        hint = HOW.format(where=where)
        b.problem(path, "W-CITE-MISSING", f"{what} cites no source", hint, key=True)
