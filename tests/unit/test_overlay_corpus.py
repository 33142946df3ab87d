"""The bad-overlay corpus: one small local plan per way of leaving the national bounds, each
with exactly one problem of its kind at the line and column its first line expects."""

from __future__ import annotations

from pathlib import Path

import pytest

import engine
from engine.api import load_overlay
from tests.unit.corpus_expect import EXPECT, assert_as_expected
from tests.unit.national_packs import national

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "corpus" / "overlays"
FILES = sorted(CORPUS.glob("*.yaml"))


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_one_problem_in_the_right_place(path: Path) -> None:
    expect = EXPECT.match(path.read_text(encoding="utf-8").splitlines()[0])
    assert expect, f"{path.name} lacks its `# expect:` line"
    merged, problems = load_overlay(path, national().packs, str(path))
    errors = [p for p in problems if p.is_error]
    if expect["code"].startswith("W-"):
        assert merged is not None and not errors, [p.format() for p in errors]
        found = [p for p in problems if p.code == expect["code"]]
    else:
        assert merged is None
        found = errors
    assert len(found) == 1, [p.format() for p in problems]
    assert_as_expected(found[0], path)
    assert "\n" not in found[0].message and found[0].hint


def test_every_bound_is_in_the_corpus() -> None:
    codes = {EXPECT.match(f.read_text().splitlines()[0])["code"] for f in FILES}  # type: ignore[index]
    assert {
        "E-LOCAL-LIMITED",
        "E-LOCAL-OPTION",
        "E-LOCAL-WIDEN",
        "E-LOCAL-REMOVE",
        "E-LOCAL-VERSION",
        "E-LOCAL-EXTENDS",
        "E-LOCAL-AGREEMENT",
        "E-LOCAL-BOUND",
        "W-LOCAL-SIGNOFF",
    } <= codes


def test_messages_name_the_autonomy_level_and_the_passage_that_sets_it() -> None:
    _, problems = load_overlay(CORPUS / "limited_task_option.yaml", national().packs)
    (problem,) = problems
    assert "limited autonomy" in problem.message
    assert "row 1.1" in problem.message and "closed male estate" in problem.message
    _, problems = load_overlay(CORPUS / "option_not_declared.yaml", national().packs)
    (problem,) = problems
    assert "partial autonomy" in problem.message and "row 2.5" in problem.message
    assert problem.hint is not None and "duty_pom" in problem.hint


def test_a_partial_task_without_declared_options_is_a_warning() -> None:
    path = ROOT / "tests" / "corpus" / "local_declarations" / "partial_task_without_options.yaml"
    packs, problems = engine.check_paths([path])
    assert packs and len(problems) == 1 and not problems[0].is_error
    assert_as_expected(problems[0], path)


def test_facts_that_contradict_the_plan_are_not_evaluated() -> None:
    from engine.tools.worked_examples import read_cases, run_case

    path = ROOT / "tests" / "corpus" / "plan_evaluation" / "facts_for_another_establishment.yaml"
    cases, problems = read_cases([path], {})
    assert not problems
    (result,) = [run_case(case, national().packs) for case in cases]
    assert result.decision is None
    assert len(result.failures) == 1 and result.failures[0].endswith("[E-EVAL-PLAN]")
