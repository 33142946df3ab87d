"""A list that one branch of an `if` builds, hoisted into a column of its own so that the row
works it out once, is worked out only on the rows that take that branch (NULL elsewhere,
where nothing reads it): before, every row built it, whichever branch the row took. A
condition that reads a quantifier's element does not guard a column of the row."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import engine
from engine.sql.query import compile_pack
from engine.sql.run import converted, disagreements
from engine.tools.population import Population

PACKS = Path(__file__).parent.parent / "fixtures" / "sql_guarded"
ROOTS = ("prisoner", "establishment")


@cache
def pack() -> Any:
    return engine.load(PACKS)["guarded"]


def _hoisted(sql: str) -> dict[str, str]:
    """Each hoisted column's expression, by column name."""
    found: dict[str, str] = {}
    for m in re.finditer(r' AS "?(aux__\d+)"?', sql):
        depth, k = 0, m.start()
        while k > 0:
            ch = sql[k - 1]
            if ch == ")":
                depth += 1
            elif ch == "(":
                if depth == 0:
                    break
                depth -= 1
            elif ch == "," and depth == 0:
                break
            k -= 1
        found[m.group(1)] = sql[k : m.start()].strip()
    return found


def test_a_list_built_in_a_branch_is_worked_out_where_the_branch_is_taken() -> None:
    sql = compile_pack(pack()).sql(pretty=False)
    per_day = {
        name: text for name, text in _hoisted(sql).items() if "[0, 1, 2, 3, 4, 5, 6]" in text
    }
    assert len(per_day) == 3  # one for the first output, one per branch of the second
    for name, text in per_day.items():
        assert text.startswith("CASE WHEN"), (name, text[:200])
        assert "release_date" in text.split(" THEN ")[0], (name, text[:200])
    # the second output's branches each test the key worker, one way or the other
    tests = sorted(t.split(" THEN ")[0].count("key_worker") for t in per_day.values())
    assert tests == [0, 1, 1]


def test_sql_decides_as_the_interpreter() -> None:
    docs = Population(seed=12).documents(1500, roots=ROOTS)
    ready = [(i, as_of, converted(doc)) for i, as_of, doc in docs]
    failures, compared = disagreements(pack(), compile_pack(pack()), ready)
    assert not failures, f"{len(failures)} differences, first: " + "\n".join(failures[:5])
    assert compared > 1000
