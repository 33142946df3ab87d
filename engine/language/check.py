"""Checking: names, fact paths and types of an expression, before any facts exist.

The checker walks the syntax tree once, bottom up, giving every node a `NodeInfo` (its static
type, whether it may be null, and the fact path it reads). The code generator reads these, so
it never has to guess a type at run time: checking is what lets compiled code be plain Python
operators. Four things ride along with the type, each for a reason:

- `nullable`: a fact that may be absent or null makes everything that reads it possibly
  *unknown*. The generator wraps only nullable operations in the three-valued helpers; a
  comparison of two literals costs nothing extra.
- `healthcare`: a type read from a healthcare-only fact (see `x-audience` in the facts schema)
  is marked, and the mark survives every operation, comprehension and function call, because
  need-to-know must hold through any chain of derivations. The pack builder reads it to decide
  which names a custodial audience may not see.
- `path`: which fact a node reads (`person.visits[].date`), so that an undetermined
  decision can list exactly the facts it needs.
- `names`, `fact_paths`, `roots`: what the expression depends on, for the pack's dependency
  order and for explanations.

Errors do not stop the walk: a node in error is given type `any`, which is compatible with
everything, so one mistake is reported once rather than again at every node above it. "Did
you mean" suggestions come from the names visible at that point (the scope plus the
comprehension variables in force), so a misspelt local is matched against locals too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from engine.language import static_types as T
from engine.language import syntax as A
from engine.language.functions import FUNCTIONS
from engine.language.parse import ExprError
from engine.problems import Code, did_you_mean


@dataclass(frozen=True)
class Symbol:
    """What a name stands for in the scope an expression is checked in."""

    kind: str  # root as_of version parameter definition output vocabulary local
    type: T.Type
    nullable: bool
    healthcare: bool = False
    path: str | None = None  # the fact path a definition names (or filters), when it does


class Scope(Protocol):
    def lookup(self, name: str) -> Symbol | None: ...

    def names(self) -> Iterable[str]: ...


@dataclass
class SimpleScope:
    """A scope from a plain mapping; used for single expressions and tests."""

    symbols: dict[str, Symbol] = field(default_factory=dict)

    def lookup(self, name: str) -> Symbol | None:
        return self.symbols.get(name)

    def names(self) -> Iterable[str]:
        return self.symbols.keys()


@dataclass(frozen=True)
class NodeInfo:
    type: T.Type
    nullable: bool
    path: str | None = None  # the fact path this node reads, when it reads one


@dataclass
class Checked:
    """The result of checking one expression: its type and what it depends on."""

    node: A.Node
    type: T.Type
    nullable: bool
    healthcare: bool
    names: set[str]  # pack names used (parameters, definitions, outputs, vocabulary)
    fact_paths: set[str]
    roots: set[str]
    info: dict[int, NodeInfo]
    errors: list[ExprError]
    path: str | None = None  # the fact path the whole expression reads, when it reads one


_ORDERED = ("int", "decimal", "date", "duration", "months", "string", "any", "null")


class _Checker:
    def __init__(self, scope: Scope):
        self.scope = scope
        # comprehension variables in force, innermost last: a local shadows a pack name of
        # the same spelling, and goes out of scope when its comprehension ends
        self.locals: list[tuple[str, T.Type, str | None]] = []  # name, type, path
        self.errors: list[ExprError] = []
        self.info: dict[int, NodeInfo] = {}
        self.names: set[str] = set()
        self.paths: set[str] = set()
        self.roots: set[str] = set()
        self.healthcare = False

    def error(self, node: A.Node, code: Code, message: str, hint: str | None = None) -> None:
        loc = node.loc
        self.errors.append(
            ExprError(code, message, loc.line, loc.col, hint, loc.end_line, loc.end_col)
        )

    def quote_hint(self, node: A.Node) -> None:
        """Where an unknown bare word stands for text (the whole expression, or compared with
        text), its E-NAME hint also says how to write it as text: a missing pair of quotes is
        the likelier mistake there than a misspelt name."""
        if not isinstance(node, A.Name):
            return
        for err in self.errors:
            if err.code == "E-NAME" and (err.line, err.col) == (node.loc.line, node.loc.col):
                quoted = f'for the text, put it in quotes: `"{node.name}"`'
                if err.hint is None:
                    err.hint = quoted
                elif err.hint.startswith("did you mean") and "quotes" not in err.hint:
                    err.hint = f"{err.hint} Or, {quoted}"

    def visit(self, node: A.Node) -> NodeInfo:
        method = getattr(self, "_" + type(node).__name__)
        info: NodeInfo = method(node)
        if info.type.healthcare:
            self.healthcare = True
        self.info[id(node)] = info
        return info

    # -- leaves ----------------------------------------------------------------------------

    def _Lit(self, node: A.Lit) -> NodeInfo:
        if node.kind == "null":
            return NodeInfo(T.NULL, True)
        return NodeInfo(T.type_of_value(node.value), False)

    def _ListLit(self, node: A.ListLit) -> NodeInfo:
        elem: T.Type = T.NULL
        nullable_items = False
        for item in node.items:
            info = self.visit(item)
            nullable_items = nullable_items or info.nullable
            joined = T.join(elem, info.type)
            if joined is None:
                self.error(
                    item,
                    "E-TYPE",
                    f"a list cannot mix {T.article(elem)} and {T.article(info.type)}",
                )
                joined = T.ANY
            elem = joined
        return NodeInfo(T.list_of(elem), False)

    def _RecordLit(self, node: A.RecordLit) -> NodeInfo:
        fields = []
        hc = False
        for name, value in node.fields:
            info = self.visit(value)
            hc = hc or info.type.healthcare
            fields.append((name, info.type, info.nullable))
        return NodeInfo(T.record_of(fields).marked(hc), False)

    def _Name(self, node: A.Name) -> NodeInfo:
        for name, typ, path in reversed(self.locals):
            if name == node.name:
                return NodeInfo(typ, True, path)
        sym = self.scope.lookup(node.name)
        if sym is None:
            candidates = [*self.scope.names(), *(n for n, _, _ in self.locals)]
            hint = did_you_mean(node.name, candidates)
            if node.name in FUNCTIONS:
                example = FUNCTIONS[node.name].example
                hint = f"`{node.name}` is a function: call it, e.g. `{example}`"
            self.error(node, "E-NAME", f"unknown name `{node.name}`", hint)
            return NodeInfo(T.ANY, False)  # `any`: no knock-on errors above this node
        if sym.kind == "root":
            self.roots.add(node.name)
            return NodeInfo(sym.type, sym.nullable, node.name)
        if sym.kind not in ("as_of", "version"):
            self.names.add(node.name)
        if sym.healthcare:
            self.healthcare = True
        # a definition that names a fact path keeps it, so a missing field of one of its
        # elements is named `list[].field`, as when the path is written out
        return NodeInfo(sym.type.marked(sym.healthcare), sym.nullable, sym.path)

    def _Attr(self, node: A.Attr) -> NodeInfo:
        obj = self.visit(node.obj)
        if obj.type.kind == "any":
            return NodeInfo(T.ANY.marked(obj.type.healthcare), True)
        if obj.type.kind != "record":
            self.error(node, "E-PATH", f"{T.article(obj.type)} has no field `{node.name}`")
            return NodeInfo(T.ANY, True)
        if obj.type.fields is None:
            return NodeInfo(T.ANY.marked(obj.type.healthcare), True)
        found = obj.type.field(node.name)
        path = f"{obj.path}.{node.name}" if obj.path else None
        if found is None:
            where = f"`{obj.path}`" if obj.path else "this record"
            loc = node.loc
            self.errors.append(
                ExprError(
                    "E-PATH",
                    f"{where} has no field `{node.name}`",
                    loc.end_line,
                    max(loc.end_col - len(node.name), 1),
                    did_you_mean(node.name, obj.type.field_names()),
                    loc.end_line,
                    loc.end_col,
                )
            )
            return NodeInfo(T.ANY, True, path)
        ftype, nullable = found
        if path:
            self.paths.add(path)
        return NodeInfo(ftype.marked(obj.type.healthcare), nullable or obj.nullable, path)

    # -- operators -------------------------------------------------------------------------

    def _Unary(self, node: A.Unary) -> NodeInfo:
        inner = self.visit(node.operand)
        if node.op == "not":
            if not T.is_bool(inner.type) and inner.type.kind != "null":
                self.error(
                    node.operand,
                    "E-TYPE-COND",
                    f"`not` needs a boolean, got {T.article(inner.type)}",
                )
            return NodeInfo(T.BOOL.marked(inner.type.healthcare), inner.nullable)
        if not (T.is_numeric(inner.type) or inner.type.kind in ("duration", "months", "null")):
            self.error(node, "E-TYPE", f"cannot negate {T.article(inner.type)}")
            return NodeInfo(T.ANY, inner.nullable)
        return NodeInfo(inner.type, inner.nullable)

    def _Logic(self, node: A.Logic) -> NodeInfo:
        left = self.visit(node.left)
        right = self.visit(node.right)
        for side, info in ((node.left, left), (node.right, right)):
            if not T.is_bool(info.type) and info.type.kind != "null":
                self.error(
                    side,
                    "E-TYPE-COND",
                    f"`{node.op}` needs booleans on both sides, got {T.article(info.type)}",
                    'compare it with something, e.g. `x == "value"`',
                )
        hc = left.type.healthcare or right.type.healthcare
        return NodeInfo(T.BOOL.marked(hc), left.nullable or right.nullable)

    def _If(self, node: A.If) -> NodeInfo:
        cond = self.visit(node.cond)
        if not T.is_bool(cond.type) and cond.type.kind != "null":
            self.error(
                node.cond,
                "E-TYPE-COND",
                f"`if` needs a boolean condition, got {T.article(cond.type)}",
            )
        then = self.visit(node.then)
        other = self.visit(node.other)
        joined = T.join(then.type, other.type)
        if joined is None:
            self.error(
                node,
                "E-TYPE",
                f"`then` gives {T.article(then.type)} but `else` gives {T.article(other.type)}",
            )
            joined = T.ANY
        return NodeInfo(
            joined.marked(cond.type.healthcare),
            cond.nullable or then.nullable or other.nullable,
            _one_path([node.then, node.other], [then, other]),
        )

    def _Binary(self, node: A.Binary) -> NodeInfo:
        left = self.visit(node.left)
        right = self.visit(node.right)
        nullable = left.nullable or right.nullable
        hc = left.type.healthcare or right.type.healthcare
        op = node.op
        if op in ("==", "!="):
            if right.type.kind == "string":
                self.quote_hint(node.left)
            if left.type.kind == "string":
                self.quote_hint(node.right)
        if op in ("==", "!=", "<", "<=", ">", ">="):
            self._compare(node, left.type, right.type)
            return NodeInfo(T.BOOL.marked(hc), nullable)
        if op in ("in", "not in"):
            self._membership(node, left.type, right.type)
            return NodeInfo(T.BOOL.marked(hc), nullable or _list_items_nullable(node.right, self))
        result = self._arith(node, op, left.type, right.type)
        return NodeInfo(result.marked(hc), nullable)

    def _compare(self, node: A.Binary, a: T.Type, b: T.Type) -> None:
        # 30 days and 1 month are not comparable: a month is 28 to 31 days depending on the
        # date it is added to, so the language refuses rather than pick a convention
        if {a.kind, b.kind} == {"duration", "months"}:
            self.error(
                node,
                "E-TYPE-DURATION",
                "cannot compare an exact duration (days, weeks) with a calendar one "
                "(months, years)",
                "compare dates instead, e.g. `as_of >= last + 1 month`",
            )
            return
        if not T.compatible(a, b):
            hint = None
            if "date" in (a.kind, b.kind) and "string" in (a.kind, b.kind):
                hint = "write dates without quotes, e.g. `2022-11-01`"
            elif "date" in (a.kind, b.kind) and {a.kind, b.kind} & {"int", "decimal"}:
                hint = "compare with a date (`2022-11-01`, `as_of - 7 days`), or count days: "
                hint += "`days(as_of - d) >= 7`"
            elif "duration" in (a.kind, b.kind) and {a.kind, b.kind} & {"int", "decimal"}:
                hint = "give the number its unit (`2 days`), or compare a count of days: "
                hint += "`days(as_of - d) >= 2`"
            self.error(node, "E-TYPE", f"cannot compare {T.article(a)} with {T.article(b)}", hint)
            return
        if node.op not in ("==", "!="):
            for t in (a, b):
                if t.kind not in _ORDERED:
                    self.error(node, "E-TYPE", f"`{node.op}` cannot order {T.article(t)}")
                    return
        self._enum_literal(node.right, a)
        self._enum_literal(node.left, b)

    def _enum_literal(self, lit: A.Node, against: T.Type) -> None:
        """A literal compared with an enumerated value must be one of its values: a misspelt
        `"HIHG"` would otherwise be a comparison that is silently always false."""
        if against.values is None or not isinstance(lit, A.Lit) or lit.kind == "null":
            return
        if lit.value not in against.values:
            shown = ", ".join(f"`{v}`" for v in sorted(against.values, key=str))
            close = did_you_mean(str(lit.value), [str(v) for v in against.values])
            self.error(
                lit,
                "E-ENUM",
                f"`{lit.value}` is not a value of `{against.name or 'this enumeration'}`",
                f"use one of {shown}" + (f"; {close}" if close else ""),
            )

    def _membership(self, node: A.Binary, a: T.Type, b: T.Type) -> None:
        if b.kind not in ("list", "any", "null"):
            hint = "use `contains(text, part)` for text" if b.kind == "string" else None
            self.error(
                node.right,
                "E-TYPE",
                f"`{node.op}` needs a list on its right, got {T.article(b)}",
                hint,
            )
            return
        elem = b.elem or T.ANY
        if not T.compatible(a, elem):
            self.error(
                node, "E-TYPE", f"cannot look for {T.article(a)} in a list of {elem.describe()}"
            )
            return
        if isinstance(node.right, A.ListLit):
            for item in node.right.items:
                self._enum_literal(item, a)
                if a.kind == "string":
                    self.quote_hint(item)
        if isinstance(node.left, A.Lit):
            self._enum_literal(node.left, elem)

    def _arith(self, node: A.Binary, op: str, a: T.Type, b: T.Type) -> T.Type:
        ka, kb = a.kind, b.kind
        if "any" in (ka, kb) or "null" in (ka, kb):
            if "bool" in (ka, kb):
                self.error(node, "E-TYPE", f"cannot use a boolean in arithmetic (`{op}`)")
            return T.ANY
        numeric = T.is_numeric(a) and T.is_numeric(b)
        if op == "+":
            if numeric:
                return T.DECIMAL if "decimal" in (ka, kb) else T.INT
            if (
                ka == "date"
                and kb in ("duration", "months")
                or kb == "date"
                and ka in ("duration", "months")
            ):
                return T.DATE
            if ka == kb and ka in ("duration", "months", "string"):
                return a
            if ka == kb == "list":
                return T.join(a, b) or T.ANY
            if ka == kb == "date":
                self.error(
                    node,
                    "E-TYPE",
                    "cannot add two dates",
                    "subtract them for the days between, or add a duration",
                )
                return T.ANY
        elif op == "-":
            if numeric:
                return T.DECIMAL if "decimal" in (ka, kb) else T.INT
            if ka == kb == "date":
                return T.DURATION
            if ka == "date" and kb in ("duration", "months"):
                return T.DATE
            if ka == kb and ka in ("duration", "months"):
                return a
        elif op == "*":
            if numeric:
                return T.DECIMAL if "decimal" in (ka, kb) else T.INT
            if ka == "int" and kb in ("duration", "months"):
                return b
            if kb == "int" and ka in ("duration", "months"):
                return a
        elif op == "/":
            if numeric:
                return T.DECIMAL
            if ka == "duration" and kb == "int":
                return T.DURATION
        if "bool" in (ka, kb):
            self.error(node, "E-TYPE", f"cannot use a boolean in arithmetic (`{op}`)")
        elif {ka, kb} == {"duration", "months"}:
            self.error(
                node,
                "E-TYPE-DURATION",
                "cannot mix an exact duration (days, weeks) with a calendar one (months, years)",
                "apply them to a date one after the other",
            )
        else:
            hint = None
            if op == "+" and "string" in (ka, kb) and {ka, kb} & {"int", "decimal", "date"}:
                hint = 'a number in quotes is text (write `1`, not `"1"`); to join text, '
                hint += "turn the other into text with `text(...)`"
            elif "date" in (ka, kb) and {ka, kb} & {"int", "decimal"}:
                hint = "give the number its unit: `date + 3 days`"
            message = f"cannot apply `{op}` to {T.article(a)} and {T.article(b)}"
            self.error(node, "E-TYPE", message, hint)
        return T.ANY

    # -- binding forms and calls -----------------------------------------------------------

    def _Comprehension(self, node: A.Comprehension) -> NodeInfo:
        it = self.visit(node.iterable)
        if it.type.kind not in ("list", "any", "null"):
            self.error(
                node.iterable,
                "E-TYPE",
                f"`{node.kind}` needs a list after `in`, got {T.article(it.type)}",
            )
        # the variable stands for one element: healthcare-only if the list is, and reading the
        # list's element path, so a missing field of an element names `list[].field`
        elem = (it.type.elem or T.ANY).marked(it.type.healthcare)
        elem_path = f"{it.path}[]" if it.path else None
        self.locals.append((node.var, elem, elem_path))
        try:
            body = self.visit(node.body)
        finally:
            self.locals.pop()
        hc = it.type.healthcare or body.type.healthcare
        nullable = it.nullable or body.nullable
        if node.kind in ("any", "all", "count", "filter"):
            if not T.is_bool(body.type) and body.type.kind != "null":
                self.error(
                    node.body,
                    "E-TYPE-COND",
                    f"`{node.kind}` needs a boolean condition after `:`, got "
                    f"{T.article(body.type)}",
                )
            result = {"count": T.INT, "filter": T.list_of(elem)}.get(node.kind, T.BOOL)
            # a filter's elements are the list's own, so they keep its path
            return NodeInfo(result.marked(hc), nullable, it.path if node.kind == "filter" else None)
        if node.kind == "map":
            return NodeInfo(T.list_of(body.type).marked(hc), it.nullable)
        if not (T.is_numeric(body.type) or body.type.kind in ("duration", "months", "null")):
            self.error(node.body, "E-TYPE", f"cannot add up {T.article(body.type)}")
        return NodeInfo(body.type.marked(hc), nullable)

    def _Call(self, node: A.Call) -> NodeInfo:
        fn = FUNCTIONS.get(node.func)
        infos = [self.visit(a) for a in node.args]
        if fn is None:
            self.error(
                node,
                "E-FUNC",
                f"unknown function `{node.func}`",
                did_you_mean(node.func, FUNCTIONS),
            )
            return NodeInfo(T.ANY, True)
        n = len(node.args)
        if n < fn.min_args or (fn.max_args is not None and n > fn.max_args):
            want = (
                str(fn.min_args)
                if fn.max_args == fn.min_args
                else f"{fn.min_args} or more"
                if fn.max_args is None
                else f"{fn.min_args} to {fn.max_args}"
            )
            self.error(
                node,
                "E-ARGS",
                f"`{node.func}` takes {want} argument(s), got {n}",
                f"e.g. `{fn.example}`",
            )
            return NodeInfo(T.ANY, True)
        result = fn.check([i.type for i in infos])
        if isinstance(result, str):
            self.error(node, "E-ARGS", f"`{node.func}` {result}", f"e.g. `{fn.example}`")
            return NodeInfo(T.ANY, True)
        if fn.null_aware:
            if node.func == "known":
                nullable = False
            elif node.func == "coalesce":
                nullable = all(i.nullable for i in infos)
            else:
                nullable = infos[0].nullable
        else:
            nullable = fn.may_be_unknown or any(i.nullable for i in infos)
        # a value chosen from its arguments, or some of a list's items, keeps their path
        path = _one_path(node.args, infos) if node.func in _KEEP_PATH else None
        return NodeInfo(result, nullable, path)


# functions whose value is one of their arguments, or some items of their one list
_KEEP_PATH = frozenset({"coalesce", "unique", "sort", "compact"})


def _one_path(nodes: Sequence[A.Node], infos: Sequence[NodeInfo]) -> str | None:
    """The fact path every one of these values reads, where each is a fact or has no
    elements (`[]`, `null`), so that an element of the value chosen is named by its list's
    path (`list[].field`); None where they read different facts, or some reads none."""
    paths = {
        info.path
        for n, info in zip(nodes, infos, strict=True)
        if not (isinstance(n, A.ListLit) and not n.items)
        and not (isinstance(n, A.Lit) and n.kind == "null")
    }
    return paths.pop() if len(paths) == 1 else None


def _list_items_nullable(node: A.Node, checker: _Checker) -> bool:
    if isinstance(node, A.ListLit):
        return any(checker.info[id(i)].nullable for i in node.items)
    return True


def _a_frequency(t: T.Type) -> bool:
    """Whether a value of type `t` can be an obligation's frequency, `{count, per}`: a record
    with a whole-number `count` and a text `per` (fields not known to the checker pass). A
    length of time (`1 week`) passes too: packs written before this check give one."""
    if t.kind in ("any", "null", "duration", "months"):
        return True
    if t.kind != "record":
        return False
    if t.fields is None:
        return True
    count, per = t.field("count"), t.field("per")
    return (
        count is not None
        and per is not None
        and count[0].kind in ("int", "any")
        and per[0].kind in ("string", "any")
    )


# what to write where a date is expected, by what was given instead
_DATE_HINTS = {
    "string": "write dates without quotes, e.g. `2022-11-01`",
    "duration": "add the length of time to a date, e.g. `as_of + 7 days`",
    "months": "add the length of time to a date, e.g. `as_of + 1 month`",
}


def check(node: A.Node, scope: Scope, expect: str | None = None) -> Checked:
    """Check one expression in a scope. `expect="bool"` requires a condition, `"date"` a date,
    `"frequency"` a record of `count` and `per`."""
    checker = _Checker(scope)
    info = checker.visit(node)
    if expect is None:  # a bare word as a whole value: most often text without its quotes
        checker.quote_hint(node)
    if expect == "bool" and not T.is_bool(info.type) and info.type.kind != "null":
        checker.error(
            node,
            "E-TYPE-COND",
            f"a condition must be true or false, got {T.article(info.type)}",
            'compare it with something, e.g. `x == "value"`',
        )
    elif expect == "frequency" and not _a_frequency(info.type):
        checker.error(
            node,
            "E-TYPE",
            f"a frequency is a record of `count` and `per`, got {T.article(info.type)}",
            'write it as `{count: 1, per: "week"}` (in YAML, quote the whole of it)',
        )
    elif expect == "date" and info.type.kind not in ("date", "any", "null"):
        hint = _DATE_HINTS.get(info.type.kind, "give a date, e.g. `as_of + 7 days`")
        checker.error(node, "E-TYPE", f"expected a date, got {T.article(info.type)}", hint)
    return Checked(
        node=node,
        type=info.type,
        nullable=info.nullable,
        healthcare=checker.healthcare or info.type.healthcare,
        names=checker.names,
        fact_paths=checker.paths,
        roots=checker.roots,
        info=checker.info,
        errors=checker.errors,
        path=info.path,
    )
