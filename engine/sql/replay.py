"""A date range replayed on the days an output can change, not on every day.

An output that reads the evaluation date only through comparisons of `as_of` with a date
worked out from the facts (`as_of >= person.leaves_on - 4 weeks`), through parameters
and through the pack's versions is constant between the days those comparisons flip: a
comparison with a date `d` flips on `d` or on the day after, and parameters and versions
change on their boundaries. `engine.language.date_dependence` finds the comparisons; each
one's date becomes an extra column of the compiled query (a probe). The replay evaluates
the query on the first day of the range, reads the probes, adds the days they flip on, and
repeats on the new days until no day is added (a date that itself moves with a comparison is
probed again after it flips). The output is then constant on each segment from one of these
days to the day before the next, so the segments give every day's value exactly. Any other
use of the date (a rolling period, an age, a quantifier over dated items) makes the replay
evaluate every day instead, with the reason in `Plan.every_day`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from engine.language import date_dependence as D
from engine.language import syntax as A
from engine.packs import model as M
from engine.packs.date_shapes import ItemShapes, boundaries
from engine.sql.query import CompiledPack, PackCompiler

ONE = dt.timedelta(days=1)
MAX_ROUNDS = 32  # probing rounds before giving up on change points (each adds flipped days)


@dataclass
class Plan:
    """How to replay one output: the query (with its probes) and the fixed boundary days."""

    compiled: CompiledPack
    output: str
    probes: list[str] = field(default_factory=list)
    boundaries: set[dt.date] = field(default_factory=set)
    every_day: str | None = None  # why change points do not suffice (None: they do)


def _expressions(pack: M.Pack, key: str) -> Iterator[M.Expression]:
    """The expressions of one compiled item (`def:x`, `out:x`, `rule:x`, `table:x`)."""
    kind, _, name = key.partition(":")
    if kind == "def":
        yield pack.definitions[name].expr
    elif kind == "rule":
        rule = next(r for r in pack.rules if r.id == name)
        if rule.when is not None:
            yield rule.when
    elif kind == "table":
        yield from (e for _, e in pack.tables[name].inputs)
    elif kind == "out":
        out = pack.outputs[name]
        yield from (e for e in (out.expr, out.default) if e is not None)
        for rule in pack.rules:
            yield from (e for o, e in rule.sets if o == name)
        if out.mode == "table":
            for row in pack.tables[str(out.table)].rows:
                yield from (e for c, e in row.then if c == name)


def plan(pack: M.Pack, output: str, audience: str = "custodial") -> Plan:
    """The replay plan for one output of a pack (DuckDB), over a facts table `replay_facts`."""
    first = PackCompiler(pack, audience, facts_table="replay_facts", outputs=[output])
    if output not in first.compile().outputs:
        raise ValueError(f"output `{output}` is withheld from the {audience} audience")
    keys = [k for k in first.columns if not k.startswith("aux:")]
    shapes = ItemShapes(pack, lambda key: _expressions(pack, key))

    why: str | None = None
    probes: list[tuple[M.Expression, A.Node]] = []
    for key in keys:
        for e in _expressions(pack, key):
            found = shapes.analysis(e)
            if found.shape not in (D.FIXED, D.STEP):
                why = f"{key} {found.shape}: {'; '.join(found.opaque) or 'moves with the date'}"
            for site in found.sites:
                simple = (
                    site.kind == "compare"
                    and not site.bindings
                    and isinstance(site.moving, A.Name)
                    and site.moving.name == "as_of"
                    and site.other is not None
                )
                if not simple:
                    why = why or f"{key}: the date is used other than compared with a date"
                else:
                    assert site.other is not None
                    probes.append((e, site.other))
    # the replay reads the output and its probes only: no status, lists or lookups
    compiler = PackCompiler(
        pack, audience, facts_table="replay_facts", outputs=[output], values_only=True
    )
    names: list[str] = []
    if why is None:
        for i, (e, node) in enumerate(probes):
            name = f"probe__{i}"
            if compiler.probe(name, e, node).kind != "date":
                why = f"{name}: the date is compared with something not a date"
                break
            names.append(name)
    if why is not None:  # every day: the query without probes
        compiler = PackCompiler(
            pack, audience, facts_table="replay_facts", outputs=[output], values_only=True
        )
        names = []
    return Plan(compiler.compile(), output, names, boundaries(pack), why)


def replay(
    con: Any,
    p: Plan,
    facts: str,
    roots: list[str],
    start: dt.date,
    end: dt.date,
    into: str = "segments",
    every_day: bool = False,
) -> int:
    """Replay `p`'s output for every record of `facts` (a DuckDB table or view with `record` and
    the fact roots) from `start` to `end`: a table `into` of (record, first_day, last_day, the
    output) whose segments cover the range, the output constant on each. Returns the number
    of days evaluated (all records together)."""
    cols = ", ".join(f"f.{r}" for r in roots)
    day0 = f"DATE '{start.isoformat()}'"
    day_end = f"DATE '{end.isoformat()}'"
    if every_day or p.every_day is not None:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE replay_new AS SELECT record, CAST(d AS DATE) AS as_of "
            f"FROM {facts}, range({day0}, {day_end} + INTERVAL 1 DAY, INTERVAL 1 DAY) t(d)"
        )
    else:
        fixed = sorted(d for d in p.boundaries if start < d <= end)
        days = ", ".join([day0] + [f"DATE '{d.isoformat()}'" for d in fixed])
        con.execute(
            "CREATE OR REPLACE TEMP TABLE replay_new AS SELECT record, CAST(d AS DATE) AS as_of "
            f"FROM {facts}, unnest([{days}]) t(d)"
        )
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW replay_facts AS SELECT d.record, d.as_of, {cols} "
        f"FROM replay_new d JOIN {facts} f USING (record)"
    )
    query = p.compiled.sql(pretty=False)
    picked = ", ".join(["record", "as_of", f'"{p.output}"', *(f'"{n}"' for n in p.probes)])
    con.execute(f"CREATE OR REPLACE TEMP TABLE replay_rows AS SELECT {picked} FROM ({query})")
    evaluated = int(con.execute("SELECT count(*) FROM replay_new").fetchone()[0])
    rounds = 0
    while p.probes and p.every_day is None and not every_day:
        flips = ", ".join(f'"{n}", "{n}" + 1' for n in p.probes)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE replay_flips AS SELECT DISTINCT record, d AS as_of FROM "
            f"(SELECT record, unnest([{flips}]) AS d FROM replay_last) "
            f"WHERE d > {day0} AND d <= {day_end}"
            if rounds
            else "CREATE OR REPLACE TEMP TABLE replay_flips AS SELECT DISTINCT record, d AS as_of "
            f"FROM (SELECT record, unnest([{flips}]) AS d FROM replay_rows) "
            f"WHERE d > {day0} AND d <= {day_end}"
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE replay_new AS SELECT record, as_of FROM replay_flips "
            "ANTI JOIN replay_rows USING (record, as_of)"
        )
        added = int(con.execute("SELECT count(*) FROM replay_new").fetchone()[0])
        if not added:
            break
        rounds += 1
        if rounds > MAX_ROUNDS:
            raise RuntimeError("the change points of the replay do not settle")
        con.execute(f"CREATE OR REPLACE TEMP TABLE replay_last AS SELECT {picked} FROM ({query})")
        con.execute("INSERT INTO replay_rows SELECT * FROM replay_last")
        evaluated += added
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {into} AS SELECT record, as_of AS first_day, "
        f"COALESCE(CAST(lead(as_of) OVER (PARTITION BY record ORDER BY as_of) - 1 AS DATE), "
        f'{day_end}) AS last_day, "{p.output}" FROM replay_rows'
    )
    con.execute("DROP VIEW IF EXISTS replay_facts")
    for t in ("replay_rows", "replay_new", "replay_flips", "replay_last"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    return evaluated
