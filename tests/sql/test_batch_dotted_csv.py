"""A CSV facts file whose columns are dotted fact paths, as population files are written, is
read alike by `regime batch` (DuckDB, assembled in SQL) and by the interpreter's population
reader: each cell by its fact's type, so that a number fact's `3` is the number 3 and a text
fact's `3` the text. Generated documents written so and read back decide as the documents
themselves do, field by field; a header that cannot be read is refused before anything runs.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from engine.packs.facts_schema import cell_kind, root_types
from engine.sql.batch import BatchError, run_batch
from engine.sql.run import converted
from engine.tools.population import Population
from engine.tools.population_source import read_population
from tests.sql.test_sql_readers import assert_batch_decides_as_the_interpreter, packs

DAY = dt.date(2020, 7, 20)


TYPES = root_types()


def _sayable(value: Any, path: str = "") -> Any:
    """`value` without what dotted columns cannot say (None for nothing left): an empty text or
    record (an empty cell is absent), and a record recorded as none (its own column beside its
    fields' would clash)."""
    if isinstance(value, dict):
        kept = {k: _sayable(v, f"{path}.{k}".lstrip(".")) for k, v in value.items()}
        kept = {k: v for k, v in kept.items() if v is not _NOTHING}
        return kept if kept else _NOTHING
    if value == "" or (value is None and cell_kind(TYPES, path) == "record"):
        return _NOTHING
    return value


_NOTHING = object()


def _cells(value: Any, path: str, out: dict[str, str]) -> None:
    """`value` as dotted columns under `path` (`value` as `_sayable` leaves it)."""
    if isinstance(value, dict):
        for k, v in value.items():
            _cells(v, f"{path}.{k}".lstrip("."), out)
    elif value is None:
        out[path] = "null"
    elif isinstance(value, bool):
        out[path] = "true" if value else "false"
    elif isinstance(value, list):
        out[path] = json.dumps(value, default=str)
    else:
        out[path] = str(value)


def _write_dotted(docs: list[dict[str, Any]], path: Path) -> None:
    rows = []
    for doc in docs:
        row: dict[str, str] = {}
        _cells(doc, "", row)
        rows.append(row)
    header = sorted({c for row in rows for c in row})
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(header)
        for row in rows:
            out.writerow([row.get(c, "") for c in header])


def test_dotted_columns_decide_as_the_documents_do(tmp_path: Path) -> None:
    made = Population(seed=11).documents(300, roots=("prisoner", "establishment"))
    docs = [d for _, _, doc in made if (d := _sayable(doc)) is not _NOTHING]
    assert len(docs) > 290  # a document left with nothing is left out
    facts = tmp_path / "people.csv"
    _write_dotted(docs, facts)
    # the interpreter's reader gives the documents back
    assert [converted(d) for d in read_population(facts)] == [converted(d) for d in docs]
    out = tmp_path / "out.parquet"
    assert_batch_decides_as_the_interpreter(packs()["keywork_edm"], facts, docs, DAY, out)


def test_a_cell_reads_by_its_facts_type(tmp_path: Path) -> None:
    facts = tmp_path / "people.csv"
    facts.write_text(
        "prisoner.prison_number,establishment.code,establishment.regime_level,prisoner.cev,"
        "prisoner.acct\n"
        "A1234BC,123,3,true,null\n"
        "A1234BD,,three,yes,\n",
        encoding="utf-8",
    )
    first, second = read_population(facts)
    assert first == {
        "prisoner": {"prison_number": "A1234BC", "cev": True, "acct": None},
        "establishment": {"code": "123", "regime_level": 3},
    }
    assert second == {
        "prisoner": {"prison_number": "A1234BD", "cev": "yes"},
        "establishment": {"regime_level": "three"},
    }
    out = tmp_path / "out.jsonl"
    result = run_batch(packs()["keywork_edm"], facts, out, DAY, DAY, threads=1)
    assert (result.rows, result.rejected) == (1, 1)
    (reject,) = [
        json.loads(line) for line in out.with_name("out.rejects.jsonl").read_text().splitlines()
    ]
    assert reject["record"] == 2
    assert any("establishment.regime_level" in r for r in reject["reasons"])
    assert any("prisoner.cev" in r for r in reject["reasons"])


@pytest.mark.parametrize(
    ("header", "said"),
    [
        ("prisonner.acct", "column `prisonner.acct` names no root of the facts"),
        ("prisoner,prisoner.acct", "column `prisoner.acct` goes inside `prisoner`"),
        ("prisoner.acct,prisoner.acct.x", "`prisoner.acct.x` goes inside `prisoner.acct`"),
        ("id,name", "no column gives a fact"),
    ],
)
def test_a_header_that_names_no_fact_or_clashes_is_refused(
    header: str, said: str, tmp_path: Path
) -> None:
    facts = tmp_path / "people.csv"
    facts.write_text(header + "\n" + ",".join("1" for _ in header.split(",")) + "\n")
    out = tmp_path / "out.parquet"
    with pytest.raises(BatchError, match=said.replace("(", r"\(").replace("`", "`")):
        run_batch(packs()["keywork_edm"], facts, out, DAY, DAY, threads=1)
    assert not out.exists()


def test_a_decimal_cell_keeps_its_places() -> None:
    from engine.tools.population_source import _cell

    assert _cell("2.50", "decimal") == Decimal("2.50")
    assert _cell("2.50", "string") == "2.50"
