"""A null whose meaning depends on a sibling field (`x-null-none-when`): the release date is a
known none only for remand or an indeterminate sentence; for any other sentence, or none known,
a null is not known, as if absent; absent is not known whatever the sentence. Both engines read
every combination alike, and the key work pack decides each as the facts contract says."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

import engine
from engine.packs.facts_schema import null_rules, prepare
from engine.sql.batch import run_batch
from engine.sql.output_columns import output_types, read_back
from engine.sql.query import compile_pack
from engine.sql.run import converted, differences, python_view, row_view
from tests.keywork_documents import keywork_document, keywork_prisoner
from tests.sql.facts_files import write, written_rows

ROOT = Path(__file__).resolve().parents[2]
DAY = dt.date(2020, 7, 1)
ABSENT = object()
SENTENCES = ["indeterminate", "remand", "determinate", "other", None, ABSENT]
DATES = [None, ABSENT, "2020-07-20"]


def doc(sentence: Any, release: Any) -> dict[str, Any]:
    prisoner = keywork_prisoner()
    del prisoner["sentence_type"], prisoner["release_date"]
    if sentence is not ABSENT:
        prisoner["sentence_type"] = sentence
    if release is not ABSENT:
        prisoner["release_date"] = release
    return keywork_document(prisoner)


CASES = [(s, r) for s in SENTENCES for r in DATES]


def test_the_schema_names_the_rule() -> None:
    assert null_rules("facts") == (
        (("prisoner",), "release_date", "sentence_type", ("indeterminate", "remand")),
    )


@pytest.mark.parametrize(("sentence", "release"), CASES)
def test_prepare_keeps_a_null_only_where_the_sibling_makes_it_none(
    sentence: Any, release: Any
) -> None:
    given = doc(sentence, release)
    prepared = prepare({**given, "as_of": DAY.isoformat()})["prisoner"]
    if release is None and sentence in ("indeterminate", "remand"):
        assert "release_date" in prepared and prepared["release_date"] is None
    elif release is None or release is ABSENT:
        assert "release_date" not in prepared  # not known, as if absent
    else:
        assert prepared["release_date"] == dt.date(2020, 7, 20)
    assert "release_date" in given["prisoner"] or release is ABSENT  # the input is untouched
    assert converted(given)["prisoner"] == prepared


def test_the_key_work_pack_reads_each_case_as_the_contract_says() -> None:
    pack = engine.load(ROOT / "policies")["keywork_edm"]
    for sentence, release in CASES:
        d = engine.evaluate(pack, doc(sentence, release), DAY)
        decided = d.status == "decided"
        needs = "prisoner.release_date" in d.missing_facts
        if release == "2020-07-20" or (release is None and sentence in ("indeterminate", "remand")):
            assert decided and not needs, (sentence, release, d.missing_facts)
        else:
            assert not decided and needs, (sentence, release, d.status)


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_batch_reads_each_case_as_the_interpreter(tmp_path: Path, suffix: str) -> None:
    pack = engine.load(ROOT / "policies")["keywork_edm"]
    docs = [doc(s, r) for s, r in CASES]
    facts = tmp_path / f"facts{suffix}"
    write(docs, facts, DAY)
    out = tmp_path / "out.parquet"
    result = run_batch(pack, facts, out, DAY, DAY, threads=1)
    assert result.rejected == 0
    rows = written_rows(out)
    compiled = compile_pack(pack)
    types = output_types(pack)
    failures = []
    for row, d, case in zip(rows, docs, CASES, strict=True):
        row.update({n: read_back(row[n], types[n]) for n in compiled.outputs})
        expected = python_view(pack, converted(d), DAY, compiled.outputs)
        assert expected is not None
        failures += [f"{case}: {diff}" for diff in differences(expected, row_view(row, compiled))]
    assert not failures, "\n".join(failures[:8])
