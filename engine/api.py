"""Loading: finding pack files, taking each through every stage, and the collection services use."""

from __future__ import annotations

import copy
import datetime as dt
import decimal
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from engine import disk_cache
from engine.evaluation.decision import AUDIENCES, Decision, build_decision
from engine.evaluation.evaluate import out_of_range
from engine.evaluation.program import ON_DAY, Program, program
from engine.language.runtime import EXACT
from engine.packs import build, pack_cache
from engine.packs import model as M
from engine.packs.facts_schema import facts_schema, prepare, prepare_fast
from engine.packs.read_yaml import Document, read_text_file, read_yaml_kept
from engine.packs.validate_schema import validate_document
from engine.problems import (
    EvaluationError,
    FactsError,
    PackError,
    Problem,
    UnknownPackError,
    did_you_mean,
    file_problem,
    problem,
)

STAGES = build.STAGES  # the pack pipeline, in order (see engine.packs.build)


def pack_files(paths: Iterable[Path | str]) -> list[Path]:
    """The pack files under the given files and directories (worked examples excluded)."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            for f in sorted(p.rglob("*.yaml")) + sorted(p.rglob("*.yml")):
                if "tests" in f.relative_to(p).parts[:-1] or f.name.startswith("."):
                    continue
                if is_pack_file(f) or is_blank_file(f):
                    found.append(f)
        elif not is_overlay_file(p):
            found.append(p)
    return _once(found)


def _once(files: list[Path]) -> list[Path]:
    """`files` without a second mention of one file (a folder and a file in it both given)."""
    seen: set[Path] = set()
    kept = []
    for f in files:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            kept.append(f)
    return kept


def file_head(path: Path) -> tuple[list[str], set[str]] | None:
    """The first lines of a regular file (its first 4,000 bytes) and the top-level keys among
    them, or None for what is not a readable regular file: enough to tell a pack, a facts
    document, a local plan and a worked-example file apart without reading a large file (a
    pipe or device might never end: reading it is refused later, with a clear problem)."""
    try:
        if not path.is_file():
            return None
        with path.open("rb") as f:
            head = f.read(4000).decode("utf-8", errors="replace")
    except OSError:
        return None
    lines = head.splitlines()
    tops = {
        line.split(":", 1)[0].strip()
        for line in lines
        if line and not line[0].isspace() and not line.startswith("#") and ":" in line
    }
    return lines, tops


def is_pack_file(path: Path) -> bool:
    """A pack declares the pack schema on its first line, or has a top-level `id`; a facts
    document (e.g. an action plan beside its pack) has fact roots instead."""
    head = file_head(path)
    if head is None:
        return True  # reading it is refused later, with a clear problem
    lines, tops = head
    if lines and "pack.schema.json" in lines[0]:
        return True
    roots = set(facts_schema().get("properties", {}))
    if tops & roots and "id" not in tops:
        return False
    return "id" in tops or "versions" in tops


def is_blank_file(path: Path) -> bool:
    """A small file of blanks and comments only: in a folder of packs, a pack begun or emptied
    by mistake, which is reported (it holds no pack) rather than passed over in silence."""
    head = file_head(path)
    if head is None or path.stat().st_size >= 4000:
        return False
    return all(not s.strip() or s.lstrip().startswith("#") for s in head[0])


def is_facts_document(path: Path) -> bool:
    """A file whose top-level keys are roots of the facts schema (and no pack's `id`): a facts
    document, which a command that reads packs names as one rather than as a broken pack."""
    head = file_head(path)
    if head is None:
        return False
    tops = head[1]
    roots = set(facts_schema().get("properties", {}))
    return bool(tops & roots) and not tops & {"id", "versions", "extends", "pack", "cases"}


def load_file(
    path: Path, display: str | None = None, imported: Mapping[str, M.Pack] | None = None
) -> tuple[M.Pack | None, list[Problem]]:
    """One pack file through every stage: the pack (None on errors) and all problems found."""
    loading = build.load_pack_file(path, display, imported)
    return loading.pack, loading.problems


# Loaded packs by the files they came from (names and bytes): loading the same files again in
# one process (a service, a test suite) reuses the immutable packs instead of recompiling them.
_LOADED: OrderedDict[tuple[tuple[str, bytes | None], ...], tuple[dict[str, M.Pack], list[Problem]]]
_LOADED = OrderedDict()
_LOADED_MAX = 8
_LOADED_LOCK = threading.Lock()


def _file_bytes(path: Path) -> bytes | None:
    try:
        if not path.is_file():  # a pipe or device might never end: reading it is refused later
            return None
        return path.read_bytes()
    except OSError:
        return None


def check_paths(
    paths: Iterable[Path | str], overlays: bool = True
) -> tuple[dict[str, M.Pack], list[Problem]]:
    """Load every pack under `paths` without raising: the packs that loaded and every problem,
    including those of the local plans under `paths` unless `overlays` is false.

    Packs are built after the packs they import (whose vocabulary they may use)."""
    paths = list(paths)
    files = pack_files(paths)
    plans = overlay_files(paths) if overlays else []
    beside = _plans_beside(plans)
    key = (
        tuple((str(f), _file_bytes(f)) for f in files)
        + (("--plans--", None),)
        + tuple((str(f), _file_bytes(f)) for f in plans)
        + (("--beside--", None),)
        + tuple((str(f), _file_bytes(f)) for near in beside.values() for f in near)
    )
    with _LOADED_LOCK:
        if key in _LOADED:
            _LOADED.move_to_end(key)
            packs, problems = _LOADED[key]
            return dict(packs), list(problems)
    packs, problems = _check_files(files)
    merged: list[M.Pack] = []
    loaded: list[M.Pack | None] = []  # each plan's merged pack, None where it did not load
    for f in plans:
        pack, found = load_overlay(f, packs)
        problems.extend(found)
        loaded.append(pack)
        if pack is not None:
            merged.append(pack)
    if overlays:  # what one pack's `local:` shares with another's, and the plans agreeing on it
        from engine.packs import shared_items

        problems.extend(shared_items.declaration_problems(packs, _pack_beside))
        problems.extend(shared_items.disagreements(merged))
        # a plan checked alone is still held to the plans beside it (its establishment's
        # folder), whose own problems are theirs to report when they are checked
        for folder, near in beside.items():
            checked = [m for f, m in zip(plans, loaded, strict=True) if m and _folder(f) == folder]
            others = [m for m in (load_overlay(f, packs)[0] for f in near) if m is not None]
            problems.extend(shared_items.disagreements_with(checked, others))
    problems.sort()
    with _LOADED_LOCK:
        _LOADED[key] = (dict(packs), list(problems))
        while len(_LOADED) > _LOADED_MAX:
            _LOADED.popitem(last=False)
    return packs, problems


def _check_files(files: list[Path]) -> tuple[dict[str, M.Pack], list[Problem]]:
    packs: dict[str, M.Pack] = {}
    problems: list[Problem] = []
    docs: dict[str, build.Loading] = {}
    for f in files:
        # the first stages, alone: the ids and imports say in which order to build the packs
        loading = build.run_stages(build.Loading(f, str(f)), until="schema")
        if loading.failed or loading.doc is None:
            problems.extend(loading.problems)
            continue
        pid = str(loading.pack_id)
        if pid in docs:
            message = f"pack `{pid}` is also defined in {docs[pid].path}"
            span = loading.doc.span(("id",))
            problems.append(problem("E-DUP-PACK", str(f), span.line, span.col, message))
            problems.extend(loading.problems)
            continue
        docs[pid] = loading
    edges = [
        (str(dep), pid)
        for pid, loading in docs.items()
        if loading.doc is not None
        for dep in loading.doc.data.get("imports") or []
        if str(dep) in docs
    ]
    order = sorted(docs) if not edges else _import_order(docs, edges, problems)
    for pid in order:
        loading = docs[pid]
        loading.imported = packs
        build.run_stages(loading, start="imports")
        problems.extend(loading.problems)
        if loading.pack is not None:
            packs[pid] = loading.pack
    return packs, sorted(problems)


def _import_order(
    docs: dict[str, Any], edges: list[tuple[str, str]], problems: list[Problem]
) -> list[str]:
    """Pack ids with each after those it imports, reporting import cycles. networkx is
    imported here, not at the top: only packs that import others need it, and it is a third
    of the time `import engine` takes."""
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(docs)
    graph.add_edges_from(edges)
    for found in sorted(nx.simple_cycles(graph), key=min):
        # start at the least pack id, so the report does not depend on set order
        start = found.index(min(found))
        cycle = found[start:] + found[:start]
        first = docs[cycle[0]]
        assert first.doc is not None
        span = first.doc.span(("imports",))
        shown = " -> ".join(f"`{p}`" for p in [*cycle, cycle[0]])
        message = f"packs import each other in a cycle: {shown}"
        problems.append(problem("E-IMPORT-CYCLE", first.file, span.line, span.col, message))
        graph.remove_nodes_from(cycle)
        for pid in cycle:
            problems.extend(docs[pid].problems)
    return [str(p) for p in nx.lexicographical_topological_sort(graph)]


def is_overlay_file(path: Path) -> bool:
    """A local plan declares the overlay schema on its first line, or has a top-level
    `extends`."""
    head = file_head(path)
    if head is None:
        return False
    lines, tops = head
    return bool(lines and "overlay.schema.json" in lines[0]) or "extends" in tops


def overlay_files(paths: Iterable[Path | str]) -> list[Path]:
    """The local plans under the given files and directories (worked examples excluded)."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            for f in sorted(p.rglob("*.yaml")):
                if "tests" in f.relative_to(p).parts[:-1] or f.name.startswith("."):
                    continue
                if is_overlay_file(f):
                    found.append(f)
        elif is_overlay_file(p):
            found.append(p)
    return _once(found)


def _read_plan(path: Path, name: str) -> tuple[Document | None, bytes, list[Problem]]:
    """A local plan read with positions and validated against the overlay schema."""
    try:
        content, text = read_text_file(path, name)
        doc = read_yaml_kept(content, text, name)
    except PackError as e:
        return None, b"", list(e.problems)
    if not isinstance(doc.data, dict):
        message = "a local plan must be a mapping with `extends`, `establishment`..."
        return None, content, [file_problem("E-SCHEMA", name, message)]
    problems = _plan_schema_problems(doc, content, name)
    if any(p.is_error for p in problems):
        return None, content, sorted(problems)
    return doc, content, problems


def _plan_schema_problems(doc: Document, content: bytes, name: str) -> list[Problem]:
    """The plan validated against the overlay schema; the verdict is kept in the disk cache by
    the plan's content and name (as a pack's `schema` stage keeps its own)."""
    entry = disk_cache.key("plan-schema", name, content)
    kept = disk_cache.load("plan-schema", entry)
    if isinstance(kept, list) and all(isinstance(p, Problem) for p in kept):
        return kept
    problems = validate_document(doc.data, "overlay", name, doc)
    disk_cache.store("plan-schema", entry, problems)
    return problems


def _plans_beside(plans: list[Path]) -> dict[Path, list[Path]]:
    """For each folder holding one of `plans`, the local plans in it that are not among them."""
    checked = {f.resolve() for f in plans}
    out: dict[Path, list[Path]] = {}
    for folder in dict.fromkeys(_folder(f) for f in plans):
        out[folder] = [
            f
            for f in sorted(folder.glob("*.yaml"))
            if f.resolve() not in checked and not f.name.startswith(".") and is_overlay_file(f)
        ]
    return out


def _folder(path: Path) -> Path:
    return path.resolve().parent


def _national_file(plan: Path, pack_id: str) -> Path | None:
    """`<pack_id>.yaml` in the plan's directory or the nearest directory above it (or in a
    `policies/` folder there)."""
    for folder in plan.resolve().parents:
        for candidate in (folder / f"{pack_id}.yaml", folder / "policies" / f"{pack_id}.yaml"):
            if candidate.is_file() and candidate.resolve() != plan.resolve():
                return candidate
    return None


def _pack_beside(pack: M.Pack, pack_id: str) -> M.Pack | None:
    """The pack `pack_id` found as a plan finds its national pack, from `pack`'s file (None
    when there is none, or it does not load)."""
    path = _national_file(Path(pack.file), pack_id)
    return None if path is None else load_file(path)[0]


def load_overlay(
    path: Path, packs: Mapping[str, M.Pack], display: str | None = None
) -> tuple[M.Pack | None, list[Problem]]:
    """A local plan through every stage: its national pack with the plan merged in (None on
    errors) and every problem found. The national pack is taken from `packs`, else from
    `<pack>.yaml` in the nearest directory above the plan."""
    name = display or str(path)
    doc, content, problems = _read_plan(path, name)
    if doc is None:
        return None, problems
    pid = str((doc.data.get("extends") or {}).get("pack"))
    national = packs.get(pid)
    national_path = Path(national.file) if national is not None else _national_file(path, pid)
    if national is None and national_path is not None:
        national, found = load_file(national_path)
        if national is None:
            problems.extend(p for p in found if p.is_error)
    if national is None or national_path is None:
        span = doc.span(("extends", "pack"))
        problems.append(
            problem(
                "E-LOCAL-EXTENDS",
                name,
                span.line,
                span.col,
                f"no national pack `{pid}` that loads without errors",
                "a plan extends a pack found beside it or in a directory above it",
            )
        )
        return None, sorted(problems)
    # `regime check` merges each plan for its own problems and again for the worked examples
    # that run under it: the merged pack is immutable, so the second asks the first
    key = (name, hashlib.sha256(content).hexdigest(), national.content_hash)
    with _LOADED_LOCK:
        cached = _OVERLAYS.get(key)
    if cached is None:  # then from the disk cache, else merged afresh
        try:
            ncontent = national_path.read_bytes()
        except OSError:
            return None, sorted(problems)
        kept = pack_cache.plan_entry(name, content, national, ncontent)
        cached = pack_cache.load_plan(kept) if kept is not None else None
        if cached is None:
            from engine.packs.overlay import OverlayBuilder

            # the national document with positions, read only to merge afresh
            ndoc, ncontent = _national_document(national_path, national.file)
            if ndoc is None:
                return None, sorted(problems)
            builder = OverlayBuilder(doc, content, national, ndoc, ncontent)
            cached = (builder.build(), tuple(builder.problems))
            if kept is not None:
                pack_cache.store_plan(kept, cached)
        with _LOADED_LOCK:
            _OVERLAYS[key] = cached
            while len(_OVERLAYS) > _LOADED_MAX:
                _OVERLAYS.popitem(last=False)
    merged, built = cached
    return merged, sorted(problems + list(built))


_OVERLAYS: OrderedDict[tuple[str, str, str], tuple[M.Pack | None, tuple[Problem, ...]]]
_OVERLAYS = OrderedDict()


_NATIONAL_DOCS: dict[tuple[str, str], tuple[Document | None, bytes]] = {}


def _national_document(path: Path, display: str) -> tuple[Document | None, bytes]:
    """The national pack's document with positions (through the `schema` stage), read once per
    file content (documents are immutable, so sharing them is safe)."""
    try:
        content = path.read_bytes()
    except OSError:
        return None, b""
    key = (display, hashlib.sha256(content).hexdigest())
    if key not in _NATIONAL_DOCS:
        loading = build.run_stages(build.Loading(path, display), until="schema")
        doc = None if loading.failed else loading.doc
        _NATIONAL_DOCS.clear()  # keep only the latest: one national pack in use at a time
        _NATIONAL_DOCS[key] = (doc, loading.content)
    return _NATIONAL_DOCS[key]


def resolve_plan(plan: Path | str, pack_id: str, packs_dir: Path | str = "policies") -> Path:
    """A plan file, or an establishment code resolved to `<packs_dir>/local/<code>/<pack>.yaml`."""
    given = Path(plan)
    if given.is_file():
        return given
    return Path(packs_dir) / "local" / str(plan).lower() / f"{pack_id}.yaml"


def load(*paths: Path | str, partial: bool = False) -> Packs:
    """Load, validate and compile the packs under `paths`; raises PackError with every problem.

    With `partial=True`, packs with errors are left out instead (asking for one raises
    PackError with its problems) and the others are usable; `Packs.problems` lists them all.
    Either way, finding no pack at all is a PackError (E-NO-PACKS)."""
    for p in paths:
        if not isinstance(p, str | Path):
            raise TypeError(f"engine.load takes paths of folders or files, not {type(p).__name__}")
    targets = paths or ("policies",)
    if not pack_files(targets):
        shown = ", ".join(f"`{t}`" for t in targets)
        raise PackError(
            [
                Problem(
                    str(targets[0]),
                    1,
                    1,
                    "error",
                    "E-NO-PACKS",
                    f"no packs in {shown}",
                    "a pack is a YAML file with a top-level `id:` (or whose first line names "
                    "schemas/pack.schema.json)",
                )
            ]
        )
    packs, problems = check_paths(targets, overlays=False)
    if any(p.is_error for p in problems) and not partial:
        raise PackError(problems)
    return Packs(
        packs,
        tuple(p for p in problems if not p.is_error),
        tuple(problems),
    )


@dataclass(frozen=True)
class Packs(Mapping[str, M.Pack]):
    """Loaded packs by id. Immutable and safe to share between threads."""

    packs: Mapping[str, M.Pack]
    warnings: tuple[Problem, ...] = ()
    problems: tuple[Problem, ...] = ()  # every problem found when loading, errors included

    def __getitem__(self, pack_id: str) -> M.Pack:
        if not isinstance(pack_id, str):
            raise UnknownPackError("E-ARG", f"a pack id is text, not {type(pack_id).__name__}")
        try:
            return self.packs[pack_id]
        except KeyError:
            mine = [p for p in self.problems if p.is_error and _names_pack(p.file, pack_id)]
            if mine:
                raise PackError(mine) from None
            hint = did_you_mean(pack_id, self.packs) or f"packs: {', '.join(sorted(self.packs))}"
            raise UnknownPackError("E-ARG", f"no pack `{pack_id}`; {hint}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.packs)

    def __len__(self) -> int:
        return len(self.packs)

    def __copy__(self) -> Packs:
        """Loaded packs are deeply immutable: a copy is the object itself."""
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Packs:
        return self

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        """Refused, as for each pack (see `Pack.__reduce_ex__`)."""
        raise TypeError(
            "loaded packs cannot be pickled: load them in the other process with engine.load"
        )

    def evaluate(
        self,
        pack_id: str,
        facts: Mapping[str, Any],
        as_of: dt.date | None = None,
        audience: str = "custodial",
        facts_name: str = "<facts>",
    ) -> Decision:
        """Evaluate one facts document; raises FactsError on bad facts, EvaluationError when the
        pack cannot be evaluated at that date."""
        _check_pack_id(pack_id)
        return evaluate(self[pack_id], facts, as_of, audience, facts_name)

    def with_plan(
        self, pack_id: str, plan: Path | str, packs_dir: Path | str = "policies"
    ) -> M.Pack:
        """Pack `pack_id` under an establishment's local plan: a plan file, or an establishment
        code resolved to `<packs_dir>/local/<code>/<pack>.yaml`. Raises PackError with every
        problem when the plan does not load or stays outside the national bounds."""
        self[pack_id]
        if not isinstance(plan, str | Path):
            kind = type(plan).__name__
            raise EvaluationError(
                "E-ARG", f"a local plan is a file or an establishment code, not {kind}"
            )
        path = resolve_plan(plan, pack_id, packs_dir)
        merged, problems = load_overlay(path, self.packs)
        if merged is None:
            raise PackError(problems)
        if merged.id != pack_id:
            raise PackError(
                [
                    file_problem(
                        "E-LOCAL-EXTENDS",
                        str(path),
                        f"the plan extends pack `{merged.id}`, not `{pack_id}`",
                    )
                ]
            )
        return merged

    def evaluate_many(
        self,
        pack_id: str,
        facts_iter: Iterable[Mapping[str, Any]],
        as_of: dt.date | None = None,
        audience: str = "custodial",
    ) -> Iterator[Decision]:
        """The same results as `evaluate` for each facts document, in order."""
        _check_pack_id(pack_id)
        yield from evaluate_many(self[pack_id], facts_iter, as_of, audience)


def _check_pack_id(pack_id: Any) -> None:
    if not isinstance(pack_id, str):
        raise EvaluationError("E-ARG", f"a pack id is text, not {type(pack_id).__name__}")


def as_date(value: Any, what: str = "as_of") -> dt.date | None:
    """The one reading of an evaluation date everywhere (library, facts and command line): a
    `date` or `YYYY-MM-DD` text; None stays None. Anything else is an EvaluationError."""
    if value is None:
        return None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date | str):
        raise EvaluationError(
            "E-ARG",
            f"{what} must be a date or YYYY-MM-DD text, not {type(value).__name__} `{value!r}`",
        )
    if isinstance(value, dt.date):
        return value
    text = value.strip()
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise EvaluationError(
        "E-DATE", f"{what} `{value}` is not a date; write it as YYYY-MM-DD, e.g. 2020-07-01"
    )


def _names_pack(file: str, pack_id: str) -> bool:
    """Whether the pack file `file` declares the id `pack_id` (for a broken pack's problems)."""
    try:
        with open(file, "rb") as f:
            head = f.read(3000).decode("utf-8", errors="replace")
    except OSError:
        return False
    return any(line.strip() == f"id: {pack_id}" for line in head.splitlines())


def evaluate_many(
    pack: M.Pack,
    facts_iter: Iterable[Mapping[str, Any]],
    as_of: dt.date | None = None,
    audience: str = "custodial",
) -> Iterator[Decision]:
    """`evaluate` for each facts document in turn, with what does not change from one
    document to the next found once, outside the loop: the pack's program for each day (the
    last day's at hand), the functions the loop calls. Each document is checked in
    `evaluate`'s order, so the first problem reported is the same."""
    if isinstance(facts_iter, Mapping) or not isinstance(facts_iter, Iterable):
        raise EvaluationError(
            "E-ARG",
            "evaluate_many takes an iterable of facts documents (e.g. a list of dicts), not "
            f"{type(facts_iter).__name__}; `evaluate` takes one document",
        )
    custodial = audience != "healthcare"
    plan = pack.local_plan
    facts_name = pack.facts
    pack_id = pack.id
    programs: dict[dt.date, Program] = {}
    given: dt.date | None = None  # `as_of` read once, after the first document's checks
    checked = False
    last: dt.date | None = None  # the day of the program at hand
    found: Program | None = None
    getcontext, setcontext = decimal.getcontext, decimal.setcontext
    # (this generator's body runs in one thread at a time, the context set only within it)
    exact = _exact()
    prep, fast, build = prepare, prepare_fast, build_decision
    for n, facts in enumerate(facts_iter, 1):
        if facts.__class__ is not dict:
            _check_facts(facts)
        if not checked:
            _check_audience(audience)  # the same every time: checked (in turn) once
        if plan is not None:
            facts = with_plan_facts(facts, plan)
        # a document the compiled check passes, without naming it; any other as `prepare`
        # takes it, named by its place (which its problems give)
        prepared = fast(facts, facts_name, custodial)
        if prepared is None:
            prepared = prep(facts, f"<facts #{n}>", facts_name, custodial)
        if not checked:
            given = as_date(as_of)
            checked = True
        day = given or _facts_day(prepared)
        if plan is not None:
            _check_plan_covers(plan, day)
        if found is None or day != last:
            found = programs.get(day)
            if found is None:
                if len(programs) > 1024:
                    programs.clear()
                found = programs[day] = program(pack, day, custodial, None)
            last = day
        # as `evaluate`: under this thread's exact decimal context, the caller's put back
        # (the prepared facts the run's own, as there)
        caller = getcontext()
        setcontext(exact)
        try:
            decision = build(found.run(prepared, day, None, True), audience, facts_name)
        except (OverflowError, ValueError, ArithmeticError) as e:
            raise out_of_range(pack_id, e) from None
        finally:
            setcontext(caller)
        yield decision


def _check_pack(pack: Any) -> None:
    if not isinstance(pack, M.Pack):
        raise EvaluationError(
            "E-ARG",
            f"engine.evaluate takes a loaded pack (`engine.load(...)[id]`), not "
            f"{type(pack).__name__}; `Packs.evaluate` takes a pack id",
        )


def _check_facts(facts: Any) -> None:
    if facts.__class__ is not dict and not isinstance(facts, Mapping):
        raise EvaluationError(
            "E-ARG", f"facts are a mapping of roots (a dict), not {type(facts).__name__}"
        )


def _check_audience(audience: Any) -> None:
    if not isinstance(audience, str) or audience not in AUDIENCES:
        raise EvaluationError(
            "E-EVAL-AUDIENCE", f"audience must be one of {', '.join(AUDIENCES)}, not `{audience}`"
        )


def _facts_day(prepared: Mapping[str, Any]) -> dt.date:
    """The day the facts give (`as_of`), else today."""
    return as_date(prepared.get("as_of"), "the facts' as_of") or dt.date.today()


def _check_plan_covers(plan: M.LocalPlan, day: dt.date) -> None:
    if (why := plan.not_in_force(day)) is not None:
        raise EvaluationError("E-EVAL-PLAN", why)


_getcontext, _setcontext = decimal.getcontext, decimal.setcontext


_EXACT = threading.local()  # each thread's copy of the exact decimal context


def _exact() -> decimal.Context:
    """The exact decimal context, this thread's own copy, to set and put back by hand:
    `decimal.localcontext` copies a context on every decision (its flags are never read)."""
    exact: decimal.Context | None = _EXACT.__dict__.get("context")
    if exact is None:
        exact = _EXACT.context = EXACT.copy()
    return exact


def evaluate(
    pack: M.Pack,
    facts: Mapping[str, Any],
    as_of: dt.date | None = None,
    audience: str = "custodial",
    facts_name: str = "<facts>",
    version: str | None = None,
) -> Decision:
    """Evaluate a pack against one facts document at `as_of` for an audience; `version` takes
    one of the pack's policy versions as in force whatever the date (to compare versions)."""
    if pack.__class__ is not M.Pack:
        _check_pack(pack)
    if facts.__class__ is not dict:  # (the common case in line)
        _check_facts(facts)
    if audience.__class__ is not str or audience not in AUDIENCES:  # (the common case in line)
        _check_audience(audience)
    plan = pack.local_plan
    if plan is not None:
        facts = with_plan_facts(facts, plan)
    custodial = audience != "healthcare"
    # (the compiled check first, as `prepare` takes it, without the call around it)
    prepared = prepare_fast(facts, pack.facts, custodial)
    if prepared is None:
        prepared = prepare(facts, facts_name, pack.facts, custodial)
    day = as_of if as_of.__class__ is dt.date else as_date(as_of) or _facts_day(prepared)
    if plan is not None:
        _check_plan_covers(plan, day)
    # under this thread's exact decimal context, the caller's put back; steps are replayed
    # (same audience, same preparation) when first read; the prepared facts are a dict made
    # for this decision alone, which the run keeps as its own
    # (`program`'s lookup by day in line: the program for this day, found before)
    on_day = pack.derived.get(ON_DAY)
    found = None if on_day is None else on_day.get((day, custodial, version))
    if found is None:
        found = program(pack, day, custodial, version)
    given = _getcontext()
    _setcontext(_EXACT.__dict__.get("context") or _exact())
    try:
        return build_decision(found.run(prepared, day, version, True), audience, pack.facts)
    except (OverflowError, ValueError, ArithmeticError) as e:
        raise out_of_range(pack.id, e) from None
    finally:
        _setcontext(given)


def with_plan_facts(facts: Mapping[str, Any], plan: M.LocalPlan) -> dict[str, Any]:
    """The facts with what the plan's choices supply filled in; a fact that says otherwise,
    or facts for another establishment, are an error."""
    out, problems = plan_facts(facts, plan)
    if problems:
        raise EvaluationError("E-EVAL-PLAN", problems[0][1])
    return out


def plan_facts(
    facts: Mapping[str, Any], plan: M.LocalPlan
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The facts with what the plan supplies filled in where they leave it unset, and each
    fact that says otherwise: (its path, the words), in the order a population run lists
    them among a record's reasons."""
    out: dict[str, Any] = copy.deepcopy(dict(facts))
    problems: list[tuple[str, str]] = []
    est = out.get("establishment")
    if not isinstance(est, dict):
        est = out["establishment"] = {}
    code = est.get("code")
    if code is None:
        est["code"] = plan.establishment_code
        if est.get("name") is None:  # (as a population run fills it: unset, absent or null)
            est["name"] = plan.establishment_name
    elif str(code) != plan.establishment_code:
        problems.append(
            (
                "establishment.code",
                f"the facts are for establishment `{code}` but the local plan `{plan.file}` "
                f"is for `{plan.establishment_code}`",
            )
        )
    for path, value in plan.facts():
        *parents, leaf = path.split(".")
        node = out
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        if node.get(leaf) is None:
            node[leaf] = value
        elif node[leaf] != value:
            problems.append(
                (
                    path,
                    f"the facts give `{path}` as `{node[leaf]}` but the local plan "
                    f"`{plan.file}` chose `{value}`",
                )
            )
    return out, problems


__all__ = [
    "FactsError",
    "PackError",
    "EvaluationError",
    "Packs",
    "load",
    "check_paths",
    "load_overlay",
    "overlay_files",
    "resolve_plan",
    "evaluate",
    "evaluate_many",
    "pack_files",
    "STAGES",
]
