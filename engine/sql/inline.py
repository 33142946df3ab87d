"""Item columns read once folded into their reader, for a query that needs only values.

Each pack item is a column of its own (see `engine.sql.query`), so a rule `a or b or c` reads
three columns that every row computes in full. Written as one expression instead, the engine
short-circuits it: `b` is worked out only for the rows where `a` is not already true, as in a
hand-written query. A column read exactly once, outside any lambda, is therefore put in place
of that read; a column read more often stays a column (computed once), and a column nothing
reads is dropped. The result is the same value for every row.
"""

from __future__ import annotations

from collections import Counter

from sqlglot import exp

Columns = dict[str, list[tuple[str, exp.Expression]]]


def _reads(e: exp.Expression, names: set[str]) -> list[exp.Column]:
    """The references in `e` to the item columns `names`."""
    return [c for c in e.find_all(exp.Column) if not c.table and c.name in names]


def _in_lambda(node: exp.Expression) -> bool:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, exp.Lambda):
            return True
        parent = parent.parent
    return False


def inline_single_use(columns: Columns, roots: list[exp.Expression]) -> set[str]:
    """Fold the columns read once into their reader (in `columns` and in the expressions
    `roots`, in place); the names of the columns still needed."""
    exprs = {name: e for cols in columns.values() for name, e in cols}
    names = set(exprs)
    needed: set[str] = set()
    uses: Counter[str] = Counter()
    lambda_use: set[str] = set()
    stack = list(roots)
    while stack:
        e = stack.pop()
        for c in _reads(e, names):
            uses[c.name] += 1
            if _in_lambda(c):
                lambda_use.add(c.name)
            if c.name not in needed:
                needed.add(c.name)
                stack.append(exprs[c.name])
    folded = {n for n in needed if uses[n] == 1 and n not in lambda_use}
    done: dict[str, exp.Expression] = {}

    def resolve(name: str) -> exp.Expression:
        if name not in done:
            done[name] = fold(exprs[name])
        return done[name]

    def fold(e: exp.Expression) -> exp.Expression:
        for c in _reads(e, folded):
            replacement = exp.Paren(this=resolve(c.name))
            if c is e:
                return replacement
            c.replace(replacement)
        return e

    for cols in columns.values():
        for i, (n, e) in enumerate(cols):
            if n in needed and n not in folded:
                cols[i] = (n, fold(e))
    for r in roots:
        new = fold(r)
        if new is not r:
            raise ValueError("a root expression must not be a bare item column")
    return needed - folded
