"""Each example in docs/language.md's table of functions that stands alone (no facts, no
evaluation date) and states an equality is true (test_functions_documented.py checks the
table names every function)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from engine.language import static_types as T
from engine.language.check import SimpleScope, Symbol, check
from engine.language.codegen import compile_checked
from engine.language.parse import parse

ROOT = Path(__file__).resolve().parents[2]


def rows() -> list[tuple[str, str]]:
    """(first cell, example) for each row of the Functions table."""
    doc = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    section = doc.split("## Functions", 1)[1].split("\n## ", 1)[0]
    found = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            found.append((cells[0], cells[2].strip("`")))
    return found


STANDALONE = [
    example
    for _, example in rows()
    if "==" in example and "as_of" not in example and not re.search(r"\b[a-z_]+\.", example)
]


@pytest.mark.parametrize("example", STANDALONE)
def test_standalone_example_holds(example: str) -> None:
    checked = check(parse(example), SimpleScope({"as_of": Symbol("as_of", T.DATE, False)}))
    assert checked.errors == [], checked.errors
    assert compile_checked(checked).fn({"as_of": dt.date(2022, 6, 15)}, {}.__getitem__) is True


def test_some_examples_stand_alone() -> None:
    assert len(STANDALONE) >= 5
