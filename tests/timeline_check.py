"""Change points against day-by-day evaluation on generated facts: shared by the test suite
(a sample) and `make timeline-check` (a bigger run)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from engine.packs.model import Pack
from engine.tools.sample_population import generate
from engine.tools.timeline import daily_changes, timeline

# a year inside each pack's versions (for the PMP, across the change from version 1 to 2)
RANGES = {
    "keywork_edm": (dt.date(2020, 6, 1), dt.date(2021, 5, 31)),
    "omu_edm": (dt.date(2020, 6, 1), dt.date(2021, 5, 31)),
    "pmp": (dt.date(2022, 5, 3), dt.date(2023, 5, 2)),
    "action_plan": (dt.date(2019, 1, 1), dt.date(2019, 12, 31)),
}


def roots_for(pack: Pack) -> tuple[str, ...]:
    """The fact roots a pack's expressions read (so a generated document fits the pack)."""
    found: set[str] = set()
    for d in pack.definitions.values():
        found |= d.expr.checked.roots
    for r in pack.rules:
        if r.when is not None:
            found |= r.when.checked.roots
    for o in pack.outputs.values():
        if o.expr is not None:
            found |= o.expr.checked.roots
    return tuple(sorted(found))


@dataclass
class Tally:
    documents: int = 0
    days: int = 0
    change_points: int = 0
    candidates: int = 0
    evaluated: int = 0
    disagreements: list[str] = field(default_factory=list)


def check_pack(pack: Pack, count: int, seed: int = 2020) -> Tally:
    """Generate `count` documents and compare change points with every day's decision, for
    each audience that can see something different (healthcare only where the pack reads
    healthcare-only facts)."""
    start, end = RANGES[pack.id]
    centre = start + (end - start) / 2
    tally = Tally()
    for i, facts in enumerate(generate(count, seed, centre, 240, roots_for(pack))):
        audiences = ("custodial", "healthcare") if pack.healthcare_names else ("custodial",)
        for audience in audiences:
            tl = timeline(pack, facts, start, end, audience)
            truth = daily_changes(pack, facts, start, end, audience)
            got = [(p.on, p.changes) for p in tl.points]
            if got != truth:
                tally.disagreements.append(
                    f"{pack.id} document {i} ({audience}): change points "
                    f"{[str(d) for d, _ in got]} but day by day {[str(d) for d, _ in truth]}"
                )
            if audience == "custodial":
                tally.documents += 1
                tally.days += (end - start).days + 1
                tally.change_points += len(tl.points)
                tally.candidates += tl.candidates
                tally.evaluated += tl.evaluated
    return tally
