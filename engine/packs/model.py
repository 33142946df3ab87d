"""The pack model: immutable, compiled packs as the loader builds them and evaluation reads."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, NamedTuple, NoReturn

from engine import disk_cache
from engine.language.check import Checked
from engine.language.codegen import CompiledExpr
from engine.packs import task_graph

ItemKind = Literal["def", "out", "table", "rule"]


class ItemKey(NamedTuple):
    """An item of a pack that can read other items: a definition, output, table or rule."""

    kind: ItemKind
    name: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


_READ_ONLY = "a loaded pack is read-only: change a copy (copy.deepcopy gives a plain one)"


def _refuse(*_args: Any, **_kwargs: Any) -> NoReturn:
    raise TypeError(_READ_ONLY)


class FrozenDict(dict[Any, Any]):
    """A record of a loaded pack (a parameter value, an obligation's record): read like a dict,
    never changed, since every decision made with the pack shares it."""

    __slots__ = ()
    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        return FrozenDict, (dict(self),)

    def __copy__(self) -> dict[Any, Any]:
        return dict(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return thawed(self)


class FrozenList(list[Any]):
    """A list of a loaded pack: read like a list, never changed (see FrozenDict)."""

    __slots__ = ()
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse
    append = extend = insert = pop = remove = clear = sort = reverse = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        return FrozenList, (list(self),)

    def __copy__(self) -> list[Any]:
        return list(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return thawed(self)


def frozen(value: Any) -> Any:
    """`value` with every dict and list in it read-only (FrozenDict, FrozenList)."""
    if isinstance(value, dict):
        return FrozenDict({k: frozen(v) for k, v in value.items()})
    if isinstance(value, list):
        return FrozenList([frozen(v) for v in value])
    return value


def thawed(value: Any) -> Any:
    """A plain copy of `value`: every dict and list in it a new, ordinary one (what
    evaluation and decisions work with, so that nothing they hand out is the pack's own)."""
    if isinstance(value, dict):
        return {k: thawed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [thawed(v) for v in value]
    return value


# The enumerated fields, so that mypy catches a misspelt value (the pack schema lists them too).
OutputMode = Literal["value", "rules", "table"]
Combine = Literal["collect", "first", "any"]
HitPolicy = Literal["unique", "first", "collect"]
Modality = Literal["must", "must_not", "should", "should_not", "may"]
InterpretationKind = Literal["ambiguity", "contradiction", "gap", "date"]


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

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any], line: int = 0, col: int = 0) -> Citation:
        """A citation as a pack file writes it (a mapping of texts), at `line`:`col`."""

        def text(key: str) -> str | None:
            value = raw.get(key)
            return None if value is None else str(value)

        return cls(
            text("section"),
            text("paragraph"),
            text("table"),
            text("row"),
            text("document"),
            text("note"),
            line,
            col,
        )

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
    kind: InterpretationKind
    question: str
    choice: str
    why: str
    cites: tuple[Citation, ...]
    # the versions whose decisions this reading bears on (empty: all of them)
    versions: tuple[str, ...] = ()


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

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra", frozen(self.extra))


@dataclass(frozen=True)
class Vocabulary:
    name: str
    description: str | None
    values: tuple[VocabValue, ...]
    codes: bool = False  # the ids are codes readers quote: shown beside the names


@dataclass(frozen=True)
class ParameterValue:
    start: dt.date | None
    end: dt.date | None
    value: Any  # read-only (`frozen`); evaluation works with a `thawed` copy
    text: str
    cites: tuple[Citation, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", frozen(self.value))


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
    mode: OutputMode
    expr: Expression | None
    combine: Combine | None  # (mode rules)
    table: str | None
    default: Expression | None
    releasable: bool
    withheld_reason: str
    cites: tuple[Citation, ...]
    interpretations: tuple[str, ...]
    healthcare: bool = False
    vocabulary: str | None = None  # whose value ids its values are, for naming them to readers
    # for an output of records: (field, vocabulary) for each field holding a vocabulary's ids
    field_vocabularies: tuple[tuple[str, str], ...] = ()

    @property
    def custodial_withheld(self) -> bool:
        """Whether a custodial audience never sees this output: worked out from healthcare-only
        facts and not released."""
        return self.healthcare and not self.releasable


@dataclass(frozen=True)
class Obligation:
    modality: Modality
    text: str
    who: str | None
    due: Expression | None
    frequency: Expression | None
    records: tuple[dict[str, Any], ...]  # read-only (`frozen`)
    releasable: bool

    def __post_init__(self) -> None:
        object.__setattr__(self, "records", tuple(frozen(r) for r in self.records))


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
    hit: HitPolicy
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


Autonomy = Literal["total", "partial", "limited"]


@dataclass(frozen=True)
class Dependency:
    """A task's `after:` entry: the task it comes after, where the source says so, and the
    interpretation it rests on (if any)."""

    task: str
    cites: tuple[Citation, ...] = ()
    interpretation: str | None = None


@dataclass(frozen=True)
class Task:
    """A task of a task-based document, with its explicit dependencies and citations."""

    id: str
    area: str
    title: str
    baseline: str | None
    weighting: int
    autonomy: Autonomy | None
    mandatory: bool | None  # None: the pack does not say (read as mandatory)
    stages: tuple[int, ...]
    sources: tuple[str, ...]
    after: tuple[Dependency, ...]
    cites: tuple[Citation, ...]
    interpretations: tuple[str, ...]


@dataclass(frozen=True)
class Pack:
    """A loaded, checked and compiled pack. Immutable (its mappings are read-only views): safe
    to share between threads."""

    id: str
    title: str
    version: str
    status: str
    summary: str | None
    source: Source
    file: str
    content_hash: str
    versions: tuple[Version, ...]
    vocabulary: Mapping[str, Vocabulary]
    parameters: Mapping[str, Parameter]
    definitions: Mapping[str, Definition]
    outputs: Mapping[str, Output]
    rules: tuple[Rule, ...]
    tables: Mapping[str, Table]
    interpretations: Mapping[str, Interpretation]
    tasks: Mapping[str, Task]
    task_graph_maker: task_graph.GraphMaker | None  # builds `task_graph`; None when no tasks
    healthcare_names: frozenset[str]  # names whose values derive from healthcare-only facts
    dependencies: Mapping[ItemKey, frozenset[ItemKey]]  # each item -> the items it reads
    tests: tuple[dict[str, Any], ...] = ()
    test_lines: tuple[int, ...] = ()  # the line of each of `tests` in the pack file
    facts: str = "facts"  # the facts schema its facts documents follow
    citations: tuple[Citation, ...] = ()  # every citation naming a section, where it stands
    local_plan: LocalPlan | None = None  # set when the pack is a national pack under a local plan
    # what `local:` opens to plans that another pack's plans must agree on, and the parameters
    # and groups it opens at all, as (kind, name): what another pack's `shared:` may name
    shared: tuple[SharedItem, ...] = ()
    local_items: frozenset[tuple[str, str]] = frozenset()
    # the `local:` block as the pack file writes it (read-only), for what shows a reader what
    # plans may vary (the docs page); None when the pack opens nothing to local plans
    local: Mapping[str, Any] | None = None
    # the disk cache's key for the pack: its own content, its facts schema, the packs it imports
    # (by their own keys, so transitively) and the engine; None when it cannot be cached
    build_key: str | None = field(default=None, compare=False)

    def __copy__(self) -> Pack:
        """A pack is deeply immutable: a copy is the pack itself."""
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Pack:
        return self

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        """Refused: a pack holds generated functions, which another process would have to
        trust; a worker loads its packs itself (`engine.load`, read from the disk cache)."""
        raise TypeError(
            f"pack `{self.id}` cannot be pickled: load it in the other process with engine.load"
        )

    def version_at(self, day: dt.date) -> Version | None:
        for v in self.versions:
            if v.covers(day):
                return v
        return None

    def closure(
        self, keys: list[ItemKey], kinds: tuple[ItemKind, ...] | None = None
    ) -> set[ItemKey]:
        """These items and every item they read, transitively; only following items of
        `kinds` when given."""
        seen: set[ItemKey] = set()
        stack = list(keys)
        while stack:
            key = stack.pop()
            if key in seen:
                continue
            seen.add(key)
            for dep in self.dependencies.get(key, ()):
                if kinds is None or dep.kind in kinds:
                    stack.append(dep)
        return seen

    @cached_property
    def _graph(self) -> Any:
        """The pack's own task graph, or None when it has no tasks: built on first use, as
        networkx is slow to import and most commands never need it; never handed out."""
        return None if self.task_graph_maker is None else self.task_graph_maker()

    @property
    def task_graph(self) -> Any:
        """The task graph (a networkx.DiGraph), or None when the pack has no tasks: a copy of
        the caller's own, so that nothing done to it changes the pack's plans."""
        graph = self._graph
        return None if graph is None else copy.deepcopy(graph)

    @cached_property
    def _rules_by_id(self) -> dict[str, Rule]:
        return {r.id: r for r in self.rules}

    def expressions(self) -> Iterator[tuple[str, Expression]]:
        """Every expression of the pack with its item's key (see `item_expressions`)."""
        return item_expressions(self.definitions, self.outputs, self.tables, self.rules)

    def rule(self, rule_id: str) -> Rule | None:
        """The rule with this id, found through an index (a scan made decisions quadratic)."""
        return self._rules_by_id.get(rule_id)

    # Indexes worked out once from the immutable pack (cached_property writes the instance
    # dict directly, so they sit beside the frozen fields); they keep lookups by name from
    # scanning every rule, which made decisions quadratic in the size of a pack.

    @cached_property
    def rules_setting(self) -> dict[str, tuple[tuple[Rule, Expression], ...]]:
        """For each output, the rules that set it with the expression each sets, in order."""
        found: dict[str, list[tuple[Rule, Expression]]] = {}
        for r in self.rules:
            done: set[str] = set()
            for name, expr in r.sets:
                if name not in done:  # a rule's first expression for an output is the one used
                    done.add(name)
                    found.setdefault(name, []).append((r, expr))
        return {name: tuple(pairs) for name, pairs in found.items()}

    @cached_property
    def derived(self) -> dict[Any, Any]:
        """Values worked out from this pack alone, kept for reuse by whoever computes them."""
        return {}

    def plan(self, stage: int | None = None) -> list[dict[str, Any]]:
        """The tasks of a stage in dependency order (see engine.packs.task_graph); a stage that
        no task has is an error, as `regime plan` says, not an empty plan."""
        from engine.problems import EvaluationError

        if stage is not None and (not isinstance(stage, int) or isinstance(stage, bool)):
            raise EvaluationError(
                "E-ARG", f"the stage is a whole number, not {type(stage).__name__} `{stage!r}`"
            )
        stages = sorted({s for t in self.tasks.values() for s in t.stages})
        if stage is not None and not self.tasks:
            raise EvaluationError("E-ARG", f"pack `{self.id}` has no tasks")
        if stage is not None and stages and stage not in stages:
            raise EvaluationError(
                "E-ARG",
                f"pack `{self.id}` has no tasks at stage {stage}; "
                f"stages: {', '.join(map(str, stages))}",
            )
        maker = self.task_graph_maker
        if maker is None:
            return []
        # kept on disk by what the graph is made from: a warm start plans without networkx
        entry = disk_cache.key("task-plan", maker.digest, repr(stage))
        found: list[dict[str, Any]] | None = disk_cache.load("task-plan", entry)
        if found is not None:
            return found  # (a fresh copy: read from its pickle)
        graph = self._graph
        found = [
            {
                "id": t,
                **{k: copy.deepcopy(v) for k, v in graph.nodes[t].items() if k != "after"},
                "waits_for": task_graph.waits_for(graph, t),
            }
            for t in task_graph.plan(graph, stage)
        ]
        disk_cache.store("task-plan", entry, found)
        return found


def item_expressions(
    definitions: Mapping[str, Definition],
    outputs: Mapping[str, Output],
    tables: Mapping[str, Table],
    rules: Iterable[Rule],
) -> Iterator[tuple[str, Expression]]:
    """Every expression of a pack's items, with the key of the item it belongs to (`def:x`,
    `table:x`, `rule:x`, `out:x`), in that order: definitions; tables (inputs, then cells);
    rules (`when`, what they set, an obligation's due date and frequency); outputs (value and
    default). Given as parts, so that a pack still being built can be walked too."""
    for name, d in definitions.items():
        yield f"def:{name}", d.expr
    for name, table in tables.items():
        yield from ((f"table:{name}", e) for _, e in table.inputs)
        yield from ((f"table:{name}", e) for row in table.rows for _, e in row.then)
    for rule in rules:
        key = f"rule:{rule.id}"
        if rule.when is not None:
            yield key, rule.when
        yield from ((key, e) for _, e in rule.sets)
        ob = rule.obligation
        if ob is not None:
            yield from ((key, e) for e in (ob.due, ob.frequency) if e is not None)
    for name, out in outputs.items():
        yield from ((f"out:{name}", e) for e in (out.expr, out.default) if e is not None)


def _with_given(out: dict[str, Any], **optional: str | None) -> dict[str, Any]:
    """`out` with each optional text that is given: an unset one is left out, not null."""
    out.update((key, value) for key, value in optional.items() if value)
    return out


@dataclass(frozen=True)
class SharedItem:
    """A parameter or group a pack's `local:` block opens to plans, declared the same as one
    another pack opens (`shared:`): an establishment's plans of the two packs must agree on it."""

    kind: str  # parameter | group
    name: str  # the item in this pack
    pack: str  # the other pack
    other: str  # the item there
    line: int  # where the other item's name stands in this pack's file
    col: int
    pack_line: int  # where the other pack's id stands
    pack_col: int
    cites: tuple[Citation, ...] = ()
    interpretations: tuple[str, ...] = ()


@dataclass(frozen=True)
class LocalEntry:
    """One variation a local plan makes, where it stands in the plan and what allows it."""

    kind: str  # task | choice | parameter | rule | narrow
    target: str  # the national item varied (task id, choice, parameter, rule id, definition)
    autonomy: str  # total | partial | limited | local rule | narrowed
    summary: str  # what the plan says, in plain words
    line: int
    col: int
    rules: tuple[str, ...] = ()  # national (or local) rules whose decisions rest on it
    parts: tuple[str, ...] = ()  # the plan parts it belongs to (for sign-off)
    cites: tuple[Citation, ...] = ()  # the national passages that allow it
    fact: tuple[str, Any] | None = None  # a fact the choice supplies: (path, value)
    note: str | None = None
    defines: tuple[ItemKey, ...] = ()  # items the entry adds to the merged pack
    group: str | None = None  # for a rule adding to a declared group: that group

    def to_dict(self, file: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "entry": f"{self.kind}:{self.target}",
            "autonomy": self.autonomy,
            "summary": self.summary,
            "file": file,
            "line": self.line,
            "national_citations": [c.to_dict() for c in self.cites],
        }
        return _with_given(out, note=self.note)


@dataclass(frozen=True)
class SignOff:
    part: str
    body: str
    body_name: str
    on: dt.date
    by: str | None = None
    reference: str | None = None
    part_title: str | None = None  # the part's title, as the national pack declares it

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "part": self.part,
            "body": self.body,
            "body_name": self.body_name,
            "on": self.on.isoformat(),
        }
        return _with_given(out, by=self.by, reference=self.reference, part_title=self.part_title)


@dataclass(frozen=True)
class LocalPlan:
    """An establishment's local plan as applied to its national pack."""

    file: str
    establishment_code: str
    establishment_name: str
    title: str
    version: str
    status: str
    content_hash: str
    extends_pack: str
    extends_version: str
    effective_from: dt.date
    effective_to: dt.date | None
    signoffs: tuple[SignOff, ...]
    entries: tuple[LocalEntry, ...]

    def covers(self, day: dt.date) -> bool:
        ends = self.effective_to
        return self.effective_from <= day and (ends is None or day <= ends)

    def not_in_force(self, start: dt.date, end: dt.date | None = None) -> str | None:
        """Why the plan does not hold from `start` to `end` (one day without `end`), or None
        when it is in force on every day of them (it is in force over one span of days, so
        the two ends tell)."""
        for day in (start, end or start):
            if not self.covers(day):
                return (
                    f"the local plan `{self.file}` is not in force on {day.isoformat()} "
                    f"({self.effective_from}..{self.effective_to or 'open'})"
                )
        return None

    def facts(self) -> list[tuple[str, Any]]:
        """The facts the plan's choices supply: (dotted path, value)."""
        return [e.fact for e in self.entries if e.fact is not None]

    def to_dict(self, entries: list[LocalEntry] | None = None) -> dict[str, Any]:
        shown = self.entries if entries is None else entries
        parts = {p for e in shown for p in e.parts}
        return {
            "establishment": {"code": self.establishment_code, "name": self.establishment_name},
            "file": self.file,
            "title": self.title,
            "version": self.version,
            "content_hash": self.content_hash,
            "extends": {"pack": self.extends_pack, "version": self.extends_version},
            "effective_from": self.effective_from.isoformat(),
            "effective_to": self.effective_to.isoformat() if self.effective_to else None,
            "signoffs": [s.to_dict() for s in self.signoffs if s.part in parts],
            "entries": [e.to_dict(self.file) for e in shown],
        }
