"""`vocabulary:` on an output of records, as a mapping from field to vocabulary: checked as the
plain form is (unknown vocabulary or field, a literal the vocabulary lacks), its ids shown by
name in text and Markdown, the JSON unchanged."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

import engine
from cli.report import render_markdown, render_text

ROOT = Path(__file__).resolve().parents[2]

HEAD = """\
id: corpus
title: Corpus pack
version: 0.1.0
status: draft
source: {title: Test}
vocabulary:
  response:
    values:
      - {id: agreed, name: Agreed}
      - {id: not_agreed, name: Not Agreed}
  code:
    values:
      - {id: X-1, name: First finding}
versions:
  - {id: "1", effective_from: 2020-01-01, effective_to: null}
"""


def _problems(tmp_path: Path, body: str) -> list[tuple[str, int, str]]:
    path = tmp_path / "pack.yaml"
    path.write_text(HEAD + body, encoding="utf-8")
    _, problems = engine.check_paths([path])
    return [(p.code, p.line, p.message) for p in problems if p.is_error]


def test_a_mapping_whose_literals_are_ids_is_accepted(tmp_path: Path) -> None:
    body = """\
definitions:
  rows:
    description: Rows.
    expr: '["agreed", "not_agreed"]'
outputs:
  answers:
    vocabulary: {response: response, code: code}
    value: >-
      map(c in rows: {response: c, code: "X-1", note: "free text" + "", n: 1})
      + [{response: if true then "agreed" else coalesce(null, "not_agreed"), code: "X-1",
          note: "total", n: 2}]
"""
    assert _problems(tmp_path, body) == []


@pytest.mark.parametrize(
    "value, literal",
    [
        ('[{response: "agred", code: "X-1"}]', "agred"),
        ('if true then [] else [{response: "agreed", code: "X-2"}]', "X-2"),
        ('map(c in ["agreed", "total"]: {response: c, code: "X-1"})', "total"),
        ('filter(r in [{response: "nope", code: "X-1"}]: true)', "nope"),
        ('{response: "agreed", code: coalesce(null, "X-9")}', "X-9"),
    ],
)
def test_a_literal_the_vocabulary_lacks_is_refused(
    tmp_path: Path, value: str, literal: str
) -> None:
    body = f"""\
outputs:
  answers:
    vocabulary: {{response: response, code: code}}
    value: '{value}'
"""
    problems = _problems(tmp_path, body)
    assert [(c, line) for c, line, _ in problems] == [("E-ENUM", 19)], problems
    assert f"`{literal}` is not a value of vocabulary" in problems[0][2]


def test_a_literal_a_rule_sets_or_a_table_row_gives_is_checked(tmp_path: Path) -> None:
    body = """\
outputs:
  answers:
    vocabulary: {response: response}
    from_rules: collect
    default: "[]"
  answer:
    vocabulary: {response: response}
    from_table: t
rules:
  - id: R1
    title: One
    when: "true"
    sets: {answers: '{response: "agred"}'}
    cite: {section: Test}
tables:
  t:
    title: T
    hit: first
    inputs: {a: "1"}
    rows:
      - {id: r1, when: {a: 1}, then: {answer: '{response: "not_agred"}'}, cite: {section: Test}}
"""
    problems = _problems(tmp_path, body)
    assert sorted(m.split("`")[1] for c, _, m in problems if c == "E-ENUM") == [
        "agred",
        "not_agred",
    ], problems


def test_a_literal_reached_two_ways_is_refused_once(tmp_path: Path) -> None:
    """One definition read by two outputs (and twice by one) is one mistake, told once."""
    body = """\
definitions:
  rows:
    description: Rows.
    expr: '["agreed", "total"]'
outputs:
  answers:
    vocabulary: {response: response}
    value: 'map(c in rows: {response: c}) + map(d in rows: {response: d})'
  more:
    vocabulary: {response: response}
    value: 'map(c in rows: {response: c})'
"""
    problems = _problems(tmp_path, body)
    assert [c for c, _, _ in problems] == ["E-ENUM"], problems


def test_a_string_concatenated_is_no_id(tmp_path: Path) -> None:
    """`"not" + "_agreed"` is text made of two literals, neither of which is the value."""
    body = """\
outputs:
  answers:
    vocabulary: {response: response}
    value: '[{response: "not" + "_agreed"}]'
"""
    assert _problems(tmp_path, body) == []


def test_one_vocabulary_on_an_output_of_records_is_refused(tmp_path: Path) -> None:
    body = """\
outputs:
  answers:
    vocabulary: response
    value: '[{response: "agreed"}]'
"""
    problems = _problems(tmp_path, body)
    assert [c for c, _, _ in problems] == ["E-TYPE"], problems
    assert "holds records" in problems[0][2]


def test_the_pack_keeps_each_fields_vocabulary() -> None:
    pack = engine.load(ROOT / "policies")["action_plan"]
    assert pack.outputs["findings"].field_vocabularies == (("code", "finding_code"),)
    assert pack.outputs["overdue"].field_vocabularies == (("response", "response_category"),)
    assert pack.outputs["overdue"].vocabulary is None


def _plan() -> Any:
    facts = yaml.safe_load(
        (ROOT / "policies" / "action_plans" / "hmp_send_2019.yaml").read_text(encoding="utf-8")
    )
    packs = engine.load(ROOT / "policies")
    return packs.evaluate("action_plan", facts, as_of=dt.date(2019, 6, 1))


def test_record_fields_read_as_names_and_the_json_keeps_the_ids() -> None:
    decision = _plan()
    pack = decision.model
    names = {v.id: v.name for v in pack.vocabulary["finding_code"].values}
    codes = [f["code"] for f in decision.outputs["findings"]]
    assert codes and all(c in names for c in codes)
    assert decision.outputs["overdue"] and decision.outputs["overdue"][0]["response"] == "agreed"
    text, markdown = render_text(decision), render_markdown(decision)
    line = next(x for x in text.splitlines() if x.strip().startswith("findings "))
    table = markdown[markdown.index("### `findings`") : markdown.index("### `summary`")]
    # finding codes are codes readers quote (`codes: true`): each stays in front of its name
    assert pack.vocabulary["finding_code"].codes
    for code in codes:
        assert f"{code} ({names[code]})" in line and f"{code} ({names[code]})" in table
    # response categories are not: the name alone
    assert not pack.vocabulary["response_category"].codes
    assert '"response": "Agreed"' in text
    overdue = markdown[markdown.index("### `overdue`") :]
    assert "| Agreed |" in overdue and "| agreed |" not in overdue
    shown = json.loads(decision.to_json_bytes())
    assert [f["code"] for f in shown["outputs"]["findings"]] == codes
    assert shown["outputs"]["overdue"][0]["response"] == "agreed"
