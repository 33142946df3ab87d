"""The query rewrites that save work (folding columns read once, lazy per-element masks) give
the same rows as the query without them, and do rewrite what they are meant to."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp, parse_one

from engine.sql.inline import inline_single_use
from engine.sql.lazy_masks import lazy_masks
from engine.sql.query import _row_parts

# a per-element list of (value, mask) and two readers: the count of true elements (unknown
# when an element is) and the mask of the undecided elements, read only when there is one
PAIRS = (
    "LIST_TRANSFORM(l, lambda x: {'v': x > 1, 'm': CASE WHEN (x > 1) IS NULL THEN 4 ELSE 0 END})"
)
COUNT = (
    "CASE WHEN LEN(LIST_FILTER(aux, lambda y: y.v IS NULL)) > 0 THEN NULL "
    "ELSE LEN(LIST_FILTER(aux, lambda y: COALESCE(y.v, FALSE))) END"
)
MASK = (
    "CASE WHEN LEN(LIST_FILTER(aux, lambda y: y.v IS NULL)) > 0 THEN LIST_AGGREGATE("
    "LIST_TRANSFORM(aux, lambda y: CASE WHEN y.v IS NULL THEN y.m ELSE 0 END), 'bit_or') "
    "ELSE 0 END"
)


def _columns(**items: str) -> dict[str, list[tuple[str, exp.Expression]]]:
    return {f"k:{n}": [(n, parse_one(sql, dialect="duckdb"))] for n, sql in items.items()}


def _query(columns: dict[str, list[tuple[str, exp.Expression]]], order: list[str]) -> str:
    """One CTE per column, in `order`, over a table `t` with a list column `l`."""
    sql, below = "", "t"
    for i, name in enumerate(order):
        cols = [c for key in columns if key == f"k:{name}" for c in columns[key]]
        select = ", ".join(["*", *(f'{e.sql("duckdb")} AS "{n}"' for n, e in cols)])
        sql += f"{'WITH' if i == 0 else ','} c{i} AS (SELECT {select} FROM {below}) "
        below = f"c{i}"
    return sql + f'SELECT id, "count", "mask" FROM {below} ORDER BY id'


def _rows(con: duckdb.DuckDBPyConnection, lists: list[list[int | None] | None]) -> None:
    con.execute("CREATE OR REPLACE TABLE t (id INTEGER, l BIGINT[])")
    for i, items in enumerate(lists):
        con.execute("INSERT INTO t VALUES (?, ?)", [i, items])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.none() | st.lists(st.none() | st.integers(-3, 3), max_size=5), max_size=8))
def test_lazy_masks_give_the_same_rows(lists: list[list[int | None] | None]) -> None:
    con = duckdb.connect()
    _rows(con, lists)
    before = _columns(aux=PAIRS, count=COUNT, mask=MASK)
    after = _columns(aux=PAIRS, count=COUNT, mask=MASK)
    assert lazy_masks(after, ["k:aux"]) == 1
    order = ["aux", "count", "mask"]
    want = con.execute(_query(before, order)).fetchall()
    assert con.execute(_query(after, order)).fetchall() == want


def test_lazy_masks_keep_values_alone_and_recompute_masks_in_the_branch() -> None:
    cols = _columns(aux=PAIRS, count=COUNT, mask=MASK)
    lazy_masks(cols, ["k:aux"])
    aux = cols["k:aux"][0][1].sql("duckdb")
    assert "STRUCT" not in aux.upper() and "{" not in aux  # the values alone
    mask = cols["k:mask"][0][1].sql("duckdb")
    assert "LIST_TRANSFORM(l," in mask  # the masks from the source list, in the branch


def test_lazy_masks_leave_a_list_read_otherwise() -> None:
    unguarded = "LIST_AGGREGATE(LIST_TRANSFORM(aux, lambda y: y.m), 'bit_or')"
    cols = _columns(aux=PAIRS, count=COUNT, mask=unguarded)
    assert lazy_masks(cols, ["k:aux"]) == 0
    assert "'m'" in cols["k:aux"][0][1].sql("duckdb")


@pytest.mark.parametrize("reads", [1, 2])
def test_a_column_read_once_is_folded_and_one_read_twice_kept(reads: int) -> None:
    cols = _columns(a="l IS NULL", b=" OR ".join(["a"] * reads), c="b", unused="a AND b")
    final = parse_one("SELECT id, c, c AS c2 FROM x", dialect="duckdb")  # c read twice
    kept = inline_single_use(cols, [final])
    assert "unused" not in kept and "b" not in kept and "c" in kept
    assert ("a" in kept) == (reads == 2)
    con = duckdb.connect()
    _rows(con, [None, [1]])
    got = con.execute(
        f"SELECT id, {cols['k:c'][0][1].sql('duckdb')} FROM "
        f"(SELECT *, l IS NULL AS a FROM t) ORDER BY id"
    ).fetchall()
    assert got == [(0, True), (1, False)]


# a lambda that reads the row: a struct's field and a CASE on as_of (moved out), a bare
# column and a division (kept: one is already a column, the other could fail)
ROW_READER = (
    "LIST_TRANSFORM(s, lambda x: x.d >= e.since AND (x.m >= CASE WHEN as_of >= DATE "
    "'2020-06-01' THEN 45 END OR x.m < n OR x.m = n // 0))"
)


def test_row_parts_of_a_lambda_are_its_reads_of_the_row_alone() -> None:
    found = _row_parts(parse_one(ROW_READER, dialect="duckdb"))
    assert sorted(p.sql("duckdb") for p in found) == [
        "CASE WHEN as_of >= CAST('2020-06-01' AS DATE) THEN 45 END",
        "e.since",
    ]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.none() | st.lists(st.tuples(st.none() | st.integers(0, 50), st.integers(0, 50))),
            st.none() | st.integers(0, 50),
            st.dates(),
            st.integers(-5, 5),
        ),
        max_size=8,
    )
)
def test_row_parts_read_as_columns_give_the_same_rows(
    rows: list[tuple[list[tuple[int | None, int]] | None, int | None, object, int]],
) -> None:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE t (id INTEGER, s STRUCT(d INTEGER, m INTEGER)[], "
        "e STRUCT(since INTEGER), as_of DATE, n INTEGER)"
    )
    for i, (s, since, as_of, n) in enumerate(rows):
        items = None if s is None else [{"d": d, "m": m} for d, m in s]
        con.execute("INSERT INTO t VALUES (?, ?, ?, ?, ?)", [i, items, {"since": since}, as_of, n])
    query = ROW_READER.replace("n // 0", "n + 1")
    reader = parse_one(query, dialect="duckdb")
    parts = []
    for i, part in enumerate(_row_parts(reader)):
        parts.append(f"{part.sql('duckdb')} AS p{i}")
        part.replace(exp.column(f"p{i}"))
    before = con.execute(f"SELECT id, {query} FROM t ORDER BY id").fetchall()
    after = con.execute(
        f"SELECT id, {reader.sql('duckdb')} FROM (SELECT *, {', '.join(parts)} FROM t) ORDER BY id"
    ).fetchall()
    assert after == before
