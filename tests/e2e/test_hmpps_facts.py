"""End to end: HMPPS records served on 127.0.0.1, `regime facts from-hmpps`, then
`regime eval keywork_edm` on the facts it wrote; and the docs' copy of the mapping table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from cli.main import cli
from tests.hmpps_stub import FIXTURES, Stub, stub_fixture  # noqa: F401 (the `stub` fixture)

ROOT = Path(__file__).resolve().parents[2]
LOCAL = FIXTURES / "local"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_a_fixture_person_goes_from_records_to_a_key_work_decision(
    stub: Stub, tmp_path: Path
) -> None:
    out = tmp_path / "a1234bc.json"
    code, text = run(
        "facts",
        "from-hmpps",
        "--prisoner",
        "A1234BC",
        "--as-of",
        "2020-07-01",
        "--config",
        str(stub.config(tmp_path)),
        "--local-facts",
        str(LOCAL / "a1234bc_local.yaml"),
        "--out",
        str(out),
    )
    assert code == 0, text
    assert "establishment.regime_level" not in text  # supplied locally, so no longer a gap
    assert "prisoner.omu.approaching_parole: not_supplied" in text
    facts = json.loads(out.read_text())
    assert facts["prisoner"]["release_date"] == "2020-07-20"
    code, text = run(
        "eval",
        "keywork_edm",
        "--facts",
        str(out),
        "--packs",
        str(ROOT / "policies"),
        "--format",
        "json",
    )
    assert code == 0, text
    decision = json.loads(text)
    assert decision["status"] == "decided", (decision["missing_facts"], decision["undetermined"])
    assert decision["outputs"]["priority_groups"] == ["high_rosh_pre_release"]
    assert decision["outputs"]["compliance"]["status"] == "met"


def test_without_local_facts_the_gaps_name_what_is_missing(stub: Stub, tmp_path: Path) -> None:
    out = tmp_path / "b.json"
    code, text = run(
        "facts", "from-hmpps", "--prisoner", "B2345CD", "--as-of", "2020-07-01",
        "--config", str(stub.config(tmp_path)), "--out", str(out),
    )  # fmt: skip
    assert code == 0 and "prisoner.release_date: missing" in text
    assert "establishment.regime_level: not_supplied" in text
    assert "release_date" not in json.loads(out.read_text())["prisoner"]


def test_an_establishment_is_written_one_document_per_line(stub: Stub, tmp_path: Path) -> None:
    out = tmp_path / "population.jsonl"
    code, text = run(
        "facts",
        "from-hmpps",
        "--prison",
        "MDI",
        "--as-of",
        "2020-07-01",
        "--config",
        str(stub.config(tmp_path)),
        "--local-facts",
        str(LOCAL / "mdi_establishment.yaml"),
        "--out",
        str(out),
    )
    assert code == 0, text
    assert "wrote 5 facts documents" in text and "(1 with contradictions)" in text
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [d["prisoner"]["prison_number"] for d in lines][:2] == ["A1234BC", "B2345CD"]
    assert all(d["establishment"]["regime_level"] == 3 for d in lines)
    gaps = [
        json.loads(line) for line in (tmp_path / "population.gaps.jsonl").read_text().splitlines()
    ]
    assert gaps[2]["subject"] == "C3456DE"
    assert {"fact": "prisoner.acct", "kind": "contradiction"}.items() <= next(
        g for g in gaps[2]["gaps"] if g["fact"] == "prisoner.acct"
    ).items()


def test_json_output_holds_facts_and_gaps(stub: Stub, tmp_path: Path) -> None:
    code, text = run(
        "facts",
        "from-hmpps",
        "--prisoner",
        "C3456DE",
        "--as-of",
        "2020-07-01",
        "--config",
        str(stub.config(tmp_path)),
        "--format",
        "json",
    )
    data = json.loads(text)
    assert code == 0 and data["facts"]["prisoner"]["tact"] is True
    assert {"fact": "prisoner.acct", "kind": "contradiction"}.items() <= next(
        g for g in data["gaps"] if g["fact"] == "prisoner.acct"
    ).items()


@pytest.mark.parametrize(
    ("args", "token", "expected"),
    [
        (["--prisoner", "A1234BC"], "wrong", "refused the token (401)"),
        (["--prisoner", "Z9999ZZ"], "test-token", "[E-HTTP-NOT-FOUND]"),
        (["--prisoner", "A1234BC", "--prison", "MDI"], "test-token", "exactly one of"),
        (["--prison", "MDI"], "test-token", "--prison needs --out"),
        (["--prisoner", "A1234BC", "--local-facts", "README.md"], "test-token", "facts"),
    ],
)
def test_refusals_and_bad_usage_exit_2_without_a_traceback(
    stub: Stub, tmp_path: Path, args: list[str], token: str, expected: str
) -> None:
    result = CliRunner().invoke(
        cli, ["facts", "from-hmpps", *args, "--config", str(stub.config(tmp_path, token))]
    )
    assert result.exit_code == 2, result.output
    assert expected in result.output and "Traceback" not in result.output


def test_a_failing_service_exits_2_after_its_retries(stub: Stub, tmp_path: Path) -> None:
    stub.fail("/prisoner/A1234BC", 500, 500, 500)
    result = CliRunner().invoke(
        cli,
        ["facts", "from-hmpps", "--prisoner", "A1234BC", "--config", str(stub.config(tmp_path))],
    )
    assert result.exit_code == 2
    assert "answered 500" in result.output and "[E-HTTP-UNAVAILABLE]" in result.output


def test_the_command_runs_as_a_user_runs_it(stub: Stub, tmp_path: Path) -> None:
    regime = Path(sys.executable).parent / "regime"
    result = subprocess.run(
        [str(regime), "facts", "from-hmpps", "--prisoner", "E5678FG", "--as-of", "2020-07-01"],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **os.environ,
            "REGIME_HMPPS_CONFIG": "",
            **{
                f"HMPPS_{n}_URL": stub.url
                for n in (
                    "PRISONER_SEARCH",
                    "ALERTS",
                    "KEYWORKER",
                    "CASE_NOTES",
                    "MANAGE_POM_CASES",
                )
            },
            "HMPPS_TOKEN": "test-token",
        },
    )
    assert result.returncode == 0, result.stderr
    assert '"release_date": "2020-08-01"' in result.stdout


def test_the_docs_mapping_table_matches_the_mapping() -> None:
    code, text = run("facts", "mapping-table", "--check", str(ROOT / "docs" / "hmpps.md"))
    assert code == 0, text


def test_the_mapping_table_says_why_a_fact_is_read_so() -> None:
    """A fact's `note` (a reading of the records the mapping takes) reaches the docs table,
    where a policy lead reads the mapping, beside the reading it explains."""
    mapping = yaml.safe_load((ROOT / "adapters" / "hmpps.yaml").read_text(encoding="utf-8"))
    noted = [f for f in mapping["facts"] if f.get("note")]
    assert noted
    code, table = run("facts", "mapping-table")
    assert code == 0
    for entry in noted:
        rows = [line for line in table.splitlines() if line.startswith("| ")]
        note = " ".join(entry["note"].split())
        assert any(f"*Why:* {note}" in row for row in rows), entry["fact"]


def test_a_stale_mapping_table_is_caught_and_updated(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    text = (ROOT / "docs" / "hmpps.md").read_text(encoding="utf-8")
    page.write_text(text.replace("HA → open", "HA → closed"), encoding="utf-8")
    code, out = run("facts", "mapping-table", "--check", str(page))
    assert code == 1 and "differs" in out
    code, out = run("facts", "mapping-table", "--update", str(page))
    assert code == 0 and page.read_text(encoding="utf-8") == text


def _documents(out: Path) -> int:
    if out.suffix == ".parquet":
        import pyarrow.parquet as pq

        return int(pq.read_table(out).num_rows)
    return len(out.read_text(encoding="utf-8").splitlines())


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_a_person_who_cannot_be_fetched_is_rejected_and_the_rest_are_written(
    stub: Stub, tmp_path: Path, suffix: str
) -> None:
    stub.fail("/prisoners/C3456DE/alerts", 500, 500, 500)  # the second page's first person
    out = tmp_path / f"population{suffix}"
    result = CliRunner().invoke(
        cli,
        ["facts", "from-hmpps", "--prison", "MDI", "--out", str(out),
         "--config", str(stub.config(tmp_path))],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "C3456DE: records could not be fetched" in result.output
    assert "[E-HTTP-UNAVAILABLE]" in result.output and "Traceback" not in result.output
    rejects = tmp_path / "population.rejects.jsonl"
    rows = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert [r["key"] for r in rows] == ["C3456DE"]
    assert "E-HTTP-UNAVAILABLE" in rows[0]["reasons"][0]
    written = _documents(out)
    gaps = [json.loads(line) for line in out.with_suffix(".gaps.jsonl").read_text().splitlines()]
    assert "C3456DE" not in [g["subject"] for g in gaps]
    assert written == len(gaps) >= 2
    # the same establishment fetched whole afterwards: no stale rejects file is left beside it
    again = CliRunner().invoke(
        cli,
        ["facts", "from-hmpps", "--prison", "MDI", "--out", str(out),
         "--config", str(stub.config(tmp_path))],
    )  # fmt: skip
    assert again.exit_code == 0, again.output
    assert not rejects.exists()
    assert _documents(out) == written + 1


def test_a_bad_local_facts_file_is_refused_at_its_position_before_any_fetch(
    stub: Stub, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "facts:\n  establishment:\n    regime_level: 9\noverride: {prisoner: {cv: true}}\n"
    )
    stub.requests.clear()
    result = CliRunner().invoke(
        cli,
        ["facts", "from-hmpps", "--prisoner", "A1234BC", "--config", str(stub.config(tmp_path)),
         "--local-facts", str(bad)],
    )  # fmt: skip
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"{bad}:3:19: error:" in result.output and "from 1 to 4" in result.output
    assert f"{bad}:4:23: error:" in result.output and "did you mean `cev`?" in result.output
    assert stub.requests == []


def test_people_the_establishment_does_not_hold_are_named(stub: Stub, tmp_path: Path) -> None:
    local = tmp_path / "local.yaml"
    local.write_text("people:\n  A1234BC: {facts: {prisoner: {cev: true}}}\n  Z9999ZZ: {}\n")
    code, text = run(
        "facts", "from-hmpps", "--prison", "MDI", "--as-of", "2020-07-01",
        "--config", str(stub.config(tmp_path)), "--local-facts", str(local),
        "--out", str(tmp_path / "p.jsonl"),
    )  # fmt: skip
    assert code == 0, text
    assert "names Z9999ZZ, who is not in MDI" in text and "names A1234BC" not in text
    first = json.loads((tmp_path / "p.jsonl").read_text().splitlines()[0])
    assert first["prisoner"]["cev"] is True


def test_outputs_onto_an_input_or_each_other_are_refused_and_the_inputs_kept(
    stub: Stub, tmp_path: Path
) -> None:
    # an --out, --gaps or --rejects naming the local facts or the configuration replaced (or,
    # for --rejects, deleted) the file before anything was fetched
    local = tmp_path / "local.yaml"
    local.write_bytes((LOCAL / "mdi_establishment.yaml").read_bytes())
    config = stub.config(tmp_path)
    kept = {p: p.read_bytes() for p in (local, config)}
    common = ["facts", "from-hmpps", "--as-of", "2020-07-01", "--config", str(config),
              "--local-facts", str(local)]  # fmt: skip
    people = tmp_path / "people.jsonl"
    for args in (
        ["--prisoner", "A1234BC", "--out", str(local)],
        ["--prisoner", "A1234BC", "--out", str(config)],
        ["--prison", "MDI", "--out", str(people), "--rejects", str(local)],
        ["--prison", "MDI", "--out", str(people), "--gaps", str(config)],
        ["--prison", "MDI", "--out", str(local)],
        ["--prison", "MDI", "--out", str(people), "--gaps", str(people)],
    ):
        result = CliRunner().invoke(cli, [*common, *args])
        assert result.exit_code == 2, (args, result.output)
        assert "same file" in result.output, result.output
        assert {p: p.read_bytes() for p in kept} == kept, args
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in kept)


def test_a_configuration_of_the_wrong_shape_is_a_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "client.yaml"
    for text in ("base_urls: [1, 2]\n", "base_urls: x\n", "- 1\n", "base_urls: {a: [1]}\n"):
        config.write_text(text)
        result = CliRunner().invoke(
            cli, ["facts", "from-hmpps", "--prisoner", "A1234BC", "--config", str(config)]
        )
        assert result.exit_code == 2, (text, result.output)
        assert "[E-HTTP-CONFIG]" in result.output, (text, result.output)


def test_an_establishment_with_no_one_in_it_is_a_clear_error(stub: Stub, tmp_path: Path) -> None:
    # a mistyped code (MDX for MDI) wrote an empty population and exited 0
    out = tmp_path / "people.jsonl"
    config = stub.config(tmp_path)
    for args in (
        ["facts", "from-hmpps", "--prison", "MDX", "--out", str(out)],
        ["batch", "keywork_edm", "--from-hmpps", "--prison", "MDX", "--out", str(out),
         "--packs", str(ROOT / "policies")],
    ):  # fmt: skip
        result = CliRunner().invoke(cli, [*args, "--as-of", "2020-07-01", "--config", str(config)])
        assert result.exit_code == 2, result.output
        assert "no one in `MDX`" in result.output
        assert sorted(p.name for p in tmp_path.iterdir()) == [config.name]
