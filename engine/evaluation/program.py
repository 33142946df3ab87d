"""A pack compiled once per policy version and audience into a program: one function per name,
table and rule, run in the order `Evaluation.run` takes, without its per-name dispatch and
step bookkeeping. It leaves the state `Evaluation.run` leaves, so a decision is built (and its
steps replayed) from it in the same way, and every result and error is the same.

The straight run writes every expression in line, the names it reads as local variables (a
name not yet worked out is read through the evaluator's lookup, which works it out then): no
call per expression or per name read on the common path. Writing the expressions costs about
a twentieth of a millisecond each, once per program.

Written in line, a run first tries the straight run's two-valued form (`codegen_known`: every
value assumed known, no unknown bookkeeping), which gives up where it meets a value that is
not plainly known, or fails; the three-valued form then runs from a clean state and decides,
so every result and error stays its own."""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import Callable
from typing import Any

from engine import disk_cache
from engine.evaluation.evaluate import (
    MAX_INT_BITS,
    MAX_LIST,
    MAX_TEXT,
    VALUE_ERRORS,
    WITHHELD,
    Evaluation,
    from_rules,
    match_rows,
    name_alone,
    select_version,
    table_values,
    with_default,
    withheld,
    within_budget,
)
from engine.language import syntax as A
from engine.language.check import Checked
from engine.language.codegen import GLOBALS, PerDay, compile_part, inline_checked
from engine.language.codegen_known import inline_known, may_give_unknown, tested_reads
from engine.language.runtime import NULL, Unknown, give_up, merge
from engine.packs import model as M
from engine.problems import EvaluationError

Work = Callable[["Names"], Any]
# the straight run: `(m, rr, F, N)`, the names' values, the rule results, the facts and `N`
# (one on a plain dict, `(m, day, F, N)`, returns the rule results: see `_DayParts.plain`)
Straight = Callable[[Any, Any, dict[str, Any], Callable[[Any], Any]], Any]
_PART = 100  # items worked out by one generated function
_LIMITED = frozenset({int, list, tuple, str})  # the classes `within_budget` looks at
_MISSING = object()  # not worked out yet
# classes of table input values that are hashable and equal to themselves: looked up in line
_KEY_CLASSES = frozenset({str, int, bool, dt.date})
_SIZE = min(MAX_LIST, MAX_TEXT)  # a list or text no longer than this is within budget
# the static types whose values are never of a class `within_budget` looks at (a value of one
# may still be unknown or withheld: neither is limited either)
_UNLIMITED_KINDS = frozenset({"null", "bool", "date", "duration", "months", "record"})
# what a two-valued run on a plain dict may not read (`_DayParts.plain`): the rule results'
# dict, or any attribute of its state (`m.get` is the dict's own)
_PLAIN_STATE = re.compile(r"\brr\b|\bm\.(?!get\()")
# a rule's result written as a truth value as it is (no condition, not in force, or a
# literal condition as its code is written)
_TRUTHS = frozenset({"True", "False", "(True)", "(False)"})
_UNPACKED = 4  # parts of the day a function reads from which it unpacks them all at once
_WORDS = re.compile(r"\b_[nrs]_?\w*")  # the local variables a generated function may set
_MARK = re.compile("\0([0-9]+)\0")  # a name read in line, resolved as the functions are laid out


class Names(dict[Any, Any]):
    """One evaluation's values by name (tables by item key): a name not yet worked out is
    worked out when first read, as `Evaluation.value` does, and kept."""

    # no slot keeps `N` (a bound method of this mapping) or anything else that leads back
    # here: an evaluation's state is freed as soon as it is dropped, not by the cycle collector
    __slots__ = ("F", "day", "rule_values", "rules", "work")

    F: dict[str, Any]
    day: tuple[Any, ...]  # the values of the parts of expressions that depend only on the day
    # the rule results by rule id: a plain dict (the straight run works every rule out at its
    # turn, and an item's work reads one not yet worked out through `_when_of`)
    rules: dict[str, Any]
    work: dict[Any, Work]
    # the rule results a two-valued run hands over in one tuple, in the order of
    # `_DayParts.rule_ids`, instead of keeping each in `rules` (see `_rules_in_order`)
    rule_values: tuple[Any, ...]

    @property
    def N(self) -> Callable[[Any], Any]:
        """The value of a name, worked out when first read (what compiled expressions call)."""
        return self.__getitem__

    def __missing__(self, name: Any) -> Any:
        work = self.work.get(name)
        if work is None:  # the checker rejects unknown names at load time: an engine bug
            raise KeyError(f"unknown name `{name}` passed the checker")
        return work(self)


