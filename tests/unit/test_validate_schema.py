"""Tests for schema validation: the shipped schemas themselves, errors mapped to YAML positions
(the corpus under tests/corpus/schema), and facts checked with their JSON path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from engine.language.convert import to_json
from engine.packs.read_yaml import read_yaml, read_yaml_file
from engine.packs.resources import load_schema, registry, schema_dir, schema_path
from engine.packs.validate_schema import validate_document, validate_pack
from engine.problems import PackError, Problem

from .corpus_expect import assert_as_expected

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "schema"

HEADER = """\
id: demo
title: Demo pack
version: 1.0.0
status: draft
source: {title: Demo policy, published: 2020-06-01, url: null}
versions:
  - {id: "1", effective_from: 2020-01-01, effective_to: null}
"""

CONDITIONS = {
    "blood_cancer",
    "immunosuppressive_treatment",
    "organ_or_bone_marrow_transplant",
    "very_high_infection_risk",
    "third_dose_advised",
    "downs_syndrome",
    "cancer",
    "sickle_cell_disease",
    "blood_condition",
    "ckd_stage_4_or_5",
    "severe_liver_disease",
    "organ_transplant",
    "autoimmune_or_inflammatory",
    "hiv_aids_weakened_immunity",
    "immune_system_condition",
    "rare_neurological_condition",
}


def check(text: str) -> list[Problem]:
    return validate_pack(read_yaml(text, "p.yaml"))


# --- the schemas --------------------------------------------------------------------------


def all_schemas() -> list[Path]:
    return sorted(schema_dir().rglob("*.schema.json"))


@pytest.mark.parametrize("path", all_schemas(), ids=lambda p: p.name)
def test_schema_is_valid_2020_12(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].startswith("https://regime.example/schemas/")
    assert schema["$id"].endswith("/" + path.name)


def _walk(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        found.append((path, node))
        for key, value in node.items():
            found += _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _walk(value, f"{path}/{index}")
    return found


@pytest.mark.parametrize(
    "name", ["pack", "facts", "facts/establishment", "facts/prisoner"], ids=str
)
def test_every_property_has_a_description(name: str) -> None:
    for where, node in _walk(load_schema(name)):
        if where.split("/")[-1] == "properties":
            continue  # a property named `properties`, not the keyword
        for key, sub in node.get("properties", {}).items():
            if isinstance(sub, dict):
                assert sub.get("description"), f"{name}{where}/properties/{key}"


@pytest.mark.parametrize("name", ["facts/establishment", "facts/prisoner", "facts"], ids=str)
def test_facts_objects_are_closed(name: str) -> None:
    for where, node in _walk(load_schema(name)):
        kinds = node.get("type")
        kinds = [kinds] if isinstance(kinds, str) else kinds or []
        if "object" in kinds and where.split("/")[-1] != "properties":
            if "properties" in node:
                assert node.get("additionalProperties") is False, f"{name}{where}"


def test_facts_fields_are_optional_and_nullable() -> None:
    for name in ["facts/establishment", "facts/prisoner"]:
        for where, node in _walk(load_schema(name)):
            assert "required" not in node, f"{name}{where}"
            if where.split("/")[-2:-1] == ["properties"] and "type" in node:
                kinds = node["type"]
                assert isinstance(kinds, list) and "null" in kinds, f"{name}{where}"


def test_facts_schema_contract() -> None:
    prisoner = load_schema("facts/prisoner")["properties"]
    clinical = prisoner["clinical"]
    assert clinical["x-audience"] == "healthcare"
    assert set(clinical["properties"]["conditions"]["items"]["enum"]) == CONDITIONS
    assert prisoner["prison_number"]["pattern"] == "^[A-Z][0-9]{4}[A-Z]{2}$"
    session = prisoner["keywork"]["properties"]["sessions"]["items"]["properties"]
    assert set(session) >= {"date", "kind", "minutes"}
    facts = load_schema("facts")
    assert set(facts["properties"]) >= {"as_of", "establishment", "prisoner", "action_plan"}
    assert facts["properties"]["prisoner"]["$ref"] == "prisoner.schema.json"


def test_schema_lookup() -> None:
    assert schema_path("pack").name == "pack.schema.json"
    assert schema_path("facts") == schema_path("facts/facts")
    assert schema_path("prisoner.schema.json").parent.name == "facts"
    assert load_schema("pack") is load_schema("pack")
    ids = set(registry())
    assert "https://regime.example/schemas/facts/prisoner.schema.json" in ids
    with pytest.raises(FileNotFoundError):
        schema_path("no_such_schema")


# --- packs --------------------------------------------------------------------------------


def test_minimal_pack_is_valid() -> None:
    assert check(HEADER) == []


FULL = (
    HEADER
    + """\
