"""A stub of the HMPPS services on 127.0.0.1 for tests: http.server in a thread, serving the
fixtures of tests/fixtures/hmpps/ at the real endpoints' paths, with a bearer token check,
Spring paging, and faults on demand (a status list served before the real answer)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "hmpps"
TOKEN = "test-token"
SERVICES = (
    "prisoner_search",
    "alerts",
    "keyworker",
    "case_notes",
    "manage_pom_cases",
)

# (method, path pattern, fixture folder, status when there is no fixture)
ROUTES = [
    ("GET", r"/prisoner/(?P<id>[^/]+)", "prisoner", 404),
    ("GET", r"/prisoners/(?P<id>[^/]+)/alerts", "alerts", 404),
    ("GET", r"/prisoners/(?P<id>[^/]+)/allocations/current", "allocation", 404),
    ("POST", r"/search/case-notes/(?P<id>[^/]+)", "case_notes", 404),
    ("GET", r"/prisons/(?P<id>[^/]+)/configurations", "prison_configuration", 404),
    ("GET", r"/api/handovers/(?P<id>[^/]+)", "handover", 404),
]


def fixture(folder: str, name: str) -> Any:
    """The `response` of a fixture file: the JSON the service answers."""
    return json.loads((FIXTURES / folder / f"{name}.json").read_text(encoding="utf-8"))["response"]


def fixture_records(subject: str) -> dict[str, Any]:
    """Every fixture for one subject, by source name, as `to_facts` takes them."""
    records: dict[str, Any] = {}
    for folder in sorted(p.name for p in FIXTURES.iterdir() if p.is_dir()):
        path = FIXTURES / folder / f"{subject}.json"
        if path.is_file():
            records[folder] = fixture(folder, subject)
    prison = records.get("prisoner", {}).get("prisonId")
    if prison and (FIXTURES / "prison_configuration" / f"{prison}.json").is_file():
        records["prison_configuration"] = fixture("prison_configuration", prison)
    return records


@dataclass
class Stub:
    """The running stub: its base URL, the requests it saw, and faults to serve."""

    url: str = ""
    max_page_size: int = 2
    requests: list[tuple[str, str]] = field(default_factory=list)
    faults: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    bodies: list[Any] = field(default_factory=list)

    def fail(self, path: str, *statuses: int, headers: dict[str, str] | None = None) -> None:
        """Serve these statuses, in order, to the next requests for `path`."""
        self.faults.setdefault(path, []).extend((s, headers or {}) for s in statuses)

    def base_urls(self) -> dict[str, str]:
        return {name: self.url for name in SERVICES}

    def config(self, tmp: Path, token: str = TOKEN) -> Path:
        """A client configuration file pointing every service at the stub."""
        lines = ["base_urls:"] + [f"  {n}: {self.url}" for n in SERVICES]
        lines += [f"token: {token}", "timeout: 5", "retries: 2", "backoff: 0.01"]
        path = tmp / "hmpps-client.yaml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path


def _page(items: list[Any], page: int, size: int) -> dict[str, Any]:
    """A Spring Data page, as PrisonerSearchResource.findByPrison returns it."""
    total = len(items)
    pages = (total + size - 1) // size
    content = items[page * size : (page + 1) * size]
    sort = {"empty": True, "sorted": False, "unsorted": True}
    return {
        "content": content,
        "pageable": {
            "pageNumber": page,
            "pageSize": size,
            "sort": sort,
            "offset": page * size,
            "paged": True,
            "unpaged": False,
        },
        "last": page >= pages - 1,
        "totalElements": total,
        "totalPages": pages,
        "first": page == 0,
        "size": size,
        "number": page,
        "sort": sort,
        "numberOfElements": len(content),
        "empty": not content,
    }


def _handler(stub: Stub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass

        def _send(
            self, status: int, body: Any = None, headers: dict[str, str] | None = None
        ) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, message: str) -> None:
            # uk.gov.justice.hmpps.kotlin.common.ErrorResponse
            self._send(
                status,
                {
                    "status": status,
                    "errorCode": None,
                    "userMessage": message,
                    "developerMessage": message,
                    "moreInfo": None,
                },
            )

        def _serve(self, method: str) -> None:
            url = urlparse(self.path)
            stub.requests.append((method, self.path))
            if method == "POST":
                length = int(self.headers.get("Content-Length") or 0)
                stub.bodies.append(json.loads(self.rfile.read(length) or b"null"))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._error(401, "Valid authorisation token required")
                return
            queued = stub.faults.get(url.path)
            if queued:
                status, headers = queued.pop(0)
                if status == 403:
                    self._error(403, "Forbidden, requires an appropriate role")
                else:
                    self._send(status, {"status": status, "userMessage": "stub fault"}, headers)
                return
            if url.path in ("/text", "/deep"):  # for the client's not-JSON errors
                data = b"<html>sign in</html>"
                if url.path == "/deep":
                    data = b"[" * 100_000 + b"]" * 100_000
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            query = parse_qs(url.query)
            match = re.fullmatch(r"/prisoner-search/prison/(?P<id>[^/]+)", url.path)
            if method == "GET" and match:
                prison = match["id"].upper()
                everyone = [
                    fixture("prisoner", p.stem)
                    for p in sorted((FIXTURES / "prisoner").glob("*.json"))
                ]
                here = [p for p in everyone if p.get("prisonId") == prison]
                page = int(query.get("page", ["0"])[0])
                size = min(int(query.get("size", ["10"])[0]), stub.max_page_size)
                self._send(200, _page(here, page, size))
                return
            if method == "GET" and url.path == "/subject-access-request":
                prn = query.get("prn", [""])[0]
                path = FIXTURES / "case_information" / f"{prn}.json"
                if path.is_file():
                    self._send(200, fixture("case_information", prn))
                else:
                    self._send(204)
                return
            for verb, pattern, folder, missing in ROUTES:
                found = re.fullmatch(pattern, url.path)
                if verb == method and found:
                    name = found["id"]
                    if (FIXTURES / folder / f"{name}.json").is_file():
                        self._send(200, fixture(folder, name))
                    else:
                        self._error(missing, f"{name} not found")
                    return
            self._error(404, f"No resource found for {method} {url.path}")

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._serve("POST")

    return Handler


@contextmanager
def running_stub() -> Iterator[Stub]:
    """Start the stub on a free loopback port; stop it on leaving."""
    stub = Stub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(stub))
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module", name="stub")
def stub_fixture() -> Iterator[Stub]:
    """The stub, shared by a test module: import this to get the `stub` fixture."""
    with running_stub() as running:
        yield running
