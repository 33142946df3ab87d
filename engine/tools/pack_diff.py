"""Semantic diff: compares two packs, or two versions of one pack, item by item.

A pack is first reduced to a snapshot: plain data keyed by section and item id (rules,
parameters, definitions, outputs, tables, vocabulary, tasks, task dependencies,
interpretations, versions). A snapshot of one version keeps the rules in force in that
version and, for each parameter, the value in force on the version's first day; its
`version` section holds that version's metadata. Two snapshots are then compared section by
section: items added, removed, and changed (with each changed field before and after). An
item's description is part of its snapshot, so a changed description shows as a change; a
changed item also carries the description of its new side (else its old), so that a reader
sees what the item is for beside what changed in it.

In a snapshot of one version every expression that reads `version` is shown specialised to
that version (engine.language.specialise): `version` read as the version's id and what then
becomes constant folded, so `version == "2" and x` shows as `false` in version 1 and as `x`
in version 2, and the diff shows the change in meaning although the text is the same. An
expression that does not read `version` keeps its text, and a name is never replaced by its
definition (what a name gives may depend on the audience, which withholds healthcare-only
values). A rule whose condition is `false` in that version (folded, or so written) can
never apply in it, so it is left out of the version's rules, as a rule whose `versions:`
exclude the version is: the diff then shows it added or removed between versions whichever
way the pack says so (`versions:` or its condition), rather than as a condition changed to
or from `false`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.language.convert import to_json
from engine.language.specialise import specialise
from engine.language.unparse import unparse
from engine.packs import model as M
from engine.packs.task_graph import natural_key

SECTIONS = (
    "pack",
    "version",
    "versions",
    "vocabulary",
    "parameters",
    "definitions",
    "outputs",
    "rules",
    "tables",
    "tasks",
    "dependencies",
    "interpretations",
)


@dataclass(frozen=True)
class Change:
    """One item added, removed or changed; `fields` maps a changed field to (before, after)."""

    section: str
    kind: str  # added | removed | changed
    id: str
    title: str | None = None
    before: Any = None
    after: Any = None
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    description: str | None = None  # what the item is for: its new side's, else its old

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"section": self.section, "change": self.kind, "id": self.id}
        if self.title:
            out["title"] = self.title
        if self.description:
            out["description"] = self.description
        if self.kind == "added":
            out["after"] = to_json(self.after)
        elif self.kind == "removed":
            out["before"] = to_json(self.before)
        else:
            out["fields"] = {
                k: {"before": to_json(a), "after": to_json(b)} for k, (a, b) in self.fields.items()
            }
        return out


@dataclass(frozen=True)
class PackDiff:
    old: str  # labels, e.g. `pack.yaml@1`
    new: str
    changes: tuple[Change, ...]
    old_file: str | None = None  # the pack file each side was read from, when known
    new_file: str | None = None

    def summary(self) -> dict[str, int]:
        counts = {"added": 0, "removed": 0, "changed": 0}
        for c in self.changes:
            counts[c.kind] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        files = {"old_file": self.old_file, "new_file": self.new_file}
        return {
            "old": self.old,
            "new": self.new,
            **{k: v for k, v in files.items() if v is not None},
            "summary": self.summary(),
            "changes": [c.to_dict() for c in self.changes],
        }


def _expr(e: M.Expression | None) -> str | None:
    return None if e is None else " ".join(e.text.split())


def _expr_in(e: M.Expression | None, version: str | None) -> str | None:
    """The text of `e`, specialised to `version` when one is given and `e` reads it."""
    if e is None or version is None:
        return _expr(e)
    node = e.checked.node
    # reading a fact, the day or the version cannot fail: only such reads may be dropped
    plain = {"as_of", "version", *e.checked.roots}
    special = specialise(node, {"version": version}, plain)
    return _expr(e) if special is node else unparse(special)


def _cites(cites: tuple[M.Citation, ...]) -> list[str]:
    return [c.text() for c in cites]


def _drop_empty(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v not in (None, [], {}, ())}


def snapshot(pack: M.Pack, version: str | None = None) -> dict[str, dict[str, Any]]:
    """The comparable content of a pack, or of one version of it (see the module docstring).

    Raises KeyError when the pack has no such version."""
    chosen: M.Version | None = None
    if version is not None:
        chosen = next((v for v in pack.versions if v.id == version), None)
        if chosen is None:
            ids = ", ".join(v.id for v in pack.versions)
            raise KeyError(f"pack `{pack.id}` has no version `{version}`; versions: {ids}")
    snap: dict[str, dict[str, Any]] = {s: {} for s in SECTIONS}
    snap["pack"][pack.id] = _drop_empty(
        {
            "title": pack.title,
            "encoding version": pack.version,
            "status": pack.status,
            "source": pack.source.title,
            "source file": pack.source.file,
            "published": pack.source.published,
        }
    )

    def version_data(v: M.Version) -> dict[str, Any]:
        return _drop_empty(
            {
                "title": v.title,
                "effective from": v.effective_from,
                "effective to": v.effective_to,
                "changes": list(v.changes),
                "interpretations": list(v.interpretations),
            }
        )

    vid = chosen.id if chosen is not None else None

    def text(e: M.Expression | None) -> str | None:
        return _expr_in(e, vid)

    if chosen is not None:
        snap["version"]["version"] = {"id": chosen.id, **version_data(chosen)}
    else:
        for v in pack.versions:
            snap["versions"][v.id] = version_data(v)
    for name, vocab in pack.vocabulary.items():
        items: dict[str, Any] = {}
        for item in vocab.values:
            extra = dict(item.extra)
            if chosen is not None and "versions" in extra:
                if chosen.id not in [str(x) for x in extra.pop("versions") or [chosen.id]]:
                    continue
            items[str(item.id)] = _drop_empty(
                {"name": item.name, "description": item.description, **extra}
            )
        snap["vocabulary"][name] = _drop_empty({"description": vocab.description, "values": items})
    for name, param in pack.parameters.items():
        dated: tuple[M.ParameterValue, ...] = param.values
        if chosen is not None:
            found = param.at(chosen.effective_from)
            dated = (found,) if found else ()
        snap["parameters"][name] = {
            "values": [{"from": p.start, "to": p.end, "value": p.text} for p in dated],
            **_drop_empty({"description": param.description}),
        }
    for name, d in pack.definitions.items():
        snap["definitions"][name] = _drop_empty(
            {
                "expr": text(d.expr),
                "description": d.description,
                "interpretations": list(d.interpretations),
            }
        )
    for name, out in pack.outputs.items():
        how = (
            text(out.expr)
            if out.mode == "value"
            else f"from table {out.table}"
            if out.mode == "table"
            else f"from rules ({out.combine})"
        )
        snap["outputs"][name] = _drop_empty(
            {
                "value": how,
                "default": text(out.default),
                "releasable": out.releasable or None,
                "vocabulary": out.vocabulary or dict(out.field_vocabularies) or None,
                "description": out.description,
                "interpretations": list(out.interpretations),
            }
        )
    for rule in pack.rules:
        if chosen is not None and rule.versions and chosen.id not in rule.versions:
            continue
        when = text(rule.when) or "true"
        if when == "false" and chosen is not None:  # never applies in this version
            continue
        ob = rule.obligation
        snap["rules"][rule.id] = _drop_empty(
            {
                "title": rule.title,
                "when": when,
                "versions": list(rule.versions) if chosen is None else None,
                "sets": {n: text(e) for n, e in rule.sets},
                "modality": ob.modality if ob else None,
                "text": " ".join(ob.text.split()) if ob else None,
                "who": ob.who if ob else None,
                "due": text(ob.due) if ob else None,
                "frequency": text(ob.frequency) if ob else None,
                "record": [dict(r) for r in ob.records] if ob else None,
                "cite": _cites(rule.cites),
                "interpretations": list(rule.interpretations),
            }
        )
    for tid, table in pack.tables.items():
        snap["tables"][tid] = _drop_empty(
            {
                "hit": table.hit,
                "inputs": {n: text(e) for n, e in table.inputs},
                "rows": {
                    r.id: {
                        "when": {n: None if v is None else sorted(map(str, v)) for n, v in r.cells},
                        "then": {n: text(e) for n, e in r.then},
                    }
                    for r in table.rows
                },
            }
        )
    for tid, task in pack.tasks.items():
        snap["tasks"][str(tid)] = _drop_empty(
            {
                k: getattr(task, k)
                for k in (
                    "area",
                    "title",
                    "baseline",
                    "weighting",
                    "autonomy",
                    "mandatory",
                    "stages",
                    "sources",
                    "interpretations",
                )
            }
        )
    graph = pack.task_graph
    if graph is not None:
        for a, b, attrs in graph.edges(data=True):
            snap["dependencies"][f"{a} -> {b}"] = _drop_empty(
                {"kind": attrs.get("kind"), "interpretation": attrs.get("interpretation")}
            )
    for iid, i in pack.interpretations.items():
        snap["interpretations"][iid] = {
            "kind": i.kind,
            "question": " ".join(i.question.split()),
            "choice": " ".join(i.choice.split()),
            "why": " ".join(i.why.split()),
            **({"versions": ", ".join(i.versions)} if i.versions else {}),
        }
    return snap


def _order(section: str, ids: set[str], first: dict[str, Any], second: dict[str, Any]) -> list[str]:
    listed = list(first) + [i for i in second if i not in first]
    if section in ("tasks", "dependencies"):
        return sorted(ids, key=natural_key)
    return [i for i in listed if i in ids]


def diff_snapshots(
    old: Mapping[str, dict[str, Any]],
    new: Mapping[str, dict[str, Any]],
    old_label: str = "old",
    new_label: str = "new",
) -> PackDiff:
    """Everything added, removed or changed from `old` to `new`, section by section."""
    changes: list[Change] = []
    for section in SECTIONS:
        a, b = old.get(section, {}), new.get(section, {})
        ids = set(a) | set(b)
        for item in _order(section, ids, a, b):
            before, after = a.get(item), b.get(item)
            either = after or before or {}
            title = either.get("title") if section == "rules" else None
            said = either.get("description")
            means = said if isinstance(said, str) else None
            if before is None:
                changes.append(
                    Change(section, "added", item, title, after=after, description=means)
                )
            elif after is None:
                changes.append(
                    Change(section, "removed", item, title, before=before, description=means)
                )
            elif before != after:
                fields = {
                    k: (before.get(k), after.get(k))
                    for k in list(before) + [k for k in after if k not in before]
                    if before.get(k) != after.get(k)
                }
                changes.append(
                    Change(section, "changed", item, title, fields=fields, description=means)
                )
    return PackDiff(old_label, new_label, tuple(changes))


def diff_packs(
    old: M.Pack,
    new: M.Pack,
    old_version: str | None = None,
    new_version: str | None = None,
    old_label: str = "old",
    new_label: str = "new",
) -> PackDiff:
    """Compare two packs, or versions of them (see `snapshot`)."""
    return diff_snapshots(
        snapshot(old, old_version), snapshot(new, new_version), old_label, new_label
    )


def _show(value: Any) -> str:
    value = to_json(value)
    if value is None:
        return "(none)"
    if isinstance(value, list):
        if value and all(isinstance(v, dict) for v in value):
            return "; ".join(_show(v) for v in value)
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_show(v)}" for k, v in value.items())
    return str(value)


def _label(label: str, file: str | None) -> str:
    """A side's label, with the file it was read from when the label does not name it (a
    pack id)."""
    if file is None or Path(label) == Path(file):
        return label
    named = label.rpartition("@")[0]  # `FILE@VERSION`
    return label if named and Path(named) == Path(file) else f"{label}  ({file})"


def _vocab_name(data: dict[str, Any]) -> str:
    """A vocabulary value's name (or title), after two spaces, as a rule's title is shown."""
    name = data.get("name") or data.get("title")
    return f"  {name}" if name else ""


def _vocab_value(vid: str, data: Any, mark: str) -> list[str]:
    """One vocabulary value on its line, marked (+ or -): its id and name, its other fields
    in brackets, and its description under it."""
    data = data if isinstance(data, dict) else {}
    named = "name" if data.get("name") else "title"
    extra = {k: v for k, v in data.items() if k not in (named, "description")}
    line = f"        {mark} {vid}{_vocab_name(data)}" + (f" ({_show(extra)})" if extra else "")
    said = data.get("description")
    return [line, f"            means: {' '.join(str(said).split())}"] if said else [line]


def _vocab_values(values: Any, mark: str) -> list[str]:
    """The values of a vocabulary added or removed whole, one per line."""
    return [line for vid, data in (values or {}).items() for line in _vocab_value(vid, data, mark)]


def _vocab_changes(before: Any, after: Any) -> list[str]:
    """The values of a vocabulary added, removed and changed, one per line."""
    before, after = before or {}, after or {}
    lines: list[str] = []
    for vid in list(before) + [k for k in after if k not in before]:
        if vid not in after:
            lines.extend(_vocab_value(vid, before[vid], "-"))
        elif vid not in before:
            lines.extend(_vocab_value(vid, after[vid], "+"))
        elif before[vid] != after[vid]:
            old, new = before[vid], after[vid]
            lines.append(f"        ~ {vid}{_vocab_name(new) or _vocab_name(old)}")
            for key in list(old) + [k for k in new if k not in old]:
                if old.get(key) != new.get(key):
                    lines.append(
                        f"            {key}: {_show(old.get(key))} -> {_show(new.get(key))}"
                    )
    return lines


def render_text(d: PackDiff) -> str:
    """The diff for people: one block per section, `+` added, `-` removed, `~` changed. A
    vocabulary's values are listed one per line, with their names; an item with a
    description shows it (`means:`) under its name, unless the change is to it."""
    lines = [f"--- {_label(d.old, d.old_file)}", f"+++ {_label(d.new, d.new_file)}"]
    section = None
    for c in d.changes:
        if c.section != section:
            section = c.section
            lines.append(f"{section}:")
        mark = {"added": "+", "removed": "-", "changed": "~"}[c.kind]
        head = f"  {mark} {c.id}" + (f"  {c.title}" if c.title else "")
        lines.append(head)
        if c.description and "description" not in c.fields:
            lines.append(f"      means: {' '.join(c.description.split())}")
        if c.kind == "changed":
            for name, (before, after) in c.fields.items():
                b, a = _show(before), _show(after)
                if c.section == "vocabulary" and name == "values":
                    lines.append(f"      {name}:")
                    lines.extend(_vocab_changes(before, after))
                elif isinstance(before, list) and isinstance(after, list):
                    lines.append(f"      {name}:")
                    lines.extend(f"        - {_show(x)}" for x in before if x not in after)
                    lines.extend(f"        + {_show(x)}" for x in after if x not in before)
                elif isinstance(before, dict) and isinstance(after, dict):
                    lines.append(f"      {name}:")
                    for key in list(before) + [k for k in after if k not in before]:
                        if key not in after:
                            lines.append(f"        - {key}: {_show(before[key])}")
                        elif key not in before:
                            lines.append(f"        + {key}: {_show(after[key])}")
                        elif before[key] != after[key]:
                            lines.append(
                                f"        ~ {key}: {_show(before[key])} -> {_show(after[key])}"
                            )
                elif len(b) + len(a) < 70:
                    lines.append(f"      {name}: {b} -> {a}")
                else:
                    lines.append(f"      {name}:")
                    lines.append(f"        - {b}")
                    lines.append(f"        + {a}")
        else:
            data = c.after if c.kind == "added" else c.before
            for name in ("when", "value", "values", "expr", "kind", "text"):
                if not isinstance(data, dict) or name not in data:
                    continue
                if c.section == "vocabulary" and name == "values":
                    lines.append(f"      {name}:")
                    lines.extend(_vocab_values(data[name], mark))
                else:
                    lines.append(f"      {name}: {_show(data[name])}")
    s = d.summary()
    if not d.changes:
        lines.append("no differences")
    lines.append(f"{s['added']} added, {s['removed']} removed, {s['changed']} changed")
    return "\n".join(lines) + "\n"
