"""Provenance of the shipped packs: every rule, parameter value, table row and task cites where
it comes from, a section heading and the paragraph or table row within it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import engine
from engine.packs.model import Citation, Pack

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def packs() -> engine.Packs:
    return engine.load(ROOT / "policies")


def cited_items(pack: Pack) -> Iterator[tuple[str, tuple[Citation, ...]]]:
    """Each item the contract says must cite its source, with its citations."""
    for rule in pack.rules:
        yield f"rule {rule.id}", rule.cites
    for name, parameter in pack.parameters.items():
        for value in parameter.values:
            yield f"parameter {name} from {value.start}", value.cites
    for table in pack.tables.values():
        for row in table.rows:
            yield f"table row {table.id}/{row.id}", row.cites
    for task in pack.tasks.values():
        yield f"task {task.id}", task.cites


def precise(cite: Citation) -> bool:
    """A section heading, and a paragraph, table or row within it."""
    return bool(cite.section) and any((cite.paragraph, cite.table, cite.row))


# Rows that cite a whole section (a short descriptor section, a one-paragraph list) without a
# paragraph: none may be added; a row leaves this list when its citation gains a paragraph.
SECTION_ONLY = {
    "omu_edm": {
        "table row stage_profile/stage-3",
        "table row stage_profile/stage-2",
        "table row stage_profile/stage-1",
        "table row oasys_ranking/stage-4-pre-release",
        "table row oasys_ranking/stage-4-rosh-very-high",
        "table row oasys_ranking/stage-4-rosh-high",
        "table row oasys_ranking/stage-4-rosh-medium",
        "table row oasys_ranking/stage-4-rosh-low",
    }
}


@pytest.mark.parametrize("pack_id", ["keywork_edm", "pmp", "omu_edm", "action_plan"])
def test_every_rule_parameter_row_and_task_cites_a_section_and_paragraph_or_row(
    packs: engine.Packs, pack_id: str
) -> None:
    items = list(cited_items(packs[pack_id]))
    assert items
    uncited = [name for name, cites in items if not any(c.section for c in cites)]
    assert uncited == []
    vague = {name for name, cites in items if not any(precise(c) for c in cites)}
    assert vague <= SECTION_ONLY.get(pack_id, set())


def test_the_check_finds_the_items_of_a_pack() -> None:
    small = engine.load(ROOT / "tests" / "data" / "docs")["docs_small"]
    kinds = {name.split()[0] for name, _ in cited_items(small)}
    assert kinds == {"rule", "parameter", "table", "task"}
