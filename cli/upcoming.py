"""`regime upcoming`: who in a population sees a decision change in the next N days."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from engine.tools.timeline import timeline

from .common import dump_json, load_packs, packs_option, parse_date, resolve_packs_dir, user_errors
from .population import load_population, subject_of
from .timeline import show


@click.command("upcoming")
@click.argument("pack")
@click.option(
    "--facts",
    "population_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Population: .jsonl, .csv or .parquet, one facts document per record.",
)
@click.option("--days", type=click.IntRange(1, 3660), default=14, show_default=True)
@click.option("--as-of", "as_of", default=None, help="First day YYYY-MM-DD (default: today).")
@click.option(
    "--audience",
    type=click.Choice(["custodial", "healthcare"]),
    default="custodial",
    show_default=True,
)
@click.option("--id-field", default="prisoner.prison_number", show_default=True)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@packs_option
@user_errors
def command(
    pack: str,
    population_path: Path,
    days: int,
    as_of: str | None,
    audience: str,
    id_field: str,
    fmt: str,
    packs_dir: Path | None,
) -> None:
    """The documents of a population whose outputs change in the next --days days (after
    --as-of, up to and including the last day), with the date and the change.

    \b
    Exit codes: 0 done, 1 the packs have errors, 2 bad usage or an unreadable population.
    Examples:
      regime upcoming keywork_edm --facts examples/population/keywork_2020.jsonl \\
          --as-of 2020-07-01 --days 14
    """
    start = parse_date(as_of) or dt.date.today()
    end = start + dt.timedelta(days=days)
    population = load_population(population_path)
    packs = load_packs(resolve_packs_dir(packs_dir), pack)
    found: list[dict[str, Any]] = []
    for facts in population:
        tl = timeline(packs[pack], facts, start, end, audience)
        for p in tl.points:
            changes = [c for c in p.changes if c.field.startswith("outputs.")]
            if changes:
                found.append(
                    {
                        "subject": subject_of(facts, id_field),
                        "on": p.on.isoformat(),
                        "changes": [c.to_dict() | {"field": c.field[8:]} for c in changes],
                    }
                )
    found.sort(key=lambda f: (f["on"], f["subject"]))
    if fmt == "json":
        click.echo(dump_json({"from": start.isoformat(), "to": end.isoformat(), "changes": found}))
        return
    people = len({f["subject"] for f in found})
    click.echo(
        f"{pack}: {people} of {len(population)} document(s) change between {start} and {end} "
        f"({audience})"
    )
    for f in found:
        for i, c in enumerate(f["changes"]):
            lead = f"{f['on']}  {f['subject']:<8}" if i == 0 else " " * 20
            click.echo(f"{lead}  {c['field']}: {show(c['before'])} -> {show(c['after'])}")
