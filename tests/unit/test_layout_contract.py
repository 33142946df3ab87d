"""The layout the product contract fixes: the distribution and its command, the two make
targets the README starts with, CI's entry point, the packs' places, and an engine that holds
no policy's words (a new policy document must be encodable without touching Python)."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The words of the policies encoded under policies/: none may appear in the engine's code.
POLICY_WORDS = re.compile(
    r"\b(acct|rosh|pmps?|keywork|key_work|oasys|nomis|tact|omu|systmone|prisoner)\b",
    re.IGNORECASE,
)


def test_the_engine_holds_no_policy_words() -> None:
    files = sorted((ROOT / "engine").rglob("*.py")) + sorted((ROOT / "engine").rglob("*.lark"))
    assert len(files) > 50
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in files
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if POLICY_WORDS.search(line)
    ]
    assert found == []


@pytest.mark.parametrize("line", ["prisoner.acct == 1", "# the OMU task", "keywork = 2"])
def test_the_policy_word_search_finds_a_word(line: str) -> None:
    assert POLICY_WORDS.search(line)


def test_distribution_and_console_script() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == "regime-policy"
    assert "regime" in project["scripts"]


def test_the_readme_starts_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("```", 2)[1]
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert commands == ["make demo", "make test"]
    assert readme.index("```") < readme.index("\n## ")


def test_make_has_demo_and_test_and_ci_runs_make_test() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^demo:", makefile, re.MULTILINE)
    assert re.search(r"^test:", makefile, re.MULTILINE)
    ci = ROOT / ".ci" / "run"
    assert os.access(ci, os.X_OK)
    assert re.search(r"^make test$", ci.read_text(encoding="utf-8"), re.MULTILINE)


def test_the_packs_and_plans_are_where_the_contract_puts_them() -> None:
    for name in (
        "pmp.yaml",
        "keywork_edm.yaml",
        "omu_edm.yaml",
        "action_plans/framework.yaml",
        "action_plans/social_care_2018.yaml",
        "action_plans/hmp_send_2019.yaml",
    ):
        assert (ROOT / "policies" / name).is_file(), name
    for name in ("pack.schema.json", "decision.schema.json", "facts/action_plan.schema.json"):
        assert (ROOT / "schemas" / name).is_file(), name
