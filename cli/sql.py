"""`regime sql`: print the SQL query a pack compiles to, for an analyst's own warehouse."""

from __future__ import annotations

from pathlib import Path

import click

from .common import (
    EXIT_PROBLEMS,
    fail,
    load_packs,
    outputs_wanted,
    packs_option,
    resolve_packs_dir,
    user_errors,
)

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
@packs_option
@user_errors
def command(
    pack: str, dialect: str, audience: str, outputs: str | None, packs_dir: Path | None
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
    """
    from engine.sql.query_cache import rendered
    from engine.sql.types import Unsupported

    packs = load_packs(resolve_packs_dir(packs_dir), pack)
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
    click.echo(query.text + ";")
