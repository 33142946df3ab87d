"""The decision service through HTTP against a running uvicorn server on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

import engine
from service.log_store import open_store
from tests.service.conftest import (
    CUSTODIAL,
    HEALTHCARE,
    ThreadServer,
    example_facts,
    loaded_packs,
)

KEYWORK = "examples/prisoners/b3152kw_high_rosh_release.yaml"
PMP = "examples/pmp/a1101pm_immunosuppressed_plan.yaml"
ERROR_KEYS = {"status", "errorCode", "userMessage", "developerMessage", "moreInfo"}


def auth(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def packs() -> engine.Packs:
    return loaded_packs()


def decide(
    client: httpx.Client, tok: str, pack: str, body: dict[str, Any], **params: Any
) -> httpx.Response:
    return client.post(f"/v1/packs/{pack}/decisions", json=body, headers=auth(tok), params=params)


def test_a_decision_is_exactly_the_library_decision_plus_its_id(
    client: httpx.Client, token: Callable[..., str], packs: engine.Packs
) -> None:
    facts = example_facts(KEYWORK)
    r = decide(client, token(CUSTODIAL), "keywork_edm", {"facts": facts, "as_of": "2020-07-01"})
    assert r.status_code == 200, r.text
    body = r.json()
    decision_id = body.pop("decisionId")
    expected = packs.evaluate("keywork_edm", facts, as_of=dt.date(2020, 7, 1)).to_dict()
    assert body == expected
    assert list(body) == list(expected)  # same keys, same order
    assert len(decision_id) == 36


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        ({"facts": "KEYWORK"}, True, 200),
        ({"facts": "KEYWORK", "audience": "healthcare"}, True, 403),
        ({"facts": {"prisoner": {"rosh": "EXTREME"}}}, True, 422),
        ({"facts": "KEYWORK", "colour": "red"}, True, 400),
        ({"facts": "KEYWORK"}, False, 401),
    ],
)
def test_the_direct_decision_route_answers_as_the_framework_route_does(
    client: httpx.Client,
    token: Callable[..., str],
    body: dict[str, Any],
    headers: bool,
    status: int,
) -> None:
    """Without a query string a decision is answered straight from ASGI; with one (here
    `explain=false`, which changes nothing) by the FastAPI route: the same answers."""
    if body["facts"] == "KEYWORK":
        body = {**body, "facts": example_facts(KEYWORK)}
    h = auth(token(CUSTODIAL)) if headers else {}
    url = "/v1/packs/keywork_edm/decisions"
    direct = client.post(url, json=body, headers=h)
    framework = client.post(url, json=body, headers=h, params={"explain": "false"})
    assert direct.status_code == framework.status_code == status, direct.text
    assert direct.headers["content-type"] == framework.headers["content-type"]
    a, b = direct.json(), framework.json()
    if status == 200:
        assert a.pop("decisionId") != b.pop("decisionId")
        assert list(a) == list(b) and a == b
    else:
        assert a == b
        assert direct.headers.get("www-authenticate") == framework.headers.get("www-authenticate")


def test_explain_adds_the_library_explanation(
    client: httpx.Client, token: Callable[..., str], packs: engine.Packs
) -> None:
    facts = example_facts(KEYWORK)
    r = decide(client, token(CUSTODIAL), "keywork_edm", {"facts": facts}, explain="true")
    assert r.status_code == 200
    assert r.json()["explanation"] == packs.evaluate("keywork_edm", facts).explain()


def test_the_log_holds_who_what_and_the_masked_input(
    server: ThreadServer, client: httpx.Client, token: Callable[..., str]
) -> None:
    facts = example_facts(PMP)
    assert facts["prisoner"]["clinical"]
    tok = token(CUSTODIAL, user="officer.a", client="custody-app")
    r = decide(client, tok, "pmp", {"facts": facts})
    decision_id = r.json()["decisionId"]
    got = client.get(f"/v1/decisions/{decision_id}", headers=auth(tok)).json()
    assert got["caller"] == {"clientId": "custody-app", "userName": "officer.a"}
    assert got["audience"] == "custodial" and got["pack"] == "pmp" and got["intact"]
    assert got["input"]["prisoner"]["clinical"] is None
    assert got["maskedPaths"] == ["prisoner.clinical"]
    assert got["input"]["prisoner"]["prison_number"] == facts["prisoner"]["prison_number"]
    assert got["decision"] == {k: v for k, v in r.json().items() if k != "decisionId"}
    stored = open_store(server.settings.database_url).get(decision_id)
    assert stored is not None and "immunosuppress" not in stored.input
    # a healthcare decision keeps its input whole, and only a healthcare token may read it
    htok = token(HEALTHCARE, user="nurse.b")
    h = decide(client, htok, "pmp", {"facts": facts, "audience": "healthcare"}).json()
    logged = client.get(f"/v1/decisions/{h['decisionId']}", headers=auth(htok)).json()
    assert logged["input"] == facts and logged["maskedPaths"] == []
    refused = client.get(f"/v1/decisions/{h['decisionId']}", headers=auth(tok))
    assert refused.status_code == 403


def test_a_healthcare_request_from_a_custodial_token_is_refused_not_downgraded(
    client: httpx.Client, token: Callable[..., str]
) -> None:
    body = {"facts": example_facts(PMP), "audience": "healthcare"}
    r = decide(client, token(CUSTODIAL), "pmp", body)
    assert r.status_code == 403
    assert r.json()["errorCode"] == "E-HTTP-FORBIDDEN"


def test_replay_uses_the_logged_version_and_says_whether_identical(
    client: httpx.Client, token: Callable[..., str]
) -> None:
    tok = token(CUSTODIAL)
    keywork = decide(client, tok, "keywork_edm", {"facts": example_facts(KEYWORK)}).json()
    r = client.post(f"/v1/decisions/{keywork['decisionId']}/replay", headers=auth(tok)).json()
    assert r["identical"] is True and r["inputComplete"] is True
    assert r["decision"] == {k: v for k, v in keywork.items() if k != "decisionId"}
    # a custodial PMP decision was logged without the clinical facts its releasable output
    # rests on: replay says so; given the original facts (checked by hash) it is identical
    facts = example_facts(PMP)
    pmp = decide(client, tok, "pmp", {"facts": facts}).json()
    masked = client.post(f"/v1/decisions/{pmp['decisionId']}/replay", headers=auth(tok)).json()
    assert masked["inputComplete"] is False and masked["maskedPaths"] == ["prisoner.clinical"]
    whole = client.post(
        f"/v1/decisions/{pmp['decisionId']}/replay", headers=auth(tok), json={"facts": facts}
    ).json()
    assert whole["identical"] is True
    # other clinical facts are checked only as far as the log holds them (a 409 would tell a
    # custodial caller a guess of them was wrong): replayed, they decide otherwise
    facts["prisoner"]["clinical"]["conditions"] = []
    other = client.post(
        f"/v1/decisions/{pmp['decisionId']}/replay", headers=auth(tok), json={"facts": facts}
    )
    assert other.status_code == 200 and other.json()["identical"] is False
    facts["prisoner"]["cell_location"] = "SDI-B-2-001"
    wrong = client.post(
        f"/v1/decisions/{pmp['decisionId']}/replay", headers=auth(tok), json={"facts": facts}
    )
    assert wrong.status_code == 409 and wrong.json()["errorCode"] == "E-HTTP-INPUT-MISMATCH"


def test_batch_streams_one_line_per_line_and_a_bad_line_does_not_stop_it(
    client: httpx.Client, token: Callable[..., str], packs: engine.Packs
) -> None:
    facts = example_facts(KEYWORK)
    lines = [
        json.dumps({"facts": facts}),
        "{not json",
        json.dumps({"facts": {"prisoner": {"rosh": "EXTREME"}}}),
        json.dumps({"facts": facts, "audience": "healthcare"}),
        "",
        json.dumps({"facts": facts, "as_of": "2020-08-01"}),
    ]
    r = client.post(
        "/v1/packs/keywork_edm/decisions/batch",
        content="\n".join(lines).encode(),
        headers={**auth(token(CUSTODIAL)), "content-type": "application/x-ndjson"},
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
    out = [json.loads(x) for x in r.text.splitlines()]
    assert [o["line"] for o in out] == [1, 2, 3, 4, 6]
    assert out[1]["error"]["errorCode"] == "E-HTTP-BAD-REQUEST"
    assert out[2]["error"]["status"] == 422
    assert out[3]["error"]["status"] == 403
    expected = packs.evaluate("keywork_edm", facts, as_of=dt.date(2020, 8, 1)).to_dict()
    skip = ("line", "batchId", "decisionId")
    assert {k: v for k, v in out[4].items() if k not in skip} == expected
    got = client.get(f"/v1/decisions/{out[0]['decisionId']}", headers=auth(token(CUSTODIAL)))
    assert got.status_code == 200
    # the batch's logged lines are found by the batch id it answered with, line by line
    batch_id = r.headers["x-batch-id"]
    assert out[0]["batchId"] == out[4]["batchId"] == batch_id
    assert got.json()["batch"] == {"batchId": batch_id, "line": 1}
    batch = client.get(f"/v1/batches/{batch_id}", headers=auth(token(CUSTODIAL))).json()
    assert [(d["line"], d["decisionId"]) for d in batch["decisions"]] == [
        (1, out[0]["decisionId"]),
        (6, out[4]["decisionId"]),
    ]
    assert all(d["intact"] for d in batch["decisions"])
    assert client.get("/v1/batches/nope", headers=auth(token(CUSTODIAL))).status_code == 404
    assert client.get(f"/v1/batches/{batch_id}").status_code == 401


def test_packs_are_listed_with_their_content_hashes(
    client: httpx.Client, token: Callable[..., str], packs: engine.Packs
) -> None:
    listed = client.get("/v1/packs", headers=auth(token(CUSTODIAL))).json()["packs"]
    assert {p["id"]: p["contentHash"] for p in listed} == {
        pid: p.content_hash for pid, p in packs.items()
    }
    pmp = client.get("/v1/packs/pmp", headers=auth(token(CUSTODIAL))).json()
    assert [v["id"] for v in pmp["versions"]] == [v.id for v in packs["pmp"].versions]
    outputs = {o["name"]: o for o in pmp["outputs"]}
    assert outputs["eligible"]["releasable"] is True
    assert outputs["eligibility_basis"]["healthcareOnly"] is True
    assert pmp["rules"] and pmp["interpretations"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("post", "/v1/packs/nope/decisions", {"facts": {}}, 404, "E-HTTP-NOT-FOUND"),
        ("get", "/v1/packs/nope", None, 404, "E-HTTP-NOT-FOUND"),
        ("get", "/v1/decisions/nope", None, 404, "E-HTTP-NOT-FOUND"),
        ("post", "/v1/decisions/nope/replay", None, 404, "E-HTTP-NOT-FOUND"),
        ("post", "/v1/packs/pmp/decisions", {"fact": {}}, 400, "E-HTTP-BAD-REQUEST"),
        ("post", "/v1/packs/pmp/decisions", [1], 400, "E-HTTP-BAD-REQUEST"),
        ("post", "/v1/packs/pmp/decisions", {"facts": {}, "as_of": "1/7/20"}, 400, None),
        ("post", "/v1/packs/pmp/decisions", {"facts": {"x": 1}}, 422, None),
        ("get", "/v1/packs/pmp/decisions", None, 405, "E-HTTP-METHOD"),
        ("get", "/nowhere", None, 404, "E-HTTP-NOT-FOUND"),
    ],
)
def test_errors_have_the_hmpps_shape(
    client: httpx.Client,
    token: Callable[..., str],
    method: str,
    path: str,
    body: Any,
    status: int,
    code: str | None,
) -> None:
    kwargs: dict[str, Any] = {"headers": auth(token(CUSTODIAL))}
    if body is not None:
        kwargs["json"] = body
    r = client.request(method.upper(), path, **kwargs)
    assert r.status_code == status, r.text
    assert ERROR_KEYS <= set(r.json()) and r.json()["status"] == status
    if code:
        assert r.json()["errorCode"] == code


def test_facts_errors_carry_the_engine_code_and_path(
    client: httpx.Client, token: Callable[..., str]
) -> None:
    r = decide(client, token(CUSTODIAL), "keywork_edm", {"facts": {"prisoner": {"rosh": "X"}}})
    assert r.status_code == 422
    problem = r.json()["problems"][0]
    assert r.json()["errorCode"] == problem["code"] and problem["code"].startswith("E-")


def test_a_body_over_the_limit_is_413(client: httpx.Client, token: Callable[..., str]) -> None:
    big = {"facts": {"prisoner": {"alerts": ["X" * 1000] * 1100}}}
    r = decide(client, token(CUSTODIAL), "keywork_edm", big)
    assert r.status_code == 413 and r.json()["errorCode"] == "E-HTTP-TOO-LARGE"


def test_health_info_and_openapi(client: httpx.Client, packs: engine.Packs) -> None:
    for path in ("/health", "/health/ping", "/health/liveness", "/health/readiness"):
        r = client.get(path)
        assert r.status_code == 200 and r.json()["status"] == "UP", path
    health = client.get("/health").json()["components"]
    assert health["decisionLog"]["details"]["backend"] == "sqlite"
    info = client.get("/info").json()
    assert info["auth"]["enabled"] is True and "warning" not in info["auth"]
    assert {p["id"]: p["contentHash"] for p in info["packs"]} == {
        pid: p.content_hash for pid, p in packs.items()
    }
    doc = client.get("/v3/api-docs").json()
    assert "/v1/packs/{pack}/decisions" in doc["paths"]
    assert "DecisionResponse" in doc["components"]["schemas"]
    assert "swagger-ui" in client.get("/swagger-ui.html").text


def test_a_key_given_twice_is_a_bad_request_not_a_guess(
    client: httpx.Client, token: Callable[..., str]
) -> None:
    # which of the two was meant cannot be guessed (facts files refuse it too: E-JSON-DUPKEY)
    facts = json.dumps(example_facts(KEYWORK))
    headers = {**auth(token(CUSTODIAL)), "content-type": "application/json"}
    for body in (
        '{"facts": {}, "facts": ' + facts + "}",
        '{"facts": {"prisoner": {"prison_number": "A1234BC", "prison_number": "B1234BC"}}}',
    ):
        r = client.post("/v1/packs/keywork_edm/decisions", content=body.encode(), headers=headers)
        assert r.status_code == 400, r.text
        assert r.json()["errorCode"] == "E-HTTP-BAD-REQUEST"
        assert "twice" in r.json()["userMessage"]
    r = client.post(
        "/v1/packs/keywork_edm/decisions/batch",
        content=(b'{"facts": {}, "as_of": "2020-07-01", "as_of": "2020-08-01"}\n'),
        headers={**headers, "content-type": "application/x-ndjson"},
    )
    (line,) = [json.loads(x) for x in r.text.splitlines()]
    assert line["error"]["status"] == 400 and "twice" in line["error"]["userMessage"]


def test_a_key_given_twice_in_the_clinical_record_is_not_the_custodial_callers(
    client: httpx.Client, token: Callable[..., str]
) -> None:
    # which clinical key is repeated, and where, is not custodial staff's to know: the clinical
    # record is left out, as any other problem in it is; healthcare gets the problem
    facts = example_facts(PMP)
    del facts["prisoner"]["clinical"]
    custodial = {**auth(token(CUSTODIAL)), "content-type": "application/json"}
    bodies = [json.dumps({"facts": facts})]
    for first, second in (("true", "false"), ("false", "true")):
        clinical = (
            f'"clinical": {{"conditions": [], "clinician_recommends_pmp": {first}, '
            f'"clinician_recommends_pmp": {second}}}'
        )
        bodies.append(bodies[0].replace('"prison_number"', clinical + ', "prison_number"', 1))
    seen = set()
    for body in bodies:
        r = client.post("/v1/packs/pmp/decisions", content=body.encode(), headers=custodial)
        assert r.status_code == 200, r.text
        got = r.json()
        assert "clinician_recommends_pmp" not in json.dumps(got["outputs"])
        seen.add(json.dumps({k: v for k, v in got.items() if k not in ("decisionId", "id")}))
    assert len(seen) == 1
    healthcare = {**auth(token(HEALTHCARE)), "content-type": "application/json"}
    body = bodies[1].replace('{"facts"', '{"audience": "healthcare", "facts"', 1)
    r = client.post("/v1/packs/pmp/decisions", content=body.encode(), headers=healthcare)
    assert r.status_code == 422, r.text
    assert r.json()["errorCode"] == "E-JSON-DUPKEY"


def test_numbers_are_read_as_the_facts_reader_reads_them(
    client: httpx.Client, token: Callable[..., str], packs: engine.Packs
) -> None:
    # the same facts from a file: an integer of 30 digits or more, or past a float's range, is
    # an E-FACTS-NUMBER at its path; one of 20 to 29 digits is kept whole, not made a float
    from engine.packs.facts_schema import parse_json, validate_facts

    headers = {**auth(token(CUSTODIAL)), "content-type": "application/json"}
    path = "$.prisoner.keywork.sessions[0].minutes"
    for number in ("9" * 5000, "9" * 50, "1e999"):
        facts = '{"prisoner": {"keywork": {"sessions": [{"minutes": ' + number + "}]}}}"
        (expected,) = validate_facts(parse_json(facts, "<facts>"))
        body = ('{"facts": ' + facts + ', "as_of": "2020-07-01"}').encode()
        r = client.post("/v1/packs/keywork_edm/decisions", content=body, headers=headers)
        assert r.status_code == 422, r.text
        assert r.json()["errorCode"] == "E-FACTS-NUMBER"
        (problem,) = r.json()["problems"]
        assert problem["message"] == expected.message and path in problem["message"]
    whole = example_facts(KEYWORK)
    whole["prisoner"]["keywork"]["sessions"][0]["minutes"] = 12345678901234567890123
    body = json.dumps({"facts": whole, "as_of": "2020-07-01"}).encode()
    r = client.post("/v1/packs/keywork_edm/decisions", content=body, headers=headers)
    assert r.status_code == 200, r.text
    want = packs.evaluate("keywork_edm", whole, as_of=dt.date(2020, 7, 1)).to_dict()
    assert {k: v for k, v in r.json().items() if k != "decisionId"} == want
    replayed = client.post(f"/v1/decisions/{r.json()['decisionId']}/replay", headers=headers)
    assert replayed.status_code == 200 and replayed.json()["identical"] is True, replayed.text


def test_a_custodial_record_holds_no_hash_of_healthcare_only_facts(
    client: httpx.Client, token: Callable[..., str]
) -> None:
    # the input hash was taken over the facts as sent, beside the input with its clinical part
    # masked: whoever may read the record could test guesses of the clinical facts against
    # it, offline or by replaying with them (a 409 or not)
    import copy

    tok = token(CUSTODIAL)
    facts = example_facts(PMP)
    other = copy.deepcopy(facts)
    other["prisoner"]["clinical"]["vaccine_doses"][0]["date"] = "2021-04-03"
    records = []
    for f in (facts, other):
        r = decide(client, tok, "pmp", {"facts": f, "as_of": "2022-11-01"})
        assert r.status_code == 200, r.text
        got = client.get(f"/v1/decisions/{r.json()['decisionId']}", headers=auth(tok))
        records.append(got.json())
    assert records[0]["maskedPaths"] and records[0]["input"] == records[1]["input"]
    assert records[0]["inputHash"] == records[1]["inputHash"]
    replay = f"/v1/decisions/{records[0]['decisionId']}/replay"
    for f in (facts, other):
        again = client.post(replay, json={"facts": f}, headers=auth(tok))
        assert again.status_code == 200, again.text
    again = client.post(replay, json={"facts": facts}, headers=auth(tok))
    assert again.json()["identical"] is True
    changed = copy.deepcopy(facts)
    changed["prisoner"]["cell_location"] = "SDI-B-2-001"
    again = client.post(replay, json={"facts": changed}, headers=auth(tok))
    assert again.status_code == 409 and again.json()["errorCode"] == "E-HTTP-INPUT-MISMATCH"


def test_a_custodial_record_does_not_say_whether_a_clinical_record_was_sent(
    client: httpx.Client, token: Callable[..., str]
) -> None:
    # under version 1 eligibility rests on being shielding alone: a clinical record sent or not
    # decides nothing, and the record a custodial caller may read must not tell them apart
    tok = token(CUSTODIAL)
    facts = example_facts(PMP)
    absent = {**facts, "prisoner": {k: v for k, v in facts["prisoner"].items() if k != "clinical"}}
    empty = {**facts, "prisoner": {**facts["prisoner"], "clinical": None}}
    records = []
    for f in (facts, absent, empty):
        r = decide(client, tok, "pmp", {"facts": f, "as_of": "2022-06-01"})
        assert r.status_code == 200, r.text
        got = client.get(f"/v1/decisions/{r.json()['decisionId']}", headers=auth(tok)).json()
        records.append({k: got[k] for k in ("input", "inputHash", "maskedPaths")})
    assert records[0] == records[1] == records[2]


def test_custodial_decisions_and_explanations_agree_across_clinical_records_releasing_alike(
    client: httpx.Client, token: Callable[..., str]
) -> None:
    # eligible by different grounds (or undetermined by different gaps, or invalid clinical
    # records): the custodial answer, explanation and batch line are the same, byte for byte
    tok = token(CUSTODIAL)
    facts = example_facts(PMP)
    families = [
        [
            {"conditions": ["immunosuppressive_treatment"], "clinician_recommends_pmp": False},
            {"conditions": [], "clinician_recommends_pmp": True, "vaccine_doses": []},
            {"conditions": ["cancer"], "vaccine_doses": [{"date": "2022-12-30", "dose": 4}]},
        ],
        [
            {"conditions": None, "clinician_recommends_pmp": False},
            {"conditions": [], "clinician_recommends_pmp": None},
            {"conditions": "cancer", "clinician_recommends_pmp": True},
            {"conditions": ["not_a_condition"]},
        ],
    ]
    for family in families:
        seen, lines = set(), set()
        for clinical in family:
            f = {**facts, "prisoner": {**facts["prisoner"], "clinical": clinical}}
            r = decide(client, tok, "pmp", {"facts": f}, explain=True)
            assert r.status_code == 200, r.text
            seen.add(json.dumps({k: v for k, v in r.json().items() if k != "decisionId"}))
            b = client.post(
                "/v1/packs/pmp/decisions/batch",
                content=json.dumps({"facts": f}).encode() + b"\n",
                headers={**auth(tok), "content-type": "application/x-ndjson"},
            )
            assert b.status_code == 200, b.text
            (line,) = [json.loads(x) for x in b.text.splitlines()]
            lines.add(
                json.dumps({k: v for k, v in line.items() if k not in ("decisionId", "batchId")})
            )
        assert len(seen) == 1 and len(lines) == 1


def test_a_record_hashed_before_masking_still_checks_replayed_facts_whole() -> None:
    from types import SimpleNamespace

    from service.app import _same_input
    from service.exact_json import canonical
    from service.log_record import sha256

    facts = example_facts(PMP)
    logged = {**facts, "prisoner": {**facts["prisoner"], "clinical": None}}
    old = SimpleNamespace(
        audience="custodial", input=canonical(logged).decode(), input_hash=sha256(canonical(facts))
    )
    assert _same_input(facts, old, "facts")  # type: ignore[arg-type]
    other = {**facts, "prisoner": {**facts["prisoner"], "clinical": {"conditions": []}}}
    assert not _same_input(other, old, "facts")  # type: ignore[arg-type]
    new = SimpleNamespace(
        audience="custodial", input=old.input, input_hash=sha256(canonical(logged))
    )
    assert _same_input(other, new, "facts")  # type: ignore[arg-type]


def test_a_wrong_audience_or_date_is_shown_as_the_json_sent(
    client: httpx.Client, token: Callable[..., str]
) -> None:
    # the message showed Python's writing of the value (`None`, `['healthcare']`, `True`)
    for field, value, shown in (
        ("audience", None, "null"),
        ("audience", ["healthcare"], '["healthcare"]'),
        ("as_of", True, "true"),
        ("as_of", 12345678901234567890123, "12345678901234567890123"),  # past orjson's 64 bits
        ("as_of", "2020-W01-1", "2020-W01-1"),  # an ISO week date, which the library refuses
    ):
        body = {"facts": {}, field: value}
        r = decide(client, token(CUSTODIAL), "keywork_edm", body)
        assert r.status_code == 400 and f"not `{shown}`" in r.json()["userMessage"], r.text


def test_an_integer_past_64_bits_in_an_output_is_answered_logged_and_replayed_whole(
    client: httpx.Client, token: Callable[..., str], packs: engine.Packs
) -> None:
    # a stated summary may count up to 29 digits (the facts reader's bound) and the action
    # plan's summary output repeats it: orjson cannot write it, so the library's
    # to_json_bytes raised a TypeError and the service answered 500
    facts = example_facts("policies/action_plans/hmp_send_2019.yaml")
    big = 12345678901234567890123
    facts["action_plan"]["stated_summary"]["total"] = big
    want = packs.evaluate("action_plan", facts).to_dict()
    assert json.loads(packs.evaluate("action_plan", facts).to_json_bytes()) == want
    tok = token(CUSTODIAL)
    r = decide(client, tok, "action_plan", {"facts": facts})
    assert r.status_code == 200, r.text
    assert {k: v for k, v in r.json().items() if k != "decisionId"} == want
    assert str(big) in r.text
    got = client.get(f"/v1/decisions/{r.json()['decisionId']}", headers=auth(tok)).json()
    assert got["decision"] == want
    again = client.post(f"/v1/decisions/{r.json()['decisionId']}/replay", headers=auth(tok))
    assert again.status_code == 200 and again.json()["identical"] is True, again.text


def test_a_body_with_a_byte_order_mark_is_read_as_the_same_file_would_be(
    client: httpx.Client, token: Callable[..., str], packs: engine.Packs, tmp_path: Any
) -> None:
    # a UTF-8 byte order mark (as some Windows tools write) is dropped, as the facts reader
    # drops it from a file: the same document, the same decision
    from engine.packs.facts_schema import read_facts_file

    facts = example_facts(KEYWORK)
    bom = b"\xef\xbb\xbf"
    file = tmp_path / "facts.json"
    file.write_bytes(bom + json.dumps(facts).encode())
    assert read_facts_file(file) == facts
    want = packs.evaluate("keywork_edm", facts, as_of=dt.date(2020, 7, 1)).to_dict()
    headers = {**auth(token(CUSTODIAL)), "content-type": "application/json"}
    body = bom + json.dumps({"facts": facts, "as_of": "2020-07-01"}).encode()
    for params in ({}, {"explain": "false"}):  # the direct route and the framework's
        r = client.post(
            "/v1/packs/keywork_edm/decisions", content=body, headers=headers, params=params
        )
        assert r.status_code == 200, r.text
        got = r.json()
        assert {k: v for k, v in got.items() if k != "decisionId"} == want
    replay = bom + json.dumps({"facts": facts}).encode()
    r = client.post(f"/v1/decisions/{got['decisionId']}/replay", content=replay, headers=headers)
    assert r.status_code == 200 and r.json()["identical"] is True, r.text
    lines = bom + json.dumps({"facts": facts, "as_of": "2020-07-01"}).encode() + b"\n"
    r = client.post(
        "/v1/packs/keywork_edm/decisions/batch",
        content=lines,
        headers={**headers, "content-type": "application/x-ndjson"},
    )
    (line,) = [json.loads(x) for x in r.text.splitlines()]
    assert "error" not in line, line
    skip = ("line", "batchId", "decisionId")
    assert {k: v for k, v in line.items() if k not in skip} == want
