"""Task graph: builds the dependency graph of a pack's tasks, checks it and orders it into plans.

A pack's `tasks` mapping (plain dicts, see docs/pack-format.md) becomes a
`networkx.DiGraph`. Nodes are task ids carrying the task's fields; an edge
`a -> b` means task `a` comes before task `b`. Edges come from two places:

- `after:` entries (kind `after`): task `b` lists `a` in its `after:`;
- the weighting rule (kind `weighting`), when `weighting_precedence` is on: a
  weighting 3 task is a precursor, so it comes before the weighting 2 and 1
  tasks of the same area.

Explicit edges win. Weighting edges are added one at a time, areas and tasks
in natural id order, and a weighting edge `a -> b` is skipped when the graph
built so far (every explicit edge plus the weighting edges already added)
already has a path from `b` back to `a`: the pack said otherwise, so the rule
gives way. Skipped edges are listed in `graph.graph["skipped_weighting"]`.
The result is therefore acyclic whenever the explicit edges are.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from engine.problems import Code, did_you_mean

if TYPE_CHECKING:
    import networkx as nx

AFTER = "after"
WEIGHTING = "weighting"
PRECURSOR_WEIGHTING = 3

_NUMBER = re.compile(r"(\d+)")


def natural_key(task_id: str) -> tuple[tuple[int, int, str], ...]:
    """A sort key that orders ids by their numbers: `1.9` before `1.10`, `2` before `10`."""
    parts: list[tuple[int, int, str]] = []
    for piece in _NUMBER.split(str(task_id)):
        if not piece:
            continue
        if piece.isdigit():
            parts.append((0, int(piece), piece))
        else:
            parts.append((1, 0, piece))
    return tuple(parts)


def _sorted_ids(ids: Iterable[str]) -> list[str]:
    return sorted(ids, key=natural_key)


def _after_entries(task: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The task's `after:` entries as mappings; a bare id is read as `{task: id}`."""
    entries = task.get("after") or []
    result: list[Mapping[str, Any]] = []
    for entry in entries:
        if isinstance(entry, Mapping):
            result.append(entry)
        else:
            result.append({"task": entry})
    return result


def _weighting(attrs: Mapping[str, Any]) -> int | None:
    value = attrs.get("weighting")
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def _acyclic(tasks: Mapping[str, Mapping[str, Any]]) -> bool:
    """Whether the `after:` entries naming known tasks form no cycle (Kahn's algorithm)."""
    waiting: dict[str, int] = {str(t): 0 for t in tasks}
    nexts: dict[str, list[str]] = {t: [] for t in waiting}
    for task_id in tasks:
        for entry in _after_entries(tasks[task_id]):
            before = str(entry.get("task"))
            if before in tasks:
                nexts[before].append(str(task_id))
                waiting[str(task_id)] += 1
    ready = [t for t, n in waiting.items() if n == 0]
    done = 0
    while ready:
        task = ready.pop()
        done += 1
        for after in nexts[task]:
            waiting[after] -= 1
            if waiting[after] == 0:
                ready.append(after)
    return done == len(waiting)


def _explicit_graph(tasks: Mapping[str, Mapping[str, Any]]) -> nx.DiGraph:
    """Nodes for every task and an edge for every `after:` entry naming a known task."""
    import networkx as nx  # local: only task graphs need it, and it slows start-up

    graph = nx.DiGraph()
    for task_id in _sorted_ids(str(t) for t in tasks):
        graph.add_node(task_id, **{"id": task_id, **dict(tasks[task_id])})
    for task_id in _sorted_ids(str(t) for t in tasks):
        for entry in _after_entries(tasks[task_id]):
            before = str(entry.get("task"))
            if before not in tasks:
                continue
            graph.add_edge(
                before,
                task_id,
                kind=AFTER,
                cite=entry.get("cite"),
                interpretation=entry.get("interpretation"),
            )
    return graph


