"""Tests for the semantic diff: two small packs, versions inside one pack, and `regime diff`."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import engine
from cli.main import cli
from engine.tools.pack_diff import (
    Change,
    PackDiff,
    diff_packs,
    diff_snapshots,
    render_text,
    snapshot,
)

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
OLD, NEW = DATA / "diff" / "old.yaml", DATA / "diff" / "new.yaml"
SMALL = DATA / "docs" / "docs_small.yaml"
PMP = ROOT / "policies" / "pmp.yaml"


def load(path: Path) -> engine.model.Pack:
    packs, problems = engine.check_paths([path])
    assert not [p for p in problems if p.is_error], [p.format() for p in problems]
    return next(iter(packs.values()))


def find(d: PackDiff, section: str, item: str) -> Change:
    for c in d.changes:
        if c.section == section and c.id == item:
            return c
    raise AssertionError(f"no change to {section} {item}: {[(c.section, c.id) for c in d.changes]}")


@pytest.fixture(scope="module")
def two_packs() -> PackDiff:
    return diff_packs(load(OLD), load(NEW), old_label="old.yaml", new_label="new.yaml")


def test_rules_added_removed_and_changed_with_expressions(two_packs: PackDiff) -> None:
    added = find(two_packs, "rules", "R-03")
    assert added.kind == "added" and added.after["when"] == "needs_review"
    removed = find(two_packs, "rules", "R-02")
    assert removed.kind == "removed" and removed.before["when"] == "level == 4"
    changed = find(two_packs, "rules", "R-01")
    assert changed.kind == "changed"
    assert changed.fields["when"] == ("at_risk", "at_risk and establishment.regime_level >= 3")
    assert changed.fields["interpretations"] == (None, ["I-01"])


def test_parameter_values_with_their_dates(two_packs: PackDiff) -> None:
    before, after = find(two_packs, "parameters", "session_gap").fields["values"]
    assert [(str(v["from"]), v["to"], v["value"]) for v in before] == [
        ("2020-06-01", None, "14 days")
    ]
    assert [(str(v["from"]), str(v["to"]), v["value"]) for v in after] == [
        ("2020-06-01", "2020-12-31", "14 days"),
        ("2021-01-01", "None", "7 days"),
    ]


def test_tasks_dependencies_interpretations_outputs_and_versions(two_packs: PackDiff) -> None:
    task = find(two_packs, "tasks", "1.2")
    assert task.fields == {"weighting": (3, 2), "autonomy": ("limited", "partial")}
    dep = find(two_packs, "dependencies", "1.1 -> 1.2")
    assert dep.kind == "added" and dep.after == {"kind": "after"}
    interp = find(two_packs, "interpretations", "I-01")
    assert set(interp.fields) == {"choice", "why"}
    assert find(two_packs, "outputs", "level").kind == "removed"
    assert find(two_packs, "outputs", "needs_review").kind == "added"
    assert find(two_packs, "outputs", "at_risk").kind == "changed"
    assert find(two_packs, "versions", "2").kind == "added"
    ended = find(two_packs, "versions", "1").fields
    assert ended == {"effective to": (None, dt.date(2020, 12, 31))}
    assert two_packs.summary() == {"added": 4, "removed": 2, "changed": 7}


def test_text_rendering(two_packs: PackDiff) -> None:
    text = render_text(two_packs)
    assert text.startswith("--- old.yaml\n+++ new.yaml\n")
    assert "  - R-02  Level 4 stops group work" in text
    assert "      when: at_risk -> at_risk and establishment.regime_level >= 3" in text
    assert "        + from: 2021-01-01, to: (none), value: 7 days" in text
    assert text.endswith("4 added, 2 removed, 7 changed\n")


def test_same_pack_has_no_differences() -> None:
    d = diff_packs(load(OLD), load(OLD))
    assert d.changes == ()
    assert "no differences" in render_text(d)


def test_versions_inside_one_pack() -> None:
    pack = load(SMALL)
    d = diff_packs(pack, pack, "1", "2", "small@1", "small@2")
    # SM-03 is in force only in version 1
    assert find(d, "rules", "SM-03").kind == "removed"
    values = find(d, "parameters", "session_gap").fields["values"]
    assert [v["value"] for v in values[0]] == ["14 days"]
    assert [v["value"] for v in values[1]] == ["7 days"]
    meta = find(d, "version", "version").fields
    assert meta["id"] == ("1", "2")
    assert meta["title"] == ("First issue", "Second issue")
    assert meta["interpretations"] == (None, ["I-SM-01"])


def test_unknown_version_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="no version `9`; versions: 1, 2"):
        snapshot(load(SMALL), "9")


def test_pmp_version_1_against_version_2() -> None:
    packs, problems = engine.check_paths([PMP])
    assert "pmp" in packs, [p.format() for p in problems if p.is_error]
    pack = packs["pmp"]
    d = diff_packs(pack, pack, "1", "2")
    in_force = {
        v: {r.id for r in pack.rules if not r.versions or v in r.versions} for v in ("1", "2")
    }
    added = {c.id for c in d.changes if c.section == "rules" and c.kind == "added"}
    removed = {c.id for c in d.changes if c.section == "rules" and c.kind == "removed"}
    assert added == in_force["2"] - in_force["1"]
    assert removed == in_force["1"] - in_force["2"]
    assert find(d, "version", "version").fields["id"] == ("1", "2")


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["diff", *args])
    return result.exit_code, result.output


def test_cli_text_and_json() -> None:
    code, out = run(str(OLD), str(NEW))
    assert code == 0
    assert "rules:" in out and "4 added, 2 removed, 7 changed" in out
    code, out = run(str(OLD), str(NEW), "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["summary"] == {"added": 4, "removed": 2, "changed": 7}
    r01 = next(c for c in data["changes"] if c["id"] == "R-01")
    assert r01["fields"]["when"] == {
        "before": "at_risk",
        "after": "at_risk and establishment.regime_level >= 3",
    }


def test_cli_versions_and_no_differences_exit_zero() -> None:
    code, out = run(f"{SMALL}@1", f"{SMALL}@2")
    assert code == 0 and "- SM-03" in out
    code, out = run(str(OLD), str(OLD))
    assert code == 0 and "no differences" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["nope.yaml", str(NEW)], "no such file `nope.yaml`"),
        ([f"{SMALL}@9", f"{SMALL}@2"], "has no version `9`"),
        ([str(DATA / "diff"), str(NEW)], "is a directory"),
        ([str(ROOT / "tests" / "corpus" / "packs" / "cycle.yaml"), str(NEW)], "does not load"),
    ],
)
def test_cli_bad_input_exits_2(args: list[str], message: str) -> None:
    code, out = run(*args)
    assert code == 2
    assert message in out


VERSIONED = """
id: versioned
title: A pack whose expressions test the version
version: 1.0.0
status: draft
source: {title: Versioned guidance for tests, publisher: regime tests, file: v.txt}
versions:
  - {id: "1", title: First, effective_from: 2020-01-01, effective_to: 2020-12-31,
     changes: [First issue.], cite: {section: A}}
  - {id: "2", title: Second, effective_from: 2021-01-01, effective_to: null,
     changes: [Extra care for people at risk.], cite: {section: A}}
