"""The SQL engine decides exactly as the Python interpreter, record by record, field by field.

A seeded population (absent and null facts, boundary days, month ends, leap days, every
level, lists empty and long) goes through each pack twice: once as one DuckDB query, once
through the interpreter. Every field of every decision but the explanation must agree.
"""

from __future__ import annotations

from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import pytest

import engine
from bench.generated_pack import pack_header
from engine.packs.facts_schema import prepare
from engine.sql.query import compile_pack
from engine.sql.run import converted, differences, facts_table, python_view, row_view, run_duckdb
from engine.tools.population import Population

PACKS = ("keywork_edm", "omu_edm", "pmp")
RECORDS = 34_000  # each record through each of the three packs: 102,000 decisions compared
ROOTS = ("prisoner", "establishment")
# on several workers (pytest-xdist), this module's tests share one: the population is made once
pytestmark = pytest.mark.xdist_group("sql-differential")


@cache
def packs() -> Any:
    return engine.load("policies/")


RECORDED = 500  # records also decided with every step kept: the same fields either way
# the query is compared with the compiled program (as `evaluate` decides) on every record, and
# the step-by-step evaluator with the program on one record in STEPWISE (and on the first
# RECORDED, keeping its steps): the program alone decides in about an eighth of the time
STEPWISE = 4


Records = list[tuple[int, Any, dict[str, Any]]]


@cache
def made() -> tuple[Records, Records, Any]:
    """The population's documents, the same converted for evaluation (dates as dates), and
    their table of facts: made once."""
    docs = list(Population(seed=20200720).documents(RECORDS, roots=ROOTS))
    ready = [(i, as_of, converted(doc)) for i, as_of, doc in docs]
    return docs, ready, facts_table(ready)


def population() -> tuple[Records, Any]:
    docs, _, table = made()
    return docs, table


def prepared() -> Records:
    return made()[1]


@lru_cache(maxsize=1)  # one pack's rows at a time: the three together hold gigabytes
def queried(pack_id: str) -> tuple[Any, dict[int, dict[str, Any]]]:
    """The pack's whole decision query and its rows by record over the population."""
    compiled = compile_pack(packs()[pack_id])
    _, table = population()
    return compiled, {r["record"]: r for r in run_duckdb(compiled, table)}


def test_population_is_valid_facts() -> None:
    docs, _ = population()
    for i, as_of, doc in docs[:300]:
        prepare({**doc, "as_of": as_of.isoformat()}, f"<record {i}>")


def test_population_visits_the_edges() -> None:
    docs, _ = population()
    prisoners = [d.get("prisoner") or {} for _, _, d in docs]
    assert any("release_date" not in p for p in prisoners)
    assert any(p.get("release_date", 0) is None for p in prisoners)
    levels = {(d.get("establishment") or {}).get("regime_level") for _, _, d in docs}
    assert {1, 2, 3, 4, None} <= levels
    days = {(a.isoformat(), (d.get("prisoner") or {}).get("release_date")) for _, a, d in docs}
    assert ("2020-07-20", "2020-08-17") in days  # exactly four weeks before release
    assert any(a.month == 2 and a.day == 29 for _, a, _ in docs)
    sessions = [len((p.get("keywork") or {}).get("sessions") or []) for p in prisoners]
    assert 0 in sessions and max(sessions) >= 12


