"""Source coverage: checks cited section headings against the source texts and lists uncited ones.

The sources are plain-text extractions of office documents, so "what is a section heading"
is a heuristic. It is deterministic and works line by line:

1. Every line is cleaned before it is compared: extraction markers (`[bookmark: ...]`) are
   removed, Unicode is NFKC-normalised, every dash becomes `-` (spaces around it dropped),
   curly quotes become straight ones, runs of whitespace become one space, letters are
   case-folded, and trailing `:;,.` are dropped. A leading list number (`1.`, `2.3`, `a)`)
   may be left out of a citation.
2. When a document carries its own table of contents (lines marked `[bookmark: _Toc...]`),
   those lines are its headings.
3. Otherwise a line is a heading when it is short (3 to 89 characters), is not part of a
   table (the extraction separates cells with tabs, so a line holding a tab is a table row or
   cell, and a lone tab is an empty cell), not a bullet, not a sentence (does not end with a
   full stop, unless the full stop closes a list of numbers: `stages 4, 3, 2 and 1.`), not a
   lead-in list (a line ending with `:` has at most eight words), does not state a date
   (`Report Published: 16 October 2018`, `03/05/22`: a document's details, not its
   sections), and is followed by body text: the next non-blank line is long (90 characters
   or more), a bullet or a table row with text, or is itself a heading by this rule. The
   extraction writes the later paragraphs of a table cell as plain lines, so a short line
   that follows a table row with at most one blank line between, or that is followed by an
   empty cell, is inside a table and not a heading.
4. Every line a pack cites is a heading too, whatever its shape.
5. A heading with no text of its own (the next non-blank line is another heading: a
   document's title, a parent section) has nothing to cite but its subsections, which are
   counted themselves; coverage leaves it out unless a pack cites it.

A citation is correct when its section equals a whole line of the document it names (its
`document`, else the pack's `source.file`) after cleaning. Coverage counts the headings of
each pack's own source document and which of them the pack cites.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from engine.packs import model as M
from engine.problems import PackError, Problem, closest, problem

HEADING_MAX = 90
LEAD_IN_WORDS = 8
BULLETS = ("·", "•", "▪", "◦", "\uf0b7", "- ", "* ", "o ")

_MARKER = re.compile(r"\[bookmark:[^\]]*\]")
_TOC = re.compile(r"\[bookmark:\s*_Toc")
_DASHES = re.compile(r"\s*[-\u2010\u2011\u2012\u2013\u2014\u2015\u2212]\s*")
_NUMBER = re.compile(r"^(?:\d+(?:\.\d+)*[.)]?|[a-z][.)])\s+")
_NUMBER_LIST_END = re.compile(r"\d+(?:,\s*\d+)*,?\s+(?:and|or|to)\s+\d+\.$")
_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_DATE = re.compile(
    rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS})\s+\d{{4}}\b|\b\d{{1,2}}/\d{{1,2}}/\d{{2,4}}\b",
    re.IGNORECASE,
)
_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
    }
)


def normalise(text: str) -> str:
    """The form headings and citations are compared in (see the module docstring)."""
    text = unicodedata.normalize("NFKC", _MARKER.sub("", text)).translate(_QUOTES)
    text = _DASHES.sub("-", " ".join(text.split()))
    return text.casefold().rstrip(":;,. ").strip()


def _clean(line: str) -> str:
    return " ".join(_MARKER.sub("", line).split())


def _is_bullet(clean: str) -> bool:
    return clean.startswith(BULLETS)


@dataclass
class SourceText:
    """One source document: its lines in compared form and the headings found in it."""

    name: str
    lines: dict[str, str] = field(default_factory=dict)  # compared form -> the line as written
    headings: list[str] = field(default_factory=list)  # compared forms, in document order
    bare: set[str] = field(default_factory=set)  # headings with no text of their own (rule 5)

    def find(self, section: str) -> str | None:
        """The compared form of the line a cited section names, or None."""
        key = normalise(section)
        if key in self.lines:
            return key
        bare = _NUMBER.sub("", key)
        return bare if bare in self.lines else None

    def suggestion(self, section: str) -> str | None:
        """The heading (or else short line) closest to a section that is not found."""
        key = normalise(section)
        for pool in (self.headings, [k for k in self.lines if len(k) < HEADING_MAX]):
            for k in pool:
                if key and (key in k or k in key) and len(k) < HEADING_MAX:
                    return self.lines[k]
            close = closest(key, pool)
            if close is not None:
                return self.lines[close]
        return None


def read_source(path: Path) -> SourceText:
    """Read a source text and find its headings."""
    raw = path.read_text(encoding="utf-8", errors="replace").splitlines()
    source = SourceText(path.name)
    for line in raw:
        clean = _clean(line)
        if not clean:
            continue
        for key in {normalise(clean), _NUMBER.sub("", normalise(clean))}:
            if key:
                source.lines.setdefault(key, clean)
    toc = [line for line in raw if _TOC.search(line) and len(_clean(line)) < HEADING_MAX]
    if toc:
        found = [_NUMBER.sub("", normalise(line)) for line in toc]
    else:
        at = _heading_lines(raw)
        found = [normalise(raw[i]) for i in at]
        heads = set(at)
        for i in at:
            nxt = next((j for j in range(i + 1, len(raw)) if _clean(raw[j])), None)
            if nxt in heads:
                source.bare.add(normalise(raw[i]))
    for key in found:
        if key and key not in source.headings:
            source.headings.append(key)
    return source


def _heading_lines(raw: list[str]) -> list[int]:
    """Indexes of the lines that look like headings (rule 3 of the module docstring)."""
    shapes = [_shape(line) for line in raw]
    for i in range(len(raw)):
        if shapes[i] == "short" and _after_a_row(shapes, i):
            shapes[i] = "other"  # a later paragraph of a table cell
    following = [_next_nonblank(shapes, i) for i in range(len(raw))]

    def direct(i: int) -> bool:
        nxt = following[i]
        return shapes[i] == "short" and nxt is not None and shapes[nxt] in ("body", "bullet", "row")

    out = []
    for i in range(len(raw)):
        nxt = following[i]
        if direct(i) or (shapes[i] == "short" and nxt is not None and direct(nxt)):
            out.append(i)
    return out


def _after_a_row(shapes: list[str], i: int) -> bool:
    """Whether line `i` follows a table row or empty cell with at most one blank line between."""
    table = ("row", "empty-cell")
    if i >= 1 and shapes[i - 1] in table:
        return True
    return i >= 2 and shapes[i - 1] == "blank" and shapes[i - 2] in table


def _next_nonblank(shapes: list[str], i: int) -> int | None:
    for j in range(i + 1, len(shapes)):
        if shapes[j] != "blank":
            return j
    return None


def _shape(line: str) -> str:
    """The kind of a line: `blank`, `row`, `empty-cell`, `bullet`, `body`, `short` or `other`."""
    clean = _clean(line)
    if "\t" in line:
        return "row" if clean else "empty-cell"
    if not clean:
        return "blank"
    if _is_bullet(clean):
        return "bullet"
    if len(clean) >= HEADING_MAX:
        return "body"
    if (
        len(clean) < 3
        or (clean.endswith(".") and not _NUMBER_LIST_END.search(clean))
        or not any(c.isalpha() for c in clean)
        or "://" in clean
        or (clean.endswith(":") and len(clean.split()) > LEAD_IN_WORDS)
        or _DATE.search(clean)
    ):
        return "other"
    return "short"


def _checked(
    cite: M.Citation,
    file: str,
    own: str,
    sources_dir: Path,
    read: Callable[[str], SourceText],
    problems: list[Problem],
) -> str | None:
    """The compared form of the heading `cite` (standing in `file`, its document by default
    `own`) names; None, with a problem added, when its document or heading is not there."""
    if cite.section is None:
        return None
    name = cite.document or own
    if not (sources_dir / name).is_file():
        problems.append(
            problem(
                "W-CITE-DOCUMENT",
                file,
                cite.line,
                cite.col,
                f"cited document `{name}` is not in the sources directory; "
                f"section `{cite.section}` was not checked",
                "name a file of the sources directory in `document`",
            )
        )
        return None
    source = read(name)
    key = source.find(cite.section)
    if key is None:
        near = source.suggestion(cite.section)
        hint = (
            f"did you mean `{near}`?"
            if near
            else f"cite a heading exactly as it appears in `{name}`"
        )
        problems.append(
            problem(
                "E-CITE-SECTION",
                file,
                cite.line,
                cite.col,
                f"section `{cite.section}` is not a heading of `{name}`",
                hint,
            )
        )
    return key


def check_example_sources(
    file: Path, pack: M.Pack, sources_dir: Path
) -> tuple[list[Problem], int | None]:
    """Check the citations of a worked-example file's cases (`cite`, its document by default
    `pack`'s source) as `check_sources` checks a pack's: each cited heading is in its
    document. With how many citations naming a section there were to check; None when the
    pack's source is not in `sources_dir` (skipped, as `check_sources` skips the pack)."""
    from engine.packs.read_yaml import read_text_file, read_yaml

    own = pack.source.file
    if not own or not (sources_dir / own).is_file():
        return [], None

    try:
        doc = read_yaml(read_text_file(file, str(file), "worked-example")[1], str(file))
    except PackError:
        return [], 0  # not YAML: checking the file says so
    cases = doc.data.get("cases") if isinstance(doc.data, Mapping) else None
    cites: list[M.Citation] = []
    for i, case in enumerate(cases if isinstance(cases, list) else []):
        raw = case.get("cite") if isinstance(case, Mapping) else None
        items = raw if isinstance(raw, list) else [raw]
        for j, item in enumerate(items):
            if isinstance(item, Mapping):
                at = ("cases", i, "cite", j) if isinstance(raw, list) else ("cases", i, "cite")
                span = doc.span(at)
                cites.append(M.Citation.from_raw(item, span.line, span.col))
    read = cache(lambda name: read_source(sources_dir / name))
    problems: list[Problem] = []
    for cite in cites:
        _checked(cite, str(file), own, sources_dir, read, problems)
    return sorted(problems), sum(1 for c in cites if c.section is not None)


