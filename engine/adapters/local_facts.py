"""Facts an establishment supplies itself (`--local-facts`), merged into the facts a mapping
read from records, layer by layer. The file's shape is `schemas/local-facts.schema.json`; the
order of the layers is fixed here and stated, with its reasons, in each mapping's
`local_facts.precedence` (checked against `PRECEDENCE` when the mapping loads).

Highest first: a person's `override`, the file-wide `override`, the records, a person's
`facts`, the file-wide `facts`. Facts filled from the file take away the gaps for exactly what
the file states; a file-wide fact never settles a contradiction in one person's records.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from engine.adapters.interpret import Gap
from engine.language.convert import to_json
from engine.packs.facts_schema import facts_schema
from engine.packs.read_yaml import Document, read_yaml_file
from engine.packs.validate_schema import validate_document
from engine.problems import PackError, Problem, problem

SCHEMA = "local-facts"

PRECEDENCE = ("person_override", "override", "records", "person_facts", "facts")
"""The layers, highest first: where two state a fact, the higher one's value is used."""


@dataclass(frozen=True)
class Applied:
    """What a local facts file did to one person's facts."""

    facts: dict[str, Any]
    gaps: list[Gap]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LocalFacts:
    """A validated local facts file: its parts as plain JSON data, and the document (for
    positions in later errors)."""

    doc: Document
    establishment_code: str | None
    facts: Mapping[str, Any]
    override: Mapping[str, Any]
    people: Mapping[str, Mapping[str, Any]]

    @property
    def file(self) -> str:
        return self.doc.file

    def check_establishment(self, found: Any) -> None:
        """Refuse the file for records of another establishment than the one it names."""
        if self.establishment_code is None or found is None:
            return
        if str(found).upper() != self.establishment_code.upper():
            span = self.doc.span(("establishment_code",))
            raise PackError(
                [
                    problem(
                        "E-FACTS-LOCAL-ESTABLISHMENT",
                        self.file,
                        span.line,
                        span.col,
                        f"this file speaks for `{self.establishment_code}`, but the records "
                        f"are of `{found}`",
                        "give the local facts file of the establishment the records come from",
                    )
                ]
            )

    def unmatched(self, seen: Iterable[str]) -> list[str]:
        """The people the file names who were not among `seen` (a misspelt identifier, or
        someone who has left): their facts were used for nobody."""
        found = set(seen)
        return [who for who in self.people if who not in found]

    def apply(self, subject: str, facts: Mapping[str, Any], gaps: Iterable[Gap]) -> Applied:
        """The records' facts with the file's layers merged in, the gaps the file leaves, and
        a note for every record value an override replaced."""
        gaps = list(gaps)
        person = self.people.get(subject, {})
        contradicted = {g.fact for g in gaps if g.kind == "contradiction"}
        merged = copy.deepcopy(dict(facts))
        _fill(merged, person.get("facts", {}), set())
        _fill(merged, self.facts, contradicted)
        notes: list[str] = []
        for where, layer in (
            ("override", self.override),
            ("people override", person.get("override", {})),
        ):
            for path, value in _leaves(layer):
                recorded = _get(facts, path)
                if recorded is not _ABSENT and recorded != value:
                    who = f"{subject}: " if where == "people override" else ""
                    notes.append(
                        f"{who}{'.'.join(path)}: the records say {_show(recorded)}; "
                        f"the local facts file's {where} gives {_show(value)}"
                    )
                _set(merged, path, value)
        kept = [g for g in gaps if g.kind == "partial" or not _states(merged, _split(g.fact))]
        return Applied(merged, kept, notes)


def read_local_facts(path: Path) -> LocalFacts:
    """Read and validate a local facts file (YAML or JSON); raises PackError whose problems
    carry the line and column of the offending key or value."""
    doc = read_yaml_file(path)
    problems: list[Problem] = validate_document(doc.data, SCHEMA, doc.file, doc)
    if problems:
        raise PackError([_local(p) for p in problems])
    data = to_json(doc.data) if doc.data is not None else {}
    if not isinstance(data, Mapping):  # null document: the schema's type check said so already
        data = {}
    code = data.get("establishment_code")
    return LocalFacts(
        doc,
        str(code) if code is not None else None,
        data.get("facts") or {},
        data.get("override") or {},
        {str(k): v or {} for k, v in (data.get("people") or {}).items()},
    )


def _local(found: Problem) -> Problem:
    """A schema problem of a local facts file, under the file's own code; a facts root at the
    top (a plain facts document) is told where it goes."""
    from dataclasses import replace

    for root in facts_schema().get("properties", {}):
        if found.message == f"`$`: unknown field `{root}`":
            hint = f"put `{root}:` under `facts:` (for everyone) or `people: <ID>: facts:`"
            return replace(found, code="E-FACTS-LOCAL", hint=hint)
    return replace(found, code="E-FACTS-LOCAL")


_ABSENT = object()


def _split(path: str) -> tuple[str, ...]:
    return tuple(path.removesuffix(".*").split("."))


def _get(facts: Any, path: tuple[str, ...]) -> Any:
    node = facts
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return _ABSENT
        node = node[part]
    return node


def _states(facts: Any, path: tuple[str, ...]) -> bool:
    """Whether the facts state this fact: present, and not a null that leaves it unknown (a
    null states something only where the facts schema makes it a known none)."""
    value = _get(facts, path)
    if value is _ABSENT:
        return False
    return value is not None or _null_is_none(path)


@cache
def _null_is_none(path: tuple[str, ...]) -> bool:
    node: Any = facts_schema()
    for part in path:
        props = node.get("properties") if isinstance(node, Mapping) else None
        if not isinstance(props, Mapping) or part not in props:
            return False
        node = props[part]
    return isinstance(node, Mapping) and node.get("x-null") == "none"


def _set(facts: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = facts
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[path[-1]] = copy.deepcopy(value)


def _leaves(
    data: Mapping[str, Any], prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every fact a layer states: a path to a value that is not a mapping (or an empty one)."""
    for key, value in data.items():
        path = (*prefix, str(key))
        if isinstance(value, Mapping) and value:
            yield from _leaves(value, path)
        else:
            yield path, value


def _fill(facts: dict[str, Any], layer: Mapping[str, Any], skip: set[str]) -> None:
    """Set each fact the layer states where `facts` has none, except under `skip` paths."""
    for path, value in _leaves(layer):
        if any(_within(path, _split(s)) for s in skip):
            continue
        if _present_above(facts, path):
            continue
        _set(facts, path, value)


def _within(path: tuple[str, ...], prefix: tuple[str, ...]) -> bool:
    return path[: len(prefix)] == prefix or prefix[: len(path)] == path


def _present_above(facts: Any, path: tuple[str, ...]) -> bool:
    """Whether the facts already state this path, or a value (not a mapping) on the way to it."""
    node = facts
    for part in path:
        if not isinstance(node, Mapping):
            return True
        if part not in node:
            return False
        node = node[part]
    return True


def _show(value: Any) -> str:
    return "null" if value is None else f"`{value}`"
