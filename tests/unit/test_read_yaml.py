"""Tests for reading YAML: plain data, positions of values and keys, positions inside scalars,
and every way a file can be rejected (the corpus under tests/corpus/yaml)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.packs.read_yaml import ALIAS_LIMIT, Document, read_yaml, read_yaml_file
from engine.problems import PackError, Problem

from .corpus_expect import assert_as_expected

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "yaml"


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(PackError) as caught:
        read_yaml(text, "t.yaml")
    return caught.value.problems


def first(text: str) -> Problem:
    return problems_of(text)[0]


# --- data ---------------------------------------------------------------------------------


def test_plain_data_types() -> None:
    doc = read_yaml(
        "a: 1\nb: 6.50\nc: true\nd: null\ne: 2020-07-01\nf: text\ng: [1, two]\nh: {x: 1}\n",
        "t.yaml",
    )
    assert doc.data == {
        "a": 1,
        "b": Decimal("6.50"),
        "c": True,
        "d": None,
        "e": datetime.date(2020, 7, 1),
        "f": "text",
        "g": [1, "two"],
        "h": {"x": 1},
    }
    assert str(doc.data["b"]) == "6.50"
    assert doc.file == "t.yaml"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0.1", Decimal("0.1")),
        ("-2.25", Decimal("-2.25")),
        ("1_000.5", Decimal("1000.5")),
        ("1.5e+3", Decimal("1.5e+3")),
        (".inf", Decimal("Infinity")),
        ("'6.50'", "6.50"),
    ],
)
def test_floats_are_exact_decimals(text: str, value: Any) -> None:
    assert read_yaml(f"x: {text}\n", "t.yaml").data["x"] == value


def test_empty_document_is_none() -> None:
    assert read_yaml("# only a comment\n", "t.yaml").data is None
    assert read_yaml("", "t.yaml").data is None


def test_merge_keys_and_aliases() -> None:
    doc = read_yaml("base: &b {a: 1, b: 2}\nm:\n  <<: *b\n  b: 3\nn: *b\n", "t.yaml")
    assert doc.data["m"] == {"a": 1, "b": 3}
    assert doc.data["n"] == {"a": 1, "b": 2}
    assert doc.span(("m", "b")).line == 4
    assert doc.span(("m", "a")).line == 1


def test_crlf_and_bom() -> None:
    doc = read_yaml("\ufeffa: 1\r\nb:\r\n  c: x\r\n", "t.yaml")
    assert doc.data == {"a": 1, "b": {"c": "x"}}
    assert doc.key_span(("a",)).col == 1
    assert doc.span(("b", "c")).line == 3


def test_document_is_frozen() -> None:
    doc = read_yaml("a: 1\n", "t.yaml")
    with pytest.raises(AttributeError):
        doc.data = {}  # type: ignore[misc]


# --- positions ----------------------------------------------------------------------------

PACK = """\
id: demo
rules:
  - id: R-1
    when: establishment.level == 4
    sets: {groups: '"a"'}
  - id: R-2
    title: Two
"""


def test_span_of_value_and_key() -> None:
    doc = read_yaml(PACK, "p.yaml")
    when = doc.span(("rules", 0, "when"))
    assert (when.file, when.line, when.col) == ("p.yaml", 4, 11)
    assert (when.end_line, when.end_col) == (4, 11 + len("establishment.level == 4"))
    key = doc.key_span(("rules", 0, "when"))
    assert (key.line, key.col) == (4, 5)
    assert doc.span(("rules", 1)).line == 6
    assert (doc.span(("rules", 0, "sets", "groups")).line, doc.span(("rules", 0, "sets")).col) == (
        5,
        11,
    )


def test_span_falls_back_to_nearest_ancestor() -> None:
    doc = read_yaml(PACK, "p.yaml")
    assert doc.span(("rules", 1, "when")) == doc.span(("rules", 1))
    assert not doc.has(("rules", 1, "when"))
    assert doc.has(("rules", 1, "title"))


def test_span_with_json_keys() -> None:
    doc = read_yaml("tasks:\n  1.10: {a: 1}\n  true: x\n", "t.yaml")
    assert Decimal("1.10") in doc.data["tasks"]
    assert doc.span(("tasks", "1.10", "a")).line == 2
    assert doc.key_span(("tasks", "true")).line == 3


# --- locate -------------------------------------------------------------------------------


def _find(doc: Document, path: tuple[Any, ...], target: str) -> tuple[int, int]:
    value = doc.data
    for step in path:
        value = value[step]
    index = value.index(target)
    line = value.count("\n", 0, index) + 1
    col = index - (value.rfind("\n", 0, index) + 1) + 1
    return doc.locate(path, line, col)


def _at(text: str, where: tuple[int, int], length: int) -> str:
    line, col = where
    return text.splitlines()[line - 1][col - 1 : col - 1 + length]


STYLES = """\
plain: prisoner.acct == "open" and
  x > 3
