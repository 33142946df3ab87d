"""`regime sql`: print the SQL query a pack compiles to, for an analyst's own warehouse."""

from __future__ import annotations

import json
from pathlib import Path

import click

from engine.packs import model as M

from .common import (
    EXIT_PROBLEMS,
    fail,
    load_packs,
    outputs_wanted,
    pack_target,
    packs_option,
    resolve_packs_dir,
    user_errors,
    with_plan,
)


def plan_preamble(plan: M.LocalPlan) -> list[str]:
    """What a query under a local plan takes the facts table to hold: the facts the plan
    supplies, filled where a record leaves them unset (as `regime batch` fills them)."""
    supplied = [("establishment.code", plan.establishment_code), *plan.facts()]
    lines = [
        f"Under the local plan {plan.establishment_code} ({plan.file}, version {plan.version},",
        f"{plan.content_hash}), in force {plan.effective_from}..{plan.effective_to or 'open'}.",
        "The facts table must hold what the plan supplies where a record leaves it unset,",
        "and records whose facts differ from it must be left out (regime batch rejects them):",
    ]
    lines += [f"  {path} = {json.dumps(value, default=str)}" for path, value in supplied]
    return lines


DIALECTS = ("duckdb", "spark", "databricks", "postgres", "bigquery", "snowflake", "trino")


@click.command("sql")
@click.argument("pack")
@click.option("--dialect", type=click.Choice(DIALECTS), default="duckdb", show_default=True)
@click.option(
    "--audience",
    type=click.Choice(["custodial", "healthcare"]),
    default="custodial",
    show_default=True,
)
@click.option(
    "--outputs",
    default=None,
    help="Only these output columns, comma-separated; status, error, undetermined items, "
    "missing facts and obligations stay the whole decision's.",
)
@click.option(
    "--establishment-plan",
    "establishment_plan",
    default=None,
    help="The query under an establishment's local plan: a plan file, or an establishment "
    "code (e.g. LEI) found as <packs>/local/<code>/<pack>.yaml.",
)
@packs_option
@user_errors
def command(
    pack: str,
    dialect: str,
    audience: str,
    outputs: str | None,
    establishment_plan: str | None,
    packs_dir: Path | None,
) -> None:
    """Print the query that decides PACK for every row of a `facts` table.

    The table has columns `record`, `as_of` (DATE) and one column per facts root (STRUCT
    and LIST types, see docs/sql.md). DuckDB and Spark are tested; other dialects are
    rendered by sqlglot and not tested here.

    \b
    Exit codes: 0 printed, 1 the pack has no SQL form, 2 bad usage.
    Examples:
      regime sql keywork_edm
      regime sql keywork_edm --dialect spark
      regime sql keywork_edm --establishment-plan LEI
    """
    from engine.sql.query_cache import rendered
    from engine.sql.types import Unsupported

    pack, packs_dir = pack_target(pack, packs_dir)
    packs = with_plan(
        load_packs(resolve_packs_dir(packs_dir), pack), pack, establishment_plan, packs_dir
    )
    wanted = outputs_wanted(outputs)
    render = "spark" if dialect in ("spark", "databricks") else "duckdb"
    try:
        # fewer columns (`--outputs`) of the same decision, as `regime batch` writes; an
        # unchanged pack's text comes from the disk cache
        query = rendered(packs[pack], audience, render, wanted, text_dialect=dialect, pretty=True)
    except Unsupported as e:
        fail(f"pack `{pack}` has no SQL form: {e} [W-SQL-UNSUPPORTED]", code=EXIT_PROBLEMS)
    except ValueError as e:
        fail(str(e))
    plan = packs[pack].local_plan
    if plan is not None:  # what the query takes the facts table to hold already
        for line in plan_preamble(plan):
            click.echo(f"-- {line}")
    click.echo(query.text + ";")