class Program:
    """The work for every item of one pack, for one policy version and audience."""

    def __init__(self, pack: M.Pack, version: M.Version, custodial: bool, two_valued: bool = True):
        self.pack = pack
        self.version = version
        self.custodial = custodial
        # written in line, the run first tries its two-valued form (`codegen_known`)
        self.two_valued = two_valued
        work: dict[Any, Work] = {}
        self._matches: dict[str, _TableMatch] = {}
        self._made: dict[tuple[str, str], Work] = {}  # the work of each definition and output
        # later kinds win a name, as `Evaluation.value` tries parameters first
        for name, out in pack.outputs.items():
            work[name] = self._made["out", name] = self._output(out)
        for name, d in pack.definitions.items():
            work[name] = self._made["def", name] = self._definition(name, d)
        for name, vocab in pack.vocabulary.items():
            work[name] = _vocabulary(name, [v.id for v in vocab.values])
        for name in pack.parameters:
            work[name] = _parameter_missing(pack.parameters[name])
        for table in pack.tables.values():
            work[M.ItemKey("table", table.id)] = self._table(table)
        self.work = work
        self.rule_work: dict[str, Work] = {r.id: self._rule(r) for r in pack.rules}
        self._parameters: dict[dt.date, dict[Any, Any]] = {}
        # two tiers: first the items call their compiled expressions (cheap to build), then,
        # once the program has decided INLINE_AFTER times, the expressions written in line
        # (faster to run, slower to build: a command deciding a few cases never pays for it)
        self._runs = 0
        self.inlined = INLINE_AFTER <= 0
        # the straight run and the parts of the day it reads, replaced together (as one)
        self._run = self._straight(inline=self.inlined)
        self._version_id = version.id
        # the definitions that failed in every evaluation this program leaves: none (a run
        # that meets an error is the interpreter's, see `run`)
        self._failed: dict[str, Exception] = {}

    # -- building the work -----------------------------------------------------------------

    def _guard(self, healthcare: bool, compute: Callable[[Names], Any]) -> Callable[[Names], Any]:
        """`compute`, or for a custodial audience and healthcare-only work, `compute` with a
        value that cannot be worked out withheld rather than an error (as `_guarded`)."""
        if not (self.custodial and healthcare):
            return compute

        def guarded(m: Names) -> Any:
            try:
                return compute(m)
            except VALUE_ERRORS:
                return WITHHELD

        return guarded

    def _definition(self, name: str, d: M.Definition) -> Work:
        fn = d.expr.compiled.fn

        def compute(m: Names) -> Any:
            return within_budget("definition", name, fn(m.F, m.N))

        value = self._guard(d.expr.healthcare, compute)

        def work(m: Names) -> Any:
            result = m[name] = value(m)
            return result

        return work

    def _output(self, out: M.Output) -> Work:
        name = out.name
        if out.mode == "value":
            assert out.expr is not None
            fn = out.expr.compiled.fn

            def raw(m: Names) -> Any:
                return fn(m.F, m.N)

        elif out.mode == "rules":
            setting = self.pack.rules_setting.get(name, ())

            def raw(m: Names) -> Any:
                rules, rule_work = m.rules, self.rule_work

                def when_of(rule: M.Rule) -> Any:
                    # a rule's result, worked out (and kept by its work) when not yet known
                    found = rules.get(rule.id, _MISSING)
                    return rule_work[rule.id](m) if found is _MISSING else found

                return from_rules(out, setting, when_of, m.F, m.N)

        else:
            table = self.pack.tables[str(out.table)]
            key = M.ItemKey("table", table.id)
            hit = table.hit

            def raw(m: Names) -> Any:
                rows = m[key]
                if rows.__class__ is Unknown:
                    return rows
                return table_values(name, hit, rows, m.F, m.N)

        def compute(m: Names) -> Any:
            return within_budget("output", name, with_default(out, raw(m), m.F, m.N))

        value = self._guard(out.healthcare, compute)
        release = self.custodial and out.releasable

        def work(m: Names) -> Any:
            result = value(m)
            if release:
                result = withheld(result)
            m[name] = result
            return result

        return work

    def _table(self, table: M.Table) -> Work:
        key = M.ItemKey("table", table.id)
        inputs = [self._guard(e.healthcare, _expression(e.compiled.fn)) for _, e in table.inputs]
        match = self._match(table)

        def work(m: Names) -> Any:
            result = m[key] = match(tuple([f(m) for f in inputs]))
            return result

        return work

    def _match(self, table: M.Table) -> _TableMatch:
        """The one `_TableMatch` of a table in this program (its work and the straight code
        share what it keeps)."""
        found = self._matches.get(table.id)
        if found is None:
            found = self._matches[table.id] = _TableMatch(table, self.custodial)
        return found

    def _rule(self, rule: M.Rule) -> Work:
        rid = rule.id
        if rule.versions and self.version.id not in rule.versions:

            def off(m: Names) -> Any:
                m.rules[rid] = False
                return False

            return off
        if rule.when is None:
            value: Callable[[Names], Any] = _true
        else:
            value = self._guard(rule.healthcare, _expression(rule.when.compiled.fn))
        hide = self.custodial and rule.healthcare

        def work(m: Names) -> Any:
            result = value(m)
            if hide:
                result = withheld(result)
            m.rules[rid] = result
            return result

        return work

    def _straight(self, inline: bool) -> tuple[Straight, _DayParts]:
        """`Evaluation.run`'s loop as one generated function: definitions, outputs and rules
        in the pack's order, each worked out in line unless an earlier one has read it (a
        name read before its turn is worked out then, by its work, as the evaluator does);
        with `inline`, each expression's own code written into it too, and each part of one
        that depends only on the day read from the values `_DayParts` keeps for the day.
        With `inline`, the same run in the two-valued form is made on first use (`_known`)."""
        day_parts = _DayParts(self)
        day_parts.inline = inline
        return self._straight_form(inline, day_parts), day_parts

    def _known(self, day_parts: _DayParts) -> Straight | None:
        """The straight run in the two-valued form beside the three-valued one `day_parts`
        belongs to, made once (None for a run not written in line): the parts of the day it
        reads join the others, so the values kept by day are worked out again."""
        if day_parts.known is None and day_parts.inline and self.two_valued:
            day_parts.inline = False  # (made once, whatever happens)
            try:
                made = self._straight_form(True, day_parts, known=True)
            except Exception:  # noqa: BLE001  (an engine bug: the three-valued form decides)
                return None
            day_parts.days.clear()
            day_parts.starts.clear()
            day_parts.known = made
        return day_parts.known

    def _straight_form(self, inline: bool, day_parts: _DayParts, known: bool = False) -> Straight:
        """The straight run of `_straight`; `known`: its expressions in the two-valued form
        (`codegen_known`), which gives up where it meets a value not plainly known, and
        without catching the errors of healthcare-only work (both are left to a run of the
        three-valued form, which decides)."""
        pack = self.pack
        consts: dict[str, Any] = {
            "_U": Unknown,
            "_tv": table_values,
            "_merge": merge,
            "_wb": within_budget,
            "_VE": VALUE_ERRORS,
            "_WH": WITHHELD,
            "_withheld": withheld,
            "_wd": with_default,
            "_LIM": _LIMITED,
            "_NULL": NULL,
            "_MISS": _MISSING,
            "_KEY": _KEY_CLASSES,
            "_gu": give_up,
        }

        def const(value: Any) -> str:
            name = f"_c{len(consts)}"
            consts[name] = value
            return name

        # every expression is written in line: the names it reads are local variables of the
        # generated function (`_n<i>`), each set where its item is worked out in line, or on
        # first reading it through `N` (which works it out then, as the evaluator does)
        local: dict[str, str] = {}
        hoist: dict[str, str] = {}
        # a name worked out in line that is read before its turn is worked out by its own
        # generated function (`_g<i>`: its block of the straight run, then its value), not
        # through `N` and the item's work; read after its turn, it is the local variable
        in_line = {name for name in (*pack.definitions, *pack.outputs) if self._in_line(name)}
        # a name read before its turn is worked out then, by its work, as the evaluator does
        # the two-valued form works the names out in an order where each comes after every
        # name it reads (its value is the same in any order, and on any error the
        # three-valued form decides): none is read before its turn, so each is read as its
        # local variable, with no test of whether it is set yet
        turns = _dependency_order(pack) if known else (*pack.definitions, *pack.outputs)
        early_names = _read_before_turn(pack, turns)
        custodial = self.custodial

        def ready(name: str) -> bool:
            # worked out before any item after it reads it (so reading it runs no work)
            if name in pack.parameters or name in pack.vocabulary:
                return True
            return name in in_line and name not in early_names

        def sure(name: str) -> bool:
            # a definition worked out in line at its turn, by two-valued code whose value as a
            # whole is known (an operation's), and no error caught around it: its value is
            # never unknown where the two-valued form reads it
            if name in pack.parameters or name in pack.vocabulary:
                return True  # (plain data, or an error when not in force)
            d = pack.definitions.get(name)
            return (
                d is not None
                and name in in_line
                and name not in early_names
                and not (custodial and d.expr.healthcare)
                and not may_give_unknown(d.expr.compiled.checked)
            )

        fetched: set[str] = set()
        blocks_of: dict[str, int] = {}  # where each name's block of lines starts
        starts: set[int] = set()  # where each item's block of lines starts

        def var(name: str) -> str:
            found = local.get(name)
            if found is None:
                found = local[name] = f"_n{len(local)}"
            return found

        def parameter(name: str) -> str:
            # a parameter's value on the day is one of the day's parts (`m.day`, a tuple: a
            # lookup in `m`, a dict subclass, costs more), read once per function into its
            # own local; one not in force is read through `N`, which says so
            v = day_parts.parameter(name)
            return f"({v} if {v} is not _MISS else N({name!r}))"

        # a name read in line is written as a mark (`\0<i>\0`), resolved once the functions
        # are laid out (`resolve`): after the block that sets its local in the same function,
        # the local itself; anywhere else, the local if set, else the name worked out
        reads: list[tuple[str, str]] = []  # each mark's name and its code where not yet set
        sets: dict[str, int] = {}  # the names whose block always sets their local: its start

        def read_name(name: str) -> str:
            if name in pack.parameters:
                return parameter(name)
            v = var(name)
            # (after its turn too: the same text is a getter's, which may run before it)
            if inline and name in in_line:
                fetched.add(name)
                code = f"({v} if {v} is not _MISS else ({v} := _g{v[2:]}(m, rr, F, N)))"
            else:
                code = f"({v} if {v} is not _MISS else ({v} := N({name!r})))"
            reads.append((name, code))
            return f"\0{len(reads) - 1}\0"

        def resolve(blocks: list[tuple[int, list[str]]]) -> list[str]:
            """The lines of a function of these blocks (each with the line it starts at), each
            name read as its local where an earlier block of the function always sets it."""
            done: set[int] = set()
            out: list[str] = []

            def read(found: re.Match[str]) -> str:
                name, code = reads[int(found[1])]
                return local[name] if sets.get(name, -1) in done else code

            for start, block in blocks:
                out.extend(_MARK.sub(read, line) for line in block)
                done.add(start)
            return out

        def read_inner(name: str) -> str:
            # inside a quantifier's function: the local variable as it stands (a closure's
            # read), else through `N`, which works the name out and keeps it, as before
            if name in pack.parameters:
                return parameter(name)
            v = var(name)
            if order is not None and name in in_line and name not in early_names:
                # (the two-valued run in one function, each name after every name it reads:
                # the local variable is set before any quantifier reading it is called)
                return v
            return f"({v} if {v} is not _MISS else N({name!r}))"

        facts_read: dict[tuple[str, str], str] = {}
        helpers: list[str] = []  # the functions the expressions call (`InlineExpr.defs`)

        def read_fact(record: str, field: str) -> str:
            # a field of a fixed path into the facts: read once, where each function that
            # reads it starts (the facts do not change while a decision is made)
            found = facts_read.get((record, field))
            if found is None:
                found = facts_read[record, field] = f"_s_f{len(facts_read):04d}"
                hoist[found] = f"{record}.get({field!r})"
            return found

        def code(expr: M.Expression, tail: bool = True) -> str:
            # (`tail`: the value may be unknown; else, in the two-valued form, it gives up)
            fn = expr.compiled.fn
            if not inline:
                return f"{const(fn)}(F, N)"
            origin = fn.__code__.co_filename[1:-1]  # as compiled: `<origin>`
            if known:
                made = inline_known(
                    expr.compiled.checked,
                    f"{len(consts)}_",
                    read_name,
                    lambda name: name in proven or sure(name),
                    tail,
                    ready,
                    origin=origin,
                    read_inner=read_inner,
                    per_day=day_parts,
                    read_fact=read_fact,
                    loops=True,
                )
            else:
                made = inline_checked(
                    expr.compiled.checked,
                    f"{len(consts)}_",
                    read_name,
                    origin=origin,
                    read_inner=read_inner,
                    per_day=day_parts,
                    read_fact=read_fact,
                )
            consts.update(made.consts)
            consts[f"_k{len(consts)}_"] = None  # keeps each prefix its own
            helpers.extend(made.defs)
            hoist.update(made.hoist)
            return f"({made.body})"

        lines = ["def _all(m, rr, F, N):"]
        # the rule results as locals (`_q<i>`), handed over at the end as one tuple in the
        # order they were worked out (`m.rule_values`, see `_rules_in_order`), when that order
        # never depends on the facts; else each kept in `rr` as it is worked out
        order: dict[str, str] | None = {} if self._rules_in_order(known) else None

        as_is: dict[str, str] = {}  # the rule locals written as their value in the tuple

        def rule_slot(rid: str) -> str:
            """Where a rule's result is kept: its local in `order`, else its entry in `rr`."""
            if order is None:
                return f"rr[{rid!r}]"
            found = order.get(rid)
            if found is None:
                found = order[rid] = f"_q{len(order)}"
            return found

        # the two-valued form catches no error: healthcare-only work that fails is left to
        # the three-valued run, which withholds its value
        guarded = custodial and not known

        def rule_lines(rule: M.Rule, into: str) -> list[str]:
            """Lines setting `into` to a rule's result and keeping it (as its work does)."""
            if rule.versions and self.version.id not in rule.versions:
                body = [f"{into} = False"]
            elif rule.when is None:
                body = [f"{into} = True"]
            else:
                call = f"{into} = {code(rule.when)}"
                if custodial and rule.healthcare:
                    body = [call]
                    if guarded:
                        body = ["try:", f"    {call}", "except _VE:", f"    {into} = _WH"]
                    body.append(f"{into} = _withheld({into})")
                else:
                    body = [call]
            return [*body, f"{rule_slot(rule.id)} = {into}"]

        table_keys: dict[str, str] = {}

        def table_lines(table: M.Table, keep: bool) -> list[str]:
            """Lines setting `_rows` to a table's matched rows, worked out here when no one
            has read the table yet (as its work does); `keep`: the block always runs these
            lines, so the rows are kept in a local as well, read by the later blocks of the
            same function instead of being looked up again."""
            # (one constant per table: a later block finds the rows under the very same key)
            tkey = table_keys.get(table.id)
            if tkey is None:
                tkey = table_keys[table.id] = const(M.ItemKey("table", table.id))
            rows = f"<rows of {table.id}>"  # (no pack name is written so)
            reads.append((rows, f"m.get({tkey}, _MISS)"))
            body = [f"_rows = \0{len(reads) - 1}\0", "if _rows is _MISS:"]
            values = []
            for i, (_name, e) in enumerate(table.inputs):
                call = f"_i{i} = {code(e)}"
                if guarded and e.healthcare:
                    body += ["    try:", f"        {call}", "    except _VE:"]
                    body.append(f"        _i{i} = _WH")
                else:
                    body.append(f"    {call}")
                values.append(f"_i{i}, ")
            found = self._match(table)
            match = f"{const(found)}(_t)"
            # `_TableMatch` in line for values of the classes it keeps (every one hashable
            # and equal to itself): the rows kept for them, else the call
            plain = " and ".join(f"_i{i}.__class__ in _KEY" for i in range(len(values)))
            body.append(f"    _t = ({''.join(values)})")
            body.append(f"    if {plain} and (_rows := {const(found.found)}.get(_t)) is not None:")
            body.append("        _rows = _rows.copy() if _rows.__class__ is list else _rows")
            body.append("    else:")
            body.append(f"        _rows = {match}")
            body.append(f"    m[{tkey}] = _rows")
            if keep:
                body.append(f"{var(rows)} = _rows")
                sets.setdefault(rows, len(lines))  # (the block about to be emitted)
            return body

        def emit(
            key: str,
            table: str,
            value: str,
            guard: bool,
            hide: bool,
            pre: tuple[str, ...] = (),
            post: tuple[str, ...] = (),
            name: str | None = None,
            early: bool = True,
            slot: str | None = None,
        ) -> None:
            # (`early`: the item may have been worked out before its turn, so is looked for;
            # `slot`: where the value is kept, when not `table[key]`)
            starts.add(len(lines))
            # (in the two-valued form, `m.get`, not `in m` and `m[...]`: on a subclass of
            # dict, these two call a method of the class each time)
            if early and table == "m" and known:
                lines.append(f"    if (_v := m.get({key}, _MISS)) is _MISS:")
            elif early:
                lines.append(f"    if {key} not in {table}:")
            at = "        " if early else "    "
            if slot is not None and not (early or guard or hide or pre or post or name):
                # a value kept in a local of its own (a rule's result), set in one line; a
                # truth value written as it is, or another rule's local, is written straight
                # into the tuple of the results instead (`as_is`)
                if order is not None and (value in _TRUTHS or value in order.values()):
                    as_is[slot] = value
                    return
                lines.append(at + f"{slot} = {value}")
                return
            if known and name is not None and not (early or hide or post or slot):
                # a name's value into its local and the state at once (no error is caught
                # in the two-valued form: `guard` is not written there)
                lines.extend(at + line for line in pre)
                lines.append(at + f"{var(name)} = {table}[{key}] = {value}")
                sets[name] = blocks_of[name]
                return
            body = [*pre, f"_v = {value}", *post]
            if guard and not known:
                lines.append(at + "try:")
                lines.extend(at + "    " + line for line in body)
                lines.extend([at + "except _VE:", at + "    _v = _WH"])
            else:
                lines.extend(at + line for line in body)
            if hide:
                lines.append(at + "_v = _withheld(_v)")
            lines.append(at + f"{slot or f'{table}[{key}]'} = _v")
            if name is not None:
                lines.append(at + f"{var(name)} = _v")
                if early:  # worked out before its turn: its value, read into the local
                    read = "_v" if known else f"m[{key}]"
                    lines.extend(["    else:", f"        {var(name)} = {read}"])
                sets[name] = blocks_of[name]

        def budget(
            kind: str, key: str, *exprs: M.Expression | None, bounded: bool = False
        ) -> tuple[str, ...]:
            # `within_budget` in line: only these classes of value can be past a budget, and
            # only past these sizes (a value near one is left to `within_budget` to decide);
            # none at all when the static types of what gives the value rule those classes
            # out, or what gives it is surely within the budgets (`bounded`, `_bounded`)
            if (
                bounded
                or all(e is None or _bounded(pack, e.checked, e.checked.node) for e in exprs)
                and exprs
            ):
                return ()
            test = f"_v.bit_length() > {MAX_INT_BITS} if _v.__class__ is int else len(_v) > {_SIZE}"
            return (f"if _v.__class__ in _LIM and ({test}): _v = _wb({kind!r}, {key}, _v)",)

        def defaulted(out: M.Output, key: str) -> tuple[str, ...]:
            # `with_default` then `within_budget`, in line, on the raw result in `_v`
            default = code(out.default) if out.default else "_NULL"
            lines = [f"if _v is None: _v = {default}"]
            if out.mode != "value" and out.default:
                lines.append(f"elif isinstance(_v, list) and not _v: _v = {default}")
            given = (out.expr, out.default) if out.mode == "value" else ()
            return (*lines, *budget("output", key, *given, bounded=bounded_output(out)))

        def bounded_output(out: M.Output) -> bool:
            # an output set by rules or read from a table: its value is one of the values
            # its rules or rows give (or a list of them, no longer than they are many), or
            # its default
            if out.default and not _bounded(pack, out.default.checked, out.default.checked.node):
                return False
            if out.mode == "rules":
                setting = pack.rules_setting.get(out.name, ())
                if out.combine == "any":
                    return True
                if out.combine != "first":
                    return len(setting) <= MAX_LIST
                given = [e for _, e in setting]
            elif out.mode == "table":
                table = pack.tables[str(out.table)]
                if table.hit == "collect":
                    return len(table.rows) <= MAX_LIST
                given = [e for row in table.rows for col, e in row.then if col == out.name]
            else:
                return False
            return all(_bounded(pack, e.checked, e.checked.node) for e in given)

        # a name is worked out before its turn only when an item before it reads it, itself
        # or through what it reads (names, tables, rules): any other is worked out at its
        # turn, so is not looked for first (`early_names`)
        # a rule only one output reads, in line, is surely not worked out before that
        # output's block reaches it (`fresh`); when that block always reaches it (the output
        # keeps every rule's value and no error is caught around it), it is surely worked
        # out by its turn, so is left out there (`settled`)
        readers: dict[str, list[str]] = {}
        for out_name, setting in pack.rules_setting.items():
            for r, _ in setting:
                readers.setdefault(r.id, []).append(out_name)
        fresh: set[str] = set()
        settled: set[str] = set()
        for rid, outs in readers.items():
            if len(outs) == 1 and self._in_line(outs[0]):
                fresh.add(rid)
                reader = pack.outputs[outs[0]]
                if reader.combine not in ("first", "any") and not (custodial and reader.healthcare):
                    settled.add(rid)
        proven = self._proven(turns, early_names, in_line, sure, settled) if known else set()
        for name in turns:
            early = name in early_names
            key = repr(name)
            work = self.work[name]
            blocks_of[name] = len(lines)
            starts.add(len(lines))
            d = pack.definitions.get(name)
            out = pack.outputs.get(name)
            if not self._in_line(name):
                test = f"m.get({key}, _MISS) is _MISS" if known else f"{key} not in m"
                lines += [f"    if {test}:", f"        {const(work)}(m)"]
            elif d is not None:
                value = code(d.expr, tail=not sure(name))
                post = budget("definition", key, d.expr)
                emit(key, "m", value, custodial and d.expr.healthcare, False, (), post, name, early)
            elif out is not None and out.mode == "value":
                assert out.expr is not None
                value = code(out.expr)
                guard, hide = custodial and out.healthcare, custodial and out.releasable
                emit(key, "m", value, guard, hide, (), defaulted(out, key), name, early)
            elif out is not None and out.mode == "rules":
                setting = pack.rules_setting.get(name, ())
                pre = _from_rules_lines(out, setting, code, rule_lines, fresh)
                guard, hide = custodial and out.healthcare, custodial and out.releasable
                emit(key, "m", "_r", guard, hide, pre, defaulted(out, key), name, early)
            elif out is not None and out.mode == "table":
                table = pack.tables[str(out.table)]
                guard, hide = custodial and out.healthcare, custodial and out.releasable
                # (a block looked for first, or whose errors are caught, may not set them)
                keep = not early and not (guard and not known)
                values = const(_TableValues(table, name))
                fixed = _fixed_values(table, name)
                named = _named_values(pack, table, name)
                if (fixed or named) and table.hit != "collect":
                    # one matched row whose value is written as a constant: that value, read
                    # from the row's entry; as a name: that name's value (any other case by
                    # `_TableValues`)
                    pre = (
                        *table_lines(table, keep),
                        "if _rows.__class__ is _U:",
                        "    _r = _rows",
                        "elif _rows.__class__ is not list or len(_rows) != 1:",
                        f"    _r = {values}(_rows, F, N)",
                    )
                    if fixed:
                        pick = f"(_r := {const(fixed)}.get(id(_rows[0]), _MISS)) is not _MISS"
                        pre += (f"elif {pick}:", "    pass")
                    if named:
                        pick = f"(_r := {const(named)}.get(id(_rows[0]), _MISS)) is not _MISS"
                        pre += (f"elif {pick}:", "    _r = N(_r)")
                    pre += ("else:", f"    _r = {values}(_rows, F, N)")
                elif known and table.hit != "collect":
                    # one matched row whose one value for the output is its expression: that
                    # expression's function called, without `_TableValues` (the two-valued
                    # form: any other case by `_TableValues`)
                    pre = (
                        *table_lines(table, keep),
                        "if _rows.__class__ is _U:",
                        "    _r = _rows",
                        "elif _rows.__class__ is list and len(_rows) == 1 and (",
                        f"    _r := {const(_row_functions(table, name))}.get(id(_rows[0]))",
                        ") is not None:",
                        "    _r = _r(F, N)",
                        "else:",
                        f"    _r = {values}(_rows, F, N)",
                    )
                else:
                    pre = (
                        *table_lines(table, keep),
                        f"_r = _rows if _rows.__class__ is _U else {values}(_rows, F, N)",
                    )
                emit(key, "m", "_r", guard, hide, pre, defaulted(out, key), name, early)
            if name in proven:  # (tested once here, read without a test: see `_proven`)
                lines.append(f"    if {var(name)}.__class__ is _U: _gu()")
        # a rule is worked out before its turn only by an output set by rules (no expression
        # reads a rule): any other is worked out at its turn, without looking for it first
        read_early = {r.id for setting in pack.rules_setting.values() for r, _ in setting}
        # a rule whose condition is written as an earlier rule's (and is more than a name or
        # a literal) takes that rule's result, which is in `rr` by its turn: the language has
        # no side effects, so the same text gives the same value (or the same error, raised
        # first by the earlier rule)
        first_of: dict[tuple[str, bool], str] = {}
        for rule in pack.rules:
            in_force = not rule.versions or self.version.id in rule.versions
            plain = rule.when is None or isinstance(rule.when.checked.node, A.Lit | A.Name)
            if rule.id in settled:  # (worked out before any rule's turn)
                if in_force and not plain:
                    assert rule.when is not None
                    first_of.setdefault((rule.when.text, custodial and rule.healthcare), rule.id)
                continue
            key = repr(rule.id)
            early = rule.id in read_early
            assert not (early and order is not None)  # (then no rule is looked for first)
            if not in_force:
                emit(key, "rr", "False", False, False, early=early, slot=rule_slot(rule.id))
            elif rule.when is None:
                emit(key, "rr", "True", False, False, early=early, slot=rule_slot(rule.id))
            else:
                hide = custodial and rule.healthcare
                same = (rule.when.text, hide)
                if same in first_of:
                    emit(
                        key,
                        "rr",
                        rule_slot(first_of[same]),
                        False,
                        False,
                        early=early,
                        slot=rule_slot(rule.id),
                    )
                    continue
                if not plain:
                    first_of[same] = rule.id
                value = code(rule.when)
                emit(key, "rr", value, hide, hide, early=early, slot=rule_slot(rule.id))
        # one function per hundred items, called in turn: compiling one function costs more
        # than linear time in its length, which would tell on a pack of thousands of rules
        blocks: list[tuple[int, list[str]]] = []
        for i, line in enumerate(lines[1:], 1):
            if i in starts:
                blocks.append((i, []))
            blocks[-1][1].append(line)
        parts = [blocks[i : i + _PART] for i in range(0, len(blocks), _PART)]
        # each name read in line: its own function, the same block then its value
        getters: list[tuple[str, list[str], list[str]]] = []
        for name in sorted(fetched, key=lambda n: int(local[n][2:])):
            start = blocks_of[name]
            end = start + 1
            while end < len(lines) and end not in starts:
                end += 1
            # a name already worked out (by the straight run or another getter) is returned
            # before the getter reads anything into its locals; in the two-valued form, the
            # block leaves the name's value in its local, whether it worked it out or not
            if known:
                block = [*resolve([(start, lines[start:end])]), f"    return {local[name]}"]
                first = [
                    f"    if (_v := m.get({name!r}, _MISS)) is not _MISS:",
                    "        return _v",
                ]
            else:
                block = [*resolve([(start, lines[start:end])]), f"    return m[{name!r}]"]
                first = [f"    if {name!r} in m:", f"        return m[{name!r}]"]
            if lines[start] in (
                f"    if (_v := m.get({name!r}, _MISS)) is _MISS:",
                f"    if {name!r} not in m:",
            ):
                # the block looks for the name first itself: one look is enough (what the
                # function reads into its locals before it is plain reads of the run's state)
                first = []
            getters.append((f"def _g{local[name][2:]}(m, rr, F, N):", first, block))
        functions = getters + [
            (f"def _part{i}(m, rr, F, N):", [], resolve(part)) for i, part in enumerate(parts)
        ]
        day_hoist = day_parts.hoist()
        hoist.update(day_hoist)
        for v, c in hoist.items():  # (read when a function starts: no local is set yet)
            hoist[v] = _MARK.sub(lambda found: reads[int(found[1])][1], c)
        source: list[str] = [*helpers]
        stored: tuple[Any, ...] | None = None
        if known:
            tables = {table_id: consts[c] for table_id, c in table_keys.items()}
            stored = self._stored(turns, early_names, len(parts), tables)
        # the two-valued run in one function that stores each key once, and hands its rule
        # results over as one tuple: run on a plain dict (`_DayParts.plain`)
        plain = stored is not None and order is not None and not self._reads_vocabulary()
        for head, first, body in functions:
            if plain and head.startswith("def _part"):
                text = "\n".join(body) + "\n".join(
                    c for v, c in hoist.items() if v not in day_hoist
                )
                if _PLAIN_STATE.search(text) is None:
                    head = "def _part0(m, day, F, N):"
                else:  # (an engine bug: the run reads more of its state than its values)
                    plain = False
            source.append(head)
            source.extend(first)
            used = set(_WORDS.findall("\n".join(body)))
            more = used
            while more:  # and what the code of each hoisted local reads, in turn
                more = {w for v in more if v in hoist for w in _WORDS.findall(hoist[v])} - used
                used |= more
            parts_read = [v for v in day_hoist if v in used]
            if plain and head.startswith("def _part") and parts_read:
                # (the parts of the day handed over as they are, see `_DayParts.plain`)
                source.append(f"    ({''.join(v + ', ' for v in day_hoist)}) = day")
                used -= set(day_hoist)
            elif known and len(parts_read) >= _UNPACKED:
                # every part of the day in one unpacking of `m.day`, not a read of each (the
                # two-valued form is made last: no part joins the tuple after it)
                source.append(f"    ({''.join(v + ', ' for v in day_hoist)}) = m.day")
                used -= set(day_hoist)
            source.extend(f"    {v} = {c}" for v, c in sorted(hoist.items()) if v in used)
            # (a local read only where an earlier block has set it needs no first value)
            text = "\n".join(body)
            names = [v for v in local.values() if v in used and f"{v} is not _MISS" in text]
            if names:
                source.append(f"    {' = '.join(names)} = _MISS")
            source.extend(body)
            if head.startswith("def _part"):
                if order is not None:  # (one part: see `_rules_in_order`)
                    values = "".join(as_is.get(v, v) + ", " for v in order.values())
                    if plain:  # (returned, see `_DayParts.plain`)
                        source.append(f"    return ({values})")
                        continue
                    source.append(f"    m.rule_values = ({values})")
                source.append("    return None")
        if len(parts) == 1:  # (the one part is the run: no call around it)
            source.append("_all = _part0")
        else:
            source.append("def _all(m, rr, F, N):")
            source.extend(f"    _part{i}(m, rr, F, N)" for i in range(len(parts)))
            source.append("    return None")
        namespace: dict[str, Any] = {**GLOBALS, **consts}
        if known:
            assert order is None or len(order) == len(pack.rules)  # (every rule, once)
            day_parts.rule_ids = None if order is None else tuple(order)
            day_parts.stored = stored
            day_parts.plain = plain
        title = f"<program: {pack.id}, two-valued>" if known else f"<program: {pack.id}>"
        compiled = disk_cache.compiled("\n".join(source) + "\n", title)

        exec(compiled, namespace)  # noqa: S102  (generated from the checked pack, not from input)
        made: Straight
        made = namespace["_all"]
        return made

    def _proven(
        self,
        turns: tuple[str, ...],
        early: set[str],
        in_line: set[str],
        sure: Callable[[str], bool],
        settled: set[str],
    ) -> set[str]:
        """The names the two-valued straight run may test once, where it works them out, and
        then read without a test: each worked out in line at its turn (a value that may be
        unknown), that a block the run always goes through reads with a test that gives up
        on an unknown value (`tested_reads`), whatever the facts. When the value is unknown
        the run gives up either way (the three-valued form decides), only sooner."""
        pack, custodial = self.pack, self.custodial
        read: set[str] = set()
        for name in turns:  # the blocks of definitions and outputs worked out at their turn
            if name in early or name not in in_line:
                continue
            d, out = pack.definitions.get(name), pack.outputs.get(name)
            if d is not None and not (custodial and d.expr.healthcare):
                read |= tested_reads(d.expr.compiled.checked, not sure(name))
            elif out is not None and out.mode == "value" and out.expr is not None:
                if not (custodial and (out.healthcare or out.releasable)):
                    read |= tested_reads(out.expr.compiled.checked)
        looked_for = {r.id for setting in pack.rules_setting.values() for r, _ in setting}
        for rule in pack.rules:  # the rules worked out at their turn, each at once
            if rule.when is None or rule.id in settled or rule.id in looked_for:
                continue
            if rule.versions and self.version.id not in rule.versions:
                continue
            if not (custodial and rule.healthcare):
                read |= tested_reads(rule.when.compiled.checked)
        proven = set()
        for name in read:
            if name in early or name not in in_line or sure(name):
                continue
            d, out = pack.definitions.get(name), pack.outputs.get(name)
            if d is not None:
                if not (custodial and d.expr.healthcare):
                    proven.add(name)
            elif out is not None and not (custodial and (out.healthcare or out.releasable)):
                proven.add(name)
        return proven

    def _stored(
        self, turns: tuple[str, ...], early: set[str], parts: int, tables: dict[str, Any]
    ) -> tuple[Any, ...] | None:
        """The keys the two-valued straight run (of `turns`, in one function) stores into its
        state, in the order it stores them, when it stores each, once, wherever it goes: no
        name is worked out before its turn (`early`: none) and every one is worked out in
        line at its turn, a table's rows by the first output read from it; else None.

        Such a run reads a name only once it has stored it (each comes after every name it
        reads, directly or through tables and rules), and reads the rows of a table with
        `m.get(key, _MISS)` before storing them: so it may start from a state holding every
        key it stores as `_MISSING` (`_DayParts.template`), which it finds as if absent. That
        state is made by copying a dict of the size it grows to, not grown as the run stores
        (a run that gives up is run again from a clean state). Each key is the very object
        the run stores under (`tables`: the key of each table's rows, by table id; a name,
        interned as the run's text has it), so that finding it compares no text."""
        pack = self.pack
        if early or parts != 1 or not all(self._in_line(name) for name in turns):
            return None
        stored: list[Any] = []
        for name in turns:
            out = pack.outputs.get(name)
            if out is not None and out.mode == "table":
                key = tables[pack.tables[str(out.table)].id]
                if key not in stored:
                    stored.append(key)
            stored.append(sys.intern(name))
        if set(stored) & set(pack.parameters) or len(set(stored)) != len(stored):
            return None  # (the checker rejects a name given twice: an engine bug)
        return tuple(stored)

    def _reads_vocabulary(self) -> bool:
        """Whether an expression of the pack reads a vocabulary by name: a two-valued run on
        a plain dict would give up there (a vocabulary is worked out when first read, by the
        lookup of `Names`, and is no key the run stores)."""
        pack = self.pack
        return any(
            name in pack.vocabulary
            for _, e in pack.expressions()
            for name in A.free_names(e.checked.node)
        )

    def _rules_in_order(self, known: bool) -> bool:
        """Whether the two-valued straight run (`known`) keeps its rule results as locals,
        handed over as one tuple: when every rule is worked out at one place of one function
        that it always reaches, so that the order they are worked out in is the same for
        every document (that of the tuple). A rule one output reads is then worked out in
        that output's block, which keeps every rule's value (`settled`), and that output is
        worked out at its turn, never before."""
        if not known:
            return False
        pack = self.pack
        readers: dict[str, list[str]] = {}
        for out_name, setting in pack.rules_setting.items():
            for r, _ in setting:
                readers.setdefault(r.id, []).append(out_name)
        early = _read_before_turn(pack, _dependency_order(pack))
        for outs in readers.values():
            reader = pack.outputs[outs[0]]
            if (
                len(outs) != 1
                or not self._in_line(outs[0])
                or outs[0] in early
                or reader.combine in ("first", "any")
                or (self.custodial and reader.healthcare)
            ):
                return False
        blocks = len(pack.definitions) + len(pack.outputs) + len(pack.rules) - len(readers)
        return blocks <= _PART

    def _in_line(self, name: str) -> bool:
        """Whether the straight run works `name` out in line (else by its work): a definition
        or output whose work is the one made for it, but not an output of very many rules."""
        work = self.work.get(name)
        d = self.pack.definitions.get(name)
        if d is not None:
            return work is self._made.get(("def", name))
        out = self.pack.outputs.get(name)
        if out is None or work is not self._made.get(("out", name)):
            return False
        if out.mode == "value":
            return out.expr is not None
        if out.mode == "rules":  # a long one: by its work
            return len(self.pack.rules_setting.get(name, ())) <= _PART
        return out.mode == "table"

    # -- running ---------------------------------------------------------------------------

    def parameters(self, day: dt.date) -> dict[Any, Any]:
        """The parameter values in force on `day`, by name (worked out once per day)."""
        found = self._parameters.get(day)
        if found is None:
            if len(self._parameters) > 4096:
                self._parameters.clear()
            found = {}
            for name, param in self.pack.parameters.items():
                pv = param.at(day)
                if pv is not None:
                    found[name] = M.thawed(pv.value)
            self._parameters[day] = found
        return found

    def _day(
        self, day_parts: _DayParts, as_of: dt.date
    ) -> tuple[dict[Any, Any], tuple[Any, ...], dict[Any, Any]]:
        """What a run on `as_of` starts from: the parameters in force, the values of the
        parts of the day a straight run reads (kept with its `_DayParts`), and the state its
        two-valued form starts from (`Program._stored`; else the parameters alone)."""
        days = day_parts.starts
        found = days.get(as_of)
        if found is None:
            if len(days) > 4096:
                days.clear()
            values = day_parts.values(as_of) if day_parts.fns else ()
            parameters = self.parameters(as_of)
            found = days[as_of] = (parameters, values, day_parts.template(parameters))
        return found

    def run(
        self,
        facts: dict[str, Any],
        as_of: dt.date,
        version_id: str | None = None,
        owned: bool = False,
    ) -> Evaluation:
        """Every name, output and rule worked out, as `Evaluation(...).run()` leaves them.
        `owned`: `facts` is the caller's own dict, which nobody else holds or reads after
        (prepared for this decision alone): the run adds `as_of` and `version` to it and
        keeps it as the evaluation's facts, instead of a copy of it."""
        if not self.inlined:
            self._runs += 1
            if self._runs >= INLINE_AFTER:
                self._run = self._straight(inline=True)
                self.inlined = True
        run_all, day_parts = self._run
        known = day_parts.known or self._known(day_parts)
        day = day_parts.starts.get(as_of) or self._day(day_parts, as_of)
        # (a copy and two stores: the same dict as `{**facts, ...}`, in fewer instructions;
        # the dict itself when it is the caller's own: the same keys in the same order)
        F = facts if owned else facts.copy()
        F["as_of"] = as_of
        F["version"] = self._version_id
        trying = None if day_parts.resting else known  # (the two-valued form, when tried)
        decided = False
        m: dict[Any, Any]
        values: tuple[Any, ...]  # (the rule results a two-valued run hands over)
        if trying is not None and day_parts.plain:
            # (on a plain dict, see `_DayParts.plain`)
            tried = day_parts.tried = day_parts.tried + 1
            if tried >= _REVIEW:
                day_parts.review()
            m = day[2].copy()
            try:
                values = trying(m, day[1], F, m.__getitem__)
            except Exception:  # noqa: BLE001  (gave up, or failed: the three-valued run decides)
                day_parts.gave_up += 1
                m = names = self._names(day, F)  # (a clean state: nothing the attempt left)
                rules = names.rules
            else:
                decided = True
        else:
            # (`_names`, in line: the run's empty state; for the two-valued form, the same
            # with every key it stores held as not yet worked out, see `Program._stored`)
            m = names = Names(day[0] if trying is None else day[2])
            names.day = day[1]
            names.F = F
            names.work = self.work
            rules = {}
            names.rules = rules
            if trying is not None:
                tried = day_parts.tried = day_parts.tried + 1
                if tried >= _REVIEW:
                    day_parts.review()
                try:
                    trying(names, rules, F, names.__getitem__)
                except Exception:  # noqa: BLE001  (gave up, or failed: as above)
                    day_parts.gave_up += 1
                    m = names = self._names(day, F)  # (a clean state: as above)
                    rules = names.rules
                else:
                    decided = True
                    if day_parts.rule_ids is not None:  # (kept in the state: see `Names`)
                        values = names.rule_values
            elif known is not None:
                day_parts.resting -= 1
        if not decided:
            try:
                run_all(names, rules, F, names.__getitem__)
            except VALUE_ERRORS:
                # the rare path: an error somewhere, which stops the decision only where what
                # it decides reads it (definitions are lazy as far as errors go): the
                # interpreter works that out, raising the decision's error or leaving the
                # state of a decision
                return self._interpreted(facts, as_of, version_id)
        # `Evaluation.finished`, without its call: each field set in the order `__init__`
        # sets them, so the object keeps the compact layout (and fast reads) of the others
        ev = _new_evaluation(Evaluation)
        ev.pack = self.pack
        ev.custodial = self.custodial
        ev.record = False
        ev.version = self.version
        ev.version_id = version_id
        ev.as_of = as_of
        ev.F = F
        ev.memo = m
        ev.failed = self._failed  # (none: a run that meets an error is the interpreter's)
        ev.steps = []
        if decided and day_parts.rule_ids is not None:
            # the rule results as one tuple: made a dict when first read (`Evaluation`)
            ev.rule_values = (day_parts.rule_ids, values)
        else:
            ev.rule_results = rules
        return ev

    def _names(self, day: tuple[Any, ...], F: dict[str, Any]) -> Names:
        """A run's empty state: the day's parameters and parts, the facts, no rule results."""
        m = Names(day[0])
        m.day = day[1]
        m.F = F
        m.work = self.work
        m.rules = {}
        return m

    def _interpreted(
        self, facts: dict[str, Any], as_of: dt.date, version_id: str | None
    ) -> Evaluation:
        """`Evaluation.run`'s state for these facts (no steps kept), or the error it stops on."""
        ev = Evaluation(self.pack, facts, as_of, self.custodial, version_id, record=False)
        ev.run()
        return ev


