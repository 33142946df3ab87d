"""An explanation names what the decision rested on: through a table, the rows it matched.

A table's rows each read their own parameters; every row's used to be listed, so the
explanation of one prisoner's session frequency at level 3 showed the level 1 and level 2
frequencies beside the one that applied. And a custodial reader is not shown a parameter that
only withheld reasoning reads: it would point at a test they cannot see applied.
"""

from __future__ import annotations

import datetime as dt
import pickle
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

import engine
from engine import api
from engine.evaluation.decision import Decision
from tests.pmp_documents import pmp_document, pmp_pack

ROOT = Path(__file__).resolve().parents[2]
FREQUENCIES = [
    "priority_frequency",
    "level_4_general_frequency",
    "level_3_general_frequency",
    "level_2_general_frequency",
    "level_1_minimum_frequency",
    "level_1_fortnightly_minimum_frequency",
]


def _parameters(text: str) -> set[str]:
    """The parameters an explanation lists as steps."""
    return set(re.findall(r"^ *\d+\. parameter `([^`]+)`", text, re.MULTILINE))


def _keywork(level: Any, acct: str) -> Decision:
    """The example prisoner in no priority group (or with an open ACCT), at `level`."""
    packs = engine.load(ROOT / "policies")
    facts = yaml.safe_load((ROOT / "examples/prisoners/e6485kw_ordinary.yaml").read_text())
    facts["establishment"]["regime_level"] = level
    facts["prisoner"]["acct"] = acct
    return packs.evaluate("keywork_edm", facts, as_of=dt.date(2020, 7, 1))


@pytest.mark.parametrize("read_back", [False, True])
@pytest.mark.parametrize(
    ("level", "acct", "shown"),
    [
        (3, "open", "priority_frequency"),
        (3, "none", "level_3_general_frequency"),
        (2, "none", "level_2_general_frequency"),
        (1, "none", "level_1_minimum_frequency"),
    ],
)
def test_a_table_explains_by_the_rows_it_matched(
    level: int, acct: str, shown: str, read_back: bool
) -> None:
    decision = _keywork(level, acct)
    if read_back:  # a decision in another process, without its pack: the same explanation
        decision = pickle.loads(pickle.dumps(decision))  # noqa: S301 - our own bytes
        assert decision.model is None
    listed = _parameters(decision.explain("session_frequency")) & set(FREQUENCIES)
    assert listed == {shown}


def test_a_table_not_known_to_match_explains_by_every_row() -> None:
    """With the level not known, any row may apply: every row's frequency is listed."""
    decision = _keywork(None, "none")
    assert decision.outputs["session_frequency"] is None
    assert set(FREQUENCIES) <= _parameters(decision.explain("session_frequency"))


@pytest.fixture(scope="module")
def pmp() -> Any:
    return pmp_pack()


def test_a_parameter_only_withheld_reasoning_reads_is_not_shown_to_custodial_staff(
    pmp: Any,
) -> None:
    clinical = {
        "conditions": ["blood_cancer"],
        "clinician_recommends_pmp": False,
        "severely_immunosuppressed_at_primary_doses": False,
        "vaccine_doses": [],
    }
    facts = pmp_document("K1102PM", clinical, date_of_birth="1975-06-01")
    as_of = dt.date(2023, 1, 16)
    custodial = api.evaluate(pmp, facts, as_of=as_of, audience="custodial")
    healthcare = api.evaluate(pmp, facts, as_of=as_of, audience="healthcare")
    assert "treatment_minimum_age" in _parameters(healthcare.explain("eligible"))
    for text in (custodial.explain("eligible"), custodial.explain()):
        assert "treatment_minimum_age" not in _parameters(text)
