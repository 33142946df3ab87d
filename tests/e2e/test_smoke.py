"""Smoke tests of the installed `regime` command as a real process: its exit codes, standard
streams and environment, which the in-process tests in test_cli.py cannot see."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REGIME = Path(sys.executable).parent / "regime"


def regime(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(REGIME), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_help() -> None:
    result = regime("--help")
    assert result.returncode == 0 and "regime check policies/" in result.stdout


def test_check_a_bad_pack_exits_1_with_its_position() -> None:
    result = regime("check", "tests/corpus/packs/cycle.yaml", "--no-tests")
    assert result.returncode == 1
    assert "tests/corpus/packs/cycle.yaml:" in result.stdout and "[E-CYCLE]" in result.stdout
    assert "Traceback" not in result.stderr


def test_eval_prints_json_and_bad_facts_exit_2(tmp_path: Path) -> None:
    facts = sorted((ROOT / "examples" / "prisoners").glob("*.yaml"))[0]
    result = regime(
        "eval", "keywork_edm", "--facts", str(facts), "--as-of", "2020-07-01", "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["pack"] == "keywork_edm"
    bad = tmp_path / "bad.json"
    bad.write_text('{"prisoner": {"acct": "opened"}}')
    result = regime("eval", "keywork_edm", "--facts", str(bad))
    assert result.returncode == 2 and "nothing was evaluated" in result.stderr


def test_packs_directory_from_the_environment(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(REGIME), "plan", "omu_edm", "--stage", "3", "--format", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "REGIME_PACKS": str(ROOT / "policies")},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)


def test_a_reader_that_stops_early_is_not_a_failure() -> None:
    """`regime demo | head -1`: the reader goes away while the report is still being written
    (it is longer than a pipe holds), which is neither a problem found nor a traceback."""
    process = subprocess.Popen(
        [str(REGIME), "demo"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline()
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 0, stderr
    assert stderr == ""
