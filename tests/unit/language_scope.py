"""The small facts schema and scope the language tests check and run expressions in."""

from __future__ import annotations

import datetime as dt
from typing import Any

from engine.language import static_types as T
from engine.language.check import SimpleScope, Symbol

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "a": {"type": "boolean"},
        "b": {"type": "boolean"},
        "c": {"type": "boolean"},
        "n": {"type": "integer"},
        "m": {"type": "integer"},
        "x": {"type": "number"},
        "y": {"type": "number"},
        "d": {"type": "string", "format": "date"},
        "e": {"type": "string", "format": "date"},
        "z": {"type": ["string", "null"], "format": "date", "x-null": "none"},
        "s": {"type": "string"},
        "level": {"type": "string", "enum": ["LOW", "MEDIUM", "HIGH"]},
        "score": {"type": "integer", "minimum": 0, "maximum": 10},
        "xs": {"type": "array", "items": {"type": "integer"}},
        "sessions": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "date": {"type": "string", "format": "date"},
                    "minutes": {"type": "integer"},
                    "kind": {"type": "string", "enum": ["session", "note"]},
                },
            },
        },
        "r": {"type": "object", "properties": {"k": {"type": "integer"}}},
    },
}

AS_OF = dt.date(2022, 6, 15)


def scope(**parameters: T.Type) -> SimpleScope:
    """`as_of`, the root `p` of SCHEMA, and the parameters given with their types."""
    return SimpleScope(
        {
            "as_of": Symbol("as_of", T.DATE, False),
            "p": Symbol("root", T.from_json_schema(SCHEMA, lambda ref: {}), True),
            **{name: Symbol("parameter", t, False) for name, t in parameters.items()},
        }
    )
