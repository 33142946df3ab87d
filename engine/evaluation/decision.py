"""Decisions: what an evaluation concluded, filtered for its audience, as plain data."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import decimal
import json
import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, overload

from engine import disk_cache
from engine.evaluation.branches import Taken, pack_reads, row_ids
from engine.evaluation.decision_json import (
    citation_dicts,
    decision_json_parts,
    interpretation_dicts,
)
from engine.evaluation.evaluate import WITHHELD, Evaluation, Step, name_alone
from engine.evaluation.explain import ExplainIndex, _declaration_rank, explain_index, render_text
from engine.language.convert import to_json
from engine.language.runtime import EXACT, Unknown
from engine.packs import model as M
from engine.packs.facts_schema import is_healthcare_path
from engine.problems import EvaluationError

AUDIENCES = ("custodial", "healthcare")


@dataclass(frozen=True)
class DecidedObligation:
    rule: str
    title: str
    modality: str
    text: str
    who: str | None
    due: Any
    frequency: Any
    record: tuple[dict[str, Any], ...]
    cites: tuple[M.Citation, ...]
    interpretations: tuple[str, ...]
    reasons_withheld: bool = False
    local: tuple[dict[str, Any], ...] = ()  # the local plan entries the obligation rests on

    def to_dict(self) -> dict[str, Any]:
        out = {
            "rule": self.rule,
            "title": self.title,
            "modality": self.modality,
            "text": self.text,
            "who": self.who,
            "due": to_json(self.due),
            "frequency": to_json(self.frequency),
            "record": [dict(r) for r in self.record],
            "citations": citation_dicts(self.cites),
            "interpretations": list(self.interpretations),
            "reasons_withheld": self.reasons_withheld,
        }
        if self.local:
            out["local"] = [dict(e) for e in self.local]
        return out


class LazySteps(Sequence[Step]):
    """An evaluation's steps, worked out only when first read (by an explanation): a decision
    wanted for its result alone does no work for them. Equal to the tuple of the steps."""

    def __init__(self, compute: Callable[[], Sequence[Step]]):
        self._compute: Callable[[], Sequence[Step]] | None = compute
        self._steps: tuple[Step, ...] | None = None

    def _all(self) -> tuple[Step, ...]:
        if self._steps is None:
            assert self._compute is not None
            self._steps = tuple(self._compute())
            self._compute = None
        return self._steps

    @overload
    def __getitem__(self, index: int) -> Step: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Step]: ...
    def __getitem__(self, index: int | slice) -> Step | Sequence[Step]:
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._all())

    def __iter__(self) -> Iterator[Step]:
        return iter(self._all())

    def __reduce__(self) -> tuple[Any, ...]:
        """Copied and pickled as the tuple of the steps, worked out (never the work to do)."""
        return tuple, (self._all(),)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazySteps | tuple):
            return self._all() == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._all())

    def __repr__(self) -> str:
        return repr(self._all())


@dataclass(frozen=True)
class Decision:
    """The result of evaluating one pack against one set of facts, for one audience."""

    pack: str
    version: str
    policy_version: str
    content_hash: str
    as_of: dt.date
    audience: str
    status: str  # decided | undetermined
    outputs: dict[str, Any]  # plain data; an undetermined output is None
    obligations: tuple[DecidedObligation, ...]
    interpretations: tuple[M.Interpretation, ...]
    missing_facts: tuple[str, ...]
    undetermined: tuple[str, ...]  # outputs and rules that depend on unknown facts
    withheld: tuple[str, ...]  # outputs not shown to this audience
    steps: Sequence[Step] = field(repr=False)  # a tuple, or LazySteps
    model: M.Pack | None = field(default=None, repr=False, compare=False)
    local_plan: dict[str, Any] | None = None  # the local plan, its sign-offs and entries relied on
    # what explaining needs of the pack, where a decision was pickled without it (see __reduce__)
    explain_index: ExplainIndex | None = field(default=None, repr=False, compare=False)

    if not TYPE_CHECKING:  # (to a type checker, every field is there from the start)

        def __getattr__(self, name: str) -> Any:
            """A field left until first read (see `build_decision`), worked out then, with
            the others left with it, and kept: the decision is the same whenever it is read."""
            fields = self.__dict__
            if name in _DEFERRED:
                with _DEFERRING:
                    pending = fields.pop("_pending", None)
                    if pending is not None:
                        fields.update(pending())
                if name in fields:
                    return fields[name]
            elif name == "steps":  # (replayed when read, see LazySteps: made on first use)
                with _DEFERRING:
                    replay = fields.pop("_steps", None)
                    if replay is not None:
                        fields["steps"] = LazySteps(replay)
                if name in fields:
                    return fields[name]
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __getstate__(self) -> dict[str, Any]:
        """Every field, worked out: never the work left to do."""
        self.status  # noqa: B018  (works out the deferred fields)
        self.steps  # noqa: B018  (and the object that replays the steps when read)
        return {k: v for k, v in self.__dict__.items() if k not in ("_pending", "_steps")}

    def __copy__(self) -> Decision:
        return _made(self.__getstate__())

    def __deepcopy__(self, memo: dict[int, Any]) -> Decision:
        """A copy sharing only the pack (deeply immutable): its values are the copy's own."""
        state = self.__getstate__()
        model = state.get("model")
        if model is not None:
            memo[id(model)] = model
        return _made(copy.deepcopy(state, memo))

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled without the pack (which another process loads itself, see
        `Pack.__reduce_ex__`): with what explaining needs of it instead, so that the decision
        read back is equal and explains itself the same."""
        state = self.__getstate__()
        model = state.pop("model", None)
        if model is not None:
            state["explain_index"] = explain_index(model)
        return _made, (state,)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; matches schemas/decision.schema.json."""
        out = {
            "pack": self.pack,
            "version": self.version,
            "policy_version": self.policy_version,
            "content_hash": self.content_hash,
            "as_of": self.as_of.isoformat(),
            "audience": self.audience,
            "status": self.status,
            "outputs": {k: to_json(v) for k, v in self.outputs.items()},
            "obligations": [o.to_dict() for o in self.obligations],
            "interpretations": interpretation_dicts(self.interpretations),
            "missing_facts": list(self.missing_facts),
            "undetermined": list(self.undetermined),
            "withheld": list(self.withheld),
        }
        if self.local_plan is not None:
            out["local_plan"] = self.local_plan
        return out

    def to_json_bytes(self) -> bytes:
        """Exactly `orjson.dumps(self.to_dict())`, made without building the dict: the parts
        fixed by the pack are serialised once and reused (see decision_json)."""
        return b"".join(self.json_parts())

    def json_parts(self) -> tuple[bytes, bytes, bytes]:
        """`to_json_bytes()` in three pieces: up to `"interpretations":`, its array, the rest.
        An output holding an integer past 64 bits (a fact may have 29 digits), which orjson
        cannot write, is written by the standard JSON writer, in the same compact form."""
        try:
            return decision_json_parts(self)
        except TypeError:
            return _standard_json_parts(self.to_dict())

    def explain(self, target: str | None = None, facts: Mapping[str, Any] | None = None) -> str:
        """The reasons, step by step, each with its citation (see engine.evaluation.explain);
        given the facts read, a needed field of a list's elements names the entries lacking it."""
        known: Collection[str] = ()
        if target is not None and self.model is not None:
            pack = self.model
            known = {*pack.outputs, *pack.definitions, *pack.tables, *(r.id for r in pack.rules)}
        elif target is not None and self.explain_index is not None:
            known = self.explain_index.targets()  # (a decision read back from a pickle)
        if known and (not isinstance(target, str) or target not in known):
            raise EvaluationError(
                "E-EXPLAIN-TARGET",
                f"pack `{self.model.id if self.model is not None else self.pack}` has no "
                f"output, definition, table or rule `{target}`",
            )
        return render_text(self, target, facts)


