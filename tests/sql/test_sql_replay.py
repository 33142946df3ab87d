"""Replaying a date range on the change points gives every day's value exactly.

For every output of every pack whose dates the change-point replay handles, a generated
population is replayed twice over half a year: once on the change points only, once day by
day; expanded to days, the two must agree on every record and every day.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

import duckdb
import pytest

import engine
from engine.sql.replay import plan, replay
from engine.sql.run import converted, facts_table
from engine.tools.population import Population

ROOTS = ["prisoner", "establishment"]
RECORDS = 150
START, END = dt.date(2020, 7, 1), dt.date(2020, 12, 31)


@cache
def packs() -> Any:
    return engine.load("policies/")


@cache
def population() -> Any:
    docs = Population(seed=3650).documents(RECORDS, roots=tuple(ROOTS))
    return facts_table((i, as_of, converted(doc)) for i, as_of, doc in docs)


def cases() -> list[tuple[str, str]]:
    return [
        (pid, name)
        for pid in ("keywork_edm", "omu_edm", "pmp")
        for name, out in packs()[pid].outputs.items()
        if not out.healthcare or out.releasable  # what a custodial audience sees
    ]


def by_day(con: Any, table: str, output: str) -> str:
    return (
        f'SELECT record, CAST(d AS DATE) AS day, "{output}" AS v FROM {table}, '
        "range(first_day, last_day + INTERVAL 1 DAY, INTERVAL 1 DAY) r(d)"
    )


@pytest.mark.parametrize(("pack_id", "output"), cases())
def test_change_points_equal_every_day(pack_id: str, output: str) -> None:
    p = plan(packs()[pack_id], output)
    if p.every_day is not None:
        assert not p.probes  # replayed day by day: nothing to compare but the fallback itself
    con = duckdb.connect()
    try:
        con.register("facts_arrow", population())
        con.execute("CREATE TABLE facts_mem AS SELECT * FROM facts_arrow")
        fast = replay(con, p, "facts_mem", ROOTS, START, END, "fast")
        slow = replay(con, p, "facts_mem", ROOTS, START, END, "slow", every_day=True)
        days = (END - START).days + 1
        assert slow == RECORDS * days
        assert fast <= slow
        if p.every_day is None and p.probes:
            assert fast < slow // 10  # a handful of days per record, not every day
        differ = con.execute(
            f"SELECT count(*), min(record) FROM ({by_day(con, 'fast', output)}) a "
            f"FULL JOIN ({by_day(con, 'slow', output)}) b USING (record, day) "
            "WHERE a.v IS DISTINCT FROM b.v OR a.day IS NULL OR b.day IS NULL"
        ).fetchone()
        assert differ is not None and differ[0] == 0, (
            f"{differ[0]} days differ, first record {differ[1]}"
        )
    finally:
        con.close()


def test_a_rolling_period_is_replayed_day_by_day() -> None:
    p = plan(packs()["keywork_edm"], "compliance")
    assert p.every_day is not None and "period_start" in p.every_day


def test_a_comparison_with_a_fact_date_is_a_probe() -> None:
    p = plan(packs()["keywork_edm"], "priority_groups")
    assert p.every_day is None and len(p.probes) == 4
    assert dt.date(2020, 6, 1) in p.boundaries


@pytest.mark.parametrize("output", ["priority_groups", "session_frequency"])
def test_change_points_across_the_start_of_a_version(output: str) -> None:
    p = plan(packs()["keywork_edm"], output)
    start, end = dt.date(2020, 5, 20), dt.date(2020, 8, 31)  # the pack is in force from 1 June
    con = duckdb.connect()
    try:
        con.register("facts_arrow", population())
        con.execute("CREATE TABLE facts_mem AS SELECT * FROM facts_arrow")
        replay(con, p, "facts_mem", ROOTS, start, end, "fast")
        replay(con, p, "facts_mem", ROOTS, start, end, "slow", every_day=True)
        firsts = {r[0] for r in con.execute("SELECT DISTINCT first_day FROM fast").fetchall()}
        assert dt.date(2020, 6, 1) in firsts  # the version boundary is a change point
        differ = con.execute(
            f"SELECT count(*) FROM ({by_day(con, 'fast', output)}) a "
            f"FULL JOIN ({by_day(con, 'slow', output)}) b USING (record, day) "
            "WHERE a.v IS DISTINCT FROM b.v OR a.day IS NULL OR b.day IS NULL"
        ).fetchone()
        assert differ == (0,)
    finally:
        con.close()
