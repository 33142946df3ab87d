"""Benchmark: a generated population of 88,000 through the key work pack compiled to SQL.

Prints `name: figure` lines (wall-clock figures are best of several runs; on a shared
machine the process's CPU time is printed beside them as `...-cpu`, the time the query
actually ran, which the machine's load does not stretch):
- population-keywork-duckdb: decisions a second, one DuckDB thread, facts read from Parquet,
  into a table: every output of the pack, status, undetermined items, missing facts and
  obligations, as `regime batch` writes them;
  beside it, `population-keywork-duckdb-part-*`: seconds per part of one profiled run (read
  Parquet, the pack's items with their masks, the flat decision, the lists decoded once per
  distinct key and joined back, writing the result table), and the CPU seconds of reading,
  binding and planning the query (the same query over no facts: a cost that does not grow
  with the population, and that the profile's parts leave out), and of running it again
  prepared (EXECUTE of a prepared statement: DuckDB plans it again, so nothing is saved);
- population-keywork-duckdb-recorded: the same query over a population of the same size whose
  every fact is recorded (none absent, none null), beside the share of undetermined decisions
  in each: the generated population visits unknowns on purpose, and an unknown costs the query
  the work of finding which facts are missing;
- population-keywork-duckdb-output-<name>-cpu: CPU seconds for one output's value alone (with
  the definitions it reads), over the whole population: where the values' time goes;
- population-keywork-duckdb-values-only-cpu: decisions a second for the pack's outputs'
  values alone (no status, masks, undetermined items, missing facts or obligations), written
  as plain text (the whole decision writes its texts as codes);
- population-keywork-duckdb-floor-*: what reading, writing and planning cost whatever the
  query computes (a result of the same shape written from a typical row's values, the
  finished result copied, the facts read, planning per node of the query's tree, the values
  computed without writing them), and the ceiling they leave (see `floors`);
- population-vs-handwritten-sql: the generated query's `is_priority` alone (compiled with
  `values_only`: its value, no mask, status or lists, which is all the hand-written query
  computes) against a hand-written DuckDB query for the same rule, on the same table (ratio
  of best times;
  answers checked identical first, unknowns and known nones included; the two run by turns,
  11 times each, the CPU figure a ratio of medians); the ratio for the
  whole is_priority decision (with status, undetermined and missing facts) beside it;
- replay-year-keywork: seconds for every prisoner on every day of a year (32 million
  decisions), reduced to the first and last day (and number of days) in each priority group
  per prisoner, evaluated on each prisoner's change points only (`engine.sql.replay`); the
  peak memory of the process beside it; a sample of prisoners checked against the
  interpreter day by day. With `--every-day` the same year is also evaluated on every day
  (replay-year-keywork-every-day) and the two results are checked identical.
With `--population-only` the run stops after the population lines. With `--quick` (the test
suite's short form) 2,000 prisoners, run once each, without the parts and floors: the answers
are still checked against the hand-written query and the interpreter, and the run fails on any
difference.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import duckdb  # noqa: E402

import engine  # noqa: E402
from engine.sql.query import compile_pack  # noqa: E402
from engine.sql.replay import plan as replay_plan  # noqa: E402
from engine.sql.replay import replay  # noqa: E402
from engine.sql.run import converted, python_view  # noqa: E402
from engine.sql.session import set_up  # noqa: E402
from engine.tools.population import write_population  # noqa: E402

PRISONERS = 88_000
QUICK_PRISONERS = 2_000
AS_OF = dt.date(2020, 7, 20)
YEAR = (dt.date(2020, 7, 1), dt.date(2021, 6, 30))  # 365 days
SAMPLE = 4  # prisoners replayed through the interpreter too

# The rule as an analyst would write it for this table: SQL's own three-valued logic, a known
# "none" of a date stored as 0001-01-01 (the release date's only where the sentence makes a null
# one: docs/sql.md), an absent or unknown one as NULL.
HANDWRITTEN = """
SELECT record,
  (prisoner.acct = 'open')
  OR (prisoner.rosh IN ('HIGH', 'VERY_HIGH')
      AND (CASE WHEN prisoner.release_date = DATE '0001-01-01' THEN FALSE
                ELSE as_of >= prisoner.release_date - 28 END
           OR CASE WHEN prisoner.irmm_keywork_from = DATE '0001-01-01' THEN FALSE
                   ELSE as_of >= prisoner.irmm_keywork_from END))
  OR ((prisoner.tact OR prisoner.pathfinder_recommended)
      AND (CASE WHEN prisoner.release_date = DATE '0001-01-01' THEN FALSE
                ELSE as_of >= CAST(prisoner.release_date - INTERVAL 2 MONTH AS DATE) END
           OR CASE WHEN prisoner.pathfinder_keywork_from = DATE '0001-01-01' THEN FALSE
                   ELSE as_of >= prisoner.pathfinder_keywork_from END))
  OR prisoner.cev
  OR prisoner.governor_priority AS is_priority
