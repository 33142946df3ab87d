"""End to end: `regime diff` between two versions of the PMP pack, golden. The pack's
expressions test `version` inside them (`version == "2" and plan_in_place`), so the lines
that matter here are those of definitions and outputs whose text is the same in both versions
but whose meaning is not: each is shown specialised to its version."""

from __future__ import annotations

import os
from pathlib import Path

from click.testing import CliRunner, Result

from cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOTS = Path(__file__).parent / "snapshots"


def regime(*args: str) -> Result:
    """Run `regime ARGS` in the repository, in-process."""
    before = Path.cwd()
    os.chdir(ROOT)
    try:
        return CliRunner().invoke(cli, list(args), prog_name="regime")
    finally:
        os.chdir(before)


def no_traceback(result: Result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info


def test_pmp_version_1_against_version_2_is_golden(snapshot: object) -> None:
    result = regime("diff", "policies/pmp.yaml@1", "policies/pmp.yaml@2")
    no_traceback(result)
    assert result.exit_code == 0, result.output
    out = result.stdout
    # eligibility grounds that version 1 does not have
    assert "  ~ clinician_recommended\n      expr: false -> " in out
    assert "  ~ immunosuppressed\n      expr:\n        - false\n        + any c in" in out
    # the output that chooses by version shows each version's own choice
    assert "  ~ eligible\n      value:\n        - prisoner.cev\n" in out
    assert "        + immunosuppressed or treatment_eligible or clinician_recommended\n" in out
    assert "version ==" not in out  # every test of the version is decided
    snapshot.snapshot_dir = SNAPSHOTS  # type: ignore[attr-defined]
    snapshot.assert_match(out, "diff_pmp_1_2.txt")  # type: ignore[attr-defined]
