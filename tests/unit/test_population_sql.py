"""Upcoming changes and impact through the SQL path agree with the interpreter's change points,
whatever the population file's format."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import engine
from cli.main import cli
from engine.evaluation.evaluate import Evaluation
from engine.language import static_types as T
from engine.packs.facts_schema import root_types, settle_nulls
from engine.problems import PopulationError
from engine.tools.pinned_version import pin_version
from engine.tools.population_source import read_population, write_jsonl
from engine.tools.population_sql import write_facts
from engine.tools.sample_population import generate
from engine.tools.timeline import observable

ROOT = Path(__file__).resolve().parents[2]
PACKS = engine.load(ROOT / "policies")
PRISONER = ("establishment", "prisoner")


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def write_csv(docs: list[dict], path: Path) -> None:
    """One column per fact root, each cell the root's JSON (known nulls included)."""
    roots = sorted({r for d in docs for r in d})
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(roots)
        for d in docs:
            out.writerow([json.dumps(d[r]) if r in d else "" for r in roots])


def without_engine(text: str) -> dict:
    data = json.loads(text)
    data.pop("engine")
    return data


def known(doc: dict) -> dict:
    """A document without its as_of and without the nulls that mean the same as absence (a
    field whose null is a known none keeps it, where its sibling makes it one)."""
    types = root_types()

    def strip(value: object, t: T.Type) -> object:
        if isinstance(value, dict) and t.kind == "record":
            fields = {n: ft for n, ft, _ in t.fields or ()}
            return {
                k: strip(v, fields[k])
                for k, v in value.items()
                if v is not None or fields[k].null_none
            }
        if isinstance(value, list) and t.kind == "list" and t.elem is not None:
            return [strip(v, t.elem) for v in value]
        return value

    # (a null that a sibling makes not known, such as a release date's, reads as absent too)
    settled = settle_nulls(doc)
    return {r: strip(v, types[r]) for r, v in settled.items() if r != "as_of" and v is not None}


def nulls(docs: list[dict]) -> int:
    return sum(json.dumps(d).count(": null") for d in docs)


def test_impact_of_versions_agrees_between_sql_and_interpreter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PMP version 1 against version 2, day by day over three weeks: the SQL path reads a
    Parquet population, the interpreter the same documents as JSON Lines; every figure, every
    kind of change with its examples, and the rules responsible are the same."""
    monkeypatch.chdir(ROOT)
    people = generate(30, seed=8, centre=dt.date(2022, 11, 1), spread_days=120, roots=PRISONER)
    assert nulls(people) > 0  # known nones (x-null) among them: the facts table keeps them
    write_facts(people, tmp_path / "people.parquet", dt.date(2022, 11, 1))
    write_jsonl(people, tmp_path / "people.jsonl")
    # the same documents back, but for nulls that mean "not known", which read as absent
    back = read_population(tmp_path / "people.parquet")
    assert [known(d) for d in back] == [known(d) for d in people]
    common = ["--from-version", "1", "--to-version", "2", "--as-of", "2022-10-20..2022-11-09"]
    code, sql = invoke(
        "impact", "pmp", "--population", str(tmp_path / "people.parquet"), *common,
        "--format", "json", "--engine", "duckdb",
    )  # fmt: skip
    assert code == 0, sql
    code, python = invoke(
        "impact", "pmp", "--population", str(tmp_path / "people.jsonl"), *common,
        "--format", "json", "--engine", "python",
    )  # fmt: skip
    assert code == 0, python
    assert json.loads(sql)["engine"] == "duckdb" and json.loads(python)["engine"] == "python"
    report = without_engine(sql)
    assert report == without_engine(python)
    assert report["documents"] == 30 and report["decisions_compared"] == 30 * 21
    assert report["decisions_changed"] > 0 and report["rules"] and report["changes"]
    assert sum(report["change_dates"]["before"].values()) > 0  # the days moved things
    # need to know: no healthcare-only output of the pack reaches the custodial report
    hidden = [n for n, o in PACKS["pmp"].outputs.items() if o.healthcare and not o.releasable]
    assert hidden and not any(f'"{n}"' in sql or f"outputs.{n}" in sql for n in hidden)


def test_upcoming_agrees_between_sql_and_interpreter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Key work over two months: the same people, days and before/after values, the SQL path
    reading the population as CSV and the interpreter as JSON Lines."""
    monkeypatch.chdir(ROOT)
    people = generate(40, seed=9, centre=dt.date(2020, 8, 1), spread_days=90, roots=PRISONER)
    assert nulls(people) > 0
    write_csv(people, tmp_path / "people.csv")
    write_jsonl(people, tmp_path / "people.jsonl")
    common = ["--as-of", "2020-07-01", "--days", "61", "--format", "json"]
    code, sql = invoke(
        "upcoming", "keywork_edm", "--facts", str(tmp_path / "people.csv"), *common,
        "--engine", "duckdb",
    )  # fmt: skip
    assert code == 0, sql
    code, python = invoke(
        "upcoming", "keywork_edm", "--facts", str(tmp_path / "people.jsonl"), *common,
        "--engine", "python",
    )  # fmt: skip
    assert code == 0, python
    report = without_engine(sql)
    assert report == without_engine(python)
    people_changing = {c["subject"] for c in report["changes"]}
    assert len(people_changing) >= 5 and report["documents"] == 40