FROM facts
"""


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def best(con: duckdb.DuckDBPyConnection, sql: str, runs: int = 3) -> tuple[float, float]:
    """The best wall-clock and the best CPU seconds of `runs` runs of a query into a table."""
    walls, cpus = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), cpu()
        con.execute(f"CREATE OR REPLACE TEMP TABLE bench_out AS {sql}")
        walls.append(time.perf_counter() - t)
        cpus.append(cpu() - c)
    return min(walls), min(cpus)


def alternated(
    con: duckdb.DuckDBPyConnection, a: str, b: str, runs: int
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Two queries into a table, run by turns (so a change in the machine's load falls on
    both alike): for each, its best wall-clock and its median CPU seconds."""
    times: dict[str, list[tuple[float, float]]] = {a: [], b: []}
    for i in range(runs):
        for sql in (a, b) if i % 2 == 0 else (b, a):
            t, c = time.perf_counter(), cpu()
            con.execute(f"CREATE OR REPLACE TEMP TABLE bench_out AS {sql}")
            times[sql].append((time.perf_counter() - t, cpu() - c))
    first, second = (
        (min(w for w, _ in times[q]), statistics.median(c for _, c in times[q])) for q in (a, b)
    )
    return first, second


def prepared(con: duckdb.DuckDBPyConnection, sql: str, runs: int = 5) -> float:
    """The median CPU seconds of EXECUTE of `sql` prepared once (over no facts: the cost of
    running a planned query again, whatever the rows)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE bench_prepared AS {sql} LIMIT 0")
    con.execute(f"PREPARE bench_query AS INSERT INTO bench_prepared {sql}")
    cpus = []
    for _ in range(runs):
        c = cpu()
        con.execute("EXECUTE bench_query")
        cpus.append(cpu() - c)
    con.execute("DEALLOCATE bench_query")
    return statistics.median(cpus)


def parts(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, float]:
    """Where one run of the query spends its time, from DuckDB's profile: seconds per part."""
    with tempfile.TemporaryDirectory(prefix="regime-profile-") as tmp:
        out = Path(tmp) / "profile.json"
        con.execute("PRAGMA enable_profiling = 'json'")
        con.execute(f"PRAGMA profiling_output = '{out}'")
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE bench_out AS {sql}")
        finally:
            con.execute("PRAGMA disable_profiling")
        tree = json.loads(out.read_text())
    got: dict[str, float] = {}

    def add(part: str, node: dict[str, Any]) -> None:
        got[part] = got.get(part, 0.0) + float(node.get("timing") or 0.0)

    def walk(node: dict[str, Any], where: str) -> None:
        kind = node.get("name", "")
        children = node.get("children", [])
        if kind == "READ_PARQUET":
            add("read Parquet", node)
        elif kind == "CREATE_TABLE_AS":
            add("write the result table", node)
        elif kind == "CTE":  # the flat decision, kept for the final select and the lookups
            add("keep the flat decision (materialised CTE)", node)
            walk(children[0], "flat")
            for c in children[1:]:
                walk(c, "final")
            return
        elif kind == "HASH_JOIN":
            add("join the decoded lists back", node)
            walk(children[0], where)
            for c in children[1:]:
                walk(c, "decode")
            return
        elif where == "flat":
            add("flat decision: scalars and bit keys", node)
            where = "items"
        elif where == "final" and kind == "PROJECTION":
            add("final select", node)
            for c in children:
                walk(c, "final" if c.get("name") == "HASH_JOIN" else "items")
            return
        elif where == "decode":
            add("decode lists once per distinct key", node)
        elif where == "items":
            add("items: definitions, rules, outputs, masks", node)
        else:
            add("other", node)
        for c in children:
            walk(c, where)

    for top in tree.get("children") or tree.get("operator") or []:
        walk(top, "final")
    return got


