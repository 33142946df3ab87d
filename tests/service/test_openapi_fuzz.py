"""The OpenAPI document fuzzed with schemathesis against the running server: no 5xx, every
status documented, every response matching its schema. A few examples per operation here."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from service.app import create_app
from service.settings import Settings
from tests.service.conftest import CUSTODIAL, HEALTHCARE, ThreadServer


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx: Any, value: Any) -> bytes:
    """A generated batch body as it is sent: text (often not JSON lines at all)."""
    return value.encode() if isinstance(value, str) else json.dumps(value).encode()


def document() -> dict[str, Any]:
    """The API document as the app builds it (no server needed to build it)."""
    return create_app(Settings()).openapi()


SCHEMA = schemathesis.openapi.from_dict(document())
OPERATIONS = [op.ok() for op in SCHEMA.get_all_operations()]


def test_the_served_document_is_the_built_one(server: ThreadServer) -> None:
    import httpx

    assert httpx.get(f"{server.url}/v3/api-docs", timeout=30).json() == document()


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_the_api_keeps_its_document(
    operation: Any, server: ThreadServer, token: Callable[..., str]
) -> None:
    headers = {"authorization": f"Bearer {token(CUSTODIAL + HEALTHCARE)}"}

    @given(case=operation.as_strategy())
    @settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case: schemathesis.Case) -> None:
        # ignored_auth is left out: it re-sends our headers, token included, and expects a 401;
        # tests/service/test_auth.py covers every endpoint without and with bad tokens
        case.call_and_validate(
            base_url=server.url,
            headers=headers,
            excluded_checks=[schemathesis.checks.ignored_auth],
        )

    check()
