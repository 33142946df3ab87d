"""A CSV facts file is read once: the rows checked for their number of values are the rows
decided. Read twice, a file replaced between the check and the query (another process still
writing it) was decided from rows no check had seen."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from engine.packs.facts_schema import root_types
from engine.sql.batch import _reader
from engine.sql.session import set_up


def _csv(path: Path, levels: list[int]) -> None:
    rows = ["prisoner,establishment"]
    for n, level in enumerate(levels):
        prisoner = json.dumps({"prison_number": f"A{1000 + n}BC"}).replace('"', '""')
        establishment = json.dumps({"regime_level": level}).replace('"', '""')
        rows.append(f'"{prisoner}","{establishment}"')
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_the_rows_checked_are_the_rows_decided(tmp_path: Path) -> None:
    facts = tmp_path / "people.csv"
    _csv(facts, [1, 2, 3])
    con = duckdb.connect()
    set_up(con)
    roots = ["prisoner", "establishment"]
    types = {r: t for r, t in root_types().items() if r in roots}
    view = _reader(con, facts, roots, types, "facts")
    # the file replaced after the check: a ragged row and other levels
    facts.write_text("prisoner,establishment\n1,2,3\n", encoding="utf-8")
    got = con.execute(f"SELECT record, establishment.regime_level FROM {view} ORDER BY 1")
    assert got.fetchall() == [(1, 1), (2, 2), (3, 3)]