def floors(con: duckdb.DuckDBPyConnection, pack: Any, plan_cpu: float, values_cpu: float) -> None:
    """What this machine and this DuckDB spend on the 88,000 whatever the query computes: the
    floors under `population-keywork-duckdb`, printed as `population-keywork-duckdb-floor-*`.

    - write-same-shape: a table of the result's column names and types, one row per prisoner
      (the record ids read from the Parquet), each row a typical decision's values (its lists
      as long as the population's average lists): reading and writing alone;
    - copy-result: the finished result copied into a new table (writing alone, every cell as
      the query gives it);
    - read-facts: every fact field the query reads, read from the Parquet and counted;
    - plan: CPU seconds of planning a query per node of its sqlglot tree (fitted over the
      queries of each output of the pack, over no facts), the whole query's nodes, and the
      planning that many nodes cost;
    - values-computed: the outputs' values alone less writing them (copying their result);
    - ceiling: decisions a second were computing free: planning the whole query and writing
      a result of its shape, nothing else.
    """
    result = [r[:2] for r in con.execute("DESCRIBE keywork_result").fetchall()]
    lists = [n for n, t in result if t.endswith("[]")]
    averages = con.execute(
        "SELECT "
        + ", ".join(f'avg(coalesce(len("{n}"), 0))' for n in lists)
        + " FROM keywork_result"
    ).fetchone()
    distance = " + ".join(
        f'abs(coalesce(len("{n}"), 0) - {a})' for n, a in zip(lists, averages, strict=True)
    )
    con.execute(
        "CREATE TEMP TABLE typical AS SELECT * EXCLUDE (record, as_of) FROM keywork_result "
        f"ORDER BY {distance}, record LIMIT 1"
    )
    same_shape = "SELECT f.record, f.as_of, t.* FROM facts f CROSS JOIN typical t"
    con.execute(f"CREATE OR REPLACE TEMP TABLE bench_out AS {same_shape}")
    assert [r[:2] for r in con.execute("DESCRIBE bench_out").fetchall()] == result
    _, write_cpu = best(con, same_shape, 5)
    print(f"population-keywork-duckdb-floor-write-same-shape-cpu: {write_cpu:.3f} s")
    _, copy_cpu = best(con, "SELECT * FROM keywork_result", 5)
    print(f"population-keywork-duckdb-floor-copy-result-cpu: {copy_cpu:.3f} s")
    compiled = compile_pack(pack)
    fields = [p for p in compiled.paths if "[]" not in p]
    read = "SELECT " + ", ".join(f"count({p})" for p in fields) + " FROM facts"
    _, read_cpu = best(con, f"SELECT * FROM ({read})", 5)
    print(f"population-keywork-duckdb-floor-read-facts-cpu: {read_cpu:.3f} s")
    nodes, plans = [], []
    for output in pack.outputs:
        one = compile_pack(pack, outputs=[output], facts_table="no_facts")
        nodes.append(sum(1 for _ in one.query.walk()))
        plans.append(best(con, one.sql(pretty=False), 3)[1])
    per_node, _ = statistics.linear_regression(nodes, plans)
    whole = sum(1 for _ in compiled.query.walk())
    print(f"population-keywork-duckdb-floor-plan-us-per-node: {per_node * 1e6:.1f}")
    print(f"population-keywork-duckdb-floor-plan-nodes: {whole}")
    print(f"population-keywork-duckdb-floor-plan-cpu: {per_node * whole:.3f} s")
    _, values_copy = best(con, "SELECT * FROM values_result", 5)
    print(f"population-keywork-duckdb-floor-values-computed-cpu: {values_cpu - values_copy:.3f} s")
    ceiling = PRISONERS / (plan_cpu + write_cpu)
    print(f"population-keywork-duckdb-floor-ceiling-cpu: {ceiling:,.0f}")


