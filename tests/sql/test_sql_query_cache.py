"""The disk cache of packs' queries: `regime batch` on an unchanged pack reads its query from
the cache instead of compiling it; a changed pack, another version pinned, another audience,
dialect or choice of outputs is never served another's query."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine import api, disk_cache
from engine.packs import model as M
from engine.sql import query as sql_query
from engine.sql.output_columns import with_outputs
from engine.sql.query import compile_pack
from engine.sql.query_cache import KIND, cache_key, rendered
from engine.tools.pinned_version import pin_version

PACK = """\
id: counted
title: A pack whose output the test edits
version: 0.1.0
status: draft
source: {title: Test}
versions:
  - {id: "1", effective_from: 2020-01-01, effective_to: 2020-12-31}
  - {id: "2", effective_from: 2021-01-01, effective_to: null}
parameters:
  extra:
    description: Added to the count; it changes with the version.
    values:
      - {from: 2020-01-01, to: 2020-12-31, value: 1}
      - {from: 2021-01-01, to: null, value: 100}
outputs:
  alerts_counted:
    value: len(prisoner.alerts) + extra
  flagged:
    value: prisoner.cev
"""
RECORD = {"prisoner": {"alerts": ["HA", "XA"], "cev": True}}


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(disk_cache.ENV, str(folder))
    return folder


def _pack(folder: Path) -> M.Pack:
    with api._LOADED_LOCK:  # packs loaded before in this process are reused: start afresh
        api._LOADED.clear()
    return api.load(folder)["counted"]


def _entries(cache_dir: Path) -> list[Path]:
    return sorted((cache_dir / KIND).glob("*.pickle"))


def test_an_unchanged_pack_is_read_from_the_cache(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "counted.yaml").write_text(PACK, encoding="utf-8")
    pack = _pack(tmp_path)
    first = rendered(pack, "custodial", "duckdb")
    assert first.text == compile_pack(pack, "custodial", "duckdb", "facts").sql(pretty=False)
    assert list(first.outputs) == ["alerts_counted", "flagged"]
    assert len(_entries(cache_dir)) == 1

    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled again")

    monkeypatch.setattr(sql_query, "compile_pack", refused)
    again = rendered(_pack(tmp_path), "custodial", "duckdb")  # a fresh load, the same content
    assert (again.text, again.outputs, again.withheld) == (
        first.text,
        first.outputs,
        first.withheld,
    )
    with pytest.raises(AssertionError, match="compiled again"):  # not asked for before
        rendered(_pack(tmp_path), "custodial", "duckdb", ["flagged"])


def test_each_rendering_asked_for_has_its_own_entry(tmp_path: Path, cache_dir: Path) -> None:
    (tmp_path / "counted.yaml").write_text(PACK, encoding="utf-8")
    pack = _pack(tmp_path)
    keys = {
        cache_key(pack, "custodial", "duckdb", None),
        cache_key(pack, "healthcare", "duckdb", None),
        cache_key(pack, "custodial", "spark", None),
        cache_key(pack, "custodial", "duckdb", ["flagged"]),
        cache_key(pack, "custodial", "duckdb", ["alerts_counted", "flagged"]),
        cache_key(pin_version(pack, "1"), "custodial", "duckdb", None),
        cache_key(pin_version(pack, "2"), "custodial", "duckdb", None),
        cache_key(pack, "custodial", "duckdb", None, pretty=True),
        cache_key(pack, "custodial", "duckdb", None, "postgres"),
    }
    assert None not in keys and len(keys) == 9
    narrowed = rendered(pack, "custodial", "duckdb", ["flagged"])
    assert list(narrowed.outputs) == ["flagged"]
    whole = compile_pack(pack, "custodial", "duckdb", "facts")
    assert (
        narrowed.text
        == with_outputs(whole, ["flagged"]).sql(pretty=False)
        != whole.sql(pretty=False)
    )
    spark = rendered(pack, "custodial", "spark")
    assert spark.text == compile_pack(pack, "custodial", "spark", "facts").sql(pretty=False)
    postgres = rendered(pack, "custodial", "duckdb", text_dialect="postgres", pretty=True)
    assert postgres.text == whole.query.sql(dialect="postgres", pretty=True)


def test_a_pinned_version_is_never_served_the_unpinned_query(
    tmp_path: Path, cache_dir: Path
) -> None:
    """A pinned pack keeps its build key (it is the same file): its versions tell it apart."""
    (tmp_path / "counted.yaml").write_text(PACK, encoding="utf-8")
    pack = _pack(tmp_path)
    whole = rendered(pack, "custodial", "duckdb")
    for version in ("1", "2"):
        pinned = pin_version(pack, version)
        assert pinned.build_key == pack.build_key
        text = rendered(pinned, "custodial", "duckdb").text
        assert text == compile_pack(pinned, "custodial", "duckdb", "facts").sql(pretty=False)
        assert text != whole.text
    assert len(_entries(cache_dir)) == 3


def test_a_pack_the_cache_cannot_key_is_compiled_each_time(tmp_path: Path) -> None:
    """No build key (a pack not read from files), or a local plan over it: no entry."""
    (tmp_path / "counted.yaml").write_text(PACK, encoding="utf-8")
    pack = _pack(tmp_path)
    for build_key, plan in ((None, None), (pack.build_key, object())):
        other = M.Pack.__new__(M.Pack)  # (only the two fields the key reads first are set)
        object.__setattr__(other, "build_key", build_key)
        object.__setattr__(other, "local_plan", plan)
        assert cache_key(other, "custodial", "duckdb", None) is None


def _batch(folder: Path, facts: Path, out: Path, cache: Path) -> list[dict[str, object]]:
    env = {**os.environ, disk_cache.ENV: str(cache)}
    args = ["batch", "counted", "--packs", str(folder), "--facts", str(facts)]
    args += ["--as-of", "2020-07-20", "--out", str(out), "--engine", "duckdb"]
    done = subprocess.run(
        [sys.executable, "-m", "cli", *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def test_regime_batch_on_a_changed_pack_is_never_served_its_old_query(tmp_path: Path) -> None:
    """The real command, twice on the same pack, then on the pack edited in place (same file
    name, same size): the third run decides by the edit."""
    packs, cache = tmp_path / "packs", tmp_path / "cache"
    packs.mkdir()
    pack_file = packs / "counted.yaml"
    pack_file.write_text(PACK, encoding="utf-8")
    facts = tmp_path / "facts.jsonl"
    facts.write_text(json.dumps(RECORD) + "\n", encoding="utf-8")
    rows = [_batch(packs, facts, tmp_path / f"out{n}.jsonl", cache) for n in (1, 2)]
    assert rows[0] == rows[1] and rows[0][0]["alerts_counted"] == 3
    assert len(list((cache / KIND).glob("*.pickle"))) == 1
    edited = PACK.replace("len(prisoner.alerts) + extra", "len(prisoner.alerts) * extra")
    assert len(edited) == len(PACK)
    pack_file.write_text(edited, encoding="utf-8")
    changed = _batch(packs, facts, tmp_path / "out3.jsonl", cache)
    assert changed[0]["alerts_counted"] == 2
    assert len(list((cache / KIND).glob("*.pickle"))) == 2


def _sql(folder: Path, cache: Path, *extra: str) -> str:
    env = {**os.environ, disk_cache.ENV: str(cache)}
    args = ["sql", "counted", "--packs", str(folder), *extra]
    done = subprocess.run(
        [sys.executable, "-m", "cli", *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_regime_sql_prints_an_unchanged_packs_query_from_the_cache(tmp_path: Path) -> None:
    """The real command: the second run reads the entry the first wrote and prints the same
    text; another dialect is its own entry; an edited pack prints its new query."""
    packs, cache = tmp_path / "packs", tmp_path / "cache"
    packs.mkdir()
    pack_file = packs / "counted.yaml"
    pack_file.write_text(PACK, encoding="utf-8")
    first = _sql(packs, cache)
    assert "alerts_counted" in first and first.rstrip().endswith(";")
    entries = list((cache / KIND).glob("*.pickle"))
    assert len(entries) == 1
    written = entries[0].stat().st_mtime_ns
    assert _sql(packs, cache) == first
    assert entries[0].stat().st_mtime_ns == written  # read, not written again
    spark = _sql(packs, cache, "--dialect", "spark")
    assert spark != first and len(list((cache / KIND).glob("*.pickle"))) == 2
    pack_file.write_text(PACK.replace("+ extra", "* extra"), encoding="utf-8")
    edited = _sql(packs, cache)
    assert edited != first and "*" in edited
