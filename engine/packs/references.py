"""Building, stage `references`: the checks across items, once every item is built: that named
interpretations, versions, outputs and tables exist (E-REF), that no two rows of a `unique`
decision table can both match (E-TABLE-OVERLAP), that a definition open to narrowing by local
plans is boolean (E-TYPE), and which definitions and interpretations nothing uses (W-UNUSED).

Table overlap is decided on the rows' literal cells: two rows overlap unless some input has
disjoint values in both, so the check is exact and evaluation never meets two matching rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from engine.language import static_types as T
from engine.language import syntax as A
from engine.packs import model as M
from engine.packs.build_context import (
    PackBuild,
    Path_,
)
from engine.packs.local_declarations import condition_definitions, declared_interpretations
from engine.packs.output_vocabulary import check_output_vocabularies
from engine.problems import did_you_mean


def check_references(
    b: PackBuild,
    interpretations: dict[str, M.Interpretation],
    versions: list[M.Version],
    definitions: dict[str, M.Definition],
    outputs: dict[str, M.Output],
    tables: dict[str, M.Table],
    rules: list[M.Rule],
) -> None:
    d = b.data
    used: set[str] = set()

    def refs(path: Path_, ids: Iterable[str]) -> None:
        for j, iid in enumerate(ids):
            used.add(iid)
            if iid not in interpretations:
                b.problem(
                    (*path, j),
                    "E-REF",
                    f"no interpretation `{iid}`",
                    did_you_mean(iid, interpretations),
                )

    for i, v in enumerate(d.get("versions") or []):
        refs(("versions", i, "interpretations"), v.get("interpretations") or ())
    for name, item in (d.get("definitions") or {}).items():
        if isinstance(item, dict):
            refs(("definitions", name, "interpretations"), item.get("interpretations") or ())
    for name, item in (d.get("outputs") or {}).items():
        refs(("outputs", name, "interpretations"), item.get("interpretations") or ())
    for tid, table in (d.get("tables") or {}).items():
        for j, row in enumerate(table.get("rows") or []):
            refs(("tables", tid, "rows", j, "interpretations"), row.get("interpretations") or ())
    for tid, task in (d.get("tasks") or {}).items():
        refs(("tasks", tid, "interpretations"), task.get("interpretations") or ())
        for j, dep in enumerate(task.get("after") or []):
            if isinstance(dep, dict) and dep.get("interpretation"):
                refs(("tasks", tid, "after", j, "interpretation"), [dep["interpretation"]])
                used.add(str(dep["interpretation"]))
    for path, ids in declared_interpretations(d):
        refs(path, ids)
    version_ids = [v.id for v in versions]

    def known_versions(path: tuple[Any, ...], ids: Any) -> None:
        """Each version id a rule or interpretation names under `versions:` is the pack's."""
        for j, vid in enumerate(ids or ()):
            if str(vid) not in version_ids:
                b.problem(
                    (*path, j), "E-REF", f"no version `{vid}`", did_you_mean(str(vid), version_ids)
                )

    for i, item in enumerate(d.get("interpretations") or []):
        known_versions(("interpretations", i, "versions"), item.get("versions"))
    seen_rules: dict[str, int] = {}
    for i, rule in enumerate(d.get("rules") or []):
        rid = str(rule.get("id"))
        if rid in seen_rules:
            b.problem(
                ("rules", i, "id"),
                "E-DUP-ID",
                f"rule `{rid}` is defined twice",
                f"rule ids are stable and unique; the first is at rule {seen_rules[rid] + 1}",
            )
        seen_rules[rid] = i
        refs(("rules", i, "interpretations"), rule.get("interpretations") or ())
        known_versions(("rules", i, "versions"), rule.get("versions"))
        for out in rule.get("sets") or {}:
            target = (d.get("outputs") or {}).get(out)
            if target is None:
                b.problem(
                    ("rules", i, "sets", out),
                    "E-REF",
                    f"no output `{out}`",
                    did_you_mean(out, d.get("outputs") or {}),
                    key=True,
                )
            elif "from_rules" not in target:
                b.problem(
                    ("rules", i, "sets", out),
                    "E-REF",
                    f"output `{out}` is not computed `from_rules`",
                    f"give output `{out}` `from_rules: collect` (or first, any)",
                    key=True,
                )
    check_output_vocabularies(b, definitions, outputs, tables, rules)
    for i, item in enumerate(d.get("interpretations") or []):
        if str(item.get("id")) not in used:
            b.problem(
                ("interpretations", i, "id"),
                "W-UNUSED",
                f"interpretation `{item.get('id')}` is relied on by nothing",
                "name it in `interpretations:` of the rules that rely on it",
            )


def check_local_conditions(b: PackBuild, definitions: dict[str, M.Definition]) -> None:
    """A definition the `local:` block opens to narrowing is boolean: a plan narrows it with
    the national expression `and` more, which only a condition can be. The rules its
    `rules:` lists (the decisions that cite a plan narrowing it) are the rules that read it."""
    for name in condition_definitions(b.data):
        found = definitions.get(name)
        if found is None:  # not built: its own problem is reported where it stands
            continue
        t = found.expr.checked.type
        if t.kind not in ("bool", "any"):
            b.problem(
                ("local", "conditions", name),
                "E-TYPE",
                f"definition `{name}` is {T.article(t)}, so a plan cannot narrow it: only a "
                "boolean definition is a condition",
                "declare a boolean definition, or the rule that reads it",
                key=True,
            )
        listed = (b.data["local"]["conditions"][name] or {}).get("rules")
        if isinstance(listed, list):
            _check_listed_rules(b, name, [str(r) for r in listed])


