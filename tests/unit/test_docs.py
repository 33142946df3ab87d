"""Tests for the rendered docs: every pack's page, links that resolve, the Markdown golden file."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import engine
from cli.main import cli
from engine.tools.docs_site import (
    Bullets,
    DocTable,
    Facts,
    Heading,
    Para,
    pack_page,
    to_html,
    to_markdown,
    write_site,
)
from engine.tools.render_svg import layers
from engine.tools.worked_examples import read_cases, run_case
from engine.tools.worked_examples import test_files as example_files

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"
SMALL_DIR = ROOT / "tests" / "data" / "docs"
SNAPSHOTS = Path(__file__).parent / "snapshots"


class Links(HTMLParser):
    """The ids and link targets of an HTML page, and whether it has a script."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        if tag == "a" and found.get("href"):
            self.hrefs.append(str(found["href"]))
        if tag == "script":
            self.scripts += 1


def parse(path: Path) -> Links:
    links = Links()
    links.feed(path.read_text(encoding="utf-8"))
    return links


def build(paths: list[Path], out: Path) -> dict[str, Any]:
    packs, _ = engine.check_paths(paths)
    cases, _ = read_cases(example_files(paths), packs)
    results = [run_case(c, packs) for c in cases if c.pack in packs]
    write_site(packs, results, out)
    return packs


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("site")
    packs = build([POLICIES, SMALL_DIR], out)
    assert {"docs_small", "keywork_edm", "omu_edm", "pmp", "action_plan"} <= set(packs)
    return out, packs


def test_every_pack_has_a_page_in_both_forms(site: tuple[Path, dict[str, Any]]) -> None:
    out, packs = site
    assert "docs_small" in packs
    for pid, pack in packs.items():
        html = (out / f"{pid}.html").read_text(encoding="utf-8")
        md = (out / f"{pid}.md").read_text(encoding="utf-8")
        assert f"<title>{pack.title}" in html.replace("&#x27;", "'")
        assert f"\n# {pack.title}\n" in md.replace("\\", "")
        for rule in pack.rules:
            assert f'id="rule-{rule.id.lower()}"' in html
    index = parse(out / "index.html")
    assert {f"{pid}.html" for pid in packs} <= set(index.hrefs)


def test_every_interpretation_is_listed_in_both_forms(site: tuple[Path, dict[str, Any]]) -> None:
    out, packs = site
    for pid, pack in packs.items():
        html = (out / f"{pid}.html").read_text(encoding="utf-8")
        md = (out / f"{pid}.md").read_text(encoding="utf-8")
        assert pack.interpretations, pid  # every pack here records at least one
        for iid in pack.interpretations:
            anchor = f"interp-{iid.lower()}"
            assert f'id="{anchor}"' in html, (pid, iid)
            assert f'<a id="{anchor}"></a>' in md and f"### `{iid}`" in md, (pid, iid)


def test_internal_links_resolve(site: tuple[Path, dict[str, Any]]) -> None:
    out, _ = site
    pages = {p.name: parse(p) for p in out.glob("*.html")}
    broken = []
    for name, page in pages.items():
        for href in page.hrefs:
            if "://" in href:
                continue
            target, _, fragment = href.partition("#")
            target = target or name
            if target not in pages:
                broken.append(f"{name}: {href} (no file)")
            elif fragment and fragment not in pages[target].ids:
                broken.append(f"{name}: {href} (no id)")
    assert broken == []


def test_markdown_links_resolve(site: tuple[Path, dict[str, Any]]) -> None:
    out, _ = site
    pages = {p.name: p.read_text(encoding="utf-8") for p in out.glob("*.md")}
    ids = {n: set(re.findall(r'<a id="([^"]+)"></a>', t)) for n, t in pages.items()}
    broken = []
    for name, text in pages.items():
        for href in re.findall(r"\]\(([^)\s]+)\)", text):
            if "://" in href:
                continue
            target, _, fragment = href.partition("#")
            target = target or name
            if target.endswith(".svg"):
                if not (out / target).exists():
                    broken.append(f"{name}: {href}")
            elif target not in pages or (fragment and fragment not in ids[target]):
                broken.append(f"{name}: {href}")
    assert broken == []


def test_pages_need_no_javascript_and_print(site: tuple[Path, dict[str, Any]]) -> None:
    out, _ = site
    for page in out.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert parse(page).scripts == 0
        assert "@media print" in text
        assert 'nav class="toc"' in text


