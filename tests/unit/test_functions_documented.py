"""The expression language's functions are a fixed, documented list: the Functions table of
docs/language.md names exactly the built-in functions and the comprehension forms."""

from __future__ import annotations

import re
from pathlib import Path

from engine.language.functions import FUNCTIONS

ROOT = Path(__file__).resolve().parents[2]
COMPREHENSIONS = {"count", "filter", "map", "sum"}


def documented() -> set[str]:
    """Every `name(` in the first column of the Functions table."""
    text = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    section = text.split("\n## Functions\n", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            first = line.split(" | ", 1)[0]
            names.update(re.findall(r"`([a-z_]+)\(", first))
    return names


def test_every_function_is_documented_and_every_documented_function_exists() -> None:
    names = documented()
    assert len(names) > 20
    assert sorted(set(FUNCTIONS) - names) == []
    assert sorted(names - set(FUNCTIONS) - COMPREHENSIONS) == []
