"""Forms of the generated query chosen so that DuckDB plans and writes it with less work: the
JSON text of a constant written by the compiler, a lambda parameter's fields in parentheses,
texts of constants as ENUM codes. Each gives what the general form gives."""

from __future__ import annotations

import itertools
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

import engine
from engine.language import static_types as T
from engine.sql.builders import const, struct
from engine.sql.query import (
    _applying,
    _coded_rows_indexed,
    _constant_json,
    compile_pack,
    json_text,
)

POLICIES = Path(__file__).resolve().parents[2] / "policies"
RECORD = T.record_of([("count", T.INT, True), ("per", T.STRING, True), ("on", T.BOOL, True)])
WORDS = st.text(st.characters(codec="ascii", exclude_characters="'\\\x00"), max_size=8)


@settings(max_examples=60, deadline=None)
@given(
    st.none() | st.integers(0, 10**12),
    st.none() | WORDS,
    st.none() | st.booleans(),
)
def test_the_text_of_a_constant_record_is_the_text_duckdb_builds(
    count: int | None, per: str | None, on: bool | None
) -> None:
    value = struct([("count", const(count)), ("per", const(per)), ("on", const(on))])
    written = _constant_json(value, RECORD)
    # the general form, built by the engine from a column holding the same record
    built = json_text(exp.column("v"), RECORD).sql("duckdb")
    con = duckdb.connect()
    got = con.execute(f"SELECT {built} FROM (SELECT {value.sql('duckdb')} AS v)").fetchone()
    assert got is not None and got[0] == written
    assert json_text(value, RECORD).sql("duckdb") == exp.Literal.string(written).sql("duckdb")


def test_key_work_query_takes_the_planning_forms() -> None:
    pack = engine.load(POLICIES)["keywork_edm"]
    duck = compile_pack(pack).query
    lambdas = list(duck.find_all(exp.Lambda))
    assert lambdas
    for fn in lambdas:
        params = {p.name for p in fn.expressions}
        for dot in fn.this.find_all(exp.Dot):
            base = dot.this
            assert not (isinstance(base, exp.Column) and base.name in params), dot.sql("duckdb")
    text = duck.sql(dialect="duckdb")
    # every frequency an obligation may give is a constant's text: folded, and coded
    assert '\'{"count": 1, "per": "week"}\'' in text
    assert "frequency ENUM(" in text
    # the record written on every row has its texts as codes
    assert "CAST('NOMIS' AS ENUM('NOMIS'))" in text
    # Spark keeps the plain forms
    spark = compile_pack(pack, dialect="spark").sql(pretty=False)
    assert "ENUM" not in spark


def test_coded_forms_read_back_as_the_same_texts() -> None:
    pack = engine.load(POLICIES)["keywork_edm"]
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE facts AS SELECT 1 AS record, DATE '2020-07-20' AS as_of, "
        "NULL::" + _root_type("prisoner") + " AS prisoner, "
        "NULL::" + _root_type("establishment") + " AS establishment"
    )
    row = con.execute(
        f"SELECT CAST(record_as AS VARCHAR), typeof(record_as) FROM ({compile_pack(pack).sql()})"
    ).fetchone()
    assert row is not None
    assert row[0] == "{'system': NOMIS, 'type': Key Work Activity, 'subtype': Key Work Session}"
    assert "ENUM" in row[1]


def _root_type(root: str) -> str:
    from engine.packs.facts_schema import root_types
    from engine.sql.types import duckdb_type_text

    return duckdb_type_text(root_types()[root])


@pytest.mark.parametrize("n", [1, 3, 5])
def test_constants_chosen_by_flags_indexed_are_the_filtered_list(n: int) -> None:
    # every combination of true, false and unknown flags: the indexed constant lists give
    # the list the filter gives, in order (an unknown flag counts as not holding)
    flags = [exp.column(f"f{j}") for j in range(n)]
    values = [exp.Literal.string(f"v{j}") for j in range(n)]
    indexed = _applying(list(zip(flags, values, strict=True)), indexed=True).sql("duckdb")
    plain = _applying(list(zip(flags, values, strict=True)), indexed=False).sql("duckdb")
    assert "LIST_FILTER" in plain and "LIST_FILTER" not in indexed
    combos = list(itertools.product([True, False, None], repeat=n))
    rows = ", ".join(
        "(" + ", ".join("NULL" if f is None else str(f).upper() for f in c) + ")" for c in combos
    )
    names = ", ".join(f"f{j}" for j in range(n))
    con = duckdb.connect()
    got = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE a IS NOT DISTINCT FROM b) FROM "
        f"(SELECT {indexed} AS a, {plain} AS b FROM (VALUES {rows}) AS t({names}))"
    ).fetchone()
    assert got == (len(combos), len(combos))


def test_a_text_chosen_by_a_table_row_is_read_from_a_list_of_codes() -> None:
    enum = exp.DataType.build("ENUM('a', 'b')", dialect="duckdb")
    row = exp.column("table__t")
    chosen = exp.Case(
        ifs=[
            exp.If(this=exp.Is(this=row.copy(), expression=exp.Null()), true=exp.Null()),
            exp.If(
                this=exp.EQ(this=row.copy(), expression=exp.Literal.number(1)),
                true=exp.Literal.string("a"),
            ),
            exp.If(this=exp.EQ(this=row.copy(), expression=exp.Literal.number(2)), true=exp.Null()),
            exp.If(
                this=exp.EQ(this=row.copy(), expression=exp.Literal.number(3)),
                true=exp.Literal.string("b"),
            ),
        ],
        default=exp.Null(),
    )
    plain = exp.select(exp.alias_(exp.Cast(this=exp.Paren(this=chosen), to=enum), "v"))
    query = plain.from_("t")
    before = query.sql("duckdb")
    _coded_rows_indexed(query)
    after = query.sql("duckdb")
    assert "CASE" not in after and "[table__t]" in after
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE t AS SELECT * FROM (VALUES (NULL), (0), (1), (2), (3)) AS t(table__t)"
    )
    assert con.execute(before).fetchall() == con.execute(after).fetchall()
    # anything else is left as it is: another column, rows out of order
    other = exp.select(
        exp.Cast(
            this=chosen.copy().transform(
                lambda n: exp.column("t") if isinstance(n, exp.Column) else n
            ),
            to=enum,
        )
    ).from_("t")
    kept = other.sql("duckdb")
    _coded_rows_indexed(other)
    assert other.sql("duckdb") == kept


def test_key_work_query_takes_the_indexed_forms() -> None:
    pack = engine.load(POLICIES)["keywork_edm"]
    text = compile_pack(pack).sql(pretty=False)
    # the three lists decoded from bit keys, without a lambda each
    assert text.count("LIST_WHERE(") == 3
    # the priority groups and the fact conflicts: constant lists indexed by their flags
    assert "[[], ['suicide_self_harm'], ['high_rosh_pre_release']," in text
    # the level's guidance texts: one list of codes indexed by the table's row
    assert ")[table__level_guidance]" in text
    spark = compile_pack(pack, dialect="spark").sql(pretty=False)
    assert "LIST_WHERE" not in spark and "[table__level_guidance]" not in spark
