"""Shared by the population commands: reading the population, naming each document, the
options they all take, and choosing the engine that decides."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from engine.api import plan_facts
from engine.packs import model as M
from engine.packs.facts_schema import healthcare_roots
from engine.problems import PopulationError
from engine.tools.population_source import Documents, read_population, subject_of

from .common import (
    EXIT_PROBLEMS,
    audience_option,
    fail,
    id_field_option,
    packs_option,
    parse_days,
    show_problems,
)

__all__ = [
    "ENGINES",
    "decide_with",
    "load_population",
    "parse_range",
    "population_options",
    "subject_of",
]

F = TypeVar("F", bound=Callable[..., Any])
R = TypeVar("R")
ENGINES = ("auto", "duckdb", "python")


def population_options(population_flag: str) -> Callable[[F], F]:
    """The options every population command takes: the population file (`--facts` or
    `--population`), --audience, --id-field, --engine and --packs."""

    def apply(fn: F) -> F:
        fn = packs_option(fn)
        fn = click.option(
            "--engine",
            type=click.Choice(ENGINES),
            default="auto",
            show_default=True,
            help="Who decides: duckdb (the SQL path: every day of the range, for whole "
            "establishments), python (the interpreter: each document's change points); "
            "auto: duckdb where the pack compiles to SQL, else python.",
        )(fn)
        fn = id_field_option(fn)
        fn = audience_option(fn)
        return click.option(
            population_flag,
            "population_path",
            required=True,
            type=click.Path(dir_okay=False, path_type=Path),
            help="Population: .jsonl, .csv or .parquet, one facts document per record.",
        )(fn)

    return apply


def decide_with(
    engine: str, sql: Callable[[], R], python: Callable[[], R]
) -> tuple[R, str, str | None]:
    """Run `sql` (DuckDB) or `python` (the interpreter) as --engine says: the result, the
    engine that made it and, when auto fell back to the interpreter, why."""
    from engine.sql.batch import BatchError
    from engine.sql.types import Unsupported

    if engine == "python":
        return python(), "python", None
    try:
        return sql(), "duckdb", None
    except Unsupported as e:
        if engine == "auto":
            return python(), "python", f"the pack has no SQL form: {e}"
        fail(
            f"the pack has no SQL form: {e} [W-SQL-UNSUPPORTED]",
            "use --engine python",
            code=EXIT_PROBLEMS,
        )
    except BatchError as e:
        fail(str(e))
    except Exception as e:  # the engine failing on the data: a message, not a traceback
        import duckdb

        if not isinstance(e, duckdb.Error):
            raise
        fail(f"the duckdb engine failed: {str(e).splitlines()[0]}", code=EXIT_PROBLEMS)


def load_population(
    path: Path, facts: str = "facts", audience: str = "custodial"
) -> list[dict[str, Any]]:
    """The documents of a population file of the facts schema `facts`, or a usage error. For a
    custodial audience (where the schema has healthcare-only parts) a problem is given at its
    line, not its column or with the text around it: both move with, and the text can quote,
    the healthcare-only text before it on the line."""
    try:
        return read_population(path, facts)
    except PopulationError as e:
        unplaced = audience != "healthcare" and bool(healthcare_roots(facts))
        show_problems(
            [
                dataclasses.replace(p, col=1, end_line=None, end_col=None, whole_file=True)
                for p in e.problems
            ]
            if unplaced
            else e.problems
        )
        fail(f"cannot read the population `{path}`; nothing was evaluated")


def parse_range(text: str) -> tuple[dt.date, dt.date]:
    """`DATE` (one day) or `START..END`, in order."""
    start, end = parse_days(text)
    if end < start:
        fail(f"`{text}` ends before it starts", "write START..END, e.g. 2020-06-01..2020-12-31")
    return start, end


def planned_population(
    population: list[dict[str, Any]], plan: M.LocalPlan, shown: int = 5
) -> tuple[list[dict[str, Any]], int, list[str]]:
    """The documents with what a local plan supplies filled in, how many contradict the plan
    (left out), and the first of their reasons, as a population run words them; the kept
    documents keep the lines they stand on in their file."""
    kept: list[dict[str, Any]] = []
    places: list[int] = []
    reasons: set[str] = set()
    rejected = 0
    for i, facts in enumerate(population):
        filled, problems = plan_facts(facts, plan)
        if problems:
            rejected += 1
            reasons.add("; ".join(f"{path}: {words}" for path, words in problems))
        else:
            kept.append(filled)
            places.append(i)
    if isinstance(population, Documents):
        kept = Documents(kept, population.file, (population.lines[i] for i in places))
    return kept, rejected, sorted(reasons)[:shown]