def rules_reading(
    deps: Mapping[M.ItemKey, Iterable[M.ItemKey]], name: str, rule_ids: Iterable[str]
) -> list[str]:
    """The rules of `rule_ids` (in that order) that read definition `name`, directly or
    through other items."""
    target = M.ItemKey("def", name)
    out = []
    for rid in rule_ids:
        seen: set[M.ItemKey] = set()
        stack = [M.ItemKey("rule", rid)]
        while stack:
            k = stack.pop()
            if k not in seen:
                seen.add(k)
                stack.extend(deps.get(k, ()))
        if target in seen:
            out.append(rid)
    return out


def _check_listed_rules(b: PackBuild, name: str, listed: list[str]) -> None:
    ids = [str(r.id) for r in b.rules]
    reading = rules_reading(b.deps, name, ids)
    base = ("local", "conditions", name, "rules")
    for j, rid in enumerate(listed):
        if rid not in ids:
            b.problem((*base, j), "E-REF", f"no rule `{rid}`", did_you_mean(rid, ids))
        elif rid not in reading:
            b.problem(
                (*base, j),
                "W-LOCAL-RULES",
                f"rule `{rid}` does not read `{name}`, so a plan narrowing it does not change "
                "that rule, yet its decisions would cite the plan",
                f"list the rules that read `{name}`: {', '.join(reading) or 'none does'}",
            )
    missing = [r for r in reading if r not in listed]
    if missing:
        b.problem(
            base,
            "W-LOCAL-RULES",
            f"{_rules_text(missing)} {'reads' if len(missing) == 1 else 'read'} `{name}` but "
            f"the list leaves {'it' if len(missing) == 1 else 'them'} out, so decisions of "
            f"{'it' if len(missing) == 1 else 'them'} would not cite a plan that narrows it",
            "add them, or leave `rules:` out: the rules that read it are then found for you",
            key=True,
        )


def _rules_text(ids: list[str]) -> str:
    return ("rule " if len(ids) == 1 else "rules ") + ", ".join(f"`{r}`" for r in ids)


def check_tables(b: PackBuild, tables: dict[str, M.Table]) -> None:
    for tid, table in tables.items():
        if table.hit in ("unique", "first"):
            _rows_without_columns(b, tid, table)
        if table.hit != "unique":
            continue
        for j, row in enumerate(table.rows):
            for k in range(j):
                other = table.rows[k]
                if _rows_overlap(other, row, [n for n, _ in table.inputs]):
                    b.problem(
                        ("tables", tid, "rows", j),
                        "E-TABLE-OVERLAP",
                        f"rows `{other.id}` and `{row.id}` of unique table `{tid}` can both match",
                        "narrow one row's cells, or use `hit: first`",
                    )


def _rows_without_columns(b: PackBuild, tid: str, table: M.Table) -> None:
    """W-TABLE-COLUMN: a row of a table that gives one value per column, leaving out a column
    other rows give. Where it matches, the output of that column takes its default, as when no
    row matches: most often a line lost in editing, so said; a row meant to leave the value
    to the default says so by giving it."""
    columns = list(dict.fromkeys(c for row in table.rows for c, _ in row.then))
    for j, row in enumerate(table.rows):
        given = {c for c, _ in row.then}
        missing = [c for c in columns if c not in given]
        if missing:
            shown = ", ".join(f"`{c}`" for c in missing)
            b.problem(
                ("tables", tid, "rows", j, "then") if row.then else ("tables", tid, "rows", j),
                "W-TABLE-COLUMN",
                f"row `{row.id}` of table `{tid}` gives no {shown}, which other rows give, so "
                "where it matches the output takes its default",
                f"give {shown} in this row (the default's value, where that is what the "
                "source says)",
                key=True,
            )


def lint_unused(
    b: PackBuild,
    definitions: dict[str, M.Definition],
    deps: dict[M.ItemKey, set[M.ItemKey]],
    parameters: Iterable[str] = (),
) -> None:
    read: set[M.ItemKey] = set()
    for reads in deps.values():
        read |= reads
    for name in definitions:
        if M.ItemKey("def", str(name)) not in read:
            b.problem(
                ("definitions", name),
                "W-UNUSED",
                f"definition `{name}` is used by nothing",
                "use it in a rule or output, or remove it",
                key=True,
            )
    # a parameter no expression reads: a number of the source that decides nothing
    named = {
        n for found in b.parsed.values() for p in found if p.node for n in A.free_names(p.node)
    }
    for name in parameters:
        if name not in named:
            b.problem(
                ("parameters", name),
                "W-UNUSED",
                f"parameter `{name}` is read by no expression",
                "read it in a rule, definition or output, or remove it (a number the source "
                "states only in words belongs in the rule's text and citation)",
                key=True,
            )


def _rows_overlap(a: M.TableRow, b: M.TableRow, inputs: list[str]) -> bool:
    ca, cb = dict(a.cells), dict(b.cells)
    for name in inputs:
        x, y = ca.get(name), cb.get(name)
        if x is not None and y is not None and not (x & y):
            return False
    return True
