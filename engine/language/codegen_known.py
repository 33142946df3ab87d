"""Compiling an expression in its two-valued form: the code of `codegen`, written as if every
value were known, that gives up (`runtime.give_up`) where it meets one that is not.

A generated program runs this form first and, when it gives up (or fails), runs again from a
clean state in the three-valued form, which decides. Kleene logic short-circuits as two-valued
logic does on a decided operand, so a run that never meets an unknown value on the path it
evaluates gives the same value as the three-valued form, without its bookkeeping: `a and b`
is Python's `and` on truth values, a comparison is a comparison.

What may be unknown is tested where it is read, and only there: a fact read as absent or
null, a field of a record built elsewhere, an element of a list not drawn from the facts, a
name the program cannot vouch for, a function that may give unknown. A construct written in
its three-valued form inside (`known`, `is_none`, `coalesce`: they take unknown arguments)
is followed by a test that gives up when its value is unknown. A value that flows out of
the expression untouched (the whole expression, a branch of an `if` that is) or into a list
or record (an item, a field, what `map` gives for an element: each is tested where it is
read out) may be unknown: it is written in the three-valued form, untested."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from engine.language import runtime as R
from engine.language import syntax as A
from engine.language.check import Checked
from engine.language.codegen import (
    InlineExpr,
    PerDay,
    _flatten,
    _Gen,
    strict_op,
    written_in_line,
)
from engine.language.functions import FUNCTIONS
from engine.language.runtime import MAX_STEPS

# the functions that count their list's elements against the step budget (`runtime.charge`)
_CHARGING = frozenset(
    {"min", "max", "earliest", "latest", "compact", "sum", "unique", "sort", "flatten"}
    | {"index_of", "contains_any"}
)
# a quantifier written as Python's own (`any`, a list comprehension) instead of a call
_OWN = {
    "any": "any({body} for {var} in {items})",
    "all": "all({body} for {var} in {items})",
    "count": "len([None for {var} in {items} if {body}])",
    "filter": "[{var} for {var} in {items} if {body}]",
    "map": "[{body} for {var} in {items}]",
}

# in a quantifier's body written as a loop (`_loop_function`): its text without the texts in
# it, the temporaries it sets, and the local variables of the function around it it may read
_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_SETS = re.compile(r"\b(_t\w+) :=")
_OUTER = re.compile(r"\b(?:_n\d+|_np\d+|_s_\w+|_r_\w+|_t\w+|N|F|m|rr)\b")
# code that is a variable alone (read twice as it is rather than through a temporary)
_VARIABLE = re.compile(r"[A-Za-z_]\w*")

# the nodes that, in a place whose value flows out untouched, are written three-valued
_AS_THEY_ARE = (A.Name, A.Attr, A.Lit, A.Call, A.Binary)


class _Known(_Gen):
    """`_Gen` writing the two-valued form, and the three-valued one where `three` is set."""

    def __init__(
        self, *args: Any, sure: Callable[[str], bool], ready: Callable[[str], bool] | None = None
    ):
        super().__init__(*args)
        self.sure = sure  # whether a pack name's value is surely known when this code reads it
        # whether a pack name is surely worked out before this code reads it (read, it runs
        # no work of its own)
        self.ready = ready or (lambda name: False)
        self.three = False  # writing a part in the three-valued form (a null-aware argument)
        self.loops = False  # a quantifier's loop as a function of its own (`_loop_function`)
        self.tail: set[int] = set()  # the nodes whose value flows out of the expression as is
        # writing a quantifier's body to try first (`_loop_function`), where giving up runs
        # the body as otherwise written: `coalesce` of a truth value is that value's own
        # two-valued form (`_Call`), `eager_used` telling whether any was so written
        self.eager = False
        self.eager_used = False

    def gen(self, node: A.Node) -> str:
        if self.three:
            return super().gen(node)
        # what goes into a list or record is read out of it with a test (a field read, an
        # element of a quantifier, membership): it flows in as it is
        if isinstance(node, A.ListLit):
            self.tail |= {id(i) for i in node.items}
        elif isinstance(node, A.RecordLit):
            self.tail |= {id(v) for _, v in node.fields}
        elif isinstance(node, A.Comprehension) and node.kind == "map":
            self.tail.add(id(node.body))
        if id(node) in self.tail:
            if isinstance(node, _AS_THEY_ARE) and not strict_op(node):
                with self._three_valued():
                    return super().gen(node)
            if isinstance(node, A.If):
                self.tail |= {id(node.then), id(node.other)}
        return super().gen(node)

    @contextmanager
    def _three_valued(self) -> Iterator[None]:
        """Write what is generated inside in the three-valued form."""
        self.three = True
        try:
            yield
        finally:
            self.three = False

    def _known(self, code: str) -> str:
        """`code`, giving up when its value is unknown (a variable read as it is, twice,
        rather than through a temporary: no code runs between the two reads)."""
        if _VARIABLE.fullmatch(code):
            return f"({code} if {code}.__class__ is not _U else _gu())"
        t = self.tmp()
        return f"({t} if ({t} := {code}).__class__ is not _U else _gu())"

    def _strict(self, node: A.Node) -> str:
        if self.three:
            return super()._strict(node)
        # every operand is known: the operation itself, without a guard
        saved, self.native = self.native, True
        try:
            return self._native(node)
        finally:
            self.native = saved

    def _native(self, node: A.Node) -> str:
        if (
            not self.three
            and isinstance(node, A.Binary)
            and node.op in ("+", "-")
            and self.info(node.left).type.kind == "date"
            and self.info(node.right).type.kind == "months"
        ):
            # what `Months.__radd__` and `__rsub__` give, without Python's dispatch to them
            # (the date's own operator first, refusing)
            left, right = self.gen(node.left), self.gen(node.right)
            return f"_addm({left}, {'' if node.op == '+' else '-'}{right}.n)"
        return super()._native(node)

    def _Lit(self, node: A.Lit) -> str:
        if node.value is None and not self.three:
            return "_gu()"  # the decided no-value is not a plain value
        return super()._Lit(node)

    def _Name(self, node: A.Name) -> str:
        code = super()._Name(node)
        if self.three:
            return code
        name = node.name
        if name in self.locals:
            # an element drawn from the facts is plain data, as the three-valued form reads it
            return code if self.info(node).path is not None else self._known(code)
        if name in self.special or name in self.checked.roots or self.sure(name):
            return code
        return self._known(code)

    def _Attr(self, node: A.Attr) -> str:
        if self.three:
            return super()._Attr(node)
        read = self._raw_read(node)
        if read is not None and _VARIABLE.fullmatch(read[0]):  # (read into a local: as it is)
            return f"({read[0]} if {read[0]} is not None else _gu())"
        t = self.tmp()
        if read is not None:  # a field of the facts: unknown exactly when it reads None
            return f"({t} if ({t} := {read[0]}) is not None else _gu())"
        record = self.gen(node.obj)
        return (
            f"({t} if ({t} := {record}.get({node.name!r})) is not None "
            f"and {t}.__class__ is not _U else _gu())"
        )

    def _Binary(self, node: A.Binary) -> str:
        # membership in a list that is not all constants (the rest is strict)
        if self.three:
            return super()._Binary(node)
        left, right = self.gen(node.left), self.gen(node.right)
        if isinstance(node.right, A.ListLit) and not any(
            self.info(i).nullable for i in node.right.items
        ):
            return f"({left} {node.op} {right})"
        found = self._known(f"_in_list({left}, {right})")
        return found if node.op == "in" else f"(not {found})"

    def _Logic(self, node: A.Logic) -> str:
        if self.three:
            return super()._Logic(node)
        operands = _flatten(node, node.op)
        return "(" + f" {node.op} ".join(self.gen(o) for o in operands) + ")"

    def _If(self, node: A.If) -> str:
        if self.three:
            return super()._If(node)
        return f"({self.gen(node.then)} if {self.gen(node.cond)} else {self.gen(node.other)})"

    def _is_none_read(self, node: A.Call) -> str | None:
        """`is_none` of a field read raw, or None: false when the read gives a value, true
        for a null the facts schema marks none (the key is there), else it gives up."""
        arg = node.args[0] if len(node.args) == 1 else None
        if node.func != "is_none" or not isinstance(arg, A.Attr):
            return None
        read = self._raw_read(arg)
        if read is None:
            return None
        chain, absent = read
        info = self.info(arg)
        undecided = f" else {self.const(R.unknown(info.path or f'?.{arg.name}'))})"
        if not info.type.null_none:
            return f"(False if {chain} is not None else _gu())"
        none = f"({self.const(R.NULL)} if "
        if not (absent.startswith(none) and absent.endswith(undecided)):
            return None
        present = "(True if " + absent[len(none) : -len(undecided)] + " else _gu())"
        return f"(False if {chain} is not None else {present})"

    def _Comprehension(self, node: A.Comprehension) -> str:
        if self.three or self.locals or node.kind not in _OWN:
            return super()._Comprehension(node)
        self.locals.append(node.var)
        try:
            counted = self._counted(node.body)
        finally:
            self.locals.pop()
        if not counted:
            return super()._Comprehension(node)
        # outside any other quantifier, over a list no longer than the step budget, with a
        # condition that takes no steps of its own: Python's own loop counts the same steps
        # (none beyond the budget), without a call per element
        items = self.tmp()
        it = self.gen(node.iterable)
        var = f"_v_{node.var}"
        self.locals.append(node.var)
        try:
            body = self.gen(node.body)
            first = self._eager(node.body) if self.loops and node.kind != "map" else None
        finally:
            self.locals.pop()
        loop = self._loop_function(node.kind, body, var, items, first) if self.loops else None
        if loop is None:
            loop = _OWN[node.kind].format(body=body, var=var, items=items)
        return f"(_gu() if len({items} := {it}) > {MAX_STEPS} else {loop})"

    def _eager(self, node: A.Node) -> str | None:
        """The quantifier's body `node` written to be tried first for each element, with each
        `coalesce` whose first argument is a truth value written as that argument's two-valued
        form (tested to be a truth value): where that form does not give up, the argument is
        known, so `coalesce` gives it. None when the body has no such `coalesce`."""
        self.eager, self.eager_used = True, False
        try:
            code = self.gen(node)
        finally:
            self.eager = False
        return code if self.eager_used else None

    def _loop_function(
        self, kind: str, body: str, var: str, items: str, first: str | None = None
    ) -> str | None:
        """A call of a function of its own (in `defs`) looping over `items` as `_OWN[kind]`
        does, given the local variables `body` reads as arguments: what `body` sets (its
        temporaries) stays that function's own, where in a comprehension it would be kept in
        a cell of the function around it (as Python keeps what `:=` sets there), one made
        on every run. None when `body` reads a name not yet resolved (a mark). With `first`
        (`_eager`), each element's value is `first`'s, or `body`'s where `first` gives up:
        the same value, `first` without the three-valued bookkeeping where all is known."""
        if "\0" in body or (first is not None and "\0" in first):
            return None
        plain = _STRING.sub("''", body if first is None else f"{body}\n{first}")
        own = set(_SETS.findall(plain))
        outer = sorted({w for w in _OUTER.findall(plain) if w not in own})
        name = f"_l{self.tmp()[2:]}"
        test = {"any": body, "all": f"not ({body})", "count": body, "filter": body}
        lines = [f"def {name}(_it{''.join(', ' + w for w in outer)}):"]
        if kind in ("count", "filter", "map"):
            lines.append("    _out = 0" if kind == "count" else "    _out = []")
        lines.append(f"    for {var} in _it:")
        if first is not None:  # (not for `map`: its body flows out three-valued)
            lines.append("        try:")
            lines.append(f"            _b = {first}")
            lines.append("        except _GaveUp:")
            lines.append(f"            _b = {body}")
            body = "_b"
            test["any"] = test["count"] = test["filter"] = body
            test["all"] = f"not {body}"
        if kind == "map":
            lines.append(f"        _out.append({body})")
        else:
            lines.append(f"        if {test[kind]}:")
            lines.append(
                {
                    "any": "            return True",
                    "all": "            return False",
                    "count": "            _out += 1",
                    "filter": f"            _out.append({var})",
                }[kind]
            )
        lines.append(
            {"any": "    return False", "all": "    return True"}.get(kind, "    return _out")
        )
        self.defs.append("\n".join(lines))
        return f"{name}({items}{''.join(', ' + w for w in outer)})"

    def _counted(self, node: A.Node) -> bool:
        """Whether working `node` out takes no steps of the budget (no quantifier, no list
        function, no joining of lists or texts, no name whose reading may work it out)."""
        if isinstance(node, A.Comprehension):
            return False
        if isinstance(node, A.Call) and node.func in _CHARGING:
            return False
        if isinstance(node, A.Binary):
            if node.op == "+" and self.info(node).type.kind in ("list", "string"):
                return False
            if node.op in ("in", "not in") and not strict_op(node):
                return False
        if isinstance(node, A.Name):
            name = node.name
            if not (
                name in self.locals
                or name in self.special
                or name in self.checked.roots
                or self.ready(name)
            ):
                return False
        return all(self._counted(child) for child in A.children(node))

    def _Call(self, node: A.Call) -> str:
        if self.three:
            return super()._Call(node)
        fn = FUNCTIONS[node.func]
        tested = self._is_none_read(node)
        if tested is not None:
            return tested
        if self.eager and node.func == "coalesce" and self.info(node.args[0]).type.kind == "bool":
            # tried first (`_eager`): a truth value its own two-valued form gives is known,
            # and `coalesce` gives it; anything else gives up, and the body as otherwise
            # written decides
            self.eager_used = True
            t = self.tmp()
            return f"({t} if ({t} := {self.gen(node.args[0])}).__class__ is bool else _gu())"
        if fn.null_aware:  # its arguments in the three-valued form, then its value tested
            with self._three_valued():
                code = super()._Call(node)
            return code if node.func == "known" else self._known(code)
        # a function that may give unknown from known arguments (strict ones are `_strict`)
        args = [self.gen(a) for a in node.args]
        if fn.needs_as_of:
            self.hoist["_s_as_of"] = "F['as_of']"
            args.insert(0, "_s_as_of")
        return self._known(f"_f_{node.func}({', '.join(args + self._zero(node, fn.needs_zero))})")


def may_give_unknown(checked: Checked) -> bool:
    """Whether the expression's two-valued form, written to give up rather than give an
    unknown (not `tail`), may give up on its value as a whole (not only on what it reads): a
    name, field, literal, non-strict call or membership, or an `if` choosing one."""
    return _may_give_unknown(checked.node)


def _may_give_unknown(node: A.Node) -> bool:
    if isinstance(node, A.If):
        return _may_give_unknown(node.then) or _may_give_unknown(node.other)
    return isinstance(node, _AS_THEY_ARE) and not strict_op(node)


def tested_reads(checked: Checked, tail: bool = True) -> set[str]:
    """The names the expression's two-valued form surely reads with a test that gives up
    when the value is unknown, whatever the values: those read where its code always goes
    (not past the first operand of `and` / `or`, nor into a branch of an `if`, a quantifier's
    body, a list or record, or a null-aware function's arguments). The caller leaves out the
    names it reads without a test (those it vouches for, the facts' roots, `as_of`)."""
    found: set[str] = set()
    stack: list[tuple[A.Node, bool]] = [(checked.node, tail)]
    while stack:
        node, in_tail = stack.pop()
        if in_tail and isinstance(node, _AS_THEY_ARE) and not strict_op(node):
            continue  # (written three-valued: no test)
        if isinstance(node, A.Name):
            found.add(node.name)
        elif isinstance(node, A.Attr):
            stack.append((node.obj, False))
        elif isinstance(node, A.Unary):
            stack.append((node.operand, False))
        elif isinstance(node, A.Binary):
            stack += [(node.left, False), (node.right, False)]
        elif isinstance(node, A.Logic):
            stack.append((node.left, False))
        elif isinstance(node, A.If):
            stack.append((node.cond, False))
        elif isinstance(node, A.Comprehension):
            stack.append((node.iterable, False))
        elif isinstance(node, A.Call):
            fn = FUNCTIONS.get(node.func)
            if fn is not None and not fn.null_aware:
                stack += [(a, False) for a in node.args]
    return found


def inline_known(
    checked: Checked,
    prefix: str,
    read_name: Callable[[str], str],
    sure: Callable[[str], bool],
    tail: bool = True,
    ready: Callable[[str], bool] | None = None,
    origin: str = "<expression>",
    special: tuple[str, ...] = ("as_of", "version"),
    read_inner: Callable[[str], str] | None = None,
    per_day: PerDay | None = None,
    read_fact: Callable[[str, str], str] | None = None,
    loops: bool = False,
) -> InlineExpr:
    """`inline_checked`'s code in the two-valued form: the same value wherever it does not
    give up; `sure(name)` says which pack names need no test when read (their value is
    never unknown where this code runs); `tail`: whether its value may be unknown (else it
    gives up rather than give an unknown); `ready(name)`: whether a pack name is surely
    worked out before this code reads it; `loops`: a quantifier written as Python's own
    loop is a function of its own, whose source is in the result's `defs` (to define
    beside the code), not a comprehension."""
    gen = _Known(
        checked,
        origin,
        {s: s for s in special},
        prefix,
        read_name,
        read_inner,
        per_day,
        read_fact,
        sure=sure,
        ready=ready,
    )
    gen.loops = loops
    if tail:
        gen.tail.add(id(checked.node))
    return written_in_line(gen, checked.node)
