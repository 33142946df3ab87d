"""A program's two-valued form (tried first, giving up where a value is not plainly known)
decides exactly as its three-valued form alone: on generated facts for every pack and both
audiences, the same decision (every field, its JSON, its steps), the same state left and the
same error; documents with each fact in turn taken away or made null make it give up at
every place it reads one."""

from __future__ import annotations

import copy
import datetime as dt
import decimal
import traceback
from collections.abc import Iterator
from typing import Any

import pytest

from engine.api import evaluate
from engine.evaluation import program as program_module
from engine.evaluation.decision import build_decision
from engine.evaluation.evaluate import select_version
from engine.evaluation.program import Program
from engine.language.runtime import EXACT, GaveUp
from engine.packs.facts_schema import prepare
from engine.problems import EvaluationError, FactsError
from engine.tools.population import Population
from tests.unit.test_program import PACKS, PROBES, ROOTS, n_of, outcome

ALL = {**PACKS, **PROBES}
DOCS = 16  # generated documents per pack and audience, besides those with facts taken away
BASES = 1  # full documents whose facts are taken away (or made null) one at a time


class Watched:
    """A two-valued form that counts how its runs end: finished, gave up (and where), failed."""

    def __init__(self, known: Any):
        self.known = known
        self.finished = 0
        self.gave_up: set[int] = set()  # the generated lines it gave up at
        self.failed = 0
        self.runs = 0

    def __call__(self, *args: Any) -> Any:
        self.runs += 1
        try:
            result = self.known(*args)  # (a run on a plain dict returns its rule results)
        except GaveUp as e:
            frames = traceback.extract_tb(e.__traceback__)
            self.gave_up.add(next(f.lineno or 0 for f in reversed(frames) if "<" in f.filename))
            raise
        except Exception:
            self.failed += 1
            raise
        self.finished += 1
        return result


def programs(
    pack: Any, day: dt.date, custodial: bool, monkeypatch: pytest.MonkeyPatch
) -> tuple[Program, Program, Watched]:
    """The program written in line with its two-valued form (watched), and one without it."""
    version = select_version(pack, day, None)
    monkeypatch.setattr(program_module, "INLINE_AFTER", 0)
    both = Program(pack, version, custodial)
    run_all, day_parts = both._run
    watched = Watched(both._known(day_parts))
    day_parts.known = watched
    alone = Program(pack, version, custodial, two_valued=False)
    return both, alone, watched


def decided(found: Program, facts: dict[str, Any], day: dt.date, audience: str) -> Any:
    """The program's decision, with what it leaves (names, and rule results in order: the
    two-valued form works each name out after every name it reads, so keeps them in an
    order of its own, which nothing reads)."""
    prepared = prepare(facts, "<facts>", found.pack.facts, found.custodial)
    with decimal.localcontext(EXACT):
        ev = found.run(prepared, day)
        decision = build_decision(ev, audience, found.pack.facts)
        return (
            decision.to_json_bytes(),
            decision.to_dict(),
            tuple(decision.steps),
            dict(ev.memo),
            list(ev.rule_results.items()),
        )


class InForce(Population):
    """Documents on days some version of the pack is in force (the generator's own days, or
    days just after each version starts)."""

    def __init__(self, pack: Any, seed: int, absent: float = 0.06):
        super().__init__(seed, pack.facts, absent)
        self.starts = [v.effective_from for v in pack.versions if v.effective_from.year > 1900]

    def as_of(self) -> dt.date:
        if self.rng.random() < 0.5:
            return super().as_of()
        if not self.starts:
            return super().as_of()
        start = self.rng.choice(self.starts)
        return start + dt.timedelta(days=self.rng.choice((0, 1, 28, 29, 31, 59, 366)))


class Plain(InForce):
    """Documents whose every field is given and none null (unless the schema allows only
    null): what the two-valued form decides itself."""

    def _make(self, node: Any) -> Any:
        kinds = node.get("type")
        if isinstance(kinds, list) and "null" in kinds and len(kinds) > 1:
            node = {**node, "type": [k for k in kinds if k != "null"]}
        return super()._make(node)


