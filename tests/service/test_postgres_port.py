"""The throwaway PostgreSQL server of the tests starts on another free port when the one it
chose is taken before it listens (another test worker's server, say)."""

from __future__ import annotations

import socket

import pytest

from tests.service.postgres import Postgres, pg_bin


def test_a_port_taken_before_the_server_listens_is_given_up_for_a_free_one() -> None:
    if pg_bin() is None:
        pytest.skip("PostgreSQL is not installed; run scripts/ensure-postgres as root")
    import psycopg

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        taken = int(held.getsockname()[1])
        pg = Postgres()
        pg.port = taken
        try:
            pg.start()
            assert pg.port != taken
            with psycopg.connect(pg.url) as c:
                assert c.execute("SELECT 1").fetchone() == (1,)
        finally:
            pg.stop()
