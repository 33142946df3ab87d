"""A facts field the schema declares a number is a decimal, exact: read from JSON (a file, a
JSON Lines population, a service body) as the number's text says, never through a float, so
that `0.1000000000000000000001` is not 0.1 and `6.50` keeps its places, as the same number
read from a YAML facts file does."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

import engine
from cli.main import cli
from engine.packs.facts_schema import parse_json, read_facts_file
from engine.problems import FactsError
from engine.tools.population_source import read_population
from service.exact_json import canonical, dumps
from service.exact_json import parse_json as body_json

ROOT = Path(__file__).resolve().parents[2]
PACKS = ROOT / "tests" / "fixtures" / "decimal_facts"
DAY = dt.date(2020, 7, 1)
RATES = ["0.1000000000000000000001", "6.50", "0.1", "1E-7", "-2.5e+3", "12345678901234567890.5"]


def _doc(rate: str) -> str:
    return '{"person": {"id": "a", "hourly_rate": ' + rate + ', "hours": 3}}'


@pytest.mark.parametrize("rate", RATES)
def test_every_json_reader_reads_a_decimal_as_its_text_says(rate: str, tmp_path: Path) -> None:
    exact = Decimal(rate)
    assert parse_json(_doc(rate), "<facts>")["person"]["hourly_rate"] == exact
    assert str(parse_json(_doc(rate), "<facts>")["person"]["hourly_rate"]) == str(exact)
    assert str(body_json(_doc(rate).encode())["person"]["hourly_rate"]) == str(exact)
    file = tmp_path / "facts.json"
    file.write_text(_doc(rate))
    assert str(read_facts_file(file)["person"]["hourly_rate"]) == str(exact)
    population = tmp_path / "people.jsonl"
    population.write_text(_doc(rate) + "\n")
    (doc,) = read_population(population)
    assert str(doc["person"]["hourly_rate"]) == str(exact)


def test_the_decision_reads_the_exact_decimal() -> None:
    pack = engine.load(PACKS)["pay"]
    for rate in RATES:
        decision = engine.evaluate(pack, parse_json(_doc(rate), "<facts>"), DAY)
        assert decision.outputs["rate"] == Decimal(rate)
        assert decision.outputs["weekly"] == Decimal(rate) * 3
        assert decision.outputs["tenth"] is (Decimal(rate) == Decimal("0.1"))
    tenth_and_more = engine.evaluate(pack, parse_json(_doc(RATES[0]), "<facts>"), DAY)
    assert tenth_and_more.outputs["tenth"] is False
    places = engine.evaluate(pack, parse_json(_doc("6.50"), "<facts>"), DAY)
    assert places.outputs["rate_text"] == "6.50"


def test_the_command_line_reads_the_exact_decimal(tmp_path: Path) -> None:
    file = tmp_path / "facts.json"
    file.write_text(_doc(RATES[0]))
    args = ["eval", "pay", "--packs", str(PACKS), "--facts", str(file)]
    result = CliRunner().invoke(cli, [*args, "--as-of", "2020-07-01", "--format", "json"])
    assert result.exit_code == 0, result.output
    outputs = json.loads(result.stdout)["outputs"]
    assert outputs["tenth"] is False
    assert Decimal(outputs["rate"]) == Decimal(RATES[0])


def test_a_number_past_a_floats_range_is_still_refused() -> None:
    pack = engine.load(PACKS)["pay"]
    for rate in ("1e999", "-1e400"):
        with pytest.raises(FactsError) as info:
            engine.evaluate(pack, parse_json(_doc(rate), "<facts>"), DAY)
        assert info.value.problems[0].code == "E-FACTS-NUMBER"


def test_the_service_writes_a_decimal_back_as_the_number_it_read() -> None:
    # the decision log holds the input as sent: a decimal written back is the same number
    for rate in RATES:
        data = body_json(_doc(rate).encode())
        for write in (dumps, canonical):
            again = body_json(write(data))
            assert str(again["person"]["hourly_rate"]) == str(Decimal(rate))


def test_a_whole_number_written_with_a_fraction_is_still_an_integer_fact() -> None:
    # `45.0` for an integer field was read as the float 45.0, an integer to JSON Schema: read
    # exactly it is still one, from JSON and from YAML alike
    pack = engine.load(ROOT / "policies")["keywork_edm"]
    text = (
        '{"prisoner": {"keywork": {"sessions": '
        '[{"minutes": 45.0, "date": "2020-06-30", "kind": "session"}]}}}'
    )
    decision = engine.evaluate(pack, parse_json(text, "<facts>"), DAY)
    again = engine.evaluate(pack, parse_json(text.replace("45.0", "45"), "<facts>"), DAY)
    assert decision == again
    with pytest.raises(FactsError):
        engine.evaluate(pack, parse_json(text.replace("45.0", "45.5"), "<facts>"), DAY)
