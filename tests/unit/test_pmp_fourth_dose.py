"""The PMP booster as a fourth dose is due from three months after the third primary dose, with
no due date: before that day the rule does not apply, from it the rule applies, and without the
third dose's date whether it applies yet is undetermined, naming that date (I-PMP-21)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import engine
from tests.pmp_documents import pmp_document, pmp_pack

RULE = "PMP-VAC-02"
DATE_PATH = "prisoner.clinical.vaccine_doses[].date"
ABSENT = object()
pmp = pmp_pack


def _facts(third_dose_on: Any) -> dict[str, Any]:
    """A severely immunosuppressed adult with three primary doses; the third dated as given."""
    third: dict[str, Any] = {"dose": 3}
    if third_dose_on is not ABSENT:
        third["date"] = third_dose_on
    clinical = {
        "conditions": ["immunosuppressive_treatment"],
        "clinician_recommends_pmp": False,
        "severely_immunosuppressed_at_primary_doses": True,
        "vaccine_doses": [
            {"date": dt.date(2022, 6, 1), "dose": 1},
            {"date": dt.date(2022, 7, 1), "dose": 2},
            third,
        ],
    }
    return pmp_document("F6020PM", clinical)


@pytest.mark.parametrize(
    ("third", "as_of", "applies"),
    [
        (dt.date(2022, 11, 30), dt.date(2023, 2, 27), False),
        (dt.date(2022, 11, 30), dt.date(2023, 2, 28), True),
        (dt.date(2022, 11, 30), dt.date(2023, 3, 1), True),
        (dt.date(2022, 10, 20), dt.date(2023, 1, 19), False),
        (dt.date(2022, 10, 20), dt.date(2023, 1, 20), True),
    ],
)
def test_the_fourth_dose_is_due_from_three_months_with_no_due_date(
    third: dt.date, as_of: dt.date, applies: bool
) -> None:
    decision = engine.evaluate(pmp(), _facts(third), as_of, "healthcare")
    assert decision.status == "decided"
    assert RULE not in decision.undetermined
    fourth = [o for o in decision.obligations if o.rule == RULE]
    assert len(fourth) == (1 if applies else 0)
    if applies:
        assert (fourth[0].modality, fourth[0].who, fourth[0].due) == ("should", "healthcare", None)
    assert decision.outputs["fourth_dose_earliest_on"] is not None


@pytest.mark.parametrize("third", [None, ABSENT], ids=["null", "absent"])
def test_without_the_third_dose_date_the_rule_is_undetermined(third: Any) -> None:
    decision = engine.evaluate(pmp(), _facts(third), dt.date(2023, 3, 1), "healthcare")
    assert decision.status == "undetermined"
    assert RULE in decision.undetermined
    assert RULE not in [o.rule for o in decision.obligations]
    assert DATE_PATH in decision.missing_facts
