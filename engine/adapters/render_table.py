"""Markdown tables of a record mapping (sources, code sets, facts, facts not supplied), so the
docs show the mapping itself; `between_markers` keeps a docs page in step with the YAML."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.adapters.mapping import RecordMapping

START = "<!-- mapping-table:start -->"
END = "<!-- mapping-table:end -->"


def _cell(text: Any) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _cite(cite: Mapping[str, Any]) -> str:
    text = f"`{cite['repo']}` `{cite['path']}`"
    if cite.get("note"):
        text += f": {cite['note']}"
    return _cell(text)


def _table(table: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} → {_value(v)}" for k, v in table.items())


def _value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _when(when: Mapping[str, Any]) -> str:
    parts = []
    for path, wanted in when.items():
        if isinstance(wanted, list):
            parts.append(f"`{path}` in {', '.join(map(_value, wanted))}")
        else:
            parts.append(f"`{path}` = {_value(wanted)}")
    return " and ".join(parts)


def describe(reading: Mapping[str, Any]) -> str:
    """One reading in words: the source field or code and what is done with it."""
    if "field" in reading:
        text = f"`{reading['field']}`"
        if "where" in reading:
            text += f" where {_when(reading['where'])}"
        if "then" in reading:
            text += f", its `{reading['then']}`"
        if "format" in reading:
            text += f" as `{reading['format']}`"
    elif "fields" in reading:
        text = ", else ".join(f"`{f}`" for f in reading["fields"])
    elif "codes" in reading:
        text = f"codes `{reading['codes']}`"
        if "table" in reading:
            text += f": {_table(reading['table'])}"
        if reading.get("exclusive"):
            text += " (two at once contradict)"
    elif "cases" in reading:
        text = "; ".join(f"{_when(c['when'])} → {_value(c['value'])}" for c in reading["cases"])
        for rule in reading.get("contradictions", []):
            text += f"; contradiction when {_when(rule['when'])}"
    elif "within" in reading:
        text = f"`{reading['within']['start']}` ≤ as_of < `{reading['within']['end']}`"
    else:
        text = f"each of `{reading['items']}`"
        if "where" in reading:
            text += f" where {_when(reading['where'])}"
        fields = [
            f"{key} ← `{spec['field']}`"
            + (f" ({_table(spec['table'])})" if "table" in spec else "")
            for key, spec in reading["element"].items()
        ]
        text += ": " + ", ".join(fields)
        if reading.get("partial"):
            text += " (partial list)"
    if "table" in reading and "codes" not in reading:
        text += f": {_table(reading['table'])}"
    if "type" in reading:
        text += f" ({reading['type']})"
    if "none_when" in reading:
        rule = reading["none_when"]
        text += f"; absent and `{rule['fact']}` in {', '.join(map(_value, rule['in']))} → null"
    if "otherwise" in reading:
        text += f"; otherwise {_value(reading['otherwise'])}"
    if "codes_in_use_until" in reading:
        text += f" (codes withdrawn {reading['codes_in_use_until']})"
    return _cell(text)


def markdown(mapping: RecordMapping) -> str:
    """The mapping as Markdown tables."""
    data = mapping.data
    lines = [f"Generated from `adapters/{mapping.id}.yaml` by `regime facts mapping-table`.", ""]
    lines += ["**Sources**", "", "| source | request | model |", "| --- | --- | --- |"]
    for name, source in mapping.sources.items():
        req = source["request"]
        query = "&".join(f"{k}={v}" for k, v in req.get("query", {}).items())
        target = f"{req['method']} {req['path']}" + (f"?{query}" if query else "")
        lines.append(
            f"| `{name}` | `{_cell(target)}` ({source['service']}) | {_cite(source['model'])} |"
        )
    population = data.get("population")
    if population:
        req = population["request"]
        lines.append(
            f"| population | `{req['method']} {req['path']}` paged by "
            f"`{population['paging']['page_param']}`/`{population['paging']['size_param']}` "
            f"({population['service']}) | {_cite(population['model'])} |"
        )
    lines += ["", "**Code sets**", "", "| code set | read from | where it comes from |"]
    lines.append("| --- | --- | --- |")
    for name, code_set in mapping.code_sets.items():
        for reading in code_set["from"]:
            rule = f"`{reading['list']}` `{reading['code']}`"
            if "active_from" in reading:
                rule += (
                    f", active while `{reading['active_from']}` ≤ as_of < `{reading['active_to']}`"
                )
            if "active_when" in reading:
                rule += ", active when " + _when(reading["active_when"])
            lines.append(f"| `{name}` | {_cell(rule)} | {_cite(reading['cite'])} |")
    lines += ["", "**Facts**", "", "| fact path | source field or code | where it comes from |"]
    lines.append("| --- | --- | --- |")
    for entry in mapping.facts:
        for i, reading in enumerate(entry["from"]):
            fact = f"`{entry['fact']}`" if i == 0 else "(else)"
            read = describe(reading)
            if i == len(entry["from"]) - 1 and entry.get("note"):  # why it is read so
                read += f". *Why:* {_cell(entry['note'])}"
            lines.append(f"| {fact} | {read} | {_cite(reading['cite'])} |")
    lines += ["", "**Facts no source here supplies** (always reported as gaps)", ""]
    lines += ["| fact path | why |", "| --- | --- |"]
    for group in mapping.not_supplied:
        for path in group["facts"]:
            lines.append(f"| `{path}` | {_cell(group['reason'])} |")
    precedence = mapping.local_facts.get("precedence", [])
    if precedence:
        lines += ["", "**Local facts** (`--local-facts`): the layers, highest first", ""]
        lines += ["| layer | rule | because |", "| --- | --- | --- |"]
        for layer in precedence:
            lines.append(
                f"| `{layer['layer']}` | {_cell(layer['rule'])} | {_cell(layer['because'])} |"
            )
    return "\n".join(lines) + "\n"


def between_markers(page: str, table: str) -> str:
    """The page with the text between the mapping-table markers replaced by `table`."""
    head, start, rest = page.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise ValueError(f"the page has no {START} ... {END} markers")
    return f"{head}{START}\n{table}{END}{tail}"
