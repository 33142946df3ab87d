"""Local plans: structural narrowing, evaluation through a plan, decisions that cite it, the
national declarations, and need-to-know through local rules."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

import engine
import engine.api
from engine.api import load_overlay
from engine.packs.facts_schema import read_facts_file
from engine.packs.overlay import narrows
from tests.unit.national_packs import national

ROOT = Path(__file__).resolve().parents[2]
LOCAL = ROOT / "policies" / "local"
PRISONER = ROOT / "examples" / "local" / "g8607kw_post_closure.yaml"


def packs() -> engine.Packs:
    return national()


@cache
def under(code: str, pack: str = "keywork_edm") -> Any:
    return packs().with_plan(pack, code, ROOT / "policies")


def decide(code: str | None, facts: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    model = packs()["keywork_edm"] if code is None else under(code)
    data = read_facts_file(PRISONER)
    for k, v in (facts or {}).items():
        data[k] = {**data.get(k, {}), **v}
    return engine.evaluate(model, data, **kw).to_dict()


@pytest.mark.parametrize(
    ("national", "local", "expected"),
    [
        ("a == 1", "a == 1 and b", True),
        ("a == 1", "b and (a == 1)", True),
        ("a and b", "b and c and a", True),
        (None, "b", True),
        ("true", "b", True),
        ("a == 1", "a == 1", True),
        ("a or b", "a", True),
        ("a == 1 or b", "b and c", True),
        ("if a then b else c", "a and b", True),
        ("a and b", "if a then b else false", False),
        ("a == 1", "a == 1 or b", False),
        ("a == 1 and b", "a == 1 and c", False),
        ("x in [3, 2]", "x in [2, 3] and y", False),
        ("not a", "a and b", False),
        ("a ==", "a == 1 and b", None),
    ],
)
def test_narrowing_admits_nothing_the_national_condition_does_not(
    national: str | None, local: str, expected: bool | None
) -> None:
    assert narrows(national, local) is expected


NAMES = st.sampled_from(["a", "b == 2", "c in [1, 2]", "not d", "e > 3", "f or g"])


# at most 20 extra conjuncts: a chain of `and`s nests one level a conjunct, and an expression
# deeper than the language's limit (engine.language.parse.MAX_DEPTH) does not parse at all
@given(
    st.lists(NAMES, min_size=1, max_size=4, unique=True), st.lists(NAMES, min_size=1, max_size=20)
)
def test_adding_conjuncts_in_any_order_narrows(national: list[str], extra: list[str]) -> None:
    local = [*extra, *national]
    national_text = " and ".join(f"({c})" for c in national)
    assert narrows(national_text, " and ".join(f"({c})" for c in reversed(local))) is True
    assert narrows(national_text, f"({national_text}) or z") is False


def test_decisions_cite_the_plan_entry_beside_the_national_paragraph() -> None:
    got = decide("LEI")
    schema = json.loads((ROOT / "schemas" / "decision.schema.json").read_text())
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(got)
    plan = got["local_plan"]
    assert plan["establishment"] == {"code": "LEI", "name": "HMP Leeds"}
    assert plan["extends"] == {"pack": "keywork_edm", "version": "1"}
    assert {(s["part"], s["body"]) for s in plan["signoffs"]} == {
        ("rrmp", "pgd"),
        ("rrmp", "prison_gold"),
    }
    # level 1's frequency for this prisoner, a priority only by the plan's own group
    check = next(o for o in got["obligations"] if o["rule"] == "KW-L1-01")
    assert check["citations"][0]["section"] == "Key Work Exceptional Delivery Model"
    assert [e["entry"] for e in check["local"]] == ["choice:keywork_model", "rule:LEI-KW-01"]
    assert check["local"][0]["file"].endswith("policies/local/lei/keywork_edm.yaml")
    assert "rule:LEI-KW-01" in [e["entry"] for e in plan["entries"]]


def test_the_same_prisoner_differs_by_plan_only_where_the_plans_differ() -> None:
    lei, sdi = decide("LEI"), decide("SDI")
    assert lei["outputs"]["session_frequency"] == {"count": 3, "per": "month"}
    assert lei["outputs"]["is_priority"] and not sdi["outputs"]["is_priority"]
    assert sdi["outputs"]["session_frequency"] == {"count": 2, "per": "month"}
    assert "local_plan" not in decide(None, {"establishment": {"keywork_model": "weekly"}})
    same = {k for k in lei["outputs"] if lei["outputs"][k] == sdi["outputs"][k]}
    assert {"record_as", "level_descriptor", "allocation"} <= same


def test_plan_facts_fill_but_never_override() -> None:
    with pytest.raises(engine.EvaluationError) as info:
        decide("SDI", {"establishment": {"keywork_model": "weekly"}})
    assert info.value.code == "E-EVAL-PLAN"
    with pytest.raises(engine.EvaluationError):
        decide("SDI", {"establishment": {"code": "LEI"}})


def test_a_plan_of_another_pack_is_refused() -> None:
    with pytest.raises(engine.PackError) as info:
        packs().with_plan("omu_edm", LOCAL / "lei" / "keywork_edm.yaml")
    assert info.value.problems[0].code == "E-LOCAL-EXTENDS"


def test_the_example_plans_are_clean() -> None:
    for path in engine.api.overlay_files([LOCAL]):
        merged, problems = load_overlay(path, packs().packs)
        assert merged is not None and merged.local_plan is not None, path
        assert problems == [], [p.format() for p in problems]
        assert merged.local_plan.entries


def test_a_partial_task_without_options_is_a_warning(tmp_path: Path) -> None:
    pack = tmp_path / "pack.yaml"
    pack.write_text(
        "id: corpus\ntitle: T\nversion: 0.1.0\nstatus: draft\nsource: {title: T}\n"
        "versions: [{id: '1', effective_from: 2020-01-01}]\n"
        "tasks:\n  '1': {area: A, title: T, weighting: 2, autonomy: partial, cite: {section: A}}\n"
        "outputs: {x: {value: '1'}}\nlocal: {description: none open}\n",
        encoding="utf-8",
    )
    loaded, problems = engine.check_paths([pack])
    assert loaded and [(p.code, p.line, p.col) for p in problems] == [("W-LOCAL-OPTIONS", 8, 52)]


HEALTH_RULE = """\
extends: {pack: keywork_edm, version: "1"}
establishment: {code: LEI, name: HMP Leeds}
title: A plan with a group read from healthcare facts
version: 0.1.0
status: draft
effective_from: 2020-07-06
rules:
  - id: LEI-KW-77
    title: People with a blood cancer are a local priority group
    group: added_by_governor
    when: '"blood_cancer" in prisoner.clinical.conditions'
    agreement: {body: pgd, date: 2020-07-01}
