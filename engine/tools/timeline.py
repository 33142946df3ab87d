"""Change points: the days on which a decision changes as the date moves and the facts stay.

The candidate days come from the pack's expressions, not from trying every day: each place
where the evaluation date meets a fact (`as_of >= person.leaves_on - 4 weeks`, a count
of sessions in a rolling period, an age) flips on one day that a binary search over the
runtime's own arithmetic finds exactly (calendar months clamped as evaluation clamps them).
Version and parameter boundaries are candidates too. Between two candidates every condition
is constant; the decision is evaluated only on the candidates, and a change point is kept
where what the audience sees differs from the day before.
"""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.api import with_plan_facts
from engine.evaluation.decision import Decision, build_decision
from engine.evaluation.evaluate import Evaluation, out_of_range
from engine.language import date_dependence as D
from engine.language.codegen import compile_part
from engine.language.convert import json_key, to_json
from engine.language.functions import FUNCTIONS
from engine.language.runtime import EXACT, Unknown
from engine.packs import model as M
from engine.packs.date_shapes import ItemShapes, boundaries
from engine.packs.facts_schema import prepare
from engine.problems import EvaluationError

ONE = dt.timedelta(days=1)
_PROBE_DAYS = 4  # calendar clamping holds a month-shifted date still for at most 4 days


@dataclass(frozen=True)
class _CompiledSite:
    site: D.Site
    where: str
    moving: Callable[..., Any]
    other: Callable[..., Any] | None
    iterables: tuple[Callable[..., Any], ...]
    names: tuple[str, ...]


@dataclass
class DateModel:
    """What a pack's expressions say about the evaluation date, worked out once per pack."""

    pack: M.Pack
    sites: list[_CompiledSite] = field(default_factory=list)
    opaque: list[str] = field(default_factory=list)
    moving_outputs: list[str] = field(default_factory=list)
    root_items: set[str] = field(default_factory=set)  # items whose own expression has a site

    def static_candidates(self) -> set[dt.date]:
        """Days on which a version or a parameter value starts, or the day after one ends."""
        return boundaries(self.pack)


_MODELS: dict[int, DateModel] = {}


def date_model(pack: M.Pack) -> DateModel:
    """The pack's date model (computed once per loaded pack)."""
    found = _MODELS.get(id(pack))
    if found is not None and found.pack is pack:
        return found
    model = _build_model(pack)
    _MODELS[id(pack)] = model
    return model


def _build_model(pack: M.Pack) -> DateModel:
    model = DateModel(pack)
    exprs = list(pack.expressions())
    by_key: dict[str, list[M.Expression]] = {}
    for key, expr in exprs:
        by_key.setdefault(key, []).append(expr)

    def expressions_of(key: str) -> list[M.Expression]:
        found = list(by_key.get(key, ()))
        kind, _, name = key.partition(":")
        if kind == "out" and pack.outputs[name].mode == "rules":
            for rule in pack.rules:
                if name in dict(rule.sets):
                    found += by_key.get(f"rule:{rule.id}", ())
        if kind == "out" and pack.outputs[name].mode == "table":
            found += by_key.get(f"table:{pack.outputs[name].table}", ())
        return found

    shapes = ItemShapes(pack, expressions_of)
    analysis, item_shape = shapes.analysis, shapes.item

    for key, expr in exprs:
        where = expr.where
        result = analysis(expr)
        model.opaque.extend(f"{where} {o}" for o in result.opaque)
        if result.sites:
            model.root_items.add(key)
        for site in result.sites:
            model.sites.append(_compile_site(expr, site, where))
    for name in pack.outputs:
        if item_shape(f"out:{name}") in (D.MONOTONE, D.MOVING):
            model.moving_outputs.append(name)
    for rule in pack.rules:
        ob = rule.obligation
        if ob is None:
            continue
        for e in (ob.due, ob.frequency):
            if e is not None and analysis(e).shape in (D.MONOTONE, D.MOVING):
                model.moving_outputs.append(f"obligation {rule.id}")
    return model


