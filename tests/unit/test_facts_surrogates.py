"""A facts file whose text escapes half of a UTF-16 pair (`\\ud800` alone) holds no character
there: it is refused where the escape stands (E-ENCODING), not read into the facts, where it
was only found when printing, blamed on the terminal. A whole pair is one character."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from engine.packs.facts_schema import read_facts_file
from engine.problems import FactsError


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("lone.json", '{"prisoner": {"cell_location": "A-\\ud800"}}'),
        ("low.json", '{"prisoner":\n {"cell_location": "\\udc00x"}}'),
        ("lone.yaml", 'prisoner:\n  cell_location: "A-\\ud800"\n'),
    ],
)
def test_half_a_pair_is_refused_where_it_stands(tmp_path: Path, name: str, text: str) -> None:
    line = next(n for n, x in enumerate(text.splitlines(), 1) if "\\u" in x)
    where = (line, text.splitlines()[line - 1].index("\\u") + 1)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FactsError) as info:
        read_facts_file(path)
    (problem,) = info.value.problems
    assert (problem.code, problem.line, problem.col) == ("E-ENCODING", *where)
    args = ["eval", "keywork_edm", "--facts", str(path), "--as-of", "2020-07-01"]
    result = CliRunner().invoke(cli, [*args, "--audience", "healthcare"])
    assert result.exit_code == 2
    assert f"{path}:{where[0]}:{where[1]}: error:" in result.output
    assert "terminal" not in result.output
    # a custodial reader is not told where: the place could move with clinical text above it
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert f"{path}:1:1: error:" in result.output and "[E-ENCODING]" in result.output


def test_a_whole_pair_is_one_character(tmp_path: Path) -> None:
    path = tmp_path / "pair.json"
    path.write_text('{"prisoner": {"cell_location": "\\ud83d\\ude00"}}', encoding="utf-8")
    assert read_facts_file(path)["prisoner"]["cell_location"] == "\U0001f600"


def test_an_escape_that_is_no_character_of_the_facts_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "quoted.yaml"
    path.write_text("# \\ud800 in a comment\nprisoner:\n  cell_location: 'A \\ud800'\n")
    assert read_facts_file(path)["prisoner"]["cell_location"] == "A \\ud800"
