"""`regime check` keeps its answer on the worked examples in the disk cache: checking again
with nothing changed runs no case, and a change to anything a case reads (its file, its pack,
its facts file) is never answered from the cache."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine import api, disk_cache
from engine.tools import worked_examples
from tests.unit.test_disk_cache import PACK  # (a pack whose output `level` is the level + 1)

CASES = """\
pack: cached
cases:
  - name: from the facts file
    as_of: 2020-07-01
    facts_file: ../facts/level.yaml
    expect:
      outputs: {level: 3}
"""


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(disk_cache.ENV, str(tmp_path / "cache"))
    (tmp_path / "p.yaml").write_text(PACK, encoding="utf-8")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "cases.yaml").write_text(CASES, encoding="utf-8")
    (tmp_path / "facts").mkdir()
    (tmp_path / "facts" / "level.yaml").write_text(
        "establishment: {regime_level: 2}\n", encoding="utf-8"
    )
    return tmp_path


def _check(folder: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], int]:
    """The problems `regime check` reports on the examples, and how many cases it ran."""
    ran: list[Any] = []
    real = worked_examples.run_case

    def counted(case: Any, packs: Any) -> Any:
        ran.append(case)
        return real(case, packs)

    monkeypatch.setattr(worked_examples, "run_case", counted)
    packs, problems = api.check_paths([folder / "p.yaml"])
    assert not [p for p in problems if p.is_error]
    found = worked_examples.check_cases([folder], packs)
    return [p.message for p in found], len(ran)


def test_unchanged_examples_are_answered_without_running(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _check(folder, monkeypatch) == ([], 1)
    assert _check(folder, monkeypatch) == ([], 0)


def test_a_changed_expectation_is_run_again(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _check(folder, monkeypatch) == ([], 1)
    cases = folder / "tests" / "cases.yaml"
    cases.write_text(CASES.replace("level: 3", "level: 4"), encoding="utf-8")
    problems, ran = _check(folder, monkeypatch)
    assert ran == 1 and len(problems) == 1 and "expected 4" in problems[0], problems


def test_a_changed_pack_is_run_again(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _check(folder, monkeypatch) == ([], 1)
    (folder / "p.yaml").write_text(PACK.replace("+ 1", "+ 2"), encoding="utf-8")
    problems, ran = _check(folder, monkeypatch)
    assert ran == 1 and len(problems) == 1, problems


def test_a_changed_facts_file_is_run_again(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _check(folder, monkeypatch) == ([], 1)
    (folder / "facts" / "level.yaml").write_text(
        "establishment: {regime_level: 1}\n", encoding="utf-8"
    )
    problems, ran = _check(folder, monkeypatch)
    assert ran == 1 and len(problems) == 1, problems


def test_the_same_examples_elsewhere_are_reported_where_they_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(disk_cache.ENV, str(tmp_path / "cache"))
    inline = PACK + (
        "tests:\n  cases:\n    - name: inline fails\n      as_of: 2020-07-01\n"
        "      facts: {establishment: {regime_level: 2}}\n"
        "      expect: {outputs: {level: 9}}\n"
    )
    files = []
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "p.yaml").write_text(inline, encoding="utf-8")
        packs, _ = api.check_paths([tmp_path / name / "p.yaml"])
        found = worked_examples.check_cases([tmp_path / name], packs)
        assert len(found) == 1, found
        files.append(found[0].file)
    assert files == [str(tmp_path / "one" / "p.yaml"), str(tmp_path / "two" / "p.yaml")]
