"""Change points: exact against day-by-day evaluation, the date analysis, and the command."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import engine
from cli.main import cli
from cli.timeline import render_markdown, render_text
from engine.language import date_dependence as D
from engine.language.parse import parse
from engine.tools.timeline import daily_changes, date_model, timeline
from tests.keywork_documents import keywork_prisoner
from tests.timeline_check import RANGES, check_pack

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOTS = Path(__file__).parent / "snapshots"
PACKS = engine.load(ROOT / "policies")


@pytest.mark.parametrize("pack_id", sorted(RANGES))
def test_change_points_agree_with_every_day(pack_id: str) -> None:
    tally = check_pack(PACKS[pack_id], count=2)
    print(
        f"{pack_id}: documents {tally.documents}, days {tally.days}, change points "
        f"{tally.change_points}, days evaluated {tally.evaluated}, disagreements "
        f"{len(tally.disagreements)}"
    )
    assert tally.disagreements == []
    assert tally.evaluated < tally.days  # the point: not every day was evaluated


def test_every_pack_is_analysed_without_daily_fallback() -> None:
    for pack_id in RANGES:
        assert date_model(PACKS[pack_id]).opaque == [], pack_id


def shape(text: str, names: dict[str, str] | None = None) -> D.Analysis:
    return D.analyse(parse(text), lambda n: (names or {}).get(n, D.FIXED))


def test_comparisons_of_the_date_are_sites() -> None:
    a = shape("x.release - as_of <= 4 weeks")
    assert a.shape == D.STEP
    assert [s.kind for s in a.sites] == ["compare"]
    assert shape("as_of - 1 month + 1 day").shape == D.MONOTONE
    assert shape("x.a == 3").shape == D.FIXED and shape("x.a == 3").sites == []


def test_sites_inside_quantifiers_carry_their_bindings() -> None:
    a = shape("count(s in x.sessions: s.date >= start and s.date <= as_of)", {"start": "monotone"})
    assert [s.kind for s in a.sites] == ["compare", "compare"]
    assert all(s.bindings[0].var == "s" for s in a.sites)


def test_ages_and_step_functions_are_sites() -> None:
    assert [s.kind for s in shape("age(x.born) >= 12").sites] == ["age"]
    assert [s.func for s in shape("week_start(as_of) == x.d").sites] == ["week_start"]


def test_what_the_analysis_cannot_bound_is_opaque() -> None:
    a = shape("[as_of] == x.list")
    assert a.shape == D.OPAQUE and a.opaque


def test_calendar_months_clamp_as_evaluation_does() -> None:
    # a monthly period ending on the evaluation date starts the day after `as_of - 1 month`:
    # a session on 31 January leaves it when as_of - 1 month reaches 31 January, and with
    # clamping that is 29 February 2020 + 1 day = 1 March (not 3 March)
    pack = PACKS["keywork_edm"]
    facts = {
        "establishment": {"regime_level": 3, "keywork_model": "weekly"},
        "prisoner": {
            "acct": "none",
            "rosh": "LOW",
            "cev": False,
            "tact": False,
            "pathfinder_recommended": False,
            "governor_priority": False,
            "release_date": None,
            "keywork": {"sessions": [{"date": "2021-01-31", "kind": "session", "minutes": 45}]},
        },
    }
    start, end = dt.date(2021, 1, 1), dt.date(2021, 4, 30)
    tl = timeline(pack, facts, start, end)
    assert [p.on for p in tl.points] == [d for d, _ in daily_changes(pack, facts, start, end)]
    assert dt.date(2021, 3, 1) in [p.on for p in tl.points]


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


B3152 = "examples/prisoners/b3152kw_high_rosh_release.yaml"
A1101 = "examples/pmp/a1101pm_immunosuppressed_plan.yaml"


def test_timeline_command_is_golden(snapshot: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    out = run(
        "timeline", "keywork_edm", "--facts", B3152, "--from", "2020-06-01", "--to", "2020-12-31"
    )
    snapshot.snapshot_dir = SNAPSHOTS  # type: ignore[attr-defined]
    snapshot.assert_match(out, "timeline_keywork_b3152kw.txt")  # type: ignore[attr-defined]


def facts_of(path: str) -> dict:
    import yaml

    return yaml.safe_load((ROOT / path).read_text(encoding="utf-8"))


@pytest.mark.parametrize("fmt", ["json", "markdown"])
def test_timeline_formats_are_golden(fmt: str, snapshot: object) -> None:
    tl = timeline(PACKS["keywork_edm"], facts_of(B3152), dt.date(2020, 6, 1), dt.date(2020, 12, 31))
    if fmt == "json":
        out = json.dumps({"subject": "B3152KW", **tl.to_dict()}, indent=2, ensure_ascii=False)
    else:
        out = render_markdown(tl, "B3152KW")
    snapshot.snapshot_dir = SNAPSHOTS  # type: ignore[attr-defined]
    ext = {"json": "json", "markdown": "md"}[fmt]
    snapshot.assert_match(out + "\n" if fmt == "json" else out, f"timeline_keywork_b3152kw.{ext}")  # type: ignore[attr-defined]


def pmp_timeline(audience: str) -> str:
    tl = timeline(
        PACKS["pmp"], facts_of(A1101), dt.date(2022, 10, 1), dt.date(2023, 3, 31), audience
    )
    return render_text(tl, "A1101PM")


def test_pmp_timeline_is_golden(snapshot: object) -> None:
    snapshot.snapshot_dir = SNAPSHOTS  # type: ignore[attr-defined]
    snapshot.assert_match(pmp_timeline("custodial"), "timeline_pmp_a1101pm.txt")  # type: ignore[attr-defined]


def test_custodial_timeline_is_the_same_whatever_the_clinical_record() -> None:
    """Two records that differ only in healthcare-only facts, with the same releasable
    eligibility, give a custodial audience byte-identical timelines."""
    pack, start, end = PACKS["pmp"], dt.date(2022, 10, 1), dt.date(2023, 6, 30)
    facts = facts_of(A1101)
    other = json.loads(json.dumps(facts, default=str))
    other["prisoner"]["clinical"] = {
        "conditions": ["blood_cancer", "ckd_stage_4_or_5"],
        "clinician_recommends_pmp": True,
        "severely_immunosuppressed_at_primary_doses": False,
        "vaccine_doses": [{"date": "2023-02-01", "dose": 1}, {"date": "2023-04-20", "dose": 4}],
    }
    texts = [
        render_text(timeline(pack, f, start, end, audience), "A1101PM")
        for audience in ("custodial", "healthcare")
        for f in (facts, other)
    ]
    assert texts[0] == texts[1]
    assert texts[2] != texts[3]  # the healthcare audience does see the difference


def test_custodial_timeline_never_names_healthcare_conditions() -> None:
    custodial, healthcare = pmp_timeline("custodial"), pmp_timeline("healthcare")
    for name in ("immunosuppress", "eligibility_basis", "vaccination", "treatment_eligible"):
        assert name not in custodial
    assert "eligibility_basis" in healthcare  # the healthcare audience sees what was withheld


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2020-07-01", "--to", "2020-06-01"], "is before"),
        (["--from", "2020-13-01", "--to", "2020-12-31"], "is not a date"),
        (["--from", "2019-01-01", "--to", "2020-12-31"], "no version in force"),
        (
            ["--from", "2020-06-01", "--to", "2020-12-31", "--outputs", "is_priorty"],
            "has no output `is_priorty`\n  hint: did you mean `is_priority`?",
        ),
    ],
)
def test_timeline_bad_input_is_a_clear_error(
    args: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(cli, ["timeline", "keywork_edm", "--facts", B3152, *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


# a young adult of high risk of serious harm, released 2020-09-14, 21 on 2020-08-20
YOUNG_ADULT = {
    "establishment": {"code": "LEI", "regime_level": 3, "regime_level_since": "2020-07-06"},
    "prisoner": keywork_prisoner(
        prison_number="O2000OM",
        date_of_birth="1999-08-20",
        release_date="2020-09-14",
        omu={
            **dict.fromkeys(
                (
                    "newly_sentenced_indeterminate",
                    "in_handover_period",
                    "approaching_parole",
                    "early_allocation",
                    "care_experienced",
                    "moving_to_open",
                    "covid_spl_release",
                    "youth_to_adult_transition",
                    "pre_release_assessment_due",
                ),
                False,
            ),
            "opd_screened": True,
        },
    ),
}


def test_a_duty_left_undetermined_is_not_one_that_does_not_apply(tmp_path: Path) -> None:
    """On the 21st birthday the young adult's supervision cohort hangs on facts not given:
    the duties it brings may yet apply, as `regime eval` says of that day, and the timeline
    says so where it said they did not apply."""
    facts = tmp_path / "o2.json"
    facts.write_text(json.dumps(YOUNG_ADULT), encoding="utf-8")
    span = ["--from", "2020-08-15", "--to", "2020-08-25"]
    out = json.loads(run("timeline", "omu_edm", "--facts", str(facts), *span, "--format", "json"))
    (point,) = [p for p in out["change_points"] if p["on"] == "2020-08-20"]
    sup = {c["field"]: c["after"] for c in point["changes"]}["obligations.OMU-SUP-01"]
    assert sup == {"modality": "should", "undetermined": True}
    text = run("timeline", "omu_edm", "--facts", str(facts), *span)
    assert (
        "obligations.OMU-SUP-01: should -> undetermined (should, if the facts it needs show it "
        "applies)"
    ) in text
    decision = engine.load(ROOT / "policies").evaluate(
        "omu_edm", YOUNG_ADULT, as_of=dt.date(2020, 8, 20)
    )
    assert "OMU-SUP-01" in decision.undetermined


def test_because_names_only_what_leads_to_a_changed_field(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On 16 June the session of that day meets the monthly minimum: the session counts that
    flipped are the reason; the wellbeing counts, which flipped too but change nothing shown
    (the person is in no priority group yet), are not named."""
    monkeypatch.chdir(ROOT)
    out = json.loads(
        run("timeline", "keywork_edm", "--facts", B3152, "--from", "2020-06-01", "--to",
            "2020-06-30", "--format", "json")
    )  # fmt: skip
    (point,) = [p for p in out["change_points"] if p["on"] == "2020-06-16"]
    assert [c["field"] for c in point["changes"]] == ["outputs.compliance"]
    assert "definition sessions_held_in_period" in point["because"]
    assert not [b for b in point["because"] if "wellbeing" in b]


