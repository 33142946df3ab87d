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
        "Tasks",  # followed by a table
        "Annex – Contacts and further reading",
    ]


def headings(tmp_path: Path, text: str) -> list[str]:
    """The headings found in a text, as written."""
    path = tmp_path / "text.txt"
    path.write_text(text, encoding="utf-8")
    source = read_source(path)
    return [source.lines[h] for h in source.headings]


BODY = "body " * 30 + "\n"


def test_a_table_row_is_not_a_heading_even_when_its_first_cell_has_no_tab(
    tmp_path: Path,
) -> None:
    text = "Categories\n\nTerm\tDefinition\tComment\nAgreed\t" + BODY + "\n\nAfter\n" + BODY
    assert headings(tmp_path, text) == ["Categories", "After"]


def test_a_line_that_states_a_date_is_not_a_heading(tmp_path: Path) -> None:
    text = (
        "Plan Submitted: 17 December 2018\n\nA response to the inspection: 18th- 29th June 2018"
        "\n\nReport Published: 21st November 2018\nINTRODUCTION\n" + BODY + "Issued 03/05/22\n"
        "Scope\n" + BODY
    )
    assert headings(tmp_path, text) == ["INTRODUCTION", "Scope"]


def test_a_further_paragraph_of_a_table_cell_is_not_a_heading(tmp_path: Path) -> None:
    # the extraction writes a cell's later paragraphs as plain lines and an empty cell as a
    # lone tab: a short line followed by an empty cell is inside the table
    text = "Tasks\n\tArea\n\tSources\n\nSafeguarding\n\n\t\n\t\n" + "2.8 " + BODY + "\tLimited\n"
    assert headings(tmp_path, text) == ["Tasks"]


def test_a_heading_ending_in_a_list_of_numbers_keeps_its_full_stop(tmp_path: Path) -> None:
    text = "Delivery under stages 4, 3, 2 and 1.\n" + BODY + "A short sentence.\n" + BODY
    assert headings(tmp_path, text) == ["Delivery under stages 4, 3, 2 and 1."]


# The headings found in each policy source, checked by eye against its text. Not found, and
# counted for coverage only because a pack cites them: table cells and their later paragraphs
# (`Key Work Exceptional Delivery Model`, `OPD`, `Where achievable QA should ...`), headings
# run together with the next line by the extraction or longer than a heading can be
# (`Priority prisoner groups include: Prisoners at risk of suicide or self – harm:`), and the
# document titles above the first heading.
POLICY_SOURCE_HEADINGS = {
    "000_11b96443687f8c08.txt": [  # its own table of contents
        "Personal Management Plans (PMPs)",
        "Introduction",
        "Local Governance",
        "Key Considerations",
        "Policy",
        "Clinical Risk Groups",
        "1. Immunosuppressed",
        "2. COVID-19 Treatment Eligible",
        "Specification",
        "Appendix A: Acknowledgement for those declining PMPs",
    ],
    "001_35b8cd0342a293c0.txt": [
        "OMiC Key Work",
        "Exceptional Delivery Models (EDMs)",
        "Exceptional Delivery Regime model: OMiC Key Work",
        "OMiC Key Work Reduction – Associated Risks",
        "Priority Prisoner Groups",
        "Prisoners presenting a high risk of serious harm:",
        "Extremist prisoners:",
        "Other priority prisoner groups:",
        "Delivery of OMiC Key Work under level 4, 3, 2 and 1.",
        "Delivery of Key Work under level 4;",
        "Wellbeing check for priority prisoners",
        "Delivery of Key Work under level 3 and level 2;",
        "Level 3 (Restrict) - High Level Descriptor",
        "Level 2 (Reduce) – High Level Descriptor",
        "Delivery of Key Work under level 1;",
        "Level 1 (Prepare) – High Level Descriptor",
    ],
    "002_3872e6b72bfcdd11.txt": [
        "INTRODUCTION",
        "ACTION PLAN: HMCIP THEMATIC REPORT – SOCIAL CARE IN PRISONS IN ENGLAND AND WALES",
    ],
    "003_cb2c8140e1f61681.txt": [
        "Introduction",
        "Exceptional Delivery Models (EDMs)",
        "Regime Recovery Management Plans- RRMP",
        "Exceptional Delivery Regime model: Offender Management Unit",
        "Importance of Offender management and associated risks",
        "Delivery of tasks completed by the Offender Management Unit under stages 4, 3, 2 and 1.",
        "Public Protection",
        "OASys",
        "Progression",
        "Stage 3 (Restrict) - High Level Descriptor",
        "Stage 2 (Reduce) – High Level Descriptor",
        "Stage 1 (Prepare) – High Level Descriptor",
        "Guide to weightings/prioritisation (mandatory tasks only)",
        "Guide to autonomy levels (mandatory tasks only)",
    ],
    "004_c9bc2a767525f00c.txt": [
        "INTRODUCTION",
        "ACTION PLAN: HMCIP REPORT",
        "ESTABLISHMENT: HMP SEND",  # the second line of the plan's title, before its table
    ],
}


