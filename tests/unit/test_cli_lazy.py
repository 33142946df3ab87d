"""The `regime` group imports each subcommand only when it runs: every subcommand is still
listed and suggested, and starting the command loads none of the heavy libraries."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from cli.main import SUBCOMMANDS, cli

ROOT = Path(__file__).resolve().parents[2]


def test_every_subcommand_module_is_registered() -> None:
    modules = {
        p.stem
        for p in (ROOT / "cli").glob("*.py")
        if "\ncommand = " in p.read_text(encoding="utf-8")
        or "\ndef command(" in p.read_text(encoding="utf-8")
    }
    assert len(modules) == len(SUBCOMMANDS)
    assert modules == set(SUBCOMMANDS.values())


def test_help_lists_every_subcommand() -> None:
    out = CliRunner().invoke(cli, ["--help"]).output
    for name in SUBCOMMANDS:
        assert f"  {name} " in out


def test_a_misspelt_subcommand_is_suggested_before_any_is_imported() -> None:
    result = CliRunner().invoke(cli, ["chek"])
    assert result.exit_code == 2
    assert "Did you mean 'check'?" in result.output


def test_starting_the_command_loads_no_heavy_library() -> None:
    code = (
        "import sys, cli.main; "
        "heavy = ('duckdb', 'sqlglot', 'fastapi', 'matplotlib', 'networkx', 'httpx'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
