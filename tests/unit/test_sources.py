"""Tests for source coverage: headings found in a text, cited sections checked, `--sources`."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import engine
from cli.main import cli
from engine.tools.source_coverage import check_sources, normalise, read_source

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
SOURCES = DATA / "sources"
SMALL = DATA / "docs" / "docs_small.yaml"
SHARED_SOURCES = ROOT.parent / "shared" / "sources"


def load(path: Path) -> dict[str, engine.model.Pack]:
    packs, problems = engine.check_paths([path])
    assert not [p for p in problems if p.is_error], [p.format() for p in problems]
    return packs


def test_normalise_whitespace_dashes_quotes_and_case() -> None:
    assert normalise("Stage 2 (Reduce) – High Level Descriptor") == normalise(
        "stage 2 (reduce) - high  level descriptor"
    )
    assert normalise("Self – harm") == normalise("self-harm")
    assert normalise("POM’s “guide”") == normalise('POM\'s "guide"')
    assert normalise("[bookmark: _Toc1]Introduction ") == "introduction"
    assert normalise("Delivery under level 4;") == normalise("Delivery under level 4")


def test_headings_of_a_plain_text() -> None:
    source = read_source(SOURCES / "small_guidance.txt")
    assert [source.lines[h] for h in source.headings] == [
        "Small guidance for tests",  # followed by a heading that is followed by body text
        "Introduction",
        "Levels",  # followed by bullets
        "Sessions",
        # not "Tasks": table cells (lines starting with a tab) are not body text; it counts as
        # a heading for coverage only because a pack cites it
        "Annex – Contacts and further reading",
    ]


def test_table_of_contents_marks_win(tmp_path: Path) -> None:
    text = tmp_path / "toc.txt"
    text.write_text(
        "[bookmark: _Toc1]Scope\nShort line\n" + "body " * 30 + "\n"
        "1. [bookmark: _Toc2]Groups\n" + "body " * 30 + "\n",
        encoding="utf-8",
    )
    source = read_source(text)
    assert [source.lines[h] for h in source.headings] == ["Scope", "1. Groups"]
    assert source.find("Groups") == "groups"  # a leading list number may be left out


def test_small_pack_cites_only_real_headings() -> None:
    problems, coverage = check_sources(load(SMALL), SOURCES)
    assert problems == []
    assert coverage == {
        "docs_small": {
            "source": "small_guidance.txt",
            "sections": 6,
            "cited": 4,
            "uncited": ["Small guidance for tests", "Annex – Contacts and further reading"],
        }
    }


def write_pack(tmp_path: Path, old: str, new: str) -> Path:
    text = SMALL.read_text(encoding="utf-8").replace(old, new, 1)
    assert text != SMALL.read_text(encoding="utf-8")
    path = tmp_path / "docs_small.yaml"
    path.write_text(text.replace("../../../schemas", "../schemas"), encoding="utf-8")
    return path


def test_misspelt_section_is_an_error_at_the_citation(tmp_path: Path) -> None:
    path = write_pack(
        tmp_path,
        "cite: {section: Sessions, paragraph: 1}",
        "cite: {section: Sesions, paragraph: 1}",
    )
    lines = path.read_text(encoding="utf-8").splitlines()
    line = next(n for n, text in enumerate(lines, 1) if "Sesions" in text)
    problems, _ = check_sources(load(path), SOURCES)
    assert [(p.code, p.severity, p.line) for p in problems] == [("E-CITE-SECTION", "error", line)]
    p = problems[0]
    assert p.col == lines[line - 1].index("Sesions") + 1
    assert p.message == "section `Sesions` is not a heading of `small_guidance.txt`"
    assert p.hint == "did you mean `Sessions`?"


def test_citation_of_another_document_is_checked_there(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "small_guidance.txt").write_text(
        (SOURCES / "small_guidance.txt").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (sources / "other.txt").write_text(
        "Other\nAppendix B – Forms\n" + "body " * 30 + "\n", encoding="utf-8"
    )
    good = write_pack(
        tmp_path,
        "cite: {section: Levels, row: Level 4}\n",
        "cite: {section: Appendix B - Forms, document: other.txt}\n",
    )
    problems, _ = check_sources(load(good), sources)
    assert problems == []
    (tmp_path / "docs_small.yaml").unlink()
    bad = write_pack(
        tmp_path,
        "cite: {section: Levels, row: Level 4}\n",
        "cite: {section: Levels, document: other.txt}\n",
    )
    problems, _ = check_sources(load(bad), sources)
    assert [p.code for p in problems] == ["E-CITE-SECTION"]
    assert "`other.txt`" in problems[0].message


def test_missing_document_is_a_warning(tmp_path: Path) -> None:
    path = write_pack(
        tmp_path,
        "cite: {section: Levels, row: Level 4}\n",
        "cite: {section: Levels, document: missing.txt}\n",
    )
    problems, _ = check_sources(load(path), SOURCES)
    assert [(p.code, p.severity) for p in problems] == [("W-CITE-DOCUMENT", "warning")]


def test_pack_whose_source_is_not_there_is_skipped(tmp_path: Path) -> None:
    problems, coverage = check_sources(load(SMALL), tmp_path)
    assert problems == [] and coverage == {}


def test_check_command_reports_coverage() -> None:
    result = CliRunner().invoke(cli, ["check", str(SMALL.parent), "--sources", str(SOURCES)])
    assert result.exit_code == 0, result.output
    assert (
        "source coverage docs_small: 4/6 sections cited; not cited: Small guidance for "
        "tests, Annex – Contacts and further reading"
    ) in result.output


@pytest.mark.skipif(
    not SHARED_SOURCES.is_dir(), reason="the shared sources are not beside the repository"
)
def test_every_policy_citation_names_a_real_heading() -> None:
    packs, found = engine.check_paths([ROOT / "policies"])
    assert packs and not [p for p in found if p.is_error], [p.format() for p in found]
    problems, coverage = check_sources(packs, SHARED_SOURCES)
    assert [p.format() for p in problems if p.is_error] == []
    for pid, cov in coverage.items():
        assert 0 < cov["cited"] <= cov["sections"], pid
