"""Local plans that narrow a boolean definition the national pack opens to narrowing: the
narrowed value reaches every item reading it (a table's cell as well as a rule's condition),
widening it is refused at the plan's own line, an undeclared rule reading a declared
definition is pointed at the definition, and a national pack's declarations name real, boolean
things."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import engine
from engine.api import load_overlay

NATIONAL = """\
id: tiny
title: A small national pack
version: 0.1.0
status: draft
source: {title: T}
facts: facts
versions: [{id: '1', effective_from: 2020-01-01}]
definitions:
  level:
    expr: establishment.regime_level
  may_shorten:
    expr: level in [3, 2]
    cite: {section: A}
rules:
  - id: R-01
    title: Shorter sessions
    when: may_shorten
    obligation: {modality: may, text: Sessions may be shorter., who: staff}
    cite: {section: A}
  - id: R-02
    title: Reports at levels 3 and 2
    when: level in [3, 2]
    obligation: {modality: may, text: Reports may be brief., who: staff}
    cite: {section: B}
tables:
  length:
    title: Length
    hit: unique
    inputs: {level: establishment.regime_level}
    rows:
      - id: short
        when: {level: [3, 2]}
        then: {minutes: if may_shorten then null else 45}
        cite: {section: A}
      - id: full
        when: {level: [4, 1]}
        then: {minutes: '45'}
        cite: {section: A}
outputs:
  minutes: {from_table: length}
local:
  description: One permission may be narrowed.
  conditions:
    may_shorten: {rules: [R-01], cite: {section: A}}
"""

PLAN = """\
extends: {pack: tiny, version: "1"}
establishment: {code: ABC, name: HMP Somewhere}
title: A plan
version: 0.1.0
status: draft
effective_from: 2020-07-06
narrow:
  NAME:
    when: WHEN
