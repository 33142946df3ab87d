"""Absent versus none: a fact whose null the facts schema marks `x-null: none` reads as a known
none (the decided no-value, no fact paths) when null, and as unknown with its path when absent;
`is_none` tells them apart. Checked on compiled expressions (alone, in and/or/not, in strict
regions and lists), on the facts schemas, and on a real pack."""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from engine.language import static_types as T
from engine.language.check import SimpleScope, Symbol, check
from engine.language.codegen import compile_checked
from engine.language.parse import parse
from engine.language.runtime import Unknown
from engine.packs.facts_schema import root_types

ROOT = Path(__file__).resolve().parents[2]
AS_OF = dt.date(2022, 6, 15)
DAY = dt.date(2022, 6, 1)

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "z": {"type": ["string", "null"], "format": "date", "x-null": "none"},
        "u": {"type": ["string", "null"], "format": "date", "x-null": "unknown"},
        "w": {"type": ["string", "null"], "format": "date"},
        "ok": {"type": ["boolean", "null"], "x-null": "none"},
        "r": {
            "type": ["object", "null"],
            "properties": {"z": {"type": ["string", "null"], "format": "date", "x-null": "none"}},
        },
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "z": {"type": ["string", "null"], "format": "date", "x-null": "none"}
                },
            },
        },
    },
}
SCOPE = SimpleScope(
    {
        "as_of": Symbol("as_of", T.DATE, False),
        "p": Symbol("root", T.from_json_schema(SCHEMA, lambda ref: {}), True),
    }
)
ABSENT = object()


def run(text: str, **facts: Any) -> Any:
    checked = check(parse(text), SCOPE)
    assert checked.errors == [], checked.errors
    given_facts = {k: v for k, v in facts.items() if v is not ABSENT}
    return compile_checked(checked).fn({"as_of": AS_OF, "p": given_facts}, {}.__getitem__)


def none() -> Unknown:
    return Unknown(frozenset())


def unknown(*paths: str) -> Unknown:
    return Unknown(frozenset(paths))


def same(got: Any, want: Any) -> bool:
    if isinstance(want, Unknown):
        return isinstance(got, Unknown) and got.paths == want.paths
    return type(got) is type(want) and got == want


CASES: list[tuple[str, dict[str, Any], Any]] = [
    # a none-marked field read alone: value, null (the no-value), absent (unknown, its path)
    ("p.z", {"z": DAY}, DAY),
    ("p.z", {"z": None}, none()),
    ("p.z", {}, unknown("p.z")),
    # fields not marked none: null and absent are both unknown with the path
    ("p.u", {"u": None}, unknown("p.u")),
    ("p.w", {"w": None}, unknown("p.w")),
    ("p.u", {}, unknown("p.u")),
    # is_none
    ("is_none(p.z)", {"z": DAY}, False),
    ("is_none(p.z)", {"z": None}, True),
    ("is_none(p.z)", {}, unknown("p.z")),
    ("is_none(p.u)", {"u": None}, unknown("p.u")),
    ("is_none(p.r.z)", {"r": {"z": None}}, True),
    ("is_none(p.r.z)", {"r": {}}, unknown("p.r.z")),
    ("is_none(p.r.z)", {}, unknown("p.r.z")),
    ("is_none(p.r.z)", {"r": None}, unknown("p.r.z")),
    ("known(p.z)", {"z": None}, False),
    ("known(p.z)", {}, False),
    # strict regions: the no-value flows through, and never gains a path
    ("p.z <= as_of", {"z": None}, none()),
    ("p.z <= as_of", {}, unknown("p.z")),
    ("p.z + 14 days > p.u", {"z": None, "u": DAY}, none()),
    ("p.z + 14 days > p.u", {"z": None}, unknown("p.u")),
    ("p.z + 14 days > p.u", {"u": DAY}, unknown("p.z")),
    ("p.z + 14 days > p.u", {"z": DAY, "u": DAY}, True),
    # the idiom packs use: absent stays undetermined, null decides
    ("not is_none(p.z) and p.z <= as_of", {"z": DAY}, True),
    ("not is_none(p.z) and p.z <= as_of", {"z": None}, False),
    ("not is_none(p.z) and p.z <= as_of", {}, unknown("p.z")),
    ("is_none(p.z) or p.z > as_of", {"z": None}, True),
    ("is_none(p.z) or p.z > as_of", {}, unknown("p.z")),
    ("not is_none(p.z)", {}, unknown("p.z")),
    ("not p.ok", {"ok": None}, none()),
    # facts read raw in and/or: a none boolean is neither true nor false, and has no path
    ("p.ok and p.u <= as_of", {"ok": None, "u": DAY}, none()),
    ("p.ok and p.u <= as_of", {"ok": None}, unknown("p.u")),
    ("p.ok and p.u <= as_of", {"u": DAY}, unknown("p.ok")),
    ("p.ok or p.u <= as_of", {"ok": None, "u": DAY}, True),
    ("p.ok or p.u > as_of", {"ok": None}, unknown("p.u")),
    ("p.ok and false", {}, False),
    ("p.ok or true", {}, True),
    # choice on a none-marked condition: the no-value, not a path
    ("if p.ok then 1 else 2", {"ok": None}, none()),
    ("if p.ok then 1 else 2", {}, unknown("p.ok")),
    # lists: elements of a list, and a none field of each record in a list
    ("[p.z, p.u]", {"z": None, "u": DAY}, [none(), DAY]),
    ("coalesce(p.z, p.u)", {"z": None, "u": DAY}, DAY),
    ("compact([p.z, p.u])", {"z": None, "u": DAY}, [DAY]),
    ("count(i in p.items: is_none(i.z))", {"items": [{"z": None}, {"z": DAY}]}, 1),
    ("count(i in p.items: is_none(i.z))", {"items": [{"z": None}, {}]}, unknown("p.items[].z")),
    ("any i in p.items: i.z <= as_of", {"items": [{"z": None}, {"z": DAY}]}, True),
    ("all i in p.items: not is_none(i.z)", {"items": [{"z": None}, {}]}, False),
    ("all i in p.items: not is_none(i.z)", {"items": [{"z": DAY}, {}]}, unknown("p.items[].z")),
    ("p.z in [p.u, 2022-06-01]", {"z": DAY}, True),
    ("max([p.z, 2022-06-01])", {"z": None}, none()),
    ("max([p.z, 2022-06-01])", {}, unknown("p.z")),
]


