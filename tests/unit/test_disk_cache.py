"""The start-up cache: a second load reads its entries; a changed pack is never served stale;
a corrupt or foreign entry is ignored and rewritten."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from engine import api, disk_cache
from engine.language import codegen
from engine.packs import build, build_context

PACK = """\
# yaml-language-server: $schema=../schemas/pack.schema.json
id: cached
title: Cached pack
version: 0.1.0
status: draft
source: {title: Test}
versions:
  - {id: "1", effective_from: 2020-01-01, effective_to: null}
outputs:
  level: {value: establishment.regime_level + 1}
"""
FACTS = {"establishment": {"regime_level": 2}}


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(disk_cache.ENV, str(folder))
    return folder


def _level(folder: Path) -> object:
    with api._LOADED_LOCK:  # packs loaded before in this process are reused: start afresh
        api._LOADED.clear()
    packs = api.load(folder)
    return packs.evaluate("cached", FACTS, dt.date(2020, 7, 1)).outputs["level"]


def _entries(cache_dir: Path) -> list[Path]:
    return sorted(p for p in cache_dir.rglob("*.pickle") if p.parent.name != "lark")


def test_a_second_load_reads_the_cache(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "p.yaml").write_text(PACK, encoding="utf-8")
    assert _level(tmp_path) == 3
    assert {p.parent.name for p in _entries(cache_dir)} == {"yaml", "schema", "trees", "code"}
    calls: list[str] = []
    for name in ("read_yaml", "validate_pack"):
        real = getattr(build, name)
        monkeypatch.setattr(build, name, lambda *a, _r=real, _n=name: calls.append(_n) or _r(*a))
    monkeypatch.setattr(build_context, "parse", lambda *a: calls.append("parse"))
    # nothing compiled in this process either: the code comes from the disk cache
    monkeypatch.setattr(codegen, "_CODES", {})
    monkeypatch.setattr(codegen, "compile", lambda *a: calls.append("compile"), raising=False)
    assert _level(tmp_path) == 3
    assert calls == []


def test_a_changed_expression_is_compiled_afresh(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pack = tmp_path / "p.yaml"
    pack.write_text(PACK, encoding="utf-8")
    assert _level(tmp_path) == 3
    monkeypatch.setattr(codegen, "_CODES", {})
    pack.write_text(PACK.replace("+ 1}", "* 5}"), encoding="utf-8")
    assert _level(tmp_path) == 10


def test_a_changed_pack_is_never_served_stale(tmp_path: Path, cache_dir: Path) -> None:
    pack = tmp_path / "p.yaml"
    pack.write_text(PACK, encoding="utf-8")
    assert _level(pack) == 3
    stat = pack.stat()
    # same size, same modification time: only the content tells them apart
    pack.write_text(PACK.replace("+ 1}", "+ 7}"), encoding="utf-8")
    os.utime(pack, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert pack.stat().st_size == stat.st_size
    assert _level(pack) == 9


def test_a_corrupt_entry_is_ignored_and_rewritten(tmp_path: Path, cache_dir: Path) -> None:
    (tmp_path / "p.yaml").write_text(PACK, encoding="utf-8")
    assert _level(tmp_path) == 3
    entries = _entries(cache_dir)
    assert entries
    for i, entry in enumerate(entries):
        raw = entry.read_bytes()
        # a truncated entry, and one with a byte changed after its digest
        entry.write_bytes(raw[: len(raw) // 2] if i % 2 else raw[:-1] + bytes([raw[-1] ^ 1]))
    assert _level(tmp_path) == 3
    for entry in entries:
        assert disk_cache.load(entry.parent.name, entry.stem) is not None


def test_an_entry_of_the_wrong_shape_is_ignored(tmp_path: Path, cache_dir: Path) -> None:
    (tmp_path / "p.yaml").write_text(PACK, encoding="utf-8")
    assert _level(tmp_path) == 3
    for entry in _entries(cache_dir):
        disk_cache.store(entry.parent.name, entry.stem, "not what was stored")
    assert _level(tmp_path) == 3


def test_caching_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(disk_cache.ENV, "off")
    (tmp_path / "p.yaml").write_text(PACK, encoding="utf-8")
    assert _level(tmp_path) == 3
    assert disk_cache.directory() is None


def test_the_sql_check_of_an_unchanged_pack_is_read_back(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.sql import check as sql_check

    pack = tmp_path / "p.yaml"
    pack.write_text(PACK, encoding="utf-8")
    compiled: list[str] = []
    real = sql_check.compile_pack
    monkeypatch.setattr(sql_check, "compile_pack", lambda p: compiled.append(p.id) or real(p))
    first = sql_check.sql_problems(api.check_paths([pack])[0])
    second = sql_check.sql_problems(api.check_paths([pack])[0])
    assert compiled == ["cached"] and first == second
    pack.write_text(PACK.replace("+ 1}", "+ 2}"), encoding="utf-8")
    sql_check.sql_problems(api.check_paths([pack])[0])
    assert compiled == ["cached", "cached"]
