"""The worked examples compare only part of a decision: that part equals `to_dict()`'s."""

from __future__ import annotations

from pathlib import Path

import pytest

import engine
from engine.tools import worked_examples as W

POLICIES = Path(__file__).resolve().parents[2] / "policies"


def test_the_compared_part_of_every_case_decision_is_to_dicts() -> None:
    packs = engine.load(POLICIES)
    cases, problems = W.read_cases(W.test_files([POLICIES]), packs)
    assert not problems and len(cases) > 200
    decided = 0
    for case in cases:
        result = W.run_case(case, packs)
        assert result.passed, (case.name, result.failures)
        if result.decision is None:
            continue
        decided += 1
        full = result.decision.to_dict()
        part = W._compared(result.decision)
        assert part == {
            "status": full["status"],
            "outputs": full["outputs"],
            "obligations": [{"rule": o["rule"]} for o in full["obligations"]],
            "interpretations": [{"id": i["id"]} for i in full["interpretations"]],
            "missing_facts": full["missing_facts"],
            "withheld": full["withheld"],
        }, case.name
    assert decided > 200


def test_a_case_file_read_back_gives_the_same_cases(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cases from the disk cache: the same data and lines as read afresh."""
    from engine import disk_cache

    files = W.test_files([POLICIES])
    monkeypatch.setenv(disk_cache.ENV, "off")
    fresh = W.read_cases(files, {})
    monkeypatch.setenv(disk_cache.ENV, str(tmp_path))
    assert W.read_cases(files, {}) == fresh
    assert len(list((tmp_path / "cases").glob("*.pickle"))) == len(files)
    assert W.read_cases(files, {}) == fresh
