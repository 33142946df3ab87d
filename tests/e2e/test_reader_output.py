"""What a reader of a decision is shown: duties that may yet apply, unknown parts of an output
named as not known, an explanation's own status and needs, durations in words."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

import engine
from engine.packs.facts_schema import fact_description
from tests.e2e.test_cli import ROOT, no_traceback, regime

DATA = ROOT / "tests" / "data" / "reader"
AS_OF = "2023-04-10"  # (version 2 of the PMP guidance)
ADVICE_PENDING = DATA / "pmp_advice_pending_interim_absent.yaml"
CONDITIONS_ABSENT = DATA / "pmp_conditions_absent.yaml"
CONDITIONS = "prisoner.clinical.conditions"


def _keywork(*extra: str) -> Any:
    """`regime eval keywork_edm` of a decided example (a high-risk prisoner near release)."""
    facts = ROOT / "examples" / "prisoners" / "b3152kw_high_rosh_release.yaml"
    return regime("eval", "keywork_edm", "--facts", str(facts), "--as-of", "2020-07-01", *extra)


def _eval(facts: Path, *extra: str) -> str:
    result = regime("eval", "pmp", "--facts", str(facts), "--as-of", AS_OF, *extra)
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("fmt", ["text", "markdown"])
@pytest.mark.parametrize("audience", ["custodial", "healthcare"])
def test_duties_hanging_on_unknown_facts_are_listed(fmt: str, audience: str) -> None:
    """Conditions not recorded: whether a plan is needed is not known, so the plan's duties
    are listed as what may apply, each with its strength and rule, and the fact is named."""
    out = _eval(CONDITIONS_ABSENT, "--format", fmt, "--audience", audience)
    heading = "May also apply, once the facts it needs are known"
    assert heading in out
    pending = out[out.index(heading) :]
    assert "PMP-REQ-01" in pending
    assert ("MUST: " if fmt == "text" else "**must**: ") in pending
    if audience == "custodial":
        assert "prisoner.clinical" not in out  # the fact is healthcare-only
        assert "(healthcare-only facts withheld)" in out
    else:
        assert "prisoner.clinical.conditions" in out


def test_a_decided_decision_lists_no_pending_duty() -> None:
    out = _eval(ADVICE_PENDING, "--audience", "healthcare")
    assert "PMP-APPA-01" in out  # the one rule left undetermined here
    decided = _keywork()
    assert "DECIDED" in decided.stdout and "May also apply" not in decided.stdout


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_an_unknown_part_of_an_output_reads_not_known(fmt: str) -> None:
    """The interim arrangements are not recorded: the checks show that part as not known,
    never as a null (a recorded none), while the parts that are known show as they are."""
    out = _eval(ADVICE_PENDING, "--format", fmt)
    if fmt == "text":
        line = next(x for x in out.splitlines() if "appendix_a_checks" in x)
        assert '"interim_arrangements": not known' in line
        assert '"advice_pending": true' in line
    else:  # a table of its own: the row under the header that names the field
        lines = out.splitlines()
        at = next(i for i, x in enumerate(lines) if "| interim_arrangements |" in x)
        header = [c.strip() for c in lines[at].strip("|").split("|")]
        row = [c.strip() for c in lines[at + 2].strip("|").split("|")]
        cells = dict(zip(header, row, strict=True))
        assert cells["interim_arrangements"] == "not known"
        assert cells["advice_pending"] == "yes"


def test_explaining_a_decided_output_of_an_undetermined_decision() -> None:
    """`eligible` is decided though the decision is not: the explanation says so and names no
    fact, where it used to repeat the decision's status and needs."""
    result = regime("explain", "pmp", "eligible", "--facts", str(ADVICE_PENDING), "--as-of", AS_OF)
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first.endswith("`eligible` decided (the whole decision: undetermined)"), first
    assert "needs:" not in result.stdout


