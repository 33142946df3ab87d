"""Upcoming changes: who in a population sees an output change in the next days, and how.

Two engines give the same list. `python`: each document's change points, found by the
interpreter from the pack's date conditions (`timeline`). `duckdb`: every document decided on
every day of the window by the SQL path (`population_sql`), for whole establishments. Both
give, per document, what the audience sees from each day on; the changes of outputs between
consecutive states are what is listed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.packs import model as M
from engine.tools.population_source import placing
from engine.tools.population_sql import population_states
from engine.tools.timeline import timeline

State = dict[str, Any]


@dataclass
class Upcoming:
    """The output changes found, in date then subject order, and how they were found."""

    pack: str
    start: dt.date
    end: dt.date
    audience: str
    engine: str
    documents: int = 0
    changes: list[dict[str, Any]] = field(default_factory=list)
    rejected: int = 0
    reasons: list[str] = field(default_factory=list)
    engine_note: str | None = None  # why the interpreter decided when SQL could not

    @property
    def people(self) -> int:
        return len({c["subject"] for c in self.changes})

    def to_dict(self) -> dict[str, Any]:
        return {
            "pack": self.pack,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "audience": self.audience,
            "engine": self.engine,
            **({"engine_note": self.engine_note} if self.engine_note else {}),
            "documents": self.documents,
            "rejected": self.rejected,
            "changes": self.changes,
        }


def output_changes(subject: str, states: list[tuple[dt.date, State]]) -> list[dict[str, Any]]:
    """The days on which any output differs from the state before, with before and after."""
    found = []
    for (_, before), (on, after) in zip(states, states[1:], strict=False):
        keys = list(before) + [k for k in after if k not in before]
        changes = [
            {"field": k.removeprefix("outputs."), "before": before.get(k), "after": after.get(k)}
            for k in keys
            if k.startswith("outputs.") and before.get(k) != after.get(k)
        ]
        if changes:
            found.append({"subject": subject, "on": on.isoformat(), "changes": changes})
    return found


def _sorted(report: Upcoming) -> Upcoming:
    report.changes.sort(key=lambda f: (f["on"], f["subject"]))
    return report


def upcoming_python(
    pack: M.Pack,
    population: list[dict[str, Any]],
    start: dt.date,
    end: dt.date,
    audience: str,
    subject: Callable[[dict[str, Any]], str],
) -> Upcoming:
    """The interpreter's answer: change points per document."""
    report = Upcoming(pack.id, start, end, audience, "python", len(population))
    for n, facts in enumerate(population, 1):
        with placing(population, n):
            states = timeline(pack, facts, start, end, audience).states()
        report.changes += output_changes(subject(facts), states)
    return _sorted(report)


def upcoming_sql(
    pack: M.Pack,
    population: list[dict[str, Any]],
    start: dt.date,
    end: dt.date,
    audience: str,
    id_field: str,
) -> Upcoming:
    """The SQL path's answer: every day of the window decided by DuckDB. Raises
    `Unsupported` when the pack has no SQL form."""
    run = population_states(pack, population, start, end, audience, id_field)
    report = Upcoming(pack.id, start, end, audience, "duckdb", len(run.records))
    report.rejected, report.reasons = run.rejected, run.reasons
    for rec in run.records:
        report.changes += output_changes(rec.subject, rec.states)
    return _sorted(report)