def _made(state: dict[str, Any]) -> Decision:
    """A decision from its fields, worked out (a copy, or one read back from a pickle)."""
    decision = object.__new__(Decision)
    decision.__dict__.update(state)
    return decision


# the fields of a decision worked out when first read, all at once, under one lock (two
# threads reading a new decision at once both see the one set of values)
_DEFERRED = frozenset(
    {"status", "outputs", "interpretations", "missing_facts", "undetermined", "obligations"}
)
_DEFERRING = threading.Lock()


def _relied_upon(ev: Evaluation, custodial: bool, applied: set[str]) -> list[str]:
    """Interpretations the decision rests on: those of its outputs, of the rules that decide
    an output, apply or may apply (`applied`: the rules that apply and those undetermined), of
    the table rows that matched, and of the definitions these read: through a table, what its
    inputs and the rows that matched read; through an `if` whose condition is a name's value
    or whether it is known (`if not known(x) then ...`), what the branch taken reads. (An
    explanation follows every condition, engine.evaluation.branches; worked out for every
    decision read, that would cost more than the rest of its fields together.)"""
    pack = ev.pack
    memo = ev.memo
    tables, names = _relied_upon_reads(pack, custodial)
    matched = tuple(row_ids(memo.get(key)) for key in tables)
    values = tuple(_truth(memo.get(n, _MISSING)) for n in names)
    plans = pack.derived.setdefault(("relied_upon_plans", custodial, ev.version.id), {})
    key = (frozenset(applied), matched, values)
    plan = plans.get(key)
    if plan is None:
        if len(plans) > 4096:  # each set of applying rules, rows and values is a key: bounded
            plans.clear()
        plan = plans[key] = _relied_upon_plan(ev, custodial, applied)
    ids: list[str] = []
    for part in plan:
        if part.__class__ is M.ItemKey:  # a table: its matched rows' interpretations
            rows = memo.get(part)
            if rows.__class__ is list:
                for row in rows:
                    ids.extend(row.interpretations)
        else:
            ids.extend(part)
    return ids


_MISSING = object()


def _truth(value: Any) -> int:
    """What a quick test can tell of a name's value: true, false, unknown, another value, or
    not worked out."""
    if value is True:
        return 1
    if value is False:
        return 0
    if value is _MISSING:
        return 4
    return 2 if value.__class__ is Unknown else 3


