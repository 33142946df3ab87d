"""Facts: the types of facts from their JSON Schema, validation of a facts document, and
conversion of its JSON values (ISO dates, numbers) into evaluation values."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import re
import sys
from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from engine.language import static_types as T
from engine.language.convert import json_key, to_json
from engine.packs.facts_validator import Check, Converting, Unsupported, generate_check
from engine.packs.read_yaml import max_input_bytes, read_text_file
from engine.packs.reserved import holds_reserved, reserved_problem, reserved_value
from engine.packs.resources import load_schema
from engine.packs.validate_schema import json_path, validate_document
from engine.packs.yaml_compose import read_yaml_apart
from engine.problems import Code, FactsError, PackError, Problem, file_problem


def _inline(node: Any, doc: Mapping[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """The schema with every `$ref` replaced by what it points at (recursion is cut off)."""
    if isinstance(node, list):
        return [_inline(n, doc, seen) for n in node]
    if not isinstance(node, Mapping):
        return node
    if "$ref" in node:
        ref = str(node["$ref"])
        file, _, pointer = ref.partition("#")
        target_doc = load_schema(Path(file).name) if file else doc
        target: Any = target_doc
        for part in [p for p in pointer.split("/") if p]:
            target = target[part]
        if ref in seen:
            return {"description": target.get("description", ""), "type": "object"}
        rest = {k: v for k, v in node.items() if k != "$ref"}
        return _inline({**target, **rest}, target_doc, (*seen, ref))
    return {k: _inline(v, doc, seen) for k, v in node.items()}


def resolve_facts_schema(value: Any, pack_file: str) -> str:
    """The facts schema a pack names, as a shipped schema's name or an absolute path: a path
    ending `.json` is relative to the pack; a bare name is looked for first in a `schemas`
    folder beside the pack (`schemas/<name>.schema.json`, `schemas/facts/...`), then among the
    engine's own. Raises FileNotFoundError when there is none."""
    if value is None:
        return "facts"
    name = str(value)
    here = Path(pack_file).resolve().parent
    if name.endswith(".json"):
        path = (here / name).resolve()
        if not path.is_file():
            raise FileNotFoundError(f"no file `{name}` beside the pack")
        return str(path)
    for folder in (here / "schemas", here / "schemas" / "facts"):
        candidate = folder / f"{name}.schema.json"
        if candidate.is_file():
            return str(candidate.resolve())
    from engine.packs.resources import schema_path

    schema_path(name)  # raises FileNotFoundError when the engine has no such schema either
    return name


@cache
def facts_schema(name: str = "facts") -> dict[str, Any]:
    """The facts schema `name` with its references inlined."""
    schema = load_schema(name)
    inlined: dict[str, Any] = _inline(schema, schema)
    return inlined


@cache
def root_types(name: str = "facts") -> dict[str, T.Type]:
    """The static type of each root of a facts document (`as_of` aside)."""
    schema = facts_schema(name)
    return {
        key: T.from_json_schema(sub, lambda ref: {}, key)
        for key, sub in schema.get("properties", {}).items()
        if key != "as_of"
    }


# a number as JSON writes it: how a CSV cell of a number fact is told from text (both readers)
JSON_NUMBER = r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?"


def cell_kind(types: Mapping[str, T.Type], column: str) -> str:
    """The kind of the fact a CSV column's dotted path names (`types`: the roots' types, as
    `root_types` gives them), which says how its cells read; `any` where the facts have no
    such path (the facts check then names the field as unknown)."""
    root, *rest = column.split(".")
    t: T.Type | None = types.get(root)
    for part in rest:
        found = t.field(part) if t is not None and t.kind == "record" else None
        t = found[0] if found is not None else None
    return "any" if t is None else t.kind


@cache
def healthcare_roots(name: str = "facts") -> tuple[str, ...]:
    """The fact paths at which healthcare-only data begins (e.g. one record of clinical facts)."""
    found: list[str] = []

    def walk(t: T.Type, path: str) -> None:
        if t.healthcare:
            found.append(path)
            return
        if t.kind == "record":
            for fname, ftype, _ in t.fields or ():
                walk(ftype, f"{path}.{fname}")
        elif t.kind == "list" and t.elem is not None:
            walk(t.elem, f"{path}[]")

    for root, t in root_types(name).items():
        walk(t, root)
    return tuple(found)


def is_healthcare_path(path: str, name: str = "facts") -> bool:
    return any(
        path == r or path.startswith(r + ".") or path.startswith(r + "[")
        for r in healthcare_roots(name)
    )


_PATH_PART = re.compile(r"\[[^\]]*\]|[^.\[\]]+")


def _schema_child(node: Mapping[str, Any], part: str) -> Mapping[str, Any] | None:
    """The schema of `part` under `node`: a list's element for `[]` (or `[n]`), else the
    property of that name, looked for also in the `allOf`/`anyOf`/`oneOf` branches."""
    key = "items" if part.startswith("[") else None
    for branch in (node, *(b for k in ("allOf", "anyOf", "oneOf") for b in node.get(k) or ())):
        if not isinstance(branch, Mapping):
            continue
        found = branch.get("items") if key else (branch.get("properties") or {}).get(part)
        if isinstance(found, Mapping):
            return found
    return None


