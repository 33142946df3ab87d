"""Careless input at the command line's edges: dates at the end of the calendar and outputs
aimed at the inputs are clear errors (exit 2), never a traceback or a lost input file."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
PACKS = str(ROOT / "policies")
POPULATION = ROOT / "examples" / "population" / "keywork_2020.jsonl"


def _few(tmp_path: Path, source: Path, n: int = 6) -> Path:
    """The first `n` documents of a population, in a file of their own (quick to decide)."""
    path = tmp_path / source.name
    path.write_text("".join(source.read_text().splitlines(keepends=True)[:n]))
    return path


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result.exit_code, result.output


def test_upcoming_days_past_the_calendar_is_a_clear_error() -> None:
    code, out = _run(
        "upcoming", "keywork_edm", "--packs", PACKS, "--facts", str(POPULATION),
        "--as-of", "9999-12-25", "--days", "14", "--engine", "python",
    )  # fmt: skip
    assert code == 2, out
    assert "9999-12-31" in out and "Traceback" not in out


def test_impact_on_the_calendars_last_day_is_decided(tmp_path: Path) -> None:
    code, out = _run(
        "impact", "keywork_edm", "--packs", PACKS, "--population", str(_few(tmp_path, POPULATION)),
        "--as-of", "9999-12-31", "--from-version", "1", "--to-version", "1",
    )  # fmt: skip
    assert code == 0, out


def test_batch_out_onto_its_own_facts_is_refused_and_the_facts_kept(tmp_path: Path) -> None:
    facts = tmp_path / "people.jsonl"
    facts.write_bytes(POPULATION.read_bytes())
    for out in (facts, tmp_path / "people.rejects.jsonl"):
        if out != facts:  # the rejects beside `people` would land on the facts
            out.write_bytes(POPULATION.read_bytes())
            facts_arg, out_arg = out, facts
        else:
            facts_arg, out_arg = facts, out
        code, text = _run(
            "batch", "keywork_edm", "--packs", PACKS, "--facts", str(facts_arg),
            "--as-of", "2020-07-01", "--out", str(out_arg), "--engine", "python",
        )  # fmt: skip
        assert code == 2, text
        assert "same file" in text
        assert facts_arg.read_bytes() == POPULATION.read_bytes()


def test_impact_out_onto_its_population_is_refused_and_the_population_kept(
    tmp_path: Path,
) -> None:
    population = _few(tmp_path, POPULATION).rename(tmp_path / "people.jsonl")
    kept = population.read_bytes()
    args = [
        "impact", "keywork_edm", "--packs", PACKS, "--population", str(population),
        "--as-of", "2020-07-01", "--from-version", "1", "--to-version", "1",
    ]  # fmt: skip
    code, text = _run(*args, "--out", str(population))
    assert code == 2, text
    assert "same file" in text
    assert population.read_bytes() == kept
    code, text = _run(*args, "--out", str(tmp_path / "impact.json"), "--format", "json")
    assert code == 0, text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["impact.json", "people.jsonl"]


def test_impact_tracks_only_an_output_the_audience_may_see(tmp_path: Path) -> None:
    args = [
        "impact", "pmp", "--packs", PACKS, "--population",
        str(_few(tmp_path, ROOT / "examples" / "population" / "pmp_2022.jsonl")),
        "--as-of", "2022-11-01..2022-11-02", "--from-version", "1", "--to-version", "2",
    ]  # fmt: skip
    code, out = _run(*args, "--track", "eligble")
    assert code == 2 and "no output `eligble`" in out and "eligible" in out, out
    code, out = _run(*args, "--track", "eligibility_basis")
    assert code == 2 and "withheld" in out, out
    code, out = _run(*args, "--track", "eligibility_basis", "--audience", "healthcare")
    assert code == 0, out


def test_a_test_run_that_runs_no_example_says_so(tmp_path: Path) -> None:
    # a typo in -k, or a folder without worked examples, must not pass as "0 failed"
    code, out = _run("test", PACKS, "-k", "no such example name")
    assert code == 2 and "no worked examples ran" in out, out
    code, out = _run("test", str(tmp_path))
    assert code != 0, out


def test_batch_refuses_a_range_of_centuries_before_reading(tmp_path: Path) -> None:
    # a typo in a year (2920 for 2020) would decide every record on 330,000 days
    code, out = _run(
        "batch", "keywork_edm", "--packs", PACKS, "--facts", str(POPULATION),
        "--as-of", "2020-07-01..2920-07-01", "--out", str(tmp_path / "out.parquet"),
    )  # fmt: skip
    assert code == 2 and "3660 days" in out, out
    assert list(tmp_path.iterdir()) == []


def test_docs_refuses_to_write_the_site_among_the_packs(tmp_path: Path) -> None:
    # the site's pages beside the packs would mix generated files into the reviewed sources
    packs = tmp_path / "packs"
    (packs / "local").mkdir(parents=True)
    (packs / "pmp.yaml").write_bytes((ROOT / "policies" / "pmp.yaml").read_bytes())
    (packs / "local" / "plan.yaml").write_text("extends: pmp\n")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    for target, out in (
        (packs, packs),
        (packs / "pmp.yaml", packs),
        (packs, packs / "." / "local"),
        (packs, packs / "site"),
        (packs, packs / "pmp.yaml"),
    ):
        code, text = _run("docs", str(target), "--out", str(out))
        assert code == 2, (target, out, text)
        assert "Traceback" not in text
        assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_explaining_what_is_withheld_from_the_audience_says_so(tmp_path: Path) -> None:
    # explaining a healthcare-only output, definition or rule for custodial staff printed the
    # steps around it (or none) and exited 0, as if it had been explained
    facts = tmp_path / "person.json"
    facts.write_text(
        '{"prisoner": {"prison_number": "A1234BC", "date_of_birth": "1980-01-01",'
        ' "pmp": {"single_cell_advised": true}, "clinical": {"conditions": ["blood_cancer"]}}}'
    )
    args = ["--packs", str(ROOT / "tests" / "data" / "ntk"), "--facts", str(facts),
            "--as-of", "2022-06-01"]  # fmt: skip
    for target in ("basis", "in_alpha", "R-ALPHA", "R-HIDDEN"):
        code, out = _run("explain", "ntk_probe", target, *args)
        assert code == 2 and f"`{target}` is withheld from a custodial audience" in out, out
        assert "blood_cancer" not in out
        code, out = _run("explain", "ntk_probe", target, *args, "--audience", "healthcare")
        assert code == 0, out
    for target in ("eligible", "R-SEEN", "custodial_note"):  # released, or not healthcare's
        code, out = _run("explain", "ntk_probe", target, *args)
        assert code == 0 and "withheld from a custodial" not in out, out


def test_an_id_field_reading_healthcare_only_facts_is_refused_for_custodial_staff(
    tmp_path: Path,
) -> None:
    # `--id-field prisoner.clinical.conditions` labelled each custodial row with the person's
    # clinical conditions (and `prisoner` with the whole record, clinical part included)
    people = _few(tmp_path, ROOT / "examples" / "population" / "pmp_2022.jsonl", 3)
    one = ROOT / "examples" / "pmp" / "a1101pm_immunosuppressed_plan.yaml"
    for field in ("prisoner.clinical.conditions", "prisoner.clinical", "prisoner"):
        for args in (
            ["timeline", "pmp", "--facts", str(one), "--from", "2022-10-01", "--to", "2022-11-30"],
            ["upcoming", "pmp", "--facts", str(people), "--as-of", "2022-10-20", "--days", "30"],
            ["impact", "pmp", "--population", str(people), "--as-of", "2022-11-01",
             "--from-version", "1", "--to-version", "2"],
        ):  # fmt: skip
            code, out = _run(*args, "--packs", PACKS, "--id-field", field)
            assert code == 2 and "healthcare-only" in out, (args, field, out)
            assert "immunosuppress" not in out and "condition" not in out.replace(field, "")
    code, out = _run(
        "timeline", "pmp", "--facts", str(one), "--from", "2022-10-01", "--to", "2022-11-30",
        "--packs", PACKS, "--id-field", "prisoner.clinical.conditions", "--audience", "healthcare",
    )  # fmt: skip
    assert "healthcare-only" not in out, out  # (refused only as a list, not an identifier)


def test_an_id_field_that_is_not_an_identifier_is_a_clear_error(tmp_path: Path) -> None:
    # a list, a record or a yes/no as each row's label: impact stopped with a traceback
    # (RecordMismatch), its two engines writing the value differently
    people = _few(tmp_path, ROOT / "examples" / "population" / "pmp_2022.jsonl", 3)
    args = ["impact", "pmp", "--packs", PACKS, "--population", str(people),
            "--as-of", "2022-11-01", "--from-version", "1", "--to-version", "2"]  # fmt: skip
    for field, kind in (("prisoner.alerts", "list"), ("prisoner.pmp", "record"),
                        ("prisoner.cev", "yes/no")):  # fmt: skip
        code, out = _run(*args, "--id-field", field)
        assert code == 2 and f"`{field}` is a {kind}, not an identifier" in out, out


def test_a_revision_that_looks_like_an_option_is_not_passed_to_git(tmp_path: Path) -> None:
    # `FILE@--output=X` reached `git show` as an option: git wrote its output to a file
    folder = tmp_path / "out:."
    folder.mkdir()
    code, out = _run(
        "impact", "pmp", f"{PACKS}/pmp.yaml@--output={tmp_path}/out", f"{PACKS}/pmp.yaml",
        "--population", str(_few(tmp_path, ROOT / "examples" / "population" / "pmp_2022.jsonl")),
        "--as-of", "2022-11-01",
    )  # fmt: skip
    assert code == 2 and "not a git revision" in out, out
    assert list(folder.iterdir()) == []


def test_batch_threads_out_of_range_are_refused_before_reading(tmp_path: Path) -> None:
    # -1 came back from DuckDB as "the duckdb engine failed" (exit 1); 100000 (a typo) had
    # DuckDB start a hundred thousand threads and ran on for minutes
    for threads in ("-1", "0", "100000"):
        code, out = _run(
            "batch", "keywork_edm", "--packs", PACKS, "--facts", str(POPULATION),
            "--as-of", "2020-07-01", "--out", str(tmp_path / "out.jsonl"), "--threads", threads,
        )  # fmt: skip
        assert code == 2 and "--threads" in out, out
        assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "name, content, expected",
    [
        ("latin.jsonl", b'{"prisoner": {"cell_location": "\xe9"}}\n', "not UTF-8"),
        ("deep.jsonl", b'{"prisoner": ' + b"[" * 5000 + b"]" * 5000 + b"}\n", "E-FACTS-DEPTH"),
        ("latin.csv", b"prisoner.cell_location\n\xe9\n", "not UTF-8"),
        ("ragged.csv", b"prisoner.prison_number\nA1234BC,extra\n", "more values than"),
        ("inside.csv", b"prisoner,prisoner.cev\nx,true\n", "`prisoner.cev`"),
        ("over.csv", b"prisoner.cev,prisoner\ntrue,x\n", "`prisoner`"),
        ("long.csv", b"prisoner.cell_location\n" + b"x" * 200_000 + b"\n", "not CSV"),
    ],
)
def test_a_population_that_cannot_be_read_is_a_clear_error(
    tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    # each of these stopped upcoming and impact with a traceback from the reader
    path = tmp_path / name
    path.write_bytes(content)
    code, out = _run(
        "upcoming", "keywork_edm", "--packs", PACKS, "--facts", str(path),
        "--as-of", "2020-07-01", "--engine", "python",
    )  # fmt: skip
    assert code == 2 and expected in out and f"{path}:" in out, out
    assert "nothing was evaluated" in out


def test_a_huge_integer_in_a_population_is_the_facts_readers_error(tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl"
    path.write_text('{"prisoner": {"keywork": {"sessions": [{"minutes": ' + "9" * 5000 + "}]}}}\n")
    code, out = _run(
        "upcoming", "keywork_edm", "--packs", PACKS, "--facts", str(path),
        "--as-of", "2020-07-01", "--engine", "python",
    )  # fmt: skip
    assert code == 2 and "a number of 5000 digits" in out, out


def test_batch_facts_that_are_not_utf8_are_unreadable_input(tmp_path: Path) -> None:
    # DuckDB's "CSV Error on Line: 1" came back as "the duckdb engine failed" (exit 1)
    facts = tmp_path / "latin.jsonl"
    facts.write_bytes(b'{"prisoner": {"cell_location": "\xe9"}}\n')
    code, out = _run(  # (the python engine's batch reads the file through DuckDB too)
        "batch", "keywork_edm", "--packs", PACKS, "--facts", str(facts), "--as-of",
        "2020-07-01", "--out", str(tmp_path / "out.jsonl"),
    )  # fmt: skip
    assert code == 2 and "not UTF-8 text" in out, out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latin.jsonl"]


@pytest.mark.parametrize("engine", ["duckdb", "python"])
def test_batch_csv_with_ragged_rows_is_refused_naming_the_lines(
    tmp_path: Path, engine: str
) -> None:
    # one row with a value too many made DuckDB's sniffer read the whole file another way:
    # the run ended "successfully" with no decisions and no rejects
    docs = [json.loads(line) for line in POPULATION.read_text().splitlines()[:3]]
    rows = [[json.dumps(d["prisoner"]), json.dumps(d["establishment"])] for d in docs]
    rows[1].append("extra")
    rows[2] = rows[2][:1]
    facts = tmp_path / "ragged.csv"
    with facts.open("w", newline="") as f:
        csv.writer(f).writerows([["prisoner", "establishment"], *rows])
    code, out = _run(
        "batch", "keywork_edm", "--packs", PACKS, "--facts", str(facts), "--as-of",
        "2020-07-01", "--out", str(tmp_path / "out.jsonl"), "--engine", engine,
    )  # fmt: skip
    assert code == 2, out
    assert f"{facts}`:3:" in out and "line 3 (more than 2 values)" in out, out
    assert "line 4 (fewer than 2 values)" in out, out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ragged.csv"]


def test_batch_csv_header_naming_a_column_twice_is_refused(tmp_path: Path) -> None:
    facts = tmp_path / "twice.csv"
    facts.write_text('prisoner,prisoner\n"{}","{}"\n')
    code, out = _run(
        "batch", "keywork_edm", "--packs", PACKS, "--facts", str(facts), "--as-of",
        "2020-07-01", "--out", str(tmp_path / "out.jsonl"),
    )  # fmt: skip
    assert code == 2 and "`prisoner` twice" in out, out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["twice.csv"]


def test_batch_csv_starting_with_a_byte_order_mark_reads_as_without(tmp_path: Path) -> None:
    # the header is read apart from the rows: a BOM taken into the first column's name left
    # that root unread, every record undetermined
    docs = [json.loads(line) for line in POPULATION.read_text().splitlines()[:3]]
    rows = [[json.dumps(d["prisoner"]), json.dumps(d["establishment"])] for d in docs]
    results = []
    for name, bom in (("plain.csv", ""), ("bom.csv", "\ufeff")):
        facts = tmp_path / name
        with facts.open("w", newline="", encoding="utf-8") as f:
            f.write(bom)
            csv.writer(f).writerows([["prisoner", "establishment"], *rows])
        out = tmp_path / f"{name}.jsonl"
        code, said = _run(
            "batch", "keywork_edm", "--packs", PACKS, "--facts", str(facts), "--as-of",
            "2020-07-01", "--out", str(out),
        )  # fmt: skip
        assert code == 0, said
        results.append(out.read_text())
    assert results[0] == results[1] and results[0].count("\n") == 3