def _relied_upon_reads(
    pack: M.Pack, custodial: bool
) -> tuple[tuple[M.ItemKey, ...], tuple[str, ...]]:
    """What decides which items a decision's reliance reaches besides its applying rules:
    the tables whose matched rows count (for a custodial audience not those that read
    healthcare-only data: every row of those counts), and the names quick tests read."""
    found = pack.derived.get(("relied_upon_reads", custodial))
    if found is None:
        tables = tuple(
            M.ItemKey("table", t.id)
            for t in pack.tables.values()
            if not (custodial and t.healthcare)
        )
        found = (tables, pack_reads(pack).quick_names(custodial))
        pack.derived[("relied_upon_reads", custodial)] = found
    return found


def _relied_upon_plan(ev: Evaluation, custodial: bool, applied: set[str]) -> list[Any]:
    """What `_relied_upon` gathers for decisions alike in their applying rules, matched rows
    and quick tests: runs of fixed interpretation ids, and the tables whose matched rows' ids
    join them."""
    pack = ev.pack
    roots = _relied_upon_roots(ev, custodial, applied)
    kinds = _item_kinds(pack)
    taken = Taken(ev, custodial, quick_only=True)
    reached: set[M.ItemKey] = set(roots)
    stack = [key.name for key in roots]
    while stack:
        for name in taken(stack.pop()):
            kind = kinds.get(name)
            if kind is not None and (key := M.ItemKey(kind, name)) not in reached:
                reached.add(key)
                stack.append(name)
    plan: list[Any] = []
    run: list[str] = []  # (runs of fixed ids joined into one tuple: fewer parts to walk)
    for key in roots + sorted(reached - set(roots)):
        kind, name = key
        if kind == "out":
            run.extend(pack.outputs[name].interpretations)
        elif kind == "rule" and (found := pack.rule(name)) is not None:
            run.extend(found.interpretations)
        elif kind == "def" and name in pack.definitions:
            d = pack.definitions[name]
            if not (custodial and d.expr.healthcare):
                run.extend(d.interpretations)
        elif kind == "table" and name in pack.tables:
            if not (custodial and pack.tables[name].healthcare):
                if run:
                    plan.append(tuple(run))
                    run = []
                plan.append(key)
    if run:
        plan.append(tuple(run))
    return plan


def _item_kinds(pack: M.Pack) -> dict[str, M.ItemKind]:
    """The kind of item each name a decision's reliance follows is: definitions and tables
    (an output is a root when shown, a rule when it applies, may apply or sets an output)."""
    found = pack.derived.get("relied_upon_kinds")
    if found is None:
        found = {str(n): "def" for n in pack.definitions}
        found.update((str(t), "table") for t in pack.tables)
        pack.derived["relied_upon_kinds"] = found
    return found


def _relied_upon_roots(ev: Evaluation, custodial: bool, applied: set[str]) -> list[M.ItemKey]:
    """Where a decision's reliance starts: the outputs shown, and the rules that set an
    output, apply or may apply."""
    pack = ev.pack
    static = pack.derived.get(("relied_upon_keys", custodial, ev.version.id))
    if static is None:
        # the keys that do not depend on the facts: outputs shown, rules that set an output
        shown = [
            M.ItemKey("out", str(name))
            for name, out in pack.outputs.items()
            if not (custodial and out.custodial_withheld)
        ]
        rules = [
            (rule.id, M.ItemKey("rule", str(rule.id)), bool(rule.sets and ev.in_force(rule)))
            for rule in pack.rules
            if not (custodial and rule.healthcare)
        ]
        static = pack.derived[("relied_upon_keys", custodial, ev.version.id)] = (shown, rules)
    keys: list[M.ItemKey] = list(static[0])
    keys += [key for rid, key, sets in static[1] if sets or rid in applied]
    return keys


def owned(value: Any) -> Any:
    """A copy of the lists and records in a value (the rest is immutable), so that nothing a
    caller does to a decision reaches the pack's constants or another decision."""
    if value.__class__ is list or value.__class__ is tuple:
        return [owned(v) for v in value]
    if value.__class__ is dict:
        return {k: owned(v) for k, v in value.items()}
    return value


def _copied(value: Any) -> Any:
    """`owned(value)`, by one shallow copy when a list or record holds only plain values."""
    cls = value.__class__
    if cls is dict or cls is list:
        for v in value.values() if cls is dict else value:
            if v.__class__ not in _PLAIN:
                return owned(value)
        return value.copy()
    return owned(value)


def owned_needing(value: Any, needs: set[str]) -> Any:
    """`owned(value)`, adding `unknown_paths(value)` to `needs`, in one walk."""
    cls = value.__class__
    if cls is list or cls is tuple:
        return [owned_needing(v, needs) for v in value]
    if cls is dict:
        return {k: owned_needing(v, needs) for k, v in value.items()}
    if cls is Unknown:
        needs.update(value.paths)
    elif isinstance(value, dict | list | tuple):  # a subclass: searched, not copied
        needs.update(unknown_paths(value))
    return value


def unknown_paths(value: Any) -> frozenset[str]:
    """The fact paths an output still needs: from an unknown value, or from unknowns inside a
    list or record. A bare `null` (an unknown with no facts behind it) is a decided "no value"."""
    if value.__class__ is Unknown:
        return value.paths
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list | tuple):
        found: frozenset[str] = frozenset()
        for v in value:
            found |= unknown_paths(v)
        return found
    return frozenset()


