"""What a whole pack is kept under in the disk cache: its own content, its facts schema, the
packs it imports (transitively) and the engine, and nothing else loaded beside it. So the same
pack loaded alone and in its folder is one entry, a changed neighbour leaves it alone, and a
change to anything in its key builds it afresh."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest

from engine import api, disk_cache
from engine.packs import pack_cache

POLICIES = Path(__file__).resolve().parents[2] / "policies"

PACK = """\
# yaml-language-server: $schema=../schemas/pack.schema.json
id: {id}
title: A pack
version: 0.1.0
status: draft
source: {{title: Test}}
{imports}versions:
  - {{id: "1", effective_from: 2020-01-01, effective_to: null}}
{body}"""
LEVEL = "outputs:\n  level: {value: establishment.regime_level + 1}\n"
BANDS = "outputs:\n  level: {value: 'count(b in bands: true)'}\n"
VOCABULARY = """\
vocabulary:
  bands:
    values:
      - {id: low, label: Low}
      - {id: high, label: High}
"""
FACTS = {"establishment": {"regime_level": 2}}
DAY = dt.date(2020, 7, 1)


def _pack(pid: str, body: str, imports: str | None = None) -> str:
    return PACK.format(id=pid, imports=f"imports: [{imports}]\n" if imports else "", body=body)


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(disk_cache.ENV, str(folder))
    return folder


class Watch:
    """The whole-pack entries read back and written, by pack id."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.read: list[str] = []
        self.written: list[str] = []
        load, store = pack_cache.load, pack_cache.store

        def watched_load(key: str) -> Any:
            found = load(key)
            if found is not None:
                self.read.append(found[0].id)
            return found

        def watched_store(key: str, pack: Any, problems: Any) -> None:
            self.written.append(pack.id)
            store(key, pack, problems)

        monkeypatch.setattr(pack_cache, "load", watched_load)
        monkeypatch.setattr(pack_cache, "store", watched_store)

    def reset(self) -> None:
        self.read.clear()
        self.written.clear()


def _fresh_process() -> None:
    """As a new process would start: no packs or merged plans loaded yet."""
    with api._LOADED_LOCK:
        api._LOADED.clear()
        api._OVERLAYS.clear()


def _load(*paths: Path) -> dict[str, Any]:
    _fresh_process()
    packs, problems = api.check_paths(list(paths), overlays=False)
    assert not [p for p in problems if p.is_error], problems
    return packs