def test_task_graph_is_inline_svg(site: tuple[Path, dict[str, Any]]) -> None:
    out, packs = site
    for pid, pack in packs.items():
        html = (out / f"{pid}.html").read_text(encoding="utf-8")
        if pack.task_graph is None or not pack.tasks:
            assert "<svg" not in html
            continue
        svg = html[html.index("<svg") : html.index("</svg>")]
        assert svg.count("<rect") == len(pack.tasks)
        assert svg.count("marker-end=") == pack.task_graph.number_of_edges()
        assert (out / f"{pid}-tasks.svg").exists()


def test_layers_follow_longest_paths() -> None:
    import networkx as nx

    g = nx.DiGraph([("1", "2"), ("2", "3"), ("1", "3"), ("4", "3")])
    assert layers(g) == [["1", "4"], ["2"], ["3"]]


def test_rule_lists_the_worked_examples_that_apply_it(site: tuple[Path, dict[str, Any]]) -> None:
    out, _ = site
    md = (out / "docs_small.md").read_text(encoding="utf-8")
    sm02 = md[md.index('<a id="rule-sm-02">') : md.index('<a id="rule-sm-03">')]
    assert (
        "open ACCT at level 4 is a priority (tests/docs\\_small.yaml:4, as of 2021-02-01)" in sm02
    )
    sm03 = md[md.index('<a id="rule-sm-03">') :]
    assert "none applies this rule" in sm03


def test_markdown_golden(snapshot: Any) -> None:
    packs, _ = engine.check_paths([SMALL_DIR])
    cases, _ = read_cases(example_files([SMALL_DIR]), packs)
    page = pack_page(packs["docs_small"], [run_case(c, packs) for c in cases])
    snapshot.snapshot_dir = SNAPSHOTS
    md = to_markdown(page)
    # the content hash changes with every edit of the pack file: keep it out of the golden file
    md = re.sub(r"sha256:[0-9a-f]+", "sha256:…", md)
    snapshot.assert_match(md, "docs_small.md")
    assert "<svg" in to_html(page)


def test_docs_command(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["docs", str(SMALL_DIR), "--out", str(tmp_path / "site")])
    assert result.exit_code == 0, result.output
    assert "wrote 2 HTML page(s) and 2 Markdown page(s) for 1 pack(s)" in result.output
    assert sorted(p.name for p in (tmp_path / "site").iterdir()) == [
        "docs_small-tasks.svg",
        "docs_small.html",
        "docs_small.md",
        "index.html",
        "index.md",
    ]


def test_a_pack_with_its_own_facts_schema_names_it_from_the_pack(tmp_path: Path) -> None:
    custom = Path(__file__).resolve().parents[2] / "examples" / "custom_pack"
    build([custom], tmp_path)
    page = (tmp_path / "visits.md").read_text(encoding="utf-8")
    assert "from the facts schema `schemas/visits.schema.json` (beside the pack)" in page
    assert str(custom) not in page  # no path of the machine that wrote the page