# Values with nothing inside to copy or to search for unknowns (an exact class test: a
# subclass of list or dict takes the general path).
_PLAIN = frozenset({bool, int, str, float, type(None), dt.date, dt.timedelta, decimal.Decimal})
_MISSING = object()  # a name not among an evaluation's values


@dataclass(frozen=True)
class _Shape:
    """What building a decision needs that depends only on the pack, its policy version, the
    audience and the facts schema: worked out once, not per decision."""

    shown: tuple[str, ...]  # outputs this audience sees, in order
    withheld: tuple[str, ...]  # outputs it does not
    # rules with an obligation this audience may see: (rule id, its due and frequency
    # expressions' functions or None, reasons withheld, the fields of its DecidedObligation
    # that do not depend on the facts, its records, whether each record holds plain values)
    # and, for an obligation with no due date, frequency or records, the DecidedObligation
    # itself: every field fixed and immutable, so one object serves every decision
    obliging: tuple[
        tuple[
            str,
            Any,
            Any,
            bool,
            dict[str, Any],
            tuple[dict[str, Any], ...],
            bool,
            DecidedObligation | None,
        ],
        ...,
    ]
    healthcare_path: dict[str, bool]  # fact paths seen so far: healthcare-only or not
    # by version and relied-upon ids
    interpretations: dict[tuple[str, tuple[str, ...]], tuple[M.Interpretation, ...]]
    # `obliging` as one generated function (for a pack without a local plan): see `_oblige`
    oblige: Callable[
        [dict[str, Any], dict[str, Any], Any, dict[Any, Any], list[str], set[str]], list[Any]
    ]
    # when no obligation's due date or frequency can fail (each is absent, or a name the
    # evaluation has worked out), the parameters among those names: once each is among an
    # evaluation's values, its obligations are made when first read; else None
    infallible: frozenset[str] | None
    # the fields of every decision of this shape that come from the pack and its version
    fields: dict[str, Any]
    # and with them, no local plan (those of a decision whose other fields wait to be read),
    # then a place for each field of its own (see `build_decision`)
    lazy_fields: dict[str, Any]


def _shape(ev: Evaluation, custodial: bool, facts_schema: str) -> _Shape:
    pack = ev.pack
    key = ("decision_shape", ev.version.id, custodial, facts_schema)
    found: _Shape | None = pack.derived.get(key)
    if found is not None:
        return found

    def hidden(healthcare: bool, releasable: bool = False) -> bool:
        return custodial and healthcare and not releasable

    obliging = tuple(
        (
            rule.id,
            ob.due.compiled.fn if ob.due else None,
            ob.frequency.compiled.fn if ob.frequency else None,
            custodial and rule.healthcare,
            _fixed(rule, ob, custodial),
            tuple(M.thawed(r) for r in ob.records),  # plain copies, copied for each decision
            all(v.__class__ in _PLAIN for r in ob.records for v in r.values()),
            _ready(_fixed(rule, ob, custodial))
            if ob.due is None and ob.frequency is None and not ob.records
            else None,
        )
        for rule in pack.rules
        if (ob := rule.obligation) is not None and not hidden(rule.healthcare, ob.releasable)
    )
    reads = tuple(
        (_read_of(pack, ob.due), _read_of(pack, ob.frequency))
        for rule in pack.rules
        if (ob := rule.obligation) is not None and not hidden(rule.healthcare, ob.releasable)
    )
    withheld = tuple(n for n, o in pack.outputs.items() if hidden(o.healthcare, o.releasable))
    found = pack.derived[key] = _Shape(
        shown=tuple(n for n, o in pack.outputs.items() if not hidden(o.healthcare, o.releasable)),
        withheld=withheld,
        obliging=obliging,
        healthcare_path={},
        interpretations={},
        oblige=_oblige(
            pack.id,
            obliging,
            reads,
            # every obliging rule's result surely true, false or unknown: its condition's
            # static type is a truth value (so a result equal to true is true itself)
            all(
                rule.when is None or rule.when.checked.type.kind == "bool"
                for rule in pack.rules
                if (ob := rule.obligation) is not None
                and not hidden(rule.healthcare, ob.releasable)
            ),
        ),
        infallible=(
            frozenset(
                r.name for rs in reads for r in rs if r and r.name and r.name in pack.parameters
            )
            if all(r is None or r.name is not None for rs in reads for r in rs)
            else None
        ),
        fields={
            "pack": pack.id,
            "version": pack.version,
            "policy_version": ev.version.id,
            "content_hash": pack.content_hash,
            "withheld": withheld,
            "model": pack,
        },
        lazy_fields={},
    )
    # (with a place for each field `build_decision` sets after them, in the order it sets
    # them: a decision's fields are a copy of this dict, which then grows no more)
    found.lazy_fields.update(
        found.fields, local_plan=None, as_of=None, audience=None, _pending=None, _steps=None
    )
    return found


# the static kinds of a value with nothing inside to copy or to search for unknowns
_SCALAR_KINDS = frozenset(
    {"null", "bool", "int", "decimal", "string", "date", "duration", "months"}
)


