"""`evaluate_many` stops at a bad document with the error `evaluate` gives for it, and leaves
the caller's decimal context as it found it between the decisions it hands out."""

from __future__ import annotations

import copy
import datetime as dt
import decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

import engine
from engine.problems import EvaluationError, FactsError

ROOT = Path(__file__).resolve().parents[2]
AS_OF = dt.date(2020, 7, 1)
PACKS = engine.load(ROOT / "policies")


def examples() -> list[dict[str, Any]]:
    paths = sorted((ROOT / "examples" / "prisoners").glob("*.yaml"))
    return [yaml.safe_load(p.read_text()) for p in paths]


def failure(make: Any) -> tuple[str, str]:
    try:
        make()
    except (EvaluationError, FactsError) as e:
        return type(e).__name__, str(e)
    raise AssertionError("no error")


@pytest.mark.parametrize("audience", ["custodial", "healthcare"])
def test_a_bad_document_stops_the_run_with_evaluates_error(audience: str) -> None:
    docs = examples()
    bad = copy.deepcopy(docs[1])
    bad["prisoner"]["release_date"] = "2020-02-30"
    bad["establishment"]["regime_level"] = "four"
    run = PACKS.evaluate_many("keywork_edm", [*docs, bad, *docs], AS_OF, audience)
    for _ in docs:
        next(run)
    got = failure(lambda: next(run))
    # the file name aside (evaluate_many numbers its documents), the same problems in order
    want = failure(lambda: PACKS.evaluate("keywork_edm", bad, AS_OF, audience, "<facts #7>"))
    assert got == want and got[0] == "FactsError"


def test_a_document_that_is_no_mapping_is_refused_where_it_stands() -> None:
    docs: list[Any] = [examples()[0], ["not", "a", "mapping"]]
    run = PACKS.evaluate_many("keywork_edm", docs, AS_OF)
    next(run)
    kind, message = failure(lambda: next(run))
    assert kind == "EvaluationError" and "facts are a mapping of roots" in message


def test_the_callers_decimal_context_is_left_as_it_was_between_decisions() -> None:
    mine = decimal.Context(prec=5, rounding=decimal.ROUND_DOWN)
    with decimal.localcontext(mine) as ctx:
        for decision in PACKS.evaluate_many("keywork_edm", examples() * 2, AS_OF):
            assert decimal.getcontext() is ctx and ctx.prec == 5
            assert decision.pack == "keywork_edm"
