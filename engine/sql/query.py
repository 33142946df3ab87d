"""A whole pack as one SQL query over a table of facts, one decision per row.

The query is a chain of common table expressions. The first selects the facts and works out
the version in force on each row's `as_of`; each later one adds the columns of the pack items
(definitions, rule conditions, tables, outputs) whose inputs the earlier ones computed, a value
and a mask each (see `engine.sql.expressions`). The last gathers a decision: the outputs the
audience may see, the status, the obligations that apply, the undetermined items and the
missing facts.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass, field

from sqlglot import exp

from engine.evaluation.decision import AUDIENCES
from engine.language import static_types as T
from engine.language import syntax as A
from engine.language.check import Checked
from engine.language.runtime import WITHHELD
from engine.packs import model as M
from engine.packs.facts_schema import is_healthcare_path
from engine.sql.bounds import constant_bounds
from engine.sql.builders import unshare
from engine.sql.expressions import (
    SV,
    ZERO,
    Err,
    ExprCompiler,
    PathBits,
    Scope,
    bor,
    case,
    const,
    covers,
    edge_error,
    error_if,
    first_error,
    grows,
    is_null,
    is_true,
    is_zero,
    lam,
    list_filter,
    list_map,
    list_size,
    may_err,
    no_error,
    not_null,
    num,
    param_missing,
    rules_error,
    struct,
    table_error,
    typed_null,
    with_error,
    within_budget,
)
from engine.sql.inline import inline_single_use
from engine.sql.lazy_masks import lazy_masks
from engine.sql.repeated_tests import simplify_columns
from engine.sql.types import Unsupported, cast, sql_type

WITHHELD_MARKER = next(iter(WITHHELD.paths))  # what a custodial audience sees of a clinical gap

DECISION_COLUMNS = (
    "record",
    "as_of",
    "pack",
    "version",
    "policy_version",
    "content_hash",
    "status",
    "undetermined",
    "missing_facts",
    "obligations",
    "error",
)


@dataclass
class CompiledPack:
    """The query for a pack and what a reader needs to turn its rows back into decisions."""

    pack: M.Pack
    audience: str
    dialect: str
    query: exp.Expression
    outputs: dict[str, T.Type]  # the visible outputs, in pack order, with their types
    withheld: tuple[str, ...]
    paths: list[str] = field(default_factory=list)

    def sql(self, pretty: bool = True) -> str:
        return self.query.sql(dialect=self.dialect, pretty=pretty)


def col_name(kind: str, name: str) -> str:
    return f"{kind}__{re.sub(r'[^A-Za-z0-9_]', '_', name)}"


def no_such_outputs(pack: M.Pack, unknown: list[str]) -> str:
    """The error for `--outputs` naming outputs the pack does not have, with those it has."""
    names = ", ".join(f"`{n}`" for n in unknown)
    return f"pack `{pack.id}` has no output {names}; its outputs: " + ", ".join(pack.outputs)


class PackCompiler:
    """Builds the query for one pack; raises `Unsupported` naming the item and construct."""

    def __init__(
        self,
        pack: M.Pack,
        audience: str = "custodial",
        dialect: str = "duckdb",
        facts_table: str = "facts",
        outputs: list[str] | None = None,
        facts_schema: str | None = None,
        values_only: bool = False,
    ):
        if audience not in AUDIENCES:
            raise ValueError(f"unknown audience {audience}")
        self.pack = pack
        self.audience = audience
        self.dialect = dialect
        self.facts_table = facts_table
        self.only = outputs
        self.values_only = values_only  # the outputs' values, without the rest of a decision
        self.facts_schema = facts_schema or pack.facts  # by default the pack's own schema
        self.bits = PathBits()
        self.svs: dict[str, SV] = {}  # item key -> value of its column
        self.by_column: dict[str, list[str]] = {}  # column name -> the keys in svs named so
        self.indexed = 0  # how many keys of svs are in by_column
        self.level: dict[str, int] = {}
        self.rule_by_id = {r.id: r for r in pack.rules}
        self.columns: dict[str, list[tuple[str, exp.Expression]]] = {}  # key -> columns
        self.types: dict[str, T.Type] = {}
        self.probes: list[tuple[str, exp.Expression]] = []  # extra result columns
        self.row_parts: dict[exp.Expression, exp.Expression] = {}  # see _row_parts
        # dates moved by bounded durations, tested once per row (see Scope.edges)
        self.edges: dict[str, tuple[exp.Expression, dt.timedelta]] = {}

    # -- names -----------------------------------------------------------------------------

    def name_sv(self, name: str) -> SV:
        pack = self.pack
        if name in pack.parameters:
            return self.parameter(pack.parameters[name])
        if name in pack.vocabulary:
            ids = [v.id for v in pack.vocabulary[name].values]
            kind = "int" if all(isinstance(i, int) for i in ids) else "string"
            t = T.list_of(T.Type(kind))
            return SV(const(ids, t), ZERO.copy(), t)
        key = ("def:" if name in pack.definitions else "out:") + name
        self._place(key)
        return self.svs[key]

    def parameter(self, param: M.Parameter) -> SV:
        values = param.values
        if not values:
            raise Unsupported(f"parameter `{param.name}`", "no values")
        t = T.type_of_value(values[0].value)
        if len(values) == 1 and values[0].start is None and values[0].end is None:
            return SV(const(M.thawed(values[0].value), t), ZERO.copy(), t)
        whens = []
        as_of = exp.column("as_of")
        for pv in values:
            conds: list[exp.Expression] = []
            if pv.start is not None:
                conds.append(exp.GTE(this=as_of.copy(), expression=const(pv.start)))
            if pv.end is not None:
                conds.append(exp.LTE(this=as_of.copy(), expression=const(pv.end)))
            cond: exp.Expression = exp.true()
            for c in conds:
                cond = c if cond == exp.true() else exp.And(this=cond, expression=c)
            whens.append((cond, const(M.thawed(pv.value), t)))
        gap = None  # a day a version covers and no value does: the interpreter's E-EVAL-PARAM
        if not covers(values, self.pack.versions):
            gap = case(
                [(c, no_error()) for c, _ in whens],
                param_missing(param.name, exp.column("as_of")),
            )
        return SV(case(whens, typed_null(t)), ZERO.copy(), t, e=gap)

    def scope(self, e: M.Expression) -> Scope:
        origin = f"{self.pack.file}: {e.where}"  # as a run-time error of the interpreter says
        return Scope(
            self.name_sv,
            self.bits,
            self.dialect,
            hoist=self.hoist,
            origin=origin,
            pack=self.pack.id,
            consts=constant_bounds(self.pack.parameters),
            definition=self._definition,
            # healthcare-only work is withheld, not an error, for a custodial audience where
            # it fails: its moves are tested where they are made, so that the failure is the
            # item's (see _guard_error), never the row's hand-over to the interpreter
            edges=None if self.audience != "healthcare" and e.healthcare else self.edges,
        )

    def _definition(self, name: str) -> Checked | None:
        """A definition's checked expression (the text of a decimal it works out reads it)."""
        d = self.pack.definitions.get(name)
        return None if d is None else d.expr.checked

    def expr(self, e: M.Expression, where: str) -> SV:
        scope = self.scope(e)
        try:
            return ExprCompiler(e.checked, scope).compile()
        except Unsupported as u:
            if u.line:  # a position inside the expression, placed in the pack file
                line = e.line + u.line - 1
                col = e.col + u.col - 1 if u.line == 1 else u.col
            else:
                line, col = e.line, e.col
            raise Unsupported(f"{where}: {u.construct}", u.why, line, col) from None

    def hoist(self, e: exp.Expression) -> exp.Expression:
        """A row-level expression as a column of its own, one level above what it reads, so
        that every use reads it and the row computes it once."""
        e = e.copy()  # rewritten in place below, and its parts may stand elsewhere too
        for part in _row_parts(e):  # inside its lambdas, what reads the row alone: once
            if part not in self.row_parts:
                self.row_parts[part.copy()] = self.hoist(part.copy())
            part.replace(self.row_parts[part].copy())
        key = f"aux:{len(self.columns) + 1}"
        c = col_name(*key.split(":", 1))
        used = {col.name for col in e.find_all(exp.Column)}
        reads = self._reads(used)
        self.level[key] = 1 + max((self.level[k] for k in reads), default=0)
        self.columns[key] = [(c, e)]
        self.svs[key] = SV(exp.column(c), ZERO.copy(), T.ANY)
        return exp.column(c)

    def probe(self, name: str, e: M.Expression, node: A.Node) -> T.Type:
        """A part of an expression (outside any quantifier) as an extra column of the result,
        e.g. a date a decision turns on; the items it reads are placed as usual."""
        sv = ExprCompiler(e.checked, self.scope(e)).gen(node)
        self.probes.append((name, sv.v))
        return sv.t

    # -- items -----------------------------------------------------------------------------

    def store(self, key: str, sv: SV) -> None:
        c = col_name(*key.split(":", 1))
        self.columns[key] = [(c, sv.v), (c + "__m", sv.m)]
        if sv.e is not None:  # the item may stop the decision: its error beside it
            self.columns[key].append((c + "__e", sv.e))
        self.types[key] = sv.t
        m = exp.column(c + "__m") if not is_zero(sv.m) else ZERO.copy()
        e = exp.column(c + "__e") if sv.e is not None else None
        self.svs[key] = SV(exp.column(c), m, sv.t, sv.bits, facts=sv.facts, e=e)

    def _def(self, name: str) -> SV:
        d = self.pack.definitions[name]
        return self.expr(d.expr, f"definition `{name}`")

    def _rule(self, rid: str) -> SV:
        rule = self.rule_by_id[rid]
        when = (
            SV(exp.true(), ZERO.copy(), T.BOOL)
            if rule.when is None
            else self.expr(rule.when, f"rule {rid} when")
        )
        if rule.versions:
            in_force = exp.In(
                this=exp.column("policy_version"),
                expressions=[exp.Literal.string(v) for v in rule.versions],
            )
            return SV(
                case([(in_force, when.v)], exp.false()),
                case([(in_force, when.m)], ZERO.copy()) if not is_zero(when.m) else ZERO.copy(),
                T.BOOL,
                when.bits,
                e=None if when.e is None else error_if(in_force, when.e),
            )
        return when

    def _table(self, tid: str) -> SV:
        table = self.pack.tables[tid]
        inputs = {
            n: self._guard_error(e.healthcare, self.expr(e, f"table {tid} input {n}"))
            for n, e in table.inputs
        }
        # every input is worked out before a row is matched: the first error is the table's
        return with_error(self._rows(table, inputs), first_error(*(i.e for i in inputs.values())))

    def _rows(self, table: M.Table, inputs: dict[str, SV]) -> SV:
        verdicts: list[tuple[exp.Expression, exp.Expression]] = []
        for row in table.rows:
            tests: list[exp.Expression] = []
            masks: list[exp.Expression] = []
            for name, allowed in row.cells:
                if allowed is None:
                    continue
                iv = inputs[name]
                vals = sorted(allowed, key=repr)
                tests.append(exp.In(this=iv.v.copy(), expressions=[const(a) for a in vals]))
                masks.append(iv.m)
            v: exp.Expression = exp.true()
            for t in tests:
                v = t if v == exp.true() else exp.And(this=v, expression=t)
            verdicts.append((exp.Paren(this=v), bor(*masks)))
        bits = frozenset().union(*(i.bits for i in inputs.values())) if inputs else frozenset()
        if table.hit == "collect":
            return _collect_rows(verdicts, bits)
        if table.hit == "first":
            whens: list[tuple[exp.Expression, exp.Expression]] = []
            mwhens: list[tuple[exp.Expression, exp.Expression]] = []
            for i, (v, m) in enumerate(verdicts, 1):
                whens += [(is_null(v), exp.Null()), (v, num(i))]
                mwhens += [(is_null(v), m), (v, ZERO.copy())]
            return SV(case(whens, ZERO.copy()), case(mwhens, ZERO.copy()), T.INT, bits)
        pending: exp.Expression = exp.false()
        for v, _ in verdicts:
            pending = (
                exp.Or(this=pending, expression=is_null(v))
                if pending != exp.false()
                else is_null(v)
            )
        chosen = case(
            [(pending, exp.Null())] + [(v, num(i)) for i, (v, _) in enumerate(verdicts, 1)],
            ZERO.copy(),
        )
        mask = bor(*(case([(is_null(v), m)], ZERO.copy()) for v, m in verdicts if not is_zero(m)))
        return SV(chosen, mask, T.INT, bits)

    def _out(self, name: str) -> SV:
        out = self.pack.outputs[name]
        where = f"output `{name}`"
        default = self.expr(out.default, where + " default") if out.default else None
        if out.mode == "value":
            assert out.expr is not None
            return self.expr(out.expr, where)
        if out.mode == "rules":
            return self._from_rules(out, default)
        return self._from_table(out, default)

    def _from_rules(self, out: M.Output, default: SV | None) -> SV:
        setters = []
        for rule in self.pack.rules:
            e = next((e for o, e in rule.sets if o == out.name), None)
            if e is not None:
                self._place("rule:" + rule.id)
                when = self.svs["rule:" + rule.id]
                setters.append((when, self.expr(e, f"rule {rule.id} sets {out.name}")))
        types = [s.t for _, s in setters]
        t = _join(types) if types else T.NULL
        bits = frozenset().union(*(w.bits | s.bits for w, s in setters)) if setters else frozenset()
        if out.combine == "any":
            v: exp.Expression = exp.false()
            ms = []
            for w, _ in setters:
                v = (
                    exp.Or(this=v, expression=exp.Paren(this=w.v.copy()))
                    if v != exp.false()
                    else exp.Paren(this=w.v.copy())
                )
                ms.append(case([(is_null(w.v), w.m)], ZERO.copy()))
            m = case([(is_null(v), bor(*ms))], ZERO.copy()) if ms else ZERO.copy()
            err = rules_error(setters, "any", default)
            return SV(exp.Paren(this=v), m, T.BOOL, bits, e=err)
        if out.combine == "first":
            whens: list[tuple[exp.Expression, exp.Expression]] = []
            mwhens: list[tuple[exp.Expression, exp.Expression]] = []
            for w, s in setters:
                whens += [(is_null(w.v), typed_null(t)), (w.v, s.v)]
                mwhens += [(is_null(w.v), w.m), (w.v, s.m)]
            none_v = default.v if default else typed_null(t)
            none_m = default.m if default else ZERO.copy()
            tt = t if default is None else _join([t, default.t])
            return SV(
                case(whens, none_v),
                case(mwhens, none_m),
                tt,
                bits | (default.bits if default else frozenset()),
                e=rules_error(setters, "first", default),
            )
        # collect: the values of the rules that apply, in order, unless one is pending
        lt = T.list_of(t)
        if not setters:
            return default if default is not None else SV(const([], lt), ZERO.copy(), lt)
        any_pending: exp.Expression = is_null(setters[0][0].v)
        for w, _ in setters[1:]:
            any_pending = exp.Or(this=any_pending, expression=is_null(w.v))
        # each rule's value with whether it applies; those that apply, in rule order
        chosen = _applying(
            [(is_true(w.v), _typed(s.v, t)) for w, s in setters], self.dialect == "duckdb"
        )
        if default is not None:
            chosen, _ = _default_when_empty(chosen, default.v, lt)
        v = case([(exp.Paren(this=any_pending), typed_null(lt))], chosen)
        pend_m = bor(
            *(case([(is_null(w.v), w.m)], ZERO.copy()) for w, _ in setters if not is_zero(w.m))
        )
        elem_m = bor(
            *(case([(is_true(w.v), s.m)], ZERO.copy()) for w, s in setters if not is_zero(s.m))
        )
        m = case([(exp.Paren(this=any_pending), pend_m)], elem_m)
        return SV(v, m, lt, bits, e=rules_error(setters, "collect", default))

    def _from_table(self, out: M.Output, default: SV | None) -> SV:
        tid = str(out.table)
        table = self.pack.tables[tid]
        self._place("table:" + tid)
        row = self.svs["table:" + tid]
        whens: list[tuple[exp.Expression, exp.Expression]] = []
        mwhens: list[tuple[exp.Expression, exp.Expression]] = []
        types = []
        vals = []
        for i, r in enumerate(table.rows, 1):
            for c, e in r.then:
                if c == out.name:
                    sv = self.expr(e, f"table {tid} row {r.id} {c}")
                    vals.append((i, sv))
                    types.append(sv.t)
        err = table_error(row, vals, table.hit == "collect", default)
        if table.hit == "collect":
            t = _join(types) if types else T.NULL
            return with_error(_collect_values(row, vals, t, default, self.dialect == "duckdb"), err)
        t = _join(types + ([default.t] if default else [])) if types else T.NULL
        for i, sv in vals:
            v = sv.v if not isinstance(sv.v, exp.Null) else typed_null(t)
            if sv.t != t and t.kind == "record":
                v = cast(v, sql_type(t))
            whens.append((exp.EQ(this=row.v.copy(), expression=num(i)), v))
            mwhens.append((exp.EQ(this=row.v.copy(), expression=num(i)), sv.m))
        none_v = default.v if default else typed_null(t)
        none_m = default.m if default else ZERO.copy()
        v = case([(is_null(row.v), typed_null(t))] + whens, none_v)
        m = case([(is_null(row.v), row.m)] + mwhens, none_m)
        bits = row.bits | frozenset().union(*(sv.bits for _, sv in vals)) if vals else row.bits
        return SV(v, m, t, bits | (default.bits if default else frozenset()), e=err)

    # -- the query ---------------------------------------------------------------------------

    def compile(self) -> CompiledPack:
        pack = self.pack
        self.rule_by_id = {r.id: r for r in pack.rules}
        custodial = self.audience != "healthcare"
        visible = [n for n, o in pack.outputs.items() if not (custodial and o.custodial_withheld)]
        withheld = tuple(n for n in pack.outputs if n not in visible)
        if self.only is not None:
            unknown = [n for n in self.only if n not in pack.outputs]
            if unknown:
                raise ValueError(no_such_outputs(pack, unknown))
            shown = [n for n in visible if n in self.only]
        else:
            shown = visible
        clash = [n for n in shown if n in DECISION_COLUMNS or "__" in n]
        if clash:
            raise Unsupported(f"output `{clash[0]}`", "its name is a decision column")
        for n in shown:
            self._place("out:" + n)
        rules = [
            r
            for r in pack.rules
            if not (custodial and r.healthcare and not (r.obligation and r.obligation.releasable))
        ]
        if self.only is None:
            for r in rules:
                self._place("rule:" + r.id)
        consts = constant_bounds(pack.parameters)
        if any(may_err(e.checked, consts) or grows(e.checked) for _, e in pack.expressions()):
            # the first error the interpreter's roots meet (every output, then every rule, each
            # with what it reads on the branch it takes) stops the decision: each root is
            # placed, so that the query sees it too (a definition's error counts only where a
            # root reads it: its error column is part of the reader's where it is reached)
            for n, o in pack.outputs.items():
                if not (custodial and o.healthcare):
                    self._place("out:" + n)
            for r in rules:
                self._place("rule:" + r.id)
        obligations = []
        if self.only is None:
            for r in rules:
                if r.obligation is None:
                    continue
                ob = r.obligation
                due = self._side(ob.due, f"rule {r.id} due") if ob.due else None
                freq = self._side(ob.frequency, f"rule {r.id} frequency") if ob.frequency else None
                obligations.append((r, due, freq))
        # the passes below rewrite trees in place: every place its own node first
        for cols in self.columns.values():
            for i, (c, e) in enumerate(cols):
                if e.parent is not None:  # a column's value is a root of its own
                    e = e.copy()
                    cols[i] = (c, e)
                unshare(e)
        # the per-element lists whose masks only an undecided row reads: values alone
        lazy_masks(self.columns, [k for k in self.columns if k.startswith("aux:")])
        # a test repeated inside a branch that has already decided it: taken out
        simplify_columns(self.columns)
        # -- assemble the chain of CTEs --
        top = max(self.level.values(), default=0)
        base = exp.select(
            exp.column("record"),
            exp.column("as_of"),
            *[exp.column(root) for root in self._roots()],
            exp.alias_(self._version_expr(), "policy_version"),
        ).from_(self.facts_table)
        if self.values_only:
            tail: list[tuple[str, exp.Expression]] = []
            final = self._values(shown, obligations, f"level_{top}")
        else:
            tail, final = self._final(shown, rules, obligations, f"level_{top}", f"level_{top + 1}")
        for q in [final, *(q for _, q in tail)]:
            unshare(q)
        # the columns read once folded into their reader (so the engine can short-circuit
        # them), those read by nothing dropped
        kept = inline_single_use(self.columns, [final, *(q for _, q in tail)])
        ctes: list[tuple[str, exp.Expression]] = [("level_0", base)]
        for lvl in range(1, top + 1):
            cols = [
                exp.alias_(v, c, quoted=True, copy=False)  # each column's value is used once
                for key in self.columns
                if self.level[key] == lvl
                for c, v in self.columns[key]
                if c in kept
            ]
            if cols or lvl == top:  # a level left empty by the folding is skipped
                below = ctes[-1][0]
                ctes.append((f"level_{lvl}", exp.select("*", *cols).from_(below, copy=False)))
        ctes += tail
        query = final
        for name, q in ctes:  # each part is new: no copies of the growing query
            # the flat decision is read by the final select and by each lookup table: DuckDB
            # computes it once when told to (Spark's SQL has no such keyword)
            once = True if name == "decided" and self.dialect == "duckdb" else None
            query = query.with_(name, as_=q, copy=False, materialized=once)
        unshare(query)  # (the folding above may place a column's value in two readers)
        if self.dialect == "duckdb":
            _element_fields_parenthesised(query)
            _coded_rows_indexed(query)
        out_types = {n: self.types["out:" + n] for n in shown}
        return CompiledPack(
            pack, self.audience, self.dialect, query, out_types, withheld, list(self.bits.paths)
        )

    def _values(
        self,
        shown: list[str],
        obligations: list[tuple[M.Rule, SV | None, SV | None]],
        source: str,
    ) -> exp.Select:
        """The outputs' values alone (and the probes), for a reader that needs nothing else of
        the decision: no mask is computed, no list built, no lookup joined. A decision that
        stops with a run-time error has no outputs, as in the whole query."""
        pack = self.pack
        error = self._decision_error(obligations)
        cols: list[exp.Expression] = [
            exp.column("record"),
            exp.column("as_of"),
            exp.alias_(exp.Literal.string(pack.id), "pack"),
            exp.alias_(exp.Literal.string(pack.version), "version"),
            exp.column("policy_version"),
            exp.alias_(exp.Literal.string(pack.content_hash), "content_hash"),
        ]
        for n in shown:
            v = decided_only(error, self.svs["out:" + n].v.copy())
            cols.append(exp.alias_(v, n, quoted=True))
        cols += [exp.alias_(v.copy(), n, quoted=True) for n, v in self.probes]
        return exp.select(*cols).from_(source, copy=False)

    def _side(self, e: M.Expression, where: str) -> SV:
        """An expression evaluated in the final select (obligation due dates, frequencies)."""
        return self.expr(e, where)

    def _place(self, key: str) -> None:
        """Compile an item once, one level above every item whose columns its SQL reads."""
        if key in self.svs:
            return
        if key in self.level:
            raise Unsupported(key, "a cycle between items")
        self.level[key] = -1
        kind, _, name = key.partition(":")
        sv = getattr(self, "_" + kind)(name)
        if kind in ("def", "out") and any(grows(e.checked) for e in self._exprs(kind, name)):
            sv = within_budget("definition" if kind == "def" else "output", name, sv)
        sv = self._guard_error(self._healthcare(kind, name), sv)
        reads = self._reads(_column_names(sv))
        self.level[key] = 1 + max((self.level[k] for k in reads), default=0)
        self.store(key, self._withheld(kind, name, sv))

    def _reads(self, used: set[str]) -> list[str]:
        """The items (and hoisted columns) whose columns are among `used`: an item's value, mask
        or error column (a part hoisted out of a lambda may read the error alone)."""
        for k in itertools.islice(self.svs, self.indexed, None):  # the items new since last time
            c = col_name(*k.split(":", 1))
            for name in (c, c + "__m", c + "__e"):
                self.by_column.setdefault(name, []).append(k)
        self.indexed = len(self.svs)
        return [k for c in used for k in self.by_column.get(c, ())]

    def _exprs(self, kind: str, name: str) -> list[M.Expression]:
        """The expressions that give a definition's or an output's value."""
        if kind == "def":
            return [self.pack.definitions[name].expr]
        out = self.pack.outputs[name]
        found = [e for e in (out.expr, out.default) if e is not None]
        found += [e for r in self.pack.rules for o, e in r.sets if o == name]
        if out.table is not None:
            table = self.pack.tables[str(out.table)]
            found += [e for row in table.rows for c, e in row.then if c == name]
        return found

    def _healthcare(self, kind: str, name: str) -> bool:
        if kind == "def":
            return self.pack.definitions[name].expr.healthcare
        if kind == "out":
            return self.pack.outputs[name].healthcare
        if kind == "rule":
            return self.rule_by_id[name].healthcare
        return False

    def _guard_error(self, healthcare: bool, sv: SV) -> SV:
        """As the interpreter guards healthcare-only work for a custodial audience: a value
        that cannot be worked out is withheld (unknown, with the fixed marker), not an error
        (which would tell whether it could be)."""
        if sv.e is None or not healthcare or self.audience == "healthcare":
            return sv
        erred = not_null(sv.e)
        bit = self.bits.bit(WITHHELD_MARKER)
        v = case([(erred, typed_null(sv.t))], sv.v)
        m = case([(erred, num(bit))], sv.m)
        return SV(v, m, sv.t, sv.bits | {bit}, facts=sv.facts)

    def _withheld(self, kind: str, name: str, sv: SV) -> SV:
        """As the interpreter does for a custodial audience: a healthcare-only rule's unknown,
        and a released output's, needs only the fixed marker, never the facts behind it. A
        released output without a value is undetermined whatever made it so (an unknown fact
        or the decided no-value, such as the latest of no dates): which it was would tell how
        the value was reached."""
        if self.audience == "healthcare":
            return sv
        released = kind == "out" and self.pack.outputs[name].releasable
        if is_zero(sv.m) and not released:
            return sv
        if kind == "rule":
            hidden = self.rule_by_id[name].healthcare
        else:
            hidden = released
        if not hidden:
            return sv
        bit = self.bits.bit(WITHHELD_MARKER)
        pending: exp.Expression = exp.NEQ(this=sv.m.copy(), expression=ZERO.copy())
        if released:
            pending = exp.Or(this=pending, expression=is_null(sv.v))
        m = case([(pending, num(bit))], ZERO.copy())
        return SV(sv.v, m, sv.t, frozenset({bit}), sv.facts, e=sv.e)

    def _roots(self) -> list[str]:
        from engine.packs.facts_schema import root_types

        used: set[str] = set()
        for d in self.pack.definitions.values():
            used |= d.expr.checked.roots
        for o in self.pack.outputs.values():
            for e in (o.expr, o.default):
                if e is not None:
                    used |= e.checked.roots
        for r in self.pack.rules:
            for e in [r.when, *(x for _, x in r.sets)]:
                if e is not None:
                    used |= e.checked.roots
            if r.obligation:
                for e in (r.obligation.due, r.obligation.frequency):
                    if e is not None:
                        used |= e.checked.roots
        for t in self.pack.tables.values():
            for _, e in t.inputs:
                used |= e.checked.roots
            for row in t.rows:
                for _, e in row.then:
                    used |= e.checked.roots
        return [r for r in root_types(self.facts_schema) if r in used]

    def _version_expr(self) -> exp.Expression:
        whens = []
        as_of = exp.column("as_of")
        for v in self.pack.versions:
            cond: exp.Expression = exp.GTE(this=as_of.copy(), expression=const(v.effective_from))
            if v.effective_to is not None:
                cond = exp.And(
                    this=cond,
                    expression=exp.LTE(this=as_of.copy(), expression=const(v.effective_to)),
                )
            whens.append((cond, exp.Literal.string(v.id)))
        return case(whens, cast(exp.Null(), "VARCHAR"))

    def _final(
        self,
        shown: list[str],
        rules: list[M.Rule],
        obligations: list[tuple[M.Rule, SV | None, SV | None]],
        source: str,
        masked: str,
    ) -> tuple[list[tuple[str, exp.Expression]], exp.Select]:
        """The decision, in flat columns first and lists last.

        A CTE `masked` (over `source`) computes the rule and decision masks once; the next,
        `decided`, keeps only what the result needs, the per-row decision as scalars: the
        outputs, one bit per undetermined item (`__und_N`), the missing facts' mask
        (`__missing`), one bit per obligation that holds (`__ob_N`) and the due dates and
        frequencies that vary by row. The lists (undetermined, missing facts, obligations)
        are decoded once per distinct combination of those scalars, in small lookup tables
        joined back on them: a population has few distinct combinations, so no list is built
        for every row."""
        pack = self.pack
        mask_cols: list[exp.Expression] = []

        def once(name: str, e: exp.Expression) -> exp.Expression:
            if is_zero(e) or isinstance(e, exp.Column):
                return e
            mask_cols.append(exp.alias_(e, name, quoted=True))
            return exp.column(name, quoted=True)

        # the run-time error that stops the decision, if the pack can meet one
        found = self._decision_error(obligations)
        edge = edge_error(self.edges)  # before any other: the interpreter decides such a row
        found = found if edge is None else first_error(edge, found)
        error = once("__error", found) if found is not None else None
        flat: list[exp.Expression] = [
            exp.column("record"),
            exp.column("as_of"),
            exp.column("policy_version"),
        ]
        if error is not None:
            flat.append(exp.alias_(error, "__error", quoted=True))
        exprs = {c: e for cols in self.columns.values() for c, e in cols}
        items = _Items(exprs)
        fixed: dict[str, exp.Expression] = {}  # outputs the same on every row: in the last select
        for n in shown:  # a decision that stopped has no outputs
            v = self.svs["out:" + n].v
            if self.dialect == "duckdb":  # with an error too: NULL where it stopped (below)
                if not items.reads_row(v):
                    # not kept row by row in the flat decision; its texts as codes
                    fixed[n] = _coded_fields(_resolved(v, exprs))
                    continue
                v = self._string_codes(v, v, items)
            flat.append(exp.alias_(decided_only(error, v.copy()), n, quoted=True, copy=False))
        flat += [exp.alias_(v.copy(), n, quoted=True) for n, v in self.probes]
        # the items that may be undetermined, in the decision's order, each with its mask
        und: list[tuple[str, exp.Expression]] = []
        und_masks: list[exp.Expression] = []
        miss_masks: list[exp.Expression] = []
        for n in shown:
            sv = self.svs["out:" + n]
            if not is_zero(sv.m):
                und.append((n, sv.m))
                und_masks.append(sv.m)
        if self.only is None:
            for r in rules:
                if r.obligation is None:
                    continue
                w = self.svs["rule:" + r.id]
                if is_zero(w.m):
                    continue
                m = once(f"__pending_{len(und_masks)}", case([(is_null(w.v), w.m)], ZERO.copy()))
                und.append((r.id, m))
                und_masks.append(m)
        und_keys = _bit_columns(
            "__und", [exp.NEQ(this=m.copy(), expression=ZERO.copy()) for _, m in und]
        )
        flat += [exp.alias_(e, k, quoted=True) for k, e in und_keys]
        # the obligations: one bit each for whether it holds; a due date or frequency that
        # reads the row, as its value when the obligation holds (its text is decoded later)
        holds: list[exp.Expression] = []
        sides: list[tuple[str, SV] | None] = []  # per obligation side: its key column, if any
        for r, due, freq in obligations:
            w = self.svs["rule:" + r.id]
            holds.append(is_true(w.v))
            extra = []
            for side in (due, freq):
                if side is not None and not is_zero(side.m):
                    extra.append(case([(is_null(side.v), side.m)], ZERO.copy()))
                if side is None or not _reads_columns(side.v):
                    sides.append(None)
                    continue
                if {c.name for c in side.v.find_all(exp.Column)} == {"as_of"}:
                    sides.append(("as_of", side))  # a parameter's value on the day
                    continue
                k = f"__side_{len(sides)}"
                flat.append(exp.alias_(case([(is_true(w.v), side.v)], exp.Null()), k, quoted=True))
                sides.append((k, side))
            if extra:
                miss_masks.append(case([(is_true(w.v), bor(*extra))], ZERO.copy()))
        ob_keys = _bit_columns("__ob", holds)
        flat += [exp.alias_(e, k, quoted=True) for k, e in ob_keys]
        und_mask = once("__undetermined", bor(*und_masks))
        all_mask = bor(und_mask, *miss_masks)
        missing_key = exp.Coalesce(this=all_mask, expressions=[ZERO.copy()])
        flat.append(exp.alias_(missing_key, "__missing", quoted=True))

        # the lookup tables: each list decoded once per distinct key
        ctes: list[tuple[str, exp.Expression]] = [
            (masked, exp.select("*", *mask_cols).from_(source, copy=False)),
            ("decided", exp.select(*flat).from_(masked, copy=False)),
        ]
        joins: list[tuple[str, list[str]]] = []

        def lookup(name: str, keys: list[str], value: exp.Expression, column: str) -> None:
            distinct = exp.select(*(exp.column(k, quoted=True) for k in keys)).from_("decided")
            distinct = distinct.distinct()
            q = exp.select(*(exp.column(k, quoted=True) for k in keys), exp.alias_(value, column))
            ctes.append((name, q.from_(distinct.subquery("d"), copy=False)))
            joins.append((name, keys))

        und_names = [
            case(
                [(_bit_set(und_keys, i), exp.Literal.string(n))],
                cast(exp.Null(), "VARCHAR"),
            )
            for i, (n, _) in enumerate(und)
        ]
        status = exp.Literal.string("decided")
        if und_keys:
            names = self._coded(self._nonnull_list(und_names, "VARCHAR"), [n for n, _ in und])
            lookup("undetermined_names", [k for k, _ in und_keys], names, "undetermined")
            any_und: exp.Expression = exp.false()
            for k, _ in und_keys:
                t = exp.NEQ(this=exp.column(k, table="d", quoted=True), expression=ZERO.copy())
                any_und = t if any_und == exp.false() else exp.Or(this=any_und, expression=t)
            status = case([(any_und, exp.Literal.string("undetermined"))], status)
        missing = self._missing(exp.column("__missing", quoted=True))
        lookup("missing_names", ["__missing"], missing, "missing_facts")
        ob_type = "ARRAY<STRUCT<rule VARCHAR, modality VARCHAR, due VARCHAR, frequency VARCHAR>>"
        if obligations:
            # DuckDB only: a side no obligation of the pack gives (no due date anywhere) is
            # left out of the structs, one field fewer to copy into every row and write (the
            # written type has it, NULL: `regime batch` casts to that type by field name, the
            # row readers take a missing field as NULL)
            given = {
                side: self.dialect != "duckdb" or any(ob[n] is not None for ob in obligations)
                for n, side in ((1, "due"), (2, "frequency"))
            }
            ob_items: list[exp.Expression] = []
            for i, (r, due, freq) in enumerate(obligations):
                assert r.obligation is not None
                texts = []
                for side, keyed in zip((due, freq), sides[2 * i : 2 * i + 2], strict=True):
                    if keyed is None or keyed[0] == "as_of":
                        texts.append(self._text(side))
                    else:
                        k, sv = keyed
                        texts.append(self._text(SV(exp.column(k, quoted=True), ZERO.copy(), sv.t)))
                fields = [
                    ("rule", exp.Literal.string(r.id)),
                    ("modality", exp.Literal.string(r.obligation.modality)),
                    *((n, t) for n, t in zip(("due", "frequency"), texts, strict=True) if given[n]),
                ]
                held = _bit_set(ob_keys, i)
                ob_items.append(case([(held, struct(fields))], exp.Null()))
            varying = [s[0] for s in sides if s is not None and s[0] != "as_of"]
            on_day = ["as_of"] if any(s is not None and s[0] == "as_of" for s in sides) else []
            keys = [k for k, _ in ob_keys] + on_day + varying
            ob_list = self._nonnull_list(ob_items, ob_type)
            if self.dialect == "duckdb":  # rule and modality as codes (see `_coded`)
                rule_ids = enum_type([r.id for r, _, _ in obligations])
                modalities = enum_type(
                    [r.obligation.modality for r, _, _ in obligations if r.obligation]
                )
                # due dates and frequencies as codes too where every text they may take is
                # a constant's (a parameter's, a table row's)
                sides_t = {
                    "due": _texts_type([due for _, due, _ in obligations], exprs),
                    "frequency": _texts_type([freq for _, _, freq in obligations], exprs),
                }
                shown_sides = "".join(f", {n} {t}" for n, t in sides_t.items() if given[n])
                coded = f"STRUCT(rule {rule_ids}, modality {modalities}{shown_sides})[]"

                ob_list = cast(ob_list, exp.DataType.build(coded, dialect="duckdb"))
            lookup("obligation_lists", keys, ob_list, "obligations")

        def pk(text: str) -> exp.Expression:  # the same on every row: a one-value ENUM
            return self._string_codes(exp.Literal.string(text), exp.Literal.string(text))

        stopped = exp.column("__error", table="d", quoted=True) if error is not None else None
        whole_status = decided_only(stopped, status, "error")
        cols: list[exp.Expression] = [
            exp.column("record", table="d"),
            exp.column("as_of", table="d"),
            exp.alias_(pk(pack.id), "pack"),
            exp.alias_(pk(pack.version), "version"),
            exp.column("policy_version", table="d"),
            exp.alias_(pk(pack.content_hash), "content_hash"),
            *(
                exp.alias_(decided_only(stopped, fixed[n].copy()), n, quoted=True)
                if n in fixed
                else exp.column(n, table="d", quoted=True)
                for n in shown
            ),
            exp.alias_(self._string_codes(whole_status, whole_status), "status"),
        ]
        for column, name, elem in (
            ("undetermined", "undetermined_names", "VARCHAR"),
            ("missing_facts", "missing_names", "VARCHAR"),
            ("obligations", "obligation_lists", ob_type),
        ):
            if any(j == name for j, _ in joins):
                value: exp.Expression = exp.column(column, table=name)
            else:
                value = self._nonnull_list([], elem)
            cols.append(exp.alias_(decided_only(stopped, value), column))
        cols.append(exp.alias_(stopped if stopped is not None else no_error(), "error"))
        cols += [exp.column(n, table="d", quoted=True) for n, _ in self.probes]
        final = exp.select(*cols).from_(exp.to_table("decided").as_("d"), copy=False)
        for name, keys in joins:
            on: exp.Expression | None = None
            for k in keys:
                # bit keys are never NULL; a value (or the day) may be
                eq = (exp.EQ if k.startswith(("__und", "__ob", "__missing")) else exp.NullSafeEQ)(
                    this=exp.column(k, table="d", quoted=True),
                    expression=exp.column(k, table=name, quoted=True),
                )
                on = eq if on is None else exp.And(this=on, expression=eq)
            final = final.join(exp.to_table(name), on=on, copy=False)
        return ctes, final

    def _decision_error(self, obligations: list[tuple[M.Rule, SV | None, SV | None]]) -> Err:
        """The error that stops the interpreter's decision, if any: the first among the roots
        (outputs and rules, in the order it works them out, each erring where what it reads
        on the branch it takes errs), then the due dates and frequencies of the obligations
        that apply. A definition no root reaches stops nothing."""
        pack = self.pack
        keys = [
            *("out:" + n for n in pack.outputs),
            *("rule:" + r.id for r in pack.rules),
        ]
        errors: list[Err] = [self.svs[k].e for k in keys if k in self.svs]
        for r, due, freq in obligations:
            applies = is_true(self.svs["rule:" + r.id].v)
            errors += [
                error_if(applies, x.e) for x in (due, freq) if x is not None and x.e is not None
            ]
        return first_error(*errors)

    def _string_codes(
        self, v: exp.Expression, whole: exp.Expression, items: _Items | None = None
    ) -> exp.Expression:
        """A text output chosen among constants (a table's row, a rule's value) as an ENUM of
        those constants: the flat decision keeps and the result stores a one-byte code; a
        reader of the written file sees the same text."""
        choices = (items or _Items({})).string_choices(whole)
        if not choices or self.dialect != "duckdb":
            return v
        return _cast_branches(v, exp.DataType.build(enum_type(sorted(choices)), dialect="duckdb"))

    def _coded(self, names: exp.Expression, values: list[str]) -> exp.Expression:
        """A list of names as a list of DuckDB ENUM codes: built once per distinct key, it is
        copied into every row of the result, and a one-byte code copies and stores much more
        cheaply than text; a reader of the written Parquet, CSV or JSON sees the same text."""
        if self.dialect != "duckdb" or not values:
            return names
        return cast(names, exp.DataType.build(f"{enum_type(values)}[]", dialect="duckdb"))

    def _nonnull_list(self, items: list[exp.Expression], elem: str) -> exp.Expression:
        if not items:
            t = elem if elem.startswith("ARRAY") else f"ARRAY<{elem}>"
            return cast(exp.Array(expressions=[]), exp.DataType.build(t, dialect="spark"))
        picked = _bit_picks(items) if self.dialect == "duckdb" else None
        if picked is not None:
            # `LIST_WHERE([v0, v1, ...], [bit0 set, bit1 set, ...])`: no lambda to bind and
            # about a third shorter to read than a CASE per item filtered
            values, tests = picked
            return exp.Anonymous(
                this="LIST_WHERE", expressions=[exp.Array(expressions=values), _bit_tests(tests)]
            )
        # the array is new: no need to copy it, as `list_filter` would
        return exp.ArrayFilter(
            this=exp.Array(expressions=items), expression=lam("x0", not_null(exp.column("x0")))
        )

    def _missing(self, mask: exp.Expression) -> exp.Expression:
        """The names of the missing facts, sorted; healthcare-only paths as one fixed marker."""
        custodial = self.audience != "healthcare"
        groups: dict[str, int] = {}
        for i, path in enumerate(self.bits.paths):
            shown = path
            if custodial and is_healthcare_path(path, self.facts_schema):
                shown = WITHHELD_MARKER  # never the healthcare-only field's name
            groups[shown] = groups.get(shown, 0) | (1 << i)
        items = [
            case(
                [
                    (
                        exp.NEQ(
                            this=exp.Paren(  # `case` copies it, mask and all
                                this=exp.BitwiseAnd(this=mask, expression=num(b))
                            ),
                            expression=ZERO.copy(),
                        ),
                        exp.Literal.string(name),
                    )
                ],
                cast(exp.Null(), "VARCHAR"),
            )
            for name, b in sorted(groups.items())
        ]
        return self._coded(self._nonnull_list(items, "VARCHAR"), sorted(groups))

    def _text(self, sv: SV | None) -> exp.Expression:
        """A due date or frequency as JSON text (a record's fields in order)."""
        if sv is None:
            return cast(exp.Null(), "VARCHAR")
        return json_text(sv.v, sv.t)


