"""The pack pipeline as data: the ordered, named stages that take one pack file to a checked,
compiled, immutable `Pack`, and the runner that takes a file through them (as far as a named
stage, if asked, as OPA's compiler does).

Every stage reads what the stages before it left on the `Loading` and adds its own results and
problems. The order is forced by what each stage reads:

- `read`, `yaml`, `schema`: nothing later can trust the document until it is well-formed YAML of
  the pack schema's shape, so these run first and alone.
- `imports` must precede `declarations`: a pack may use an imported vocabulary, and defining a
  vocabulary it also imports is an error found there.
- `declarations` precede `parse`: constant parameter values are computed while declared, and
  `order` needs to know every name that is not an item (parameters, vocabularies, fact roots).
- `parse` precedes `order`: an item's dependencies are the free names of its expressions.
- `order` precedes `check`: a name's type is known only once the item defining it is checked.
- `references` need every item built; `tasks` need nothing but the schema, and come last so
  that their problems sort with the rest.
- `model` assembles the `Pack` from everything above.

The runner stops after the first stage that found an error: later stages assume the earlier
ones succeeded (a cycle would make `check` report knock-on errors, a bad schema would crash
`declarations`), and one mistake is best reported once, where it is made.
"""

from __future__ import annotations

import copy
import gc
import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from engine import disk_cache
from engine.language import codegen
from engine.language import static_types as T
from engine.language.check import Symbol
from engine.packs import (
    declarations,
    item_order,
    pack_cache,
    pack_cost,
    provenance,
    references,
    task_graph,
)
from engine.packs import model as M
from engine.packs.build_context import PackBuild, PackScope, Path_, choice, opt_str
from engine.packs.check_items import check_items
from engine.packs.local_declarations import SHARED_KINDS, local_items, shared_declarations
from engine.packs.read_yaml import CACHE_LIMIT, Document, read_text_file, read_yaml
from engine.packs.validate_schema import validate_pack
from engine.problems import PackError, Problem, did_you_mean, file_problem, problem


@dataclass
class Loading:
    """One pack file on its way through the stages: what each stage has made so far."""

    path: Path
    file: str  # the name problems carry
    imported: Mapping[str, M.Pack] = field(default_factory=dict)  # packs that loaded, by id
    problems: list[Problem] = field(default_factory=list)
    content: bytes = b""
    text: str = ""
    doc: Document | None = None
    build: PackBuild | None = None
    pack: M.Pack | None = None
    done: list[str] = field(default_factory=list)  # the names of the stages run
    trees_read: bool = False  # whether the disk cache was asked for the syntax trees
    key: str | None = None  # the disk cache's key for the whole pack, once the imports are known

    @property
    def failed(self) -> bool:
        return any(p.is_error for p in self.problems)

    @property
    def pack_id(self) -> str | None:
        """The pack's id once the schema has checked the document."""
        return str(self.doc.data["id"]) if self.doc is not None else None

    def builder(self) -> PackBuild:
        assert self.build is not None, "the `imports` stage makes the build context"
        return self.build


@dataclass(frozen=True)
class Stage:
    """One named step of the pipeline."""

    name: str
    does: str
    run: Callable[[Loading], None]

    def __repr__(self) -> str:
        return f"Stage({self.name!r}: {self.does})"


def _read(s: Loading) -> None:
    try:
        s.content, s.text = read_text_file(s.path, s.file)
    except PackError as e:
        s.problems.extend(e.problems)


# The yaml, schema and parse stages depend only on the file's content and the name it is
# shown by: their results are kept on disk between runs (see engine.disk_cache).


def _yaml(s: Loading) -> None:
    entry = disk_cache.key("yaml", s.file, s.content)
    cached = disk_cache.load("yaml", entry)
    if isinstance(cached, Document):
        s.doc = cached
        return
    try:
        s.doc = read_yaml(s.text, s.file)
    except PackError as e:
        s.problems.extend(e.problems)
        return
    if len(s.content) <= CACHE_LIMIT:
        disk_cache.store("yaml", entry, s.doc)


def _schema(s: Loading) -> None:
    assert s.doc is not None
    if not isinstance(s.doc.data, dict):
        message = "a pack must be a mapping with `id`, `title`, `versions`..."
        hint = None
        if s.doc.data is None:  # nothing but blanks and comments: a file begun, or emptied
            message = "the file holds no pack (it is empty or only comments); " + message
            hint = (
                "write the pack's `id:`, `title:`, `version:`, `status:`, `source:` and `versions:`"
            )
        s.problems.append(file_problem("E-SCHEMA", s.file, message, hint))
        return
    entry = disk_cache.key("schema", s.file, s.content)
    cached = disk_cache.load("schema", entry)
    if isinstance(cached, list) and all(isinstance(p, Problem) for p in cached):
        s.problems.extend(cached)
        return
    found = validate_pack(s.doc)
    disk_cache.store("schema", entry, found)
    s.problems.extend(found)


