"""Items two packs open to local plans as one thing (`shared:` in a pack's `local:` block): the
declaration names a pack and an item that are there, and two active plans of one
establishment in force together agree on each such item (E-LOCAL-SHARED, E-LOCAL-DISAGREE)."""

from __future__ import annotations

from pathlib import Path

import engine
import engine.api
from engine.problems import Problem

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"
NATIONAL = [POLICIES / "keywork_edm.yaml", POLICIES / "omu_edm.yaml"]
CODES = ("E-LOCAL-DISAGREE", "E-LOCAL-SHARED")


def _plan(name: str, *changes: tuple[str, str]) -> str:
    """An example plan's text with each (old, new) replaced once (each must be there)."""
    text = (POLICIES / "local" / name).read_text(encoding="utf-8")
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def _check(tmp_path: Path, plans: dict[str, str]) -> list[Problem]:
    """The national packs and the given plans (path under `local/` -> text), checked
    together; only the problems of shared items."""
    files = []
    for name, text in plans.items():
        path = tmp_path / "local" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        files.append(path)
    _, problems = engine.check_paths([*NATIONAL, *files])
    assert not [p for p in problems if p.is_error and p.code not in CODES], problems
    return [p for p in problems if p.code in CODES]


def _leeds(tmp_path: Path, keywork: str | None = None, omu: str | None = None) -> list[Problem]:
    return _check(
        tmp_path,
        {
            "lei/keywork_edm.yaml": keywork or _plan("lei/keywork_edm.yaml"),
            "lei/omu_edm.yaml": omu or _plan("lei/omu_edm.yaml"),
        },
    )


SIX = (
    "keywork_high_rosh_period:\n    value: 6 weeks",
    "keywork_high_rosh_period:\n    value: 8 weeks",
)


def test_the_example_plans_agree() -> None:
    _, problems = engine.check_paths([POLICIES])
    assert not [p for p in problems if p.code in CODES]


def test_the_omu_pack_declares_the_key_work_items_it_shares() -> None:
    omu = engine.load(*NATIONAL).packs["omu_edm"]
    assert {(s.kind, s.name, s.pack, s.other) for s in omu.shared} == {
        ("parameter", "keywork_high_rosh_period", "keywork_edm", "high_rosh_pre_release_period"),
        ("parameter", "keywork_extremist_period", "keywork_edm", "extremist_pre_release_period"),
        ("group", "keywork_priority_prisoner", "keywork_edm", "added_by_governor"),
    }
    assert all(s.interpretations == ("I-OMU-42",) and s.cites for s in omu.shared)


def test_a_leeds_plan_changing_the_shared_period_is_an_error_at_the_second_plan(
    tmp_path: Path,
) -> None:
    (found,) = _leeds(tmp_path, omu=_plan("lei/omu_edm.yaml", SIX))
    keywork, omu = tmp_path / "local" / "lei" / "keywork_edm.yaml", tmp_path / "local" / "lei"
    assert found.is_error and found.code == "E-LOCAL-DISAGREE"
    assert (found.file, found.line, found.col) == (str(omu / "omu_edm.yaml"), 33, 3)
    assert found.message == (
        "`keywork_high_rosh_period` is `8 weeks` here but `high_rosh_pre_release_period` is "
        f"`6 weeks` in {keywork}:43:3 from 2020-07-06, while both plans of LEI are in force: "
        "pack `omu_edm` declares the two the same (I-OMU-42)"
    )
    assert found.hint is not None and str(keywork) in found.hint


def test_the_key_work_plan_changing_it_is_reported_at_the_omu_plan_too(tmp_path: Path) -> None:
    keywork = _plan("lei/keywork_edm.yaml", ("value: 6 weeks", "value: 7 weeks"))
    (found,) = _leeds(tmp_path, keywork=keywork)
    assert found.file.endswith("omu_edm.yaml") and found.line == 33
    assert "`6 weeks` here" in found.message and "`7 weeks` in " in found.message
    assert "keywork_edm.yaml:43:3" in found.message


