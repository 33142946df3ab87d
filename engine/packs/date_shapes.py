"""How each item of a pack moves with the evaluation date: the shape of its expressions
(fixed, stepping, monotone, moving, opaque), following the names they read through
definitions and outputs; and the days on which versions and parameter values change.
Shared by change points and the SQL replay, which choose the expressions of an item each in
their own way."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from engine.language import date_dependence as D

from . import model as M

ONE = dt.timedelta(days=1)


def boundaries(pack: M.Pack) -> set[dt.date]:
    """Days on which a version or a parameter value starts, or the day after one ends."""
    days: set[dt.date] = set()
    for v in pack.versions:
        days.add(v.effective_from)
        if v.effective_to is not None:
            days.add(v.effective_to + ONE)
    for p in pack.parameters.values():
        for pv in p.values:
            if pv.start is not None:
                days.add(pv.start)
            if pv.end is not None:
                days.add(pv.end + ONE)
    return days


class ItemShapes:
    """The date shape of each item (`def:x`, `out:x`, `rule:x`, `table:x`) of a pack, from the
    expressions `expressions_of(key)` gives, each analysed once."""

    def __init__(self, pack: M.Pack, expressions_of: Callable[[str], Iterable[M.Expression]]):
        self.pack = pack
        self._of = expressions_of
        self._shapes: dict[str, str] = {}
        self._analyses: dict[int, D.Analysis] = {}

    def analysis(self, expr: M.Expression) -> D.Analysis:
        """The expression's date analysis, names read through their items' shapes."""
        found = self._analyses.get(id(expr))
        if found is None:
            found = self._analyses[id(expr)] = D.analyse(expr.checked.node, self.name)
        return found

    def item(self, key: str) -> str:
        """The shape of an item: the widest shape of its expressions."""
        if key not in self._shapes:
            self._shapes[key] = D.OPAQUE  # guards a cycle (the checker rules them out)
            found = [self.analysis(e).shape for e in self._of(key)]
            self._shapes[key] = max(found, key=D._RANK.__getitem__, default=D.FIXED)
        return self._shapes[key]

    def name(self, name: str) -> str:
        """The shape of a name an expression reads."""
        if name == "version" or name in self.pack.parameters:
            return D.STEP
        if name in self.pack.definitions:
            return self.item(f"def:{name}")
        if name in self.pack.outputs:
            return self.item(f"out:{name}")
        return D.FIXED
