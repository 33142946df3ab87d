"""Documentation rendering: turns loaded packs into a static site, as HTML and as Markdown.

Each pack becomes one page built from a small list of blocks (headings, paragraphs, tables,
lists, code, a graph); the HTML and Markdown writers render the same blocks, so the two
forms never drift apart. The HTML needs no JavaScript: task graphs are inline SVG
(engine/render_svg.py), the table of contents is a list of links, and a print style sheet
makes the pages printable.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import Any

from engine.packs import model as M
from engine.packs.facts_schema import fact_description, fact_type, is_healthcare_path
from engine.packs.task_graph import WEIGHTING, natural_key
from engine.tools.render_plan import render_mermaid
from engine.tools.render_svg import render_svg
from engine.tools.whole_files import write_whole

SITE_TITLE = "Policy packs"
EXAMPLES_SHOWN = 8  # worked examples listed under a rule; the rest are in the examples table
MODALITY = {
    "must": "Must",
    "must_not": "Must not",
    "should": "Should",
    "should_not": "Should not",
    "may": "May",
}

# -- the page model ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TextRun:
    """A run of inline text: `text`, `code`, `strong`, `link` (with `href`) or `br`."""

    kind: str
    text: str = ""
    href: str | None = None


Inline = tuple[TextRun, ...]


def text(value: str) -> Inline:
    return (TextRun("text", value),)


def code(value: str) -> Inline:
    return (TextRun("code", value),)


def strong(value: str) -> Inline:
    return (TextRun("strong", value),)


def link(label: str, href: str, as_code: bool = False) -> Inline:
    return (TextRun("link-code" if as_code else "link", label, href),)


COMMA: Inline = (TextRun("text", ", "),)


def join(parts: Iterable[Inline], sep: Inline = COMMA) -> Inline:
    out: list[TextRun] = []
    for n, part in enumerate(parts):
        if n:
            out.extend(sep)
        out.extend(part)
    return tuple(out)


BR: Inline = (TextRun("br"),)
DASH: Inline = text("—")


@dataclass(frozen=True)
class Heading:
    level: int
    title: Inline
    anchor: str


@dataclass(frozen=True)
class Para:
    body: Inline
    css: str | None = None


@dataclass(frozen=True)
class DocTable:
    head: tuple[str, ...]
    rows: tuple[tuple[Inline, ...], ...]
    row_ids: tuple[str | None, ...] = ()
    main: int | None = None  # the column of running text, given room to breathe


@dataclass(frozen=True)
class Bullets:
    items: tuple[Inline, ...]


@dataclass(frozen=True)
class Facts:
    """Label and value pairs (a definition list)."""

    items: tuple[tuple[str, Inline], ...]


@dataclass(frozen=True)
class Code:
    body: str
    lang: str = ""


@dataclass(frozen=True)
class Graph:
    svg: str
    mermaid: str
    image: str  # file name of the SVG written beside the Markdown page
    caption: str


Block = Heading | Para | DocTable | Bullets | Facts | Code | Graph


@dataclass
class Page:
    name: str  # file stem: `<name>.html` and `<name>.md`
    title: str
    blocks: list[Block] = field(default_factory=list)
    footer: str = ""

    def add(self, *blocks: Block) -> None:
        self.blocks.extend(blocks)


@dataclass(frozen=True)
class Example:
    """A worked example, as the docs show it."""

    name: str
    file: str
    line: int
    as_of: str | None


# -- small helpers -----------------------------------------------------------------------------


def anchor(kind: str, ident: Any) -> str:
    """A stable HTML id: `rule-kw-01` for rule `KW-01`."""
    slug = re.sub(r"[^a-z0-9]+", "-", str(ident).lower()).strip("-")
    return f"{kind}-{slug or 'x'}"


def plain(value: Any) -> str:
    """A vocabulary or parameter value as readers see it."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.date | Decimal | int):
        return str(value)
    if isinstance(value, list | tuple):
        items = [plain(v) for v in value]
        return ("; " if any("," in i or " " in i for i in items) else ", ").join(items)
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {plain(v)}" for k, v in value.items())
    return " ".join(str(value).split())


def cites(found: Sequence[M.Citation]) -> Inline:
    return join((text(c.text()) for c in found), BR) if found else DASH


def interp_links(ids: Iterable[str]) -> Inline:
    ids = list(ids)
    return join(link(i, "#" + anchor("interp", i)) for i in ids) if ids else DASH


def in_force(start: dt.date | None, end: dt.date | None) -> str:
    if start and end:
        return f"{start} to {end}"
    if start:
        return f"from {start}"
    return f"until {end}" if end else "always"


def short_path(path: str) -> str:
    """A file as the docs name it: the last two parts, so no machine path appears."""
    parts = Path(path).parts
    return "/".join(parts[-2:]) if len(parts) > 1 else path


# -- the pack page -----------------------------------------------------------------------------


