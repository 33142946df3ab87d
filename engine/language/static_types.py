"""Static types of the expression language, and the types of facts read from a JSON Schema."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from engine.language.runtime import Months


@dataclass(frozen=True)
class Type:
    """A static type. `values` makes it an enumeration; `healthcare` marks need-to-know data."""

    kind: str  # any null bool int decimal string date duration months list record
    elem: Type | None = None
    fields: tuple[tuple[str, Type, bool], ...] | None = None  # (name, type, nullable)
    values: frozenset[Any] | None = field(default=None, compare=False)
    name: str | None = field(default=None, compare=False)
    healthcare: bool = field(default=False, compare=False)
    null_none: bool = field(default=False, compare=False)  # a fact whose null is a known none
    # (with null_none) the sibling field and its values for which that null is a known none;
    # under any other value of it, or none, the null is not known (`x-null-none-when`)
    none_when: tuple[str, tuple[Any, ...]] | None = field(default=None, compare=False)

    def describe(self) -> str:
        if self.kind == "list":
            return f"list of {self.elem.describe() if self.elem else 'anything'}"
        if self.values is not None and self.name:
            # the kind first: "a `kind` value" alone left authors guessing text or number
            return f"{_NAMES.get(self.kind, self.kind)} (a `{self.name}` value)"
        return _NAMES.get(self.kind, self.kind)

    def field(self, name: str) -> tuple[Type, bool] | None:
        for fname, ftype, nullable in self.fields or ():
            if fname == name:
                return ftype, nullable
        return None

    def field_names(self) -> list[str]:
        return [f for f, _, _ in self.fields or ()]

    def unmarked(self) -> Type:
        """This type without the healthcare-only mark (for a declared release)."""
        elem = self.elem.unmarked() if self.elem is not None else None
        fields = (
            tuple((n, t.unmarked(), nl) for n, t, nl in self.fields) if self.fields else self.fields
        )
        return Type(
            self.kind, elem, fields, self.values, self.name, False, self.null_none, self.none_when
        )

    def marked(self, healthcare: bool) -> Type:
        """This type, marked healthcare-only when `healthcare` is set."""
        if not healthcare or self.healthcare:
            return self
        return Type(
            self.kind,
            self.elem,
            self.fields,
            self.values,
            self.name,
            True,
            self.null_none,
            self.none_when,
        )


_NAMES = {
    "any": "anything",
    "null": "null",
    "bool": "boolean",
    "int": "integer",
    "decimal": "decimal",
    "string": "string",
    "date": "date",
    "duration": "duration (exact)",
    "months": "duration (calendar)",
    "record": "record",
}

ANY = Type("any")
NULL = Type("null")
BOOL = Type("bool")
INT = Type("int")
DECIMAL = Type("decimal")
STRING = Type("string")
DATE = Type("date")
DURATION = Type("duration")
MONTHS = Type("months")


def article(t: Type) -> str:
    """`a date`, `an integer`: the type's description with its article."""
    text = t.describe()
    return ("an " if text[:1] in "aeiou" else "a ") + text


def list_of(elem: Type) -> Type:
    return Type("list", elem=elem, healthcare=elem.healthcare)


def record_of(fields: list[tuple[str, Type, bool]]) -> Type:
    return Type("record", fields=tuple(fields))


def enum_of(kind: str, values: list[Any], name: str) -> Type:
    return Type(kind, values=frozenset(values), name=name)


def is_numeric(t: Type) -> bool:
    return t.kind in ("int", "decimal", "any")


def is_bool(t: Type) -> bool:
    return t.kind in ("bool", "any")


def vague(t: Type) -> bool:
    return t.kind in ("any", "null")


def compatible(a: Type, b: Type) -> bool:
    """Whether values of the two types can be compared for equality."""
    if vague(a) or vague(b):
        return True
    if is_numeric(a) and is_numeric(b):
        return True
    if a.kind != b.kind:
        return False
    if a.kind == "list" and a.elem and b.elem:
        return compatible(a.elem, b.elem)
    return True


def join(a: Type, b: Type) -> Type | None:
    """The type of a value that is one or the other, or None when they do not fit."""
    if vague(a):
        return b.marked(a.healthcare)
    if vague(b):
        return a.marked(b.healthcare)
    hc = a.healthcare or b.healthcare
    if is_numeric(a) and is_numeric(b):
        return (DECIMAL if "decimal" in (a.kind, b.kind) else INT).marked(hc)
    if a.kind != b.kind:
        return None
    if a.kind == "list":
        elem = join(a.elem or ANY, b.elem or ANY)
        return None if elem is None else list_of(elem).marked(hc)
    if a.values is not None and b.values is not None:
        return Type(a.kind, values=a.values | b.values, name=a.name, healthcare=hc)
    if a.kind == "record" and a.fields != b.fields:
        if not (a.fields and b.fields):
            return a.marked(hc)
        fields = _join_fields(a.fields, b.fields)
        return Type("record", fields=fields, healthcare=hc)
    return Type(a.kind, a.elem, a.fields, healthcare=hc)


