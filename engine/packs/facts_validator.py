"""A facts schema compiled once into nested checks, so a valid document is confirmed without
the generic JSON Schema walk; anything it is unsure of is left to that walk.

The check works on facts as given (dates as `datetime.date`, numbers as int, float or Decimal)
and must never pass a document the full validator would reject: on a keyword, a value type or a
key it does not know it answers "not sure", and the caller validates the slow way, which also
words the problems.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from engine import disk_cache
from engine.packs.reserved import RESERVED_DATE, holds_reserved, reserved_value

Check = Callable[[Any], bool]

# keywords that only describe: they never make a value invalid (as do `x-...` extensions,
# which a JSON Schema validator ignores; but `x-null: none` reserves a value of a text field:
# engine.packs.reserved)
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "title", "description", "examples", "default", "x-audience"}
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
_PLAIN = (str, bool, int, float, Decimal, type(None), dict, list, dt.date)


class Unsupported(Exception):
    """The schema uses a keyword the compiled check does not implement."""


@dataclass(frozen=True)
class Converting:
    """What the check needs to convert a document in its walk: the document's type (a record
    whose fields are the schema's properties), each type's converter (for what is not built
    in line) and the JSON form of a value (for plain fields holding anything else)."""

    root: Any
    converter: Callable[[Any], Callable[[Any], Any]]
    to_json: Callable[[Any], Any]


def compile_schema(schema: Mapping[str, Any]) -> Check:
    """A check of one schema node (with `$ref`s already inlined): True only when the value is
    surely valid. Raises Unsupported for a keyword it cannot decide."""
    checks: list[Check] = []
    unknown = {k for k in schema if not k.startswith("x-")} - _ANNOTATIONS - _KEYWORDS
    if unknown:
        raise Unsupported(", ".join(sorted(unknown)))
    if "type" in schema:
        checks.append(_type(schema["type"]))
    if schema.get("format") == "date":
        checks.append(_date)
    elif "format" in schema:
        raise Unsupported(f"format {schema['format']}")
    if "enum" in schema:
        checks.append(_one_of(list(schema["enum"])))
    if "const" in schema:
        checks.append(_one_of([schema["const"]]))
    if "minimum" in schema or "maximum" in schema:
        checks.append(_bounds(schema.get("minimum"), schema.get("maximum")))
    if "minLength" in schema:
        least = int(schema["minLength"])
        checks.append(lambda v: not isinstance(v, str | dt.date) or len(_text(v)) >= least)
    if "maxLength" in schema:
        most = int(schema["maxLength"])
        checks.append(lambda v: not isinstance(v, str | dt.date) or len(_text(v)) <= most)
    if "maxItems" in schema:
        items = int(schema["maxItems"])
        checks.append(lambda v: not isinstance(v, list) or len(v) <= items)
    if "pattern" in schema:
        found = re.compile(schema["pattern"]).search
        checks.append(lambda v: not isinstance(v, str | dt.date) or found(_text(v)) is not None)
    if {"properties", "additionalProperties", "required"} & set(schema):
        checks.append(_object(schema))
    if "items" in schema:
        each = compile_schema(schema["items"])
        checks.append(lambda v: not isinstance(v, list) or all(each(x) for x in v))
    if "allOf" in schema:
        checks.extend(compile_schema(s) for s in schema["allOf"])
    if "if" in schema:
        checks.append(_conditional(schema))
    if len(checks) == 1:
        return checks[0]
    return lambda v: all(c(v) for c in checks)


_KEYWORDS = frozenset(
    {
        "type",
        "format",
        "enum",
        "const",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "maxItems",
        "pattern",
        "properties",
        "additionalProperties",
        "required",
        "items",
        "allOf",
        "if",
        "then",
        "else",
    }
)


def _is(kind: str, v: Any) -> bool:
    if kind == "null":
        return v is None
    if kind == "boolean":
        return v is True or v is False
    if kind == "string":
        return isinstance(v, str) or v.__class__ is dt.date
    if kind == "integer":
        return isinstance(v, int) and not isinstance(v, bool)
    if kind == "number":
        return isinstance(v, int | float | Decimal) and not isinstance(v, bool)
    if kind == "object":
        return isinstance(v, dict)
    if kind == "array":
        return isinstance(v, list)
    raise Unsupported(f"type {kind}")


def _type(kinds: Any) -> Check:
    names = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    for kind in names:
        _is(kind, None)  # raises Unsupported for an unknown type name
    if len(names) == 1:
        kind = names[0]
        return lambda v: _is(kind, v)
    return lambda v: any(_is(k, v) for k in names)


def _text(v: Any) -> str:
    """A string, or a date as the ISO text the full validator sees."""
    return v.isoformat() if isinstance(v, dt.date) else str(v)


def _date(v: Any) -> bool:
    if isinstance(v, str):
        if not _DATE.fullmatch(v):
            return False
        try:
            dt.date.fromisoformat(v)
        except ValueError:
            return False
    return True


def _key(v: Any) -> tuple[type, Any]:
    """A value as JSON compares it: true is not 1, a date is its ISO text."""
    if v.__class__ is dt.date:
        return (str, v.isoformat())
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return (type(v), v)
    if isinstance(v, int | float | Decimal):
        return (Decimal, v)
    raise TypeError


def _one_of(values: list[Any]) -> Check:
    try:
        allowed = {_key(v) for v in values}
    except TypeError:
        raise Unsupported("enum of structures") from None

    def check(v: Any) -> bool:
        try:
            return _key(v) in allowed
        except TypeError:
            return False

    return check


def _bounds(lo: Any, hi: Any) -> Check:
    def check(v: Any) -> bool:
        if isinstance(v, bool) or not isinstance(v, int | float | Decimal):
            return True
        return (lo is None or v >= lo) and (hi is None or v <= hi)

    return check


def _object(schema: Mapping[str, Any]) -> Check:
    props = {k: compile_schema(s) for k, s in (schema.get("properties") or {}).items()}
    required = tuple(schema.get("required") or ())
    extra_schema = schema.get("additionalProperties", True)
    if extra_schema is True:
        extra: Check | None = None
        closed = False
    elif extra_schema is False:
        extra, closed = None, True
    else:
        extra, closed = compile_schema(extra_schema), False

    def check(v: Any) -> bool:
        if not isinstance(v, dict):
            return True
        for key in required:
            if key not in v:
                return False
        for key, value in v.items():
            if value.__class__ not in _PLAIN and not isinstance(value, _PLAIN):
                return False
            sub = props.get(key)
            if sub is not None:
                if not sub(value):
                    return False
            elif key.__class__ is not str or closed:
                return False
            elif extra is not None and not extra(value):
                return False
        return True

    return check


def _conditional(schema: Mapping[str, Any]) -> Check:
    test = compile_schema(schema["if"])
    then = compile_schema(schema["then"]) if "then" in schema else None
    other = compile_schema(schema["else"]) if "else" in schema else None

    def check(v: Any) -> bool:
        # `if` must be decided exactly, so a value it is unsure of is left to the full walk
        if _uncertain(v):
            return False
        branch = then if test(v) else other
        return branch is None or branch(v)

    return check


def _uncertain(v: Any) -> bool:
    """Whether a value holds something whose JSON form the check cannot be sure of."""
    if isinstance(v, dict):
        return any(k.__class__ is not str or _uncertain(x) for k, x in v.items())
    if isinstance(v, list):
        return any(_uncertain(x) for x in v)
    if isinstance(v, float | Decimal):
        return True  # 3.0 is an integer to the full validator, not to this check
    return not (v.__class__ in _PLAIN or v is None)


# Generated code -----------------------------------------------------------------------------
# The same checks written out as one Python function, compiled once per schema: the nested
# closures above cost a call per keyword and value; straight-line code costs a few bytecodes.


class _Source:
    """The lines of a generated check and the constants it refers to."""

    def __init__(
        self, limits: tuple[int, int, int] | None = None, convert: Converting | None = None
    ) -> None:
        self.lines: list[str] = []
        self.convert = convert  # when given, the walk also builds the converted document
        self.consts: dict[str, Any] = {}
        self.count = 0
        # (depth, text length, list length) when the check also answers "not sure" for what
        # the facts limits would refuse
        self.limits = limits
        self.huge = 0  # (with the limits) the least whole number too large: 10 ** digits
        # (with `convert`) the fields whose null a sibling may make unknown that set `_nul`
        # when null, so that only a document with such a null has its nulls settled
        self.nulls = 0

    def const(self, value: Any) -> str:
        name = f"_c{len(self.consts)}"
        self.consts[name] = value
        return name

    def var(self) -> str:
        self.count += 1
        return f"v{self.count}"

    def emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)


_TYPE_TESTS = {
    "null": "{v} is None",
    "boolean": "({v} is True or {v} is False)",
    "string": "(isinstance({v}, str) or {v}.__class__ is _date)",
    "integer": "(isinstance({v}, int) and {v}.__class__ is not bool)",
    "number": "(isinstance({v}, _NUM) and {v}.__class__ is not bool)",
    "object": "isinstance({v}, dict)",
    "array": "{v}.__class__ is list",
}


def _gen(
    schema: Mapping[str, Any],
    v: str,
    src: _Source,
    ind: int,
    depth: int = 0,
    t: Any = None,
    store: str | None = None,
) -> bool:
    """Lines that `return False` unless the value in variable `v` surely meets `schema`; given
    the value's type `t` (with `src.convert`), they also leave its converted value in `c{v}`,
    or, given `store` (a date's place in its record's copy), put it there when it differs.
    A plain value (text, null, true or false) of a plain schema is decided by a few lines of
    its own first; anything else by the general lines, in an `else:` one level in (True)."""
    plain = _gen_plain(schema, v, src, ind, depth, t, store)
    if plain:
        src.emit(ind, "else:")
        ind += 1
    fields = _fields(schema, t) if t is not None else None
    elem = t.elem if t is not None and t.kind == "list" and "items" in schema else None
    unknown = {k for k in schema if not k.startswith("x-")} - _ANNOTATIONS - _KEYWORDS
    if unknown:
        raise Unsupported(", ".join(sorted(unknown)))
    if "type" in schema:
        kinds = [schema["type"]] if isinstance(schema["type"], str) else list(schema["type"])
        if any(k not in _TYPE_TESTS for k in kinds):
            raise Unsupported(f"type {kinds}")
        test = " or ".join(_TYPE_TESTS[k].format(v=v) for k in kinds)
        if not src.limits:  # (else the limits' test of the value's class decides it)
            src.emit(ind, f"if not ({test}): return False")
    else:
        kinds = []
        src.emit(ind, f"if _uncertain({v}): return False")
    if fields is not None or elem is not None:
        src.emit(ind, f"c{v} = {v}")  # a null stays null; a record or list is built below
    # a list (or null) of items and nothing else: the class test goes with the items' lines
    list_only = bool(src.limits) and _list_only(schema, kinds) and (t is None or elem is not None)
    if src.limits:
        own = _record_only(schema, kinds) or list_only
        _gen_limits(schema, kinds, v, src, ind, depth, record_only=own)
    fmt = schema.get("format")
    if fmt == "date":
        src.emit(ind, f"if isinstance({v}, str) and not _is_date({v}): return False")
    elif fmt is not None:
        raise Unsupported(f"format {fmt}")
    reserved = reserved_value(schema)
    if reserved is not None:  # (the full path words it: see engine.packs.reserved)
        src.emit(ind, f"if {src.const(holds_reserved)}({v}, {reserved!r}): return False")
    for word in ("enum", "const"):
        if word in schema:
            values = list(schema[word]) if word == "enum" else [schema[word]]
            check = src.const(_one_of(values))
            texts = frozenset(x for x in values if x.__class__ is str)
            if texts:  # a text is looked up in line; anything else by the general check
                known = src.const(texts)
                test = f"({v}.__class__ is str and {v} in {known})"
                src.emit(ind, f"if not {test} and not {check}({v}): return False")
            else:
                src.emit(ind, f"if not {check}({v}): return False")
    if "minimum" in schema or "maximum" in schema:
        check = src.const(_bounds(schema.get("minimum"), schema.get("maximum")))
        src.emit(ind, f"if not {check}({v}): return False")
    if "minLength" in schema:
        least = int(schema["minLength"])
        src.emit(
            ind, f"if isinstance({v}, (str, _date)) and len(_text({v})) < {least}: return False"
        )
    if "maxLength" in schema:
        most = int(schema["maxLength"])
        src.emit(
            ind, f"if isinstance({v}, (str, _date)) and len(_text({v})) > {most}: return False"
        )
    if "maxItems" in schema and "items" not in schema:  # (else tested with the items)
        src.emit(
            ind, f"if {v}.__class__ is list and len({v}) > {int(schema['maxItems'])}: return False"
        )
    if "pattern" in schema:
        found = src.const(re.compile(schema["pattern"]).search)
        src.emit(
            ind, f"if isinstance({v}, (str, _date)) and {found}(_text({v})) is None: return False"
        )
    if {"properties", "additionalProperties", "required"} & set(schema):
        _gen_object(schema, v, src, ind, depth, fields, exact=bool(src.limits and kinds))
        if src.limits and _record_only(schema, kinds):  # (the class test the limits left)
            src.emit(
                ind,
                f"elif {v} is not None: return False" if "null" in kinds else "else: return False",
            )
    if "items" in schema:
        item = src.var()
        src.emit(ind, f"if {v}.__class__ is list:")
        bound = int(schema["maxItems"]) if "maxItems" in schema else None
        if list_only and src.limits and not (bound is not None and bound <= src.limits[2]):
            # (the limit `_gen_limits` left to these lines, where the list's own is not tighter)
            src.emit(ind + 1, f"if len({v}) > {src.limits[2]}: return False")
        if bound is not None:
            src.emit(ind + 1, f"if len({v}) > {bound}: return False")
        if elem is not None:
            src.emit(ind + 1, f"c{v} = []")
        src.emit(ind + 1, f"for {item} in {v}:")
        _gen(schema["items"], item, src, ind + 2, depth + 1, elem)
        if elem is not None:
            src.emit(ind + 2, f"c{v}.append(c{item})")
        if list_only:  # (the class test the limits left)
            src.emit(
                ind,
                f"elif {v} is not None: return False" if "null" in kinds else "else: return False",
            )
    for sub in schema.get("allOf") or ():
        _gen(sub, v, src, ind, depth)
    if "if" in schema:
        check = src.const(_conditional(schema))
        src.emit(ind, f"if not {check}({v}): return False")
    if t is not None and fields is None and elem is None:
        _gen_convert(t, v, src, ind)
        if store is not None:
            src.emit(ind, f"if c{v} is not {v}: {store} = c{v}")
    return plain


# the keywords a plain value's own lines decide (bounds say nothing of text, null or booleans)
_PLAIN_WORDS = frozenset(
    {"type", "format", "enum", "const", "minLength", "maxLength", "pattern", "minimum", "maximum"}
)


def _gen_plain(
    schema: Mapping[str, Any],
    v: str,
    src: _Source,
    ind: int,
    depth: int,
    t: Any,
    store: str | None = None,
) -> bool:
    """Lines deciding, as the general lines would, a value of exactly class str (or None,
    True, False) that `schema` allows, each branch leaving `c{v}` as the conversion would;
    False (and no lines) when the schema or the value's type is not that simple."""
    words = {k for k in schema if not k.startswith("x-")} - _ANNOTATIONS
    kinds = schema.get("type")
    kinds = [kinds] if isinstance(kinds, str) else kinds
    if (
        not words <= _PLAIN_WORDS
        or not isinstance(kinds, list)
        or not set(kinds) & {"string", "null", "boolean", "integer", "number"}
        or not set(kinds) <= set(_TYPE_TESTS)
        or schema.get("format") not in (None, "date")
        or (t is not None and t.kind in _BUILT and t.kind != "date")
        or (src.limits is not None and depth > src.limits[0])
    ):
        return False
    values: list[Any] | None = None
    if "enum" in schema or "const" in schema:
        values = list(schema["enum"]) if "enum" in schema else []
        if "const" in schema:
            values = [x for x in values or [schema["const"]] if _same(x, schema["const"])]
            if "enum" in schema and not values:
                return False  # nothing is allowed: left to the general lines
    keyword = "if"
    # (null first, but after a truth value: its test is the cheapest, so a null date, text or
    # number skips the class tests, while most facts that may be true, false or null are
    # given; the tests are apart, so their order decides nothing but what each case costs)
    null = "null" in kinds and (values is None or any(x is None for x in values))
    if null and not ("boolean" in kinds and values is None):
        src.emit(ind, f"{keyword} {v} is None:")
        keyword = "elif"
        src.emit(ind + 1, f"c{v} = None" if t is not None and store is None else "pass")
        null = False
    if "string" in kinds:
        date = schema.get("format") == "date"
        reserved = reserved_value(schema)  # (the full path words it: see engine.packs.reserved)
        converted = t is not None and t.kind == "date"
        if (
            date
            and not ({"enum", "const", "minLength", "maxLength", "pattern"} & words)
            and (converted or src.convert is None)
        ):
            # a day given as a date (facts read from YAML) is valid as it is, and kept
            src.emit(ind, f"{keyword} {v}.__class__ is _date:")
            if reserved is not None:
                src.emit(ind + 1, f"if {v} == _RESERVED_DATE: return False")
            src.emit(ind + 1, f"c{v} = {v}" if t is not None and store is None else "pass")
            keyword = "elif"
        src.emit(ind, f"{keyword} {v}.__class__ is str:")
        keyword = "elif"
        body = ind + 1
        if reserved is not None and (values is None or reserved in values):
            src.emit(body, f"if {v} == {reserved!r}: return False")
        texts = frozenset(x for x in values or () if x.__class__ is str)
        bounded = "maxLength" in schema and int(schema["maxLength"]) <= (src.limits or (0, 0))[1]
        if (
            src.limits
            and not bounded  # (the schema's own bound, tested below, is the tighter)
            and (values is None or any(len(x) > src.limits[1] for x in texts))
        ):
            src.emit(body, f"if len({v}) > {src.limits[1]}: return False")
        if date and not converted:
            src.emit(body, f"if {src.const(_DATE.fullmatch)}({v}) is None: return False")
        if values is not None:  # (a text of the list is within the limits)
            src.emit(body, f"if {v} not in {src.const(texts)}: return False")
        if "minLength" in schema:
            src.emit(body, f"if len({v}) < {int(schema['minLength'])}: return False")
        if "maxLength" in schema:
            src.emit(body, f"if len({v}) > {int(schema['maxLength'])}: return False")
        if "pattern" in schema:
            found = src.const(re.compile(schema["pattern"]).search)
            src.emit(body, f"if {found}({v}) is None: return False")
        if converted:
            if date:  # a text that is no YYYY-MM-DD day of the calendar is not valid
                # `fromisoformat` reads ASCII digits only; of the texts of ten characters it
                # reads, those with `-` at [7] are exactly YYYY-MM-DD (its other forms, as
                # 2020-W01-1 or 20200101xy, have a digit there): the pattern, without its cost
                src.emit(body, f"try: c{v} = _fromiso({v})")
                src.emit(body, "except ValueError: return False")
                src.emit(body, f"if len({v}) != 10 or {v}[7] != '-': return False")
            else:
                src.emit(body, f"c{v} = _fromiso({v})")
            if store is not None:
                src.emit(body, f"{store} = c{v}")
        elif date:
            src.emit(body, f"if not _is_date({v}): return False")
            if t is not None:
                src.emit(body, f"c{v} = {v}")
        elif t is not None:
            src.emit(body, f"c{v} = {v}")
        else:
            src.emit(body, "pass")
    if "integer" in kinds or "number" in kinds:
        src.emit(ind, f"{keyword} {v}.__class__ is int:")
        keyword = "elif"
        body = ind + 1
        lo, hi = schema.get("minimum"), schema.get("maximum")
        if lo.__class__ is int and hi.__class__ is int:  # both bounds in one test, in line
            if src.limits and not src.huge > max(-lo, hi):
                src.emit(body, f"if not _NHUGE < {v} < _HUGE: return False")
            src.emit(body, f"if not {lo} <= {v} <= {hi}: return False")
            lo = hi = None
        elif src.limits:
            src.emit(body, f"if not _NHUGE < {v} < _HUGE: return False")
        if values is not None:  # a number equals a number of the list, whatever its class
            numbers = frozenset(x for x in values if x.__class__ in (int, float, Decimal))
            src.emit(body, f"if {v} not in {src.const(numbers)}: return False")
        if lo is not None:
            src.emit(body, f"if {v} < {src.const(lo)}: return False")
        if hi is not None:
            src.emit(body, f"if {v} > {src.const(hi)}: return False")
        src.emit(body, f"c{v} = {v}" if t is not None else "pass")
    if "boolean" in kinds and values is None:
        src.emit(ind, f"{keyword} {v} is False or {v} is True:")
        keyword = "elif"
        src.emit(ind + 1, f"c{v} = {v}" if t is not None else "pass")
    if null:
        src.emit(ind, f"{keyword} {v} is None:")
        keyword = "elif"
        src.emit(ind + 1, f"c{v} = None" if t is not None and store is None else "pass")
    return keyword == "elif"