def fact_type(path: str, name: str = "facts") -> T.Type | None:
    """The static type of the fact at `path` (`a.b[].c`: a field of a list's elements), or
    None where the facts schema `name` has no such fact."""
    root, *parts = _PATH_PART.findall(path)
    t: T.Type | None = root_types(name).get(root)
    for part in parts:
        if t is None:
            return None
        if part.startswith("["):
            t = t.elem if t.kind == "list" else None
        else:
            found = t.field(part) if t.kind == "record" else None
            t = found[0] if found is not None else None
    return t


@cache
def fact_description(path: str, name: str = "facts") -> str | None:
    """What the facts schema `name` says the fact at `path` is (its `description`, spaces
    folded), so a reader asked for a fact learns what it is; a list element's field, as in
    `a.b[].c`, is described by the list's `items`. None where the schema says nothing of it."""
    node: Mapping[str, Any] | None = facts_schema(name)
    for part in _PATH_PART.findall(path):
        node = _schema_child(node, part) if node is not None else None
    text = node.get("description") if node is not None else None
    if not isinstance(text, str):
        return None
    return " ".join(text.split()) or None


# Limits on a facts document, checked before the schema (which would otherwise recurse or
# compare values that are not numbers): nesting, text and list lengths, number sizes.
MAX_DEPTH = 64
MAX_STRING = 100_000
MAX_LIST = 100_000
MAX_DIGITS = 30


class HugeNumber(str):
    """An integer in a JSON document with more digits than any fact may have (kept as text)."""


class UnreadablePart(str):
    """What stands, in a document read, for a healthcare-only part whose text cannot be read as
    data (a key given twice in one of its objects): the reader's problem is kept with it. The
    facts check reports that problem, so the healthcare audience gets it as the reader words it,
    while a custodial audience is decided without the part, as for any other problem inside it;
    refusing the whole document instead would tell custodial staff which clinical key, where."""

    problem: Problem

    def __new__(cls, problem: Problem) -> UnreadablePart:
        made = super().__new__(cls, "")
        made.problem = problem
        return made


def _digits(value: int | str) -> str:
    """How many digits a huge integer has, without writing it out (Python refuses to write
    integers of more than 4,300 digits as text)."""
    if isinstance(value, str):
        return str(len(value.lstrip("-")))
    bits = abs(value).bit_length()
    if bits <= 10_000:
        return str(len(str(abs(value))))
    return f"about {int(bits * math.log10(2)) + 1:,}"


def _limits(value: Any, path: str, file: str, depth: int, out: list[Problem]) -> None:
    """Problems with values no schema check should see: too deep, too long, not a number."""
    if len(out) >= 20:
        return

    def problem(code: Code, message: str, hint: str) -> None:
        out.append(file_problem(code, file, f"`{path}`: {message}", hint))

    if isinstance(value, UnreadablePart):
        out.append(value.problem)
    elif depth > MAX_DEPTH:
        problem("E-FACTS-DEPTH", f"nested more than {MAX_DEPTH} levels deep", "flatten the facts")
    elif isinstance(value, HugeNumber) or (
        isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**MAX_DIGITS
    ):
        problem(
            "E-FACTS-NUMBER",
            f"a number of {_digits(value)} digits; at most {MAX_DIGITS - 1}",
            "no fact is that large: check the value",
        )
    elif isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        problem("E-FACTS-NUMBER", "not a number (NaN or infinity)", "write a number, or null")
    elif isinstance(value, str) and len(value) > MAX_STRING:
        problem(
            "E-FACTS-LIMIT", f"text of {len(value)} characters; at most {MAX_STRING}", "shorten it"
        )
    elif isinstance(value, list | tuple):
        if len(value) > MAX_LIST:
            problem(
                "E-FACTS-LIMIT", f"a list of {len(value)} items; at most {MAX_LIST}", "split it"
            )
            return
        for i, v in enumerate(value):
            _limits(v, f"{path}[{i}]", file, depth + 1, out)
    elif isinstance(value, Mapping):
        for k, v in value.items():
            _limits(v, f"{path}.{k}", file, depth + 1, out)


_OVER = 1  # a value past the limits (`_limits` words it)
_DECIMAL = 2  # a Decimal somewhere (which the compiled check leaves to the full validator)
_HUGE = 10**MAX_DIGITS


def _scan(value: Any, depth: int = 0) -> int:
    """What `_limits` would find, quickly (no paths are built): `_OVER` when it might find a
    problem, with `_DECIMAL` when the value holds a Decimal."""
    if depth > MAX_DEPTH:
        return _OVER
    cls = value.__class__
    if cls is str:
        return _OVER if len(value) > MAX_STRING else 0
    if cls is bool or value is None or cls is dt.date:
        return 0
    if cls is int:
        return 0 if -_HUGE < value < _HUGE else _OVER
    if cls is dict:
        found = 0
        for v in value.values():
            found |= _scan(v, depth + 1)
        return found
    if cls is list:
        if len(value) > MAX_LIST:
            return _OVER
        found = 0
        for v in value:
            found |= _scan(v, depth + 1)
        return found
    if cls is float:
        return 0 if value == value and value not in (float("inf"), float("-inf")) else _OVER
    if cls is Decimal:
        return _DECIMAL
    return _OVER  # anything else: `_limits` decides, on the full path