def test_docs_command_bad_input(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["docs", str(tmp_path / "nope"), "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "no such file or directory" in result.output
    broken = ROOT / "tests" / "corpus" / "packs" / "cycle.yaml"
    result = CliRunner().invoke(cli, ["docs", str(broken), "--out", str(tmp_path / "s")])
    assert result.exit_code == 1
    assert "[E-CYCLE]" in result.output


def test_a_page_that_fails_to_render_changes_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every page is rendered before any is written, and each is written whole: a run that
    fails part way leaves the site it found, with no temporary file beside it."""
    out = tmp_path / "site"
    assert CliRunner().invoke(cli, ["docs", str(SMALL_DIR), "--out", str(out)]).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    import engine.tools.docs_site as docs_site

    real = docs_site.to_markdown

    def failing(page: Any) -> str:
        if page.name != "index":
            raise RuntimeError("rendering failed")
        return real(page) + "changed"

    monkeypatch.setattr(docs_site, "to_markdown", failing)
    packs = engine.load(SMALL_DIR)
    with pytest.raises(RuntimeError, match="rendering failed"):
        write_site(packs, [], out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


# -- what a local plan may vary ----------------------------------------------------------------


@pytest.fixture(scope="module")
def policy_packs() -> dict[str, Any]:
    packs, _ = engine.check_paths([POLICIES])
    assert {"keywork_edm", "omu_edm"} <= set(packs)
    return packs


def _runs(block: Any) -> list[Any]:
    """Every run of inline text in a block of a page."""
    if isinstance(block, Heading):
        return list(block.title)
    if isinstance(block, Para):
        return list(block.body)
    if isinstance(block, Facts):
        return [r for _, value in block.items for r in value]
    if isinstance(block, Bullets):
        return [r for item in block.items for r in item]
    if isinstance(block, DocTable):
        return [r for row in block.rows for cell in row for r in cell]
    return []


def _anchors(page: Any) -> set[str]:
    found = set()
    for b in page.blocks:
        if isinstance(b, Heading):
            found.add(b.anchor)
        elif isinstance(b, DocTable):
            found.update(i for i in b.row_ids if i)
    return found


def _local_blocks(page: Any) -> list[Any]:
    """The blocks of the section on what a local plan may vary (empty when there is none)."""
    out: list[Any] = []
    for b in page.blocks:
        if isinstance(b, Heading) and b.level <= 2:
            if out:
                break
            if b.anchor == "local":
                out.append(b)
        elif out:
            out.append(b)
    return out


def test_local_section_golden(policy_packs: dict[str, Any], snapshot: Any) -> None:
    """The key work pack's section, in the contents and on the page, as a reader sees it."""
    md = to_markdown(pack_page(policy_packs["keywork_edm"], (), policy_packs))
    contents = md[md.index("- [What a local plan may vary](#local)") :]
    contents = contents[: contents.index("- [Interpretations]")]
    section = md[md.index('<a id="local"></a>') : md.index('<a id="interpretations"></a>')]
    snapshot.snapshot_dir = SNAPSHOTS
    snapshot.assert_match(contents + "\n" + section, "docs_keywork_edm_local.md")


def test_a_pack_without_a_local_block_has_no_local_section() -> None:
    packs, _ = engine.check_paths([SMALL_DIR])
    assert packs["docs_small"].local is None
    page = pack_page(packs["docs_small"])
    assert _local_blocks(page) == []
    assert not any(a == "local" or a.startswith("local-") for a in _anchors(page))
    assert "What a local plan may vary" not in to_markdown(page)
    assert "What a local plan may vary" not in to_html(page)


@pytest.mark.parametrize("pid", ["keywork_edm", "omu_edm"])
def test_local_section_links_resolve(policy_packs: dict[str, Any], pid: str) -> None:
    """Every link of the section names an anchor of its page, or of the page of the pack whose
    item is declared the same; shown without the other pack, the section links to no page."""
    pages = {p: pack_page(policy_packs[p], (), policy_packs) for p in ("keywork_edm", "omu_edm")}
    section = _local_blocks(pages[pid])
    assert section, f"{pid} has a `local:` block but its page no section"
    hrefs = [r.href for b in section for r in _runs(b) if r.href]
    assert any(h.startswith("#rule-") for h in hrefs)
    assert any(h.startswith("#local-part-") for h in hrefs)
    other = "omu_edm" if pid == "keywork_edm" else "keywork_edm"
    assert any(h.startswith(f"{other}.html#local-") for h in hrefs)
    for href in hrefs:
        page, _, frag = href.partition("#")
        target = pages[page.removesuffix(".html")] if page else pages[pid]
        assert not frag or frag in _anchors(target), f"{pid}: {href} names no anchor"
    alone = _local_blocks(pack_page(policy_packs[pid]))
    assert all((r.href or "#").startswith("#") for b in alone for r in _runs(b))


def test_interpretations_name_the_local_entries_relying_on_them(
    policy_packs: dict[str, Any],
) -> None:
    md = to_markdown(pack_page(policy_packs["keywork_edm"], (), policy_packs))
    i42 = md[md.index('<a id="interp-i-kw-42">') :]
    i42 = i42[: i42.index("**Relied on by**") + 400]
    assert "(#local-cond-shorter-sessions-permitted)" in i42


def test_the_facts_section_lists_every_fact_the_pack_reads(policy_packs: dict[str, Any]) -> None:
    """Each fact a pack's expressions read (records read only on the way to their fields
    aside) has a row: its type, the facts schema's description, its audience and links to
    the items that read it; a healthcare-only fact is marked so."""
    for pid, pack in policy_packs.items():
        md = to_markdown(pack_page(pack, (), policy_packs))
        section = md[md.index('<a id="facts"></a>') : md.index('<a id="definitions"></a>')]
        read = {p for _, e in pack.expressions() for p in e.checked.fact_paths}
        leaves = {p for p in read if not any(o.startswith(p + ".") for o in read)}
        for path in leaves:
            rows = [line for line in section.splitlines() if line.startswith("|")]
            (row,) = [line for line in rows if f"`{path}`" in line.split("|")[1]]
            assert "](#" in row.split("|")[5], (pid, path)
    pmp = to_markdown(pack_page(policy_packs["pmp"], (), policy_packs))
    (row,) = [line for line in pmp.splitlines() if "`prisoner.clinical.conditions`" in line[:120]]
    cells = [c.strip() for c in row.split("|")]
    assert cells[2].startswith("list, each one of ") and cells[4] == "healthcare only"
    assert "Clinical condition codes" in cells[3]
