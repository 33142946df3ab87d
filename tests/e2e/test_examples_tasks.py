"""End to end: a worked example states what it expects of a pack's tasks (the plan at a
stage: which tasks, in what order, waiting for which), checked by `regime test` and
`regime check`, with a clear message for an expectation the pack cannot meet or that names
what the pack does not have."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e.test_cli_contract import SMALL, regime


def examples(tmp_path: Path, body: str) -> Path:
    """The small pack in `packs/`, and a worked-example file of one case in `packs/tests/`."""
    (tmp_path / "packs" / "tests").mkdir(parents=True)
    shutil.copy(SMALL, tmp_path / "packs" / SMALL.name)
    file = tmp_path / "packs" / "tests" / "tasks.yaml"
    file.write_text(
        "pack: docs_small\ncases:\n  - name: the tasks\n    expect:\n      tasks:\n" + body,
        encoding="utf-8",
    )
    return file


GOOD = """\
        stage: 3
        include: ["1.1", "1.2", "2.1"]
        order: ["1.1", "1.2", "2.1"]
        waits_for: {"2.1": ["1.2"]}
"""


@pytest.mark.parametrize("command", ["test", "check"])
def test_a_task_expectation_that_holds_passes_both_commands(command: str, tmp_path: Path) -> None:
    result = regime(command, str(examples(tmp_path, GOOD)))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (
            '        stage: 4\n        include: ["1.2"]\n',
            "task `1.2` is not in the plan at stage 4",
        ),
        ('        stage: 4\n        exclude: ["1.1"]\n', "task `1.1` is in the plan at stage 4"),
        (
            '        stage: 3\n        order: ["2.1", "1.1"]\n',
            "task `2.1` comes after `1.1` in the plan at stage 3",
        ),
        (
            '        stage: 3\n        waits_for: {"1.2": ["2.1"]}\n',
            "task `1.2` does not wait for `2.1`",
        ),
    ],
)
def test_a_task_expectation_that_fails_says_what_the_plan_holds(
    body: str, said: str, tmp_path: Path
) -> None:
    file = examples(tmp_path, body)
    result = regime("test", str(file))
    assert result.exit_code == 1, result.output
    assert said in result.stdout, result.stdout
    assert f"FAIL {file}:3:" in result.stdout


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ('        stage: 3\n        include: ["9.9"]\n', "no task `9.9`"),
        ('        stage: 7\n        include: ["1.1"]\n', "no tasks at stage 7"),
        ('        stage: 3\n        waits_for: {"1.2": ["8.8"]}\n', "no task `8.8`"),
    ],
)
def test_an_expectation_naming_what_the_pack_does_not_have_is_an_error(
    body: str, said: str, tmp_path: Path
) -> None:
    result = regime("test", str(examples(tmp_path, body)))
    assert result.exit_code == 1, result.output
    assert said in result.stdout, result.stdout
    assert "tasks: 1.1, 1.2, 2.1" in result.stdout or "stages: 3, 4" in result.stdout


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("        stage: 3\n        include: [1.1]\n", 'quote it to make it text: `"1.1"`'),
        ("        stage: three\n", "must be an integer or null"),
        ('        stage: 3\n        follows: ["1.1"]\n', "unknown field `follows`"),
    ],
)
def test_a_malformed_task_expectation_is_a_schema_error(
    body: str, said: str, tmp_path: Path
) -> None:
    file = examples(tmp_path, body)
    result = regime("test", str(file))
    assert result.exit_code == 1, result.output
    assert "[E-SCHEMA]" in result.stdout and said in result.stdout, result.stdout
    assert f"{file}:" in result.stdout