SPANS = (
    "SELECT record, grp, min(first_day) AS first_day, max(last_day) AS last_day, "
    "sum(last_day - first_day + 1) AS days FROM (SELECT record, first_day, last_day, "
    "unnest(priority_groups) AS grp FROM {segments}) GROUP BY record, grp"
)


def population_parts(con: duckdb.DuckDBPyConnection, pack: Any, full: str) -> None:
    """Where the whole decision's time goes, and the floors under it (not in `--quick`)."""
    # part by part, from DuckDB's own profile of one more run
    for part, seconds in sorted(parts(con, full).items(), key=lambda kv: -kv[1]):
        slug = "-".join(w for w in re.split(r"[^a-z]+", part.lower()) if w)
        print(f"population-keywork-duckdb-part-{slug}: {seconds:.3f} s")
    # what the profile leaves out: reading, binding and planning the query, the same
    # whatever the number of rows (the query over no facts at all)
    con.execute("CREATE TABLE no_facts AS SELECT * FROM facts LIMIT 0")
    empty = compile_pack(pack, facts_table="no_facts").sql(pretty=False)
    _, plan_cpu = best(con, empty, 5)
    print(f"population-keywork-duckdb-part-plan-the-query-cpu: {plan_cpu:.3f} s")
    # planned once and run again: DuckDB binds and optimises a prepared statement again
    # on every EXECUTE, so it saves nothing here (a date range is one query, planned once)
    print(f"population-keywork-duckdb-part-plan-prepared-cpu: {prepared(con, empty):.3f} s")
    # the floor of the pack's values alone (no status, masks, lists), for comparison
    values = compile_pack(pack, values_only=True).sql(pretty=False)
    _, values_cpu = best(con, values)
    print(f"population-keywork-duckdb-values-only-cpu: {PRISONERS / values_cpu:,.0f}")
    con.execute("CREATE TEMP TABLE values_result AS SELECT * FROM bench_out")
    floors(con, pack, plan_cpu, values_cpu)
    # each output's value alone (with the definitions it reads): which of them the time goes to
    for name in pack.outputs:
        alone = compile_pack(pack, outputs=[name], values_only=True).sql(pretty=False)
        _, cpu_s = best(con, alone)
        print(f"population-keywork-duckdb-output-{name.replace('_', '-')}-cpu: {cpu_s:.3f} s")


