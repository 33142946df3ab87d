"""`regime batch --engine python`: a record the interpreter's own facts check refuses is
rejected once with the interpreter's reasons, not filed as a day with no version in force."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cli.main import cli

# the column-wise checks do not follow the schema's `if`/`then`: an action whose target is a
# month must name the month, which only the interpreter's check enforces
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


def test_a_record_the_interpreter_refuses_is_rejected_with_its_reasons(tmp_path: Path) -> None:
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
                "missing required field `target_month`"
            ],
        },
    ]
