"""Tests for the errors of the expression language: the bad-expression corpus under
tests/corpus/expressions (one small file per error code and case, each asserting its code, line
and column), the shape of every message, and "did you mean" hints for misspelt names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.language.check import check
from engine.language.parse import MAX_DEPTH, MAX_LENGTH, ExprError, parse

from .language_scope import scope

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "corpus" / "expressions"
HEADER = re.compile(r"#\s*(?P<key>[a-z]+):\s*(?P<value>.*)")
EXPECT = re.compile(r"(?P<code>[A-Z0-9-]+)\s+(?P<line>\d+):(?P<col>\d+)")

SCOPE = scope()


def problems(text: str, expect: str | None = None) -> list[ExprError]:
    """Every problem with an expression: the syntax error, or what the checker found."""
    try:
        node = parse(text)
    except ExprError as e:
        return [e]
    return check(node, SCOPE, expect).errors


def read_case(path: Path) -> tuple[dict[str, str], str]:
    """The `# key: value` header lines of a corpus file, and the expression after them."""
    lines = path.read_text(encoding="utf-8").split("\n")
    headers: dict[str, str] = {}
    while lines and (m := HEADER.fullmatch(lines[0])):
        headers[m["key"]] = m["value"].strip()
        lines.pop(0)
    text = "\n".join(lines)
    return headers, text[:-1] if text.endswith("\n") else text


CASES = sorted(CORPUS.glob("*.txt"))


def assert_well_formed(error: ExprError) -> None:
    message = error.message
    assert message and "\n" not in message and message == message.strip(), message
    assert not message[0].isupper(), message
    assert error.line >= 1 and error.col >= 1
    if error.hint is not None:
        assert error.hint and "\n" not in error.hint and error.hint == error.hint.strip()


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_corpus(path: Path) -> None:
    headers, text = read_case(path)
    expect = EXPECT.fullmatch(headers["expect"])
    assert expect is not None, f"{path.name}: bad `# expect:` line"
    found = problems(text)
    assert len(found) == 1, found
    error = found[0]
    assert (error.code, error.line, error.col) == (
        expect["code"],
        int(expect["line"]),
        int(expect["col"]),
    ), f"{path.name}: {error!r}"
    assert_well_formed(error)
    if "hint" in headers:
        assert error.hint is not None and headers["hint"] in error.hint, error.hint
    elif error.code in ("E-NAME", "E-PATH", "E-FUNC"):
        assert error.hint is not None and "did you mean" in error.hint, error.hint


def _documented_codes() -> set[str]:
    doc = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    section = doc.split("## Limits and errors", 1)[1]
    return set(re.findall(r"`(E-[A-Z0-9-]+)`", section))


def test_corpus_covers_every_documented_code() -> None:
    covered = {EXPECT.fullmatch(read_case(p)[0]["expect"])["code"] for p in CASES}  # type: ignore
    evaluation_only = {
        "E-EVAL-DIV0",
        "E-EVAL-RANGE",
        "E-EVAL-LIMIT-INT",
        "E-EVAL-LIMIT-LIST",
        "E-EVAL-LIMIT-STRING",
        "E-EVAL-LIMIT-STEPS",
        "E-COST-LIMIT",  # estimated with the pack's names and facts bounds (corpus/packs)
    }
    assert _documented_codes() - evaluation_only == covered


@pytest.mark.parametrize(
    "stem",
    [
        "syntax_bad_character",
        "syntax_unbalanced_open_paren",
        "syntax_missing_operand",
        "syntax_chained_comparison",
        "syntax_bad_date",
        "syntax_bad_binder",
        "type_date_vs_string",
        "type_date_plus_date",
        "type_bool_in_arithmetic",
        "type_list_mixing",
    ],
)
def test_corpus_has_the_required_cases(stem: str) -> None:
    assert (CORPUS / f"{stem}.txt").is_file()


def test_corpus_limits_are_at_the_limits() -> None:
    assert len(read_case(CORPUS / "limit_size.txt")[1]) == MAX_LENGTH + 1
    assert read_case(CORPUS / "limit_depth_brackets.txt")[1].count("(") == MAX_DEPTH + 1
    assert problems("(" * MAX_DEPTH + "1" + ")" * MAX_DEPTH) == []
    assert problems('"' + "a" * (MAX_LENGTH - 2) + '"') == []
    # a chain of operators is one level deeper per operator
    assert problems("1" + " + 1" * (MAX_DEPTH - 1)) == []
    assert [e.code for e in problems("1" + " + 1" * MAX_DEPTH)] == ["E-LIMIT-DEPTH"]


# -- beyond the corpus ------------------------------------------------------------------------


def test_several_problems_are_all_reported_with_positions() -> None:
    found = problems('p.levle == "LOW" and agee(p.d) > 1 and p.n + true > 0')
    assert [(e.code, e.line, e.col) for e in found] == [
        ("E-PATH", 1, 3),
        ("E-FUNC", 1, 22),
        ("E-TYPE", 1, 40),
    ]
    for e in found:
        assert_well_formed(e)


def test_errors_carry_an_end_position() -> None:
    (error,) = problems('p.d == "2022-01-01"')
    assert (error.line, error.col, error.end_line, error.end_col) == (1, 1, 1, 20)


def test_no_suggestion_when_nothing_is_close() -> None:
    (error,) = problems("zzzzzz > 1")
    assert error.code == "E-NAME"
    assert error.hint is None


def test_a_condition_must_be_boolean() -> None:
    (error,) = problems("p.n + 1", expect="bool")
    assert (error.code, error.line, error.col) == ("E-TYPE-COND", 1, 1)
    assert problems("p.a", expect="bool") == []
    assert problems("null", expect="bool") == []


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("count(x in p.xs: x)", "E-TYPE-COND"),
        ("sum(x in p.xs: x == 1)", "E-TYPE"),
        ("any x in p.n: true", "E-TYPE"),
        ("not p.n", "E-TYPE-COND"),
        ("-p.s", "E-TYPE"),
        ("p.a < p.b", "E-TYPE"),
        ("[1] < [2]", "E-TYPE"),
        ('"a" + 1', "E-TYPE"),
        ("p.d - 1", "E-TYPE"),
        ("2 / 1 day", "E-TYPE"),
        ("1 month / 2", "E-TYPE"),
        ("1 month + 1 day", "E-TYPE-DURATION"),
        ("days(1 month)", "E-ARGS"),
        ("len(p.n)", "E-ARGS"),
        ("text(7 days)", "E-ARGS"),
        ("min(p.a, p.b)", "E-ARGS"),
        ("earliest(1, 2)", "E-ARGS"),
        ("round(p.x, 1.5)", "E-ARGS"),
        ("age()", "E-ARGS"),
        ('coalesce(1, "a")', "E-ARGS"),
        ("{k: 1}.j", "E-PATH"),
        ("p.n.k", "E-PATH"),
        ("p.score in [1, 20]", "E-ENUM"),
        ('"NONE" in [p.level]', "E-ENUM"),
        ("p.level != 'low'", "E-ENUM"),
        ("map(p.xs)", "E-SYNTAX"),
        ("count(x in p.xs)", "E-SYNTAX"),
        ("p.n not 1", "E-SYNTAX"),
        ("2022-13-01", "E-SYNTAX"),
        ("1 in [1] in [true]", "E-SYNTAX"),
        ("   ", "E-SYNTAX"),
        ("p.s == 'it", "E-SYNTAX"),
        ("é", "E-SYNTAX"),
    ],
)
def test_more_problems(text: str, code: str) -> None:
    found = problems(text)
    assert [e.code for e in found] == [code], found
    assert_well_formed(found[0])


def test_well_typed_expressions_have_no_problems() -> None:
    for text in [
        "p.d - as_of <= 4 weeks",
        "as_of >= p.d + 3 months",
        'p.level in ["LOW", "HIGH"] and p.score >= 3',
        "count(s in p.sessions: s.date > as_of - 7 days) >= 1",
        "if p.a then 2 else 4",
        '{count: 1, per: "week"}.count == 1',
        "sum(s in p.sessions: s.minutes * 1 minute) >= 1 day",
    ]:
        assert problems(text) == [], text


@pytest.mark.parametrize("text", ["p.s == opne", "p.s in [opne]", "opne != p.s", "opne"])
def test_a_bare_word_where_text_fits_is_offered_its_quotes(text: str) -> None:
    (error,) = problems(text)
    assert error.code == "E-NAME"
    assert error.hint is not None and 'put it in quotes: `"opne"`' in error.hint


def test_a_bare_word_in_a_condition_or_sum_is_not_taken_for_text() -> None:
    for text in ("zzzzzz > 1", "p.n + zzzzzz"):
        (error,) = problems(text)
        assert error.hint is None or "quotes" not in error.hint, error.hint


def test_an_enumerated_value_is_described_by_its_kind_first() -> None:
    (error,) = problems("p.level + 1")
    assert "a string (a `" in error.message, error.message


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('p.n + "1"', 'write `1`, not `"1"`'),
        ("p.d - 1", "`date + 3 days`"),
        ("p.d == 3", "count days"),
        ("p.d - as_of > 3", "give the number its unit"),
        ('p.d == "2022-01-01"', "without quotes"),
    ],
)
def test_type_errors_say_what_to_write(text: str, said: str) -> None:
    (error,) = problems(text)
    assert error.code == "E-TYPE"
    assert error.hint is not None and said in error.hint, error.hint
