"""Syntax tree of the expression language: the nodes the parser builds and later stages read."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Loc:
    """A span inside one expression's text (1-based lines and columns, end exclusive)."""

    line: int
    col: int
    end_line: int
    end_col: int


@dataclass(frozen=True, slots=True)
class Node:
    loc: Loc


@dataclass(frozen=True, slots=True)
class Lit(Node):
    value: Any
    kind: str  # bool int decimal string date duration null


@dataclass(frozen=True, slots=True)
class ListLit(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class RecordLit(Node):
    fields: tuple[tuple[str, Node], ...]


@dataclass(frozen=True, slots=True)
class Name(Node):
    name: str


@dataclass(frozen=True, slots=True)
class Attr(Node):
    obj: Node
    name: str


@dataclass(frozen=True, slots=True)
class Unary(Node):
    op: str  # "not" | "-"
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary(Node):
    op: str  # + - * / == != < <= > >= in "not in"
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Logic(Node):
    op: str  # "and" | "or"
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class If(Node):
    cond: Node
    then: Node
    other: Node


@dataclass(frozen=True, slots=True)
class Comprehension(Node):
    kind: str  # any all count filter map sum
    var: str
    iterable: Node
    body: Node


@dataclass(frozen=True, slots=True)
class Call(Node):
    func: str
    args: tuple[Node, ...]


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-expressions of a node, in source order."""
    if isinstance(node, ListLit):
        return node.items
    if isinstance(node, RecordLit):
        return tuple(v for _, v in node.fields)
    if isinstance(node, Attr):
        return (node.obj,)
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary | Logic):
        return (node.left, node.right)
    if isinstance(node, If):
        return (node.cond, node.then, node.other)
    if isinstance(node, Comprehension):
        return (node.iterable, node.body)
    if isinstance(node, Call):
        return node.args
    return ()


def depth(node: Node) -> int:
    """Nesting depth of the tree, computed without recursion."""
    best = 0
    stack = [(node, 1)]
    while stack:
        current, d = stack.pop()
        best = max(best, d)
        stack.extend((c, d + 1) for c in children(current))
    return best


def free_names(node: Node) -> list[str]:
    """Names an expression reads that no quantifier inside it binds, in first-use order."""
    found: list[str] = []

    def walk(n: Node, bound: frozenset[str]) -> None:
        if isinstance(n, Name):
            if n.name not in bound and n.name not in found:
                found.append(n.name)
            return
        if isinstance(n, Comprehension):
            walk(n.iterable, bound)
            walk(n.body, bound | {n.var})
            return
        for c in children(n):
            walk(c, bound)

    walk(node, frozenset())
    return found


def shape(node: Any) -> Any:
    """A syntax tree with positions left out, for structural comparison: two expressions
    written with other spacing, brackets or quotes have the same shape."""
    if isinstance(node, Node):
        return (
            type(node).__name__,
            *(shape(getattr(node, f.name)) for f in dataclasses.fields(node) if f.name != "loc"),
        )
    if isinstance(node, tuple | list):
        return tuple(shape(x) for x in node)
    return node
