"""Compiling: a checked expression to Python source, compiled once into a function."""

from __future__ import annotations

import datetime as dt
import marshal
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from types import CodeType
from typing import Any

from engine.language import runtime as R
from engine.language import syntax as A
from engine.language.check import Checked, NodeInfo
from engine.language.functions import FUNCTIONS
from engine.problems import EvaluationError

Evaluator = Callable[[dict[str, Any], Callable[[str], Any]], Any]

_EMPTY: dict[str, Any] = {}

_GLOBALS: dict[str, Any] = {
    "__builtins__": {},
    "_U": R.Unknown,
    "_E": _EMPTY,
    "_merge": R.merge,
    "_and_u": R.and_unknown,
    "_or_u": R.or_unknown,
    "_and_n": R.merge,
    "_or_n": R.merge,
    "_in_list": R.in_list,
    "_div": R.divide,
    "_cat": R.concat,
    "_addm": R.add_months,
    "_k_any": R.k_any,
    "_k_all": R.k_all,
    "_k_count": R.k_count,
    "_k_filter": R.k_filter,
    "_k_map": R.k_map,
    "_k_sum": R.k_sum,
    "_GaveUp": R.GaveUp,
    **{f"_f_{name}": fn.impl for name, fn in FUNCTIONS.items()},
}


# the types of value a part worked out once a day may have (see `_Gen._of_the_day`)
_DAY_KINDS = frozenset({"int", "bool", "date", "duration", "months"})


class PerDay:
    """Where a generated program keeps the parts of its expressions that depend only on the
    day: `part` gives the code reading one (its own code, `code`, when it is not at hand)."""

    def is_parameter(self, name: str) -> bool:
        raise NotImplementedError

    def part(self, checked: Checked, node: A.Node, code: str) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class CompiledExpr:
    """An expression ready to run: `fn(facts, name_value)`; `source` is what was compiled."""

    source: str
    fn: Evaluator
    checked: Checked


