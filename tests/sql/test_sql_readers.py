"""`regime batch` reads a known none apart from an absent fact in every input format.

A field whose facts-schema `x-null` is `none` (a plan's `reason`, an action's `completed_on`,
a prisoner's `irmm_keywork_from`) means a decided "none" when it is null and "not known" when
its key is absent. JSONL keeps the two apart as JSON does; CSV holds each root's JSON in its
own column (an empty cell is an absent root; inside the JSON, an absent key is absent and
`null` is null); Parquet written by the project keeps a known none as a sentinel value. For
each, the decisions read back from the batch output equal the interpreter's on the original
documents, field by field.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

import pytest

import engine
from engine.sql.batch import run_batch
from engine.sql.output_columns import output_types, read_back
from engine.sql.query import compile_pack
from engine.sql.run import converted, differences, python_view, row_view
from engine.tools.population import Population
from tests.sql.facts_files import write, written_rows
from tests.sql.plan_population import PlanPopulation

ROOT = Path(__file__).resolve().parents[2]
CASES = {  # pack, day, documents
    "action_plan": (dt.date(2019, 4, 30), lambda: PlanPopulation(seed=5).documents(80)),
    "keywork_edm": (
        dt.date(2020, 7, 20),
        lambda: Population(seed=6).documents(200, roots=("prisoner", "establishment")),
    ),
}
FORMATS = [  # plans nest known nones in lists of records: every format; prisoners in JSONL
    ("action_plan", ".jsonl"),
    ("action_plan", ".csv"),
    ("action_plan", ".parquet"),
    ("keywork_edm", ".jsonl"),
]


@cache
def packs() -> Any:
    return engine.load(ROOT / "policies")


QUERIES: dict[tuple[str, str], Any] = {}


def compiled_once(pack: Any, audience: str, dialect: str, table: str) -> Any:
    """The pack's query, compiled once per pack in this module, for the outputs it returns."""
    key = (pack.id, dialect)
    if key not in QUERIES:
        QUERIES[key] = compile_pack(pack, audience, dialect, table)
    return dataclasses.replace(QUERIES[key])


@pytest.mark.parametrize(("pack_id", "suffix"), FORMATS)
def test_batch_keeps_known_none_apart_from_absent(
    pack_id: str, suffix: str, tmp_path: Path
) -> None:
    pack = packs()[pack_id]
    day, make = CASES[pack_id]
    docs = [doc for _, _, doc in make()]
    facts = tmp_path / f"facts{suffix}"
    write(docs, facts, day)
    assert_batch_decides_as_the_interpreter(pack, facts, docs, day, tmp_path / "out.parquet")


def assert_batch_decides_as_the_interpreter(
    pack: Any, facts: Path, docs: list[dict[str, Any]], day: dt.date, out: Path
) -> None:
    """`regime batch` (DuckDB) over `facts` rejects nothing and decides each of `docs`, in
    order, as the interpreter does, field by field (a difference names the record and field)."""
    result = run_batch(pack, facts, out, day, day, threads=1)
    assert result.rejected == 0
    rows = written_rows(out)
    assert len(rows) == len(docs)
    compiled = compiled_once(pack, "custodial", "duckdb", "facts")
    types = output_types(pack)
    failures = []
    for row, doc in zip(rows, docs, strict=True):
        row.update({n: read_back(row[n], types[n]) for n in compiled.outputs})
        expected = python_view(pack, converted(doc), day, compiled.outputs)
        assert expected is not None
        for diff in differences(expected, row_view(row, compiled)):
            failures.append(f"record {row['record']} field {diff}")
    assert not failures, f"{len(failures)} differences, first: " + "\n".join(failures[:5])


def test_the_documents_hold_both_a_null_and_an_absent_known_none() -> None:
    plans = [d.get("action_plan") or {} for _, _, d in PlanPopulation(seed=5).documents(80)]
    recs = [r for p in plans for r in p.get("recommendations", [])]
    assert any(r.get("reason", 0) is None for r in recs) and any("reason" not in r for r in recs)
    people = [
        d.get("prisoner") or {}
        for _, _, d in Population(seed=6).documents(200, roots=("prisoner", "establishment"))
    ]
    assert any(p.get("irmm_keywork_from", 0) is None for p in people)
    assert any("irmm_keywork_from" not in p for p in people)
