"""What `regime facts from-hmpps` and `regime batch --from-hmpps` share: the client and local
facts options, reading them with clear errors, fetching an establishment into a facts file (one
document per line, or a typed Parquet population) with its gaps beside it, and the people who
could not be fetched added to a batch run's rejects."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from engine.adapters import hmpps
from engine.adapters.http_client import ClientSettings, RemoteError
from engine.adapters.local_facts import LocalFacts
from engine.packs.facts_schema import prepare, validate_facts
from engine.problems import PackError

from .common import EXIT_PROBLEMS, fail, path_option, show_problems

if TYPE_CHECKING:
    from engine.sql.batch import BatchResult

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


def config_file(given: Path | None) -> Path | None:
    """The client configuration file: --config, else $REGIME_HMPPS_CONFIG, else none."""
    env = os.environ.get("REGIME_HMPPS_CONFIG")
    return given if given is not None else (Path(env) if env else None)


def client_settings(given: Path | None) -> ClientSettings:
    """Settings from --config, else $REGIME_HMPPS_CONFIG, else the environment."""
    return hmpps.settings(config_file(given))


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
    subjects: list[str] = field(default_factory=list)
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
                got.overrides += [n for n in notes if n not in got.overrides]
                facts_file.write(json.dumps(facts, ensure_ascii=False) + "\n")
                gap_file.write(
                    json.dumps({"subject": subject, "gaps": [g.to_dict() for g in gaps]}) + "\n"
                )
                got.documents += 1
                got.subjects.append(subject)
                got.contradictions += any(g.kind == "contradiction" for g in gaps)
        if not got.documents and not got.failures:  # a mistyped code finds no one
            fail(
                f"no one in `{prison}` on {day}: the prisoner search found nobody there",
                "check the establishment code (e.g. MDI)",
            )
    except BaseException:
        for part in parts:
            part.unlink(missing_ok=True)
        raise
    if local is not None:
        for who in local.unmatched(got.subjects + [s for s, _ in got.failures]):
            got.warnings.append(
                f"the local facts file `{local.file}` names {who}, who is not in {prison}: "
                "those facts were used for nobody"
            )
    parts[0].replace(facts_out)
    parts[1].replace(gaps_out)
    return got


def show_notes(warnings: list[str], overrides: list[str]) -> None:
    """Skipped services (warnings) and record values a local override replaced (notes)."""
    for text in warnings:
        click.echo(f"warning: {text}", err=True)
    for text in overrides:
        click.echo(f"note: {text}", err=True)


@dataclass
class HmppsPopulation:
    """An establishment fetched for `regime batch --from-hmpps`: a temporary facts file the
    batch reads, removed when the command ends; `finish` moves the gaps beside the output and
    adds the people who could not be fetched to the rejects."""

    facts: Path
    got: Fetched
    out: Path
    day: dt.date
    unfit: list[tuple[str, list[str]]] = field(default_factory=list)

    @classmethod
    def start(
        cls,
        from_hmpps: bool,
        given: Path | None,
        prison: str | None,
        start: dt.date,
        end: dt.date,
        config: Path | None,
        local_path: Path | None,
        out: Path,
    ) -> HmppsPopulation:
        """Check the options, then fetch (errors end the command with a message)."""
        if not from_hmpps:
            fail("give --facts FILE, or --from-hmpps --prison CODE")
        if given is not None:
            fail("give --facts FILE or --from-hmpps, not both")
        if prison is None:
            fail("--from-hmpps needs --prison CODE", "e.g. --prison MDI")
        if end != start:
            fail("--from-hmpps takes one date, not a range: the records describe that day")
        tmp = Path(tempfile.mkdtemp(prefix="regime-hmpps-"))
        click.get_current_context().call_on_close(lambda: shutil.rmtree(tmp, ignore_errors=True))
        lines = tmp / "population.jsonl"
        got = _fetch_for_batch(prison, start, config, local_path, lines, tmp / "gaps.jsonl")
        facts = tmp / "population.parquet"
        unfit = typed_population(lines, got.subjects, start, facts)
        show_notes(got.warnings, got.overrides)
        click.echo(
            f"fetched {got.documents} of {got.documents + len(got.failures)} people in "
            f"{prison} ({got.contradictions} with contradictions)"
        )
        return cls(facts, got, out, start, unfit)

    def finish(self, result: BatchResult) -> None:
        """After a successful batch run: the gaps beside the output, the fetch rejects added."""
        shutil.move(self.facts.with_name("gaps.jsonl"), gaps_path(self.out))
        rows = [
            (subject, [f"records could not be fetched: {e.message} [{e.code}]"])
            for subject, e in self.got.failures
        ]
        add_rejects(result.rejects, self.day, rows + self.unfit)
        click.echo(f"gaps: {gaps_path(self.out)}")
        if self.got.failures:
            click.echo(f"not fetched: {len(self.got.failures)} (added to {result.rejects})")
            for subject, e in self.got.failures:
                click.echo(f"  {subject}: {e.message} [{e.code}]")
        if self.unfit:
            click.echo(f"facts refused by the facts schema: {len(self.unfit)} (in the rejects)")


def typed_population(
    lines: Path, subjects: list[str], day: dt.date, out: Path
) -> list[tuple[str, list[str]]]:
    """The fetched facts as a typed Parquet population (the batch's own facts table shape, in
    which a null that means a known none stays apart from an absent fact); documents the facts
    schema refuses are left out and returned with the reasons."""
    import pyarrow.parquet as pq

    from engine.problems import FactsError
    from engine.sql.run import facts_table

    kept: list[tuple[int, dt.date, dict[str, Any]]] = []
    unfit: list[tuple[str, list[str]]] = []
    with lines.open(encoding="utf-8") as docs:
        for subject, line in zip(subjects, docs, strict=True):
            try:
                kept.append((len(kept) + 1, day, prepare(json.loads(line), subject)))
            except FactsError as e:
                unfit.append((subject, [p.message for p in e.problems]))
    pq.write_table(facts_table(kept), out)
    return unfit


@fetch_errors
def _fetch_for_batch(
    prison: str,
    day: dt.date,
    config: Path | None,
    local_path: Path | None,
    facts: Path,
    gaps: Path,
) -> Fetched:
    local = read_local(local_path)
    settings = client_settings(config)
    return fetch_establishment(prison, day, settings, local, facts, gaps, keep_going=True)


def gaps_path(out: Path) -> Path:
    """Where a batch run from HMPPS records writes each person's gaps."""
    return out.with_name(out.stem + ".gaps.jsonl")


def add_rejects(rejects: Path, day: dt.date, rows: list[tuple[str, list[str]]]) -> None:
    """Add people the batch never saw (not fetched, or facts the schema refuses) to a batch
    run's rejects file (in its format: JSON Lines, or CSV) with the reasons; the file is
    replaced whole."""
    if not rows:
        return
    text = rejects.read_text(encoding="utf-8") if rejects.exists() else ""
    if rejects.suffix == ".csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        if not text:
            writer.writerow(["record", "key", "as_of", "reasons"])
        for subject, reasons in rows:
            shown = ", ".join("'" + r.replace("'", "\\'") + "'" for r in reasons)
            writer.writerow(["", subject, day.isoformat(), f"[{shown}]"])  # as DuckDB writes lists
        text += buffer.getvalue()
    else:
        for subject, reasons in rows:
            row = {"record": None, "key": subject, "as_of": day.isoformat(), "reasons": reasons}
            text += json.dumps(row, ensure_ascii=False) + "\n"
    part = rejects.with_name(rejects.name + ".part")
    part.write_text(text, encoding="utf-8")
    part.replace(rejects)
