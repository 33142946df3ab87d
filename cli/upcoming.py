"""`regime upcoming`: who in a population sees a decision change in the next N days."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from engine.tools.upcoming import Upcoming, upcoming_python, upcoming_sql

from .common import (
    check_id_field,
    check_plan_dates,
    dump_json,
    fail,
    format_option,
    load_packs,
    pack_target,
    parse_date,
    plan_option,
    resolve_packs_dir,
    user_errors,
    with_plan,
)
from .population import (
    decide_with,
    load_population,
    planned_population,
    population_options,
    subject_of,
)
from .timeline import show


def render_text(report: Upcoming) -> str:
    lines = [
        f"{report.pack}: {report.people} of {report.documents} document(s) change between "
        f"{report.start} and {report.end} ({report.audience}; engine {report.engine})"
    ]
    if report.engine_note:
        lines.append(f"  (python: {report.engine_note})")
    if report.rejected:
        lines.append(f"rejected (not decided): {report.rejected}")
        lines += [f"  {r}" for r in report.reasons]
    for f in report.changes:
        for i, c in enumerate(f["changes"]):
            lead = f"{f['on']}  {f['subject']:<8}" if i == 0 else " " * 20
            lines.append(f"{lead}  {c['field']}: {show(c['before'])} -> {show(c['after'])}")
    return "\n".join(lines) + "\n"


@click.command("upcoming")
@click.argument("pack")
@population_options("--facts")
@click.option("--days", type=click.IntRange(1, 3660), default=14, show_default=True)
@click.option("--as-of", "as_of", default=None, help="First day YYYY-MM-DD (default: today).")
@format_option("text", "json")
@plan_option
@user_errors
def command(
    pack: str,
    population_path: Path,
    audience: str,
    id_field: str,
    engine: str,
    packs_dir: Path | None,
    days: int,
    as_of: str | None,
    fmt: str,
    establishment_plan: str | None,
) -> None:
    """The documents of a population whose outputs change in the next --days days (after
    --as-of, up to and including the last day), with the date and the change.

    With the duckdb engine (the default where the pack compiles to SQL) every document is
    decided on every day of the window in DuckDB, for whole establishments; with python the
    interpreter finds each document's change points. The two give the same list.

    \b
    Exit codes: 0 done, 1 the packs have errors (or no SQL form with --engine duckdb),
    2 bad usage or an unreadable population.
    Examples:
      regime upcoming keywork_edm --facts examples/population/keywork_2020.jsonl \\
          --as-of 2020-07-01 --days 14
      regime upcoming keywork_edm --facts examples/population/keywork_2020.jsonl \\
          --as-of 2020-07-01 --days 30 --engine python --format json
      regime upcoming keywork_edm --facts leeds.jsonl --as-of 2020-08-03 --establishment-plan LEI
    """
    start = parse_date(as_of) or dt.date.today()
    if (dt.date.max - start).days < days:
        fail(
            f"--as-of {start} and --days {days} run past the calendar's last day, {dt.date.max}",
            hint=f"at most --days {(dt.date.max - start).days} from {start}",
        )
    end = start + dt.timedelta(days=days)
    pack, packs_dir = pack_target(pack, packs_dir)
    packs = with_plan(
        load_packs(resolve_packs_dir(packs_dir), pack), pack, establishment_plan, packs_dir
    )
    check_plan_dates(packs, pack, start, end)
    model = packs[pack]
    # a bad line stops everything, either engine
    population = load_population(population_path, model.facts, audience)
    planned: tuple[int, list[str]] | None = None
    if model.local_plan is not None:  # what the plan supplies filled in, for either engine
        population, rejected, reasons = planned_population(population, model.local_plan)
        planned = (rejected, reasons)
    check_id_field(id_field, model.facts, audience)
    report, _, fallback = decide_with(
        engine,
        lambda: upcoming_sql(model, population, start, end, audience, id_field),
        lambda: upcoming_python(
            model, population, start, end, audience, lambda f: subject_of(f, id_field)
        ),
    )
    report.engine_note = fallback
    if planned is not None:  # the documents that contradict the plan, decided by neither engine
        report.rejected += planned[0]
        report.reasons = planned[1] + [r for r in report.reasons if r not in planned[1]]
    if fmt == "json":
        click.echo(dump_json(report.to_dict()))
    else:
        click.echo(render_text(report), nl=False)