@pytest.mark.skipif(
    not SHARED_SOURCES.is_dir(), reason="the shared sources are not beside the repository"
)
@pytest.mark.parametrize("name", sorted(POLICY_SOURCE_HEADINGS))
def test_headings_of_each_policy_source(name: str) -> None:
    source = read_source(SHARED_SOURCES / name)
    assert [source.lines[h] for h in source.headings] == POLICY_SOURCE_HEADINGS[name]


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
            "sections": 5,
            "cited": 4,
            "uncited": ["Annex – Contacts and further reading"],
        }
    }


def test_a_heading_with_no_text_of_its_own_counts_only_when_cited(tmp_path: Path) -> None:
    """The title, followed straight by a heading, has nothing to cite but its subsections."""
    assert read_source(SOURCES / "small_guidance.txt").bare == {"small guidance for tests"}
    path = write_pack(
        tmp_path,
        "cite: {section: Levels, row: Level 4}",
        "cite: [{section: Levels, row: Level 4}, {section: Small guidance for tests}]",
    )
    _, coverage = check_sources(load(path), SOURCES)
    assert (coverage["docs_small"]["sections"], coverage["docs_small"]["cited"]) == (6, 5)


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
        "source coverage docs_small: 4/5 sections cited; not cited: "
        "Annex – Contacts and further reading"
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
        # coverage reports as not cited only real headings, not table rows or dates
        real = POLICY_SOURCE_HEADINGS.get(cov["source"])
        if real is not None:
            assert set(cov["uncited"]) <= set(real), pid


def _examples_beside_pack(tmp_path: Path, cites: list[str]) -> Path:
    """The small pack in `tmp_path` and its worked examples in `tests/`, the first cases
    citing `cites` (one a case); the worked-example file's path, relative to `tmp_path`."""
    (tmp_path / SMALL.name).write_text(SMALL.read_text(encoding="utf-8"), encoding="utf-8")
    text = (SMALL.parent / "tests" / "docs_small.yaml").read_text(encoding="utf-8")
    cases = text.split("  - name: ")
    for i, cite in enumerate(cites, 1):
        cases[i] = cases[i].replace("\n    as_of:", f"\n    cite: {cite}\n    as_of:", 1)
    (tmp_path / "tests").mkdir()
    out = tmp_path / "tests" / "docs_small.yaml"
    out.write_text("  - name: ".join(cases), encoding="utf-8")
    return Path("tests") / "docs_small.yaml"


def test_check_sources_checks_a_worked_example_files_citations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, snapshot: object
) -> None:
    examples = _examples_beside_pack(
        tmp_path, ["{section: Sessions, paragraph: 1}", "[{section: Levels}, {section: Sesions}]"]
    )
    (tmp_path / "sources").mkdir()
    for text in SOURCES.iterdir():
        (tmp_path / "sources" / text.name).write_bytes(text.read_bytes())
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check", str(examples), "--sources", "sources"])
    assert result.exit_code == 1, result.output
    snapshot.snapshot_dir = ROOT / "tests" / "unit" / "snapshots"  # type: ignore[attr-defined]
    snapshot.assert_match(result.output, "check_examples_sources.txt")  # type: ignore


def test_check_sources_says_a_worked_example_file_cites_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    examples = _examples_beside_pack(tmp_path, [])
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check", str(examples), "--sources", str(SOURCES)])
    assert result.exit_code == 0, result.output
    assert (
        f"worked examples `{examples}`: no case cites the source, so nothing was checked "
        f"against `{SOURCES}`"
    ) in result.output
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "other.txt").write_text("Other\n", encoding="utf-8")
    elsewhere = CliRunner().invoke(cli, ["check", str(examples), "--sources", "other"])
    assert elsewhere.exit_code == 0, elsewhere.output
    assert (
        f"worked examples `{examples}`: the source of pack `docs_small` is not in `other`, so "
        "nothing was checked (as for the pack)"
    ) in elsewhere.output
    missing = CliRunner().invoke(cli, ["check", str(examples), "--sources", "nowhere"])
    assert missing.exit_code == 2 and "no sources directory `nowhere`" in missing.output


def test_check_sources_of_a_folder_checks_its_worked_examples_citations_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _examples_beside_pack(tmp_path, ["{section: Sesions}"])
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check", ".", "--sources", str(SOURCES)])
    assert result.exit_code == 1, result.output
    assert (
        "tests/docs_small.yaml:5:11: error: section `Sesions` is not a heading of "
        "`small_guidance.txt` [E-CITE-SECTION]"
    ) in result.output
