"""The PMP spring booster is open from three months after the last dose, with no due date ("around
6 months" is its usual timing, not a deadline): before that day the rule does not apply, from it
the rule applies, after six months it still applies, and without the last dose's date whether it
applies yet is undetermined, naming that date (I-PMP-21)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import engine
from tests.pmp_documents import pmp_document, pmp_pack

RULE = "PMP-VAC-01"
DATE_PATH = "prisoner.clinical.vaccine_doses[].date"
ABSENT = object()
pmp = pmp_pack


def _facts(second_dose_on: Any) -> dict[str, Any]:
    """An immunosuppressed adult with a two-dose primary course; the second dose dated as given."""
    second: dict[str, Any] = {"dose": 2}
    if second_dose_on is not ABSENT:
        second["date"] = second_dose_on
    clinical = {
        "conditions": ["blood_cancer"],
        "clinician_recommends_pmp": False,
        "severely_immunosuppressed_at_primary_doses": False,
        "vaccine_doses": [{"date": dt.date(2023, 6, 1), "dose": 1}, second],
    }
    return pmp_document("F6021PM", clinical)


@pytest.mark.parametrize(
    ("as_of", "applies"),
    [
        (dt.date(2023, 11, 29), False),
        (dt.date(2023, 11, 30), True),
        (dt.date(2024, 2, 29), True),
        (dt.date(2024, 3, 1), True),
    ],
)
def test_the_spring_booster_is_open_from_three_months_with_no_due_date(
    as_of: dt.date, applies: bool
) -> None:
    decision = engine.evaluate(pmp(), _facts(dt.date(2023, 8, 31)), as_of, "healthcare")
    assert decision.status == "decided"
    assert RULE not in decision.undetermined
    booster = [o for o in decision.obligations if o.rule == RULE]
    assert len(booster) == (1 if applies else 0)
    if applies:
        assert (booster[0].modality, booster[0].who, booster[0].due) == ("may", "healthcare", None)
    assert decision.outputs["spring_booster_earliest_on"] == dt.date(2023, 11, 30)
    assert decision.outputs["spring_booster_due_on"] == dt.date(2024, 2, 29)


@pytest.mark.parametrize("second", [None, ABSENT], ids=["null", "absent"])
def test_without_the_last_dose_date_the_rule_is_undetermined(second: Any) -> None:
    decision = engine.evaluate(pmp(), _facts(second), dt.date(2024, 1, 10), "healthcare")
    assert decision.status == "undetermined"
    assert RULE in decision.undetermined
    assert RULE not in [o.rule for o in decision.obligations]
    assert DATE_PATH in decision.missing_facts
