"""`regime batch` rejects exactly the records the interpreter's facts check refuses, however a
record breaks the schema: every value of generated documents replaced by a value of each JSON
type (and a bad date, a null, an empty list or object), every object given a field the schema
does not know, every list given a bad element. Read from JSONL and from CSV (JSON cells)."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import engine
from engine.packs.facts_schema import prepare
from engine.problems import FactsError
from engine.sql.batch import run_batch
from engine.tools.population import Population
from tests.sql.plan_population import PlanPopulation

ROOT = Path(__file__).resolve().parents[2]
ROOTS = ("prisoner", "establishment", "action_plan")
# one value of every JSON type, and the near misses a typed read would let through
WRONG: list[Any] = [3, -1, 1.5, 1.0, "x", "2020-02-30", "2020-07-20", True, None, [], ["x"], [3]]
WRONG += [[None], {}, {"zz": 1}]


def _paths(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*at, k))
    elif isinstance(value, list):
        for i, v in enumerate(value[:2]):
            yield from _paths(v, (*at, i))


def _put(doc: dict[str, Any], at: tuple[Any, ...], new: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    node: Any = out
    for step in at[:-1]:
        node = node[step]
    node[at[-1]] = new
    return out


def _at(doc: Any, at: tuple[Any, ...]) -> Any:
    for step in at:
        doc = doc[step]
    return doc


def mutants(docs: list[dict[str, Any]], roots_only: bool) -> list[dict[str, Any]]:
    """Each document as it is, then each of its values replaced, each object given an unknown
    field and each list a bad element (with `roots_only`, nothing added beside the roots)."""
    out: list[dict[str, Any]] = list(docs)
    for doc in docs:
        for at in _paths(doc):
            here = _at(doc, at)
            if at and not (roots_only and len(at) == 1 and at[0] not in ROOTS):
                out += [_put(doc, at, w) for w in WRONG if w != here]
            if isinstance(here, dict) and (at or not roots_only):
                out.append(_put(doc, (*at, "zz_unknown"), 1) if at else {**doc, "zz_unknown": 1})
            if isinstance(here, list) and at:
                out += [_put(doc, at, [*here, w]) for w in (None, 3, "x", {"zz": 1})]
    return out


# the interpreter's answer per document, shared by the JSONL and CSV runs (one worker runs
# both: their documents are nearly all the same, and the interpreter's check is most of the time)
_REFUSED: dict[str, bool] = {}


def refused(doc: dict[str, Any]) -> bool:
    key = json.dumps(doc, sort_keys=True)
    if key not in _REFUSED:
        try:
            prepare(doc, "<facts>")
            _REFUSED[key] = False
        except FactsError:
            _REFUSED[key] = True
    return _REFUSED[key]


def _refusal(doc: dict[str, Any]) -> str:
    try:
        prepare(doc, "<facts>")
    except FactsError as e:
        return "interpreter: " + "; ".join(p.message for p in e.problems)
    return "the interpreter accepts it"


def _write_jsonl(path: Path, docs: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")


def _write_csv(path: Path, docs: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(ROOTS)
        for d in docs:
            w.writerow([json.dumps(d[r]) if r in d else "" for r in ROOTS])


@pytest.mark.xdist_group("read-checks")
@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_batch_rejects_what_the_interpreter_refuses(tmp_path: Path, suffix: str) -> None:
    people = [doc for _, _, doc in Population(seed=5).documents(4, roots=ROOTS[:2])]
    plans = [PlanPopulation(seed=5).document()[1] for _ in range(2)]
    base = [*people, {**people[0], **plans[0]}, plans[1]]
    assert not any(refused(d) for d in base), "the generated documents are valid facts"
    docs = mutants(base, roots_only=suffix == ".csv")
    facts = tmp_path / f"facts{suffix}"
    (_write_jsonl if suffix == ".jsonl" else _write_csv)(facts, docs)
    pack = engine.load(ROOT / "policies")["keywork_edm"]
    out = tmp_path / "out.jsonl"
    # the healthcare audience sees every refusal (a custodial one is not told of problems in
    # healthcare-only parts: tests/sql/test_batch_healthcare_rejects.py)
    day = dt.date(2020, 7, 20)
    result = run_batch(pack, facts, out, day, day, audience="healthcare")
    rejects = {
        r["record"]: r["reasons"] for r in map(json.loads, result.rejects.read_text().splitlines())
    }
    expected = {i + 1 for i, d in enumerate(docs) if refused(d)}
    assert len(docs) > 1000 and len(expected) > len(docs) // 2
    wrong = [
        f"record {i}: batch {'rejects' if i in rejects else 'accepts'} it"
        f" ({rejects.get(i) or _refusal(docs[i - 1])}): {json.dumps(docs[i - 1])[:300]}"
        for i in sorted(set(rejects) ^ expected)
    ]
    assert not wrong, f"{len(wrong)} records differ:\n" + "\n".join(wrong[:12])


# Parquet keeps one type a column: each case is a file of its own (a field's NULL is its absence)
PARQUET_CASES = [
    [{"prisoner": {"rosh": "HIGH", "bogus": 1}}, {"prisoner": {"rosh": "LOW"}}],
    [{"prisoner": {"release_date": "2020-07-20"}}, {"prisoner": {"release_date": "2020-13-45"}}],
    [{"establishment": {"regime_level": "3"}}],
    [{"establishment": {"regime_level": 1.0}}, {"establishment": {"regime_level": 1.5}}],
    [{"prisoner": {"alerts": [3]}}, {"prisoner": {"alerts": []}}],
    [{"prisoner": {"alerts": ["HA", None]}}, {"prisoner": {"alerts": ["HA"]}}],
    [{"prisoner": {"keywork": {"sessions": [{"date": "2020-07-01", "minutes": 30.5}]}}}],
    [{"prisoner": {"keywork": {"sessions": [{"date": "2020-07-01", "zz": True}]}}}],
    [{"prisoner": {"keywork": {"sessions": [{"date": "2020-07-01", "minutes": 45}]}}}],
]


@pytest.mark.parametrize("docs", PARQUET_CASES, ids=lambda d: json.dumps(d[0])[:40])
def test_batch_rejects_from_parquet_what_the_interpreter_refuses(
    tmp_path: Path, docs: list[dict[str, Any]]
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    facts = tmp_path / "facts.parquet"
    pq.write_table(pa.Table.from_pylist(docs), facts)
    pack = engine.load(ROOT / "policies")["keywork_edm"]
    result = run_batch(
        pack, facts, tmp_path / "out.jsonl", dt.date(2020, 7, 20), dt.date(2020, 7, 20)
    )
    rejects = {
        r["record"]: r["reasons"] for r in map(json.loads, result.rejects.read_text().splitlines())
    }
    expected = {i + 1 for i, d in enumerate(docs) if refused(d)}
    assert set(rejects) == expected, (rejects, [_refusal(d) for d in docs])


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_batch_rejects_a_whole_number_past_64_bits(tmp_path: Path, suffix: str) -> None:
    # the typed read made it NULL: the decision went on with the fact unknown, where the
    # interpreter reads the number exactly
    session = {"date": "2020-07-01", "kind": "session", "minutes": 2**64}
    docs = [
        {"prisoner": {"prison_number": "A1234BC", "keywork": {"sessions": [session]}}},
        {"prisoner": {"prison_number": "A1234BD"}, "establishment": {"regime_level": 2**63}},
        {"prisoner": {"prison_number": "A1234BE"}, "establishment": {"regime_level": 2.0}},
        {
            "prisoner": {
                "prison_number": "A1234BF",
                "keywork": {"sessions": [{**session, "minutes": 2**63 - 1}]},
            }
        },
    ]
    facts = tmp_path / f"facts{suffix}"
    (_write_jsonl if suffix == ".jsonl" else _write_csv)(facts, docs)
    pack = engine.load(ROOT / "policies")["keywork_edm"]
    day = dt.date(2020, 7, 20)
    result = run_batch(pack, facts, tmp_path / "out.jsonl", day, day, audience="healthcare")
    rejects = {
        r["record"]: r["reasons"] for r in map(json.loads, result.rejects.read_text().splitlines())
    }
    assert sorted(rejects) == [1, 2], rejects
    assert any("sessions[].minutes: a whole number past 64 bits" in r for r in rejects[1])
    assert any("regime_level: a whole number past 64 bits" in r for r in rejects[2])