def recorded_population(
    con: duckdb.DuckDBPyConnection, full: str, tmp: Path, src: str, prisoners: int
) -> None:
    """The same query over a population whose every fact is recorded (none absent, none
    null): the generated population visits the unknowns on purpose (most of its decisions are
    undetermined), and working out which facts are missing is much of the query's work."""
    shares = con.execute(
        "SELECT count(*) FILTER (WHERE status = 'undetermined') / count(*) FROM keywork_result"
    ).fetchone()[0]
    path = tmp / "recorded.parquet"
    write_population(path, prisoners, seed=88, roots=("prisoner", "establishment"), recorded=True)
    con.execute(
        f"CREATE OR REPLACE VIEW facts AS SELECT record, DATE '{AS_OF}' AS as_of, prisoner, "
        f"establishment FROM read_parquet('{path}')"
    )
    wall, used = best(con, full)
    undetermined = con.execute(
        "SELECT count(*) FILTER (WHERE status = 'undetermined') / count(*) FROM bench_out"
    ).fetchone()[0]
    con.execute(
        f"CREATE OR REPLACE VIEW facts AS SELECT record, DATE '{AS_OF}' AS as_of, prisoner, "
        f"establishment FROM {src}"
    )
    print(f"population-keywork-duckdb-undetermined-share: {shares:.2f}")
    print(f"population-keywork-duckdb-recorded: {prisoners / wall:,.0f}")
    print(f"population-keywork-duckdb-recorded-cpu: {prisoners / used:,.0f}")
    print(f"population-keywork-duckdb-recorded-undetermined-share: {undetermined:.2f}")


