"""Machine-readable reports for CI: JUnit XML and SARIF 2.1.0."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any

from engine.problems import Problem

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def problems_junit(problems: list[Problem], packs: Iterable[str]) -> str:
    """One test case per checked file; each error is a failure of its file's case."""
    by_file: dict[str, list[Problem]] = {}
    for p in problems:
        by_file.setdefault(p.file, []).append(p)
    suite = ET.Element("testsuite", name="regime check")
    failures = 0
    for file in sorted(by_file):
        case = ET.SubElement(suite, "testcase", classname="regime.check", name=file)
        errors = [p for p in by_file[file] if p.is_error]
        if errors:
            failures += 1
            node = ET.SubElement(case, "failure", message=errors[0].message, type=errors[0].code)
            node.text = "\n".join(p.format() for p in errors)
        warnings = [p for p in by_file[file] if not p.is_error]
        if warnings:
            out = ET.SubElement(case, "system-out")
            out.text = "\n".join(p.format() for p in warnings)
    for pack in packs:
        ET.SubElement(suite, "testcase", classname="regime.check.pack", name=pack)
    suite.set("tests", str(len(suite.findall("testcase"))))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    return ET.tostring(suite, encoding="unicode", xml_declaration=True)


def cases_junit(results: list[Any]) -> str:
    """Worked examples as JUnit: one test case each, grouped by file."""
    suite = ET.Element("testsuite", name="regime test")
    failures = 0
    for r in results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"{r.case.pack}.{r.case.file}",
            name=r.case.name,
            file=r.case.file,
            line=str(r.case.line),
        )
        if not r.passed:
            failures += 1
            node = ET.SubElement(case, "failure", message=r.failures[0])
            node.text = "\n".join(r.failures)
    suite.set("tests", str(len(results)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    return ET.tostring(suite, encoding="unicode", xml_declaration=True)


def problems_sarif(problems: list[Problem]) -> str:
    """SARIF 2.1.0: one run of the `regime` tool; one result per problem, with its region."""
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for p in problems:
        rules.setdefault(
            p.code,
            {
                "id": p.code,
                "shortDescription": {"text": p.code},
                "helpUri": "https://regime.example/docs/errors#" + p.code.lower(),
            },
        )
        region: dict[str, int] = {"startLine": p.line, "startColumn": p.col}
        if (
            p.end_line is not None
            and p.end_col is not None
            and ((p.end_line, p.end_col) > (p.line, p.col))
        ):
            region["endLine"] = p.end_line
            region["endColumn"] = p.end_col
        message = p.message + (f" (hint: {p.hint})" if p.hint else "")
        results.append(
            {
                "ruleId": p.code,
                "level": "error" if p.is_error else "warning",
                "message": {"text": message},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": p.file.replace("\\", "/")},
                            "region": region,
                        }
                    }
                ],
            }
        )
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "regime",
                        "informationUri": "https://regime.example/",
                        "rules": [rules[k] for k in sorted(rules)],
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(doc, indent=2)
