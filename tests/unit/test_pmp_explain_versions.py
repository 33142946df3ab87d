"""Explaining eligibility under version 1 shows only version 1's ground.

Version 1 makes a person eligible for being clinically extremely vulnerable (I-PMP-04); the
immunosuppressed and treatment eligible groups and a clinical team's recommendation are version
2's grounds. Every definition is worked out whatever the version, so an explanation of
`eligible` under version 1 listed version 2's grounds as true for a person who has them: a
member of healthcare staff read "immunosuppressed = true" among the reasons for a decision that
version does not take from it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from engine import api
from tests.pmp_documents import pmp_document, pmp_pack


def _facts(cev: bool) -> dict[str, Any]:
    clinical = {
        "conditions": ["blood_cancer", "organ_transplant"],
        "clinician_recommends_pmp": True,
        "severely_immunosuppressed_at_primary_doses": False,
        "vaccine_doses": [],
    }
    return pmp_document("K1101PM", clinical, date_of_birth="1975-06-01", cev=cev)


@pytest.fixture(scope="module")
def pack() -> Any:
    return pmp_pack()


@pytest.mark.parametrize("cev", [True, False])
def test_version_1_explains_eligibility_without_version_2_grounds(pack: Any, cev: bool) -> None:
    decision = api.evaluate(pack, _facts(cev), as_of=dt.date(2022, 8, 1), audience="healthcare")
    assert decision.outputs["eligible"] is cev
    text = decision.explain("eligible")
    for ground in ("immunosuppressed", "treatment_eligible", "clinician_recommended"):
        assert f"definition `{ground}` = true" not in text


def test_version_2_still_explains_its_grounds(pack: Any) -> None:
    decision = api.evaluate(pack, _facts(False), as_of=dt.date(2023, 3, 1), audience="healthcare")
    assert decision.outputs["eligible"] is True
    assert decision.outputs["eligibility_basis"] == [
        "immunosuppressed",
        "covid_treatment_eligible",
        "clinician_recommended",
    ]
    text = decision.explain("eligible")
    for ground in ("immunosuppressed", "treatment_eligible", "clinician_recommended"):
        assert f"definition `{ground}` = true" in text