@dataclass(frozen=True)
class _Read:
    """How the generated obligations read a due date or frequency: `name`, a pack name the
    expression is alone (read from the evaluation's values, as `N` reads it, without the
    call), and `flat`, a record whose fields' static kinds hold nothing to copy (so a shallow
    copy of it is `_copied`'s)."""

    name: str | None
    flat: bool


def _read_of(pack: M.Pack, expr: M.Expression | None) -> _Read | None:
    if expr is None:
        return None
    t = expr.checked.type
    name = name_alone(pack, expr)
    flat = (
        t.kind == "record"
        and t.fields is not None
        and all(ft.kind in _SCALAR_KINDS for _, ft, _ in t.fields)
    )
    return _Read(name, flat)


def _oblige(
    pack_id: str, obliging: tuple[Any, ...], reads: tuple[Any, ...], truths: bool = True
) -> Any:
    """`build_decision`'s loop over the obliging rules (without a local plan) as generated
    code: `oblige(results, F, N, memo, undetermined, missing)` returns the obligations of the
    rules that apply, adding to `undetermined` and `missing` as the loop does. The same
    objects, made in the same order, without the loop's per-rule unpacking.

    Each obligation that varies is made by a generated function of its own (`_b<i>`); the
    loop over every rule (`_each`) calls them in turn. When every rule's result is true or
    false, which rules apply depends on those results alone: the obligations that never vary
    and the functions to call for the others are kept by the results, and a decision with the
    same results copies the one and calls the others, in the rules' order, without the loop
    (`truths`: whether the rules' results are surely truth values or unknown, so that results
    equal to these are these: else always the loop)."""
    consts: dict[str, Any] = {
        "_MISS": _MISSING,
        "_U": Unknown,
        "_PL": _PLAIN,
        "_cp": _copied,
        "_own": owned,
        "_new": DecidedObligation.__new__,
        "_DO": DecidedObligation,
    }

    def const(value: Any) -> str:
        name = f"_c{len(consts)}"
        consts[name] = value
        return name

    lines: list[str] = []
    each = ["def _each(results, F, N, memo, undetermined, missing):", "    out = []"]
    each.append("    ap, get = out.append, results.get")
    made_by: list[Any] = []  # for each rule, its obligation, or the name of what makes it
    for i, (
        (rid, due_fn, freq_fn, _withheld, fixed, records, plain_records, ready),
        read,
    ) in enumerate(zip(obliging, reads, strict=True)):
        each.append(f"    w = get({rid!r}, False)")
        each.append("    if w is True:")
        if ready is not None:
            each.append(f"        ap({const(ready)})")
            made_by.append(ready)
        else:
            lines.append(f"def _b{i}(F, N, memo, missing):")
            for var, fn, how in (("due", due_fn, read[0]), ("freq", freq_fn, read[1])):
                if fn is None:
                    lines.append(f"    {var} = None")
                    continue
                if how.name is not None:  # a name already worked out: its value
                    lines.append(f"    {var} = memo.get({how.name!r}, _MISS)")
                    lines.append(f"    if {var} is _MISS: {var} = {const(fn)}(F, N)")
                else:
                    lines.append(f"    {var} = {const(fn)}(F, N)")
                lines.append(f"    if {var}.__class__ is _U: missing |= {var}.paths")
                if how.flat:
                    lines.append(f"    elif {var}.__class__ is dict: {var} = {var}.copy()")
                lines.append(f"    elif {var}.__class__ not in _PL: {var} = _cp({var})")
            if not records:
                record = "()"
            elif plain_records:
                record = f"tuple([r.copy() for r in {const(records)}])"
            else:
                record = f"tuple([_own(r) for r in {const(records)}])"
            lines.append("    made = _new(_DO)")
            lines.append("    fields = made.__dict__")
            lines.append(f"    fields.update({const(fixed)})")
            lines.append("    fields['due'] = due")
            lines.append("    fields['frequency'] = freq")
            lines.append(f"    fields['record'] = {record}")
            lines.append("    return made")
            each.append(f"        ap(_b{i}(F, N, memo, missing))")
            made_by.append(f"_b{i}")
        each.append("    elif w.__class__ is _U and w.paths:")
        each.append(f"        undetermined.append({rid!r})")
        each.append("        missing |= w.paths")
    each.append("    return out")
    source = "\n".join(lines + each) + "\n"
    namespace = dict(consts)
    exec(disk_cache.compiled(source, f"<obligations: {pack_id}>"), namespace)  # noqa: S102
    loop = namespace["_each"]
    rids = tuple(o[0] for o in obliging)
    makers = [namespace[m] if m.__class__ is str else m for m in made_by]
    plans: dict[tuple[Any, ...], tuple[list[Any], tuple[tuple[int, Any], ...]]] = {}

    def plan(key: tuple[Any, ...]) -> tuple[list[Any], tuple[tuple[int, Any], ...]]:
        """For these rule results (each true or false): the obligations as a list, with a
        place for each one made per decision, and the function making each, by place."""
        out: list[Any] = []
        calls: list[tuple[int, Any]] = []
        for result, maker in zip(key, makers, strict=True):
            if result is True:
                if maker.__class__ is DecidedObligation:
                    out.append(maker)
                else:
                    calls.append((len(out), maker))
                    out.append(None)
        return out, tuple(calls)

    def oblige(
        results: dict[str, Any],
        F: dict[str, Any],
        N: Any,
        memo: dict[Any, Any],
        undetermined: list[str],
        missing: set[str],
    ) -> list[Any]:
        if not truths:
            each: list[Any] = loop(results, F, N, memo, undetermined, missing)
            return each
        key = tuple(map(results.get, rids))  # (a rule with no result: None)
        found = plans.get(key)
        if found is None:
            if not all(r is True or r is False for r in key):
                made: list[Any] = loop(results, F, N, memo, undetermined, missing)
                return made
            if len(plans) > 4096:  # one entry per set of results: keep memory bounded
                plans.clear()
            found = plans[key] = plan(key)
        out = found[0].copy()
        for at, make in found[1]:
            out[at] = make(F, N, memo, missing)
        return out

    return oblige