def _same(a: Any, b: Any) -> bool:
    """Whether two JSON values are the same value (true is not 1)."""
    return a.__class__ is b.__class__ and a == b


def _fields(schema: Mapping[str, Any], t: Any) -> dict[str, Any] | None:
    """A record's field types by name when the walk of `schema` visits exactly its fields
    (the type was read from the same `properties`), else None: converted by a call."""
    if t.kind != "record" or "properties" not in schema:
        return None
    found: dict[str, Any] = {}
    for name, ftype, _ in t.fields or ():
        found.setdefault(name, ftype)  # the first, as `Type.field` finds it
    return found if set(found) == set(schema["properties"]) else None


def _gen_convert(t: Any, v: str, src: _Source, ind: int) -> None:
    """A line leaving in `c{v}` the converted value of a checked value of type `t` that is not
    built field by field: a date read in line, anything else by the type's converter."""
    assert src.convert is not None
    if t.kind == "date":
        other = src.const(src.convert.converter(t))
        src.emit(
            ind,
            f"c{v} = _fromiso({v}) if {v}.__class__ is str else "
            f"({v} if {v} is None or {v}.__class__ is _date else {other}({v}))",
        )
    elif t.kind in _BUILT:
        src.emit(ind, f"c{v} = {src.const(src.convert.converter(t))}({v})")
    elif t.kind == "int":  # a whole number written `1.0` becomes the integer the schema types
        other = src.const(src.convert.converter(t))
        src.emit(ind, f"c{v} = {v} if {v}.__class__ is int or {v} is None else {other}({v})")
    else:
        src.emit(ind, f"c{v} = {v} if {v}.__class__ in _KEPT or {v} is None else _tj({v})")


