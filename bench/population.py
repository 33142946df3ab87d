"""Benchmark: a generated population of 88,000 through the key work pack compiled to SQL.

Prints `name: figure` lines:
- population-keywork-duckdb: decisions a second, every output of the pack, one DuckDB
  thread, facts read from Parquet (best of three runs);
- population-vs-handwritten-sql: the generated query for `is_priority` alone (with its
  status and missing facts) against a hand-written DuckDB query for the same rule, on the
  same table (ratio of best times; answers checked equal first);
- replay-year-keywork: seconds for every prisoner on every day of a year (32 million
  decisions), reduced to the first and last day in each priority group per prisoner; the
  peak memory of the process beside it; a sample of prisoners checked against the
  interpreter day by day.
"""

from __future__ import annotations

import datetime as dt
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import duckdb  # noqa: E402

import engine  # noqa: E402
from engine.sql.query import compile_pack  # noqa: E402
from engine.sql.run import converted, python_view  # noqa: E402
from engine.tools.population import write_population  # noqa: E402

PRISONERS = 88_000
AS_OF = dt.date(2020, 7, 20)
YEAR = (dt.date(2020, 7, 1), dt.date(2021, 6, 30))  # 365 days
SAMPLE = 4  # prisoners replayed through the interpreter too

HANDWRITTEN = """
SELECT record,
  (prisoner.acct = 'open')
  OR (prisoner.rosh IN ('HIGH', 'VERY_HIGH')
      AND ((prisoner.release_date IS NOT NULL AND as_of >= prisoner.release_date - 28)
           OR (prisoner.irmm_keywork_from IS NOT NULL AND as_of >= prisoner.irmm_keywork_from)))
  OR ((prisoner.tact OR prisoner.pathfinder_recommended)
      AND ((prisoner.release_date IS NOT NULL
            AND as_of >= CAST(prisoner.release_date - INTERVAL 2 MONTH AS DATE))
           OR (prisoner.pathfinder_keywork_from IS NOT NULL
               AND as_of >= prisoner.pathfinder_keywork_from)))
  OR prisoner.cev
  OR prisoner.governor_priority AS is_priority
FROM facts
"""


def best(con: duckdb.DuckDBPyConnection, sql: str, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        con.execute(f"CREATE OR REPLACE TEMP TABLE bench_out AS {sql}")
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    packs = engine.load(Path(__file__).resolve().parent.parent / "policies")
    pack = packs["keywork_edm"]
    with tempfile.TemporaryDirectory(prefix="regime-bench-") as tmp:
        pq = Path(tmp) / "population.parquet"
        write_population(pq, PRISONERS, seed=88, roots=("prisoner", "establishment"))
        src = f"read_parquet('{pq}')"
        con = duckdb.connect()
        con.execute("SET threads = 1")
        con.execute(
            f"CREATE VIEW facts AS SELECT record, DATE '{AS_OF}' AS as_of, prisoner, "
            f"establishment FROM {src}"
        )
        full = compile_pack(pack).sql(pretty=False)
        seconds = best(con, full)
        rows = con.execute("SELECT count(*) FROM bench_out").fetchone()[0]
        assert rows == PRISONERS
        print(f"population: {PRISONERS:,} generated prisoners, Parquet, one DuckDB thread")
        print(f"population-keywork-duckdb: {PRISONERS / seconds:,.0f}")

        con.execute(
            f"CREATE TABLE facts_mem AS SELECT record, DATE '{AS_OF}' AS as_of, prisoner, "
            f"establishment FROM {src}"
        )
        con.execute("CREATE OR REPLACE VIEW facts AS SELECT * FROM facts_mem")
        generated = compile_pack(pack, outputs=["is_priority"]).sql(pretty=False)
        differ = con.execute(
            f"SELECT count(*) FROM ({generated}) g JOIN ({HANDWRITTEN}) h USING (record) "
            "WHERE g.is_priority IS DISTINCT FROM h.is_priority"
        ).fetchone()[0]
        t_gen = best(con, generated, 5)
        t_hand = best(con, HANDWRITTEN, 5)
        same = "yes" if not differ else f"NO ({differ})"
        print(f"is_priority answers identical to the hand-written query: {same}")
        print(f"population-vs-handwritten-sql: {t_gen / t_hand:.2f}x")

        con.execute("RESET threads")
        con.execute("SET memory_limit = '3GB'")
        replay = compile_pack(pack, outputs=["priority_groups"]).sql(pretty=False)
        con.execute(
            "CREATE OR REPLACE VIEW facts AS SELECT f.record, d.as_of, f.prisoner, "
            f"f.establishment FROM facts_mem f CROSS JOIN (SELECT CAST(range AS DATE) AS as_of "
            f"FROM range(DATE '{YEAR[0]}', DATE '{YEAR[1]}' + INTERVAL 1 DAY, INTERVAL 1 DAY)) d"
        )
        t = time.perf_counter()
        con.execute(
            "CREATE TEMP TABLE spans AS SELECT record, grp, min(as_of) AS first_day, "
            "max(as_of) AS last_day, count(*) AS days FROM (SELECT record, as_of, "
            f"unnest(priority_groups) AS grp FROM ({replay})) GROUP BY record, grp"
        )
        replay_s = time.perf_counter() - t
        spans = con.execute("SELECT count(*) FROM spans").fetchone()[0]
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
        # the interpreter agrees on a sample of prisoners, day by day
        sample = con.execute(
            f"SELECT record FROM facts_mem ORDER BY hash(record) LIMIT {SAMPLE}"
        ).fetchall()
        mismatches = 0
        for (rid,) in sample:
            doc = con.execute(
                f"SELECT prisoner, establishment FROM facts_mem WHERE record = {rid}"
            ).fetchone()
            facts = converted({"prisoner": doc[0], "establishment": doc[1]})
            got = {
                (g, first, last, n)
                for g, first, last, n in con.execute(
                    f"SELECT grp, first_day, last_day, days FROM spans WHERE record = {rid}"
                ).fetchall()
            }
            days: dict[str, list[dt.date]] = {}
            day = YEAR[0]
            while day <= YEAR[1]:
                view = python_view(pack, facts, day, ["priority_groups"])
                for g in (view or {}).get("outputs", {}).get("priority_groups") or []:
                    days.setdefault(g, []).append(day)
                day += dt.timedelta(days=1)
            want = {(g, min(ds), max(ds), len(ds)) for g, ds in days.items()}
            mismatches += got != want
        print(
            f"replay: {PRISONERS:,} prisoners x 365 days = {PRISONERS * 365:,} decisions, "
            f"{spans:,} group spans; {SAMPLE} prisoners replayed by the interpreter: "
            f"{'identical' if not mismatches else f'{mismatches} DIFFER'}"
        )
        print(f"replay-year-keywork: {replay_s:.1f}")
        print(f"replay-year-keywork-peak-memory: {peak:.2f} GiB")
        con.close()
        if differ or mismatches:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
