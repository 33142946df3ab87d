"""`--outputs a,b` narrows the columns, never the decision: for the same record and the same
`--outputs`, the SQL engine and the interpreter give the same status, error, undetermined
items, missing facts and obligations, those of the whole decision. The fixture pack divides
in an obligation's due date, an error no output reads."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import engine
from cli.main import cli
from engine.sql.output_columns import with_outputs
from engine.sql.query import compile_pack
from engine.sql.run import converted, differences, facts_table, python_view, row_view, run_duckdb
from engine.tools.population import Population

PACKS = Path(__file__).parent.parent / "fixtures" / "sql_errors"
AS_OF = dt.date(2020, 7, 20)
RECORDS = 600
DUE_ERROR = "rule `R-4` due"  # the error of a decision stopped in an obligation's due date
FIELDS = ("policy_version", "status", "error", "undetermined", "missing_facts", "obligations")


def as_numbers(view: dict[str, Any] | None) -> dict[str, Any] | None:
    """A quotient compared as a number (SQL holds it at 10 places: -5 is -5.0000000000)."""
    if view is None or view.get("outputs", {}).get("ratio") is None:
        return view
    outputs = {**view["outputs"], "ratio": str(Decimal(view["outputs"]["ratio"]).normalize())}
    return {**view, "outputs": outputs}


@cache
def documents() -> list[tuple[int, dict[str, Any]]]:
    docs = Population(seed=2413).documents(RECORDS, roots=("prisoner", "establishment"))
    return [(i, doc) for i, _, doc in docs]


def _batch(tmp_path: Path, engine_name: str, outputs: str | None) -> dict[int, dict[str, Any]]:
    facts = tmp_path / "population.jsonl"
    if not facts.exists():
        facts.write_text("".join(json.dumps(doc) + "\n" for _, doc in documents()))
    out = tmp_path / f"{engine_name}-{outputs}.jsonl"
    args = ["batch", "ratios", "--packs", str(PACKS), "--facts", str(facts)]
    args += ["--as-of", AS_OF.isoformat(), "--out", str(out), "--engine", engine_name]
    result = CliRunner().invoke(cli, args + (["--outputs", outputs] if outputs else []))
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    return {r["record"]: r for r in rows}


def test_batch_engines_give_the_whole_decisions_status_whatever_the_outputs(
    tmp_path: Path,
) -> None:
    whole = _batch(tmp_path, "duckdb", None)
    seen = Counter(r["status"] for r in whole.values())
    stopped_in_due = [i for i, r in whole.items() if r["error"] and DUE_ERROR in r["error"]]
    # the population meets the case: decisions stopped in a due date, beside decided and
    # undetermined ones
    assert stopped_in_due and seen["decided"] and seen["undetermined"], seen
    for outputs in ("ratio", "band,long_sessions"):
        duck = _batch(tmp_path, "duckdb", outputs)
        python = _batch(tmp_path, "python", outputs)
        assert set(duck) == set(python) == set(whole)
        failures = [
            f"--outputs {outputs} record {i} field {f}: {duck[i][f]!r} != {python[i][f]!r}"
            for i in sorted(whole)
            for f in FIELDS
            if duck[i][f] != python[i][f] or duck[i][f] != whole[i][f]
        ]
        assert not failures, "\n".join(failures[:10])
        every = engine.load(PACKS)["ratios"].outputs
        for row in (*duck.values(), *python.values()):
            assert sorted(k for k in row if k in every) == sorted(outputs.split(","))
        assert all(duck[i]["status"] == "error" for i in stopped_in_due)


@pytest.mark.parametrize("outputs", [["ratio"], ["groups", "band"]])
def test_the_query_for_some_outputs_decides_as_the_interpreter(outputs: list[str]) -> None:
    """`regime sql --outputs`: the whole decision's query, with only those output columns,
    equals the interpreter on every field; a query compiled for those outputs alone would
    miss the errors in due dates."""
    pack = engine.load(PACKS)["ratios"]
    prepared = [(i, AS_OF, converted(doc)) for i, doc in documents()]
    table = facts_table(prepared)
    narrowed = with_outputs(compile_pack(pack), outputs)
    assert list(narrowed.outputs) == outputs
    rows = {r["record"]: r for r in run_duckdb(narrowed, table)}
    failures = []
    stopped = 0
    for i, _, doc in prepared:
        expected = as_numbers(python_view(pack, doc, AS_OF, narrowed.outputs, "custodial"))
        assert expected is not None
        stopped += bool(expected.get("error") and DUE_ERROR in expected["error"])
        got = as_numbers(row_view(rows[i], narrowed)) or {}
        failures += [f"record {i} field {d}" for d in differences(expected, got)]
    assert not failures, "\n".join(failures[:10])
    assert stopped
    alone = compile_pack(pack, outputs=outputs)  # the outputs alone: not the whole decision
    statuses = {r["record"]: r["status"] for r in run_duckdb(alone, table)}
    assert any(statuses[i] != rows[i]["status"] for i in rows)


def test_regime_sql_prints_the_whole_decision_with_some_output_columns() -> None:
    result = CliRunner().invoke(cli, ["sql", "ratios", "--packs", str(PACKS), "--outputs", "ratio"])
    assert result.exit_code == 0, result.output
    final = result.output.rsplit("FROM decided", 1)[0].rsplit("SELECT", 1)[1]
    assert '"ratio"' in final and '"band"' not in final
    assert "obligations" in final and "status" in final
    assert "R-4" in result.output  # the obligation's rule is still decided