def valid(pack: Any, day: dt.date, facts: dict[str, Any], custodial: bool) -> bool:
    """Whether the document passes the facts check, the pack has a version on the day, and its
    decision does not stop with a run-time error (which ends both forms alike: the two-valued
    form can finish only on a document that does not stop)."""
    try:
        prepare(facts, "<facts>", pack.facts, custodial)
        select_version(pack, day, None)
        evaluate(pack, facts, day, "custodial" if custodial else "healthcare")
    except (EvaluationError, FactsError):
        return False
    return True


def taken_away(facts: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The document with each field of each record in turn absent, then null (depth first)."""

    def walk(node: Any, path: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
        if isinstance(node, dict):
            for key, value in node.items():
                yield (*path, key)
                yield from walk(value, (*path, key))
        elif isinstance(node, list):
            for i, item in enumerate(node[:2]):
                yield from walk(item, (*path, i))

    for path in walk(facts, ()):
        if isinstance(path[-1], int):
            continue
        for absent in (True, False):
            doc = copy.deepcopy(facts)
            node = doc
            for step in path[:-1]:
                node = node[step]
            if absent:
                del node[path[-1]]
            else:
                node[path[-1]] = None
            yield doc


@pytest.mark.parametrize("audience", ["custodial", "healthcare"])
@pytest.mark.parametrize("pack_id", sorted(ALL))
def test_two_valued_form_decides_as_the_three_valued(
    pack_id: str, audience: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # every document tries the two-valued form: no resting after a run of documents with
    # facts missing, which would leave the later ones to the three-valued form alone
    monkeypatch.setattr(program_module, "_REST", 0)
    pack = ALL[pack_id]
    custodial = audience != "healthcare"
    seed = 41 + n_of(pack_id)
    docs = [(d, f) for _, d, f in InForce(pack, seed).documents(DOCS)]
    docs += [(d, f) for _, d, f in InForce(pack, seed + 1).documents(DOCS // 4, ROOTS)]
    # plain documents the facts check passes and whose decision does not stop with an error
    # (a pack such as ntk_launder divides by counts the generator may make zero)
    made_plain = Plain(pack, seed + 2, absent=0.0).documents(DOCS * 4)
    plain = [(d, f) for _, d, f in made_plain if valid(pack, d, f, custodial)][: DOCS * 2]
    docs += plain
    for day, facts in plain[:BASES]:
        docs += [(day, doc) for doc in taken_away(facts)]
    made: dict[Any, tuple[Program, Program, Watched]] = {}
    for n, (day, facts) in enumerate(docs):
        try:
            version = select_version(pack, day, None).id
        except EvaluationError:  # (no version in force: no program)
            continue
        if version not in made:
            made[version] = programs(pack, day, custodial, monkeypatch)
        both, alone, _ = made[version]
        want = outcome(decided, alone, facts, day, audience)
        got = outcome(decided, both, facts, day, audience)
        assert got == want, f"document {n}"
    watched = [w for _, _, w in made.values()]
    # the two-valued form decided some documents itself, and gave up on others
    assert sum(w.finished for w in watched) > 0, [
        (w.finished, w.gave_up, w.failed) for w in watched
    ]
    assert sum(len(w.gave_up) for w in watched) > 0


BUDGET_PACK = """
id: budget_{name}
title: Steps counted alike in both forms
version: 0.1.0
status: draft
source: {{title: Test}}
versions:
  - {{id: "1", effective_from: 2020-01-01, effective_to: null}}
definitions:
  eight: '[1, 2, 3, 4, 5, 6, 7, 8]'
  square: 'flatten(map(a in eight: eight))'
  fourth: 'flatten(map(a in square: square))'
  above: 'count(a in fourth: a > 3)'
  seen: '(any a in fourth: a == 8) and (all a in square: a >= 1)'
  kept: 'len(map(a in filter(a in fourth: a != 2): a + 1))'
outputs:
  last: {{value: '{last}'}}
"""


@pytest.mark.parametrize(
    ("last", "error"),
    [
        ("if seen then [above, kept] else []", False),
        # 4,096 elements, each entering a quantifier over 4,096: past the budget of ten
        # million steps (each inner one stops at its first element, so the test is quick)
        ("count(a in fourth: (any b in fourth: b > 0))", True),
        ("sum(a in fourth: if (any b in fourth: b > 0) then 1 else 0)", True),
    ],
)
def test_quantifiers_written_as_loops_count_steps_as_the_calls(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, last: str, error: bool
) -> None:
    """A quantifier the two-valued form writes as Python's own loop leaves the step budget
    as the runtime's call does: the same values, and the same error past the budget."""
    from engine.api import load

    text = BUDGET_PACK.format(name="pack", last=last)
    (tmp_path / "budget.yaml").write_text(text, encoding="utf-8")
    pack = load(tmp_path)["budget_pack"]
    day = dt.date(2020, 3, 5)
    both, alone, watched = programs(pack, day, True, monkeypatch)
    want = outcome(decided, alone, {}, day, "custodial")
    got = outcome(decided, both, {}, day, "custodial")
    assert got == want
    assert (got[0] == "error" and "E-EVAL-LIMIT-STEPS" in got[2]) is error
    # the two-valued form decided, or failed and the three-valued one decided
    assert (watched.finished, watched.failed) == ((0, 1) if error else (1, 0))


def test_a_two_valued_form_that_mostly_gives_up_rests(monkeypatch: pytest.MonkeyPatch) -> None:
    """After a review finds most of its runs gave up, the program runs the three-valued form
    alone for a while, then tries the two-valued form again: the same decisions throughout."""
    monkeypatch.setattr(program_module, "_REST", 5)
    pack = PACKS["keywork_edm"]
    day = dt.date(2020, 7, 20)
    both, alone, watched = programs(pack, day, True, monkeypatch)
    empty: dict[str, Any] = {"prisoner": {}, "establishment": {}}  # (every fact unknown)
    for _ in range(program_module._REVIEW):
        assert decided(both, empty, day, "custodial") == decided(alone, empty, day, "custodial")
    assert watched.runs == program_module._REVIEW and watched.finished == 0
    for _ in range(5):  # resting
        assert decided(both, empty, day, "custodial") == decided(alone, empty, day, "custodial")
    assert watched.runs == program_module._REVIEW
    decided(both, empty, day, "custodial")
    assert watched.runs == program_module._REVIEW + 1  # tried again


def test_a_two_valued_run_starts_from_every_key_it_stores(monkeypatch: pytest.MonkeyPatch) -> None:
    """The key work two-valued form stores each name (and table's rows) once, wherever it goes,
    so it starts from a state holding every key it stores as not yet worked out: a run it
    decides leaves each with its value, in the order the three-valued form stores them; a run
    it gives up on leaves the three-valued form a clean state."""
    pack = PACKS["keywork_edm"]
    day = dt.date(2020, 7, 20)
    both, alone, watched = programs(pack, day, True, monkeypatch)
    day_parts = both._run[1]
    assert day_parts.stored is not None and day_parts.plain  # (run on a plain dict)
    facts = Plain(pack, 7, absent=0.0).documents(40)
    plain = [f for _, _, f in facts if valid(pack, day, f, True)]
    empty: dict[str, Any] = {"prisoner": {}, "establishment": {}}  # (every fact unknown)
    for doc in [*plain[:8], empty]:
        prepared = prepare(doc, "<facts>", pack.facts, True)
        with decimal.localcontext(EXACT):
            got, want = both.run(prepared, day), alone.run(prepared, day)
        assert all(v is not program_module._MISSING for v in got.memo.values())
        assert list(got.memo.items()) == list(want.memo.items())
        assert set(day_parts.stored) <= got.memo.keys()
    assert watched.finished > 0 and watched.gave_up