_new_evaluation = object.__new__


class _DayParts(PerDay):
    """The parts of a program's expressions that depend only on the day (`as_of`, parameters
    and literals: `as_of - 6 days`, `minutes(a_parameter)`), each read in the program from
    `m.day` (the local `_s_d<i>`), else worked out where it stands, as before."""

    def __init__(self, program: Program):
        self.program = program
        self.fns: list[Callable[..., Any]] = []
        self.days: dict[dt.date, tuple[Any, ...]] = {}
        # the straight run in the two-valued form, tried first (it reads these parts too),
        # made on first use when the three-valued one is written in line
        self.known: Straight | None = None
        # the rules in the order of the tuple of their results it hands over, if it does
        # (`Program._rules_in_order`), else None
        self.rule_ids: tuple[str, ...] | None = None
        # the keys it stores into its state, in order, when it may start from a state holding
        # them all (`Program._stored`), else None
        self.stored: tuple[Any, ...] | None = None
        # whether it runs on a plain dict (a copy of `template`) instead of `Names`: with
        # every key it stores there from the start (`stored`) and its rule results handed
        # over as one tuple, the run reads nothing of its state but values (by `m.get`, and
        # by `N`, which is the dict's own lookup); it is called as `(m, day, F, N)`, the
        # parts of the day handed over as they are, and returns the tuple of rule results.
        # Stores into a plain dict take the interpreter's specialised path, which stores
        # into a subclass of dict do not. A name it reads that is not there (a vocabulary
        # or a parameter not in force, as the run meets them) raises KeyError: the run
        # gives up, and the three-valued form decides, as on any other exception.
        self.plain = False
        self.inline = False
        # the parts that are a parameter's value, by parameter name (`parameter`)
        self.parameters: dict[str, str] = {}
        # the other parts, by (checked expression, node) (`part`)
        self.of_node: dict[tuple[int, int], str] = {}
        # runs of the two-valued form since the last review, and how many gave up; runs
        # left before it is tried again, after too many gave up (`review`)
        self.tried = self.gave_up = self.resting = 0
        # the parameters in force and these values, by day (`Program._day`)
        self.starts: dict[dt.date, tuple[dict[Any, Any], tuple[Any, ...], dict[Any, Any]]] = {}

    def template(self, parameters: dict[Any, Any]) -> dict[Any, Any]:
        """The state the two-valued straight run starts from on a day with these parameters
        in force: the parameters, then every key it stores, as not yet worked out (a dict of
        the size the state grows to, which `Names` copies whole); else the parameters."""
        if self.stored is None:
            return parameters
        return {**parameters, **dict.fromkeys(self.stored, _MISSING)}

    def review(self) -> None:
        """When more than half of the two-valued form's last runs gave up, rest it for a
        while: documents with facts missing come together, and each would pay for both."""
        if self.gave_up * 2 > self.tried:
            self.resting = _REST
        self.tried = self.gave_up = 0

    def is_parameter(self, name: str) -> bool:
        return name in self.program.pack.parameters

    def part(self, checked: Checked, node: A.Node, code: str) -> str:
        # one local variable for a part written more than once (a quantifier's body written
        # twice, `codegen_known._eager`; the same expression in both forms of the run)
        v = self.of_node.get((id(checked), id(node)))
        if v is None:
            v = self.of_node[id(checked), id(node)] = f"_s_d{len(self.fns)}"
            self.fns.append(compile_part(checked, node, origin="part of the day"))
        return f"({v} if {v} is not _MISS else {code})"

    def parameter(self, name: str) -> str:
        """The local variable a parameter's value on the day is read into (from `m.day`: the
        value, or `_MISSING` on a day it is not in force)."""
        found = self.parameters.get(name)
        if found is None:
            found = self.parameters[name] = f"_s_d{len(self.fns)}"
            self.fns.append(_parameter_part(name))
        return found

    def hoist(self) -> dict[str, str]:
        """The local variables the parts are read into, with the code that reads each."""
        return {f"_s_d{i}": f"m.day[{i}]" for i in range(len(self.fns))}

    def values(self, day: dt.date) -> tuple[Any, ...]:
        """Each part's value on `day`, worked out once a day: a part that fails (a parameter
        not in force, a date out of range) is left to each decision, to fail where it stands."""
        found = self.days.get(day)
        if found is not None:
            return found
        program = self.program
        F = {"as_of": day, "version": program.version.id}
        N = program.parameters(day).__getitem__
        out = []
        for fn in self.fns:
            try:
                out.append(fn(F, N))
            except Exception:  # noqa: BLE001  (worked out again in the decision, which fails)
                out.append(_MISSING)
        if len(self.days) > 4096:
            self.days.clear()
        found = self.days[day] = tuple(out)
        return found


