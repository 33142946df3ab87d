"""The bad-input corpora of the stages after loading: facts documents (tests/corpus/facts),
evaluation (tests/corpus/evaluation: a pack whose one worked example cannot be evaluated, or
fails) and source coverage (tests/corpus/sources: packs citing `guidance.txt` beside them)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import engine
from engine.packs.facts_positions import positioned
from engine.packs.facts_schema import prepare, read_facts_file
from engine.problems import EvaluationError, FactsError
from engine.tools.source_coverage import check_sources
from engine.tools.worked_examples import check_cases

from .corpus_expect import assert_as_expected

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
HEADER = re.compile(r"#\s*(?P<key>[a-z]+):\s*(?P<value>.*)")


def _headers(path: Path) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = HEADER.fullmatch(line)
        if not m:
            break
        headers[m["key"]] = m["value"].strip()
    return headers


FACTS = sorted(p for p in (CORPUS / "facts").iterdir() if p.suffix != ".expect")
EVALUATION = sorted((CORPUS / "evaluation").glob("*.yaml"))
SOURCES = sorted((CORPUS / "sources").glob("*.yaml"))


@pytest.mark.parametrize("path", FACTS, ids=[p.name for p in FACTS])
def test_facts_corpus(path: Path) -> None:
    with pytest.raises(FactsError) as caught:
        prepare(read_facts_file(path), str(path))
    problems = positioned(caught.value.problems)  # as the commands show them
    assert len(problems) == 1
    assert_as_expected(problems[0], path)


@pytest.mark.parametrize("path", EVALUATION, ids=[p.stem for p in EVALUATION])
def test_evaluation_corpus(path: Path) -> None:
    headers = _headers(path)
    code = headers["expect"]
    packs = engine.load(path)
    if code == "E-TEST":
        assert [(p.code, p.file) for p in check_cases([path], packs)] == [(code, str(path))]
        return
    (case,) = packs["corpus"].tests
    audience = headers.get("audience", str(case.get("audience", "custodial")))
    with pytest.raises(EvaluationError) as caught:
        engine.evaluate(packs["corpus"], case["facts"], case["as_of"], audience)
    assert caught.value.code == code
    if "audience" not in headers:  # and `regime check` reports the worked example as failing
        assert [p.code for p in check_cases([path], packs)] == ["E-TEST"]


@pytest.mark.parametrize("path", SOURCES, ids=[p.stem for p in SOURCES])
def test_sources_corpus(path: Path) -> None:
    packs = engine.load(path)
    problems, _ = check_sources(packs, CORPUS / "sources")
    assert len(problems) == 1, [p.format() for p in problems]
    assert_as_expected(problems[0], path)