def test_a_pack_without_sql_form_is_decided_by_the_interpreter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """auto says it fell back, and why; --engine duckdb is refused with the reason."""
    monkeypatch.chdir(ROOT)
    pop = tmp_path / "people.jsonl"
    write_jsonl(generate(3, seed=3, centre=dt.date(2022, 6, 1)), pop)
    corpus = ROOT / "tests" / "corpus" / "sql"  # a pack that divides a duration
    args = [
        "upcoming",
        "corpus",
        "--packs",
        str(corpus),
        "--facts",
        str(pop),
        "--as-of",
        "2022-06-01",
    ]
    code, out = invoke(*args)
    assert code == 0, out
    assert "engine python" in out.splitlines()[0]
    assert "(python: the pack has no SQL form:" in out
    code, out = invoke(*args, "--engine", "duckdb")
    assert code == 1 and "[W-SQL-UNSUPPORTED]" in out and "--engine python" in out


def test_a_pinned_version_is_what_the_interpreter_applies_when_told() -> None:
    """The pinned pack decides every day as the pack does with that version named, even on
    days outside the version's own dates; the query then needs no version argument."""
    pmp = PACKS["pmp"]
    people = generate(6, seed=4, centre=dt.date(2022, 11, 1), spread_days=120, roots=PRISONER)
    pinned = pin_version(pmp, "1")
    assert [v.id for v in pinned.versions] == ["1"] and pin_version(pmp, None) is pmp
    v2_day = next(v for v in pmp.versions if v.id == "2").effective_from + dt.timedelta(days=3)
    for facts in people:
        from engine.packs.facts_schema import prepare

        prepared = prepare(facts, "<t>", pmp.facts, True)
        told = Evaluation(pmp, prepared, v2_day, True, "1")
        told.run()
        plain = Evaluation(pinned, prepared, v2_day, True)
        plain.run()
        from engine.evaluation.decision import build_decision

        a = observable(build_decision(told, "custodial", pmp.facts))
        b = observable(build_decision(plain, "custodial", pmp.facts))
        assert a == b and a["policy_version"] == "1"
    with pytest.raises(ValueError, match="no version `9`"):
        pin_version(pmp, "9")


def test_unreadable_parquet_is_a_population_error(tmp_path: Path) -> None:
    bad = tmp_path / "people.parquet"
    bad.write_text("not parquet", encoding="utf-8")
    with pytest.raises(PopulationError) as caught:
        read_population(bad)
    problem = caught.value.problems[0]
    assert problem.code == "E-POPULATION" and "not Parquet" in problem.message


@pytest.mark.parametrize("engine_name", ["duckdb", "python"])
def test_a_document_against_the_schema_is_the_same_error_on_either_engine(
    engine_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    pop = tmp_path / "people.jsonl"
    pop.write_text(
        '{"prisoner": {"prison_number": "A1111AA", "release_date": "2020-07-20"}}\n'
        '{"prisoner": {"prison_number": "B2222BB", "release_date": "not a date"}}\n',
        encoding="utf-8",
    )
    code, out = invoke(
        "upcoming", "keywork_edm", "--facts", str(pop), "--as-of", "2020-07-01",
        "--engine", engine_name,
    )  # fmt: skip
    assert code == 2
    assert "`$.prisoner.release_date`: `not a date` is not a date [E-FACTS]" in out
    assert "nothing was evaluated" in out
    # named at the file and line of the document, whichever engine
    assert f"{pop}:2:1: error: `$.prisoner.release_date`" in out


@pytest.mark.parametrize("command", ["upcoming", "impact"])
def test_a_bad_document_in_a_csv_is_named_at_its_line(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    pop = tmp_path / "people.csv"
    pop.write_text(
        "prisoner.prison_number,establishment.regime_level\nA1111AA,3\n\nB2222BB,nine\n",
        encoding="utf-8",
    )
    args = ["--facts", str(pop), "--as-of", "2020-07-01", "--engine", "python"]
    if command == "impact":
        args = ["policies/keywork_edm.yaml", "policies/keywork_edm.yaml", "--population", str(pop),
                "--as-of", "2020-07-01", "--engine", "python"]  # fmt: skip
    code, out = invoke(command, "keywork_edm", *args)
    assert code == 2, out
    assert f"{pop}:4:1: error: `$.establishment.regime_level`: `nine` is not an integer" in out


@pytest.mark.parametrize("engine_name", ["duckdb", "python"])
def test_a_day_without_a_version_is_the_same_error_on_either_engine(
    engine_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    pop = tmp_path / "people.jsonl"
    write_jsonl(generate(2, seed=1, centre=dt.date(2022, 6, 1), roots=PRISONER), pop)
    code, out = invoke(
        "impact", "pmp", "policies/pmp.yaml", "policies/pmp.yaml", "--population", str(pop),
        "--as-of", "2022-04-30..2022-05-10", "--engine", engine_name,
    )  # fmt: skip
    assert code == 2
    assert "pack `pmp` has no version in force on 2022-04-30" in out and "[E-EVAL-VERSION]" in out


def test_a_parquet_population_reads_the_first_day_as_a_none_only_where_null_is_one(
    tmp_path: Path,
) -> None:
    """The facts table keeps a recorded none of a date as 0001-01-01: read back from Parquet it
    is a null in a field whose null is a recorded none, and a day as any other elsewhere."""
    import duckdb

    path = tmp_path / "people.parquet"
    duckdb.sql(
        "COPY (SELECT 1 AS record, {'date_of_birth': DATE '0001-01-01', "
        "'irmm_keywork_from': DATE '0001-01-01', 'release_date': DATE '2020-09-01'} AS prisoner) "
        f"TO '{path}' (FORMAT parquet)"
    )
    assert read_population(path) == [
        {
            "prisoner": {
                "date_of_birth": "0001-01-01",
                "irmm_keywork_from": None,
                "release_date": "2020-09-01",
            }
        }
    ]