def _compile_site(expr: M.Expression, site: D.Site, where: str) -> _CompiledSite:
    checked = expr.checked
    names = tuple(b.var for b in site.bindings)
    iterables = tuple(
        compile_part(checked, b.iterable, names[:i], where) for i, b in enumerate(site.bindings)
    )
    moving = compile_part(checked, site.moving, names, where)
    other = compile_part(checked, site.other, names, where) if site.other is not None else None
    return _CompiledSite(site, where, moving, other, iterables, names)


# -- evaluating on chosen days ----------------------------------------------------------------


class Days:
    """Evaluations of one facts document, made lazily and at most once per day."""

    def __init__(
        self,
        pack: M.Pack,
        facts: Mapping[str, Any],
        version: str | None = None,
        audience: str = "custodial",
    ):
        self.pack = pack
        self.audience = audience
        self.custodial = audience != "healthcare"
        if pack.local_plan is not None:  # what the plan supplies, as `evaluate` fills it
            facts = with_plan_facts(facts, pack.local_plan)
        self.facts = prepare(facts, "<facts>", pack.facts, self.custodial)
        self.version = version
        self._partial: dict[dt.date, Evaluation] = {}
        self._full: dict[tuple[dt.date, str], Decision] = {}
        self._conditions: dict[dt.date, Evaluation] = {}

    def partial(self, day: dt.date) -> Evaluation:
        """An evaluation whose names are worked out only as asked for (to probe one site)."""
        ev = self._partial.get(day)
        if ev is None:
            ev = self._partial[day] = Evaluation(
                self.pack, self.facts, day, self.custodial, self.version
            )
        return ev

    def decision(self, day: dt.date, audience: str) -> Decision:
        """The decision on `day`, made as `engine.api.evaluate` makes it: in the runtime's
        exact decimal context, so no decimal is rounded that evaluation would not round."""
        key = (day, audience)
        found = self._full.get(key)
        if found is None:
            ev = Evaluation(self.pack, self.facts, day, self.custodial, self.version)
            try:
                with decimal.localcontext(EXACT):
                    ev.run()
                    found = build_decision(ev, self.audience, self.pack.facts)
            except (OverflowError, ValueError, ArithmeticError) as e:  # (Inexact included)
                raise out_of_range(self.pack.id, e) from None
            self._full[key] = found
            self._conditions[day] = ev
        return found

    def conditions(self, day: dt.date) -> Evaluation:
        """The full evaluation behind the decision on `day` (made by `decision`)."""
        if day not in self._conditions:
            self.decision(day, self.audience)
        return self._conditions[day]


def _run(fn: Callable[..., Any], ev: Evaluation, args: tuple[Any, ...]) -> Any:
    """A compiled part of a site on one day, in the runtime's exact decimal context (a value
    with no exact form is unknown here; the decision on that day reports it)."""
    try:
        with decimal.localcontext(EXACT):
            return fn(ev.F, ev.value, *args)
    except (OverflowError, ValueError, ArithmeticError, TypeError):
        return None


