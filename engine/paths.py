"""Paths: whether two name one file, for every command that must not write onto what it reads."""

from __future__ import annotations

import os
from pathlib import Path


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file (through links too), so that writing one would replace
    the other; for a file not written yet, whether they resolve to one path."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist yet (or cannot be looked at)
        return a.resolve() == b.resolve()
