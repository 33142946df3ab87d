"""Semantic diff: compares two packs, or two versions of one pack, item by item.

A pack is first reduced to a snapshot: plain data keyed by section and item id (rules,
parameters, definitions, outputs, tables, vocabulary, tasks, task dependencies,
interpretations, versions). A snapshot of one version keeps the rules in force in that
version and, for each parameter, the value in force on the version's first day; its
`version` section holds that version's metadata. Two snapshots are then compared section by
section: items added, removed, and changed (with each changed field before and after).

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

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"section": self.section, "change": self.kind, "id": self.id}
        if self.title:
            out["title"] = self.title
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

    def summary(self) -> dict[str, int]:
        counts = {"added": 0, "removed": 0, "changed": 0}
        for c in self.changes:
            counts[c.kind] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": self.old,
            "new": self.new,
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
        }
    for name, d in pack.definitions.items():
        snap["definitions"][name] = _drop_empty(
            {"expr": text(d.expr), "interpretations": list(d.interpretations)}
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
            title = (after or before or {}).get("title") if section == "rules" else None
            if before is None:
                changes.append(Change(section, "added", item, title, after=after))
            elif after is None:
                changes.append(Change(section, "removed", item, title, before=before))
            elif before != after:
                fields = {
                    k: (before.get(k), after.get(k))
                    for k in list(before) + [k for k in after if k not in before]
                    if before.get(k) != after.get(k)
                }
                changes.append(Change(section, "changed", item, title, fields=fields))
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


def render_text(d: PackDiff) -> str:
    """The diff for people: one block per section, `+` added, `-` removed, `~` changed."""
    lines = [f"--- {d.old}", f"+++ {d.new}"]
    section = None
    for c in d.changes:
        if c.section != section:
            section = c.section
            lines.append(f"{section}:")
        mark = {"added": "+", "removed": "-", "changed": "~"}[c.kind]
        head = f"  {mark} {c.id}" + (f"  {c.title}" if c.title else "")
        lines.append(head)
        if c.kind == "changed":
            for name, (before, after) in c.fields.items():
                b, a = _show(before), _show(after)
                if isinstance(before, list) and isinstance(after, list):
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
                if isinstance(data, dict) and name in data:
                    lines.append(f"      {name}: {_show(data[name])}")
    s = d.summary()
    if not d.changes:
        lines.append("no differences")
    lines.append(f"{s['added']} added, {s['removed']} removed, {s['changed']} changed")
    return "\n".join(lines) + "\n"