def validate_facts(data: Any, file: str = "<facts>", name: str = "facts") -> list[Problem]:
    """Every way `data` departs from the facts schema, each with its JSON path."""
    found: list[Problem] = []
    _limits(data, "$", file, 0, found)
    if found:
        return found
    instance = to_json(data, exact_numbers=True)
    found = validate_document(instance, name, file)
    _reserved(instance, facts_schema(name), (), file, found)
    return found


def _reserved(
    value: Any, node: Any, path: tuple[str | int, ...], file: str, out: list[Problem]
) -> None:
    """A problem for each value the SQL facts tables keep as a recorded none held in a field
    whose null is one (`engine.packs.reserved`), along the schema's properties and items."""
    if not isinstance(node, Mapping):
        return
    reserved = reserved_value(node)
    if reserved is not None and holds_reserved(value, reserved):
        message, hint = reserved_problem(reserved)
        out.append(file_problem("E-FACTS", file, f"`{json_path(path)}`: {message}", hint))
        return
    if value.__class__ is dict:
        properties = node.get("properties")
        if isinstance(properties, Mapping):
            for key, v in value.items():
                if key in properties:
                    _reserved(v, properties[key], (*path, key), file, out)
    elif value.__class__ is list and isinstance(node.get("items"), Mapping):
        for i, v in enumerate(value):
            _reserved(v, node["items"], (*path, i), file, out)
    for member in node.get("allOf") or ():
        _reserved(value, member, path, file, out)


def convert(value: Any, t: T.Type) -> Any:
    """A validated JSON value as an evaluation value of type `t`."""
    if value is None:
        return None
    kind = t.kind
    if kind == "date":
        if isinstance(value, str):
            return dt.date.fromisoformat(value)
        return value
    if kind == "decimal" and isinstance(value, float | int) and not isinstance(value, bool):
        return Decimal(str(value))
    if kind == "int" and isinstance(value, float | Decimal):
        return _whole(value)
    if kind == "record" and isinstance(value, Mapping):
        out = {}
        for key, v in value.items():
            found = t.field(key)
            out[key] = convert(v, found[0]) if found else v
        return out
    if kind == "list" and isinstance(value, list) and t.elem is not None:
        return [convert(v, t.elem) for v in value]
    return value


NullRule = tuple[tuple[str, ...], str, str, tuple[Any, ...]]


@cache
def null_rules(name: str = "facts") -> tuple[NullRule, ...]:
    """Each field of schema `name` whose null is a known none only under a value of a sibling
    field (`x-null-none-when`): the keys to its record from the document's root (`[]` for
    each element of a list), the field, the sibling and its values."""
    found: list[NullRule] = []

    def walk(t: T.Type, at: tuple[str, ...]) -> None:
        if t.kind == "record":
            for n, ft, _ in t.fields or ():
                if ft.none_when is not None:
                    found.append((at, n, ft.none_when[0], ft.none_when[1]))
                walk(ft, (*at, n))
        elif t.kind == "list" and t.elem is not None:
            walk(t.elem, (*at, "[]"))

    for root, t in root_types(name).items():
        walk(t, (root,))
    return tuple(found)


def settle_nulls(doc: dict[str, Any], name: str = "facts") -> dict[str, Any]:
    """A converted document with each null that its sibling makes not known left out (as if
    absent, so unknown); the document itself, unchanged, when there is none (copy on write)."""
    rules = _NULL_RULES.get(name)
    if rules is None:
        rules = _NULL_RULES[name] = null_rules(name)
    for at, field, sibling, values in rules:
        if len(at) == 1:  # (a field of a root record, in line: the walk only for its null)
            record = doc.get(at[0])
            if record.__class__ is not dict or record.get(field, 0) is not None:
                continue
        doc = _settled(doc, at, 0, field, sibling, values)
    return doc


_NULL_RULES: dict[str, tuple[NullRule, ...]] = {}


def _settled(
    node: Any, at: tuple[str, ...], i: int, field: str, sibling: str, values: tuple[Any, ...]
) -> Any:
    if i == len(at):
        if (
            node.__class__ is dict
            and field in node
            and node[field] is None
            and not any(
                v == node.get(sibling) and v.__class__ is node.get(sibling).__class__
                for v in values
            )
        ):
            node = {k: v for k, v in node.items() if k != field}
        return node
    step = at[i]
    if step == "[]":
        if node.__class__ is not list:
            return node
        items = [_settled(x, at, i + 1, field, sibling, values) for x in node]
        return items if any(a is not b for a, b in zip(items, node, strict=True)) else node
    if node.__class__ is not dict or step not in node:
        return node
    child = node[step]
    new = _settled(child, at, i + 1, field, sibling, values)
    if new is child:
        return node
    return {**node, step: new}


