"""The bad-pack corpus: one small pack per kind of mistake, each with exactly one error at the
line and column its first line expects (`# expect: CODE LINE:COL`), and where the next lines
say so, its exact message (`# message: ...`) and a part of its hint (`# hint: ...`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import engine

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "packs"
# a file is one pack; a directory is packs checked together (the expected problem is in the
# file whose first line is `# expect:`)
FILES = sorted(CORPUS.glob("*.yaml")) + sorted(p for p in CORPUS.iterdir() if p.is_dir())
EXPECT = re.compile(r"# expect: (\S+) (\d+):(\d+)")


def _expected_file(path: Path) -> Path:
    if path.is_file():
        return path
    (found,) = [f for f in sorted(path.glob("*.yaml")) if EXPECT.match(f.read_text("utf-8"))]
    return found


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_one_problem_in_the_right_place(path: Path) -> None:
    expected_file = _expected_file(path)
    m = EXPECT.match(expected_file.read_text(encoding="utf-8"))
    assert m, f"{path.name} lacks its `# expect:` line"
    code, line, col = m.group(1), int(m.group(2)), int(m.group(3))
    packs, problems = engine.check_paths([path])
    if code.startswith("W-"):  # a warning: the pack loads, with that one warning
        assert list(packs) == ["corpus"]
        found = problems
    else:
        found = [p for p in problems if p.is_error]
        assert not packs or path.is_dir()
    assert [(p.code, p.line, p.col) for p in found] == [(code, line, col)], [
        p.format() for p in found
    ]
    problem = found[0]
    assert problem.file == str(expected_file)
    for header in expected_file.read_text(encoding="utf-8").splitlines()[1:3]:
        # optional headers: the exact message, and a part of the hint, the author's next step
        if header.startswith("# message: "):
            assert problem.message == header[len("# message: ") :]
        if header.startswith("# hint: "):
            assert problem.hint is not None and header[len("# hint: ") :] in problem.hint
    assert problem.message[0].islower() or problem.message[0] in "`"
    assert "\n" not in problem.message


def test_every_kind_of_mistake_is_in_the_corpus() -> None:
    codes = {EXPECT.match(_expected_file(f).read_text()).group(1) for f in FILES}  # type: ignore
    for code in (
        "E-PATH",
        "E-TYPE",
        "E-CYCLE",
        "E-TABLE-OVERLAP",
        "E-NAME",
        "E-SYNTAX",
        "E-DUP-ID",
        "E-TASK-CYCLE",
        "E-ENUM",
        "E-TYPE-DURATION",
        "E-REF",
    ):
        assert code in codes


def test_load_raises_with_every_problem() -> None:
    with pytest.raises(engine.PackError) as info:
        engine.load(CORPUS / "cycle.yaml")
    assert info.value.problems[0].code == "E-CYCLE"
    assert "`a` -> `c` -> `b` -> `a`" in info.value.problems[0].message
