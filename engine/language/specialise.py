"""Specialising: an expression with some names fixed to values, simplified where that makes it
constant, for showing what an expression means when those names cannot vary.

`specialise(node, {"version": "1"})` puts the literal `"1"` where the expression reads
`version` (not where a quantifier binds a variable of that name) and folds, bottom up, what
then becomes constant, exactly as the compiled expression would compute it:

- `==`, `!=`, `<`, `<=`, `>`, `>=` of two literals of one kind (text, whole number, truth
  value, date), and `in` / `not in` of such a literal and a list of literals of its kind;
- `not` of `true` or `false`;
- `and` / `or` with a side that is `true` or `false`, in the runtime's three-valued logic,
  which evaluates left to right and stops at the deciding value: `false and x` is `false`
  (x is never evaluated), `true and x` and `x and true` are `x`, and the same for `or` with
  the truth values swapped. `x and false` is `false` whatever x's truth value, unknown
  included, but x is still evaluated first: it folds only when evaluating x cannot raise
  an error (a literal, a fact read, a comparison or logic of such, `known` or `is_none` of
  one); otherwise it is left as it is, since the expression would stop there;
- `if c then a else b` with `c` true (`a`), false (`b`) or `null` (`null`, as an unknown
  condition gives).

Only what the fixed names decide is folded: a part that does not read one stays as written
(`x and true` is not simplified unless the `true` came from a fixed name), and a tree that
reads none of them comes back as the same object.
Arithmetic is never folded (it can overflow, divide by zero or need more than the decimal
context's digits), nor are quantifiers or calls.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Container, Mapping
from typing import Any

from engine.language import syntax as A

# the kinds of literal whose comparisons fold: Python compares them as the compiled code does
_FOLDABLE = ("string", "int", "bool", "date")
_COMPARE = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
# functions that read possibly-unknown values and cannot fail
_SAFE_CALLS = frozenset({"known", "is_none"})


def literal_kind(value: Any) -> str:
    """The `A.Lit` kind of a value that may be fixed: text, whole number, truth value, date
    or None (null). Raises ValueError for anything else."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return "date"
    raise ValueError(f"cannot fix a name to {value!r}: only text, numbers, truth values, dates")


def specialise(
    node: A.Node, fixed: Mapping[str, Any], plain: Container[str] = frozenset()
) -> A.Node:
    """`node` with each name of `fixed` read as its value, simplified (module docstring).
    `plain` names the names whose reading can never raise an error (fact roots, `as_of`):
    only expressions built from those may be dropped from `x and false` or `x or true`."""
    kinds = {name: literal_kind(value) for name, value in fixed.items()}
    if not any(name in fixed for name in A.free_names(node)):
        return node  # nothing to substitute: folds already possible are left as written
    return _Specialiser(fixed, kinds, plain).walk(node, frozenset())


def _lit(loc: A.Loc, value: Any) -> A.Lit:
    return A.Lit(loc, value, literal_kind(value))


def _truth(node: A.Node) -> bool | None:
    """True or False for a truth-value literal, else None."""
    if isinstance(node, A.Lit) and node.kind == "bool":
        return bool(node.value)
    return None


def _is_null(node: A.Node) -> bool:
    return isinstance(node, A.Lit) and node.kind == "null"


