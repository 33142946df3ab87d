"""The should to put an OASys assessment ahead of the backlog follows the groups that earn it, not
the rank: row 2.4's five groups at stages 3 to 1 (OMU-OA-01) and a pre-release assessment in
lockdown (OMU-OA-03). A fact that can only change the rank leaves neither rule undetermined, and
a fact that decides whether the prisoner is in a group still does (I-OMU-21)."""

from __future__ import annotations

import copy
import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

import pytest

import engine

ROOT = Path(__file__).resolve().parents[2]
AS_OF = dt.date(2020, 7, 15)
ABSENT = object()
GROUPS = "OMU-OA-01"
LOCKDOWN = "OMU-OA-03"

BASE: dict[str, Any] = {
    "establishment": {"code": "WWI", "name": "HMP Wandsworth", "regime_level": 3},
    "prisoner": {
        "prison_number": "A9190WW",
        "date_of_birth": dt.date(1980, 1, 1),
        "acct": "none",
        "rosh": "LOW",
        "tact": False,
        "pathfinder_recommended": False,
        "cev": False,
        "governor_priority": False,
        "sentence_type": "determinate",
        "release_date": dt.date(2023, 1, 1),
        "irmm_keywork_from": None,
        "pathfinder_keywork_from": None,
        "omu": {
            "pre_release_assessment_due": False,
            "opd_screened": True,
            "newly_sentenced_indeterminate": False,
            "in_handover_period": False,
            "approaching_parole": False,
            "early_allocation": False,
            "care_experienced": False,
            "moving_to_open": False,
            "covid_spl_release": False,
            "youth_to_adult_transition": False,
        },
    },
}


@cache
def omu() -> Any:
    """The OMU pack, loaded once."""
    return engine.load(ROOT / "policies")["omu_edm"]


def _decide(**changes: Any) -> Any:
    """Decide for the base facts with the changes given (`a.b` paths; ABSENT removes the fact)."""
    facts = copy.deepcopy(BASE)
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = facts
        for key in parents:
            node = node[key]
        if value is ABSENT:
            node.pop(last, None)
        else:
            node[last] = value
    return engine.evaluate(omu(), facts, AS_OF, "custodial")


def _applies(decision: Any, rule: str) -> bool:
    return rule in [o.rule for o in decision.obligations]


@pytest.mark.parametrize("stage", [3, 2, 1])
def test_rosh_not_known_outside_the_groups_leaves_neither_should_open(stage: int) -> None:
    decision = _decide(establishment__regime_level=stage, prisoner__rosh=None)
    assert decision.status == "undetermined"
    assert list(decision.missing_facts) == ["prisoner.rosh"]
    for rule in (GROUPS, LOCKDOWN):
        assert rule not in decision.undetermined
        assert not _applies(decision, rule)


@pytest.mark.parametrize(
    ("changes", "missing"),
    [
        (
            {"prisoner__omu__in_handover_period": True, "prisoner__omu__early_allocation": None},
            "prisoner.omu.early_allocation",
        ),
        (
            {
                "prisoner__omu__youth_to_adult_transition": True,
                "prisoner__omu__moving_to_open": ABSENT,
            },
            "prisoner.omu.moving_to_open",
        ),
    ],
    ids=["handover, early allocation null", "youth to adult, move to open absent"],
)
def test_a_known_group_gets_the_should_while_an_earlier_group_is_not_known(
    changes: dict[str, Any], missing: str
) -> None:
    decision = _decide(**changes)
    assert decision.outputs["oasys_priority"] is None
    assert missing in decision.missing_facts
    assert _applies(decision, GROUPS)
    assert LOCKDOWN not in decision.undetermined and not _applies(decision, LOCKDOWN)


def test_the_stage_not_known_leaves_only_the_rule_whose_group_holds_open() -> None:
    decision = _decide(
        establishment__regime_level=ABSENT, prisoner__omu__pre_release_assessment_due=True
    )
    assert LOCKDOWN in decision.undetermined
    assert GROUPS not in decision.undetermined and not _applies(decision, GROUPS)
    assert "establishment.regime_level" in decision.missing_facts


def test_a_group_not_known_at_stage_3_leaves_the_should_open() -> None:
    decision = _decide(prisoner__omu__covid_spl_release=None)
    assert GROUPS in decision.undetermined
    assert list(decision.missing_facts) == ["prisoner.omu.covid_spl_release"]


def test_pre_release_not_known_in_lockdown_leaves_the_lockdown_should_open() -> None:
    decision = _decide(
        establishment__regime_level=4, prisoner__omu__pre_release_assessment_due=None
    )
    assert LOCKDOWN in decision.undetermined
    assert GROUPS not in decision.undetermined and not _applies(decision, GROUPS)


def _output_step(text: str, output: str) -> str:
    """The explanation's step for the output: its line and the indented lines under it."""
    first, *rest = text[text.index(f"output `{output}`") :].split("\n")
    step = [first]
    for line in rest:
        if not line.startswith(" " * 9):
            break
        step.append(line)
    return "\n".join(step)


@pytest.mark.parametrize("output", ["oasys_priority", "oasys_priority_reason"])
def test_the_lockdown_rank_and_its_reason_cite_the_stage_4_oasys_line(output: str) -> None:
    """In lockdown the pre-release rank comes from the OASys line of the stage 4 list, not from
    row 2.4: the explanation's step for the output, and its reason, cite that line."""
    decision = _decide(
        establishment__regime_level=4, prisoner__omu__pre_release_assessment_due=True
    )
    assert decision.outputs["oasys_priority_reason"] == "pre_release"
    step = _output_step(decision.explain(output), output)
    assert "“OASys”" in step, step
    assert "I-OMU-21" in step, step