@pytest.mark.parametrize(
    "audience, needs",
    [
        ("healthcare", f"  - prisoner.clinical.conditions: {fact_description(CONDITIONS)}"),
        ("custodial", "  - (healthcare-only facts withheld)"),
    ],
)
def test_explaining_an_undetermined_output_names_its_own_needs(audience: str, needs: str) -> None:
    """The target's needs, each on its own line under `needs:`, with what the fact is where
    this audience may know it."""
    result = regime(
        "explain",
        "pmp",
        "eligible",
        "--facts",
        str(CONDITIONS_ABSENT),
        "--as-of",
        AS_OF,
        "--audience",
        audience,
    )
    assert result.returncode == 0, result.stderr
    assert "`eligible` undetermined" in result.stdout.splitlines()[0]
    lines = result.stdout.splitlines()
    at = lines.index("needs:")
    assert lines[at + 1] == needs


def test_explained_durations_read_as_a_pack_writes_them() -> None:
    result = regime(
        "explain",
        "keywork_edm",
        "compliance",
        "--facts",
        str(ROOT / "examples" / "prisoners" / "b3152kw_high_rosh_release.yaml"),
        "--as-of",
        "2020-07-01",
    )
    assert "`high_rosh_pre_release_period` = 28 days" in result.stdout
    assert "`extremist_pre_release_period` = 2 months" in result.stdout
    assert "`session_length` = 45 minutes" in result.stdout
    assert '"P28D"' not in result.stdout


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_an_undetermined_released_output_says_why_no_more_is_shown(fmt: str) -> None:
    """A custodial reader sees `eligible` undetermined with the pack's withheld reason, as its
    explanation gives it; a healthcare reader sees it plainly undetermined."""
    reason = engine.load(ROOT / "policies")["pmp"].outputs["eligible"].withheld_reason
    assert reason
    custodial = _eval(CONDITIONS_ABSENT, "--format", fmt)
    healthcare = _eval(CONDITIONS_ABSENT, "--format", fmt, "--audience", "healthcare")
    line = next(x for x in custodial.splitlines() if "eligible " in x or "`eligible`" in x)
    assert f"undetermined ({reason})" in line, line
    assert f"({reason})" not in healthcare


@pytest.mark.parametrize("audience", ["custodial", "healthcare"])
def test_the_readings_of_duties_that_may_apply_are_relied_upon(audience: str) -> None:
    """A duty left undetermined is listed with the facts it needs by the pack's reading of it:
    that reading is among the interpretations the decision relies upon."""
    packs = engine.load(ROOT / "policies")
    facts = yaml.safe_load(CONDITIONS_ABSENT.read_text(encoding="utf-8"))
    decision = packs.evaluate("pmp", facts, as_of=dt.date(2023, 4, 10), audience=audience)
    relied = {i.id for i in decision.interpretations}
    pending = [packs["pmp"].rule(r) for r in decision.undetermined]
    readings = {i for rule in pending if rule is not None for i in rule.interpretations}
    assert "I-PMP-09" in readings  # (PMP-REQ-01's: who needs a plan)
    assert readings <= relied, readings - relied


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_an_output_of_vocabulary_ids_reads_as_their_names(fmt: str) -> None:
    """`priority_groups` declares its values a vocabulary's ids: a reader sees the group's name,
    the JSON keeps the id other systems read."""
    pack = engine.load(ROOT / "policies")["keywork_edm"]
    assert pack.outputs["priority_groups"].vocabulary == "priority_group"
    name = next(
        v.name for v in pack.vocabulary["priority_group"].values if v.id == "high_rosh_pre_release"
    )
    assert name
    result = _keywork("--format", fmt)
    assert result.returncode == 0, result.stderr
    if fmt == "json":
        assert '"high_rosh_pre_release"' in result.stdout and name not in result.stdout
    else:
        line = next(x for x in result.stdout.splitlines() if "priority_groups" in x)
        assert name in line and "high_rosh_pre_release" not in line


