"""Seeded action-plan facts documents that visit the edges a plan check turns on.

`Population` draws any facts schema field by field; an action plan needs more shape than
that: target months whose last day falls just before, on or just after `as_of` and the
submission date, completion dates on the boundary days, recommendation numbers that repeat,
summary tables that agree, disagree, are missing or are known not to be printed, and lists
empty, short and long. Every optional field is sometimes absent (not known), sometimes null
(a known none where the schema says so) and otherwise a value. The same seed gives the same
documents.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

from engine.language.runtime import add_months

AS_OF_DAYS = (
    dt.date(2019, 3, 31),
    dt.date(2019, 4, 30),
    dt.date(2019, 4, 29),
    dt.date(2019, 5, 1),
    dt.date(2019, 6, 1),
    dt.date(2019, 12, 31),
    dt.date(2020, 2, 28),
    dt.date(2020, 2, 29),
    dt.date(2020, 3, 1),
    dt.date(2018, 12, 16),  # before the framework is in force
    dt.date(2018, 12, 17),
)
LIST_LENGTHS = (0, 1, 1, 2, 3, 5, 8, 26)
ACTION_COUNTS = (0, 1, 1, 2, 3, 6)
RESPONSES = ("agreed", "partly_agreed", "not_agreed")
STATUSES = ("month", "month", "completed", "ongoing", "none")
NUMBERS = tuple(f"6.{i}" for i in range(1, 13)) + tuple(str(i) for i in range(1, 6))
OWNERS = ("Governor", "Head of Healthcare", "Prison Group Director", "NHS England")
TEXTS = ("Policy reasons.", "A national contract.", "Not funded.", "")
REASONS = TEXTS[:-1]  # a reason or implemented part is a text or null, never empty


def month_end(d: dt.date) -> dt.date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


class PlanPopulation:
    """Action-plan facts documents (root `action_plan`) from a seeded random source."""

    def __init__(self, seed: int = 0, absent: float = 0.1, null: float = 0.1):
        self.rng = random.Random(seed)
        self.absent = absent
        self.null = null

    def _maybe(self, out: dict[str, Any], key: str, make: Any, nullable: bool = True) -> None:
        """Set `key` to a value, to null (when the schema allows) or leave it absent."""
        r = self.rng.random()
        if r < self.absent:
            return
        if nullable and r < self.absent + self.null:
            out[key] = None
            return
        out[key] = make()

    def day_near(self, d: dt.date) -> dt.date:
        """A boundary day around `d`: the day itself, either side, a week or a month away."""
        offset = self.rng.choice((0, 0, 1, -1, 7, -7, 30, -30, 31, -31))
        return d + dt.timedelta(days=offset)

    def target_month(self, as_of: dt.date, submitted: dt.date | None) -> str:
        """A month whose last day is just before, on or after `as_of` or the submission."""
        base = submitted if submitted is not None and self.rng.random() < 0.3 else as_of
        month = add_months(base.replace(day=1), self.rng.choice((-2, -1, -1, 0, 0, 0, 1, 1, 2)))
        return f"{month.year:04d}-{month.month:02d}"

    def action(self, as_of: dt.date, submitted: dt.date | None) -> dict[str, Any]:
        rng = self.rng
        status = rng.choice(STATUSES)
        a: dict[str, Any] = {
            "owners": rng.sample(OWNERS, rng.choice((0, 1, 1, 2, 3))),
            "target_status": status,
        }
        self._maybe(a, "description", lambda: rng.choice(TEXTS))
        if status == "month":
            a["target_month"] = self.target_month(as_of, submitted)
        elif rng.random() < 0.5:
            a["target_month"] = None
        self._maybe(a, "target_text", lambda: rng.choice(("March 2019", "Ongoing", "Completed")))
        due = (
            month_end(dt.date.fromisoformat(a["target_month"] + "-01"))
            if status == "month"
            else as_of
        )
        self._maybe(a, "completed_on", lambda: self.day_near(rng.choice((due, as_of))).isoformat())
        self._maybe(a, "note", lambda: "A note.")
        return a

    def recommendation(self, as_of: dt.date, submitted: dt.date | None) -> dict[str, Any]:
        rng = self.rng
        r: dict[str, Any] = {
            "number": rng.choice(NUMBERS),
            "response": rng.choice(RESPONSES),
            "actions": [self.action(as_of, submitted) for _ in range(rng.choice(ACTION_COUNTS))],
        }
        for key in ("implemented_part", "reason"):
            self._maybe(r, key, lambda: rng.choice(REASONS))
        for key in ("layout_caveat", "addressee", "section"):
            self._maybe(r, key, lambda: rng.choice(TEXTS))
        self._maybe(r, "reason_category", lambda: rng.choice(("commissioning", "policy")))
        self._maybe(r, "main", lambda: rng.random() < 0.5)
        self._maybe(r, "response_text", lambda: rng.choice(TEXTS))
        return r

    def document(self) -> tuple[dt.date, dict[str, Any]]:
        """One facts document (without `as_of`) and the day it is evaluated on."""
        rng = self.rng
        as_of = rng.choice(AS_OF_DAYS)
        r = rng.random()
        if r < 0.02:
            return as_of, {}  # no plan at all: every output needs it
        if r < 0.04:
            return as_of, {"action_plan": None}
        plan: dict[str, Any] = {}
        submitted = self.day_near(add_months(as_of, -rng.choice((0, 1, 3))))
        self._maybe(plan, "submitted_on", submitted.isoformat)
        known_submitted = (
            dt.date.fromisoformat(plan["submitted_on"]) if plan.get("submitted_on") else None
        )
        self._maybe(plan, "kind", lambda: rng.choice(("establishment", "thematic")))
        self._maybe(plan, "establishment", lambda: "HMP Example")
        recs = [
            self.recommendation(as_of, known_submitted) for _ in range(rng.choice(LIST_LENGTHS))
        ]
        plan["recommendations"] = recs
        counts = {k: sum(1 for r in recs if r["response"] == k) for k in RESPONSES}
        counts["total"] = len(recs)

        def summary() -> dict[str, Any]:
            table: dict[str, Any] = {}
            for key, n in counts.items():
                self._maybe(table, key, lambda n=n: max(0, n + rng.choice((0, 0, 0, 1, -1))))
            return table

        # whether the plan prints a table: printed, known to print none (then no table is
        # given, or a null one), or not said
        printed = rng.choice(("printed", "printed", "none", None))
        if printed is not None:
            plan["summary_table"] = printed
        if printed == "none":
            if rng.random() < 0.5:
                plan["stated_summary"] = None
        else:
            self._maybe(plan, "stated_summary", summary)
        # whether the facts say the table given is the whole printed table (then a row
        # missing from it is one the table does not print), say it is not, or are silent
        self._maybe(plan, "stated_summary_whole", lambda: rng.random() < 0.7, nullable=False)
        return as_of, {"action_plan": plan}

    def documents(self, n: int) -> Iterator[tuple[int, dt.date, dict[str, Any]]]:
        for i in range(n):
            as_of, doc = self.document()
            yield i, as_of, doc