class _Gen:
    def __init__(
        self,
        checked: Checked,
        origin: str,
        special: dict[str, str],
        prefix: str = "",
        read_name: Callable[[str], str] | None = None,
        read_inner: Callable[[str], str] | None = None,
        per_day: PerDay | None = None,
        read_fact: Callable[[str, str], str] | None = None,
    ):
        self.checked = checked
        self.prefix = prefix  # in the names of constants and temporaries, to keep them apart
        self.read_name = read_name  # code reading a name outside any quantifier (else `N`)
        self.read_inner = read_inner  # code reading a name inside one (else `N`)
        self.per_day = per_day  # where a part that depends only on the day is worked out
        self.in_day = False  # generating such a part's own code
        self.read_fact = read_fact  # code for a field of a record of the facts, read once
        self.origin = origin
        self.special = special  # names read from the facts mapping itself (as_of, version)
        self.consts: list[Any] = []
        self.hoist: dict[str, str] = {}
        # functions the code calls, to define beside it (`InlineExpr.defs`)
        self.defs: list[str] = []
        self.temp = 0
        self.locals: list[str] = []
        self.subst: dict[int, str] = {}
        self.native = False

    def info(self, node: A.Node) -> NodeInfo:
        return self.checked.info[id(node)]

    def const(self, value: Any) -> str:
        for i, c in enumerate(self.consts):
            # equal decimals written with other places (0.0, 0.00) stay apart: `text` shows them
            if c is value or (type(c) is type(value) and c == value and str(c) == str(value)):
                return f"_k{self.prefix}{i}"
        self.consts.append(value)
        return f"_k{self.prefix}{len(self.consts) - 1}"

    def tmp(self) -> str:
        self.temp += 1
        return f"_t{self.prefix}{self.temp}"

    def gen(self, node: A.Node) -> str:
        sub = self.subst.get(id(node))
        if sub is not None:
            return sub
        if self.per_day is not None and not self.in_day and self._of_the_day(node, True):
            self.in_day = True
            try:
                code = self.gen(node)
            finally:
                self.in_day = False
            return self.per_day.part(self.checked, node, code)
        if strict_op(node):
            if self.native:
                return self._native(node)
            return self._strict(node)
        saved, self.native = self.native, False
        try:
            return str(getattr(self, "_" + type(node).__name__)(node))
        finally:
            self.native = saved

    def _of_the_day(self, node: A.Node, top: bool = False) -> bool:
        """Whether `node` is worked out from the day alone (`as_of`, parameters, literals)
        by plain operations on whole numbers, truth values, dates and durations: the same
        value all day, which never touches the step budget or the decimal context. A lone
        name or literal (`top`) is not worth keeping."""
        info = self.checked.info.get(id(node))
        if info is None or info.nullable or info.type.kind not in _DAY_KINDS:
            return False
        if isinstance(node, A.Lit):
            return not top
        if isinstance(node, A.Name):
            if top or node.name in self.locals:
                return False
            assert self.per_day is not None
            return node.name == "as_of" or self.per_day.is_parameter(node.name)
        if not strict_op(node) or (isinstance(node, A.Binary) and node.op in ("/", "in", "not in")):
            return False
        return all(self._of_the_day(child) for child in A.children(node))

    # -- strict regions --------------------------------------------------------------------
    # Arithmetic, comparison, negation and most functions are strict: unknown in, unknown
    # out. A tree of them is guarded once at its top, on the nullable values at its frontier,
    # and computed with plain Python operators inside.

    def _frontier(self, node: A.Node, out: list[A.Node]) -> None:
        for child in A.children(node):
            if strict_op(child):
                self._frontier(child, out)
            else:
                out.append(child)

    def _strict(self, node: A.Node) -> str:
        leaves: list[A.Node] = []
        self._frontier(node, leaves)
        nullable = [leaf for leaf in leaves if self.info(leaf).nullable]
        names, wrap = self._guard(nullable)
        for leaf, name in zip(nullable, names, strict=True):
            self.subst[id(leaf)] = name
        saved, self.native = self.native, True
        try:
            body = self._native(node)
        finally:
            self.native = saved
            for leaf in nullable:
                del self.subst[id(leaf)]
        return wrap(body)

    def _guard(self, nodes: list[A.Node]) -> tuple[list[str], Callable[[str], str]]:
        """Names for the values of `nodes`, and a wrapper that computes a body over them only
        when none is unknown (else gives the merged unknown). A static fact path is tested for
        None directly, which saves building an unknown on the common path."""
        names: list[str] = []
        tests: list[str] = []
        fallbacks: list[str] = []
        singles: list[str] = []
        for node in nodes:
            if not self.info(node).nullable:
                names.append(self.gen(node))
                continue
            t = self.tmp()
            names.append(t)
            read = self._raw_read(node) if isinstance(node, A.Attr) else None
            if read is not None:
                chain, unknown = read
                tests.append(f"({t} := {chain}) is not None")
                fallbacks.append(f"({t} if {t} is not None else {unknown})")
                singles.append(unknown)
            else:
                tests.append(f"({t} := {self.gen(node)}).__class__ is not _U")
                fallbacks.append(t)
                singles.append(t)

        def wrap(body: str) -> str:
            if not tests:
                return body
            if len(tests) == 1:
                return f"({body} if {tests[0]} else {singles[0]})"
            cond = " & ".join(f"({t})" for t in tests)
            return f"({body} if {cond} else _merge({', '.join(fallbacks)}))"

        return names, wrap

    def _native(self, node: A.Node) -> str:
        """A strict operation on values known not to be unknown."""
        if isinstance(node, A.Unary):
            op = "not " if node.op == "not" else "-"
            return f"({op}{self.gen(node.operand)})"
        if isinstance(node, A.Call):
            fn = FUNCTIONS[node.func]
            args = [self.gen(a) for a in node.args]
            if fn.needs_as_of:
                self.hoist["_s_as_of"] = "F['as_of']"
                args.insert(0, "_s_as_of")
            return f"_f_{node.func}({', '.join(args + self._zero(node, fn.needs_zero))})"
        assert isinstance(node, A.Binary)
        left = self.gen(node.left)
        if node.op in ("in", "not in"):
            items = frozenset(i.value for i in node.right.items)  # type: ignore[attr-defined]
            return f"({left} {node.op} {self.const(items)})"
        right = self.gen(node.right)
        if node.op == "/":
            raiser = self.const(_div0_raiser(self.origin, node.loc))
            return f"_div({left}, {right}, {raiser})"
        if node.op == "+" and self.info(node).type.kind in ("list", "string"):
            return f"_cat({left}, {right})"  # counted against the step budget (R.concat)
        return f"({left} {node.op} {right})"

    # -- leaves ----------------------------------------------------------------------------

    def _Lit(self, node: A.Lit) -> str:
        v = node.value
        if v is None:
            return self.const(R.NULL)
        if isinstance(v, bool | int | str) and not isinstance(v, Decimal):
            return repr(v)
        return self.const(v)

    def _ListLit(self, node: A.ListLit) -> str:
        return "[" + ", ".join(self.gen(i) for i in node.items) + "]"

    def _RecordLit(self, node: A.RecordLit) -> str:
        return "{" + ", ".join(f"{k!r}: {self.gen(v)}" for k, v in node.fields) + "}"

    def _Name(self, node: A.Name) -> str:
        if node.name in self.locals:
            return f"_v_{node.name}"
        if node.name in self.special:
            var = f"_s_{node.name}"
            self.hoist[var] = f"F[{node.name!r}]"
            return var
        if node.name in self.checked.roots:
            var = f"_r_{node.name}"
            self.hoist[var] = f"(F.get({node.name!r}) or _E)"
            return var
        if self.read_name is not None and not self.locals:
            return self.read_name(node.name)
        if self.read_inner is not None and self.locals:
            return self.read_inner(node.name)
        return f"N({node.name!r})"

    def _fact_chain(self, node: A.Node) -> str | None:
        """Code reading a static path into the facts (None when absent), or None if not one."""
        if isinstance(node, A.Name):
            if node.name in self.checked.roots and node.name not in self.locals:
                return self._Name(node)
            return None
        if isinstance(node, A.Attr):
            inner = self._fact_chain(node.obj)
            if inner is None:
                return None
            if not isinstance(node.obj, A.Name):
                inner = f"({inner} or _E)"
            if self.read_fact is not None:
                return self.read_fact(inner, node.name)
            return f"{inner}.get({node.name!r})"
        return None

    def _fact_read(self, node: A.Attr) -> tuple[str, str] | None:
        """For a static fact path: code reading it (None when absent or null) and code for
        the value that None stands for, or None if `node` is not a static fact path."""
        inner = self._fact_chain(node.obj)
        if inner is None:
            return None
        if not isinstance(node.obj, A.Name):
            inner = f"({inner} or _E)"
        return self._read_field(node, inner, static=True)

    def _raw_read(self, node: A.Attr) -> tuple[str, str] | None:
        """`_fact_read`, and likewise for a field of a quantifier's element drawn from the
        facts (`s.date` for `s in person.visits`): such an element is plain data, never
        unknown, so the field read is unknown exactly when it gives None. Else None."""
        read = self._fact_read(node)
        if read is not None:
            return read
        obj = node.obj
        if (
            isinstance(obj, A.Name)
            and obj.name in self.locals
            and self.info(obj).path is not None
            and obj.name not in self.special
        ):
            return self._read_field(node, self.gen(obj))
        return None

    def _read_field(self, node: A.Attr, record: str, static: bool = False) -> tuple[str, str]:
        """Reading field `node.name` of the record `record` computes: an absent key is unknown
        with the fact's path; a null is the same, unless the facts schema marks the field's
        null as a known none, when it is the decided no-value (the record is named once, and
        the key tested only when the value is None). A `static` record is a fixed path into
        the facts, whose fields `read_fact` may read once for the whole function."""
        info = self.info(node)
        unknown = self.const(R.unknown(info.path or f"?.{node.name}"))
        fact = static and self.read_fact is not None
        if not info.type.null_none:
            if fact:
                assert self.read_fact is not None
                return self.read_fact(record, node.name), unknown
            return f"{record}.get({node.name!r})", unknown
        none = self.const(R.NULL)
        if fact:  # (the record named again to tell an absent key: read only when None)
            assert self.read_fact is not None
            absent = f"({none} if {node.name!r} in {record} else {unknown})"
            return self.read_fact(record, node.name), absent
        if record.isidentifier():
            p, read = record, record
        else:
            p = self.tmp()
            read = f"({p} := {record})"
        return f"{read}.get({node.name!r})", f"({none} if {node.name!r} in {p} else {unknown})"

    def _Attr(self, node: A.Attr) -> str:
        read = self._fact_read(node)
        if read is None:
            read = self._read_field(node, self.gen(node.obj))
        chain, absent = read
        t = self.tmp()
        return f"({t} if ({t} := {chain}) is not None else {absent})"

    # -- operators -------------------------------------------------------------------------

    def _Binary(self, node: A.Binary) -> str:
        # only membership in a list that is not all constants reaches here: the rest is strict
        op = node.op
        if isinstance(node.right, A.ListLit) and not any(
            self.info(i).nullable for i in node.right.items
        ):
            (left, right), wrap = self._guard([node.left, node.right])
            return wrap(f"({left} {op} {right})")
        if isinstance(node.right, A.ListLit):  # with unknown items: `_in_list` merges all
            found = f"_in_list({self.gen(node.left)}, {self.gen(node.right)})"
        else:
            (left, right), wrap = self._guard([node.left, node.right])
            found = wrap(f"_in_list({left}, {right})")
        if op == "in":
            return found
        t = self.tmp()
        return f"(not {t} if ({t} := {found}).__class__ is not _U else {t})"

    def _Logic(self, node: A.Logic) -> str:
        # a chain `a or b or c` is compiled flat: short-circuit on the deciding value,
        # and only when none decides, tell false from unknown
        operands = _flatten(node, node.op)
        decide, other = ("True", "False") if node.op == "or" else ("False", "True")
        if not any(self.info(o).nullable for o in operands):
            return "(" + f" {node.op} ".join(self.gen(o) for o in operands) + ")"
        temps = [self.tmp() for _ in operands]
        codes: list[str] = []
        merged: list[str] = []
        for t, o in zip(temps, operands, strict=True):
            read = self._raw_read(o) if isinstance(o, A.Attr) else None
            if read is not None:  # a fact read raw: None is neither true nor false
                chain, unknown = read
                codes.append(chain)
                merged.append(f"({t} if {t} is not None else {unknown})")
            else:
                codes.append(self.gen(o))
                merged.append(t)
        first = " or ".join(f"({t} := {c}) is {decide}" for t, c in zip(temps, codes, strict=True))
        all_other = " and ".join(f"{t} is {other}" for t in temps)
        combine = "_or_n" if node.op == "or" else "_and_n"
        return (
            f"({decide} if {first} else "
            f"({other} if {all_other} else {combine}({', '.join(merged)})))"
        )

    def _If(self, node: A.If) -> str:
        cond = self.gen(node.cond)
        then = self.gen(node.then)
        other = self.gen(node.other)
        if not self.info(node.cond).nullable:
            return f"({then} if {cond} else {other})"
        t = self.tmp()
        return f"({then} if ({t} := {cond}) is True else ({other} if {t} is False else {t}))"

    def _zero(self, node: A.Node, wanted: bool = True) -> list[str]:
        """The zero of a sum of durations as a last argument (a sum of numbers starts at 0)."""
        kind = self.info(node).type.kind
        if not wanted or kind not in ("duration", "months"):
            return []
        return [self.const(dt.timedelta(0) if kind == "duration" else R.Months(0))]

    def _Comprehension(self, node: A.Comprehension) -> str:
        it = self.gen(node.iterable)
        self.locals.append(node.var)
        try:
            body = self.gen(node.body)
        finally:
            self.locals.pop()
        zero = "".join(", " + z for z in self._zero(node, node.kind == "sum"))
        return f"_k_{node.kind}({it}, lambda _v_{node.var}: {body}{zero})"

    def _Call(self, node: A.Call) -> str:
        fn = FUNCTIONS[node.func]
        prefix = []
        if fn.needs_as_of:
            var = "_s_as_of"
            self.hoist[var] = "F['as_of']"
            prefix.append(var)
        suffix = self._zero(node, fn.needs_zero)
        if fn.null_aware:
            raw = self._raw_test(node) if not prefix and not suffix else None
            if raw is not None:
                return raw
            args = [self.gen(a) for a in node.args]
            written = self._in_line_call(node, args) if not prefix and not suffix else None
            if written is not None:
                return written
            return f"_f_{node.func}({', '.join(prefix + args + suffix)})"
        names, wrap = self._guard(list(node.args))
        return wrap(f"_f_{node.func}({', '.join(prefix + names + suffix)})")

    def _raw_test(self, node: A.Call) -> str | None:
        """`known` or `is_none` of a field read raw (`_raw_read`: unknown exactly when the
        read gives None) as a test of that read, in line, or None. `known` is whether it is
        not None; `is_none` is false when it is not, else true for the decided no-value (a
        null the schema marks none) and the field's unknown otherwise."""
        if node.func not in ("known", "is_none") or len(node.args) != 1:
            return None
        arg = node.args[0]
        read = self._raw_read(arg) if isinstance(arg, A.Attr) else None
        if read is None:
            return None
        chain, absent = read
        if node.func == "known":
            return f"({chain} is not None)"
        t = self.tmp()
        return f"(False if {chain} is not None else (True if not ({t} := {absent}).paths else {t}))"

    def _in_line_call(self, node: A.Call, args: list[str]) -> str | None:
        """A call of `known`, `is_none` or `coalesce` written as the function's own test, in
        line (the same value, without the call), or None for the call."""
        if node.func == "known" and len(args) == 1:
            return f"(({args[0]}).__class__ is not _U)"
        if node.func == "is_none" and len(args) == 1:
            t = self.tmp()
            known = f"(True if not {t}.paths else {t})"
            return f"({known} if ({t} := {args[0]}).__class__ is _U else False)"
        if (
            node.func == "coalesce"
            and len(args) == 2
            and isinstance(node.args[1], A.Lit)
            and node.args[1].kind != "null"
        ):
            # (the literal cannot fail, so it need not be worked out before the test)
            t = self.tmp()
            return f"({t} if ({t} := {args[0]}).__class__ is not _U else {args[1]})"
        return None


