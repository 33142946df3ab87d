"""Reads on the branches taken: the names an item read for one decision, not every name its
expressions mention.

An `if` reads its condition and the branch the condition chose; `coalesce(a, b)` reads `b` only
where `a` is not recorded. (Both operands of `and` and `or` count: where both are true, or
both false, each is a reason, and a reader is shown them all.) A condition that is not known,
or could not be worked out, takes every branch; so does one that reads healthcare-only data
for a custodial audience, so that what a custodial decision names never follows healthcare-only
facts. In a quantifier's body every name counts: its conditions vary with the element. A
rule's outputs, due date and frequency are read only where it applies or may; a table's row
values only for the rows that matched.

An explanation follows what was read this way: a definition on a branch not taken (a level's
rule at another level) is not part of the reason, and is not shown. A decision's list of the
interpretations it rests on follows the rows its tables matched and only the conditions that
are a name's value or whether it is known, read from its own values (`quick_only`; see
`decision._relied_upon`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.language import syntax as A
from engine.language.codegen import compile_part
from engine.language.runtime import Unknown
from engine.packs import model as M

# which branches of a fork a decision took (see `Taken.outcomes`)
FIRST, SECOND, BOTH = 0, 1, 2
_MISSING = object()
_UNSEEN = object()  # a test not looked at, or that failed: both branches


@dataclass(frozen=True, eq=False)
class Fork:
    """A sub-expression (the pack's test number `test`) whose value decides which names a part
    of an expression reads: for an `if`, `first` where it is true and `second` where it is
    false; for a `coalesce`, `second` only where it is not recorded; both where it is not
    known. `index`: its place among the pack's forks, in a decision's outcomes."""

    index: int
    test: int
    recorded: bool  # a coalesce: `first` where the value is recorded, else `second`
    first: Reads
    second: Reads


@dataclass(frozen=True, eq=False)
class Reads:
    """The names a part of an expression reads whatever the facts (`always`), and those it
    reads depending on the value of a sub-expression (`forks`)."""

    always: frozenset[str]
    forks: tuple[Fork, ...] = ()

    def taken(self, outcome: Callable[[Fork], int]) -> set[str]:
        """The names read on the branches taken, `outcome` giving which each fork took."""
        out = set(self.always)
        stack = list(self.forks)
        while stack:
            fork = stack.pop()
            o = outcome(fork)
            if o != SECOND:
                out |= fork.first.always
                stack.extend(fork.first.forks)
            if o != FIRST:
                out |= fork.second.always
                stack.extend(fork.second.forks)
        return out

    def every(self) -> set[str]:
        """Every name, on every branch."""
        out = set(self.always)
        for fork in self.forks:
            out |= fork.first.every() | fork.second.every()
        return out


_NONE = Reads(frozenset())


class Test:
    """A condition some fork reads, compiled when first looked at; `healthcare` where it reads
    healthcare-only data. `quick`, for a test that is a pack name's value or whether that is
    known (negated or not): `(kind, name, negated)`, read from the decision's values alone."""

    __slots__ = ("_checked", "_fn", "_node", "healthcare", "quick")
    _fn: Callable[..., Any] | None

    def __init__(self, checked: Any, node: A.Node, healthcare: bool, names: frozenset[str]):
        self._checked, self._node, self._fn = checked, node, None
        self.healthcare = healthcare
        self.quick = _quick(node, names)

    def fn(self) -> Callable[..., Any]:
        """The test as `fn(F, N)`."""
        fn = self._fn
        if fn is None:
            fn = self._fn = compile_part(self._checked, self._node, origin="<branch>")
        return fn

    def quick_value(self, value: Any) -> Any:
        """The test's value, given the value of the name a quick test reads."""
        kind, _, negated = self.quick  # type: ignore[misc]
        if kind == "known":
            value = value.__class__ is not Unknown
        if negated and (value is True or value is False):
            value = not value
        return value


def _quick(node: A.Node, names: frozenset[str]) -> tuple[str, str, bool] | None:
    negated = isinstance(node, A.Unary) and node.op == "not"
    inner = node.operand if isinstance(node, A.Unary) and negated else node
    if isinstance(inner, A.Name) and inner.name in names:
        return ("value", inner.name, negated)
    if (
        isinstance(inner, A.Call)
        and inner.func == "known"
        and len(inner.args) == 1
        and isinstance(inner.args[0], A.Name)
        and inner.args[0].name in names
    ):
        return ("known", inner.args[0].name, negated)
    return None


class _Builder:
    """The forks and tests of a pack's expressions, each test once however often written."""

    def __init__(self, names: frozenset[str]) -> None:
        self.names = names
        self.forks: list[Fork] = []
        self.tests: list[Test] = []
        self.by_shape: dict[Any, int] = {}

    def reads(self, expr: M.Expression) -> Reads:
        checked = expr.checked

        def test(node: A.Node) -> int:
            shape = A.shape(node)
            found = self.by_shape.get(shape)
            if found is None:
                info = checked.info.get(id(node))
                healthcare = info is None or info.type.healthcare
                made = Test(checked, node, healthcare, self.names)
                found = self.by_shape[shape] = len(self.tests)
                self.tests.append(made)
            return found

        def fork(cond: A.Node, recorded: bool, first: Reads, second: Reads) -> Reads:
            made = Fork(len(self.forks), test(cond), recorded, first, second)
            self.forks.append(made)
            return _joined(walk(cond), Reads(frozenset(), (made,)))

        def walk(node: A.Node) -> Reads:
            if isinstance(node, A.Name):
                return Reads(frozenset((node.name,)) & self.names)
            if isinstance(node, A.Comprehension):
                inside = frozenset(A.free_names(node.body)) - {node.var}
                return _joined(walk(node.iterable), Reads(inside & self.names))
            if isinstance(node, A.If):
                return fork(node.cond, False, walk(node.then), walk(node.other))
            if isinstance(node, A.Call) and node.func == "coalesce" and len(node.args) > 1:
                rest = node.args[1:]
                later = walk(rest[0] if len(rest) == 1 else A.Call(node.loc, "coalesce", rest))
                return fork(node.args[0], True, _NONE, later)
            return _joined(*(walk(c) for c in A.children(node)))

        return walk(checked.node)


def _joined(*parts: Reads) -> Reads:
    if len(parts) == 1:
        return parts[0]
    return Reads(
        frozenset().union(*(p.always for p in parts)),
        tuple(f for p in parts for f in p.forks),
    )


@dataclass(frozen=True)
class ItemReads:
    """What one item reads: `fixed` whatever the facts (a table an output is read from, the
    rules that set an output), `exprs` by the branches taken, `applied` only where the item
    (a rule) applies or may, `rows` for the rows of a table that matched, by row id (all of
    them where a table reads healthcare-only data and the audience is custodial)."""

    fixed: frozenset[str]
    exprs: tuple[Reads, ...]
    applied: tuple[Reads, ...] = ()
    rows: Mapping[str, tuple[Reads, ...]] | None = None
    healthcare: bool = False


@dataclass(frozen=True)
class PackReads:
    """A pack's `ItemReads` by item name, its forks by index and their tests by number."""

    items: Mapping[str, ItemReads]
    forks: tuple[Fork, ...]
    tests: tuple[Test, ...]

    def quick_names(self, custodial: bool) -> tuple[str, ...]:
        """The names quick tests read (for a custodial audience, not healthcare-only ones):
        their values decide which branches the quick tests take."""
        return tuple(
            dict.fromkeys(
                t.quick[1]
                for t in self.tests
                if t.quick is not None and not (custodial and t.healthcare)
            )
        )


def pack_reads(pack: M.Pack) -> PackReads:
    """The pack's `PackReads`, made once."""
    found = pack.derived.get("branch_reads")
    if found is None:
        found = pack.derived["branch_reads"] = _pack_reads(pack)
    return found


def _pack_reads(pack: M.Pack) -> PackReads:
    b = _Builder(frozenset((*pack.parameters, *pack.definitions, *pack.outputs)))
    out: dict[str, ItemReads] = {}
    for name, d in pack.definitions.items():
        out[name] = ItemReads(frozenset(), (b.reads(d.expr),))
    for t in pack.tables.values():
        out[t.id] = ItemReads(
            frozenset(),
            tuple(b.reads(e) for _, e in t.inputs),
            rows={r.id: tuple(b.reads(e) for _, e in r.then) for r in t.rows},
            healthcare=t.healthcare,
        )
    for rule in pack.rules:
        later = [e for _, e in rule.sets]
        if rule.obligation is not None:
            later += [e for e in (rule.obligation.due, rule.obligation.frequency) if e]
        out[rule.id] = ItemReads(
            frozenset(),
            () if rule.when is None else (b.reads(rule.when),),
            tuple(b.reads(e) for e in later),
        )
    for name, o in pack.outputs.items():
        fixed = {d.name for d in pack.dependencies.get(M.ItemKey("out", name), ())}
        exprs = tuple(b.reads(e) for e in (o.expr, o.default) if e is not None)
        fixed -= set().union(*(r.every() for r in exprs))
        out[name] = ItemReads(frozenset(fixed), exprs)
    return PackReads(out, tuple(b.forks), tuple(b.tests))


def row_ids(rows: Any) -> tuple[str, ...] | None:
    """The ids of a table's matched rows as an evaluation keeps them, or None where which
    rows match is not known."""
    return tuple(r.id for r in rows) if rows.__class__ is list else None


class Taken:
    """One decision's reads on the branches taken, by item name, worked out when first asked
    for: from the evaluation's facts and values, its rules' results and its tables' rows.
    A fork's test is looked at only when a walk reaches it: a test on a branch not taken may
    read what the decision never needed."""

    def __init__(self, ev: Any, custodial: bool, quick_only: bool = False) -> None:
        self.ev = ev
        self.custodial = custodial
        self.quick_only = quick_only  # only quick tests looked at: the others, both branches
        self.pack = pack_reads(ev.pack)
        self.found: dict[str, frozenset[str]] = {}
        self.values: dict[int, Any] = {}  # by test
        self.outcomes: dict[int, int] = {}  # by fork index: FIRST, SECOND or BOTH

    def outcome(self, fork: Fork) -> int:
        """Which branches `fork` took for this decision: FIRST, SECOND or BOTH."""
        found = self.outcomes.get(fork.index)
        if found is None:
            value = self._value(fork.test)
            if value is _UNSEEN:
                found = BOTH
            elif fork.recorded:
                found = FIRST if value.__class__ is not Unknown else SECOND
            else:
                found = FIRST if value is True else SECOND if value is False else BOTH
            self.outcomes[fork.index] = found
        return found

    def _value(self, index: int) -> Any:
        value = self.values.get(index, _MISSING)
        if value is _MISSING:
            test, ev = self.pack.tests[index], self.ev
            quick = test.quick
            if self.custodial and test.healthcare:
                value = _UNSEEN  # (whatever it holds)
            elif quick is not None and quick[1] in ev.memo:
                value = test.quick_value(ev.memo[quick[1]])
            elif self.quick_only:
                value = _UNSEEN
            else:
                try:
                    value = test.fn()(ev.F, ev.value)
                except Exception:  # noqa: BLE001  (a test that fails takes both branches)
                    value = _UNSEEN
            self.values[index] = value
        return value

    def _matched(self, table: str, memo: Mapping[Any, Any]) -> tuple[str, ...] | None:
        """The ids of the rows a table matched, or None where every row counts."""
        if self.custodial and self.pack.items[table].healthcare:
            return None
        return row_ids(memo.get(M.ItemKey("table", table)))

    def __call__(self, name: str) -> frozenset[str]:
        found = self.found.get(name)
        if found is None:
            found = self.found[name] = self._work_out(name)
        return found

    def _work_out(self, name: str) -> frozenset[str]:
        item = self.pack.items.get(name)
        if item is None:
            return frozenset()
        outcome = self.outcome
        out = set(item.fixed)
        for r in item.exprs:
            out |= r.taken(outcome)
        # (what a rule's outputs and obligation read counts where it applies or may; looking
        # at quick tests alone, whatever its result)
        if item.applied and (self.quick_only or self.ev.rule_results.get(name) is not False):
            for r in item.applied:
                out |= r.taken(outcome)
        if item.rows is not None:
            matched = self._matched(name, self.ev.memo)
            for row in item.rows if matched is None else matched:
                for r in item.rows.get(row, ()):
                    out |= r.taken(outcome)
        return frozenset(out)
