"""Checks the OMU pack's tasks against the EDM's mandatory task table, typed from the source (which
tasks run at stage 4, and in what order, are worked examples: policies/tests/omu_edm_tasks.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import networkx as nx
import pytest
import yaml

from engine.packs.task_graph import build_task_graph, outside_stage, plan, waits_for

PACK = Path(__file__).resolve().parents[2] / "policies" / "omu_edm.yaml"

# Typed by hand from the table "Exceptional Delivery Regime model: Offender
# Management in the closed male estate - tasks to be completed under stage 3"
# (source 003_cb2c8140e1f61681.txt): id -> (weighting, autonomy).
TABLE: dict[str, tuple[int, str]] = {
    "1.1": (3, "limited"),
    "1.2": (3, "limited"),
    "1.3": (3, "limited"),
    "2.1": (3, "limited"),
    "2.2": (3, "limited"),
    "2.3": (3, "limited"),
    "2.4": (3, "partial"),
    "2.5": (2, "partial"),
    "2.6": (3, "limited"),
    "2.7": (2, "partial"),
    "2.8": (2, "partial"),
    "2.9": (2, "partial"),
    "3.1": (3, "limited"),
    "3.2": (3, "limited"),
    "3.3": (3, "limited"),
    "3.4": (3, "limited"),
    "3.5": (2, "partial"),
    "3.6": (3, "limited"),
    "3.7": (2, "partial"),
    "4.1": (3, "limited"),
    "5.1": (3, "limited"),
    "5.2": (3, "limited"),
}

AREAS = {
    "1": "Start of sentence",
    "2": "Throughout the sentence",
    "3": "Resettlement",
    "4": "Tasks that support case management delivery",
    "5": "Exceptional OMU tasks",
}


@pytest.fixture(scope="module")
def tasks() -> dict[str, dict[str, Any]]:
    pack = yaml.safe_load(PACK.read_text(encoding="utf-8"))
    result: dict[str, dict[str, Any]] = pack["tasks"]
    return result


def test_every_table_task_is_encoded_and_no_other(tasks: dict[str, dict[str, Any]]) -> None:
    assert sorted(tasks) == sorted(TABLE)


@pytest.mark.parametrize("task_id", sorted(TABLE))
def test_weighting_and_autonomy_match_the_table(
    tasks: dict[str, dict[str, Any]], task_id: str
) -> None:
    weighting, autonomy = TABLE[task_id]
    assert tasks[task_id]["weighting"] == weighting
    assert tasks[task_id]["autonomy"] == autonomy
    assert tasks[task_id]["mandatory"] is True
    assert tasks[task_id]["area"] == AREAS[task_id.split(".")[0]]


@pytest.mark.parametrize("task_id", sorted(TABLE))
def test_every_task_runs_from_stage_3_onwards(
    tasks: dict[str, dict[str, Any]], task_id: str
) -> None:
    assert {3, 2, 1} <= set(tasks[task_id]["stages"])


@pytest.mark.parametrize("stage", [4, 3, 2, 1])
def test_precursors_come_before_the_weighting_2_tasks_of_their_area(
    tasks: dict[str, dict[str, Any]], stage: int
) -> None:
    order = plan(build_task_graph(tasks, weighting_precedence=True), stage)
    position = {task_id: i for i, task_id in enumerate(order)}
    checked = 0
    for first in order:
        for then in order:
            same_area = tasks[first]["area"] == tasks[then]["area"]
            if same_area and TABLE[first][0] == 3 and TABLE[then][0] == 2:
                assert position[first] < position[then], (stage, first, then)
                checked += 1
    assert checked > 0


def test_stage_3_plan_holds_every_task(tasks: dict[str, dict[str, Any]]) -> None:
    assert sorted(plan(build_task_graph(tasks), 3)) == sorted(TABLE)


def test_every_dependency_names_the_interpretation_that_grounds_it(
    tasks: dict[str, dict[str, Any]],
) -> None:
    for task_id, task in tasks.items():
        for entry in task.get("after", []):
            assert entry.get("interpretation"), (task_id, entry["task"])


@pytest.mark.parametrize("stage", [4, 3, 2, 1])
def test_no_task_waits_for_a_task_not_delivered_at_its_stage(
    tasks: dict[str, dict[str, Any]], stage: int
) -> None:
    graph = build_task_graph(tasks, weighting_precedence=True)
    for task_id, task in tasks.items():
        if stage in task["stages"]:
            assert outside_stage(graph, task_id, stage) == [], (stage, task_id)


@pytest.mark.parametrize("task_id", ["3.2", "3.6"])
def test_handover_and_parole_wait_for_neither_opd_screening_nor_recategorisation(
    tasks: dict[str, dict[str, Any]], task_id: str
) -> None:
    graph = build_task_graph(tasks, weighting_precedence=True)
    direct = waits_for(graph, task_id, include_weighting=True)
    everything_before = nx.ancestors(graph, task_id)
    assert not {"2.7", "2.6", "1.1"} & everything_before, (direct, everything_before)


# Each item the EDM keeps in lockdown (stage 4), with the table rows that carry it
# (I-OMU-03, I-OMU-04). Rows named by no item are the ones stage 3 brings in.
LOCKDOWN: dict[str, set[str]] = {
    "administration functions (sentence calculation, drawing up the licence)": {
        "1.3",
        "3.5",
        "4.1",
    },
    "Allocation of Prison Offender Managers": {"1.2"},
    "Categorisation": {"1.1"},
    "Public Protection Requests": {"2.1"},
    "Victim Liaison Officer and Community Offender Manager contact": {"2.3", "3.5", "3.7"},
    "Interdepartmental Risk Management Team meetings": {"2.2"},
    "Parole related reports and remote hearings": {"3.6", "2.8"},
    "Release on Temporary Licence and Home Detention Curfew": {"3.4", "5.1", "5.2"},
    "Multi-Agency Public Protection Arrangements": {"3.3"},
    "OASys pre-release assessments first": {"2.4"},
    "Recategorisation": {"2.6"},
    "Handover to the community": {"3.2"},
    "priority supervision from stage 4 (the cohort paragraph)": {"2.5"},
}


def test_stage_4_plan_holds_the_lockdown_work_and_nothing_else(
    tasks: dict[str, dict[str, Any]],
) -> None:
    expected = set().union(*LOCKDOWN.values())
    assert set(plan(build_task_graph(tasks, weighting_precedence=True), 4)) == expected
    assert set(TABLE) - expected == {"2.7", "2.9", "3.1"}


@pytest.mark.parametrize("stage", [3, 2, 1])
def test_stages_3_to_1_plan_every_precursor_first_then_by_id(
    tasks: dict[str, dict[str, Any]], stage: int
) -> None:
    order = plan(build_task_graph(tasks, weighting_precedence=True), stage)
    by_weighting_then_id = sorted(
        TABLE, key=lambda t: (-TABLE[t][0], tuple(int(p) for p in t.split(".")))
    )
    assert order == by_weighting_then_id


# The last column, "Comments/Sources of information", typed by hand from the same table, cell
# by cell; what the baseline cells name (OASys, quantum systems, the MAPPA F, the PD1, video
# conferencing, the HMPPS Psychology EDM) is not in it (I-OMU-40). A long sentence in the cell
# (2.4, 4.1) is checked by the guidance it opens with.
SOURCES: dict[str, list[str]] = {
    "1.1": ["Categorisation and Recategorisation"],
    "1.2": ["OMIC POM Allocation Guidance v2", "OMIC Case Management Support Model", "Allocation"],
    "1.3": ["Bail"],
    "2.1": [
        "OMIC Adult safeguarding Guidance (England and Wales)",
        "OMIC Child Safeguarding Guidance and Referral Checklist",
        "Public Protection",
    ],
    "2.2": ["Public Protection"],
    "2.3": [
        "OMIC Managing cases registered with the Victim Contact Scheme",
        "Handling Sensitive Information",
        "OMIC Victim Contact Scheme Briefing",
        "Victims",
    ],
    "2.4": ["Case Management Toolkit on OMiC EQuiP", "OASys"],
    "2.5": ["OMiC Supervision Guidance and Supervision Checklist", "Supervision"],
    "2.6": ["Categorisation and Recategorisation", "Transfers"],
    "2.7": ["Case Management Tool on OMiC EQuIP", "OPD"],
    "2.8": [],
    "2.9": ["Youth to Adult Transition"],
    "3.1": [
        "OMiC Early Allocation Guidance for POM's",
        "Early Allocation Referral",
        "Early Allocation",
    ],
    "3.2": ["OMIC Handover Guidance V2", "NPS and CRC Handover"],
    "3.3": ["MAPPA"],
    "3.4": ["HDC", "ROTL"],
    "3.5": ["Discharge and Licence Conditions"],
    "3.6": ["Parole"],
    "3.7": ["Recall"],
    "4.1": ["OMiC EQuiP"],
    "5.1": ["Exceptional Delivery Model for ECTR/ROTL and SPL ROTL"],
    "5.2": ["Exceptional Delivery Model for ECTR/ROTL and SPL ROTL", "COVID19 ECTR"],
}


@pytest.mark.parametrize("task_id", sorted(TABLE))
def test_sources_are_the_sources_column_of_the_row_and_nothing_else(
    tasks: dict[str, dict[str, Any]], task_id: str
) -> None:
    encoded = [str(s) for s in tasks[task_id]["sources"]]
    assert len(encoded) == len(SOURCES[task_id]), (task_id, encoded)
    for got, cell in zip(encoded, SOURCES[task_id], strict=True):
        assert got.startswith(cell), (task_id, got, cell)


def test_each_risk_of_serious_harm_reason_cites_both_orders_that_use_it() -> None:
    """The rank by risk of serious harm is row 2.4's at stages 3 to 1 and the stage 4 OASys
    line's in lockdown, so each such reason cites both; the five groups cite row 2.4 only and
    the pre-release reason the stage 4 line only (I-OMU-13, I-OMU-21)."""
    pack = yaml.safe_load(PACK.read_text(encoding="utf-8"))
    for value in pack["vocabulary"]["oasys_reason"]["values"]:
        cites = value["cite"] if isinstance(value["cite"], list) else [value["cite"]]
        rows = {c.get("row") for c in cites if c.get("table") == "Mandatory actions"}
        stage_4 = any(c["section"] == "OASys" for c in cites)
        if value["id"].startswith("rosh_"):
            assert rows == {"2.4"} and stage_4, value["id"]
        elif value["id"] == "pre_release":
            assert not rows and stage_4, value["id"]
        else:
            assert rows == {"2.4"} and not stage_4, value["id"]
