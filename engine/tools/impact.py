"""Impact of a change: two packs (or two versions of one) over the same population.

On one day, every document is evaluated under both sides. Over a range, each document's
change points under each side give what the audience sees on every day without evaluating
every day; the figures then count document-days. The report says how many decisions change,
the cross-table of before and after values for each output, the rules whose condition
differs, and example subjects (by identifier only) for each kind of change. Everything is
read from decisions made for the report's audience, so a custodial report carries nothing a
custodial decision would withhold.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from engine.packs import model as M
from engine.tools.population_source import placing
from engine.tools.timeline import Days, observable, show_field, timeline

EXAMPLES = 3


@dataclass(frozen=True)
class Side:
    """One side of the comparison: a pack, optionally one of its versions taken as in force."""

    pack: M.Pack
    version: str | None
    label: str


def show(value: Any) -> str:
    """A value as one short line of text (its JSON, or the text itself)."""
    if value is None:
        return "none"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@dataclass
class Impact:
    pack: str
    old: str
    new: str
    start: dt.date
    end: dt.date
    audience: str
    documents: int = 0
    decisions: int = 0  # document-days compared
    changed_decisions: int = 0
    changed_documents: int = 0
    crosstabs: dict[str, Counter[tuple[str, str]]] = field(default_factory=dict)
    kinds: dict[tuple[str, str, str], list[str]] = field(default_factory=dict)
    kind_counts: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    rules: Counter[str] = field(default_factory=Counter)
    tracked: str | None = None
    # by side ("before", "after"): documents per value of the tracked output each day, change
    # points per day, and documents per value of each output on the first day
    daily: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    change_dates: dict[str, Counter[dt.date]] = field(default_factory=dict)
    totals: dict[str, dict[str, Counter[str]]] = field(default_factory=dict)
    engine: str = "python"  # what made the decisions: python (the interpreter) or duckdb
    engine_note: str | None = None  # why the interpreter decided when SQL could not
    rejected: int = 0  # records (or record-days) the SQL path could not decide
    reasons: list[str] = field(default_factory=list)  # the first reasons why

    @property
    def single_day(self) -> bool:
        return self.start == self.end

    def to_dict(self) -> dict[str, Any]:
        return {
            "pack": self.pack,
            "old": self.old,
            "new": self.new,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "audience": self.audience,
            "engine": self.engine,
            **({"engine_note": self.engine_note} if self.engine_note else {}),
            "documents": self.documents,
            "rejected": self.rejected,
            "decisions_compared": self.decisions,
            "decisions_changed": self.changed_decisions,
            "documents_changed": self.changed_documents,
            "outputs": {
                name: [
                    {"before": b, "after": a, "count": n}
                    for (b, a), n in sorted(table.items(), key=lambda kv: (-kv[1], kv[0]))
                ]
                for name, table in self.crosstabs.items()
            },
            "changes": [
                {
                    "field": f,
                    "before": b,
                    "after": a,
                    "documents": self.kind_counts[(f, b, a)],
                    "examples": ids,
                }
                for (f, b, a), ids in sorted(self.kinds.items())
            ],
            "rules": dict(sorted(self.rules.items(), key=lambda kv: (-kv[1], kv[0]))),
            "tracked_output": self.tracked,
            "daily_counts": self.daily,
            "change_dates": {
                side: {d.isoformat(): n for d, n in sorted(c.items())}
                for side, c in self.change_dates.items()
            },
        }


def _segments(
    old: list[tuple[dt.date, dict[str, Any]]],
    new: list[tuple[dt.date, dict[str, Any]]],
    end: dt.date,
) -> Iterator[tuple[dt.date, int, dict[str, Any], dict[str, Any]]]:
    """Stretches of days on which neither side changes: start, length, the two states."""
    starts = sorted({d for d, _ in old} | {d for d, _ in new})
    # lengths, not the day after `end`: that day is past the calendar when `end` is its last
    lengths = [(b - a).days for a, b in itertools.pairwise(starts)]
    lengths.append((end - starts[-1]).days + 1)
    i = j = 0
    for day, length in zip(starts, lengths, strict=True):
        while i + 1 < len(old) and old[i + 1][0] <= day:
            i += 1
        while j + 1 < len(new) and new[j + 1][0] <= day:
            j += 1
        yield day, length, old[i][1], new[j][1]


def _shown_fields(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """The fields that differ between two sides (the version in force is what is compared,
    so it is not itself a difference)."""
    keys = list(a) + [k for k in b if k not in a]
    return [k for k in keys if k != "policy_version" and a.get(k) != b.get(k)]


def _responsible(old: Side, new: Side, da: Days, db: Days, day: dt.date, audience: str) -> set[str]:
    """Rules whose condition differs between the two sides on `day` (or that only one has)."""
    ea, eb = da.conditions(day), db.conditions(day)
    custodial = audience != "healthcare"
    found = set()
    ids = list(ea.rule_results) + [r for r in eb.rule_results if r not in ea.rule_results]
    for rid in ids:
        ra, rb = old.pack.rule(rid), new.pack.rule(rid)
        if custodial and any(r is not None and r.healthcare for r in (ra, rb)):
            continue
        a, b = ea.rule_results.get(rid), eb.rule_results.get(rid)
        if (a is True) != (b is True) or (a is False) != (b is False):
            found.add(rid)
    if ea.version.id != eb.version.id:
        found.add(f"version {ea.version.id} -> {eb.version.id}")
    return found


def _track_values(state: dict[str, Any], tracked: str | None) -> list[str]:
    if tracked is None:
        return []
    value = state.get(f"outputs.{tracked}")
    if value is None:
        return ["(undetermined)"]
    if isinstance(value, list):
        return [show(v) for v in value] or ["(empty)"]
    return [show(value)]


def pick_tracked(states: list[dict[str, Any]]) -> str | None:
    """The output to follow day by day when none is named: the first whose values are lists
    of names (groups), else the first true/false one."""
    lists, flags = [], []
    for state in states:
        for key, value in state.items():
            if not key.startswith("outputs."):
                continue
            name = key.removeprefix("outputs.")
            if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
                lists.append(name)
            elif isinstance(value, bool):
                flags.append(name)
    order = [k.removeprefix("outputs.") for k in (states[0] if states else {})]
    for group in (lists, flags):
        if group:
            return min(set(group), key=order.index)
    return None


@dataclass(frozen=True)
class Compared:
    """One document under both sides: what the audience sees from the first day and from
    each day it changes on (`Timeline.states()`), and the rules whose condition differs
    between the sides on a day (asked only for days on which the two sides differ)."""

    subject: str
    before: list[tuple[dt.date, dict[str, Any]]]
    after: list[tuple[dt.date, dict[str, Any]]]
    responsible: Callable[[dt.date], set[str]]


def impact(
    old: Side,
    new: Side,
    population: list[dict[str, Any]],
    start: dt.date,
    end: dt.date,
    audience: str = "custodial",
    subject: Callable[[dict[str, Any]], str] = lambda facts: "?",
    tracked: str | None = None,
) -> Impact:
    """Compare what the audience sees under `old` and `new` for every document, every day
    (the interpreter: each document's change points under each side)."""
    compared = []
    for n, facts in enumerate(population, 1):
        with placing(population, n):
            da = Days(old.pack, facts, old.version, audience)
            db = Days(new.pack, facts, new.version, audience)
        ta = timeline(
            old.pack, facts, start, end, audience, old.version, da, decimals_by_value=True
        )
        tb = timeline(
            new.pack, facts, start, end, audience, new.version, db, decimals_by_value=True
        )

        def responsible(day: dt.date, da: Days = da, db: Days = db) -> set[str]:
            return _responsible(old, new, da, db, day, audience)

        compared.append(Compared(subject(facts), ta.states(), tb.states(), responsible))
    report = Impact(old.pack.id, old.label, new.label, start, end, audience)
    return summarise(report, compared, tracked)


def summarise(report: Impact, compared: list[Compared], tracked: str | None = None) -> Impact:
    """Fill `report` from the documents compared, whichever engine made their states."""
    start, end = report.start, report.end
    n_days = (end - start).days + 1
    if tracked is None:
        tracked = pick_tracked([c.before[0][1] for c in compared[:50]])
    report.tracked = tracked
    for side in ("before", "after"):
        report.daily[side] = defaultdict(lambda: [0] * n_days)
        report.change_dates[side] = Counter()
        report.totals[side] = defaultdict(Counter)
    for doc in compared:
        report.documents += 1
        changed = False
        seen_kinds: set[tuple[str, str, str]] = set()
        responsible: set[str] = set()
        for side, states in (("before", doc.before), ("after", doc.after)):
            for on, _ in states[1:]:
                report.change_dates[side][on] += 1
            for name, value in states[0][1].items():
                if name.startswith("outputs."):
                    report.totals[side][name.removeprefix("outputs.")][show(value)] += 1
        for day, length, sa, sb in _segments(doc.before, doc.after, end):
            offset = (day - start).days
            for side, state in (("before", sa), ("after", sb)):
                for value in _track_values(state, tracked):
                    counts = report.daily[side][value]
                    for k in range(offset, offset + length):
                        counts[k] += 1
            report.decisions += length
            fields = _shown_fields(sa, sb)
            if not fields:
                continue
            changed = True
            report.changed_decisions += length
            for f in fields:
                kind = (f, show_field(sa.get(f), f), show_field(sb.get(f), f))
                if f.startswith("outputs.") or f == "status":
                    name = f.removeprefix("outputs.")
                    report.crosstabs.setdefault(name, Counter())[kind[1:]] += length
                if kind not in seen_kinds:
                    seen_kinds.add(kind)
                    report.kind_counts[kind] += 1
                    examples = report.kinds.setdefault(kind, [])
                    if len(examples) < EXAMPLES:
                        examples.append(doc.subject)
            responsible |= doc.responsible(day)
        report.rules.update(responsible)  # documents, each counted once per rule
        report.changed_documents += changed
    report.daily = {side: dict(v) for side, v in report.daily.items()}
    return report


def check_against_two_runs(
    old: Side,
    new: Side,
    population: list[dict[str, Any]],
    day: dt.date,
    audience: str,
    decide: Callable[..., Iterator[Any]],
) -> tuple[int, int]:
    """An independent count of the decisions that differ on `day`: two whole evaluations of
    the population (one per side) through `decide`, compared document by document."""
    olds = decide(old.pack, population, day, audience, old.version)
    news = decide(new.pack, population, day, audience, new.version)
    compared = changed = 0
    for a, b in zip(olds, news, strict=True):
        compared += 1
        sa, sb = observable(a, decimals_by_value=True), observable(b, decimals_by_value=True)
        changed += bool(_shown_fields(sa, sb))
    return compared, changed