class PackPage:
    """Builds the page of one pack."""

    def __init__(
        self,
        pack: M.Pack,
        examples: Mapping[str, Sequence[Example]],
        cases: Sequence[tuple[Example, Sequence[str]]],
        site: Mapping[str, M.Pack] | None = None,
    ):
        self.pack = pack
        self.site = site or {}  # the packs the site shows, this one among them
        self.examples = examples  # rule id -> examples in which it applies
        self.cases = cases  # every example of the pack, with the rules that apply
        self.page = Page(pack.id, pack.title)
        self.names = {
            **{n: "#" + anchor("vocab", n) for n in pack.vocabulary},
            **{n: "#" + anchor("param", n) for n in pack.parameters},
            **{n: "#" + anchor("def", n) for n in pack.definitions},
            **{n: "#" + anchor("out", n) for n in pack.outputs},
            **{n: "#" + anchor("table", n) for n in pack.tables},
        }

    def build(self) -> Page:
        p = self.pack
        self.page.add(Heading(1, text(p.title), "top"))
        if p.summary:
            self.page.add(Para(text(" ".join(p.summary.split()))))
        self.page.add(
            Facts(
                (
                    ("Pack id", code(p.id)),
                    ("Encoding version", text(p.version)),
                    ("Status", text(p.status)),
                    ("Pack file", code(short_path(p.file))),
                    ("Content hash", code(p.content_hash[:16])),
                )
            )
        )
        self.source()
        self.versions()
        if p.vocabulary:
            self.vocabulary()
        if p.parameters:
            self.parameters()
        self.facts()
        if p.definitions:
            self.definitions()
        if p.outputs:
            self.outputs()
        if p.rules:
            self.rules()
        if p.tables:
            self.tables()
        if p.tasks:
            self.tasks()
        if p.local:
            # after every item it links to, beside the interpretations its entries rest on
            from engine.tools.local_block_view import local_section

            self.page.add(*local_section(p, self.site))
        if p.interpretations:
            self.interpretations()
        self.worked_examples()
        self.page.footer = (
            f"Generated by regime docs from {short_path(p.file)}, "
            f"encoding version {p.version}, content hash {p.content_hash[:16]}."
        )
        return self.page

    def uses(self, exprs: Iterable[M.Expression | None], skip: str = "") -> Inline:
        names: list[str] = []
        for e in exprs:
            if e is None:
                continue
            for name in sorted(getattr(e.checked, "names", ()) or ()):
                if name in self.names and name != skip and name not in names:
                    names.append(name)
        return join(link(n, self.names[n], as_code=True) for n in names) if names else DASH

    def source(self) -> None:
        s = self.pack.source
        url: Inline = link(s.url, s.url) if s.url else DASH
        self.page.add(
            Heading(2, text("Source document"), "source"),
            Facts(
                (
                    ("Title", text(s.title)),
                    ("Publisher", text(s.publisher or "—")),
                    ("Published", text(str(s.published) if s.published else "not stated")),
                    ("Text file", code(s.file) if s.file else DASH),
                    ("Address", url),
                )
            ),
        )

    def versions(self) -> None:
        rows = []
        for v in self.pack.versions:
            changes = join((text(c) for c in v.changes), BR) if v.changes else DASH
            rows.append(
                (
                    strong(v.id),
                    text(v.title),
                    text(in_force(v.effective_from, v.effective_to)),
                    changes,
                    interp_links(v.interpretations),
                    cites(v.cites),
                )
            )
        self.page.add(
            Heading(2, text("Versions"), "versions"),
            Para(
                join(
                    (
                        text("A decision uses the version in force on its "),
                        code("as_of"),
                        text(" date."),
                    ),
                    (),
                )
            ),
            DocTable(
                ("Version", "Title", "In force", "Changes", "Interpretations", "Source"),
                tuple(rows),
            ),
        )

    def vocabulary(self) -> None:
        self.page.add(Heading(2, text("Vocabulary"), "vocabulary"))
        for name, vocab in self.pack.vocabulary.items():
            self.page.add(Heading(3, code(name), anchor("vocab", name)))
            if vocab.description:
                self.page.add(Para(text(" ".join(vocab.description.split()))))
            extra: list[str] = []
            for value in vocab.values:
                extra.extend(k for k in value.extra if k not in extra)
            rows = []
            for value in vocab.values:
                row: list[Inline] = [
                    code(str(value.id)),
                    text(value.name or "—"),
                    text(plain(value.description)),
                ]
                for key in extra:
                    got = value.extra.get(key)
                    if key == "interpretations":
                        row.append(interp_links(got or ()))
                    elif isinstance(got, list):
                        row.append(join((text(plain(g)) for g in got), BR) if got else DASH)
                    else:
                        row.append(text(plain(got)))
                row.append(cites(value.cites))
                rows.append(tuple(row))
            head = (
                "Value",
                "Name",
                "Description",
                *(k.replace("_", " ").capitalize() for k in extra),
                "Source",
            )
            self.page.add(DocTable(head, tuple(rows)))

    def parameters(self) -> None:
        rows, ids = [], []
        for name, param in self.pack.parameters.items():
            for n, value in enumerate(param.values):
                first = n == 0
                rows.append(
                    (
                        code(name) if first else text(""),
                        text(plain(param.description)) if first else text(""),
                        text(in_force(value.start, value.end)),
                        code(value.text),
                        cites(value.cites),
                    )
                )
                ids.append(anchor("param", name) if first else None)
        self.page.add(
            Heading(2, text("Parameters"), "parameters"),
            Para(text("Values with the dates they are in force (inclusive).")),
            DocTable(
                ("Parameter", "Description", "In force", "Value", "Source"), tuple(rows), tuple(ids)
            ),
        )

    def facts(self) -> None:
        """The facts the pack reads, as a service must supply them: each with its type, what
        the facts schema says it is, who may see it, and the items that read it."""
        p = self.pack
        readers: dict[str, list[str]] = {}
        for key, e in p.expressions():
            for path in e.checked.fact_paths:
                found = readers.setdefault(path, [])
                if key not in found:
                    found.append(key)
        shown = [
            path
            for path in sorted(readers)
            # a record read only on the way to its fields is shown by its fields
            if not (
                (t := fact_type(path, p.facts)) is not None
                and t.kind == "record"
                and any(other.startswith(path + ".") for other in readers)
            )
        ]
        if not shown:
            return
        rows, ids = [], []
        for path in shown:
            t = fact_type(path, p.facts)
            about = fact_description(path, p.facts)
            rows.append(
                (
                    code(path),
                    text(_fact_kind(t)),
                    text(about) if about else DASH,
                    text("healthcare only" if is_healthcare_path(path, p.facts) else "all"),
                    join(self._item_link(key) for key in readers[path]),
                )
            )
            ids.append(anchor("fact", path))
        self.page.add(
            Heading(2, text("Facts"), "facts"),
            Para(
                join(
                    (
                        text("The facts the pack's expressions read, from the facts schema "),
                        code(_schema_shown(p)),
                        text(
                            f" ({_schema_place(p)}): what a service deciding with this pack "
                            "supplies. A list's element fields are written "
                        ),
                        code("list[].field"),
                        text(
                            ". Each fact's description says what an absent fact and a null "
                            "mean; a fact marked healthcare only never reaches a custodial "
                            "reader."
                        ),
                    ),
                    (),
                )
            ),
            DocTable(
                ("Fact", "Type", "What it is", "Audience", "Read by"),
                tuple(rows),
                tuple(ids),
                main=2,
            ),
        )

    def _item_link(self, key: str) -> Inline:
        """A link to the item an item key (`def:x`, `rule:x`, ...) names on this page."""
        kind, _, name = key.partition(":")
        return link(name, "#" + anchor(kind, name), as_code=kind != "rule")

    def definitions(self) -> None:
        rows, ids = [], []
        for name, d in self.pack.definitions.items():
            rows.append(
                (
                    code(name),
                    code(d.expr.text),
                    text(plain(d.description)) if d.description else DASH,
                    self.uses([d.expr], name),
                    interp_links(d.interpretations),
                    cites(d.cites),
                )
            )
            ids.append(anchor("def", name))
        self.page.add(
            Heading(2, text("Definitions"), "definitions"),
            Para(text("Named values worked out from the facts, each at most once per decision.")),
            DocTable(
                ("Name", "Expression", "Description", "Uses", "Interpretations", "Source"),
                tuple(rows),
                tuple(ids),
            ),
        )

    def outputs(self) -> None:
        setters: dict[str, list[str]] = {}
        for rule in self.pack.rules:
            for name, _ in rule.sets:
                setters.setdefault(name, []).append(rule.id)
        rows, ids = [], []
        for name, out in self.pack.outputs.items():
            how: Inline
            if out.mode == "value" and out.expr is not None:
                how = code(out.expr.text)
            elif out.mode == "table" and out.table:
                how = join(
                    (
                        text("column of table "),
                        link(out.table, "#" + anchor("table", out.table), as_code=True),
                    ),
                    (),
                )
            else:
                rules = setters.get(name, [])
                how = join(
                    (
                        text(f"from rules ({out.combine}): "),
                        join(link(r, "#" + anchor("rule", r)) for r in rules)
                        if rules
                        else text("none"),
                    ),
                    (),
                )
            if out.default is not None:
                how = join((how, text("; default "), code(out.default.text)), ())
            audience = (
                text(f"releasable: shown as “{out.withheld_reason}”")
                if out.releasable
                else text("healthcare only")
                if out.healthcare
                else text("all")
            )
            rows.append(
                (
                    code(name),
                    how,
                    text(plain(out.description)) if out.description else DASH,
                    audience,
                    interp_links(out.interpretations),
                    cites(out.cites),
                )
            )
            ids.append(anchor("out", name))
        self.page.add(
            Heading(2, text("Outputs"), "outputs"),
            DocTable(
                ("Output", "Worked out as", "Description", "Audience", "Interpretations", "Source"),
                tuple(rows),
                tuple(ids),
            ),
        )

    def rules(self) -> None:
        self.page.add(
            Heading(2, text("Rules"), "rules"),
            Para(
                text(
                    "Each rule in plain English, the expression that decides when "
                    "it applies, where it comes from, and the worked examples in "
                    "which it applies."
                )
            ),
        )
        for rule in self.pack.rules:
            self.page.add(
                Heading(
                    3, join((code(rule.id), text(" " + rule.title)), ()), anchor("rule", rule.id)
                )
            )
            ob = rule.obligation
            if ob is not None:
                self.page.add(
                    Para(
                        join(
                            (
                                strong(MODALITY.get(ob.modality, ob.modality) + ":"),
                                text(" " + " ".join(ob.text.split())),
                            ),
                            (),
                        ),
                        "obligation",
                    )
                )
            items: list[tuple[str, Inline]] = []
            when = rule.when.text if rule.when is not None else "true"
            items.append(
                (
                    "Applies when",
                    text("always") if when.strip() == "true" else code(" ".join(when.split())),
                )
            )
            exprs: list[M.Expression | None] = [rule.when, *(e for _, e in rule.sets)]
            if ob is not None:
                exprs += [ob.due, ob.frequency]
                if ob.who:
                    items.append(("Who", text(ob.who)))
                if ob.due is not None:
                    items.append(("Due", code(ob.due.text)))
                if ob.frequency is not None:
                    items.append(("Frequency", code(ob.frequency.text)))
                if ob.records:
                    items.append(("Record", join((text(plain(r)) for r in ob.records), BR)))
                if ob.releasable:
                    items.append(
                        (
                            "Audience",
                            text("the obligation (not its reasons) reaches every audience"),
                        )
                    )
            if rule.sets:
                items.append(
                    (
                        "Sets",
                        join(
                            join(
                                (
                                    link(n, self.names.get(n, "#outputs"), as_code=True),
                                    text(" ← "),
                                    code(e.text),
                                ),
                                (),
                            )
                            for n, e in rule.sets
                        ),
                    )
                )
            items.append(("Uses", self.uses(exprs)))
            if rule.versions:
                items.append(("Versions", text(", ".join(rule.versions))))
            items.append(("Source", cites(rule.cites)))
            if rule.interpretations:
                items.append(("Interpretations", interp_links(rule.interpretations)))
            items.append(("Worked examples", self.covering(rule.id)))
            self.page.add(Facts(tuple(items)))

    def covering(self, rule_id: str) -> Inline:
        found = self.examples.get(rule_id, ())
        if not found:
            return text("none applies this rule")
        shown = [
            join(
                (
                    text(e.name),
                    text(f" ({e.file}:{e.line}" + (f", as of {e.as_of})" if e.as_of else ")")),
                ),
                (),
            )
            for e in found[:EXAMPLES_SHOWN]
        ]
        if len(found) > EXAMPLES_SHOWN:
            shown.append(
                join(
                    (
                        text(f"and {len(found) - EXAMPLES_SHOWN} more (see "),
                        link("Worked examples", "#examples"),
                        text(")"),
                    ),
                    (),
                )
            )
        return join(shown, BR)

    def tables(self) -> None:
        self.page.add(Heading(2, text("Decision tables"), "tables"))
        for tid, table in self.pack.tables.items():
            self.page.add(
                Heading(
                    3, join((code(tid), text(" " + (table.title or ""))), ()), anchor("table", tid)
                )
            )
            self.page.add(
                Facts(
                    (
                        ("Hit policy", text(table.hit)),
                        (
                            "Inputs",
                            join(
                                join((code(n), text(" = "), code(e.text)), ())
                                for n, e in table.inputs
                            ),
                        ),
                        ("Source", cites(table.cites)),
                    )
                )
            )
            inputs = [n for n, _ in table.inputs]
            columns = table.columns()
            rows = []
            for row in table.rows:
                cells = dict(row.cells)
                then = dict(row.then)
                line: list[Inline] = [code(row.id)]
                for n in inputs:
                    allowed = cells.get(n)
                    line.append(
                        text("any")
                        if allowed is None
                        else text(" or ".join(sorted(plain(a) for a in allowed)))
                    )
                for c in columns:
                    line.append(code(then[c].text) if c in then else DASH)
                line += [interp_links(row.interpretations), cites(row.cites)]
                rows.append(tuple(line))
            head = ("Row", *(f"{n} (input)" for n in inputs), *columns, "Interpretations", "Source")
            self.page.add(DocTable(head, tuple(rows)))

    def tasks(self) -> None:
        graph = self.pack.task_graph
        self.page.add(Heading(2, text("Tasks"), "tasks"))
        if graph is not None and graph.number_of_nodes():
            svg = render_svg(
                graph,
                label=lambda n, a: str(a.get("title", "")),
                link=lambda n: "#" + anchor("task", n),
                dashed=(WEIGHTING,),
                title=f"Task graph of {self.pack.id}",
            )
            self.page.add(
                Heading(3, text("Task graph"), "task-graph"),
                Para(
                    text(
                        "Each arrow points from a task to one that comes after it. Solid "
                        "arrows are stated dependencies; dashed arrows follow from weighting "
                        "(a weighting 3 task is a precursor to the lower-weighted tasks of "
                        "its area). Columns are the longest chain of tasks before each."
                    )
                ),
                Graph(
                    svg,
                    render_mermaid(graph),
                    f"{self.pack.id}-tasks.svg",
                    f"Task graph of {self.pack.id}",
                ),
            )
        rows, ids = [], []
        for tid in sorted(self.pack.tasks, key=natural_key):
            t = self.pack.tasks[tid]
            after = []
            for dep in t.after:
                label = link(dep.task, "#" + anchor("task", dep.task))
                if dep.interpretation:
                    label = join(
                        (label, text(" ("), interp_links([dep.interpretation]), text(")")), ()
                    )
                after.append(label)
            desc = join((strong(t.title), BR, text(plain(t.baseline))), ())
            if t.sources:
                desc = join((desc, BR, text("Sources of information: " + plain(t.sources))), ())
            if t.interpretations:
                desc = join(
                    (desc, BR, text("Interpretations: "), interp_links(t.interpretations)), ()
                )
            rows.append(
                (
                    strong(tid),
                    text(plain(t.area)),
                    desc,
                    text(plain(t.weighting)),
                    text(plain(t.autonomy)),
                    text("desirable" if t.mandatory is False else "mandatory"),
                    text(plain(list(t.stages) or None)),
                    join(after) if after else DASH,
                    cites(t.cites),
                )
            )
            ids.append(anchor("task", tid))
        self.page.add(
            Heading(3, text("Task list"), "task-list"),
            DocTable(
                (
                    "Task",
                    "Area",
                    "What",
                    "Weighting",
                    "Autonomy",
                    "Kind",
                    "Stages",
                    "After",
                    "Source",
                ),
                tuple(rows),
                tuple(ids),
                main=2,
            ),
        )

    def reliers(self) -> dict[str, list[Inline]]:
        """Per interpretation, the parts of the pack that name it, rules first."""
        p = self.pack
        found: dict[str, list[Inline]] = {i: [] for i in p.interpretations}

        def add(ids: Iterable[str], label: Inline) -> None:
            for i in ids:
                if i in found and label not in found[i]:
                    found[i].append(label)

        direct: dict[M.ItemKey, tuple[str, ...]] = {}
        for name, d in p.definitions.items():
            direct[M.ItemKey("def", str(name))] = d.interpretations
        for name, o in p.outputs.items():
            direct[M.ItemKey("out", str(name))] = o.interpretations
        for tid, t in p.tables.items():
            direct[M.ItemKey("table", str(tid))] = tuple(
                i for r in t.rows for i in r.interpretations
            )
        for rule in p.rules:
            add(
                rule.interpretations,
                join((text("rule "), link(rule.id, "#" + anchor("rule", rule.id))), ()),
            )
        for rule in p.rules:
            for key in sorted(_closure(p.dependencies, M.ItemKey("rule", str(rule.id)))):
                kind, name = key
                through = join(
                    (
                        text("rule "),
                        link(rule.id, "#" + anchor("rule", rule.id)),
                        text(" (through "),
                        code(name),
                        text(")"),
                    ),
                    (),
                )
                add(direct.get(key, ()), through)
        for v in p.versions:
            add(v.interpretations, text(f"version {v.id}"))
        for name, vocab in p.vocabulary.items():
            for value in vocab.values:
                add(
                    value.extra.get("interpretations") or (),
                    join(
                        (
                            text("vocabulary "),
                            link(name, "#" + anchor("vocab", name), True),
                            text(f" value {value.id}"),
                        ),
                        (),
                    ),
                )
        for name, d in p.definitions.items():
            add(
                d.interpretations,
                join((text("definition "), link(name, "#" + anchor("def", name), True)), ()),
            )
        for name, o in p.outputs.items():
            add(
                o.interpretations,
                join((text("output "), link(name, "#" + anchor("out", name), True)), ()),
            )
        for tid, t in p.tables.items():
            for r in t.rows:
                add(
                    r.interpretations,
                    join(
                        (
                            text("table "),
                            link(tid, "#" + anchor("table", tid), True),
                            text(f" row {r.id}"),
                        ),
                        (),
                    ),
                )
        for tid in sorted(p.tasks, key=natural_key):
            task = p.tasks[tid]
            add(
                task.interpretations,
                join((text("task "), link(tid, "#" + anchor("task", tid))), ()),
            )
            for dep in task.after:
                if dep.interpretation:
                    add(
                        [dep.interpretation],
                        join(
                            (
                                text("dependency "),
                                link(tid, "#" + anchor("task", tid)),
                                text(f" after {dep.task}"),
                            ),
                            (),
                        ),
                    )
        from engine.tools.local_block_view import local_reliers

        for ids, label in local_reliers(p):
            add(ids, label)
        return found

    def interpretations(self) -> None:
        reliers = self.reliers()
        self.page.add(
            Heading(2, text("Interpretations"), "interpretations"),
            Para(
                text(
                    "Where the source is ambiguous, incomplete or contradicts "
                    "itself, the reading this pack takes, and what relies on it."
                )
            ),
        )
        for iid, i in self.pack.interpretations.items():
            scope: tuple[tuple[str, Inline], ...] = ()
            if i.versions:  # (a decision of another version does not list it)
                scope = (("Versions", text(", ".join(i.versions))),)
            self.page.add(
                Heading(3, join((code(iid), text(f" ({i.kind})")), ()), anchor("interp", iid)),
                Facts(
                    (
                        ("Question", text(" ".join(i.question.split()))),
                        ("Choice", text(" ".join(i.choice.split()))),
                        ("Why", text(" ".join(i.why.split()))),
                        *scope,
                        ("Source", cites(i.cites)),
                        (
                            "Relied on by",
                            join(reliers[iid], BR) if reliers[iid] else text("nothing names it"),
                        ),
                    )
                ),
            )

    def worked_examples(self) -> None:
        self.page.add(Heading(2, text("Worked examples"), "examples"))
        if not self.cases:
            self.page.add(Para(text("This pack has no worked examples.")))
            return
        rows = []
        for example, applied in self.cases:
            rows.append(
                (
                    text(example.name),
                    text(example.as_of or "—"),
                    join(link(r, "#" + anchor("rule", r)) for r in applied) if applied else DASH,
                    code(f"{example.file}:{example.line}"),
                )
            )
        self.page.add(
            Para(
                join(
                    (
                        text(f"{len(rows)} worked example(s); "),
                        code("regime test"),
                        text(" runs them."),
                    ),
                    (),
                )
            ),
            DocTable(("Example", "As of", "Rules that apply", "File"), tuple(rows)),
        )


