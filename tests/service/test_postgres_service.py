"""The service end to end with its decision log on a real PostgreSQL server: decide, look up,
replay, and the rows as the store reads them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from service.log_store import open_store
from tests.service.conftest import CUSTODIAL, ThreadServer, example_facts, settings_for
from tests.service.postgres import Postgres


def test_decisions_are_logged_in_postgresql_and_replay(
    postgres: Postgres, keys: dict[str, Path], token: Callable[..., str]
) -> None:
    url = postgres.new_database("service")
    headers = {"authorization": f"Bearer {token(CUSTODIAL)}"}
    facts = example_facts("examples/pmp/a1101pm_immunosuppressed_plan.yaml")
    with ThreadServer(settings_for(url, keys)) as srv:
        assert (
            httpx.get(f"{srv.url}/health").json()["components"]["decisionLog"]["details"]["backend"]
            == "postgresql"
        )
        made = httpx.post(
            f"{srv.url}/v1/packs/pmp/decisions", json={"facts": facts}, headers=headers
        ).json()
        got = httpx.get(f"{srv.url}/v1/decisions/{made['decisionId']}", headers=headers).json()
        assert got["intact"] and got["maskedPaths"] == ["prisoner.clinical"]
        replay = httpx.post(
            f"{srv.url}/v1/decisions/{made['decisionId']}/replay",
            json={"facts": facts},
            headers=headers,
            timeout=30,
        ).json()
        assert replay["identical"] is True
    store = open_store(url)
    (row,) = store.records()
    assert row.decision_id == made["decisionId"] and row.intact()
    assert store.pack_source(row.content_hash) is not None
    store.close()