BITS_PER_KEY = 62  # bits used in each BIGINT key column (the sign bit stays clear)


def enum_type(values: list[str]) -> str:
    """DuckDB's ENUM type of a set of texts, e.g. `ENUM('may', 'must')`."""
    return (
        "ENUM(" + ", ".join(exp.Literal.string(v).sql("duckdb") for v in sorted(set(values))) + ")"
    )


def _texts_type(sides: list[SV | None], exprs: dict[str, exp.Expression]) -> str:
    """DuckDB's type for the JSON texts of obligation sides (due dates, frequencies): an ENUM
    of every text they may take when each value they may take is a constant (a parameter by
    date, a table's row), a one-byte code in each element of every row's obligations instead
    of a text; VARCHAR otherwise. Sides that are never given at all (no obligation has a due
    date) hold only NULLs: a one-value ENUM of the empty text (never a JSON text) keeps their
    NULL in a one-byte slot instead of a text's sixteen (writing the key work obligations
    0.035 s instead of 0.044 s)."""
    texts: set[str] = set()
    for side in sides:
        if side is None:
            continue
        values = _constant_values(side.v, exprs)
        if values is None:
            return "VARCHAR"
        try:
            texts |= {t for t in (_constant_json(v, side.t) for v in values) if t is not None}
        except _NotConstant:
            return "VARCHAR"
    if not texts and all(side is None for side in sides):
        return enum_type([""])
    return enum_type(sorted(texts)) if texts else "VARCHAR"


