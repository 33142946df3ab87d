"""Local facts files: their schema (errors at the offending key or value), and the layers they
merge into the facts the records supply (the precedence the hmpps mapping states)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.adapters import hmpps
from engine.adapters.local_facts import PRECEDENCE, LocalFacts, read_local_facts
from engine.packs.facts_schema import validate_facts
from engine.problems import PackError
from tests.hmpps_stub import fixture_records

AS_OF = dt.date(2020, 7, 1)
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "hmpps" / "mdi_local_facts.yaml"


def local(tmp_path: Path, text: str) -> LocalFacts:
    path = tmp_path / "local.yaml"
    path.write_text(text, encoding="utf-8")
    return read_local_facts(path)


def refused(tmp_path: Path, text: str) -> list[Any]:
    with pytest.raises(PackError) as caught:
        local(tmp_path, text)
    return caught.value.problems


def records_of(subject: str) -> tuple[dict[str, Any], list[hmpps.Gap]]:
    return hmpps.to_facts(fixture_records(subject), AS_OF)


def test_the_mapping_states_the_engines_precedence() -> None:
    stated = [layer["layer"] for layer in hmpps.mapping().local_facts["precedence"]]
    assert tuple(stated) == PRECEDENCE
    assert all(layer["because"] for layer in hmpps.mapping().local_facts["precedence"])


def test_the_example_file_is_valid_and_fills_the_establishment_gaps() -> None:
    example = read_local_facts(EXAMPLE)
    facts, gaps = records_of("A1234BC")
    applied = hmpps.with_local_facts(example, "A1234BC", facts, gaps)
    assert validate_facts(applied.facts) == []
    left = {g.fact for g in applied.gaps}
    for fact in (
        "establishment.regime_level",
        "establishment.outbreak_declared_on",
        "establishment.guidance_changed_on",
        "establishment.community_prevalence_high",
    ):
        assert fact not in left
    assert applied.facts["establishment"]["outbreak_declared_on"] is None  # none declared


def test_records_win_over_fills_and_overrides_win_over_records(tmp_path: Path) -> None:
    file = local(
        tmp_path,
        "facts:\n  establishment: {code: XXX, regime_level: 3}\n  prisoner: {cev: false}\n"
        "override:\n  establishment: {keywork_model: fortnightly}\n"
        "people:\n  A1234BC:\n    facts: {prisoner: {cev: true, rosh: LOW}}\n"
        "    override: {establishment: {keywork_model: weekly}}\n",
    )
    facts, gaps = records_of("A1234BC")
    applied = file.apply("A1234BC", facts, gaps)
    assert applied.facts["establishment"]["code"] == "MDI"  # records over a file-wide fill
    assert applied.facts["prisoner"]["rosh"] == "HIGH"  # records over a person's fill
    assert applied.facts["prisoner"]["cev"] is True  # a person's fill over the file-wide one
    assert applied.facts["establishment"]["keywork_model"] == "weekly"  # person override wins
    assert facts["establishment"]["keywork_model"] == "weekly"  # the input is not changed
    other = file.apply("B2345CD", *records_of("B2345CD"))
    assert other.facts["establishment"]["keywork_model"] == "fortnightly"
    assert other.facts["prisoner"]["cev"] is False
    assert any("keywork_model" in n and "fortnightly" in n for n in other.notes)


def test_gaps_go_only_for_what_the_file_states(tmp_path: Path) -> None:
    file = local(tmp_path, "facts:\n  establishment: {regime_level: 2}\n")
    facts, gaps = records_of("A1234BC")
    applied = file.apply("A1234BC", facts, gaps)
    assert {g.fact for g in gaps} - {g.fact for g in applied.gaps} == {"establishment.regime_level"}


def test_a_file_wide_fact_never_settles_a_contradiction(tmp_path: Path) -> None:
    file = local(
        tmp_path,
        "facts: {prisoner: {acct: none}}\npeople:\n  E5678FG: {facts: {prisoner: {acct: open}}}\n",
    )
    facts, gaps = records_of("C3456DE")  # HA and HA1 both active
    assert any(g.fact == "prisoner.acct" and g.kind == "contradiction" for g in gaps)
    applied = file.apply("C3456DE", facts, gaps)
    assert "acct" not in applied.facts["prisoner"]
    assert any(g.fact == "prisoner.acct" for g in applied.gaps)
    settled = local(tmp_path, "people:\n  C3456DE: {facts: {prisoner: {acct: open}}}\n")
    applied = settled.apply("C3456DE", facts, gaps)
    assert applied.facts["prisoner"]["acct"] == "open"
    assert not any(g.fact == "prisoner.acct" for g in applied.gaps)


def test_a_file_for_another_establishment_is_refused_at_its_code(tmp_path: Path) -> None:
    file = local(tmp_path, "# for Leeds\nestablishment_code: LEI\n")
    with pytest.raises(PackError) as caught:
        hmpps.with_local_facts(file, "A1234BC", *records_of("A1234BC"))
    found = caught.value.problems[0]
    assert (found.code, found.line, found.col) == ("E-FACTS-LOCAL-ESTABLISHMENT", 2, 21)
    assert "`LEI`" in found.message and "`MDI`" in found.message


@pytest.mark.parametrize(
    ("text", "line", "col", "words"),
    [
        ("facts:\n  establishment:\n    regime_level: 7\n", 3, 19, "from 1 to 4"),
        ("facts:\n  establisment: {}\n", 2, 3, "did you mean"),
        ("people:\n  A1234BC:\n    fact: {}\n", 3, 5, "unknown field"),
        ("people:\n  A-12: {}\n", 2, 3, "A-12"),
        ("override:\n  prisoner:\n    cev: maybe\n", 3, 10, "cev"),
        ("establishment_code: ''\n", 1, 21, "establishment_code"),
        ("establishment_code: MDI\nprisoner: {cev: true}\n", 2, 1, "under `facts:`"),
    ],
)
def test_errors_point_at_the_offending_key_or_value(
    tmp_path: Path, text: str, line: int, col: int, words: str
) -> None:
    problems = refused(tmp_path, text)
    first = problems[0]
    assert (first.code, first.line, first.col) == ("E-FACTS-LOCAL", line, col), first.format()
    assert words in first.format()
    assert first.hint


fact_values = st.one_of(st.none(), st.booleans(), st.integers(1, 4))


@settings(max_examples=40, deadline=None)
@given(
    fill=st.dictionaries(st.sampled_from(["regime_level", "code", "keywork_model"]), fact_values),
    subject=st.sampled_from(["A1234BC", "C3456DE", "E5678FG"]),
)
def test_fills_never_change_a_fact_the_records_supply(fill: dict[str, Any], subject: str) -> None:
    facts, gaps = records_of(subject)
    file = LocalFacts(read_local_facts(EXAMPLE).doc, None, {"establishment": fill}, {}, {})
    applied = file.apply(subject, facts, gaps)
    for key, value in facts["establishment"].items():
        assert applied.facts["establishment"][key] == value
    for key, value in fill.items():
        assert applied.facts["establishment"][key] == facts["establishment"].get(key, value)


def test_a_json_file_is_read_with_positions_and_unmatched_people_are_named(tmp_path: Path) -> None:
    path = tmp_path / "local.json"
    path.write_text('{"facts": {"establishment": {"regime_level": 3}},\n "people": {"Z1": {}}}\n')
    file = read_local_facts(path)
    assert file.unmatched(["A1234BC"]) == ["Z1"] and file.unmatched(["Z1"]) == []
    path.write_text('{"facts": {"establishment":\n  {"regime_level": "three"}}}\n')
    with pytest.raises(PackError) as caught:
        read_local_facts(path)
    found = caught.value.problems[0]
    assert (found.code, found.line, found.col) == ("E-FACTS-LOCAL", 2, 20)


def test_a_null_takes_a_gap_away_only_where_it_means_a_known_none(tmp_path: Path) -> None:
    file = local(
        tmp_path,
        "facts:\n  establishment: {regime_level: null, outbreak_declared_on: null}\n",
    )
    applied = file.apply("A1234BC", *records_of("A1234BC"))
    left = {g.fact for g in applied.gaps}
    assert "establishment.regime_level" in left  # null: still not known
    assert "establishment.outbreak_declared_on" not in left  # null: none declared
