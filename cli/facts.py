"""`regime facts`: facts from HMPPS records (one person or a whole establishment), with the
gaps the records leave, and the mapping rendered as a table."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path
from typing import Any

import click
import yaml

from engine.adapters import hmpps
from engine.adapters.http_client import ClientSettings
from engine.adapters.local_facts import LocalFacts
from engine.adapters.mapping import load_mapping
from engine.adapters.render_table import between_markers, markdown
from engine.problems import PackError

from .common import (
    EXIT_PROBLEMS,
    dump_json,
    fail,
    parse_date,
    path_option,
    refuse_onto_inputs,
    show_problems,
    write_whole,
)
from .hmpps_fetch import (
    Fetched,
    add_rejects,
    check_facts,
    client_settings,
    config_file,
    fetch_errors,
    fetch_establishment,
    hmpps_options,
    merge_local,
    read_local,
    show_notes,
    typed_population,
)


@click.group("facts")
def command() -> None:
    """Facts from other services' records, through declarative mappings (adapters/*.yaml).

    \b
    Examples:
      regime facts from-hmpps --prisoner A1234BC --as-of 2020-07-01
      regime facts from-hmpps --prison MDI --as-of 2020-07-01 --out population.jsonl
      regime facts from-hmpps --prison MDI --as-of 2020-07-01 \\
          --local-facts examples/hmpps/mdi_local_facts.yaml --out population.parquet
      regime facts mapping-table --check docs/hmpps.md
    """


def _write_facts(path: Path, facts: dict[str, Any]) -> None:
    """The facts as JSON (or YAML by suffix), written whole or not at all."""
    if path.suffix in (".yaml", ".yml"):
        text = yaml.safe_dump(facts, sort_keys=False, allow_unicode=True)
    else:
        text = json.dumps(facts, indent=2, ensure_ascii=False) + "\n"
    write_whole(path, text, [])


@command.command("from-hmpps")
@click.option("--prisoner", "subject", metavar="ID", help="One person, by prison number.")
@click.option("--prison", "prison", metavar="CODE", help="Everyone in an establishment (e.g. MDI).")
@click.option("--as-of", "as_of", default=None, help="Evaluation date YYYY-MM-DD (default today).")
@hmpps_options
@path_option(
    "--out",
    "out",
    help="With --prisoner: write the facts here (JSON, or YAML by suffix). With --prison "
    "(required): one facts document per line (JSON Lines), or a typed .parquet population.",
)
@path_option(
    "--gaps", "gaps_path", help="With --prison: where the gaps go (default: OUT with .gaps.jsonl)."
)
@path_option(
    "--rejects",
    "rejects_path",
    help="With --prison: the people whose records could not be fetched, with the reason "
    "(default: OUT with .rejects.jsonl; written only when there are any).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@fetch_errors
def from_hmpps(
    subject: str | None,
    prison: str | None,
    as_of: str | None,
    config: Path | None,
    local_path: Path | None,
    out: Path | None,
    gaps_path: Path | None,
    rejects_path: Path | None,
    fmt: str,
) -> None:
    """Fetch HMPPS records and print the facts they supply, with every gap (a fact the
    records could not supply, or a contradiction between them).

    \b
    Gaps are information, not failures: the exit code is 0 when the records were read.
    With --prison, a person whose records cannot be fetched is written to the rejects file
    with the reason, everyone else is written, and the exit code is 1.
    Exit codes: 2 bad usage, bad configuration, or a service refused or failed.
    Examples:
      regime facts from-hmpps --prisoner A1234BC --as-of 2020-07-01 --out a1234bc.json
      regime eval keywork_edm --facts a1234bc.json
      regime facts from-hmpps --prison MDI --as-of 2020-07-01 --out population.jsonl
    """
    if (subject is None) == (prison is None):
        fail("give exactly one of --prisoner ID and --prison CODE")
    if prison is not None and out is None:
        fail("--prison needs --out FILE", "e.g. --out population.jsonl")
    day = parse_date(as_of) or dt.date.today()
    inputs = [p for p in (config_file(config), local_path) if p is not None]
    if prison is not None and out is not None:
        gaps_path = gaps_path or out.with_suffix(".gaps.jsonl")
        rejects_path = rejects_path or out.with_suffix(".rejects.jsonl")
        refuse_onto_inputs([out, gaps_path, rejects_path], inputs)
    elif out is not None:
        refuse_onto_inputs([out], inputs)
    local = read_local(local_path)
    settings = client_settings(config)
    if subject is not None:
        _one(subject, day, settings, local, out, fmt)
        return
    assert prison is not None and out is not None
    assert gaps_path is not None and rejects_path is not None
    rejects_path.unlink(missing_ok=True)  # a rejects file beside OUT is always this run's
    unfit: list[tuple[str, list[str]]] = []
    if out.suffix == ".parquet":
        got, unfit = _as_parquet(prison, day, settings, local, out, gaps_path)
    else:
        got = fetch_establishment(prison, day, settings, local, out, gaps_path, keep_going=True)
    show_notes(got.warnings, got.overrides)
    click.echo(
        f"wrote {got.documents - len(unfit)} facts documents to {out} and their gaps to "
        f"{gaps_path} ({got.contradictions} with contradictions)"
    )
    rows = [(s, [f"records could not be fetched: {e.message} [{e.code}]"]) for s, e in got.failures]
    rows += [(s, [f"the facts do not match the facts schema: {r}" for r in rs]) for s, rs in unfit]
    if rows:
        add_rejects(rejects_path, day, rows)
        click.echo(f"rejected: {len(rows)} (in {rejects_path})")
        for subject, reasons in rows:
            click.echo(f"  {subject}: {reasons[0]}")
        raise SystemExit(EXIT_PROBLEMS)


def _as_parquet(
    prison: str,
    day: dt.date,
    settings: ClientSettings,
    local: LocalFacts | None,
    out: Path,
    gaps_path: Path,
) -> tuple[Fetched, list[tuple[str, list[str]]]]:
    """The establishment as a typed Parquet population (what `regime batch --facts` reads
    with a known none kept apart from an absent fact), written whole or not at all; with the
    people whose facts the facts schema refuses (left out) and their reasons."""
    with tempfile.TemporaryDirectory(prefix="regime-hmpps-") as tmp:
        lines = Path(tmp) / "population.jsonl"
        got = fetch_establishment(prison, day, settings, local, lines, gaps_path, keep_going=True)
        part = out.with_name(out.name + ".part")
        unfit = typed_population(lines, got.subjects, day, part)
        part.replace(out)
    return got, unfit


def _one(
    subject: str,
    day: dt.date,
    settings: ClientSettings,
    local: LocalFacts | None,
    out: Path | None,
    fmt: str,
) -> None:
    facts, gaps, warnings = hmpps.fetch_facts(subject, day, settings)
    facts, gaps, overrides = merge_local(local, subject, facts, gaps)
    if local is not None:
        check_facts(facts, str(subject))
    show_notes(warnings, overrides)
    if out is not None:
        _write_facts(out, facts)
    if fmt == "json":
        click.echo(dump_json({"facts": facts, "gaps": [g.to_dict() for g in gaps]}))
        return
    if out is None:
        click.echo(dump_json(facts))
    else:
        click.echo(f"wrote the facts of {subject} to {out}")
    click.echo(f"gaps ({len(gaps)}):")
    for gap in gaps:
        click.echo(f"  {gap.format()}")


@command.command("mapping-table")
@click.option("--mapping", "name", default="hmpps", show_default=True, help="Mapping name or file.")
@path_option(
    "--check", "check", help="Exit 1 if this page's mapping table differs from the mapping."
)
@path_option("--update", "update", help="Rewrite the mapping table between this page's markers.")
def mapping_table(name: str, check: Path | None, update: Path | None) -> None:
    """Print a mapping as Markdown tables (fact path, source field or code, where it comes
    from), or keep a page's copy between its markers in step with the YAML."""
    try:
        table = markdown(load_mapping(name))
    except PackError as e:
        show_problems(e.problems)
        fail(f"the mapping `{name}` has errors", code=EXIT_PROBLEMS)
    page_path = check or update
    if page_path is None:
        click.echo(table, nl=False)
        return
    if not page_path.is_file():  # a pipe or a device might never end
        what = "does not exist" if not page_path.exists() else "is not a regular file"
        fail(f"`{page_path}` {what}", "give the Markdown page holding the table")
    try:
        page = page_path.read_text(encoding="utf-8")
        wanted = between_markers(page, table)
    except OSError as e:
        fail(f"cannot use `{page_path}`: {e.strerror or e}")
    except ValueError as e:
        fail(f"cannot use `{page_path}`: {e}")
    if update is not None:
        if wanted != page:
            write_whole(page_path, wanted, [])
        click.echo(f"{page_path}: mapping table up to date")
    elif wanted != page:
        click.echo(f"{page_path}: the mapping table differs from the mapping; run with --update")
        raise SystemExit(EXIT_PROBLEMS)
    else:
        click.echo(f"{page_path}: the mapping table matches the mapping")