class _Specialiser:
    def __init__(self, fixed: Mapping[str, Any], kinds: dict[str, str], plain: Container[str]):
        self.fixed = fixed
        self.kinds = kinds
        self.plain = plain

    def walk(self, node: A.Node, bound: frozenset[str]) -> A.Node:
        """`node` specialised; `bound` holds the quantifier variables in force."""
        if isinstance(node, A.Name):
            if node.name in self.fixed and node.name not in bound:
                return A.Lit(node.loc, self.fixed[node.name], self.kinds[node.name])
            return node
        if isinstance(node, A.Lit):
            return node
        if isinstance(node, A.Comprehension):
            iterable = self.walk(node.iterable, bound)
            body = self.walk(node.body, bound | {node.var})
            if iterable is node.iterable and body is node.body:
                return node
            return A.Comprehension(node.loc, node.kind, node.var, iterable, body)
        if isinstance(node, A.ListLit):
            items = tuple(self.walk(i, bound) for i in node.items)
            if all(a is b for a, b in zip(items, node.items, strict=True)):
                return node
            return A.ListLit(node.loc, items)
        if isinstance(node, A.RecordLit):
            fields = tuple((k, self.walk(v, bound)) for k, v in node.fields)
            if all(a[1] is b[1] for a, b in zip(fields, node.fields, strict=True)):
                return node
            return A.RecordLit(node.loc, fields)
        if isinstance(node, A.Attr):
            obj = self.walk(node.obj, bound)
            return node if obj is node.obj else A.Attr(node.loc, obj, node.name)
        if isinstance(node, A.Call):
            args = tuple(self.walk(a, bound) for a in node.args)
            if all(a is b for a, b in zip(args, node.args, strict=True)):
                return node
            return A.Call(node.loc, node.func, args)
        if isinstance(node, A.Unary):
            operand = self.walk(node.operand, bound)
            if operand is node.operand:  # only what a fixed name decides is folded
                return node
            truth = _truth(operand)
            if node.op == "not" and truth is not None:
                return _lit(node.loc, not truth)
            return A.Unary(node.loc, node.op, operand)
        if isinstance(node, A.Binary):
            left, right = self.walk(node.left, bound), self.walk(node.right, bound)
            if left is node.left and right is node.right:
                return node
            folded = _fold_binary(node.op, left, right)
            if folded is not None:
                return _lit(node.loc, folded)
            return A.Binary(node.loc, node.op, left, right)
        if isinstance(node, A.Logic):
            return self._logic(node, bound)
        if isinstance(node, A.If):
            cond = self.walk(node.cond, bound)
            truth = _truth(cond) if cond is not node.cond else None
            if truth is True:
                return self.walk(node.then, bound)
            if truth is False:
                return self.walk(node.other, bound)
            if cond is not node.cond and _is_null(cond):  # an unknown condition: the value
                return cond
            then, other = self.walk(node.then, bound), self.walk(node.other, bound)
            if cond is node.cond and then is node.then and other is node.other:
                return node
            return A.If(node.loc, cond, then, other)
        raise TypeError(f"cannot specialise a {type(node).__name__}")

    def _logic(self, node: A.Logic, bound: frozenset[str]) -> A.Node:
        decisive = node.op == "or"  # the value that decides: true for `or`, false for `and`
        left = self.walk(node.left, bound)
        truth = _truth(left) if left is not node.left else None
        if truth is decisive:  # the right side is never evaluated
            return _lit(node.loc, decisive)
        right = self.walk(node.right, bound)
        if truth is not None:  # the left side is the neutral value: the right side decides
            return right
        other = _truth(right) if right is not node.right else None
        if other is not None and other is not decisive:  # the neutral value on the right
            return left
        if other is decisive and self.cannot_fail(left, bound):
            return _lit(node.loc, decisive)
        if left is node.left and right is node.right:
            return node
        return A.Logic(node.loc, node.op, left, right)

    def cannot_fail(self, node: A.Node, bound: frozenset[str]) -> bool:
        """Whether evaluating `node` can never raise an error (a conservative answer)."""
        if isinstance(node, A.Lit):
            return True
        if isinstance(node, A.Name):
            return node.name in bound or node.name in self.plain
        if isinstance(node, A.Attr):
            return self.cannot_fail(node.obj, bound)
        if isinstance(node, A.Unary):
            return node.op == "not" and self.cannot_fail(node.operand, bound)
        if isinstance(node, A.Binary):
            if node.op in ("in", "not in"):
                constant = isinstance(node.right, A.ListLit) and all(
                    isinstance(i, A.Lit) for i in node.right.items
                )
                return constant and self.cannot_fail(node.left, bound)
            return node.op in _COMPARE and all(
                self.cannot_fail(c, bound) for c in (node.left, node.right)
            )
        if isinstance(node, A.Logic | A.If | A.ListLit | A.RecordLit):
            return all(self.cannot_fail(c, bound) for c in A.children(node))
        if isinstance(node, A.Call):
            return node.func in _SAFE_CALLS and all(self.cannot_fail(a, bound) for a in node.args)
        return False  # quantifiers count their steps against the budget


def _fold_binary(op: str, left: A.Node, right: A.Node) -> bool | None:
    """The value of a comparison or membership of literals, when it surely is the runtime's."""
    if not isinstance(left, A.Lit) or left.kind not in _FOLDABLE:
        return None
    if op in _COMPARE:
        if not isinstance(right, A.Lit) or right.kind != left.kind:
            return None
        if left.kind == "bool" and op not in ("==", "!="):
            return None
        return bool(_COMPARE[op](left.value, right.value))
    if op in ("in", "not in") and isinstance(right, A.ListLit):
        if not all(isinstance(i, A.Lit) and i.kind == left.kind for i in right.items):
            return None
        found = any(i.value == left.value for i in right.items)  # type: ignore[attr-defined]
        return found if op == "in" else not found
    return None
