"""Populations: reading a file of facts documents, and evaluating a pack over all of them.

A population file holds one facts document per record: JSON Lines (one document a line),
CSV (one column per dotted fact path, each cell read by its fact's type: see `_cell`) or
Parquet (the same columns; read with DuckDB when it is installed). `decisions` is the one
place a population is evaluated, so that another engine (SQL) can stand in for the
per-document path behind the same signature.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from engine.evaluation.decision import Decision, build_decision
from engine.evaluation.evaluate import Evaluation
from engine.language import static_types as T
from engine.language.runtime import EXACT
from engine.packs import model as M
from engine.packs.facts_schema import (
    JSON_NUMBER,
    cell_kind,
    no_duplicates,
    parse_json,
    prepare,
    read_decimal,
    root_types,
)
from engine.problems import FactsError, PopulationError, Problem


class _Clash(ValueError):
    """Two columns of a CSV row that give one place two values (`person` and `person.age`)."""


def _set_path(doc: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    target = doc
    for n, part in enumerate(parts[:-1]):
        target = target.setdefault(part, {})
        if not isinstance(target, dict):
            above = ".".join(parts[: n + 1])
            raise _Clash(f"column `{path}` goes inside `{above}`, which a column gives a value")
    if isinstance(target.get(parts[-1]), dict):
        raise _Clash(f"column `{path}` gives a value to what other columns go inside")
    target[parts[-1]] = value


def _cell(text: str, kind: str = "any") -> Any:
    """A CSV cell, read by the kind of the fact its column names (`cell_kind`): empty is absent
    and `null` a recorded none; a number for a number, true or false for a yes/no, JSON for a
    list or a record (or a fact of several kinds); anything else, and every cell of a text or
    date fact, the text as written, which the facts check refuses where the fact is not text."""
    if text == "":
        return None
    if text == "null":
        return None
    if kind in ("int", "decimal") and re.fullmatch(JSON_NUMBER, text):
        return json.loads(text, parse_float=read_decimal)
    if kind in ("bool", "any") and text in ("true", "false"):
        return text == "true"
    if kind in ("list", "record", "any") and text[0] in "[{":
        try:
            return json.loads(text, parse_float=read_decimal)
        except json.JSONDecodeError:
            return text
    return text


def _from_columns(row: Mapping[str, Any], kinds: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A facts document from one row of columns named by dotted paths; text cells read by the
    kinds of their columns (`cell_kind`)."""
    doc: dict[str, Any] = {}
    for key, value in row.items():
        if value is None or value == "":
            continue
        if isinstance(value, str):
            value = _cell(value, kinds.get(key, "any") if kinds is not None else "any")
        _set_path(doc, key, value)
    return doc


class Documents(list[dict[str, Any]]):
    """A population's documents in file order, each with the line it ends on (`lines`; the
    row number for Parquet), so that a problem with one names the file and line."""

    def __init__(self, docs: Iterable[dict[str, Any]], file: str, lines: Iterable[int]):
        super().__init__(docs)
        self.file = file
        self.lines = list(lines)


@contextmanager
def placing(population: list[dict[str, Any]], n: int) -> Iterator[None]:
    """A FactsError raised inside about document `n` (1-based) of `population` names the file
    and line the document stands on, where the population knows them (`Documents`)."""
    try:
        yield
    except FactsError as e:
        if not isinstance(population, Documents):
            raise
        file, line = population.file, population.lines[n - 1]
        placed = [replace(p, file=file, line=line) for p in e.problems]
        raise FactsError(placed, e.placeable) from None


def prepared(
    population: list[dict[str, Any]], n: int, schema: str, custodial: bool
) -> dict[str, Any]:
    """Document `n` (1-based) of a population checked and prepared for evaluation."""
    with placing(population, n):
        return prepare(population[n - 1], f"<population #{n}>", schema, custodial)


def read_population(path: Path, facts: str = "facts") -> list[dict[str, Any]]:
    """Every facts document in a population file, whose documents follow the facts schema
    `facts`; raises PopulationError naming the line."""
    name = str(path)
    if not path.exists():
        raise PopulationError([_problem(name, 1, f"no population file `{path}`")])
    if not path.is_file():  # a pipe or device might never end
        raise PopulationError([_problem(name, 1, f"`{path}` is not a regular file")])
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return _read_jsonl(path)
    if suffix == ".csv":
        return _read_csv(path, root_types(facts))
    if suffix == ".parquet":
        try:
            import duckdb  # type: ignore[import-not-found, unused-ignore]
        except ImportError:
            raise PopulationError(
                [_problem(name, 1, "reading Parquet needs DuckDB (pip install duckdb)")]
            ) from None
        try:
            rel = duckdb.read_parquet(str(path))
            columns, rows = rel.columns, rel.fetchall()
        except duckdb.Error as e:
            message = str(e).splitlines()[0]
            raise PopulationError([_problem(name, 1, f"not Parquet: {message}")]) from None
        from engine.sql.batch import from_table

        types = root_types(facts)
        docs = [  # a facts table's `record` column is its row id, not a fact
            _from_columns(
                {
                    c: from_table(v, types.get(c))
                    for c, v in zip(columns, row, strict=True)
                    if c != "record"
                }
            )
            for row in rows
        ]
        return Documents(docs, f"{name} row", range(1, len(docs) + 1))
    raise PopulationError(
        [_problem(name, 1, f"`{path.name}`: a population is a .jsonl, .csv or .parquet file")]
    )


