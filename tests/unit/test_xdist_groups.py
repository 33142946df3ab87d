"""`make test` runs the suite on several workers with `--dist loadgroup`: the tests of one
`xdist_group` (the Spark tests, the differential tests) must run on one worker, whichever
versions of pytest and pytest-xdist are installed. A small suite with the project's hook is
run on two workers, in its own process."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CONFTEST = f"""
import importlib.util

_spec = importlib.util.spec_from_file_location("project_conftest", {str(ROOT / "conftest.py")!r})
_project = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_project)
pytest_collection_modifyitems = _project.pytest_collection_modifyitems
"""

TESTS = """
import pytest

@pytest.mark.xdist_group("shared")
@pytest.mark.parametrize("n", range(4))
def test_grouped(n):
    pass

@pytest.mark.parametrize("n", range(6))
def test_alone(n):
    pass
"""


def test_a_group_runs_on_one_worker(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (tmp_path / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    (tmp_path / "test_groups.py").write_text(TESTS, encoding="utf-8")
    quiet = ("-p", "no:cacheprovider", "-p", "no:schemathesis", "-p", "no:hypothesispytest")
    args = ["-n", "2", "--dist", "loadgroup", "-v", *quiet, "test_groups.py"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    ran = re.findall(r"\[(gw\d)\] .*PASSED test_groups\.py::(\S+)", done.stdout)
    assert len(ran) == 10, done.stdout
    grouped = {worker for worker, name in ran if name.startswith("test_grouped")}
    assert len(grouped) == 1, done.stdout
    assert all(name.endswith("@shared") for _, name in ran if name.startswith("test_grouped"))
    assert not any("@" in name for _, name in ran if name.startswith("test_alone"))