def _ready(fixed: dict[str, Any]) -> DecidedObligation:
    """The DecidedObligation of a rule whose obligation has nothing that varies."""
    return DecidedObligation(due=None, frequency=None, record=(), **fixed)


def _fixed(rule: M.Rule, ob: M.Obligation, custodial: bool) -> dict[str, Any]:
    """The fields of a rule's DecidedObligation that never depend on the facts."""
    withheld_reasons = custodial and rule.healthcare
    return {
        "rule": rule.id,
        "title": rule.title,
        "modality": ob.modality,
        "text": ob.text,
        "who": ob.who,
        "cites": rule.cites,
        "interpretations": () if withheld_reasons else rule.interpretations,
        "reasons_withheld": withheld_reasons,
        "local": (),
    }


def build_decision(ev: Evaluation, audience: str, facts_schema: str = "facts") -> Decision:
    """Gather an evaluation's results, keeping from a custodial audience what it may not see.
    What can fail (the obligations' due dates and frequencies) is worked out here; the
    outputs, interpretations, missing facts and status, which cannot, when first read."""
    pack = ev.pack
    custodial = audience != "healthcare"
    shape = _shape(ev, custodial, facts_schema)
    infallible = shape.infallible
    if (
        infallible is not None
        and not ev.record
        and pack.local_plan is None
        and not ev.failed
        and ev.memo.keys() >= infallible
    ):
        # (a definition that failed, read by nothing so far, may be an obligation's due date)
        # nothing left to do can fail: the obligations are made when first read, and the
        # steps replayed when first read (`Decision.__getattr__`), as the other fields are
        later = _new(_Later)  # (its fields set here: no call of an `__init__`)
        later.ev, later.shape, later.custodial = ev, shape, custodial
        later.facts_schema, later.made = facts_schema, None
        decision = _new(Decision)
        fields = decision.__dict__
        # (those fixed by the pack and version, and no plan; then the decision's own)
        fields.update(shape.lazy_fields)
        fields["as_of"] = ev.as_of
        fields["audience"] = audience
        fields["_pending"] = later.pending
        fields["_steps"] = later.steps
        return decision
    return _made_at_once(ev, audience, facts_schema, shape, custodial)


def _made_at_once(
    ev: Evaluation, audience: str, facts_schema: str, shape: _Shape, custodial: bool
) -> Decision:
    """`build_decision` making the obligations (which may fail) at once: the steps kept by
    the evaluation, or obligations that may fail, or a local plan."""
    pack = ev.pack
    local_plan_of = pack.local_plan
    with_local = local_plan_of is not None
    infallible = shape.infallible
    memo = ev.memo
    if not with_local and infallible is not None and not ev.failed and memo.keys() >= infallible:
        return _deferred_decision(ev, audience, facts_schema, shape, custodial)
    undetermined: list[str] = []  # the rules that depend on unknown facts, in order
    missing: set[str] = set()
    obligations: list[DecidedObligation] = []
    results = ev.rule_results
    F, N = ev.F, ev.value
    new = DecidedObligation.__new__
    plain = _PLAIN
    if not with_local:
        obligations = shape.oblige(results, F, N, memo, undetermined, missing)
    for rid, due_fn, freq_fn, withheld, fixed, records, plain_records, _ready in (
        shape.obliging if with_local else ()
    ):
        when = results.get(rid, False)
        if when is not True:
            if when.__class__ is Unknown and when.paths:
                undetermined.append(rid)
                missing |= when.paths
            continue
        due: Any = None if due_fn is None else due_fn(F, N)
        freq: Any = None if freq_fn is None else freq_fn(F, N)
        cls = due.__class__
        if cls is Unknown:
            missing |= due.paths
        elif cls not in plain:
            due = _copied(due)
        cls = freq.__class__
        if cls is Unknown:
            missing |= freq.paths
        elif cls not in plain:
            freq = _copied(freq)
        # made without the frozen dataclass's field-by-field `__init__` (a guarded attribute
        # write per field, many times a decision): the same fields, so the same object
        made = new(DecidedObligation)
        fields = made.__dict__
        fields.update(fixed)
        fields["due"] = due
        fields["frequency"] = freq
        if not records:
            fields["record"] = ()
        elif plain_records:
            fields["record"] = tuple([r.copy() for r in records])
        else:
            fields["record"] = tuple([owned(r) for r in records])
        if not withheld:
            assert local_plan_of is not None
            local = _local_entries(ev, rid)
            fields["local"] = tuple(e.to_dict(local_plan_of.file) for e in local)
        obligations.append(made)
    local_plan = None
    if local_plan_of is not None:
        local_plan = local_plan_of.to_dict(
            _relied_entries(ev, custodial, [o.rule for o in obligations])
        )
    made_decision = _new_decision(ev, audience, shape)
    made_decision.__dict__.update(
        obligations=tuple(obligations),
        steps=_handed_steps(ev, obligations, custodial)
        if ev.record
        else LazySteps(lambda: _handed_steps(_replay(ev), obligations, custodial)),
        local_plan=local_plan,
        _pending=lambda: _rest(
            ev, shape, custodial, facts_schema, obligations, undetermined, missing
        ),
    )
    return made_decision


