"""End to end: `regime batch keywork_edm --from-hmpps` against the services' stub on 127.0.0.1,
paged, with faults; every row must equal `regime facts from-hmpps` then `regime eval` for that
person, on both the DuckDB and the Python engines."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from cli.main import cli
from tests.hmpps_stub import Stub, stub_fixture  # noqa: F401 (the `stub` fixture)

ROOT = Path(__file__).resolve().parents[2]
LOCAL = ROOT / "examples" / "hmpps" / "mdi_local_facts.yaml"
DAY = "2020-07-01"
PACKS = str(ROOT / "policies")


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def faults(stub: Stub) -> None:
    """A retried 500, a person whose alerts keep failing, a person the case notes refuse, and
    a person the key worker service holds nothing for (a 404: absent, so a gap, not a reject)."""
    stub.faults.clear()
    stub.requests.clear()
    stub.max_page_size = 2
    stub.fail("/prisoner-search/prison/MDI", 500)
    stub.fail("/prisoners/A1234BC/alerts", 503)
    stub.fail("/prisoners/C3456DE/alerts", 500, 500, 500)
    stub.fail("/search/case-notes/D4567EF", 403)
    stub.fail("/prisoners/E5678FG/allocations/current", 404)


def one_by_one(stub: Stub, subject: str, tmp: Path) -> dict[str, Any]:
    """The decision `regime facts from-hmpps` then `regime eval` give for one person."""
    if subject == "E5678FG":
        stub.fail("/prisoners/E5678FG/allocations/current", 404)
    facts = tmp / f"{subject}.json"
    code, text = run(
        "facts", "from-hmpps", "--prisoner", subject, "--as-of", DAY,
        "--config", str(stub.config(tmp)), "--local-facts", str(LOCAL), "--out", str(facts),
    )  # fmt: skip
    assert code == 0, text
    code, text = run(
        "eval", "keywork_edm", "--facts", str(facts), "--as-of", DAY, "--packs", PACKS,
        "--format", "json",
    )  # fmt: skip
    assert code in (0, 1), text
    decision: dict[str, Any] = json.loads(text)
    return decision


def test_an_establishment_is_fetched_and_decided_as_each_person_would_be(
    stub: Stub, tmp_path: Path
) -> None:
    rows: dict[str, list[dict[str, Any]]] = {}
    for engine in ("duckdb", "python"):
        faults(stub)
        out = tmp_path / f"{engine}.jsonl"
        code, text = run(
            "batch", "keywork_edm", "--from-hmpps", "--prison", "MDI", "--as-of", DAY,
            "--config", str(stub.config(tmp_path)), "--local-facts", str(LOCAL),
            "--out", str(out), "--engine", engine, "--packs", PACKS,
        )  # fmt: skip
        assert code == 0, text
        assert "fetched 3 of 5 people in MDI" in text
        assert "not fetched: 2" in text
        requests = [p for _, p in stub.requests]
        pages = [p for p in requests if p.startswith("/prisoner-search/prison/MDI")]
        assert len(pages) == 4  # three pages of two, the first asked twice (a 500, retried)
        rejects = [
            json.loads(x) for x in (tmp_path / f"{engine}.rejects.jsonl").read_text().splitlines()
        ]
        by_key = {r["key"]: r["reasons"][0] for r in rejects}
        assert set(by_key) == {"C3456DE", "D4567EF"}
        assert "answered 500" in by_key["C3456DE"] and "[E-HTTP-UNAVAILABLE]" in by_key["C3456DE"]
        assert "[E-HTTP-FORBIDDEN]" in by_key["D4567EF"]
        assert requests.count("/search/case-notes/D4567EF") == 1  # a refusal is not retried
        gaps = {
            g["subject"]: g["gaps"]
            for g in map(json.loads, (tmp_path / f"{engine}.gaps.jsonl").read_text().splitlines())
        }
        assert set(gaps) == {"A1234BC", "B2345CD", "E5678FG"}
        assert any(g["fact"] == "prisoner.keywork.key_worker" for g in gaps["E5678FG"])
        assert not any(g["fact"] == "establishment.regime_level" for g in gaps["A1234BC"])
        rows[engine] = [json.loads(x) for x in out.read_text().splitlines()]
        assert [r["key"] for r in rows[engine]] == ["A1234BC", "B2345CD", "E5678FG"]
    stub.faults.clear()
    for duck, py in zip(rows["duckdb"], rows["python"], strict=True):
        expected = one_by_one(stub, duck["key"], tmp_path)
        assert duck == py  # the same row whatever the engine
        assert duck["status"] == expected["status"], duck["key"]
        assert sorted(duck["missing_facts"]) == sorted(expected["missing_facts"]), duck["key"]
        for name, value in expected["outputs"].items():
            assert duck[name] == value, (duck["key"], name)
    assert rows["duckdb"][0]["compliance"]["status"] == "met"


def test_from_hmpps_bad_usage_exits_2(stub: Stub, tmp_path: Path) -> None:
    out = str(tmp_path / "o.jsonl")
    for args, words in (
        (["--from-hmpps", "--as-of", DAY], "--prison"),
        (["--from-hmpps", "--prison", "MDI", "--as-of", f"{DAY}..2020-07-03"], "one date"),
        (["--from-hmpps", "--prison", "MDI", "--facts", out, "--as-of", DAY], "not both"),
        (["--as-of", DAY], "--facts FILE"),
        (["--facts", out, "--prison", "MDI", "--as-of", DAY], "go with --from-hmpps"),
    ):
        result = CliRunner().invoke(
            cli, ["batch", "keywork_edm", *args, "--out", out, "--packs", PACKS]
        )
        assert result.exit_code == 2 and words in result.output, (args, result.output)
        assert "Traceback" not in result.output


def test_a_local_facts_file_of_another_prison_is_refused_before_any_fetch(
    stub: Stub, tmp_path: Path
) -> None:
    other = tmp_path / "lei.yaml"
    other.write_text("establishment_code: LEI\nfacts: {establishment: {regime_level: 2}}\n")
    stub.requests.clear()
    result = CliRunner().invoke(
        cli,
        ["batch", "keywork_edm", "--from-hmpps", "--prison", "MDI", "--as-of", DAY,
         "--config", str(stub.config(tmp_path)), "--local-facts", str(other),
         "--out", str(tmp_path / "o.jsonl"), "--packs", PACKS],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert (
        f"{other}:1:21: error:" in result.output
        and "[E-FACTS-LOCAL-ESTABLISHMENT]" in result.output
    )
    assert stub.requests == [] and not (tmp_path / "o.jsonl").exists()


def test_a_service_down_for_the_listing_stops_the_run_and_writes_nothing(
    stub: Stub, tmp_path: Path
) -> None:
    stub.faults.clear()
    stub.fail("/prisoner-search/prison/MDI", 500, 500, 500)
    out = tmp_path / "o.jsonl"
    result = CliRunner().invoke(
        cli,
        ["batch", "keywork_edm", "--from-hmpps", "--prison", "MDI", "--as-of", DAY,
         "--config", str(stub.config(tmp_path)), "--out", str(out), "--packs", PACKS,
         "--engine", "python"],
    )  # fmt: skip
    assert result.exit_code == 2 and "[E-HTTP-UNAVAILABLE]" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hmpps-client.yaml"]


def test_csv_output_gets_the_fetch_rejects_in_its_own_format(stub: Stub, tmp_path: Path) -> None:
    stub.faults.clear()
    stub.fail("/prisoners/C3456DE/alerts", 500, 500, 500)
    out = tmp_path / "mdi.csv"
    code, text = run(
        "batch", "keywork_edm", "--from-hmpps", "--prison", "MDI", "--as-of", DAY,
        "--config", str(stub.config(tmp_path)), "--out", str(out), "--packs", PACKS,
        "--engine", "python",
    )  # fmt: skip
    assert code == 0, text
    with (tmp_path / "mdi.rejects.csv").open(newline="") as f:
        rejects = list(csv.DictReader(f))
    assert [(r["key"], r["as_of"]) for r in rejects] == [("C3456DE", DAY)]
    assert rejects[0]["reasons"].startswith("['records could not be fetched: GET ")
    with out.open(newline="") as f:
        assert [r["key"] for r in csv.DictReader(f)] == ["A1234BC", "B2345CD", "D4567EF", "E5678FG"]


def test_a_parquet_population_written_by_facts_decides_as_from_hmpps_does(
    stub: Stub, tmp_path: Path
) -> None:
    stub.faults.clear()
    config = str(stub.config(tmp_path))
    population = tmp_path / "mdi.parquet"
    code, text = run(
        "facts", "from-hmpps", "--prison", "MDI", "--as-of", DAY, "--config", config,
        "--local-facts", str(LOCAL), "--out", str(population),
    )  # fmt: skip
    assert code == 0 and "wrote 5 facts documents" in text, text
    assert (tmp_path / "mdi.gaps.jsonl").exists()
    decided = {}
    for name, source in (("file", ["--facts", str(population)]),
                         ("live", ["--from-hmpps", "--prison", "MDI", "--config", config,
                                   "--local-facts", str(LOCAL)])):  # fmt: skip
        out = tmp_path / f"{name}.jsonl"
        code, text = run(
            "batch", "keywork_edm", *source, "--as-of", DAY, "--out", str(out),
            "--packs", PACKS, "--engine", "python",
        )  # fmt: skip
        assert code == 0, text
        decided[name] = [json.loads(x) for x in out.read_text().splitlines()]
    assert decided["file"] == decided["live"]
    assert decided["file"][0]["status"] == "decided"  # a known none (null) is not a missing fact


def test_facts_the_schema_refuses_are_kept_out_of_the_typed_population(tmp_path: Path) -> None:
    import datetime as dt

    import pyarrow.parquet as pq

    from cli.hmpps_fetch import typed_population

    lines = tmp_path / "p.jsonl"
    good = {"prisoner": {"prison_number": "A1234BC"}, "establishment": {"regime_level": 3}}
    bad = {"prisoner": {"prison_number": "B2345CD"}, "establishment": {"regime_level": 9}}
    lines.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    out = tmp_path / "p.parquet"
    unfit = typed_population(lines, ["A1234BC", "B2345CD"], dt.date(2020, 7, 1), out)
    assert [s for s, _ in unfit] == ["B2345CD"] and "regime_level" in unfit[0][1][0]
    assert pq.read_table(out).num_rows == 1
