"""A seeded population of facts documents, read from the facts JSON Schema, that visits the edges.

Every field is sometimes absent, sometimes null and otherwise a value; dates fall on the
boundary days of windows around `as_of` (0, 1, 6, 7, 27-31 days, 1-2 calendar months either
side), on month ends and leap days (and, where asked, near the calendar's first and last
days); enumerations and integer ranges take every value; lists
are empty, short or long. The same seed gives the same population.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import random
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from engine.language.runtime import add_months
from engine.packs.facts_schema import facts_schema
from engine.packs.reserved import reserved_value

AS_OF_DAYS = (
    dt.date(2020, 7, 20),
    dt.date(2020, 2, 29),
    dt.date(2020, 3, 31),
    dt.date(2020, 12, 31),
    dt.date(2021, 1, 31),
    dt.date(2021, 2, 28),
    dt.date(2021, 3, 1),
    dt.date(2022, 5, 3),
    dt.date(2022, 5, 31),
    dt.date(2022, 10, 31),
    dt.date(2022, 11, 1),
    dt.date(2022, 12, 31),
    dt.date(2023, 1, 31),
    dt.date(2023, 6, 15),
    dt.date(2024, 2, 29),
)
DAY_OFFSETS = (0, 1, -1, 6, -6, 7, -7, 13, 14, 27, -27, 28, -28, 29, -29, 30, 31, -31, 60, -60)
MONTH_OFFSETS = (1, -1, 2, -2, 3, -3, 6, 12)
LIST_LENGTHS = (0, 0, 1, 1, 2, 3, 5, 12)
TEXTS = ("A", "B", "wing 1", "")  # texts of no set shape (those a length allows)
# the calendar's first and last days and days within a few months of them: a date moved from
# one of these may pass the years 1 to 9999
CALENDAR_EDGES = (
    dt.date(9999, 12, 31),
    dt.date(9999, 12, 28),
    dt.date(9999, 12, 20),
    dt.date(9999, 10, 15),
    dt.date(9999, 9, 30),
    dt.date(9999, 6, 30),
    dt.date(1, 1, 1),
    dt.date(1, 1, 10),
    dt.date(1, 3, 31),
)


class Population:
    """Facts documents for one schema, drawn from a seeded random source."""

    def __init__(
        self,
        seed: int = 0,
        schema: str = "facts",
        absent: float = 0.06,
        edges: float = 0.0,
        nulls: float = 0.12,
    ):
        self.rng = random.Random(seed)
        self.schema = facts_schema(schema)
        self.absent = absent
        self.nulls = nulls  # the share of values left null where the schema allows it
        # the share of dates drawn near the calendar's ends (none by default: the stream of
        # a seed without them is unchanged)
        self.edges = edges
        self._made: dict[int, Callable[[dt.date], Any]] = {}
        self._kept: list[Mapping[str, Any]] = []  # schema nodes made here, kept alive

    def as_of(self) -> dt.date:
        if self.rng.random() < 0.25:
            return AS_OF_DAYS[0]
        return self.rng.choice(AS_OF_DAYS)

    def date_near(self, as_of: dt.date, edges: tuple[dt.date, ...] = CALENDAR_EDGES) -> dt.date:
        """A date near `as_of`, or (for a share `self.edges` of them) one of `edges`."""
        if self.edges and self.rng.random() < self.edges:
            return self.rng.choice(edges)
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
        """A value for one schema node (compiled once per node, then reused)."""
        return self._maker(node)(as_of)

    def _maker(self, node: Mapping[str, Any]) -> Callable[[dt.date], Any]:
        key = id(node)
        made = self._made.get(key)
        if made is None:
            made = self._make(node)
            self._made[key] = made
        return made

    def _make(self, node: Mapping[str, Any]) -> Callable[[dt.date], Any]:
        rng = self.rng
        rand = rng.random
        kinds = node.get("type", "string")
        kinds = list(kinds) if isinstance(kinds, list) else [kinds]
        kind = next((k for k in kinds if k != "null"), "string")
        inner: Callable[[dt.date], Any]
        if "enum" in node:
            values = [v for v in node["enum"] if v is not None]

            def inner(as_of: dt.date) -> Any:
                return values[int(rand() * len(values))]

        elif kind == "object":
            props = [(k, self._maker(sub)) for k, sub in node.get("properties", {}).items()]
            absent = self.absent
            required = frozenset(node.get("required", ()))
            branches = self._branches(node)

            def inner(as_of: dt.date) -> Any:
                # (a required field is drawn too: `rand()` first keeps every seed's stream)
                out = {k: make(as_of) for k, make in props if rand() >= absent or k in required}
                for test, then, other in branches:
                    for k, make, needed in then if test(out) else other:
                        if k in out or needed:
                            out[k] = make(as_of)
                return out

        elif kind == "array":
            item = self._maker(node.get("items", {}))

            def inner(as_of: dt.date) -> Any:
                n = LIST_LENGTHS[int(rand() * len(LIST_LENGTHS))]
                return [item(as_of) for _ in range(n)]

        elif kind == "boolean":

            def inner(as_of: dt.date) -> Any:
                return rand() < 0.5

        elif kind == "integer":
            lo, hi = node.get("minimum"), node.get("maximum")
            if isinstance(lo, int) and isinstance(hi, int):
                choices = list(range(lo, hi + 1))
            else:
                base = lo if isinstance(lo, int) else 0
                choices = [base + d for d in (0, 1, 2, 15, 29, 30, 44, 45, 46, 60, 90)]

            def inner(as_of: dt.date) -> Any:
                return choices[int(rand() * len(choices))]

        elif kind == "number":

            def inner(as_of: dt.date) -> Any:
                return rng.choice((0, 1, 2.5, 10))

        elif node.get("format") == "date":
            # a value the facts refuse in this field (engine.packs.reserved) is not drawn
            edges = tuple(e for e in CALENDAR_EDGES if e.isoformat() != reserved_value(node))

            def inner(as_of: dt.date) -> Any:
                return self.date_near(as_of, edges).isoformat()

        elif "pattern" in node:
            pattern = str(node["pattern"])

            def inner(as_of: dt.date) -> Any:
                return from_pattern(pattern, rng)

        else:
            least, most = node.get("minLength", 0), node.get("maxLength")
            texts = tuple(
                t for t in TEXTS if len(t) >= least and (most is None or len(t) <= most)
            ) or ("A" * least,)

            def inner(as_of: dt.date) -> Any:
                return rng.choice(texts)

        if kinds == ["null"]:
            return lambda as_of: None
        if "null" not in kinds:
            return inner

        nulls = self.nulls

        def nullable(as_of: dt.date) -> Any:
            return None if rand() < nulls else inner(as_of)

        return nullable

    def _branches(self, node: Mapping[str, Any]) -> list[tuple[Any, list[Any], list[Any]]]:
        """An object's `allOf` conditions (`if`/`then`/`else`), each as a test of a drawn
        object and, for either outcome, the fields to draw again: (name, maker, required)."""
        from jsonschema import Draft202012Validator

        props = node.get("properties", {})
        found = []
        for sub in node.get("allOf", ()):
            if "if" not in sub:
                continue

            def fields(branch: Mapping[str, Any]) -> list[tuple[str, Any, bool]]:
                needed = set(branch.get("required", ()))
                names = dict.fromkeys([*branch.get("properties", {}), *needed])
                out = []
                for name in names:
                    merged = {**props.get(name, {}), **branch.get("properties", {}).get(name, {})}
                    self._kept.append(merged)  # (a maker is kept by its node's identity)
                    out.append((name, self._maker(merged), name in needed))
                return out

            test = Draft202012Validator(sub["if"]).is_valid
            found.append((test, fields(sub.get("then", {})), fields(sub.get("else", {}))))
        return found

    def document(self, roots: tuple[str, ...] | None = None) -> tuple[dt.date, dict[str, Any]]:
        """One facts document (without `as_of`) and the day it is evaluated on."""
        as_of = self.as_of()
        doc: dict[str, Any] = {}
        for key, sub in self.schema.get("properties", {}).items():
            if key == "as_of" or (roots is not None and key not in roots):
                continue
            if self.rng.random() < self.absent / 2:
                continue
            if self.rng.random() < 0.02 * (self.nulls > 0):
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


def from_pattern(pattern: str, rng: random.Random) -> str:
    """A text matching a regular expression: literals, classes, groups, alternatives and
    repeats (at most three more than the least); anchors are where the text starts and ends."""
    return "".join(_drawn(re._parser.parse(pattern), rng))


_PRINTABLE = [chr(c) for c in range(0x20, 0x7F)]
_CATEGORIES = {
    "CATEGORY_DIGIT": [chr(c) for c in range(ord("0"), ord("9") + 1)],
    "CATEGORY_WORD": [c for c in _PRINTABLE if c.isalnum()] + ["_"],
    "CATEGORY_SPACE": [" "],
}


def _drawn(tokens: Any, rng: random.Random) -> list[str]:
    """The characters of one draw of a parsed pattern (see `from_pattern`)."""
    out: list[str] = []
    for op, arg in tokens:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(arg))
        elif name == "NOT_LITERAL":
            out.append(rng.choice([c for c in _PRINTABLE if c != chr(arg)]))
        elif name == "ANY":
            out.append(rng.choice(_PRINTABLE))
        elif name == "IN":
            out.append(rng.choice(_members(arg)))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            least, most, sub = arg
            most = min(most, least + 3)
            for _ in range(least if least == most else rng.randint(least, most)):
                out += _drawn(sub, rng)
        elif name == "SUBPATTERN":
            out += _drawn(arg[-1], rng)
        elif name == "BRANCH":
            out += _drawn(rng.choice(arg[1]), rng)
        elif name == "AT":
            continue
        else:
            raise ValueError(f"a pattern the generator cannot draw from: {name}")
    return out


def _members(items: Any) -> list[str]:
    """The characters of a class (`[A-Z]`, `[^0-9]`, `\\d`), in order."""
    chars: list[str] = []
    negate = False
    for op, arg in items:
        name = str(op)
        if name == "NEGATE":
            negate = True
        elif name == "LITERAL":
            chars.append(chr(arg))
        elif name == "RANGE":
            chars += [chr(c) for c in range(arg[0], arg[1] + 1)]
        elif name == "CATEGORY":
            chars += _CATEGORIES.get(str(arg), [])
    return [c for c in _PRINTABLE if c not in chars] if negate else chars


def write_population(
    path: Path,
    n: int,
    seed: int = 0,
    roots: tuple[str, ...] | None = None,
    recorded: bool = False,
) -> int:
    """Write `n` generated facts documents to a .parquet (typed columns) or .jsonl file; with
    `recorded`, every fact is recorded (none absent, none null), as in well-kept records."""
    source = Population(seed, absent=0.0, nulls=0.0) if recorded else Population(seed)
    docs = source.documents(n, roots)
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        from engine.sql.run import converted, facts_table

        pq.write_table(facts_table((i, a, converted(d)) for i, a, d in docs), path)
    else:
        with path.open("w", encoding="utf-8") as f:
            for _, as_of, doc in docs:
                f.write(json.dumps({**doc, "as_of": as_of.isoformat()}) + "\n")
    return n
