"""Record mappings: finding a mapping file by name, validating it against its schema, and
checking that every name it uses (services, sources, code sets, fact paths) exists."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from engine.packs.facts_schema import facts_schema
from engine.packs.read_yaml import Document, read_yaml_file
from engine.packs.validate_schema import validate_document
from engine.problems import PackError, Problem, did_you_mean, file_problem
from engine.problems import problem as make_problem

_CHECKOUT = Path(__file__).resolve().parents[2] / "adapters"

READING_KINDS = ("field", "fields", "codes", "cases", "within", "items")


@dataclass(frozen=True)
class RecordMapping:
    """A validated mapping: the plain data of its YAML file, and where it was read from."""

    data: Mapping[str, Any]
    file: str

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def sources(self) -> Mapping[str, Any]:
        return self.data["sources"]

    @property
    def services(self) -> Mapping[str, Any]:
        return self.data["services"]

    @property
    def facts(self) -> list[Mapping[str, Any]]:
        return list(self.data["facts"])

    @property
    def code_sets(self) -> Mapping[str, Any]:
        return self.data.get("code_sets", {})

    @property
    def local_facts(self) -> Mapping[str, Any]:
        return self.data.get("local_facts", {})

    @property
    def not_supplied(self) -> list[Mapping[str, Any]]:
        return list(self.data.get("not_supplied", []))


def mapping_dir() -> Path:
    """The directory of shipped mappings: `<repo>/adapters/` in a checkout, else the package."""
    if _CHECKOUT.is_dir():
        return _CHECKOUT
    return Path(str(resources.files("engine.adapters.mappings")))


def mapping_path(name: str) -> Path:
    """The file of the shipped mapping `name`."""
    path = mapping_dir() / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in mapping_dir().glob("*.yaml"))
        raise PackError(
            [
                file_problem(
                    "E-IO",
                    str(path),
                    f"no mapping named `{name}`",
                    f"mappings: {', '.join(known) or 'none'}",
                )
            ]
        )
    return path


@cache
def load_mapping(name_or_path: str) -> RecordMapping:
    """A mapping by name (`hmpps`) or file path, validated and checked; raises PackError."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = mapping_path(name_or_path)
    doc = read_yaml_file(path)
    problems = validate_document(doc.data, "adapter", doc.file, doc)
    if not problems:
        problems = list(_check_names(doc))
    if any(p.is_error for p in problems):
        raise PackError(problems)
    return RecordMapping(doc.data, doc.file)


def fact_leaves(schema_name: str = "facts") -> set[str]:
    """Every fact path of the facts schema, objects and their fields alike (`a`, `a.b`...)."""
    found: set[str] = set()

    def walk(node: Mapping[str, Any], prefix: str) -> None:
        props = node.get("properties")
        if isinstance(props, Mapping):
            for key, sub in props.items():
                path = f"{prefix}.{key}" if prefix else key
                found.add(path)
                walk(sub, path)
        items = node.get("items")
        if isinstance(items, Mapping):
            walk(items, prefix)

    walk(facts_schema(schema_name), "")
    return found


def _check_names(doc: Document) -> Iterator[Problem]:
    """Names the schema cannot check: services, sources, code sets and fact paths."""
    data = doc.data
    services = set(data["services"])
    sources = set(data["sources"])
    code_sets = set(data.get("code_sets", {}))
    facts = fact_leaves()

    def problem(path: tuple[Any, ...], message: str, hint: str) -> Problem:
        span = doc.span(path) if doc.has(path) else doc.span(())
        return make_problem("E-MAPPING-NAME", doc.file, span.line, span.col, message, hint)

    def source_of(record_path: str, path: tuple[Any, ...]) -> Iterator[Problem]:
        name = record_path.split(".", 1)[0]
        if name not in sources:
            yield problem(
                path, f"`{name}` is not a source", f"sources: {', '.join(sorted(sources))}"
            )

    for name, source in data["sources"].items():
        if source["service"] not in services:
            yield problem(
                ("sources", name, "service"),
                f"`{source['service']}` is not a service",
                did_you_mean(source["service"], services)
                or f"services: {', '.join(sorted(services))}",
            )
    population = data.get("population")
    if population is not None and population["record_as"] not in sources:
        yield problem(("population", "record_as"), "`record_as` names no source", "name a source")
    if "establishment_from" in data:
        yield from source_of(data["establishment_from"], ("establishment_from",))
    for set_name, code_set in data.get("code_sets", {}).items():
        for i, reading in enumerate(code_set["from"]):
            yield from source_of(reading["list"], ("code_sets", set_name, "from", i, "list"))
    for i, entry in enumerate(data["facts"]):
        if entry["fact"] not in facts:
            yield problem(
                ("facts", i, "fact"),
                f"`{entry['fact']}` is not a fact of the facts schema",
                did_you_mean(entry["fact"], facts) or "see schemas/facts/",
            )
        for j, reading in enumerate(entry["from"]):
            here = ("facts", i, "from", j)
            for key in ("field", "items"):
                if key in reading:
                    yield from source_of(reading[key], (*here, key))
            for k, path in enumerate(reading.get("fields", [])):
                yield from source_of(path, (*here, "fields", k))
            if "within" in reading:
                for key in ("start", "end"):
                    yield from source_of(reading["within"][key], (*here, "within", key))
            for k, case in enumerate(reading.get("cases", []) + reading.get("contradictions", [])):
                for path in case["when"]:
                    yield from source_of(path, (*here, "when", k))
            if "codes" in reading and reading["codes"] not in code_sets:
                yield problem(
                    (*here, "codes"),
                    f"`{reading['codes']}` is not a code set",
                    did_you_mean(reading["codes"], code_sets)
                    or f"code sets: {', '.join(sorted(code_sets)) or 'none'}",
                )
    local = data.get("local_facts", {})
    if "establishment_fact" in local and local["establishment_fact"] not in facts:
        yield problem(
            ("local_facts", "establishment_fact"),
            f"`{local['establishment_fact']}` is not a fact of the facts schema",
            did_you_mean(local["establishment_fact"], facts) or "see schemas/facts/",
        )
    for i, group in enumerate(data.get("not_supplied", [])):
        for j, path in enumerate(group["facts"]):
            if path.removesuffix(".*") not in facts:
                yield problem(
                    ("not_supplied", i, "facts", j),
                    f"`{path}` is not a fact of the facts schema",
                    "see schemas/facts/",
                )