"""


def test_a_local_group_read_from_healthcare_facts_leaks_nothing(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(HEALTH_RULE, encoding="utf-8")
    merged, problems = load_overlay(path, packs().packs)
    assert merged is not None, [p.format() for p in problems]
    seen = []
    for conditions in ([], ["blood_cancer"]):
        data = read_facts_file(PRISONER)
        data["prisoner"]["clinical"] = {"conditions": conditions}
        data["establishment"]["keywork_model"] = "weekly"
        got = engine.evaluate(merged, data, audience="custodial").to_dict()
        got.pop("content_hash")
        seen.append(json.dumps(got, sort_keys=True))
    assert seen[0] == seen[1]
    health = engine.evaluate(merged, data, audience="healthcare").to_dict()
    assert health["outputs"]["priority_groups"] == ["governor_added"]


def test_plan_rows_and_variations_as_data() -> None:
    from engine.tools.local_plan_views import render_local_plan, variations

    merged = under("LEI", "omu_edm")
    data = json.loads(render_local_plan(merged, None, "json"))
    local = {t["id"]: t["local"]["summary"] for t in data["tasks"]}
    assert local["1.1"] == "as stipulated nationally"
    assert "duty POM" in local["2.5"]
    found = variations(packs()["keywork_edm"], under("LEI"))
    narrowed = next(v for v in found if v["entry"] == "narrow:shorter_sessions_permitted")
    assert narrowed["national"] == "level in [3, 2]"
    assert [v["line"] for v in found] == sorted(v["line"] for v in found)