def _constant_values(
    e: exp.Expression, exprs: dict[str, exp.Expression], depth: int = 0
) -> list[exp.Expression] | None:
    """Every value `e` may give when each is a constant (a CASE's branches, an item column
    whose own expression is such, read through `exprs`); None when one may not be."""
    while isinstance(e, exp.Paren):
        e = e.this
    if isinstance(e, exp.Case):
        branches = [i.args["true"] for i in e.args.get("ifs") or []]
        branches.append(e.args.get("default") or exp.Null())
        out: list[exp.Expression] = []
        for b in branches:
            got = _constant_values(b, exprs, depth + 1)
            if got is None:
                return None
            out += got
        return out
    if isinstance(e, exp.Column) and not e.table and e.name in exprs and depth < 64:
        return _constant_values(exprs[e.name], exprs, depth + 1)
    if any(True for _ in e.find_all(exp.Column)):
        return None
    return [e]


def _element_fields_parenthesised(query: exp.Expression) -> None:
    """A field of a lambda's parameter written `(x1)."date"`, not `x1."date"`: DuckDB reads
    the second as a table's column first, and on not finding the table works out the names
    most like it among every column in scope for its error message before it tries the
    parameter, a cost that grows with the columns of the level (about a tenth of planning a
    large pack's query); the parentheses make it the parameter's field at once. In place."""
    for fn in query.find_all(exp.Lambda):
        params = {p.name for p in fn.expressions}
        for dot in list(fn.this.find_all(exp.Dot)):
            base = dot.this
            if isinstance(base, exp.Column) and not base.table and base.name in params:
                dot.set("this", exp.Paren(this=base))


