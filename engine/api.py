"""Loading: finding pack files, taking each through every stage, and the collection services use."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx

from engine.evaluation.decision import AUDIENCES, Decision, build_decision
from engine.evaluation.evaluate import Evaluation
from engine.packs import model as M
from engine.packs.build import Builder
from engine.packs.facts_schema import facts_schema, prepare
from engine.packs.read_yaml import Document, read_text_file, read_yaml
from engine.packs.validate_schema import validate_pack
from engine.problems import (
    EvaluationError,
    FactsError,
    PackError,
    Problem,
    did_you_mean,
    file_problem,
    problem,
)

# The stages every pack file goes through, in order; each may add problems, and a pack with
# errors after any stage goes no further.
STAGES = (
    "read YAML (positions, duplicate keys, tags, aliases)",
    "validate against schemas/pack.schema.json",
    "parse expressions (engine/grammar.lark)",
    "order names and find cycles",
    "check names, fact paths and types",
    "check decision tables, references and tasks",
    "compile expressions to Python",
)


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


def read_pack(
    path: Path, display: str | None = None
) -> tuple[Document | None, bytes, list[Problem]]:
    """The first stages: read the YAML with positions and validate it against the schema."""
    name = display or str(path)
    content = b""
    try:
        content, text = read_text_file(path, name)
        doc = read_yaml(text, name)
    except PackError as e:
        return None, content, list(e.problems)
    if not isinstance(doc.data, dict):
        message = "a pack must be a mapping with `id`, `title`, `versions`..."
        return None, content, [file_problem("E-SCHEMA", name, message)]
    problems = validate_pack(doc)
    if any(p.is_error for p in problems):
        return None, content, sorted(problems)
    return doc, content, problems


def load_file(
    path: Path, display: str | None = None, imported: Mapping[str, M.Pack] | None = None
) -> tuple[M.Pack | None, list[Problem]]:
    """One pack file through every stage: the pack (None on errors) and all problems found."""
    doc, content, problems = read_pack(path, display)
    if doc is None:
        return None, problems
    vocabulary, missing = _imported_vocabulary(doc, imported or {})
    builder = Builder(doc, content, vocabulary)
    pack = builder.build()
    return None if missing else pack, sorted(problems + missing + builder.problems)


def _imported_vocabulary(
    doc: Document, imported: Mapping[str, M.Pack]
) -> tuple[dict[str, M.Vocabulary], list[Problem]]:
    """The vocabulary of the packs a pack imports, and an `E-IMPORT` for each one missing."""
    vocab: dict[str, M.Vocabulary] = {}
    problems: list[Problem] = []
    for i, pid in enumerate(doc.data.get("imports") or []):
        pack = imported.get(str(pid))
        if pack is None:
            span = doc.span(("imports", i))
            hint = did_you_mean(str(pid), imported) or "imported packs must load without errors"
            problems.append(
                problem(
                    "E-IMPORT", doc.file, span.line, span.col, f"no pack `{pid}` to import", hint
                )
            )
            continue
        vocab.update(pack.vocabulary)
    return vocab, problems


def check_paths(paths: Iterable[Path | str]) -> tuple[dict[str, M.Pack], list[Problem]]:
    """Load every pack under `paths` without raising: the packs that loaded and every problem.

    Packs are built after the packs they import (whose vocabulary they may use)."""
    packs: dict[str, M.Pack] = {}
    problems: list[Problem] = []
    docs: dict[str, tuple[Path, Document, bytes]] = {}
    for f in pack_files(paths):
        doc, content, found = read_pack(f)
        problems.extend(found)
        if doc is None:
            continue
        pid = str(doc.data.get("id"))
        if pid in docs:
            message = f"pack `{pid}` is also defined in {docs[pid][0]}"
            problems.append(file_problem("E-DUP-PACK", str(f), message))
            continue
        docs[pid] = (f, doc, content)
    graph = nx.DiGraph()
    graph.add_nodes_from(docs)
    for pid, (_, doc, _) in docs.items():
        for dep in doc.data.get("imports") or []:
            if str(dep) in docs:
                graph.add_edge(str(dep), pid)
    for found in sorted(nx.simple_cycles(graph), key=min):
        # start at the least pack id, so the report does not depend on set order
        start = found.index(min(found))
        cycle = found[start:] + found[:start]
        f, doc, _ = docs[cycle[0]]
        span = doc.span(("imports",))
        shown = " -> ".join(f"`{p}`" for p in [*cycle, cycle[0]])
        message = f"packs import each other in a cycle: {shown}"
        problems.append(problem("E-IMPORT-CYCLE", str(f), span.line, span.col, message))
        graph.remove_nodes_from(cycle)
    for pid in nx.lexicographical_topological_sort(graph):
        f, doc, content = docs[pid]
        vocabulary, missing = _imported_vocabulary(doc, packs)
        builder = Builder(doc, content, vocabulary)
        pack = builder.build()
        problems.extend(missing + builder.problems)
        if pack is not None and not missing:
            packs[pid] = pack
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
    prepared = prepare(facts, facts_name, str(pack.data.get("facts") or "facts"))
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
    return build_decision(ev, audience, str(pack.data.get("facts") or "facts"))


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
