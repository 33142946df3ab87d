"""A seeded population of facts documents, read from the facts JSON Schema, that visits the edges.

Every field is sometimes absent, sometimes null and otherwise a value; dates fall on the
boundary days of windows around `as_of` (0, 1, 6, 7, 27-31 days, 1-2 calendar months either
side), on month ends and leap days; enumerations and integer ranges take every value; lists
are empty, short or long. The same seed gives the same population.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
import re
from collections.abc import Iterator, Mapping
from typing import Any

from engine.language.runtime import add_months
from engine.packs.facts_schema import facts_schema

AS_OF_DAYS = (
    dt.date(2020, 7, 20),
    dt.date(2020, 2, 29),
    dt.date(2020, 3, 31),
    dt.date(2020, 12, 31),
    dt.date(2021, 1, 31),
    dt.date(2021, 2, 28),
    dt.date(2021, 3, 1),
    dt.date(2022, 5, 31),
    dt.date(2023, 6, 15),
)
DAY_OFFSETS = (0, 1, -1, 6, -6, 7, -7, 13, 14, 27, -27, 28, -28, 29, -29, 30, 31, -31, 60, -60)
MONTH_OFFSETS = (1, -1, 2, -2, 3, -3, 6, 12)
LIST_LENGTHS = (0, 0, 1, 1, 2, 3, 5, 12)


class Population:
    """Facts documents for one schema, drawn from a seeded random source."""

    def __init__(self, seed: int = 0, schema: str = "facts", absent: float = 0.06):
        self.rng = random.Random(seed)
        self.schema = facts_schema(schema)
        self.absent = absent

    def as_of(self) -> dt.date:
        if self.rng.random() < 0.5:
            return AS_OF_DAYS[0]
        return self.rng.choice(AS_OF_DAYS)

    def date_near(self, as_of: dt.date) -> dt.date:
        r = self.rng.random()
        if r < 0.45:
            return as_of + dt.timedelta(days=self.rng.choice(DAY_OFFSETS))
        if r < 0.8:
            d = add_months(as_of, self.rng.choice(MONTH_OFFSETS))
            return d + dt.timedelta(days=self.rng.choice((0, 0, 1, -1)))
        if r < 0.9:  # a month end or a leap day
            year = as_of.year + self.rng.choice((-1, 0, 0, 1))
            month = self.rng.randint(1, 12)
            if self.rng.random() < 0.3:
                return dt.date(2020 if year % 4 else year, 2, 29)
            return dt.date(year, month, calendar.monthrange(year, month)[1])
        return as_of + dt.timedelta(days=self.rng.randint(-9000, 900))

    def value(self, node: Mapping[str, Any], as_of: dt.date) -> Any:
        kinds = node.get("type", "string")
        kinds = list(kinds) if isinstance(kinds, list) else [kinds]
        if "null" in kinds and self.rng.random() < 0.12:
            return None
        kind = next((k for k in kinds if k != "null"), "string")
        if "enum" in node:
            values = [v for v in node["enum"] if v is not None]
            return self.rng.choice(values)
        if kind == "object":
            out: dict[str, Any] = {}
            for key, sub in node.get("properties", {}).items():
                if self.rng.random() < self.absent:
                    continue
                out[key] = self.value(sub, as_of)
            return out
        if kind == "array":
            n = self.rng.choice(LIST_LENGTHS)
            return [self.value(node.get("items", {}), as_of) for _ in range(n)]
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind == "integer":
            lo, hi = node.get("minimum"), node.get("maximum")
            if isinstance(lo, int) and isinstance(hi, int):
                return self.rng.randint(lo, hi)
            base = lo if isinstance(lo, int) else 0
            return base + self.rng.choice((0, 1, 2, 15, 29, 30, 44, 45, 46, 60, 90))
        if kind == "number":
            return self.rng.choice((0, 1, 2.5, 10))
        if node.get("format") == "date":
            return self.date_near(as_of).isoformat()
        if "pattern" in node:
            return _from_pattern(str(node["pattern"]), self.rng)
        return self.rng.choice(("A", "B", "wing 1", ""))

    def document(self, roots: tuple[str, ...] | None = None) -> tuple[dt.date, dict[str, Any]]:
        """One facts document (without `as_of`) and the day it is evaluated on."""
        as_of = self.as_of()
        doc: dict[str, Any] = {}
        for key, sub in self.schema.get("properties", {}).items():
            if key == "as_of" or (roots is not None and key not in roots):
                continue
            if self.rng.random() < self.absent / 2:
                continue
            if self.rng.random() < 0.02:
                doc[key] = None
                continue
            doc[key] = self.value(sub, as_of)
        return as_of, doc

    def documents(
        self, n: int, roots: tuple[str, ...] | None = None
    ) -> Iterator[tuple[int, dt.date, dict[str, Any]]]:
        for i in range(n):
            as_of, doc = self.document(roots)
            yield i, as_of, doc


def _from_pattern(pattern: str, rng: random.Random) -> str:
    """A string matching a simple pattern of character classes with counts."""
    out = []
    for cls, count in re.findall(r"\[([^\]]+)\](?:\{(\d+)\})?", pattern):
        chars = []
        for a, b in re.findall(r"(.)-(.)", cls):
            chars += [chr(c) for c in range(ord(a), ord(b) + 1)]
        out += [rng.choice(chars) for _ in range(int(count or 1))]
    return "".join(out)
