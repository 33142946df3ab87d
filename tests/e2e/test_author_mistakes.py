"""Mistakes a policy team makes writing its first pack from the docs, each as the author meets
it: what `regime check`, `test` and `eval` print must say where, what is wrong in the author's
terms, and how to fix it, with no traceback. The pack is the docs' own example of a pack with
its own facts schema (examples/custom_pack), copied and broken one way per test."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.e2e.test_cli import ROOT, no_traceback, regime

CASE = """pack: {pack}
cases:
  - name: one visit in March leaves one owed
    as_of: 2024-03-15
    facts_file: ../facts.json
    expect:
      outputs: {{visits_this_month: 1}}
      obligations: [V-01]
"""


def _pack(tmp_path: Path, pack_id: str = "visits") -> Path:
    """The example pack in a folder of its own, with one worked example naming `pack_id`."""
    folder = tmp_path / "visits"
    shutil.copytree(ROOT / "examples" / "custom_pack", folder)
    (folder / "tests").mkdir()
    (folder / "tests" / "visits.yaml").write_text(CASE.format(pack=pack_id), encoding="utf-8")
    return folder


def test_the_example_pack_and_its_worked_example_pass(tmp_path: Path) -> None:
    folder = _pack(tmp_path)
    result = regime("check", str(folder))
    assert result.returncode == 0, result.stdout
    assert regime("test", str(folder)).stdout.strip().endswith("1 passed, 0 failed")


def test_worked_examples_naming_a_misspelt_pack_are_an_error_at_their_pack_line(
    tmp_path: Path,
) -> None:
    folder = _pack(tmp_path, "visit")
    result = regime("check", str(folder))
    no_traceback(result)
    assert result.returncode == 1, result.stdout
    first = result.stdout.splitlines()[0]
    assert first.endswith(
        "tests/visits.yaml:1:7: error: the worked examples name pack `visit`, which no pack "
        "checked defines, so none of them ran [E-TEST]"
    ), first
    assert "  hint: did you mean `visits`?" in result.stdout
    tested = regime("test", str(folder))
    assert tested.returncode == 1
    assert "no pack `visit`; did you mean `visits`?" in tested.stdout


def test_an_empty_pack_file_is_reported_not_passed_over(tmp_path: Path) -> None:
    folder = _pack(tmp_path)
    (folder / "visits.yaml").write_text("# yaml-language-server: $schema=x\n\n", encoding="utf-8")
    result = regime("check", str(folder))
    no_traceback(result)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.splitlines()[0].endswith(
        "visits.yaml:1:1: error: the file holds no pack (it is empty or only comments); a pack "
        "must be a mapping with `id`, `title`, `versions`... [E-SCHEMA]"
    ), result.stdout
    assert "run against the packs in `policies`" not in result.stderr


def test_a_failed_expectation_is_shown_as_the_case_writes_it(tmp_path: Path) -> None:
    folder = _pack(tmp_path)
    case = folder / "tests" / "visits.yaml"
    text = case.read_text(encoding="utf-8")
    text = text.replace("{visits_this_month: 1}", "{visits_this_mnth: 1, entitlement_met: null}")
    case.write_text(text + "      missing_facts: [person.visits]\n", encoding="utf-8")
    result = regime("test", str(folder))
    no_traceback(result)
    assert result.returncode == 1
    assert "output `visits_this_mnth`: no such output; did you mean `visits_this_month`?" in (
        result.stdout
    ), result.stdout
    assert "output `entitlement_met`: expected null, got false" in result.stdout
    assert 'missing facts: expected ["person.visits"], got []' in result.stdout


def test_a_number_written_as_text_in_facts_is_one_problem_saying_to_unquote_it(
    tmp_path: Path,
) -> None:
    folder = _pack(tmp_path)
    facts = tmp_path / "facts.yaml"
    facts.write_text('person: {entitlement_per_month: "2"}\n', encoding="utf-8")
    result = regime("eval", "visits", "--packs", str(folder), "--facts", str(facts))
    no_traceback(result)
    assert result.returncode == 2
    assert result.stdout.splitlines()[0].endswith(
        "facts.yaml:1:33: error: `$.person.entitlement_per_month`: expected an integer or null "
        '(got the text `"2"`) [E-FACTS]'
    ), result.stdout
    assert "  hint: write it without quotes: `2`" in result.stdout
    assert result.stdout.count("[E-FACTS]") == 1
    assert "schemas/facts/" not in result.stderr


def test_a_key_indented_less_than_the_next_says_which_lines_disagree(tmp_path: Path) -> None:
    folder = _pack(tmp_path)
    pack = folder / "visits.yaml"
    text = pack.read_text(encoding="utf-8")
    pack.write_text(text.replace("definitions:\n", "definitions:\n owed: 1\n"), "utf-8")
    result = regime("check", str(folder))
    no_traceback(result)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].endswith(":17:13: error: mapping values are not allowed here [E-YAML]"), lines
    assert lines[3] == (
        "  hint: line 17 is indented 2 spaces, line 16 1: keys of one mapping start in the same "
        "column"
    ), lines


def test_a_pack_or_worked_examples_given_as_facts_is_named_as_what_it_is(tmp_path: Path) -> None:
    folder = _pack(tmp_path)
    for given, said in (
        (folder / "visits.yaml", "is a pack, not a facts document"),
        (folder / "tests" / "visits.yaml", "is a file of worked examples, not a facts document"),
    ):
        result = regime("eval", "visits", "--packs", str(folder), "--facts", str(given))
        no_traceback(result)
        assert result.returncode == 2
        assert result.stdout == "", result.stdout  # not one `unknown field` per key
        assert result.stderr.startswith(f"error: `{given}` {said}"), result.stderr


def test_facts_a_case_gets_wrong_are_one_line_of_its_failure(tmp_path: Path) -> None:
    folder = _pack(tmp_path)
    case = folder / "tests" / "visits.yaml"
    text = case.read_text(encoding="utf-8")
    case.write_text(text.replace("facts_file: ../facts.json", "facts: {persn: {}}"), "utf-8")
    result = regime("test", str(folder))
    no_traceback(result)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("FAIL "), lines
    assert lines[1].endswith(
        "tests/visits.yaml:5:13: error: `$`: unknown field `persn` [E-FACTS] (hint: did you mean "
        "`person`?)"
    ), lines
    assert lines[2].startswith("coverage "), lines


def test_an_unknown_fact_stands_at_its_key_in_yaml_and_json(tmp_path: Path) -> None:
    folder = _pack(tmp_path)
    for name, text, place in (
        ("facts.yaml", "person: {entitlement_per_month: 2, vists: []}\n", "1:36"),
        ("facts.json", '{"person": {"entitlement_per_month": 2, "vists": []}}', "1:41"),
    ):
        facts = tmp_path / name
        facts.write_text(text, encoding="utf-8")
        result = regime("eval", "visits", "--packs", str(folder), "--facts", str(facts))
        no_traceback(result)
        assert result.returncode == 2
        lines = result.stdout.splitlines()
        assert lines[0].endswith(
            f"{name}:{place}: error: `$.person`: unknown field `vists` [E-FACTS]"
        ), lines
        caret = lines[2].split("|")[1].strip()  # under the key alone, not the whole object
        assert caret == ("^" * 5 if name.endswith(".yaml") else "^" * 7), lines


def test_a_pack_that_is_not_utf8_beside_its_worked_examples_is_one_problem(
    tmp_path: Path,
) -> None:
    folder = _pack(tmp_path)
    pack = folder / "visits.yaml"
    pack.write_bytes(pack.read_bytes().replace(b"title: Social", b"title: Soci\xe9"))
    result = regime("check", str(folder))
    no_traceback(result)
    assert result.returncode == 1
    assert "is not UTF-8 text (byte `0xe9`) [E-ENCODING]" in result.stdout.splitlines()[0]
    assert "1 error(s)" in result.stdout
