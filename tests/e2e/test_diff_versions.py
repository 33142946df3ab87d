"""End to end: `regime diff` between two versions of the PMP pack, golden. The pack's
expressions test `version` inside them (`version == "2" and plan_in_place`), so the lines
that matter here are those of definitions and outputs whose text is the same in both versions
but whose meaning is not: each is shown specialised to its version. Each side may be named by
its pack id, as every other command takes a pack, as well as by its file."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from click.testing import CliRunner, Result

from cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOTS = Path(__file__).parent / "snapshots"


def regime(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> Result:
    """Run `regime ARGS` in `cwd` (the repository unless told), in-process."""
    before = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, list(args), prog_name="regime", env=env)
    finally:
        os.chdir(before)


def no_traceback(result: Result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info


def test_pmp_version_1_against_version_2_is_golden(snapshot: object) -> None:
    result = regime("diff", "policies/pmp.yaml@1", "policies/pmp.yaml@2")
    no_traceback(result)
    assert result.exit_code == 0, result.output
    out = result.stdout
    # eligibility grounds that version 1 does not have, each with what it is for
    means = r"      means: [^\n]+\n"
    assert re.search(r"  ~ clinician_recommended\n" + means + "      expr: false -> ", out)
    assert re.search(
        r"  ~ immunosuppressed\n" + means + r"      expr:\n        - false\n        \+ any c in",
        out,
    )
    assert "  ~ clinician_recommended\n      means: The clinical team recommends" in out
    # the output that chooses by version shows each version's own choice
    assert re.search(r"  ~ eligible\n" + means + r"      value:\n        - prisoner.cev\n", out)
    assert "        + immunosuppressed or treatment_eligible or clinician_recommended\n" in out
    assert "version ==" not in out  # every test of the version is decided
    # a vocabulary's values one per line, with their names
    assert "      values:\n        + blood_cancer  Blood cancer (group: immunosuppressed)\n" in out
    snapshot.snapshot_dir = SNAPSHOTS  # type: ignore[attr-defined]
    snapshot.assert_match(out, "diff_pmp_1_2.txt")  # type: ignore[attr-defined]


def body(out: str) -> str:
    """The diff without its two header lines, which name the sides as they were given."""
    return out.split("\n", 2)[2]


def test_pack_ids_and_versions_name_the_packs_under_the_packs_folder() -> None:
    by_file = regime("diff", "policies/pmp.yaml@1", "policies/pmp.yaml@2")
    by_id = regime("diff", "pmp@1", "pmp@2")
    no_traceback(by_id)
    assert by_id.exit_code == 0, by_id.output
    assert by_id.stdout.startswith(
        "--- pmp@1  (policies/pmp.yaml)\n+++ pmp@2  (policies/pmp.yaml)\n"
    )
    assert body(by_id.stdout) == body(by_file.stdout)
    # a file on one side and an id on the other
    mixed = regime("diff", "policies/pmp.yaml@1", "pmp@2")
    assert mixed.exit_code == 0 and body(mixed.stdout) == body(by_file.stdout)
    # whole packs by id: the same pack, no differences
    whole = regime("diff", "pmp", "pmp")
    assert whole.exit_code == 0 and "no differences" in whole.stdout


def test_a_pack_id_is_found_whatever_its_file_is_called() -> None:
    # the action plan framework's id is `action_plan`; its file is framework.yaml
    result = regime("diff", "action_plan", "policies/action_plans/framework.yaml")
    no_traceback(result)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("--- action_plan  (policies/action_plans/framework.yaml)\n")
    assert "no differences" in result.stdout


def test_an_unknown_pack_id_is_a_usage_error_with_a_suggestion() -> None:
    result = regime("diff", "pmq@1", "pmp@2")
    no_traceback(result)
    assert result.exit_code == 2
    assert "error: no pack `pmq` in `policies`" in result.stderr
    assert "did you mean `pmp`?" in result.stderr
    assert result.stdout == ""
    # an unknown version of a pack named by id, as of one named by its file
    result = regime("diff", "pmp@1", "pmp@9")
    assert result.exit_code == 2 and "pack `pmp` has no version `9`" in result.stderr
    # what reads as no pack id and is no file is a missing file, with a word on ids
    result = regime("diff", "Pmp", "pmp")
    assert result.exit_code == 2 and "no such file `Pmp`" in result.stderr
    assert "pack ids" in result.stderr


def test_pack_ids_with_packs_folder_file_or_environment(tmp_path: Path) -> None:
    expected = body(regime("diff", "policies/pmp.yaml@1", "policies/pmp.yaml@2").stdout)
    policies = str(ROOT / "policies")
    # away from the project folder, ./policies is not there
    result = regime("diff", "pmp@1", "pmp@2", cwd=tmp_path)
    assert result.exit_code == 2 and "no packs directory `policies`" in result.stderr
    for args, env in (
        (["--packs", policies], None),
        (["--packs", str(ROOT / "policies" / "pmp.yaml")], None),
        ([], {"REGIME_PACKS": policies}),
    ):
        result = regime("diff", "pmp@1", "pmp@2", *args, cwd=tmp_path, env=env)
        no_traceback(result)
        assert result.exit_code == 0, (args, result.output)
        assert body(result.stdout) == expected
        assert result.stdout.startswith(f"--- pmp@1  ({policies}/pmp.yaml)\n")
    result = regime("diff", "pmq@1", "pmp@2", "--packs", policies, cwd=tmp_path)
    assert result.exit_code == 2 and "did you mean `pmp`?" in result.stderr


def test_a_pack_id_whose_pack_has_errors_exits_1_and_others_still_compare(tmp_path: Path) -> None:
    shutil.copy(ROOT / "policies" / "pmp.yaml", tmp_path / "pmp.yaml")
    (tmp_path / "broken.yaml").write_text("id: broken\ntitle: Broken\n", encoding="utf-8")
    result = regime("diff", "broken", "pmp", "--packs", str(tmp_path))
    no_traceback(result)
    assert result.exit_code == 1 and "pack `broken` has errors" in result.stderr
    result = regime("diff", "pmp@1", "pmp@2", "--packs", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "1 other pack file(s)" in result.stderr


def test_json_names_the_files_and_what_each_changed_item_is_for() -> None:
    result = regime("diff", "pmp@1", "pmp@2", "--format", "json")
    no_traceback(result)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["old"], data["new"]) == ("pmp@1", "pmp@2")
    assert data["old_file"] == data["new_file"] == "policies/pmp.yaml"
    changed = {(c["section"], c["id"]): c for c in data["changes"]}
    recommended = changed[("definitions", "clinician_recommended")]
    assert recommended["description"].startswith("The clinical team recommends")
    assert set(recommended["fields"]) == {"expr"}  # the description is the same in both
    # the same data as when the sides are named by their files
    by_file = regime("diff", "policies/pmp.yaml@1", "policies/pmp.yaml@2", "--format", "json")
    assert json.loads(by_file.stdout)["changes"] == data["changes"]
