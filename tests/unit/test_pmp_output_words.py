"""Checks what the PMP pack says about its outputs and records against the guidance's words.

A worked example compares values, modalities and actors; it cannot read an output's
description, a vocabulary name or what an obligation's record says. These are the places where
the words shown beside a decision carried a strength or a name the guidance does not give.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

PACK = Path(__file__).resolve().parents[2] / "policies" / "pmp.yaml"


@pytest.fixture(scope="module")
def pack() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(PACK.read_text(encoding="utf-8"))
    return loaded


def _rule(pack: dict[str, Any], rule_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(r for r in pack["rules"] if r["id"] == rule_id)
    return found


def test_the_review_on_receiving_pending_advice_is_described_as_a_permission(
    pack: dict[str, Any],
) -> None:
    """Appendix A: the unit manager and prisoner "can ... carry out a review" (I-PMP-27)."""
    words = " ".join(pack["outputs"]["appendix_a_checks"]["description"].split())
    assert "owed" not in words.replace("never a review owed", "")
    assert "can be reviewed when the pending advice arrives" in words
    assert _rule(pack, "PMP-APPA-02")["obligation"]["modality"] == "may"


def test_the_marker_is_described_with_the_guidance_must(pack: dict[str, Any]) -> None:
    """Row 3: "NOMIS markers must be utilised to record the PMPs in place and declined"."""
    words = " ".join(pack["outputs"]["nomis_marker"]["description"].split())
    assert "must carry" in words
    assert "should carry" not in words
    for rule_id in ("PMP-REC-03", "PMP-DEC-04"):
        assert _rule(pack, rule_id)["obligation"]["modality"] == "must"


def test_the_guidance_change_trigger_is_named_as_one_that_may_review(
    pack: dict[str, Any],
) -> None:
    """Row 4: "an automatic review of all PMPs may be triggered" (I-PMP-16)."""
    values = pack["vocabulary"]["review_trigger_events"]["values"]
    name = next(v["name"] for v in values if v["id"] == "guidance_change")
    assert "may trigger" in name
    assert _rule(pack, "PMP-REV-04")["obligation"]["modality"] == "may"


def test_a_decision_to_decline_is_recorded_as_the_conversation_on_both_systems(
    pack: dict[str, Any],
) -> None:
    """Row 5: "the establishment must ensure that this conversation is recorded on both"."""
    records = _rule(pack, "PMP-DEC-02")["obligation"]["record"]
    assert [r["system"] for r in records] == ["NOMIS", "SystmOne"]
    assert all("conversation" in r["what"] for r in records)
    for rule_id in ("PMP-DEC-02", "PMP-DEC-03"):
        (value,) = _rule(pack, rule_id)["sets"].values()
        assert "record of the conversation" in value