def _imports(s: Loading) -> None:
    """The vocabulary of the imported packs, which this pack's expressions may use."""
    assert s.doc is not None
    vocabulary: dict[str, M.Vocabulary] = {}
    for i, pid in enumerate(s.doc.data.get("imports") or []):
        pack = s.imported.get(str(pid))
        if pack is None:
            span = s.doc.span(("imports", i))
            hint = did_you_mean(str(pid), s.imported) or "imported packs must load without errors"
            message = f"no pack `{pid}` to import"
            s.problems.append(problem("E-IMPORT", s.file, span.line, span.col, message, hint))
            continue
        vocabulary.update(pack.vocabulary)
    s.build = PackBuild(s.doc, s.content, vocabulary, s.problems)
    _read_trees(s)  # before the parameters, declared next, are parsed


def _read_trees(s: Loading) -> None:
    """The syntax trees an earlier run kept for this content, once per loading."""
    if s.trees_read:
        return
    s.trees_read = True
    trees = disk_cache.load("trees", disk_cache.key("trees", s.file, s.content))
    if isinstance(trees, dict):
        s.builder().trees.update(trees)


def _declarations(s: Loading) -> None:
    b = s.builder()
    b.interpretations = declarations.interpretations(b)
    b.versions = declarations.versions(b)
    b.vocabulary = declarations.vocabulary(b)
    b.parameters = declarations.parameters(b)
    declarations.local_declarations(b)


def _parse(s: Loading) -> None:
    b = s.builder()
    _read_trees(s)
    item_order.parse_expressions(b)
    if b.parsed_new:
        disk_cache.store("trees", disk_cache.key("trees", s.file, s.content), b.trees)


def _order(s: Loading) -> None:
    b = s.builder()
    b.order, b.deps = item_order.order_items(b, b.parameters, b.vocabulary)


def _check(s: Loading) -> None:
    """Give every declared name its type, then check and compile the items in order."""
    b = s.builder()
    scope = PackScope(b.roots, [v.id for v in b.versions])
    for name, param in b.parameters.items():
        t: T.Type = T.NULL
        for pv in param.values:
            t = T.join(t, T.type_of_value(pv.value)) or T.ANY
        scope.symbols[name] = Symbol("parameter", t, False)
    for name, vocab in b.vocabulary.items():
        ids = [v.id for v in vocab.values]
        base = "int" if ids and all(isinstance(i, int) for i in ids) else "string"
        scope.symbols[name] = Symbol("vocabulary", T.list_of(T.enum_of(base, ids, name)), False)
    b.scope = scope
    # the compiled code of an earlier run's expressions, keyed by their generated source
    entry = disk_cache.key("code", s.file, s.content)
    stored = disk_cache.load("code", entry)
    if not isinstance(stored, dict) or not all(isinstance(v, bytes) for v in stored.values()):
        stored = {}
    with codegen.reusing(stored) as made:
        b.definitions, b.outputs, b.tables, b.rules = check_items(b, b.order, scope, b.healthcare)
    if made and not s.failed:
        disk_cache.store("code", entry, made)


def _references(s: Loading) -> None:
    b = s.builder()
    references.check_references(
        b, b.interpretations, b.versions, b.definitions, b.outputs, b.tables, b.rules
    )
    references.check_tables(b, b.tables)
    references.check_local_conditions(b, b.definitions)
    references.lint_unused(b, b.definitions, b.deps, b.parameters)
    provenance.lint_uncited(b)


def _cost(s: Loading) -> None:
    """Each expression's estimated evaluation cost, against the limit (engine.language.cost)."""
    pack_cost.check_costs(s.builder())


def _tasks(s: Loading) -> None:
    """The task graph; each problem placed at the `after:` entry it is about."""
    b = s.builder()
    raw = b.data.get("tasks")
    if not raw:
        return
    found = task_graph.task_problems(raw)
    for p in found:
        path: Path_ = ("tasks", p.task) if p.after is None else ("tasks", p.task, "after", p.after)
        b.problem(path, p.code, p.message)
    if not found:
        weighting = (b.data.get("graph") or {}).get("weighting_precedence", True)
        b.task_graph_maker = task_graph.GraphMaker(copy.deepcopy(raw), weighting)


