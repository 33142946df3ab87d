"""Fixtures for the decision service: keys and tokens minted here (no network), a real uvicorn
server on 127.0.0.1 in a thread, and a throwaway PostgreSQL server."""

from __future__ import annotations

import functools
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import yaml

import engine
from service.app import serving_app
from service.auth import Roles, ensure_dev_keys, mint_token
from service.settings import Settings
from tests.service.postgres import Postgres, pg_bin

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"
ROLES = Roles()
CUSTODIAL = [ROLES.custodial]
HEALTHCARE = [ROLES.healthcare]
ADMIN = [ROLES.admin]


@functools.cache
def loaded_packs() -> engine.Packs:
    """The project's packs, loaded once for every in-process server."""
    return engine.load(POLICIES)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def example_facts(relative: str) -> dict[str, Any]:
    """An example facts file as the JSON a caller would send (dates as text)."""
    data = yaml.safe_load((ROOT / relative).read_text(encoding="utf-8"))
    return json.loads(json.dumps(data, default=str))


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The key pair the server trusts, and another it does not."""
    good = ensure_dev_keys(tmp_path_factory.mktemp("keys"))
    bad = ensure_dev_keys(tmp_path_factory.mktemp("other-keys"))
    return {"private": good[0], "public": good[1], "jwks": good[2], "other_private": bad[0]}


@pytest.fixture(scope="session")
def token(keys: dict[str, Path]) -> Callable[..., str]:
    """A token factory: token(roles, minutes=5, user="a.user", other_key=False, issuer=...,
    audience=...)."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    loaded = {
        name: load_pem_private_key(keys[name].read_bytes(), None)
        for name in ("private", "other_private")
    }

    def make(
        roles: list[str],
        minutes: float = 5,
        user: str | None = "a.user",
        client: str = "test-client",
        other_key: bool = False,
        **claims: Any,
    ) -> str:
        key = loaded["other_private" if other_key else "private"]
        return mint_token(key, roles, user, client, minutes, **claims)

    return make


class ThreadServer:
    """A real uvicorn server on a free loopback port, serving in a background thread. The port
    is the one a socket bound here holds from the start: no other process (another test worker)
    can take it between choosing it and listening on it."""

    def __init__(self, settings: Settings):
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.settings = replace(settings, port=int(self.socket.getsockname()[1]))
        preloaded = loaded_packs() if settings.packs_dir == POLICIES else None
        self.server = uvicorn.Server(
            uvicorn.Config(
                serving_app(self.settings, preloaded),
                host="127.0.0.1",
                port=self.settings.port,
                log_level="error",
                access_log=False,
            )
        )
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )
        self.url = f"http://127.0.0.1:{self.settings.port}"

    def __enter__(self) -> ThreadServer:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *_: Any) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.socket.close()

    def app_state(self) -> Any:
        return self.server.config.app


def settings_for(
    database_url: str, keys: dict[str, Path], packs: Path = POLICIES, **kw: Any
) -> Settings:
    return Settings(
        packs_dir=packs,
        database_url=database_url,
        port=free_port(),
        public_key_file=keys["public"],
        **kw,
    )


@pytest.fixture(scope="session")
def server(
    tmp_path_factory: pytest.TempPathFactory, keys: dict[str, Path]
) -> Iterator[ThreadServer]:
    """One server for the test session, with its own SQLite decision log."""
    db = tmp_path_factory.mktemp("log") / "decisions.db"
    with ThreadServer(settings_for(f"sqlite:///{db}", keys)) as srv:
        yield srv


@pytest.fixture(scope="session")
def client(server: ThreadServer) -> Iterator[httpx.Client]:
    """One HTTP client for the session (making one per request costs more than the request)."""
    with httpx.Client(base_url=server.url, timeout=60) as c:
        yield c


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A throwaway PostgreSQL server for the whole session (skipped, with the reason, when
    PostgreSQL is not installed: `bash scripts/ensure-postgres` installs it)."""
    if pg_bin() is None:
        pytest.skip("PostgreSQL is not installed; run scripts/ensure-postgres as root")
    pg = Postgres()
    try:
        pg.start()
        yield pg
    finally:
        pg.stop()
