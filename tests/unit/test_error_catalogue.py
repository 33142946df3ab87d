"""The error catalogue: every code the engine can report is in `engine.problems.CATALOGUE`, has
its entry in docs/errors.md (generated from the catalogue and the corpus), and is produced by at
least one bad input under tests/corpus/ (whose own test checks that it does).

After adding a code or a corpus file: `pytest tests/unit/test_error_catalogue.py
--snapshot-update` rewrites docs/errors.md."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, get_args

import pytest

from engine.problems import CATALOGUE, Code

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "corpus"
DOC = ROOT / "docs" / "errors.md"
HEADER = re.compile(r"#\s*expect:\s*(?P<code>[A-Z0-9-]+)")
LITERAL = re.compile(r"""["']([EW]-[A-Z0-9]+(?:-[A-Z0-9]+)*)["']""")
MAX_LINES, MAX_WIDTH = 30, 96


def corpus_inputs() -> dict[str, list[Path]]:
    """Each code and the corpus inputs whose `# expect:` header names it, smallest first.

    An input is a file whose first line is the header, a file with the header beside it in
    `NAME.expect` (JSON holds no comments), or a directory with an `EXPECT` file."""
    found: dict[str, list[Path]] = {}
    for path in sorted(CORPUS.rglob("*")):
        if not path.is_file():
            continue
        if path.name == "EXPECT":
            target = path.parent
        elif path.suffix == ".expect":
            target = path.with_suffix("")
        else:
            target = path
        first = path.read_bytes().split(b"\n", 1)[0].decode("utf-8", errors="replace")
        match = HEADER.match(first)
        if match:
            found.setdefault(match["code"], []).append(target)
    for paths in found.values():
        paths.sort(key=lambda p: (_size(p), str(p)))
    return found


def _size(path: Path) -> int:
    files = sorted(path.rglob("*")) if path.is_dir() else [path]
    return sum(f.stat().st_size for f in files if f.is_file())


def _shown(path: Path) -> str:
    """A corpus input as the docs show it: its text, long lines and long files cut short."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    lines = text.rstrip("\n").split("\n")
    cut = [line if len(line) <= MAX_WIDTH else line[:MAX_WIDTH] + "…" for line in lines]
    if len(cut) > MAX_LINES:
        cut = cut[:MAX_LINES] + [f"… ({len(lines) - MAX_LINES} more lines)"]
    fence = "json" if path.suffix == ".json" else "yaml" if path.suffix == ".yaml" else "text"
    return f"```{fence}\n" + "\n".join(cut) + "\n```\n"


def _example(path: Path) -> str:
    where = path.relative_to(ROOT).as_posix()
    if path.is_dir():
        files = [f for f in sorted(path.iterdir()) if f.name != "EXPECT"]
        if not files:
            expect = (path / "EXPECT").read_text(encoding="utf-8")
            return f"`{where}/` (a directory):\n\n" + f"```text\n{expect}```\n"
        return "\n".join(f"`{f.relative_to(ROOT).as_posix()}`:\n\n{_shown(f)}" for f in files)
    beside = path.with_name(path.name + ".expect")
    header = ""
    if beside.exists():
        header = f"with `{beside.relative_to(ROOT).as_posix()}`:\n\n{_shown(beside)}\n"
    return f"`{where}`:\n\n{_shown(path)}" + (f"\n{header}" if header else "")


def generate() -> str:
    """docs/errors.md: the table of every code, then per code its meaning and a bad input."""
    inputs = corpus_inputs()
    out = [
        "# Error and warning codes",
        "",
        "Every problem `regime` reports has one of these stable codes. Problems print as",
        "`path:line:col: error|warning: message [CODE]`, then the offending line with a caret",
        "under the column, then a hint. This page is generated from the catalogue in",
        "`engine/problems.py` and the bad-input corpus under `tests/corpus/` (each example is",
        "checked by a test to produce its code); `pytest tests/unit/test_error_catalogue.py",
        "--snapshot-update` regenerates it.",
        "",
        "| code | severity | stage | meaning |",
        "| --- | --- | --- | --- |",
    ]
    for code, entry in CATALOGUE.items():
        out.append(
            f"| [`{code}`](#{code.lower()}) | {entry.severity} | {entry.stage} | {entry.meaning} |"
        )
    out.append("")
    for code, entry in CATALOGUE.items():
        out += [
            f"## {code}",
            "",
            f"{entry.severity.capitalize()}, {entry.stage}: {entry.meaning}.",
            "",
        ]
        examples = inputs.get(code)
        if examples:
            out.append("A bad input that produces it, " + _example(examples[0]))
    return "\n".join(out).rstrip("\n") + "\n"


def test_the_code_type_and_the_catalogue_list_the_same_codes() -> None:
    assert list(get_args(Code)) == list(CATALOGUE)


def test_every_code_the_code_uses_is_in_the_catalogue() -> None:
    used: set[str] = set()
    for folder in ("engine", "cli"):
        for path in (ROOT / folder).rglob("*.py"):
            used |= set(LITERAL.findall(path.read_text(encoding="utf-8")))
    assert used - set(CATALOGUE) == set()


@pytest.mark.parametrize("code", list(CATALOGUE))
def test_every_code_is_documented(code: str) -> None:
    doc = DOC.read_text(encoding="utf-8")
    assert f"\n## {code}\n" in doc, f"{code} has no entry in docs/errors.md"
    entry = doc.split(f"\n## {code}\n", 1)[1].split("\n## ", 1)[0]
    assert CATALOGUE[code].meaning in entry, f"{code}: docs/errors.md lacks its meaning"  # type: ignore[index]
    assert "A bad input that produces it" in entry, f"{code}: docs/errors.md lacks an example"


@pytest.mark.parametrize("code", list(CATALOGUE))
def test_every_code_is_produced_by_a_corpus_input(code: str) -> None:
    assert corpus_inputs().get(code), f"no input under tests/corpus/ expects {code}"


def test_every_corpus_input_expects_a_catalogued_code() -> None:
    assert set(corpus_inputs()) - set(CATALOGUE) == set()


def test_the_page_is_generated_from_the_catalogue(snapshot: Any) -> None:
    snapshot.snapshot_dir = DOC.parent
    snapshot.assert_match(generate(), DOC.name)
