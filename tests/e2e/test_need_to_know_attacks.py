"""Need-to-know, attacked: facts documents that differ only in healthcare-only facts (and whose
released outputs agree) must give a custodial reader byte-identical answers, error messages and
rejects included. Each family here once gave different answers: a key given twice inside the
clinical record named the clinical key, quoted its neighbourhood (the value) and placed it at
a column that moves with the length of the clinical text before it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from cli.main import cli
from tests.pmp_documents import pmp_document

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"
AS_OF = "2023-01-16"


def _text(doc: dict[str, Any]) -> str:
    return json.dumps(doc, default=str)


def _clinical_twice(first: bool, second: bool) -> str:
    """One line of JSON whose clinical record gives clinician_recommends_pmp twice."""
    doc = pmp_document("A1234BC", {"conditions": [], "clinician_recommends_pmp": first})
    text = _text(doc)
    once = f'"clinician_recommends_pmp": {json.dumps(first)}'
    assert once in text
    return text.replace(once, f'{once}, "clinician_recommends_pmp": {json.dumps(second)}')


def _no_clinical() -> str:
    doc = pmp_document("A1234BC", {})
    del doc["prisoner"]["clinical"]
    return _text(doc)


FAMILY = {
    "twice, true then false": _clinical_twice(True, False),
    "twice, false then true": _clinical_twice(False, True),
    "no clinical record": _no_clinical(),
}


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def _masked(text: str, *paths: Path) -> str:
    for p in paths:
        text = text.replace(str(p), "<path>")
    return re.sub(r"in [0-9.]+ s", "in <t> s", text)


def _eval_each(tmp_path: Path, family: list[str]) -> set[str]:
    """What `regime eval pmp` prints a custodial reader for each YAML text of a family, run
    paths and times masked; each must be decided (exit 0)."""
    seen = set()
    for text in family:
        facts = tmp_path / "facts.yaml"
        facts.write_text(text, encoding="utf-8")
        code, out = _run(
            "eval", "pmp", "--packs", str(POLICIES), "--facts", str(facts), "--as-of", AS_OF
        )
        assert code == 0, out
        seen.add(_masked(out, facts))
    return seen


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_eval_a_key_twice_in_the_clinical_record_is_not_the_custodial_readers(
    tmp_path: Path, fmt: str
) -> None:
    outputs = set()
    for name, text in FAMILY.items():
        facts = tmp_path / "facts.json"
        facts.write_text(text, encoding="utf-8")
        code, out = _run(
            "eval", "pmp", "--packs", str(POLICIES), "--facts", str(facts),
            "--as-of", AS_OF, "--format", fmt,
        )  # fmt: skip
        assert code == 0, (name, out)
        assert "appears twice" not in out, name
        outputs.add(_masked(out, facts))
    assert len(outputs) == 1


def test_eval_a_key_twice_in_the_clinical_record_is_refused_for_healthcare(
    tmp_path: Path,
) -> None:
    facts = tmp_path / "facts.json"
    facts.write_text(FAMILY["twice, true then false"], encoding="utf-8")
    code, out = _run(
        "eval", "pmp", "--packs", str(POLICIES), "--facts", str(facts),
        "--as-of", AS_OF, "--audience", "healthcare",
    )  # fmt: skip
    assert code == 2
    assert "key `clinician_recommends_pmp` appears twice in one object" in out
    assert "[E-JSON-DUPKEY]" in out


def test_eval_a_key_twice_outside_the_clinical_record_is_refused_as_before(
    tmp_path: Path,
) -> None:
    text = FAMILY["no clinical record"].replace('"acct": "none"', '"acct": "none", "acct": "open"')
    facts = tmp_path / "facts.json"
    facts.write_text(text, encoding="utf-8")
    code, out = _run("eval", "pmp", "--packs", str(POLICIES), "--facts", str(facts))
    assert code == 2
    assert "key `acct` appears twice in one object [E-JSON-DUPKEY]" in out


def _yaml_clinical_twice(first: str, second: str) -> str:
    doc = pmp_document("A1234BC", {"conditions": []})
    text = yaml.safe_dump(json.loads(_text(doc)), sort_keys=False)
    return text.replace(
        "    conditions: []\n",
        f"    conditions: []\n    clinician_recommends_pmp: {first}\n"
        f"    clinician_recommends_pmp: {second}\n",
    )


def test_eval_yaml_a_key_twice_in_the_clinical_record_is_not_the_custodial_readers(
    tmp_path: Path,
) -> None:
    absent = json.loads(FAMILY["no clinical record"])
    family = [
        _yaml_clinical_twice("true", "false"),
        _yaml_clinical_twice("false", "true"),
        yaml.safe_dump(absent, sort_keys=False),
    ]
    assert "clinician_recommends_pmp: false\n" in family[0]
    outputs = _eval_each(tmp_path, family)
    assert not [out for out in outputs if "duplicate key" in out]
    assert len(outputs) == 1
    facts = tmp_path / "facts.yaml"
    facts.write_text(family[0], encoding="utf-8")
    code, out = _run(
        "eval", "pmp", "--packs", str(POLICIES), "--facts", str(facts),
        "--as-of", AS_OF, "--audience", "healthcare",
    )  # fmt: skip
    assert code == 2
    assert "duplicate key `clinician_recommends_pmp` [E-YAML-DUPKEY]" in out


@pytest.mark.parametrize("engine", ["duckdb", "python"])
def test_batch_a_key_twice_in_the_clinical_record_is_not_the_custodial_readers(
    tmp_path: Path, engine: str
) -> None:
    seen = set()
    for i, text in enumerate(FAMILY.values()):
        folder = tmp_path / str(i)
        folder.mkdir()
        facts = folder / "people.jsonl"
        facts.write_text(text + "\n", encoding="utf-8")
        out = folder / "out.jsonl"
        code, printed = _run(
            "batch", "pmp", "--packs", str(POLICIES), "--facts", str(facts),
            "--as-of", AS_OF, "--engine", engine, "--threads", "1", "--out", str(out),
        )  # fmt: skip
        assert code == 0, printed
        rejects = folder / "out.rejects.jsonl"
        both = out.read_text() + (rejects.read_text() if rejects.exists() else "")
        assert "clinician_recommends_pmp" not in both
        seen.add(_masked(printed + both, folder))
    assert len(seen) == 1


def _omu_broken_after(clinical: dict[str, Any]) -> str:
    """One line of JSON: a clinical record, then a custodial field no schema allows (`omu` 5)."""
    doc = pmp_document("A1234BC", clinical)
    doc["prisoner"]["omu"] = 5  # after the clinical record in the text
    return _text(doc)


@pytest.mark.parametrize("command", ["eval", "timeline"])
def test_a_custodial_facts_error_is_placed_nowhere_the_clinical_text_moves(
    tmp_path: Path, command: str
) -> None:
    # the line and column of a custodial field's problem moved with the length of the clinical
    # text before it, and the excerpt under it quoted that text (a value)
    family = [
        _omu_broken_after({"conditions": ["cancer"], "clinician_recommends_pmp": True}),
        _omu_broken_after({"conditions": [], "clinician_recommends_pmp": False}),
        _omu_broken_after({}),
    ]
    extra = ["--from", "2022-12-01", "--to", "2023-02-01"] if command == "timeline" else []
    seen = set()
    for text in family:
        facts = tmp_path / "facts.json"
        facts.write_text(text, encoding="utf-8")
        code, out = _run(command, "pmp", "--packs", str(POLICIES), "--facts", str(facts), *extra)
        assert code == 2, out
        assert "`$.prisoner.omu`" in out
        assert "clinician" not in out and "conditions" not in out
        seen.add(_masked(out, facts))
    assert len(seen) == 1
    # the healthcare audience, who may see the clinical text, gets the place and the excerpt
    code, out = _run(
        "eval", "pmp", "--packs", str(POLICIES), "--facts", str(facts), "--audience", "healthcare"
    )
    assert code == 2 and re.search(r"facts\.json:1:[0-9]{3,}: error: `\$\.prisoner\.omu`", out)


def test_eval_yaml_a_value_yaml_cannot_read_in_the_clinical_record_is_left_out(
    tmp_path: Path,
) -> None:
    # a date that does not exist, unquoted, in the clinical record refused the whole document
    # for custodial staff, quoting the vaccination date
    absent = yaml.safe_dump(json.loads(FAMILY["no clinical record"]), sort_keys=False)
    doc = pmp_document("A1234BC", {"conditions": [], "vaccine_doses": [{"dose": 1}]})
    with_dose = yaml.safe_dump(json.loads(_text(doc)), sort_keys=False)
    assert "- dose: 1\n" in with_dose
    family = [
        absent,
        with_dose.replace("- dose: 1\n", "- dose: 1\n      date: 2021-02-30\n"),
        with_dose.replace("- dose: 1\n", "- dose: 1\n      date: 2022-02-31\n"),
    ]
    assert len(_eval_each(tmp_path, family)) == 1
    facts = tmp_path / "facts.yaml"
    code, out = _run(
        "eval", "pmp", "--packs", str(POLICIES), "--facts", str(facts),
        "--as-of", AS_OF, "--audience", "healthcare",
    )  # fmt: skip
    assert code == 2 and "`2022-02-31` is not a valid date [E-YAML]" in out


def test_a_custodial_reader_is_not_told_where_in_the_file_a_problem_below_the_clinical_record_is(
    tmp_path: Path,
) -> None:
    # a YAML value no reader takes, below the clinical record, was placed at a line that moved
    # with the number of clinical conditions listed above it (one a line)
    def with_conditions(conditions: list[str]) -> str:
        doc = pmp_document("A1234BC", {"conditions": conditions})
        doc["prisoner"]["release_date"] = "RELEASE"
        text = yaml.safe_dump(json.loads(_text(doc)), sort_keys=False, default_flow_style=False)
        return text.replace("RELEASE", "2024-02-30")  # unquoted: no such day

    family = [with_conditions(["cancer"]), with_conditions(["cancer", "blood_cancer"])]
    assert family[0].index("clinical") < family[0].index("2024-02-30")
    seen = set()
    for text in family:
        facts = tmp_path / "facts.yaml"
        facts.write_text(text, encoding="utf-8")
        code, out = _run("eval", "pmp", "--packs", str(POLICIES), "--facts", str(facts))
        assert code == 2, out
        assert "`2024-02-30` is not a valid date" in out
        seen.add(_masked(out, facts))
    assert len(seen) == 1
    code, out = _run(
        "eval", "pmp", "--packs", str(POLICIES), "--facts", str(facts), "--audience", "healthcare"
    )
    assert code == 2 and re.search(r"facts\.yaml:[0-9]+:[0-9]+: error: `2024-02-30`", out)
    assert " | " in out  # the line, with a caret under the value


@pytest.mark.parametrize("engine", ["duckdb", "python"])
@pytest.mark.parametrize("broken", ["twice", "not JSON"])
def test_batch_rejects_a_line_for_a_custodial_reader_at_no_column(
    tmp_path: Path, engine: str, broken: str
) -> None:
    # a line refused for a key given twice (outside the clinical record) or for not being JSON
    # was placed at a column that moved with the length of the clinical text before it
    def line(conditions: list[str]) -> str:
        text = _text(pmp_document("A1234BC", {"conditions": conditions}, omu={}))
        end = '"omu": {}'
        assert end in text
        if broken == "twice":
            return text.replace(end, '"omu": {}, "omu": {}')
        return text.replace(end, '"omu": {,}')

    seen = set()
    for i, conditions in enumerate((["cancer"], ["cancer", "blood_cancer"])):
        folder = tmp_path / str(i)
        folder.mkdir()
        facts = folder / "people.jsonl"
        facts.write_text(line(conditions) + "\n", encoding="utf-8")
        out = folder / "out.jsonl"
        code, printed = _run(
            "batch", "pmp", "--packs", str(POLICIES), "--facts", str(facts),
            "--as-of", AS_OF, "--engine", engine, "--threads", "1", "--out", str(out),
        )  # fmt: skip
        assert code == 0, printed
        rejects = (folder / "out.rejects.jsonl").read_text()
        assert "people.jsonl:1:" in rejects
        seen.add(_masked(printed + rejects, folder))
    assert len(seen) == 1


@pytest.mark.parametrize("command", ["upcoming", "impact"])
def test_a_population_line_that_is_not_json_is_refused_at_no_column(
    tmp_path: Path, command: str
) -> None:
    # a population line that is not JSON after the clinical record was refused at a column that
    # moved with the length of the clinical text before it, with that text quoted under it
    def line(conditions: list[str]) -> str:
        text = _text(pmp_document("A1234BC", {"conditions": conditions}, omu={}))
        return text.replace('"omu": {}', '"omu": {,}')

    seen = set()
    for conditions in (["cancer"], ["cancer", "blood_cancer"]):
        people = tmp_path / "people.jsonl"
        people.write_text(line(conditions) + "\n", encoding="utf-8")
        if command == "upcoming":
            args = ["upcoming", "pmp", "--facts", str(people), "--as-of", AS_OF]
        else:
            args = ["impact", "pmp", "--population", str(people), "--as-of", AS_OF]
            args += ["--from-version", "1", "--to-version", "2"]
        code, out = _run(*args, "--packs", str(POLICIES))
        assert code == 2, out
        assert "not JSON" in out and "cancer" not in out
        seen.add(_masked(out, people))
    assert len(seen) == 1
