"""Tests for the task graph: references, cycles, the weighting rule, plans and their rendering."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.packs.task_graph import (
    after_index,
    build_task_graph,
    critical_path,
    natural_key,
    plan,
    task_problems,
    waits_for,
)
from engine.tools.render_plan import plan_rows, render, render_dot, render_mermaid, render_text

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "packs"


def task(
    area: str = "A",
    weighting: int = 3,
    stages: list[int] | None = None,
    after: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "area": area,
        "title": "t",
        "baseline": "b",
        "weighting": weighting,
        "autonomy": "limited",
        "mandatory": True,
        "stages": stages if stages is not None else [3],
        "sources": [],
        "after": [{"task": t, "cite": {"section": "S"}} for t in (after or [])],
        "cite": {"section": "S"},
    }


def test_natural_order_puts_1_10_after_1_9() -> None:
    ids = ["1.10", "1.2", "10.1", "1.9", "2.1", "1.1"]
    assert sorted(ids, key=natural_key) == ["1.1", "1.2", "1.9", "1.10", "2.1", "10.1"]


def test_plan_uses_natural_order_for_ties() -> None:
    tasks = {i: task() for i in ["1.10", "1.9", "1.2"]}
    assert plan(build_task_graph(tasks)) == ["1.2", "1.9", "1.10"]


def test_unknown_after_is_reported_with_a_suggestion() -> None:
    tasks = {"2.4": task(), "2.6": task(after=["2.44"])}
    problems = task_problems(tasks)
    assert problems == [
        (
            "E-TASK-REF",
            "task `2.6` comes after `2.44`, which is not a task; did you mean `2.4`?",
            "2.6",
            0,
        )
    ]
    # the graph is still built, without the dangling edge
    assert list(build_task_graph(tasks).edges) == []


def test_unknown_after_without_a_close_match_has_no_suggestion() -> None:
    (problem,) = task_problems({"a": task(after=["zzzzzz"])})
    assert problem[0] == "E-TASK-REF"
    assert "did you mean" not in problem[1]


def test_cycle_is_named_in_order_and_blamed_on_its_closing_entry() -> None:
    tasks = {"b": task(after=["a"]), "c": task(after=["b"]), "a": task(after=["c"])}
    (problem,) = task_problems(tasks)
    code, message, task_id, index = problem
    assert code == "E-TASK-CYCLE" and index == 0
    assert "`a -> b -> c -> a`" in message
    assert task_id == "a"
    assert after_index(tasks, "a", "c") == 0


def test_self_dependency_is_a_cycle() -> None:
    (problem,) = task_problems({"x": task(after=["x"])})
    assert problem[0] == "E-TASK-CYCLE"
    assert "`x -> x`" in problem[1]


def test_independent_cycles_are_each_reported() -> None:
    tasks = {
        "1": task(after=["2"]),
        "2": task(after=["1"]),
        "3": task(after=["4"]),
        "4": task(after=["3"]),
    }
    cycles = [p for p in task_problems(tasks) if p[0] == "E-TASK-CYCLE"]
    assert len(cycles) == 2


def test_weighting_edges_do_not_create_cycles_reported_as_problems() -> None:
    # 2 (weighting 2) explicitly precedes 1 (weighting 3): no explicit cycle
    tasks = {"1": task(weighting=3, after=["2"]), "2": task(weighting=2)}
    assert task_problems(tasks) == []


def test_weighting_three_precedes_lower_weightings_of_the_same_area_only() -> None:
    tasks = {
        "1.1": task(area="A", weighting=2),
        "1.2": task(area="A", weighting=3),
        "1.3": task(area="A", weighting=1),
        "2.1": task(area="B", weighting=2),
    }
    graph = build_task_graph(tasks)
    kinds = {(a, b): d["kind"] for a, b, d in graph.edges(data=True)}
    assert kinds == {("1.2", "1.1"): "weighting", ("1.2", "1.3"): "weighting"}
    assert plan(graph) == ["1.2", "1.1", "2.1", "1.3"]


def test_weighting_precedence_can_be_turned_off() -> None:
    tasks = {"1": task(weighting=2), "2": task(weighting=3)}
    graph = build_task_graph(tasks, weighting_precedence=False)
    assert list(graph.edges) == []
    # ties still go to weighting 3 first
    assert plan(graph) == ["2", "1"]


def test_explicit_dependency_wins_over_the_weighting_rule() -> None:
    tasks = {
        "1": task(weighting=3, after=["2"]),
        "2": task(weighting=2),
        "3": task(weighting=2),
    }
    graph = build_task_graph(tasks)
    assert graph.graph["skipped_weighting"] == [("1", "2")]
    assert graph.edges["2", "1"]["kind"] == "after"
    assert graph.edges["1", "3"]["kind"] == "weighting"
    assert plan(graph) == ["2", "1", "3"]


def test_explicit_path_through_other_tasks_also_wins() -> None:
    tasks = {
        "a": task(area="A", weighting=3, after=["x"]),
        "x": task(area="B", weighting=3, after=["b"]),
        "b": task(area="A", weighting=2),
    }
    graph = build_task_graph(tasks)
    assert not graph.has_edge("a", "b")
    assert plan(graph) == ["b", "x", "a"]


def test_plan_respects_every_edge() -> None:
    tasks = {
        "1.1": task(weighting=2, after=["3.1"]),
        "2.1": task(weighting=3),
        "3.1": task(area="B", weighting=3, after=["2.1"]),
        "1.2": task(weighting=3),
    }
    graph = build_task_graph(tasks)
    order = plan(graph)
    position = {t: i for i, t in enumerate(order)}
    for first, then in graph.edges:
        assert position[first] < position[then]


def test_plan_keeps_the_stage_and_reports_waits_outside_it() -> None:
    tasks = {
        "1": task(stages=[4, 3]),
        "2": task(stages=[3]),
        "3": task(stages=[4, 3], after=["2"]),
    }
    graph = build_task_graph(tasks)
    assert plan(graph, 4) == ["1", "3"]
    assert plan(graph, 3) == ["1", "2", "3"]
    assert plan(graph, None) == ["1", "2", "3"]
    assert plan(graph, 1) == []
    assert waits_for(graph, "3") == ["2"]
    text = render_text(graph, 4)
    assert "waits for: 2 (not in this stage)" in text
    assert "waits for: 2\n" in render_text(graph, 3)


def test_waits_for_can_include_weighting_precursors() -> None:
    tasks = {"1": task(weighting=3), "2": task(weighting=2), "3": task(weighting=2, after=["2"])}
    graph = build_task_graph(tasks)
    assert waits_for(graph, "3") == ["2"]
    assert waits_for(graph, "3", include_weighting=True) == ["1", "2"]


def test_critical_path_is_the_longest_chain() -> None:
    tasks = {
        "a": task(area="X"),
        "b": task(area="Y", after=["a"]),
        "c": task(area="Z", after=["b"]),
        "d": task(area="W", after=["a"]),
    }
    graph = build_task_graph(tasks)
    assert critical_path(graph) == ["a", "b", "c"]
    assert critical_path(graph, 1) == []


def test_critical_path_ties_are_deterministic() -> None:
    tasks = {k: task(area=k) for k in ["p", "q", "r"]}
    tasks["s"] = task(area="s", after=["q", "p"])
    tasks["t"] = task(area="t", after=["r"])
    first = critical_path(build_task_graph(tasks))
    for seed in range(5):
        keys = list(tasks)
        random.Random(seed).shuffle(keys)
        assert critical_path(build_task_graph({k: tasks[k] for k in keys})) == first


def sample_tasks() -> dict[str, dict[str, Any]]:
    return {
        "1.1": task(area="Start", weighting=3, stages=[4, 3]),
        "1.2": task(area="Start", weighting=2, stages=[4, 3]),
        "1.10": task(area="Start", weighting=2, stages=[3]),
        "2.1": task(area="Middle", weighting=3, stages=[3], after=["1.1"]),
        "2.2": task(area="Middle", weighting=2, stages=[4, 3], after=["2.1"]),
        "3.1": task(area="End", weighting=3, stages=[4, 3], after=["1.2"]),
    }


@pytest.mark.parametrize("fmt", ["text", "json", "mermaid", "dot"])
def test_output_does_not_depend_on_mapping_order(fmt: str) -> None:
    tasks = sample_tasks()
    expected = render(build_task_graph(tasks), 3, fmt)
    for seed in range(5):
        keys = list(tasks)
        random.Random(seed).shuffle(keys)
        shuffled = {k: tasks[k] for k in keys}
        assert render(build_task_graph(shuffled), 3, fmt) == expected


def test_text_rendering_is_numbered_with_the_critical_path_last() -> None:
    text = render_text(build_task_graph(sample_tasks()), 3)
    lines = text.splitlines()
    assert lines[0] == "Plan for stage 3"
    assert lines[1].startswith("1. 1.1 t [weighting 3, limited autonomy, mandatory]")
    # two chains of length 2; the one ending earlier in the plan (3.1) wins
    assert lines[-1] == "Critical path: 1.1 -> 1.2 -> 3.1"


def test_json_rows_have_the_documented_fields() -> None:
    rows = plan_rows(build_task_graph(sample_tasks()), 4)
    assert [r["id"] for r in rows] == ["1.1", "1.2", "3.1", "2.2"]
    assert set(rows[0]) == {
        "id",
        "area",
        "title",
        "weighting",
        "autonomy",
        "mandatory",
        "stages",
        "waits_for",
        "cite",
    }
    assert rows[-1]["waits_for"] == ["2.1"]
    assert json.loads(render(build_task_graph(sample_tasks()), 4, "json")) == rows


def test_mermaid_dashes_weighting_edges() -> None:
    text = render_mermaid(build_task_graph(sample_tasks()), 3)
    assert text.startswith("flowchart TD\n")
    assert '    t_1_10["1.10 t"]' in text
    assert "    t_1_1 -.-> t_1_2" in text  # weighting rule
    assert "    t_1_1 --> t_2_1" in text  # explicit


def test_dot_dashes_weighting_edges() -> None:
    text = render_dot(build_task_graph(sample_tasks()), 3)
    assert text.startswith("digraph plan_stage_3 {")
    assert '"1.1" -> "1.2" [style=dashed];' in text
    assert '"1.1" -> "2.1";' in text
    assert text.rstrip().endswith("}")


def test_unknown_format_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown plan format"):
        render(build_task_graph(sample_tasks()), 3, "svg")


def test_cycle_corpus_file_points_at_the_closing_after_entry() -> None:
    path = CORPUS / "task_cycle.yaml"
    text = path.read_text(encoding="utf-8")
    match = re.match(r"# expect: (\S+) (\d+):(\d+)", text)
    assert match is not None
    code, line, col = match.group(1), int(match.group(2)), int(match.group(3))
    tasks = yaml.safe_load(text)["tasks"]
    (problem,) = task_problems(tasks)
    assert problem[0] == code
    task_id = problem[2]
    before = re.search(r"`(\S+)` comes after `(\S+)`\)$", problem[1])
    assert before is not None and before.group(1) == task_id
    index = after_index(tasks, task_id, before.group(2))
    assert index is not None and index == problem.after
    # find that entry's position in the YAML
    root = yaml.compose(text)
    tasks_node = next(v for k, v in root.value if k.value == "tasks")
    task_node = next(v for k, v in tasks_node.value if k.value == task_id)
    after_node = next(v for k, v in task_node.value if k.value == "after")
    entry = after_node.value[index]
    assert (entry.start_mark.line + 1, entry.start_mark.column + 1) == (line, col)


def test_loader_reports_the_cycle_where_the_corpus_file_expects() -> None:
    from engine.api import load_file

    path = CORPUS / "task_cycle.yaml"
    match = re.match(r"# expect: (\S+) (\d+):(\d+)", path.read_text(encoding="utf-8"))
    assert match is not None
    code, line, col = match.group(1), int(match.group(2)), int(match.group(3))
    pack, problems = load_file(path)
    assert pack is None
    assert [(p.code, p.line, p.col) for p in problems if p.is_error] == [(code, line, col)]
