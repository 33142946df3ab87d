"""What `regime check` says about SQL: each pack that has no SQL form, where and why."""

from __future__ import annotations

from engine.packs import model as M
from engine.problems import Code, Problem, problem
from engine.sql.query import compile_pack
from engine.sql.types import Unsupported

CODE: Code = "W-SQL-UNSUPPORTED"


def sql_problems(packs: dict[str, M.Pack]) -> list[Problem]:
    """A warning for every pack that cannot be compiled to SQL, naming the construct."""
    found: list[Problem] = []
    for pid, pack in sorted(packs.items()):
        try:
            compile_pack(pack)
        except Unsupported as u:
            found.append(
                problem(
                    CODE,
                    pack.file,
                    u.line or 1,
                    u.col or 1,
                    f"pack `{pid}` cannot be compiled to SQL: {u.construct}: {u.why}",
                    hint="`regime batch --engine python` still decides it, one document at a time",
                )
            )
    return found
