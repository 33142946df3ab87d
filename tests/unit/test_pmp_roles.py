"""Checks who each PMP rule names where the guidance's own sentence names who must act."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

PACK = Path(__file__).resolve().parents[2] / "policies" / "pmp.yaml"

# Typed by hand from the PMP guidance (source 000_11b96443687f8c08.txt): for each rule whose
# sentence names the one who acts, that actor, with the words that name them. Rules whose
# sentence is passive and names no one are left out: the pack chooses their role (I-PMP-41).
NAMED: dict[str, tuple[str, str]] = {
    "PMP-REQ-01": ("establishment", "Establishments must ensure that PMPs are in place"),
    "PMP-DEV-01": ("clinical professional", "Plans must be commenced by a clinical professional"),
    "PMP-DEV-05": ("establishment and healthcare", "prison and healthcare services"),
    "PMP-DEV-06": (
        "the person, their unit manager and key worker or offender manager, and other stakeholders",
        "collaboratively between the individual, their unit manager, key worker / offender manager",
    ),
    "PMP-ADJ-04": (
        "wing managers, key workers, landing staff and, where required, healthcare staff",
        "must then be facilitated by wing managers, keyworkers, landing staff and, if required",
    ),
    "PMP-ADJ-02": ("establishment", "Establishments must be sure that the adjustments"),
    "PMP-AGREE-01": ("governor", "Governors must ensure that all Personal Management Plans"),
    "PMP-WELL-01": ("establishment", "Establishments must be aware of the potential impacts"),
    "PMP-WELL-02": ("establishment", "[Establishments] should be cautious to identify"),
    "PMP-REC-01": ("establishment", "Establishments must ensure that details ... case note"),
    "PMP-REC-02": ("establishment", "[Establishments must] work with healthcare so that"),
    "PMP-AWARE-01": ("staff", "Staff must be aware of the plans in place"),
    "PMP-AWARE-03": ("staff", "[Staff] should familiarise themselves ... if cross-deployed"),
    "PMP-AGREE-02": ("appropriate manager", "an appropriate manager who should be aware"),
    "PMP-DEC-01": ("establishment", "Establishments must ensure that all prisoners ... understand"),
    "PMP-DEC-02": ("establishment", "the establishment must ensure that this conversation"),
    "PMP-DEC-06": ("establishment", "which establishments can utilise to record decisions"),
    "PMP-REV-07": ("establishment", "Establishments must ensure that PMPs are reviewed"),
    "PMP-REV-06": ("establishment", "establishments may wish to conduct reviews more regularly"),
    "PMP-APPA-01": ("unit manager and the person", "the unit manager and prisoner can agree"),
    "PMP-APPA-02": ("unit manager and the person", "[the unit manager and prisoner can] carry out"),
    "PMP-EST-01": ("establishment", "Establishments must work with their local health providers"),
    "PMP-EST-02": ("prison and healthcare leaders", "jointly between Prison and Healthcare"),
    "PMP-EST-03": ("establishment", "Establishments must ensure that discussion of PMPs"),
    "PMP-EST-04": ("establishment", "Establishments must work with partners"),
    "PMP-EST-06": ("establishment and clinicians", "Prisons and clinicians should review"),
    "PMP-EST-07": ("establishment", "establishments ... may wish to co-locate them"),
    "PMP-EST-08": ("governor", "A Governor may determine"),
    "PMP-EST-12": ("establishment", "Establishments must develop a process"),
    "PMP-EST-13": ("establishment", "Establishments should ensure that local systems"),
    "PMP-EST-14": ("establishment", "Establishments must ensure that accurate records"),
    "PMP-EST-16": ("establishment", "Sites should consider that there may be further updates"),
    "PMP-DEV-08": ("establishment", "Establishments should use the below specification"),
}


@pytest.fixture(scope="module")
def rules() -> dict[str, dict[str, Any]]:
    pack = yaml.safe_load(PACK.read_text(encoding="utf-8"))
    return {str(r["id"]): r for r in pack["rules"]}


@pytest.mark.parametrize("rule_id", sorted(NAMED))
def test_the_rule_names_who_the_guidance_names(
    rules: dict[str, dict[str, Any]], rule_id: str
) -> None:
    who, words = NAMED[rule_id]
    assert rules[rule_id]["obligation"]["who"] == who, words


def test_every_rule_whose_sentence_names_no_one_records_the_reading(
    rules: dict[str, dict[str, Any]],
) -> None:
    """A rule whose sentence is passive has its role chosen by the pack: I-PMP-41 says how."""
    silent = [
        rid
        for rid, rule in rules.items()
        if rid not in NAMED
        and "obligation" in rule
        and "I-PMP-41" not in (rule.get("interpretations") or [])
    ]
    assert silent == []


def test_the_reminder_and_the_new_offer_after_declining_are_the_establishments(
    rules: dict[str, dict[str, Any]],
) -> None:
    """Both are steps of the establishment's process for those who decline (row 5's outcome).

    The outbreak rule asks the establishment to offer plans again too: one offer, one actor.
    """
    assert rules["PMP-DEC-05"]["obligation"]["who"] == "establishment"
    assert rules["PMP-DEC-07"]["obligation"]["who"] == "establishment"
    assert rules["PMP-EST-10"]["obligation"]["who"] == rules["PMP-DEC-07"]["obligation"]["who"]