def _flatten(node: A.Node, op: str) -> list[A.Node]:
    """The operands of a chain of the same logical operator, left to right."""
    if isinstance(node, A.Logic) and node.op == op:
        return _flatten(node.left, op) + _flatten(node.right, op)
    return [node]


def strict_op(node: A.Node) -> bool:
    """A strict operation, grouped with its neighbours into one guarded region (and so by the
    SQL compiler too, to raise run-time errors in the same order): arithmetic, comparison,
    negation, membership of a constant list and most functions."""
    if isinstance(node, A.Binary):
        return node.op not in ("in", "not in") or _constant_list(node.right)
    if isinstance(node, A.Unary):
        return True
    if isinstance(node, A.Call):
        fn = FUNCTIONS.get(node.func)
        return fn is not None and not fn.null_aware and not fn.may_be_unknown
    return False


def _constant_list(node: A.Node) -> bool:
    return (
        isinstance(node, A.ListLit)
        and all(
            isinstance(i, A.Lit) and i.kind in ("string", "int", "bool", "date") for i in node.items
        )
        and len(node.items) > 0
    )


def _div0_raiser(origin: str, loc: A.Loc) -> Callable[[], Any]:
    def raise_div0() -> Any:
        raise EvaluationError(
            "E-EVAL-DIV0", f"division by zero in {origin} at {loc.line}:{loc.col}"
        )

    return raise_div0


