"""Shared items: what two packs' `local:` blocks open to plans as one thing, declared once and
then agreed on by every two plans of one establishment that are in force together.

A pack's `local:` block may say that a parameter or a group it opens to local plans is the
same as one another pack opens to its own plans: `shared: {pack: P, parameter: NAME}` under a
declared parameter, `shared: {pack: P, group: NAME}` under a declared group. One side
declaring it is enough; both may. `regime check` (engine.api.check_paths) then checks:

- the declaration (`declaration_problems`, E-LOCAL-SHARED at the pack id or item name): the
  other pack is there (among the packs checked, else `P.yaml` beside or above the declaring
  pack, where a plan looks for its national pack), it opens an item of that kind and name
  under its own `local:` block, and, for a parameter, the two national values are equal on
  every day both are in force (else every two plans leaving them unset would disagree);
- the plans (`disagreements`, E-LOCAL-DISAGREE): every two active plans of one establishment
  extending the two packs, on the days both are in force (a draft is not in force yet, a retired
  plan no longer): those checked together, and each plan checked with every plan in its own folder
  (an establishment's folder), so that a plan checked alone is still held to the plans beside it.
  A parameter is compared by its effective value, the plan's own or else the national one, on each
  day either value may change within those days. A group is compared by the conditions the plans
  add to it (their rules with `group:`): what one plan's conditions admit together, the other's
  must admit, compared by their logic over the comparisons as written
  (engine.language.logic_equal). The check is sound (conditions it finds equal are equal, when
  the names they read mean the same in both packs, as fact paths do under one facts schema);
  where the conditions have too many parts to tell, each must be written alike in both plans.

A disagreement is an error, not a warning. It is one establishment saying two different
things, in two documents it has signed off, about what the national packs say is one thing:
under one plan a person is in a group, under the other not, and the decisions of the two
packs about that person contradict each other. `regime check` runs over every pack and plan
on every change; a warning there is easily let through, and nothing after it reconciles the
two plans. The remedy is always in the plans (set the same value, add the same condition, or
end one plan before the other begins), so the error stops nothing that should go ahead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from engine.language.logic_equal import Difference, TooManyAtoms, difference, truth_text
from engine.language.syntax import shape
from engine.packs import model as M
from engine.problems import Problem, did_you_mean, problem

# the pack a pack's `shared:` names, when it is not among those checked (None: not there)
FindPack = Callable[[M.Pack, str], M.Pack | None]


def declaration_problems(packs: Mapping[str, M.Pack], find: FindPack) -> list[Problem]:
    """Each `shared:` declaration of the packs names a pack that is there, an item that pack
    opens to its plans, and (for a parameter) national values equal to this pack's."""
    out: list[Problem] = []
    for pack in packs.values():
        for item in pack.shared:
            other = packs.get(item.pack) or find(pack, item.pack)
            found = _declaration_problem(item, other, list(packs))
            if found is not None:
                message, hint = found
                at = (item.pack_line, item.pack_col) if other is None else (item.line, item.col)
                out.append(problem("E-LOCAL-SHARED", pack.file, *at, message, hint))
            elif other is not None and item.kind == "parameter":
                out.extend(_national_values(pack, item, other))
    return out


def _declaration_problem(
    item: M.SharedItem, other: M.Pack | None, known: list[str]
) -> tuple[str, str] | None:
    """What is wrong with the pack or item a declaration names, with a hint; None if nothing."""
    if other is None:
        return (
            f"{item.kind} `{item.name}` is declared shared with pack `{item.pack}`, which is "
            "neither among the packs checked nor beside this one, or does not load",
            did_you_mean(item.pack, known)
            or f"name a pack by its id, and keep `{item.pack}.yaml` beside this pack",
        )
    if (item.kind, item.other) in other.local_items:
        return None
    opened = sorted(name for kind, name in other.local_items if kind == item.kind)
    return (
        f"pack `{item.pack}` opens no {item.kind} `{item.other}` to local plans, so "
        f"`{item.name}` cannot be shared with it",
        did_you_mean(item.other, opened)
        or f"name one under `local: {item.kind}s:` of `{item.pack}`: "
        + (", ".join(f"`{n}`" for n in opened) or "it declares none"),
    )


def _national_values(pack: M.Pack, item: M.SharedItem, other: M.Pack) -> list[Problem]:
    """A shared parameter's national values in the two packs are equal on every day."""
    mine, theirs = pack.parameters.get(item.name), other.parameters.get(item.other)
    if mine is None or theirs is None:
        return []  # the pack's own declarations report an unknown parameter
    differs = _first_difference(mine, theirs, None, None)
    if differs is None:
        return []
    day, a, b = differs
    return [
        problem(
            "E-LOCAL-SHARED",
            pack.file,
            item.line,
            item.col,
            f"parameter `{item.name}` is declared shared with `{item.other}` of pack "
            f"`{item.pack}`, but their national values differ on {day}: `{a.text}` here, "
            f"`{b.text}` there",
            "give the two packs the same national values, or do not declare them shared",
        )
    ]


