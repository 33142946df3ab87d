"""A record that breaks the facts schema is rejected by every engine of `regime batch`, with
the reasons; with `--engine python`, a record the interpreter's own facts check refuses is
rejected once with the interpreter's reasons, not filed as a day with no version in force."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from engine.sql import batch, validate

# the schema's `if`/`then`/`else`: an action whose target is a month names the month, and
# any other action names none
ACTION = {"owners": ["Governor"], "target_status": "month"}
GOOD = {
    "action_plan": {
        "recommendations": [
            {
                "number": "1",
                "response": "agreed",
                "actions": [{**ACTION, "target_month": "2019-05"}],
            }
        ]
    }
}
REFUSED = {
    "action_plan": {"recommendations": [{"number": "1", "response": "agreed", "actions": [ACTION]}]}
}


def _plan(**action: object) -> dict[str, object]:
    return {
        "action_plan": {
            "recommendations": [
                {"number": "1", "response": "agreed", "actions": [{**ACTION, **action}]}
            ]
        }
    }


@pytest.mark.parametrize("engine_name", ["duckdb", "python"])
def test_every_engine_rejects_an_action_plan_breaking_the_schemas_conditions(
    tmp_path: Path, engine_name: str
) -> None:
    docs = [
        _plan(target_month="2019-05"),
        _plan(),  # a month, not named
        _plan(target_month=None),  # a month, named as none
        _plan(target_status="none", target_month="2019-05"),  # no month, yet one named
        _plan(target_status="none", target_month=None),
        _plan(target_status="none"),
    ]
    facts = tmp_path / "plans.jsonl"
    facts.write_text("".join(json.dumps(doc) + "\n" for doc in docs), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    args = ["batch", "action_plan", "--facts", str(facts), "--as-of", "2019-06-01"]
    result = CliRunner().invoke(cli, [*args, "--out", str(out), "--engine", engine_name])
    assert result.exit_code == 0, result.output
    assert "3 decisions" in result.output and "rejected: 3" in result.output
    decided = [json.loads(line)["record"] for line in out.read_text().splitlines()]
    assert decided == [1, 5, 6]
    rejects = [json.loads(x) for x in (tmp_path / "out.rejects.jsonl").read_text().splitlines()]
    reasons = {r["record"]: " ".join(r["reasons"]) for r in rejects}
    where = "action_plan.recommendations[].actions[].target_month: "
    assert reasons == {
        2: where + "required where target_status is month",
        3: where + "required where target_status is month",
        4: where + "not null unless target_status is month",
    }


ABSENT = object()


def test_the_column_wise_checks_refuse_exactly_what_the_interpreter_refuses(
    tmp_path: Path,
) -> None:
    """Every target status with every kind of target month (absent, a known none, a month,
    not a month), one action or two: the records the SQL checks reject are those the
    interpreter's validation refuses."""
    from engine.packs.facts_schema import prepare
    from engine.problems import FactsError

    statuses = ("month", "completed", "ongoing", "none")
    months: tuple[object, ...] = (ABSENT, None, "2019-05", "2019-13")
    actions = [
        {"owners": ["Governor"], "target_status": status}
        | ({} if month is ABSENT else {"target_month": month})
        for status in statuses
        for month in months
    ]
    docs = [_plan(**a) for a in actions]
    docs += [_plan(**a) for a in actions[1::3]]
    for doc, other in zip(docs[-5:], actions[::4], strict=False):  # two actions, one of them bad
        doc["action_plan"]["recommendations"][0]["actions"].append(other)  # type: ignore[index]
    refused = set()
    for i, doc in enumerate(docs, 1):
        try:
            prepare(doc)
        except FactsError:
            refused.add(i)
    assert 0 < len(refused) < len(docs)
    facts = tmp_path / "plans.jsonl"
    facts.write_text("".join(json.dumps(doc) + "\n" for doc in docs), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    args = ["batch", "action_plan", "--facts", str(facts), "--as-of", "2019-06-01"]
    result = CliRunner().invoke(cli, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    rejects = [json.loads(x) for x in (tmp_path / "out.rejects.jsonl").read_text().splitlines()]
    assert {r["record"] for r in rejects} == refused


def test_a_record_the_interpreter_refuses_is_rejected_with_its_reasons(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever the column-wise checks let through (here: none run at all), the interpreter's
    own check has the last word, and its reasons are the record's."""
    none_run = lambda schema: validate.reasons_expr(schema, roots=[])  # noqa: E731
    monkeypatch.setattr(batch, "reasons_expr", none_run)
    facts = tmp_path / "plans.jsonl"
    facts.write_text(json.dumps(GOOD) + "\n" + json.dumps(REFUSED) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    # the first day is before the framework is in force, the next two under it
    args = ["batch", "action_plan", "--facts", str(facts), "--as-of", "2018-12-16..2018-12-18"]
    result = CliRunner().invoke(cli, [*args, "--out", str(out), "--engine", "python"])
    assert result.exit_code == 0, result.output
    assert "2 decisions" in result.output and "rejected: 2" in result.output
    assert "run-time error" not in result.output  # a refused record is no decision at all
    decided = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(d["record"], d["as_of"]) for d in decided] == [(1, "2018-12-17"), (1, "2018-12-18")]
    rejects = [json.loads(x) for x in (tmp_path / "out.rejects.jsonl").read_text().splitlines()]
    assert rejects == [
        {
            "record": 1,
            "key": None,
            "as_of": "2018-12-16",
            "reasons": ["no version of the pack is in force on 2018-12-16"],
        },
        {
            "record": 2,
            "key": None,
            "as_of": None,  # once for the record, as the column-wise checks reject
            "reasons": [
                "`$.action_plan.recommendations[0].actions[0]`: "
                "missing required field `target_month`, since `target_status` is `month`"
            ],
        },
    ]
