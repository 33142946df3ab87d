"""The query rendered for Spark gives, row for row, the decisions DuckDB gives."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

import engine
from engine.sql import spark
from engine.sql.query import compile_pack
from engine.sql.run import (
    converted,
    differences,
    facts_table,
    python_view,
    row_view,
    run_duckdb,
)
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
    assert_spark_decides_as_duckdb(pack_id, *small)


def assert_spark_decides_as_duckdb(pack_id: str, path: Path, table: Any) -> None:
    """Every row of the pack's Spark query over `path` equals its DuckDB row over `table`."""
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


NESTED = Path(__file__).parent.parent / "fixtures" / "sql_nested_windows"
# month ends, leap days and the days just after them, where a month's move clamps
NESTED_DAYS = [
    dt.date(2020, 2, 29),
    dt.date(2020, 3, 1),
    dt.date(2021, 3, 3),
    dt.date(2024, 3, 31),
    dt.date(2023, 5, 31),
    dt.date(2100, 3, 1),
]


def _sessions_around(rng: random.Random, day: dt.date) -> list[dict[str, Any]]:
    """Key work sessions in the 40 days up to `day`, some with no date or kind known."""
    return [
        {
            "date": None if rng.random() < 0.1 else str(day - dt.timedelta(rng.randint(0, 40))),
            "kind": rng.choice(["session", "session", "wellbeing_check", None]),
            "minutes": 45,
            "regime_level": 1,
        }
        for _ in range(rng.randint(0, 4))
    ]


def test_spark_decides_nested_moves_as_duckdb_and_the_interpreter(
    spark_session: Any, tmp_path: Path
) -> None:
    """A date moved by days and by a month inside a quantifier nested in another (each value
    the body reads more than once bound once per element): Spark's rows equal DuckDB's on
    every field, and the interpreter's (every field of a decision but its explanation)."""
    pack = engine.load(NESTED)["windows"]
    docs = []
    for day in NESTED_DAYS:
        rng = random.Random(day.toordinal())
        people = Population(seed=11).documents(30, roots=("prisoner", "establishment"))
        for _, _, doc in people:
            if doc.get("prisoner") is None:
                continue
            doc["prisoner"]["keywork"] = {"key_worker": "A", "sessions": _sessions_around(rng, day)}
            docs.append((len(docs) + 1, day, converted(doc)))
    path = tmp_path / "facts.parquet"
    pq.write_table(facts_table(docs), path)
    duck = compile_pack(pack)
    sprk = compile_pack(pack, dialect="spark")
    expected = {r["record"]: row_view(r, duck) for r in run_duckdb(duck, facts_table(docs))}
    got = {r["record"]: row_view(r, sprk) for r in spark.rows(sprk, path)}
    assert set(got) == set(expected) == {i for i, _, _ in docs}
    failures = [
        f"record {rid} field {d}"
        for rid in sorted(got)
        for d in differences(expected[rid], got[rid])
    ]
    decided = set()
    for rid, day, doc in docs:
        interpreted = python_view(pack, doc, day, sprk.outputs)
        assert interpreted is not None
        failures += [
            f"record {rid} ({day}) field {d} (spark against the interpreter)"
            for d in differences(interpreted, got[rid])
        ]
        decided.add(tuple(v is None for v in (got[rid].get("outputs") or {}).values()))
    assert not failures, "\n".join(failures[:10])
    assert len(decided) > 1  # some decided, some unknown


def test_the_session_leaves_out_the_optimiser_rules_for_joins(spark_session: Any) -> None:
    """Runtime filters and dynamic partition pruning serve joins, which a pack's query does not
    have; left on, they were most of the time Spark took to optimise the key work query."""
    for key in (
        "spark.sql.optimizer.runtime.bloomFilter.enabled",
        "spark.sql.optimizer.runtimeFilter.semiJoinReduction.enabled",
        "spark.sql.optimizer.dynamicPartitionPruning.enabled",
    ):
        assert spark_session.conf.get(key) == "false", key


CODE_GENERATION = {
    "spark.sql.codegen.wholeStage": "true",
    "spark.sql.codegen.factoryMode": "FALLBACK",
}


def test_spark_with_code_generation_decides_as_duckdb(
    spark_session: Any, small: tuple[Path, Any]
) -> None:
    """The suite's Spark evaluates expressions without generating code (its settings file,
    for speed on small populations); a cluster runs Spark's default, whole-stage code
    generation, so one whole pack is decided that way too and compared with DuckDB."""
    before = {key: spark_session.conf.get(key) for key in CODE_GENERATION}
    assert before == {
        "spark.sql.codegen.wholeStage": "false",
        "spark.sql.codegen.factoryMode": "NO_CODEGEN",
    }, "the suite's Spark settings file was not read"
    try:
        for key, value in CODE_GENERATION.items():
            spark_session.conf.set(key, value)
        assert_spark_decides_as_duckdb("pmp", *small)
    finally:
        for key, value in before.items():
            spark_session.conf.set(key, value)
