"""Property: for any release date, extension dates, sessions and regime level, the change
points of the key work pack over a stretch of days are exactly the days on which evaluating
every day shows a change (calendar months, rolling weeks and the edges of the range
included)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine.tools.timeline import daily_changes, timeline

ROOT = Path(__file__).resolve().parents[2]
PACK = engine.load(ROOT / "policies")["keywork_edm"]
START = dt.date(2021, 1, 20)
END = dt.date(2021, 4, 10)

days_around = st.integers(min_value=-90, max_value=150).map(lambda n: START + dt.timedelta(n))
maybe_day = st.one_of(st.none(), days_around)
session = st.fixed_dictionaries(
    {
        "date": days_around.map(dt.date.isoformat),
        "kind": st.sampled_from(["session", "wellbeing_check"]),
        "minutes": st.sampled_from([20, 45]),
    }
)


@settings(max_examples=12, deadline=None, derandomize=True)
@given(
    release=maybe_day,
    irmm=maybe_day,
    pathfinder=maybe_day,
    rosh=st.sampled_from(["LOW", "HIGH", None]),
    tact=st.booleans(),
    level=st.integers(min_value=1, max_value=4),
    model=st.sampled_from(["weekly", "fortnightly"]),
    sessions=st.lists(session, max_size=4),
)
def test_change_points_are_the_days_the_decision_changes(
    release: dt.date | None,
    irmm: dt.date | None,
    pathfinder: dt.date | None,
    rosh: str | None,
    tact: bool,
    level: int,
    model: str,
    sessions: list[dict[str, object]],
) -> None:
    iso = lambda d: d.isoformat() if d else None  # noqa: E731
    facts = {
        "establishment": {"regime_level": level, "keywork_model": model},
        "prisoner": {
            "acct": "none",
            "rosh": rosh,
            "tact": tact,
            "pathfinder_recommended": False,
            "cev": False,
            "governor_priority": False,
            "sentence_type": "determinate",
            "release_date": iso(release),
            "irmm_keywork_from": iso(irmm),
            "pathfinder_keywork_from": iso(pathfinder),
            "keywork": {"sessions": sessions},
        },
    }
    tl = timeline(PACK, facts, START, END)
    assert [(p.on, p.changes) for p in tl.points] == daily_changes(PACK, facts, START, END)
