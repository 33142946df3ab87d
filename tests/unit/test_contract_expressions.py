"""The expression language reads like the policy: each example expression the product contract
gives loads, type-checks against the real facts schema and decides on an example person."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

import engine

ROOT = Path(__file__).resolve().parents[2]

EXAMPLES = {
    "acct_open": 'prisoner.acct == "open"',
    "high_rosh_near_release": (
        'prisoner.rosh in ["HIGH", "VERY_HIGH"] and prisoner.release_date - as_of <= 4 weeks'
    ),
    "review_due": "as_of >= prisoner.pmp.last_reviewed_on + review_interval",
    "lockdown": "establishment.regime_level == 4",
    "aged_12": "age(prisoner.date_of_birth) >= 12",
    "treatment_eligible": (
        "any c in prisoner.clinical.conditions: c in treatment_eligible_conditions"
    ),
    "seen_this_week": "count(s in prisoner.keywork.sessions: s.date > as_of - 7 days) >= 1",
    "per_month": 'if establishment.keywork_model == "fortnightly" then 2 else 4',
}


def pack_text() -> str:
    outputs = {name: {"value": expr} for name, expr in EXAMPLES.items()}
    return yaml.safe_dump(
        {
            "id": "contract",
            "title": "The contract's example expressions",
            "version": "0.1.0",
            "status": "draft",
            "source": {"title": "Test"},
            "versions": [{"id": "1", "effective_from": dt.date(2020, 1, 1), "effective_to": None}],
            "parameters": {
                "review_interval": {
                    "values": [{"from": dt.date(2020, 1, 1), "to": None, "value": "3 months"}],
                    "cite": {"section": "Test", "paragraph": 1},
                }
            },
            "definitions": {"treatment_eligible_conditions": '["cancer", "downs_syndrome"]'},
            "outputs": outputs,
        },
        sort_keys=False,
    )


@pytest.fixture(scope="module")
def packs(tmp_path_factory: pytest.TempPathFactory) -> engine.Packs:
    folder = tmp_path_factory.mktemp("contract")
    (folder / "contract.yaml").write_text(pack_text(), encoding="utf-8")
    return engine.load(folder)


def test_every_example_expression_loads_without_problems(packs: engine.Packs) -> None:
    assert list(packs["contract"].outputs) == list(EXAMPLES)
    assert tuple(packs.problems) == () and tuple(packs.warnings) == ()


def test_the_examples_decide_on_an_example_person(packs: engine.Packs) -> None:
    example = ROOT / "examples" / "pmp" / "a1101pm_immunosuppressed_plan.yaml"
    facts = yaml.safe_load(example.read_text(encoding="utf-8"))
    facts["prisoner"]["clinical"]["conditions"] = ["cancer"]
    decision = packs.evaluate("contract", facts, audience="healthcare")
    assert decision.status == "decided"
    outputs = decision.outputs
    assert all(isinstance(outputs[name], bool) for name in EXAMPLES if name != "per_month")
    assert outputs["treatment_eligible"] is True
    assert outputs["aged_12"] is True
    assert outputs["per_month"] in (2, 4)
