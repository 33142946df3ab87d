"""A small JSON client over httpx: base URLs and a bearer token from configuration, timeouts,
retries with exponential backoff on 5xx, 429 and lost connections, and clear errors for
401, 403, 404 and everything else (each with a stable code)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class RemoteError(Exception):
    """A request that could not give a usable answer; `code` is stable, `hint` says what to do."""

    def __init__(self, code: str, message: str, hint: str | None = None, status: int | None = None):
        self.code = code
        self.message = message
        self.hint = hint
        self.status = status
        super().__init__(f"{message} [{code}]")


@dataclass(frozen=True)
class ClientSettings:
    """Timeouts and retries. `backoff` doubles after each failed attempt, up to `backoff_max`."""

    base_urls: Mapping[str, str]
    token: str | None = None
    timeout: float = 10.0
    retries: int = 3
    backoff: float = 0.5
    backoff_max: float = 8.0
    headers: Mapping[str, str] = field(default_factory=dict)


class JsonClient:
    """Requests JSON from named services. Not thread-safe: use one client per thread."""

    def __init__(
        self,
        settings: ClientSettings,
        transport: Any = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        try:
            import httpx
        except ImportError:
            raise RemoteError(
                "E-HTTP-SETUP",
                "the HTTP client is not installed",
                "install the extra: pip install 'regime-policy[hmpps]'",
            ) from None
        self._httpx = httpx
        self.settings = settings
        self._sleep = sleep
        headers = {"Accept": "application/json", **settings.headers}
        if settings.token:
            headers["Authorization"] = f"Bearer {settings.token}"
        self._client = httpx.Client(
            timeout=settings.timeout, headers=headers, transport=transport, follow_redirects=False
        )
        self.requests_made = 0

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> JsonClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def url(self, service: str, path: str) -> str:
        base = self.settings.base_urls.get(service)
        if not base:
            raise RemoteError(
                "E-HTTP-CONFIG",
                f"no base URL for the `{service}` service",
                "set it in the environment variable the mapping names, or in --config",
            )
        return base.rstrip("/") + path

    def request(
        self,
        service: str,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        absent_on: frozenset[int] = frozenset(),
    ) -> Any:
        """The decoded JSON answer; None when the status is one of `absent_on`."""
        url = self.url(service, path)
        attempt = 0
        while True:
            attempt += 1
            self.requests_made += 1
            try:
                response = self._client.request(
                    method, url, params=dict(query or {}), headers=dict(headers or {}), json=body
                )
            except self._httpx.TimeoutException:
                failure = RemoteError(
                    "E-HTTP-UNAVAILABLE",
                    f"{method} {url} timed out after {self.settings.timeout:g}s",
                    "the service is slow or down; try again, or raise the timeout",
                )
            except self._httpx.TransportError as e:
                failure = RemoteError(
                    "E-HTTP-UNAVAILABLE",
                    f"{method} {url} failed: {e}",
                    "check the base URL and that the service is reachable",
                )
            else:
                status = response.status_code
                if status in absent_on:
                    return None
                if 200 <= status < 300:
                    return self._json(response, method, url)
                if status not in RETRY_STATUSES:
                    raise _status_error(status, method, url, _detail(response))
                failure = RemoteError(
                    "E-HTTP-UNAVAILABLE",
                    f"{method} {url} answered {status} {_detail(response)}".rstrip(),
                    "the service is failing or busy; try again later",
                    status,
                )
                if attempt <= self.settings.retries:
                    self._sleep(self._delay(attempt, response.headers.get("Retry-After")))
                    continue
            if attempt <= self.settings.retries and failure.status is None:
                self._sleep(self._delay(attempt, None))
                continue
            failure.message += f" (after {attempt} attempts)"
            raise RemoteError(failure.code, failure.message, failure.hint, failure.status)

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        wait = min(self.settings.backoff * 2 ** (attempt - 1), self.settings.backoff_max)
        if retry_after and retry_after.strip().isdigit():
            wait = min(max(wait, float(retry_after)), self.settings.backoff_max)
        return wait

    @staticmethod
    def _json(response: Any, method: str, url: str) -> Any:
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise RemoteError(
                "E-HTTP-JSON",
                f"{method} {url} did not answer JSON",
                "check that the base URL points at the service's API",
            ) from None
        except RecursionError:
            raise RemoteError(
                "E-HTTP-JSON",
                f"{method} {url} answered JSON nested too deeply to read",
                "check that the base URL points at the service's API, not a proxy or a stub",
            ) from None


def _detail(response: Any) -> str:
    """The service's own message (HMPPS ErrorResponse userMessage or message), if any."""
    try:
        body = response.json()
    except (ValueError, RecursionError):
        return ""
    if isinstance(body, Mapping):
        for key in ("userMessage", "message", "developerMessage", "error"):
            if isinstance(body.get(key), str) and body[key]:
                return f"({body[key]})"
    return ""


def _status_error(status: int, method: str, url: str, detail: str) -> RemoteError:
    where = f"{method} {url}"
    if status == 401:
        return RemoteError(
            "E-HTTP-UNAUTHORISED",
            f"{where} refused the token (401) {detail}".rstrip(),
            "the bearer token is missing, wrong or expired: set a fresh one",
            status,
        )
    if status == 403:
        return RemoteError(
            "E-HTTP-FORBIDDEN",
            f"{where} is forbidden to this token (403) {detail}".rstrip(),
            "the token lacks the role this endpoint requires",
            status,
        )
    if status == 404:
        return RemoteError(
            "E-HTTP-NOT-FOUND",
            f"{where} found nothing (404) {detail}".rstrip(),
            "check the identifier",
            status,
        )
    return RemoteError(
        "E-HTTP-STATUS",
        f"{where} answered {status} {detail}".rstrip(),
        "the request was refused; check the identifier and the configuration",
        status,
    )