# the kinds of value a conversion changes (any other is kept when plain, else its JSON form)
_BUILT = frozenset({"date", "decimal", "record", "list"})


# The classes a value of each JSON type may have on the fast path: anything else (a subclass,
# a huge number kept as text) is left to the full path, as `_scan` leaves it.
_TYPE_CLASSES: dict[str, tuple[type, ...]] = {
    "null": (type(None),),
    "boolean": (bool,),
    "string": (str, dt.date),
    "integer": (int,),
    "number": (int, float, Decimal),
    "object": (dict,),
    "array": (list,),
}


def _record_only(schema: Mapping[str, Any], kinds: list[str]) -> bool:
    """Whether `schema` is a record (or null) of properties and nothing else: the class test
    then goes with the record's own lines, as an `else` of them."""
    words = {k for k in schema if not k.startswith("x-")} - _ANNOTATIONS
    return (
        "object" in kinds
        and set(kinds) <= {"object", "null"}
        and words <= {"type", "properties", "additionalProperties", "required"}
        and bool(words & {"properties", "additionalProperties", "required"})
    )


def _list_only(schema: Mapping[str, Any], kinds: list[str]) -> bool:
    """Whether `schema` is a list (or null) of items, bounded or not, and nothing else: the
    class test then goes with the items' own lines, as an `else` of them."""
    words = {k for k in schema if not k.startswith("x-")} - _ANNOTATIONS
    return (
        "array" in kinds
        and set(kinds) <= {"array", "null"}
        and "items" in words
        and words <= {"type", "items", "maxItems"}
    )


