"""A PMP decision relies on the reading of version 2's start date exactly where that date counts."""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest

import engine

POLICIES = Path(__file__).resolve().parents[2] / "policies"
READING = "I-PMP-02"


@cache
def _packs() -> Any:
    return engine.load(str(POLICIES))


def _facts(outbreak_on: str | None, last_reviewed_on: str) -> dict[str, Any]:
    return {
        "establishment": {
            "code": "WWI",
            "outbreak_declared_on": outbreak_on,
            "community_prevalence_high": False,
            "guidance_changed_on": None,
        },
        "prisoner": {
            "prison_number": "D4090PM",
            "date_of_birth": "1980-04-01",
            "acct": "none",
            "cev": False,
            "pmp": {
                "status": "in_place",
                "commenced_on": "2022-07-01",
                "last_reviewed_on": last_reviewed_on,
                "clinician_advice": "letter",
                "interim_arrangements": False,
                "manager_agreed": True,
                "single_cell_advised": False,
                "unable_to_work_since": None,
                "additional_measures_advised": True,
                "clinical_review_requested_on": None,
            },
            "clinical": {
                "conditions": ["ckd_stage_4_or_5"],
                "clinician_recommends_pmp": False,
                "severely_immunosuppressed_at_primary_doses": False,
                "vaccine_doses": [],
            },
        },
    }


def _relies(as_of: date, facts: dict[str, Any], audience: str = "custodial") -> bool:
    decision = _packs().evaluate("pmp", facts, as_of=as_of, audience=audience)
    ids = [i["id"] for i in decision.to_dict()["interpretations"]]
    return READING in ids


@pytest.mark.parametrize(
    ("as_of", "relies"),
    [
        (date(2022, 9, 1), False),
        (date(2022, 10, 7), False),  # the day before the DHSC advice could have been acted on
        (date(2022, 10, 8), True),  # first day the source cannot tell the version
        (date(2022, 10, 31), True),  # version 1's last day, by the reading
        (date(2022, 11, 1), True),  # version 2's first day, by the reading
        (date(2023, 2, 28), True),  # last day of the winter the guidance prepares for
        (date(2023, 3, 1), False),
        (date(2024, 1, 1), False),
    ],
)
def test_a_decision_relies_on_the_start_date_only_in_the_uncertain_window(
    as_of: date, relies: bool
) -> None:
    facts = _facts(None, "2022-10-01" if as_of < date(2023, 3, 1) else "2023-02-01")
    assert _relies(as_of, facts) is relies
    assert _relies(as_of, facts, "healthcare") is relies


def test_a_review_triggered_before_version_2_does_not_rely_on_its_start_after_the_window() -> None:
    # outbreak on 15 October 2022, plan last reviewed 1 October: the review it requires is
    # outstanding under version 2 with no due date, so its start date decides nothing
    facts = _facts("2022-10-15", "2022-10-01")
    assert not _relies(date(2023, 3, 5), facts)
    assert not _relies(date(2023, 3, 5), facts, "healthcare")
    outputs = _packs().evaluate("pmp", facts, as_of=date(2023, 3, 5)).to_dict()["outputs"]
    assert outputs["triggered_review_outstanding"] is True
    assert outputs["review_due_on"] == "2023-01-01"


def test_a_review_triggered_after_version_2_began_does_not_rely_on_its_start() -> None:
    assert not _relies(date(2023, 3, 5), _facts("2023-03-02", "2023-02-01"))
