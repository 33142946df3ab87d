"""End to end: the docs site in a real headless Chromium, every page and link, and a screenshot.

Chromium and its WebDriver come from Debian's packages (`scripts/ensure-browser`, run by
`make test`); the test is skipped, saying why, only when /usr/bin/chromium is not there.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import engine
from engine.tools.docs_site import write_site
from engine.tools.worked_examples import read_cases, run_case
from engine.tools.worked_examples import test_files as example_files

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "screenshots" / "omu_edm.png"
WINDOW = "1400,1000"  # the browser fixture's window (tests/e2e/conftest.py)

# every link on the page, resolved against the page, with the ids the page has
LINKS_JS = """
return {
  links: Array.from(document.querySelectorAll('a[href]'))
    .map(a => new URL(a.getAttribute('href'), document.baseURI).href),
  ids: Array.from(document.querySelectorAll('[id]')).map(e => e.id),
  title: document.title,
  height: document.documentElement.scrollHeight,
};
"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a browser drops connections it no longer needs: not a failure of the site


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    out = tmp_path_factory.mktemp("site")
    packs, problems = engine.check_paths([ROOT / "policies"])
    assert "omu_edm" in packs, [p.format() for p in problems if p.is_error]
    cases, _ = read_cases(example_files([ROOT / "policies"]), packs)
    write_site(packs, [run_case(c, packs) for c in cases if c.pack in packs], out)
    handler = functools.partial(QuietHandler, directory=str(out))
    server = QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield out, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


def test_every_page_loads_and_every_link_resolves(site: tuple[Path, str], browser: Any) -> None:
    out, base = site
    pages = sorted(p.name for p in out.glob("*.html"))
    seen: dict[str, dict[str, Any]] = {}
    for name in pages:
        browser.get(base + name)
        seen[name] = browser.execute_script(LINKS_JS)
        assert seen[name]["title"], name
    broken = []
    checked: dict[str, int] = {}
    for name, info in seen.items():
        for link in info["links"]:
            if not link.startswith(base):
                continue  # outside the site (a source document's address)
            parts = urllib.parse.urlsplit(link)
            page = parts.path.lstrip("/") or "index.html"
            target = f"{base}{page}"
            if target not in checked:
                checked[target] = status(target)
            if checked[target] != 200:
                broken.append(f"{name}: {link} ({checked[target]})")
            elif parts.fragment and parts.fragment not in seen.get(page, {}).get("ids", []):
                broken.append(f"{name}: {link} (no such id)")
    assert broken == []
    assert {f"{base}{p}" for p in pages} <= set(checked) | {f"{base}index.html"}


def test_screenshot_of_the_omu_page(site: tuple[Path, str], browser: Any, tmp_path: Path) -> None:
    out, base = site
    browser.set_window_size(1400, 1000)
    browser.get(base + "omu_edm.html")
    graph = browser.find_element("css selector", "figure svg")
    assert graph.size["width"] > 300 and graph.size["height"] > 100
    browser.execute_script("document.getElementById('task-graph').scrollIntoView();")
    shot = tmp_path / "omu_edm.png"
    assert browser.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":  # keep the committed one unless asked
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)
