"""`regime batch --establishment-plan`: a population decided under an establishment's local
plan. The plan fills the facts it supplies where a record leaves them unset, a record whose
facts contradict it goes to the rejects with the reason, DuckDB and the interpreter write the
same files, and each decision is the one `regime eval --establishment-plan` gives."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

import engine
from cli.main import cli
from engine.tools.population import write_population

ROOT = Path(__file__).resolve().parents[2]
PLAN = "policies/local/lei/keywork_edm.yaml"
AS_OF = "2020-08-03"  # the plan is in force from 2020-07-06
PRISONER = ROOT / "examples" / "local" / "g8607kw_post_closure.yaml"


@pytest.fixture(autouse=True)
def in_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from the project's root, as a user would: the plan is named by its relative path."""
    monkeypatch.chdir(ROOT)


def run(*args: str) -> Result:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert "Traceback" not in result.output
    return result


def batch(facts: Path, out: Path, *more: str) -> Result:
    return run(
        "batch", "keywork_edm", "--facts", str(facts), "--out", str(out), "--packs",
        "policies", *more,
    )  # fmt: skip


def generated(folder: Path) -> Path:
    """300 generated documents: establishment codes and key work models absent, null, the
    plan's and others'."""
    facts = folder / "population.jsonl"
    write_population(facts, 300, seed=5, roots=("prisoner", "establishment"))
    return facts


def on_both_engines(*args: str) -> str:
    """A command's output on DuckDB, after checking the interpreter prints the same (but for
    the engine's name)."""
    texts = {}
    for name in ("duckdb", "python"):
        result = run(*args, "--engine", name)
        assert result.exit_code == 0, result.output
        texts[name] = re.sub(rf"\b{name}\b", "ENGINE", result.output)
    assert texts["duckdb"] == texts["python"]
    return texts["duckdb"]


def rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def the_prisoner() -> dict[str, Any]:
    """The example prisoner in the ACCT post-closure phase, as JSON text gives it."""
    doc = json.loads(json.dumps(yaml.safe_load(PRISONER.read_text()), default=str))
    doc.pop("as_of", None)
    return dict(doc)


def write_jsonl(path: Path, docs: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))
    return path


def test_the_plan_fills_what_it_supplies_and_rejects_what_contradicts_it(tmp_path: Path) -> None:
    base = the_prisoner()
    assert "code" not in base["establishment"] and "keywork_model" not in base["establishment"]
    other = copy.deepcopy(base)
    other["establishment"]["code"] = "SDI"
    fortnightly = copy.deepcopy(base)
    fortnightly["establishment"]["keywork_model"] = "fortnightly"
    level_2 = copy.deepcopy(base)
    level_2["establishment"]["regime_level"] = 2
    stated = copy.deepcopy(base)  # what the plan supplies, given already: no contradiction
    stated["establishment"].update(code="LEI", keywork_model="weekly")
    facts = write_jsonl(tmp_path / "leeds.jsonl", [base, other, fortnightly, level_2, stated])
    result = batch(facts, tmp_path / "out.jsonl", "--as-of", AS_OF, "--establishment-plan", "LEI")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("local plan: LEI HMP Leeds local key work plan")
    decided = {r["record"]: r for r in rows(tmp_path / "out.jsonl")}
    assert sorted(decided) == [1, 4, 5]
    # the plan's own priority group (ACCT post-closure), its weekly model filled in
    for r in decided.values():
        assert r["priority_groups"] == ["governor_added"] and r["is_priority"] is True
        assert r["session_frequency"] is not None and r["status"] == "decided"
    # the narrowed permission: full-length sessions at level 2 under this plan
    assert decided[4]["session_minutes"] == 45
    rejected = {r["record"]: r["reasons"] for r in rows(tmp_path / "out.rejects.jsonl")}
    assert rejected == {
        2: [
            "establishment.code: the facts are for establishment `SDI` but the local plan "
            f"`{PLAN}` is for `LEI`"
        ],
        3: [
            "establishment.keywork_model: the facts give `establishment.keywork_model` as "
            f"`fortnightly` but the local plan `{PLAN}` chose `weekly`"
        ],
    }
    # nationally the same prisoner is in no priority group and nothing is rejected
    national = batch(facts, tmp_path / "national.jsonl", "--as-of", AS_OF)
    assert national.exit_code == 0, national.output
    national_rows = {r["record"]: r for r in rows(tmp_path / "national.jsonl")}
    assert all(r["priority_groups"] == [] for r in national_rows.values())
    # (without the plan's weekly model, the frequency at level 1 is not known)
    assert national_rows[1]["session_frequency"] is None
    assert national_rows[1]["status"] == "undetermined"
    assert rows(tmp_path / "national.rejects.jsonl") == []