def _bit_picks(
    items: list[exp.Expression],
) -> tuple[list[exp.Expression], list[exp.Expression]] | None:
    """For items that are each `CASE WHEN (key & bit) <> 0 THEN value END` (a list decoded
    from a bit key, which is never NULL): the values and their tests; None otherwise."""
    values: list[exp.Expression] = []
    tests: list[exp.Expression] = []
    for item in items:
        if not isinstance(item, exp.Case) or item.this is not None:
            return None
        ifs = item.args.get("ifs") or []
        if len(ifs) != 1 or not _is_null_constant(item.args.get("default") or exp.Null()):
            return None
        test, value = ifs[0].this, ifs[0].args.get("true")
        inner = test.this.unnest() if isinstance(test, exp.NEQ) else None
        if not (
            isinstance(inner, exp.BitwiseAnd)
            and isinstance(inner.this, exp.Column)
            and isinstance(inner.expression, exp.Literal)
            and is_zero(test.expression)
            and value is not None
        ):
            return None
        values.append(value.copy())
        tests.append(test.copy())
    return values, tests


def _bit_tests(tests: list[exp.Expression]) -> exp.Expression:
    """The list of `(key & bit) <> 0` tests (from `_bit_picks`) as one lambda per key column
    over its bits, `LIST_TRANSFORM([1, 2, 4, ...], LAMBDA b: (key & b) <> 0)`, the runs of
    columns concatenated: the same booleans with a fifth of the nodes for DuckDB to bind and
    optimise (about 530 fewer in the key work query, 6% of its planning). A lookup table
    decodes each distinct key once, so the lambda's work per row does not count."""
    runs: list[tuple[exp.Expression, list[exp.Expression]]] = []
    for t in tests:
        inner = t.this.unnest()
        key, bit = inner.this, inner.expression
        if runs and runs[-1][0] == key:
            runs[-1][1].append(bit.copy())
        else:
            runs.append((key, [bit.copy()]))
    lists = [
        list_map(
            exp.Array(expressions=bits),
            "b",
            exp.NEQ(
                this=exp.Paren(this=exp.BitwiseAnd(this=key.copy(), expression=exp.column("b"))),
                expression=ZERO.copy(),
            ),
        )
        for key, bits in runs
    ]
    joined = lists[0]
    for more in lists[1:]:
        joined = exp.ArrayConcat(this=joined, expressions=[more])
    return joined


