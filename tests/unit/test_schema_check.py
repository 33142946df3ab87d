"""The quick schema check agrees with the full JSON Schema validator: it may say "not sure" of a
valid document, but must never call an invalid one valid (that would hide a problem)."""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker

from engine.language.convert import to_json
from engine.packs.read_yaml import read_yaml_file
from engine.packs.resources import load_schema, registry
from engine.packs.schema_check import surely_valid
from engine.problems import PackError

ROOT = Path(__file__).resolve().parents[2]
PACKS = sorted(
    p
    for p in [*(ROOT / "policies").rglob("*.yaml"), *(ROOT / "tests" / "corpus").rglob("*.yaml")]
    if p.is_file()
)


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(
        load_schema("pack"), registry=registry(), format_checker=FormatChecker()
    )


def _full_says_valid(instance: Any) -> bool:
    return not any(True for _ in _validator().iter_errors(instance))


def _pack_documents() -> list[tuple[str, Any]]:
    found = []
    for path in PACKS:
        first = path.read_text(encoding="utf-8", errors="replace").split("\n", 1)[0]
        if "schema.json" in first and "pack.schema.json" not in first:
            continue  # a local plan, tests or facts file
        try:
            doc = read_yaml_file(path)
        except (PackError, OSError):
            continue
        if not isinstance(doc.data, dict) or "id" not in doc.data:
            continue
        found.append((str(path.relative_to(ROOT)), to_json(doc.data, exact_numbers=True)))
    return found


def test_every_shipped_and_corpus_pack_gets_the_validators_answer() -> None:
    documents = _pack_documents()
    assert len(documents) > 20
    valid = 0
    for name, instance in documents:
        full = _full_says_valid(instance)
        assert surely_valid(instance, "pack") == full, name
        valid += full
    assert 0 < valid < len(documents)  # both answers were exercised


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from(["", "x", "must", "2020-02-30", "2020-01-01", "R-1", "Bad Name", "snake_ok"]),
    st.just([]),
    st.just({}),
    st.just({"section": "1"}),
)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*path, i))
    return out


def _mutated(instance: Any, path: tuple[Any, ...], action: str, value: Any) -> Any:
    doc = copy.deepcopy(instance)
    if not path:
        return value
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if action == "delete":
        del parent[last]
    elif action == "add" and isinstance(parent[last], dict):
        parent[last]["unexpected_field"] = value
    else:
        parent[last] = value
    return doc


@settings(max_examples=150, deadline=None)
@given(
    pick=st.integers(min_value=0),
    where=st.integers(min_value=0),
    action=st.sampled_from(["replace", "delete", "add"]),
    value=_VALUES,
)
def test_a_damaged_pack_is_never_called_valid(
    pick: int, where: int, action: str, value: Any
) -> None:
    documents = [d for d in _pack_documents_cached() if _full_says_valid(d[1])]
    name, instance = documents[pick % len(documents)]
    paths = _paths(instance)
    damaged = _mutated(instance, paths[where % len(paths)], action, value)
    assert surely_valid(damaged, "pack") == _full_says_valid(damaged), name


@cache
def _cached() -> tuple[tuple[str, Any], ...]:
    return tuple(_pack_documents())


def _pack_documents_cached() -> tuple[tuple[str, Any], ...]:
    return _cached()
