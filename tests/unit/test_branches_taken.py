"""A decision rests on what its items read on the branches their conditions took.

The key work compliance status reads the counts for an unknown minimum only where the minimum
is not known; at level 3 with the minimum known, neither they nor the level 1 minimums are part
of the reason, and its explanation does not list them. A branch chosen by healthcare-only data
is never pruned for a custodial audience: which readings a custodial decision names must not
follow clinical facts.
"""

from __future__ import annotations

import datetime as dt
import pickle
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

import engine
from engine.evaluation.branches import pack_reads
from engine.evaluation.decision import Decision

ROOT = Path(__file__).resolve().parents[2]
LEVEL_1 = "compliance_counts_without_minimum"


def _named(text: str) -> set[str]:
    """The parameters and definitions an explanation lists as steps."""
    return set(re.findall(r"^ *\d+\. (?:parameter|definition) `([^`]+)`", text, re.MULTILINE))


@pytest.fixture(scope="module")
def packs() -> Any:
    return engine.load(ROOT / "policies")


def _keywork(packs: Any, level: int, model: str | None) -> Decision:
    facts = yaml.safe_load((ROOT / "examples/prisoners/a2041kw_open_acct.yaml").read_text())
    facts["establishment"]["regime_level"] = level
    facts["establishment"]["keywork_model"] = model
    return packs.evaluate("keywork_edm", facts, as_of=dt.date(2020, 7, 1))  # type: ignore[no-any-return]


@pytest.mark.parametrize("read_back", [False, True])
def test_a_branch_not_taken_is_not_part_of_the_reason(packs: Any, read_back: bool) -> None:
    decision = _keywork(packs, 3, "weekly")
    if read_back:  # a decision in another process, without its pack: the same explanation
        decision = pickle.loads(pickle.dumps(decision))  # noqa: S301 - our own bytes
    named = _named(decision.explain("compliance"))
    assert "compliance_status" in named
    assert LEVEL_1 not in named
    assert "level_1_minimum_frequency" not in named
    assert "level_1_fortnightly_minimum_frequency" not in named


def test_the_branch_taken_is_part_of_the_reason(packs: Any) -> None:
    """At level 1 with the model not recorded, the minimum is not known: the level 1
    definition decides, and it and both minimums are listed."""
    decision = _keywork(packs, 1, None)
    named = _named(decision.explain("compliance"))
    assert {LEVEL_1, "level_1_minimum_frequency", "level_1_fortnightly_minimum_frequency"} <= named


def test_an_explanation_asked_for_an_item_off_the_path_still_explains_it(packs: Any) -> None:
    decision = _keywork(packs, 3, "weekly")
    named = _named(decision.explain(LEVEL_1))
    assert LEVEL_1 in named


def test_what_a_step_read_is_among_what_its_item_can_read(packs: Any) -> None:
    """The reads on the branches taken are a part of the item's static reads, never more."""
    pack = packs["keywork_edm"]
    every = {
        name: set().union(*(r.every() for r in item.exprs))
        for name, item in pack_reads(pack).items.items()
    }
    for level, model in [(4, "weekly"), (3, None), (2, "fortnightly"), (1, None), (1, "weekly")]:
        decision = _keywork(packs, level, model)
        for step in decision.steps:
            if step.kind == "definition":
                assert step.reads is not None
                assert set(step.reads) <= every[step.name], step.name


def _probe_facts(conditions: list[str]) -> dict[str, Any]:
    return {
        "prisoner": {
            "prison_number": "A1234BC",
            "date_of_birth": dt.date(1980, 1, 1),
            "clinical": {"conditions": conditions, "vaccine_doses": []},
            "pmp": {"single_cell_advised": True},
        }
    }


def test_a_branch_chosen_by_clinical_facts_is_not_pruned_for_custodial_staff() -> None:
    """`advice_by_group` chooses between two custodial readings by a clinical group: the two
    agree, so everything released is the same, and so must everything custodial staff see be,
    the interpretations relied upon and the explanation included."""
    loaded, _ = engine.check_paths([ROOT / "tests" / "data" / "ntk"])
    pack = loaded["ntk_probe"]
    as_of = dt.date(2022, 1, 1)
    alpha, beta = (
        engine.evaluate(pack, _probe_facts(c), as_of, "custodial")
        for c in (["blood_cancer"], ["sickle_cell_disease"])
    )
    assert alpha.outputs == beta.outputs
    assert alpha.to_dict() == beta.to_dict()
    assert {"I-NTK-02", "I-NTK-03"} <= {i.id for i in alpha.interpretations}
    for target in ("advice_seen", "advice_by_group", None):
        assert alpha.explain(target) == beta.explain(target)
    # for the healthcare audience the branch taken is the reason
    healthcare = engine.evaluate(pack, _probe_facts(["blood_cancer"]), as_of, "healthcare")
    named = _named(healthcare.explain("advice_seen"))
    assert "advice_recorded" in named
    assert "advice_on_record" not in named


@pytest.mark.parametrize(("level", "relied"), [(4, False), (3, True), (2, True), (1, False)])
def test_a_decision_relies_on_what_the_rows_its_tables_matched_read(
    packs: Any, level: int, relied: bool
) -> None:
    """Shorter sessions are read by the level 3 and level 2 rows of the session length
    table alone: a decision at level 4 or 1 does not rest on the reading of them (I-KW-38)."""
    facts = yaml.safe_load((ROOT / "examples/prisoners/e6485kw_ordinary.yaml").read_text())
    facts["establishment"]["regime_level"] = level
    decision = packs.evaluate("keywork_edm", facts, as_of=dt.date(2020, 7, 1))
    assert ("I-KW-38" in {i.id for i in decision.interpretations}) is relied


@pytest.mark.parametrize(
    ("level", "model", "relied"), [(3, "weekly", False), (1, "weekly", False), (1, None, True)]
)
def test_a_decision_relies_on_what_the_branch_its_quick_tests_took_reads(
    packs: Any, level: int, model: str | None, relied: bool
) -> None:
    """Compliance reads the counts for an unknown minimum only where the minimum is not known
    (`if not known(session_frequency)`): only there does the decision rest on the readings of
    an unknown minimum (I-KW-45, I-KW-46)."""
    decision = _keywork(packs, level, model)
    ids = {i.id for i in decision.interpretations}
    assert ("I-KW-45" in ids) is relied
    assert ("I-KW-46" in ids) is relied
    assert ("compliance_counts_without_minimum" in _named(decision.explain("compliance"))) is relied