@pytest.mark.parametrize("pack_id", PACKS)
def test_sql_decisions_equal_python_decisions(pack_id: str) -> None:
    pack = packs()[pack_id]
    docs, _ = population()
    compiled, rows = queried(pack_id)
    assert len(rows) == len(docs)
    failures: list[str] = []
    compared = 0
    for i, as_of, doc in prepared():
        expected = python_view(pack, doc, as_of, compiled.outputs)
        if i < RECORDED and expected != python_view(
            pack, doc, as_of, compiled.outputs, record=True
        ):
            failures.append(f"record {i}: the interpreter decides otherwise keeping its steps")
        elif i % STEPWISE == 0 and expected != python_view(
            pack, doc, as_of, compiled.outputs, stepwise=True
        ):
            failures.append(f"record {i}: the step-by-step evaluator decides otherwise")
        row = rows[i]
        if expected is None:
            if row["policy_version"] is not None:
                failures.append(f"record {i}: no version in force but SQL chose one")
            continue
        compared += 1
        for diff in differences(expected, row_view(row, compiled)):
            failures.append(f"record {i} (as_of {as_of}) field {diff}")
    assert not failures, f"{len(failures)} differences, first: " + "\n".join(failures[:10])
    assert compared > RECORDS // 4


@pytest.mark.parametrize("pack_id", PACKS)
def test_values_only_query_gives_the_same_outputs(pack_id: str) -> None:
    """The outputs-only query (used by the replay and the benchmark) decides every output as
    the whole decision's query does, and carries nothing of the decision beside them."""
    pack = packs()[pack_id]
    _, table = population()
    whole, full = queried(pack_id)
    alone = compile_pack(pack, values_only=True)
    assert alone.outputs == whole.outputs
    rows = run_duckdb(alone, table)
    assert len(rows) == len(full)
    assert not {"status", "undetermined", "missing_facts", "obligations"} & set(rows[0])
    differ = [
        f"record {r['record']} output {n}"
        for r in rows
        for n in whole.outputs
        if r[n] != full[r["record"]][n]
    ]
    assert not differ, f"{len(differ)} differences, first: {differ[:5]}"


CONDITIONS = (
    'prisoner.acct == "open"',
    'prisoner.rosh in ["HIGH", "VERY_HIGH"] and prisoner.release_date - as_of <= 4 weeks',
    "establishment.regime_level >= 2 and not prisoner.tact",
    "prisoner.cev or prisoner.governor_priority",
)


def many_obligations_pack(rules: int) -> str:
    """A pack with more obligations (and undetermined rules) than one 62-bit key holds, due
    dates from the day alone and from the facts."""
    lines = [
        *pack_header("many_obligations", "More obligations than one key column holds"),
        "rules:",
    ]
    for i in range(rules):
        due = f"as_of + {i % 9 + 1} days" if i % 2 else f"prisoner.release_date - {i} days"
        lines += [
            f"  - id: R-{i:03d}",
            f"    title: Generated rule {i}",
            f"    when: '{CONDITIONS[i % len(CONDITIONS)]}'",
            "    cite: {section: Generated}",
            "    obligation:",
            f"      modality: {('must', 'should', 'may')[i % 3]}",
            f"      text: Do generated thing {i}.",
            f"      due: {due}",
        ]
    return "\n".join(lines) + "\n"


def test_more_obligations_than_one_key_holds(tmp_path: Path) -> None:
    """130 obligations: the bit keys of the undetermined rules and of the obligations that
    hold span three columns each, and every decision still equals the interpreter's."""
    (tmp_path / "many_obligations.yaml").write_text(many_obligations_pack(130), encoding="utf-8")
    pack = engine.load(tmp_path)["many_obligations"]
    compiled = compile_pack(pack)
    assert "__ob_2" in compiled.sql() and "__und_2" in compiled.sql()
    _, table = population()
    rows = {r["record"]: r for r in run_duckdb(compiled, table)}
    failures: list[str] = []
    obligations = 0
    for i, as_of, doc in prepared()[:3_000]:
        expected = python_view(pack, doc, as_of, compiled.outputs)
        if expected is None:
            continue
        obligations += len(expected["obligations"])
        for diff in differences(expected, row_view(rows[i], compiled)):
            failures.append(f"record {i} (as_of {as_of}) field {diff}")
    assert not failures, f"{len(failures)} differences, first: " + "\n".join(failures[:10])
    assert obligations > 10_000