def all_citations(doc: Document) -> Iterator[M.Citation]:
    """Every citation in a pack document that names a section, placed at its section, so that
    source coverage can check them without reading the pack file again."""

    def walk(node: Any, path: Path_) -> Iterator[M.Citation]:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key != "cite":
                    yield from walk(value, (*path, key))
                    continue
                items = value if isinstance(value, list) else [value]
                for n, item in enumerate(items):
                    where = (*path, key, n) if isinstance(value, list) else (*path, key)
                    if isinstance(item, Mapping) and isinstance(item.get("section"), str):
                        span = doc.span((*where, "section"))
                        document = item.get("document")
                        yield M.Citation(
                            section=item["section"],
                            document=str(document) if document else None,
                            line=span.line,
                            col=span.col,
                        )
        elif isinstance(node, list):
            for n, value in enumerate(node):
                yield from walk(value, (*path, n))

    yield from walk(doc.data, ())


def _task_models(b: PackBuild) -> dict[str, M.Task]:
    """The tasks as the model keeps them: typed, each dependency with its citations."""
    out: dict[str, M.Task] = {}
    for tid, raw in (b.data.get("tasks") or {}).items():
        at: Path_ = ("tasks", tid)
        after = tuple(
            M.Dependency(
                task=str(entry.get("task")),
                cites=b.cites((*at, "after", j, "cite")),
                interpretation=opt_str(entry.get("interpretation")),
            )
            for j, entry in enumerate(raw.get("after") or ())
        )
        autonomy = raw.get("autonomy")
        out[str(tid)] = M.Task(
            id=str(tid),
            area=str(raw.get("area", "")),
            title=str(raw.get("title", "")),
            baseline=opt_str(raw.get("baseline")),
            weighting=int(raw.get("weighting", 0)),
            autonomy=choice(autonomy, M.Autonomy) if autonomy is not None else None,
            mandatory=raw.get("mandatory"),
            stages=tuple(int(s) for s in raw.get("stages") or ()),
            sources=tuple(str(s) for s in raw.get("sources") or ()),
            after=after,
            cites=b.cites((*at, "cite")),
            interpretations=tuple(str(i) for i in raw.get("interpretations") or ()),
        )
    return out


def _content_hash(content: bytes, imports: Iterable[Any], imported: Mapping[str, M.Pack]) -> str:
    """The SHA-256 of the pack file; for a pack that imports others, of the file and each
    imported pack's own hash, so that a decision's hash changes with anything it was made from."""
    digest = hashlib.sha256(content)
    for pid in imports:
        pack = imported.get(str(pid))
        if pack is not None:
            digest.update(f"\0{pid}={pack.content_hash}".encode())
    return "sha256:" + digest.hexdigest()


def _model(s: Loading) -> None:
    b = s.builder()
    data = b.data
    src = data.get("source") or {}
    cases = (data.get("tests") or {}).get("cases") or ()
    s.pack = M.Pack(
        id=str(data["id"]),
        title=str(data.get("title", "")),
        version=str(data.get("version", "")),
        status=str(data.get("status", "")),
        summary=opt_str(data.get("summary")),
        source=M.Source(
            title=str(src.get("title", "")),
            publisher=opt_str(src.get("publisher")),
            file=opt_str(src.get("file")),
            published=src.get("published"),
            url=opt_str(src.get("url")),
        ),
        file=b.file,
        content_hash=_content_hash(b.content, data.get("imports") or (), s.imported),
        versions=tuple(b.versions),
        vocabulary=MappingProxyType(dict(b.vocabulary)),
        parameters=MappingProxyType(dict(b.parameters)),
        definitions=MappingProxyType(dict(b.definitions)),
        outputs=MappingProxyType(dict(b.outputs)),
        rules=tuple(b.rules),
        tables=MappingProxyType(dict(b.tables)),
        interpretations=MappingProxyType(dict(b.interpretations)),
        tasks=MappingProxyType(_task_models(b)),
        task_graph_maker=b.task_graph_maker,
        healthcare_names=frozenset(b.healthcare),
        dependencies=MappingProxyType({k: frozenset(v) for k, v in b.deps.items()}),
        tests=tuple(M.frozen(c) for c in cases),
        test_lines=tuple(b.doc.span(("tests", "cases", i)).line for i in range(len(cases))),
        facts=b.facts_schema,
        citations=tuple(all_citations(b.doc)),
        shared=_shared_items(b),
        local_items=local_items(data),
        local=M.frozen(data["local"]) if isinstance(data.get("local"), dict) else None,
        build_key=s.key,
    )


