"""PACK given as the path of a pack file: the same answer as the pack's id under --packs, from
any folder, and a clear refusal for a path that is not a pack."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e.test_cli import ROOT, no_traceback, regime

FACTS = ROOT / "examples" / "prisoners" / "a2041kw_open_acct.yaml"
PLAN_FACTS = ROOT / "examples" / "local" / "g8607kw_post_closure.yaml"
KEYWORK = ROOT / "policies" / "keywork_edm.yaml"


@pytest.mark.parametrize(
    "args",
    [
        ("eval", "--facts", str(FACTS), "--format", "json"),
        ("explain", "is_priority", "--facts", str(FACTS)),
        ("plan",),
        ("sql", "--dialect", "spark"),
        ("timeline", "--facts", str(FACTS), "--from", "2020-07-01", "--to", "2020-07-31"),
        ("eval", "--facts", str(PLAN_FACTS), "--establishment-plan", "LEI"),
    ],
    ids=["eval", "explain", "plan", "sql", "timeline", "plan-by-code"],
)
def test_a_pack_file_answers_as_its_id(tmp_path: Path, args: tuple[str, ...]) -> None:
    """Run from a folder with no packs in it, the file's path stands for `--packs` and the id."""
    command, rest = args[0], args[1:]
    pack = "omu_edm" if command == "plan" else "keywork_edm"
    by_path = regime(command, str(ROOT / "policies" / f"{pack}.yaml"), *rest, cwd=tmp_path)
    by_id = regime(command, pack, *rest, "--packs", str(ROOT / "policies"), cwd=tmp_path)
    no_traceback(by_path)
    assert by_path.returncode == by_id.returncode == 0, by_path.stderr
    assert by_path.stdout == by_id.stdout


def test_a_lone_pack_file_loads_without_its_folder(tmp_path: Path) -> None:
    """Copied on its own, the file is the whole packs source: nothing beside it is read."""
    alone = tmp_path / "copy.yaml"
    shutil.copy(KEYWORK, alone)
    result = regime("eval", str(alone), "--facts", str(FACTS), "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert '"pack": "keywork_edm"' in result.stdout


@pytest.mark.parametrize(
    "pack, extra, message",
    [
        ("nope/keywork_edm.yaml", (), "no pack file `nope/keywork_edm.yaml`"),
        (str(ROOT / "policies" / "local" / "lei" / "keywork_edm.yaml"), (), "is a local plan"),
        (str(ROOT / "README.md"), (), "does not load as a pack"),
        (str(KEYWORK), ("--packs", str(ROOT / "policies")), "with --packs PACK is a pack id"),
    ],
    ids=["missing", "local-plan", "not-a-pack", "with-packs"],
)
def test_a_path_that_is_not_a_pack_is_refused(
    tmp_path: Path, pack: str, extra: tuple[str, ...], message: str
) -> None:
    result = regime("eval", pack, "--facts", str(FACTS), *extra, cwd=tmp_path)
    no_traceback(result)
    assert result.returncode in (1, 2)
    assert message in result.stderr
    assert "hint:" in result.stderr or "error" in result.stdout


def test_a_pack_in_a_subfolder_finds_its_worked_examples_in_the_folder_above(
    tmp_path: Path,
) -> None:
    """`policies/action_plans/framework.yaml` keeps its worked examples in `policies/tests/`:
    testing or rendering the file alone runs them, as testing the whole folder does."""
    pack = ROOT / "policies" / "action_plans" / "framework.yaml"
    alone = regime("test", str(pack), cwd=tmp_path)
    whole = regime("test", str(ROOT / "policies"), cwd=tmp_path)
    assert alone.returncode == 0, alone.stdout + alone.stderr
    line = next(x for x in alone.stdout.splitlines() if x.startswith("coverage action_plan:"))
    assert line in whole.stdout
    ran = int(alone.stdout.splitlines()[-1].split()[0])
    assert ran > 100  # the action plan's examples, and no other pack's
    assert "coverage keywork_edm" not in alone.stdout
    site = tmp_path / "site"
    assert regime("docs", str(pack), "--out", str(site), cwd=tmp_path).returncode == 0
    assert "none applies this rule" not in (site / "action_plan.md").read_text(encoding="utf-8")
