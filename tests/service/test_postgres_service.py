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
        # an id PostgreSQL cannot hold (a NUL) is no record: it was a 500 for a decision, and
        # for a batch an exception that reset the connection without an answer
        for path in ("/v1/decisions/a%00b", "/v1/batches/a%00b"):
            missing = httpx.get(f"{srv.url}{path}", headers=headers)
            assert missing.status_code == 404, (path, missing.text)
        missing = httpx.post(f"{srv.url}/v1/decisions/a%00b/replay", headers=headers)
        assert missing.status_code == 404, missing.text
    store = open_store(url)
    (row,) = store.records()
    assert row.decision_id == made["decisionId"] and row.intact()
    assert store.pack_source(row.content_hash) is not None
    store.close()


def test_load_and_sigkill_with_the_log_in_postgresql(
    postgres: Postgres, keys: dict[str, Path], token: Callable[..., str], tmp_path: Path
) -> None:
    """The real `regime serve` on PostgreSQL: a short load with one row per acknowledged
    decision, then SIGKILL mid-load and restart with every acknowledged decision logged, intact.
    (`make load` runs the same for longer.)"""
    import asyncio
    import shutil

    from service.loadtest import ServerProcess, check_after_kill, kill_during_load, run_load
    from tests.service.conftest import POLICIES

    packs = tmp_path / "policies"
    packs.mkdir()
    shutil.copy(POLICIES / "keywork_edm.yaml", packs)
    url = postgres.new_database("load")
    server = ServerProcess(str(packs), url, str(keys["public"]))
    tok = token(CUSTODIAL)
    server.start()
    store = open_store(url)
    try:
        result = asyncio.run(run_load(server.url, tok, seconds=2, clients=32))
        assert result.acknowledged and not result.errors and not result.connection_errors
        assert store.count() == len(result.acknowledged)
        before = store.count()
        killed = asyncio.run(kill_during_load(server, tok, kill_after=1.5))
        assert killed.acknowledged
        outcome = check_after_kill(server, store, tok, killed, before)
        assert outcome.missing == [] and outcome.not_intact == 0 and outcome.serves_again
        assert 0 <= outcome.rows_after - outcome.rows_before - len(killed.acknowledged) <= 512
    finally:
        server.stop()
        store.close()
        server.remove_log()