_CODES: dict[str, CodeType] = {}
_CODES_KEPT = 4096
_STORED: dict[str, bytes] = {}  # marshalled code by source, offered by `reusing`
_THREAD = threading.local()  # .used: the sources used inside `reusing`, innermost last


def _code(source: str, filename: str) -> CodeType:
    """Python's code for a generated source, compiled once per distinct source: constants are
    passed in (`_K`), so expressions that differ only in their literal dates, durations or
    decimals, or are written again in another rule, share one compilation (the costliest step
    of checking a large pack). Each copy carries its own file name, for tracebacks."""
    code = _CODES.get(source)
    if code is None:
        raw = _STORED.pop(source, None)
        code = marshal.loads(raw) if raw is not None else compile(source, filename, "exec")
        if len(_CODES) >= _CODES_KEPT:
            try:
                _CODES.pop(next(iter(_CODES)), None)  # the oldest
            except (RuntimeError, StopIteration):  # another thread changed it meanwhile
                pass
        _CODES[source] = code
    used = getattr(_THREAD, "used", None)
    if used:
        used[-1][source] = code
    return code if code.co_filename == filename else _renamed(code, filename)


@contextmanager
def reusing(stored: Mapping[str, bytes]) -> Iterator[dict[str, bytes]]:
    """Compile inside this block reusing `stored` (marshalled code by generated source, as a
    disk cache keeps it); the dict given is filled, on leaving, with every code the block
    used, marshalled, when that is more than `stored` held (else it stays empty)."""
    _STORED.update(stored)
    used: dict[str, CodeType] = {}
    stack: list[dict[str, CodeType]] = _THREAD.__dict__.setdefault("used", [])
    stack.append(used)
    out: dict[str, bytes] = {}
    try:
        yield out
    finally:
        stack.pop()
        for source in stored:
            _STORED.pop(source, None)
    if not used.keys() <= stored.keys():
        out.update({src: marshal.dumps(code) for src, code in used.items()})