def disagreements(plans: Iterable[M.Pack]) -> list[Problem]:
    """Every two active plans of one establishment, in force together, agree on each item
    their packs declare shared (`plans` are merged plan packs, as engine.api.load_overlay
    gives them)."""
    active = _active(plans)
    out: list[Problem] = []
    for i, first in enumerate(active):
        for second in active[i + 1 :]:
            out.extend(_pair(first, second))
    return out


def disagreements_with(checked: Iterable[M.Pack], beside: Iterable[M.Pack]) -> list[Problem]:
    """Each checked plan against each plan beside it (in its own folder, not checked with
    it): said at the checked plan where it can be. The plans beside are not compared with
    each other; that is for when they are checked."""
    others = _active(beside)
    return [found for plan in _active(checked) for other in others for found in _pair(other, plan)]


def _active(plans: Iterable[M.Pack]) -> list[M.Pack]:
    return sorted(
        (p for p in plans if p.local_plan is not None and p.local_plan.status == "active"),
        key=lambda p: _plan(p).file,
    )


def _pair(first: M.Pack, second: M.Pack) -> list[Problem]:
    """What two plans disagree on, said at the second plan where it can be."""
    one, two = _plan(first), _plan(second)
    if one.establishment_code != two.establishment_code or one.extends_pack == two.extends_pack:
        return []
    window = _overlap(one, two)
    if window is None:
        return []
    out: list[Problem] = []
    for item, owner, name_1, name_2 in _correspondences(first, second):
        said = _declared(item, owner)
        if item.kind == "parameter":
            found = _parameter(first, name_1, second, name_2, said, window)
        else:
            found = _group(first, name_1, second, name_2, said, window[0])
        if found is not None:
            out.append(found)
    return out


def _plan(pack: M.Pack) -> M.LocalPlan:
    assert pack.local_plan is not None
    return pack.local_plan


def _overlap(one: M.LocalPlan, two: M.LocalPlan) -> tuple[dt.date, dt.date | None] | None:
    """The days both plans are in force, as (first, last or None for open), or None."""
    start = max(one.effective_from, two.effective_from)
    ends = [d for d in (one.effective_to, two.effective_to) if d is not None]
    end = min(ends) if ends else None
    return None if end is not None and end < start else (start, end)


def _correspondences(first: M.Pack, second: M.Pack) -> Iterator[tuple[M.SharedItem, str, str, str]]:
    """Each shared item between the two plans' packs, declared by either, once: the
    declaration, the pack declaring it, the item's name in the first pack and in the
    second."""
    seen: set[tuple[str, str, str]] = set()
    for pack, other, mine in ((first, second, True), (second, first, False)):
        for item in pack.shared:
            if item.pack != other.id:
                continue
            names = (item.name, item.other) if mine else (item.other, item.name)
            if (item.kind, *names) not in seen:
                seen.add((item.kind, *names))
                yield item, pack.id, *names


def _entry(pack: M.Pack, kind: str, target: str) -> M.LocalEntry | None:
    return next((e for e in _plan(pack).entries if e.kind == kind and e.target == target), None)


def _declared(item: M.SharedItem, owner: str) -> str:
    refs = ", ".join(item.interpretations)
    return f"pack `{owner}` declares the two the same" + (f" ({refs})" if refs else "")


def _first_difference(
    a: M.Parameter, b: M.Parameter, start: dt.date | None, end: dt.date | None
) -> tuple[dt.date, M.ParameterValue, M.ParameterValue] | None:
    """The first day from `start` to `end` (None: unbounded) on which both parameters have a
    value and the values differ, with the two values. Values change only on the day one
    starts or the day after one ends, so those days (and `start`) are the ones looked at."""
    days = {start or dt.date.min}
    for value in (*a.values, *b.values):
        days.add(value.start or dt.date.min)
        if value.end is not None and value.end < dt.date.max:
            days.add(value.end + dt.timedelta(days=1))
    for day in sorted(days):
        if (start is not None and day < start) or (end is not None and day > end):
            continue
        va, vb = a.at(day), b.at(day)
        if va is not None and vb is not None and not _same(va.value, vb.value):
            return day, va, vb
    return None


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and bool(a == b)


