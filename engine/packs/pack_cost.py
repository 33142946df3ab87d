"""Building, stage `cost`: the static cost of every expression of a pack, from the declared
bounds of its facts and the sizes of the names each expression reads (see engine.language.cost).

An expression over the limit is an error (E-COST-LIMIT), one over the softer threshold a
warning (W-COST-HIGH); both show the estimate, so a pack author sees how far over it is."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.language import cost as C
from engine.packs import model as M
from engine.packs.build_context import PackBuild
from engine.packs.facts_schema import facts_schema, root_types
from engine.problems import Problem, problem


@dataclass(frozen=True)
class ExprCost:
    """One expression's estimated cost, and where it stands in the pack file. `causes` are the
    costly expressions (over the warning threshold) it depends on through the names it reads,
    or itself alone when it is costly on its own account; `key` names it among them."""

    where: str
    line: int
    col: int
    cost: int
    key: int = 0
    causes: frozenset[int] = frozenset()


class _Sizes:
    """The size bound of every name a pack's expressions read, worked out on first use."""

    def __init__(
        self,
        definitions: Mapping[str, M.Definition],
        outputs: Mapping[str, M.Output],
        tables: Mapping[str, M.Table],
        rules: tuple[M.Rule, ...] | list[M.Rule],
        parameters: Mapping[str, M.Parameter],
        vocabulary: Mapping[str, M.Vocabulary],
        facts: str,
    ):
        self.definitions = definitions
        self.outputs = outputs
        self.tables = tables
        self.rules = rules
        self.known: dict[str, C.Size] = {}
        self.costs: dict[int, C.Estimate] = {}
        self.taint: dict[str, frozenset[int]] = {}  # name -> the costly expressions behind it
        schema = facts_schema(facts)
        props = schema.get("properties", {})
        for root, t in root_types(facts).items():
            node = props.get(root)
            self.known[root] = C.of_json_schema(node if isinstance(node, Mapping) else {}, t)
        for name, param in parameters.items():
            size = C.ONE
            for pv in param.values:
                size = C.join(size, C.of_value(pv.value))
            self.known[name] = size
        for name, vocab in vocabulary.items():
            self.known[name] = C.of_value([v.id for v in vocab.values])

    def estimate(self, expr: M.Expression) -> C.Estimate:
        found = self.costs.get(id(expr))
        if found is None:
            found = self.costs[id(expr)] = C.estimate(expr.checked, self.size)
        return found

    def causes(self, expr: M.Expression) -> frozenset[int]:
        """The costly expressions behind this one: those behind the names it reads, or (when
        there are none) itself, if it is costly."""
        behind: frozenset[int] = frozenset()
        for name in sorted(expr.checked.names):
            self.size(name)
            behind |= self.taint.get(name, frozenset())
        if not behind and self.estimate(expr).cost > C.COST_WARN:
            return frozenset((id(expr),))
        return behind

    def size(self, name: str) -> C.Size | None:
        if name in self.known:
            return self.known[name]
        self.known[name] = C.ONE  # a cycle cannot pass the checks; this only guards against one
        size: C.Size | None = None
        producers: list[M.Expression] = []
        if name in self.definitions:
            producers = [self.definitions[name].expr]
            size = self.estimate(producers[0]).size
        elif name in self.outputs:
            size, producers = self._output(self.outputs[name])
        if size is None:
            del self.known[name]
            return None
        self.known[name] = size
        taint: frozenset[int] = frozenset()
        for e in producers:
            taint |= self.causes(e)
        self.taint[name] = taint
        return size

    def _output(self, out: M.Output) -> tuple[C.Size, list[M.Expression]]:
        """An output's size bound, and the expressions that produce its value."""
        exprs = [out.default] if out.default is not None else []
        parts = [self.estimate(e).size for e in exprs]
        if out.mode == "value" and out.expr is not None:
            return _joined([*parts, self.estimate(out.expr).size]), [*exprs, out.expr]
        if out.mode == "rules":
            setters = [e for r in self.rules for o, e in r.sets if o == out.name]
            each = _joined([self.estimate(e).size for e in setters])
            if out.combine == "collect":
                each = C.Size(max(len(setters), 1), each)
            elif out.combine == "any":
                each = C.ONE
            return _joined([*parts, each]), [*exprs, *setters]
        table = self.tables.get(out.table or "")
        if table is None:
            return _joined(parts), exprs
        cells = [e for row in table.rows for col, e in row.then if col == out.name]
        each = _joined([self.estimate(e).size for e in cells])
        if table.hit == "collect":
            each = C.Size(max(len(table.rows), 1), each)
        return _joined([*parts, each]), [*exprs, *cells]


