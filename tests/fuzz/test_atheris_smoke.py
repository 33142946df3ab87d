"""A few seconds of the coverage-guided targets in `make test` (the long run is `make fuzz`):
all three targets in one instrumented process, a fixed number of inputs, no crash. atheris is
in the test extra wherever it ships a wheel (Linux on x86-64); elsewhere this is skipped, and
the hypothesis targets beside it still run."""

from __future__ import annotations

import importlib.util
import platform
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUPPORTED = sys.platform == "linux" and platform.machine() == "x86_64"


@pytest.mark.skipif(not SUPPORTED, reason="atheris ships wheels for Linux on x86-64 only")
def test_the_atheris_targets_run_without_a_crash(tmp_path: Path) -> None:
    assert importlib.util.find_spec("atheris"), "the test extra installs atheris on this platform"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tests" / "fuzz" / "atheris_targets.py"),
            "all",
            "-runs=300",
            "-seed=12345",
            "-timeout=30",
            f"-artifact_prefix={tmp_path}/",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Done 300 runs" in done.stderr
