"""The generated facts check agrees with the full JSON Schema validator on every facts schema
shipped in schemas/facts/: on generated valid documents and on the same documents broken the
ways a writer breaks them (wrong types, missing required keys, unknown keys, impossible dates,
values outside an enum, text or lists too long, the value a field whose null is a known none
may not hold, nesting too deep, Decimal, float or a truth value where a whole number goes,
null where none is allowed), it never passes a document the validator rejects, and what it
prepares is exactly what the full path's conversion gives (the same values, of the same
classes, keys in the same order)."""

from __future__ import annotations

import copy
import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from engine.packs.facts_schema import (
    MAX_DEPTH,
    MAX_DIGITS,
    MAX_STRING,
    _convert_document,
    _prepare_fast,
    facts_schema,
    validate_facts,
)
from engine.packs.reserved import reserved_value
from tests.unit.test_facts_one_walk import _same
from tests.unit.test_facts_validator import _paths

from .ntk_strategies import from_schema

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = sorted(p.name.split(".")[0] for p in (ROOT / "schemas" / "facts").glob("*.schema.json"))
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _deep(levels: int) -> Any:
    value: Any = "bottom"
    for _ in range(levels):
        value = [value]
    return value


# what a broken document holds where a value was: each wrong for some node of some schema
WRONG = st.one_of(
    st.sampled_from(
        [
            None,
            True,
            False,
            0,
            1,
            -1,
            7,
            400,
            1.0,
            2.5,
            Decimal("2"),
            Decimal("1.5"),
            "",
            "x",
            "nope",
            "open",
            "2020-02-30",
            "2021-02-29",
            "2020-2-3",
            "20200101",
            "2020-01-01T00:00",
            "2020-01-01\n",
            "0000-01-01",
            "0001-01-01",  # reserved where a null is a known none (engine.packs.reserved)
            "\u0000none",
            "A1234BC",
            "A1234BC\n",
            "2020-07",
            [],
            {},
            ["a"],
            [{}],
            [None],
        ]
    ),
    st.sampled_from(
        [
            dt.date(2020, 2, 29),
            dt.date(1, 1, 1),
            dt.datetime(2020, 1, 1, 12),
            10**MAX_DIGITS,
            float("nan"),
            float("inf"),
            "x" * (MAX_STRING + 1),
            "x" * 33,
            ["a"] * 1001,
            ("a",),
        ]
    ),
    st.just(None).map(lambda _: _deep(MAX_DEPTH + 2)),
).map(copy.deepcopy)  # (a fresh copy: a later change inside it must not change the list)


def _as_dates(value: Any) -> Any:
    """The document as YAML gives it: every ISO day text a date."""
    if isinstance(value, dict):
        return {k: _as_dates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_dates(v) for v in value]
    if isinstance(value, str) and _ISO_DAY.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:  # no such day: it stays text
            return value
    return value


@st.composite
def _broken(draw: st.DrawFn, doc: dict[str, Any]) -> dict[str, Any]:
    """`doc` with a few changes: a value replaced, a key removed or an unknown key added."""
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(doc)
        if not paths:
            doc[draw(st.sampled_from(["extra", "as_of", "prisoner"]))] = draw(WRONG)
            continue
        path = draw(st.sampled_from(paths))
        parent: Any = doc
        for part in path[:-1]:
            parent = parent[part]
        how = draw(st.sampled_from(["replace", "replace", "remove", "add"]))
        if how == "remove" and isinstance(parent, dict):
            del parent[path[-1]]
        elif how == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "Date", "1"]))] = draw(WRONG)
        else:
            parent[path[-1]] = draw(WRONG)
    return doc


def _node_at(schema: Any, path: tuple[Any, ...]) -> Any:
    """The schema node a document's value at `path` is checked against (None: none known)."""
    node = schema
    for part in path:
        if not isinstance(node, dict):
            return None
        node = (node.get("items") if isinstance(part, int) else None) or (
            (node.get("properties") or {}).get(part) if isinstance(part, str) else None
        )
    return node


@st.composite
def _with_reserved(draw: st.DrawFn, name: str, doc: dict[str, Any]) -> dict[str, Any] | None:
    """`doc` holding a reserved value in a field whose null is a known none (None: no field)."""
    schema = facts_schema(name)
    places = [p for p in _paths(doc) if reserved_value(_node_at(schema, p)) is not None]
    if not places:
        return None
    path = draw(st.sampled_from(places))
    doc = copy.deepcopy(doc)
    parent: Any = doc
    for part in path[:-1]:
        parent = parent[part]
    reserved = reserved_value(_node_at(schema, path))
    dates = [dt.date(1, 1, 1)] if reserved == "0001-01-01" else []
    parent[path[-1]] = draw(st.sampled_from([reserved, *dates]))
    return doc


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, dict[str, Any], bool]:
    """A schema's name, a document for it, and whether the document was drawn valid."""
    name = draw(st.sampled_from(SCHEMAS))
    doc = draw(from_schema(facts_schema(name)).filter(lambda d: isinstance(d, dict)))
    how = draw(st.sampled_from(["valid", "valid", "reserved", "broken"]))
    broken = how == "broken"
    if how == "reserved":  # (a document with no such field stays as drawn, valid)
        changed = draw(_with_reserved(name, doc))
        broken = changed is not None
        doc = doc if changed is None else changed
    elif broken:
        doc = draw(_broken(doc))
    if draw(st.booleans()):
        doc = _as_dates(doc)
    return name, doc, not broken


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(documents())
def test_the_check_never_passes_an_invalid_document_and_converts_as_the_full_path(
    drawn: tuple[str, dict[str, Any], bool],
) -> None:
    name, doc, drawn_valid = drawn
    problems = validate_facts(copy.deepcopy(doc), name=name)
    for custodial in (False, True):
        prepared = _prepare_fast(copy.deepcopy(doc), name, custodial)
        if prepared is None:
            # only a document the generator made valid, and the validator agrees is, must pass
            # (a healthcare part drawn broken makes the whole document invalid)
            assert problems or not drawn_valid or _has_float(doc), (name, doc)
            continue
        assert not problems, (name, doc, problems)
        event(f"{name}: passed by the check" + (" (drawn broken)" if not drawn_valid else ""))
        _same(prepared, _convert_document(copy.deepcopy(doc), name))


def _has_float(value: Any) -> bool:
    """A float anywhere: the check leaves a number it cannot be sure of to the full walk."""
    if isinstance(value, dict):
        return any(_has_float(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_float(v) for v in value)
    return isinstance(value, float)