def test_an_output_vocabulary_the_pack_lacks_is_refused(tmp_path: Path) -> None:
    pack = (ROOT / "tests" / "corpus" / "packs" / "output_vocabulary_value.yaml").read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        pack.replace("vocabulary: group}", "vocabulary: groups}").replace("open_act", "open_acct"),
        encoding="utf-8",
    )
    result = regime("check", str(bad), "--no-tests")
    assert result.returncode == 1
    assert "no vocabulary `groups` [E-REF]" in result.stdout
    assert "did you mean `group`?" in result.stdout


def _unknown_release(tmp_path: Path) -> Path:
    """A key work example whose sentence type and release date are not recorded."""
    facts = yaml.safe_load(
        (ROOT / "examples" / "prisoners" / "f7596kw_no_release_date.yaml").read_text()
    )
    del facts["prisoner"]["release_date"], facts["prisoner"]["sentence_type"]
    path = tmp_path / "unknown_release.yaml"
    path.write_text(yaml.safe_dump(facts), encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_each_needed_fact_is_named_with_what_it_is(tmp_path: Path, fmt: str) -> None:
    """A reader sees each fact the decision needs on a line of its own, its path followed by
    the facts schema's description of it; the JSON keeps the bare paths."""
    facts = _unknown_release(tmp_path)
    result = regime(
        "eval", "keywork_edm", "--facts", str(facts), "--as-of", "2020-07-01", "--format", fmt
    )
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    paths = ["prisoner.release_date", "prisoner.sentence_type"]
    if fmt == "json":
        assert yaml.safe_load(result.stdout)["missing_facts"] == paths
        return
    lines = result.stdout.splitlines()
    at = lines.index("Needs:" if fmt == "text" else "**Needs:**")
    for path in paths:
        about = fact_description(path)
        assert about
        line = f"  - {path}: {about}" if fmt == "text" else f"- `{path}`: {about}"
        assert line in lines[at:], line


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_a_custodial_reader_is_not_told_what_a_healthcare_fact_is(fmt: str) -> None:
    """The clinical conditions are not recorded: a healthcare reader is told what they are; a
    custodial reader sees only the withheld marker, neither the fact's path nor its words, in
    the decision or an explanation."""
    about = fact_description(CONDITIONS)
    assert about
    healthcare = _eval(CONDITIONS_ABSENT, "--format", fmt, "--audience", "healthcare")
    assert about in healthcare
    custodial = _eval(CONDITIONS_ABSENT, "--format", fmt)
    explained = regime(
        "explain", "pmp", "eligible", "--facts", str(CONDITIONS_ABSENT), "--as-of", AS_OF
    )
    assert explained.returncode == 0, explained.stderr
    for shown in (custodial, explained.stdout):
        assert "(healthcare-only facts withheld)" in shown
        assert about not in shown and CONDITIONS not in shown


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_vocabulary_ids_inside_records_read_as_their_names(fmt: str) -> None:
    """The action plan's findings declare their `code` a finding code, and the overdue actions
    their `response` a response category: a reader sees the names (a code beside its id), the
    JSON keeps the ids."""
    result = regime(
        "eval",
        "action_plan",
        "--facts",
        str(ROOT / "policies" / "action_plans" / "hmp_send_2019.yaml"),
        "--as-of",
        "2019-06-01",
        "--format",
        fmt,
    )
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    if fmt == "json":
        outputs = yaml.safe_load(result.stdout)["outputs"]
        assert "AP-PA-PART" in {f["code"] for f in outputs["findings"]}
        assert {o["response"] for o in outputs["overdue"]} == {"agreed"}
        return
    out = result.stdout
    if fmt == "text":
        findings = next(x for x in out.splitlines() if x.strip().startswith("findings "))
        overdue = next(x for x in out.splitlines() if x.strip().startswith("overdue "))
        assert '"response": "Agreed"' in overdue and '"response": "agreed"' not in overdue
    else:
        findings = out[out.index("### `findings`") : out.index("### `summary`")]
        overdue = out[out.index("### `overdue`") : out.index("### `due_soon`")]
        assert "| Agreed |" in overdue and "| agreed |" not in overdue
    # the finding codes are codes a reader quotes (`codes: true`): the id, then its name
    assert "AP-PA-PART (Implemented part not stated)" in findings
