"""Per-element masks of a quantifier worked out only for the rows that need them.

A quantifier's body is evaluated once per element into a list column of `{v, m}` structs
(value and mask; see `engine.sql.expressions`). Most rows have no unknown element, so the
masks are read only in a guarded branch (an element is undecided), yet the list computes a
mask for every element of every row, and the mask's own test re-evaluates the body. This pass
rewrites such a list column into a list of values alone: readers of `.v` read the element,
and each reader of `.m` (inside a CASE branch) recomputes the (value, mask) pairs from the
source list, which the engine does only for the rows that take that branch. A column with
any other reader is left as it is, so the result is the same query, value for value.
"""

from __future__ import annotations

from sqlglot import exp

Columns = dict[str, list[tuple[str, exp.Expression]]]
LIST_READERS = (exp.ArrayFilter, exp.Transform)


def _pair_list(e: exp.Expression) -> tuple[exp.Expression, str, exp.Expression, exp.Expression]:
    """(source list, element variable, value, mask) of `TRANSFORM(L, x -> {v, m})`, or raise."""
    if not isinstance(e, exp.Transform):
        raise ValueError
    lam = e.expression
    if not isinstance(lam, exp.Lambda) or len(lam.expressions) != 1:
        raise ValueError
    body = lam.this
    if not isinstance(body, exp.Struct) or len(body.expressions) != 2:
        raise ValueError
    fields = {}
    for f in body.expressions:
        if not isinstance(f, exp.PropertyEQ):
            raise ValueError
        fields[f.this.name] = f.expression
    if set(fields) != {"v", "m"}:
        raise ValueError
    return e.this, lam.expressions[0].name, fields["v"], fields["m"]


def _element_reads(lam: exp.Lambda) -> list[tuple[exp.Expression, str]] | None:
    """Each read of a field (`v`, `m`) of a one-variable lambda's element: the node to replace
    and the field; None when the lambda reads its element any other way (whole, a field of
    another name, or under a lambda of its own)."""
    if len(lam.expressions) != 1 or any(True for _ in lam.this.find_all(exp.Lambda)):
        return None
    var = lam.expressions[0].name
    out: list[tuple[exp.Expression, str]] = []
    for ident in lam.this.find_all(exp.Identifier):
        if ident.name != var:
            continue
        parent = ident.parent
        node: exp.Expression
        if isinstance(parent, exp.Column) and parent.args.get("table") is ident:
            node, field = parent, parent.name  # `y.v` parsed as the column `v` of `y`
        elif isinstance(parent, exp.Column) and parent.this is ident and not parent.table:
            dot = parent.parent
            if not isinstance(dot, exp.Dot) or dot.this is not parent:
                return None
            node, field = dot, dot.expression.name
        elif isinstance(parent, exp.Dot) and parent.this is ident:
            node, field = parent, parent.expression.name
        else:
            return None
        if field not in ("v", "m"):
            return None
        out.append((node, field))
    return out


def _guarded(node: exp.Expression) -> bool:
    """Whether `node` lies in a branch of a CASE (so only some rows evaluate it), outside any
    lambda."""
    guarded = False
    child, parent = node, node.parent
    while parent is not None:
        if isinstance(parent, exp.Lambda):
            return False
        if isinstance(parent, exp.If) and parent.args.get("true") is child:
            guarded = True
        if isinstance(parent, exp.Case) and parent.args.get("default") is child:
            guarded = True
        child, parent = parent, parent.parent
    return guarded


def _column_reads(e: exp.Expression) -> dict[str, list[exp.Column]]:
    """Every unqualified column reference in `e`, by name, in the order a walk meets them."""
    found: dict[str, list[exp.Column]] = {}
    for c in e.find_all(exp.Column):
        if not c.table:
            found.setdefault(c.name, []).append(c)
    return found


def _root(node: exp.Expression) -> exp.Expression:
    while node.parent is not None:
        node = node.parent
    return node


def _rewrite(
    columns: Columns, readers: list[exp.Column], name: str, e: exp.Expression
) -> exp.Expression | None:
    """The values-only list for column `name` (readers rewritten in place), or None (and
    nothing changed) when a reader is of a kind this pass does not know."""
    try:
        source, var, value, mask = _pair_list(e)
    except ValueError:
        return None
    plans: list[tuple[exp.Expression, set[str]]] = []
    for c in readers:
        reader = c.parent
        if not isinstance(reader, LIST_READERS) or reader.this is not c:
            return None
        lam = reader.expression
        reads = _element_reads(lam) if isinstance(lam, exp.Lambda) else None
        if reads is None:
            return None
        read = {f for _, f in reads}
        if "m" in read and not _guarded(reader):
            return None
        plans.append((reader, read))
    for reader, read in plans:
        lam = reader.expression
        y = lam.expressions[0].name
        if "m" in read:  # recompute the pairs from the source list, in this branch only
            pairs = {"v": value, "m": mask}
            for node, field in _element_reads(lam) or []:
                _put(lam, node, exp.Paren(this=pairs[field].copy()))
            lam.set("expressions", [exp.to_identifier(var)])
            reader.set("this", source.copy())
        else:  # the element is the value
            for node, _ in _element_reads(lam) or []:
                _put(lam, node, exp.column(y))
            if isinstance(reader, exp.Transform) and lam.this == exp.column(y):
                _replace(columns, reader, exp.column(name))  # the values themselves
    return exp.Transform(
        this=source, expression=exp.Lambda(this=value, expressions=[exp.to_identifier(var)])
    )


def _put(lam: exp.Lambda, node: exp.Expression, new: exp.Expression) -> None:
    """Put `new` in the place of `node` inside the lambda (its whole body, it may be)."""
    if node is lam.this:
        lam.set("this", new)
    else:
        node.replace(new)


def _replace(columns: Columns, node: exp.Expression, new: exp.Expression) -> None:
    """Put `new` in the place of `node`, in its parent or as a whole column."""
    if node.parent is not None:
        node.replace(new)
        return
    for cols in columns.values():
        for i, (n, e) in enumerate(cols):
            if e is node:
                cols[i] = (n, new)


def lazy_masks(columns: Columns, hoisted: list[str]) -> int:
    """Rewrite the hoisted per-element lists in `columns` (keys `hoisted`) whose masks are
    read only in guarded branches; the number rewritten."""
    # the column references of each column, walked once and again only where a rewrite
    # changed that column (one walk per list column was most of compiling a large pack)
    reads = {
        (k, i): _column_reads(e) for k, cols in columns.items() for i, (_, e) in enumerate(cols)
    }
    place = {id(columns[k][i][1]): (k, i) for k, i in reads}
    done = 0
    for key in hoisted:
        cols = columns[key]
        if len(cols) != 1:
            continue
        name, e = cols[0]
        readers = [c for found in reads.values() for c in found.get(name, ())]
        touched = {place[id(_root(c))] for c in readers} | {(key, 0)}
        new = _rewrite(columns, readers, name, e)
        if new is not None:
            columns[key] = [(name, new)]
            done += 1
            for k, i in touched:  # the rewrite moved and copied readers in these columns
                root = columns[k][i][1]
                reads[k, i] = _column_reads(root)
                place[id(root)] = (k, i)
    return done