def _coded_rows_indexed(query: exp.Expression) -> None:
    """A text chosen by a table's row among constants and coded as an ENUM (`CAST(CASE WHEN
    t IS NULL THEN NULL WHEN t = 1 THEN 'a' WHEN t = 2 THEN 'b' ... END AS ENUM(...))`) read
    as `CAST(['a', 'b', ...] AS ENUM(...)[])[t]`: the list's cast is folded once, and a row
    picks a code by its row number instead of testing each row in turn and looking its text
    up among the codes (about a third of the CASE's CPU). A row number is NULL, 0 (no row
    matches) or a row's: DuckDB's lists count from 1 and give NULL for 0 and NULL. In place."""
    for c in list(query.find_all(exp.Cast)):
        to = c.args.get("to")
        if not isinstance(to, exp.DataType) or to.this != exp.DataType.Type.ENUM:
            continue
        texts = _row_texts(c.this)
        if texts is None:
            continue
        row, values = texts
        listed = exp.DataType(this=exp.DataType.Type.ARRAY, expressions=[to.copy()], nested=True)
        codes = cast(exp.Array(expressions=values), listed)
        c.replace(exp.Bracket(this=codes, expressions=[row], offset=1))


def _row_texts(e: exp.Expression) -> tuple[exp.Column, list[exp.Expression]] | None:
    """For `CASE [WHEN t IS NULL THEN NULL] WHEN t = 1 THEN c1 ... WHEN t = n THEN cn [ELSE
    NULL] END` over a table's row number `t` with constant texts (or NULLs) c1..cn: t and
    the texts; None for any other expression."""
    while isinstance(e, exp.Paren):
        e = e.this
    if not isinstance(e, exp.Case) or e.this is not None:
        return None
    ifs = list(e.args.get("ifs") or [])
    default = e.args.get("default")
    if default is not None and not _is_null_constant(default):
        return None
    row: exp.Column | None = None
    first = ifs[0].this if ifs else None
    if isinstance(first, exp.Is) and isinstance(first.expression, exp.Null):
        if not (isinstance(first.this, exp.Column) and _is_null_constant(ifs[0].args["true"])):
            return None
        row = first.this
        ifs = ifs[1:]
    values: list[exp.Expression] = []
    for i, branch in enumerate(ifs, 1):
        test, value = branch.this, branch.args.get("true")
        if not (
            isinstance(test, exp.EQ)
            and isinstance(test.this, exp.Column)
            and test.expression == num(i)
            and value is not None
            and _constant_text(value)
        ):
            return None
        if row is None:
            row = test.this
        if test.this != row:
            return None
        values.append(value.copy())
    if row is None or not values or not row.name.startswith("table__") or row.table:
        return None
    return row.copy(), values


