"""What `regime check` says about SQL: each pack that has no SQL form, where and why."""

from __future__ import annotations

from engine.packs import model as M
from engine.problems import Code, Problem, problem
from engine.sql.expressions import MAX_PATHS, PathBits, TooManyPaths
from engine.sql.query import PackCompiler, compile_pack
from engine.sql.types import Unsupported

CODE: Code = "W-SQL-UNSUPPORTED"


def sql_problems(packs: dict[str, M.Pack]) -> list[Problem]:
    """A warning for every pack that cannot be compiled to SQL, naming the construct."""
    found: list[Problem] = []
    for pid, pack in sorted(packs.items()):
        try:
            compile_pack(pack)
        except Unsupported as u:
            if u.construct.endswith(TooManyPaths.CONSTRUCT):
                u.why = f"it reads {count_paths(pack)} fact paths; {u.why}"
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


def count_paths(pack: M.Pack) -> int | str:
    """How many fact paths the pack's SQL form would name (for the message past the limit)."""
    compiler = PackCompiler(pack)
    compiler.bits = PathBits(limit=None)
    try:
        compiler.compile()
    except Unsupported:  # another construct stops it first: at least one past the limit
        return f"more than {MAX_PATHS}"
    return len(compiler.bits.paths)