def _closure(deps: Mapping[M.ItemKey, Iterable[M.ItemKey]], start: M.ItemKey) -> set[M.ItemKey]:
    seen: set[M.ItemKey] = set()
    todo = list(deps.get(start, ()))
    while todo:
        key = todo.pop()
        if key not in seen:
            seen.add(key)
            todo.extend(deps.get(key, ()))
    return seen


def _fact_kind(t: Any) -> str:
    """A fact's type in words: an enumeration by its values."""
    if t is None:
        return "not in the facts schema"
    if t.values is not None:
        return "one of " + ", ".join(sorted(map(str, t.values)))
    if t.kind == "list" and t.elem is not None:
        if t.elem.values is not None:
            return "list, each " + _fact_kind(t.elem)
        return "list of records" if t.elem.kind == "record" else f"list of {_fact_kind(t.elem)}"
    return _KIND_WORDS.get(t.kind, str(t.describe()))


_KIND_WORDS = {
    "string": "text",
    "bool": "yes or no",
    "int": "whole number",
    "decimal": "number",
    "date": "date",
    "record": "record",
}


def index_page(packs: Mapping[str, M.Pack], examples: Mapping[str, int]) -> Page:
    """The site's front page: one row per pack."""
    page = Page("index", SITE_TITLE)
    page.add(
        Heading(1, text(SITE_TITLE), "top"),
        Para(
            text(
                "Every rule pack with its source document, vocabulary, parameters, rules "
                "and their worked examples, interpretations and task graph."
            )
        ),
        Heading(2, text("Packs"), "packs"),
    )
    rows = []
    for pid in sorted(packs):
        p = packs[pid]
        rows.append(
            (
                link(pid, f"{pid}.html", as_code=True),
                link(p.title, f"{pid}.html"),
                text(p.status),
                text(p.version),
                text(p.source.title),
                text(str(len(p.rules))),
                text(str(len(p.parameters))),
                text(str(len(p.tasks))),
                text(str(len(p.interpretations))),
                text(str(examples.get(pid, 0))),
            )
        )
    page.add(
        DocTable(
            (
                "Pack",
                "Title",
                "Status",
                "Version",
                "Source document",
                "Rules",
                "Parameters",
                "Tasks",
                "Interpretations",
                "Worked examples",
            ),
            tuple(rows),
        )
    )
    page.footer = f"Generated by regime docs: {len(rows)} pack(s)."
    return page