def _is_null_constant(e: exp.Expression) -> bool:
    """Whether `e` is NULL, typed or not."""
    return isinstance(e.this if isinstance(e, exp.Cast) else e, exp.Null)


def _coded_fields(e: exp.Expression) -> exp.Expression:
    """A record of constants (an output the same on every row) with each text field a
    one-value DuckDB ENUM: written into every row of the result, a one-byte code copies far
    more cheaply than a text past twelve characters; a reader of the written file sees the
    same text."""
    inner = e
    while isinstance(inner, exp.Paren):
        inner = inner.this
    if not isinstance(inner, exp.Struct):
        return e
    fields = []
    for f in inner.expressions:
        if not isinstance(f, exp.PropertyEQ):
            return e
        v = f.expression
        if isinstance(v, exp.Literal) and v.is_string:
            v = cast(v, exp.DataType.build(enum_type([v.this]), dialect="duckdb"))
        fields.append((f.this.name, v))
    return struct(fields)


def _resolved(e: exp.Expression, exprs: dict[str, exp.Expression]) -> exp.Expression:
    """An expression with the item columns it reads replaced by their own expressions."""
    e = e.copy()
    for _ in range(64):  # items nest a few levels deep; a deeper chain is left as it is
        reads = [c for c in e.find_all(exp.Column) if not c.table and c.name in exprs]
        if not reads:
            break
        for c in reads:
            new = exp.Paren(this=exprs[c.name].copy())
            if c is e:
                e = new
            else:
                c.replace(new)
    return e


