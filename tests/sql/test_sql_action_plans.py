"""The action plan pack (records built per recommendation, lists of lists, text dates) and a
collect table decide in SQL exactly as in the interpreter, on generated and on real plans."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

import engine
from engine.packs.facts_schema import prepare
from engine.sql.query import compile_pack
from engine.sql.run import converted, differences, facts_table, python_view, row_view, run_duckdb
from engine.tools.population import Population
from tests.sql.plan_population import PlanPopulation, month_end

ROOT = Path(__file__).resolve().parents[2]
PLANS = sorted((ROOT / "policies" / "action_plans").glob("*_20*.yaml"))
PLAN_DAYS = ("2019-01-18", "2019-03-31", "2019-04-01", "2019-06-01", "2019-12-31", "2020-06-30")
RECORDS = 1_000


@cache
def action_plan() -> Any:
    return engine.load(ROOT / "policies")["action_plan"]


@cache
def generated() -> list[tuple[int, dt.date, dict[str, Any]]]:
    return list(PlanPopulation(seed=20190118).documents(RECORDS))


QUERIES: dict[str, Any] = {}


def compiled_query(pack: Any) -> Any:
    if pack.id not in QUERIES:
        QUERIES[pack.id] = compile_pack(pack)
    return QUERIES[pack.id]


def assert_same_decisions(pack: Any, docs: list[tuple[int, dt.date, dict[str, Any]]]) -> int:
    """Every record's SQL decision equals the interpreter's; the number compared."""
    prepared = [(i, a, converted(d)) for i, a, d in docs]
    compiled = compiled_query(pack)
    rows = {r["record"]: r for r in run_duckdb(compiled, facts_table(prepared))}
    assert len(rows) == len(docs)
    failures: list[str] = []
    compared = 0
    for i, as_of, doc in prepared:
        expected = python_view(pack, doc, as_of, compiled.outputs)
        if expected is None:
            if rows[i]["policy_version"] is not None:
                failures.append(f"record {i}: no version in force but SQL chose one")
            continue
        compared += 1
        for diff in differences(expected, row_view(rows[i], compiled)):
            failures.append(f"record {i} (as_of {as_of}) field {diff}")
    assert not failures, f"{len(failures)} differences, first: " + "\n".join(failures[:10])
    return compared


def test_generated_plans_are_valid_facts() -> None:
    for i, as_of, doc in generated()[:200]:
        prepare({**doc, "as_of": as_of.isoformat()}, f"<plan {i}>")


def test_generated_plans_visit_the_edges() -> None:
    docs = generated()
    plans = [d.get("action_plan") for _, _, d in docs]
    assert any(p is None for p in plans) and any(not d for _, _, d in docs)
    recs = [r for p in plans if p for r in p["recommendations"]]
    lengths = {len(p["recommendations"]) for p in plans if p}
    assert 0 in lengths and max(lengths) >= 26
    assert any("reason" not in r for r in recs) and any(r.get("reason", 0) is None for r in recs)
    numbers = [[r["number"] for r in p["recommendations"]] for p in plans if p]
    assert any(len(set(n)) < len(n) for n in numbers)  # a repeated recommendation number
    due_on_the_day = 0
    for _, as_of, d in docs:
        for r in (d.get("action_plan") or {}).get("recommendations", []):
            for a in r["actions"]:
                if a.get("target_month"):
                    due = month_end(dt.date.fromisoformat(a["target_month"] + "-01"))
                    due_on_the_day += due == as_of
    assert due_on_the_day > 10  # a target month ending on the evaluation day itself
    summaries = [p.get("stated_summary", 0) for p in plans if p]
    assert 0 in summaries and None in summaries
    printed = [(p.get("summary_table"), p.get("stated_summary", 0)) for p in plans if p]
    # a plan known to print no table, with the table absent or null, and one not said either way
    assert ("none", 0) in printed and ("none", None) in printed
    assert any(t is None and s == 0 for t, s in printed)


def test_sql_decides_generated_plans_as_the_interpreter() -> None:
    compared = assert_same_decisions(action_plan(), generated())
    assert compared > RECORDS * 3 // 4


@pytest.mark.parametrize("plan", PLANS, ids=lambda p: p.stem)
def test_sql_decides_the_real_plans_as_the_interpreter(plan: Path) -> None:
    doc = yaml.safe_load(plan.read_text(encoding="utf-8"))
    days = [dt.date.fromisoformat(d) for d in PLAN_DAYS]
    submitted = doc["action_plan"].get("submitted_on")
    if submitted:
        days.append(dt.date.fromisoformat(str(submitted)))
    docs = [(i, day, doc) for i, day in enumerate(days)]
    assert assert_same_decisions(action_plan(), docs) == len(days)


def test_a_collect_table_decides_as_the_interpreter() -> None:
    pack = engine.load(ROOT / "tests" / "data" / "sql")["collect_table"]
    docs = list(Population(seed=13).documents(1_500, roots=("prisoner", "establishment")))
    assert assert_same_decisions(pack, docs) > 1_000
