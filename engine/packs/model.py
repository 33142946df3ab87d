"""The pack model: immutable, compiled packs as the loader builds them and evaluation reads."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from engine.language.check import Checked
from engine.language.codegen import CompiledExpr
from engine.packs import task_graph


@dataclass(frozen=True)
class Citation:
    section: str | None = None
    paragraph: str | None = None
    table: str | None = None
    row: str | None = None
    document: str | None = None
    note: str | None = None
    line: int = 0  # where the citation stands in the pack file
    col: int = 0

    def text(self) -> str:
        parts = []
        if self.document:
            parts.append(self.document)
        if self.section:
            parts.append(f"“{self.section}”")
        if self.table:
            parts.append(f"table “{self.table}”")
        if self.row:
            parts.append(f"row {self.row}")
        if self.paragraph:
            parts.append(f"para {self.paragraph}")
        if self.note:
            parts.append(f"({self.note})")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in {
                "document": self.document,
                "section": self.section,
                "table": self.table,
                "row": self.row,
                "paragraph": self.paragraph,
                "note": self.note,
            }.items()
            if v is not None
        }


@dataclass(frozen=True)
class Expression:
    """One expression of a pack: its text, where it stands, and its compiled form."""

    text: str
    where: str  # a readable place: "rule KW-PG-01 when"
    line: int
    col: int
    compiled: CompiledExpr

    @property
    def checked(self) -> Checked:
        return self.compiled.checked

    @property
    def healthcare(self) -> bool:
        return self.compiled.checked.healthcare


@dataclass(frozen=True)
class Interpretation:
    id: str
    kind: str
    question: str
    choice: str
    why: str
    cites: tuple[Citation, ...]


@dataclass(frozen=True)
class Version:
    id: str
    title: str
    effective_from: dt.date
    effective_to: dt.date | None
    changes: tuple[str, ...]
    interpretations: tuple[str, ...]
    cites: tuple[Citation, ...]

    def covers(self, day: dt.date) -> bool:
        ends = self.effective_to
        return self.effective_from <= day and (ends is None or day <= ends)


@dataclass(frozen=True)
class VocabValue:
    id: Any
    name: str | None
    description: str | None
    extra: dict[str, Any]
    cites: tuple[Citation, ...]


@dataclass(frozen=True)
class Vocabulary:
    name: str
    description: str | None
    values: tuple[VocabValue, ...]


@dataclass(frozen=True)
class ParameterValue:
    start: dt.date | None
    end: dt.date | None
    value: Any
    text: str
    cites: tuple[Citation, ...]


@dataclass(frozen=True)
class Parameter:
    name: str
    description: str | None
    values: tuple[ParameterValue, ...]

    def at(self, day: dt.date) -> ParameterValue | None:
        for v in self.values:
            if (v.start is None or v.start <= day) and (v.end is None or day <= v.end):
                return v
        return None


@dataclass(frozen=True)
class Definition:
    name: str
    expr: Expression
    description: str | None
    cites: tuple[Citation, ...]
    interpretations: tuple[str, ...]


@dataclass(frozen=True)
class Output:
    name: str
    description: str | None
    mode: str  # value | rules | table
    expr: Expression | None
    combine: str | None  # collect | first | any (mode rules)
    table: str | None
    default: Expression | None
    releasable: bool
    withheld_reason: str
    cites: tuple[Citation, ...]
    interpretations: tuple[str, ...]
    healthcare: bool = False


@dataclass(frozen=True)
class Obligation:
    modality: str
    text: str
    who: str | None
    due: Expression | None
    frequency: Expression | None
    records: tuple[dict[str, Any], ...]
    releasable: bool


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    when: Expression | None
    versions: tuple[str, ...]
    sets: tuple[tuple[str, Expression], ...]
    obligation: Obligation | None
    cites: tuple[Citation, ...]
    interpretations: tuple[str, ...]
    line: int
    healthcare: bool = False


@dataclass(frozen=True)
class TableRow:
    id: str
    cells: tuple[tuple[str, frozenset[Any] | None], ...]  # input -> allowed values (None: any)
    then: tuple[tuple[str, Expression], ...]
    cites: tuple[Citation, ...]
    interpretations: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class Table:
    id: str
    title: str | None
    hit: str  # unique | first | collect
    inputs: tuple[tuple[str, Expression], ...]
    rows: tuple[TableRow, ...]
    cites: tuple[Citation, ...]
    healthcare: bool = False

    def columns(self) -> list[str]:
        seen: list[str] = []
        for row in self.rows:
            for name, _ in row.then:
                if name not in seen:
                    seen.append(name)
        return seen


@dataclass(frozen=True)
class Source:
    title: str
    publisher: str | None
    file: str | None
    published: dt.date | None
    url: str | None


@dataclass(frozen=True)
class Pack:
    """A loaded, checked and compiled pack. Immutable: safe to share between threads."""

    id: str
    title: str
    version: str
    status: str
    summary: str | None
    source: Source
    file: str
    content_hash: str
    versions: tuple[Version, ...]
    vocabulary: dict[str, Vocabulary]
    parameters: dict[str, Parameter]
    definitions: dict[str, Definition]
    outputs: dict[str, Output]
    rules: tuple[Rule, ...]
    tables: dict[str, Table]
    interpretations: dict[str, Interpretation]
    tasks: dict[str, dict[str, Any]]
    task_graph: Any  # networkx.DiGraph, or None when the pack has no tasks
    healthcare_names: frozenset[str]  # names whose values derive from healthcare-only facts
    dependencies: dict[str, frozenset[str]]  # item key -> item keys it reads
    tests: tuple[dict[str, Any], ...] = ()
    data: dict[str, Any] = field(default_factory=dict, repr=False)  # the pack as read

    def version_at(self, day: dt.date) -> Version | None:
        for v in self.versions:
            if v.covers(day):
                return v
        return None

    def closure(self, keys: list[str], kinds: tuple[str, ...] | None = None) -> set[str]:
        """These item keys (`def:x`, `out:x`, `rule:x`, `table:x`) and every item they read,
        transitively; only following items of `kinds` when given."""
        seen: set[str] = set()
        stack = list(keys)
        while stack:
            key = stack.pop()
            if key in seen:
                continue
            seen.add(key)
            for dep in self.dependencies.get(key, ()):
                if kinds is None or dep.partition(":")[0] in kinds:
                    stack.append(dep)
        return seen

    def rule(self, rule_id: str) -> Rule | None:
        for r in self.rules:
            if r.id == rule_id:
                return r
        return None

    def plan(self, stage: int | None = None) -> list[dict[str, Any]]:
        """The tasks of a stage in dependency order (see engine.packs.task_graph)."""
        if self.task_graph is None:
            return []
        order = task_graph.plan(self.task_graph, stage)
        return [
            {
                "id": t,
                **{k: v for k, v in self.task_graph.nodes[t].items() if k != "after"},
                "waits_for": task_graph.waits_for(self.task_graph, t),
            }
            for t in order
        ]
