"""The bad-input corpora of record mappings (tests/corpus/mappings: a mapping file that must be
refused at a position) and of fetching records (tests/corpus/fetch: a scenario played against
the loopback stub of the services, which must end in its expected code)."""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.adapters import hmpps
from engine.adapters.http_client import ClientSettings, JsonClient, RemoteError
from engine.adapters.mapping import load_mapping
from engine.problems import PackError
from tests.hmpps_stub import TOKEN, Stub, running_stub

from .corpus_expect import assert_as_expected

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
MAPPINGS = sorted((CORPUS / "mappings").glob("*.yaml"))
FETCH = sorted((CORPUS / "fetch").glob("*.yaml"))
EXPECT = re.compile(r"#\s*expect:\s*(?P<code>[A-Z0-9-]+)")


@pytest.mark.parametrize("path", MAPPINGS, ids=[p.stem for p in MAPPINGS])
def test_mapping_corpus(path: Path) -> None:
    with pytest.raises(PackError) as caught:
        load_mapping(str(path))
    assert len(caught.value.problems) == 1
    assert_as_expected(caught.value.problems[0], path)


@pytest.fixture(scope="module")
def stub() -> Iterator[Stub]:
    with running_stub() as running:
        yield running


def _play(scenario: dict[str, Any], stub: Stub) -> None:
    for path, statuses in scenario.get("faults", {}).items():
        stub.fail(path, *statuses)
    services = scenario.get("services")
    urls = stub.base_urls()
    if services is not None:
        urls = {k: v for k, v in urls.items() if k in services}
    settings = ClientSettings(
        base_urls=urls, token=scenario.get("token", TOKEN), retries=2, backoff=0.001
    )
    if "get" in scenario:
        with JsonClient(settings) as client:
            client.request("prisoner_search", "GET", scenario["get"])
        return
    hmpps.fetch_facts(scenario["subject"], dt.date(2020, 7, 1), settings)


@pytest.mark.parametrize("path", FETCH, ids=[p.stem for p in FETCH])
def test_fetch_corpus(path: Path, stub: Stub, monkeypatch: pytest.MonkeyPatch) -> None:
    text = path.read_text(encoding="utf-8")
    expect = EXPECT.match(text.splitlines()[0])
    assert expect, f"{path.name}: first line must be `# expect: CODE`"
    scenario = yaml.safe_load(text)
    stub.faults.clear()
    if scenario.get("without_http_client"):
        monkeypatch.setitem(sys.modules, "httpx", None)
    with pytest.raises(RemoteError) as caught:
        _play(scenario, stub)
    assert caught.value.code == expect["code"], caught.value.message
    assert caught.value.hint
