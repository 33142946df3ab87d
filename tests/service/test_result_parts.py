"""The pack-constant part of a result serialised once and stored once: answers stay exactly
`decision.to_dict()`, and the log rebuilds the very document it would have kept whole."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from service import log_store
from service.loadtest import varied_facts
from service.log_record import LogRecord
from service.log_store import open_store
from service.result_parts import ResultSplitter, rebuild
from tests.service.conftest import (
    CUSTODIAL,
    HEALTHCARE,
    ThreadServer,
    example_facts,
    loaded_packs,
)

PMP = "examples/pmp/a1101pm_immunosuppressed_plan.yaml"


@pytest.fixture(scope="module")
def keywork() -> object:
    return loaded_packs()["keywork_edm"]


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), audience=st.sampled_from(["custodial", "healthcare"]))
def test_a_split_answer_is_byte_for_byte_the_decision_serialised_whole(
    keywork: object, seed: int, audience: str
) -> None:
    splitter = ResultSplitter()
    rng = random.Random(seed)
    for n in range(3):  # the first of a key is made whole, the next ones spliced
        decision = engine.evaluate(keywork, varied_facts(rng, n), None, audience, "t")  # type: ignore[arg-type]
        whole = orjson.dumps(decision.to_dict())
        for _ in range(2):
            split = splitter.split(decision)
            assert split.full == whole
            bodies = dict(split.parts)
            assert rebuild(split.stored.decode(), split.parts_ref, bodies) == decision.to_dict()
            if split.parts_ref is not None:
                assert len(split.stored) < len(whole)
                assert orjson.loads(split.stored)["interpretations"] is None


def test_a_key_whose_member_does_not_splice_back_is_kept_whole() -> None:
    class Odd:
        content_hash, audience, interpretations = "h", "custodial", ()

        def to_dict(self) -> dict[str, object]:
            return {"status": "decided", "interpretations": "not a list"}

        def json_parts(self) -> tuple[bytes, bytes, bytes]:
            return b'{"status":"decided","interpretations":', b"[]", b"}"

    splitter = ResultSplitter()
    for _ in range(2):  # the first of its member, and one after: neither split
        split = splitter.split(Odd())
        assert split.parts_ref is None and split.parts == () and split.stored == split.full
        assert split.full == orjson.dumps(Odd().to_dict())


def test_the_log_keeps_a_part_once_and_the_lookup_rebuilds_the_answer(
    server: ThreadServer, client: httpx.Client, token: Callable[..., str]
) -> None:
    tok = token(CUSTODIAL)
    rng = random.Random(5)
    answers = []
    for n in range(6):
        r = client.post(
            "/v1/packs/keywork_edm/decisions",
            json={"facts": varied_facts(rng, n)},
            headers={"Authorization": f"Bearer {tok}"},
        )
        assert r.status_code == 200, r.text
        answers.append(r.content)
    store = open_store(server.settings.database_url)
    refs = set()
    for raw in answers:
        answer = orjson.loads(raw)
        decision_id = answer.pop("decisionId")
        got = client.get(f"/v1/decisions/{decision_id}", headers={"Authorization": f"Bearer {tok}"})
        doc = got.json()
        assert doc["intact"] and doc["decision"] == answer
        assert list(doc["decision"]) == list(answer)
        row = store.get(decision_id)
        assert row is not None and row.result_parts is not None and row.intact()
        assert len(row.result) < len(raw) / 2  # the interpretations are stored apart
        refs |= set(row.part_hashes())
    with sqlite3.connect(server.settings.database_url[len("sqlite:///") :]) as c:
        stored = {h for (h,) in c.execute("SELECT part_hash FROM result_parts")}
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            c.execute("UPDATE result_parts SET body = x'00'")
    assert refs <= stored
    assert len(refs) < len(answers)  # decisions relying on the same interpretations share one


def test_a_healthcare_decision_logs_and_rebuilds_its_own_part(
    client: httpx.Client, token: Callable[..., str]
) -> None:
    tok = token(HEALTHCARE)
    h = {"Authorization": f"Bearer {tok}"}
    body = {"facts": example_facts(PMP), "audience": "healthcare"}
    r = client.post("/v1/packs/pmp/decisions", json=body, headers=h)
    assert r.status_code == 200, r.text
    answer = r.json()
    doc = client.get(f"/v1/decisions/{answer.pop('decisionId')}", headers=h).json()
    assert doc["intact"] and doc["decision"] == answer


def test_a_part_that_does_not_match_its_hash_shows_as_not_intact() -> None:
    record = LogRecord(
        "id", "t", "c", "u", "p", "1", "1", "h", "2020-07-01", "custodial", "ih", "{}", "[]",
        '{"status":"decided","interpretations":null}',
        result_parts='{"interpretations":"sha256:' + "0" * 64 + '"}',
    ).sealed()  # fmt: skip
    assert record.intact()  # the row itself
    api = record.to_api({"sha256:" + "0" * 64: b'[{"id":"forged"}]'})
    assert not api["intact"] and api["decision"]["interpretations"] is None
    assert not record.to_api({})["intact"]


def test_a_row_logged_whole_before_the_migration_reads_back_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    monkeypatch.setattr(log_store, "MIGRATIONS", log_store.MIGRATIONS[:2])
    old = open_store(url)
    assert old.migrate() == 2
    whole = '{"status":"decided","interpretations":[{"id":"I-1"}]}'
    record = LogRecord(
        "old-1", "t", "c", "u", "p", "1", "1", "h", "2020-07-01", "custodial", "ih", "{}", "[]",
        whole,
    ).sealed()  # fmt: skip
    columns = log_store.COLUMNS[:-1]  # the columns there were before migration 3
    with sqlite3.connect(tmp_path / "old.db") as c:
        c.execute(
            f"INSERT INTO decisions ({', '.join(columns)}) VALUES ({','.join('?' * len(columns))})",
            tuple(getattr(record, k) for k in columns),
        )
    old.close()
    monkeypatch.undo()
    new = open_store(url)
    assert new.migrate() == 3
    after = new.get("old-1")
    assert after == record and after.intact() and after.result == whole
    shown = after.to_api(new.parts(after.part_hashes()))
    assert shown["decision"] == orjson.loads(whole) and shown["intact"]
    new.close()


@pytest.mark.parametrize(
    ("head", "tail"),
    [({}, {}), ({"a": 1}, {}), ({}, {"z": [None]}), ({"a": "x", "b": {}}, {"y": 2, "z": "é"})],
)
def test_a_member_is_joined_as_orjson_writes_the_whole_object(
    head: dict[str, object], tail: dict[str, object]
) -> None:
    from service.result_parts import MEMBER, _joined

    value = [{"id": "I-1", "why": "because"}]
    whole = orjson.dumps({**head, MEMBER: value, **tail})
    assert _joined(head, orjson.dumps(value), tail) == whole