def _new_decision(ev: Evaluation, audience: str, shape: _Shape) -> Decision:
    """A decision with the fields every way of building one sets alike (the rest are the
    builder's), made without `__init__`'s checks: its values come from the evaluation."""
    decision = _new(Decision)
    fields = decision.__dict__
    fields.update(shape.fields)  # (those fixed by the pack and version, worked out once)
    fields["as_of"] = ev.as_of
    fields["audience"] = audience
    return decision


_new = object.__new__


def _deferred_decision(
    ev: Evaluation, audience: str, facts_schema: str, shape: _Shape, custodial: bool
) -> Decision:
    """`build_decision` for an evaluation whose obligations cannot fail: the same decision,
    with its obligations (and what they add to its missing facts) made when first read."""
    later = _new(_Later)  # (its fields set here: no call of an `__init__`)
    later.ev, later.shape, later.custodial, later.facts_schema = ev, shape, custodial, facts_schema
    later.made = None
    decision = _new_decision(ev, audience, shape)
    fields = decision.__dict__
    fields["steps"] = (
        _handed_steps(ev, later.obliged()[0], custodial) if ev.record else LazySteps(later.steps)
    )
    fields["local_plan"] = None
    fields["_pending"] = later.pending
    return decision


class _Later:
    """What a decision made by `_deferred_decision` works out when first read: its
    obligations, the fields that rest on them, and its steps (one object per decision,
    not a closure for each)."""

    __slots__ = ("custodial", "ev", "facts_schema", "made", "shape")

    ev: Evaluation
    shape: _Shape
    custodial: bool
    facts_schema: str
    made: tuple[list[DecidedObligation], list[str], set[str]] | None

    def obliged(self) -> tuple[list[DecidedObligation], list[str], set[str]]:
        # (two threads may both make them: equal results, and the first one kept is read)
        made = self.made
        if made is None:
            ev = self.ev
            undetermined: list[str] = []
            missing: set[str] = set()
            found = self.shape.oblige(
                ev.rule_results, ev.F, ev.value, ev.memo, undetermined, missing
            )
            made = (found, undetermined, missing)
            if self.made is None:
                self.made = made
            made = self.made
        return made

    def pending(self) -> dict[str, Any]:
        obligations, undetermined, missing = self.obliged()
        fields = _rest(
            self.ev,
            self.shape,
            self.custodial,
            self.facts_schema,
            obligations,
            undetermined,
            missing,
        )
        fields["obligations"] = tuple(obligations)
        return fields

    def steps(self) -> tuple[Step, ...]:
        return _handed_steps(_replay(self.ev), self.obliged()[0], self.custodial)


def _rest(
    ev: Evaluation,
    shape: _Shape,
    custodial: bool,
    facts_schema: str,
    obligations: list[DecidedObligation],
    rules_undetermined: list[str],
    rules_missing: set[str],
) -> dict[str, Any]:
    """The fields of a decision left until first read (see `_DEFERRED`): its outputs as plain
    data of its own, the interpretations it rests on, what it still needs and its status."""
    pack = ev.pack
    outputs: dict[str, Any] = {}
    undetermined: list[str] = []
    missing: set[str] = set()
    memo = ev.memo
    plain = _PLAIN
    for name in shape.shown:
        value: Any = memo.get(name)
        cls = value.__class__
        if cls in plain:
            outputs[name] = value
            continue
        if cls is dict or cls is list:  # plain values inside: a shallow copy is a full one
            for v in value.values() if cls is dict else value:
                if v.__class__ not in plain:
                    break
            else:
                outputs[name] = value.copy()
                continue
        needs: set[str] = set()
        copied = owned_needing(value, needs)
        if needs:
            undetermined.append(name)
            missing |= needs
        outputs[name] = None if cls is Unknown else copied
    undetermined += rules_undetermined
    missing |= rules_missing
    # the rules that apply, and those that may once the facts they need are known (the
    # decision names them, and the facts, by the same readings)
    ids = tuple(ev.version.interpretations) + tuple(
        _relied_upon(ev, custodial, {o.rule for o in obligations}.union(rules_undetermined))
    )
    key = (ev.version.id, ids)
    interpretations = shape.interpretations.get(key)
    if interpretations is None:
        if len(shape.interpretations) > 4096:  # one entry per combination: keep memory bounded
            shape.interpretations.clear()
        readings = pack.interpretations
        seen = dict.fromkeys(
            i
            for i in ids
            if i in readings and (not readings[i].versions or ev.version.id in readings[i].versions)
        )
        interpretations = shape.interpretations[key] = tuple(readings[i] for i in seen)
    if custodial and missing:
        # released values already carry only the fixed marker; any other healthcare-only path
        # (there should be none) is shown as that marker too, never by its name
        marker = next(iter(WITHHELD.paths))
        known = shape.healthcare_path
        for p in missing:
            if p not in known:
                if len(known) > 4096:
                    known.clear()
                known[p] = is_healthcare_path(p, facts_schema)
        missing = {marker if known[p] else p for p in missing}
    return {
        "status": "undetermined" if undetermined else "decided",
        "outputs": outputs,
        "interpretations": interpretations,
        "missing_facts": tuple(sorted(missing)),
        "undetermined": tuple(undetermined),
    }