def _parameter_part(name: str) -> Callable[..., Any]:
    """A part of the day that is a parameter's value (read through the day's `N`, which
    fails for a parameter not in force: the part is then left to each decision)."""

    def part(F: dict[str, Any], N: Callable[[Any], Any]) -> Any:
        return N(name)

    return part


class _TableMatch:
    """`match_rows` for one table and audience, kept by input values: the rows that match
    depend on the values only through equality (`in` a row's allowed values), so equal known
    values always match the same rows. Unknown, unhashable or unequal-to-itself values are
    matched afresh. The matched list is the program's own; each evaluation gets a copy."""

    __slots__ = ("custodial", "found", "names", "table")

    def __init__(self, table: M.Table, custodial: bool):
        self.table = table
        self.custodial = custodial
        self.names = tuple(name for name, _ in table.inputs)
        self.found: dict[tuple[Any, ...], Any] = {}

    def __call__(self, values: tuple[Any, ...]) -> Any:
        for v in values:
            if v.__class__ is Unknown or v != v:
                return self._match(values)
        found = self.found
        try:
            rows = found.get(values)
        except TypeError:  # a list or record among the inputs
            return self._match(values)
        if rows is None:
            if len(found) > 4096:  # one entry per combination of values: keep memory bounded
                found.clear()
            rows = found[values] = self._match(values)
        return rows.copy() if rows.__class__ is list else rows

    def _match(self, values: tuple[Any, ...]) -> Any:
        return match_rows(self.table, dict(zip(self.names, values, strict=True)), self.custodial)