def _join_fields(
    a: tuple[tuple[str, Type, bool], ...], b: tuple[tuple[str, Type, bool], ...]
) -> tuple[tuple[str, Type, bool], ...] | None:
    """The fields of a record that is one or the other: the same names in the same order,
    each field's types joined (a `null` in one and a text in the other is a text that may be
    null); None, a record of unknown fields, when they differ."""
    if [n for n, _, _ in a] != [n for n, _, _ in b]:
        return None
    fields = []
    for (name, at, an), (_, bt, bn) in zip(a, b, strict=True):
        t = join(at, bt)
        if t is None:
            return None
        fields.append((name, t, an or bn or vague(at) or vague(bt)))
    return tuple(fields)


def type_of_value(value: Any) -> Type:
    """The type of a literal value (parameters, vocabulary ids, table cells)."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, Decimal | float):
        return DECIMAL
    if isinstance(value, str):
        return STRING
    if isinstance(value, dt.date):
        return DATE
    if isinstance(value, dt.timedelta):
        return DURATION
    if isinstance(value, Months):
        return MONTHS
    if isinstance(value, list | tuple):
        t: Type | None = NULL
        for v in value:
            t = join(t or NULL, type_of_value(v)) or ANY
        return list_of(t or ANY)
    if isinstance(value, Mapping):
        return record_of([(str(k), type_of_value(v), v is None) for k, v in value.items()])
    return ANY


def from_json_schema(
    node: Mapping[str, Any], resolve: Any, name: str = "", healthcare: bool = False
) -> Type:
    """The static type of the values a JSON Schema node admits.

    `resolve(ref)` returns the schema a `$ref` points at. `x-audience: healthcare`
    marks the node and everything under it as healthcare-only. `x-null: none` marks a
    nullable field whose explicit null is a known none (absent stays unknown);
    `x-null-none-when: {field: F, in: [...]}` beside it makes that null a known none only where
    the sibling field F holds one of those values (elsewhere the null is not known).
    """
    t = _from_json_schema(node, resolve, name, healthcare)
    if node.get("x-null") == "none":
        when = node.get("x-null-none-when")
        none_when = (str(when["field"]), tuple(when["in"])) if isinstance(when, Mapping) else None
        return Type(t.kind, t.elem, t.fields, t.values, t.name, t.healthcare, True, none_when)
    return t


def _from_json_schema(
    node: Mapping[str, Any], resolve: Any, name: str = "", healthcare: bool = False
) -> Type:
    """The static type of a JSON Schema node, before its `x-null` reading."""
    if "$ref" in node:
        target = resolve(node["$ref"])
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return from_json_schema(merged, resolve, name, healthcare)
    healthcare = healthcare or node.get("x-audience") == "healthcare"
    kinds = node.get("type", "any")
    if isinstance(kinds, list):
        non_null = [k for k in kinds if k != "null"]
        kind = non_null[0] if len(non_null) == 1 else "any"
    else:
        kind = kinds
    if "enum" in node:
        values = [v for v in node["enum"] if v is not None]
        base = "int" if all(isinstance(v, int) for v in values) else "string"
        return Type(base, values=frozenset(values), name=name or None, healthcare=healthcare)
    if kind == "object":
        props = node.get("properties", {})
        fields = [
            (key, from_json_schema(sub, resolve, key, healthcare), True)
            for key, sub in props.items()
        ]
        return Type("record", fields=tuple(fields), healthcare=healthcare)
    if kind == "array":
        elem = from_json_schema(node.get("items", {}), resolve, name, healthcare)
        return Type("list", elem=elem, healthcare=healthcare)
    if kind == "string":
        fmt = node.get("format")
        if fmt == "date":
            return Type("date", healthcare=healthcare)
        return Type("string", healthcare=healthcare)
    if kind == "integer":
        lo, hi = node.get("minimum"), node.get("maximum")
        if isinstance(lo, int) and isinstance(hi, int) and hi - lo <= 20:
            return Type(
                "int", values=frozenset(range(lo, hi + 1)), name=name or None, healthcare=healthcare
            )
        return Type("int", healthcare=healthcare)
    if kind == "number":
        return Type("decimal", healthcare=healthcare)
    if kind == "boolean":
        return Type("bool", healthcare=healthcare)
    return Type("any", healthcare=healthcare)
