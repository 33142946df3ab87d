"""One test of whether two paths name one file, used by every command that refuses to write
onto what it reads (batch's results and rejects, and the whole-file writes of the others)."""

from __future__ import annotations

from pathlib import Path

import cli.common
import engine.sql.batch
from engine.paths import same_file


def test_one_definition_serves_the_commands_and_batch() -> None:
    assert cli.common.same_file is same_file
    assert engine.sql.batch.same_file is same_file


def test_links_relative_paths_and_files_not_yet_written(tmp_path: Path, monkeypatch) -> None:
    real = tmp_path / "people.jsonl"
    real.write_text("{}\n")
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    monkeypatch.chdir(tmp_path)
    assert same_file(link, real) and same_file(Path("people.jsonl"), real)
    assert not same_file(tmp_path / "out.jsonl", real)
    assert same_file(tmp_path / "sub" / ".." / "out.jsonl", Path("out.jsonl"))
    assert not same_file(tmp_path / "nowhere" / "a", tmp_path / "nowhere" / "b")