def _read_csv(path: Path, types: Mapping[str, T.Type]) -> Documents:
    """A CSV population (a header of dotted fact paths, a document a row, each cell read by
    the type of its fact in `types`); a row with more values than the header, clashing
    columns, text that is not UTF-8 or not CSV (a field of more than 131,072 characters
    included) are problems at their line."""
    docs, lines, problems, name = [], [], [], str(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            kinds = {c: cell_kind(types, c) for c in reader.fieldnames or ()}
            for row in reader:
                if None in row:
                    columns = len(reader.fieldnames or ())
                    message = f"more values than the header's {columns} column(s)"
                    problems.append(_problem(name, reader.line_num, message))
                    continue
                try:
                    docs.append(_from_columns(row, kinds))
                    lines.append(reader.line_num)
                except _Clash as e:
                    problems.append(_problem(name, reader.line_num, str(e)))
    except UnicodeDecodeError as e:
        line = path.read_bytes()[: e.start].count(b"\n") + 1
        problems.append(_problem(name, line, f"not UTF-8 text (byte 0x{e.object[e.start]:02x})"))
    except csv.Error as e:
        problems.append(_problem(name, reader.line_num or 1, f"not CSV: {e}"))
    if problems:
        raise PopulationError(problems)
    return Documents(docs, name, lines)


def _read_jsonl(path: Path) -> Documents:
    docs, lines = [], []
    problems = []
    for n, raw in enumerate(path.read_bytes().splitlines(), 1):
        try:
            line = raw.decode("utf-8-sig" if n == 1 else "utf-8")  # (a file's byte order mark)
        except UnicodeDecodeError as e:
            message = f"not UTF-8 text (byte 0x{raw[e.start]:02x})"
            problems.append(_problem(str(path), n, message, e.start + 1))
            continue
        if not line.strip(" \t\r"):  # JSON's whitespace alone holds no document (a blank line)
            continue
        try:
            doc = json.loads(line, parse_float=read_decimal, object_pairs_hook=no_duplicates)
        except json.JSONDecodeError as e:
            problems.append(_problem(str(path), n, f"not JSON: {e.msg}", e.colno))
            continue
        except (ValueError, RecursionError):  # too deep, an integer Python will not read, a key
            # given twice in one object
            try:
                doc = parse_json(line, str(path))  # the facts reader's words, and its numbers
            except FactsError as e:
                problems += [replace(p, line=n) for p in e.problems]
                continue
        if not isinstance(doc, dict):
            problems.append(_problem(str(path), n, "each line must be one facts document"))
            continue
        docs.append(doc)
        lines.append(n)
    if problems:
        raise PopulationError(problems)
    return Documents(docs, str(path), lines)


def _problem(file: str, line: int, message: str, col: int = 1) -> Problem:
    return Problem(
        file,
        line,
        1 if col < 1 else col,
        "error",
        "E-POPULATION",
        message,
        "one facts document per line (JSON Lines) or per row (CSV with dotted column names)",
    )


def subject_of(facts: Mapping[str, Any], id_field: str) -> str:
    """The value at a dotted path of the facts (the document's subject), or `?`."""
    value: Any = facts
    for part in id_field.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return str(value) if value is not None else "?"


def write_jsonl(docs: list[dict[str, Any]], path: Path) -> None:
    """A population as JSON Lines (the format `read_population` reads back)."""
    with path.open("w", encoding="utf-8") as f:
        for doc in docs:
            f.write(json.dumps(doc, default=str, sort_keys=True) + "\n")


class DecisionSource(Protocol):
    """Evaluates a pack over a population on one day, a decision per document, in order."""

    def __call__(
        self,
        pack: M.Pack,
        population: list[dict[str, Any]],
        day: dt.date,
        audience: str,
        version: str | None,
    ) -> Iterator[Decision]: ...


def python_decisions(
    pack: M.Pack,
    population: list[dict[str, Any]],
    day: dt.date,
    audience: str = "custodial",
    version: str | None = None,
) -> Iterator[Decision]:
    """The per-document path: each document evaluated on its own."""
    schema = pack.facts
    custodial = audience != "healthcare"
    for n in range(1, len(population) + 1):
        ev = Evaluation(pack, prepared(population, n, schema, custodial), day, custodial, version)
        with decimal.localcontext(EXACT):  # as engine.api.evaluate: decimals exact
            ev.run()
            decision = build_decision(ev, audience, schema)
        yield decision