def _first_change(f: Callable[[dt.date], Any], lo: dt.date, hi: dt.date) -> dt.date | None:
    """The first day in (lo, hi] where the monotone step function `f` differs from f(lo)."""
    start = f(lo)
    if f(hi) == start:
        return None
    a, b = lo, hi  # f(a) == start, f(b) != start
    while (b - a).days > 1:
        mid = a + dt.timedelta(days=(b - a).days // 2)
        if f(mid) == start:
            a = mid
        else:
            b = mid
    return b


def _all_changes(f: Callable[[dt.date], Any], lo: dt.date, hi: dt.date) -> set[dt.date]:
    found: set[dt.date] = set()
    at = lo
    while at < hi:
        nxt = _first_change(f, at, hi)
        if nxt is None:
            break
        found.add(nxt)
        at = nxt
    return found


def _key(value: Any) -> Any:
    """A value's comparable form: unknown (any reason) is one value, distinct from all others."""
    return "<unknown>" if value is None or value.__class__ is Unknown else value


def _bindings(cs: _CompiledSite, ev: Evaluation) -> Iterator[tuple[Any, ...]]:
    def extend(prefix: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
        i = len(prefix)
        if i == len(cs.iterables):
            yield prefix
            return
        items = _run(cs.iterables[i], ev, prefix)
        if not isinstance(items, list):
            return
        for item in items:
            yield from extend((*prefix, item))

    return extend(())


def _site_flips(cs: _CompiledSite, days: Days, lo: dt.date, hi: dt.date) -> set[dt.date]:
    """The days in (lo, hi] on which this site can flip, given that between lo and hi every
    fixed and step value it reads is constant."""
    found: set[dt.date] = set()
    for args in _bindings(cs, days.partial(lo)):
        found |= _flips_for(cs, days, lo, hi, args)
    return found


def _flips_for(
    cs: _CompiledSite, days: Days, lo: dt.date, hi: dt.date, args: tuple[Any, ...]
) -> set[dt.date]:
    """`_site_flips` for one binding of the quantifier variables around the site."""
    site = cs.site
    if site.kind == "age":
        born = _run(cs.moving, days.partial(lo), args)
        if not isinstance(born, dt.date):
            return set()
        age_on = FUNCTIONS["age_on"].impl
        return _all_changes(lambda a: age_on(born, a), lo, hi)

    def g(a: dt.date) -> Any:
        return _key(_run(cs.moving, days.partial(a), args))

    if site.kind == "step":
        if site.func == "day":
            return {lo + ONE * i for i in range(1, (hi - lo).days + 1)}
        step = FUNCTIONS["month_start" if site.func == "month" else str(site.func)].impl

        def stepped(a: dt.date) -> Any:
            v = g(a)
            return step(v) if isinstance(v, dt.date) else v

        return _all_changes(stepped, lo, hi)
    assert cs.other is not None
    if site.kind == "compare2":
        return _two_moving(cs, days, lo, hi, args)
    target = _key(_run(cs.other, days.partial(lo), args))
    if target == "<unknown>":  # unknown on every day between flips: so is the comparison
        return set()

    def holds(a: dt.date, strict: bool) -> Any:
        v = g(a)
        if v == "<unknown>":
            return v
        try:
            return v > target if strict else v >= target
        except TypeError:
            return "<incomparable>"

    found = set()
    for strict in (False, True):
        flip = _first_change(lambda a, strict=strict: holds(a, strict), lo, hi)  # type: ignore[misc]
        if flip is not None:
            found.add(flip)
    return found


def _two_moving(
    cs: _CompiledSite, days: Days, lo: dt.date, hi: dt.date, args: tuple[Any, ...]
) -> set[dt.date]:
    """Flips of a comparison of two values that both move with the date: when one of them is
    in fact still between lo and hi (a monotone value equal at both ends), it is the target of
    a plain comparison; otherwise the ordering is followed day by day."""
    assert cs.other is not None
    left, right = cs.moving, cs.other

    def side(fn: Callable[..., Any], a: dt.date) -> Any:
        return _key(_run(fn, days.partial(a), args))

    def order(a: dt.date) -> Any:
        x, y = side(left, a), side(right, a)
        if "<unknown>" in (x, y):
            return "<unknown>"
        try:
            return (x > y) - (x < y)
        except TypeError:
            return "<incomparable>"

    if side(left, lo) == side(left, hi) or side(right, lo) == side(right, hi):
        return _all_changes(order, lo, hi)  # a moving value against a still one: monotone
    found: set[dt.date] = set()
    prev = order(lo)
    for i in range(1, (hi - lo).days + 1):
        day = lo + ONE * i
        now = order(day)
        if now != prev:
            found.add(day)
        prev = now
    return found


def candidate_days(
    pack: M.Pack, days: Days, start: dt.date, end: dt.date
) -> tuple[list[dt.date], str]:
    """The days from `start` to `end` on which the decision may change (with `start`), and
    the method: `sites` (from the pack's expressions) or `daily` (the pack reads the date in a
    way the analysis does not bound, so every day is a candidate)."""
    model = date_model(pack)
    if model.opaque:
        return [start + ONE * i for i in range((end - start).days + 1)], "daily"
    cands = {start} | {d for d in model.static_candidates() if start < d <= end}
    done: set[tuple[int, dt.date, dt.date]] = set()
    while True:
        ordered = sorted(cands)
        segments = list(zip(ordered, [*[d - ONE for d in ordered[1:]], end], strict=True))
        new: set[dt.date] = set()
        for i, cs in enumerate(model.sites):
            for lo, hi in segments:
                if lo >= hi or (i, lo, hi) in done:
                    continue
                done.add((i, lo, hi))
                new |= _site_flips(cs, days, lo, hi)
        new -= cands
        if not new:
            break
        cands |= new
    return sorted(cands), "sites"


# -- what the audience sees, and how it changes -------------------------------------------------


def observable(decision: Decision, decimals_by_value: bool = False) -> dict[str, Any]:
    """What a change point compares: status, version, outputs, obligations and missing facts,
    flattened to one value per field (explanations and citations left out). With
    `decimals_by_value`, a decimal is shown by its value alone (2.50 as 2.5), as the SQL
    engines' results hold it, so that reports from both engines read the same."""
    shown = seen_value if decimals_by_value else to_json
    seen: dict[str, Any] = {
        "status": decision.status,
        "policy_version": decision.policy_version,
        "missing_facts": list(decision.missing_facts),
    }
    for name, value in decision.outputs.items():
        seen[f"outputs.{name}"] = shown(value)
    for ob in decision.obligations:
        seen[f"obligations.{ob.rule}"] = {
            "modality": ob.modality,
            "due": to_json(ob.due),
            "frequency": to_json(ob.frequency),
        }
    if decision.model is not None:
        seen.update(undetermined_duties(decision.model, decision.undetermined))
    return seen


def undetermined_duties(pack: M.Pack, names: Iterable[str]) -> dict[str, Any]:
    """The duties among a decision's undetermined items (rules with an obligation whose
    condition the facts leave unknown), as what a change point compares: a duty that may yet
    apply is not one that does not apply."""
    found: dict[str, Any] = {}
    for name in names:
        rule = pack.rule(name)
        if rule is not None and rule.obligation is not None:
            found[f"obligations.{name}"] = {
                "modality": rule.obligation.modality,
                "undetermined": True,
            }
    return found


def duty_ids(pack: M.Pack) -> list[str]:
    """The rules with an obligation: the undetermined items `undetermined_duties` keeps."""
    return [r.id for r in pack.rules if r.obligation is not None]


def seen_value(value: Any) -> Any:
    """A value JSON-ready with each decimal by its value alone (2.50 and 2.5 are one value),
    as SQL results hold decimals at one scale."""
    if isinstance(value, decimal.Decimal):
        return format(value.normalize(), "f") if value.is_finite() else str(value)
    if isinstance(value, Mapping):
        return {json_key(k): seen_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        return [seen_value(v) for v in value]
    return to_json(value)


def show_field(value: Any, field: str = "", width: int = 0) -> str:
    """A field's value in one line: JSON, `none` for no value, an obligation as its modality
    with its due date and frequency; cut to `width` characters when given."""
    import json

    if field.startswith("obligations."):
        if value is None:
            return "(does not apply)"
        if value.get("undetermined"):
            return f"undetermined ({value['modality']}, if the facts it needs show it applies)"
        text = str(value["modality"])
        if value.get("due") is not None:
            text += f", due {value['due']}"
        if value.get("frequency") is not None:
            text += f", every {show_field(value['frequency'])}"
    elif value is None:
        text = "none"
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    if width and len(text) > width:
        text = text[: width - 1].rstrip() + "…"
    return text


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: Any
    after: Any

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "before": self.before, "after": self.after}


@dataclass(frozen=True)
class ChangePoint:
    """A day on which what the audience sees changes, and the conditions that flipped."""

    on: dt.date
    changes: tuple[FieldChange, ...]
    because: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "on": self.on.isoformat(),
            "changes": [c.to_dict() for c in self.changes],
            "because": list(self.because),
        }


@dataclass(frozen=True)
class Timeline:
    pack: str
    start: dt.date
    end: dt.date
    audience: str
    method: str  # sites | daily
    candidates: int
    evaluated: int
    initial: dict[str, Any]
    points: tuple[ChangePoint, ...]

    @property
    def shows_work(self) -> bool:
        """Whether the counts of days tried may be shown: the candidates come from every
        condition, healthcare-only ones too, so only a healthcare audience sees them."""
        return self.audience == "healthcare"

    def to_dict(self) -> dict[str, Any]:
        work = {"candidate_days": self.candidates, "days_evaluated": self.evaluated}
        return {
            "pack": self.pack,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "audience": self.audience,
            "method": self.method,
            **(work if self.shows_work else {}),
            "initial": self.initial,
            "change_points": [p.to_dict() for p in self.points],
        }

    def states(self) -> list[tuple[dt.date, dict[str, Any]]]:
        """What the audience sees from the start and from each change point on (a field
        that is absent, such as an obligation that does not apply, reads as None)."""
        state = dict(self.initial)
        found = [(self.start, dict(state))]
        for p in self.points:
            for c in p.changes:
                state[c.field] = c.after
            found.append((p.on, dict(state)))
        return found

    def value_on(self, name: str, day: dt.date) -> Any:
        """A field's value on a day of the range, read from the change points."""
        value = self.initial.get(name)
        for p in self.points:
            if p.on > day:
                break
            for c in p.changes:
                if c.field == name:
                    value = c.after
        return value


def _diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[FieldChange, ...]:
    keys = list(before) + [k for k in after if k not in before]
    return tuple(
        FieldChange(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)
    )


def _because(
    pack: M.Pack, days: Days, day: dt.date, audience: str, changes: tuple[FieldChange, ...]
) -> tuple[str, ...]:
    """The rules and definitions whose condition differs between the day before and `day`,
    those that read the date themselves first; healthcare-derived ones only for healthcare;
    only those that lead to a field that changed (all of them when the status or the missing
    facts changed, which any item may move)."""
    model = date_model(pack)
    old, new = days.conditions(day - ONE), days.conditions(day)
    custodial = audience != "healthcare"
    found: list[tuple[bool, str, M.ItemKey]] = []
    for name, d in pack.definitions.items():
        if custodial and d.expr.healthcare:
            continue
        a, b = old.memo.get(name), new.memo.get(name)
        root = f"def:{name}" in model.root_items
        if (root or isinstance(a, bool) or isinstance(b, bool)) and _key(a) != _key(b):
            found.append((root, f"definition {name}", M.ItemKey("def", name)))
    for name, out in pack.outputs.items():
        if f"out:{name}" not in model.root_items or (custodial and out.healthcare):
            continue
        if _key(old.memo.get(name)) != _key(new.memo.get(name)):
            found.append((True, f"output {name}", M.ItemKey("out", name)))
    for rule in pack.rules:
        if custodial and rule.healthcare:
            continue
        a, b = old.rule_results.get(rule.id), new.rule_results.get(rule.id)
        if _key(a) != _key(b):
            root = f"rule:{rule.id}" in model.root_items
            found.append((root, f"rule {rule.id}", M.ItemKey("rule", rule.id)))
    leading = _leading_to(pack, changes)
    if leading is not None and any(key in leading for _, _, key in found):
        found = [f for f in found if f[2] in leading]
    texts = [text for _, text, _ in sorted(found, key=lambda t: not t[0])]
    if old.version.id != new.version.id:
        texts.insert(0, f"version {new.version.id} in force")
    return tuple(texts)


def _leading_to(pack: M.Pack, changes: tuple[FieldChange, ...]) -> set[M.ItemKey] | None:
    """The items that changed fields read, themselves included; None when a field changed
    that any item may move (the status, the missing facts, the version)."""
    keys: list[M.ItemKey] = []
    for change in changes:
        kind, _, name = change.field.partition(".")
        if kind == "outputs":
            keys.append(M.ItemKey("out", name))
        elif kind == "obligations":
            keys.append(M.ItemKey("rule", name))
        else:
            return None
    return pack.closure(keys)


def timeline(
    pack: M.Pack,
    facts: Mapping[str, Any],
    start: dt.date,
    end: dt.date,
    audience: str = "custodial",
    version: str | None = None,
    days: Days | None = None,
    decimals_by_value: bool = False,
    outputs: Collection[str] | None = None,
) -> Timeline:
    """Every day from `start` to `end` on which the decision for `facts` changes (`days`: the
    evaluations made so far of these facts, to share them with the caller; for
    `decimals_by_value` see `observable`; `outputs`: only these outputs are followed, the
    status, version, missing facts and obligations still)."""
    if end < start:
        raise EvaluationError("E-EVAL-RANGE", f"the range ends ({end}) before it starts ({start})")
    days = days or Days(pack, facts, version, audience)
    cands, method = candidate_days(pack, days, start, end)
    model = date_model(pack)

    def observe(day: dt.date) -> dict[str, Any]:
        seen = observable(days.decision(day, audience), decimals_by_value)
        if outputs is None:
            return seen
        return {
            k: v
            for k, v in seen.items()
            if not k.startswith("outputs.") or k.removeprefix("outputs.") in outputs
        }

    seen = {d: observe(d) for d in cands}
    if model.moving_outputs and method == "sites":
        # a value that moves with the date (a due date of "today") between candidates: probe
        # the first days of each stretch, and follow it day by day where it moves
        bounds = [*cands[1:], end + ONE]
        for lo, nxt in zip(cands, bounds, strict=True):
            probe = [lo + ONE * i for i in range(1, _PROBE_DAYS + 1) if lo + ONE * i < nxt]
            if any(observe(d) != seen[lo] for d in probe):
                for i in range(1, (nxt - lo).days):
                    d = lo + ONE * i
                    seen[d] = observe(d)
    points: list[ChangePoint] = []
    ordered = sorted(seen)
    for prev, day in itertools.pairwise(ordered):
        changes = _diff(seen[prev], seen[day])
        if changes:
            because = _because(pack, days, day, audience, changes)
            points.append(ChangePoint(day, changes, because))
    return Timeline(
        pack=pack.id,
        start=start,
        end=end,
        audience=audience,
        method=method,
        candidates=len(cands),
        evaluated=len(seen),
        initial=seen[start],
        points=tuple(points),
    )


def daily_changes(
    pack: M.Pack,
    facts: Mapping[str, Any],
    start: dt.date,
    end: dt.date,
    audience: str = "custodial",
    version: str | None = None,
) -> list[tuple[dt.date, tuple[FieldChange, ...]]]:
    """The reference the change points are checked against: evaluate every day of the range
    and keep the days on which what the audience sees differs from the day before."""
    days = Days(pack, facts, version, audience)
    found = []
    prev = observable(days.decision(start, audience))
    for i in range(1, (end - start).days + 1):
        day = start + ONE * i
        now = observable(days.decision(day, audience))
        if now != prev:
            found.append((day, _diff(prev, now)))
        prev = now
    return found
