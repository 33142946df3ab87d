"""The bad-input corpora's headers: `# expect: CODE LINE:COL`, optionally `# message: ...`.

The header is the file's first lines; for an input that cannot hold comments it is in a file
beside it (`NAME.expect`), and for a directory in its `EXPECT` file."""

from __future__ import annotations

import re
from pathlib import Path

from engine.problems import Problem

EXPECT = re.compile(r"#\s*expect:\s*(?P<code>[A-Z0-9-]+)\s+(?P<line>\d+):(?P<col>\d+)")


def header_file(path: Path) -> Path:
    """Where the expectations of a corpus input are written."""
    if path.is_dir():
        return path / "EXPECT"
    beside = path.with_name(path.name + ".expect")
    return beside if beside.exists() else path


def assert_as_expected(problem: Problem, path: Path) -> None:
    """The problem has the code, position and (when given) message the file's header expects."""
    lines = header_file(path).read_text(encoding="utf-8", errors="replace").splitlines()
    expect = EXPECT.match(lines[0])
    assert expect, f"{path.name}: first line must be `# expect: CODE LINE:COL`"
    assert (problem.code, problem.line, problem.col) == (
        expect["code"],
        int(expect["line"]),
        int(expect["col"]),
    ), problem.format()
    if len(lines) > 1 and lines[1].startswith("# message: "):
        assert problem.message == lines[1][len("# message: ") :]
    assert problem.file == str(path)