def test_a_pack_loaded_alone_then_in_its_folder_is_one_entry(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    watch = Watch(monkeypatch)
    alone = _load(POLICIES / "keywork_edm.yaml")["keywork_edm"]
    assert watch.written == ["keywork_edm"] and watch.read == []
    watch.reset()
    folder = _load(POLICIES)
    # the key work pack is read back; only its neighbours, never loaded before, are built
    assert watch.read == ["keywork_edm"]
    assert sorted(watch.written) == sorted(set(folder) - {"keywork_edm"})
    assert "action_plan" in folder  # a neighbour loaded before it, whose key it does not take
    assert folder["keywork_edm"].build_key == alone.build_key is not None
    assert len(list((cache_dir / "pack").glob("*.pickle"))) == len(folder)
    watch.reset()
    _load(POLICIES / "keywork_edm.yaml")  # and alone again: still the same entry
    assert watch.read == ["keywork_edm"] and watch.written == []


def test_a_changed_neighbour_does_not_rebuild_a_pack(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    packs = tmp_path / "packs"
    packs.mkdir()
    (packs / "mine.yaml").write_text(_pack("mine", LEVEL), encoding="utf-8")
    neighbour = packs / "neighbour.yaml"
    neighbour.write_text(_pack("a_neighbour", LEVEL), encoding="utf-8")  # loaded first
    watch = Watch(monkeypatch)
    assert sorted(_load(packs)) == ["a_neighbour", "mine"]
    assert sorted(watch.written) == ["a_neighbour", "mine"]
    watch.reset()
    neighbour.write_text(_pack("a_neighbour", LEVEL.replace("+ 1", "+ 2")), encoding="utf-8")
    assert _load(packs)["a_neighbour"].outputs["level"]
    assert watch.written == ["a_neighbour"] and watch.read == ["mine"]
    watch.reset()
    (packs / "another.yaml").write_text(_pack("another", LEVEL), encoding="utf-8")  # one more
    neighbour.unlink()  # and one fewer
    assert sorted(_load(packs)) == ["another", "mine"]
    assert watch.written == ["another"] and watch.read == ["mine"]


def _bands(folder: Path) -> object:
    _fresh_process()
    return api.load(folder).evaluate("user", FACTS, DAY).outputs["level"]


def test_a_change_to_a_pack_imported_through_another_rebuilds_it(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`user` imports `middle`, which imports `base`: `user` counts the bands `base` declares,
    so a change to `base` is in `user`'s key although `user` does not name it."""
    base = tmp_path / "base.yaml"
    base.write_text(_pack("base", VOCABULARY), encoding="utf-8")
    middle = tmp_path / "middle.yaml"
    middle.write_text(_pack("middle", "", imports="base"), encoding="utf-8")
    (tmp_path / "user.yaml").write_text(_pack("user", BANDS, imports="middle"), encoding="utf-8")
    watch = Watch(monkeypatch)
    assert _bands(tmp_path) == 2
    assert _bands(tmp_path) == 2
    assert watch.read == ["base", "middle", "user"]
    watch.reset()
    base.write_text(_pack("base", VOCABULARY + "      - {id: top, label: Top}\n"), "utf-8")
    assert _bands(tmp_path) == 3
    assert watch.written == ["base", "middle", "user"] and watch.read == []
    watch.reset()
    middle.write_text(_pack("middle", "summary: Revised\n", imports="base"), "utf-8")
    assert _bands(tmp_path) == 3
    assert watch.written == ["middle", "user"] and watch.read == ["base"]


def test_a_pack_importing_a_pack_that_is_not_loaded_is_not_kept(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "user.yaml").write_text(_pack("user", BANDS, imports="base"), encoding="utf-8")
    watch = Watch(monkeypatch)
    _fresh_process()
    _, problems = api.check_paths([tmp_path], overlays=False)
    assert [p.code for p in problems if p.is_error] == ["E-IMPORT"]
    assert watch.written == [] and not list(cache_dir.glob("pack/*.pickle"))


def test_another_engine_builds_the_pack_afresh(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "mine.yaml").write_text(_pack("mine", LEVEL), encoding="utf-8")
    watch = Watch(monkeypatch)
    first = _load(tmp_path)["mine"].build_key
    monkeypatch.setattr(disk_cache, "engine_fingerprint", lambda: "a changed engine")
    second = _load(tmp_path)["mine"].build_key
    assert watch.written == ["mine", "mine"] and watch.read == []
    assert first != second


def test_a_local_plan_is_not_merged_again_when_a_neighbour_changes(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.packs import overlay

    shutil.copy(POLICIES / "keywork_edm.yaml", tmp_path / "keywork_edm.yaml")
    plan = tmp_path / "local" / "lei" / "keywork_edm.yaml"
    plan.parent.mkdir(parents=True)
    shutil.copy(POLICIES / "local" / "lei" / "keywork_edm.yaml", plan)
    neighbour = tmp_path / "neighbour.yaml"
    neighbour.write_text(_pack("a_neighbour", LEVEL), encoding="utf-8")
    merged: list[str] = []
    real = overlay.OverlayBuilder.build
    monkeypatch.setattr(
        overlay.OverlayBuilder, "build", lambda self: merged.append("merge") or real(self)
    )

    def merge() -> Any:
        pack, problems = api.load_overlay(plan, _load(tmp_path))
        assert pack is not None and not problems
        return pack

    first = merge()
    neighbour.write_text(_pack("a_neighbour", LEVEL.replace("+ 1", "+ 3")), encoding="utf-8")
    again = merge()
    assert merged == ["merge"]  # read back, not merged again
    assert again.local_plan == first.local_plan