def _gen_limits(
    schema: Mapping[str, Any],
    kinds: list[str],
    v: str,
    src: _Source,
    ind: int,
    depth: int,
    record_only: bool = False,
) -> None:
    """Lines that `return False` where the facts limits (`_limits`) might find a problem, and
    note a Decimal (`_dec = 2`): what `_scan` finds, worked out in the same walk."""
    assert src.limits is not None
    max_depth, max_string, max_list = src.limits
    if depth > max_depth:
        src.emit(ind, "return False")
        return
    if not kinds:  # no type: the general scan, from this depth
        src.emit(ind, f"_s = _scan({v}, {depth})")
        src.emit(ind, "if _s & 1: return False")
        src.emit(ind, "if _s & 2: _dec = 2")
        return
    classes = frozenset(c for k in kinds for c in _TYPE_CLASSES[k])
    if record_only:
        pass  # tested by the record's lines (`_gen_object`)
    elif classes <= {dict, list, type(None)}:  # a record or list: a test or two, not a lookup
        tests = [f"{v}.__class__ is not {c.__name__}" for c in (dict, list) if c in classes]
        tests += [f"{v} is not None"] if type(None) in classes else []
        src.emit(ind, f"if {' and '.join(tests)}: return False")
    else:
        src.emit(ind, f"if {v}.__class__ not in {src.const(classes)}: return False")
    if "string" in kinds:
        src.emit(ind, f"if {v}.__class__ is str and len({v}) > {max_string}: return False")
    if "integer" in kinds or "number" in kinds:
        src.emit(ind, f"if {v}.__class__ is int and not _NHUGE < {v} < _HUGE: return False")
    if "number" in kinds:
        src.emit(ind, f"if {v}.__class__ is float and not -_INF < {v} < _INF: return False")
        src.emit(ind, f"if {v}.__class__ is _Decimal: _dec = 2")
    if (
        "array" in kinds
        and not record_only  # (a list's own lines test the limit: see `_gen`)
        and not int(schema.get("maxItems", max_list + 1)) <= max_list
    ):  # (a list's own bound, tested with the schema's keywords, is the tighter)
        src.emit(ind, f"if {v}.__class__ is list and len({v}) > {max_list}: return False")
    # what the schema leaves unchecked inside a record or list is scanned as a whole
    loose_object = "object" in kinds and not ({"properties", "additionalProperties"} & set(schema))
    if loose_object or ("array" in kinds and "items" not in schema):
        src.emit(ind, f"if {v}.__class__ is dict or {v}.__class__ is list:")
        src.emit(ind + 1, f"_s = _scan({v}, {depth})")
        src.emit(ind + 1, "if _s & 1: return False")
        src.emit(ind + 1, "if _s & 2: _dec = 2")


