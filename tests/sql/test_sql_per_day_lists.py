"""A list of days worked out over `[0, 1, ..., 6]` (`as_of - k * 1 day`) moves the date by at
most six days: it cannot stop a decision, so it neither reaches into the query of an output
that does not read it nor costs that output the replay's change points.

Before the bound of `k` was read from its list, each such move counted as one that might pass
the calendar, every output of the pack was placed in every query (the first run-time error
stops the whole decision), and an output that reads the date through one comparison was
replayed on every day, its query carrying the per-day lists.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pytest

import engine
from engine.sql.bounds import constant_bounds
from engine.sql.expressions import may_err
from engine.sql.query import PackCompiler, compile_pack
from engine.sql.replay import plan, replay
from engine.sql.run import converted, disagreements, facts_table
from engine.tools.population import Population

PACKS = Path(__file__).parent.parent / "fixtures" / "sql_per_day"
ROOTS = ["prisoner", "establishment"]
RECORDS = 60
START, END = dt.date(2020, 7, 1), dt.date(2020, 9, 30)


@cache
def pack() -> Any:
    return engine.load(PACKS)["days"]


@cache
def population() -> Any:
    docs = Population(seed=41).documents(RECORDS, roots=tuple(ROOTS))
    return facts_table((i, as_of, converted(doc)) for i, as_of, doc in docs)


@pytest.mark.parametrize(
    "output",
    [
        "days_with_an_entry",
        "days_without_an_entry",
        "days_with_an_entry_in_their_month",
        "days_settled",
    ],
)
def test_a_move_by_an_element_of_a_written_list_cannot_stop_a_decision(output: str) -> None:
    p = pack()
    expr = p.outputs[output].expr
    assert expr is not None
    assert not may_err(expr.checked, constant_bounds(p.parameters))


@pytest.mark.parametrize(
    "output", ["far", "by_the_facts", "a_month_after_each", "a_month_before_each_day"]
)
def test_a_move_by_an_unbounded_element_still_may_stop_a_decision(output: str) -> None:
    p = engine.load(PACKS)["moves"]
    expr = p.outputs[output].expr
    assert expr is not None
    assert may_err(expr.checked, constant_bounds(p.parameters))


def test_the_per_day_lists_stay_out_of_another_outputs_query() -> None:
    alone = PackCompiler(pack(), "custodial", outputs=["leaving_soon"], values_only=True)
    sql = alone.compile().sql(pretty=False)
    assert "days_" not in sql
    assert sorted(k for k in alone.columns if not k.startswith("aux:")) == ["out:leaving_soon"]


def test_an_output_read_through_one_comparison_keeps_its_change_points() -> None:
    p = plan(pack(), "leaving_soon")
    assert p.every_day is None
    assert len(p.probes) == 1


def test_a_day_moved_by_whole_days_and_a_coalesce_with_a_literal_stay_simple() -> None:
    alone = PackCompiler(pack(), "custodial", outputs=["days_settled"], values_only=True)
    sql = alone.compile().sql(pretty=False)
    assert str(24 * 3600 * 10**6) not in sql  # k days, not k * 86,400,000,000 us rounded down
    # nothing is unknown once a literal is taken: the days carry no mask (the entries of each
    # day, inside, still do)
    assert sql.count("'m'") == 1


def test_sql_decides_as_the_interpreter() -> None:
    docs = Population(seed=7).documents(3000, roots=tuple(ROOTS))
    ready = [(i, as_of, converted(doc)) for i, as_of, doc in docs]
    failures, compared = disagreements(pack(), compile_pack(pack()), ready)
    assert not failures, f"{len(failures)} differences, first: " + "\n".join(failures[:5])
    assert compared > 1000


@pytest.mark.parametrize("output", list(pack().outputs))
def test_change_points_equal_every_day(output: str) -> None:
    p = plan(pack(), output)
    con = duckdb.connect()
    try:
        con.register("facts_arrow", population())
        con.execute("CREATE TABLE facts_mem AS SELECT * FROM facts_arrow")
        fast = replay(con, p, "facts_mem", ROOTS, START, END, "fast")
        slow = replay(con, p, "facts_mem", ROOTS, START, END, "slow", every_day=True)
        assert slow == RECORDS * ((END - START).days + 1) and fast <= slow
        by_day = (
            'SELECT record, CAST(d AS DATE) AS day, "{o}" AS v FROM {t}, '
            "range(first_day, last_day + INTERVAL 1 DAY, INTERVAL 1 DAY) r(d)"
        )
        differ = con.execute(
            f"SELECT count(*) FROM ({by_day.format(o=output, t='fast')}) a "
            f"FULL JOIN ({by_day.format(o=output, t='slow')}) b USING (record, day) "
            "WHERE a.v IS DISTINCT FROM b.v OR a.day IS NULL OR b.day IS NULL"
        ).fetchone()
        assert differ == (0,)
    finally:
        con.close()
