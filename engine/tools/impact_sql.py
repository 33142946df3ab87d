"""Impact of a change through the SQL path: both sides decided by DuckDB, day by day.

Each side (a pack, or one of its versions pinned as in force on every day) runs over the
same facts table through `engine.sql.batch.run_batch`; the days on which each record's
decision changes come back from SQL (`population_sql`) and are compared exactly as the
interpreter's change points are (`impact.summarise`). Only the rules responsible for a
difference are worked out by the interpreter, for the documents that differ and on the first
day of each stretch on which they do: the SQL rows carry decisions, not rule conditions.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from engine.tools.impact import Compared, Impact, Side, _responsible, summarise
from engine.tools.pinned_version import pin_version
from engine.tools.population_source import subject_of
from engine.tools.population_sql import SqlStates, sql_states, write_facts
from engine.tools.timeline import Days


class RecordMismatch(Exception):
    """The SQL rows and the documents disagree on which document a record is."""


def impact_sql(
    old: Side,
    new: Side,
    documents: list[dict[str, Any]],
    start: dt.date,
    end: dt.date,
    audience: str,
    id_field: str,
    tracked: str | None = None,
) -> Impact:
    """`impact.impact` with the decisions made by DuckDB over the same documents (each named
    by the value at the dotted path `id_field`)."""
    with tempfile.TemporaryDirectory(prefix="regime-impact-") as tmp:
        custodial = audience != "healthcare"
        path = Path(tmp) / "facts.parquet"
        facts = write_facts(documents, path, start, custodial, old.pack.facts)
        before = sql_states(
            pin_version(old.pack, old.version), facts, start, end, audience, id_field
        )
        same = old.pack is new.pack and old.version == new.version
        after = before
        if not same:
            new_pack = pin_version(new.pack, new.version)
            after = sql_states(new_pack, facts, start, end, audience, id_field)
    days: dict[int, tuple[Days, Days]] = {}

    def responsible(day: dt.date, record: int, subject: str) -> set[str]:
        if record not in days:
            doc = documents[record - 1]
            found = subject_of(doc, id_field)
            if found != subject:
                raise RecordMismatch(f"record {record} is `{subject}` in SQL, `{found}` here")
            days[record] = (
                Days(old.pack, doc, old.version, audience),
                Days(new.pack, doc, new.version, audience),
            )
        return _responsible(old, new, *days[record], day, audience)

    by_record = {r.record: r for r in after.records}
    compared = []
    for a in before.records:
        b = by_record.get(a.record)
        if b is not None:
            compared.append(
                Compared(
                    a.subject,
                    a.states,
                    b.states,
                    lambda day, r=a.record, s=a.subject: responsible(day, r, s),  # type: ignore[misc]
                )
            )
    report = Impact(old.pack.id, old.label, new.label, start, end, audience, engine="duckdb")
    _rejects(report, before, after)
    return summarise(report, compared, tracked)


def _rejects(report: Impact, *runs: SqlStates) -> None:
    report.rejected = max(r.rejected for r in runs)
    for run in runs:
        report.reasons += [r for r in run.reasons if r not in report.reasons]
