"""Files written whole or not at all: what a command writes for people to read (a report, a
docs page) never appears half-written, whatever stops the run."""

from __future__ import annotations

import os
from pathlib import Path


def write_whole(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file beside it, then a rename (the file is
    created with the usual mode, not a temporary file's private one)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