imports: [common]
facts: facts
summary: A pack using every part of the format.
vocabulary:
  regime_level:
    description: Levels.
    values:
      - {id: 4, name: Lockdown, colour: Red, cite: {section: Levels}}
      - {id: 3, name: Restricted}
parameters:
  period:
    description: A period.
    values:
      - {from: 2020-01-01, to: null, value: 4 weeks, cite: {section: Levels, paragraph: 2}}
definitions:
  short: establishment.regime_level == 4
  long:
    expr: 3
    description: Three.
    interpretations: [I-1]
tables:
  delivery:
    hit: unique
    inputs: {level: establishment.regime_level}
    rows:
      - id: row-4
        when: {level: [4, 3]}
        then: {sessions: '{count: 1, per: "week"}'}
        cite: {section: Levels, table: Delivery, row: Level 4}
outputs:
  sessions: {from_table: delivery, default: null}
  groups: {from_rules: collect, default: "[]"}
  flag: {value: true, releasable: true, withheld_reason: reasons withheld}
rules:
  - id: R-1
    title: A rule
    when: establishment.regime_level == 4
    versions: ["1"]
    sets: {groups: '"a"'}
    obligation:
      modality: must
      text: Do it.
      who: someone
      due: as_of + 7 days
      frequency: '{count: 1, per: "week"}'
      record: [{system: S, what: note, type: T, subtype: U}]
      releasable: false
    cite: [{section: Levels}, {section: Other, document: other.txt, note: n}]
    interpretations: [I-1]
tasks:
  "1.1":
    area: A
    title: T
    baseline: B
    weighting: 3
    autonomy: partial
    mandatory: true
    stages: [4, 3]
    sources: [X]
    after: [{task: "1.2", interpretation: I-1, cite: {section: Levels}}]
graph: {weighting_precedence: true}
interpretations:
  - {id: I-1, kind: gap, question: Q, choice: C., why: W., cite: {section: Levels}}
tests:
  cases:
    - name: a case
      as_of: 2020-07-01
      audience: custodial
      facts: {establishment: {regime_level: 4}}
      expect: {status: decided, outputs: {flag: true}, obligations: [R-1]}