def test_each_decision_is_the_one_eval_gives_through_the_plan(tmp_path: Path) -> None:
    """DuckDB and the interpreter write the same files over a generated population (codes and
    key work models absent, null, the plan's and others'), and each accepted record's row is
    `Packs.evaluate` through the plan of the record's facts with the plan's facts filled."""
    facts = generated(tmp_path)
    outs = {}
    for name in ("duckdb", "python"):
        out = tmp_path / f"{name}.jsonl"
        result = batch(
            facts, out, "--as-of", AS_OF, "--establishment-plan", "LEI", "--engine", name
        )
        assert result.exit_code == 0, result.output
        outs[name] = out
    for suffix in (".jsonl", ".rejects.jsonl"):
        left = outs["duckdb"].with_suffix("").with_suffix(suffix).read_text()
        right = outs["python"].with_suffix("").with_suffix(suffix).read_text()
        assert left == right, suffix
    decided = rows(outs["duckdb"])
    rejected = rows(outs["duckdb"].with_suffix("").with_suffix(".rejects.jsonl"))
    assert len(decided) + len(rejected) == 300 and len(decided) > 50 and len(rejected) > 50
    packs = engine.load(ROOT / "policies")
    merged = packs.with_plan("keywork_edm", "LEI", "policies")
    docs = [json.loads(line) for line in facts.read_text().splitlines()]
    for reason in (r for x in rejected for r in x["reasons"]):
        assert reason.startswith(("establishment.code: ", "establishment.keywork_model: "))
    for row in decided[:60]:
        doc = docs[row["record"] - 1]
        est = doc.get("establishment") if isinstance(doc.get("establishment"), dict) else {}
        assert est.get("code") in (None, "LEI") and est.get("keywork_model") in (None, "weekly")
        d = engine.api.evaluate(merged, doc, engine.api.as_date(AS_OF))
        expected = json.loads(d.to_json_bytes())
        assert row["status"] == expected["status"], row["record"]
        for name, value in expected["outputs"].items():
            assert row[name] == value, (row["record"], name)


def test_dates_outside_the_plan_are_bad_usage_and_write_nothing(tmp_path: Path) -> None:
    facts = write_jsonl(tmp_path / "leeds.jsonl", [the_prisoner()])
    out = tmp_path / "out.jsonl"
    result = batch(facts, out, "--as-of", "2020-07-01..2020-07-10", "--establishment-plan", "LEI")
    assert result.exit_code == 2
    assert (
        f"error: the local plan `{PLAN}` is not in force on 2020-07-01 (2020-07-06..open)"
        in result.output
    )
    assert not out.exists()


@pytest.mark.parametrize("plan", ["XYZ", "tests/corpus/overlays/limited_task_option.yaml"])
def test_an_unknown_or_broken_plan_is_refused_before_reading(tmp_path: Path, plan: str) -> None:
    facts = write_jsonl(tmp_path / "leeds.jsonl", [the_prisoner()])
    result = batch(facts, tmp_path / "out.jsonl", "--as-of", AS_OF, "--establishment-plan", plan)
    assert result.exit_code in (1, 2) and "error:" in result.output
    assert not (tmp_path / "out.jsonl").exists()


def test_sql_under_a_plan_says_what_the_facts_table_must_hold() -> None:
    result = run("sql", "keywork_edm", "--establishment-plan", "LEI", "--packs", "policies")
    assert result.exit_code == 0, result.output
    head = result.output.splitlines()[:6]
    assert head[0].startswith(f"-- Under the local plan LEI ({PLAN}, version 1.0.0,")
    assert head[4:6] == [
        '--   establishment.code = "LEI"',
        '--   establishment.keywork_model = "weekly"',
    ]
    national = run("sql", "keywork_edm", "--packs", "policies").output
    assert "LEI-KW-02" in result.output and "LEI-KW-02" not in national


def test_upcoming_under_a_plan_gives_the_same_report_on_both_engines(tmp_path: Path) -> None:
    """`regime upcoming --establishment-plan`: DuckDB decides through the population run above
    and the interpreter through each document's change points; both fill the plan's facts and
    reject the same documents with the same reasons, and list the same changes."""
    facts = generated(tmp_path)
    args = ["upcoming", "keywork_edm", "--facts", str(facts), "--as-of", AS_OF, "--days", "14"]
    head = on_both_engines(*args, "--establishment-plan", "LEI").splitlines()
    assert head[1].startswith("rejected (not decided): ")
    assert head[2].startswith("  establishment.code: the facts are for establishment `")
    early = run(*args[:5], "2020-07-01", *args[6:], "--establishment-plan", "LEI")
    assert early.exit_code == 2 and "is not in force on 2020-07-01" in early.output


def test_impact_of_a_plan_on_a_population_is_the_same_on_both_engines(tmp_path: Path) -> None:
    """`regime impact --establishment-plan`: the national pack against the plan, over the
    population with the plan's facts filled on both sides; the documents that contradict the
    plan are decided on neither side and counted as rejected, with their reasons."""
    facts = generated(tmp_path)
    args = ["impact", "keywork_edm", "--population", str(facts), "--as-of", AS_OF]
    lines = on_both_engines(*args, "--establishment-plan", "LEI").splitlines()
    assert lines[0] == f"keywork_edm: national -> local plan LEI 1.0.0, {AS_OF} (custodial)"
    (rejected,) = [x for x in lines if x.startswith("rejected (not decided): ")]
    assert int(rejected.split(": ")[1]) > 50
    # the plan's own priority group is the change it makes to the priority groups
    groups = lines[lines.index("output priority_groups (decisions):") + 1]
    assert groups.split("->")[1].strip().startswith('["governor_added"]')
    both = run(*args, "--establishment-plan", "LEI", "--from-version", "1", "--to-version", "1")
    assert both.exit_code == 2 and "give it alone" in both.output
