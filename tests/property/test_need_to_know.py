"""Need-to-know as a security property: a custodial audience sees nothing that depends on
healthcare-only facts except through outputs and obligations a pack declares releasable.

Non-interference: two facts documents that differ only in their healthcare-only part, and
whose releasable results are the same, give custodial output that is the same to the byte, in
every format and in every explanation. And directly: no value taken from the healthcare-only
facts (the clinical dates here are all in the 1990s, which nothing else uses) ever appears.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from cli.report import render_markdown, render_text
from engine.packs.facts_schema import facts_schema

ROOT = Path(__file__).resolve().parents[2]


@cache
def packs() -> dict[str, Any]:
    loaded, _ = engine.check_paths([ROOT / "policies", ROOT / "tests" / "data" / "ntk"])
    return {pid: p for pid, p in loaded.items() if p.healthcare_names}


def _conditions() -> list[str]:
    clinical = facts_schema()["properties"]["prisoner"]["properties"]["clinical"]
    items = clinical["properties"]["conditions"]["items"]
    return [c for c in items["enum"] if c is not None]


NINETIES = st.dates(dt.date(1990, 1, 1), dt.date(1999, 12, 31))

clinical = st.fixed_dictionaries(
    {
        "conditions": st.lists(st.sampled_from(_conditions()), max_size=4, unique=True),
        "clinician_recommends_pmp": st.booleans(),
        "severely_immunosuppressed_at_primary_doses": st.booleans(),
        "vaccine_doses": st.lists(
            st.fixed_dictionaries({"date": NINETIES, "dose": st.integers(1, 5)}), max_size=4
        ),
    }
)

prisoner = st.fixed_dictionaries(
    {
        "prison_number": st.just("A1234BC"),
        "date_of_birth": st.one_of(
            st.dates(dt.date(1950, 1, 1), dt.date(1985, 12, 31)),
            st.dates(dt.date(2005, 1, 1), dt.date(2012, 12, 31)),
        ),
        "acct": st.sampled_from(["open", "post_closure", "none"]),
        "pmp": st.fixed_dictionaries(
            {
                "status": st.sampled_from(["none", "in_place", "declined"]),
                "last_reviewed_on": st.one_of(
                    st.none(), st.dates(dt.date(2022, 1, 1), dt.date(2023, 6, 1))
                ),
                "clinician_advice": st.sampled_from(["letter", "verbal", "pending", "none"]),
                "interim_arrangements": st.booleans(),
                "manager_agreed": st.booleans(),
                "single_cell_advised": st.booleans(),
                "unable_to_work_since": st.one_of(
                    st.none(), st.dates(dt.date(2022, 1, 1), dt.date(2023, 6, 1))
                ),
            }
        ),
        "clinical": clinical,
    }
)

establishment = st.fixed_dictionaries(
    {
        "code": st.just("SDI"),
        "regime_level": st.integers(1, 4),
        "outbreak_declared_on": st.one_of(
            st.none(), st.dates(dt.date(2022, 1, 1), dt.date(2023, 6, 1))
        ),
        "community_prevalence_high": st.booleans(),
        "guidance_changed_on": st.one_of(
            st.none(), st.dates(dt.date(2022, 1, 1), dt.date(2023, 6, 1))
        ),
    }
)


def _as_of(pack: Any, draw_days: int) -> dt.date:
    version = pack.versions[draw_days % len(pack.versions)]
    end = version.effective_to or version.effective_from + dt.timedelta(days=400)
    span = max((end - version.effective_from).days, 0)
    return version.effective_from + dt.timedelta(days=draw_days % (span + 1))


def renderings(pack_id: str, facts: dict[str, Any], as_of: dt.date) -> dict[str, str]:
    decision = engine.evaluate(packs()[pack_id], facts, as_of, "custodial")
    out = {
        "json": json.dumps(decision.to_dict(), sort_keys=True),
        "text": render_text(decision),
        "markdown": render_markdown(decision),
        "explain": decision.explain(),
    }
    for name in packs()[pack_id].outputs:
        out[f"explain {name}"] = decision.explain(name)
    return out


def released(pack_id: str, facts: dict[str, Any], as_of: dt.date) -> Any:
    """What the pack declares releasable, as the healthcare audience sees it."""
    pack = packs()[pack_id]
    decision = engine.evaluate(pack, facts, as_of, "healthcare")
    outputs = {n: decision.to_dict()["outputs"][n] for n, o in pack.outputs.items() if o.releasable}
    rules = sorted(
        o.rule
        for o in decision.obligations
        if (r := pack.rule(o.rule)) and r.obligation and r.obligation.releasable
    )
    return outputs, rules, decision.status, decision.missing_facts


def _pack_ids() -> list[str]:
    return sorted(packs())


@pytest.mark.parametrize("pack_id", _pack_ids())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p=prisoner, e=establishment, other=clinical, days=st.integers(0, 10_000), data=st.data())
def test_custodial_output_does_not_depend_on_healthcare_facts(
    pack_id: str,
    p: dict[str, Any],
    e: dict[str, Any],
    other: dict[str, Any],
    days: int,
    data: Any,
) -> None:
    pack = packs()[pack_id]
    as_of = _as_of(pack, days)
    facts_a = {"establishment": e, "prisoner": p}
    # b: the same person with other clinical facts; sometimes only reordered and re-dated
    facts_b = copy.deepcopy(facts_a)
    if data.draw(st.booleans()):
        shuffled = dict(p["clinical"])
        shuffled["conditions"] = list(reversed(shuffled["conditions"]))
        shuffled["vaccine_doses"] = [
            {**d, "date": d["date"] + dt.timedelta(days=data.draw(st.integers(0, 30)))}
            for d in shuffled["vaccine_doses"]
        ]
        facts_b["prisoner"]["clinical"] = shuffled
    else:
        facts_b["prisoner"]["clinical"] = other
    seen_a = renderings(pack_id, facts_a, as_of)
    for text in seen_a.values():
        leaked = re.findall(r"199\d-\d\d-\d\d", text)
        assert not leaked, f"a healthcare-only date reached custodial output: {leaked}"
    if released(pack_id, facts_a, as_of) != released(pack_id, facts_b, as_of):
        return  # what may be released differs, so the outputs may too
    seen_b = renderings(pack_id, facts_b, as_of)
    for fmt in seen_a:
        assert seen_a[fmt] == seen_b[fmt], f"custodial {fmt} differs with healthcare facts"


def test_the_probe_pack_withholds_its_basis() -> None:
    facts = {
        "prisoner": {
            "prison_number": "A1234BC",
            "date_of_birth": dt.date(1980, 1, 1),
            "clinical": {
                "conditions": ["blood_cancer"],
                "vaccine_doses": [{"date": dt.date(1999, 3, 4), "dose": 1}],
            },
            "pmp": {"single_cell_advised": True},
        }
    }
    pack = packs()["ntk_probe"]
    custodial = engine.evaluate(pack, facts, dt.date(2022, 1, 1), "custodial")
    healthcare = engine.evaluate(pack, facts, dt.date(2022, 1, 1), "healthcare")
    assert custodial.outputs["eligible"] is True
    assert "basis" not in custodial.outputs and "basis" in custodial.withheld
    assert healthcare.outputs["basis"] == ["group_alpha"]
    assert custodial.outputs["needs_single_cell"] is True  # derived from a released output
    assert [o.rule for o in custodial.obligations] == ["R-SEEN"]
    assert custodial.obligations[0].reasons_withheld
    everything = json.dumps(custodial.to_dict()) + custodial.explain() + render_text(custodial)
    for secret in ("blood_cancer", "Secret", "in_alpha", "group_alpha", "1999-", "I-NTK-01"):
        assert secret not in everything.replace('"blood_cancer", "organ', "")
    assert "clinical reasons withheld" in custodial.explain()