class _Items:
    """What an expression would be with the item columns it reads replaced by their own
    expressions, worked out per item once: whether it reads the row, and the texts it may
    take. Resolving the expressions themselves would copy each item into every reader, which
    grows with the product of the levels."""

    DEPTH = 64  # items nest a few levels deep; a deeper chain is taken to read the row

    def __init__(self, exprs: dict[str, exp.Expression]) -> None:
        self.exprs = exprs
        self._reads: dict[str, bool] = {}
        self._choices: dict[str, set[str] | None] = {}

    def reads_row(self, e: exp.Expression, depth: int = 0) -> bool:
        """Whether `e` resolved reads a column that is not an item (so varies by row)."""
        for c in e.find_all(exp.Column):
            if c.table or c.name not in self.exprs or depth >= self.DEPTH:
                return True
            if c.name not in self._reads:
                self._reads[c.name] = self.reads_row(self.exprs[c.name], depth + 1)
            if self._reads[c.name]:
                return True
        return False

    def string_choices(self, e: exp.Expression, depth: int = 0) -> set[str] | None:
        """The texts a value may take when it is a constant text, a NULL or a CASE choosing
        among such (tests aside); None when it may be anything else."""
        if isinstance(e, exp.Column) and not e.table and e.name in self.exprs:
            if depth >= self.DEPTH:
                return None
            if e.name not in self._choices:
                self._choices[e.name] = self.string_choices(self.exprs[e.name], depth + 1)
            return self._choices[e.name]
        if isinstance(e, exp.Paren):
            return self.string_choices(e.this, depth)
        if isinstance(e, exp.Literal):
            return {e.this} if e.is_string else None
        if isinstance(e, exp.Null):
            return set()
        if isinstance(e, exp.Cast) and isinstance(e.this, exp.Null):
            return set() if e.to.is_type(*exp.DataType.TEXT_TYPES) else None
        if isinstance(e, exp.Case) and e.this is None:
            out: set[str] = set()
            branches = [i.args.get("true") for i in e.args.get("ifs") or []]
            for b in [*branches, e.args.get("default") or exp.Null()]:
                got = self.string_choices(b, depth) if b is not None else None
                if got is None:
                    return None
                out |= got
            return out
        return None


def _cast_branches(v: exp.Expression, to: exp.DataType) -> exp.Expression:
    """`CAST(v AS to)`, with the cast put on each constant of a CASE that chooses among
    constants: the engine folds each constant's cast once, and the rows pick a code instead of
    looking their text up (a long text's hash on every row)."""
    c = v.unnest() if isinstance(v, exp.Paren) else v
    if not isinstance(c, exp.Case) or c.this is not None:
        return cast(v, to)
    ifs = c.args.get("ifs") or []
    values = [i.args.get("true") for i in ifs] + [c.args.get("default") or exp.Null()]
    if not all(_constant_text(x) for x in values):
        return cast(v, to)
    return case([(i.this, cast(i.args["true"], to)) for i in ifs], cast(values[-1], to))


def _constant_text(e: exp.Expression | None) -> bool:
    """Whether `e` is a text constant or a NULL (typed or not)."""
    if isinstance(e, exp.Cast):
        e = e.this
    return isinstance(e, exp.Null) or (isinstance(e, exp.Literal) and e.is_string)


def _bit_columns(prefix: str, conds: list[exp.Expression]) -> list[tuple[str, exp.Expression]]:
    """Conditions as bits of BIGINT columns `prefix_0`, `prefix_1`, ...: bit i of the
    whole is set when condition i holds (NULL counts as not)."""
    out = []
    for start in range(0, len(conds), BITS_PER_KEY):
        chunk = conds[start : start + BITS_PER_KEY]
        word = bor(*(_bit(c, j) for j, c in enumerate(chunk)))
        out.append((f"{prefix}_{start // BITS_PER_KEY}", word))
    return out


def _bit(cond: exp.Expression, j: int) -> exp.Expression:
    """Bit j when a condition holds (NULL counts as not), as `CASE WHEN cond THEN 2^j ELSE 0
    END`: one operation per bit, where `CAST(COALESCE(cond, FALSE) AS BIGINT) * 2^j` is
    three (DuckDB 2.0 builds a 40-bit key about 15% faster so); a condition that is always
    true is the constant bit."""
    inner = cond.unnest() if isinstance(cond, exp.Paren) else cond
    if isinstance(inner, exp.Coalesce) and _always_true(inner.this):
        return num(1 << j)
    if (
        isinstance(inner, exp.Coalesce)
        and len(inner.expressions) == 1
        and isinstance(inner.expressions[0], exp.Boolean)
        and inner.expressions[0].this is False
    ):
        cond = inner.this  # NULL counts as not: the CASE's ELSE already says so
    return case([(cond, num(1 << j))], ZERO.copy())


def _always_true(e: exp.Expression) -> bool:
    """Whether an expression is the literal TRUE (in brackets or not)."""
    e = e.unnest() if isinstance(e, exp.Paren) else e
    return isinstance(e, exp.Boolean) and e.this is True


