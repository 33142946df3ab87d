"""The mapping interpreter: records of other services, and an evaluation date, to a facts
document and the gaps in it. Generic: every source, field, code and rule comes from the
mapping; a fact no reading supplies is left absent (unknown) and named in the gaps."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.adapters.mapping import RecordMapping
from engine.packs.facts_schema import validate_facts

GAP_KINDS = ("missing", "contradiction", "unmapped", "partial", "invalid", "not_supplied")


@dataclass(frozen=True, order=True)
class Gap:
    """A fact the records could not supply (or supplied only in part), and why."""

    fact: str
    kind: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"fact": self.fact, "kind": self.kind, "reason": self.reason}

    def format(self) -> str:
        return f"{self.fact}: {self.kind}: {self.reason}"


# What one reading of a fact gives.
@dataclass(frozen=True)
class _Value:
    value: Any


@dataclass(frozen=True)
class _Nothing:
    """The reading found nothing: its source is absent (`missing`) or holds no match."""

    reason: str
    source_absent: bool = False


@dataclass(frozen=True)
class _Stop:
    """The records contradict each other, or hold a value the mapping cannot translate."""

    kind: str
    reason: str


_Outcome = _Value | _Nothing | _Stop
_ABSENT = object()


def to_facts(
    mapping: RecordMapping, records: Mapping[str, Any], as_of: dt.date
) -> tuple[dict[str, Any], list[Gap]]:
    """The facts the records supply on `as_of`, and a gap for every fact they do not.

    `records` maps a source name to the service's response as it arrived (JSON); a source
    without a record is absent or None.
    """
    run = _Run(mapping, records, as_of)
    return run.facts, run.gaps


class _Run:
    """One interpretation: the facts found so far (later readings may use earlier facts)."""

    def __init__(self, mapping: RecordMapping, records: Mapping[str, Any], as_of: dt.date):
        self.mapping = mapping
        self.as_of = as_of
        self.records = {
            name: _root(records.get(name), mapping.sources[name].get("root"))
            for name in mapping.sources
        }
        self.facts: dict[str, Any] = {"as_of": as_of.isoformat()}
        self.gaps: list[Gap] = []
        self._code_sets: dict[str, tuple[list[str], str] | None] = {}
        for entry in mapping.facts:
            self._fact(entry)
        for group in mapping.not_supplied:
            for path in group["facts"]:
                if _get_fact(self.facts, path) is _ABSENT:
                    self.gaps.append(Gap(path, "not_supplied", str(group["reason"]).strip()))
        self._drop_invalid()
        self.gaps.sort()

    # -- facts ---------------------------------------------------------------------------------

    def _fact(self, entry: Mapping[str, Any]) -> None:
        path = str(entry["fact"])
        reasons: list[str] = []
        for reading in entry["from"]:
            outcome = self._read(reading)
            if isinstance(outcome, _Value):
                _set_fact(self.facts, path, outcome.value)
                if reading.get("partial"):
                    where = _kind_target(reading)
                    self.gaps.append(
                        Gap(path, "partial", f"only part of the list is held by `{where}`")
                    )
                return
            if isinstance(outcome, _Stop):
                self.gaps.append(Gap(path, outcome.kind, outcome.reason))
                return
            reasons.append(outcome.reason)
        self.gaps.append(Gap(path, "missing", "; ".join(dict.fromkeys(reasons))))

    def _read(self, reading: Mapping[str, Any]) -> _Outcome:
        if "field" in reading:
            outcome = self._field(reading)
        elif "fields" in reading:
            outcome = self._first_of(reading)
        elif "codes" in reading:
            return self._codes(reading)
        elif "cases" in reading:
            return self._cases(reading)
        elif "within" in reading:
            outcome = self._within(reading)
        else:
            return self._items(reading)
        if isinstance(outcome, _Nothing) and not outcome.source_absent:
            if "none_when" in reading:
                return self._none_when(reading["none_when"], outcome)
            if "otherwise" in reading:
                return _Value(reading["otherwise"])
        return outcome

    def _lookup(self, record_path: str) -> tuple[bool, Any]:
        """(whether the source has a record, the value at the path or None)."""
        name, _, rest = record_path.partition(".")
        record = self.records.get(name)
        if record is None:
            return False, None
        return True, _dig(record, rest) if rest else record

    def _field(self, reading: Mapping[str, Any]) -> _Outcome:
        path = str(reading["field"])
        present, value = self._lookup(path)
        if not present:
            return _absent(path)
        if "where" in reading:
            if not isinstance(value, list):
                return _Nothing(f"`{path}` holds no list")
            matches = [v for v in value if _matches(v, reading["where"])]
            if not matches:
                return _Nothing(f"no element of `{path}` matches {_show_where(reading['where'])}")
            value = _dig(matches[0], reading["then"]) if "then" in reading else matches[0]
        if value is None:
            return _Nothing(f"`{path}` is empty")
        if "format" in reading:
            if not isinstance(value, Mapping):
                return _Stop("unmapped", f"`{path}` is not a record to format")
            value = str(reading["format"]).format_map(_Blank(value)).strip()
        return _convert(value, reading, path)

    def _first_of(self, reading: Mapping[str, Any]) -> _Outcome:
        paths = [str(p) for p in reading["fields"]]
        any_present = False
        for path in paths:
            present, value = self._lookup(path)
            any_present = any_present or present
            if present and value is not None:
                return _convert(value, reading, path)
        if not any_present:
            return _absent(paths[0])
        return _Nothing(f"none of {', '.join(f'`{p}`' for p in paths)} holds a value")

    def _none_when(self, rule: Mapping[str, Any], nothing: _Nothing) -> _Outcome:
        other = _get_fact(self.facts, str(rule["fact"]))
        if other is _ABSENT or other is None:
            return _Nothing(f"{nothing.reason}, and `{rule['fact']}` is unknown")
        if other in rule["in"]:
            return _Value(None)
        return _Nothing(f"{nothing.reason}, and with `{rule['fact']}` {other} a date is expected")

    def _code_set(self, name: str) -> tuple[list[str], str] | None:
        """The codes of a set active on the evaluation date, and the list they came from."""
        if name not in self._code_sets:
            self._code_sets[name] = None
            for reading in self.mapping.code_sets[name]["from"]:
                present, items = self._lookup(str(reading["list"]))
                if not present:
                    continue
                codes = [
                    str(_dig(item, reading["code"]))
                    for item in (items if isinstance(items, list) else [])
                    if isinstance(item, Mapping) and self._active(item, reading)
                ]
                self._code_sets[name] = (list(dict.fromkeys(codes)), str(reading["list"]))
                break
        return self._code_sets[name]

    def _active(self, item: Mapping[str, Any], reading: Mapping[str, Any]) -> bool:
        for key, wanted in reading.get("active_when", {}).items():
            if _dig(item, key) != wanted:
                return False
        if "active_from" in reading:
            start = _as_date(_dig(item, reading["active_from"]))
            if start is None or start > self.as_of:
                return False
        if "active_to" in reading:
            end = _as_date(_dig(item, reading["active_to"]))
            if end is not None and end <= self.as_of:
                return False
        return True

    def _codes(self, reading: Mapping[str, Any]) -> _Outcome:
        name = str(reading["codes"])
        found = self._code_set(name)
        if found is None:
            lists = ", ".join(f"`{r['list']}`" for r in self.mapping.code_sets[name]["from"])
            return _Nothing(f"no record of {lists}", source_absent=True)
        codes, origin = found
        table = reading.get("table")
        if table is None:
            return _Value(codes)
        hits = [c for c in codes if c in table]
        if reading.get("exclusive") and len(hits) > 1:
            both = " and ".join(f"`{c}`" for c in hits)
            return _Stop(
                "contradiction", f"{both} are active at once in `{origin}` on {self.as_of}"
            )
        if hits:
            return _Value(table[hits[0]])
        until = reading.get("codes_in_use_until")
        if until is not None and self.as_of >= _as_date(until):  # type: ignore[operator]
            return _Nothing(
                f"none of {', '.join(table)} is active, but those codes were withdrawn on {until}"
            )
        if "otherwise" in reading:
            return _Value(reading["otherwise"])
        return _Nothing(f"none of {', '.join(table)} is active in `{origin}`")

    def _holds(self, when: Mapping[str, Any]) -> bool | None:
        """Whether every path holds its value; None when a source is absent."""
        for path, wanted in when.items():
            present, value = self._lookup(str(path))
            if not present:
                return None
            options = wanted if isinstance(wanted, list) else [wanted]
            if value is None or value not in options:
                return False
        return True

    def _cases(self, reading: Mapping[str, Any]) -> _Outcome:
        paths = list(dict.fromkeys(str(p) for case in reading["cases"] for p in case["when"]))
        for rule in reading.get("contradictions", []):
            if self._holds(rule["when"]):
                return _Stop("contradiction", str(rule["message"]))
        for case in reading["cases"]:
            holds = self._holds(case["when"])
            if holds is None:
                return _absent(paths[0])
            if holds:
                return _Value(case["value"])
        shown = ", ".join(f"`{p}` = {_show(self._lookup(p)[1])}" for p in paths)
        return _Stop("unmapped", f"no case of the mapping fits {shown}")

    def _within(self, reading: Mapping[str, Any]) -> _Outcome:
        start_path, end_path = str(reading["within"]["start"]), str(reading["within"]["end"])
        present, start = self._lookup(start_path)
        if not present:
            return _absent(start_path)
        start_day = _as_date(start)
        if start_day is None:
            return _Nothing(f"`{start_path}` is empty")
        end_day = _as_date(self._lookup(end_path)[1])
        return _Value(start_day <= self.as_of and (end_day is None or self.as_of < end_day))

    def _items(self, reading: Mapping[str, Any]) -> _Outcome:
        path = str(reading["items"])
        present, items = self._lookup(path)
        if not present:
            return _absent(path)
        if not isinstance(items, list):
            return _Nothing(f"`{path}` holds no list")
        out = []
        for item in items:
            if not isinstance(item, Mapping) or not _matches(item, reading.get("where", {})):
                continue
            element: dict[str, Any] = {}
            for key, spec in reading["element"].items():
                converted = _convert(_dig(item, spec["field"]), spec, f"{path}[].{spec['field']}")
                if isinstance(converted, _Stop):
                    return converted
                if isinstance(converted, _Value):
                    element[key] = converted.value
            out.append(element)
        return _Value(out)

    # -- validation ----------------------------------------------------------------------------

    def _drop_invalid(self) -> None:
        """Remove facts the facts schema rejects (bad source data), each reported as a gap."""
        if not validate_facts(self.facts):
            return
        for entry in self.mapping.facts:
            path = str(entry["fact"])
            value = _get_fact(self.facts, path)
            if value is _ABSENT:
                continue
            single: dict[str, Any] = {}
            _set_fact(single, path, value)
            problems = validate_facts(single)
            if problems:
                _del_fact(self.facts, path)
                reason = problems[0].message
                self.gaps.append(
                    Gap(path, "invalid", f"the records' value {_show(value)}: {reason}")
                )


# -- helpers ---------------------------------------------------------------------------------


class _Blank(dict[str, Any]):
    """Format fields: a missing or null field reads as empty text."""

    def __init__(self, data: Mapping[str, Any]):
        super().__init__({k: "" if v is None else v for k, v in data.items()})

    def __missing__(self, key: str) -> str:
        return ""


def _root(response: Any, key: str | None) -> Any:
    if response is None or key is None:
        return response
    return response.get(key) if isinstance(response, Mapping) else None


def _dig(value: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _matches(item: Any, where: Mapping[str, Any]) -> bool:
    for key, wanted in where.items():
        options = wanted if isinstance(wanted, list) else [wanted]
        if _dig(item, key) not in options:
            return False
    return True


def _absent(record_path: str) -> _Nothing:
    return _Nothing(f"no `{record_path.split('.', 1)[0]}` record", source_absent=True)


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and len(value) >= 10:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _table_key(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _convert(value: Any, spec: Mapping[str, Any], path: str) -> _Outcome:
    """Apply a reading's `type` and `table` to a value."""
    if value is None:
        return _Nothing(f"`{path}` is empty")
    kind = spec.get("type")
    if kind == "date":
        day = _as_date(value)
        if day is None:
            return _Stop("unmapped", f"`{path}` holds {_show(value)}, not a date")
        value = day.isoformat()
    elif kind == "boolean" and not isinstance(value, bool):
        return _Stop("unmapped", f"`{path}` holds {_show(value)}, not true or false")
    elif kind == "integer" and (isinstance(value, bool) or not isinstance(value, int)):
        return _Stop("unmapped", f"`{path}` holds {_show(value)}, not a whole number")
    elif kind == "string":
        value = str(value)
    table = spec.get("table")
    if table is not None:
        key = _table_key(value)
        if key not in table:
            known = ", ".join(table)
            return _Stop(
                "unmapped", f"`{path}` holds {_show(value)}, which maps to no fact value ({known})"
            )
        value = table[key]
    return _Value(value)


def _show(value: Any) -> str:
    return "null" if value is None else f"`{value}`"


def _show_where(where: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} = {v}" for k, v in where.items())


def _kind_target(reading: Mapping[str, Any]) -> str:
    for key in ("items", "field", "codes"):
        if key in reading:
            return str(reading[key])
    return "the source"


def _split(path: str) -> list[str]:
    return path.removesuffix(".*").split(".")


def _get_fact(facts: Mapping[str, Any], path: str) -> Any:
    node: Any = facts
    for part in _split(path):
        if not isinstance(node, Mapping) or part not in node:
            return _ABSENT
        node = node[part]
    return node


def _set_fact(facts: dict[str, Any], path: str, value: Any) -> None:
    parts = _split(path)
    node = facts
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def _del_fact(facts: dict[str, Any], path: str) -> None:
    parts = _split(path)
    node: Any = facts
    for part in parts[:-1]:
        node = node.get(part)
        if not isinstance(node, dict):
            return
    node.pop(parts[-1], None)