def _gen_object(
    schema: Mapping[str, Any],
    v: str,
    src: _Source,
    ind: int,
    depth: int = 0,
    fields: dict[str, Any] | None = None,
    exact: bool = False,
) -> None:
    """Lines checking a record's keys and fields (`exact`: the value's class is already
    known to be exactly dict, or not a record at all)."""
    props = schema.get("properties") or {}
    extra = schema.get("additionalProperties", True)
    src.emit(ind, f"if {v}.__class__ is dict:" if exact else f"if isinstance({v}, dict):")
    ind += 1
    if fields is not None:
        # a copy keeps the keys' order; a field whose value changes is set again in place
        src.emit(ind, f"c{v} = {v}.copy()")
    for key in schema.get("required") or ():
        src.emit(ind, f"if {key!r} not in {v}: return False")
    count = ""
    if extra is False:
        # every key is a property: as many keys are found below as the record has (counted
        # down from all of them for each one missing, where `frozenset.issuperset` would
        # build a set of the record's keys first)
        count = f"n{v}"
        src.emit(ind, f"{count} = {len(props)}")
    else:
        known = src.const(frozenset(props))
        k, x = src.var(), src.var()
        src.emit(ind, f"for {k}, {x} in {v}.items():")
        src.emit(ind + 1, f"if {k}.__class__ is not str: return False")
        if extra is not True:
            src.emit(ind + 1, f"if {k} not in {known}:")
            _gen(extra, x, src, ind + 2, depth + 1)
        elif src.limits:  # a key the schema says nothing of: scanned as a whole
            src.emit(ind + 1, f"if {k} not in {known}:")
            src.emit(ind + 2, f"_s = _scan({x}, {depth + 1})")
            src.emit(ind + 2, "if _s & 1: return False")
            src.emit(ind + 2, "if _s & 2: _dec = 2")
        if fields is not None:  # a key of no field: its JSON form
            src.emit(ind + 1, f"if {k} not in {known}: c{v}[{k}] = _tj({x})")
    for key, sub in props.items():
        x = src.var()
        # a test and a subscript: both in line, where `.get` is a method call
        src.emit(ind, f"if {key!r} in {v}:")
        src.emit(ind + 1, f"{x} = {v}[{key!r}]")
        ftype = fields[key] if fields is not None else None
        if ftype is not None and ftype.kind not in _BUILT:  # kept as given when plain
            # (a text, null or boolean decided on its own lines is kept as it is)
            inner = ind + 2 if _gen(sub, x, src, ind + 1, depth + 1) else ind + 1
            src.emit(inner, f"if {x}.__class__ not in _KEPT and {x} is not None:")
            src.emit(inner + 1, f"c{v}[{key!r}] = _tj({x})")
        elif ftype is not None and ftype.kind == "date":
            # (the copy holds the value already when it stays as it was: a date, null)
            _gen(sub, x, src, ind + 1, depth + 1, ftype, f"c{v}[{key!r}]")
        else:
            _gen(sub, x, src, ind + 1, depth + 1, ftype)
            if ftype is not None:
                src.emit(ind + 1, f"c{v}[{key!r}] = c{x}")
        if ftype is not None and ftype.none_when is not None:
            src.emit(ind + 1, f"if {x} is None: _nul = 1")
            src.nulls += 1
        if count:
            src.emit(ind, "else:")
            src.emit(ind + 1, f"{count} -= 1")
    if count:
        src.emit(ind, f"if {count} != len({v}): return False")