@cache
def _compiled(name: str) -> Check | None:
    """The facts schema compiled once into a check (None: it uses a keyword the check lacks)."""
    try:
        return generate_check(facts_schema(name), name)
    except Unsupported:
        return None


@cache
def _compiled_with_limits(name: str) -> Check | None:
    """The compiled check that also does `_scan`'s work in the same walk: falsy when unsure
    (schema or limits), 2 when the document holds a Decimal, else True."""
    try:
        limits = (MAX_DEPTH, MAX_STRING, MAX_LIST, MAX_DIGITS)
        return generate_check(facts_schema(name), name, _scan, limits)
    except Unsupported:
        return None


@cache
def _compiled_converting(name: str) -> Callable[[Any], Any] | None:
    """`_compiled_with_limits` that converts the document in the same walk: `(True or 2, the
    prepared facts, 1 when a null there may need settling)` for a document it is sure of,
    falsy otherwise (None: no such check)."""
    schema = facts_schema(name)
    as_of = (schema.get("properties") or {}).get("as_of")
    if as_of is not None and (
        not isinstance(as_of, Mapping) or as_of.get("type") not in ("string", ["string", "null"])
    ):
        return None  # `as_of` is read as a date only when text, as any typed date is
    fields = [(key, t, True) for key, t in root_types(name).items()]
    if as_of is not None:
        fields.append(("as_of", T.Type("date"), True))
    root = T.Type("record", fields=tuple(fields))
    converting = Converting(root, _converter, _json_exact)
    try:
        limits = (MAX_DEPTH, MAX_STRING, MAX_LIST, MAX_DIGITS)
        return generate_check(schema, name, _scan, limits, converting)
    except Unsupported:
        return None


def _json_exact(value: Any) -> Any:
    return to_json(value, exact_numbers=True)


# keywords of a record or list schema on the way to a healthcare root under which taking the
# root away cannot make a valid document invalid (with the root not `required`)
_SPLIT_SAFE = frozenset(
    {"type", "properties", "additionalProperties", "required", "items", "maxItems"}
)


@cache
def _split_keeps_valid(name: str) -> bool:
    """Whether a document the facts check passes surely still passes without its healthcare
    roots: every schema on the way to each root only types, lists and requires properties
    (no conditions, no combinations), and no root is required."""
    schema = facts_schema(name)
    for root in healthcare_roots(name):
        node: Any = schema
        for part in root.split("."):
            key = part[:-2] if part.endswith("[]") else part
            if not isinstance(node, Mapping) or not _only_safe(node):
                return False
            if key in (node.get("required") or ()) or key not in (node.get("properties") or {}):
                return False
            node = node["properties"][key]
            if part.endswith("[]"):
                if not isinstance(node, Mapping) or not _only_safe(node) or "items" not in node:
                    return False
                node = node["items"]
    return True


def _only_safe(node: Mapping[str, Any]) -> bool:
    return all(k in _SPLIT_SAFE or k.startswith("x-") or k in _DESCRIBING for k in node)


_DESCRIBING = frozenset(
    {"$schema", "$id", "$comment", "title", "description", "examples", "default"}
)


_FIELDS: dict[int, tuple[T.Type, dict[str, T.Type]]] = {}
"""Each record type's fields by name (the type is kept, so its id stays its own)."""


def _convert_given(value: Any, t: T.Type) -> Any:
    """`convert(to_json(value, exact_numbers=True), t)` for a value the compiled check passed,
    without building the JSON form first."""
    if value is None:
        return None
    kind = t.kind
    if kind == "date":
        if isinstance(value, str):
            return dt.date.fromisoformat(value)
        if value.__class__ is dt.date:
            return value
    elif kind == "decimal":
        if isinstance(value, float | int) and not isinstance(value, bool):
            return Decimal(str(value))
    elif kind == "int" and isinstance(value, float | Decimal):
        return _whole(value)
    elif kind == "record" and value.__class__ is dict:
        fields = _FIELDS.get(id(t))
        if fields is None:
            by_name: dict[str, T.Type] = {}
            for fname, ftype, _ in t.fields or ():
                by_name.setdefault(fname, ftype)  # the first, as `Type.field` finds it
            fields = _FIELDS[id(t)] = (t, by_name)
        out = {}
        for key, v in value.items():
            ft = fields[1].get(key)
            out[key] = _convert_given(v, ft) if ft is not None else to_json(v, exact_numbers=True)
        return out
    elif kind == "list" and value.__class__ is list and t.elem is not None:
        elem = t.elem
        return [_convert_given(v, elem) for v in value]
    if value.__class__ is str or value.__class__ is bool or value.__class__ is int:
        return value
    return to_json(value, exact_numbers=True)