class _TableValues:
    """`table_values` for one output of one table: each row's expressions for the output
    found once, not by searching the row's columns on every decision (a row of another
    table, which the program never matches, would be looked up the general way)."""

    __slots__ = ("fns", "hit", "name", "rows")

    def __init__(self, table: M.Table, name: str):
        self.name = name
        self.hit = table.hit
        self.rows = table.rows  # keeps each row, so its id stays its own
        self.fns = {
            id(row): tuple(e.compiled.fn for col, e in row.then if col == name)
            for row in table.rows
        }

    def __call__(self, rows: Any, F: dict[str, Any], N: Callable[[Any], Any]) -> Any:
        fns = self.fns
        values = []
        for row in rows:
            found = fns.get(id(row))
            if found is None:
                return table_values(self.name, self.hit, rows, F, N)
            for fn in found:
                values.append(fn(F, N))
        if self.hit == "collect":
            return values
        return values[0] if values else None


def _read_before_turn(pack: M.Pack, turns: tuple[str, ...]) -> set[str]:
    """The definitions and outputs that an item coming before them in the straight run's
    order (`turns`: its definitions and outputs in turn) reads, directly or through the
    names, tables and rules it reads: only these can be worked out before their turn."""
    early: set[str] = set()
    reached: set[M.ItemKey] = set()  # every item read by an item already passed, and those
    for name in turns:
        key = M.ItemKey("def" if name in pack.definitions else "out", name)
        if key in reached:  # (then so is every item it reads)
            early.add(name)
        else:
            reached |= pack.closure([key])
    return early