def _renamed(code: CodeType, filename: str) -> CodeType:
    """`code` and every function compiled inside it, under another file name."""
    consts = tuple(_renamed(c, filename) if isinstance(c, CodeType) else c for c in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)


def compile_checked(
    checked: Checked, origin: str = "<expression>", special: tuple[str, ...] = ("as_of", "version")
) -> CompiledExpr:
    """Generate Python source for a checked expression and compile it once."""
    gen = _Gen(checked, origin, {s: s for s in special})
    body = gen.gen(checked.node)
    lines = ["def _make(_K):"]
    if gen.consts:
        names = ", ".join(f"_k{i}" for i in range(len(gen.consts)))
        lines.append(f"    ({names},) = _K")
    lines.append("    def _expr(F, N):")
    for var, code in sorted(gen.hoist.items()):
        lines.append(f"        {var} = {code}")
    lines.append(f"        return {body}")
    lines.append("    return _expr")
    source = "\n".join(lines) + "\n"
    namespace: dict[str, Any] = {}
    exec(_code(source, f"<{origin}>"), dict(_GLOBALS), namespace)  # noqa: S102
    fn = namespace["_make"](tuple(gen.consts))
    return CompiledExpr(source=source, fn=fn, checked=checked)


@dataclass(frozen=True)
class InlineExpr:
    """A checked expression as Python code to write into a larger generated function with
    `F` and `N` in scope: `body` reads the constants `consts` (to be defined as globals) and the
    local variables `hoist` (to be set, by their code, before it runs)."""

    body: str
    consts: dict[str, Any]
    hoist: dict[str, str]
    # the source of functions `body` calls, to define as globals beside it
    defs: tuple[str, ...] = ()