def check_sources(
    packs: Mapping[str, M.Pack], sources_dir: Path
) -> tuple[list[Problem], dict[str, dict[str, Any]]]:
    """Check every cited section heading of the packs whose source file is in `sources_dir`.

    Returns the problems (`E-CITE-SECTION` for a heading not in its document, `W-CITE-DOCUMENT`
    for a cited document that is not there) and, per pack id, its source coverage: `sections`
    (headings in its source), `cited` (how many of them it cites) and `uncited` (the others,
    as written in the source).
    """
    read = cache(lambda name: read_source(sources_dir / name))
    problems: list[Problem] = []
    coverage: dict[str, dict[str, Any]] = {}
    for pid in sorted(packs):
        pack = packs[pid]
        own = pack.source.file
        if not own or not (sources_dir / own).is_file():
            continue
        cited: set[str] = set()
        for cite in pack.citations:
            key = _checked(cite, pack.file, own, sources_dir, read, problems)
            if key is not None and (cite.document or own) == own:
                cited.add(key)
        source = read(own)
        headings = [h for h in source.headings if h in cited or h not in source.bare]
        for key in source.lines:
            if key in cited and key not in headings:
                headings.append(key)
        coverage[pid] = {
            "source": own,
            "sections": len(headings),
            "cited": sum(1 for h in headings if h in cited),
            "uncited": [source.lines[h] for h in headings if h not in cited],
        }
    return sorted(problems), coverage
