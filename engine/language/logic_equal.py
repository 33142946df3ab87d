"""Whether two disjunctions of conditions decide alike under the language's three-valued
logic, their comparisons and other non-logical parts taken as opaque atoms.

The answer is sound, never exact: two atoms are the same only when their syntax trees have the
same shape (`syntax.shape`), and different atoms are taken to vary independently, so `x > 3`
and `not (x <= 3)` count as different although they agree. What it adds to comparing shapes is
the logic itself: `a and b` equals `b and a`, `a or (a and b)` equals `a`, `not (a or b)` equals
`not a and not b`. An atom takes each of three values: true, false, and neither (a fact not
known, or a recorded none, which `and`, `or`, `not` and `if` all treat alike: Kleene logic).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Sequence
from typing import Any

from engine.language import syntax as A
from engine.language.unparse import unparse

# more atoms than this and the truth table (3**n rows) is not worked out
MAX_ATOMS = 8

T, F, N = True, False, None  # N: neither true nor false


@dataclasses.dataclass(frozen=True)
class Difference:
    """Values of the atoms (each written as in the first condition that has it) under which
    the two disjunctions decide differently, and what each decides there."""

    atoms: tuple[tuple[str, bool | None], ...]
    first: bool | None
    second: bool | None


def _atoms(node: A.Node, found: dict[Any, A.Node]) -> None:
    if isinstance(node, A.Logic):
        _atoms(node.left, found)
        _atoms(node.right, found)
    elif isinstance(node, A.Unary) and node.op == "not":
        _atoms(node.operand, found)
    elif isinstance(node, A.If):
        for part in (node.cond, node.then, node.other):
            _atoms(part, found)
    elif not (isinstance(node, A.Lit) and node.kind == "bool"):
        found.setdefault(A.shape(node), node)


def _form(node: A.Node, atoms: dict[Any, int]) -> Any:
    """The condition's logic as nested tuples over atom numbers, worked out once."""
    if isinstance(node, A.Logic):
        return (node.op, _form(node.left, atoms), _form(node.right, atoms))
    if isinstance(node, A.Unary) and node.op == "not":
        return ("not", _form(node.operand, atoms))
    if isinstance(node, A.If):
        return ("if", *(_form(p, atoms) for p in (node.cond, node.then, node.other)))
    if isinstance(node, A.Lit) and node.kind == "bool":
        return bool(node.value)
    return atoms[A.shape(node)]


def _value(form: Any, row: Sequence[bool | None]) -> bool | None:
    if form is True or form is False:
        return form
    if isinstance(form, int):
        return row[form]
    op = form[0]
    if op == "not":
        inner = _value(form[1], row)
        return N if inner is N else not inner
    if op == "if":
        cond = _value(form[1], row)
        return N if cond is N else _value(form[2] if cond else form[3], row)
    left, right = _value(form[1], row), _value(form[2], row)
    decisive = op == "or"  # `or` is decided by a true side, `and` by a false one
    if left is decisive or right is decisive:
        return decisive
    return N if left is N or right is N else not decisive


def _any(forms: Sequence[Any], row: Sequence[bool | None]) -> bool | None:
    """The disjunction of `forms` (false when there are none), as `or` decides it."""
    values = [_value(f, row) for f in forms]
    if T in values:
        return T
    return N if N in values else F


def difference(first: Sequence[A.Node], second: Sequence[A.Node]) -> Difference | None:
    """Where `first[0] or first[1] or ...` and the same of `second` decide differently (an
    empty disjunction is false), or None where they decide alike on every row of the truth
    table. Raises TooManyAtoms beyond MAX_ATOMS atoms."""
    return _first_row(first, second, lambda one, two: one is not two)


# false below not known below true: a narrower condition is nowhere above the wider one
_RANK = {F: 0, N: 1, T: 2}


def wider(narrow: A.Node, wide: A.Node) -> Difference | None:
    """Where `narrow` decides above `wide` (true where it is not known or false, or not known
    where it is false), or None where it never does: `narrow` admits nothing `wide` does not,
    and leaves nothing not known that `wide` decides against. Raises TooManyAtoms."""
    return _first_row([narrow], [wide], lambda one, two: _RANK[one] > _RANK[two])


def _first_row(
    first: Sequence[A.Node],
    second: Sequence[A.Node],
    differs: Callable[[bool | None, bool | None], bool],
) -> Difference | None:
    """The first row of the truth table where the two disjunctions' values `differ`."""
    found: dict[Any, A.Node] = {}
    for node in (*first, *second):
        _atoms(node, found)
    if len(found) > MAX_ATOMS:
        raise TooManyAtoms(len(found))
    atoms = {shape: i for i, shape in enumerate(found)}
    forms_1 = [_form(n, atoms) for n in first]
    forms_2 = [_form(n, atoms) for n in second]
    for row in itertools.product((T, F, N), repeat=len(atoms)):
        one, two = _any(forms_1, row), _any(forms_2, row)
        if differs(one, two):
            shown = tuple((unparse(node), row[i]) for i, node in enumerate(found.values()))
            return Difference(shown, one, two)
    return None


def truth_text(value: bool | None) -> str:
    """A value of the truth table as a reader says it."""
    return "not known" if value is None else "true" if value else "false"


class TooManyAtoms(Exception):
    """The conditions have too many distinct parts for their truth table to be worked out."""