# what the generated code of every expression may read, for a function that holds several
GLOBALS: Mapping[str, Any] = {k: v for k, v in _GLOBALS.items() if k != "__builtins__"}


def inline_checked(
    checked: Checked,
    prefix: str,
    read_name: Callable[[str], str],
    origin: str = "<expression>",
    special: tuple[str, ...] = ("as_of", "version"),
    read_inner: Callable[[str], str] | None = None,
    per_day: PerDay | None = None,
    read_fact: Callable[[str, str], str] | None = None,
) -> InlineExpr:
    """The code `compile_checked` compiles, as an expression to write in line elsewhere: its
    constants and temporaries named with `prefix`, and each name read outside a quantifier
    by the code `read_name` gives (inside one, by the code `read_inner` gives, else by `N`:
    that code runs once per element, in a function of its own, so it may not assign); with
    `per_day`, each largest part that depends only on the day is read as it says; with
    `read_fact`, each field of a fixed path into the facts by the code it gives for
    `(record, field)`."""
    gen = _Gen(
        checked, origin, {s: s for s in special}, prefix, read_name, read_inner, per_day, read_fact
    )
    return written_in_line(gen, checked.node)


def written_in_line(gen: _Gen, node: A.Node) -> InlineExpr:
    """`node` written by `gen` as an expression to place in line, with its constants named by
    the generator's prefix and the reads it hoists."""
    body = gen.gen(node)
    consts = {f"_k{gen.prefix}{i}": c for i, c in enumerate(gen.consts)}
    return InlineExpr(body=body, consts=consts, hoist=dict(gen.hoist), defs=tuple(gen.defs))


def compile_part(
    checked: Checked,
    node: A.Node,
    local_names: tuple[str, ...] = (),
    origin: str = "<part>",
    special: tuple[str, ...] = ("as_of", "version"),
) -> Callable[..., Any]:
    """Compile one sub-expression of a checked expression as `fn(facts, name_value, *locals)`,
    the quantifier variables it stands inside given as arguments (for date analysis)."""
    gen = _Gen(checked, origin, {s: s for s in special})
    gen.locals = list(local_names)
    body = gen.gen(node)
    params = "".join(f", _v_{name}" for name in local_names)
    lines = ["def _make(_K):"]
    if gen.consts:
        names = ", ".join(f"_k{i}" for i in range(len(gen.consts)))
        lines.append(f"    ({names},) = _K")
    lines.append(f"    def _expr(F, N{params}):")
    for var, code in sorted(gen.hoist.items()):
        lines.append(f"        {var} = {code}")
    lines.append(f"        return {body}")
    lines.append("    return _expr")
    namespace: dict[str, Any] = {}
    exec(_code("\n".join(lines) + "\n", f"<{origin}>"), dict(_GLOBALS), namespace)  # noqa: S102
    fn: Callable[..., Any] = namespace["_make"](tuple(gen.consts))
    return fn


def describe_const(value: Any) -> str:
    """A readable rendering of a compiled constant, for golden files."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, frozenset | set):
        return "{" + ", ".join(sorted(describe_const(v) for v in value)) + "}"
    if callable(value):
        return f"<{value.__name__}>"
    return repr(value)