SOCIAL_CARE = "policies/action_plans/social_care_2018.yaml"


def test_outputs_follows_only_those_outputs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The action plan's days left move every day; following its findings alone leaves the
    days on which something else the reader sees changes, each still in the whole timeline."""
    monkeypatch.chdir(ROOT)
    span = ["--from", "2019-01-01", "--to", "2019-12-31", "--format", "json"]
    whole = json.loads(run("timeline", "action_plan", "--facts", SOCIAL_CARE, *span))
    only = json.loads(
        run("timeline", "action_plan", "--facts", SOCIAL_CARE, *span, "--outputs", "findings")
    )
    assert len(whole["change_points"]) > 100
    assert 0 < len(only["change_points"]) < 5
    assert [k for k in only["initial"] if k.startswith("outputs.")] == ["outputs.findings"]
    whole_days = {p["on"]: p for p in whole["change_points"]}
    for point in only["change_points"]:
        fields = {c["field"] for c in whole_days[point["on"]]["changes"]}
        assert {c["field"] for c in point["changes"]} <= fields
        assert all(not c["field"].startswith("outputs.") for c in point["changes"]) or any(
            c["field"] == "outputs.findings" for c in point["changes"]
        )


DECIMAL_OUTPUTS = """
  past_the_precision:
    value: len(this_month) + 0.0000000000000000000000000001
  share_of_entitlement:
    value: len(this_month) / person.entitlement_per_month