@pytest.mark.parametrize(("text", "facts", "want"), CASES, ids=[f"{c[0]} {c[1]}" for c in CASES])
def test_absent_null_and_value(text: str, facts: dict[str, Any], want: Any) -> None:
    got = run(text, **facts)
    if isinstance(want, list):
        assert len(got) == len(want) and all(same(g, w) for g, w in zip(got, want, strict=True))
    else:
        assert same(got, want), f"{text} with {facts}: got {got!r}, want {want!r}"


def test_a_none_field_is_read_once_and_the_key_tested_only_when_null() -> None:
    source = compile_checked(check(parse("p.z <= as_of"), SCOPE)).source
    assert source.count(".get('z')") == 1
    assert "'z' in" in source
    plain = compile_checked(check(parse("p.u <= as_of"), SCOPE)).source
    assert "' in" not in plain


def _nullable_leaves(node: Any, path: str, out: dict[str, Any]) -> None:
    if not isinstance(node, dict):
        return
    kinds = node.get("type")
    if isinstance(kinds, list) and "null" in kinds and "object" not in kinds and path != "as_of":
        out[path] = node
    for key, sub in node.get("properties", {}).items():
        _nullable_leaves(sub, f"{path}.{key}" if path else key, out)
    if "items" in node:
        _nullable_leaves(node["items"], f"{path}[]", out)


def test_every_nullable_fact_says_what_its_null_means() -> None:
    for file in sorted((ROOT / "schemas" / "facts").glob("*.schema.json")):
        leaves: dict[str, Any] = {}
        _nullable_leaves(json.loads(file.read_text(encoding="utf-8")), "", leaves)
        for path, node in leaves.items():
            assert node.get("x-null") in ("none", "unknown"), f"{file.name}: {path}"
            if node["x-null"] == "none":
                assert "known none" in node.get("description", ""), f"{file.name}: {path}"


def test_the_schema_mark_reaches_the_static_type() -> None:
    est = root_types()["establishment"]
    found = est.field("outbreak_declared_on")
    assert found is not None and found[0].null_none
    found = est.field("regime_level")
    assert found is not None and not found[0].null_none


# -- on a real pack: null never listed, absent listed whenever the answer depends on it ---------


@cache
def pmp() -> Any:
    return engine.load(ROOT / "policies")["pmp"]


def _facts(
    outbreak: Any, prevalence: bool, status: str, reviewed: dt.date | None
) -> dict[str, Any]:
    establishment: dict[str, Any] = {
        "code": "WWI",
        "community_prevalence_high": prevalence,
        "community_prevalence_high_since": dt.date(2022, 1, 3) if prevalence else None,
        "guidance_changed_on": None,
    }
    if outbreak is not ABSENT:
        establishment["outbreak_declared_on"] = outbreak
    return {
        "establishment": establishment,
        "prisoner": {
            "prison_number": "A1234BC",
            "date_of_birth": dt.date(1970, 1, 1),
            "acct": "none",
            "cev": False,
            "pmp": {
                "status": status,
                "commenced_on": dt.date(2021, 12, 1),
                "last_reviewed_on": reviewed,
                "clinician_advice": "letter",
                "interim_arrangements": False,
                "manager_agreed": True,
                "single_cell_advised": False,
                "unable_to_work_since": None,
                "additional_measures_advised": False,
                "clinical_review_requested_on": None,
            },
            "clinical": {"conditions": [], "clinician_recommends_pmp": False},
        },
    }


def _answer(d: Any) -> tuple[Any, ...]:
    return (
        d.status,
        json.dumps(d.outputs, default=str, sort_keys=True),
        tuple(o.rule for o in d.obligations),
        tuple((o.rule, str(o.due)) for o in d.obligations),
    )


PATH = "establishment.outbreak_declared_on"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    as_of=st.dates(dt.date(2022, 5, 3), dt.date(2023, 6, 30)),
    outbreak=st.dates(dt.date(2022, 1, 1), dt.date(2023, 6, 30)),
    prevalence=st.booleans(),
    status=st.sampled_from(["in_place", "none", "declined"]),
    reviewed=st.one_of(st.none(), st.dates(dt.date(2021, 12, 1), dt.date(2023, 6, 30))),
)
def test_null_is_decided_and_absent_is_listed_when_it_matters(
    as_of: dt.date, outbreak: dt.date, prevalence: bool, status: str, reviewed: dt.date | None
) -> None:
    def decide(value: Any) -> Any:
        return engine.evaluate(
            pmp(), _facts(value, prevalence, status, reviewed), as_of, "healthcare"
        )

    with_null = decide(None)
    assert PATH not in with_null.missing_facts
    with_date = decide(outbreak)
    absent = decide(ABSENT)
    if _answer(with_null) != _answer(with_date):
        assert absent.status == "undetermined"
        assert PATH in absent.missing_facts
    if PATH not in absent.missing_facts:
        assert _answer(absent) == _answer(with_null) == _answer(with_date)