"""
)


def test_full_pack_is_valid() -> None:
    assert [p.format() for p in check(FULL)] == []


def _corpus() -> list[Path]:
    return sorted(CORPUS.glob("*.yaml"))


@pytest.mark.parametrize("path", _corpus(), ids=lambda p: p.stem)
def test_corpus(path: Path) -> None:
    try:
        problems = validate_pack(read_yaml_file(path))
    except PackError as error:
        problems = error.problems
    assert problems, f"{path.name}: no problem found"
    problem = problems[0]
    assert_as_expected(problem, path)
    assert "\n" not in problem.message
    assert "Additional properties" not in problem.message
    assert "is not valid under" not in problem.message


def test_corpus_is_not_empty() -> None:
    assert len(_corpus()) >= 10


def test_unknown_field_suggests() -> None:
    problems = check(HEADER + "rules:\n  - id: R-1\n    title: T\n    whn: x\n")
    assert [(p.message, p.hint, p.line, p.col) for p in problems] == [
        ("unknown field `whn` in a rule", "did you mean `when`?", 11, 5)
    ]


def test_every_problem_is_reported_in_order() -> None:
    text = HEADER + "rules:\n  - {title: no id}\n  - {id: R-2, title: T, when: [1]}\nrulez: 1\n"
    problems = check(text)
    assert [(p.line, p.code) for p in problems] == [
        (9, "E-SCHEMA"),
        (10, "E-SCHEMA"),
        (11, "E-SCHEMA"),
    ]
    assert "missing required field `id` in a rule" in problems[0].message
    assert "`when` must be an expression" in problems[1].message


def test_one_of_picks_the_branch_that_fits() -> None:
    problems = check(HEADER + "definitions:\n  d: {expr: x, descriptoin: y}\n")
    assert [p.message for p in problems] == ["unknown field `descriptoin` in a definition"]
    problems = check(HEADER + "rules:\n  - {id: R, title: T, cite: [{sectoin: S}]}\n")
    assert {p.message for p in problems} == {
        "unknown field `sectoin` in a citation",
        "missing required field `section` in a citation",
    }


def test_comma_in_flow_mapping_hint() -> None:
    problems = check(HEADER + "rules:\n  - {id: R, title: T, cite: {section: S, note: a, b}}\n")
    assert "comma" in (problems[0].hint or "")


def test_tests_file() -> None:
    text = "pack: demo\ncases:\n  - name: c\n    expect: {status: decidd}\n"
    doc = read_yaml(text, "t.yaml")
    problems = validate_document(doc.data, "tests", doc.file, doc)
    assert [(p.code, p.line, p.col) for p in problems] == [("E-SCHEMA", 4, 22)]
    assert problems[0].hint == "did you mean `decided`?"
    doc = read_yaml("cases: []\n", "t.yaml")
    messages = [p.message for p in validate_document(doc.data, "tests", doc.file, doc)]
    assert "missing required field `pack` at the top level" in messages


# --- facts --------------------------------------------------------------------------------


def test_facts_json_paths_at_one_one() -> None:
    facts = {
        "as_of": "2020-02-30",
        "prisoner": {"prison_number": "A12", "acct": "opened", "clinical": {"conditions": ["x"]}},
        "establishment": {"regime_level": 5, "codee": "SDI"},
    }
    problems = validate_document(facts, "facts", "f.json")
    assert all((p.code, p.line, p.col) == ("E-FACTS", 1, 1) for p in problems)
    messages = [p.message for p in problems]
    assert "`$.prisoner.acct`: `opened` is not one of `open`, `post_closure`, `none`" in messages
    assert "`$.as_of`: `2020-02-30` is not a date" in messages
    assert "`$.establishment`: unknown field `codee`" in messages
    assert "`$.establishment.regime_level`: `5` is not an integer from 1 to 4" in messages
    assert any(m.startswith("`$.prisoner.prison_number`:") for m in messages)
    assert any(m.startswith("`$.prisoner.clinical.conditions[0]`:") for m in messages)


def test_facts_null_and_absent_are_fine() -> None:
    facts: dict[str, Any] = {
        "as_of": None,
        "establishment": {"regime_level": None, "keywork_model": None},
        "prisoner": {"rosh": None, "release_date": None, "keywork": None, "clinical": {}},
    }
    assert validate_document(facts, "facts", "f.json") == []
    assert validate_document({}, "facts", "f.json") == []


def test_facts_from_yaml_have_positions() -> None:
    text = (
        "as_of: 2020-07-01\n"
        "prisoner:\n"
        "  prison_number: A1234BC\n"
        "  keywork:\n"
        "    sessions:\n"
        "      - {date: 2020-06-30, kind: session, minutes: 45}\n"
        "      - {date: 2020-06-29, kind: chat, minutes: 45}\n"
    )
    doc = read_yaml(text, "f.yaml")
    problems = validate_document(doc.data, "facts", doc.file, doc)
    assert [(p.code, p.line, p.col) for p in problems] == [("E-FACTS", 7, 34)]
    assert problems[0].message.startswith("`$.prisoner.keywork.sessions[1].kind`: `chat`")


def test_sub_schema_by_name() -> None:
    assert validate_document({"acct": "open"}, "prisoner", "p.json") == []
    problems = validate_document({"acct": "shut"}, "facts/prisoner", "p.json")
    assert problems[0].code == "E-FACTS"


def test_to_json() -> None:
    doc = read_yaml("a: 2020-01-02\n1.50: x\nb: [2020-01-03]\nc: 6.50\n", "t.yaml")
    data = to_json(doc.data)
    assert data["a"] == "2020-01-02"
    assert data["1.50"] == "x"
    assert data["b"] == ["2020-01-03"]
    assert str(data["c"]) == "6.50"


def test_unknown_fact_field_in_yaml() -> None:
    doc = read_yaml("establishment:\n  code: SDI\n  regime_levle: 4\n", "f.yaml")
    problems = validate_document(doc.data, "facts", doc.file, doc)
    assert [(p.message, p.hint, p.line, p.col) for p in problems] == [
        ("`$.establishment`: unknown field `regime_levle`", "did you mean `regime_level`?", 3, 3)
    ]
