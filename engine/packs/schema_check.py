"""A quick yes-or-not-sure answer to "is this document valid against this JSON Schema?", so
that a valid pack skips the generic jsonschema walk (most of the schema stage on large packs).

The check is compiled once per schema into nested closures and decides exactly what the full
validator (draft 2020-12 with format checking) decides, for the keywords it knows. It never
words problems: any other answer than "valid" sends the document to the full validator, which
finds and words every problem, so messages and positions stay the validator's own. A keyword,
`$ref` or value it does not know makes it answer "not sure" (False), never a guess.
"""

from __future__ import annotations

import datetime as dt
import json
import numbers
import re
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any
from urllib.parse import urljoin

from engine.packs.resources import load_schema, schema_dir

Check = Callable[[Any], bool]

# keywords that only describe: they never make a value invalid
_ANNOTATIONS = frozenset(
    {"$schema", "$comment", "$defs", "title", "description", "examples", "default", "deprecated"}
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)  # as jsonschema's `date` format


class _Unsure(Exception):
    """The check cannot decide this schema or value exactly."""


@cache
def _compiled(schema_name: str) -> Check | None:
    root = load_schema(schema_name)
    try:
        return _compiler(root).compile(root, top=True)
    except _Unsure:
        return None


_COMPILERS: dict[str, _Compiler] = {}  # one per schema document, by its `$id`


def _compiler(root: Mapping[str, Any]) -> _Compiler:
    uri = root.get("$id")
    if not isinstance(uri, str):
        return _Compiler(root)
    if uri not in _COMPILERS:
        _COMPILERS[uri] = _Compiler(root)
    return _COMPILERS[uri]


@cache
def _shipped() -> dict[str, Mapping[str, Any]]:
    """Every shipped schema by its `$id`, for `$ref`s from one schema into another."""
    found: dict[str, Mapping[str, Any]] = {}
    for path in sorted(schema_dir().rglob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(contents, dict) and isinstance(contents.get("$id"), str):
            found[contents["$id"]] = contents
    return found


def surely_valid(data: Any, schema_name: str) -> bool:
    """True only when `data` (JSON-shaped: dicts with text keys, lists, text, numbers, booleans,
    None) is valid against the named schema; False when invalid or not sure."""
    check = _compiled(schema_name)
    if check is None:
        return False
    try:
        return check(data)
    except Exception:  # noqa: BLE001 - not sure (an unknown value, a NaN): the full walk decides
        return False


class _Compiler:
    """Schema nodes to checks; `$ref`s within the same document, by JSON pointer."""

    def __init__(self, root: Mapping[str, Any]):
        self.root = root
        self.done: dict[int, Check] = {}

    def compile(self, schema: Any, top: bool = False) -> Check:
        if schema is True:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, Mapping):
            raise _Unsure
        known = self.done.get(id(schema))
        if known is not None:
            return known
        slot: list[Check] = []
        # placed before compiling the children, so that a schema that refers to itself works
        self.done[id(schema)] = lambda v: slot[0](v)
        check = self._build(schema, top)
        slot.append(check)
        self.done[id(schema)] = check
        return check

    def _build(self, schema: Mapping[str, Any], top: bool) -> Check:
        checks: list[Check] = []
        for word, value in schema.items():
            if word in _ANNOTATIONS or word.startswith("x-") or (word == "$id" and top):
                continue
            build = _KEYWORDS.get(word)
            if build is None:
                if word in _SIBLINGS:  # read by the keyword they belong to
                    continue
                raise _Unsure
            checks.append(build(self, value, schema))
        if not checks:
            return _always
        if len(checks) == 1:
            return checks[0]
        every = tuple(checks)
        return lambda v: all(c(v) for c in every)

    def ref(self, target: Any, schema: Mapping[str, Any]) -> Check:
        if not isinstance(target, str) or "#" not in target:
            raise _Unsure
        base, _, pointer = target.partition("#")
        owner = self
        if base:  # another shipped schema, by a URI relative to this one's `$id`
            other = _shipped().get(urljoin(str(self.root.get("$id", "")), base))
            if other is None:
                raise _Unsure
            owner = _compiler(other)
        if pointer and not pointer.startswith("/"):
            raise _Unsure  # an anchor name, not a JSON pointer
        node: Any = owner.root
        for part in pointer.split("/")[1:]:
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, Mapping) or part not in node:
                raise _Unsure
            node = node[part]
        return owner.compile(node)


def _always(v: Any) -> bool:
    return True


def _never(v: Any) -> bool:
    return False


def _type_test(kind: str) -> Check:
    if kind == "null":
        return lambda v: v is None
    if kind == "boolean":
        return lambda v: v is True or v is False
    if kind == "string":
        return lambda v: isinstance(v, str)
    if kind == "integer":
        return lambda v: isinstance(v, int) and not isinstance(v, bool)
    if kind == "number":
        return lambda v: isinstance(v, numbers.Number) and not isinstance(v, bool)
    if kind == "object":
        return lambda v: isinstance(v, dict)
    if kind == "array":
        return lambda v: isinstance(v, list)
    raise _Unsure


_JSON = (str, bool, int, float, type(None), dict, list)


