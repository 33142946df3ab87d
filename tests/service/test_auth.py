"""Every endpoint with no token, an expired token, a token signed by another key, the wrong role
and the right role; healthcare never downgraded; --insecure-no-auth announced in /info."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.service.conftest import (
    ADMIN,
    CUSTODIAL,
    HEALTHCARE,
    ThreadServer,
    example_facts,
    settings_for,
)

FACTS = example_facts("examples/prisoners/b3152kw_high_rosh_release.yaml")


@pytest.fixture(scope="module")
def decision_id(client: httpx.Client, token: Callable[..., str]) -> str:
    r = client.post(
        "/v1/packs/keywork_edm/decisions",
        json={"facts": FACTS},
        headers={"authorization": f"Bearer {token(CUSTODIAL)}"},
    )
    return str(r.json()["decisionId"])


# (method, path, body, roles that succeed, a role that is refused)
ENDPOINTS: list[tuple[str, str, Any, list[str], list[str]]] = [
    ("POST", "/v1/packs/keywork_edm/decisions", {"facts": FACTS}, CUSTODIAL, ADMIN),
    (
        "POST",
        "/v1/packs/keywork_edm/decisions",
        {"facts": FACTS, "audience": "healthcare"},
        HEALTHCARE,
        CUSTODIAL,
    ),
    ("POST", "/v1/packs/keywork_edm/decisions/batch", b"", CUSTODIAL, ADMIN),
    ("GET", "/v1/packs", None, CUSTODIAL, ["ROLE_SOMETHING_ELSE"]),
    ("GET", "/v1/packs/pmp", None, HEALTHCARE, ["ROLE_SOMETHING_ELSE"]),
    ("GET", "/v1/decisions/{id}", None, CUSTODIAL, ADMIN),
    ("POST", "/v1/decisions/{id}/replay", None, CUSTODIAL, ADMIN),
    ("POST", "/admin/reload-packs", None, ADMIN, CUSTODIAL),
]
CASES = ["no token", "expired", "other key", "wrong role", "right role"]


def call(
    client: httpx.Client, method: str, path: str, body: Any, headers: dict[str, str]
) -> httpx.Response:
    kwargs: dict[str, Any] = {"headers": headers}
    if isinstance(body, bytes):
        kwargs["content"] = body
    elif body is not None:
        kwargs["json"] = body
    return client.request(method, path, **kwargs)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize(
    "endpoint",
    ENDPOINTS,
    ids=[f"{m} {p} {b and 'audience' in str(b)}" for m, p, b, *_ in ENDPOINTS],
)
def test_every_endpoint_checks_the_token(
    client: httpx.Client,
    token: Callable[..., str],
    decision_id: str,
    case: str,
    endpoint: tuple[str, str, Any, list[str], list[str]],
) -> None:
    method, path, body, good, bad = endpoint
    path = path.replace("{id}", decision_id)
    tok = {
        "no token": lambda: None,
        "expired": lambda: token(good, minutes=-1),
        "other key": lambda: token(good, other_key=True),
        "wrong role": lambda: token(bad),
        "right role": lambda: token(good),
    }[case]()
    headers = {"authorization": f"Bearer {tok}"} if tok else {}
    r = call(client, method, path, body, headers)
    expected = {"no token": 401, "expired": 401, "other key": 401, "wrong role": 403}
    if case == "right role":
        assert r.status_code == 200, r.text
    else:
        assert r.status_code == expected[case], r.text
        assert r.json()["errorCode"] == (
            "E-HTTP-UNAUTHENTICATED" if r.status_code == 401 else "E-HTTP-FORBIDDEN"
        )
        if r.status_code == 401:
            assert r.headers["www-authenticate"] == "Bearer"


def test_a_malformed_token_and_a_token_without_expiry_are_401(
    server: ThreadServer, keys: dict[str, Path]
) -> None:
    import jwt

    no_exp = jwt.encode({"authorities": CUSTODIAL}, keys["private"].read_bytes(), "RS256")
    for tok in ("not-a-jwt", no_exp):
        r = httpx.get(f"{server.url}/v1/packs", headers={"authorization": f"Bearer {tok}"})
        assert r.status_code == 401


def test_health_info_and_the_api_document_need_no_token(server: ThreadServer) -> None:
    for path in ("/health", "/health/ping", "/info", "/v3/api-docs"):
        assert httpx.get(server.url + path).status_code == 200


@pytest.fixture(scope="module")
def jwks_server(
    tmp_path_factory: pytest.TempPathFactory, keys: dict[str, Path]
) -> Iterator[ThreadServer]:
    db = tmp_path_factory.mktemp("jwks") / "d.db"
    settings = settings_for(f"sqlite:///{db}", keys)
    from dataclasses import replace

    with ThreadServer(replace(settings, public_key_file=None, jwks_file=keys["jwks"])) as srv:
        yield srv


def test_a_jwks_file_verifies_tokens_too(
    jwks_server: ThreadServer, token: Callable[..., str]
) -> None:
    ok = httpx.get(
        f"{jwks_server.url}/v1/packs", headers={"authorization": f"Bearer {token(CUSTODIAL)}"}
    )
    other = httpx.get(
        f"{jwks_server.url}/v1/packs",
        headers={"authorization": f"Bearer {token(CUSTODIAL, other_key=True)}"},
    )
    assert (ok.status_code, other.status_code) == (200, 401)


def test_insecure_no_auth_is_announced_in_info(tmp_path: Path, keys: dict[str, Path]) -> None:
    from dataclasses import replace

    settings = replace(settings_for(f"sqlite:///{tmp_path / 'x.db'}", keys), auth_enabled=False)
    with ThreadServer(settings) as srv:
        info = httpx.get(f"{srv.url}/info").json()
        assert info["auth"]["enabled"] is False and "OFF" in info["auth"]["warning"]
        r = httpx.post(
            f"{srv.url}/v1/packs/keywork_edm/decisions",
            json={"facts": FACTS, "audience": "healthcare"},
        )
        assert r.status_code == 200
        logged = httpx.get(f"{srv.url}/v1/decisions/{r.json()['decisionId']}").json()
        assert logged["caller"]["userName"].startswith("anonymous")


ISSUER, AUDIENCE = "https://sign-in.hmpps.example/auth/issuer", "regime-decisions"


@pytest.fixture(scope="module")
def strict_server(
    tmp_path_factory: pytest.TempPathFactory, keys: dict[str, Path]
) -> Iterator[ThreadServer]:
    """A server that also requires the configured issuer and audience."""
    db = tmp_path_factory.mktemp("strict") / "d.db"
    settings = settings_for(f"sqlite:///{db}", keys, jwt_issuer=ISSUER, jwt_audience=AUDIENCE)
    with ThreadServer(settings) as srv:
        yield srv


@pytest.mark.parametrize(
    ("claims", "minutes", "other_key", "roles", "status", "why"),
    [
        ({"issuer": ISSUER, "audience": AUDIENCE}, 5, False, CUSTODIAL, 200, ""),
        ({"issuer": ISSUER, "audience": [AUDIENCE, "other"]}, 5, False, CUSTODIAL, 200, ""),
        (
            {"issuer": "https://elsewhere.example", "audience": AUDIENCE},
            5,
            False,
            CUSTODIAL,
            401,
            "iss",
        ),
        ({"issuer": ISSUER, "audience": "another-api"}, 5, False, CUSTODIAL, 401, "aud"),
        ({"issuer": ISSUER}, 5, False, CUSTODIAL, 401, "aud"),
        ({"issuer": ISSUER, "audience": AUDIENCE}, -1, False, CUSTODIAL, 401, "expired"),
        ({"issuer": ISSUER, "audience": AUDIENCE}, 5, True, CUSTODIAL, 401, "signature"),
        ({"issuer": ISSUER, "audience": AUDIENCE}, 5, False, ADMIN, 403, "role"),
    ],
    ids=[
        "right",
        "right among several audiences",
        "wrong issuer",
        "wrong audience",
        "no audience",
        "expired",
        "other key",
        "wrong role",
    ],
)
def test_a_configured_issuer_and_audience_are_required(
    strict_server: ThreadServer,
    token: Callable[..., str],
    claims: dict[str, Any],
    minutes: float,
    other_key: bool,
    roles: list[str],
    status: int,
    why: str,
) -> None:
    tok = token(roles, minutes=minutes, other_key=other_key, **claims)
    r = httpx.post(
        f"{strict_server.url}/v1/packs/keywork_edm/decisions",
        json={"facts": FACTS},
        headers={"authorization": f"Bearer {tok}"},
        timeout=30,
    )
    assert r.status_code == status, r.text
    if status != 200:
        assert why in (r.json()["developerMessage"] + r.json()["userMessage"]).lower(), r.text


def test_info_says_which_issuer_and_audience_are_required(strict_server: ThreadServer) -> None:
    auth = httpx.get(f"{strict_server.url}/info").json()["auth"]
    assert (auth["issuer"], auth["audience"]) == (ISSUER, AUDIENCE)
