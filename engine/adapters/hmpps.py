"""Facts from HMPPS records, through the `hmpps` mapping (`adapters/hmpps.yaml`).

facts, gaps = to_facts(records, as_of)          # records as the services returned them
for subject, facts, gaps in fetch_population("MDI", as_of, settings):
    ...
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from engine.adapters.fetch import Fetcher, settings_from
from engine.adapters.http_client import ClientSettings, JsonClient, RemoteError
from engine.adapters.interpret import Gap
from engine.adapters.interpret import to_facts as _interpret
from engine.adapters.local_facts import Applied, LocalFacts, read_local_facts
from engine.adapters.mapping import RecordMapping, load_mapping

MAPPING = "hmpps"

__all__ = [
    "Applied",
    "Gap",
    "LocalFacts",
    "fetch_facts",
    "fetch_population",
    "mapping",
    "read_local_facts",
    "settings",
    "to_facts",
    "with_local_facts",
]


def mapping() -> RecordMapping:
    """The `hmpps` mapping, validated (loaded once)."""
    return load_mapping(MAPPING)


def to_facts(records: Mapping[str, Any], as_of: dt.date) -> tuple[dict[str, Any], list[Gap]]:
    """The facts `records` supply on `as_of`, and the gaps: every fact they could not supply
    and every contradiction between them. `records` maps each source named in the mapping's
    `sources` to the service's JSON answer; leave out a source you do not have."""
    return _interpret(mapping(), records, as_of)


def settings(
    config_file: Path | None = None, env: Mapping[str, str] | None = None
) -> ClientSettings:
    """Client settings from a config file and the environment variables the mapping names."""
    return settings_from(mapping(), config_file, env)


def fetch_facts(
    subject: str, as_of: dt.date, client_settings: ClientSettings, transport: Any = None
) -> tuple[dict[str, Any], list[Gap], list[str]]:
    """Fetch one person's records and map them: (facts, gaps, notes about what was skipped)."""
    with JsonClient(client_settings, transport=transport) as client:
        fetcher = Fetcher(mapping(), client)
        records = fetcher.records(subject)
    facts, gaps = to_facts(records, as_of)
    return facts, gaps, fetcher.notes


def fetch_population(
    establishment: str,
    as_of: dt.date,
    client_settings: ClientSettings,
    transport: Any = None,
    notes: list[str] | None = None,
    failures: list[tuple[str, RemoteError]] | None = None,
) -> Iterator[tuple[str, dict[str, Any], list[Gap]]]:
    """(subject, facts, gaps) for everyone in an establishment, fetched page by page and
    mapped one at a time (nothing is held for the whole population). Notes about skipped
    sources are appended to `notes` when given. With `failures`, a person whose records
    cannot be fetched (after the retries) is appended to it as (subject, error) and left out,
    and the run goes on; without it, the first such failure is raised."""
    with JsonClient(client_settings, transport=transport) as client:
        fetcher = Fetcher(mapping(), client)
        failed = None if failures is None else lambda s, e: failures.append((s, e))
        for subject, records in fetcher.population(establishment, failed):
            facts, gaps = to_facts(records, as_of)
            yield subject, facts, gaps
        if notes is not None:
            notes.extend(fetcher.notes)


def with_local_facts(
    local: LocalFacts, subject: str, facts: Mapping[str, Any], gaps: list[Gap]
) -> Applied:
    """One person's facts with an establishment's local facts file merged in, by the layers of
    the mapping's `local_facts.precedence`; raises PackError when the file speaks for another
    establishment than the records'."""
    where = mapping().local_facts.get("establishment_fact")
    if where:
        node: Any = facts
        for part in str(where).split("."):
            node = node.get(part) if isinstance(node, Mapping) else None
        local.check_establishment(node)
    return local.apply(subject, facts, gaps)
