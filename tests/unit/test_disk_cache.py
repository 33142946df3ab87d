"""The start-up cache: a second load reads its entries; a changed pack is never served stale;
a corrupt or foreign entry is ignored and rewritten."""

from __future__ import annotations

import datetime as dt
import os
import pickle
from pathlib import Path
from typing import Any

import pytest

from engine import api, disk_cache
from engine.language import codegen
from engine.packs import build, build_context, facts_schema, resources

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
    kinds = {"yaml", "schema", "trees", "code", "pack", "compiled"}
    assert {p.parent.name for p in _entries(cache_dir)} == kinds
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


def _watch_stages(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the stages from `imports` on that run from now (a cached pack runs none)."""
    ran: list[str] = []
    stages = []
    for stage in build.STAGES:
        if stage.name in ("read", "yaml", "schema"):
            stages.append(stage)
            continue
        run = stage.run
        stages.append(
            build.Stage(
                stage.name, stage.does, lambda s, _r=run, _n=stage.name: ran.append(_n) or _r(s)
            )
        )
    monkeypatch.setattr(build, "STAGES", tuple(stages))
    return ran


def test_the_whole_pack_is_read_back_without_running_its_stages(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "p.yaml").write_text(PACK, encoding="utf-8")
    assert _level(tmp_path) == 3
    ran = _watch_stages(monkeypatch)
    assert _level(tmp_path) == 3
    assert ran == []
    for entry in _entries(cache_dir):
        if entry.parent.name == "pack":
            entry.unlink()
    assert _level(tmp_path) == 3  # without it, the stages run again (from the other entries)
    assert ran == list(build.STAGE_NAMES[build.STAGE_NAMES.index("imports") :])


POLICIES = Path(__file__).resolve().parents[2] / "policies"


def test_packs_read_back_decide_as_packs_built_afresh(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every shipped pack from the cache: the same problems, and the same decision (explanation
    steps included) on every example prisoner, as the packs built with the cache off."""
    from engine.packs.facts_schema import read_facts_file

    examples = [
        read_facts_file(p)
        for p in sorted((POLICIES.parent / "examples" / "prisoners").glob("*.yaml"))
    ]

    def decisions() -> tuple[list[object], dict[str, object]]:
        with api._LOADED_LOCK:
            api._LOADED.clear()
        packs, problems = api.check_paths([POLICIES], overlays=False)
        made: dict[str, object] = {}
        for pid, pack in sorted(packs.items()):
            day = max(v.effective_from for v in pack.versions)
            for i, facts in enumerate(examples if pack.facts == "facts" else []):
                decision = api.evaluate(pack, facts, day, audience="healthcare")
                made[f"{pid}/{i}"] = decision.to_dict()
                made[f"{pid}/{i}/steps"] = [repr(s) for s in decision.steps]
        return [p.format() for p in problems], made

    monkeypatch.setenv(disk_cache.ENV, "off")
    fresh = decisions()
    monkeypatch.setenv(disk_cache.ENV, str(cache_dir))
    assert decisions() == fresh  # built, and kept
    assert len(list((cache_dir / "pack").glob("*.pickle"))) == 4
    ran = _watch_stages(monkeypatch)
    assert decisions() == fresh  # read back
    assert ran == []


IMPORTED = """\
# yaml-language-server: $schema=../schemas/pack.schema.json
id: base
title: Base pack
version: 0.1.0
status: draft
source: {title: Test}
versions:
  - {id: "1", effective_from: 2020-01-01, effective_to: null}
vocabulary:
  bands:
    values:
      - {id: low, label: Low}
      - {id: high, label: High}
"""

IMPORTER = PACK.replace("id: cached", "id: user\nimports: [base]").replace(
    "level: {value: establishment.regime_level + 1}", "level: {value: 'count(b in bands: true)'}"
)


def test_a_changed_imported_pack_rebuilds_the_packs_importing_it(
    tmp_path: Path, cache_dir: Path
) -> None:
    (tmp_path / "base.yaml").write_text(IMPORTED, encoding="utf-8")
    (tmp_path / "user.yaml").write_text(IMPORTER, encoding="utf-8")

    def bands() -> object:
        with api._LOADED_LOCK:
            api._LOADED.clear()
        packs = api.load(tmp_path)
        return packs.evaluate("user", FACTS, dt.date(2020, 7, 1)).outputs["level"]

    assert bands() == 2
    assert bands() == 2
    more = IMPORTED + "      - {id: top, label: Top}\n"
    (tmp_path / "base.yaml").write_text(more, encoding="utf-8")
    assert bands() == 3


def test_a_changed_facts_schema_beside_the_pack_rebuilds_it(
    tmp_path: Path, cache_dir: Path
) -> None:
    """A pack reading its own facts schema: the schema's content is part of the key."""
    schema = tmp_path / "mine.schema.json"

    def write_schema(kind: str) -> None:
        schema.write_text(
            '{"type": "object", "properties": {"establishment": {"type": "object", '
            f'"properties": {{"regime_level": {{"type": "{kind}"}}}}}}}}}}',
            encoding="utf-8",
        )

    write_schema("integer")
    (tmp_path / "p.yaml").write_text(
        PACK.replace("source:", "facts: mine.schema.json\nsource:"), encoding="utf-8"
    )
    with api._LOADED_LOCK:
        api._LOADED.clear()
    assert not api.check_paths([tmp_path])[1]
    write_schema("string")  # `+ 1` on a string no longer type-checks
    with api._LOADED_LOCK:
        api._LOADED.clear()
    # as a new process would: this one keeps the schemas it has read
    for held in (resources.load_schema, facts_schema.facts_schema, facts_schema.root_types):
        held.cache_clear()
    problems = api.check_paths([tmp_path])[1]
    assert any(p.is_error for p in problems), problems


def test_a_document_read_back_places_values_as_when_first_read(
    tmp_path: Path, cache_dir: Path
) -> None:
    """A cached document keeps data and text only; its positions, read again when first
    asked for, are those of the document first read."""
    from engine.packs.read_yaml import read_yaml_file

    path = POLICIES / "keywork_edm.yaml"
    first = read_yaml_file(path)
    again = read_yaml_file(path)
    assert again is not first and again.data == first.data
    assert again._nodes is None  # not read until asked for
    for where in (("id",), ("outputs",), ("rules", 3, "when"), ("rules", 0, "cite", 0)):
        assert again.span(where) == first.span(where)
        assert again.key_span(where) == first.key_span(where)
    assert again.locate(("rules", 3, "when"), 1, 4) == first.locate(("rules", 3, "when"), 1, 4)


def _plan_tree(tmp_path: Path) -> tuple[Path, Path]:
    """The key work pack and the Leeds plan beside it, as a checkout lays them out."""
    national = tmp_path / "keywork_edm.yaml"
    national.write_bytes((POLICIES / "keywork_edm.yaml").read_bytes())
    plan = tmp_path / "local" / "lei" / "keywork_edm.yaml"
    plan.parent.mkdir(parents=True)
    plan.write_bytes((POLICIES / "local" / "lei" / "keywork_edm.yaml").read_bytes())
    return national, plan


def _merged(tmp_path: Path, plan: Path) -> tuple[Any, list[str]]:
    with api._LOADED_LOCK:  # as a new process would: nothing merged or loaded yet
        api._LOADED.clear()
        api._OVERLAYS.clear()
    packs, _ = api.check_paths([tmp_path], overlays=False)
    merged, problems = api.load_overlay(plan, packs)
    return merged, [p.format() for p in problems]


def test_a_merged_local_plan_is_read_back_and_never_stale(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.packs import overlay

    national, plan = _plan_tree(tmp_path)
    merged, problems = _merged(tmp_path, plan)
    assert merged is not None and not problems
    built: list[str] = []
    real = overlay.OverlayBuilder.build
    monkeypatch.setattr(
        overlay.OverlayBuilder, "build", lambda self: built.append("merge") or real(self)
    )
    again, problems = _merged(tmp_path, plan)
    assert built == [] and not problems  # read back
    assert again is not None and again is not merged
    assert again.local_plan == merged.local_plan and again.content_hash == merged.content_hash
    assert [r.id for r in again.rules] == [r.id for r in merged.rules]
    # a changed plan is merged afresh
    plan.write_text(plan.read_text().replace("local key work plan", "key work plan"))
    changed, _ = _merged(tmp_path, plan)
    assert built == ["merge"]
    assert changed is not None and changed.local_plan.title.endswith(
        "Leeds key work plan (regime recovery)"
    )
    # and so is the plan over a changed national pack
    national.write_text(national.read_text().replace("title: ", "title: Revised ", 1))
    revised, _ = _merged(tmp_path, plan)
    assert built == ["merge", "merge"]
    assert revised is not None and revised.title.startswith("Revised ")


def test_a_local_plan_made_invalid_is_reported_not_read_back(
    tmp_path: Path, cache_dir: Path
) -> None:
    _, plan = _plan_tree(tmp_path)
    merged, problems = _merged(tmp_path, plan)
    assert merged is not None and not problems
    plan.write_text(plan.read_text().replace("status: active", "status: [active]"))
    merged, problems = _merged(tmp_path, plan)
    assert merged is None and any("`status`" in p and "[E-SCHEMA]" in p for p in problems), problems


def test_a_changed_facts_file_of_a_worked_example_is_read_afresh(
    tmp_path: Path, cache_dir: Path
) -> None:
    from engine.tools import worked_examples as W

    facts = tmp_path / "facts.yaml"
    facts.write_text("establishment: {regime_level: 2}\n")
    case = W.Case("t.yaml", 1, "cached", "c", {"facts_file": "facts.yaml"}, tmp_path)
    assert W.case_facts(case) == {"establishment": {"regime_level": 2}}
    assert W.case_facts(case) == {"establishment": {"regime_level": 2}}  # read back
    assert list((cache_dir / "facts-file").glob("*.pickle"))
    facts.write_text("establishment: {regime_level: 3}\n")
    assert W.case_facts(case) == {"establishment": {"regime_level": 3}}


def test_a_pack_that_cannot_be_pickled_is_built_every_time(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.packs import pack_cache

    def refuse(value: object) -> bytes:
        raise TypeError("not this one")

    monkeypatch.setattr(pack_cache, "dumps", refuse)
    (tmp_path / "p.yaml").write_text(PACK, encoding="utf-8")
    assert _level(tmp_path) == 3
    assert _level(tmp_path) == 3
    assert not list(cache_dir.glob("pack/*.pickle"))


def test_facts_about_a_node_outside_its_expression_are_not_pickled() -> None:
    """A checked expression is pickled with each node beside its facts; facts about a node
    that is not in its tree could not be placed again, so it refuses."""
    from engine.language import syntax as A
    from engine.language.check import Checked, NodeInfo
    from engine.language.static_types import INT
    from engine.packs import pack_cache

    node = A.Lit(A.Loc(1, 1, 1, 2), 1, "int")
    stray = A.Lit(A.Loc(1, 1, 1, 2), 2, "int")
    info = {id(node): NodeInfo(INT, False)}
    checked = Checked(node, INT, False, False, set(), set(), set(), info, [])
    again = pickle.loads(pack_cache.dumps(checked))
    assert again.node == node and again.info == {id(again.node): NodeInfo(INT, False)}
    checked.info[id(stray)] = NodeInfo(INT, False)
    with pytest.raises(TypeError):
        pack_cache.dumps(checked)


def test_the_engine_fingerprint_follows_its_sources_not_its_bytecode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine_dir = tmp_path / "engine"
    (engine_dir / "language" / "__pycache__").mkdir(parents=True)
    source = engine_dir / "language" / "grammar.lark"
    source.write_text("start: NAME\n")
    (engine_dir / "a.py").write_text("x = 1\n")
    monkeypatch.setattr(disk_cache, "_ENGINE", engine_dir)
    fingerprint = disk_cache.engine_fingerprint.__wrapped__
    first = fingerprint()
    (engine_dir / "language" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    (engine_dir / "notes.txt").write_text("not a source")
    assert fingerprint() == first
    source.write_text("start: NAME NAME\n")
    assert fingerprint() != first


def test_the_cost_summaries_of_regime_check_follow_the_pack(
    tmp_path: Path, cache_dir: Path
) -> None:
    from cli.check import _cost_summaries

    pack = tmp_path / "p.yaml"
    pack.write_text(PACK, encoding="utf-8")
    first = _cost_summaries(api.check_paths([pack])[0])
    assert _cost_summaries(api.check_paths([pack])[0]) == first
    assert len(list((cache_dir / "costs").glob("*.pickle"))) == 1
    more = PACK + "  double: {value: establishment.regime_level * 2}\n"
    pack.write_text(more, encoding="utf-8")
    second = _cost_summaries(api.check_paths([pack])[0])
    assert second["cached"]["expressions"] == first["cached"]["expressions"] + 1


def test_compiled_code_is_read_back_by_its_source(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = "def f(x):\n    return x * 6\n"
    first = disk_cache.compiled(source, "<program: p>")
    monkeypatch.setattr(
        disk_cache, "compile", lambda *a: pytest.fail("compiled again"), raising=False
    )
    again = disk_cache.compiled(source, "<program: p>")
    assert again == first and again.co_filename == "<program: p>"
    space: dict[str, Any] = {}
    exec(again, space)  # noqa: S102
    assert space["f"](7) == 42
    monkeypatch.undo()
    other = disk_cache.compiled(source.replace("6", "7"), "<program: p>")
    space = {}
    exec(other, space)  # noqa: S102
    assert space["f"](6) == 42


def test_entries_unused_for_a_month_are_pruned_at_most_once_a_day(cache_dir: Path) -> None:
    disk_cache.store("kind", "old", 1)
    disk_cache.store("kind", "used", 2)
    now = (cache_dir / "kind" / "old.pickle").stat().st_mtime + 40 * 86400
    month_ago = now - 31 * 86400
    os.utime(cache_dir / "kind" / "old.pickle", (month_ago, month_ago))
    os.utime(cache_dir / "kind" / "used.pickle", (now - 86400, month_ago))  # read yesterday
    os.utime(cache_dir / ".pruned", (month_ago, month_ago))
    assert disk_cache.prune(cache_dir, now) == 1
    assert disk_cache.load("kind", "old") is None and disk_cache.load("kind", "used") == 2
    os.utime(cache_dir / "kind" / "used.pickle", (month_ago, month_ago))
    assert disk_cache.prune(cache_dir, now + 3600) == 0  # looked an hour ago: not again today
    assert disk_cache.prune(cache_dir, now + 2 * 86400) == 1


TASKS_PACK = """\
# yaml-language-server: $schema=../schemas/pack.schema.json
id: tasked
title: Two tasks
version: 0.1.0
status: draft
source: {title: Test}
versions:
  - {id: "1", effective_from: 2020-01-01, effective_to: null}
tasks:
  "1.1":
    {area: A, title: t, baseline: b, weighting: 2, autonomy: limited, mandatory: true,
     stages: [3], cite: {section: S}}
  "1.2":
    {area: A, title: t, baseline: b, weighting: 2, autonomy: limited, mandatory: true,
     stages: [3], after: [{task: "1.1", cite: {section: S}}], cite: {section: S}}
"""
PLAN = (
    "import sys, engine.api as a; p = a.load(sys.argv[1])['tasked']; "
    "print([t['id'] for t in p.plan(3)], 'networkx' in sys.modules)"
)


def _plan_in_a_new_process(folder: Path, cache_dir: Path) -> str:
    import subprocess
    import sys

    env = {**os.environ, disk_cache.ENV: str(cache_dir)}
    done = subprocess.run(
        [sys.executable, "-c", PLAN, str(folder)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_task_plans_are_read_back_without_the_graph_and_never_stale(
    tmp_path: Path, cache_dir: Path
) -> None:
    """A plan is kept by what the task graph is made of: a warm start plans without building
    the graph (or importing networkx), and a task whose `after:` changed is planned afresh."""
    pack = tmp_path / "p.yaml"
    pack.write_text(TASKS_PACK, encoding="utf-8")
    assert _plan_in_a_new_process(tmp_path, cache_dir) == "['1.1', '1.2'] True"
    assert _plan_in_a_new_process(tmp_path, cache_dir) == "['1.1', '1.2'] False"
    stat = pack.stat()
    # the other way round, same size and modification time: only the content tells them apart
    swapped = TASKS_PACK.replace('"1.1":', '"1.X":').replace('"1.2":', '"1.1":')
    swapped = swapped.replace('"1.X":', '"1.2":').replace('task: "1.1"', 'task: "1.2"')
    pack.write_text(swapped, encoding="utf-8")
    os.utime(pack, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert _plan_in_a_new_process(tmp_path, cache_dir) == "['1.2', '1.1'] True"
    assert _plan_in_a_new_process(tmp_path, cache_dir) == "['1.2', '1.1'] False"
