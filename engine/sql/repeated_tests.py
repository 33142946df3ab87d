"""CASE tests that repeat a test already decided around them, taken out of the query.

A mask is built from its operands' masks, each guarded by its own test (`CASE WHEN v IS NULL
THEN m ELSE 0 END`), and an item's mask is often the same guard around a mask that carries it
already, so the query tests the same value twice, inside a quantifier's lambda for every
element of every list. Where a CASE branch's value is itself a CASE whose first test is the
branch's own test (true there) or a test the outer CASE found not true before reaching the
branch, the inner CASE is replaced by the value it must give. The result is the same value for
every row: tests are deterministic, and both CASEs read the same names in the same scope.
"""

from __future__ import annotations

from sqlglot import exp

Columns = dict[str, list[tuple[str, exp.Expression]]]


def _bare(e: exp.Expression) -> exp.Expression:
    while isinstance(e, exp.Paren):
        e = e.this
    return e


def _searched(e: exp.Expression) -> exp.Case | None:
    """`e` (brackets aside) when it is a searched CASE (`CASE WHEN ...`), else None."""
    e = _bare(e)
    if isinstance(e, exp.Case) and e.this is None and e.args.get("ifs"):
        return e
    return None


def _decided(
    value: exp.Expression, true: list[exp.Expression], untrue: list[exp.Expression]
) -> exp.Expression:
    """What `value` comes to when the tests `true` hold and the tests `untrue` do not: an
    inner CASE whose first test is among either is cut to the branch it must take."""
    while (inner := _searched(value)) is not None:
        first = inner.args["ifs"][0]
        test = _bare(first.this)
        if any(_same(test, t) for t in true):
            value = first.args["true"]
        elif any(_same(test, t) for t in untrue):
            rest = inner.args["ifs"][1:]
            if rest:  # the same nodes, moved (a later pass over them still finds them)
                value = exp.Case(ifs=list(rest), default=_default(inner))
            else:
                value = _default(inner)
        else:
            break
    return value


def _same(a: exp.Expression, b: exp.Expression) -> bool:
    """Whether two tests are the same, brackets aside (`(v) IS NULL` is `v IS NULL`)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, exp.Is | exp.Not):
        return _bare(a.this) == _bare(b.this) and a.args.get("expression") == b.args.get(
            "expression"
        )
    return a == b


def _default(case: exp.Case) -> exp.Expression:
    return case.args.get("default") or exp.Null()


def simplify(e: exp.Expression) -> int:
    """Take the repeated tests out of every CASE in `e`, in place; how many were taken out."""
    done = 0
    for case in list(e.find_all(exp.Case)):
        if case.this is not None:
            continue
        before: list[exp.Expression] = []
        for branch in case.args.get("ifs") or []:
            test = _bare(branch.this)
            value = branch.args["true"]
            new = _decided(value, [test], before)
            if new is not value:
                branch.set("true", new)
                done += 1
            before.append(test)
        default = case.args.get("default")
        if default is not None and before:
            new = _decided(default, [], before)
            if new is not default:
                case.set("default", new)
                done += 1
    return done


def simplify_columns(columns: Columns) -> int:
    """`simplify` on every column's expression; how many tests were taken out in all."""
    return sum(simplify(e) for cols in columns.values() for _, e in cols)
