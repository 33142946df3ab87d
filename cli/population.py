"""Shared by the population commands: reading the population and naming each document."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from engine.problems import PopulationError
from engine.tools.population_source import read_population

from .common import fail, parse_date, show_problems


def load_population(path: Path) -> list[dict[str, Any]]:
    try:
        return read_population(path)
    except PopulationError as e:
        show_problems(e.problems)
        fail(f"cannot read the population `{path}`; nothing was evaluated")


def subject_of(facts: dict[str, Any], id_field: str) -> str:
    """The value at a dotted path of the facts (the document's subject), or `?`."""
    value: Any = facts
    for part in id_field.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return str(value) if value is not None else "?"


def parse_range(text: str) -> tuple[dt.date, dt.date]:
    """`DATE` (one day) or `START..END`."""
    first, sep, last = text.partition("..")
    start = parse_date(first)
    end = parse_date(last) if sep else start
    assert start is not None and end is not None
    if end < start:
        fail(f"`{text}` ends before it starts", "write START..END, e.g. 2020-06-01..2020-12-31")
    return start, end