def _handed_steps(
    ev: Evaluation, obligations: list[DecidedObligation], custodial: bool
) -> tuple[Step, ...]:
    """The steps a decision hands out: for a custodial audience only those it may hold, in the
    pack's order; every list and record in them a copy of its own, and each with the names it
    read on the branches taken (which an explanation follows)."""
    taken = Taken(ev, custodial)
    return tuple(
        dataclasses.replace(
            s,
            value=owned(s.value) if isinstance(s.value, list | dict) else s.value,
            # (a step whose reasons are withheld says nothing of what it read: an explanation
            # goes through it by what its item can read, whatever the facts)
            reads=None
            if s.kind == "parameter" or (custodial and s.healthcare)
            else tuple(sorted(taken(s.name))),
        )
        for s in (custodial_steps(ev, obligations) if custodial else ev.steps)
    )


def _replay(ev: Evaluation) -> Evaluation:
    """An evaluation that did not keep its steps, run again recording them, for the same
    audience and under the same exact decimal context (it is deterministic, so the steps are
    those the first run would have kept)."""
    again = Evaluation(ev.pack, ev.F, ev.as_of, ev.custodial, ev.version_id, record=True)
    with decimal.localcontext(EXACT):
        again.run()
    return again


def _local_entries(ev: Evaluation, rule_id: str) -> list[M.LocalEntry]:
    """The local plan's entries a rule's decision rests on: those declared to bear on it,
    and local rules that fired and define something the rule reads."""
    plan = ev.pack.local_plan
    if plan is None:
        return []
    reads: set[M.ItemKey] | None = None
    out = []
    for e in plan.entries:
        if rule_id in e.rules:
            out.append(e)
        elif e.defines and all(ev.rule_results.get(r) is True for r in e.rules):
            if reads is None:
                reads = ev.pack.closure([M.ItemKey("rule", rule_id)])
            if reads.intersection(e.defines):
                out.append(e)
    return out


def _relied_entries(ev: Evaluation, custodial: bool, applied: list[str]) -> list[M.LocalEntry]:
    """Entries a decision relied on: those its obligations rest on, the facts, parameter
    values and narrowed definitions the plan supplies (values any output may read, as a
    parameter's), and local rules that fired (unless this audience may not see them)."""
    plan = ev.pack.local_plan
    assert plan is not None
    out: list[M.LocalEntry] = []
    for e in plan.entries:
        fired = [
            r
            for r in e.rules
            if ev.rule_results.get(r) is True
            and not (custodial and (found := ev.pack.rule(r)) is not None and found.healthcare)
        ]
        if e.fact is not None or e.kind == "parameter" or any(r in applied for r in e.rules):
            out.append(e)
        elif e.kind == "narrow" and ev.pack.rule(e.target) is None:
            out.append(e)  # a narrowed definition
        elif e.kind == "rule" and fired:
            out.append(e)
    return out


def custodial_steps(ev: Evaluation, obligations: list[DecidedObligation]) -> list[Step]:
    """The steps a custodial audience may hold, in the pack's own order (evaluation order can
    follow healthcare-only data): healthcare-only steps dropped, except released outputs and the
    rules of released obligations, which keep only their value."""
    rank = _declaration_rank(ev.pack)
    applied = {o.rule for o in obligations}
    kept: list[Step] = []
    for s in ev.steps:
        if s.healthcare:
            if not (s.releasable or (s.kind == "rule" and s.name in applied)):
                continue
            s = Step(s.kind, s.name, s.value, None, (), (), True, s.releasable, s.withheld_reason)
        kept.append(s)
    kept.sort(key=lambda s: rank.get((s.kind, s.name), len(rank)))
    return kept


def _standard_json_parts(d: dict[str, Any]) -> tuple[bytes, bytes, bytes]:
    """`json_parts` of the dict `d` through the standard JSON writer (compact, as orjson's)."""

    def written(value: Any) -> bytes:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()

    keys = list(d)
    at = keys.index("interpretations")
    head = b"".join(written(k) + b":" + written(d[k]) + b"," for k in keys[:at])
    tail = b"".join(b"," + written(k) + b":" + written(d[k]) for k in keys[at + 1 :])
    return b"{" + head + b'"interpretations":', written(d["interpretations"]), tail + b"}"