def build_task_graph(
    tasks: Mapping[str, Mapping[str, Any]], weighting_precedence: bool = True
) -> nx.DiGraph:
    """Build the task graph: `after:` edges, then the weighting rule where it does not contradict.

    `after:` entries naming unknown tasks are left out (`task_problems` reports
    them). Node and edge insertion follow natural id order, so every function
    below gives the same answer for the same tasks however the mapping is ordered.
    """
    import networkx as nx  # local: only task graphs need it, and it slows start-up

    graph = _explicit_graph(tasks)
    skipped: list[tuple[str, str]] = []
    graph.graph["weighting_precedence"] = weighting_precedence
    graph.graph["skipped_weighting"] = skipped
    if not weighting_precedence:
        return graph
    areas: dict[str, list[str]] = {}
    for task_id in graph.nodes:
        area = graph.nodes[task_id].get("area")
        if area is not None:
            areas.setdefault(str(area), []).append(task_id)
    for area in sorted(areas):
        members = areas[area]
        precursors = [t for t in members if _weighting(graph.nodes[t]) == PRECURSOR_WEIGHTING]
        followers = [
            t
            for t in members
            if (w := _weighting(graph.nodes[t])) is not None and w < PRECURSOR_WEIGHTING
        ]
        for first in precursors:
            for then in followers:
                if graph.has_edge(first, then):
                    continue
                if nx.has_path(graph, then, first):
                    skipped.append((first, then))
                    continue
                graph.add_edge(first, then, kind=WEIGHTING, cite=None, interpretation=None)
    return graph


class GraphMaker:
    """Builds a pack's task graph from its `tasks` on demand; `digest` names what the graph is
    made from, so that plans worked out from it can be kept on disk and found again without
    building the graph (networkx alone takes a fifth of a second to import)."""

    def __init__(self, tasks: Mapping[str, Mapping[str, Any]], weighting_precedence: bool):
        self.tasks = tasks
        self.weighting_precedence = weighting_precedence
        shown = json.dumps(
            [tasks, weighting_precedence],
            sort_keys=True,
            default=lambda v: f"{type(v).__qualname__}:{v!r}",
        )
        self.digest = hashlib.sha256(shown.encode()).hexdigest()

    def __call__(self) -> nx.DiGraph:
        return build_task_graph(self.tasks, weighting_precedence=self.weighting_precedence)


class TaskProblem(NamedTuple):
    """A problem with a task: its code and message, the task, and the index of the `after:`
    entry it is about (None when it is about the task as a whole)."""

    code: Code
    message: str
    task: str
    after: int | None


def task_problems(tasks: Mapping[str, Mapping[str, Any]]) -> list[TaskProblem]:
    """Problems in the tasks' `after:` entries, each placed at the entry it is about.

    - `E-TASK-REF`: an `after:` entry names a task that does not exist (with a
      suggestion when one is close);
    - `E-TASK-CYCLE`: explicit dependencies form a cycle. The message names it
      in order, `a -> b -> c -> a`, where each arrow reads "comes before". The
      task id is the head of the last arrow (`a`): its `after:` entry naming the
      task before it (`c`) closes the cycle (see `after_index`). Each cycle is
      reported once; independent cycles are each reported.
    """
    problems: list[TaskProblem] = []
    known = _sorted_ids(str(t) for t in tasks)
    for task_id in known:
        for index, entry in enumerate(_after_entries(tasks[task_id])):
            before = str(entry.get("task"))
            if before in tasks:
                continue
            message = f"task `{task_id}` comes after `{before}`, which is not a task"
            close = did_you_mean(before, known)
            if close:
                message += f"; {close}"
            problems.append(TaskProblem("E-TASK-REF", message, task_id, index))
    if _acyclic(tasks):  # the usual case, told without networkx (slow to import)
        return problems
    import networkx as nx

    graph = _explicit_graph(tasks)
    while True:
        try:
            cycle = nx.find_cycle(graph)
        except nx.NetworkXNoCycle:
            break
        path = [str(cycle[0][0])] + [str(edge[1]) for edge in cycle]
        closing_before, closing_task = str(cycle[-1][0]), str(cycle[-1][1])
        message = (
            f"tasks depend on each other in a cycle: `{' -> '.join(path)}`"
            f" (`{closing_task}` comes after `{closing_before}`)"
        )
        where = after_index(tasks, closing_task, closing_before)
        problems.append(TaskProblem("E-TASK-CYCLE", message, closing_task, where))
        graph.remove_edge(closing_before, closing_task)
    return problems


