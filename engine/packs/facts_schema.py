"""Facts: the types of facts from their JSON Schema, validation of a facts document, and
conversion of its JSON values (ISO dates, numbers) into evaluation values."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from engine.language import static_types as T
from engine.language.convert import to_json
from engine.packs.read_yaml import read_yaml
from engine.packs.resources import load_schema
from engine.packs.validate_schema import validate_document
from engine.problems import FactsError, PackError, Problem, file_problem, problem


def _inline(node: Any, doc: Mapping[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """The schema with every `$ref` replaced by what it points at (recursion is cut off)."""
    if isinstance(node, list):
        return [_inline(n, doc, seen) for n in node]
    if not isinstance(node, Mapping):
        return node
    if "$ref" in node:
        ref = str(node["$ref"])
        file, _, pointer = ref.partition("#")
        target_doc = load_schema(Path(file).name) if file else doc
        target: Any = target_doc
        for part in [p for p in pointer.split("/") if p]:
            target = target[part]
        if ref in seen:
            return {"description": target.get("description", ""), "type": "object"}
        rest = {k: v for k, v in node.items() if k != "$ref"}
        return _inline({**target, **rest}, target_doc, (*seen, ref))
    return {k: _inline(v, doc, seen) for k, v in node.items()}


@cache
def facts_schema(name: str = "facts") -> dict[str, Any]:
    """The facts schema `name` with its references inlined."""
    schema = load_schema(name)
    inlined: dict[str, Any] = _inline(schema, schema)
    return inlined


@cache
def root_types(name: str = "facts") -> dict[str, T.Type]:
    """The static type of each root of a facts document (`as_of` aside)."""
    schema = facts_schema(name)
    return {
        key: T.from_json_schema(sub, lambda ref: {}, key)
        for key, sub in schema.get("properties", {}).items()
        if key != "as_of"
    }


@cache
def healthcare_roots(name: str = "facts") -> tuple[str, ...]:
    """The fact paths at which healthcare-only data begins (e.g. one record of clinical facts)."""
    found: list[str] = []

    def walk(t: T.Type, path: str) -> None:
        if t.healthcare:
            found.append(path)
            return
        if t.kind == "record":
            for fname, ftype, _ in t.fields or ():
                walk(ftype, f"{path}.{fname}")
        elif t.kind == "list" and t.elem is not None:
            walk(t.elem, f"{path}[]")

    for root, t in root_types(name).items():
        walk(t, root)
    return tuple(found)


def is_healthcare_path(path: str, name: str = "facts") -> bool:
    return any(
        path == r or path.startswith(r + ".") or path.startswith(r + "[")
        for r in healthcare_roots(name)
    )


def validate_facts(data: Any, file: str = "<facts>", name: str = "facts") -> list[Problem]:
    """Every way `data` departs from the facts schema, each with its JSON path."""
    return validate_document(to_json(data, exact_numbers=True), name, file)


def convert(value: Any, t: T.Type) -> Any:
    """A validated JSON value as an evaluation value of type `t`."""
    if value is None:
        return None
    kind = t.kind
    if kind == "date":
        if isinstance(value, str):
            return dt.date.fromisoformat(value)
        return value
    if kind == "decimal" and isinstance(value, float | int) and not isinstance(value, bool):
        return Decimal(str(value))
    if kind == "record" and isinstance(value, Mapping):
        out = {}
        for key, v in value.items():
            found = t.field(key)
            out[key] = convert(v, found[0]) if found else v
        return out
    if kind == "list" and isinstance(value, list) and t.elem is not None:
        return [convert(v, t.elem) for v in value]
    return value


def prepare(data: Mapping[str, Any], file: str = "<facts>", name: str = "facts") -> dict[str, Any]:
    """Validate a facts document and convert it for evaluation; raises FactsError."""
    problems = validate_facts(data, file, name)
    if problems:
        raise FactsError(problems)
    types = root_types(name)
    out: dict[str, Any] = {}
    for key, value in to_json(data, exact_numbers=True).items():
        if key == "as_of":
            out[key] = dt.date.fromisoformat(value) if isinstance(value, str) else value
        elif key in types:
            out[key] = convert(value, types[key])
        else:
            out[key] = value
    return out


def read_facts_file(path: Path) -> dict[str, Any]:
    """A facts document from a JSON or YAML file (not yet validated); raises FactsError."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise FactsError([file_problem("E-IO", str(path), f"cannot read facts: {e}")]) from None
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise FactsError(
                [problem("E-JSON", str(path), e.lineno, e.colno, f"not JSON: {e.msg}")]
            ) from None
    else:
        try:
            data = read_yaml(text, str(path)).data
        except PackError as e:
            raise FactsError(e.problems) from None
    if not isinstance(data, dict):
        raise FactsError(
            [
                file_problem(
                    "E-FACTS",
                    str(path),
                    "a facts document must be a mapping of roots",
                    hint="start with one of its roots: "
                    + ", ".join(f"`{r}:`" for r in facts_schema().get("properties", {})),
                )
            ]
        )
    return data
