"""A value that is one record or another keeps its fields when both name the same fields:
each field's types are joined, so a list built from several record literals (a `null` in
one, a text in another) is still a list of records with known fields, and its column in a
results file is a typed struct, not JSON text."""

from __future__ import annotations

from pathlib import Path

import engine
from engine.language import static_types as T
from engine.language.check import check
from engine.language.parse import parse
from engine.sql.output_columns import file_type, output_types
from tests.unit.language_scope import scope

ROOT = Path(__file__).resolve().parents[2]


def type_of(text: str) -> T.Type:
    checked = check(parse(text), scope())
    assert not checked.errors, checked.errors
    return checked.type


def test_records_of_the_same_fields_join_field_by_field() -> None:
    t = type_of('if p.a then {k: 1, note: null} else {k: 2.5, note: "text"}')
    assert t.kind == "record" and t.fields is not None
    (k, kt, _), (note, nt, nullable) = t.fields
    assert (k, kt.kind, note, nt.kind, nullable) == ("k", "decimal", "note", "string", True)


def test_records_of_other_fields_join_to_a_record_of_unknown_fields() -> None:
    for text in ("if p.a then {k: 1} else {j: 1}", 'if p.a then {k: 1} else {k: "x"}'):
        t = type_of(text)
        assert t.kind == "record" and t.fields is None


def test_a_list_of_findings_from_several_literals_is_a_typed_column() -> None:
    pack = engine.load(ROOT / "policies")["action_plan"]
    column = file_type(output_types(pack)["findings"])
    assert column.startswith("STRUCT(") and column.endswith(")[]")
    assert '"caveat" TEXT' in column