def pack_page(
    pack: M.Pack, results: Iterable[Any] = (), site: Mapping[str, M.Pack] | None = None
) -> Page:
    """The page of one pack; `results` are worked-example results (engine.pack_tests) whose
    decisions show which rules each example applies; `site` the packs the site shows, whose
    items declared the same as this pack's the page links to."""
    examples: dict[str, list[Example]] = {}
    cases: list[tuple[Example, list[str]]] = []
    order = {rule.id: n for n, rule in enumerate(pack.rules)}
    for r in results:
        if r.case.pack != pack.id or r.case.data.get("plan"):
            continue  # examples run through a local plan belong to the plan's page
        as_of = r.case.data.get("as_of")
        ex = Example(
            r.case.name,
            short_path(r.case.file),
            r.case.line,
            str(as_of) if as_of is not None else None,
        )
        applied = (
            []
            if r.decision is None
            else [s.name for s in r.decision.steps if s.kind == "rule" and s.value is True]
        )
        applied = sorted(set(applied), key=lambda rid: order.get(rid, len(order)))
        cases.append((ex, applied))
        for rule_id in applied:
            examples.setdefault(rule_id, []).append(ex)
    return PackPage(pack, examples, cases, site).build()


# -- writers -----------------------------------------------------------------------------------


def _href(href: str, ext: str) -> str:
    if "://" in href or href.startswith(("#", "mailto:")):
        return href
    page, sep, frag = href.partition("#")
    if page.endswith(".html"):
        page = page[: -len(".html")]
    return f"{page}{ext}{sep}{frag}"


