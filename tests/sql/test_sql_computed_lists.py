"""A quantifier over a list computed from one fact list (chosen by `if`, given by `coalesce`,
a definition holding either) decides in SQL as the interpreter does: each element's unknowns
are its own, so a missing field of one element makes the quantifier undetermined and is named
by the fact list's path, and a field missing from another element is not named with it.

`tests/fixtures/computed_lists/visits.yaml` quantifies over such lists, `mixed.yaml` over a
list chosen from one of two fact lists; the documents below leave out a date or a kind of
one element or another, or the whole list, or pause it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

import engine
from engine.sql.query import compile_pack
from engine.sql.run import converted, differences, facts_table, python_view, row_view, run_duckdb

PACKS = Path(__file__).parent.parent / "fixtures" / "computed_lists"
DAY = dt.date(2020, 6, 1)
PLANNED = {"date": "2020-05-01", "kind": "planned"}
LATE = {"date": "2020-07-01", "kind": "other"}
VISITS: list[Any] = [
    [PLANNED, {"kind": "planned"}],
    [PLANNED, {"date": "2020-05-02"}],
    [{"kind": "planned"}, LATE],
    [{"kind": "planned"}, {"date": "2020-05-02"}],
    [{"date": "2020-07-02"}, {"kind": "planned"}],
    [PLANNED, LATE],
    [],
    None,
]
DOCS = [
    {"person": {"id": "a", "paused": paused, "visits": visits}}
    for paused in (False, True, None)
    for visits in VISITS
]


# what the documents leave missing, as each pack names it: an element of a list chosen from
# one of two fact lists has no one path, so its field is named `?.date` (by both engines)
NAMED = {
    "visits": {"person.visits[].date", "person.visits[].kind", "person.paused", "person.visits"},
    "mixed_lists": {"?.date", "person.paused", "person.visits", "person.calls"},
}


@pytest.mark.parametrize("pack_id", sorted(NAMED))
@pytest.mark.parametrize("audience", ["custodial", "healthcare"])
def test_sql_names_each_elements_missing_facts_as_python(pack_id: str, audience: str) -> None:
    pack = engine.load(PACKS)[pack_id]
    docs = [(i, DAY, converted(doc, pack.facts)) for i, doc in enumerate(DOCS)]
    compiled = compile_pack(pack, audience)
    rows = {r["record"]: r for r in run_duckdb(compiled, facts_table(docs, pack.facts))}
    failures: list[str] = []
    named: set[str] = set()
    for i, _, doc in docs:
        expected = python_view(pack, doc, DAY, compiled.outputs, audience)
        assert expected is not None
        named.update(expected["missing_facts"])
        failures += [
            f"document {i}: {d}" for d in differences(expected, row_view(rows[i], compiled))
        ]
    assert not failures, "\n".join(failures)
    assert named == NAMED[pack_id]
