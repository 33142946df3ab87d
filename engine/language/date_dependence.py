"""How an expression depends on the evaluation date: the comparisons and step functions of
`as_of` whose flips are the only days on which its value can change.

Every expression node gets a *shape*:

- `fixed`: does not read the evaluation date at all;
- `step`: piecewise constant in the date; it changes only on a day when one of the sites
  found inside it flips (a comparison of the date with something fixed, a birthday...);
- `monotone`: a date, duration or number that moves monotonically with the date between
  those days (`as_of`, `as_of - 6 days`, `person.leaves_on - as_of`, `as_of - 1 month`);
- `moving`: moves with the date but cannot be compared monotonically (a list of such values);
- `opaque`: reads the date in a way this analysis does not bound (the caller must fall back
  to evaluating every day).

A *site* is where a `monotone` value meets a `fixed` or `step` one: a comparison, an
`earliest`/`latest`/`min`/`max` choice, or a step function of the date (`age`, `week_start`,
`month_start`, `month_end`, `year`, `month`, `day`). Between consecutive flips of every site
the value of a `step` expression is constant; finding the flips is the caller's job (it
evaluates the parts, which this module hands over as nodes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from engine.language import syntax as A

FIXED, STEP, MONOTONE, MOVING, OPAQUE = "fixed", "step", "monotone", "moving", "opaque"
_RANK = {FIXED: 0, STEP: 1, MONOTONE: 2, MOVING: 3, OPAQUE: 4}

# functions of one date whose value is a step function of it, monotone in it
STEP_FUNCTIONS = ("week_start", "month_start", "month_end", "year", "month", "day")
_EXTREMES = ("earliest", "latest", "min", "max")
_SAME_DIRECTION = ("days", "minutes", "coalesce")


@dataclass(frozen=True)
class Binding:
    """A quantifier the site stands inside: its variable and the list it ranges over."""

    var: str
    iterable: A.Node


@dataclass(frozen=True)
class Site:
    """A place where the expression's value may flip as the date moves.

    kind `compare`: `moving` is monotone, `other` fixed or step; the flips are the days where
    `moving >= other` or `moving > other` changes. kind `compare2`: both sides are monotone
    (the caller checks whether one is still between flips, else looks day by day). kind
    `age`: `moving` is the birth date and the value is the whole years to the evaluation
    date. kind `step`: `func` applied to the monotone `moving`."""

    kind: str  # compare | compare2 | age | step
    moving: A.Node
    other: A.Node | None
    bindings: tuple[Binding, ...]
    func: str | None = None
    loc: A.Loc | None = None


@dataclass
class Analysis:
    """The shape of an expression and its sites; `opaque` says where and why when it is."""

    shape: str
    sites: list[Site] = field(default_factory=list)
    opaque: list[str] = field(default_factory=list)


def _worst(*shapes: str) -> str:
    return max(shapes, key=_RANK.__getitem__, default=FIXED)


class _Walker:
    def __init__(self, name_shape: Callable[[str], str], date_names: tuple[str, ...]):
        self.name_shape = name_shape
        self.date_names = date_names
        self.sites: list[Site] = []
        self.opaque: list[str] = []
        self.locals: list[tuple[str, str, A.Node]] = []  # var, shape, iterable
        self.shapes: dict[int, tuple[str, int]] = {}

    def bindings(self) -> tuple[Binding, ...]:
        return tuple(Binding(v, it) for v, _, it in self.locals)

    def bad(self, node: A.Node, why: str) -> tuple[str, int]:
        self.opaque.append(f"{node.loc.line}:{node.loc.col}: {why}")
        return OPAQUE, 0

    def walk(self, node: A.Node) -> tuple[str, int]:
        """The shape of `node` and, for a monotone one, its direction (+1, -1, 0 unknown)."""
        result = self._walk(node)
        self.shapes[id(node)] = result
        return result

    def _walk(self, node: A.Node) -> tuple[str, int]:
        if isinstance(node, A.Lit):
            return FIXED, 0
        if isinstance(node, A.Name):
            for var, shape, _ in reversed(self.locals):
                if var == node.name:
                    return shape, 0
            if node.name in self.date_names:
                return MONOTONE, 1
            return self.name_shape(node.name), 0
        if isinstance(node, A.Attr):
            return self.walk(node.obj)[0], 0
        if isinstance(node, A.ListLit | A.RecordLit):
            shapes = [self.walk(c)[0] for c in A.children(node)]
            worst = _worst(*shapes)
            return (MOVING if worst == MONOTONE else worst), 0
        if isinstance(node, A.Unary):
            shape, d = self.walk(node.operand)
            return shape, (-d if node.op == "-" else d)
        if isinstance(node, A.Binary):
            return self._binary(node)
        if isinstance(node, A.Logic):
            return self._step_of(node), 0
        if isinstance(node, A.If):
            cond, _ = self.walk(node.cond)
            (a, da), (b, db) = self.walk(node.then), self.walk(node.other)
            if cond in (MONOTONE, MOVING):
                return self.bad(node, "a condition that moves with the date")
            if MONOTONE in (a, b) and _worst(a, b) == MONOTONE:
                dirs = {d for s, d in ((a, da), (b, db)) if s == MONOTONE}
                return MONOTONE, (dirs.pop() if len(dirs) == 1 else 0)
            return _worst(cond, a, b), 0
        if isinstance(node, A.Comprehension):
            it, _ = self.walk(node.iterable)
            if it in (MONOTONE, MOVING):
                return self.bad(node, "a list that moves with the date")
            self.locals.append((node.var, it, node.iterable))
            try:
                body, _ = self.walk(node.body)
            finally:
                self.locals.pop()
            if body in (MONOTONE, MOVING):
                return (MOVING, 0) if node.kind in ("map", "sum") else self.bad(node, "moving")
            return _worst(it, body), 0
        if isinstance(node, A.Call):
            return self._call(node)
        return self.bad(node, f"unexpected {type(node).__name__}")  # pragma: no cover

    def _step_of(self, node: A.Node) -> str:
        """A node whose value is step-shaped when its parts are fixed or step."""
        shapes = [self.walk(c)[0] for c in A.children(node)]
        if _worst(*shapes) in (MONOTONE, MOVING):
            self.bad(node, "a value that moves with the date, used where only steps are handled")
            return OPAQUE
        return _worst(*shapes)

    def _compare(self, node: A.Node, left: A.Node, right: A.Node) -> str:
        (a, _), (b, _) = self.walk(left), self.walk(right)
        if OPAQUE in (a, b):
            return OPAQUE
        if MOVING in (a, b):
            self.bad(node, "a compound value that moves with the date is compared")
            return OPAQUE
        if a == MONOTONE or b == MONOTONE:
            moving, other = (left, right) if a == MONOTONE else (right, left)
            kind = "compare2" if a == b else "compare"
            self.sites.append(Site(kind, moving, other, self.bindings(), loc=node.loc))
            return STEP
        return _worst(a, b)

    def _binary(self, node: A.Binary) -> tuple[str, int]:
        if node.op in ("<", "<=", ">", ">=", "==", "!="):
            return self._compare(node, node.left, node.right), 0
        if node.op in ("in", "not in"):
            return self._step_of(node), 0
        (a, da), (b, db) = self.walk(node.left), self.walk(node.right)
        if OPAQUE in (a, b):
            return OPAQUE, 0
        if MOVING in (a, b):
            return MOVING, 0
        if a == MONOTONE and b == MONOTONE:
            return MOVING, 0
        if node.op in ("+", "-"):
            if a == MONOTONE:
                return MONOTONE, da
            if b == MONOTONE:
                return MONOTONE, (db if node.op == "+" else -db)
            return _worst(a, b), 0
        if MONOTONE in (a, b):  # * and / by something constant between flips: sign unknown
            return MONOTONE, 0
        return _worst(a, b), 0

    def _call(self, node: A.Call) -> tuple[str, int]:
        func = node.func
        if func == "age":
            (born,) = node.args
            shape, _ = self.walk(born)
            if shape in (MONOTONE, MOVING, OPAQUE):
                return self.bad(node, "the age of a date that moves with the date")
            self.sites.append(Site("age", born, None, self.bindings(), loc=node.loc))
            return STEP, 0
        results = [self.walk(a) for a in node.args]
        shapes = [s for s, _ in results]
        worst = _worst(*shapes)
        if worst in (FIXED, STEP, OPAQUE):
            return worst, 0
        if worst == MOVING:
            return (STEP if func == "len" else MOVING), 0
        if func in STEP_FUNCTIONS and len(node.args) == 1:
            self.sites.append(
                Site("step", node.args[0], None, self.bindings(), func=func, loc=node.loc)
            )
            return STEP, 0
        if func in ("known",):
            return STEP, 0
        dirs = {d for s, d in results if s == MONOTONE}
        direction = dirs.pop() if len(dirs) == 1 else 0
        if func in _EXTREMES and len(node.args) > 1:
            movers = [a for a, (s, _) in zip(node.args, results, strict=True) if s == MONOTONE]
            if len(movers) > 1:
                return self.bad(node, f"`{func}` of several values that move with the date")
            for other, (s, _) in zip(node.args, results, strict=True):
                if s != MONOTONE:
                    self.sites.append(
                        Site("compare", movers[0], other, self.bindings(), loc=node.loc)
                    )
            return MONOTONE, direction
        if func in _SAME_DIRECTION:
            if func == "coalesce" and len([s for s in shapes if s == MONOTONE]) > 1:
                return MOVING, 0
            return MONOTONE, direction
        return MOVING, 0


def analyse(
    node: A.Node,
    name_shape: Callable[[str], str],
    date_names: tuple[str, ...] = ("as_of",),
) -> Analysis:
    """The shape of an expression and its sites, given the shape of each name it reads."""
    walker = _Walker(name_shape, date_names)
    shape, _ = walker.walk(node)
    if walker.opaque:
        shape = OPAQUE
    return Analysis(shape, walker.sites, walker.opaque)