def inline_html(parts: Inline) -> str:
    out = []
    for s in parts:
        if s.kind == "text":
            out.append(escape(s.text, quote=False))
        elif s.kind == "code":
            out.append(f"<code>{escape(s.text, quote=False)}</code>")
        elif s.kind == "strong":
            out.append(f"<strong>{escape(s.text, quote=False)}</strong>")
        elif s.kind == "br":
            out.append("<br>")
        else:
            label = escape(s.text, quote=False)
            if s.kind == "link-code":
                label = f"<code>{label}</code>"
            out.append(f'<a href="{escape(_href(s.href or "", ".html"))}">{label}</a>')
    return "".join(out)


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def md_text(value: str) -> str:
    """Plain text with the characters Markdown would read as markup escaped."""
    return _MD_SPECIAL.sub(r"\\\1", value)


def inline_md(parts: Inline, in_table: bool = False) -> str:
    out = []
    for s in parts:
        if s.kind == "text":
            out.append(md_text(" ".join(s.text.split("\n"))))
        elif s.kind in ("code", "link-code"):
            body = " ".join(s.text.split())
            if in_table:
                body = body.replace("|", "\\|")
            fence = "``" if "`" in body else "`"
            pad = " " if body.startswith("`") or body.endswith("`") else ""
            item = f"{fence}{pad}{body}{pad}{fence}"
            out.append(f"[{item}]({_href(s.href or '', '.md')})" if s.kind == "link-code" else item)
        elif s.kind == "strong":
            out.append(f"**{md_text(s.text)}**")
        elif s.kind == "br":
            out.append("<br>" if in_table else "  \n")
        else:
            label = md_text(s.text)
            out.append(f"[{label}]({_href(s.href or '', '.md')})")
    return "".join(out)


