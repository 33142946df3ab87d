"""A user's mistake changes nothing on disk: where every pack given has errors, `regime docs`
writes no site (an index of no packs), it says why and exits 1."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from cli.main import cli


def test_docs_of_packs_that_all_have_errors_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "empty.yaml"
    bad.write_text("")
    out = tmp_path / "site"
    result = CliRunner().invoke(cli, ["docs", str(bad), "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert f"{bad}:1:1: error:" in result.output
    assert "no pack without errors: nothing written" in result.output
    assert not out.exists()
    assert "Traceback" not in result.output
