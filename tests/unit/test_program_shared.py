"""The compiled program looks for a name or rule only where it may have been worked out before
its turn, and works out once a rule condition written as an earlier one's: shown on the probe
packs built for it (tests/data/program/shared.yaml, and tables.yaml for a table's rows), whose
decisions test_program compares with the step-by-step evaluator's."""

from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import disk_cache
from engine.api import load
from engine.evaluation import program as program_module
from engine.evaluation.decision import build_decision
from engine.evaluation.evaluate import VALUE_ERRORS, Evaluation, select_version
from engine.evaluation.program import Program
from engine.language.runtime import EXACT
from engine.packs.facts_schema import prepare
from engine.problems import FactsError
from engine.tools.population import Population
from tests.unit.test_program import interpreted, outcome

ROOT = Path(__file__).resolve().parents[2]
PACK = load(ROOT / "tests" / "data" / "program")["program_shared"]
ROOTS = ("prisoner", "establishment")


def source(monkeypatch: pytest.MonkeyPatch, day: dt.date, custodial: bool) -> str:
    """The straight run's source as the program writes it in line."""
    seen: list[str] = []
    made = disk_cache.compiled

    def keep(text: str, filename: str) -> Any:
        seen.append(text)
        return made(text, filename)

    monkeypatch.setattr(program_module.disk_cache, "compiled", keep)
    monkeypatch.setattr(program_module, "INLINE_AFTER", 0)
    Program(PACK, select_version(PACK, day, None), custodial)
    (text,) = seen
    return text


@pytest.mark.parametrize("custodial", [True, False])
def test_only_names_read_before_their_turn_are_looked_for(
    monkeypatch: pytest.MonkeyPatch, custodial: bool
) -> None:
    text = source(monkeypatch, dt.date(2022, 6, 1), custodial)
    # read (through `ahead_out`) by the definition before them
    for name in ("ahead_out", "behind", "high_risk"):
        assert f"if {name!r} not in m:" in text, name
    # read only by items after them, or by nothing
    for name in ("reads_ahead", "per_session", "read_by_none", "kept", "picked"):
        assert f"if {name!r} not in m:" not in text, name


@pytest.mark.parametrize("custodial", [True, False])
def test_rules_one_output_reads_are_not_looked_for(
    monkeypatch: pytest.MonkeyPatch, custodial: bool
) -> None:
    text = source(monkeypatch, dt.date(2022, 6, 1), custodial)
    # read by one output keeping every value: worked out there, left out at their turn
    for rid in ("R-RISK", "R-OPEN"):
        assert f"rr.get({rid!r}" not in text and f"if {rid!r} not in rr:" not in text
    # read by one output that may stop early: looked for at their turn only
    for rid in ("R-PICK-1", "R-PICK-2", "R-ANY"):
        assert f"rr.get({rid!r}" not in text and f"if {rid!r} not in rr:" in text
    # read by two outputs: looked for in each
    assert "rr.get('R-TWICE'" in text and "if 'R-TWICE' not in rr:" in text
    # an output reading a healthcare-only rule catches a custodial audience's errors around
    # it, so the rule is looked for again at its turn
    assert ("if 'R-CLINICAL' not in rr:" in text) is custodial


@pytest.mark.parametrize("day", [dt.date(2021, 6, 1), dt.date(2022, 6, 1)])
@pytest.mark.parametrize("custodial", [True, False])
def test_a_condition_written_again_takes_the_first_rules_result(
    monkeypatch: pytest.MonkeyPatch, custodial: bool, day: dt.date
) -> None:
    text = source(monkeypatch, day, custodial)
    assert "rr['R-SAME-RISK'] = rr['R-RISK']" in text  # (R-RISK: worked out early)
    assert "= rr['R-ANY']\n" in text and "= rr['R-FAILS']\n" in text
    assert "= rr['R-CLINICAL']\n" in text
    # not in force in version 1: false, whatever the condition
    assert ("rr['R-SAME-RISK-2'] = rr['R-RISK']" in text) is (day.year == 2022)
    # a name alone is as quick to read again as a rule's result
    assert "rr['R-NAME']\n    rr['R-NAME-AGAIN']" not in text


