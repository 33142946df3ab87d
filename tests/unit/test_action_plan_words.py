"""Checks the action plan pack's descriptive words and a plan's named fields against the text.

A worked example compares outputs; it cannot read a vocabulary description or a field no output
reads. These are the places where the words said more than the printed text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
FRAMEWORK = ROOT / "policies" / "action_plans" / "framework.yaml"
SEND = ROOT / "policies" / "action_plans" / "hmp_send_2019.yaml"
SEND_SOURCE = ROOT.parent / "shared" / "sources" / "004_c9bc2a767525f00c.txt"


def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def test_the_reasons_for_not_agreeing_in_full_are_ones_it_might_be() -> None:
    """The categorisations table: "This might be because ... commissioning, policy, ..."."""
    values = _load(FRAMEWORK)["vocabulary"]["response_category"]["values"]
    for value in values:
        words = " ".join(value["description"].split())
        assert "typically" not in words
        if value["id"] != "agreed":
            assert "might be" in words


def test_the_send_report_title_is_the_plan_heading_not_a_made_up_one() -> None:
    """The Send plan gives the report no title beyond its heading: "HMCIP REPORT", "HMP SEND"."""
    title = _load(SEND)["action_plan"]["report"]["title"]
    assert title == "HMCIP Report, HMP Send"
    if SEND_SOURCE.exists():
        text = SEND_SOURCE.read_text(encoding="utf-8")
        assert "ACTION PLAN: HMCIP REPORT" in text
        assert "ESTABLISHMENT: HMP SEND" in text
