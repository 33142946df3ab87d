"""Impact and upcoming changes over a population, cross-checked against whole evaluations."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

import engine
from cli.main import cli
from engine.problems import PopulationError
from engine.tools.impact import Side, check_against_two_runs, impact
from engine.tools.population_source import python_decisions, read_population, write_jsonl
from engine.tools.sample_population import generate
from engine.tools.timeline import observable
from tests.unit.corpus_expect import assert_as_expected

ROOT = Path(__file__).resolve().parents[2]
PACKS = engine.load(ROOT / "policies")
PRISONER = ("establishment", "prisoner")


def number(facts: dict) -> str:
    return str(facts["prisoner"]["prison_number"])


@pytest.fixture(scope="module")
def pmp_people() -> list[dict]:
    return generate(30, seed=5, centre=dt.date(2022, 11, 1), spread_days=200, roots=PRISONER)


@pytest.fixture(scope="module")
def keywork_people() -> list[dict]:
    return generate(20, seed=6, centre=dt.date(2020, 9, 15), spread_days=200, roots=PRISONER)


def test_version_impact_agrees_with_two_whole_runs(pmp_people: list[dict]) -> None:
    pmp = PACKS["pmp"]
    old, new = Side(pmp, "1", "version 1"), Side(pmp, "2", "version 2")
    day = dt.date(2022, 11, 1)
    report = impact(old, new, pmp_people, day, day, "custodial", number)
    compared, changed = check_against_two_runs(
        old, new, pmp_people, day, "custodial", python_decisions
    )
    assert (report.decisions, report.changed_decisions) == (compared, changed)
    # the eligibility cross-table, counted again from the two runs
    olds = list(python_decisions(pmp, pmp_people, day, "custodial", "1"))
    news = list(python_decisions(pmp, pmp_people, day, "custodial", "2"))
    expected = Counter(
        (json.dumps(a.outputs["eligible"]), json.dumps(b.outputs["eligible"]))
        for a, b in zip(olds, news, strict=True)
        if a.outputs["eligible"] != b.outputs["eligible"]
    )
    got = {k: v for k, v in report.crosstabs.get("eligible", {}).items()}
    shown = {(b.replace("none", "null"), a.replace("none", "null")): n for (b, a), n in got.items()}
    assert shown == dict(expected)
    # those who leave eligibility are named by prison number only
    leaving = report.kinds.get(("outputs.eligible", "true", "false"), [])
    assert all(len(n) == 7 for n in leaving)


def test_range_counts_agree_with_whole_runs_on_sampled_days(keywork_people: list[dict]) -> None:
    kw = PACKS["keywork_edm"]
    side = Side(kw, None, "now")
    start, end = dt.date(2020, 6, 1), dt.date(2020, 12, 31)
    report = impact(side, side, keywork_people, start, end, "custodial", number)
    assert report.tracked == "priority_groups"
    assert report.changed_decisions == 0 and report.decisions == 20 * 214
    for day in (start, dt.date(2020, 8, 17), dt.date(2020, 10, 3), end):
        counts: Counter[str] = Counter()
        for d in python_decisions(kw, keywork_people, day, "custodial", None):
            groups = d.outputs["priority_groups"]
            if groups is None:
                counts["(undetermined)"] += 1
            for g in groups or (["(empty)"] if groups == [] else []):
                counts[g] += 1
        i = (day - start).days
        daily = {v: n[i] for v, n in report.daily["after"].items() if n[i]}
        assert daily == dict(counts), day


def test_custodial_impact_never_shows_healthcare_outputs(pmp_people: list[dict]) -> None:
    pmp = PACKS["pmp"]
    day = dt.date(2022, 11, 1)
    report = impact(Side(pmp, "1", "a"), Side(pmp, "2", "b"), pmp_people, day, day)
    text = json.dumps(report.to_dict())
    hidden = [n for n, o in pmp.outputs.items() if o.healthcare and not o.releasable]
    assert hidden and not any(f"outputs.{n}" in text or f'"{n}"' in text for n in hidden)
    assert not any(pmp.rule(r) and pmp.rule(r).healthcare for r in report.rules)  # type: ignore[union-attr]
    healthcare = impact(
        Side(pmp, "1", "a"), Side(pmp, "2", "b"), pmp_people, day, day, "healthcare"
    )
    assert any(n in healthcare.crosstabs for n in hidden)


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_impact_command_versions_and_files(
    tmp_path: Path, pmp_people: list[dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    pop = tmp_path / "people.jsonl"
    write_jsonl(pmp_people, pop)
    code, out = invoke(
        "impact",
        "pmp",
        "--population",
        str(pop),
        "--from-version",
        "1",
        "--to-version",
        "2",
        "--as-of",
        "2022-11-01",
        "--engine",
        "python",
    )
    assert code == 0 and "output eligible (decisions):" in out and "decisions changed" not in out
    code, out = invoke(
        "impact",
        "pmp",
        "policies/pmp.yaml@1",
        "policies/pmp.yaml@2",
        "--population",
        str(pop),
        "--as-of",
        "2022-11-01",
        "--format",
        "json",
        "--engine",
        "python",
    )
    assert code == 0 and json.loads(out)["documents"] == 30


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from-version", "1", "--to-version", "9"], "no version `9`"),
        (["--from-version", "1"], "say what to compare"),
        (["policies/pmp.yaml@nope", "policies/pmp.yaml"], "neither a version"),
        (
            ["--from-version", "1", "--to-version", "2", "--as-of", "2022-12-01..2022-11-01"],
            "ends before",
        ),
    ],
)
def test_impact_bad_usage_is_a_clear_error(
    args: list[str],
    message: str,
    tmp_path: Path,
    pmp_people: list[dict],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    pop = tmp_path / "people.jsonl"
    write_jsonl(pmp_people[:2], pop)
    if "--as-of" not in args:
        args = [*args, "--as-of", "2022-11-01"]
    code, out = invoke("impact", "pmp", *args, "--population", str(pop))
    assert code == 2 and message in out


def test_unreadable_population_names_the_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    pop = tmp_path / "bad.jsonl"
    pop.write_text('{"prisoner": {}}\n{not json\n', encoding="utf-8")
    args = ["upcoming", "keywork_edm", "--facts", str(pop), "--as-of", "2020-07-01"]
    code, out = invoke(*args, "--audience", "healthcare")
    assert code == 2
    assert f"{pop}:2:2: error:" in out and "[E-POPULATION]" in out
    # a custodial reader gets the line alone: the column moves with clinical text before it
    code, out = invoke(*args)
    assert code == 2
    assert f"{pop}:2:1: error:" in out and "[E-POPULATION]" in out


def test_a_jsonl_population_starting_with_a_byte_order_mark_reads_as_batch_reads_it(
    tmp_path: Path,
) -> None:
    # a mark at the start of the file is dropped (as `regime batch` and the facts reader
    # drop it); one at the start of a later line is not JSON there
    path = tmp_path / "p.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"prisoner": {"cev": true}}\n{"prisoner": {"cev": false}}\n')
    assert read_population(path) == [{"prisoner": {"cev": True}}, {"prisoner": {"cev": False}}]
    path.write_bytes(b'{"prisoner": {}}\n\xef\xbb\xbf{"prisoner": {}}\n')
    with pytest.raises(PopulationError) as info:
        read_population(path)
    assert [p.line for p in info.value.problems] == [2]


def test_a_population_line_of_only_json_whitespace_is_blank_as_batch_reads_it(
    tmp_path: Path,
) -> None:
    # tabs and spaces alone hold no document (skipped, as `regime batch` skips them); a form
    # feed is not JSON whitespace, so its line is not JSON, at the same place batch says
    path = tmp_path / "p.jsonl"
    path.write_text('{"prisoner": {}}\n\t\n  \t \n{"prisoner": {}}\n', encoding="utf-8")
    assert read_population(path) == [{"prisoner": {}}, {"prisoner": {}}]
    path.write_text('{"prisoner": {}}\n\f\n', encoding="utf-8")
    with pytest.raises(PopulationError) as info:
        read_population(path)
    assert [(p.line, p.col, p.message) for p in info.value.problems] == [
        (2, 1, "not JSON: Expecting value")
    ]


def test_a_population_line_giving_a_key_twice_is_refused_as_the_facts_reader_refuses_it(
    tmp_path: Path,
) -> None:
    # one of the two values kept silently would decide what `regime eval` and `regime batch`
    # refuse (E-JSON-DUPKEY, at the repeated key)
    path = tmp_path / "p.jsonl"
    path.write_text(
        '{"prisoner": {}}\n{"prisoner": {"alerts": [{"a": 1, "a": 2}], "acct": "open"}}\n',
        encoding="utf-8",
    )
    with pytest.raises(PopulationError) as info:
        read_population(path)
    assert [(p.line, p.col, p.code, p.message) for p in info.value.problems] == [
        (2, 35, "E-JSON-DUPKEY", "key `a` appears twice in one object")
    ]


def test_csv_population_reads_like_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(
        "prisoner.prison_number,prisoner.cev,prisoner.release_date,prisoner.keywork.sessions\n"
        "A1234BC,true,2020-07-20,"
        '"[{""date"": ""2020-06-16"", ""kind"": ""session"", ""minutes"": 40}]"\n',
        encoding="utf-8",
    )
    (doc,) = read_population(path)
    assert doc["prisoner"]["cev"] is True
    assert doc["prisoner"]["keywork"]["sessions"][0]["minutes"] == 40


def test_upcoming_lists_who_changes_and_when(
    tmp_path: Path, keywork_people: list[dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    pop = tmp_path / "people.jsonl"
    write_jsonl(keywork_people, pop)
    code, out = invoke(
        "upcoming",
        "keywork_edm",
        "--facts",
        str(pop),
        "--as-of",
        "2020-07-01",
        "--days",
        "30",
        "--format",
        "json",
        "--engine",
        "python",
    )
    assert code == 0
    found = json.loads(out)["changes"]
    kw = PACKS["keywork_edm"]
    # every listed change is there in two whole evaluations, the day before and the day
    for item in found[:8]:
        facts = next(f for f in keywork_people if number(f) == item["subject"])
        day = dt.date.fromisoformat(item["on"])
        before = observable(kw_decide(kw, facts, day - dt.timedelta(days=1)))
        after = observable(kw_decide(kw, facts, day))
        for c in item["changes"]:
            assert before[f"outputs.{c['field']}"] == c["before"]
            assert after[f"outputs.{c['field']}"] == c["after"]


def kw_decide(pack: object, facts: dict, day: dt.date) -> object:
    return next(python_decisions(pack, [facts], day, "custodial", None))  # type: ignore[arg-type]


def test_docs_scenario_agrees_with_two_runs() -> None:
    """docs/timeline.md, scenario 1: the figures it quotes, from the impact report and from
    two separate whole evaluations of the committed example population."""
    people = read_population(ROOT / "examples" / "population" / "pmp_2022.jsonl")
    pmp = PACKS["pmp"]
    old, new = Side(pmp, "1", "version 1"), Side(pmp, "2", "version 2")
    day = dt.date(2022, 11, 1)
    report = impact(old, new, people, day, day, "custodial", number)
    runs = check_against_two_runs(old, new, people, day, "custodial", python_decisions)
    assert (report.decisions, report.changed_decisions) == runs
    docs = (ROOT / "docs" / "timeline.md").read_text(encoding="utf-8")
    assert f"decisions compared: {runs[0]}; changed: {runs[1]}" in docs
    leaving = report.kinds[("outputs.eligible", "true", "false")]
    line = f"outputs.eligible: true -> false: {len(leaving)}; e.g. {', '.join(leaving)}"
    assert line in docs


POPULATION_CORPUS = sorted(
    p for p in (ROOT / "tests" / "corpus" / "population").iterdir() if p.suffix != ".expect"
)


@pytest.mark.parametrize("path", POPULATION_CORPUS, ids=[p.name for p in POPULATION_CORPUS])
def test_population_corpus(path: Path) -> None:
    with pytest.raises(PopulationError) as caught:
        read_population(path)
    assert_as_expected(caught.value.problems[0], path)


def test_impact_of_an_edit_against_its_git_revision(
    tmp_path: Path, pmp_people: list[dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`FILE@REV` reads the pack as committed; the working copy has one parameter edited."""
    repo = tmp_path / "repo"
    repo.mkdir()
    text = (ROOT / "policies" / "pmp.yaml").read_text(encoding="utf-8")
    (repo / "pmp.yaml").write_text(text, encoding="utf-8")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    for args in (["init", "-q"], ["add", "pmp.yaml"], ["commit", "-qm", "pack"]):
        subprocess.run([*git, *args], cwd=repo, check=True, capture_output=True)
    edited = text.replace("        value: 3 months\n", "        value: 1 month\n", 1)
    assert edited != text
    (repo / "pmp.yaml").write_text(edited, encoding="utf-8")
    pop = tmp_path / "people.jsonl"
    write_jsonl(pmp_people, pop)
    monkeypatch.chdir(repo)
    args = ["pmp.yaml@HEAD", "pmp.yaml", "--population", str(pop), "--as-of", "2022-11-01"]
    code, out = invoke("impact", "pmp", *args, "--format", "json", "--engine", "duckdb")
    assert code == 0, out
    data = json.loads(out)
    # the SQL path (both files compiled to SQL) and the interpreter give the same report
    code, again = invoke("impact", "pmp", *args, "--format", "json", "--engine", "python")
    assert code == 0, again
    assert {**json.loads(again), "engine": "duckdb"} == data
    due = data["outputs"]["review_due_on"]
    assert data["decisions_changed"] > 0 and due
    # every regular review falls due two months sooner
    for row in due:
        if row["before"] != "none":
            assert dt.date.fromisoformat(row["after"]) < dt.date.fromisoformat(row["before"])
