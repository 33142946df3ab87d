"""Loading: finding pack files, taking each through every stage, and the collection services use."""

from __future__ import annotations

import datetime as dt
import decimal
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx

from engine.evaluation.decision import AUDIENCES, Decision, build_decision
from engine.evaluation.evaluate import Evaluation
from engine.language.runtime import EXACT
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
        if not path.is_file():
            return True  # reading it is refused later, with a clear problem
        with path.open("rb") as f:
            head = f.read(4000).decode("utf-8", errors="replace")
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
                    "a pack is a YAML file whose first line names schemas/pack.schema.json",
                )
            ]
        )
    packs, problems = check_paths(targets)
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
            raise KeyError(f"a pack id is text, not {type(pack_id).__name__}")
        try:
            return self.packs[pack_id]
        except KeyError:
            mine = [p for p in self.problems if p.is_error and _names_pack(p.file, pack_id)]
            if mine:
                raise PackError(mine) from None
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
        _check_pack_id(pack_id)
        return evaluate(self[pack_id], facts, as_of, audience, facts_name)

    def evaluate_many(
        self,
        pack_id: str,
        facts_iter: Iterable[Mapping[str, Any]],
        as_of: dt.date | None = None,
        audience: str = "custodial",
    ) -> Iterator[Decision]:
        """The same results as `evaluate` for each facts document, in order."""
        _check_pack_id(pack_id)
        pack = self[pack_id]
        for n, facts in enumerate(facts_iter, 1):
            yield evaluate(pack, facts, as_of, audience, f"<facts #{n}>")


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


def evaluate(
    pack: M.Pack,
    facts: Mapping[str, Any],
    as_of: dt.date | None = None,
    audience: str = "custodial",
    facts_name: str = "<facts>",
) -> Decision:
    """Evaluate a pack against one facts document at `as_of` for an audience."""
    if not isinstance(facts, Mapping):
        raise EvaluationError(
            "E-ARG", f"facts are a mapping of roots (a dict), not {type(facts).__name__}"
        )
    if not isinstance(audience, str) or audience not in AUDIENCES:
        raise EvaluationError(
            "E-EVAL-AUDIENCE", f"audience must be one of {', '.join(AUDIENCES)}, not `{audience}`"
        )
    custodial = audience != "healthcare"
    prepared = prepare(facts, facts_name, pack.facts, custodial)
    day = as_date(as_of) or as_date(prepared.get("as_of"), "the facts' as_of") or dt.date.today()
    ev = Evaluation(pack, prepared, day, custodial)
    try:
        with decimal.localcontext(EXACT):
            ev.run()
            return build_decision(ev, audience, pack.facts)
    except decimal.Inexact:
        raise EvaluationError(
            "E-EVAL-RANGE",
            f"a decimal in pack `{pack.id}` has no exact value (such as 1 / 3) or needs more "
            "than 200 digits; decimals are never rounded silently: use round(x, places)",
        ) from None
    except (OverflowError, ValueError, ArithmeticError) as e:
        # a date pushed past year 9999, or a decimal past its range
        raise EvaluationError(
            "E-EVAL-RANGE", f"a value in pack `{pack.id}` went out of range: {e}"
        ) from None


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
