"""What `regime facts from-hmpps` and `regime batch --from-hmpps` share: the client and local
facts options, reading them with clear errors, and fetching an establishment into a facts file
(one document per line) with its gaps beside it and the people who could not be fetched."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click

from engine.adapters import hmpps
from engine.adapters.http_client import ClientSettings, RemoteError
from engine.adapters.local_facts import LocalFacts
from engine.packs.facts_schema import validate_facts
from engine.problems import PackError

from .common import EXIT_PROBLEMS, fail, path_option, show_problems

F = TypeVar("F", bound=Callable[..., Any])


def hmpps_options(fn: F) -> F:
    """The --config and --local-facts options of every command that fetches HMPPS records."""
    fn = path_option(
        "--local-facts",
        "local_path",
        help="Facts the establishment supplies itself (schemas/local-facts.schema.json): "
        "establishment-wide and per person, merged by the mapping's local_facts.precedence.",
    )(fn)
    return path_option(
        "--config",
        "config",
        help="Client configuration (base_urls, token or token_env, timeout, retries, backoff); "
        "default $REGIME_HMPPS_CONFIG, else the environment variables the mapping names.",
    )(fn)


def client_settings(given: Path | None) -> ClientSettings:
    """Settings from --config, else $REGIME_HMPPS_CONFIG, else the environment."""
    env = os.environ.get("REGIME_HMPPS_CONFIG")
    return hmpps.settings(given if given is not None else (Path(env) if env else None))


def read_local(path: Path | None) -> LocalFacts | None:
    """The local facts file, or None; its problems (with their positions) end the command."""
    if path is None:
        return None
    try:
        return hmpps.read_local_facts(path)
    except PackError as e:
        show_problems(e.problems)
        fail(f"`{path}` is not a usable local facts file", "see docs/hmpps.md, Local facts")


def check_facts(facts: dict[str, Any], name: str) -> None:
    """Stop when merged facts break the facts schema (a local file cannot make them, but a
    mapping could)."""
    problems = validate_facts(facts, name)
    if problems:
        show_problems(problems)
        fail("the facts do not match the facts schema", "fix the mapping or the local facts")


def merge_local(
    local: LocalFacts | None, subject: str, facts: dict[str, Any], gaps: list[hmpps.Gap]
) -> tuple[dict[str, Any], list[hmpps.Gap], list[str]]:
    """One person's facts with the local facts merged in: (facts, gaps, notes)."""
    if local is None:
        return facts, gaps, []
    applied = hmpps.with_local_facts(local, subject, facts, gaps)
    return applied.facts, applied.gaps, applied.notes


def fetch_errors(fn: F) -> F:
    """A refused or failing service, a bad configuration or a bad mapping: a message, exit 2
    (exit 1 for mapping errors), never a traceback."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except RemoteError as e:
            fail(f"{e.message} [{e.code}]", e.hint)
        except PackError as e:
            show_problems(e.problems)
            if all(p.code.startswith("E-FACTS-LOCAL") for p in e.problems):
                fail("the local facts file does not fit these records")
            fail("the mapping has errors", code=EXIT_PROBLEMS)

    return wrapper  # type: ignore[return-value]


@dataclass
class Fetched:
    """What fetching an establishment gave: how many documents, who could not be fetched."""

    documents: int = 0
    contradictions: int = 0
    failures: list[tuple[str, RemoteError]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    overrides: list[str] = field(default_factory=list)


def fetch_establishment(
    prison: str,
    day: dt.date,
    settings: ClientSettings,
    local: LocalFacts | None,
    facts_out: Path,
    gaps_out: Path,
    keep_going: bool,
) -> Fetched:
    """Fetch everyone in `prison` into `facts_out` (JSON Lines) and their gaps into `gaps_out`,
    both written beside and renamed: a failure part way leaves neither. With `keep_going`, a
    person whose records cannot be fetched is listed in the result and the run goes on."""
    got = Fetched()
    if local is not None:
        local.check_establishment(prison)
    parts = [p.with_name(p.name + ".part") for p in (facts_out, gaps_out)]
    failures = got.failures if keep_going else None
    try:
        with (
            parts[0].open("w", encoding="utf-8") as facts_file,
            parts[1].open("w", encoding="utf-8") as gap_file,
        ):
            people = hmpps.fetch_population(
                prison, day, settings, notes=got.warnings, failures=failures
            )
            for subject, facts, gaps in people:
                facts, gaps, notes = merge_local(local, subject, facts, gaps)
                got.overrides += notes
                facts_file.write(json.dumps(facts, ensure_ascii=False) + "\n")
                gap_file.write(
                    json.dumps({"subject": subject, "gaps": [g.to_dict() for g in gaps]}) + "\n"
                )
                got.documents += 1
                got.contradictions += any(g.kind == "contradiction" for g in gaps)
    except BaseException:
        for part in parts:
            part.unlink(missing_ok=True)
        raise
    parts[0].replace(facts_out)
    parts[1].replace(gaps_out)
    return got


def show_notes(warnings: list[str], overrides: list[str]) -> None:
    """Skipped services (warnings) and record values a local override replaced (notes)."""
    for text in warnings:
        click.echo(f"warning: {text}", err=True)
    for text in overrides:
        click.echo(f"note: {text}", err=True)