"""


def decimal_pack(tmp_path: Path) -> engine.Packs:
    """The custom-pack example with two decimal outputs that move with the visits of the
    month: one needing 29 significant digits, one a fraction with no exact decimal form."""
    source = ROOT / "examples" / "custom_pack"
    (tmp_path / "schemas").mkdir()
    schema = source / "schemas" / "visits.schema.json"
    (tmp_path / "schemas" / schema.name).write_text(schema.read_text(encoding="utf-8"))
    text = (source / "visits.yaml").read_text(encoding="utf-8")
    text = text.replace("rules:\n", DECIMAL_OUTPUTS.lstrip("\n") + "rules:\n", 1)
    (tmp_path / "visits.yaml").write_text(text, encoding="utf-8")
    return engine.load(tmp_path)


def test_timeline_decimals_are_exact_as_in_evaluation(tmp_path: Path) -> None:
    """Change points are decided in the runtime's exact decimal context: a sum needing more
    digits than Python's default context is not rounded, and a fraction with no exact form is
    the error evaluation gives, never a silently rounded value."""
    pack = decimal_pack(tmp_path)["visits"]
    facts = {"person": {"entitlement_per_month": 2, "visits": [{"date": "2024-03-04"}]}}
    start, end = dt.date(2024, 2, 25), dt.date(2024, 3, 10)
    tl = timeline(pack, facts, start, end)
    assert [p.on for p in tl.points] == [dt.date(2024, 3, 1), dt.date(2024, 3, 4)]
    for day in (start, *(p.on for p in tl.points)):
        evaluated = engine.evaluate(pack, facts, day).outputs["past_the_precision"]
        assert tl.value_on("outputs.past_the_precision", day) == str(evaluated)
    assert tl.value_on("outputs.past_the_precision", end) == "1.0000000000000000000000000001"
    assert tl.value_on("outputs.share_of_entitlement", end) == "0.5"
    facts["person"]["entitlement_per_month"] = 3  # 1 / 3 from 4 March
    with pytest.raises(engine.EvaluationError) as caught:
        engine.evaluate(pack, facts, end)
    assert caught.value.code == "E-EVAL-RANGE"
    with pytest.raises(engine.EvaluationError) as caught:
        timeline(pack, facts, start, end)
    assert caught.value.code == "E-EVAL-RANGE" and "no exact decimal value" in str(caught.value)