def _whole(value: float | Decimal) -> Any:
    """A whole number given as `1.0` (JSON Schema counts it an integer) as the integer the
    schema types it; a number that is not whole is left as it is (the check refuses it)."""
    if value.__class__ is not bool and value == value and abs(value) != float("inf"):
        if value == int(value):
            return int(value)
    return to_json(value, exact_numbers=True)


Convert = Callable[[Any], Any]
_PLAIN_FIELD: Convert = lambda v: v  # noqa: E731  (a marker: a field of a plain kind)
_CONVERTERS: dict[int, tuple[T.Type, Convert]] = {}


def _converter(t: T.Type) -> Convert:
    """`_convert_given(value, t)` specialised for one type, made once: a record's fields of a
    plain kind (text, truth value, whole number...) are converted inline, not by a call."""
    made = _CONVERTERS.get(id(t))
    if made is not None:
        return made[1]
    kind = t.kind
    fn: Convert
    if kind == "record":
        by_name: dict[str, Convert] = {}
        plain_types: dict[str, T.Type] = {}
        for fname, ftype, _ in t.fields or ():
            if fname not in by_name:  # the first, as `Type.field` finds it
                plain = ftype.kind not in ("date", "decimal", "record", "list")
                by_name[fname] = _PLAIN_FIELD if plain else _converter(ftype)
                plain_types[fname] = ftype

        def fn(value: Any) -> Any:
            if value.__class__ is not dict:
                return _convert_given(value, t)
            out = {}
            for key, v in value.items():
                c = by_name.get(key)
                if c is _PLAIN_FIELD:
                    cls = v.__class__
                    if cls is str or cls is bool or cls is int or v is None:
                        out[key] = v
                    else:  # a whole number written `1.0`, or a value of no plain class
                        out[key] = _convert_given(v, plain_types[key])
                elif c is None:
                    out[key] = to_json(v, exact_numbers=True)
                else:
                    out[key] = c(v)
            return out

    elif kind == "list" and t.elem is not None:
        each = _converter(t.elem)

        def fn(value: Any) -> Any:
            if value.__class__ is not list:
                return _convert_given(value, t)
            return [each(v) for v in value]

    elif kind == "date":

        def fn(value: Any) -> Any:
            cls = value.__class__
            if cls is dt.date or value is None:
                return value
            if cls is str:
                return dt.date.fromisoformat(value)
            return _convert_given(value, t)

    else:

        def fn(value: Any) -> Any:
            return _convert_given(value, t)

    _CONVERTERS[id(t)] = (t, fn)
    return fn


_WALKS: dict[str, tuple[Callable[[Any], Any] | None, bool]] = {}
"""Each facts schema's converting walk and `_split_keeps_valid`, by name: one lookup a document."""


def _prepare_fast(data: Any, name: str, custodial: bool = False) -> dict[str, Any] | None:
    """The prepared facts when the compiled check is sure the document is valid (and, for a
    custodial audience, so is what custodial staff may see), else None: the full path decides."""
    found = _WALKS.get(name)
    if found is None:
        found = _WALKS[name] = (_compiled_converting(name), _split_keeps_valid(name))
    walk, keeps_valid = found
    if walk is None:
        return _prepare_two_walks(data, name, custodial)
    if data.__class__ is not dict:
        return None
    passed = walk(data)  # schema, limits and conversion in one walk
    if not passed:
        return None
    if passed[0] is True:
        if custodial and not keeps_valid and not _custodial_valid(data, name, 0):
            return None  # the full path words the problems custodial staff may see
    elif custodial and not _custodial_valid(data, name, _DECIMAL):
        return None
    prepared: dict[str, Any] = passed[1]
    # (the walk notes a null a sibling may make unknown: without one, nothing is settled)
    return settle_nulls(prepared, name) if passed[2] else prepared


def _custodial_valid(data: dict[str, Any], name: str, scan: int) -> bool:
    """Whether what custodial staff may see of a checked document is surely valid as well
    (`scan`: what the check found, `_DECIMAL` for a Decimal somewhere)."""
    check = _compiled(name)
    assert check is not None  # the same schema, so compiled as the check that passed
    # that check sees the JSON form (as the full path does), which differs from the facts as
    # given only in a Decimal (a number there, as exact as read)
    visible: Any = to_json(data, exact_numbers=True) if scan & _DECIMAL else data
    present = False
    for root in healthcare_roots(name):
        visible, found = _split(visible, root.split("."))
        present = present or found
    return not present or bool(check(visible))


# the first step of `prepare`, for a caller that names a document only when it has problems
prepare_fast = _prepare_fast


def _prepare_two_walks(data: Any, name: str, custodial: bool = False) -> dict[str, Any] | None:
    """`_prepare_fast` for a schema the converting walk does not cover: the check, then the
    conversion as a second walk."""
    check = _compiled_with_limits(name)
    if check is None or data.__class__ is not dict:
        return None
    passed = check(data)  # schema and limits in one walk
    if not passed:
        return None
    scan = _DECIMAL if passed == 2 else 0
    if (
        custodial
        and (scan or not _split_keeps_valid(name))
        and not _custodial_valid(data, name, scan)
    ):
        return None  # the full path words the problems custodial staff may see
    types = root_types(name)
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key == "as_of":
            out[key] = dt.date.fromisoformat(value) if isinstance(value, str) else value
        elif key in types:
            out[key] = _converter(types[key])(value)
        else:
            out[key] = to_json(value, exact_numbers=True)
    return settle_nulls(out, name)


