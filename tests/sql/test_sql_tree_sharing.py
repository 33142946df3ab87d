"""The compiler places an operand without copying it when it stands nowhere yet (`own`), and
gives every place its own node before rewriting trees in place (`unshare`): a node standing
in two places would carry a rewrite of one into the other."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlglot import exp

import engine
from engine.sql.builders import case, is_null, own, unshare
from engine.sql.query import compile_pack

POLICIES = Path(__file__).resolve().parents[2] / "policies"


def shared_places(root: exp.Expression) -> list[str]:
    """Each place under `root` whose node is not its own: placed elsewhere too (its parent is
    another node) or met before in this walk."""
    found, seen, stack = [], set(), [root]
    while stack:
        node = stack.pop()
        for value in node.args.values():
            for child in value if type(value) is list else [value]:
                if not isinstance(child, exp.Expression):
                    continue
                if child.parent is not node or id(child) in seen:
                    found.append(f"{type(node).__name__} > {child.sql()[:60]}")
                    continue
                seen.add(id(child))
                stack.append(child)
    return found


def test_own_places_a_free_node_itself_and_a_placed_one_as_a_copy() -> None:
    x = exp.column("x")
    assert own(x) is x
    first = is_null(x)  # x now stands in `first`
    second = own(x)
    assert second is not x and second == x and second.parent is None
    assert first.this is x


def test_a_node_put_in_a_second_place_is_copied_into_the_first() -> None:
    x = exp.column("x")
    root = case([(is_null(x), exp.Literal.number(1))], exp.Literal.number(2))
    root = exp.Add(this=root, expression=x)  # x placed again, unchanged: now in two places
    text = root.sql()
    assert shared_places(root)
    unshare(root)
    assert shared_places(root) == []
    assert root.sql() == text
    root.expression.replace(exp.column("y"))  # a rewrite of one place leaves the other alone
    assert root.sql() == text.replace("+ x", "+ y") and "x IS NULL" in root.sql()


def test_a_node_twice_under_one_parent_is_copied_into_one_place() -> None:
    x = exp.column("x")
    root = exp.Add(this=x, expression=x)  # both places' parent is `root`
    assert shared_places(root)
    unshare(root)
    assert shared_places(root) == [] and root.this is not root.expression
    assert root.sql() == "x + x"


@pytest.mark.parametrize("pack_id", ["keywork_edm", "pmp", "omu_edm", "action_plan"])
@pytest.mark.parametrize("audience", ["custodial", "healthcare"])
def test_every_node_of_a_packs_query_stands_in_one_place(pack_id: str, audience: str) -> None:
    pack = engine.load(POLICIES)[pack_id]
    assert shared_places(compile_pack(pack, audience).query) == []