def _joined(sizes: list[C.Size]) -> C.Size:
    out = C.ONE
    for s in sizes:
        out = C.join(out, s)
    return out


def expression_costs(
    definitions: Mapping[str, M.Definition],
    outputs: Mapping[str, M.Output],
    tables: Mapping[str, M.Table],
    rules: tuple[M.Rule, ...] | list[M.Rule],
    parameters: Mapping[str, M.Parameter],
    vocabulary: Mapping[str, M.Vocabulary],
    facts: str = "facts",
) -> list[ExprCost]:
    """The estimated cost of every expression of a pack, in the pack's order."""
    sizes = _Sizes(definitions, outputs, tables, rules, parameters, vocabulary, facts)
    return [
        ExprCost(e.where, e.line, e.col, sizes.estimate(e).cost, id(e), sizes.causes(e))
        for _, e in M.item_expressions(definitions, outputs, tables, rules)
    ]


def pack_costs(pack: M.Pack) -> list[ExprCost]:
    """The estimated cost of every expression of a loaded pack."""
    return expression_costs(
        pack.definitions,
        pack.outputs,
        pack.tables,
        pack.rules,
        pack.parameters,
        pack.vocabulary,
        pack.facts,
    )


def check_costs(b: PackBuild) -> None:
    """The `cost` stage: each expression of the pack being built estimated, and a problem for
    each that is too costly, placed where the expression stands (a local plan's expression in
    the plan's own file)."""
    costs = expression_costs(
        b.definitions, b.outputs, b.tables, b.rules, b.parameters, b.vocabulary, b.facts_schema
    )
    paths = {p.where: p.path for parsed in b.parsed.values() for p in parsed}

    def place(c: ExprCost) -> tuple[str, int, int]:
        path = paths.get(c.where)
        if path is None:
            return b.file, c.line, c.col
        span = b.doc.span(path)
        return span.file, span.line, span.col

    b.problems.extend(cost_problems(b.file, costs, place))


def cost_problems(
    file: str,
    costs: list[ExprCost],
    place: Callable[[ExprCost], tuple[str, int, int]] | None = None,
) -> list[Problem]:
    """One problem for each expression that is costly on its own account (not merely by
    reading a costly name): E-COST-LIMIT when it, or anything that reads it, is over the
    limit; else W-COST-HIGH when it is over the softer threshold. The message shows its
    estimate, and the worst among the expressions it makes costly, so one mistake is reported
    once, where it is made, with how far it reaches."""
    out: list[Problem] = []
    hint = (
        "bound the lists and texts it reads (`maxItems`, `maxLength` in the facts schema), "
        "avoid quantifiers nested over long lists, and values that grow through definitions"
    )
    for c in costs:
        if c.causes != {c.key}:
            continue
        later = [d for d in costs if c.key in d.causes and d.key != c.key]
        worst = max(later, key=lambda d: d.cost, default=None)
        message = f"{c.where} may take about {C.describe(c.cost)} steps to evaluate"
        if worst is not None and worst.cost > c.cost:
            message += (
                f", and {len(later)} expression(s) reading it up to {C.describe(worst.cost)} "
                f"({worst.where})"
            )
        where, line, col = place(c) if place is not None else (file, c.line, c.col)
        if max(c.cost, worst.cost if worst else 0) > C.COST_LIMIT:
            message += f"; the limit is {C.describe(C.COST_LIMIT)}"
            out.append(problem("E-COST-LIMIT", where, line, col, message, hint))
        else:
            message += f" (warning above {C.describe(C.COST_WARN)})"
            out.append(problem("W-COST-HIGH", where, line, col, message, hint))
    return out


def summary(costs: list[ExprCost]) -> dict[str, Any]:
    """The largest and the total estimated cost: what `regime check --costs` shows."""
    worst = max(costs, key=lambda c: c.cost, default=None)
    return {
        "expressions": len(costs),
        "max": worst.cost if worst else 0,
        "max_at": worst.where if worst else None,
        "total": sum(c.cost for c in costs),
    }