def _none_when_fields(t: Any) -> int:
    """How many fields within type `t` a sibling's value may make unknown when null."""
    if t.kind == "record":
        return sum(
            (ft.none_when is not None) + _none_when_fields(ft) for _, ft, _ in t.fields or ()
        )
    if t.kind == "list" and t.elem is not None:
        return _none_when_fields(t.elem)
    return 0


def generate_check(
    schema: Mapping[str, Any],
    name: str = "facts",
    scan: Callable[[Any, int], int] | None = None,
    limits: tuple[int, int, int, int] = (0, 0, 0, 0),
    convert: Converting | None = None,
) -> Check:
    """The check of `schema` as generated Python (raises Unsupported like `compile_schema`).

    Given `scan` (the facts limits' quick scan: bit 1 over a limit, bit 2 a Decimal) and the
    limits (depth, text length, list length, digits), the same walk also answers "not sure"
    wherever the limits might find a problem, and returns 2 rather than True when the value
    holds a Decimal: one walk over the document, not two.

    Given `convert` as well (with the limits), the same walk converts the document too: a
    passing document gives `(True or 2, the converted document, 1 when a field a sibling may
    make unknown is null somewhere, else 0)`, as `convert.root` types it."""
    src = _Source(limits[:3] if scan is not None else None, convert)
    digits = limits[3]
    src.huge = 10**digits
    src.emit(0, "def _check(v0):")
    if src.limits:
        src.emit(1, "_dec = True")
    if convert is None:
        _gen(schema, "v0", src, 1)
        src.emit(1, "return _dec" if src.limits else "return True")
    else:
        if not src.limits or _fields(schema, convert.root) is None:
            raise Unsupported("conversion")
        src.emit(1, "_nul = 0")
        first = len(src.lines) - 1
        _gen(schema, "v0", src, 1, 0, convert.root)
        kinds = schema.get("type")
        kinds = [kinds] if isinstance(kinds, str) else list(kinds or ())
        if not (_record_only(schema, kinds) and kinds == ["object"]):  # (else refused above)
            src.emit(1, "if v0.__class__ is not dict: return False")
        src.emit(1, "return _dec, cv0, _nul")
        if src.nulls != _none_when_fields(convert.root):  # (some not walked field by field)
            src.lines[first] = "    _nul = 1"  # every document's nulls are settled
    namespace: dict[str, Any] = {
        "_date": dt.date,
        "_NUM": (int, float, Decimal),
        "_MISSING": object(),
        "_uncertain": _uncertain,
        "_text": _text,
        "_is_date": _date,
        "_scan": scan,
        "_HUGE": 10**digits,
        "_NHUGE": -(10**digits),  # (negated once here, not on every whole number checked)
        "_INF": float("inf"),
        "_Decimal": Decimal,
        "_KEPT": frozenset({str, bool, int}),
        "_fromiso": dt.date.fromisoformat,
        "_RESERVED_DATE": RESERVED_DATE,
        "_tj": convert.to_json if convert is not None else None,
        **src.consts,
    }
    code = "\n".join(src.lines) + "\n"
    try:
        exec(disk_cache.compiled(code, f"<facts check: {name}>"), namespace)  # noqa: S102
    except (SyntaxError, RecursionError, MemoryError):  # nested beyond what Python compiles
        raise Unsupported("nesting") from None
    check: Check = namespace["_check"]
    return check
