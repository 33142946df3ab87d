"""Schema validation: the second stage; checks data against a schema, errors at YAML positions."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from engine.language.convert import to_json
from engine.packs.read_yaml import Document, Span
from engine.packs.resources import load_schema, registry
from engine.packs.schema_check import surely_valid
from engine.problems import Code, Problem, did_you_mean, file_problem, problem

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

_TYPE_NAMES = {
    "string": "text",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}

COMMA_HINT = "inside `{...}` a comma starts a new field: quote a value that has a comma"

_PATTERNS = {
    "^[a-z][a-z0-9_]*$": "snake_case: lowercase letters, digits and `_`, starting with a letter",
    "^[A-Za-z][A-Za-z0-9_.-]*$": "letters, digits, `_`, `.` and `-`, starting with a letter",
    "^[A-Za-z_][A-Za-z0-9_]*$": "a name: letters, digits and `_`, not starting with a digit",
    "^[A-Za-z0-9][A-Za-z0-9_.-]*$": "letters, digits, `_`, `.` and `-`",
}

_FORMATS = {"date": ("a date", "write dates as `YYYY-MM-DD`, e.g. `2020-06-01`")}

_EXPRESSION_HINTS = {
    "object": "quote it: YAML reads `{...}` and `key: value` as a mapping, "
    "so write a record as `'{count: 1, per: \"week\"}'`",
    "array": 'quote it: YAML reads `[...]` as a list, so write a list as `\'["a", "b"]\'`',
}


_WRITTEN = ("pack", "tests", "overlay", "adapter")  # schemas of files beside packs, not facts


def validate_pack(doc: Document) -> list[Problem]:
    """Check a pack document against `schemas/pack.schema.json`."""
    return validate_document(doc.data, "pack", doc.file, doc)


def validate_document(
    data: Any, schema_name: str, file: str, doc: Document | None = None
) -> list[Problem]:
    """Check `data` against a named schema (`pack`, `tests`, `facts`, `facts/establishment`...).

    Positions come from `doc` when given; otherwise every problem is at 1:1 and its message
    starts with the JSON path. Problems against facts schemas (and an establishment's local
    facts) have code `E-FACTS`; against the schemas of files people write beside packs (a
    pack, worked examples, a local plan, a record mapping) `E-SCHEMA`.
    """
    facts = schema_name not in _WRITTEN and not schema_name.startswith(("pack.", "tests."))
    instance = to_json(data, exact_numbers=True)
    if surely_valid(instance, schema_name):  # the common case, without the generic walk
        return []
    mapper = _Mapper(file, doc, "E-FACTS" if facts else "E-SCHEMA", facts, schema_name)
    problems: dict[tuple[int, int, str], Problem] = {}
    for error in _validator(schema_name).iter_errors(_whole_numbers(instance)):
        for found in mapper.map(error):
            problems.setdefault((found.line, found.col, found.message), found)
    return sorted(problems.values())


def _whole_numbers(value: Any) -> Any:
    """`value` with each decimal that has no fraction (`45.0`, read exactly from JSON or
    YAML) as the integer it is: JSON Schema's `integer` takes the float 45.0 but not the
    Decimal. (Past the digits an integer fact may have it stays a decimal, refused.)"""
    if isinstance(value, Decimal):
        whole = value.is_finite() and value.adjusted() < 30 and value == value.to_integral_value()
        return int(value) if whole else value
    if isinstance(value, dict):
        return {k: _whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(v) for v in value]
    return value


@cache
def _validator(schema_name: str) -> Draft202012Validator:
    # imported here, not at the top: a warm start reads validated packs from the disk cache
    # and valid facts pass the compiled check, so most commands never need jsonschema
    from jsonschema import Draft202012Validator, FormatChecker

    return Draft202012Validator(
        load_schema(schema_name), registry=registry(), format_checker=FormatChecker()
    )


def json_path(path: Iterable[Any]) -> str:
    """A value's place in a document as facts problems name it (`$.record.items[0]`)."""
    text = "$"
    for item in path:
        if isinstance(item, int):
            text += f"[{item}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(item)):
            text += f".{item}"
        else:
            text += f"[{str(item)!r}]"
    return text


