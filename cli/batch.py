"""`regime batch`: a whole population through a pack, one decision row per record and day."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

import click

from .common import (
    EXIT_PROBLEMS,
    fail,
    load_packs,
    outputs_wanted,
    pack_target,
    packs_option,
    parse_days,
    path_option,
    resolve_packs_dir,
    user_errors,
    with_plan,
)
from .hmpps_fetch import HmppsPopulation, hmpps_options

KEY = "prisoner.prison_number"
BAR = 30  # characters of the bar


class TerminalProgress:
    """A one-line progress bar on standard error, rewritten in place: the stage and, where
    the engine counts them (the interpreter), the decisions made of the total."""

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.width = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        line = f"{stage}..."
        if total:
            filled = BAR * done // total
            bar = "#" * filled + "-" * (BAR - filled)
            line = f"{stage} [{bar}] {done}/{total} ({100 * done // total}%)"
        self.stream.write("\r" + line.ljust(self.width))
        self.stream.flush()
        self.width = len(line)

    def close(self) -> None:
        if self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()


def terminal_progress(stream: TextIO) -> TerminalProgress | None:
    """A progress bar on `stream` when it is a terminal; none (quiet) otherwise."""
    isatty = getattr(stream, "isatty", None)
    return TerminalProgress(stream) if isatty is not None and isatty() else None


@click.command("batch")
@click.argument("pack")
@path_option(
    "--facts", "facts", help="Population: .parquet, .csv or .jsonl, one facts document per row."
)
@path_option("--establishment", help="Establishment facts (YAML or JSON) used for every row.")
@click.option(
    "--establishment-plan",
    "establishment_plan",
    default=None,
    help="Decide under an establishment's local plan: a plan file, or an establishment code "
    "(e.g. LEI) found as <packs>/local/<code>/<pack>.yaml. The plan fills the facts it "
    "supplies; records that contradict it go to the rejects.",
)
@click.option(
    "--from-hmpps",
    "from_hmpps",
    is_flag=True,
    help="Fetch the population of --prison from the HMPPS services instead of --facts "
    "(one date; gaps go to OUT.gaps.jsonl, people who cannot be fetched to the rejects).",
)
@click.option("--prison", metavar="CODE", help="With --from-hmpps: the establishment (e.g. MDI).")
@hmpps_options
@click.option("--as-of", "as_of", required=True, help="A date, or START..END for every day.")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Results: .parquet, .csv or .jsonl (rejects go beside it).",
)
@click.option(
    "--engine",
    type=click.Choice(["duckdb", "spark", "python"]),
    default="duckdb",
    show_default=True,
)
@click.option(
    "--outputs",
    default=None,
    help="Only these output columns, comma-separated; status, error, undetermined items, "
    "missing facts and obligations stay the whole decision's, whatever the engine.",
)
@click.option(
    "--audience",
    type=click.Choice(["custodial", "healthcare"]),
    default="custodial",
    show_default=True,
)
@click.option(
    "--threads",
    type=click.IntRange(1, 256),
    default=None,
    help="DuckDB threads, 1 to 256 (default: all cores).",
)
@packs_option
@user_errors
def command(
    pack: str,
    facts: Path | None,
    establishment: Path | None,
    establishment_plan: str | None,
    from_hmpps: bool,
    prison: str | None,
    config: Path | None,
    local_path: Path | None,
    as_of: str,
    out: Path,
    engine: str,
    outputs: str | None,
    audience: str,
    threads: int | None,
    packs_dir: Path | None,
) -> None:
    """Decide PACK for every record of FACTS on a day or every day of a range.

    Writes one row per record (per day with a range): every output, the status, the
    obligations, the missing facts, the pack version and content hash. Records that break
    the facts schema go to a rejects file with the reasons; the run goes on. The output
    appears whole or not at all, with the same column types and values whatever the engine
    (types from the pack's checked types; see docs/sql.md). A progress bar shows on a
    terminal; a summary of the values of each output ends the run.

    \b
    Exit codes: 0 done (rejects or not), 1 the pack has no SQL form, 2 bad usage or input.
    Examples:
      regime batch keywork_edm --facts population.parquet --as-of 2020-07-20 --out today.parquet
      regime batch keywork_edm --facts population.jsonl --as-of 2020-07-01..2020-07-31 \\
          --out july.parquet
      regime batch keywork_edm --from-hmpps --prison MDI --as-of 2020-07-01 \\
          --local-facts mdi_local_facts.yaml --out mdi.jsonl
      regime batch keywork_edm --facts leeds.parquet --establishment-plan LEI \\
          --as-of 2020-08-03 --out leeds.parquet
    """
    from engine.sql.batch import BatchError, run_batch
    from engine.sql.spark import SparkSetupError
    from engine.sql.types import Unsupported

    start, end = parse_days(as_of)  # a range out of order is refused by run_batch
    pack, packs_dir = pack_target(pack, packs_dir)
    packs = load_packs(resolve_packs_dir(packs_dir), pack)
    packs = with_plan(packs, pack, establishment_plan, packs_dir)
    wanted = outputs_wanted(outputs)
    if establishment is not None and not establishment.exists():
        fail(f"no establishment file `{establishment}`")
    for given in (facts, establishment):  # a pipe or a device might never end
        if given is not None and given.exists() and not given.is_file():
            fail(
                f"`{given}` is not a regular file [E-IO]",
                "give a file: devices, pipes and directories are not read",
            )
    spark = spark_probe = None
    if engine == "spark":
        from engine.sql.spark import progress, run_spark

        spark, spark_probe = run_spark, progress
    fetched = None
    if from_hmpps or facts is None:
        fetched = HmppsPopulation.start(
            from_hmpps, facts, prison, start, end, config, local_path, out
        )
        facts = fetched.facts
    elif prison or config or local_path:
        fail("--prison, --config and --local-facts go with --from-hmpps")
    bar = terminal_progress(sys.stderr)
    try:
        try:
            result = run_batch(
                packs[pack],
                facts,
                out,
                start,
                end,
                engine,
                establishment,
                wanted,
                KEY,
                audience,
                threads,
                progress=bar,
                spark=spark,
                spark_probe=spark_probe,
            )
        finally:  # the bar's line cleared before any message
            if bar is not None:
                bar.close()
    except Unsupported as e:
        fail(
            f"pack `{pack}` has no SQL form: {e} [W-SQL-UNSUPPORTED]",
            hint="`--engine python` decides it, one record at a time "
            "(`regime check` names what has no SQL form)",
            code=EXIT_PROBLEMS,
        )
    except (BatchError, ValueError) as e:
        fail(str(e))
    except SparkSetupError as e:  # the environment, as a usage error is: exit 2
        from engine.sql.spark import discard_log

        discard_log()  # it holds nothing: Spark never ran
        fail(f"Spark did not start to decide `{facts}`: {e}", e.hint)
    except Exception as e:  # an engine failing on the data: a message, not a traceback
        import duckdb

        from engine.sql.spark import is_spark_error

        if not isinstance(e, duckdb.Error) and not is_spark_error(e):
            raise
        first = str(e).splitlines()[0]
        if "Invalid unicode" in str(e):  # DuckDB reading the facts file as text
            fail(f"cannot read `{facts}`: not UTF-8 text ({first})", "save the file as UTF-8")
        if engine == "spark":  # Spark's own log and traces went to its log file, named here
            from engine.sql.spark import log_file, message, started

            if not started():
                fail(
                    f"Spark did not start to decide `{facts}`: {message(e)}",
                    f"Spark's log says why: {log_file()} (check SPARK_MASTER, "
                    "`local[1]` when unset, and the Java runtime)",
                )
            fail(
                f"the spark engine failed deciding `{facts}`: {message(e)}",
                "`--engine python` decides one record at a time and marks a record it cannot "
                f"decide, exactly; Spark's log: {log_file()}",
                code=EXIT_PROBLEMS,
            )
        fail(f"the {engine} engine failed: {first}", code=EXIT_PROBLEMS)
    if engine == "spark":
        from engine.sql.spark import discard_log

        discard_log()
    if fetched is not None:
        fetched.finish(result)
    plan = packs[pack].local_plan
    if plan is not None:
        click.echo(
            f"local plan: {plan.establishment_code} {plan.title}, version {plan.version} "
            f"({plan.file})"
        )
    click.echo(f"{result.rows} decisions in {result.seconds:.2f} s ({engine}) -> {result.out}")
    click.echo(f"rejected: {result.rejected} -> {result.rejects}")
    click.echo(f"undetermined: {result.undetermined}")
    if result.errors:
        click.echo(f"stopped by a run-time error: {result.errors} (status `error`, see `error`)")
    for name, counts in result.summary.items():
        shown = ", ".join(f"{value} {n}" for value, n in counts)
        click.echo(f"  {name}: {shown}")
