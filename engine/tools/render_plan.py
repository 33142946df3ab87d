"""Plan rendering: turns the ordered tasks of a stage into text, JSON-ready rows, Mermaid or dot."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from engine.packs.task_graph import (
    WEIGHTING,
    critical_path,
    natural_key,
    outside_stage,
    plan,
    stage_graph,
    waits_for,
)

if TYPE_CHECKING:
    import networkx as nx

FORMATS = ("text", "json", "mermaid", "dot")
SHORT_TITLE = 40


def _attrs(graph: nx.DiGraph, task_id: str) -> dict[str, Any]:
    return dict(graph.nodes[task_id])


def shorten(text: str, limit: int = SHORT_TITLE) -> str:
    """Text cut at a word boundary to at most `limit` characters, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:") + "…"


def plan_rows(graph: nx.DiGraph, stage: int | None = None) -> list[dict[str, Any]]:
    """The plan as JSON-ready dicts, one per task in plan order."""
    rows: list[dict[str, Any]] = []
    for task_id in plan(graph, stage):
        attrs = _attrs(graph, task_id)
        rows.append(
            {
                "id": task_id,
                "area": attrs.get("area"),
                "title": attrs.get("title"),
                "weighting": attrs.get("weighting"),
                "autonomy": attrs.get("autonomy"),
                "mandatory": attrs.get("mandatory"),
                "stages": list(attrs.get("stages") or []),
                "waits_for": waits_for(graph, task_id),
                "cite": attrs.get("cite"),
            }
        )
    return rows


def render_text(graph: nx.DiGraph, stage: int | None = None) -> str:
    """A numbered plan: weighting, autonomy and waits, then the critical path."""
    heading = "all stages" if stage is None else f"stage {stage}"
    lines = [f"Plan for {heading}"]
    order = plan(graph, stage)
    width = len(str(len(order)))
    for number, task_id in enumerate(order, start=1):
        attrs = _attrs(graph, task_id)
        kind = "mandatory" if attrs.get("mandatory", True) else "desirable"
        lines.append(
            f"{number:>{width}}. {task_id} {attrs.get('title', '')}"
            f" [weighting {attrs.get('weighting', '-')}, {attrs.get('autonomy', '-')} autonomy,"
            f" {kind}]"
        )
        waits = waits_for(graph, task_id)
        if waits:
            outside = set(outside_stage(graph, task_id, stage))
            named = [f"{t} (not in this stage)" if t in outside else t for t in waits]
            lines.append(f"{' ' * (width + 2)}waits for: {', '.join(named)}")
        # the precursors the weighting rule adds, which order the plan and its critical path
        weighted = [
            t
            for t in waits_for(graph, task_id, include_weighting=True)
            if t not in waits and t in order
        ]
        if weighted:
            lines.append(
                f"{' ' * (width + 2)}after, as weighting 3 comes first in its area: "
                f"{', '.join(weighted)}"
            )
    path = critical_path(graph, stage)
    lines.append(f"Critical path: {' -> '.join(path) if path else '(none)'}")
    return "\n".join(lines) + "\n"


def _mermaid_id(task_id: str) -> str:
    return "t_" + "".join(c if c.isalnum() else "_" for c in task_id)


def _stage_edges(graph: nx.DiGraph, stage: int | None) -> list[tuple[str, str, str]]:
    sub = stage_graph(graph, stage)
    edges = [(str(a), str(b), str(d.get("kind"))) for a, b, d in sub.edges(data=True)]
    return sorted(edges, key=lambda e: (natural_key(e[0]), natural_key(e[1])))


def render_mermaid(graph: nx.DiGraph, stage: int | None = None) -> str:
    """A Mermaid `flowchart TD`; weighting edges are dashed."""
    lines = ["flowchart TD"]
    for task_id in plan(graph, stage):
        label = f"{task_id} {shorten(str(_attrs(graph, task_id).get('title', '')))}"
        label = label.replace('"', "#quot;")
        lines.append(f'    {_mermaid_id(task_id)}["{label}"]')
    for first, then, kind in _stage_edges(graph, stage):
        arrow = "-.->" if kind == WEIGHTING else "-->"
        lines.append(f"    {_mermaid_id(first)} {arrow} {_mermaid_id(then)}")
    return "\n".join(lines) + "\n"


def _dot_quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def render_dot(graph: nx.DiGraph, stage: int | None = None) -> str:
    """A Graphviz digraph; weighting edges are dashed."""
    name = "plan" if stage is None else f"plan_stage_{stage}"
    lines = [f"digraph {name} {{", "    rankdir=TB;", "    node [shape=box];"]
    for task_id in plan(graph, stage):
        title = shorten(str(_attrs(graph, task_id).get("title", "")))
        label = _dot_quote(f"{task_id} {title}")
        lines.append(f"    {_dot_quote(task_id)} [label={label}];")
    for first, then, kind in _stage_edges(graph, stage):
        style = " [style=dashed]" if kind == WEIGHTING else ""
        lines.append(f"    {_dot_quote(first)} -> {_dot_quote(then)}{style};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(graph: nx.DiGraph, stage: int | None = None, fmt: str = "text") -> str:
    """The plan in one of `FORMATS`; `json` is the rows of `plan_rows`, indented."""
    if fmt == "text":
        return render_text(graph, stage)
    if fmt == "json":
        return json.dumps(plan_rows(graph, stage), indent=2, ensure_ascii=False, default=str) + "\n"
    if fmt == "mermaid":
        return render_mermaid(graph, stage)
    if fmt == "dot":
        return render_dot(graph, stage)
    raise ValueError(f"unknown plan format `{fmt}`; expected one of {', '.join(FORMATS)}")
