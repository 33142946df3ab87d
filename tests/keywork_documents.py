"""A key work facts document that tests change one field of: every fact the key work pack reads
about a prisoner who is in no priority group for a reason other than the one under test."""

from __future__ import annotations

from typing import Any


def keywork_prisoner(**fields: Any) -> dict[str, Any]:
    """A prisoner with no risk marker, flag or referral set, with `fields` laid over them."""
    prisoner: dict[str, Any] = {
        "prison_number": "A1000AA",
        "acct": "none",
        "rosh": "HIGH",
        "tact": False,
        "pathfinder_recommended": False,
        "irmm_keywork_from": None,
        "pathfinder_keywork_from": None,
        "cev": False,
        "governor_priority": False,
        "sentence_type": "determinate",
        "release_date": "2020-10-01",
        "keywork": {"key_worker": "Officer A", "sessions": []},
    }
    prisoner.update(fields)
    return prisoner


def keywork_document(
    prisoner: dict[str, Any], level: int = 4, **establishment: Any
) -> dict[str, Any]:
    """`prisoner` in a weekly-model prison at regime `level`, with `establishment` laid over it."""
    return {
        "prisoner": prisoner,
        "establishment": {
            "code": "WWI",
            "regime_level": level,
            "keywork_model": "weekly",
            **establishment,
        },
    }
