"""The HTTP client and fetching, against a stub of the services on 127.0.0.1 (a real HTTP
server; the client is not patched): paging, retries, and the errors users see."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.adapters import hmpps
from engine.adapters.http_client import ClientSettings, JsonClient, RemoteError
from tests.hmpps_stub import TOKEN, Stub, running_stub

AS_OF = dt.date(2020, 7, 1)


@pytest.fixture(scope="module")
def stub() -> Iterator[Stub]:
    with running_stub() as running:
        yield running


@pytest.fixture(autouse=True)
def fresh(stub: Stub) -> None:
    stub.requests.clear()
    stub.faults.clear()
    stub.bodies.clear()


def settings(stub: Stub, token: str = TOKEN, retries: int = 2) -> ClientSettings:
    return ClientSettings(
        base_urls=stub.base_urls(), token=token, timeout=5, retries=retries, backoff=0.001
    )


def test_one_person_is_fetched_from_every_service(stub: Stub) -> None:
    facts, gaps, notes = hmpps.fetch_facts("A1234BC", AS_OF, settings(stub))
    assert facts["prisoner"]["acct"] == "post_closure" and notes == []
    paths = [p for _, p in stub.requests]
    assert paths[0] == "/prisoner/A1234BC"
    assert "/prisons/MDI/configurations" in paths
    assert "/subject-access-request?prn=A1234BC" in paths
    assert stub.bodies == [
        {
            "typeSubTypes": [{"type": "KA", "subTypes": ["KS", "KE"]}],
            "includeSensitive": True,
            "page": 1,
            "size": 2000,
            "sort": "occurredAt,asc",
        }
    ]


def test_an_establishment_is_read_page_by_page(stub: Stub) -> None:
    stub.max_page_size = 2
    found = list(hmpps.fetch_population("MDI", AS_OF, settings(stub)))
    assert [subject for subject, _, _ in found] == [
        "A1234BC",
        "B2345CD",
        "C3456DE",
        "D4567EF",
        "E5678FG",
    ]
    pages = [p for _, p in stub.requests if p.startswith("/prisoner-search/prison/MDI")]
    assert [p.split("page=")[1].split("&")[0] for p in pages] == ["0", "1", "2"]
    # the listed documents are used as they are: nobody's document is fetched again
    assert not any(p.startswith("/prisoner/") for _, p in stub.requests)
    # the establishment's configuration is fetched once for everyone
    assert sum(p == "/prisons/MDI/configurations" for _, p in stub.requests) == 1
    assert found[2][1]["prisoner"]["sentence_type"] == "indeterminate"


def test_a_person_who_cannot_be_fetched_is_collected_and_the_run_goes_on(stub: Stub) -> None:
    stub.fail("/prisoners/B2345CD/alerts", 500, 500, 500)
    stub.fail("/search/case-notes/D4567EF", 403)
    failures: list[tuple[str, RemoteError]] = []
    found = hmpps.fetch_population("MDI", AS_OF, settings(stub), failures=failures)
    assert [subject for subject, _, _ in found] == ["A1234BC", "C3456DE", "E5678FG"]
    assert [(s, e.code) for s, e in failures] == [
        ("B2345CD", "E-HTTP-UNAVAILABLE"),
        ("D4567EF", "E-HTTP-FORBIDDEN"),
    ]
    stub.fail("/prisoners/B2345CD/alerts", 500, 500, 500)
    with pytest.raises(RemoteError):  # without `failures`, the first one stops the run
        list(hmpps.fetch_population("MDI", AS_OF, settings(stub)))


def test_a_refused_token_stops_a_population_run_even_when_collecting(stub: Stub) -> None:
    failures: list[tuple[str, RemoteError]] = []
    stub.fail("/prisoners/A1234BC/alerts", 401)
    with pytest.raises(RemoteError) as caught:
        list(hmpps.fetch_population("MDI", AS_OF, settings(stub), failures=failures))
    assert caught.value.code == "E-HTTP-UNAUTHORISED" and failures == []


def test_an_empty_establishment_gives_nobody(stub: Stub) -> None:
    assert list(hmpps.fetch_population("LEI", AS_OF, settings(stub))) == []


def test_server_errors_and_throttling_are_retried(stub: Stub) -> None:
    stub.fail("/prisoner/A1234BC", 500, 503)
    stub.fail("/prisoners/A1234BC/alerts", 429, headers={"Retry-After": "0"})
    facts, _, _ = hmpps.fetch_facts("A1234BC", AS_OF, settings(stub))
    assert facts["prisoner"]["prison_number"] == "A1234BC"
    assert [p for _, p in stub.requests].count("/prisoner/A1234BC") == 3
    assert [p for _, p in stub.requests].count("/prisoners/A1234BC/alerts") == 2


def test_a_service_that_keeps_failing_is_a_clear_error(stub: Stub) -> None:
    stub.fail("/prisoner/A1234BC", 500, 500, 500, 500)
    with pytest.raises(RemoteError) as caught:
        hmpps.fetch_facts("A1234BC", AS_OF, settings(stub, retries=2))
    assert caught.value.code == "E-HTTP-UNAVAILABLE"
    assert "answered 500" in caught.value.message and "after 3 attempts" in caught.value.message


def test_a_refused_token_is_a_clear_error(stub: Stub) -> None:
    with pytest.raises(RemoteError) as caught:
        hmpps.fetch_facts("A1234BC", AS_OF, settings(stub, token="expired"))
    assert caught.value.code == "E-HTTP-UNAUTHORISED" and caught.value.status == 401
    assert "Valid authorisation token required" in caught.value.message
    assert len(stub.requests) == 1  # never retried


def test_a_missing_role_is_a_clear_error(stub: Stub) -> None:
    stub.fail("/prisoner/A1234BC", 403)
    with pytest.raises(RemoteError) as caught:
        hmpps.fetch_facts("A1234BC", AS_OF, settings(stub))
    assert caught.value.code == "E-HTTP-FORBIDDEN"


def test_an_unknown_person_is_not_found(stub: Stub) -> None:
    with pytest.raises(RemoteError) as caught:
        hmpps.fetch_facts("Z9999ZZ", AS_OF, settings(stub))
    assert caught.value.code == "E-HTTP-NOT-FOUND"
    assert "no `prisoner` record for `Z9999ZZ`" in caught.value.message


def test_a_missing_optional_record_is_a_gap_not_an_error(stub: Stub) -> None:
    facts, gaps, _ = hmpps.fetch_facts("D4567EF", AS_OF, settings(stub))
    assert facts["prisoner"]["alerts"] == ["XTACT"]  # from the document: alerts answered 404
    assert any(g.fact == "prisoner.keywork.key_worker" and g.kind == "missing" for g in gaps)


def test_other_refusals_and_bad_answers_are_clear_errors(stub: Stub) -> None:
    stub.fail("/prisoner/A1234BC", 400)
    with pytest.raises(RemoteError) as caught:
        hmpps.fetch_facts("A1234BC", AS_OF, settings(stub))
    assert caught.value.code == "E-HTTP-STATUS" and caught.value.status == 400
    with JsonClient(settings(stub)) as client, pytest.raises(RemoteError) as caught:
        client.request("alerts", "GET", "/text")
    assert caught.value.code == "E-HTTP-JSON"


def test_an_unreachable_service_is_retried_then_reported() -> None:
    dead = ClientSettings(
        base_urls={"prisoner_search": "http://127.0.0.1:9"}, token=TOKEN, retries=1, backoff=0.001
    )
    with pytest.raises(RemoteError) as caught:
        hmpps.fetch_facts("A1234BC", AS_OF, dead)
    assert caught.value.code == "E-HTTP-UNAVAILABLE" and "after 2 attempts" in caught.value.message


def test_an_unconfigured_service_is_skipped_with_a_note(stub: Stub) -> None:
    only_search = ClientSettings(base_urls={"prisoner_search": stub.url}, token=TOKEN)
    facts, gaps, notes = hmpps.fetch_facts("A1234BC", AS_OF, only_search)
    assert facts["prisoner"]["alerts"] == ["HA1", "ROH"]  # from the document
    assert any("HMPPS_ALERTS_URL" in n for n in notes)
    with pytest.raises(RemoteError) as caught:
        hmpps.fetch_facts("A1234BC", AS_OF, ClientSettings(base_urls={}))
    assert caught.value.code == "E-HTTP-CONFIG"
    assert "HMPPS_PRISONER_SEARCH_URL" in (caught.value.hint or "")


def test_settings_come_from_a_config_file_then_the_environment(stub: Stub, tmp_path: Path) -> None:
    env = {
        "HMPPS_PRISONER_SEARCH_URL": "http://search",
        "HMPPS_ALERTS_URL": "http://alerts",
        "HMPPS_TOKEN": "from-env",
    }
    from_env = hmpps.settings(None, env)
    assert from_env.base_urls == {"prisoner_search": "http://search", "alerts": "http://alerts"}
    assert from_env.token == "from-env"
    config = stub.config(tmp_path)
    from_file = hmpps.settings(config, env)
    assert from_file.base_urls["alerts"] == stub.url and from_file.token == TOKEN
    assert from_file.retries == 2 and from_file.backoff == 0.01
    bad = tmp_path / "bad.yaml"
    bad.write_text("base_url: http://x\n")
    with pytest.raises(RemoteError) as caught:
        hmpps.settings(bad, env)
    assert caught.value.code == "E-HTTP-CONFIG" and "base_url" in caught.value.message
    with pytest.raises(RemoteError) as caught:
        hmpps.settings(tmp_path / "absent.yaml", env)
    assert caught.value.code == "E-HTTP-CONFIG" and "absent.yaml" in caught.value.message


def test_without_the_http_extra_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "httpx", None)
    with pytest.raises(RemoteError) as caught:
        JsonClient(ClientSettings(base_urls={}))
    assert caught.value.code == "E-HTTP-SETUP" and "regime-policy[hmpps]" in (
        caught.value.hint or ""
    )