"""


def national(tmp_path: Path, text: str = NATIONAL) -> tuple[dict[str, engine.Pack], list[str]]:
    path = tmp_path / "tiny.yaml"
    path.write_text(text, encoding="utf-8")
    packs, problems = engine.check_paths([path])
    return packs, [f"{p.code} {p.line}:{p.col} {p.message}" for p in problems if p.is_error]


def plan(tmp_path: Path, name: str, when: str) -> tuple[engine.Pack | None, list[engine.Problem]]:
    packs, errors = national(tmp_path)
    assert not errors, errors
    path = tmp_path / "plan.yaml"
    path.write_text(PLAN.replace("NAME", name).replace("WHEN", when), encoding="utf-8")
    return load_overlay(path, packs)


def decide(pack: engine.Pack, level: int) -> dict[str, object]:
    facts = {"establishment": {"code": "ABC", "regime_level": level}}
    return engine.evaluate(pack, facts, as_of=dt.date(2020, 8, 3)).to_dict()


def test_narrowing_a_definition_reaches_the_rule_and_the_table(tmp_path: Path) -> None:
    merged, problems = plan(tmp_path, "may_shorten", "level in [3, 2] and level == 3")
    assert merged is not None and not [p for p in problems if p.is_error], problems
    at_2, at_3 = decide(merged, 2), decide(merged, 3)
    assert at_2["outputs"]["minutes"] == 45
    assert "R-01" not in [o["rule"] for o in at_2["obligations"]]
    assert at_3["outputs"]["minutes"] is None
    (r01,) = [o for o in at_3["obligations"] if o["rule"] == "R-01"]
    assert [e["entry"] for e in r01["local"]] == ["narrow:may_shorten"]
    # the level 2 decision rests on the narrowed value too, though no rule of it applies
    assert "narrow:may_shorten" in [e["entry"] for e in at_2["local_plan"]["entries"]]
    packs, _ = national(tmp_path)
    assert decide(packs["tiny"], 2)["outputs"]["minutes"] is None


def test_widening_a_definition_is_refused_at_the_plans_line(tmp_path: Path) -> None:
    merged, problems = plan(tmp_path, "may_shorten", "level in [3, 2] or level == 4")
    assert merged is None
    assert [(p.code, p.line, p.col) for p in problems] == [("E-LOCAL-WIDEN", 9, 11)]
    assert "definition `may_shorten`" in problems[0].message
    assert (
        "where `level in [3, 2]` is false, `level == 4` is true, the local condition is true "
        "and the national one false"
    ) in problems[0].message
    assert problems[0].hint == "write `level in [3, 2] and ...`"


def test_a_narrowing_written_otherwise_than_national_and_more_is_accepted(
    tmp_path: Path,
) -> None:
    # `not (not national or more)` is `national and not more`: narrower, though not written so
    merged, problems = plan(tmp_path, "may_shorten", "not (not (level in [3, 2]) or level == 2)")
    assert merged is not None and not [p for p in problems if p.is_error], problems
    assert decide(merged, 2)["outputs"]["minutes"] == 45
    assert decide(merged, 3)["outputs"]["minutes"] is None


def test_an_undeclared_rule_reading_a_declared_definition_is_pointed_at_it(
    tmp_path: Path,
) -> None:
    merged, problems = plan(tmp_path, "R-01", "may_shorten and level == 3")
    assert merged is None
    assert [(p.code, p.line, p.col) for p in problems] == [("E-LOCAL-LIMITED", 8, 3)]
    assert problems[0].hint is not None and "`may_shorten`" in problems[0].hint
    # a rule that reads no declared definition gets no such hint
    _, problems = plan(tmp_path, "R-02", "level in [3, 2] and level == 3")
    assert [p.code for p in problems] == ["E-LOCAL-LIMITED"]
    assert problems[0].hint is not None and "narrow that instead" not in problems[0].hint


def test_a_name_that_is_neither_rule_nor_definition_is_refused_in_a_plan(tmp_path: Path) -> None:
    merged, problems = plan(tmp_path, "may_shortn", "level == 3")
    assert merged is None
    assert [(p.code, p.line, p.col) for p in problems] == [("E-REF", 8, 3)]
    assert problems[0].hint == "did you mean `may_shorten`?"


def test_a_declared_unknown_name_is_an_error_of_the_national_pack(tmp_path: Path) -> None:
    text = NATIONAL.replace("    may_shorten: {rules:", "    may_shortn: {rules:")
    _, errors = national(tmp_path, text)
    assert len(errors) == 1 and errors[0].startswith("E-REF 44:5 no rule or definition")
    assert "`may_shortn`" in errors[0]


def test_a_declared_definition_must_be_boolean(tmp_path: Path) -> None:
    text = NATIONAL.replace("    may_shorten: {rules:", "    level: {rules:")
    _, errors = national(tmp_path, text)
    assert errors == [
        "E-TYPE 44:5 definition `level` is an integer (a `regime_level` value), so a plan cannot "
        "narrow it: "
        "only a "
        "boolean definition is a condition"
    ]


def test_a_declared_rule_lists_no_rules(tmp_path: Path) -> None:
    text = NATIONAL.replace("    may_shorten: {rules: [R-01],", "    R-02: {rules: [R-01],")
    _, errors = national(tmp_path, text)
    assert len(errors) == 1 and errors[0].startswith("E-LOCAL-DECLARE 44:12 ")


def warnings(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "tiny.yaml"
    path.write_text(text, encoding="utf-8")
    _, problems = engine.check_paths([path])
    return [f"{p.code} {p.line}:{p.col} {p.message}" for p in problems]


def test_the_rules_a_declared_definition_lists_are_those_that_read_it(tmp_path: Path) -> None:
    """A rule listed that does not read the definition, and one reading it left out, are
    warned about (decisions would cite a plan wrongly, or fail to); an unknown id is an error."""
    wrong = NATIONAL.replace("may_shorten: {rules: [R-01],", "may_shorten: {rules: [R-02],")
    found = warnings(tmp_path, wrong)
    assert found == [
        "W-LOCAL-RULES 44:19 rule `R-01` reads `may_shorten` but the list leaves it out, so "
        "decisions of it would not cite a plan that narrows it",
        "W-LOCAL-RULES 44:27 rule `R-02` does not read `may_shorten`, so a plan narrowing it "
        "does not change that rule, yet its decisions would cite the plan",
    ]
    unknown = NATIONAL.replace("may_shorten: {rules: [R-01],", "may_shorten: {rules: [R-01, R-10],")
    assert warnings(tmp_path, unknown) == ["E-REF 44:33 no rule `R-10`"]
    assert warnings(tmp_path, NATIONAL) == []


def test_without_a_list_a_narrowed_definition_is_cited_by_the_rules_that_read_it(
    tmp_path: Path,
) -> None:
    text = NATIONAL.replace("may_shorten: {rules: [R-01], cite:", "may_shorten: {cite:")
    packs, errors = national(tmp_path, text)
    assert not errors, errors
    path = tmp_path / "plan.yaml"
    when = "level in [3, 2] and level == 3"
    path.write_text(PLAN.replace("NAME", "may_shorten").replace("WHEN", when), encoding="utf-8")
    merged, problems = load_overlay(path, packs)
    assert merged is not None and not [p for p in problems if p.is_error], problems
    (r01,) = [o for o in decide(merged, 3)["obligations"] if o["rule"] == "R-01"]
    assert [e["entry"] for e in r01["local"]] == ["narrow:may_shorten"]
