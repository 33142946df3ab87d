"""Bounded evaluation: the static cost estimate made when a pack is checked (engine.language.cost,
engine.packs.pack_cost) and the step budget counted while it is evaluated (engine.language.runtime).

The estimate is an upper bound: tested against the sizes of values actually built, over lists
of every length up to the declared bound. The step budget stops blow-ups inside one expression
that no estimate of the pack saw (the facts are only known at run time)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine.language import cost as C
from engine.language import runtime as R
from engine.language.check import check
from engine.language.codegen import compile_checked
from engine.language.parse import parse
from engine.packs.facts_schema import _compiled, _prepare_fast, prepare, validate_facts
from engine.packs.pack_cost import cost_problems, pack_costs
from engine.problems import EvaluationError, FactsError

from .language_scope import AS_OF, SCHEMA, scope

ROOT = Path(__file__).resolve().parents[2]
SCOPE = scope()


def estimate(text: str, bound: int | None = None) -> C.Estimate:
    """The estimate of an expression over the test facts `p`, its list `xs` bounded by `bound`
    items (declared as `maxItems`) or, without one, by the limits facts are held to."""
    checked = check(parse(text), SCOPE)
    assert checked.errors == [], checked.errors
    node = dict(SCHEMA)
    if bound is not None:
        node["properties"] = {**SCHEMA["properties"], "xs": {**SCHEMA["properties"]["xs"]}}
        node["properties"]["xs"]["maxItems"] = bound
    root = C.of_json_schema(node, SCOPE.symbols["p"].type)
    return C.estimate(checked, {"p": root}.get)


def run(text: str, **facts: Any) -> Any:
    checked = check(parse(text), SCOPE)
    assert checked.errors == [], checked.errors
    return compile_checked(checked).fn({"as_of": AS_OF, "p": facts}, {}.__getitem__)


# -- the estimate ------------------------------------------------------------------------------


def test_a_declared_bound_is_used_and_nesting_multiplies() -> None:
    one = estimate("count(x in p.xs: x > 1)", bound=100).cost
    two = estimate("count(x in p.xs: count(y in p.xs: y > x) > 1)", bound=100).cost
    assert 100 <= one < 1_000
    assert 100 * 100 <= two < 100 * 1_000
    # without a declared bound, the list is as long as facts may hold
    assert estimate("count(x in p.xs: x > 1)").cost >= C.FACT_LIST


def test_sizes_compose_through_list_functions() -> None:
    e = estimate("flatten(map(x in p.xs: p.xs))", bound=50)
    assert e.size.n == 50 * 50
    assert estimate("p.xs + p.xs + [1]", bound=50).size.n == 101
    assert estimate("filter(x in p.xs: x > 1)", bound=7).size.n == 7


def test_the_messages_show_costs_in_powers_of_ten() -> None:
    assert C.describe(999_999) == "999,999"
    assert C.describe(27 * 10**21) == "2.7e+22"
    assert C.describe(10**80) == "more than 1e60"


@settings(max_examples=60, deadline=None)
@given(
    xs=st.lists(st.integers(-1000, 1000), max_size=12),
    text=st.sampled_from(
        [
            "flatten(map(x in p.xs: p.xs))",
            "flatten(map(x in p.xs: filter(y in p.xs: y > x)))",
            "map(x in p.xs: x * x * x)",
            "p.xs + p.xs + filter(x in p.xs: x > 0)",
            "unique(p.xs + map(x in p.xs: x + 1))",
            "sort(flatten([p.xs, p.xs, [1, 2]]))",
            "text(sum(x in p.xs: x * x))",
            "coalesce(p.xs, [1]) + compact(p.xs)",
            "map(x in p.xs: text(x) + p.s)",
        ]
    ),
)
def test_the_estimate_bounds_the_value_actually_built(xs: list[int], text: str) -> None:
    """Whatever the facts (within the declared bound), the value is no larger than estimated:
    items of a list, characters of a text, bits of an integer."""
    value = run(text, xs=xs, s="abc")
    bound = estimate(text, bound=12).size
    if isinstance(value, list):
        assert len(value) <= bound.n
        for item in value:
            if isinstance(item, int | str):
                assert bound.elem is not None
                assert (item.bit_length() if isinstance(item, int) else len(item)) <= bound.elem.n
    elif isinstance(value, str):
        assert len(value) <= bound.n
    elif isinstance(value, int):
        assert value.bit_length() <= bound.n


STEPPING = [
    "count(x in p.xs: x in p.xs)",
    "flatten(map(x in p.xs: flatten(map(y in p.xs: p.xs))))",
    "unique(map(x in p.xs: {k: x}))",
    "sum(x in p.xs: count(y in sort(p.xs): index_of(y, p.xs) > 0))",
    "map(x in p.xs: p.s + text(x))",
    "any x in p.xs: all y in filter(z in p.xs: z > x): min(p.xs) <= y",
    "contains_any(p.s, map(x in p.xs: text(x))) or len(compact(p.xs)) > 2",
]


@settings(max_examples=60, deadline=None)
@given(xs=st.lists(st.integers(-5, 5), max_size=12), text=st.sampled_from(STEPPING))
def test_the_estimate_bounds_the_steps_the_budget_counts(xs: list[int], text: str) -> None:
    """The static cost is never below the steps the runtime budget counts for the same
    expression (counted here as one budget over the whole expression)."""
    steps = R._STEPS
    steps.depth, steps.left = 1, R.MAX_STEPS
    try:
        run(text, xs=xs, s="abc")
        used = R.MAX_STEPS - steps.left
    finally:
        steps.depth, steps.left = 0, R.MAX_STEPS
    assert used <= estimate(text, bound=12).cost


def test_squaring_forty_times_is_an_astronomical_cost_reported_once() -> None:
    path = ROOT / "tests" / "corpus" / "packs" / "cost_squaring_chain.yaml"
    packs, problems = engine.check_paths([path])
    errors = [p for p in problems if p.is_error]
    assert [p.code for p in errors] == ["E-COST-LIMIT"]
    assert "up to 2.7e+22 (definition `d40`)" in errors[0].message
    assert "the limit is 1.0e+09" in errors[0].message and errors[0].hint
    assert not packs


@pytest.mark.parametrize("pid", ["keywork_edm", "pmp", "omu_edm", "action_plan"])
def test_the_national_packs_are_well_within_the_limit(pid: str) -> None:
    pack = engine.load(ROOT / "policies")[pid]
    costs = pack_costs(pack)
    assert costs and max(c.cost for c in costs) < C.COST_WARN
    assert cost_problems(pack.file, costs) == []


# -- the step budget ---------------------------------------------------------------------------


def test_nested_maps_over_a_long_list_stop_at_the_step_budget() -> None:
    with pytest.raises(EvaluationError) as info:
        run("len(flatten(map(x in p.xs: flatten(map(y in p.xs: p.xs)))))", xs=list(range(1000)))
    assert info.value.code == "E-EVAL-LIMIT-STEPS"
    assert "10,000,000" in str(info.value)
    # the budget is the outermost call's: the next evaluation starts afresh
    assert R._STEPS.depth == 0
    assert run("len(flatten(map(x in p.xs: p.xs)))", xs=list(range(1000))) == 1_000_000


def test_a_text_doubled_inside_one_expression_stops_before_it_is_built() -> None:
    leaves = "p.s"
    for _ in range(7):  # 128 copies of a 100,000-character text, 12.8 million characters
        leaves = f"({leaves} + {leaves})"
    with pytest.raises(EvaluationError) as info:
        run(f"len({leaves})", s="x" * 100_000)
    assert info.value.code == "E-EVAL-LIMIT-STEPS"
    assert run(f"len({leaves})", s="xy") == 256


def test_a_quadratic_membership_search_is_counted() -> None:
    xs = list(range(4_000))
    with pytest.raises(EvaluationError) as info:
        run("count(x in p.xs: x in p.xs)", xs=xs)
    assert info.value.code == "E-EVAL-LIMIT-STEPS"
    assert run("count(x in p.xs: x in p.xs)", xs=xs[:2_000]) == 2_000


def test_each_thread_counts_its_own_steps() -> None:
    """A thread that exhausts its budget leaves another thread's evaluation alone."""
    results: dict[str, Any] = {}
    ready = threading.Barrier(2)

    def heavy() -> None:
        ready.wait()
        try:
            run("count(x in p.xs: x in p.xs)", xs=list(range(5_000)))
        except EvaluationError as e:
            results["heavy"] = e.code

    def light() -> None:
        ready.wait()
        results["light"] = [
            run("count(x in p.xs: x in p.xs)", xs=list(range(300))) for _ in range(20)
        ]

    threads = [threading.Thread(target=heavy), threading.Thread(target=light)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {"heavy": "E-EVAL-LIMIT-STEPS", "light": [300] * 20}


def test_unique_is_linear_for_values_that_hash_and_keeps_first_occurrences() -> None:
    assert run("unique(p.xs)", xs=[3, 1, 3, 2, 1]) == [3, 1, 2]
    assert run("len(unique(p.xs))", xs=list(range(100_000)) * 2) == 100_000
    assert run(
        "unique(map(s in p.sessions: {m: s.minutes}))",
        sessions=[{"minutes": 5}, {"minutes": 5}, {"minutes": 7}],
    ) == [{"m": 5}, {"m": 7}]


@pytest.mark.parametrize(
    ("alerts", "ok"),
    [(["HA"] * 1000, True), (["HA"] * 1001, False), (["X" * 32], True), (["X" * 33], False)],
)
def test_the_bounds_the_estimate_rests_on_are_enforced_when_facts_are_read(
    alerts: list[str], ok: bool
) -> None:
    """`maxItems` and `maxLength` hold on the compiled facts check and the full validator
    alike, so no document can be larger than the estimate assumed."""
    document = {"prisoner": {"alerts": alerts}}
    assert _compiled("facts") is not None  # the bounds keep the compiled check in use
    assert (_prepare_fast(document, "facts") is not None) == ok
    assert (validate_facts(document) == []) == ok
    if not ok:
        with pytest.raises(FactsError) as info:
            prepare(document)
        assert info.value.problems[0].code == "E-FACTS"


def test_check_shows_each_packs_estimated_costs() -> None:
    from click.testing import CliRunner

    from cli.main import cli

    result = CliRunner().invoke(
        cli, ["check", str(ROOT / "policies"), "--costs", "--no-tests", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    costs = json.loads(result.stdout)["costs"]
    assert sorted(costs) == ["action_plan", "keywork_edm", "omu_edm", "pmp"]
    for pid, summary in costs.items():
        # no expression near the warning (the bound is an expression's, not a pack's: a pack's
        # total grows with its size, and is held under the limit of one expression)
        assert 0 < summary["max"] < C.COST_WARN, pid
        assert summary["max"] <= summary["total"] < C.COST_LIMIT, pid
        assert summary["max_at"] and summary["expressions"] > 10
    pack = str(ROOT / "policies" / "omu_edm.yaml")
    text = CliRunner().invoke(cli, ["check", pack, "--costs", "--no-tests"])
    assert "estimated cost omu_edm: at most " in text.stdout