def _dependency_order(pack: M.Pack) -> tuple[str, ...]:
    """The pack's definitions and outputs, each after every one it reads (directly or through
    tables and rules), else in the pack's order: the order of the two-valued straight run.
    The pack's own order should the names read each other in a cycle (which the checker
    rejects)."""
    order: list[str] = []
    done: set[M.ItemKey] = set()
    on_path: set[M.ItemKey] = set()

    def visit(key: M.ItemKey) -> bool:
        if key in done:
            return True
        if key in on_path:
            return False
        on_path.add(key)
        # (the items it reads in the pack's order: the same order whatever the hash seed)
        for dep in sorted(pack.dependencies.get(key, ()), key=lambda k: rank.get(k, (9, k))):
            if not visit(dep):
                return False
        on_path.discard(key)
        done.add(key)
        if key.kind in ("def", "out") and (
            key.name in pack.definitions if key.kind == "def" else key.name in pack.outputs
        ):
            order.append(key.name)
        return True

    keys = [M.ItemKey("def", name) for name in pack.definitions]
    keys += [M.ItemKey("out", name) for name in pack.outputs]
    every = [*keys, *(M.ItemKey("table", t) for t in pack.tables)]
    every += [M.ItemKey("rule", r.id) for r in pack.rules]
    rank = {key: (i, key) for i, key in enumerate(every)}
    if not all(visit(key) for key in keys) or len(order) != len(keys):
        return (*pack.definitions, *pack.outputs)
    return tuple(order)


