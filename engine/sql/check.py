"""What `regime check` says about SQL: each pack that has no SQL form, where and why."""

from __future__ import annotations

import json

from engine import disk_cache
from engine.packs import model as M
from engine.packs.facts_schema import facts_schema
from engine.problems import Code, Problem, problem

CODE: Code = "W-SQL-UNSUPPORTED"


def sql_problems(packs: dict[str, M.Pack]) -> list[Problem]:
    """A warning for every pack that cannot be compiled to SQL, naming the construct. The answer
    for a pack is kept in the disk cache, keyed by its content and that of every pack beside it
    (the packs it imports among them), as compiling a large pack takes a while."""
    found: list[Problem] = []
    beside = sorted(p.content_hash for p in packs.values())
    for pid, pack in sorted(packs.items()):
        entry = disk_cache.key(
            "sql-check", pid, pack.file, pack.content_hash, *beside, *_schema(pack)
        )
        cached = disk_cache.load("sql-check", entry)
        if isinstance(cached, list) and all(isinstance(p, Problem) for p in cached):
            found.extend(cached)
            continue
        mine = _pack_problems(pid, pack)
        disk_cache.store("sql-check", entry, mine)
        found.extend(mine)
    return found


def _pack_problems(pid: str, pack: M.Pack) -> list[Problem]:
    from engine.sql.expressions import TooManyPaths
    from engine.sql.types import Unsupported

    try:
        compile_pack(pack)
    except Unsupported as u:
        if u.construct.endswith(TooManyPaths.CONSTRUCT):
            u.why = f"it reads {count_paths(pack)} fact paths; {u.why}"
        return [
            problem(
                CODE,
                pack.file,
                u.line or 1,
                u.col or 1,
                f"pack `{pid}` cannot be compiled to SQL: {u.construct}: {u.why}",
                hint="`regime batch --engine python` still decides it, one document at a time",
            )
        ]
    return []


def compile_pack(pack: M.Pack) -> object:
    """The pack's query (engine.sql.query.compile_pack), with the compiler and sqlglot under it
    imported only here: a `regime check` whose verdicts are all cached never imports them."""
    from engine.sql.query import compile_pack as compile_query

    return compile_query(pack)


def _schema(pack: M.Pack) -> tuple[str, str]:
    """The facts schema a pack reads, as text: a pack may bring its own, so the key covers it."""
    return pack.facts, json.dumps(facts_schema(pack.facts), sort_keys=True, default=str)


def count_paths(pack: M.Pack) -> int | str:
    """How many fact paths the pack's SQL form would name (for the message past the limit)."""
    from engine.sql.expressions import MAX_PATHS, PathBits
    from engine.sql.query import PackCompiler
    from engine.sql.types import Unsupported

    compiler = PackCompiler(pack)
    compiler.bits = PathBits(limit=None)
    try:
        compiler.compile()
    except Unsupported:  # another construct stops it first: at least one past the limit
        return f"more than {MAX_PATHS}"
    return len(compiler.bits.paths)