@pytest.mark.parametrize("pack_id", ["program_shared", "program_combine"])
@pytest.mark.parametrize("audience", ["custodial", "healthcare"])
def test_outputs_of_many_rules_work_their_rules_out_as_the_evaluator(
    monkeypatch: pytest.MonkeyPatch, pack_id: str, audience: str
) -> None:
    """With parts of two items, an output set by more than two rules is worked out by its
    work (reading each rule's result, or working it out, by its own lookup), between the
    straight run's functions: the same decisions and errors as the evaluator's."""
    pack = load(ROOT / "tests" / "data" / "program")[pack_id]
    monkeypatch.setattr(program_module, "_PART", 2)
    monkeypatch.setattr(program_module, "INLINE_AFTER", 0)
    custodial = audience != "healthcare"
    programs: dict[str, Program] = {}
    decided = 0
    for n, (_, day, facts) in enumerate(
        Population(seed=29, schema=pack.facts).documents(80, ROOTS)
    ):
        want = outcome(interpreted, pack, facts, day, audience)
        version = select_version(pack, day, None)
        found = programs.get(version.id)
        if found is None:
            found = programs[version.id] = Program(pack, version, custodial)
        got = outcome(decided_by, found, facts, day, audience)
        if isinstance(want, tuple) or isinstance(got, tuple):
            assert got == want, f"document {n}"
            continue
        decided += 1
        assert got.to_dict() == want.to_dict(), f"document {n}"
    assert decided > 20


def decided_by(found: Program, facts: dict[str, Any], day: dt.date, audience: str) -> Any:
    """The decision of this program (its expressions written in line from the start)."""
    prepared = prepare(facts, "<facts>", found.pack.facts, found.custodial)
    with decimal.localcontext(EXACT):
        return build_decision(found.run(prepared, day), audience, found.pack.facts)


KEYWORK = load(ROOT / "policies")["keywork_edm"]
# one table read by four outputs, one by two of which a definition reads the first before its turn
TABLES = load(ROOT / "tests" / "data" / "program")["program_tables"]
DAY = dt.date(2020, 7, 1)


def in_line(custodial: bool, two_valued: bool, pack: Any = KEYWORK) -> Program:
    """`pack`'s program (key work's unless another is given) written in line from its first run
    (two-valued form tried first, or the three-valued form alone)."""
    found = Program(pack, select_version(pack, DAY, None), custodial, two_valued)
    found._run = found._straight(inline=True)
    found.inlined = True
    return found


@pytest.mark.parametrize("custodial", [True, False])
def test_a_tables_rows_are_read_again_from_a_local(custodial: bool) -> None:
    seen: list[str] = []
    made = disk_cache.compiled

    def keep(text: str, filename: str) -> Any:
        seen.append(text)
        return made(text, filename)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(program_module.disk_cache, "compiled", keep)
        found = in_line(custodial, True, TABLES)
        found._known(found._run[1])
    assert len(seen) == 3  # calling the expressions, then in line: three-valued, two-valued
    for text, lookups in zip(seen[1:], (3, 2), strict=True):
        lines = text[text.index("def _part0(") :].splitlines()
        # `guidance`'s rows (read by four outputs, at their turns): looked up by the
        # first block, read from its local by the three after it; `delivery`'s looked up by
        # both its blocks in the three-valued form (the first, looked for first, may not
        # run), by its first alone in the two-valued form (each name worked out after every
        # name it reads, so none is looked for first), the second reading its local
        assert sum(ln.strip().startswith("_rows = m.get(") for ln in lines) == lookups
        reads = [i for i, ln in enumerate(lines) if ln.strip().startswith("_rows = _n")]
        assert len(reads) == 6 - lookups
        for i in reads:
            local = lines[i].strip().removeprefix("_rows = ")
            assert f"    {local} = _rows" in lines[:i]  # set before, at the function's level


PROGRAMS = {(c, two): in_line(c, two) for c in (True, False) for two in (True, False)}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    day=st.dates(DAY, dt.date(2024, 12, 31)),  # (one version in force from before DAY)
    custodial=st.booleans(),
    two_valued=st.booleans(),
)
def test_a_key_work_program_leaves_the_evaluators_state(
    seed: int, day: dt.date, custodial: bool, two_valued: bool
) -> None:
    (_, _, facts) = next(Population(seed=seed, schema=KEYWORK.facts).documents(1, ROOTS))
    try:
        prepared = prepare(facts, "<facts>", KEYWORK.facts, custodial)
    except FactsError:
        return
    ev = Evaluation(KEYWORK, prepared, day, custodial, record=False)
    with decimal.localcontext(EXACT):
        try:
            ev.run()
        except VALUE_ERRORS:
            return
        fast = PROGRAMS[custodial, two_valued].run(prepared, day)
    assert dict(fast.memo) == ev.memo
    assert dict(fast.rule_results) == ev.rule_results
    assert list(fast.memo) == list(ev.memo)
