"""The hot path: `POST /v1/packs/{pack}/decisions` answered straight from ASGI, by the same
handler as the documented FastAPI route but without the framework's per-request routing,
dependency and validation work (a large share of a request's CPU next to the engine's own).
Anything else, including a decision request with a query string, goes on to FastAPI."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson

from service.errors import ApiError, error_body

log = logging.getLogger("regime.service")

Answer = Callable[[str, str | None, AsyncIterator[bytes], str | None, bool], Awaitable[bytes]]
PREFIX, SUFFIX = "/v1/packs/", "/decisions"
JSON = (b"content-type", b"application/json")


class Disconnected(Exception):
    """The client went away before its request body was read."""


class DecisionRoute:
    """ASGI wrapper: decision requests to `answer`, everything else to `app`."""

    def __init__(self, app: Any, answer: Answer):
        self.app = app
        self.answer = answer

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope.get("query_string")
            or not path.startswith(PREFIX)
            or not path.endswith(SUFFIX)
            or "/" in path[len(PREFIX) : -len(SUFFIX)]
            or len(path) == len(PREFIX) + len(SUFFIX)
        ):
            await self.app(scope, receive, send)
            return
        authorization = declared = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"content-length":
                declared = value.decode("latin-1")
        headers = [JSON]
        try:
            body = await self.answer(
                path[len(PREFIX) : -len(SUFFIX)], authorization, _chunks(receive), declared, False
            )
            status = 200
        except Disconnected:
            return
        except ApiError as e:
            status, body = e.status, orjson.dumps(e.body())
            if status == 401:
                headers.append((b"www-authenticate", b"Bearer"))
        except Exception as e:
            log.exception("unexpected error")
            status = 500
            body = orjson.dumps(
                error_body(500, "E-HTTP-INTERNAL", "Unexpected server error", type(e).__name__)
            )
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _chunks(receive: Any) -> AsyncIterator[bytes]:
    """The request body as ASGI delivers it, chunk by chunk."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Disconnected
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return
