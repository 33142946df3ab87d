"""`regime batch` on a pack with its own facts schema: records are read, checked and decided
by that schema's roots, not the shipped one's, by every engine alike."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import engine
from cli.main import cli
from engine.language.convert import to_json
from engine.packs.facts_schema import FactsError
from engine.sql.query import compile_pack
from engine.sql.run import converted, disagreements, facts_table
from engine.tools.population import Population

ROOT = Path(__file__).resolve().parents[2]
PACKS = ROOT / "examples" / "custom_pack"
PACK = engine.load(PACKS)["visits"]
AS_OF = dt.date(2024, 3, 10)
RECORDS = 60


@pytest.fixture(scope="module")
def docs() -> list[dict[str, Any]]:
    made = Population(seed=12, schema=PACK.facts).documents(RECORDS)
    return [doc for _, _, doc in made]


def write(folder: Path, suffix: str, docs: list[dict[str, Any]]) -> Path:
    path = folder / f"facts{suffix}"
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        rows = ((i + 1, AS_OF, converted(d, PACK.facts)) for i, d in enumerate(docs))
        pq.write_table(facts_table(rows, PACK.facts), path)
    else:
        path.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    return path


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
@pytest.mark.parametrize("engine_name", ["duckdb", "python"])
def test_every_record_is_decided_as_the_library_decides_it(
    tmp_path: Path, docs: list[dict[str, Any]], suffix: str, engine_name: str
) -> None:
    facts = write(tmp_path, suffix, docs)
    out = tmp_path / "out.jsonl"
    args = ["batch", "visits", "--packs", str(PACKS), "--facts", str(facts)]
    args += ["--as-of", AS_OF.isoformat(), "--out", str(out), "--engine", engine_name]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    rows = {r["record"]: r for r in map(json.loads, out.read_text().splitlines())}
    rejects = tmp_path / "out.rejects.jsonl"
    refused = {r["record"] for r in map(json.loads, rejects.read_text().splitlines())}
    assert len(rows) > RECORDS // 2, result.output  # most records decided, not refused
    for record, doc in enumerate(docs, start=1):
        if suffix == ".parquet":  # a root column's null is that root absent from the record
            doc = {k: v for k, v in doc.items() if v is not None}
        try:
            want = engine.evaluate(PACK, doc, AS_OF)
        except FactsError:  # refused by the library: a reject, never a decision
            assert record in refused and record not in rows, record
            continue
        row = rows[record]
        assert row["status"] == want.status, (record, row, want.status)
        for name in PACK.outputs:
            assert row[name] == to_json(want.outputs.get(name)), (record, name)


def test_the_sql_differential_reads_the_packs_own_schema(docs: list[dict[str, Any]]) -> None:
    # the comparison built its facts table from the shipped schema's roots, so a pack with
    # its own had none of the columns its query reads (a Binder Error, nothing compared)
    ready = [(i, AS_OF, converted(d, PACK.facts)) for i, d in enumerate(docs)]
    failures, compared = disagreements(PACK, compile_pack(PACK), ready)
    assert not failures, failures[:5]
    assert compared == RECORDS
