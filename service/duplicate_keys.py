"""Finds a key given twice in one JSON object of a request body: the fast parser keeps the last
silently, and which one the caller meant cannot be guessed (facts files refuse it too)."""

from __future__ import annotations

import json
from typing import Any


class _Repeated(Exception):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _unique(pairs: list[tuple[str, Any]]) -> None:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise _Repeated(key)
        seen.add(key)


def _nothing(_: str) -> None:
    return None


def repeated_key(raw: bytes) -> str | None:
    """The first key repeated within one object of `raw` (JSON already parsed once), or None."""
    try:
        json.loads(
            raw,
            object_pairs_hook=_unique,
            parse_int=_nothing,
            parse_float=_nothing,
            parse_constant=_nothing,
        )
    except _Repeated as e:
        return e.key
    except (ValueError, RecursionError):  # the fast parser has already judged the text
        return None
    return None
