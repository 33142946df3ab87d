"""A pack with one of its policy versions taken as in force on every day.

The interpreter can be told which version to apply (`Evaluation(..., version_id)`), but the
SQL query chooses the version from each row's `as_of`, by the versions' dates. A pack whose
only version is the chosen one, open on both ends, makes the query apply that version on
every day, as the interpreter does when told: the evaluation date, dated parameters and
every rule's own `versions` stay as they are, so only the version choice changes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from engine.packs import model as M


def pin_version(pack: M.Pack, version_id: str | None) -> M.Pack:
    """`pack` with version `version_id` in force on every day (the pack itself for None);
    raises ValueError naming the versions when it has no such version."""
    if version_id is None:
        return pack
    chosen = next((v for v in pack.versions if v.id == version_id), None)
    if chosen is None:
        known = ", ".join(v.id for v in pack.versions)
        raise ValueError(f"pack `{pack.id}` has no version `{version_id}` (versions: {known})")
    always = dataclasses.replace(chosen, effective_from=dt.date.min, effective_to=None)
    return dataclasses.replace(pack, versions=(always,))
