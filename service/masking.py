"""Need-to-know for the decision log: healthcare-only facts are masked in a logged input unless the
decision was for the healthcare audience. Which fields are healthcare-only is read from the facts
schema (`"x-audience": "healthcare"`), never from field names."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from service.schemas import facts_schema_file

HEALTHCARE = "healthcare"


def _resolve(node: Mapping[str, Any], doc: Mapping[str, Any]) -> tuple[Mapping[str, Any], Any]:
    """Follow `$ref` (to another facts schema file or within the document): (node, its doc)."""
    seen = 0
    while "$ref" in node and seen < 32:
        seen += 1
        file, _, pointer = str(node["$ref"]).partition("#")
        target_doc: Any = facts_schema_file(file.rsplit("/", 1)[-1]) if file else doc
        target: Any = target_doc
        for part in [p for p in pointer.split("/") if p]:
            target = target[part]
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        node, doc = merged, target_doc
    return node, doc


@cache
def healthcare_paths(schema_name: str = "facts") -> tuple[str, ...]:
    """The paths (`a.b`, `a.list[].c`) at which healthcare-only data begins in this facts schema."""
    found: list[str] = []

    def walk(node: Mapping[str, Any], doc: Mapping[str, Any], path: str, depth: int) -> None:
        if depth > 24:
            return
        node, doc = _resolve(node, doc)
        if node.get("x-audience") == HEALTHCARE:
            found.append(path)
            return
        for name, sub in (node.get("properties") or {}).items():
            walk(sub, doc, f"{path}.{name}" if path else name, depth + 1)
        items = node.get("items")
        if isinstance(items, Mapping):
            walk(items, doc, f"{path}[]", depth + 1)

    walk(facts_schema_file(schema_name), facts_schema_file(schema_name), "", 0)
    return tuple(found)


def mask(
    facts: Any, audience: str, schema_name: str = "facts", legacy: bool = False
) -> tuple[Any, list[str]]:
    """The facts as they may be logged for `audience`, and the paths masked (set to null).

    A healthcare-only part is logged as null, and listed, whether it was sent with a value,
    as null or not at all: a custodial reader of the log may not learn which (under a version
    whose released outputs do not read it, the decision is the same either way). `legacy`: as
    records were masked before, a part sent as null or not sent left as it was, unlisted (to
    check a replay against such a record)."""
    if audience == HEALTHCARE or not isinstance(facts, Mapping):
        return facts, []
    masked: list[str] = []

    def strip(value: Any, parts: list[str], shown: str) -> Any:
        if not parts:
            if value is None and legacy:
                return None
            masked.append(shown)
            return None
        head, rest = parts[0], parts[1:]
        if head.endswith("[]"):
            key = head[:-2]
            if not isinstance(value, Mapping) or not isinstance(value.get(key), list):
                return value
            items = [
                strip_item(item, rest, f"{shown}.{key}[{i}]" if shown else f"{key}[{i}]")
                for i, item in enumerate(value[key])
            ]
            return {**value, key: items}
        if isinstance(value, Mapping) and head not in value and not rest and not legacy:
            return {**value, head: strip(None, rest, f"{shown}.{head}" if shown else head)}
        if not isinstance(value, Mapping) or head not in value:
            return value
        return {**value, head: strip(value[head], rest, f"{shown}.{head}" if shown else head)}

    def strip_item(item: Any, rest: list[str], shown: str) -> Any:
        if not rest:
            return strip(item, [], shown)
        return strip(item, rest, shown)

    result: Any = facts
    for path in healthcare_paths(schema_name):
        result = strip(result, _split(path), "")
    return result, masked


def _split(path: str) -> list[str]:
    """`a.b[].c` as ["a", "b[]", "c"]."""
    return [p for p in path.split(".") if p]
