"""`regime facts`: facts from HMPPS records (one person or a whole establishment), with the
gaps the records leave, and the mapping rendered as a table."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import click
import yaml

from engine.adapters import hmpps
from engine.adapters.http_client import ClientSettings, RemoteError
from engine.adapters.interpret import fill_from
from engine.adapters.mapping import load_mapping
from engine.adapters.render_table import between_markers, markdown
from engine.language.convert import to_json
from engine.packs.facts_schema import validate_facts
from engine.problems import PackError

from .common import EXIT_PROBLEMS, dump_json, fail, parse_date, read_facts, show_problems


@click.group("facts")
def command() -> None:
    """Facts from other services' records, through declarative mappings (adapters/*.yaml).

    \b
    Examples:
      regime facts from-hmpps --prisoner A1234BC --as-of 2020-07-01
      regime facts from-hmpps --prison MDI --as-of 2020-07-01 --out population.jsonl
      regime facts mapping-table --check docs/hmpps.md
    """


def _as_of(value: str | None) -> dt.date:
    return parse_date(value) or dt.date.today()


def _config(given: Path | None) -> Path | None:
    if given is not None:
        return given
    env = os.environ.get("REGIME_HMPPS_CONFIG")
    return Path(env) if env else None


def _local(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    if not path.exists():
        fail(f"no local facts file `{path}`")
    local = read_facts(path)
    _check_facts(local, str(path))
    converted: dict[str, Any] = to_json(local)  # YAML dates become ISO text, as records give them
    return converted


def _write_facts(path: Path, facts: dict[str, Any]) -> None:
    if path.suffix in (".yaml", ".yml"):
        text = yaml.safe_dump(facts, sort_keys=False, allow_unicode=True)
    else:
        text = json.dumps(facts, indent=2, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")


def _check_facts(facts: dict[str, Any], name: str) -> None:
    problems = validate_facts(facts, name)
    if problems:
        show_problems(problems)
        fail("the facts do not match the facts schema", "fix the local facts file named above")


@command.command("from-hmpps")
@click.option("--prisoner", "subject", metavar="ID", help="One person, by prison number.")
@click.option("--prison", "prison", metavar="CODE", help="Everyone in an establishment (e.g. MDI).")
@click.option("--as-of", "as_of", default=None, help="Evaluation date YYYY-MM-DD (default today).")
@click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Client configuration (base_urls, token or token_env, timeout, retries, backoff); "
    "default $REGIME_HMPPS_CONFIG, else the environment variables the mapping names.",
)
@click.option(
    "--local-facts",
    "local_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Facts the establishment supplies (YAML or JSON), used where the records supply none.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="With --prisoner: write the facts here (JSON, or YAML by suffix). With --prison "
    "(required): one facts document per line (JSON Lines).",
)
@click.option(
    "--gaps",
    "gaps_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="With --prison: where the gaps go (default: OUT with .gaps.jsonl).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def from_hmpps(
    subject: str | None,
    prison: str | None,
    as_of: str | None,
    config: Path | None,
    local_path: Path | None,
    out: Path | None,
    gaps_path: Path | None,
    fmt: str,
) -> None:
    """Fetch HMPPS records and print the facts they supply, with every gap (a fact the
    records could not supply, or a contradiction between them).

    \b
    Gaps are information, not failures: the exit code is 0 when the records were read.
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
    day = _as_of(as_of)
    local = _local(local_path)
    try:
        settings = hmpps.settings(_config(config))
        if subject is not None:
            _one(subject, day, settings, local, out, fmt)
        else:
            assert prison is not None and out is not None
            _population(prison, day, settings, local, out, gaps_path)
    except RemoteError as e:
        fail(f"{e.message} [{e.code}]", e.hint)
    except PackError as e:
        show_problems(e.problems)
        fail("the mapping has errors", code=EXIT_PROBLEMS)


def _one(
    subject: str,
    day: dt.date,
    settings: ClientSettings,
    local: dict[str, Any] | None,
    out: Path | None,
    fmt: str,
) -> None:
    facts, gaps, notes = hmpps.fetch_facts(subject, day, settings)
    if local is not None:
        facts, gaps = fill_from(facts, gaps, local)
        _check_facts(facts, str(subject))
    for note in notes:
        click.echo(f"warning: {note}", err=True)
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


def _population(
    prison: str,
    day: dt.date,
    settings: ClientSettings,
    local: dict[str, Any] | None,
    out: Path,
    gaps_path: Path | None,
) -> None:
    gaps_path = gaps_path or out.with_suffix(".gaps.jsonl")
    notes: list[str] = []
    count = contradictions = 0
    parts = [out.with_name(out.name + ".part"), gaps_path.with_name(gaps_path.name + ".part")]
    try:  # written beside, then renamed: a failure part way leaves nothing behind
        with (
            parts[0].open("w", encoding="utf-8") as facts_file,
            parts[1].open("w", encoding="utf-8") as gap_file,
        ):
            for subject, facts, gaps in hmpps.fetch_population(prison, day, settings, notes=notes):
                if local is not None:
                    facts, gaps = fill_from(facts, gaps, local)
                facts_file.write(json.dumps(facts, ensure_ascii=False) + "\n")
                gap_file.write(
                    json.dumps({"subject": subject, "gaps": [g.to_dict() for g in gaps]}) + "\n"
                )
                count += 1
                contradictions += any(g.kind == "contradiction" for g in gaps)
    except BaseException:
        for part in parts:
            part.unlink(missing_ok=True)
        raise
    parts[0].replace(out)
    parts[1].replace(gaps_path)
    for note in notes:
        click.echo(f"warning: {note}", err=True)
    click.echo(
        f"wrote {count} facts documents to {out} and their gaps to {gaps_path} "
        f"({contradictions} with contradictions)"
    )


@command.command("mapping-table")
@click.option("--mapping", "name", default="hmpps", show_default=True, help="Mapping name or file.")
@click.option(
    "--check",
    "check",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Exit 1 if this page's mapping table differs from the mapping.",
)
@click.option(
    "--update",
    "update",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Rewrite the mapping table between this page's markers.",
)
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
    try:
        page = page_path.read_text(encoding="utf-8")
        wanted = between_markers(page, table)
    except (OSError, ValueError) as e:
        fail(f"cannot use `{page_path}`: {e}")
    if update is not None:
        if wanted != page:
            page_path.write_text(wanted, encoding="utf-8")
        click.echo(f"{page_path}: mapping table up to date")
    elif wanted != page:
        click.echo(f"{page_path}: the mapping table differs from the mapping; run with --update")
        raise SystemExit(EXIT_PROBLEMS)
    else:
        click.echo(f"{page_path}: the mapping table matches the mapping")
