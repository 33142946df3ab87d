"""Definitions are evaluated lazily as far as errors go (SPEC §3): one that cannot be worked
out stops the decision only where an output, rule or obligation reads it on the branch taken.
`tests/fixtures/sql_errors/lazy.yaml` at level 3: `b` divides by zero, `a or b` is decided by
`a`, so the decision stands, whichever path makes it; at level 1 `q` needs `d`, which fails."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import engine
from cli.main import cli
from engine.api import evaluate_many
from engine.evaluation import program as program_module
from engine.evaluation.evaluate import Evaluation
from engine.problems import EvaluationError

ROOT = Path(__file__).resolve().parents[2]
PACKS = ROOT / "tests" / "fixtures" / "sql_errors"
SNAPSHOTS = Path(__file__).parent / "snapshots" / "lazy_definitions"
DAY = dt.date(2024, 1, 1)
DIV0_D = "definition `d` at 1:1 [E-EVAL-DIV0]"
DIV0_LATE = "definition `late` at 1:4 [E-EVAL-DIV0]"


def facts(level: int) -> dict[str, Any]:
    return {"establishment": {"code": "SDI", "regime_level": level}}


@pytest.fixture(scope="module")
def pack() -> Any:
    return engine.load(PACKS)["lazy"]


def test_the_interpreter_never_needs_b_at_level_three(pack: Any) -> None:
    ev = Evaluation(pack, facts(3), DAY)
    ev.run()
    assert ev.memo["o"] is True and ev.memo["q"] is False
    assert ev.failed["b"].code == "E-EVAL-DIV0"  # type: ignore[attr-defined]
    (step,) = [s for s in ev.steps if s.name == "b"]
    assert step.value is None and step.error is not None and "[E-EVAL-DIV0]" in step.error
    needed = Evaluation(pack, facts(1), DAY)
    with pytest.raises(EvaluationError, match="definition `d`"):
        needed.run()


@pytest.mark.parametrize("tier", ["calls", "inline"])
def test_the_program_decides_as_the_interpreter(
    pack: Any, tier: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both tiers of the compiled program: each meets `b`'s error, and the interpreter decides
    that decision (the rare path)."""
    monkeypatch.setattr(program_module, "INLINE_AFTER", 1 if tier == "inline" else 10**9)
    for key in [k for k in pack.derived if isinstance(k, tuple) and k[0] == "program"]:
        del pack.derived[key]
    for audience in ("custodial", "healthcare"):
        for _ in range(2):
            d = engine.evaluate(pack, facts(3), DAY, audience)
            assert d.status == "decided" and d.outputs == {"o": True, "q": False}
            assert engine.evaluate(pack, facts(4), DAY, audience).outputs == {"o": True, "q": True}
            with pytest.raises(EvaluationError) as info:
                engine.evaluate(pack, facts(1), DAY, audience)
            assert str(info.value).endswith(DIV0_D)
            with pytest.raises(EvaluationError) as info:  # an obligation's due date needs it
                engine.evaluate(pack, facts(2), DAY, audience)
            assert str(info.value).endswith(DIV0_LATE)
    assert program_module.program(pack, DAY, True, None).inlined == (tier == "inline")


def test_evaluate_many_decides_past_an_unneeded_failure(pack: Any) -> None:
    got = list(evaluate_many(pack, [facts(3), facts(4)] * 40, DAY))
    assert [d.outputs["o"] for d in got] == [True] * 80
    assert [d.outputs["q"] for d in got] == [False, True] * 40


@pytest.mark.parametrize("engine_name", ["python", "duckdb"])
def test_batch_decides_level_three_and_stops_level_one(tmp_path: Path, engine_name: str) -> None:
    """The query gives `b`'s error to no row: the decision's error is the first among the
    roots, a definition's only where a root reaches it."""
    rows_in = [facts(n) for n in (3, 1, 4, 3, 2)]
    for i, doc in enumerate(rows_in):
        doc["prisoner"] = {"prison_number": f"A{1000 + i}BC"}
    source = tmp_path / "facts.jsonl"
    source.write_text("".join(json.dumps(d) + "\n" for d in rows_in))
    out = tmp_path / "out.jsonl"
    args = ["batch", "lazy", "--packs", str(PACKS), "--facts", str(source), "--out", str(out)]
    result = CliRunner().invoke(cli, [*args, "--as-of", DAY.isoformat(), "--engine", engine_name])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["status"] for r in rows] == ["decided", "error", "decided", "decided", "error"]
    assert [r["o"] for r in rows] == [True, None, True, True, None]
    assert rows[1]["error"].endswith(DIV0_D) and rows[4]["error"].endswith(DIV0_LATE)


def test_the_explanation_keeps_the_failed_step(pack: Any, snapshot: Any) -> None:
    """The step of `b` is there whatever the facts: worked out, or not and why."""
    snapshot.snapshot_dir = SNAPSHOTS
    texts = []
    for level in (3, 4):
        d = engine.evaluate(pack, facts(level), DAY, "healthcare")
        texts.append(d.explain().replace(str(ROOT) + "/", ""))
    snapshot.assert_match("\n\n".join(texts) + "\n", "levels_3_and_4.txt")
