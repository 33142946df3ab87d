"""Equal decimal literals written with other places stay apart in a compiled expression: the
interpreter's `text` shows the places each was written with."""

from __future__ import annotations

import decimal

import pytest

from engine.language.check import SimpleScope, check
from engine.language.codegen import compile_checked
from engine.language.parse import parse
from engine.language.runtime import EXACT


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("text(0.0 + 0.00)", "0.00"),
        ("text(-0.0 + -0.00)", "0.00"),
        ("text(2.5 + 2.50 * 0)", "2.50"),
        ("text(0 * -1.5)", "-0.0"),
        ("text(10 / 0.5)", "2E+1"),
    ],
)
def test_equal_literals_keep_their_own_places(text: str, shown: str) -> None:
    checked = check(parse(text), SimpleScope({}))
    assert not checked.errors
    with decimal.localcontext(EXACT):
        assert compile_checked(checked).fn({}, lambda name: None) == shown
