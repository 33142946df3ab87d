"""Loading: finding pack files, taking each through every stage, and the collection services use."""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx

from engine.evaluation.decision import AUDIENCES, Decision, build_decision
from engine.evaluation.evaluate import Evaluation
from engine.packs import build
from engine.packs import model as M
from engine.packs.facts_schema import facts_schema, prepare
from engine.problems import (
    EvaluationError,
    FactsError,
    PackError,
    Problem,
    did_you_mean,
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
                if is_pack_file(f):
                    found.append(f)
        else:
            found.append(p)
    return found


def is_pack_file(path: Path) -> bool:
    """A pack declares the pack schema on its first line, or has a top-level `id`; a facts
    document (e.g. an action plan beside its pack) has fact roots instead."""
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:4000]
    except OSError:
        return True
    first = head.splitlines()[0] if head else ""
    if "pack.schema.json" in first:
        return True
    tops = {
        line.split(":", 1)[0]
        for line in head.splitlines()
        if line and not line[0].isspace() and not line.startswith("#") and ":" in line
    }
    roots = set(facts_schema().get("properties", {}))
    if tops & roots and "id" not in tops:
        return False
    return "id" in tops or "versions" in tops


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
        return path.read_bytes()
    except OSError:
        return None


def check_paths(paths: Iterable[Path | str]) -> tuple[dict[str, M.Pack], list[Problem]]:
    """Load every pack under `paths` without raising: the packs that loaded and every problem.

    Packs are built after the packs they import (whose vocabulary they may use)."""
    files = pack_files(paths)
    key = tuple((str(f), _file_bytes(f)) for f in files)
    with _LOADED_LOCK:
        if key in _LOADED:
            _LOADED.move_to_end(key)
            packs, problems = _LOADED[key]
            return dict(packs), list(problems)
    packs, problems = _check_files(files)
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
    graph = nx.DiGraph()
    graph.add_nodes_from(docs)
    for pid, loading in docs.items():
        assert loading.doc is not None
        for dep in loading.doc.data.get("imports") or []:
            if str(dep) in docs:
                graph.add_edge(str(dep), pid)
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
    for pid in nx.lexicographical_topological_sort(graph):
        loading = docs[pid]
        loading.imported = packs
        build.run_stages(loading, start="imports")
        problems.extend(loading.problems)
        if loading.pack is not None:
            packs[pid] = loading.pack
    return packs, sorted(problems)


def load(*paths: Path | str) -> Packs:
    """Load, validate and compile the packs under `paths`; raises PackError with every problem."""
    packs, problems = check_paths(paths or ("policies",))
    if any(p.is_error for p in problems):
        raise PackError(problems)
    return Packs(packs, tuple(p for p in problems if not p.is_error))


@dataclass(frozen=True)
class Packs(Mapping[str, M.Pack]):
    """Loaded packs by id. Immutable and safe to share between threads."""

    packs: Mapping[str, M.Pack]
    warnings: tuple[Problem, ...] = ()

    def __getitem__(self, pack_id: str) -> M.Pack:
        try:
            return self.packs[pack_id]
        except KeyError:
            hint = did_you_mean(pack_id, self.packs) or f"packs: {', '.join(sorted(self.packs))}"
            raise KeyError(f"no pack `{pack_id}`; {hint}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.packs)

    def __len__(self) -> int:
        return len(self.packs)

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
        return evaluate(self[pack_id], facts, as_of, audience, facts_name)

    def evaluate_many(
        self,
        pack_id: str,
        facts_iter: Iterable[Mapping[str, Any]],
        as_of: dt.date | None = None,
        audience: str = "custodial",
    ) -> Iterator[Decision]:
        """The same results as `evaluate` for each facts document, in order."""
        pack = self[pack_id]
        for n, facts in enumerate(facts_iter, 1):
            yield evaluate(pack, facts, as_of, audience, f"<facts #{n}>")


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
    if audience not in AUDIENCES:
        raise EvaluationError(
            "E-EVAL-AUDIENCE", f"audience must be one of {', '.join(AUDIENCES)}, not `{audience}`"
        )
    prepared = prepare(facts, facts_name, pack.facts)
    day = as_of or prepared.get("as_of") or dt.date.today()
    if isinstance(day, str):
        day = dt.date.fromisoformat(day)
    ev = Evaluation(pack, prepared, day, version)
    try:
        ev.run()
    except (OverflowError, ValueError, ArithmeticError) as e:
        # a date pushed past year 9999, or a decimal past its precision
        raise EvaluationError(
            "E-EVAL-RANGE", f"a value in pack `{pack.id}` went out of range: {e}"
        ) from None
    return build_decision(ev, audience, pack.facts)


__all__ = [
    "FactsError",
    "PackError",
    "EvaluationError",
    "Packs",
    "load",
    "check_paths",
    "evaluate",
    "pack_files",
    "STAGES",
]
