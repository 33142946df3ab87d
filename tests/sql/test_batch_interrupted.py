"""Ctrl-C while `regime batch` writes its results: the run stops as interrupted (the command
says `aborted`, no traceback) and neither the results nor the rejects file appears."""

from __future__ import annotations

import _thread
import datetime as dt
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

import engine
from engine.sql.batch import run_batch

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def ctrl_c_raises() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt, as in the `regime` command: a library loaded earlier
    in the same process (Spark's client installs its own) may have changed the handler."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


@pytest.mark.usefixtures("ctrl_c_raises")
def test_an_interrupt_while_writing_leaves_no_file(tmp_path: Path) -> None:
    pack = engine.load(ROOT / "policies")["keywork_edm"]
    fired: list[str] = []

    def progress(stage: str, done: int, total: int) -> None:
        # told from the progress thread while DuckDB writes: a Ctrl-C there
        if stage.startswith("writing") and done > 0 and not fired:
            fired.append(stage)
            _thread.interrupt_main(signal.SIGINT)

    facts = ROOT / "examples" / "population" / "keywork_2020.jsonl"
    with pytest.raises(KeyboardInterrupt):
        run_batch(
            pack,
            facts,
            tmp_path / "out.parquet",
            dt.date(2020, 7, 1),
            dt.date(2022, 12, 31),
            progress=progress,
        )
    assert fired
    assert sorted(p.name for p in tmp_path.iterdir()) == []