single: 'it''s  "a"
  target'
double: "a\\tb \\
  target\\u00e9"
literal: |
  first line
    target here
folded: >-
  one two
  target
anchored: &a target
tagged: !!str target
"""


@pytest.mark.parametrize(
    ("key", "target"),
    [
        ("plain", "x > 3"),
        ("plain", "and"),
        ("single", "target"),
        ("single", '"a"'),
        ("double", "target"),
        ("literal", "target"),
        ("literal", "first"),
        ("folded", "target"),
        ("anchored", "target"),
        ("tagged", "target"),
    ],
)
def test_locate_inside_scalars(key: str, target: str) -> None:
    doc = read_yaml(STYLES, "t.yaml")
    where = _find(doc, (key,), target)
    assert _at(STYLES, where, len(target)) == target


def test_locate_after_escapes_in_double_quotes() -> None:
    text = 'x: "\\u00e9\\"q\\" target"\n'
    doc = read_yaml(text, "t.yaml")
    assert doc.data["x"] == 'é"q" target'
    assert _at(text, _find(doc, ("x",), "target"), 6) == "target"


def test_locate_clamps_and_handles_structures() -> None:
    doc = read_yaml("a: abc\nb: [1]\n", "t.yaml")
    assert doc.locate(("a",), 1, 99) == (1, 7)
    assert doc.locate(("a",), 5, 1) == (1, 4)
    assert doc.locate(("b",), 1, 1) == (2, 4)


# --- errors -------------------------------------------------------------------------------


def _corpus() -> list[Path]:
    return sorted(CORPUS.glob("*.yaml"))


@pytest.mark.parametrize("path", _corpus(), ids=lambda p: p.stem)
def test_corpus(path: Path) -> None:
    with pytest.raises(PackError) as caught:
        read_yaml_file(path)
    problem = caught.value.problems[0]
    assert_as_expected(problem, path)
    assert problem.hint
    assert problem.message[:1].islower() or problem.message[:1] in "`"
    assert "\n" not in problem.message


def test_corpus_is_not_empty() -> None:
    assert len(_corpus()) >= 10


def test_duplicate_key_hint_names_first_line() -> None:
    problem = first("a: 1\nb: 2\na: 3\n")
    assert (problem.code, problem.line, problem.col) == ("E-YAML-DUPKEY", 3, 1)
    assert "line 1" in (problem.hint or "")


def test_all_duplicates_reported() -> None:
    problems = problems_of("a: 1\na: 2\nb: {c: 1, c: 2}\n")
    assert [(p.code, p.line) for p in problems] == [("E-YAML-DUPKEY", 2), ("E-YAML-DUPKEY", 3)]


def test_alias_limit_is_exact() -> None:
    ok = "x: &x 1\nl: [" + ", ".join(["*x"] * ALIAS_LIMIT) + "]\n"
    assert len(read_yaml(ok, "t.yaml").data["l"]) == ALIAS_LIMIT
    over = "x: &x 1\nl: [" + ", ".join(["*x"] * (ALIAS_LIMIT + 1)) + "]\n"
    assert first(over).code == "E-YAML-ALIAS"


def test_no_object_construction() -> None:
    for text in [
        "!!python/object/apply:os.system ['true']\n",
        "a: !!python/name:os.system\n",
        "a: !!python/object:collections.OrderedDict {}\n",
    ]:
        assert first(text).code == "E-YAML-TAG"


def test_explicit_standard_tags_are_fine() -> None:
    doc = read_yaml("a: !!str 12\nb: !!int '7'\nc: !!float '2.5'\n", "t.yaml")
    assert doc.data == {"a": "12", "b": 7, "c": Decimal("2.5")}


def test_bad_explicit_scalar() -> None:
    problem = first("a: !!int seven\n")
    assert (problem.code, problem.line, problem.col) == ("E-YAML", 1, 4)


def test_deep_nesting_is_a_problem_not_a_crash() -> None:
    problem = first("a: " + "[" * 2000 + "]" * 2000 + "\n")
    assert problem.code == "E-YAML"


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(PackError) as caught:
        read_yaml_file(tmp_path / "missing.yaml")
    problem = caught.value.problems[0]
    assert (problem.code, problem.line, problem.col) == ("E-IO", 1, 1)
    assert "missing.yaml" in problem.message


def test_file_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("a: 1\nb: caf\u00e9\n".encode("latin-1"))
    with pytest.raises(PackError) as caught:
        read_yaml_file(path)
    problem = caught.value.problems[0]
    assert (problem.code, problem.line, problem.col) == ("E-ENCODING", 2, 7)


def test_file_reads(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("a: [1, 2]\n", encoding="utf-8")
    doc = read_yaml_file(path)
    assert doc.data == {"a": [1, 2]}
    assert doc.file == str(path)


# --- properties ---------------------------------------------------------------------------

NO_SURROGATES: Any = ("Cs",)
NO_CONTROLS: Any = ("Cs", "Cc")

keys = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=NO_CONTROLS),
    min_size=1,
    max_size=12,
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**12), max_value=10**12)
    # PyYAML itself does not round-trip a lone NEL (`\x85`), so the text leaves it out
    | st.text(
        alphabet=st.characters(
            codec="utf-8", exclude_categories=NO_SURROGATES, exclude_characters="\x85"
        ),
        max_size=30,
    )
    | st.dates()
)
data = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data)
def test_safe_dump_reads_back_equal(value: Any) -> None:
    text = yaml.safe_dump({"root": value}, allow_unicode=True)
    assert read_yaml(text, "t.yaml").data == {"root": value}


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, path + (index,))
    return found


ident = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
nested = st.recursive(
    st.integers(0, 9) | ident,
    lambda inner: (
        st.dictionaries(ident, inner, min_size=1, max_size=4)
        | st.lists(inner, min_size=1, max_size=3)
    ),
    max_leaves=15,
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(ident, nested, min_size=1, max_size=4), st.booleans())
def test_key_spans_point_at_their_keys(value: dict[str, Any], flow: bool) -> None:
    text = yaml.safe_dump(value, default_flow_style=flow, width=10_000)
    doc = read_yaml(text, "t.yaml")
    lines = text.splitlines()
    for path in _paths(value):
        if path and isinstance(path[-1], str):
            span = doc.key_span(path)
            at = lines[span.line - 1][span.col - 1 :]
            assert at.lstrip("'\"").startswith(path[-1])  # keys like `'on'` are quoted
        span = doc.span(path)
        assert 1 <= span.line <= len(lines) + 1


words = st.lists(ident, min_size=1, max_size=6).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 6), words, st.data())
def test_locate_single_line_plain_is_offset(indent: int, value: str, pick: st.DataObject) -> None:
    text = "top:\n" + " " * (indent + 1) + f"key: {value}\n"
    doc = read_yaml(text, "t.yaml")
    assert doc.data["top"]["key"] == value
    col = pick.draw(st.integers(1, len(value)))
    assert doc.locate(("top", "key"), 1, col) == (2, indent + 1 + len("key: ") + col)


texts = st.text(
    alphabet=st.sampled_from(list("ab01 _-\"'\\:#\n\t\u00e9")), min_size=1, max_size=40
).filter(lambda s: s.strip() != "")


@settings(max_examples=200, deadline=None)
@given(texts, st.sampled_from([None, '"', "'", "|", ">"]), st.integers(10, 40))
def test_locate_finds_each_letter(value: str, style: str | None, width: int) -> None:
    text = yaml.safe_dump({"k": value}, default_style=style, allow_unicode=True, width=width)
    doc = read_yaml(text, "t.yaml")
    read = doc.data["k"]
    lines = text.splitlines()
    for index, char in enumerate(read):
        if not char.isalnum():
            continue
        line = read.count("\n", 0, index) + 1
        col = index - (read.rfind("\n", 0, index) + 1) + 1
        at_line, at_col = doc.locate(("k",), line, col)
        assert lines[at_line - 1][at_col - 1] == char, (text, index)