def _split(data: Any, parts: list[str]) -> tuple[Any, bool]:
    """`data` without what lies at a healthcare root (`a.b`, `a[].b`), and whether anything did."""
    if not parts:
        return None, data is not None
    head, rest = parts[0], parts[1:]
    many = head.endswith("[]")
    key = head[:-2] if many else head
    if not isinstance(data, Mapping) or key not in data:
        return data, False
    inner = data[key]
    if many:
        if not isinstance(inner, list):
            return data, False
        split = [_split(item, rest) if rest else (item, False) for item in inner]
        return {**data, key: [s[0] for s in split]}, any(s[1] for s in split)
    if not rest:
        return {k: v for k, v in data.items() if k != key}, inner is not None
    stripped, found = _split(inner, rest)
    return {**data, key: stripped}, found


def prepare(
    data: Mapping[str, Any], file: str = "<facts>", name: str = "facts", custodial: bool = False
) -> dict[str, Any]:
    """Validate a facts document and convert it for evaluation; raises FactsError.

    For a custodial audience, nothing about the healthcare-only parts may show: problems there
    are not reported (the healthcare audience gets them in full), and an invalid healthcare
    record is left out of the evaluation as a whole: what is released from it is undetermined.
    The compiled check confirms a valid document quickly; only a document it cannot pass
    takes the full validator, which finds and words every problem."""
    fast = _prepare_fast(data, name, custodial)
    if fast is not None:
        return fast
    if not custodial:
        problems = validate_facts(data, file, name)
        if problems:
            raise FactsError(problems)
        return _convert_document(data, name)
    visible: Any = _json_within_depth(data)
    present = False
    for root in healthcare_roots(name):
        visible, found = _split(visible, root.split("."))
        present = present or found
    problems = validate_facts(visible, file, name)
    if problems:  # by path only where a line and column would move with healthcare-only text
        raise FactsError(problems, placeable=not present)
    if not present or not validate_facts(data, file, name):
        return _convert_document(data, name)
    return _convert_document(visible, name)  # as if there were no healthcare record at all


