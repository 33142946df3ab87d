"""Pytest collection of the packs' worked examples: each case in policies/tests/*.yaml is a test."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

# The machines that run the suite are shared and often busy: a property test is judged on what
# it finds, never on wall time (hangs are caught by the fuzz harness's CPU-time limits).
settings.register_profile(
    "shared-machine", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("shared-machine")

ROOT = Path(__file__).parent
POLICIES = ROOT / "policies"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under `--dist loadgroup` (pytest-xdist, `make test`), a test marked
    `xdist_group(name)` runs on the worker of every other test of that group: xdist learns the
    group from the suffix `@name` of the test's id. pytest-xdist 3.8 writes that suffix where
    pytest 9.2 no longer reads it (pytest-xdist issue 1386), so it is written here, once, after
    every other hook has marked its tests."""
    if not getattr(config.option, "loadgroup", False):  # set in the workers of a loadgroup run
        return
    try:
        from _pytest.nodeid import NodeId  # pytest 9.2: a test's id is structured
    except ImportError:  # earlier pytest: xdist's own suffix takes effect
        return
    for item in items:
        names = {
            str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
            for mark in item.iter_markers("xdist_group")
        }
        nodeid = item.nodeid
        if names and nodeid.rfind("@") <= nodeid.rfind("]"):
            item._id = NodeId.parse(f"{nodeid}@{'_'.join(sorted(names))}")


@cache
def _packs() -> Any:
    import engine

    return engine.load(POLICIES)


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.suffix == ".yaml" and file_path.parent in (
        POLICIES / "tests",
        POLICIES / "local" / "tests",
    ):
        return WorkedExamples.from_parent(parent, path=file_path)
    return None


class WorkedExamples(pytest.File):
    def collect(self) -> Any:
        from engine.tools.worked_examples import read_cases

        cases, problems = read_cases([self.path], {})
        if problems:
            raise pytest.UsageError("\n".join(p.format() for p in problems))
        for case in cases:
            yield WorkedExample.from_parent(self, name=case.name, case=case)


class WorkedExample(pytest.Item):
    def __init__(self, *, case: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case

    def runtest(self) -> None:
        from engine.tools.worked_examples import run_case

        result = run_case(self.case, _packs())
        if not result.passed:
            raise WorkedExampleFailed(result.failures)

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        if isinstance(excinfo.value, WorkedExampleFailed):
            return f"{self.case.file}:{self.case.line}: " + "\n".join(excinfo.value.args[0])
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.case.line, f"{self.case.pack}: {self.case.name}"


class WorkedExampleFailed(Exception):
    pass
