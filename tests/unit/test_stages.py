"""The pack pipeline as data: `engine.STAGES` is the ordered list of stages that actually runs,
and a pack file can be taken through it up to any named stage."""

from __future__ import annotations

from pathlib import Path

import pytest

import engine
from engine.packs.build import STAGE_NAMES, Loading, load_pack_file, run_stages, stage_results

ROOT = Path(__file__).resolve().parents[2]
PACK = ROOT / "policies" / "keywork_edm.yaml"
CORPUS = ROOT / "tests" / "corpus" / "packs"


def test_the_stages_in_order() -> None:
    assert [s.name for s in engine.STAGES] == [
        "read",
        "yaml",
        "schema",
        "imports",
        "declarations",
        "parse",
        "order",
        "check",
        "references",
        "cost",
        "tasks",
        "model",
    ]
    assert all(s.does and callable(s.run) for s in engine.STAGES)


@pytest.mark.parametrize("until", STAGE_NAMES)
def test_run_up_to_any_stage(until: str) -> None:
    loading = load_pack_file(PACK, until=until)
    assert loading.done == list(STAGE_NAMES[: STAGE_NAMES.index(until) + 1])
    assert not loading.failed, [p.format() for p in loading.problems]
    made = stage_results(loading)
    reached = STAGE_NAMES.index(until)
    assert (made["document"] is not None) == (reached >= STAGE_NAMES.index("yaml"))
    assert bool(made["versions"]) == (reached >= STAGE_NAMES.index("declarations"))
    assert bool(made["order"]) == (reached >= STAGE_NAMES.index("order"))
    assert bool(made["outputs"]) == (reached >= STAGE_NAMES.index("check"))
    assert (made["pack"] is not None) == (until == "model")


def test_the_whole_pipeline_gives_the_pack_load_gives() -> None:
    loading = load_pack_file(PACK)
    assert loading.pack is not None
    assert loading.pack.content_hash == engine.load(PACK)["keywork_edm"].content_hash
    assert set(loading.pack.outputs) == set(engine.load(PACK)["keywork_edm"].outputs)


@pytest.mark.parametrize(
    "name, stops_after",
    [
        ("duplicate_key", "yaml"),
        ("version_overlap", "declarations"),
        ("local_options_on_limited_task", "declarations"),
        ("cycle", "order"),
        ("type_error", "check"),
        ("overlapping_rows", "references"),
        ("task_cycle", "tasks"),
    ],
)
def test_the_pipeline_stops_after_the_stage_that_finds_an_error(
    name: str, stops_after: str
) -> None:
    path = CORPUS / f"{name}.yaml"
    if not path.exists():
        path = ROOT / "tests" / "corpus" / "yaml" / f"{name}.yaml"
    loading = load_pack_file(path)
    assert loading.done[-1] == stops_after
    assert loading.failed and loading.pack is None


def test_a_run_can_resume_where_it_stopped() -> None:
    loading = run_stages(Loading(PACK, str(PACK)), until="schema")
    assert loading.pack is None
    run_stages(loading, start="imports")
    assert loading.done == list(STAGE_NAMES) and loading.pack is not None


def test_an_unknown_stage_is_named() -> None:
    with pytest.raises(ValueError, match="no stage `compile`; stages: read, yaml"):
        load_pack_file(PACK, until="compile")


def test_a_local_plan_is_built_through_the_same_stages() -> None:
    """The merged pack of a local plan comes out of `run_stages`, from `declarations` on, and
    a problem in the plan's own rules is reported in the plan's file."""
    packs, problems = engine.check_paths([ROOT / "policies"], overlays=False)
    assert not [p for p in problems if p.is_error]
    plan = ROOT / "policies" / "local" / "lei" / "keywork_edm.yaml"
    merged, found = engine.api.load_overlay(plan, packs)
    assert merged is not None, [p.format() for p in found]
    assert merged.local_plan is not None and merged.local_plan.file == str(plan)
    assert len(merged.rules) > len(packs["keywork_edm"].rules)
    bad = ROOT / "tests" / "corpus" / "overlays" / "local_rule_type_error.yaml"
    merged, found = engine.api.load_overlay(bad, packs)
    assert merged is None
    assert [(p.code, p.file) for p in found if p.is_error] == [("E-TYPE", str(bad))]
