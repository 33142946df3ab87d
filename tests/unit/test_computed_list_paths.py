"""A quantifier over a list that is computed from a fact list (chosen by `if`, given by
`coalesce`, or a definition holding either) names a missing field of an element by the
fact list's path (`person.visits[].date`), as when the list is written out, never `?.date`:
in both forms of the run (two-valued, then three-valued) and in `regime eval`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import engine
from cli.main import cli
from tests.unit.test_program_known import decided, programs

ROOT = Path(__file__).resolve().parents[2]
PACKS = ROOT / "tests" / "fixtures" / "computed_lists"
DAY = dt.date(2020, 6, 1)
NO_DATE = {
    "person": {
        "id": "a",
        "paused": False,
        "visits": [{"date": "2020-05-01", "kind": "planned"}, {"kind": "planned"}],
    }
}
NO_KIND = {
    "person": {
        "id": "a",
        "paused": False,
        "visits": [{"date": "2020-05-01", "kind": "planned"}, {"date": "2020-05-02"}],
    }
}
KNOWN = {
    "person": {
        "id": "a",
        "paused": False,
        "visits": [
            {"date": "2020-05-01", "kind": "planned"},
            {"date": "2020-07-02", "kind": "other"},
        ],
    }
}


@pytest.fixture(scope="module")
def pack() -> Any:
    return engine.load(PACKS)["visits"]


def test_a_missing_date_of_an_element_names_the_fact_list(pack: Any) -> None:
    decision = engine.evaluate(pack, NO_DATE, DAY)
    assert decision.missing_facts == ("person.visits[].date",)
    assert set(decision.undetermined) == {"chosen_late", "named_late", "coalesced_late"}
    assert decision.outputs["kinds_planned"] == 2


def test_a_missing_kind_of_an_element_names_the_fact_list(pack: Any) -> None:
    decision = engine.evaluate(pack, NO_KIND, DAY)
    assert decision.missing_facts == ("person.visits[].kind",)
    assert decision.undetermined == ("chosen_late", "named_late", "kinds_planned")
    assert decision.outputs["coalesced_late"] is False


@pytest.mark.parametrize("facts", [NO_DATE, NO_KIND, KNOWN], ids=["no-date", "no-kind", "known"])
def test_both_forms_name_the_same_facts(
    pack: Any, facts: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    both, alone, watched = programs(pack, DAY, True, monkeypatch)
    assert decided(both, facts, DAY, "custodial") == decided(alone, facts, DAY, "custodial")
    decision = engine.evaluate(pack, facts, DAY)
    assert not any(p.startswith("?") for p in decision.missing_facts)
    if facts is KNOWN:  # the two-valued form decides a document whose facts are all there
        assert watched.finished >= 1
        assert decision.outputs == {
            "chosen_late": False,
            "named_late": False,
            "coalesced_late": True,
            "kinds_planned": 1,
        }


def test_eval_names_the_fact_list(tmp_path: Path) -> None:
    facts = tmp_path / "facts.json"
    facts.write_text(json.dumps(NO_DATE))
    result = CliRunner().invoke(
        cli,
        [
            "eval",
            "visits",
            "--packs",
            str(PACKS),
            "--facts",
            str(facts),
            "--as-of",
            "2020-06-01",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["missing_facts"] == ["person.visits[].date"]
