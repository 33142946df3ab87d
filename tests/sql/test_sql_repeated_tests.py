"""A CASE test repeated inside a branch that has already decided it is taken out: the query
gives the same rows with and without the rewrite, and the repeated test is gone."""

from __future__ import annotations

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp, parse_one

from engine.sql.repeated_tests import simplify, simplify_columns

# the shapes the masks take: the same guard twice (also in brackets, inside a lambda), a
# branch whose inner CASE re-tests what an earlier branch found untrue, and one that must stay
CASES = [
    "CASE WHEN a IS NULL THEN (CASE WHEN (a) IS NULL THEN 4 | b ELSE 0 END) ELSE 0 END",
    "CASE WHEN a IS NULL THEN CASE WHEN a IS NULL THEN 8 ELSE 0 END WHEN b > 1 THEN b ELSE 0 END",
    "CASE WHEN b > 1 THEN 1 WHEN a IS NULL THEN CASE WHEN b > 1 THEN 2 ELSE 3 END ELSE 0 END",
    "CASE WHEN b > 1 THEN 1 ELSE CASE WHEN b > 1 THEN 2 WHEN a < 0 THEN 5 ELSE 3 END END",
    "CASE WHEN a > 0 THEN CASE WHEN b > 0 THEN 1 ELSE 2 END ELSE 0 END",
    "LIST_AGGREGATE(LIST_TRANSFORM(l, lambda x: CASE WHEN (x + a > 1) IS NULL THEN "
    "(CASE WHEN ((x + a > 1)) IS NULL THEN 16 | COALESCE(b, 32) ELSE 0 END) ELSE 0 END), "
    "'bit_or')",
]


def _rows(con: duckdb.DuckDBPyConnection, rows: list[tuple[int | None, int | None]]) -> None:
    con.execute("CREATE OR REPLACE TABLE t (id INTEGER, a BIGINT, b BIGINT, l BIGINT[])")
    for i, (a, b) in enumerate(rows):
        con.execute("INSERT INTO t VALUES (?, ?, ?, ?)", [i, a, b, [a, b, None, 1]])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.none() | st.integers(-2, 2), st.none() | st.integers(-2, 2))))
def test_the_rewrite_gives_the_same_rows(rows: list[tuple[int | None, int | None]]) -> None:
    con = duckdb.connect()
    _rows(con, rows)
    for sql in CASES:
        before = parse_one(sql, dialect="duckdb")
        after = before.copy()
        simplify(after)
        q = "SELECT id, {} AS v FROM t ORDER BY id"
        want = con.execute(q.format(before.sql("duckdb"))).fetchall()
        got = con.execute(q.format(after.sql("duckdb"))).fetchall()
        assert got == want, sql


def test_a_repeated_test_is_taken_out() -> None:
    columns = {"k:m": [("m", parse_one(c, dialect="duckdb")) for c in CASES]}
    assert simplify_columns(columns) == 5  # all but the shape with a different test inside
    out = [e.sql("duckdb") for _, e in columns["k:m"]]
    assert out[0] == "CASE WHEN a IS NULL THEN 4 | b ELSE 0 END"
    assert out[1] == "CASE WHEN a IS NULL THEN 8 WHEN b > 1 THEN b ELSE 0 END"
    assert out[2] == "CASE WHEN b > 1 THEN 1 WHEN a IS NULL THEN 3 ELSE 0 END"
    assert out[3] == "CASE WHEN b > 1 THEN 1 ELSE CASE WHEN a < 0 THEN 5 ELSE 3 END END"
    assert out[4] == CASES[4]  # a different test inside: nothing to take out
    assert sum(1 for _ in columns["k:m"][5][1].find_all(exp.Case)) == 1
