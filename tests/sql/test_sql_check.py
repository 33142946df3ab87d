"""`regime check` says precisely when a pack reads more fact paths than the SQL mask holds."""

from __future__ import annotations

from pathlib import Path

import pytest

import engine
from engine.language import static_types as T
from engine.packs.facts_schema import root_types
from engine.sql.check import sql_problems
from engine.sql.expressions import MAX_PATHS
from engine.sql.query import compile_pack


def fact_reads() -> list[str]:
    """One condition per fact path of the schema (list fields through `any`), clinical aside."""
    found: list[str] = []

    def walk(t: T.Type, path: str) -> None:
        if path.endswith(".clinical"):
            return
        if t.kind == "record":
            for name, ft, _ in t.fields or ():
                walk(ft, f"{path}.{name}")
        elif t.kind == "list" and t.elem is not None and t.elem.kind == "record":
            for name, ft, _ in t.elem.fields or ():
                if ft.kind not in ("record", "list"):
                    found.append(f"any x in {path}: known(x.{name})")
        elif t.kind != "list":
            found.append(f"known({path})")

    for root, t in root_types().items():
        walk(t, root)
    return found


def write_pack(folder: Path, conditions: list[str]) -> Path:
    rules = "".join(
        f"  - id: R-{i}\n    title: Reads a fact\n    when: '{c}'\n"
        for i, c in enumerate(conditions, 1)
    )
    folder.mkdir()
    path = folder / "wide.yaml"
    path.write_text(
        "id: wide\ntitle: A pack reading many facts\nversion: 0.1.0\nstatus: draft\n"
        "source: {title: Generated}\n"
        'versions:\n  - {id: "1", effective_from: 2020-01-01, effective_to: null}\n'
        f"rules:\n{rules}",
        encoding="utf-8",
    )
    return path


def test_a_pack_over_the_mask_is_reported_with_its_count(tmp_path: Path) -> None:
    reads = fact_reads()
    assert len(reads) > MAX_PATHS
    path = write_pack(tmp_path / "wide", reads)
    packs = engine.load(path.parent)
    (found,) = sql_problems({"wide": packs["wide"]})
    assert found.code == "W-SQL-UNSUPPORTED" and found.severity == "warning"
    assert f"is fact path {MAX_PATHS + 1}" in found.message
    count = int(found.message.split("it reads ")[1].split()[0])
    assert count > MAX_PATHS
    # the rule named is the one whose condition reads the path over the limit
    rule = found.message.split("rule ")[1].split()[0]
    assert path.read_text().splitlines()[found.line - 1].strip().startswith("when:")
    assert f"id: {rule}" in path.read_text()


def test_a_pack_within_the_mask_compiles(tmp_path: Path) -> None:
    path = write_pack(tmp_path / "narrow", fact_reads()[:40])
    compiled = compile_pack(engine.load(path.parent)["wide"])
    assert MAX_PATHS >= len(compiled.paths) >= 40


def one_output_pack(folder: Path, value: str) -> Path:
    folder.mkdir()
    path = folder / "one.yaml"
    path.write_text(
        "id: one\ntitle: A pack with one output\nversion: 0.1.0\nstatus: draft\n"
        "source: {title: Generated}\n"
        'versions:\n  - {id: "1", effective_from: 2020-01-01, effective_to: null}\n'
        f"outputs:\n  shown:\n    value: '{value}'\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("value", "construct", "why"),
    [
        ("text(sum(h in [len(prisoner.alerts) / 2, 0.25]: h))", "text()", "different places"),
        ("round(1.25, 40)", "round()", "a SQL decimal holds at most 38 places"),
    ],
)
def test_a_construct_without_sql_is_named_with_the_pack_and_why(
    tmp_path: Path, value: str, construct: str, why: str
) -> None:
    path = one_output_pack(tmp_path / "one", value)
    (found,) = sql_problems({"one": engine.load(path.parent)["one"]})
    assert found.code == "W-SQL-UNSUPPORTED" and found.file == str(path)
    assert found.message.startswith("pack `one` cannot be compiled to SQL: output `shown`: ")
    assert construct in found.message and why in found.message
    assert found.line == 10  # the line of the output's value


@pytest.mark.parametrize(
    "value",
    [
        "(as_of - prisoner.release_date) / 2",
        "sum(a in prisoner.alerts: 0.5)",
        "sum(map(a in prisoner.alerts: len(a) * 0.25))",
        "round(1.25, len(prisoner.alerts))",
        "text(len(prisoner.alerts) * 0.5)",
        "text(round(sum(a in prisoner.alerts: 0.5), 2))",
        "text(sum(a in prisoner.alerts: 0.5))",
        "text(max(map(a in prisoner.alerts: len(a) * 0.25)))",
        "round(1.25, 12)",
        "round(len(prisoner.alerts) * 1.25, -2)",
    ],
)
def test_a_construct_with_a_sql_form_is_not_reported(tmp_path: Path, value: str) -> None:
    path = one_output_pack(tmp_path / "one", value)
    assert sql_problems({"one": engine.load(path.parent)["one"]}) == []
