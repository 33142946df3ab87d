"""`regime batch` refuses, on every engine, a record holding the value the facts table keeps a
recorded none as (0001-01-01 in a date field whose null is a recorded none, NUL + `none` in such
a text field): the interpreter's facts check refuses it (tests/unit/test_facts_reserved.py), and
read from JSONL or CSV it goes to the rejects file with the same words, never decided as a none.
The other records are decided as the interpreter decides them."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import engine
from cli.main import cli
from engine.sql.output_columns import output_types, read_back
from engine.sql.query import compile_pack
from engine.sql.run import converted, differences, python_view, row_view
from tests.keywork_documents import keywork_document, keywork_prisoner
from tests.sql.facts_files import write, written_rows

ROOT = Path(__file__).resolve().parents[2]
DAY = dt.date(2020, 7, 20)
RESERVED = "is reserved: the SQL engines keep a recorded none of this field as that value"


def base(sentence: str = "determinate") -> dict[str, Any]:
    return keywork_document(keywork_prisoner(sentence_type=sentence))


def changed(doc: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    node = doc
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return doc


SESSION = {"date": "0001-01-01", "kind": "session"}
# (document, the field a reject names, or None for a record decided)
RECORDS: list[tuple[dict[str, Any], str | None]] = [
    (base(), None),
    (changed(base(), ("prisoner", "irmm_keywork_from"), "0001-01-01"), "irmm_keywork_from"),
    (changed(base(), ("prisoner", "irmm_keywork_from"), "0001-01-02"), None),
    (changed(base(), ("prisoner", "release_date"), "0001-01-01"), "release_date"),
    (changed(base("remand"), ("prisoner", "release_date"), "0001-01-01"), "release_date"),
    (changed(base("remand"), ("prisoner", "release_date"), None), None),
    (changed(base(), ("prisoner", "keywork", "key_worker"), "\u0000none"), "keywork.key_worker"),
    (changed(base(), ("prisoner", "keywork", "key_worker"), None), None),
    (
        changed(base(), ("establishment", "outbreak_declared_on"), "0001-01-01"),
        "outbreak_declared_on",
    ),
    # a field whose null is not known holds the day, or the text, as any other value
    (changed(base(), ("prisoner", "date_of_birth"), "0001-01-01"), None),
    (changed(base(), ("prisoner", "cell_location"), "\u0000none"), None),
    (
        changed(
            base(),
            ("prisoner", "keywork", "sessions"),
            [SESSION, {**SESSION, "date": "2020-07-10"}],
        ),
        None,
    ),
]


def batch(facts: Path, out: Path, engine_name: str) -> None:
    args = ["batch", "keywork_edm", "--facts", str(facts), "--as-of", DAY.isoformat()]
    result = CliRunner().invoke(cli, [*args, "--out", str(out), "--engine", engine_name])
    assert result.exit_code == 0, result.output


def test_the_interpreter_refuses_exactly_the_records_named() -> None:
    pack = engine.load(ROOT / "policies")["keywork_edm"]
    for doc, field in RECORDS:
        try:
            engine.evaluate(pack, doc, DAY)
        except engine.FactsError as e:
            assert field is not None and RESERVED in e.problems[0].message, e.problems
        else:
            assert field is None, field


def check_run(tmp_path: Path, suffix: str, engine_name: str) -> None:
    pack = engine.load(ROOT / "policies")["keywork_edm"]
    docs = [doc for doc, _ in RECORDS]
    facts = tmp_path / f"facts{suffix}"
    write(docs, facts, DAY)
    out = tmp_path / "out.parquet"
    batch(facts, out, engine_name)
    rejects = [json.loads(x) for x in (tmp_path / "out.rejects.jsonl").read_text().splitlines()]
    expected = {i: f for i, (_, f) in enumerate(RECORDS, 1) if f is not None}
    assert {r["record"]: len(r["reasons"]) for r in rejects} == dict.fromkeys(expected, 1)
    for r in rejects:
        root = "establishment" if expected[r["record"]] == "outbreak_declared_on" else "prisoner"
        (reason,) = r["reasons"]
        assert reason.startswith(f"{root}.{expected[r['record']]}: "), reason
        assert RESERVED in reason and "a recorded none of this field is written as null" in reason
    rows = written_rows(out)
    assert [row["record"] for row in rows] == [
        i for i in range(1, len(docs) + 1) if i not in expected
    ]
    compiled = compile_pack(pack)
    types = output_types(pack)
    failures = []
    for row in rows:
        row.update({n: read_back(row[n], types[n]) for n in compiled.outputs})
        want = python_view(pack, converted(docs[row["record"] - 1]), DAY, compiled.outputs)
        assert want is not None
        failures += [f"{row['record']}: {d}" for d in differences(want, row_view(row, compiled))]
    assert not failures, "\n".join(failures[:8])


@pytest.mark.parametrize("engine_name", ["duckdb", "python"])
@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_batch_rejects_a_reserved_value_with_the_interpreters_reason(
    tmp_path: Path, suffix: str, engine_name: str
) -> None:
    check_run(tmp_path, suffix, engine_name)


def test_spark_rejects_it_too(spark_session: Any, tmp_path: Path) -> None:
    check_run(tmp_path, ".jsonl", "spark")
