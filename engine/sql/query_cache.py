"""A pack's query as text, kept in the disk cache: compiling a large pack to SQL and rendering
it takes longer than `regime batch` deciding a small file, and it is the same for an unchanged
pack. The key covers all the query is made from, so a changed pack is compiled again."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from engine import disk_cache
from engine.language import static_types as T
from engine.packs import model as M

KIND = "sql-query"


@dataclass(frozen=True)
class RenderedQuery:
    """A pack's query in one dialect, as compact text, with what a reader needs of its rows:
    the outputs it returns (with their types) and those withheld from its audience."""

    pack: M.Pack
    audience: str
    dialect: str
    text: str
    outputs: dict[str, T.Type]
    withheld: tuple[str, ...]


def rendered(
    pack: M.Pack,
    audience: str,
    dialect: str,
    outputs: list[str] | None = None,
    *,
    text_dialect: str | None = None,
    pretty: bool = False,
) -> RenderedQuery:
    """The pack's query for `audience`, built for `dialect`, narrowed to `outputs` and written
    in `text_dialect` (the same when not given), laid out for reading when `pretty`: from the
    disk cache when an unchanged pack was compiled so before, else compiled (and kept)."""
    written_in = text_dialect or dialect
    entry = cache_key(pack, audience, dialect, outputs, written_in, pretty)
    if entry is not None:
        found = _entry(disk_cache.load(KIND, entry))
        if found is not None:
            text, shown, withheld = found
            return RenderedQuery(pack, audience, dialect, text, shown, withheld)
    from engine.sql.output_columns import with_outputs
    from engine.sql.query import compile_pack

    compiled = with_outputs(compile_pack(pack, audience, dialect, "facts"), outputs)
    # the tree is thrown away once written, so the renderer may rewrite it in place rather
    # than copy it first (a tenth of compiling a large pack)
    text = compiled.query.sql(dialect=written_in, pretty=pretty, copy=False)
    made = RenderedQuery(pack, audience, dialect, text, compiled.outputs, compiled.withheld)
    if entry is not None:
        disk_cache.store(KIND, entry, (made.text, made.outputs, made.withheld))
    return made


def cache_key(
    pack: M.Pack,
    audience: str,
    dialect: str,
    outputs: list[str] | None,
    text_dialect: str | None = None,
    pretty: bool = False,
) -> str | None:
    """The entry's key: the pack's build key (its content, its facts schema, the packs it
    imports and the engine), the versions it applies (a pack pinned to one version keeps its
    build key), the SQL renderer's version and what is asked for. None for a pack the disk
    cache does not know (no build key, or under a local plan): compiled every time."""
    if pack.build_key is None or pack.local_plan is not None:
        return None
    import sqlglot

    versions = hashlib.sha256(repr(pack.versions).encode()).hexdigest()
    wanted = "\0".join(outputs) if outputs is not None else "\1all"
    layout = f"{text_dialect or dialect}\0{'pretty' if pretty else 'compact'}"
    return disk_cache.key(
        KIND, pack.build_key, versions, sqlglot.__version__, audience, dialect, wanted, layout
    )


def _entry(found: object) -> tuple[str, dict[str, T.Type], tuple[str, ...]] | None:
    """A stored entry as (text, outputs, withheld), or None for anything else."""
    if not (isinstance(found, tuple) and len(found) == 3):
        return None
    text, shown, withheld = found
    if (
        isinstance(text, str)
        and isinstance(shown, dict)
        and all(isinstance(t, T.Type) for t in shown.values())
        and isinstance(withheld, tuple)
    ):
        return text, shown, withheld
    return None