def _plain_title(parts: Inline) -> str:
    return "".join(s.text if s.kind != "br" else " " for s in parts)


def _toc(page: Page) -> list[tuple[Heading, list[Heading]]]:
    toc: list[tuple[Heading, list[Heading]]] = []
    for b in page.blocks:
        if isinstance(b, Heading) and b.level == 2:
            toc.append((b, []))
        elif isinstance(b, Heading) and b.level == 3 and toc:
            toc[-1][1].append(b)
    return toc


CSS = """
:root { --ink: #1b1b1b; --muted: #5a5a5a; --line: #c9ccd1; --accent: #1d4f91; --tint: #f3f5f8; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); font: 16px/1.5 system-ui, "Segoe UI", Arial, sans-serif; }
a { color: var(--accent); }
a:focus { outline: 3px solid #fd0; }
header.site { background: var(--accent); color: #fff; padding: .6rem 1.2rem; }
header.site a { color: #fff; margin-right: 1rem; }
header.site .home { font-weight: bold; }
.layout { display: grid; grid-template-columns: 17rem minmax(0, 1fr); gap: 2rem;
  padding: 1rem 1.2rem; max-width: 100rem; }
nav.toc { position: sticky; top: 0; align-self: start; max-height: 100vh; overflow-y: auto;
  font-size: .88rem; border-right: 1px solid var(--line); padding-right: 1rem; }
nav.toc ul { padding-left: 1rem; margin: .2rem 0; }
nav.toc h2 { font-size: 1rem; margin-top: 0; }
main { min-width: 0; }
h1 { font-size: 1.9rem; margin-top: .3rem; }
h2 { border-bottom: 2px solid var(--accent); padding-bottom: .2rem; margin-top: 2.2rem; }
h3 { margin-top: 1.6rem; }
code { font: .9em/1.4 ui-monospace, Consolas, monospace; background: var(--tint);
  padding: 0 .2em; border-radius: 3px; overflow-wrap: anywhere; }
pre { background: var(--tint); padding: .6rem; overflow-x: auto; }
table { border-collapse: collapse; margin: .6rem 0 1.2rem; font-size: .9rem; width: 100%; }
th, td { border: 1px solid var(--line); padding: .3rem .45rem; text-align: left;
  vertical-align: top; }
th { background: var(--tint); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem;
  margin: .4rem 0 1rem; }
dl.facts dt { font-weight: bold; color: var(--muted); }
dl.facts dd { margin: 0; }
p.obligation { border-left: 4px solid var(--accent); padding-left: .6rem; }
figure { margin: .6rem 0 1.2rem; overflow-x: auto; }
figure svg { max-width: 100%; min-width: 48rem; height: auto; }
div.wide { overflow-x: auto; }
td.main { min-width: 22rem; }
figcaption { color: var(--muted); font-size: .85rem; }
footer { color: var(--muted); font-size: .8rem; padding: 1rem 1.2rem;
  border-top: 1px solid var(--line); }
@media (max-width: 60rem) {
  .layout { display: block; }
  nav.toc { position: static; max-height: none; border-right: 0; }
}
@media print {
  body { font-size: 10pt; }
  header.site { display: none; }
  .layout { display: block; padding: 0; }
  nav.toc { position: static; max-height: none; overflow: visible; border: 0;
    columns: 2; break-after: page; }
  a { color: inherit; text-decoration: none; }
  h2, h3 { break-after: avoid; }
  tr, dl.facts, figure, p.obligation { break-inside: avoid; }
  table { font-size: 8.5pt; }
  code { background: none; }
  div.wide, figure { overflow: visible; }
  figure svg { width: 100%; min-width: 0; height: auto; }
}
"""


