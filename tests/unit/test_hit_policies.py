"""Decision tables' hit policies through the library: `unique` gives the one matching row,
`first` the first in order, `collect` every matching row's value in order; an unknown input
leaves the output unknown only where a row it could match decides it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

import engine

PACK = """\
id: hits
title: Hit policies
version: 0.1.0
status: draft
source: {title: Test}
versions:
  - {id: "1", effective_from: 2020-01-01, effective_to: null}
outputs:
  only: {description: unique, from_table: one}
  band: {description: first, from_table: firsts}
  tags: {description: collect, from_table: all}
tables:
  one:
    hit: unique
    inputs: {level: establishment.regime_level}
    rows:
      - {id: low, when: {level: [1, 2]}, then: {only: '"low"'}}
      - {id: high, when: {level: [3, 4]}, then: {only: '"high"'}}
  firsts:
    hit: first
    inputs: {level: establishment.regime_level, fortnightly: establishment.keywork_model}
    rows:
      - {id: four, when: {level: 4}, then: {band: '"lockdown"'}}
      - {id: fortnightly, when: {fortnightly: fortnightly}, then: {band: '"fortnightly"'}}
      - {id: any, when: {}, then: {band: '"other"'}}
  all:
    hit: collect
    inputs: {level: establishment.regime_level}
    rows:
      - {id: a, when: {level: [3, 4]}, then: {tags: '"restricted"'}}
      - {id: b, when: {level: 4}, then: {tags: '"locked"'}}
      - {id: c, when: {}, then: {tags: '"any"'}}
"""


@pytest.fixture(scope="module")
def packs(tmp_path_factory: pytest.TempPathFactory) -> engine.Packs:
    folder: Path = tmp_path_factory.mktemp("hits")
    (folder / "hits.yaml").write_text(PACK, encoding="utf-8")
    return engine.load(folder)


def decide(packs: engine.Packs, **establishment: Any) -> Any:
    facts = {"establishment": establishment}
    return packs.evaluate("hits", facts, as_of=dt.date(2021, 1, 1))


LOCKED = ["restricted", "locked", "any"]


@pytest.mark.parametrize(
    "level, model, only, band, tags",
    [
        (4, "weekly", "high", "lockdown", LOCKED),
        (4, "fortnightly", "high", "lockdown", LOCKED),
        (3, "fortnightly", "high", "fortnightly", ["restricted", "any"]),
        (2, "weekly", "low", "other", ["any"]),
    ],
)
def test_each_hit_policy_picks_its_rows(
    packs: engine.Packs, level: int, model: str, only: str, band: str, tags: list[str]
) -> None:
    decision = decide(packs, regime_level=level, keywork_model=model)
    assert decision.status == "decided"
    assert decision.outputs == {"only": only, "band": band, "tags": tags}


def test_first_stops_at_a_known_match_before_an_unknown_row(packs: engine.Packs) -> None:
    decision = decide(packs, regime_level=4)  # keywork_model absent: unknown
    assert decision.outputs["band"] == "lockdown"
    assert "establishment.keywork_model" not in decision.missing_facts


def test_an_unknown_input_a_deciding_row_needs_leaves_the_output_unknown(
    packs: engine.Packs,
) -> None:
    decision = decide(packs, regime_level=3)  # keywork_model absent: unknown
    assert decision.status == "undetermined"
    assert decision.outputs["band"] is None
    assert decision.outputs["only"] == "high"
    assert decision.missing_facts == ("establishment.keywork_model",)
