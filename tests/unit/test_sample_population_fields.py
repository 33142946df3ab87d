"""A population file kept in the repository gains a field its facts schema gained since it was
written: drawn the way the generator draws it (seeded), only for the documents that meet a
condition, every other line of the file left as it is. The PMP example population's people who
declined a plan carry the day they declined, so whether they are offered a plan again is
decided."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import engine
from engine.tools.population_source import python_decisions, read_population
from engine.tools.sample_population import add_field, generate, main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "population" / "pmp_2022.jsonl"


def _population(tmp_path: Path) -> Path:
    docs = generate(12, seed=5, centre=dt.date(2022, 11, 1), roots=("prisoner",), null_rate=0)
    statuses = ["declined", "in_place", "none"]
    for n, doc in enumerate(docs):
        doc["prisoner"]["pmp"]["status"] = statuses[n % 3]
        doc["prisoner"]["pmp"].pop("declined_on", None)
    docs[3]["prisoner"]["pmp"]["declined_on"] = "2022-01-05"  # (given already: kept)
    path = tmp_path / "people.jsonl"
    path.write_text("".join(json.dumps(d, sort_keys=True) + "\n" for d in docs), encoding="utf-8")
    return path


def test_a_field_is_added_where_the_condition_holds_and_nowhere_else(tmp_path: Path) -> None:
    path = _population(tmp_path)
    before = path.read_text(encoding="utf-8").splitlines()
    added = add_field(
        path,
        "prisoner.pmp.declined_on",
        ("prisoner.pmp.status", "declined"),
        7,
        dt.date(2022, 11, 1),
        200,
    )
    after = path.read_text(encoding="utf-8").splitlines()
    assert added == 3 and len(after) == len(before)
    for n, (old, new) in enumerate(zip(before, after, strict=True)):
        if n % 3 != 0 or n == 3:
            assert new == old, n  # byte for byte
            continue
        doc = json.loads(new)
        day = dt.date.fromisoformat(doc["prisoner"]["pmp"].pop("declined_on"))
        assert abs((day - dt.date(2022, 11, 1)).days) <= 200
        assert json.dumps(doc, sort_keys=True) == old  # nothing else changed
    # seeded: the same draw again from the same file
    (tmp_path / "again").mkdir()
    again = _population(tmp_path / "again")
    add_field(
        again,
        "prisoner.pmp.declined_on",
        ("prisoner.pmp.status", "declined"),
        7,
        dt.date(2022, 11, 1),
        200,
    )
    assert again.read_text(encoding="utf-8").splitlines() == after


def test_the_command_adds_the_field(tmp_path: Path, capsys: object) -> None:
    path = _population(tmp_path)
    args = ["--add-field", "prisoner.pmp.declined_on", "--when", "prisoner.pmp.status=declined"]
    assert (
        main(
            [
                *args,
                "--seed",
                "7",
                "--centre",
                "2022-11-01",
                "--spread-days",
                "200",
                "--out",
                str(path),
            ]
        )
        == 0
    )
    declined = [json.loads(x)["prisoner"]["pmp"] for x in path.read_text().splitlines()][::3]
    assert all("declined_on" in p for p in declined)


def test_the_pmp_example_population_decides_every_new_offer() -> None:
    pmp = engine.load(ROOT / "policies")["pmp"]
    people = read_population(EXAMPLE)
    declined = [p for p in people if (p["prisoner"].get("pmp") or {}).get("status") == "declined"]
    assert declined
    for decision in python_decisions(pmp, declined, dt.date(2022, 11, 1)):
        assert "prisoner.pmp.declined_on" not in decision.missing_facts, decision.to_dict()
