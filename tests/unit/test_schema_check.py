"""The quick schema check agrees with the full JSON Schema validator: it may say "not sure" of a
valid document, but must never call an invalid one valid (that would hide a problem)."""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import pytest
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
def _validator(schema: str = "pack") -> Draft202012Validator:
    return Draft202012Validator(
        load_schema(schema), registry=registry(), format_checker=FormatChecker()
    )


def _full_says_valid(instance: Any, schema: str = "pack") -> bool:
    return not any(True for _ in _validator(schema).iter_errors(instance))


def _documents(kind: str) -> list[tuple[str, Any]]:
    """The YAML files of `policies/` and the test corpus read as `kind` (pack, tests, overlay)."""
    found = []
    for path in PACKS:
        first = path.read_text(encoding="utf-8", errors="replace").split("\n", 1)[0]
        named = next((k for k in ("tests", "overlay") if f"{k}.schema.json" in first), None)
        if (named or "pack") != kind or (
            "schema.json" in first and named is None and kind != "pack"
        ):
            continue
        if kind == "pack" and "schema.json" in first and "pack.schema.json" not in first:
            continue  # a facts or other file
        try:
            doc = read_yaml_file(path)
        except (PackError, OSError):
            continue
        if kind == "pack" and (not isinstance(doc.data, dict) or "id" not in doc.data):
            continue
        found.append((str(path.relative_to(ROOT)), to_json(doc.data, exact_numbers=True)))
    return found


@pytest.mark.parametrize(("kind", "least"), [("pack", 20), ("tests", 10), ("overlay", 3)])
def test_every_shipped_and_corpus_file_gets_the_validators_answer(kind: str, least: int) -> None:
    documents = _documents(kind)
    assert len(documents) > least
    valid = 0
    for name, instance in documents:
        full = _full_says_valid(instance, kind)
        assert surely_valid(instance, kind) == full, name
        valid += full
    assert valid > 0
    if kind == "pack":
        assert valid < len(documents)  # both answers were exercised


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


@settings(max_examples=200, deadline=None)
@given(
    kind=st.sampled_from(["pack", "pack", "tests", "overlay"]),
    pick=st.integers(min_value=0),
    where=st.integers(min_value=0),
    action=st.sampled_from(["replace", "delete", "add"]),
    value=_VALUES,
)
def test_a_damaged_document_is_never_called_valid(
    kind: str, pick: int, where: int, action: str, value: Any
) -> None:
    documents = [d for d in _valid_documents(kind)]
    name, instance = documents[pick % len(documents)]
    paths = _paths(instance)
    damaged = _mutated(instance, paths[where % len(paths)], action, value)
    assert surely_valid(damaged, kind) == _full_says_valid(damaged, kind), name


@cache
def _valid_documents(kind: str) -> tuple[tuple[str, Any], ...]:
    return tuple(d for d in _documents(kind) if _full_says_valid(d[1], kind))
