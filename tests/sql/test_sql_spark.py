"""The query rendered for Spark gives, row for row, the decisions DuckDB gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

import engine
from engine.sql import spark
from engine.sql.query import compile_pack
from engine.sql.run import converted, differences, facts_table, row_view, run_duckdb
from engine.tools.population import Population

# the key work pack's Spark rows are compared through `regime batch`, in
# tests/sql/test_sql_batch_engines.py (Spark plans each pack's query once in the suite)
PACKS = ("omu_edm", "pmp")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    docs = list(Population(seed=77).documents(400, roots=("prisoner", "establishment")))
    table = facts_table((i, a, converted(d)) for i, a, d in docs)
    path = tmp_path_factory.mktemp("spark") / "facts.parquet"
    pq.write_table(table, path)
    return path, table


@pytest.mark.parametrize("pack_id", PACKS)
def test_spark_rows_equal_duckdb_rows(
    spark_session: Any, small: tuple[Path, Any], pack_id: str
) -> None:
    path, table = small
    pack = engine.load("policies/")[pack_id]
    duck = compile_pack(pack)
    sprk = compile_pack(pack, dialect="spark")
    expected = {r["record"]: row_view(r, duck) for r in run_duckdb(duck, table)}
    got = {r["record"]: row_view(r, sprk) for r in spark.rows(sprk, path)}
    assert set(got) == set(expected)
    failures = [
        f"record {rid} field {d}"
        for rid in sorted(got)
        for d in differences(expected[rid], got[rid])
    ]
    assert not failures, "\n".join(failures[:10])
