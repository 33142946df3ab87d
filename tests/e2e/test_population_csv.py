"""One CSV population, its columns dotted fact paths, read alike by every command that takes a
population: `regime batch` with either engine and `regime upcoming` decide from the same facts
(a number fact's cell a number), and a header naming no fact is refused, not decided blank."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
PACKS = str(ROOT / "policies")
POPULATION = ROOT / "examples" / "population" / "keywork_2020.jsonl"
COLUMNS = [
    "prisoner.prison_number",
    "prisoner.acct",
    "prisoner.release_date",
    "prisoner.rosh",
    "establishment.regime_level",
    "establishment.keywork_model",
]


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result.exit_code, result.output


def _dotted(tmp_path: Path) -> Path:
    """The first 20 documents of the example population, some of their facts as dotted
    columns (a fact a document lacks an empty cell)."""
    rows = []
    for line in POPULATION.read_text().splitlines()[:20]:
        doc = json.loads(line)
        cells = []
        for column in COLUMNS:
            value = doc
            for part in column.split("."):
                value = value.get(part, "") if isinstance(value, dict) else ""
            cells.append("null" if value is None else str(value))
        rows.append(",".join(cells))
    path = tmp_path / "people.csv"
    path.write_text(",".join(COLUMNS) + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_batch_with_either_engine_and_upcoming_read_the_same_facts(tmp_path: Path) -> None:
    facts = _dotted(tmp_path)
    decided = {}
    for engine in ("duckdb", "python"):
        out = tmp_path / f"{engine}.jsonl"
        code, said = _run(
            "batch", "keywork_edm", "--packs", PACKS, "--facts", str(facts),
            "--as-of", "2020-07-20", "--out", str(out), "--engine", engine,
        )  # fmt: skip
        assert code == 0, said
        assert "rejected: 0" in said, said
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        decided[engine] = [(r["is_priority"], r["session_frequency"]) for r in rows]
    assert decided["duckdb"] == decided["python"]
    # the regime levels were read as numbers: some prisoner is decided a priority
    assert any(priority is True for priority, _ in decided["duckdb"]), decided
    code, said = _run(
        "upcoming", "keywork_edm", "--packs", PACKS, "--facts", str(facts),
        "--as-of", "2020-07-20", "--days", "30",
    )  # fmt: skip
    assert code == 0, said
    assert "of 20 document(s)" in said


def test_a_header_naming_no_fact_is_refused(tmp_path: Path) -> None:
    facts = tmp_path / "people.csv"
    facts.write_text("prisonner.acct,id\nopen,1\n", encoding="utf-8")
    out = tmp_path / "out.parquet"
    code, said = _run(
        "batch", "keywork_edm", "--packs", PACKS, "--facts", str(facts),
        "--as-of", "2020-07-20", "--out", str(out),
    )  # fmt: skip
    assert code == 2, said
    assert "column `prisonner.acct` names no root of the facts" in said
    assert not out.exists() and "Traceback" not in said
