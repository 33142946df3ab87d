"""The facts walk's own lines for a text, null or boolean agree with the full validator at
their edges: a well-formed text that is no calendar day, a text outside its list, a text
over the length limit, a boolean or number where only text is allowed, null where the list
of values has none, a whole number outside its bounds or past the digits limit."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from engine.packs.facts_schema import MAX_STRING, _prepare_fast
from tests.unit.test_facts_validator import DOCS, _slow

EDGES: list[tuple[tuple[str, ...], Any]] = [
    (("as_of",), "2020-02-30"),
    (("as_of",), "2020-2-03"),
    (("as_of",), "2020-W01-1"),
    (("as_of",), "2020-02-29"),
    (("prisoner", "release_date"), "2021-13-01"),
    (("prisoner", "release_date"), None),
    (("prisoner", "acct"), "opened"),
    (("prisoner", "acct"), None),
    (("prisoner", "acct"), True),
    (("prisoner", "acct"), "x" * (MAX_STRING + 1)),
    (("prisoner", "cell_location"), "x" * (MAX_STRING + 1)),
    (("prisoner", "cell_location"), 7),
    (("prisoner", "cev"), "yes"),
    (("prisoner", "cev"), 1),
    (("prisoner", "cev"), None),
    (("prisoner", "prison_number"), "not a number"),
    (("establishment", "keywork_model"), "monthly"),
    (("establishment", "regime_level_since"), "2020-06-31"),
    (("establishment", "regime_level"), 0),
    (("establishment", "regime_level"), 4),
    (("establishment", "regime_level"), 5),
    (("establishment", "regime_level"), True),
    (("establishment", "regime_level"), 3.0),
    (("establishment", "regime_level"), 10**40),
    (("establishment", "regime_level"), "3"),
]


@pytest.mark.parametrize(("path", "value"), EDGES)
def test_plain_value_edges_agree_with_the_full_validator(path: tuple[str, ...], value: Any):
    for doc in DOCS:
        doc = copy.deepcopy(doc)
        node = doc
        for part in path[:-1]:
            if not isinstance(node.get(part), dict):
                break
            node = node[part]
        else:
            node[path[-1]] = value
            fast = _prepare_fast(copy.deepcopy(doc), "facts")
            slow = _slow(copy.deepcopy(doc))
            if fast is not None:
                assert fast == slow
            assert (slow is None) <= (fast is None)  # never passes what the validator refuses
            if value.__class__ in (str, bool, int, type(None)):
                assert (slow is None) == (fast is None)  # and decides a plain value itself