def main() -> None:
    every_day = "--every-day" in sys.argv[1:]
    quick = "--quick" in sys.argv[1:]
    prisoners = QUICK_PRISONERS if quick else PRISONERS
    runs = 1 if quick else 11
    packs = engine.load(Path(__file__).resolve().parent.parent / "policies")
    pack = packs["keywork_edm"]
    print(f"load: {os.getloadavg()[0]:.2f} (1-minute average at the start)")
    with tempfile.TemporaryDirectory(prefix="regime-bench-") as tmp:
        pq = Path(tmp) / "population.parquet"
        write_population(pq, prisoners, seed=88, roots=("prisoner", "establishment"))
        src = f"read_parquet('{pq}')"
        con = duckdb.connect()
        set_up(con)  # as `regime batch` sets its connection up
        con.execute("SET threads = 1")
        con.execute(
            f"CREATE VIEW facts AS SELECT record, DATE '{AS_OF}' AS as_of, prisoner, "
            f"establishment FROM {src}"
        )
        full = compile_pack(pack).sql(pretty=False)
        wall, used = best(con, full)
        rows = con.execute("SELECT count(*) FROM bench_out").fetchone()[0]
        assert rows == prisoners
        con.execute("CREATE TEMP TABLE keywork_result AS SELECT * FROM bench_out")
        print(f"population: {prisoners:,} generated prisoners, Parquet, one DuckDB thread")
        print(f"population-keywork-duckdb: {prisoners / wall:,.0f}")
        print(f"population-keywork-duckdb-cpu: {prisoners / used:,.0f}")
        if not quick:
            recorded_population(con, full, Path(tmp), src, prisoners)
            population_parts(con, pack, full)
        if "--population-only" in sys.argv[1:]:
            con.close()
            return

        con.execute(
            f"CREATE TABLE facts_mem AS SELECT record, DATE '{AS_OF}' AS as_of, prisoner, "
            f"establishment FROM {src}"
        )
        con.execute("CREATE OR REPLACE VIEW facts AS SELECT * FROM facts_mem")
        # the generated query's is_priority alone: its value and nothing else of a decision
        # (no mask, no status, no lists), as the hand-written query computes it
        alone = compile_pack(pack, outputs=["is_priority"], values_only=True).sql(pretty=False)
        query = compile_pack(pack, outputs=["is_priority"]).sql(pretty=False)
        generated = f"SELECT record, is_priority FROM ({alone})"
        differ = con.execute(
            f"SELECT count(*) FROM ({generated}) g FULL JOIN ({HANDWRITTEN}) h USING (record) "
            "WHERE g.is_priority IS DISTINCT FROM h.is_priority"
        ).fetchone()[0]
        (g_wall, g_cpu), (h_wall, h_cpu) = alternated(con, generated, HANDWRITTEN, runs)
        same = "yes" if not differ else f"NO ({differ})"
        print(f"is_priority answers identical to the hand-written query: {same}")
        print(f"population-vs-handwritten-sql: {g_wall / h_wall:.2f}x")
        print(f"population-vs-handwritten-sql-cpu: {g_cpu / h_cpu:.2f}x")
        # the whole decision for is_priority (status, undetermined, missing facts), which the
        # hand-written query does not compute: for information beside the ratio above
        _, d_cpu = best(con, query, 1 if quick else 5)
        print(f"population-vs-handwritten-sql-whole-decision-cpu: {d_cpu / h_cpu:.2f}x")

        con.execute("RESET threads")
        con.execute("RESET disabled_optimizers")  # the replay's own queries, as before
        con.execute("SET memory_limit = '3GB'")
        con.execute(
            "CREATE TABLE prisoners AS SELECT record, prisoner, establishment FROM facts_mem"
        )
        roots = ["prisoner", "establishment"]
        t, c = time.perf_counter(), cpu()
        plan = replay_plan(pack, "priority_groups")
        evaluated = replay(con, plan, "prisoners", roots, YEAR[0], YEAR[1], "segments")
        con.execute(f"CREATE TEMP TABLE spans AS {SPANS.format(segments='segments')}")
        replay_s, replay_cpu = time.perf_counter() - t, cpu() - c
        spans = con.execute("SELECT count(*) FROM spans").fetchone()[0]
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
        mismatches = check_sample(con, pack)
        days = (YEAR[1] - YEAR[0]).days + 1
        print(
            f"replay: {prisoners:,} prisoners x {days} days = {prisoners * days:,} decisions, "
            f"{evaluated:,} evaluated (change points), {spans:,} group spans; {SAMPLE} "
            "prisoners replayed by the interpreter: "
            f"{'identical' if not mismatches else f'{mismatches} DIFFER'}"
        )
        print(f"replay-year-keywork: {replay_s:.1f}")
        print(f"replay-year-keywork-cpu: {replay_cpu:.1f}")
        print(f"replay-year-keywork-peak-memory: {peak:.2f} GiB")
        differ_days = 0
        if every_day:
            query = compile_pack(pack, outputs=["priority_groups"], values_only=True).sql(
                pretty=False
            )
            con.execute(
                "CREATE OR REPLACE VIEW facts AS SELECT f.record, d.as_of, f.prisoner, "
                "f.establishment FROM prisoners f CROSS JOIN (SELECT CAST(range AS DATE) AS "
                f"as_of FROM range(DATE '{YEAR[0]}', DATE '{YEAR[1]}' + INTERVAL 1 DAY, "
                "INTERVAL 1 DAY)) d"
            )
            t, c = time.perf_counter(), cpu()
            con.execute(
                "CREATE TEMP TABLE spans_every_day AS SELECT record, grp, min(as_of) AS "
                "first_day, max(as_of) AS last_day, count(*) AS days FROM (SELECT record, "
                f"as_of, unnest(priority_groups) AS grp FROM ({query})) GROUP BY record, grp"
            )
            slow_s, slow_cpu = time.perf_counter() - t, cpu() - c
            differ_days = con.execute(
                "SELECT count(*) FROM spans a FULL JOIN spans_every_day b USING (record, grp) "
                "WHERE a.first_day IS DISTINCT FROM b.first_day "
                "OR a.last_day IS DISTINCT FROM b.last_day OR a.days IS DISTINCT FROM b.days"
            ).fetchone()[0]
            verdict = "yes" if not differ_days else f"NO ({differ_days})"
            print(f"every-day spans identical to change-point spans: {verdict}")
            print(f"replay-year-keywork-every-day: {slow_s:.1f}")
            print(f"replay-year-keywork-every-day-cpu: {slow_cpu:.1f}")
        con.close()
        if differ or mismatches or differ_days:
            raise SystemExit(1)


def check_sample(con: duckdb.DuckDBPyConnection, pack: Any) -> int:
    """Prisoners whose spans differ from the interpreter's, day by day over the year."""
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
    return mismatches


if __name__ == "__main__":
    main()
