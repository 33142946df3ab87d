"""A value the SQL facts tables keep as a recorded none, held as a real value in a field whose
null is a recorded none (`x-null: none`), is refused by the facts check: the day 0001-01-01 in
such a date field, the text NUL + `none` in such a text field. The SQL engines could not tell it
from the none, so every engine refuses it rather than deciding it two ways; the compiled check
answers "not sure" and the full path words the problem at the field's path."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

import engine
from engine.packs.facts_schema import _prepare_fast, prepare, read_facts_file, validate_facts
from engine.problems import FactsError
from tests.e2e.test_cli import regime

ROOT = Path(__file__).resolve().parents[2]
DAY = dt.date(2020, 7, 1)
NUL_NONE = "\u0000none"


def prisoner_doc() -> dict[str, Any]:
    return read_facts_file(ROOT / "examples" / "prisoners" / "e6485kw_ordinary.yaml")


def with_field(doc: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    node: Any = doc
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return doc


def refused(doc: dict[str, Any], name: str = "facts") -> list[str]:
    """The facts check's messages for `doc`, checking the quick check leaves it to them."""
    for custodial in (False, True):
        assert _prepare_fast(copy.deepcopy(doc), name, custodial) is None
    with pytest.raises(FactsError) as info:
        prepare(doc, name=name)
    messages = [p.message for p in info.value.problems]
    assert messages == [p.message for p in validate_facts(doc, name=name)]
    return messages


DATE_FIELDS = [
    ("prisoner", "irmm_keywork_from"),
    ("prisoner", "pathfinder_keywork_from"),
    ("prisoner", "release_date"),
    ("establishment", "outbreak_declared_on"),
]


@pytest.mark.parametrize("path", DATE_FIELDS)
@pytest.mark.parametrize("day", ["0001-01-01", dt.date(1, 1, 1)])  # JSON text, or YAML's date
def test_the_reserved_day_in_a_date_field_whose_null_is_none_is_refused(
    path: tuple[str, ...], day: Any
) -> None:
    doc = with_field(prisoner_doc(), path, day)
    messages = refused(doc)
    assert len(messages) == 1
    assert messages[0].startswith(f"`$.{'.'.join(path)}`: `0001-01-01` is reserved: ")
    assert "a recorded none of this field is written as null" in messages[0]


@pytest.mark.parametrize("sentence", ["indeterminate", "determinate", None, "absent"])
def test_the_reserved_release_date_is_refused_whatever_the_sentence(sentence: Any) -> None:
    doc = with_field(prisoner_doc(), ("prisoner", "release_date"), "0001-01-01")
    if sentence == "absent":
        doc["prisoner"].pop("sentence_type", None)
    else:
        doc["prisoner"]["sentence_type"] = sentence
    (message,) = refused(doc)
    assert message.startswith("`$.prisoner.release_date`: `0001-01-01` is reserved")


def test_the_reserved_text_in_a_text_field_whose_null_is_none_is_refused() -> None:
    doc = with_field(prisoner_doc(), ("prisoner", "keywork", "key_worker"), NUL_NONE)
    (message,) = refused(doc)
    assert message.startswith("`$.prisoner.keywork.key_worker`: the text `\\u0000none` is reserved")
    assert "a recorded none of this field is written as null" in message


def test_the_reserved_text_inside_a_list_of_records_is_refused_at_its_place() -> None:
    rec = {"number": "1.1", "response": "agreed", "actions": [], "reason": NUL_NONE}
    doc = {"recommendations": [{**rec, "reason": "staffing"}, rec]}
    (message,) = refused(doc, "action_plan")
    assert message.startswith("`$.recommendations[1].reason`: the text `\\u0000none` is reserved")


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("prisoner", "irmm_keywork_from"), "0001-01-02"),
        (("prisoner", "irmm_keywork_from"), None),
        (("prisoner", "release_date"), dt.date(1, 1, 2)),
        (("prisoner", "keywork", "key_worker"), "none"),
        (("prisoner", "keywork", "key_worker"), None),
        # a field whose null is not known holds any day or text
        (("prisoner", "date_of_birth"), "0001-01-01"),
        (("prisoner", "cell_location"), NUL_NONE),
    ],
)
def test_the_day_after_a_null_and_other_fields_are_accepted(
    path: tuple[str, ...], value: Any
) -> None:
    doc = with_field(prisoner_doc(), path, value)
    assert _prepare_fast(copy.deepcopy(doc), "facts") is not None
    assert validate_facts(doc) == []
    pack = engine.load(ROOT / "policies")["keywork_edm"]
    engine.evaluate(pack, doc, DAY)  # no FactsError


def test_evaluate_refuses_it_as_any_other_facts_problem() -> None:
    pack = engine.load(ROOT / "policies")["keywork_edm"]
    doc = with_field(prisoner_doc(), ("prisoner", "pathfinder_keywork_from"), "0001-01-01")
    with pytest.raises(FactsError) as info:
        engine.evaluate(pack, doc, DAY)
    (problem,) = info.value.problems
    assert problem.code == "E-FACTS"
    assert problem.hint is not None and "write null for a recorded none" in problem.hint


def test_regime_eval_places_it_at_its_line_and_says_how_to_fix_it(tmp_path: Path) -> None:
    doc = with_field(prisoner_doc(), ("prisoner", "irmm_keywork_from"), "0001-01-01")
    text = json.dumps(doc, indent=2, default=str)
    facts = tmp_path / "facts.json"
    facts.write_text(text, encoding="utf-8")
    line = 1 + text[: text.index('"irmm_keywork_from"')].count("\n")
    result = regime(  # a custodial audience gets the problem by path, not by line
        "eval", "keywork_edm", "--facts", str(facts), "--as-of", DAY.isoformat(),
        "--audience", "healthcare",
    )  # fmt: skip
    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr
    shown = result.stdout + result.stderr
    assert f"facts.json:{line}:26: error: `$.prisoner.irmm_keywork_from`: `0001-01-01` is " in shown
    assert "hint: write null for a recorded none" in shown