def _show(value: Any) -> str:
    """A value as a message shows it: in backticks, or described when it is a structure."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        text = "null"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = str(value)
    text = text.replace("`", "'").replace("\n", " ")
    if len(text) > 40:
        text = text[:37] + "..."
    return f"`{text}`"


def _reads_as(text: str, types: list[str]) -> bool:
    """Whether quoted text would be a value of one of `types` without its quotes (`"4"` for
    an integer, `"true"` for a boolean): the fix is then to take the quotes away."""
    word = text.strip()
    if "integer" in types or "number" in types:
        try:
            Decimal(word) if "number" in types else int(word)
            return word != ""
        except (ArithmeticError, ValueError):
            pass
    return "boolean" in types and word in ("true", "false")


def _listing(values: Iterable[Any]) -> str:
    return ", ".join(_show(v) for v in values if v is not None)


def _types(schema: Any) -> list[str]:
    if not isinstance(schema, dict):
        return []
    kind = schema.get("type", [])
    return [kind] if isinstance(kind, str) else list(kind)


def _type_phrase(types: Iterable[str]) -> str:
    kinds = [t for t in types if t != "null"]
    if "string" in kinds and "number" in kinds:
        return "an expression or a literal"
    names = [_TYPE_NAMES.get(t, t) for t in kinds if not (t == "integer" and "number" in kinds)]
    phrase = " or ".join(dict.fromkeys(names)) or "null"
    return phrase + (" or null" if "null" in types and kinds else "")


def _article(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


class _Mapper:
    """Turns jsonschema errors into problems a policy author can act on."""

    def __init__(
        self, file: str, doc: Document | None, code: Code, facts: bool, schema_name: str = ""
    ):
        self.file, self.doc, self.code, self.facts = file, doc, code, facts
        self.schema_name = schema_name

    # positions and wording ------------------------------------------------------------

    def problem(
        self,
        path: tuple[Any, ...],
        message: str,
        hint: str | None,
        on_key: bool = False,
        at: tuple[Any, ...] | None = None,
    ) -> Problem:
        """A problem about the value at `path`, placed at `at` (default `path`) in the file."""
        if self.facts:
            message = f"`{json_path(path)}`: {message}"
        if self.doc is None:
            return file_problem(self.code, self.file, message, hint)
        where = path if at is None else at
        span: Span = self.doc.key_span(where) if on_key else self.doc.span(where)
        end = (span.end_line, span.end_col) if span.end_line and span.end_col else None
        return problem(self.code, self.file, span.line, span.col, message, hint, end)

    def subject(self, path: tuple[Any, ...]) -> str:
        """How a pack message names the value at `path`."""
        if not path:
            return "the document"
        last = path[-1]
        if isinstance(last, int):
            parent = next((p for p in reversed(path) if not isinstance(p, int)), None)
            where = f" of `{parent}`" if parent is not None else ""
            return f"item {last + 1}{where}"
        return f"`{last}`"

    def place(self, schema: Any, path: tuple[Any, ...]) -> str:
        """Where a field sits, for messages about fields: `in a rule`, `at the top level`."""
        if not path:
            return "at the top level"
        title = schema.get("title") if isinstance(schema, dict) else None
        if title:
            return f"in {_article(title)}"
        return f"in {self.subject(path)}"

    # dispatch ---------------------------------------------------------------------------

    def map(self, error: ValidationError) -> list[Problem]:
        """The problems of one error; of an error inside an `if`'s `then` or `else`, each says
        the condition that asks for what was refused, and the hint offers both fixes."""
        found = self._map(error)
        branch = _branch(self.schema_name, list(error.absolute_schema_path))
        if branch is None:
            return found
        when, holds, node = branch
        condition = _condition_text(when, holds)
        if condition is None:
            return found
        names = " or ".join(f"`{n}`" for n in _condition_names(when))
        own = node.get("x-hint") if isinstance(node, dict) else None
        path = tuple(error.absolute_path)
        field = next((str(k) for k in reversed(path) if isinstance(k, str)), "the value")
        out = []
        for p in found:
            hint = str(own) if own else f"{p.hint or 'change it'} (`{field}`); or change {names}"
            message = f"{p.message}, since {condition}"
            out.append(replace(p, message=message, hint=hint))
        return out

    def _map(self, error: ValidationError) -> list[Problem]:
        path = tuple(error.absolute_path)
        schema = error.schema
        validator = error.validator
        instance: Any = error.instance
        schema_path = list(error.relative_schema_path)
        if "propertyNames" in schema_path:
            return [self.property_name(error, path)]
        if "dependentSchemas" in schema_path and validator in ("not", None):
            return [self.excluded(error, path, schema_path)]
        if validator == "additionalProperties":
            return self.unknown_fields(schema, instance, path)
        if validator == "required":
            required: Any = error.validator_value
            missing = [name for name in required if name not in instance]
            return [self.missing(schema, name, path) for name in missing]
        if validator in ("oneOf", "anyOf"):
            return self.choice(error, path)
        if validator == "enum" and isinstance(instance, str) and "string" not in _types(schema):
            return []  # the type problem beside it says it: text where a number goes
        return [self.value_problem(error, path)]

    def property_name(self, error: ValidationError, path: tuple[Any, ...]) -> Problem:
        name = error.instance
        rule = _PATTERNS.get(str(error.validator_value), f"the pattern `{error.validator_value}`")
        parent = self.subject(path) if path else "the document"
        message = f"`{name}` is not a valid name in {parent}"
        hint = f"use {rule}"
        if isinstance(name, str) and (" " in name.strip() or name.endswith(".")):
            hint = COMMA_HINT  # words cut off a text: most often an unquoted comma
        return self.problem(path + (name,), message, hint, on_key=True)

    def excluded(
        self, error: ValidationError, path: tuple[Any, ...], schema_path: list[Any]
    ) -> Problem:
        trigger = schema_path[schema_path.index("dependentSchemas") + 1]
        field = path[-1] if path else "?"
        message = f"`{field}` cannot be used together with `{trigger}`"
        return self.problem(path, message, f"remove `{field}` or `{trigger}`", on_key=True)

    def unknown_fields(self, schema: Any, instance: Any, path: tuple[Any, ...]) -> list[Problem]:
        allowed = list(schema.get("properties", {})) if isinstance(schema, dict) else []
        patterns = list(schema.get("patternProperties", {})) if isinstance(schema, dict) else []
        problems = []
        for key in instance:
            if key in allowed or any(re.search(p, key) for p in patterns):
                continue
            close = did_you_mean(key, allowed)
            if instance[key] is None and (" " in key or not close):
                hint = COMMA_HINT
            elif close:
                hint = close
            elif allowed:
                hint = "the fields allowed here are " + ", ".join(f"`{a}`" for a in allowed)
            else:
                hint = "remove it"
            if self.facts:
                message = f"unknown field `{key}`"
                problems.append(self.problem(path, message, hint, on_key=True, at=path + (key,)))
            else:
                message = f"unknown field `{key}` {self.place(schema, path)}"
                problems.append(self.problem(path + (key,), message, hint, on_key=True))
        return problems

    def missing(self, schema: Any, name: str, path: tuple[Any, ...]) -> Problem:
        if self.facts:
            return self.problem(path, f"missing required field `{name}`", f"add `{name}`")
        message = f"missing required field `{name}` {self.place(schema, path)}"
        return self.problem(path, message, f"add `{name}: ...`")

    def choice(self, error: ValidationError, path: tuple[Any, ...]) -> list[Problem]:
        branches = error.validator_value
        if isinstance(branches, list) and all(
            isinstance(b, dict) and set(b) == {"required"} for b in branches
        ):
            return [self.exactly_one(error, path, [n for b in branches for n in b["required"]])]
        groups: dict[Any, list[ValidationError]] = {}
        for sub in error.context or []:
            groups.setdefault(sub.relative_schema_path[0], []).append(sub)
        depth = len(error.absolute_path)

        def wrong_type(sub: ValidationError) -> bool:
            return sub.validator == "type" and len(sub.absolute_path) == depth

        viable = [subs for subs in groups.values() if not any(wrong_type(s) for s in subs)]
        if len(viable) == 1:
            return [p for sub in viable[0] for p in self._map(sub)]
        if not viable:
            types: list[str] = []
            for subs in groups.values():
                for sub in subs:
                    if wrong_type(sub):
                        types += _types(sub.schema)
            return [self.type_problem(error.instance, types, path, error.schema)]
        from jsonschema.exceptions import best_match  # see `_validator`

        best = best_match(error.context or [])
        return self._map(best) if best is not None else [self.value_problem(error, path)]

    def exactly_one(
        self, error: ValidationError, path: tuple[Any, ...], names: list[str]
    ) -> Problem:
        instance = error.instance if isinstance(error.instance, dict) else {}
        present = [n for n in names if n in instance]
        options = ", ".join(f"`{n}`" for n in names)
        owner = (
            _article(error.schema.get("title", "entry")) if isinstance(error.schema, dict) else "it"
        )
        if len(present) > 1:
            found = " and ".join(f"`{n}`" for n in present)
            message = f"{owner} takes exactly one of {options} (found {found})"
            if self.facts:
                message = f"takes exactly one of {options} (found {found})"
            return self.problem(
                path + (present[1],), message, "keep one and remove the others", on_key=True
            )
        message = f"{owner} needs one of {options}"
        if self.facts:
            message = f"needs one of {options}"
        return self.problem(path, message, f"add one of {options}")

    # problems about one value -------------------------------------------------------------

    def type_problem(
        self, instance: Any, types: list[str], path: tuple[Any, ...], schema: Any
    ) -> Problem:
        schema = schema if isinstance(schema, dict) else {}
        if "minimum" in schema and "maximum" in schema and "integer" in types:
            return self.range_problem(instance, schema, path)
        expected = _type_phrase(types)
        hint = None
        if "string" in types and "number" in types:
            hint = _EXPRESSION_HINTS.get("object" if isinstance(instance, dict) else "array", None)
        elif (
            types == ["string"] and not isinstance(instance, (dict, list)) and instance is not None
        ):
            hint = f'quote it to make it text: `"{_show(instance).strip("`")}"`'
        elif "object" in types and not self.facts and path and path[-1] == "cite":
            hint = "write `cite: {section: <the source's heading>, paragraph: <its number>}`"
        elif not self.facts and path == ("tests",) and isinstance(instance, list):
            hint = "put the cases under `cases:`: `tests:`, then `cases:` indented below it"
        elif "object" in types and not isinstance(instance, dict):
            hint = "write a mapping here: `key: value` lines, indented below"
        elif "array" in types and not isinstance(instance, list):
            hint = f"write a list: `[{_show(instance).strip('`')}]`"
        if hint is None:
            hint = f"write {expected} here"
        got = _show(instance)
        if isinstance(instance, str) and "string" not in types:
            got = f'the text `"{_show(instance)[1:-1]}"`'  # `4` alone hid its quotes
            if _reads_as(instance, types):
                hint = f"write it without quotes: `{instance.strip()}`"
        if self.facts:
            return self.problem(path, f"expected {expected} (got {got})", hint)
        message = f"{self.subject(path)} must be {expected} (got {got})"
        return self.problem(path, message, hint)

    def range_problem(
        self, instance: Any, schema: dict[str, Any], path: tuple[Any, ...]
    ) -> Problem:
        low, high = schema["minimum"], schema["maximum"]
        hint = f"use a whole number from {low} to {high}"
        if self.facts:
            message = f"{_show(instance)} is not an integer from {low} to {high}"
        else:
            message = f"{self.subject(path)} must be an integer from {low} to {high}"
            message += f" (got {_show(instance)})"
        return self.problem(path, message, hint)

    def value_problem(self, error: ValidationError, path: tuple[Any, ...]) -> Problem:
        validator, instance = error.validator, error.instance
        value: Any = error.validator_value
        schema = error.schema if isinstance(error.schema, dict) else {}
        got = _show(instance)
        subject = self.subject(path)
        if validator == "type":
            return self.type_problem(instance, _types(schema), path, schema)
        if validator in ("minimum", "maximum") and "minimum" in schema and "maximum" in schema:
            return self.range_problem(instance, schema, path)
        if validator == "enum":
            options = _listing(value)
            options_text = [str(v) for v in value if v is not None]
            advice = (
                did_you_mean(str(instance), options_text, cutoff=0.5)
                or "use one of the values listed"
            )
            if self.facts:
                return self.problem(path, f"{got} is not one of {options}", advice)
            return self.problem(path, f"{subject} must be one of {options} (got {got})", advice)
        if validator == "const":
            expected = _show(value)
            return self.problem(path, self.say(subject, f"must be {expected}", got), None)
        if validator == "format":
            name, how = _FORMATS.get(value, (f"a valid {value}", f"write a valid {value}"))
            if self.facts:
                return self.problem(path, f"{got} is not {name}", how)
            return self.problem(path, f"{subject} must be {name} (got {got})", how)
        if validator == "pattern":
            rule: str | None = _PATTERNS.get(value)
            examples = schema.get("examples") or []
            example = f" (for example `{examples[0]}`)" if examples else ""
            if rule is None:
                hint = f"it must match the pattern `{value}`"
                if self.facts:
                    return self.problem(path, f"{got} is not in the expected form{example}", hint)
                message = f"{subject} is not in the expected form{example} (got {got})"
                return self.problem(path, message, hint)
            if self.facts:
                return self.problem(path, f"{got} is not {rule}", f"use {rule}{example}")
            hint = f"for example `{examples[0]}`" if examples else f"use {rule}"
            return self.problem(path, f"{subject} must be {rule} (got {got})", hint)
        if validator in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
            words = {
                "minimum": "at least",
                "exclusiveMinimum": "more than",
                "maximum": "at most",
                "exclusiveMaximum": "less than",
            }
            predicate = f"must be {words[validator]} {value}"
            return self.problem(path, self.say(subject, predicate, got), None)
        if validator == "minItems":
            predicate = "must not be an empty list" if value == 1 else f"needs {value} items"
            return self.problem(path, self.say(subject, predicate, None), "add an item")
        if validator == "maxItems":
            predicate = f"may have at most {value} items"
            return self.problem(path, self.say(subject, predicate, None), None)
        if validator == "minLength":
            predicate = "must not be empty" if value == 1 else f"needs at least {value} characters"
            return self.problem(path, self.say(subject, predicate, None), "write a value")
        if validator == "uniqueItems":
            return self.problem(path, self.say(subject, "must not repeat items", None), None)
        if error.schema is False:
            field = path[-1] if path else "?"
            return self.problem(path, f"`{field}` is not allowed here", "remove it", on_key=True)
        text = str(error.message).replace("'", "`")
        return self.problem(path, self.say(subject, f"is not valid: {text}", None), None)

    def say(self, subject: str, predicate: str, got: str | None) -> str:
        tail = f" (got {got})" if got else ""
        return f"{predicate}{tail}" if self.facts else f"{subject} {predicate}{tail}"


def _branch(schema_name: str, path: list[Any]) -> tuple[dict[str, Any], bool, Any] | None:
    """The innermost `if` an error's schema path passes through, as (its condition, whether
    the error is in `then` (the condition holds) or `else`, the branch): walked from the
    named schema, following `$ref`s between the shipped schemas."""
    if not schema_name:
        return None
    try:
        node: Any = load_schema(schema_name)
    except (OSError, ValueError):
        return None
    base = str(node.get("$id", "")) if isinstance(node, dict) else ""
    found = None
    for step in path:
        # jsonschema leaves a `$ref` out of the path: the steps go on inside what it names
        while isinstance(node, dict) and step not in node and isinstance(node.get("$ref"), str):
            node, base = _resolve(node["$ref"], base)
        if isinstance(node, dict) and step in ("then", "else") and isinstance(node.get("if"), dict):
            found = (node["if"], step == "then", node.get(step))
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return None
    return found


def _resolve(ref: str, base: str) -> tuple[Any, str]:
    """The schema a `$ref` names (a shipped schema, and a `#/...` pointer in it), with its base."""
    from urllib.parse import urljoin

    uri, _, pointer = urljoin(base, ref).partition("#")
    node: Any = registry().contents(uri) if uri else load_schema("facts")
    for part in [p for p in pointer.split("/") if p]:
        node = node[part]
    return node, uri or base


def _condition_names(when: dict[str, Any]) -> list[str]:
    return list(dict.fromkeys([*(when.get("properties") or {}), *(when.get("required") or [])]))


def _condition_text(when: dict[str, Any], holds: bool) -> str | None:
    """An `if` schema in words (its fields' `const` and `enum`, and the fields it requires), or
    its negation for an `else`; None when it says something else, not put in words here."""
    parts: list[tuple[str, str]] = []
    props = when.get("properties") or {}
    for name, sub in props.items():
        if not isinstance(sub, dict):
            return None
        if "const" in sub:
            parts.append(
                (f"`{name}` is {_show(sub['const'])}", f"`{name}` is not {_show(sub['const'])}")
            )
        elif "enum" in sub:
            listing = _listing(sub["enum"])
            parts.append((f"`{name}` is one of {listing}", f"`{name}` is not one of {listing}"))
        else:
            return None
    for name in when.get("required") or []:
        if name not in props:
            parts.append((f"`{name}` is given", f"`{name}` is not given"))
    if not parts or set(when) - {"properties", "required", "description"}:
        return None
    if holds:
        return " and ".join(p for p, _ in parts)
    return " or ".join(n for _, n in parts)