def _type(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Check:
    tests = tuple(_type_test(k) for k in ([value] if isinstance(value, str) else value))

    def check(v: Any) -> bool:
        if not isinstance(v, _JSON) and not isinstance(v, numbers.Number):
            raise _Unsure
        return any(t(v) for t in tests)

    return check


def _equal(one: Any, two: Any) -> bool:
    """JSON equality as jsonschema has it: true and 1 differ, 1 and 1.0 do not."""
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, list) and isinstance(two, list):
        return len(one) == len(two) and all(_equal(a, b) for a, b in zip(one, two, strict=True))
    if isinstance(one, dict) and isinstance(two, dict):
        return one.keys() == two.keys() and all(_equal(one[k], two[k]) for k in one)
    if isinstance(one, list | dict) or isinstance(two, list | dict):
        return False
    if isinstance(one, bool) or isinstance(two, bool):
        return one is two
    return bool(one == two)


def _enum(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Check:
    options = list(value)
    texts = frozenset(o for o in options if isinstance(o, str))
    if len(texts) == len(options):
        return lambda v: isinstance(v, str) and v in texts
    return lambda v: any(_equal(v, o) for o in options)


def _const(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Check:
    return lambda v: _equal(v, value)


def _pattern(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Check:
    search = re.compile(value).search
    return lambda v: not isinstance(v, str) or search(v) is not None


def _format(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Check:
    if value != "date":
        raise _Unsure
    return lambda v: not isinstance(v, str) or _is_date(v)


def _is_date(text: str) -> bool:
    if not _DATE.fullmatch(text):
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _length(least: bool) -> Callable[[_Compiler, Any, Mapping[str, Any]], Check]:
    def build(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Check:
        n = int(value)
        if least:
            return lambda v: not isinstance(v, str) or len(v) >= n
        return lambda v: not isinstance(v, str) or len(v) <= n

    return build


def _items_count(least: bool) -> Callable[[_Compiler, Any, Mapping[str, Any]], Check]:
    def build(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Check:
        n = int(value)
        if least:
            return lambda v: not isinstance(v, list) or len(v) >= n
        return lambda v: not isinstance(v, list) or len(v) <= n

    return build


def _number(v: Any) -> bool:
    return isinstance(v, numbers.Number) and not isinstance(v, bool)


def _bound(least: bool) -> Callable[[_Compiler, Any, Mapping[str, Any]], Check]:
    def build(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Check:
        if least:
            return lambda v: not _number(v) or v >= value
        return lambda v: not _number(v) or v <= value

    return build


def _properties(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Check:
    """`properties` with `additionalProperties` beside it (or allowing anything)."""
    props = {str(k): c.compile(s) for k, s in value.items()}
    extra = schema.get("additionalProperties", True)
    other = None if extra is True else c.compile(extra)

    def check(v: Any) -> bool:
        if not isinstance(v, dict):
            return True
        for key, item in v.items():
            test = props.get(key)
            if test is not None:
                if not test(item):
                    return False
            elif other is not None and not other(item):
                return False
        return True

    return check


def _additional(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Check:
    if "properties" in schema:
        return _always  # checked with `properties`
    other = c.compile(value)
    return lambda v: not isinstance(v, dict) or all(other(x) for x in v.values())


def _required(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Check:
    names = tuple(value)
    return lambda v: not isinstance(v, dict) or all(n in v for n in names)


def _items(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Check:
    if "prefixItems" in schema:
        raise _Unsure
    each = c.compile(value)
    return lambda v: not isinstance(v, list) or all(each(x) for x in v)


def _any_of(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Check:
    options = tuple(c.compile(s) for s in value)
    return lambda v: any(o(v) for o in options)


def _one_of(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Check:
    options = tuple(c.compile(s) for s in value)
    return lambda v: sum(1 for o in options if o(v)) == 1


def _all_of(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Check:
    options = tuple(c.compile(s) for s in value)
    return lambda v: all(o(v) for o in options)


def _not(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Check:
    inner = c.compile(value)
    return lambda v: not inner(v)


def _dependent(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Check:
    parts = tuple((str(k), c.compile(s)) for k, s in value.items())
    return lambda v: not isinstance(v, dict) or all(t(v) for k, t in parts if k in v)


def _names(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Check:
    each = c.compile(value)
    return lambda v: not isinstance(v, dict) or all(each(k) for k in v)


def _if(c: _Compiler, value: Any, schema: Mapping[str, Any]) -> Check:
    test = c.compile(value)
    then = c.compile(schema.get("then", True))
    other = c.compile(schema.get("else", True))
    return lambda v: then(v) if test(v) else other(v)


_KEYWORDS: dict[str, Callable[[_Compiler, Any, Mapping[str, Any]], Check]] = {
    "type": _type,
    "enum": _enum,
    "const": _const,
    "pattern": _pattern,
    "format": _format,
    "minLength": _length(True),
    "maxLength": _length(False),
    "minItems": _items_count(True),
    "maxItems": _items_count(False),
    "minimum": _bound(True),
    "maximum": _bound(False),
    "properties": _properties,
    "additionalProperties": _additional,
    "required": _required,
    "items": _items,
    "anyOf": _any_of,
    "oneOf": _one_of,
    "allOf": _all_of,
    "not": _not,
    "dependentSchemas": _dependent,
    "propertyNames": _names,
    "if": _if,
    "$ref": lambda c, value, schema: c.ref(value, schema),
}
_SIBLINGS = frozenset({"then", "else"})
