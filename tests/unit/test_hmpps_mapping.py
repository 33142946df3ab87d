"""The hmpps mapping: fixture records (shaped like the services' JSON) to facts and gaps."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.adapters import hmpps
from engine.adapters.interpret import Gap
from engine.adapters.mapping import fact_leaves, load_mapping
from engine.packs.facts_schema import validate_facts
from engine.problems import PackError
from tests.hmpps_stub import FIXTURES, fixture, fixture_records

AS_OF = dt.date(2020, 7, 1)
SUBJECTS = ["A1234BC", "B2345CD", "C3456DE", "D4567EF", "E5678FG"]


def facts_of(
    subject: str, as_of: dt.date = AS_OF, **changes: Any
) -> tuple[dict[str, Any], list[Gap]]:
    records = fixture_records(subject)
    records.update(changes)
    return hmpps.to_facts(records, as_of)


def gap(gaps: list[Gap], fact: str) -> Gap | None:
    return next((g for g in gaps if g.fact == fact), None)


def test_the_mapping_loads_and_every_fixture_names_its_model() -> None:
    assert hmpps.mapping().id == "hmpps"
    for path in FIXTURES.rglob("*.json"):
        model = json.loads(path.read_text())["model"]
        assert model["repo"].startswith("ministryofjustice/") and model["path"], path


@pytest.mark.parametrize("subject", SUBJECTS)
def test_every_fixture_gives_facts_the_facts_schema_accepts(subject: str) -> None:
    facts, gaps = facts_of(subject)
    assert validate_facts(facts) == []
    assert facts["prisoner"]["prison_number"] == subject
    assert not [g for g in gaps if g.kind == "invalid"]


def test_an_expired_alert_is_not_active_and_post_closure_follows() -> None:
    facts, gaps = facts_of("A1234BC")
    assert facts["prisoner"]["alerts"] == ["HA1", "ROH"]  # HA ended on 2020-06-10
    assert facts["prisoner"]["acct"] == "post_closure"
    before, _ = facts_of("A1234BC", as_of=dt.date(2020, 6, 9))
    assert before["prisoner"]["acct"] == "open"  # HA still active, HA1 not yet
    on_end_day, _ = facts_of("A1234BC", as_of=dt.date(2020, 6, 10))
    assert on_end_day["prisoner"]["acct"] == "post_closure"  # activeTo is exclusive


def test_a_back_dated_alert_counts_from_its_active_from_date() -> None:
    facts, _ = facts_of("B2345CD")  # HA entered on 5 July with activeFrom 25 June
    assert facts["prisoner"]["acct"] == "open"
    earlier, _ = facts_of("B2345CD", as_of=dt.date(2020, 6, 24))
    assert earlier["prisoner"]["acct"] == "none"


def test_contradictory_alerts_leave_the_fact_absent_and_say_so() -> None:
    facts, gaps = facts_of("C3456DE")
    assert "acct" not in facts["prisoner"]
    found = gap(gaps, "prisoner.acct")
    assert found is not None and found.kind == "contradiction"
    assert "`HA` and `HA1`" in found.reason


def test_a_determinate_sentence_without_a_release_date_is_unknown_not_null() -> None:
    facts, gaps = facts_of("B2345CD")
    assert facts["prisoner"]["sentence_type"] == "determinate"
    assert "release_date" not in facts["prisoner"]
    found = gap(gaps, "prisoner.release_date")
    assert found is not None and found.kind == "missing" and "determinate" in found.reason


def test_indeterminate_and_remand_without_a_date_have_none_set() -> None:
    life, _ = facts_of("C3456DE")
    assert life["prisoner"]["sentence_type"] == "indeterminate"
    assert life["prisoner"]["release_date"] is None
    remand, _ = facts_of("D4567EF")
    assert remand["prisoner"]["sentence_type"] == "remand"
    assert remand["prisoner"]["release_date"] is None


def test_a_confirmed_release_date_counts_before_release_date() -> None:
    facts, _ = facts_of("E5678FG")
    assert facts["prisoner"]["release_date"] == "2020-08-01"  # releaseDate is 2020-08-03


def test_without_the_alerts_service_the_documents_active_and_not_expired_alerts_count() -> None:
    facts, _ = facts_of("D4567EF")
    assert facts["prisoner"]["alerts"] == ["XTACT"]  # HA is expired in the document
    assert facts["prisoner"]["tact"] is True and facts["prisoner"]["acct"] == "none"


def test_legal_status_contradicting_the_indeterminate_flag_is_a_contradiction() -> None:
    document = copy.deepcopy(fixture("prisoner", "C3456DE"))
    document["indeterminateSentence"] = False
    facts, gaps = facts_of("C3456DE", prisoner=document)
    assert "sentence_type" not in facts["prisoner"]
    found = gap(gaps, "prisoner.sentence_type")
    assert found is not None and found.kind == "contradiction"


def test_an_unmapped_legal_status_is_a_gap() -> None:
    document = copy.deepcopy(fixture("prisoner", "A1234BC"))
    document["legalStatus"] = "UNKNOWN"
    facts, gaps = facts_of("A1234BC", prisoner=document)
    assert "sentence_type" not in facts["prisoner"]
    assert facts["prisoner"]["release_date"] == "2020-07-20"  # a recorded date still counts
    found = gap(gaps, "prisoner.sentence_type")
    assert found is not None and found.kind == "unmapped" and "`UNKNOWN`" in found.reason


def test_key_work_sessions_come_from_case_notes_kinds_from_subtypes() -> None:
    facts, gaps = facts_of("A1234BC")
    assert facts["prisoner"]["keywork"] == {
        "key_worker": "Sam Hughes",
        "sessions": [
            {"date": "2020-06-16", "kind": "session"},
            {"date": "2020-06-22", "kind": "wellbeing_check"},
            {"date": "2020-06-29", "kind": "session"},
        ],
    }
    assert gap(gaps, "prisoner.keywork.sessions") is None


def test_recorded_events_stand_in_for_case_notes_and_are_reported_partial() -> None:
    facts, gaps = facts_of("A1234BC", case_notes=None)
    assert facts["prisoner"]["keywork"]["sessions"] == [
        {"date": "2020-06-29", "kind": "session"},
        {"date": "2020-06-22", "kind": "wellbeing_check"},
    ]
    found = gap(gaps, "prisoner.keywork.sessions")
    assert found is not None and found.kind == "partial"


def test_no_key_worker_allocation_is_a_known_none() -> None:
    facts, _ = facts_of("B2345CD")
    assert facts["prisoner"]["keywork"] == {"key_worker": None, "sessions": []}


def test_case_information_and_handover_give_rosh_and_omu_facts() -> None:
    facts, _ = facts_of("A1234BC")
    assert facts["prisoner"]["rosh"] == "HIGH"
    assert facts["prisoner"]["omu"] == {
        "care_experienced": False,
        "early_allocation": False,
        "in_handover_period": True,
    }
    after, _ = facts_of("A1234BC", as_of=dt.date(2020, 7, 10))
    assert after["prisoner"]["omu"]["in_handover_period"] is False
    life, _ = facts_of("C3456DE")
    assert life["prisoner"]["rosh"] == "VERY_HIGH" and life["prisoner"]["omu"]["early_allocation"]


def test_rosh_falls_back_to_the_serious_harm_alerts() -> None:
    facts, gaps = facts_of("A1234BC", case_information=None)
    assert facts["prisoner"]["rosh"] == "HIGH"  # from the ROH alert
    facts, gaps = facts_of("E5678FG")
    assert "rosh" not in facts["prisoner"]
    assert gap(gaps, "prisoner.rosh") is not None


def test_frequency_in_weeks_gives_the_model_and_an_unknown_frequency_is_a_gap() -> None:
    facts, _ = facts_of("A1234BC")
    assert facts["establishment"]["keywork_model"] == "weekly"
    config = dict(fixture("prison_configuration", "MDI"), frequencyInWeeks=2)
    facts, _ = facts_of("A1234BC", prison_configuration=config)
    assert facts["establishment"]["keywork_model"] == "fortnightly"
    config["frequencyInWeeks"] = 3
    facts, gaps = facts_of("A1234BC", prison_configuration=config)
    assert "keywork_model" not in facts["establishment"]
    found = gap(gaps, "establishment.keywork_model")
    assert found is not None and found.kind == "unmapped"


def test_plan_alerts_say_nothing_after_their_codes_were_withdrawn() -> None:
    facts, _ = facts_of("A1234BC")
    assert facts["prisoner"]["pmp"]["status"] == "none"
    later, gaps = facts_of("A1234BC", as_of=dt.date(2024, 1, 10))
    assert "status" not in later["prisoner"].get("pmp", {})
    found = gap(gaps, "prisoner.pmp.status")
    assert found is not None and "withdrawn" in found.reason


def test_a_value_the_facts_schema_rejects_is_dropped_and_reported() -> None:
    document = copy.deepcopy(fixture("prisoner", "A1234BC"))
    document["prisonerNumber"] = "not-a-number"
    facts, gaps = facts_of("A1234BC", prisoner=document)
    assert "prison_number" not in facts["prisoner"]
    found = gap(gaps, "prisoner.prison_number")
    assert found is not None and found.kind == "invalid"


@pytest.mark.parametrize("subject", ["A1234BC", "C3456DE"])
def test_facts_and_gaps_golden(subject: str, snapshot: Any) -> None:
    facts, gaps = facts_of(subject)
    text = json.dumps({"facts": facts, "gaps": [g.to_dict() for g in gaps]}, indent=2) + "\n"
    snapshot.snapshot_dir = Path(__file__).parent / "snapshots"
    snapshot.assert_match(text, f"hmpps_{subject}.json")


def test_every_fact_of_the_contract_is_mapped_or_declared_not_supplied() -> None:
    mapping = hmpps.mapping()
    mapped = {e["fact"] for e in mapping.facts}
    declared = {p for g in mapping.not_supplied for p in g["facts"]}
    covered = mapped | {p.removesuffix(".*") for p in declared}
    leaves = {
        p for p in fact_leaves() if p.split(".")[0] in ("prisoner", "establishment") and "." in p
    }
    parents = {p.rsplit(".", 1)[0] for p in leaves}
    uncovered = {
        p for p in leaves - parents if not any(p == c or p.startswith(c + ".") for c in covered)
    }
    assert uncovered == set()


def test_every_gap_names_a_fact_no_reading_supplied() -> None:
    for subject in SUBJECTS:
        facts, gaps = facts_of(subject)
        for g in gaps:
            node: Any = facts
            parts = g.fact.removesuffix(".*").split(".")
            for part in parts[:-1]:
                node = node.get(part, {}) if isinstance(node, dict) else {}
            if g.kind != "partial":
                assert not (isinstance(node, dict) and parts[-1] in node), (subject, g)


@settings(max_examples=60)
@given(
    start=st.dates(dt.date(2019, 1, 1), dt.date(2021, 12, 31)),
    length=st.one_of(st.none(), st.integers(1, 400)),
    as_of=st.dates(dt.date(2019, 1, 1), dt.date(2022, 12, 31)),
)
def test_an_alert_is_active_exactly_from_active_from_until_before_active_to(
    start: dt.date, length: int | None, as_of: dt.date
) -> None:
    end = None if length is None else start + dt.timedelta(days=length)
    page = copy.deepcopy(fixture("alerts", "E5678FG"))
    alert = copy.deepcopy(fixture("alerts", "A1234BC")["content"][2])  # ROH
    alert.update(activeFrom=start.isoformat(), activeTo=end and end.isoformat())
    page["content"] = [alert]
    facts, _ = facts_of("E5678FG", as_of=as_of, alerts=page, case_information=None)
    expected = start <= as_of and (end is None or as_of < end)
    assert ("ROH" in facts["prisoner"]["alerts"]) is expected
    assert (facts["prisoner"].get("rosh") == "HIGH") is expected


def test_a_bad_mapping_is_refused_with_its_position(tmp_path: Path) -> None:
    text = (Path(hmpps.mapping().file)).read_text(encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("codes: active_alerts\n", "codes: actve_alerts\n", 1))
    with pytest.raises(PackError) as caught:
        load_mapping(str(bad))
    problem = caught.value.problems[0]
    assert (
        problem.code == "E-MAPPING-NAME" and "`actve_alerts` is not a code set" in problem.message
    )
    assert problem.line > 1
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(text.replace("fact: prisoner.tact\n", "fact: prisoner.tactics\n", 1))
    with pytest.raises(PackError) as caught:
        load_mapping(str(wrong))
    assert "`prisoner.tactics` is not a fact" in caught.value.problems[0].message
