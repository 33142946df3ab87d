"""The engine's JSON Schemas the service needs: the facts schema (which fields are healthcare-only)
and the decision schema (the documented response). The only module that reaches past `engine`'s
top-level API, and only for shipped data files."""

from __future__ import annotations

import copy
from typing import Any

from engine.packs.resources import load_schema


def facts_schema_file(name: str) -> dict[str, Any]:
    """One facts schema file as written (references not resolved)."""
    return load_schema(name)


def decision_schema() -> dict[str, Any]:
    """A deep copy of schemas/decision.schema.json."""
    return copy.deepcopy(load_schema("decision"))
