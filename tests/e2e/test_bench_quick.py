"""The short form of `make bench` in the test suite: each benchmark script that has a quick
mode runs as `make bench` runs it and prints its named figures, so a script cannot rot between
runs of the long target. The figures themselves are not judged here (timed tests are noise)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import engine

ROOT = Path(__file__).resolve().parents[2]
FIGURE = re.compile(r"^([a-z0-9_-]+): (\d+(?:\.\d+)?) ms", re.M)


def quick(script: str) -> subprocess.CompletedProcess[str]:
    """`bench/<script> --quick` as `make bench` runs it."""
    return subprocess.run(
        [sys.executable, f"bench/{script}", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_sql_compile_prints_a_figure_for_every_pack() -> None:
    result = quick("sql_compile.py")
    assert result.returncode == 0, result.stderr
    names = {m.group(1) for m in FIGURE.finditer(result.stdout)}
    others = {f"sql-compile-{p}" for p in engine.load(ROOT / "policies") if p != "keywork_edm"}
    assert names == {"sql-compile-keywork", "sql-compile-keywork-spark", *others}, result.stdout


def test_population_bench_checks_its_answers_on_a_small_population() -> None:
    """The population bench on 2,000 prisoners: the generated query's answers equal the
    hand-written query's and the replay equals the interpreter's, or it exits 1 (a hand-written
    query left behind by a change to the facts tables once went unnoticed between runs)."""
    result = quick("population.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is_priority answers identical to the hand-written query: yes" in result.stdout
    assert "prisoners replayed by the interpreter: identical" in result.stdout
    names = set(re.findall(r"^([a-z0-9-]+): \d", result.stdout, re.M))
    assert {
        "population-keywork-duckdb",
        "population-vs-handwritten-sql",
        "replay-year-keywork",
    } <= names, result.stdout
