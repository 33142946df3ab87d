"""The bad-input corpus of local facts files (tests/corpus/local_facts): each must be refused
at the position its header names, read alone or, when it is well-formed, merged with the
records of the fixture person A1234BC (of Moorland, MDI)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from engine.adapters import hmpps
from engine.problems import PackError
from tests.hmpps_stub import fixture_records

from .corpus_expect import assert_as_expected

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "local_facts"
FILES = sorted(CORPUS.glob("*.yaml"))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_local_facts_corpus(path: Path) -> None:
    facts, gaps = hmpps.to_facts(fixture_records("A1234BC"), dt.date(2020, 7, 1))
    with pytest.raises(PackError) as caught:
        local = hmpps.read_local_facts(path)
        hmpps.with_local_facts(local, "A1234BC", facts, gaps)
    assert_as_expected(caught.value.problems[0], path)
    assert caught.value.problems[0].hint