def test_a_period_one_plan_leaves_unset_is_compared_at_its_national_value(
    tmp_path: Path,
) -> None:
    omu = _plan(
        "lei/omu_edm.yaml",
        ("parameters:\n  keywork_high_rosh_period:\n    value: 6 weeks\n", ""),
        (
            "    note: The same six weeks as the Leeds key work plan, so both plans count the same "
            "prisoners as key work priority prisoners.\n",
            "",
        ),
    )
    (found,) = _leeds(tmp_path, omu=omu)
    # the key work plan alone sets it: said there, the OMU plan named with its national value
    assert found.file.endswith("keywork_edm.yaml") and (found.line, found.col) == (43, 3)
    assert "`6 weeks` here" in found.message
    assert "is `4 weeks` in " in found.message
    assert "omu_edm.yaml, which leaves it at the national value," in found.message


def test_a_group_condition_one_plan_lacks_is_an_error_at_that_condition(tmp_path: Path) -> None:
    omu = _plan(
        "lei/omu_edm.yaml",
        ('when: prisoner.acct == "post_closure"', 'when: prisoner.acct == "open"'),
    )
    (found,) = _leeds(tmp_path, omu=omu)
    assert found.code == "E-LOCAL-DISAGREE" and found.file.endswith("omu_edm.yaml")
    assert (found.line, found.col) == (67, 11)
    assert found.message.startswith(
        'group `keywork_priority_prisoner` gains `prisoner.acct == "open"` (rule `LEI-OMU-02`, '
        '67:11) here but `added_by_governor` gains `prisoner.acct == "post_closure"` (rule '
        "`LEI-KW-01`, 51:11) in "
    )
    assert "both plans of LEI are in force (from 2020-07-06)" in found.message


def test_a_group_condition_written_differently_but_parsed_alike_agrees(tmp_path: Path) -> None:
    omu = _plan(
        "lei/omu_edm.yaml",
        ('when: prisoner.acct == "post_closure"', "when: (prisoner.acct  ==  'post_closure')"),
    )
    assert _leeds(tmp_path, omu=omu) == []


def test_a_group_condition_written_in_other_logic_but_equal_agrees(tmp_path: Path) -> None:
    keywork = _plan(
        "lei/keywork_edm.yaml",
        (
            'when: prisoner.acct == "post_closure"',
            'when: prisoner.acct == "post_closure"'
            ' and (prisoner.acct == "post_closure" or prisoner.acct == "open")',
        ),
    )
    omu = _plan(
        "lei/omu_edm.yaml",
        (
            'when: prisoner.acct == "post_closure"',
            'when: not not (prisoner.acct == "post_closure")',
        ),
    )
    assert _leeds(tmp_path, keywork=keywork, omu=omu) == []


def test_a_group_condition_that_decides_otherwise_says_where(tmp_path: Path) -> None:
    omu = _plan(
        "lei/omu_edm.yaml",
        (
            'when: prisoner.acct == "post_closure"',
            'when: prisoner.acct == "post_closure" or prisoner.acct == "open"',
        ),
    )
    (found,) = _leeds(tmp_path, omu=omu)
    assert found.file.endswith("omu_edm.yaml") and (found.line, found.col) == (67, 11)
    assert found.message.endswith(
        '; where `prisoner.acct == "post_closure"` is false, `prisoner.acct == "open"` is '
        "true, the person is in the group under this plan but not in it under the other"
    )
    assert "compared by their logic" in found.hint


def test_plans_of_different_establishments_are_not_compared(tmp_path: Path) -> None:
    # an OMU plan at 8 weeks for another establishment: Leeds's key work plan (6 weeks) and
    # Send's (the national 4) say nothing about it
    omu = _plan(
        "lei/omu_edm.yaml",
        SIX,
        ("code: LEI", "code: XYZ"),
        ('when: prisoner.acct == "post_closure"', "when: false"),
    )
    found = _check(
        tmp_path,
        {
            "lei/keywork_edm.yaml": _plan("lei/keywork_edm.yaml"),
            "xyz/omu_edm.yaml": omu,
            "sdi/keywork_edm.yaml": _plan("sdi/keywork_edm.yaml"),
            "sdi/omu_edm.yaml": _plan("sdi/omu_edm.yaml"),
        },
    )
    assert found == []


