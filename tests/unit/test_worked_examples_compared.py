"""The worked examples compare only part of a decision: that part equals `to_dict()`'s."""

from __future__ import annotations

from pathlib import Path

import pytest

import engine
from engine.tools import worked_examples as W

POLICIES = Path(__file__).resolve().parents[2] / "policies"


def test_the_compared_part_of_every_case_decision_is_to_dicts() -> None:
    packs = engine.load(POLICIES)
    cases, problems = W.read_cases(W.test_files([POLICIES]), packs)
    assert not problems and len(cases) > 200
    decided = 0
    for case in cases:
        result = W.run_case(case, packs)
        assert result.passed, (case.name, result.failures)
        if result.decision is None:
            continue
        decided += 1
        full = result.decision.to_dict()
        part = W._compared(result.decision)
        assert part == {
            "status": full["status"],
            "outputs": full["outputs"],
            "obligations": [
                {f: o[f] for f in ("rule", *W.OBLIGATION_FIELDS)} for o in full["obligations"]
            ],
            "interpretations": [{"id": i["id"]} for i in full["interpretations"]],
            "missing_facts": full["missing_facts"],
            "withheld": full["withheld"],
            "undetermined": full["undetermined"],
        }, case.name
    assert decided > 200


def test_a_case_file_read_back_gives_the_same_cases(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cases from the disk cache: the same data and lines as read afresh."""
    from engine import disk_cache

    files = W.test_files([POLICIES])
    monkeypatch.setenv(disk_cache.ENV, "off")
    fresh = W.read_cases(files, {})
    monkeypatch.setenv(disk_cache.ENV, str(tmp_path))
    assert W.read_cases(files, {}) == fresh
    assert len(list((tmp_path / "cases").glob("*.pickle"))) == len(files)
    assert W.read_cases(files, {}) == fresh


CASE = """\
pack: keywork_edm
cases:
  - name: a priority prisoner at level 3
    as_of: 2020-07-20
    facts:
      establishment: {regime_level: 3, keywork_model: weekly}
      prisoner: {prison_number: A1234BC, acct: open}
    expect:
      obligations:
        - KW-WB-01
        - {rule: KW-WB-01, modality: must, who: staff, due: null, frequency: {count: 1, per: day}}
        - {rule: KW-L32-02, frequency: {count: 1, per: week}}
"""


def _failures(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "case.yaml").write_text(text, encoding="utf-8")
    packs = engine.load(POLICIES)
    cases, problems = W.read_cases([tmp_path / "case.yaml"], packs)
    assert not problems, problems
    (result,) = [W.run_case(c, packs) for c in cases]
    return result.failures


def test_an_obligation_expected_with_its_fields_passes_when_each_field_agrees(
    tmp_path: Path,
) -> None:
    assert _failures(tmp_path, CASE) == []


@pytest.mark.parametrize(
    ("field", "wrong", "said"),
    [
        ("modality: must", "modality: should", 'modality: expected "should", got "must"'),
        ("who: staff", "who: key worker", 'who: expected "key worker", got "staff"'),
        ("due: null", "due: 2020-07-21", 'due: expected "2020-07-21", got null'),
        (
            "frequency: {count: 1, per: day}",
            "frequency: {count: 2, per: day}",
            'frequency: expected {"count": 2, "per": "day"}, got {"count": 1, "per": "day"}',
        ),
    ],
)
def test_an_obligation_field_that_disagrees_fails_the_case_naming_it(
    tmp_path: Path, field: str, wrong: str, said: str
) -> None:
    failures = _failures(tmp_path, CASE.replace(field, wrong, 1))
    assert failures == [f"obligation `KW-WB-01`: {said}"]


def test_a_misspelt_obligation_field_is_a_problem_in_the_case_file(tmp_path: Path) -> None:
    (tmp_path / "case.yaml").write_text(CASE.replace("modality: must", "modal: must"), "utf-8")
    _, problems = W.read_cases([tmp_path / "case.yaml"], engine.load(POLICIES))
    assert problems and all(p.file.endswith("case.yaml") for p in problems)
    assert any(p.line == 11 for p in problems), [p.format() for p in problems]


# A key work decision with no release date, ACCT or risk facts: whether the prisoner is a
# priority is open, so is the level 4 session rule that follows from it; the rules that hold
# whatever the priority (planning, recording) are decided.
OPEN = """\
pack: keywork_edm
cases:
  - name: nothing known of the priority groups at level 4
    as_of: 2020-07-01
    facts:
      establishment: {regime_level: 4, keywork_model: weekly}
      prisoner: {prison_number: A1234BC}
    expect:
      status: undetermined
      undetermined: [is_priority, KW-L4-01]
      decided: [KW-REC-01]
      not_obligations: [KW-L4-01]
"""


def test_undetermined_and_decided_names_pass_when_the_decision_says_so(tmp_path: Path) -> None:
    assert _failures(tmp_path, OPEN) == []


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        (
            "decided: [KW-REC-01]",
            "decided: [KW-L4-01]",
            "`KW-L4-01` expected decided, but it is undetermined (needs ",
        ),
        (
            "undetermined: [is_priority, KW-L4-01]",
            "undetermined: [is_priority, KW-REC-01]",
            "`KW-REC-01` expected undetermined, but it is decided (undetermined: ",
        ),
    ],
)
def test_a_name_on_the_wrong_side_fails_the_case_naming_it(
    tmp_path: Path, old: str, new: str, said: str
) -> None:
    (failure,) = _failures(tmp_path, OPEN.replace(old, new))
    assert failure.startswith(said), failure


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("decided: [KW-REC-01]", "decided: [KW-REC-O1]"),
        ("undetermined: [is_priority, KW-L4-01]", "undetermined: [is_priorty, KW-L4-01]"),
    ],
)
def test_a_name_the_pack_lacks_is_an_error_in_the_case(tmp_path: Path, old: str, new: str) -> None:
    (tmp_path / "case.yaml").write_text(OPEN.replace(old, new), encoding="utf-8")
    packs = engine.load(POLICIES)
    cases, _ = W.read_cases([tmp_path / "case.yaml"], packs)
    (result,) = [W.run_case(c, packs) for c in cases]
    assert result.errored
    wrong = new.split("[")[1].split(",")[0].rstrip("]")
    meant = old.split("[")[1].split(",")[0].rstrip("]")
    said = f"no rule or output `{wrong}` in pack `keywork_edm`; did you mean `{meant}`?"
    assert said in result.failures


def test_a_rule_the_pack_lacks_under_not_obligations_is_an_error_in_the_case(
    tmp_path: Path,
) -> None:
    """Else a misspelt rule id would pass for ever: no rule by that name ever applies."""
    failures = _failures(
        tmp_path, OPEN.replace("not_obligations: [KW-L4-01]", "not_obligations: [KW-L4-1]")
    )
    assert failures == [
        "no rule or output `KW-L4-1` in pack `keywork_edm`; did you mean `KW-L4-01`?"
    ]
