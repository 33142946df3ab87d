"""Resources: finding the JSON Schemas shipped with the engine, in a checkout or installed."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from referencing import Registry

_CHECKOUT = Path(__file__).resolve().parents[2] / "schemas"


@cache
def schema_dir() -> Path:
    """The schemas directory: `<repo>/schemas/` in a checkout, else the packaged copy."""
    if (_CHECKOUT / "pack.schema.json").is_file():
        return _CHECKOUT
    from importlib import resources  # only an installed engine reads its copy

    try:
        packaged = resources.files("engine.schemas").joinpath("pack.schema.json")
    except ModuleNotFoundError:
        packaged = None
    if packaged is not None and packaged.is_file():
        return Path(str(packaged)).parent
    raise FileNotFoundError("the engine's schemas are missing; reinstall `regime-policy`")


def schema_path(name: str) -> Path:
    """The file of a schema by name: `pack`, `tests`, `facts/establishment`, or a facts schema by
    its bare name (`facts`, `action_plan`); a `.schema.json` or `.json` suffix is optional."""
    base = schema_dir()
    file = name if name.endswith(".json") else f"{name}.schema.json"
    for candidate in (base / file, base / "facts" / file):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"no schema named `{name}`")


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The schema `name` as a dict (cached: do not modify it)."""
    data: dict[str, Any] = json.loads(schema_path(name).read_text(encoding="utf-8"))
    return data


@cache
def registry() -> Registry[Any]:
    """Every shipped schema by its `$id`, so relative `$ref`s resolve offline."""
    from referencing import Registry, Resource  # local: only the full validator needs it

    found: Registry[Any] = Registry()
    for path in sorted(schema_dir().rglob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(contents, dict) and "$id" in contents:
            found = found.with_resource(contents["$id"], Resource.from_contents(contents))
    return found