def _within(value: Any) -> bool:
    """Whether a value is within every runtime budget (`within_budget` lets it pass)."""
    try:
        within_budget("value", "", value)
    except EvaluationError:
        return False
    return True


# functions whose value is within the budgets whatever their arguments (a whole number no
# longer than a list or text is, a truth value, a date or duration), or whenever every
# argument's value is (`unique` keeps some items of a list; `coalesce` gives an argument)
_BOUNDED_CALLS = frozenset({"len", "days", "minutes", "known", "is_none"})
_BOUNDED_BY_ARGS = frozenset({"unique", "coalesce"})


def _bounded(pack: M.Pack, checked: Checked, node: A.Node) -> bool:
    """Whether every value `node` can give is surely within the runtime budgets, so that
    the straight run need not look: a kind of value no budget limits, a fact (the facts'
    own limits are tighter), a literal, parameter or vocabulary within them, a name already
    checked when worked out, or what is built from these alone by choosing one of them
    (`if`, `coalesce`), keeping some of a list's items (`filter`, `unique`) or counting."""
    info = checked.info.get(id(node))
    if info is not None and (info.type.kind in _UNLIMITED_KINDS or info.path is not None):
        return True
    if isinstance(node, A.Lit):
        return _within(node.value)
    if isinstance(node, A.ListLit):
        return len(node.items) <= MAX_LIST
    if isinstance(node, A.RecordLit):
        return True
    if isinstance(node, A.Name):
        name = node.name
        if name in checked.roots or name in ("as_of", "version"):
            return True
        if name in pack.definitions or name in pack.outputs:
            return True  # (each is checked when it is worked out)
        if name in pack.parameters:
            return all(_within(M.thawed(v.value)) for v in pack.parameters[name].values)
        if name in pack.vocabulary:
            return len(pack.vocabulary[name].values) <= MAX_LIST
        return False
    if isinstance(node, A.If):
        return _bounded(pack, checked, node.then) and _bounded(pack, checked, node.other)
    if isinstance(node, A.Comprehension):
        if node.kind in ("any", "all", "count"):
            return True
        return node.kind in ("filter", "map") and _bounded(pack, checked, node.iterable)
    if isinstance(node, A.Call):
        if node.func in _BOUNDED_CALLS:
            return True
        return node.func in _BOUNDED_BY_ARGS and all(_bounded(pack, checked, a) for a in node.args)
    return False


