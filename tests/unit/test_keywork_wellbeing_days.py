"""The key work pack's daily wellbeing check floor against a plain reading of it, day by day.

Each of the seven days ending on the evaluation date needs a check when the priority prisoner's
period of their minimum frequency ending on that day holds no key work session (I-KW-22), at
levels 4 to 2, where that minimum is weekly; at level 1 no day needs one (I-KW-10). The reading
below works that out for every day on its own, from the period the decision reports; the pack
must give the same status and counts for seeded histories. Where an entry's kind or date is not
recorded, every way of filling them in is tried: the status is decided exactly when all of them
agree, and a count the pack gives must hold in every one.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from pathlib import Path
from typing import Any

import engine
from engine.language.runtime import add_months
from tests.keywork_documents import keywork_document, keywork_prisoner

ROOT = Path(__file__).resolve().parents[2]
PACK = engine.load(ROOT / "policies")["keywork_edm"]
ONE = dt.timedelta(days=1)
KINDS = ("session", "wellbeing_check")


def period_start(day: dt.date, per: str) -> dt.date:
    """The first day of the period of the minimum frequency ending on `day`."""
    return day - 6 * ONE if per == "week" else add_months(day, -1) + ONE


def reading(
    entries: list[tuple[str, dt.date]], as_of: dt.date, per: str, level: int
) -> tuple[str, int, int]:
    """Status, days checked and days required for complete entries, each day judged alone."""
    if level == 1:
        return "not_required", 0, 0
    required = checked = 0
    for k in range(7):
        day = as_of - k * ONE
        start = period_start(day, per)
        if any(kind == "session" and start <= d <= day for kind, d in entries):
            continue
        required += 1
        checked += any(kind == "wellbeing_check" and d == day for kind, d in entries)
    if required == 0:
        return "not_required", 0, 0
    return ("met" if checked == required else "not_met"), checked, required


def facts(entries: list[dict[str, Any]], level: int, model: str) -> dict[str, Any]:
    """A prisoner in a priority group for an open ACCT, with these key work entries."""
    prisoner = keywork_prisoner(
        prison_number="A0000KW",
        acct="open",
        rosh="LOW",
        release_date="2030-01-01",
        keywork={"key_worker": "Officer A", "sessions": entries},
    )
    return keywork_document(prisoner, level, keywork_model=model, regime_level_since="2019-01-01")


def decide(entries: list[dict[str, Any]], as_of: dt.date, level: int, model: str) -> Any:
    written = [{k: (v.isoformat() if k == "date" else v) for k, v in e.items()} for e in entries]
    decision = engine.evaluate(PACK, facts(written, level, model), as_of)
    per = decision.outputs["session_frequency"]["per"]
    floor = decision.outputs["wellbeing_compliance"]
    return per, floor["status"], count(floor["days_checked"]), count(floor["days_required"])


def count(value: Any) -> int | None:
    """A count the decision gives, or None where it is not known."""
    return value if isinstance(value, int) else None


def history(rng: random.Random, as_of: dt.date, blanks: int) -> list[dict[str, Any]]:
    """Entries around the seven days (some long before), `blanks` of them missing a fact."""
    entries = []
    for _ in range(rng.randint(0, 6)):
        back = rng.choice([rng.randint(0, 14), rng.randint(0, 40)])
        entries.append({"date": as_of - back * ONE, "kind": rng.choice(KINDS), "minutes": 30})
    for _ in range(blanks):
        entry: dict[str, Any] = {"date": as_of - rng.randint(0, 14) * ONE, "kind": "session"}
        entry["kind"] = rng.choice(KINDS)
        for missing in rng.choice([["date"], ["kind"], ["date", "kind"]]):
            del entry[missing]
        entries.append(entry)
    rng.shuffle(entries)
    return entries


def completions(entries: list[dict[str, Any]], as_of: dt.date) -> list[list[tuple[str, dt.date]]]:
    """Every way of filling in the kinds and dates not recorded (dates from 45 days before the
    evaluation date to the day after it: any other date covers and checks none of the days)."""
    dates = [as_of + ONE - i * ONE for i in range(47)]
    options = []
    for e in entries:
        kinds = [e["kind"]] if "kind" in e else list(KINDS)
        days = [e["date"]] if "date" in e else dates
        options.append(list(itertools.product(kinds, days)))
    return [list(c) for c in itertools.product(*options)]


def test_complete_histories_follow_the_day_by_day_reading() -> None:
    rng = random.Random(20200701)
    for n in range(400):
        as_of = dt.date(2020, 6, 1) + rng.randint(0, 800) * ONE
        level, model = rng.choice([1, 2, 3, 4]), rng.choice(["weekly", "fortnightly"])
        entries = history(rng, as_of, 0)
        per, status, checked, required = decide(entries, as_of, level, model)
        complete = [(e["kind"], e["date"]) for e in entries]
        expected = reading(complete, as_of, per, level)
        assert (status, checked, required) == expected, (n, as_of, level, entries)


def test_level_1_needs_no_check_whatever_the_history() -> None:
    """Level 1's monthly minimum, at month ends: a month without key work is a shortfall of
    key work, never a day that needs a wellbeing check (I-KW-10)."""
    rng = random.Random(31)
    ends = (dt.date(2021, 2, 28), dt.date(2021, 3, 1), dt.date(2021, 3, 31), dt.date(2024, 2, 29))
    shortfalls = 0
    for as_of in ends:
        for _ in range(60):
            entries = history(rng, as_of, 0)
            per, status, checked, required = decide(entries, as_of, 1, "weekly")
            assert per == "month"
            assert (status, checked, required) == ("not_required", 0, 0), (as_of, entries)
            complete = [(e["kind"], e["date"]) for e in entries]
            shortfalls += reading(complete, as_of, "week", 2)[2] > 0
    assert shortfalls > 20  # histories that would need checks at the levels below


def test_incomplete_entries_decide_exactly_when_every_filling_in_agrees() -> None:
    rng = random.Random(7)
    decided = undetermined = 0
    for n in range(150):
        as_of = dt.date(2020, 6, 1) + rng.randint(0, 400) * ONE
        level = rng.choice([1, 3, 4])
        entries = history(rng, as_of, rng.randint(1, 2))
        per, status, checked, required = decide(entries, as_of, level, "weekly")
        outcomes = {reading(c, as_of, per, level) for c in completions(entries, as_of)}
        statuses = {o[0] for o in outcomes}
        expected = statuses.pop() if len(statuses) == 1 else "undetermined"
        assert status == expected, (n, as_of, level, entries, outcomes)
        assert required is None or {o[2] for o in outcomes} == {required}, (n, entries)
        assert checked is None or {o[1] for o in outcomes} == {checked}, (n, entries)
        if len({o[2] for o in outcomes}) == 1:
            assert required is not None, (n, entries)
        decided += status != "undetermined"
        undetermined += status == "undetermined"
    assert decided > 20 and undetermined > 20  # both sides of the line are exercised
