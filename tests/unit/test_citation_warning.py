"""`regime check` warns (W-CITE-MISSING) at each rule, table row, task and parameter value that
cites no source, and says nothing where a citation applies: the item's own, or its table's or
parameter's."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

import engine
from cli.main import cli
from engine.problems import Problem

ROOT = Path(__file__).resolve().parents[2]

HEAD = """\
id: corpus
title: Cited pack
version: 0.1.0
status: draft
source: {title: Test}
versions:
  - {id: "1", effective_from: 2020-01-01, effective_to: null}
"""

CITED = (
    HEAD
    + """\
parameters:
  period:
    values:
      - {from: 2020-01-01, to: null, value: 4 weeks, cite: {section: Periods, paragraph: 2}}
  gap:
    cite: {section: Periods, paragraph: 3}
    values:
      - {from: 2020-01-01, to: null, value: 2 weeks}
tables:
  delivery:
    hit: unique
    inputs: {level: establishment.regime_level}
    cite: {section: Delivery, table: Delivery by level}
    rows:
      - {id: four, when: {level: 4}, then: {sessions: "1"}}
      - {id: three, when: {level: 3}, then: {sessions: "2"}}
outputs:
  sessions: {from_table: delivery}
  soon: {value: as_of + period + gap}
rules:
  - id: R-01
    title: A cited rule
    when: establishment.regime_level == 4
    cite: {section: Regime levels, paragraph: 1}
tasks:
  "1":
    area: Sentence management
    title: A cited task
    weighting: 2
    cite: {section: Tasks, row: "1"}
"""
)


def _check(tmp_path: Path, text: str) -> list[Problem]:
    path = tmp_path / "pack.yaml"
    path.write_text(text, encoding="utf-8")
    packs, problems = engine.check_paths([path])
    assert list(packs) == ["corpus"], [p.format() for p in problems]
    return problems


def test_a_pack_that_cites_everything_gets_no_warning(tmp_path: Path) -> None:
    assert _check(tmp_path, CITED) == []


def test_a_parameters_citation_reaches_its_values_in_the_model(tmp_path: Path) -> None:
    _check(tmp_path, CITED)
    pack = engine.load(tmp_path / "pack.yaml")["corpus"]
    (value,) = pack.parameters["gap"].values
    assert [c.paragraph for c in value.cites] == ["3"]


def test_one_uncited_rule_gets_one_warning_at_its_line(tmp_path: Path) -> None:
    text = CITED.replace(
        "tasks:\n",
        "  - id: R-02\n    title: An uncited rule\n    when: true\ntasks:\n",
    )
    line = text.splitlines().index("  - id: R-02") + 1
    problems = _check(tmp_path, text)
    assert [(p.code, p.line, p.col, p.severity) for p in problems] == [
        ("W-CITE-MISSING", line, 5, "warning")
    ]
    assert problems[0].message == "rule `R-02` cites no source"
    assert (
        problems[0].hint is not None and "cite: {section: ..., paragraph: ...}" in problems[0].hint
    )


def test_each_uncited_row_task_and_value_is_named_where_nothing_covers_it(tmp_path: Path) -> None:
    text = (
        CITED.replace("    cite: {section: Delivery, table: Delivery by level}\n", "")
        .replace("    cite: {section: Periods, paragraph: 3}\n", "")
        .replace('    cite: {section: Tasks, row: "1"}\n', "")
    )
    lines = text.splitlines()
    problems = _check(tmp_path, text)
    found = [(p.code, p.line, p.message) for p in problems]
    assert found == [
        (
            "W-CITE-MISSING",
            lines.index("      - {from: 2020-01-01, to: null, value: 2 weeks}") + 1,
            "the value of parameter `gap` from 2020-01-01 cites no source",
        ),
        (
            "W-CITE-MISSING",
            lines.index('      - {id: four, when: {level: 4}, then: {sessions: "1"}}') + 1,
            "row `four` of table `delivery` cites no source",
        ),
        (
            "W-CITE-MISSING",
            lines.index('      - {id: three, when: {level: 3}, then: {sessions: "2"}}') + 1,
            "row `three` of table `delivery` cites no source",
        ),
        ("W-CITE-MISSING", lines.index('  "1":') + 1, "task `1` cites no source"),
    ]
    assert "or to the table" in str(problems[1].hint)


def test_a_warning_does_not_fail_check_and_the_shipped_packs_have_none() -> None:
    runner = CliRunner()
    bad = ROOT / "tests" / "corpus" / "packs" / "rule_without_citation.yaml"
    result = runner.invoke(cli, ["check", str(bad), "--no-tests"], prog_name="regime")
    assert result.exit_code == 0, result.output
    assert "W-CITE-MISSING" in result.output and "1 warning(s)" in result.output
    result = runner.invoke(cli, ["check", str(ROOT / "policies")], prog_name="regime")
    assert result.exit_code == 0, result.output
    assert "local plan(s) checked: 0 error(s), 0 warning(s)" in result.output


def test_a_local_rule_without_its_own_cite_cites_the_national_passage_allowing_it(
    tmp_path: Path,
) -> None:
    from engine.api import load_overlay
    from tests.unit.national_packs import national

    plan = ROOT / "policies" / "local" / "lei" / "keywork_edm.yaml"
    own = "    cite: {section: Exceptional Delivery Models (EDMs), paragraph: 1}\n"
    text = plan.read_text(encoding="utf-8")
    assert text.count(own) == 1
    copy = tmp_path / "keywork_edm.yaml"
    copy.write_text(text.replace(own, ""), encoding="utf-8")
    merged, problems = load_overlay(copy, national().packs)
    assert merged is not None and problems == [], [p.format() for p in problems]
    (rule,) = [r for r in merged.rules if r.id == "LEI-KW-02"]
    # the national pack's `local: add_rules: cite:`, as the plan's own entry for the rule shows
    assert [(c.section, c.paragraph) for c in rule.cites] == [
        ("Exceptional Delivery Models (EDMs)", "1")
    ]