def to_html(page: Page, packs: Sequence[tuple[str, str]] = ()) -> str:
    """A whole HTML document for a page; `packs` (id, title) make the site's top bar."""
    nav = "".join(f'<a href="{escape(pid)}.html">{escape(pid)}</a>' for pid, _ in packs)
    body: list[str] = []
    for b in page.blocks:
        if isinstance(b, Heading):
            body.append(f'<h{b.level} id="{escape(b.anchor)}">{inline_html(b.title)}</h{b.level}>')
        elif isinstance(b, Para):
            cls = f' class="{b.css}"' if b.css else ""
            body.append(f"<p{cls}>{inline_html(b.body)}</p>")
        elif isinstance(b, Facts):
            items = "".join(f"<dt>{escape(k)}</dt><dd>{inline_html(v)}</dd>" for k, v in b.items)
            body.append(f'<dl class="facts">{items}</dl>')
        elif isinstance(b, Bullets):
            body.append("<ul>" + "".join(f"<li>{inline_html(i)}</li>" for i in b.items) + "</ul>")
        elif isinstance(b, Code):
            body.append(f"<pre><code>{escape(b.body)}</code></pre>")
        elif isinstance(b, Graph):
            body.append(f"<figure>{b.svg}<figcaption>{escape(b.caption)}</figcaption></figure>")
        elif isinstance(b, DocTable):
            head = "".join(f'<th scope="col">{escape(h)}</th>' for h in b.head)
            rows = []
            for n, row in enumerate(b.rows):
                rid = b.row_ids[n] if n < len(b.row_ids) else None
                attr = f' id="{escape(rid)}"' if rid else ""
                cells = []
                for i, c in enumerate(row):
                    cls = ' class="main"' if i == b.main else ""
                    cells.append(f"<td{cls}>{inline_html(c)}</td>")
                rows.append(f"<tr{attr}>{''.join(cells)}</tr>")
            body.append(
                f'<div class="wide"><table><thead><tr>{head}</tr></thead><tbody>'
                f"{''.join(rows)}</tbody></table></div>"
            )
    toc = []
    for h2, subs in _toc(page):
        inner = (
            (
                "<ul>"
                + "".join(
                    f'<li><a href="#{escape(h.anchor)}">{escape(_plain_title(h.title))}</a></li>'
                    for h in subs
                )
                + "</ul>"
            )
            if subs
            else ""
        )
        toc.append(
            f'<li><a href="#{escape(h2.anchor)}">{escape(_plain_title(h2.title))}</a>{inner}</li>'
        )
    title = page.title if page.name == "index" else f"{page.title} · {SITE_TITLE}"
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(title)}</title>",
            f"<style>{CSS}</style>",
            "</head>",
            "<body>",
            '<header class="site">'
            f'<a class="home" href="index.html">{SITE_TITLE}</a>{nav}</header>',
            '<div class="layout">',
            '<nav class="toc" aria-label="Contents"><h2>Contents</h2>'
            f"<ul>{''.join(toc)}</ul></nav>",
            "<main>",
            *body,
            "</main>",
            "</div>",
            f"<footer>{escape(page.footer)}</footer>",
            "</body>",
            "</html>",
            "",
        ]
    )