def _json_within_depth(value: Any, depth: int = 0) -> Any:
    """`to_json(value)`, with what lies deeper than the facts may nest cut off (as null): a
    document given as data, not text, may nest without end, and the limits check then
    reports the depth at the same place instead of the conversion recursing past the stack."""
    if depth > MAX_DEPTH:
        return None
    if isinstance(value, Mapping):
        return {json_key(k): _json_within_depth(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        return [_json_within_depth(v, depth + 1) for v in value]
    return to_json(value, exact_numbers=True)  # (a decimal stays a number: `45.0` is whole)


def _convert_document(data: Mapping[str, Any], name: str) -> dict[str, Any]:
    types = root_types(name)
    out: dict[str, Any] = {}
    for key, value in to_json(data, exact_numbers=True).items():
        if key == "as_of":
            out[key] = dt.date.fromisoformat(value) if isinstance(value, str) else value
        elif key in types:
            out[key] = convert(value, types[key])
        else:
            out[key] = value
    return settle_nulls(out, name)


def _too_deep(text: str) -> int | None:
    """Where JSON text first opens an array or object more than MAX_DEPTH deep (its offset),
    or None; strings are skipped."""
    depth = 0
    in_string = escaped = False
    for i, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return i
        elif ch in "]}":
            depth -= 1
    return None


def _line_col(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of an offset into text."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


_DECODER = json.JSONDecoder()


def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's pairs as a dict, raising on a key given twice (`object_pairs_hook`)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _unique(pairs: list[tuple[str, Any]]) -> None:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise _DuplicateKey(key)
        seen.add(key)


def _nothing(_: str) -> None:
    return None


def first_repeated_key(raw: bytes | str) -> str | None:
    """The first key given twice within one object of JSON text, or None (also for text that
    is not JSON: that is for its parser to say). Builds no values: for a fast parser that keeps
    the last of two keys silently, where facts files refuse them (E-JSON-DUPKEY)."""
    try:
        json.loads(
            raw,
            object_pairs_hook=_unique,
            parse_int=_nothing,
            parse_float=_nothing,
            parse_constant=_nothing,
        )
    except _DuplicateKey as e:
        return e.key
    except (ValueError, RecursionError):
        return None
    return None


def read_integer(text: str) -> Any:
    """A JSON integer's text as the facts read it: an int, or, past the digits the facts
    allow, the HugeNumber the facts check words (the service reads its bodies the same way)."""
    return int(text) if len(text.lstrip("-")) < MAX_DIGITS else HugeNumber(text)


def read_decimal(text: str) -> Decimal | float:
    """A JSON number with a fraction or an exponent as the facts read it: the Decimal its text
    says (a float would lose digits past the 17th, and `6.50` its places); past a float's
    range, infinity, which the facts check refuses as before (E-FACTS-NUMBER)."""
    value = Decimal(text)
    if not value.is_finite() or abs(value) > _FLOAT_MAX:
        return float(text)
    return value


_FLOAT_MAX = Decimal(sys.float_info.max)


def parse_json(text: str, file: str) -> Any:
    """JSON text as data: duplicate keys, too deep nesting and bad text are FactsErrors."""
    deep = _too_deep(text)
    if deep is not None:
        raise _error_at(
            file,
            text,
            deep,
            "E-FACTS-DEPTH",
            f"the document is nested more than {MAX_DEPTH} levels deep",
            "flatten the facts",
        )
    try:
        return json.loads(
            text,
            object_pairs_hook=no_duplicates,
            parse_int=read_integer,
            parse_float=read_decimal,
        )
    except _DuplicateKey:
        pass
    except json.JSONDecodeError as e:
        raise FactsError(
            [Problem(file, e.lineno, e.colno, "error", "E-JSON", f"not JSON: {e.msg}")]
        ) from None
    try:  # a key given twice: the last one read here, and the document kept only if the
        # objects that repeat one all lie in healthcare-only parts (see UnreadablePart)
        data = json.loads(text, parse_int=read_integer, parse_float=read_decimal)
    except json.JSONDecodeError as e:
        raise FactsError(
            [Problem(file, e.lineno, e.colno, "error", "E-JSON", f"not JSON: {e.msg}")]
        ) from None
    return healthcare_repeats_apart(data, text, file)


class RepeatedKeyError(FactsError):
    """A key given twice in one object outside every healthcare-only part (E-JSON-DUPKEY)."""

    def __init__(self, error: FactsError, key: str):
        super().__init__(error.problems)
        self.key = key


def healthcare_repeats_apart(
    data: Any, text: str, file: str, name: str = "facts", under: tuple[str, ...] = ()
) -> Any:
    """`data`, read from JSON `text` that gives a key twice in one object, with each
    healthcare-only part that does so replaced by an UnreadablePart; a RepeatedKeyError at the
    first key given twice anywhere else. The facts document is `data` itself, or what lies at
    `under` in it (a request that holds one)."""
    apart: dict[tuple[str | int, ...], Problem] = {}
    for offset, key, steps in _repeats(text):
        inside = steps[: len(under)] == under
        root = _healthcare_steps(steps[len(under) :], name) if inside else None
        error = _error_at(
            file,
            text,
            offset,
            "E-JSON-DUPKEY",
            f"key `{key}` appears twice in one object",
            "keep one of them: which one is meant cannot be guessed",
        )
        if root is None:
            raise RepeatedKeyError(error, key)
        apart.setdefault(steps[: len(under) + root], error.problems[0])
    for steps, problem in apart.items():
        data = _replaced(data, steps, UnreadablePart(problem))
    return data


def _healthcare_steps(steps: tuple[Any, ...], name: str = "facts") -> int | None:
    """How many of `steps` lead to the healthcare-only part they lie in (None: in none)."""
    path = _dotted(steps)
    for r in healthcare_roots(name):
        if path == r or path.startswith(r + ".") or path.startswith(r + "["):
            return sum(1 + part.count("[]") for part in r.split("."))
    return None


def _dotted(steps: tuple[Any, ...]) -> str:
    """Steps into a document as a fact path (`a.b[].c`: a list's element is `[]`)."""
    out = ""
    for step in steps:
        out += "[]" if isinstance(step, int) else (f".{step}" if out else step)
    return out


def _replaced(data: Any, steps: tuple[str | int, ...], value: Any) -> Any:
    """`data` with what lies at `steps` replaced by `value` (unchanged where nothing does)."""
    if not steps:
        return value
    head, rest = steps[0], steps[1:]
    if isinstance(head, int):
        if isinstance(data, list) and head < len(data):
            return [*data[:head], _replaced(data[head], rest, value), *data[head + 1 :]]
        return data
    if isinstance(data, dict) and head in data:
        return {**data, head: _replaced(data[head], rest, value)}
    return data


def _repeats(text: str) -> list[tuple[int, str, tuple[str | int, ...]]]:
    """Each key that an object of JSON `text` (well-formed but for that) gives again, in the
    order of the text: its offset, the key, and the steps from the top to that object."""
    found: list[tuple[int, str, tuple[str | int, ...]]] = []
    # each open object or array: the keys seen (None: an array), its steps, its current child
    stack: list[list[Any]] = []
    want_key = False
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            try:
                value, end = _DECODER.raw_decode(text, i)
            except ValueError:
                return found
            top = stack[-1] if stack else None
            if want_key and top is not None and top[0] is not None:
                if value in top[0]:
                    found.append((i, value, top[1]))
                top[0].add(value)
                top[2] = value
                want_key = False
            i = end
            continue
        if ch in "{[":
            steps = (*stack[-1][1], stack[-1][2]) if stack else ()
            stack.append([set(), steps, None] if ch == "{" else [None, steps, 0])
            want_key = ch == "{"
        elif ch in "]}":
            if stack:
                stack.pop()
        elif ch == ",":
            if stack:
                top = stack[-1]
                if top[0] is None:
                    top[2] += 1
                want_key = top[0] is not None
        elif ch == ":":
            want_key = False
        i += 1
    return found


def _error_at(file: str, text: str, offset: int, code: Code, message: str, hint: str) -> FactsError:
    """A FactsError for the place `offset` characters into `text`."""
    line, col = _line_col(text, offset)
    return FactsError([Problem(file, line, col, "error", code, message, hint)])


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_LOW_ESCAPE = re.compile(r"\\u[dD][c-fC-F][0-9a-fA-F]{2}")


def _half_pair(text: str) -> int | None:
    """Where `text` first escapes half of a UTF-16 pair alone (`\\ud800` not followed by
    the low half, or a low half alone): no character, which no facts may hold."""
    skip = -1
    for m in _SURROGATE_ESCAPE.finditer(text):
        if m.start() == skip:
            continue
        if m.group()[3].lower() in "89ab" and _LOW_ESCAPE.match(text, m.end()):
            skip = m.end()  # a whole pair: one character
            continue
        return m.start()
    return None


def _holds_surrogate(value: Any) -> bool:
    """Whether a text in `value` holds half of a UTF-16 pair (an escape in a comment or a
    single-quoted YAML text is no character of the facts)."""
    if isinstance(value, str):
        return any("\ud800" <= c <= "\udfff" for c in value)
    if isinstance(value, dict):
        return any(_holds_surrogate(k) or _holds_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_surrogate(v) for v in value)
    return False


def read_facts_file(path: Path, custodial: bool = False) -> dict[str, Any]:
    """A facts document from a JSON or YAML file (not yet validated); raises FactsError.

    For a custodial audience the problems that refuse the file are not placed in it (no line,
    column or text): where they are moves with the healthcare-only text above them, which the
    text around them could also quote (FactsError.placeable)."""
    try:
        return _read_facts_file(path)
    except FactsError as e:
        if not custodial or not _may_hold_healthcare(path):
            raise
        raise FactsError([_unplaced(p) for p in e.problems], placeable=False) from None


def _may_hold_healthcare(path: Path, name: str = "facts") -> bool:
    """Whether the file's text might hold a healthcare-only part: it names one of their keys,
    or has an escape that could spell one (a file that cannot be read is judged by its text,
    so that a key work file with a typo is still placed at its line). True if unreadable."""
    try:
        if not path.is_file() or path.stat().st_size > max_input_bytes("facts"):
            return True
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return True
    if "\\" in text:
        return True
    keys = {root.split(".")[-1].removesuffix("[]") for root in healthcare_roots(name)}
    return any(re.search(rf"\b{re.escape(key)}\b", text) for key in keys)


def _unplaced(p: Problem) -> Problem:
    """`p` about its file, at no line or column of it."""
    return dataclasses.replace(p, line=1, col=1, end_line=None, end_col=None, whole_file=True)


def _read_facts_file(path: Path) -> dict[str, Any]:
    try:
        content, text = read_text_file(path, str(path), "facts")
    except PackError as e:
        raise FactsError(e.problems) from None
    if path.suffix == ".json":
        data = parse_json(text, str(path))
    else:
        try:
            doc, apart = read_yaml_apart(text, str(path), _healthcare_steps)
        except PackError as e:
            raise FactsError(e.problems) from None
        data = doc.data
        for steps, problem in apart.items():
            data = _replaced(data, steps, UnreadablePart(problem))
    lone = _SURROGATE_ESCAPE.search(text) and _holds_surrogate(data)
    half = _half_pair(text) if lone else None
    if half is not None:
        raise _error_at(
            str(path),
            text,
            half,
            "E-ENCODING",
            f"`{text[half : half + 6]}` is half of a UTF-16 pair, not a character",
            "write the character itself (the file is UTF-8), or both halves of its pair",
        )
    if not isinstance(data, dict):
        raise FactsError(
            [
                file_problem(
                    "E-FACTS",
                    str(path),
                    "a facts document must be a mapping of roots",
                    hint="start with one of its roots: "
                    + ", ".join(f"`{r}:`" for r in facts_schema().get("properties", {})),
                )
            ]
        )
    return _interned_keys(data)


def _interned_keys(value: Any) -> Any:
    """`value` with each text key of its mappings the interned string: the check and the
    program look fields up by the names in their code, which are interned, and a key that is
    the very same string object is found without comparing characters. The same data
    otherwise: same keys, order and values. (JSON readers, orjson and the standard library's
    alike, give equal strings that are not interned: a document from the service or from a
    caller's own parsing is decided the same, a few percent slower.)"""
    cls = value.__class__
    if cls is dict:
        intern = sys.intern
        return {
            (intern(k) if k.__class__ is str else k): _interned_keys(v) for k, v in value.items()
        }
    if cls is list:
        return [_interned_keys(v) for v in value]
    return value
