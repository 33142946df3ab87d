"""`regime dev-token` and `regime serve`'s start-up checks, in-process with click's CliRunner."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest
from click.testing import CliRunner

from cli.main import cli
from tests.service.conftest import POLICIES, free_port


def test_dev_token_makes_keys_once_and_prints_an_hmpps_shaped_token(tmp_path: Path) -> None:
    runner = CliRunner()
    keys = tmp_path / "keys"
    args = ["dev-token", "--keys", str(keys), "--role", "ROLE_A", "--role", "ROLE_B"]
    first = runner.invoke(cli, [*args, "--user", "nurse.jones"])
    assert first.exit_code == 0, first.output
    public = (keys / "public.pem").read_bytes()
    token = first.stdout.strip().splitlines()[-1]
    claims = jwt.decode(token, public, algorithms=["RS256"])
    assert claims["authorities"] == ["ROLE_A", "ROLE_B"] and claims["user_name"] == "nurse.jones"
    assert claims["client_id"] and claims["exp"] > claims["iat"]
    again = runner.invoke(cli, args)
    assert (keys / "public.pem").read_bytes() == public  # the key pair is kept
    jwt.decode(again.stdout.strip().splitlines()[-1], public, algorithms=["RS256"])


def test_serve_refuses_to_start_without_a_key_or_the_insecure_flag(tmp_path: Path) -> None:
    r = CliRunner().invoke(cli, ["serve", "--packs", str(POLICIES)])
    assert r.exit_code == 2
    assert "--jwt-public-key" in r.output and "--insecure-no-auth" in r.output
    assert "Traceback" not in r.output


def test_serve_refuses_a_database_url_it_does_not_know(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        cli, ["serve", "--packs", str(POLICIES), "--insecure-no-auth", "--database-url", "x.db"]
    )
    assert r.exit_code == 2 and "sqlite:///" in r.output


def test_serve_refuses_broken_packs_with_their_positions(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("id: bad\nversions: [\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["serve", "--packs", str(tmp_path), "--insecure-no-auth"])
    assert r.exit_code == 1
    assert "bad.yaml:" in r.output and "nothing is served" in r.output


def test_serve_refuses_an_unreadable_key(tmp_path: Path) -> None:
    key = tmp_path / "key.pem"
    key.write_text("not a key", encoding="utf-8")
    r = CliRunner().invoke(cli, ["serve", "--packs", str(POLICIES), "--jwt-public-key", str(key)])
    assert r.exit_code == 2 and "cannot read the token verification key" in r.output


def test_serve_refuses_a_postgresql_log_it_cannot_reach_without_showing_its_password() -> None:
    # a server that is down (nothing listens on port 1) or a mistyped host: a clear error
    # before starting, not psycopg's traceback from the server's start-up (exit 3)
    url = "postgresql://regime:s3cret@127.0.0.1:1/decisions"
    r = CliRunner().invoke(
        cli,
        ["serve", "--packs", str(POLICIES), "--insecure-no-auth", "--database-url", url,
         "--port", str(free_port())],
    )  # fmt: skip
    assert r.exit_code == 2, r.output
    assert "cannot reach the decision log" in r.output and "Traceback" not in r.output
    assert "s3cret" not in r.output


def test_serve_refuses_no_auth_together_with_a_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # both given, authentication was silently off: whoever added the key believed it was on
    import service.server

    def started(*_: object) -> None:
        raise AssertionError("the server was started")

    monkeypatch.setattr(service.server, "serve", started)
    key = tmp_path / "public.pem"
    for args in (["--jwt-public-key", str(key)], ["--jwks", str(key)]):
        r = CliRunner().invoke(
            cli, ["serve", "--packs", str(POLICIES), "--insecure-no-auth", *args]
        )
        assert r.exit_code == 2 and "--insecure-no-auth" in r.output, r.output
        assert "Traceback" not in r.output
