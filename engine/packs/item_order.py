"""Building, stages `parse` and `order`: every expression of the pack parsed, then the pack's
items (definitions, tables, rules, outputs) put in an order where each comes after the items it
reads, so that the checker can give each name its type before anything reads it.

Items are keyed `def:NAME`, `out:NAME`, `table:ID` and `rule:ID`; the dependencies found here
are kept on the pack (`Pack.dependencies`) for explanations and need-to-know. A cycle cannot be
ordered: it is reported once (E-CYCLE, at the item the pack declares first), and the pipeline
stops after this stage, so one cycle does not cause a cascade of type errors."""

from __future__ import annotations

from typing import Any

import networkx as nx

from engine.language import syntax as A
from engine.packs import model as M
from engine.packs.build_context import (
    PackBuild,
    Path_,
)


def parse_expressions(b: PackBuild) -> None:
    d = b.data
    for name, item in (d.get("definitions") or {}).items():
        if isinstance(item, dict):
            b.parse_at(
                M.ItemKey("def", str(name)), ("definitions", name, "expr"), f"definition `{name}`"
            )
        else:
            b.parse_at(M.ItemKey("def", str(name)), ("definitions", name), f"definition `{name}`")
    for name, item in (d.get("outputs") or {}).items():
        if "value" in item:
            b.parse_at(M.ItemKey("out", str(name)), ("outputs", name, "value"), f"output `{name}`")
        if "default" in item:
            b.parse_at(
                M.ItemKey("out", str(name)),
                ("outputs", name, "default"),
                f"output `{name}` default",
            )
    for tid, table in (d.get("tables") or {}).items():
        for iname in table.get("inputs") or {}:
            b.parse_at(
                M.ItemKey("table", str(tid)),
                ("tables", tid, "inputs", iname),
                f"table `{tid}` input `{iname}`",
            )
        for j, row in enumerate(table.get("rows") or []):
            for col in row.get("then") or {}:
                b.parse_at(
                    M.ItemKey("table", str(tid)),
                    ("tables", tid, "rows", j, "then", col),
                    f"table `{tid}` row {row.get('id', j + 1)} `{col}`",
                )
    for i, rule in enumerate(d.get("rules") or []):
        rid = rule.get("id")
        key = M.ItemKey("rule", str(rid))
        if "when" in rule:
            b.parse_at(key, ("rules", i, "when"), f"rule `{rid}` when")
        for out in rule.get("sets") or {}:
            b.parse_at(key, ("rules", i, "sets", out), f"rule `{rid}` sets `{out}`")
        ob = rule.get("obligation") or {}
        for field in ("due", "frequency"):
            if field in ob:
                b.parse_at(key, ("rules", i, "obligation", field), f"rule `{rid}` {field}")


def order_items(
    b: PackBuild, parameters: dict[str, Any], vocabulary: dict[str, Any]
) -> tuple[list[M.ItemKey], dict[M.ItemKey, set[M.ItemKey]]]:
    """Items in an order where each comes after what it reads; cycles are problems."""
    d = b.data
    names: dict[str, M.ItemKey] = {}  # name -> the item defining it
    sections: tuple[tuple[M.ItemKind, str], ...] = (("def", "definitions"), ("out", "outputs"))
    for kind, section in sections:
        for name in d.get(section) or {}:
            if (
                name in names
                or name in parameters
                or name in vocabulary
                or name in b.roots
                or name in ("as_of", "version")
            ):
                b.problem(
                    (section, name),
                    "E-DUP-NAME",
                    f"`{name}` is defined more than once (as a parameter, "
                    "vocabulary, definition, output or fact root)",
                    key=True,
                )
            names[name] = M.ItemKey(kind, name)
    deps: dict[M.ItemKey, set[M.ItemKey]] = {}
    keys = [M.ItemKey("def", str(n)) for n in d.get("definitions") or {}]
    keys += [M.ItemKey("table", str(t)) for t in d.get("tables") or {}]
    keys += [M.ItemKey("rule", str(r.get("id"))) for r in d.get("rules") or []]
    keys += [M.ItemKey("out", str(n)) for n in d.get("outputs") or {}]
    for key in keys:
        deps[key] = set()
        for parsed in b.parsed.get(key, []):
            if parsed.node is None:
                continue
            for n in A.free_names(parsed.node):
                if n in names:
                    deps[key].add(names[n])
    for name, item in (d.get("outputs") or {}).items():
        if item.get("from_table"):
            deps[M.ItemKey("out", str(name))].add(M.ItemKey("table", str(item["from_table"])))
    for rule in d.get("rules") or []:
        for out in rule.get("sets") or {}:
            if M.ItemKey("out", str(out)) in deps:
                deps[M.ItemKey("out", str(out))].add(M.ItemKey("rule", str(rule.get("id"))))
    graph = nx.DiGraph()
    graph.add_nodes_from(keys)
    for key, reads in deps.items():
        for r in reads:
            if r in deps:
                graph.add_edge(r, key)
    for component in nx.strongly_connected_components(graph):
        if len(component) == 1:
            (only,) = component
            if not graph.has_edge(only, only):
                continue
        sub = graph.subgraph(component)
        cycle = [u for u, _ in nx.find_cycle(sub)]
        start = min(cycle, key=lambda k: keys.index(k))
        i = cycle.index(start)
        cycle = cycle[i:] + cycle[:i]
        shown = " -> ".join(f"`{k.name}`" for k in [*cycle, cycle[0]])
        b.problem(
            item_path(b, start),
            "E-CYCLE",
            f"these read each other in a cycle: {shown}",
            "one of them must be computed without the others",
            key=True,
        )
        graph.remove_edges_from(list(sub.edges()))
        b.in_cycles |= {k.name for k in component}
    order = list(nx.lexicographical_topological_sort(graph, key=keys.index))
    return order, deps


def item_path(b: PackBuild, key: M.ItemKey) -> Path_:
    """Where an item is declared in the pack file."""
    kind, name = key
    if kind == "def":
        return ("definitions", name)
    if kind == "out":
        return ("outputs", name)
    if kind == "table":
        return ("tables", name)
    for i, rule in enumerate(b.data.get("rules") or []):
        if str(rule.get("id")) == name:
            return ("rules", i, "id")
    return ()
