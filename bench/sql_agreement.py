"""The SQL path against the interpreter for populations: what each record's decision is from
every day on (all fields: status, version, outputs, obligations, missing facts; for key work
also as the healthcare audience sees them), and whole impact reports, on generated
populations bigger than the test suite's. Prints `name: figure` lines (seconds are wall
clock: read them with the machine's load) and exits 1 on any disagreement.

    .venv/bin/python bench/sql_agreement.py [PEOPLE]
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import engine  # noqa: E402
from engine.tools.impact import Side, impact  # noqa: E402
from engine.tools.impact_sql import impact_sql  # noqa: E402
from engine.tools.population_source import read_population, subject_of  # noqa: E402
from engine.tools.population_sql import population_states  # noqa: E402
from engine.tools.sample_population import generate  # noqa: E402
from engine.tools.timeline import timeline  # noqa: E402

ID = "prisoner.prison_number"
PRISONER = ("establishment", "prisoner")


def _seen(states: list[tuple[dt.date, dict[str, Any]]]) -> list[tuple[dt.date, dict[str, Any]]]:
    """States with the fields that do not apply (None) left out, as both engines mean them."""
    return [(d, {k: v for k, v in s.items() if v is not None}) for d, s in states]


def states_case(
    name: str,
    pack: Any,
    people: list[dict],
    start: dt.date,
    end: dt.date,
    audience: str = "custodial",
) -> int:
    began = time.perf_counter()
    run = population_states(pack, people, start, end, audience, ID)
    sql_s = time.perf_counter() - began
    began = time.perf_counter()
    python = [timeline(pack, d, start, end, audience).states() for d in people]
    py_s = time.perf_counter() - began
    by_record = {r.record: r for r in run.records}
    bad = 0
    points = 0
    for n, states in enumerate(python, 1):
        rec = by_record.get(n)
        points += len(states) - 1
        if rec is None or rec.subject != subject_of(people[n - 1], ID):
            bad += 1
        elif _seen(rec.states) != _seen(states):
            bad += 1
            if bad <= 3:
                print(f"  {name}: {rec.subject} differs", file=sys.stderr)
    days = (end - start).days + 1
    print(f"sql_agreement.{name}.documents: {len(people)}")
    print(f"sql_agreement.{name}.document_days: {len(people) * days}")
    print(f"sql_agreement.{name}.rejected: {run.rejected}")
    print(f"sql_agreement.{name}.change_points: {points}")
    print(f"sql_agreement.{name}.disagreements: {bad}")
    print(f"sql_agreement.{name}.duckdb_seconds: {sql_s:.1f}")
    print(f"sql_agreement.{name}.python_seconds: {py_s:.1f}")
    return bad


def impact_case(
    name: str, old: Side, new: Side, people: list[dict], start: dt.date, end: dt.date
) -> int:
    began = time.perf_counter()
    sql = impact_sql(old, new, people, start, end, "custodial", ID).to_dict()
    sql_s = time.perf_counter() - began
    began = time.perf_counter()
    python = impact(old, new, people, start, end, "custodial", lambda f: subject_of(f, ID))
    py_s = time.perf_counter() - began
    expected = python.to_dict()
    sql.pop("engine")
    expected.pop("engine")
    bad = int(sql != expected)
    print(f"sql_agreement.{name}.documents: {expected['documents']}")
    print(f"sql_agreement.{name}.decisions_compared: {expected['decisions_compared']}")
    print(f"sql_agreement.{name}.decisions_changed: {expected['decisions_changed']}")
    print(f"sql_agreement.{name}.documents_changed: {expected['documents_changed']}")
    print(f"sql_agreement.{name}.reports_differ: {bad}")
    print(f"sql_agreement.{name}.duckdb_seconds: {sql_s:.1f}")
    print(f"sql_agreement.{name}.python_seconds: {py_s:.1f}")
    return bad


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    packs = engine.load(ROOT / "policies")
    kw, omu, pmp = packs["keywork_edm"], packs["omu_edm"], packs["pmp"]
    kw_people = generate(n, seed=41, centre=dt.date(2020, 9, 1), spread_days=200, roots=PRISONER)
    pmp_people = generate(n, seed=42, centre=dt.date(2022, 11, 1), spread_days=200, roots=PRISONER)
    bad = states_case(
        "keywork_edm_states", kw, kw_people, dt.date(2020, 7, 1), dt.date(2020, 9, 29)
    )
    bad += states_case("omu_edm_states", omu, kw_people, dt.date(2020, 7, 1), dt.date(2020, 9, 29))
    bad += states_case("pmp_states", pmp, pmp_people, dt.date(2022, 10, 1), dt.date(2022, 12, 29))
    bad += states_case(
        "keywork_edm_healthcare_states",
        kw,
        kw_people,
        dt.date(2020, 7, 1),
        dt.date(2020, 9, 29),
        "healthcare",
    )
    bad += impact_case(
        "pmp_v1_v2",
        Side(pmp, "1", "version 1"),
        Side(pmp, "2", "version 2"),
        pmp_people,
        dt.date(2022, 10, 1),
        dt.date(2022, 12, 29),
    )
    example = read_population(ROOT / "examples" / "population" / "keywork_2020.jsonl")
    side = Side(kw, "1", "version 1")
    bad += impact_case(
        "keywork_2020_example", side, side, example, dt.date(2020, 6, 1), dt.date(2020, 12, 31)
    )
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