def _bit_set(keys: list[tuple[str, exp.Expression]], i: int) -> exp.Expression:
    """Whether bit i of the key columns made by `_bit_columns` is set."""
    k = exp.column(keys[i // BITS_PER_KEY][0], quoted=True)
    b = num(1 << (i % BITS_PER_KEY))
    return exp.NEQ(
        this=exp.Paren(this=exp.BitwiseAnd(this=k, expression=b)), expression=ZERO.copy()
    )


# What a lambda's row-only part may hold to be worked out once per row instead of once per
# element: reads, comparisons, logic and CASE, none of which can fail where the lambda would
# not have run (an empty list); arithmetic and functions stay where they are.
_ROW_SAFE = (
    exp.Column,
    exp.Dot,
    exp.Identifier,
    exp.Literal,
    exp.Null,
    exp.Boolean,
    exp.Paren,
    exp.EQ,
    exp.NEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.Is,
    exp.In,
    exp.And,
    exp.Or,
    exp.Not,
    exp.Case,
    exp.If,
    exp.Coalesce,
    exp.DataType,
)


def _row_parts(e: exp.Expression) -> list[exp.Expression]:
    """The largest parts of the lambdas' bodies in `e` that read the row (a field of a row's
    struct, a CASE on `as_of`) but no element: DuckDB copies every column a lambda captures
    for each element, so such a part read as a column of its own is worked out once per row.
    A bare column stays (it is captured as it is); so do parts that could fail."""
    lambdas = list(e.find_all(exp.Lambda))
    if not lambdas:
        return []
    elements = {i.name for lam in lambdas for i in lam.expressions}

    def movable(n: exp.Expression) -> bool:
        if isinstance(n, exp.Column) and not n.table:
            return False  # already one column
        reads_row = False
        for x in n.walk():
            if isinstance(x, exp.Identifier) and x.name in elements:
                return False
            if isinstance(x, exp.Cast):
                if not isinstance(x.this, exp.Literal | exp.Null):
                    return False
            elif not isinstance(x, _ROW_SAFE):
                return False
            reads_row = reads_row or isinstance(x, exp.Column)
        return reads_row

    found: list[exp.Expression] = []
    stack: list[exp.Expression] = [lam.this for lam in lambdas]
    seen: set[int] = set()
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        if isinstance(n, exp.Lambda):
            stack.append(n.this)
        elif isinstance(n, exp.If | exp.Identifier | exp.DataType):
            stack.extend(n.iter_expressions())  # parts of a node, not values of their own
        elif movable(n):
            found.append(n)
        else:
            stack.extend(n.iter_expressions())
    return found


def _reads_columns(e: exp.Expression) -> bool:
    """Whether an expression reads a column (so varies by row), not only constants."""
    return any(True for _ in e.find_all(exp.Column))


def json_text(v: exp.Expression, t: T.Type) -> exp.Expression:
    """The plain JSON text of a value of type `t`, built from SQL string functions."""
    try:  # a constant (a parameter's record): its text, written here, not built by the engine
        text = _constant_json(v, t)
    except _NotConstant:
        pass
    else:
        return cast(exp.Null(), "VARCHAR") if text is None else exp.Literal.string(text)
    if isinstance(v, exp.Case) and _constant_branches(v):
        # a value chosen among constants (a parameter by date): the text of each constant,
        # which the engine folds once, rather than the text built for every row
        return case(
            [(i.this, json_text(i.args["true"], t)) for i in v.args.get("ifs") or []],
            json_text(v.args.get("default") or exp.Null(), t),
        )
    k = t.kind
    if k in ("int", "bool"):
        return cast(v.copy(), "VARCHAR")
    if k in ("date", "string"):
        q = exp.Literal.string('"')
        return exp.DPipe(
            this=exp.DPipe(this=q, expression=cast(v.copy(), "VARCHAR")), expression=q.copy()
        )
    if k == "record" and t.fields:
        parts: list[exp.Expression] = [exp.Literal.string("{")]
        for i, (name, ft, _) in enumerate(t.fields):
            parts.append(exp.Literal.string(("" if i == 0 else ", ") + f'"{name}": '))
            fv = _field(v, name)
            parts.append(
                exp.Coalesce(this=json_text(fv, ft), expressions=[exp.Literal.string("null")])
            )
        parts.append(exp.Literal.string("}"))
        out = parts[0]
        for p in parts[1:]:
            out = exp.DPipe(this=out, expression=p)
        return case([(is_null(v), cast(exp.Null(), "VARCHAR"))], out)
    raise Unsupported("obligation value", f"{t.describe()} as text")


class _NotConstant(Exception):
    """A value `_constant_json` cannot write: one that reads a column, or of another form."""


def _constant_json(v: exp.Expression, t: T.Type) -> str | None:
    """The text `json_text` gives a constant (NULL, a literal, a record of them): the same
    characters its string functions would put together, none for NULL; `_NotConstant` for
    any other expression."""
    while isinstance(v, exp.Paren):
        v = v.this
    if isinstance(v, exp.Null) or (isinstance(v, exp.Cast) and isinstance(v.this, exp.Null)):
        return None
    k = t.kind
    if k == "bool" and isinstance(v, exp.Boolean):
        return "true" if v.this else "false"
    if k == "int" and isinstance(v, exp.Literal) and not v.is_string and v.this.isdigit():
        return str(int(v.this))
    if k == "string" and isinstance(v, exp.Literal) and v.is_string:
        return f'"{v.this}"'
    if k == "record" and t.fields and isinstance(v, exp.Struct):
        given: dict[str, exp.Expression] = {}
        for e in v.expressions:
            if not isinstance(e, exp.PropertyEQ):
                raise _NotConstant
            given[e.this.name] = e.expression
        parts = []
        for i, (name, ft, _) in enumerate(t.fields):
            if name not in given:
                raise _NotConstant
            text = _constant_json(given[name], ft)
            shown = "null" if text is None else text
            parts.append(("" if i == 0 else ", ") + f'"{name}": ' + shown)
        return "{" + "".join(parts) + "}"
    raise _NotConstant


def _constant_branches(v: exp.Case) -> bool:
    """Whether every value a CASE may give is a constant (reads no column)."""
    values = [i.args["true"] for i in v.args.get("ifs") or []] + [v.args.get("default")]
    return all(x is None or not any(True for _ in x.find_all(exp.Column)) for x in values)


def _collect_rows(
    verdicts: list[tuple[exp.Expression, exp.Expression]], bits: frozenset[int]
) -> SV:
    """A `collect` table: the numbers of every row that matches, in order; unknown while a
    row cannot be decided (with the masks of the rows pending, as the interpreter merges)."""
    rows_t = T.list_of(T.INT)
    if not verdicts:
        return SV(const([], rows_t), ZERO.copy(), rows_t, bits)
    pending: exp.Expression = is_null(verdicts[0][0])
    for v, _ in verdicts[1:]:
        pending = exp.Or(this=pending, expression=is_null(v))
    numbers = exp.Array(
        expressions=[
            case([(is_true(v), num(i))], cast(exp.Null(), "BIGINT"))
            for i, (v, _) in enumerate(verdicts, 1)
        ]
    )
    matched = list_filter(numbers, "x0", not_null(exp.column("x0")))
    value = case([(exp.Paren(this=pending), typed_null(rows_t))], matched)
    mask = bor(*(case([(is_null(v), m)], ZERO.copy()) for v, m in verdicts if not is_zero(m)))
    return SV(value, mask, rows_t, bits)


def _collect_values(
    row: SV, vals: list[tuple[int, SV]], t: T.Type, default: SV | None, indexed: bool = False
) -> SV:
    """A `from_table` output of a `collect` table: the values of the rows that match, in row
    order (the default when none does), unknown while the table is."""
    lt = T.list_of(t)
    if not vals:
        chosen: exp.Expression = const([], lt) if t.kind not in ("null", "any") else exp.Array()
        elem_m: exp.Expression = ZERO.copy()
    else:
        chosen = _applying(
            [
                (exp.ArrayContains(this=row.v.copy(), expression=num(i)), _typed(sv.v, t))
                for i, sv in vals
            ],
            indexed,
        )
        elem_m = bor(
            *(
                case([(exp.ArrayContains(this=row.v.copy(), expression=num(i)), sv.m)], ZERO.copy())
                for i, sv in vals
                if not is_zero(sv.m)
            )
        )
    bits = row.bits | frozenset().union(*(sv.bits for _, sv in vals))
    if default is not None:
        chosen, empty = _default_when_empty(chosen, default.v, lt)
        elem_m = case([(empty, default.m)], elem_m) if not is_zero(default.m) else elem_m
        bits |= default.bits
    value = case([(is_null(row.v), typed_null(lt))], chosen)
    mask = case([(is_null(row.v), row.m)], elem_m)
    return SV(value, mask, lt, bits)


def decided_only(error: Err, value: exp.Expression, other: str | None = None) -> exp.Expression:
    """`value`, unless the decision stopped with an error (NULL then, or the text `other`)."""
    if error is None:
        return value
    instead = exp.Literal.string(other) if other is not None else exp.Null()
    return case([(not_null(error), instead)], value)


def _typed(v: exp.Expression, t: T.Type) -> exp.Expression:
    """A value cast to the SQL type of `t` when it is a bare NULL (so list items agree)."""
    return typed_null(t) if isinstance(v, exp.Null) else v


def _field(v: exp.Expression, name: str) -> exp.Expression:
    return exp.Dot(this=v.copy(), expression=exp.to_identifier(name, quoted=True))


def _join(types: list[T.Type]) -> T.Type:
    t = types[0]
    for o in types[1:]:
        j = T.join(t, o)
        if j is None:
            raise Unsupported("output", "values of different types")
        t = j
    return t


def _may_be_null_value(e: exp.Case) -> bool:
    ifs = e.args.get("ifs") or []
    return any(not isinstance(i.args.get("true"), exp.Literal) for i in ifs)


def _column_names(sv: SV) -> set[str]:
    names = set()
    for e in (sv.v, sv.m):
        for c in e.find_all(exp.Column):
            names.add(c.name)
    return names


def compile_pack(
    pack: M.Pack,
    audience: str = "custodial",
    dialect: str = "duckdb",
    facts_table: str = "facts",
    outputs: list[str] | None = None,
    values_only: bool = False,
) -> CompiledPack:
    """The pack as one query over `facts_table` (columns record, as_of and the fact roots);
    with `values_only`, the outputs' values without status, undetermined items, missing facts
    or obligations."""
    compiler = PackCompiler(pack, audience, dialect, facts_table, outputs, values_only=values_only)
    return compiler.compile()


def unsupported(pack: M.Pack) -> list[Unsupported]:
    """Why a pack cannot be compiled to SQL (empty when it can), for `regime check`."""
    try:
        compile_pack(pack)
    except Unsupported as u:
        return [u]
    return []


__all__ = ["CompiledPack", "compile_pack", "unsupported", "Unsupported", "SV", "const"]
_ = (A, typed_null)


INDEXED_FLAGS = 5  # constant values chosen by at most this many flags: a list indexed


def _applying(
    flagged: list[tuple[exp.Expression, exp.Expression]], indexed: bool = False
) -> exp.Expression:
    """The list of the values whose flag holds, in order: (flag, value) pairs kept as
    structs, filtered on the flag, then mapped to the value. Values that are all constants
    (never NULL) are one list of `CASE WHEN flag THEN value END` with the NULLs dropped,
    which builds no struct per value; with `indexed` (DuckDB) and at most INDEXED_FLAGS of
    them, the flags are the bits of a number that picks the list from the constant list of
    every combination, so a row builds no list at all (about a third of the filter's CPU)."""
    if all(isinstance(v, exp.Literal) for _, v in flagged):
        if indexed and len(flagged) <= INDEXED_FLAGS:
            return _indexed_constants(flagged)
        each = exp.Array(expressions=[case([(flag, v)], exp.Null()) for flag, v in flagged])
        return list_filter(each, "x0", not_null(exp.column("x0")))
    pairs = exp.Array(
        expressions=[struct([("applies", flag), ("value", value)]) for flag, value in flagged]
    )
    x = exp.column("x0")
    kept = list_filter(pairs, "x0", exp.Dot(this=x, expression=exp.to_identifier("applies")))
    return list_map(kept, "x0", exp.Dot(this=x.copy(), expression=exp.to_identifier("value")))


def _indexed_constants(flagged: list[tuple[exp.Expression, exp.Expression]]) -> exp.Expression:
    """`[l_0, l_1, ...][1 + k]` (DuckDB's lists count from 1): bit j of k is set when flag j
    holds (NULL counts as not), and l_k is the constant list of the values whose bits k
    sets, in order."""
    lists = [
        exp.Array(expressions=[v.copy() for j, (_, v) in enumerate(flagged) if k >> j & 1])
        for k in range(1 << len(flagged))
    ]
    key = bor(*(_bit(flag, j) for j, (flag, _) in enumerate(flagged)))
    at = exp.Add(this=exp.Paren(this=key), expression=num(1))
    return exp.Bracket(this=exp.Array(expressions=lists), expressions=[at], offset=1)


def _default_when_empty(
    chosen: exp.Expression, default: exp.Expression, lt: T.Type
) -> tuple[exp.Expression, exp.Expression]:
    """`chosen`, or `default` when it is an empty list (an empty default typed as the list),
    with the emptiness test for the caller's mask."""
    empty = exp.EQ(this=list_size(chosen), expression=ZERO.copy())
    if isinstance(default, exp.Array) and not default.expressions:
        # an empty default is what an empty `chosen` already is: the list is built once
        return chosen, empty
    return case([(empty, default)], chosen), empty
