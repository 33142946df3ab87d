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
