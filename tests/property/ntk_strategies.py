"""Hypothesis strategies over the whole facts contract, read from schemas/facts/: every field
may be absent or null where the schema allows, and healthcare-only subtrees (`x-audience:
healthcare`) have their own strategy that also draws invalid and out-of-range records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from engine.packs.facts_schema import facts_schema, healthcare_roots
from engine.packs.reserved import reserved_value

# Dates near the policies' dates, and the edges of the calendar (9999-12-31 overflows any sum)
DATES = st.one_of(
    st.dates(dt.date(1940, 1, 1), dt.date(2024, 12, 31)),
    st.sampled_from([dt.date(1, 1, 1), dt.date(9999, 12, 31), dt.date(2000, 2, 29)]),
)


def _types(schema: Mapping[str, Any]) -> list[str]:
    t = schema.get("type", "object" if "properties" in schema else "string")
    return [t] if isinstance(t, str) else list(t)


def from_schema(schema: Mapping[str, Any], healthcare: bool = False) -> st.SearchStrategy[Any]:
    """Documents valid against a (reference-inlined) JSON Schema node."""
    if schema.get("x-audience") == "healthcare" and not healthcare:
        return healthcare_record(schema)
    if "anyOf" in schema or "oneOf" in schema:
        choices = schema.get("anyOf", schema.get("oneOf"))
        return st.one_of([from_schema(s, healthcare) for s in choices])
    options: list[st.SearchStrategy[Any]] = []
    for t in _types(schema):
        if t == "null":
            options.append(st.none())
        elif "enum" in schema:
            options.append(st.sampled_from([v for v in schema["enum"] if v is not None]))
        elif t == "boolean":
            options.append(st.booleans())
        elif t == "integer":
            lo = schema.get("minimum", -3)
            hi = schema.get("maximum", lo + 60)
            options.append(st.integers(lo, hi))
        elif t == "number":
            options.append(st.decimals("0", "500", places=2).map(float))
        elif t == "string":
            if schema.get("format") == "date":
                # (the day a field whose null is a known none may not hold: engine.packs.reserved)
                reserved = reserved_value(schema)
                days = DATES.map(dt.date.isoformat)
                options.append(days.filter(reserved.__ne__) if reserved else days)
            elif "pattern" in schema:
                options.append(st.from_regex(schema["pattern"], fullmatch=True).filter(str.isascii))
            else:
                options.append(st.text("abcXYZ 12-", max_size=8))
        elif t == "array":
            items = schema.get("items", {})
            options.append(st.lists(from_schema(items, healthcare), max_size=3))
        elif t == "object":
            props = schema.get("properties", {})
            required = set(schema.get("required", ()))
            options.append(
                st.fixed_dictionaries(
                    {k: from_schema(v, healthcare) for k, v in props.items() if k in required},
                    optional={
                        k: from_schema(v, healthcare) for k, v in props.items() if k not in required
                    },
                )
            )
    return st.one_of(options) if options else st.none()


def _nan_or_huge() -> st.SearchStrategy[Any]:
    return st.sampled_from([float("nan"), float("inf"), 10**60, "9999-99-99", -1, "x" * 40])


def healthcare_record(schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    """A healthcare-only subtree: valid, absent (the caller's choice), null, or invalid in a way
    a careless or hostile writer would make it (wrong types, unknown fields, NaN, huge values)."""
    valid = from_schema(schema, healthcare=True)
    props = list(schema.get("properties", {}))
    broken = st.one_of(
        valid.flatmap(
            lambda rec: st.builds(
                lambda k, v: {**(rec or {}), k: v},
                st.sampled_from(props or ["x"]),
                _nan_or_huge(),
            )
        ),
        st.just({"diagnosis_in_wrong_field": "secret-diagnosis"}),
        st.just("secret-diagnosis"),
    )
    return st.one_of(valid, valid, valid, broken)


def whole_contract() -> st.SearchStrategy[dict[str, Any]]:
    """A facts document over every root of the contract (the action plan root kept small)."""
    schema = facts_schema()
    props = schema["properties"]
    return st.fixed_dictionaries(
        {},
        optional={k: from_schema(v) for k, v in props.items() if k not in ("as_of", "action_plan")},
    )


def healthcare_parts() -> list[list[str]]:
    """The healthcare-only roots as key paths (`prisoner.clinical` -> [prisoner, clinical])."""
    return [r.split(".") for r in healthcare_roots() if "[" not in r]


def healthcare_only() -> st.SearchStrategy[Any]:
    """A replacement for one healthcare-only root: absent, or any record its strategy draws."""
    schema = facts_schema()
    node: Any = schema
    for part in healthcare_parts()[0]:
        node = node["properties"][part]
    return st.one_of(st.just(ABSENT), healthcare_record(node))


ABSENT = object()


def with_healthcare(doc: dict[str, Any], parts: list[str], value: Any) -> dict[str, Any]:
    """`doc` with the healthcare-only root at `parts` replaced (or removed for ABSENT)."""
    import copy

    out = copy.deepcopy(doc)
    node = out
    for part in parts[:-1]:
        if not isinstance(node.get(part), dict):
            return out  # no record to hold it: adding one would change what custodial staff see
        node = node[part]
    if value is ABSENT:
        node.pop(parts[-1], None)
    else:
        node[parts[-1]] = value
    return out
