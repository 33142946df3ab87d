"""The two national packs that local plans extend, loaded once per test process."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import engine

ROOT = Path(__file__).resolve().parents[2]


@cache
def national() -> engine.Packs:
    """The key work and OMU packs (immutable, so tests may share them)."""
    return engine.load(ROOT / "policies" / "keywork_edm.yaml", ROOT / "policies" / "omu_edm.yaml")
