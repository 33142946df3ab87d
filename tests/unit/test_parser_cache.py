"""The expression parser's tables in the start-up cache: built once and read back by the next
process, an entry written whole (processes starting together share the cache), and a damaged
entry ignored and built again."""

from __future__ import annotations

from pathlib import Path

import lark
import pytest

from engine import disk_cache
from engine.language import parse

EXPRESSION = "count(prisoner.alerts) >= 2 and prisoner.release_date - as_of <= 4 weeks"


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(disk_cache.ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def _built() -> lark.Lark:
    return parse._parser.__wrapped__()  # type: ignore[attr-defined]


def _shape(tree: object) -> object:
    """A parse tree as plain data: rule names, tokens' types, texts and positions."""
    if isinstance(tree, lark.Tree):
        meta = (tree.meta.line, tree.meta.column, tree.meta.end_line, tree.meta.end_column)
        return (str(tree.data), meta, [_shape(c) for c in tree.children])
    if isinstance(tree, lark.Token):
        return (tree.type, str(tree), tree.line, tree.column)
    return tree


def _entries(cache_dir: Path) -> list[Path]:
    return sorted((cache_dir / "lark").iterdir())


def test_the_tables_are_kept_and_read_back(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _built()
    [entry] = _entries(cache_dir)
    assert entry.suffix == ".pickle"  # the temporary file it was written to is gone
    monkeypatch.setattr(lark, "Lark", type("NoBuild", (lark.Lark,), {"__init__": None}))
    again = _built()  # the tables come from the cache: nothing is built
    assert _shape(again.parse(EXPRESSION)) == _shape(first.parse(EXPRESSION))


def test_a_damaged_entry_is_built_again(cache_dir: Path) -> None:
    expected = _shape(_built().parse(EXPRESSION))
    [entry] = _entries(cache_dir)
    entry.write_bytes(entry.read_bytes()[:-100])  # cut short, as by a crash mid-write
    assert _shape(_built().parse(EXPRESSION)) == expected
    [rewritten] = _entries(cache_dir)
    assert disk_cache.load("lark", rewritten.stem) is not None


def test_with_the_cache_off_the_parser_is_built_and_nothing_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(disk_cache.ENV, "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    assert _built().parse(EXPRESSION) is not None
    assert list(tmp_path.iterdir()) == []