def _fixed_values(table: M.Table, name: str) -> dict[int, Any]:
    """For each row whose (first) value for output `name` is a literal text, number or truth
    value, that value by the row's identity (as `_TableValues` keys its rows): what calling
    the literal's compiled function would give, without the call."""
    fixed: dict[int, Any] = {}
    for row in table.rows:
        for col, e in row.then:
            if col == name:
                node = e.checked.node
                if isinstance(node, A.Lit) and node.value.__class__ in (str, int, bool):
                    fixed[id(row)] = node.value
                break
    return fixed


def _row_functions(table: M.Table, name: str) -> dict[int, Any]:
    """For each row with exactly one value for output `name`, its expression's compiled
    function by the row's identity (as `_TableValues` keys its rows): called alone, it gives
    what `_TableValues` gives for that row matched alone."""
    found: dict[int, Any] = {}
    for row in table.rows:
        fns = [e.compiled.fn for col, e in row.then if col == name]
        if len(fns) == 1:
            found[id(row)] = fns[0]
    return found


def _named_values(pack: M.Pack, table: M.Table, name: str) -> dict[int, str]:
    """For each row whose (first) value for output `name` is a pack name alone (a parameter,
    definition or output), that name by the row's identity: what calling the expression's
    compiled function gives is that name's value, read through `N`."""
    named: dict[int, str] = {}
    for row in table.rows:
        for col, e in row.then:
            if col == name:
                alone = name_alone(pack, e)
                if alone is not None:
                    named[id(row)] = alone
                break
    return named


def _from_rules_lines(
    out: M.Output,
    setting: tuple[tuple[M.Rule, M.Expression], ...],
    code: Callable[[M.Expression], str],
    rule_lines: Callable[[M.Rule, str], list[str]],
    fresh: set[str] | frozenset[str] = frozenset(),
) -> tuple[str, ...]:
    """Lines setting `_r` to what `from_rules` returns for this output, written out rule by
    rule (each rule's result read from `rr`, or worked out in line when not yet known; a
    rule in `fresh`, surely not yet known, worked out in line at once)."""
    combine = out.combine
    lines = ["while True:"]
    if combine != "first":
        lines.append("    _pend = []")
    if combine not in ("first", "any"):
        lines.append("    _vals = []")
    for rule, expr in setting:
        fn = code(expr)
        if rule.id in fresh:
            lines += ["    " + line for line in rule_lines(rule, "_w")]
        else:
            lines += [f"    _w = rr.get({rule.id!r}, _MISS)", "    if _w is _MISS:"]
            lines += ["        " + line for line in rule_lines(rule, "_w")]
        if combine == "first":
            # a pending rule ends the search, so none is pending when one applies
            lines += ["    if _w is True:", f"        _r = {fn}", "        break"]
            lines += ["    if _w is not False:", "        _r = _merge(_w)", "        break"]
        elif combine == "any":
            lines += ["    if _w is True:", f"        {fn}", "        _r = True"]
            lines += ["        break"]
            lines += ["    if _w is not False:", "        _pend.append(_w)"]
        else:
            lines += ["    if _w is True:", f"        _vals.append({fn})"]
            lines += ["    elif _w is not False:", "        _pend.append(_w)"]
    if combine == "first":
        lines.append("    _r = None")
    elif combine == "any":
        lines.append("    _r = _merge(*_pend) if _pend else False")
    else:
        lines.append("    _r = _merge(*_pend) if _pend else _vals")
    lines.append("    break")
    return tuple(lines)


def _expression(fn: Callable[[dict[str, Any], Callable[[str], Any]], Any]) -> Work:
    def compute(m: Names) -> Any:
        return fn(m.F, m.N)

    return compute


def _true(m: Names) -> Any:
    return True


def _vocabulary(name: str, ids: list[Any]) -> Work:
    def work(m: Names) -> Any:
        result = m[name] = list(ids)
        return result

    return work


def _parameter_missing(param: M.Parameter) -> Work:
    def work(m: Names) -> Any:
        raise EvaluationError(
            "E-EVAL-PARAM",
            f"parameter `{param.name}` has no value in force on {m.F['as_of'].isoformat()}",
        )

    return work


# decisions a program makes before its expressions are written in line: writing them costs
# about as much as 500 decisions save (key work: 28 ms, against 110 µs a decision before and
# 57 µs after), so a command deciding a few hundred cases (`regime check`) never pays for it
INLINE_AFTER = 512
_REVIEW = 64  # runs of a program's two-valued form between reviews of how many gave up
_REST = 1024  # runs without it after a review finds that most gave up


def program(pack: M.Pack, as_of: dt.date, custodial: bool, version_id: str | None) -> Program:
    """The pack's program for the version in force on `as_of` (or the one named) and the
    audience, compiled on first use and kept with the pack."""
    # by day first: the version in force on a day is found once, not on every decision
    on = pack.derived.get(ON_DAY)
    if on is None:
        on = pack.derived[ON_DAY] = {}
    found: Program | None = on.get((as_of, custodial, version_id))
    if found is not None:
        return found
    version = select_version(pack, as_of, version_id)
    key = ("program", version.id, custodial)
    found = pack.derived.get(key)
    if found is None:
        found = pack.derived[key] = Program(pack, version, custodial)
    if len(on) > 4096:  # one entry per day asked: keep memory bounded
        on.clear()
    on[as_of, custodial, version_id] = found
    return found


# a pack's programs by (day, audience, version named): one of the pack's ("program", ...)
# entries, so that whoever drops those (a test changing tiers) drops this one with them
ON_DAY = ("program", "by day")
