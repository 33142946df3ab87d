"""Obligations whose modality forbids (must_not, should_not) say in their text what is not to
be done, so a reader of "SHOULD NOT: <text>" is never told the opposite of the rule."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

import engine

ROOT = Path(__file__).resolve().parents[2]
NEGATIVE = ("must_not", "should_not")


@cache
def _packs() -> engine.Packs:
    """Every shipped pack (immutable, so tests may share them)."""
    return engine.load(ROOT / "policies")


def _negative_obligations() -> list[tuple[str, str, str]]:
    return [
        (pid, rule.id, rule.obligation.text)
        for pid in ("action_plan", "keywork_edm", "omu_edm", "pmp")
        for rule in _packs()[pid].rules
        if rule.obligation is not None and rule.obligation.modality in NEGATIVE
    ]


def test_some_negative_obligations_are_checked() -> None:
    assert len(_negative_obligations()) >= 4


@pytest.mark.parametrize(("pack", "rule", "text"), _negative_obligations())
def test_negative_obligation_text_names_what_not_to_do(pack: str, rule: str, text: str) -> None:
    # "Do not ..." (the packs' convention), or a sentence that itself says "must/should not".
    said = text.startswith("Do not ") or " must not " in text or " should not " in text
    assert said, f"{pack} {rule}: a {NEGATIVE} text that reads as a positive instruction: {text!r}"


def test_action_plan_not_agreed_target_rule_forbids_a_target() -> None:
    rule = next(r for r in _packs()["action_plan"].rules if r.id == "AP-NA-03")
    assert rule.obligation is not None
    assert rule.obligation.modality == "should_not"
    assert rule.obligation.text.startswith("Do not give")
