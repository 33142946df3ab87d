"""A PMP facts document that tests change the clinical record of: an adult with no ACCT, no plan
and no outbreak or guidance change at the establishment, and the PMP pack loaded once."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

import engine

ROOT = Path(__file__).resolve().parents[1]


@cache
def pmp_pack() -> Any:
    """The PMP pack, loaded once."""
    return engine.load(ROOT / "policies")["pmp"]


def pmp_document(prison_number: str, clinical: dict[str, Any], **prisoner: Any) -> dict[str, Any]:
    """A person born on 30 April 1966 with `clinical` as their clinical record, `prisoner` laid
    over the rest."""
    person: dict[str, Any] = {
        "prison_number": prison_number,
        "date_of_birth": dt.date(1966, 4, 30),
        "acct": "none",
        "cev": False,
        "pmp": {"status": "none"},
        "clinical": clinical,
    }
    person.update(prisoner)
    return {
        "establishment": {
            "code": "SDI",
            "outbreak_declared_on": None,
            "community_prevalence_high": False,
            "guidance_changed_on": None,
        },
        "prisoner": person,
    }