def test_plans_whose_dates_do_not_overlap_are_not_compared(tmp_path: Path) -> None:
    keywork = _plan("lei/keywork_edm.yaml", ("effective_to: null", "effective_to: 2020-12-31"))
    later = ("effective_from: 2020-07-06", "effective_from: 2021-01-01")
    assert _leeds(tmp_path, keywork=keywork, omu=_plan("lei/omu_edm.yaml", SIX, later)) == []
    # one day in force together is enough
    (found,) = _leeds(
        tmp_path,
        keywork=keywork,
        omu=_plan(
            "lei/omu_edm.yaml", SIX, ("effective_from: 2020-07-06", "effective_from: 2020-12-31")
        ),
    )
    assert "from 2020-12-31, while both plans" in found.message


def test_a_draft_plan_is_not_compared(tmp_path: Path) -> None:
    omu = _plan("lei/omu_edm.yaml", SIX, ("status: active", "status: draft"))
    assert _leeds(tmp_path, omu=omu) == []


def _alone(tmp_path: Path, checked: str, beside: dict[str, str]) -> list[Problem]:
    """Leeds's plans written to `tmp_path/local/lei/`, one of them (`checked`) checked alone
    with the national packs; only the problems of shared items."""
    folder = tmp_path / "local" / "lei"
    folder.mkdir(parents=True)
    for name, text in beside.items():
        (folder / name).write_text(text, encoding="utf-8")
    _, problems = engine.check_paths([*NATIONAL, folder / checked])
    return [p for p in problems if p.code in CODES]


def test_a_plan_checked_alone_is_held_to_the_plans_beside_it(tmp_path: Path) -> None:
    """A policy lead checking only the plan they edit still hears that it now disagrees with
    their establishment's other plan, said at the plan they checked."""
    plans = {
        "keywork_edm.yaml": _plan("lei/keywork_edm.yaml", ("value: 6 weeks", "value: 7 weeks")),
        "omu_edm.yaml": _plan("lei/omu_edm.yaml"),
    }
    (found,) = _alone(tmp_path, "keywork_edm.yaml", plans)
    folder = tmp_path / "local" / "lei"
    assert found.is_error and found.code == "E-LOCAL-DISAGREE"
    assert (found.file, found.line, found.col) == (str(folder / "keywork_edm.yaml"), 43, 3)
    assert "`7 weeks` here" in found.message and f"{folder / 'omu_edm.yaml'}:33:3" in found.message
    # checked the other way round, it is said at the other plan, the one checked then
    (found,) = _alone(tmp_path / "again", "omu_edm.yaml", plans)
    assert found.file.endswith("omu_edm.yaml") and found.line == 33


def test_plans_beside_the_one_checked_are_not_compared_with_each_other(tmp_path: Path) -> None:
    """The plans beside are there to compare the checked one with: their own disagreements,
    and their other problems, are for when they are checked."""
    plans = {
        "keywork_edm.yaml": _plan("lei/keywork_edm.yaml", ("value: 6 weeks", "value: 7 weeks")),
        "omu_edm.yaml": _plan("lei/omu_edm.yaml"),
        "broken.yaml": _plan("lei/omu_edm.yaml", ("code: LEI", "code: 12")),
    }
    folder = tmp_path / "local" / "lei"
    folder.mkdir(parents=True)
    for name, text in plans.items():
        (folder / name).write_text(text, encoding="utf-8")
    # a second key work plan, agreeing with the OMU plan, checked alone: the key work plan at
    # 7 weeks disagrees with the OMU plan beside it, and `broken.yaml` has an error, but
    # neither is the checked plan's problem
    checked = folder / "checked.yaml"
    checked.write_text(_plan("lei/keywork_edm.yaml"), encoding="utf-8")
    _, problems = engine.check_paths([*NATIONAL, checked])
    assert [p for p in problems if p.is_error] == []
    # checked with them, both are found
    _, problems = engine.check_paths([*NATIONAL, folder])
    codes = sorted({p.code for p in problems if p.is_error})
    assert "E-LOCAL-DISAGREE" in codes and len(codes) >= 2, codes