def _parameter(
    first: M.Pack,
    name_1: str,
    second: M.Pack,
    name_2: str,
    said: str,
    window: tuple[dt.date, dt.date | None],
) -> Problem | None:
    """The two plans' effective values of a shared parameter differ: said at the second
    plan's own value (the first's when only the first sets it)."""
    p1, p2 = first.parameters.get(name_1), second.parameters.get(name_2)
    if p1 is None or p2 is None:
        return None
    differs = _first_difference(p1, p2, *window)
    if differs is None:
        return None
    day, v1, v2 = differs
    e1, e2 = _entry(first, "parameter", name_1), _entry(second, "parameter", name_2)
    if e2 is not None:
        here, there = (second, name_2, v2, e2), (first, name_1, v1, e1)
    elif e1 is not None:
        here, there = (first, name_1, v1, e1), (second, name_2, v2, e2)
    else:
        return None  # both national: the declaration's own check reports national values
    pack, name, value, entry = here
    other, other_name, other_value, other_entry = there
    assert entry is not None
    where = (
        f"{_plan(other).file}:{other_entry.line}:{other_entry.col}"
        if other_entry is not None
        else f"{_plan(other).file}, which leaves it at the national value,"
    )
    return problem(
        "E-LOCAL-DISAGREE",
        _plan(pack).file,
        entry.line,
        entry.col,
        f"`{name}` is `{value.text}` here but `{other_name}` is `{other_value.text}` in "
        f"{where} from {day}, while both plans of {_plan(pack).establishment_code} are in "
        f"force: {said}",
        f"set one value in both plans ({_plan(other).file} and this one), or end one plan "
        "before the other begins",
    )


def _by_shape(
    one: list[tuple[M.LocalEntry, M.Expression]], two: list[tuple[M.LocalEntry, M.Expression]]
) -> Difference | None:
    """A difference with no example, where the two lists of conditions are not the same
    conditions as parsed; None where they are."""
    shapes_1 = {shape(e.checked.node) for _, e in one}
    shapes_2 = {shape(e.checked.node) for _, e in two}
    return None if shapes_1 == shapes_2 else Difference((), None, None)


def _member(value: bool | None) -> str:
    return "not known to be in it" if value is None else "in the group" if value else "not in it"


def _additions(pack: M.Pack, group: str) -> list[tuple[M.LocalEntry, M.Expression]]:
    """The rules of the plan adding to `group`, each with its condition."""
    out: list[tuple[M.LocalEntry, M.Expression]] = []
    for entry in _plan(pack).entries:
        if entry.group != group or not entry.defines:
            continue
        found = pack.definitions.get(entry.defines[0].name)
        if found is not None:
            out.append((entry, found.expr))
    return out


def _shown(additions: list[tuple[M.LocalEntry, M.Expression]]) -> str:
    if not additions:
        return "nothing"
    return ", ".join(
        f"`{' '.join(expr.text.split())}` (rule `{entry.target}`, {expr.line}:{expr.col})"
        for entry, expr in additions
    )


def _group(
    first: M.Pack,
    name_1: str,
    second: M.Pack,
    name_2: str,
    said: str,
    start: dt.date,
) -> Problem | None:
    """The two plans add different conditions to a shared group: said at the second plan's
    first condition the first plan lacks (else the first plan's first the second lacks)."""
    side_1 = (first, name_1, _additions(first, name_1))
    side_2 = (second, name_2, _additions(second, name_2))
    try:
        differs = difference(
            [e.checked.node for _, e in side_1[2]], [e.checked.node for _, e in side_2[2]]
        )
    except TooManyAtoms:  # too many parts to work out: each condition must be written alike
        differs = _by_shape(side_1[2], side_2[2])
    if differs is None:
        return None
    shapes_1 = [shape(e.checked.node) for _, e in side_1[2]]
    shapes_2 = [shape(e.checked.node) for _, e in side_2[2]]
    only_2 = [e for (_, e), s in zip(side_2[2], shapes_2, strict=True) if s not in shapes_1]
    only_1 = [e for (_, e), s in zip(side_1[2], shapes_1, strict=True) if s not in shapes_2]
    here, there, at = (side_2, side_1, only_2[0]) if only_2 else (side_1, side_2, only_1[0])
    plan, other = _plan(here[0]), _plan(there[0])
    example = ""
    if differs.atoms:
        mine, theirs = (
            (differs.second, differs.first) if only_2 else (differs.first, differs.second)
        )
        where = ", ".join(f"`{text}` is {truth_text(v)}" for text, v in differs.atoms)
        example = (
            f"; where {where}, the person is {_member(mine)} under this plan but "
            f"{_member(theirs)} under the other"
        )
    return problem(
        "E-LOCAL-DISAGREE",
        plan.file,
        at.line,
        at.col,
        f"group `{here[1]}` gains {_shown(here[2])} here but `{there[1]}` gains "
        f"{_shown(there[2])} in {other.file}, while both plans of {plan.establishment_code} "
        f"are in force (from {start}): {said}{example}",
        "add conditions to both plans that say the same (they are compared by their logic, "
        "each comparison as written: `a and b` is `b and a`, but `x > 3` is not "
        "`not (x <= 3)`), "
        "with the agreement each group needs; or end one plan before the other begins",
    )