def _shared_items(b: PackBuild) -> tuple[M.SharedItem, ...]:
    """The `local:` block's `shared:` declarations, each where it stands in the file."""
    out: list[M.SharedItem] = []
    for path, declared in shared_declarations(b.data):
        kind = SHARED_KINDS[path[1]]
        span, at_pack = b.doc.span((*path, kind)), b.doc.span((*path, "pack"))
        out.append(
            M.SharedItem(
                kind=kind,
                name=str(path[2]),
                pack=str(declared.get("pack")),
                other=str(declared.get(kind)),
                line=span.line,
                col=span.col,
                pack_line=at_pack.line,
                pack_col=at_pack.col,
                cites=b.cites((*path, "cite")),
                interpretations=tuple(str(i) for i in declared.get("interpretations") or ()),
            )
        )
    return tuple(out)


STAGES: tuple[Stage, ...] = (
    Stage("read", "read the file as UTF-8 text", _read),
    Stage("yaml", "read YAML with positions (duplicate keys, tags, aliases)", _yaml),
    Stage("schema", "validate against schemas/pack.schema.json", _schema),
    Stage("imports", "take the vocabulary of imported packs", _imports),
    Stage(
        "declarations",
        "interpretations, versions, vocabulary, parameters and what is open to local plans",
        _declarations,
    ),
    Stage("parse", "parse expressions (engine/language/grammar.lark)", _parse),
    Stage("order", "order items after what they read; find cycles", _order),
    Stage("check", "check names, fact paths and types; compile each item", _check),
    Stage(
        "references",
        "check references, decision tables, unused names and uncited items",
        _references,
    ),
    Stage("cost", "estimate each expression's evaluation cost; reject those too costly", _cost),
    Stage("tasks", "build the task graph; find unknown tasks and cycles", _tasks),
    Stage("model", "assemble the immutable pack", _model),
)
STAGE_NAMES = tuple(stage.name for stage in STAGES)


def run_stages(loading: Loading, until: str | None = None, start: str | None = None) -> Loading:
    """Take a pack file through the stages from `start` (default the first) to `until`
    (default the last), stopping after the first stage that finds an error."""
    for name in (until, start):
        if name is not None and name not in STAGE_NAMES:
            raise ValueError(f"no stage `{name}`; stages: {', '.join(STAGE_NAMES)}")
    first = STAGE_NAMES.index(start) if start else 0
    kept: str | None = None  # the key to keep the whole pack under, once built afresh
    before = 0  # how many problems the stages before `imports` found
    with _collector_paused():
        for stage in STAGES[first:]:
            if stage.name == "imports" and loading.doc is not None:
                loading.key = pack_cache.entry(
                    loading.file, loading.content, loading.doc.data, loading.imported
                )
                kept = loading.key if until is None else None
                if kept is not None and _built_before(loading, kept):
                    kept = None
                    break
                before = len(loading.problems)
            stage.run(loading)
            loading.done.append(stage.name)
            if loading.failed or stage.name == until:
                break
    if kept is not None and loading.pack is not None and not loading.failed:
        pack_cache.store(kept, loading.pack, loading.problems[before:])
    loading.problems.sort()
    return loading


def _built_before(loading: Loading, kept: str) -> bool:
    """Take the pack an earlier run built from the same content (and imports) from the disk
    cache, with the problems its stages found, as if the stages had run."""
    found = pack_cache.load(kept)
    if found is None:
        return False
    loading.pack, problems = found
    loading.problems.extend(problems)
    loading.done.extend(STAGE_NAMES[STAGE_NAMES.index("imports") :])
    return True


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a pack is built: the stages make hundreds
    of thousands of long-lived objects (nodes, spans, syntax trees), and every full collection
    walks them all again (a fifth of the time on a large pack). Reference counting still frees
    what is dropped; any cycles are collected once the collector runs again afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_pack_file(
    path: Path,
    file: str | None = None,
    imported: Mapping[str, M.Pack] | None = None,
    until: str | None = None,
) -> Loading:
    """One pack file through the stages (up to `until`, if given)."""
    loading = Loading(path, str(path) if file is None else file, imported or {})
    return run_stages(loading, until)


def stage_results(loading: Loading) -> dict[str, Any]:
    """What the stages run so far have made, by name: for tests and for debugging packs."""
    b = loading.build
    return {
        "stages": list(loading.done),
        "document": loading.doc.data if loading.doc is not None else None,
        "versions": [v.id for v in b.versions] if b else [],
        "order": list(b.order) if b else [],
        "definitions": sorted(b.definitions) if b else [],
        "outputs": sorted(b.outputs) if b else [],
        "pack": loading.pack,
    }
