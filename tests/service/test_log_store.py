"""The decision log's stores, the same tests against SQLite and a real PostgreSQL server:
migrations, append and read back, append-only, records sealed by their hash, pack sources."""

from __future__ import annotations

import itertools
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.log_record import LogRecord
from service.log_store import BadDatabaseUrl, LogStore, open_store
from tests.service.postgres import Postgres

_names = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LogStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'log.db'}"
    else:
        pg: Postgres = request.getfixturevalue("postgres")
        url = pg.new_database(f"log{next(_names)}")
    s = open_store(url)
    s.migrate()
    yield s
    s.close()


def record(n: int = 0, audience: str = "custodial") -> LogRecord:
    return LogRecord(
        decision_id=str(uuid.uuid4()),
        recorded_at="2026-01-01T00:00:00.000000Z",
        client_id="client",
        user_name=f"user{n}",
        pack="keywork_edm",
        version="1.0.0",
        policy_version="1",
        content_hash="sha256:" + "0" * 64,
        as_of="2020-07-01",
        audience=audience,
        input_hash="sha256:" + "1" * 64,
        input='{"prisoner":{"clinical":null}}',
        masked_paths='["prisoner.clinical"]',
        result='{"status":"decided"}',
    ).sealed()


def test_migrations_are_recorded_and_idempotent(store: LogStore) -> None:
    assert store.migrate() == 3
    assert store.migrate() == 3
    assert store.count() == 0


def test_append_and_read_back_every_field(store: LogStore) -> None:
    records = [record(n) for n in range(5)]
    store.append(records[:2])
    store.append(records[2:])
    assert store.count() == 5
    assert store.records() == records
    got = store.get(records[3].decision_id)
    assert got == records[3] and got.intact()
    assert store.get("no-such-id") is None


def test_a_batch_is_looked_up_by_its_id_in_line_order(store: LogStore) -> None:
    from dataclasses import replace

    lines = [replace(record(n), batch_id="batch-1", batch_line=n + 1).sealed() for n in range(3)]
    store.append([lines[2], record(9), lines[0], lines[1]])
    assert store.batch("batch-1") == lines
    assert all(r.intact() for r in store.batch("batch-1"))
    assert store.batch("batch-2") == []
    moved = replace(lines[0], batch_line=7)
    assert not moved.intact()  # the batch line is sealed too


def test_a_record_sealed_without_batch_fields_keeps_its_hash() -> None:
    r = record()
    assert r.batch_id is None and r.intact()
    assert not LogRecord(**{**r.__dict__, "batch_id": "added-later"}).intact()


def test_the_log_refuses_updates_and_deletes(store: LogStore) -> None:
    r = record()
    store.append([r])
    conn = store._conn()  # type: ignore[attr-defined]
    marker = "?" if store.backend == "sqlite" else "%s"
    for sql in (
        f"UPDATE decisions SET result = '{{}}' WHERE decision_id = {marker}",
        f"DELETE FROM decisions WHERE decision_id = {marker}",
    ):
        with pytest.raises(Exception, match="append-only"):
            conn.execute(sql, (r.decision_id,))
    assert store.get(r.decision_id) == r


def test_a_duplicate_id_fails_the_whole_group(store: LogStore) -> None:
    a, b = record(1), record(2)
    store.append([a])
    with pytest.raises(Exception):  # noqa: B017 - sqlite3 and psycopg raise their own types
        store.append([b, a])
    assert store.count() == 1 and store.get(b.decision_id) is None


def test_a_changed_field_breaks_the_seal() -> None:
    r = record()
    assert r.intact()
    forged = LogRecord(**{**r.__dict__, "result": '{"status":"undetermined"}'})
    assert not forged.intact()


def test_pack_sources_are_kept_once_by_hash(store: LogStore) -> None:
    store.put_pack_source("sha256:ab", "pmp", "1.0.0", "pmp.yaml", b"id: pmp\n")
    store.put_pack_source("sha256:ab", "pmp", "1.0.0", "pmp.yaml", b"other")
    assert store.pack_source("sha256:ab") == ("pmp.yaml", b"id: pmp\n")
    assert store.pack_source("sha256:cd") is None
    assert store.ping()


def test_sqlite_is_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    s = open_store(f"sqlite:///{tmp_path / 'wal.db'}")
    s.migrate()
    s.close()
    with sqlite3.connect(tmp_path / "wal.db") as c:
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.parametrize("url", ["sqlite://", "mysql://x", "decisions.db"])
def test_unknown_database_urls_are_refused(url: str) -> None:
    with pytest.raises(BadDatabaseUrl):
        open_store(url)


def test_a_result_part_is_stored_once_and_refuses_change(store: LogStore) -> None:
    from dataclasses import replace

    part = ("sha256:" + "a" * 64, b'[{"id":"I-1"}]')
    ref = '{"interpretations":"' + part[0] + '"}'
    split = [replace(record(n), result_parts=ref).sealed() for n in range(3)]
    store.append(split[:2], [part])
    store.append(split[2:], [part])
    store._parts_stored.clear()  # type: ignore[attr-defined]  # as another process would
    store.append([replace(record(7), result_parts=ref).sealed()], [part])
    assert store.parts([part[0], "sha256:none"]) == {part[0]: part[1]}
    assert [r.part_hashes() for r in store.records()] == [[part[0]]] * 4
    assert all(r.intact() for r in store.records())
    marker = "?" if store.backend == "sqlite" else "%s"
    conn = store._conn()  # type: ignore[attr-defined]
    with pytest.raises(Exception):  # noqa: B017 - sqlite3 and psycopg raise their own types
        conn.execute(f"DELETE FROM result_parts WHERE part_hash = {marker}", (part[0],))
    assert store.parts([part[0]]) == {part[0]: part[1]}


def test_now_is_iso_utc_to_the_microsecond() -> None:
    import datetime as dt
    import re

    from service.log_store import now

    before = dt.datetime.now(dt.UTC)
    text = now()
    after = dt.datetime.now(dt.UTC)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", text)
    assert before <= dt.datetime.fromisoformat(text.replace("Z", "+00:00")) <= after


def test_a_group_larger_than_one_statement_is_appended_whole(store: LogStore) -> None:
    from service.log_store import ROWS_A_STATEMENT

    records = [record(n) for n in range(ROWS_A_STATEMENT + 3)]
    store.append(records)
    assert store.records() == records


@pytest.mark.parametrize("size", [0, 1, 2046, 2047, 2048, 4094, 4095, 10_000, 100_003])
def test_hashing_in_pieces_gives_the_digest_of_the_whole(size: int) -> None:
    import hashlib

    from service.log_record import sha256

    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    assert sha256(data) == "sha256:" + hashlib.sha256(data).hexdigest()


def test_a_new_sqlite_log_uses_4_kib_pages(tmp_path: Path) -> None:
    s = open_store(f"sqlite:///{tmp_path / 'pages.db'}")
    s.migrate()
    s.close()
    with sqlite3.connect(tmp_path / "pages.db") as c:
        assert c.execute("PRAGMA page_size").fetchone()[0] == 4096


def test_a_sqlite_log_in_a_missing_folder_or_on_a_folder_is_refused(tmp_path: Path) -> None:
    # found when `regime serve` starts, with the usage error, not as a traceback from startup
    for target in (tmp_path / "no" / "such" / "decisions.db", tmp_path):
        with pytest.raises(BadDatabaseUrl) as info:
            open_store(f"sqlite:///{target}")
        assert str(target) in str(info.value)
