"""Facts problems found by JSON path are shown where the value is in the file."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from engine.packs.facts_positions import json_path_steps, positioned
from engine.packs.validate_schema import json_path
from engine.problems import Problem, file_problem

KEYS = st.one_of(st.text(min_size=1, max_size=8), st.integers(min_value=0, max_value=999))


@given(st.lists(KEYS, max_size=6))
def test_every_path_a_problem_names_reads_back_as_its_steps(steps: list[object]) -> None:
    assert json_path_steps(f"`{json_path(steps)}`: something is wrong") == tuple(steps)


def _problem(file: Path, path: str) -> Problem:
    return file_problem("E-FACTS", str(file), f"`{path}`: wrong")


def test_json_values_are_found_on_their_own_lines(tmp_path: Path) -> None:
    file = tmp_path / "f.json"
    file.write_text('{\n  "a": {\n\t"b": [1, {"c d": "x"}, NaN]\n  }\n}\n', encoding="utf-8")
    got = positioned(
        [
            _problem(file, "$.a.b[2]"),
            _problem(file, "$.a.b[1]['c d']"),
            _problem(file, "$.a.missing"),  # not in the file: its enclosing value
            file_problem("E-FACTS", str(file), "about the whole file"),
        ]
    )
    assert [(p.line, p.col, p.message) for p in got] == [
        (1, 1, "about the whole file"),
        (2, 8, "`$.a.missing`: wrong"),
        (3, 19, "`$.a.b[1]['c d']`: wrong"),
        (3, 25, "`$.a.b[2]`: wrong"),
    ]
    assert not got[3].whole_file and (got[3].end_line, got[3].end_col) == (3, 28)


def test_yaml_values_and_unreadable_files(tmp_path: Path) -> None:
    yaml_file = tmp_path / "f.yaml"
    yaml_file.write_text("prisoner:\n  alerts:\n    - {code: X}\n", encoding="utf-8")
    (found,) = positioned([_problem(yaml_file, "$.prisoner.alerts[0].code")])
    assert (found.line, found.col) == (3, 14)
    broken = tmp_path / "broken.json"
    broken.write_text('{"a": ', encoding="utf-8")
    gone = tmp_path / "gone.json"
    for file in (broken, gone):
        (kept,) = positioned([_problem(file, "$.a")])
        assert (kept.line, kept.col, kept.whole_file) == (1, 1, True)


@given(
    st.recursive(
        st.integers() | st.text(max_size=5) | st.none(),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
        ),
        max_leaves=12,
    ),
    st.booleans(),
)
def test_every_value_of_any_json_document_is_found_at_its_own_text(
    data: object, indent: bool
) -> None:
    text = json.dumps({"root": data}, indent=2 if indent else None)
    lines = text.split("\n")

    def walk(value: object, steps: tuple[object, ...]) -> None:
        (p,) = positioned([file_problem("E-FACTS", "doc.json", f"`{json_path(steps)}`: x")], text)
        start = sum(len(line) + 1 for line in lines[: p.line - 1]) + p.col - 1
        assert json.JSONDecoder().raw_decode(text, start)[0] == value
        items = (
            value.items()
            if isinstance(value, dict)
            else enumerate(value)
            if isinstance(value, list)
            else ()
        )
        for key, inner in items:
            walk(inner, (*steps, key))

    walk(data, ("root",))