definitions:
  at_risk:
    expr: prisoner.acct == "open"
  extra_care:
    expr: version == "2" and at_risk
  gap:
    expr: if version == "1" then 14 days else 7 days
outputs:
  cared_for:
    value: at_risk and version in ["1", "2"]
rules:
  - id: V-01
    title: Only the first version checks the level
    when: version == "1" and establishment.regime_level == 4
    obligation: {modality: must, text: Check the level.}
    cite: {section: A}
  - id: V-02
    title: Extra care is given
    when: extra_care
    obligation: {modality: must, text: Give extra care., due: as_of + gap}
    cite: {section: A}
  - id: V-03
    title: Sessions for people at risk
    when: at_risk
    obligation:
      modality: must
      text: Hold a session.
      due: 'as_of + (if version == "1" then 14 days else 7 days)'
    cite: {section: A}
"""


@pytest.fixture(scope="module")
def versioned(tmp_path_factory: pytest.TempPathFactory) -> engine.model.Pack:
    path = tmp_path_factory.mktemp("versioned") / "versioned.yaml"
    path.write_text(VERSIONED, encoding="utf-8")
    return load(path)


def test_a_version_diff_shows_what_changes_inside_expressions(versioned: engine.model.Pack) -> None:
    d = diff_packs(versioned, versioned, "1", "2", "v@1", "v@2")
    # the same text, `version == "2" and at_risk`, means `false` in 1 and `at_risk` in 2
    assert find(d, "definitions", "extra_care").fields["expr"] == ("false", "at_risk")
    assert find(d, "definitions", "gap").fields["expr"] == ("14 days", "7 days")
    due = find(d, "rules", "V-03").fields["due"]
    assert due == ("as_of + 14 days", "as_of + 7 days")
    # a condition false in a version: the rule is not in force there, like `versions:`
    assert find(d, "rules", "V-01").kind == "removed"
    assert find(d, "rules", "V-01").before["when"] == "establishment.regime_level == 4"
    # V-02 reads no version itself: the change shows on the definitions it names, which are
    # not put in its place; what reads the version but means the same in both is unchanged
    assert all(c.id not in ("V-02", "cared_for", "at_risk") for c in d.changes)
    text = render_text(d)
    assert "      expr: false -> at_risk" in text
    assert "      due: as_of + 14 days -> as_of + 7 days" in text


def test_a_version_snapshot_specialises_and_a_whole_pack_one_does_not(
    versioned: engine.model.Pack,
) -> None:
    one, two, whole = snapshot(versioned, "1"), snapshot(versioned, "2"), snapshot(versioned)
    assert one["definitions"]["extra_care"]["expr"] == "false"
    assert "V-01" in one["rules"] and "V-01" not in two["rules"]
    assert one["outputs"]["cared_for"]["value"] == two["outputs"]["cared_for"]["value"]
    assert two["outputs"]["cared_for"]["value"] == "at_risk"
    # expressions that do not read the version keep their text as written
    assert one["definitions"]["at_risk"]["expr"] == 'prisoner.acct == "open"'
    # without a version, every expression is shown as written
    assert whole["definitions"]["extra_care"]["expr"] == 'version == "2" and at_risk'
    assert whole["rules"]["V-01"]["when"] == ('version == "1" and establishment.regime_level == 4')
    assert whole["rules"]["V-03"]["due"] == ('as_of + (if version == "1" then 14 days else 7 days)')


GROUPS = {
    "description": "Who the guidance groups together.",
    "values": {
        "a": {"name": "Group A", "description": "The first group."},
        "b": {"name": "Group B", "minimum_age": 12},
        "c": {"name": "Group C"},
    },
}


def test_vocabulary_values_are_listed_one_per_line_with_their_names() -> None:
    after = {
        "description": GROUPS["description"],
        "values": {
            "a": {"name": "Group A", "description": "The first group."},
            "b": {"name": "Group B (older)", "minimum_age": 16},
            "d": {"name": "Group D"},
        },
    }
    d = diff_snapshots(
        {"vocabulary": {"groups": GROUPS, "gone": GROUPS}},
        {"vocabulary": {"groups": after, "new": {"values": {"x": {"name": "X"}}}}},
    )
    text = render_text(d)
    assert (
        "  ~ groups\n"
        "      means: Who the guidance groups together.\n"
        "      values:\n"
        "        ~ b  Group B (older)\n"
        "            name: Group B -> Group B (older)\n"
        "            minimum_age: 12 -> 16\n"
        "        - c  Group C\n"
        "        + d  Group D\n"
    ) in text
    # a whole vocabulary removed or added: each value on its line, its description under it
    assert (
        "  - gone\n"
        "      means: Who the guidance groups together.\n"
        "      values:\n"
        "        - a  Group A\n"
        "            means: The first group.\n"
        "        - b  Group B (minimum_age: 12)\n"
        "        - c  Group C\n"
    ) in text
    assert "  + new\n      values:\n        + x  X\n" in text
    # the data keeps every field, and the vocabulary's description beside the change
    groups = next(c for c in d.to_dict()["changes"] if c["id"] == "groups")
    assert groups["description"] == "Who the guidance groups together."
    assert groups["fields"]["values"]["after"]["b"] == {
        "name": "Group B (older)",
        "minimum_age": 16,
    }


def test_a_changed_item_says_what_it_is_for_unless_that_is_what_changed() -> None:
    old = {
        "definitions": {
            "due": {"expr": "14 days", "description": "How long a review may wait."},
            "gap": {"expr": "7 days", "description": "The gap."},
        }
    }
    new = {
        "definitions": {
            "due": {"expr": "7 days", "description": "How long a review may wait."},
            "gap": {"expr": "7 days", "description": "The longest gap between sessions."},
        }
    }
    d = diff_snapshots(old, new)
    text = render_text(d)
    assert (
        "  ~ due\n      means: How long a review may wait.\n      expr: 14 days -> 7 days\n" in text
    )
    assert "  ~ gap\n      description: The gap. -> The longest gap between sessions.\n" in text
    assert "means: The longest gap" not in text  # shown once, as the change
    due = find(d, "definitions", "due")
    assert due.description == "How long a review may wait." and set(due.fields) == {"expr"}
    assert due.to_dict()["description"] == "How long a review may wait."


def test_descriptions_are_in_the_snapshot_and_a_header_names_a_file_an_id_came_from() -> None:
    snap = snapshot(load(OLD))
    assert snap["parameters"]["session_gap"]["description"] == (
        "The longest gap allowed between two sessions."
    )
    d = diff_packs(load(OLD), load(OLD), old_label="diff_small", new_label="x.yaml@1")
    d = dataclasses.replace(d, old_file="tests/data/diff/old.yaml", new_file="x.yaml")
    assert render_text(d).startswith("--- diff_small  (tests/data/diff/old.yaml)\n+++ x.yaml@1\n")
    assert d.to_dict()["old_file"] == "tests/data/diff/old.yaml"
    assert "old_file" not in diff_packs(load(OLD), load(OLD)).to_dict()


def test_an_outputs_vocabulary_is_compared(tmp_path: Path) -> None:
    """Naming, or no longer naming, the vocabulary an output's values are ids of changes what
    readers are shown and what `regime check` refuses: the diff says so."""
    framework = ROOT / "policies" / "action_plans" / "framework.yaml"
    text = framework.read_text(encoding="utf-8")
    assert "vocabulary: {response: response_category}" in text
    (tmp_path / "schemas").symlink_to(ROOT / "schemas")
    edited = tmp_path / "framework.yaml"
    edited.write_text(
        text.replace("vocabulary: {response: response_category}", "", 1), encoding="utf-8"
    )
    d = diff_packs(load(framework), load(edited))
    (change,) = [c for c in d.changes if c.section == "outputs"]
    assert change.fields["vocabulary"] == ({"response": "response_category"}, None)
