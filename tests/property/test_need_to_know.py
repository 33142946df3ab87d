"""Need-to-know as a security property (non-interference).

For any two facts documents that agree on every field a custodial audience may see, and whose
releasable results agree (as the healthcare audience sees them), everything the custodial
audience receives is byte-identical: the library's Decision object (repr and every attribute,
steps included), to_dict, every explanation (of every output, definition, table and rule), the
text and Markdown reports, every error (type, message, problems) and, through the real command
line, every `--format` of `eval` and `explain` with its exit code.

The documents come from strategies over the whole facts contract (schemas/facts/, absent and
null fields included); the pairs differ only in the healthcare-only subtree, which is drawn
valid, absent, null, invalid or out of range. The packs are every pack that reads
healthcare-only facts plus the laundering packs in tests/data/ntk/.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import engine
from cli.main import cli
from cli.report import render_markdown, render_text
from engine.problems import EvaluationError, FactsError

from ..fuzz.harness import TALLY
from .ntk_strategies import healthcare_only, healthcare_parts, whole_contract, with_healthcare

ROOT = Path(__file__).resolve().parents[2]
NTK = ROOT / "tests" / "data" / "ntk"
# `make fuzz` raises these (NTK_EXAMPLES=2000) for the long run
EXAMPLES = int(os.environ.get("NTK_EXAMPLES", "30"))
CLI_EXAMPLES = int(os.environ.get("NTK_CLI_EXAMPLES", "6"))
# shrinking these documents takes minutes: a failure is reported as drawn
PHASES = [Phase.explicit, Phase.reuse, Phase.generate]


@cache
def packs() -> dict[str, Any]:
    loaded, _ = engine.check_paths([ROOT / "policies", NTK])
    return {pid: p for pid, p in loaded.items() if p.healthcare_names}


def _pack_ids() -> list[str]:
    return sorted(packs())


def _as_of(pack: Any, n: int) -> dt.date:
    version = pack.versions[n % len(pack.versions)]
    end = version.effective_to or version.effective_from + dt.timedelta(days=400)
    span = max((end - version.effective_from).days, 0)
    return version.effective_from + dt.timedelta(days=n % (span + 1))


def _error(e: Exception) -> Any:
    problems = [p.format() for p in getattr(e, "problems", [])]
    return ("error", type(e).__name__, str(e), problems, getattr(e, "code", None))


def _targets(pack: Any) -> list[str]:
    return (
        list(pack.outputs) + list(pack.definitions) + list(pack.tables) + [r.id for r in pack.rules]
    )


def custodial_view(pack_id: str, facts: dict[str, Any], as_of: dt.date) -> dict[str, Any]:
    """Everything the library gives a custodial audience, as text."""
    pack = packs()[pack_id]
    try:
        d = engine.evaluate(pack, facts, as_of, "custodial")
    except (FactsError, EvaluationError) as e:
        return {"error": repr(_error(e))}
    assert d.model is pack
    out = {
        "repr": repr(d),
        "json": json.dumps(d.to_dict(), sort_keys=True),
        "text": render_text(d),
        "markdown": render_markdown(d),
        "explain": d.explain(),
    }
    for f in dataclasses.fields(d):
        if f.name != "model":
            out[f"attr {f.name}"] = repr(getattr(d, f.name))
    for target in _targets(pack):
        out[f"explain {target}"] = d.explain(target)
    return out


def released(pack_id: str, facts: dict[str, Any], as_of: dt.date) -> Any:
    """What the pack declares releasable, as the healthcare audience sees it."""
    pack = packs()[pack_id]
    try:
        d = engine.evaluate(pack, facts, as_of, "healthcare")
    except (FactsError, EvaluationError) as e:
        return ("error", type(e).__name__)
    outputs = {
        n: (json.dumps(d.to_dict()["outputs"][n]), n in d.undetermined)
        for n, o in pack.outputs.items()
        if o.releasable
    }
    rules = []
    for rule in pack.rules:
        if rule.obligation and rule.obligation.releasable:
            applies = any(o.rule == rule.id for o in d.obligations)
            rules.append((rule.id, applies, rule.id in d.undetermined))
    return outputs, rules


def _secrets(facts: dict[str, Any]) -> list[str]:
    """Healthcare-only strings that would be a leak if they appeared anywhere custodial."""
    found: list[str] = []
    for parts in healthcare_parts():
        node: Any = facts
        for part in parts:
            node = node.get(part) if isinstance(node, dict) else None
        found += [s for s in json.dumps(node, default=str).split('"') if "secret" in s]
    return found


pairs = st.tuples(whole_contract(), healthcare_only(), st.integers(0, 10_000))


@pytest.mark.parametrize("pack_id", _pack_ids())
@settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), phases=PHASES
)
@given(case=pairs)
def test_custodial_output_depends_only_on_what_custodial_staff_may_see(
    pack_id: str, case: tuple[dict[str, Any], Any, int]
) -> None:
    doc, other, n = case
    TALLY["need-to-know examples"] += 1
    pack = packs()[pack_id]
    as_of = _as_of(pack, n)
    facts_b = with_healthcare(doc, healthcare_parts()[0], other)
    seen_a = custodial_view(pack_id, doc, as_of)
    for secret in _secrets(doc) + ["prisoner.clinical", "secret-diagnosis"]:
        for fmt, text in seen_a.items():
            if fmt != "attr steps":  # step names are the pack's own; values checked below
                assert secret not in text, f"custodial {fmt} names `{secret}`"
    if released(pack_id, doc, as_of) != released(pack_id, facts_b, as_of):
        return  # what may be released differs, so the custodial view may too
    TALLY["need-to-know pairs compared"] += 1
    seen_b = custodial_view(pack_id, facts_b, as_of)
    assert seen_a.keys() == seen_b.keys()
    for fmt in seen_a:
        assert seen_a[fmt] == seen_b[fmt], f"custodial {fmt} differs with healthcare facts"


def _run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli, args)
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    return result.exit_code, result.output


def cli_view(
    pack_id: str, facts: dict[str, Any], as_of: dt.date, folder: Path, targets: list[str]
) -> dict[str, Any]:
    facts_file = folder / "facts.json"
    facts_file.write_text(json.dumps(facts, default=str), encoding="utf-8")
    pack = packs()[pack_id]
    packs_dir = folder / "packs"
    if not packs_dir.exists():  # the pack alone, so that each command loads only what it needs
        packs_dir.mkdir()
        (packs_dir / Path(pack.file).name).write_bytes(Path(pack.file).read_bytes())
    common = ["--facts", str(facts_file), "--as-of", as_of.isoformat(), "--packs", str(packs_dir)]
    out: dict[str, Any] = {}
    for fmt in ("text", "json", "markdown"):
        out[fmt] = _run(["eval", pack_id, *common, "--format", fmt])
    for target in targets:
        out[f"explain {target}"] = _run(["explain", pack_id, target, *common])
    return out


@pytest.mark.parametrize("pack_id", _pack_ids())
@settings(
    max_examples=CLI_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=PHASES,
)
@given(case=pairs, data=st.data())
def test_the_command_line_gives_custodial_staff_the_same_bytes_and_exit_codes(
    pack_id: str, case: tuple[dict[str, Any], Any, int], data: Any, tmp_path_factory: Any
) -> None:
    doc, other, n = case
    pack = packs()[pack_id]
    as_of = _as_of(pack, n)
    facts_b = with_healthcare(doc, healthcare_parts()[0], other)
    if released(pack_id, doc, as_of) != released(pack_id, facts_b, as_of):
        return
    names = list(pack.outputs) + [r.id for r in pack.rules]
    targets = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
    folder = tmp_path_factory.mktemp("ntk")
    seen_a = cli_view(pack_id, doc, as_of, folder, targets)
    assert seen_a == cli_view(pack_id, facts_b, as_of, folder, targets)


# -- examples of each leak once found, pinned -------------------------------------------------


def _person(**clinical: Any) -> dict[str, Any]:
    return {
        "establishment": {"code": "SDI", "regime_level": 2},
        "prisoner": {"prison_number": "A1234BC", "clinical": clinical, "pmp": {}},
    }


def test_an_undetermined_released_output_does_not_say_which_fact_it_lacks() -> None:
    # without a date of birth, eligibility is undetermined only for the treatment-eligible
    pack = packs()["ntk_launder"]
    with_condition = engine.evaluate(pack, _person(conditions=["cancer"]), dt.date(2022, 1, 1))
    without = engine.evaluate(pack, _person(conditions=[]), dt.date(2022, 1, 1))
    assert with_condition.outputs["eligible"] is None
    assert "eligible" in with_condition.undetermined
    assert "prisoner.date_of_birth" not in with_condition.missing_facts
    assert "output `eligible` = undetermined (clinical reasons withheld)" in (
        with_condition.explain("eligible")
    )
    assert without.outputs["eligible"] is False
    healthcare = engine.evaluate(
        pack, _person(conditions=["cancer"]), dt.date(2022, 1, 1), "healthcare"
    )
    assert "prisoner.date_of_birth" in healthcare.missing_facts


def test_a_clinical_value_out_of_range_does_not_fail_the_custodial_decision() -> None:
    pack = packs()["ntk_launder"]
    facts = _person(vaccine_doses=[{"date": "9999-12-31", "dose": 1}])
    custodial = engine.evaluate(pack, facts, dt.date(2022, 1, 1))
    assert custodial.outputs["review_on"] is None
    with pytest.raises(EvaluationError) as info:
        engine.evaluate(pack, facts, dt.date(2022, 1, 1), "healthcare")
    assert info.value.code == "E-EVAL-RANGE"


def test_an_invalid_clinical_record_is_withheld_from_custodial_staff() -> None:
    pack = packs()["ntk_launder"]
    facts = _person(diagnosis="secret-diagnosis", vaccine_doses=[{"dose": float("nan")}])
    custodial = engine.evaluate(pack, facts, dt.date(2022, 1, 1))
    assert "secret" not in repr(custodial.to_dict()) + custodial.explain()
    assert custodial.outputs["eligible"] is None
    with pytest.raises(FactsError) as info:
        engine.evaluate(pack, facts, dt.date(2022, 1, 1), "healthcare")
    assert "vaccine_doses" in str(info.value)


def test_a_custodial_decision_holds_no_healthcare_only_step() -> None:
    pack = packs()["ntk_launder"]
    facts = _person(conditions=["cancer", "blood_cancer"])
    facts["prisoner"]["date_of_birth"] = "1980-01-01"
    d = engine.evaluate(pack, facts, dt.date(2022, 1, 1))
    names = {s.name for s in d.steps}
    assert not names & {"conditions", "n_conditions", "chained", "by_count", "R-CLINICAL-FIRST"}
    released_steps = [s for s in d.steps if s.healthcare]
    assert {s.name for s in released_steps} >= {"eligible", "R-RELEASED"}
    assert all(s.text is None and not s.cites for s in released_steps)
    assert "cancer" not in repr(d.steps)


def test_the_probe_pack_withholds_its_basis() -> None:
    facts = {
        "prisoner": {
            "prison_number": "A1234BC",
            "date_of_birth": dt.date(1980, 1, 1),
            "clinical": {
                "conditions": ["blood_cancer"],
                "vaccine_doses": [{"date": dt.date(1999, 3, 4), "dose": 1}],
            },
            "pmp": {"single_cell_advised": True},
        }
    }
    pack = packs()["ntk_probe"]
    custodial = engine.evaluate(pack, facts, dt.date(2022, 1, 1), "custodial")
    healthcare = engine.evaluate(pack, facts, dt.date(2022, 1, 1), "healthcare")
    assert custodial.outputs["eligible"] is True
    assert "basis" not in custodial.outputs and "basis" in custodial.withheld
    assert healthcare.outputs["basis"] == ["group_alpha"]
    assert custodial.outputs["needs_single_cell"] is True  # derived from a released output
    assert [o.rule for o in custodial.obligations] == ["R-SEEN"]
    assert custodial.obligations[0].reasons_withheld
    everything = json.dumps(custodial.to_dict()) + custodial.explain() + render_text(custodial)
    everything += repr(custodial.steps)
    everything = everything.replace("'blood_cancer', 'organ", "")
    for secret in ("blood_cancer", "Secret", "in_alpha", "group_alpha", "1999-", "I-NTK-01"):
        assert secret not in everything.replace('"blood_cancer", "organ', "")
    assert "clinical reasons withheld" in custodial.explain()


def test_a_failed_clinical_definition_nothing_needs_stops_nothing_and_shows_nothing() -> None:
    """`unread_per_condition` divides by zero for two conditions and nothing reads it: both
    audiences are decided; the healthcare explanation says it could not be worked out, and
    the custodial explanation is the same whether it failed or not (but for a released value)."""
    pack = packs()["ntk_launder"]
    day = dt.date(2022, 1, 1)
    two = _person(conditions=["cancer", "blood_cancer"])
    three = _person(conditions=["cancer", "blood_cancer", "organ_transplant"])
    for facts in (two, three):
        facts["prisoner"]["date_of_birth"] = "1980-01-01"
    healthcare = engine.evaluate(pack, two, day, "healthcare")
    assert "definition `unread_per_condition` could not be worked out: division by zero" in (
        healthcare.explain()
    )
    assert "nothing the decision needs depends on it" in healthcare.explain()
    shown = [engine.evaluate(pack, f, day) for f in (two, three)]
    # the same steps, and the same explanation but for the released count of conditions
    assert [(s.kind, s.name) for s in shown[0].steps] == [(s.kind, s.name) for s in shown[1].steps]
    lines = [[x for x in d.explain().splitlines() if "released_count" not in x] for d in shown]
    assert lines[0] == lines[1]
    assert "could not be worked out" not in shown[0].explain()
    assert "unread_per_condition" not in repr(shown[0].steps) + shown[0].explain()
