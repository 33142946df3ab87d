"""The parts of expressions that depend only on the day, which a compiled program works out
once a day, decide as the step-by-step evaluator does: on days where a part's parameter is not
in force or its month arithmetic leaves the calendar (the same error), and on the days around
month ends and leap days (the same decision), for one program deciding day after day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from engine.api import evaluate, load, out_of_range
from engine.evaluation import program as program_module
from engine.evaluation.program import program
from tests.unit.test_program import interpreted, outcome

ROOT = Path(__file__).resolve().parents[2]
PACK = load(ROOT / "tests" / "data" / "program")["program_day"]
DAYS = [
    dt.date(2020, 7, 1),
    dt.date(1, 1, 5),  # a month before it is no day of the calendar
    dt.date(2020, 5, 15),  # `window` is not in force yet
    dt.date(2020, 3, 31),
    dt.date(2021, 3, 31),
    dt.date(2024, 2, 29),
    dt.date(2024, 3, 1),
    dt.date(9999, 12, 31),
    dt.date(2020, 7, 1),  # a day already worked out
]


def interpreted_worded(pack: Any, doc: dict[str, Any], day: dt.date, audience: str) -> Any:
    """The evaluator's decision, a value out of range worded as `evaluate` words it."""
    try:
        return interpreted(pack, doc, day, audience)
    except (OverflowError, ValueError, ArithmeticError) as e:
        raise out_of_range(pack.id, e) from None


def facts(day: dt.date, sessions: int) -> dict[str, Any]:
    dates = [day - dt.timedelta(days=d) for d in range(0, 3 * sessions, 3) if day.year > 1]
    return {
        "prisoner": {
            "keywork": {
                "sessions": [
                    {"date": d.isoformat(), "kind": "session", "minutes": 30 + 10 * i}
                    for i, d in enumerate(dates)
                ]
            }
        }
    }


@pytest.fixture(params=["calls", "inline"])
def tier(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A fresh program of one tier (the parts of the day are read in the in-line one)."""
    monkeypatch.setattr(program_module, "INLINE_AFTER", 1 if request.param == "inline" else 10**9)
    for key in [k for k in PACK.derived if isinstance(k, tuple) and k[0] == "program"]:
        del PACK.derived[key]
    yield request.param
    for key in [k for k in PACK.derived if isinstance(k, tuple) and k[0] == "program"]:
        del PACK.derived[key]


@pytest.mark.parametrize("audience", ["custodial", "healthcare"])
def test_parts_of_the_day_decide_as_the_evaluator(audience: str, tier: str) -> None:
    errors = decided = 0
    for day in DAYS:
        for sessions in (0, 1, 4):
            doc = facts(day, sessions)
            want = outcome(interpreted_worded, PACK, doc, day, audience)
            got = outcome(evaluate, PACK, doc, day, audience)
            if isinstance(want, tuple) or isinstance(got, tuple):
                assert got == want, (day, sessions)
                errors += 1
                continue
            assert got.to_dict() == want.to_dict(), (day, sessions)
            decided += 1
    assert errors and decided  # both kinds of day were met
    if tier == "inline":  # the in-line program read its parts of the day
        run_all, parts = program(PACK, DAYS[0], audience != "healthcare", None)._run
        assert len(parts.fns) >= 5 and DAYS[0] in parts.days
