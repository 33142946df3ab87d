"""Printing: a syntax tree back to expression text, on one line.

The text parses to the same tree (positions aside): `parse(unparse(node))` equals `node`
but for `loc`. Brackets are written only where the grammar's binding needs them, so a tree
the parser built from `a and (b or c)` prints as written, and one from `(a and b) or c` as
`a and b or c`; the one exception is for the reader: an `if` or `any`/`all` before an `if`'s
`then` or `else` is bracketed. Literals are written in one spelling each: strings in double
quotes, a duration in minutes, days or months (`1 week` prints as `7 days`, `1 year` as
`12 months`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from engine.language import syntax as A
from engine.language.runtime import Months

# how tightly each form binds, loosest first, as the grammar's rules are ordered
_EXPR, _OR, _AND, _NOT, _COMPARE, _SUM, _PRODUCT, _UNARY, _POSTFIX, _ATOM = range(10)

_LEVEL = {
    "or": _OR,
    "and": _AND,
    "+": _SUM,
    "-": _SUM,
    "*": _PRODUCT,
    "/": _PRODUCT,
}


def unparse(node: A.Node) -> str:
    """The expression text of `node`, on one line."""
    return _text(node, _EXPR)


def literal(value: Any, kind: str) -> str:
    """The text of a literal of `kind` (as `A.Lit` holds it)."""
    if kind == "null" or value is None:
        return "null"
    if kind == "bool":
        return "true" if value else "false"
    if kind == "string":
        return _quote(value)
    if kind == "date" and isinstance(value, dt.date):
        return value.isoformat()
    if kind == "decimal" and isinstance(value, Decimal):
        text = format(value, "f")
        return text if "." in text else text + ".0"
    if kind == "duration":
        if isinstance(value, Months):
            return f"{value.n} month" if value.n == 1 else f"{value.n} months"
        if isinstance(value, dt.timedelta):
            if value.seconds == 0 and value.microseconds == 0:
                return f"{value.days} day" if value.days == 1 else f"{value.days} days"
            minutes = value // dt.timedelta(minutes=1)
            return f"{minutes} minute" if minutes == 1 else f"{minutes} minutes"
    if kind == "int" and isinstance(value, int):
        return str(value)
    raise ValueError(f"no literal text for {value!r} of kind {kind}")


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped.replace("\t", "\\t") + '"'


def _level(node: A.Node) -> int:
    if isinstance(node, A.If):
        return _EXPR
    if isinstance(node, A.Comprehension):
        return _EXPR if node.kind in ("any", "all") else _ATOM
    if isinstance(node, A.Logic):
        return _LEVEL[node.op]
    if isinstance(node, A.Unary):
        return _NOT if node.op == "not" else _UNARY
    if isinstance(node, A.Binary):
        return _LEVEL.get(node.op, _COMPARE)
    if isinstance(node, A.Attr):
        return _POSTFIX
    return _ATOM


def _text(node: A.Node, need: int) -> str:
    """`node`'s text, in brackets when it binds more loosely than `need`."""
    text = _bare(node)
    return f"({text})" if _level(node) < need else text


def _bare(node: A.Node) -> str:
    if isinstance(node, A.Lit):
        return literal(node.value, node.kind)
    if isinstance(node, A.Name):
        return node.name
    if isinstance(node, A.ListLit):
        return "[" + ", ".join(_text(i, _EXPR) for i in node.items) + "]"
    if isinstance(node, A.RecordLit):
        return "{" + ", ".join(f"{k}: {_text(v, _EXPR)}" for k, v in node.fields) + "}"
    if isinstance(node, A.Attr):
        return f"{_text(node.obj, _POSTFIX)}.{node.name}"
    if isinstance(node, A.Call):
        return f"{node.func}({', '.join(_text(a, _EXPR) for a in node.args)})"
    if isinstance(node, A.Unary):
        if node.op == "not":
            return f"not {_text(node.operand, _NOT)}"
        operand = _text(node.operand, _UNARY)
        return f"- {operand}" if operand.startswith("-") else f"-{operand}"
    if isinstance(node, A.Logic):
        level = _LEVEL[node.op]
        return f"{_text(node.left, level)} {node.op} {_text(node.right, level + 1)}"
    if isinstance(node, A.Binary):
        level = _LEVEL.get(node.op, _COMPARE)
        if level == _COMPARE:  # comparisons do not chain: both sides bind tighter
            return f"{_text(node.left, _SUM)} {node.op} {_text(node.right, _SUM)}"
        return f"{_text(node.left, level)} {node.op} {_text(node.right, level + 1)}"
    if isinstance(node, A.If):
        # an `if` or quantifier before `then` or `else` is bracketed, to be read at a glance
        # (the grammar does not need it); one after `else` reads as a chain
        parts = (_text(node.cond, _OR), _text(node.then, _OR), _text(node.other, _EXPR))
        return "if {} then {} else {}".format(*parts)
    if isinstance(node, A.Comprehension):
        binder = f"{node.var} in {_text(node.iterable, _SUM)}"
        body = _text(node.body, _EXPR)
        if node.kind in ("any", "all"):
            return f"{node.kind} {binder}: {body}"
        return f"{node.kind}({binder}: {body})"
    raise TypeError(f"cannot print a {type(node).__name__}")
