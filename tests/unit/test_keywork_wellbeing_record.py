"""The key work pack's recording obligations keep the source's difference between a case note
it requires and one it only offers.

A key work session "must be recorded on NOMIS using case note type Key Work Activity - Key Work
Session"; for a wellbeing check, "How to record wellbeing checks is a decision to be made
locally but case note type Key work activity - Key work entry is available to use". The
wellbeing check's record names that case note with a note saying it is offered, not required;
the session's record names its case note as the one to use.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import engine
from tests.keywork_documents import keywork_document, keywork_prisoner

ROOT = Path(__file__).resolve().parents[2]
PACK = engine.load(ROOT / "policies")["keywork_edm"]


def records(rule: str) -> list[dict[str, Any]]:
    """The records of `rule`'s obligation for a priority prisoner (open ACCT) at level 4."""
    prisoner = keywork_prisoner(prison_number="A9120KW", acct="open", rosh="LOW")
    facts = keywork_document(prisoner, 4, regime_level_since="2020-06-01")
    decision = engine.evaluate(PACK, facts, dt.date(2020, 7, 15)).to_dict()
    (obligation,) = [o for o in decision["obligations"] if o["rule"] == rule]
    return list(obligation["record"])


def test_the_wellbeing_check_case_note_is_offered_not_required() -> None:
    (record,) = records("KW-WB-03")
    assert (record["system"], record["type"], record["subtype"]) == (
        "NOMIS",
        "Key work activity",
        "Key work entry",
    )
    assert "not one it requires" in record["note"]
    assert "establishment's choice" in record["note"]


def test_the_key_work_session_case_note_is_the_one_to_use() -> None:
    (record,) = records("KW-REC-01")
    assert (record["system"], record["type"], record["subtype"]) == (
        "NOMIS",
        "Key Work Activity",
        "Key Work Session",
    )
    assert "note" not in record
