"""The library API services embed: load once, evaluate many times, from many threads."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import jsonschema
import pytest
import yaml

import engine

ROOT = Path(__file__).resolve().parents[2]
AS_OF = dt.date(2020, 7, 1)


@pytest.fixture(scope="module")
def packs() -> engine.Packs:
    return engine.load(ROOT / "policies")


def facts_files() -> list[Path]:
    return sorted((ROOT / "examples" / "prisoners").glob("*.yaml"))


def read(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def test_load_gives_the_four_packs(packs: engine.Packs) -> None:
    assert set(packs) == {"keywork_edm", "pmp", "omu_edm", "action_plan"}
    for pack in packs.values():
        assert pack.content_hash.startswith("sha256:")


def test_decisions_are_valid_and_reproducible(packs: engine.Packs) -> None:
    schema = json.loads((ROOT / "schemas" / "decision.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    for path in facts_files():
        decision = packs.evaluate("keywork_edm", read(path), as_of=AS_OF)
        validator.validate(decision.to_dict())
        again = packs.evaluate("keywork_edm", read(path), as_of=AS_OF)
        assert again.to_dict() == decision.to_dict()
        assert decision.pack == "keywork_edm" and decision.as_of == AS_OF
        assert decision.audience == "custodial"


def test_evaluate_many_matches_evaluate(packs: engine.Packs) -> None:
    docs = [read(p) for p in facts_files()] * 3
    many = [d.to_dict() for d in packs.evaluate_many("keywork_edm", docs, as_of=AS_OF)]
    one = [packs.evaluate("keywork_edm", d, as_of=AS_OF).to_dict() for d in docs]
    assert many == one


def test_packs_are_safe_to_share_between_threads(packs: engine.Packs) -> None:
    docs = [read(p) for p in facts_files()] * 20
    expected = [packs.evaluate("keywork_edm", d, as_of=AS_OF).to_dict() for d in docs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(
            pool.map(lambda d: packs.evaluate("keywork_edm", d, as_of=AS_OF).to_dict(), docs)
        )
    assert got == expected


def test_loaded_packs_are_immutable(packs: engine.Packs) -> None:
    pack = packs["keywork_edm"]
    with pytest.raises(AttributeError):
        pack.version = "9"  # type: ignore[misc]


def test_bad_facts_are_rejected_before_evaluation(packs: engine.Packs) -> None:
    with pytest.raises(engine.FactsError) as info:
        packs.evaluate("keywork_edm", {"prisoner": {"acct": "opened"}}, as_of=AS_OF)
    assert "$.prisoner.acct" in info.value.problems[0].message


def test_a_date_outside_every_version_is_an_error(packs: engine.Packs) -> None:
    with pytest.raises(engine.EvaluationError) as info:
        packs.evaluate("pmp", {}, as_of=dt.date(2021, 1, 1))
    assert info.value.code == "E-EVAL-VERSION"
    first = packs["pmp"].versions[0].effective_from
    assert first > dt.date(2021, 1, 1)
    assert info.value.hint == f"give a day a version is in force, e.g. {first}"


def test_unknown_facts_make_a_decision_undetermined(packs: engine.Packs) -> None:
    facts = {
        "establishment": {"regime_level": 4, "keywork_model": "weekly"},
        "prisoner": {
            "prison_number": "A1234BC",
            "rosh": "LOW",
            "tact": False,
            "pathfinder_recommended": False,
            "cev": False,
            "governor_priority": False,
            "irmm_keywork_from": None,
            "pathfinder_keywork_from": None,
            "keywork": {"key_worker": "Officer A", "sessions": []},
        },
    }
    decision = packs.evaluate("keywork_edm", facts, as_of=AS_OF)
    assert decision.status == "undetermined"
    assert decision.missing_facts == ("prisoner.acct",)
    assert decision.outputs["is_priority"] is None


def test_explanations_cite_their_sources(packs: engine.Packs) -> None:
    decision = packs.evaluate("keywork_edm", read(facts_files()[0]), as_of=AS_OF)
    text = decision.explain("priority_groups")
    assert "rule KW-PG-01" in text and "see " in text


def test_an_explanation_shows_a_decided_none_as_none_and_an_unknown_as_unknown(
    packs: engine.Packs,
) -> None:
    """The explanation says what the decision says: an output decided as none is not unknown."""
    ordinary = read(ROOT / "examples" / "prisoners" / "e6485kw_ordinary.yaml")
    decision = packs.evaluate("keywork_edm", ordinary, as_of=AS_OF)
    assert decision.outputs["fallback"] is None and "fallback" not in decision.undetermined
    assert "output `fallback` = none" in decision.explain("fallback")
    del ordinary["prisoner"]["acct"]
    decision = packs.evaluate("keywork_edm", ordinary, as_of=AS_OF)
    assert "fallback" in decision.undetermined
    assert "output `fallback` = unknown (needs prisoner.acct)" in decision.explain("fallback")


def test_plan_orders_tasks(packs: engine.Packs) -> None:
    plan = packs["omu_edm"].plan(stage=3)
    ids = [t["id"] for t in plan]
    position = {t: i for i, t in enumerate(ids)}
    for task in plan:
        for before in task["waits_for"]:
            if before in position:
                assert position[before] < position[task["id"]]


def test_a_pack_may_use_the_vocabulary_of_a_pack_it_imports() -> None:
    packs = engine.load(ROOT / "tests" / "data" / "imports")
    decision = packs.evaluate(
        "user", {"establishment": {"regime_level": 4}}, as_of=dt.date(2021, 1, 1)
    )
    assert decision.outputs == {"levels": [4, 3, 2, 1], "locked_down": True}


def test_importing_a_missing_pack_is_an_error(tmp_path: Path) -> None:
    text = (ROOT / "tests" / "data" / "imports" / "user.yaml").read_text()
    (tmp_path / "user.yaml").write_text(text.replace("[common]", "[comon]"))
    _, problems = engine.check_paths([tmp_path])
    assert [(p.code, p.line) for p in problems if p.is_error][0] == ("E-IMPORT", 7)


def test_a_date_out_of_range_is_an_evaluation_error(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(
        "id: far\ntitle: t\nversion: 0.1.0\nstatus: draft\nsource: {title: t}\n"
        'versions:\n  - {id: "1", effective_from: 2020-01-01, effective_to: null}\n'
        "outputs:\n  far: {value: as_of + 9000 years}\n"
    )
    packs = engine.load(tmp_path)
    with pytest.raises(engine.EvaluationError) as info:
        packs.evaluate("far", {}, as_of=dt.date(2021, 1, 1))
    assert info.value.code == "E-EVAL-RANGE"


def test_load_raises_one_pack_error_with_every_problem_of_every_pack(tmp_path: Path) -> None:
    corpus = ROOT / "tests" / "corpus" / "packs"
    stems = ["cycle", "type_error", "unknown_name", "overlapping_rows", "task_cycle"]
    expected = set()
    for i, stem in enumerate(stems):
        text = (corpus / f"{stem}.yaml").read_text(encoding="utf-8")
        code, where = text.splitlines()[0].removeprefix("# expect: ").split()
        line, col = map(int, where.split(":"))
        expected.add((f"{stem}.yaml", line, col, code))
        (tmp_path / f"{stem}.yaml").write_text(text.replace("id: corpus", f"id: p{i}", 1))
    with pytest.raises(engine.PackError) as info:
        engine.load(tmp_path)
    got = {(Path(p.file).name, p.line, p.col, p.code) for p in info.value.problems}
    assert got == expected


def test_a_pack_without_imports_is_hashed_by_its_file(packs: engine.Packs) -> None:
    content = (ROOT / "policies" / "pmp.yaml").read_bytes()
    assert packs["pmp"].content_hash == "sha256:" + hashlib.sha256(content).hexdigest()


def test_a_decision_hash_changes_with_the_vocabulary_a_pack_imports(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "tests" / "data" / "imports", tmp_path, dirs_exist_ok=True)
    facts = {"establishment": {"regime_level": 4}}

    def decide() -> tuple[str, object]:
        d = engine.load(tmp_path).evaluate("user", facts, as_of=dt.date(2021, 1, 1))
        return d.content_hash, d.outputs["levels"]

    before = decide()
    common = tmp_path / "common.yaml"
    common.write_text(common.read_text().replace("      - {id: 1, name: Prepare}\n", ""))
    after = decide()
    assert before[1] != after[1]
    assert before[0] != after[0]
    user = (tmp_path / "user.yaml").read_bytes()
    assert after[0] != "sha256:" + hashlib.sha256(user).hexdigest()


@pytest.mark.parametrize(
    "pack_id, path",
    [
        ("keywork_edm", "examples/prisoners/a2041kw_open_acct.yaml"),
        ("pmp", "examples/pmp/a1101pm_immunosuppressed_plan.yaml"),
    ],
)
def test_each_definition_is_worked_out_once_per_evaluation(
    packs: engine.Packs, pack_id: str, path: str
) -> None:
    decision = packs.evaluate(pack_id, read(ROOT / path), audience="healthcare")
    definitions = [s.name for s in decision.steps if s.kind == "definition"]
    assert sorted(definitions) == sorted(packs[pack_id].definitions)
