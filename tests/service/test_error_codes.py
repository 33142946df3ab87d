"""The service's own error codes: each documented in docs/service.md, each used code listed, and
the ones no other test reaches produced here by real faults (a pack version the log cannot
rebuild, a log table gone, a corrupted row)."""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from service.errors import CODES
from service.log_record import LogRecord
from service.log_store import open_store
from tests.service.conftest import CUSTODIAL, ROOT, ThreadServer, example_facts, settings_for

DOC = (ROOT / "docs" / "service.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_code_is_documented(code: str) -> None:
    assert f"`{code}`" in DOC


def test_every_code_the_service_uses_is_listed() -> None:
    used: set[str] = set()
    for path in (ROOT / "service").rglob("*.py"):
        used |= set(re.findall(r'"(E-HTTP-[A-Z-]+)"', path.read_text(encoding="utf-8")))
    assert used == set(CODES)


def _record(content_hash: str, input_json: str = "{}") -> LogRecord:
    return LogRecord(
        str(uuid.uuid4()),
        "2026-01-01T00:00:00Z",
        "c",
        "u",
        "keywork_edm",
        "0.9.0",
        "1",
        content_hash,
        "2020-07-01",
        "custodial",
        "sha256:" + "0" * 64,
        input_json,
        "[]",
        "{}",
    ).sealed()


def test_a_pack_version_that_cannot_be_rebuilt_is_410(
    server: ThreadServer, token: Callable[..., str]
) -> None:
    store = open_store(server.settings.database_url)
    gone = _record("sha256:" + "e" * 64)
    store.append([gone])
    store.close()
    r = httpx.post(
        f"{server.url}/v1/decisions/{gone.decision_id}/replay",
        headers={"authorization": f"Bearer {token(CUSTODIAL)}"},
    )
    assert r.status_code == 410 and r.json()["errorCode"] == "E-HTTP-PACK-GONE"


def test_a_corrupted_row_is_a_500_without_a_traceback(
    server: ThreadServer, token: Callable[..., str]
) -> None:
    store = open_store(server.settings.database_url)
    bad = _record("sha256:" + "e" * 64, input_json="{not json")
    store.append([bad])
    store.close()
    r = httpx.get(
        f"{server.url}/v1/decisions/{bad.decision_id}",
        headers={"authorization": f"Bearer {token(CUSTODIAL)}"},
    )
    assert r.status_code == 500 and r.json()["errorCode"] == "E-HTTP-INTERNAL"
    assert "Traceback" not in r.text


def test_a_decision_that_cannot_be_logged_is_not_given(
    tmp_path: Path, keys: dict[str, Path], token: Callable[..., str]
) -> None:
    db = tmp_path / "gone.db"
    with ThreadServer(settings_for(f"sqlite:///{db}", keys)) as srv:
        with sqlite3.connect(db) as c:
            c.execute("DROP TABLE decisions")
        r = httpx.post(
            f"{srv.url}/v1/packs/keywork_edm/decisions",
            json={"facts": example_facts("examples/prisoners/b3152kw_high_rosh_release.yaml")},
            headers={"authorization": f"Bearer {token(CUSTODIAL)}"},
            timeout=60,
        )
        assert r.status_code == 503 and r.json()["errorCode"] == "E-HTTP-UNAVAILABLE"
        assert "decisionId" not in r.json()
