"""What a key work decision shows besides its obligations' words: the records it names are the
source's and no more, and its explanation cites the paragraph each step rests on.

"Where there are specific concerns about individuals, this should as always be recorded on
NOMIS or if the prisoner is on an open ACCT, then an entry in the ACCT document should be made":
NOMIS, with no case note type or kind of record named, and an entry in the ACCT document.
A member of staff reading `regime explain` sees, for each priority group the prisoner is or is
not in, the paragraph that defines the group, and for the period compliance counts over, the
sentences that set the weekly and the monthly minimums.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import engine
from tests.keywork_documents import keywork_document, keywork_prisoner

ROOT = Path(__file__).resolve().parents[2]
PACK = engine.load(ROOT / "policies")["keywork_edm"]
AS_OF = dt.date(2020, 7, 15)


def decision(level: int = 4, **fields: Any) -> Any:
    prisoner = keywork_prisoner(prison_number="A9130KW", rosh="LOW", **fields)
    return engine.evaluate(
        PACK, keywork_document(prisoner, level, regime_level_since="2020-06-01"), AS_OF
    )


def records(rule: str) -> list[dict[str, Any]]:
    (obligation,) = [o for o in decision(acct="open").to_dict()["obligations"] if o["rule"] == rule]
    return list(obligation["record"])


def step(text: str, name: str) -> str:
    """The lines of the explanation's step for definition `name`."""
    lines = text.splitlines()
    (start,) = [i for i, line in enumerate(lines) if f"definition `{name}` =" in line]
    block = [lines[start]]
    for line in lines[start + 1 :]:
        if line.lstrip()[:1].isdigit():
            break
        block.append(line)
    return "\n".join(block)


def test_a_concern_is_recorded_on_nomis_with_no_record_kind_the_source_does_not_name() -> None:
    (record,) = records("KW-CON-01")
    assert record["system"] == "NOMIS"
    assert "what" not in record and "type" not in record and "subtype" not in record


def test_a_concern_about_a_prisoner_on_an_open_acct_is_an_entry_in_the_acct_document() -> None:
    (record,) = records("KW-CON-02")
    assert (record["system"], record["what"]) == ("ACCT document", "entry")


GROUPS = {
    "at_risk_of_suicide_or_self_harm": (
        "Priority prisoner groups include: Prisoners at risk of suicide or self – harm:"
    ),
    "high_rosh_approaching_release": "Prisoners presenting a high risk of serious harm:",
    "extremist_approaching_release": "Extremist prisoners:",
    "clinically_extremely_vulnerable": (
        "Prisoners who are clinically extremely vulnerable and advised by government COVID 19 "
        "guidance to shield:"
    ),
    "added_by_governor": "Other priority prisoner groups:",
    "in_a_priority_group": "Priority Prisoner Groups",
}


def test_each_priority_group_step_cites_the_paragraph_that_defines_the_group() -> None:
    text = decision(acct="open").explain("is_priority")
    for name, section in GROUPS.items():
        assert f"see “{section}”, para 1" in step(text, name), name


def test_the_monthly_period_cites_the_sentences_that_set_the_monthly_minimums() -> None:
    text = decision(level=3).explain("compliance")
    period = step(text, "period_start")
    assert "“Level 3 (Restrict) - High Level Descriptor”, para bullet 2" in period
    assert "“Level 2 (Reduce) – High Level Descriptor”, para bullet 2" in period
    assert "row Key Work Delivery –Level 1 (Prepare)" in period


def test_the_wellbeing_floor_step_cites_the_wellbeing_check_paragraph() -> None:
    text = decision(acct="open").explain("wellbeing_compliance")
    assert "see “Wellbeing check for priority prisoners”, para 1" in step(
        text, "wellbeing_floor_applies"
    )