def to_markdown(page: Page) -> str:
    """The same page as GitHub-flavoured Markdown (with HTML anchors for the links)."""
    out: list[str] = []
    toc_done = False
    for b in page.blocks:
        if isinstance(b, Heading):
            if b.level == 2 and not toc_done:
                toc_done = True
                out.append("## Contents\n")
                for h2, subs in _toc(page):
                    out.append(f"- [{md_text(_plain_title(h2.title))}](#{h2.anchor})")
                    out.extend(f"  - [{md_text(_plain_title(h.title))}](#{h.anchor})" for h in subs)
                out.append("")
            out.append(f'<a id="{b.anchor}"></a>\n')
            out.append(f"{'#' * b.level} {inline_md(b.title)}\n")
        elif isinstance(b, Para):
            out.append(inline_md(b.body) + "\n")
        elif isinstance(b, Facts):
            out.extend(f"- **{k}**: {inline_md(v, in_table=True)}" for k, v in b.items)
            out.append("")
        elif isinstance(b, Bullets):
            out.extend(f"- {inline_md(i)}" for i in b.items)
            out.append("")
        elif isinstance(b, Code):
            out.append(f"```{b.lang}\n{b.body.rstrip()}\n```\n")
        elif isinstance(b, Graph):
            out.append(f"![{b.caption}]({b.image})\n")
            out.append(f"```mermaid\n{b.mermaid.rstrip()}\n```\n")
        elif isinstance(b, DocTable):
            out.append("| " + " | ".join(h.replace("|", "\\|") for h in b.head) + " |")
            out.append("|" + "---|" * len(b.head))
            for n, row in enumerate(b.rows):
                rid = b.row_ids[n] if n < len(b.row_ids) else None
                cells = [inline_md(c, in_table=True) or " " for c in row]
                if rid:
                    cells[0] = f'<a id="{rid}"></a>{cells[0]}'
                out.append("| " + " | ".join(cells) + " |")
            out.append("")
    if page.footer:
        out.append(f"---\n\n{md_text(page.footer)}")
    return "\n".join(out).rstrip() + "\n"


def write_site(
    packs: Mapping[str, M.Pack], results: Sequence[Any], out: Path, extra: Sequence[Page] = ()
) -> list[Path]:
    """Write `index` and a page per pack, as `.html` and `.md`, plus each task graph as SVG
    for the Markdown pages, and any `extra` pages (listed on the index); returns the files
    written."""
    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for r in results:
        counts[r.case.pack] = counts.get(r.case.pack, 0) + 1
    nav = [(pid, packs[pid].title) for pid in sorted(packs)]
    pages = [index_page(packs, counts)] + [
        pack_page(packs[pid], results, packs) for pid in sorted(packs)
    ]
    if extra:
        pages[0].add(
            Heading(2, text("Local plans"), "local-plans"),
            Bullets(tuple(link(p.title, f"{p.name}.html") for p in extra)),
        )
        pages += list(extra)
    # every page is rendered before any file is written, and each file is written whole (a
    # temporary file beside it, then a rename): a failed or interrupted run leaves no page
    # half-written and, when rendering fails, no page changed
    files: list[tuple[Path, str]] = []
    for page in pages:
        files.append((out / f"{page.name}.html", to_html(page, nav)))
        files.append((out / f"{page.name}.md", to_markdown(page)))
        for b in page.blocks:
            if isinstance(b, Graph):
                svg = '<?xml version="1.0" encoding="UTF-8"?>\n' + b.svg + "\n"
                files.append((out / b.image, svg))
    for path, body in files:
        write_whole(path, body)
    return [path for path, _ in files]


def _schema_shown(p: M.Pack) -> str:
    """A pack's facts schema as its page names it: a schema of the pack's own by its path from
    the pack's folder (not the absolute path of the machine that wrote the page)."""
    if not Path(p.facts).is_absolute():
        return p.facts
    try:
        return Path(p.facts).relative_to(Path(p.file).resolve().parent).as_posix()
    except ValueError:
        return Path(p.facts).name


def _schema_place(p: M.Pack) -> str:
    """Where the schema `_schema_shown` names is kept."""
    return "beside the pack" if Path(p.facts).is_absolute() else "schemas/facts/"
