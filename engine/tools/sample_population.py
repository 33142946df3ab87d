"""A seeded population of made-up facts documents, generated from the facts schema alone.

Every field the schema defines gets a value of its type (an enumeration's values, booleans,
dates spread around a centre date, lists of records), with nulls where the schema allows
them, so that populations exercise every branch a pack can take without knowing any policy.
Used to test change points and impact reports; a population file from real records (or from
a dedicated generator) can take its place wherever a list of facts documents is expected.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from pathlib import Path
from typing import Any

from engine.packs.facts_schema import facts_schema, validate_facts
from engine.tools.population import from_pattern

_PATH = re.compile(r"`\$((?:\.[A-Za-z_]+|\[\d+\])+)`")
_STEP = re.compile(r"\.([A-Za-z_]+)|\[(\d+)\]")


class _Generator:
    def __init__(self, rng: random.Random, centre: dt.date, spread_days: int, null_rate: float):
        self.rng = rng
        self.centre = centre
        self.spread = spread_days
        self.null_rate = null_rate

    def date(self) -> str:
        return (
            self.centre + dt.timedelta(days=self.rng.randint(-self.spread, self.spread))
        ).isoformat()

    def value(self, schema: dict[str, Any], name: str, root: bool = False) -> Any:
        """A value for `schema`; never null for a root or for a patterned field (which names
        its subject)."""
        types = schema.get("type", "object")
        types = [types] if isinstance(types, str) else list(types)
        nullable = "null" in types and "pattern" not in schema and not root
        if nullable and self.rng.random() < self.null_rate:
            return None
        kinds = [t for t in types if t != "null"]
        kind = kinds[0] if kinds else "null"
        if "enum" in schema:
            return self.rng.choice([v for v in schema["enum"] if v is not None])
        if kind == "object":
            props = schema.get("properties", {})
            return {k: self.value(v, k) for k, v in props.items()}
        if kind == "array":
            items = schema.get("items", {})
            return [self.value(items, name) for _ in range(self.rng.randint(0, 3))]
        if kind == "boolean":
            return self.rng.random() < 0.3
        if kind == "integer":
            lo, hi = schema.get("minimum", 0), schema.get("maximum", 60)
            return self.rng.randint(int(lo), int(min(hi, lo + 120)))
        if kind == "number":
            return round(self.rng.uniform(0, 100), 2)
        if kind == "string":
            if schema.get("format") == "date":
                return self.date()
            if "pattern" in schema and "[" in schema["pattern"]:
                if "-" in schema["pattern"] and "{4}-" in schema["pattern"]:
                    return self.date()[:7]
                return from_pattern(schema["pattern"], self.rng)
            return f"{name}-{self.rng.randint(1, 999)}"
        return None


def generate(
    count: int,
    seed: int = 0,
    centre: dt.date = dt.date(2020, 9, 1),
    spread_days: int = 400,
    roots: tuple[str, ...] = (),
    null_rate: float = 0.1,
    birth_years: tuple[int, int] = (1950, 2008),
) -> list[dict[str, Any]]:
    """`count` facts documents, the same for the same arguments. `roots` limits the
    top-level fact roots generated (default: every root but the evaluation date)."""
    rng = random.Random(seed)
    schema = facts_schema()
    props = {k: v for k, v in schema.get("properties", {}).items() if k != "as_of"}
    wanted = roots or tuple(props)
    gen = _Generator(rng, centre, spread_days, null_rate)
    docs = []
    for _ in range(count):
        doc = {root: gen.value(props[root], root, root=True) for root in wanted}
        for record in doc.values():
            _birth_dates(record, rng, birth_years)
        if _repair(doc):
            docs.append(doc)
    return docs


def _repair(doc: dict[str, Any], passes: int = 5) -> bool:
    """Null the fields that conditional parts of the schema rule out (a field allowed only
    when another has some value); False when the document still does not validate."""
    for _ in range(passes):
        problems = validate_facts(doc)
        if not problems:
            return True
        for problem in problems:
            found = _PATH.search(problem.message)
            if found is None:
                return False
            steps = [(k or int(i)) for k, i in _STEP.findall(found.group(1))]
            target: Any = doc
            for step in steps[:-1]:
                target = target[step]
            target[steps[-1]] = None
    return not validate_facts(doc)


def _birth_dates(record: Any, rng: random.Random, years: tuple[int, int]) -> None:
    """Dates of birth spread over adult and child ages rather than around the centre date."""
    if not isinstance(record, dict):
        return
    for key, value in record.items():
        if key.endswith("birth") and isinstance(value, str):
            day = dt.date(rng.randint(*years), 1, 1) + dt.timedelta(days=rng.randint(0, 365))
            record[key] = day.isoformat()


def _at(doc: Any, steps: list[str]) -> Any:
    for step in steps:
        doc = doc.get(step) if isinstance(doc, dict) else None
    return doc


def add_field(
    path: Path,
    field: str,
    when: tuple[str, str] | None,
    seed: int,
    centre: dt.date,
    spread_days: int,
    schema: str = "facts",
) -> int:
    """Give each document of the JSON Lines population at `path` that lacks the dotted
    `field` (its parent present) and meets `when` (a dotted path and the text of its value) a
    value drawn as `generate` draws that field, seeded; every other line is kept as written.
    For a file kept while its facts schema gains a field: the rest of the file stays what it
    was, where generating it again would draw every value anew. Returns how many were given."""
    *parents, name = field.split(".")
    node: Any = facts_schema(schema)
    for step in [*parents, name]:
        node = (node.get("properties") or {}).get(step) if isinstance(node, dict) else None
    if not isinstance(node, dict):
        raise ValueError(f"the facts schema has no field `{field}`")
    gen = _Generator(random.Random(seed), centre, spread_days, 0.0)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    added = 0
    for n, line in enumerate(lines):
        if not line.strip():
            continue
        doc = json.loads(line)
        parent = _at(doc, parents)
        if not isinstance(parent, dict) or name in parent:
            continue
        if when is not None and str(_at(doc, when[0].split("."))) != when[1]:
            continue
        parent[name] = gen.value(node, name)
        lines[n] = json.dumps(doc, default=str, sort_keys=True) + "\n"  # as write_jsonl writes
        added += 1
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(lines), encoding="utf-8")
    tmp.replace(path)
    return added


def main(argv: list[str] | None = None) -> int:
    """`python -m engine.tools.sample_population`: write a population as JSON Lines."""
    import argparse

    from engine.tools.population_source import write_jsonl

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--centre", type=dt.date.fromisoformat, default=dt.date(2020, 9, 1))
    parser.add_argument("--spread-days", type=int, default=400)
    parser.add_argument("--roots", default="", help="comma-separated fact roots")
    parser.add_argument("--null-rate", type=float, default=0.1)
    parser.add_argument(
        "--out", type=Path, required=True, help="the file written (with --add-field: changed)"
    )
    parser.add_argument(
        "--add-field",
        metavar="PATH",
        help="add the dotted field PATH to the population in --out, where it is absent",
    )
    parser.add_argument(
        "--when", metavar="PATH=VALUE", help="with --add-field: only where PATH holds VALUE"
    )
    args = parser.parse_args(argv)
    if args.add_field:
        when = tuple(args.when.split("=", 1)) if args.when else None
        if when is not None and len(when) != 2:
            parser.error("--when takes PATH=VALUE")
        added = add_field(
            args.out,
            args.add_field,
            when,
            args.seed,
            args.centre,
            args.spread_days,
        )
        print(f"added {args.add_field} to {added} documents of {args.out}")
        return 0
    roots = tuple(r for r in args.roots.split(",") if r)
    docs = generate(args.count, args.seed, args.centre, args.spread_days, roots, args.null_rate)
    write_jsonl(docs, args.out)
    print(f"wrote {len(docs)} documents to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
