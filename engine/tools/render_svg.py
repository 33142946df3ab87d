"""Graph drawing: lays a directed acyclic graph out in layers and draws it as standalone SVG.

The layout is deliberately simple and deterministic. A node's layer is the length of the
longest path that reaches it (so every edge points to a later layer); layers are columns
from left to right. The first column is in natural id order; each later column is ordered
by the mean position of each node's predecessors (the barycentre), ties by id. Edges are
curves from the right side of one box to the left side of the next, drawn under the boxes;
edges of the `dashed` kind are dashed. No JavaScript is needed to see the result.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any

from engine.packs.task_graph import natural_key
from engine.tools.render_plan import shorten

if TYPE_CHECKING:
    import networkx as nx

BOX_W, BOX_H = 164, 44
GAP_X, GAP_Y = 46, 12
MARGIN = 12
LABEL_CHARS = 27


@dataclass(frozen=True)
class Placed:
    """A node's box: its layer (column), its row in that column, and its top-left corner."""

    node: str
    layer: int
    row: int
    x: int
    y: int


def layers(graph: nx.DiGraph) -> list[list[str]]:
    """The nodes in columns by longest-path depth, each column ordered as the module says."""
    import networkx as nx  # local: only drawing a task graph needs it, and it slows start-up

    depth: dict[str, int] = {}
    for node in nx.lexicographical_topological_sort(graph, key=lambda n: natural_key(str(n))):
        preds = list(graph.predecessors(node))
        depth[node] = 1 + max(depth[p] for p in preds) if preds else 0
    columns: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for node in sorted(depth, key=lambda n: natural_key(str(n))):
        columns[depth[node]].append(node)
    position: dict[str, int] = {}
    for n, column in enumerate(columns):
        if n:

            def centre(node: str) -> tuple[float, tuple[tuple[int, int, str], ...]]:
                rows = [position[p] for p in graph.predecessors(node)]
                return (sum(rows) / len(rows) if rows else 0.0, natural_key(str(node)))

            column.sort(key=centre)
        for row, node in enumerate(column):
            position[node] = row
    return columns


def layout(graph: nx.DiGraph) -> tuple[dict[str, Placed], int, int]:
    """Every node's box, and the width and height of the drawing."""
    columns = layers(graph)
    tallest = max((len(c) for c in columns), default=0)
    height = 2 * MARGIN + tallest * BOX_H + max(tallest - 1, 0) * GAP_Y
    width = 2 * MARGIN + len(columns) * BOX_W + max(len(columns) - 1, 0) * GAP_X
    placed: dict[str, Placed] = {}
    for layer, column in enumerate(columns):
        used = len(column) * BOX_H + max(len(column) - 1, 0) * GAP_Y
        top = MARGIN + (height - 2 * MARGIN - used) // 2
        for row, node in enumerate(column):
            placed[node] = Placed(
                node, layer, row, MARGIN + layer * (BOX_W + GAP_X), top + row * (BOX_H + GAP_Y)
            )
    return placed, width, height


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    return shorten(text, limit)


def render_svg(
    graph: nx.DiGraph,
    label: Callable[[str, dict[str, Any]], str] | None = None,
    link: Callable[[str], str | None] | None = None,
    dashed: Collection[str] = (),
    title: str = "graph",
) -> str:
    """An inline `<svg>` of the graph: a box per node (its id, and `label(id, attrs)` below),
    an arrow per edge; edges whose `kind` attribute is in `dashed` are dashed. With `link`,
    each box links to the address it returns."""
    placed, width, height = layout(graph)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="graph" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#555"/></marker></defs>',
        '<g class="edges" fill="none" stroke="#555" stroke-width="1.3">',
    ]
    edges = sorted(
        graph.edges(data=True), key=lambda e: (natural_key(str(e[0])), natural_key(str(e[1])))
    )
    for first, then, attrs in edges:
        a, b = placed[first], placed[then]
        x1, y1 = a.x + BOX_W, a.y + BOX_H // 2
        x2, y2 = b.x, b.y + BOX_H // 2
        bend = max((x2 - x1) // 2, 20)
        style = ' stroke-dasharray="5 4"' if attrs.get("kind") in dashed else ""
        out.append(
            f'<path d="M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}"'
            f'{style} marker-end="url(#arrow)"><title>{escape(str(first))} before '
            f"{escape(str(then))}</title></path>"
        )
    out.append("</g>")
    out.append('<g class="nodes" font-family="sans-serif" font-size="11">')
    for node in sorted(placed, key=lambda n: natural_key(str(n))):
        p = placed[node]
        attrs = dict(graph.nodes[node])
        text = label(node, attrs) if label else ""
        box = [
            f"<title>{escape(str(node))} {escape(text)}</title>",
            f'<rect x="{p.x}" y="{p.y}" width="{BOX_W}" height="{BOX_H}" rx="5" '
            f'fill="#fff" stroke="#1d4f91" stroke-width="1.2"/>',
            f'<text x="{p.x + 8}" y="{p.y + 18}" font-weight="bold" fill="#1d4f91">'
            f"{escape(str(node))}</text>",
            f'<text x="{p.x + 8}" y="{p.y + 35}" fill="#222">{escape(_short(text))}</text>',
        ]
        target = link(node) if link else None
        if target:
            out.append(f'<a href="{escape(target)}">' + "".join(box) + "</a>")
        else:
            out.append("<g>" + "".join(box) + "</g>")
    out.append("</g></svg>")
    return "\n".join(out)
