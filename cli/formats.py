"""Machine-readable reports for CI: JUnit XML and SARIF 2.1.0."""

from __future__ import annotations

import json
import re
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
        case = ET.SubElement(suite, "testcase", classname="regime.check", name=_xml(file))
        errors = [p for p in by_file[file] if p.is_error]
        if errors:
            failures += 1
            node = ET.SubElement(
                case, "failure", message=_xml(errors[0].message), type=errors[0].code
            )
            node.text = _xml("\n".join(p.format() for p in errors))
        warnings = [p for p in by_file[file] if not p.is_error]
        if warnings:
            out = ET.SubElement(case, "system-out")
            out.text = _xml("\n".join(p.format() for p in warnings))
    for pack in packs:
        ET.SubElement(suite, "testcase", classname="regime.check.pack", name=pack)
    suite.set("tests", str(len(suite.findall("testcase"))))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    return ET.tostring(suite, encoding="unicode", xml_declaration=True)


def cases_junit(results: list[Any], problems: Iterable[Problem] = ()) -> str:
    """Worked examples as JUnit: one test case each, grouped by file; a case that could not
    run is an error, one whose results differ a failure; each file of examples or pack that
    did not load is a test case in error of its own, so that a report never looks green
    while the run failed."""
    suite = ET.Element("testsuite", name="regime test")
    failures = errors = 0
    by_file: dict[str, list[Problem]] = {}
    for p in problems:
        if p.is_error:
            by_file.setdefault(p.file, []).append(p)
    for file, found in sorted(by_file.items()):
        errors += 1
        case = ET.SubElement(suite, "testcase", classname="regime.test", name=_xml(file))
        node = ET.SubElement(case, "error", message=_xml(found[0].message), type=found[0].code)
        node.text = _xml("\n".join(p.format() for p in found))
    for r in results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=_xml(f"{r.case.pack}.{r.case.file}"),
            name=_xml(r.case.name),
            file=_xml(r.case.file),
            line=str(r.case.line),
        )
        if not r.passed:
            kind = "error" if r.errored else "failure"
            if r.errored:
                errors += 1
            else:
                failures += 1
            node = ET.SubElement(case, kind, message=_xml(r.failures[0]))
            node.text = _xml("\n".join(r.failures))
    suite.set("tests", str(len(suite.findall("testcase"))))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    return ET.tostring(suite, encoding="unicode", xml_declaration=True)


# characters XML 1.0 cannot hold, even escaped (control characters but tab and newlines,
# lone surrogates, U+FFFE and U+FFFF): written as `\xNN`/`\uNNNN` so the report parses
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml(text: str) -> str:
    """`text` with the characters XML cannot hold written as escapes (ElementTree escapes
    `<`, `&` and `>` itself)."""
    return _NOT_XML.sub(lambda m: ascii(m.group())[1:-1], text)


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