PACK = """\
# yaml-language-server: $schema=../../schemas/pack.schema.json
id: {id}
title: A pack
version: 0.1.0
status: draft
source: {{title: Test}}
parameters:
  period:
    values:
      - {{from: 2020-01-01, to: null, value: {value}, cite: {{section: A}}}}
versions:
  - {{id: "1", effective_from: 2020-01-01, effective_to: null}}
outputs:
  length: {{value: period}}
local:
  description: A plan may lengthen the period.
  parameters:
    period:
      at_least: true
      cite: {{section: A}}
"""


def _sharing(value: str, pack: str) -> str:
    """Pack `second`, its parameter `period` at `value`, declared shared with `pack`'s."""
    return (
        PACK.format(id="second", value=value)
        + f"      shared: {{pack: {pack}, parameter: period}}\n"
    )


def _packs(tmp_path: Path, first: str, second: str) -> list[Problem]:
    (tmp_path / "first.yaml").write_text(first, encoding="utf-8")
    (tmp_path / "second.yaml").write_text(second, encoding="utf-8")
    return engine.check_paths([tmp_path])[1]


def test_a_declaration_naming_no_pack_is_an_error_at_the_pack_id(tmp_path: Path) -> None:
    second = _sharing("4 weeks", "frist")
    (found,) = _packs(tmp_path, PACK.format(id="first", value="4 weeks"), second)
    assert (found.code, found.line, found.col) == ("E-LOCAL-SHARED", 21, 22)
    assert "pack `frist`, which is neither among the packs checked" in found.message
    assert found.hint == "did you mean `first`?"


def test_a_pack_checked_alone_finds_the_pack_it_shares_with_beside_it(tmp_path: Path) -> None:
    second = _sharing("4 weeks", "first")
    assert _packs(tmp_path, PACK.format(id="first", value="4 weeks"), second) == []
    _, problems = engine.check_paths([tmp_path / "second.yaml"])
    assert problems == []
    (tmp_path / "first.yaml").unlink()
    engine.api._LOADED.clear()  # kept by the files checked: the one beside is not among them
    _, problems = engine.check_paths([tmp_path / "second.yaml"])
    assert [p.code for p in problems] == ["E-LOCAL-SHARED"]


def test_shared_national_values_that_differ_are_an_error(tmp_path: Path) -> None:
    second = _sharing("5 weeks", "first")
    (found,) = _packs(tmp_path, PACK.format(id="first", value="4 weeks"), second)
    assert (found.code, found.line, found.col) == ("E-LOCAL-SHARED", 21, 40)
    assert found.message == (
        "parameter `period` is declared shared with `period` of pack `first`, but their "
        "national values differ on 2020-01-01: `5 weeks` here, `4 weeks` there"
    )


def test_both_packs_declaring_it_give_one_disagreement(tmp_path: Path) -> None:
    first = (
        PACK.format(id="first", value="4 weeks")
        + "      shared: {pack: second, parameter: period}\n"
    )
    second = _sharing("4 weeks", "first")
    plan = """\
# yaml-language-server: $schema=../../schemas/overlay.schema.json
extends: {{pack: {pack}, version: "1"}}
establishment: {{code: LEI, name: HMP Leeds}}
title: A plan
version: 0.1.0
status: active
effective_from: 2020-07-06
parameters:
  period: {{value: {value}}}
"""
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "a.yaml").write_text(plan.format(pack="first", value="5 weeks"))
    (tmp_path / "plans" / "b.yaml").write_text(plan.format(pack="second", value="6 weeks"))
    found = _packs(tmp_path, first, second)
    assert [(p.code, Path(p.file).name, p.line) for p in found] == [
        ("E-LOCAL-DISAGREE", "b.yaml", 9)
    ]
    assert "pack `first` declares the two the same" in found[0].message