def after_index(tasks: Mapping[str, Mapping[str, Any]], task_id: str, before: str) -> int | None:
    """Position (from 0) of the entry in `task_id`'s `after:` that names `before`, or None."""
    task = tasks.get(task_id)
    if task is None:
        return None
    for index, entry in enumerate(_after_entries(task)):
        if str(entry.get("task")) == before:
            return index
    return None


def _in_stage(attrs: Mapping[str, Any], stage: int | None) -> bool:
    if stage is None:
        return True
    return stage in (attrs.get("stages") or [])


def _order_key(graph: nx.DiGraph) -> Any:
    def key(task_id: str) -> tuple[int, tuple[tuple[int, int, str], ...]]:
        weighting = _weighting(graph.nodes[task_id])
        return (-(weighting if weighting is not None else 0), natural_key(task_id))

    return key


def stage_graph(graph: nx.DiGraph, stage: int | None) -> nx.DiGraph:
    """The tasks of `stage` (all tasks for None) and the edges between them."""
    nodes = [t for t in graph.nodes if _in_stage(graph.nodes[t], stage)]
    return graph.subgraph(nodes)


def plan(graph: nx.DiGraph, stage: int | None = None) -> list[str]:
    """The tasks of `stage` (None: all) in a deterministic topological order.

    Ties are broken by weighting (3 first), then by id in natural order.
    Dependencies on tasks outside the stage do not order the plan; `waits_for`
    reports them. Raises `networkx.NetworkXUnfeasible` when the graph has a cycle.
    """
    import networkx as nx  # local: only task graphs need it, and it slows start-up

    sub = stage_graph(graph, stage)
    return [str(t) for t in nx.lexicographical_topological_sort(sub, key=_order_key(sub))]


def critical_path(graph: nx.DiGraph, stage: int | None = None) -> list[str]:
    """The longest chain of dependencies among the tasks of `stage`, first task first.

    Every edge counts 1. Among chains of equal length the one ending earliest in
    the plan wins, and along it each task's earliest-planned predecessor.
    """
    import networkx as nx  # local: only task graphs need it, and it slows start-up

    sub = stage_graph(graph, stage)
    if sub.number_of_nodes() == 0:
        return []
    order = plan(graph, stage)
    position = {task_id: i for i, task_id in enumerate(order)}
    ordered = nx.DiGraph()
    ordered.add_nodes_from(order)
    ordered.add_edges_from(sorted(sub.edges, key=lambda e: (position[e[1]], position[e[0]])))
    return [str(t) for t in nx.dag_longest_path(ordered, weight=None, topo_order=order)]


def waits_for(graph: nx.DiGraph, task_id: str, include_weighting: bool = False) -> list[str]:
    """The tasks that `task_id` comes directly after, in natural order.

    By default only explicit (`after:`) dependencies; with `include_weighting`
    also the precursors the weighting rule adds.
    """
    kinds = {AFTER, WEIGHTING} if include_weighting else {AFTER}
    return _sorted_ids(
        str(before)
        for before, _, attrs in graph.in_edges(task_id, data=True)
        if attrs.get("kind") in kinds
    )


def outside_stage(graph: nx.DiGraph, task_id: str, stage: int | None) -> list[str]:
    """The explicit dependencies of `task_id` that are not tasks of `stage`."""
    return [t for t in waits_for(graph, task_id) if not _in_stage(graph.nodes[t], stage)]
