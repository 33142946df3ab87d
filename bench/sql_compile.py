"""Benchmark: compiling packs to SQL, the start-up cost of every `regime batch` and `regime sql`.

Prints `sql-compile-keywork: <ms>`: the CPU median of compiling the key work pack into its
DuckDB query (the sqlglot tree and its text), and beside it the Spark rendering and every
other pack of `policies/`, so that a regression in the generator shows as a figure (it once
went from 0.3 s to 8.6 s unnoticed). With `--quick` one run each, for the test suite.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import engine  # noqa: E402
from engine.packs import model as M  # noqa: E402
from engine.sql.query import compile_pack  # noqa: E402

KEY_PACK = "keywork_edm"


def compile_ms(pack: M.Pack, dialect: str, runs: int) -> float:
    """CPU median, in milliseconds, of compiling `pack` and rendering its query text."""
    times = []
    for _ in range(runs):
        t0 = time.process_time()
        compile_pack(pack, "custodial", dialect, "facts").sql(pretty=False)
        times.append((time.process_time() - t0) * 1e3)
    return statistics.median(times)


def main(argv: list[str]) -> None:
    runs = 1 if "--quick" in argv else 5
    packs = engine.load(Path(__file__).resolve().parent.parent / "policies")
    load = os.getloadavg()[0]
    key = packs[KEY_PACK]
    print(f"sql-compile-keywork: {compile_ms(key, 'duckdb', runs):.0f} ms (CPU, load {load:.1f})")
    print(f"sql-compile-keywork-spark: {compile_ms(key, 'spark', runs):.0f} ms")
    for pack_id in packs:
        if pack_id != KEY_PACK:
            print(f"sql-compile-{pack_id}: {compile_ms(packs[pack_id], 'duckdb', runs):.0f} ms")


if __name__ == "__main__":
    main(sys.argv[1:])
