"""A facts document given as data (not JSON text) may nest without end: evaluation reports
the depth, for each audience as need-to-know allows, instead of recursing past the stack."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from engine.api import evaluate, load
from engine.problems import FactsError

PACK = load(Path(__file__).resolve().parents[2] / "policies")["pmp"]
DAY = dt.date(2023, 1, 2)


def _deep(levels: int) -> Any:
    value: Any = "x"
    for i in range(levels):
        value = [value] if i % 2 else {"k": value}
    return value


@pytest.mark.parametrize("audience", ["custodial", "healthcare"])
def test_an_endlessly_nested_fact_is_a_depth_problem(audience: str) -> None:
    facts = {"prisoner": {"rosh": "HIGH", "cell_location": _deep(3000)}}
    with pytest.raises(FactsError) as caught:
        evaluate(PACK, facts, DAY, audience)
    assert [p.code for p in caught.value.problems] == ["E-FACTS-DEPTH"]


def test_an_endlessly_nested_healthcare_record_is_seen_only_by_healthcare() -> None:
    facts = {"prisoner": {"rosh": "HIGH", "clinical": {"conditions": _deep(3000)}}}
    with pytest.raises(FactsError) as caught:
        evaluate(PACK, facts, DAY, "healthcare")
    assert [p.code for p in caught.value.problems] == ["E-FACTS-DEPTH"]
    # custodial staff learn nothing of it: the record is left out, as any invalid one is
    without = {"prisoner": {"rosh": "HIGH"}}
    decided = evaluate(PACK, facts, DAY, "custodial").to_dict()
    assert decided == evaluate(PACK, without, DAY, "custodial").to_dict()
