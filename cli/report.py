"""Readable renderings of a decision: text for a terminal, Markdown for a page."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from engine.evaluation.decision import Decision
from engine.evaluation.explain import described_needs, entries_text, need_text
from engine.language.convert import json_key, to_json
from engine.language.runtime import Unknown


def _v(value: Any, undetermined: bool = False) -> str:
    if value is None:
        return "undetermined" if undetermined else "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _shown(value: Any) -> str:
    """An output's value as JSON text, where a part the facts leave unknown reads `not known`
    (an unknown that needs no fact is the decided none, `null`), never a bare `null` that a
    reader would take for a recorded none."""
    if value.__class__ is Unknown:
        return "not known" if value.paths else "null"
    if isinstance(value, dict):
        inner = ", ".join(f"{json.dumps(json_key(k))}: {_shown(v)}" for k, v in value.items())
        return "{" + inner + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    return json.dumps(to_json(value), ensure_ascii=False)


def _output(value: Any, undetermined: bool) -> str:
    """An output as a decision shows it (see `_v`), unknown parts marked (see `_shown`)."""
    if isinstance(value, dict | list) and value:
        return _shown(value)
    return _v(to_json(value) if value.__class__ is not Unknown else None, undetermined)


def _named(decision: Decision, name: str, value: Any) -> Any:
    """An output whose values are a vocabulary's ids (`vocabulary:`), each id as the value's
    name, so a reader sees "Open ACCT" where the JSON has `open_acct`; for an output of records
    that names a vocabulary for some fields, those fields of each record likewise; anything
    else as it is."""
    pack = decision.model
    out = pack.outputs.get(name) if pack is not None else None
    if pack is None or out is None:
        return value
    if out.vocabulary is not None:
        return _ids_named(pack, out.vocabulary, value)
    if not out.field_vocabularies:
        return value

    def record(r: Any) -> Any:
        if not isinstance(r, dict):
            return r
        named = dict(r)
        for field, vocab in out.field_vocabularies:
            if field in named:
                named[field] = _ids_named(pack, vocab, named[field])
        return named

    return [record(r) for r in value] if isinstance(value, list | tuple) else record(value)


def _ids_named(pack: Any, vocabulary: str, value: Any) -> Any:
    """An id of `vocabulary`, or a list of them, as the values' names (an id it lacks as is);
    a vocabulary of codes (`codes: true`) keeps each id in front of its name."""
    vocab = pack.vocabulary.get(vocabulary)
    if vocab is None:
        return value
    names = {v.id: f"{v.id} ({v.name})" if vocab.codes else v.name for v in vocab.values if v.name}
    if isinstance(value, str):
        return names.get(value, value)
    if isinstance(value, list | tuple):
        return [names.get(v, v) if isinstance(v, str) else v for v in value]
    return value


def _reason(decision: Decision, name: str, shown: str) -> str:
    """For a custodial audience, an undetermined output released from healthcare-only facts
    says why nothing more is shown (its `withheld_reason`), as its explanation does."""
    pack = decision.model
    if decision.audience == "healthcare" or shown != "undetermined" or pack is None:
        return ""
    out = pack.outputs.get(name)
    if out is None or not (out.healthcare and out.releasable):
        return ""
    return f" ({out.withheld_reason or 'reasons withheld'})"


def _pending(decision: Decision) -> list[tuple[str, Any]]:
    """The rules whose duty hangs on facts not known, each with its obligation (None where the
    decision was read back without its pack): what may yet apply once the facts are in."""
    pack = decision.model
    outputs = set(decision.outputs)
    out = []
    for name in decision.undetermined:
        if name in outputs:
            continue
        rule = pack.rule(name) if pack is not None else None
        if pack is not None and (rule is None or rule.obligation is None):
            continue
        out.append((name, None if rule is None else rule.obligation))
    return out


def _interpretation_lines(d: dict[str, Any]) -> list[str]:
    lines = ["", "Interpretations relied upon:"]
    for i in d["interpretations"]:
        lines.append(f"  - {i['id']}: {i['question']}")
        lines.append(f"      chosen: {i['choice']}")
    return lines


def _due(o: dict[str, Any]) -> str:
    bits = []
    if o["due"]:
        bits.append(f"due {o['due']}")
    if o["frequency"]:
        f = o["frequency"]
        bits.append(f"{f.get('count')} per {f.get('per')}" if isinstance(f, dict) else str(f))
    return f" ({', '.join(bits)})" if bits else ""


def _cite(o: dict[str, Any]) -> str:
    """An obligation's citations, each as a reader finds the place: the section (without the
    heading's closing punctuation), the table where it is not the section's own name, the row,
    then the paragraph (`para 2`) or the bullet or column the pack names."""
    return "; ".join(_place(c) for c in o.get("citations", []))


def _place(c: dict[str, Any]) -> str:
    section = str(c.get("section") or "").rstrip(";:, ")
    bits = [section] if section else []
    if c.get("table") and str(c["table"]).rstrip(";:, ") != section:
        bits.append(f"table {c['table']}")
    if c.get("row"):
        bits.append(f"row {c['row']}")
    if c.get("paragraph"):
        para = str(c["paragraph"])
        bits.append(f"para {para}" if para[:1].isdigit() else para)
    return ", ".join(bits)


def _record(o: dict[str, Any]) -> str:
    out = []
    for r in o["record"]:
        out.append(" / ".join(str(r[k]) for k in ("system", "what", "type", "subtype") if r.get(k)))
    return "; ".join(out)


def render_text(decision: Decision, facts: Mapping[str, Any] | None = None) -> str:
    d = decision.to_dict()
    lines = [
        f"{d['pack']} {d['version']} · policy version {d['policy_version']} · "
        f"as of {d['as_of']} · {d['audience']} · {d['status'].upper()}"
    ]
    if d["outputs"]:
        lines.append("")
        width = max(len(k) for k in d["outputs"])
        for k in d["outputs"]:
            shown = _output(_named(decision, k, decision.outputs[k]), k in d["undetermined"])
            lines.append(f"  {k.ljust(width)}  {shown}{_reason(decision, k, shown)}")
    if d["obligations"]:
        lines.append("")
        lines.append("What must happen:")
        for o in d["obligations"]:
            lines.append(f"  - {o['modality'].upper().replace('_', ' ')}: {o['text']}{_due(o)}")
            if o["who"]:
                lines.append(f"      who: {o['who']}")
            if o["record"]:
                lines.append(f"      record: {_record(o)}")
            reason = " (reasons withheld)" if o["reasons_withheld"] else ""
            lines.append(f"      [{o['rule']}] {_cite(o)}{reason}")
            for e in o.get("local", ()):
                where = f"{e['file']}:{e['line']} ({e['entry']}, {e['autonomy']})"
                lines.append(f"      local plan {where}: {e['summary']}")
    pending = _pending(decision)
    if pending:
        lines += ["", "May also apply, once the facts it needs are known:"]
        for rid, ob in pending:
            if ob is None:
                lines.append(f"  - [{rid}]")
                continue
            lines.append(f"  - {ob.modality.upper().replace('_', ' ')}: {ob.text}")
            who = f"who: {ob.who}; " if ob.who else ""
            lines.append(f"      {who}[{rid}]")
    if "local_plan" in d:
        lines += [""] + _local_plan_lines(d["local_plan"])
    if d["interpretations"]:
        lines += _interpretation_lines(d)
    if d["missing_facts"]:
        lines += ["", "Needs:"]
        needs = described_needs(decision, d["missing_facts"], facts)
        lines += [f"  - {need_text(n)}" for n in needs]
    if d["withheld"]:
        lines.append("Withheld from this audience: " + ", ".join(d["withheld"]))
    return "\n".join(lines)


def _local_plan_lines(plan: dict[str, Any]) -> list[str]:
    """The local plan a decision was made under: which, its sign-offs and entries relied on."""
    est = plan["establishment"]
    ext = plan["extends"]
    lines = [
        f"Local plan: {plan['title']} ({est['code']}), version {plan['version']}, "
        f"under {ext['pack']} version {ext['version']} ({plan['file']})"
    ]
    for s in plan["signoffs"]:
        part = s.get("part_title") or s["part"]
        lines.append(f"  signed off: {part} by the {s['body_name']} on {s['on']}")
    for e in plan["entries"]:
        cites = "; ".join(
            ", ".join(
                str(v) for k, v in c.items() if k in ("document", "section", "row", "paragraph")
            )
            for c in e["national_citations"]
        )
        lines.append(
            f"  relied on {e['file']}:{e['line']} {e['entry']} ({e['autonomy']}): {e['summary']}"
        )
        if cites:
            lines.append(f"      allowed by: {cites}")
    return lines


def _records(value: Any) -> bool:
    """A non-empty list of records, or a record: shown as a table of its own."""
    if isinstance(value, dict):
        return bool(value)
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _cell(value: Any, undetermined: bool = False) -> str:
    """A table cell: records as `field: value` pairs, a part not known as `not known`."""
    if isinstance(value, list) and all(isinstance(v, dict) for v in value) and value:
        text = "; ".join(", ".join(f"{k}: {_part(x)}" for k, x in v.items()) for v in value)
    elif isinstance(value, dict):
        text = ", ".join(f"{k}: {_part(x)}" for k, x in value.items())
    else:
        text = _part(value, undetermined)
    return text.replace("|", "\\|").replace("\n", " ")


def _part(value: Any, undetermined: bool = False) -> str:
    if value.__class__ is Unknown:
        return "not known" if value.paths else "none"
    if isinstance(value, dict | list) and value:
        return _shown(value)
    return _v(to_json(value), undetermined)


def render_markdown(decision: Decision, facts: Mapping[str, Any] | None = None) -> str:
    d = decision.to_dict()
    lines = [
        f"## {d['pack']} {d['version']}: {d['status']}",
        "",
        f"Policy version {d['policy_version']}, as of {d['as_of']}, "
        f"for a {d['audience']} audience.",
        "",
    ]
    tabular = {k: v for k, v in d["outputs"].items() if _records(v)}
    if len(tabular) < len(d["outputs"]):
        lines += ["| output | value |", "| --- | --- |"]
        for k in d["outputs"]:
            if k in tabular:
                continue
            cell = _cell(_named(decision, k, decision.outputs[k]), k in d["undetermined"])
            lines.append(f"| `{k}` | {cell}{_reason(decision, k, cell)} |")
        lines.append("")
    for k in tabular:
        value = _named(decision, k, decision.outputs[k])
        rows = value if isinstance(value, list) else [value]
        columns = list(dict.fromkeys(c for r in rows for c in r))
        lines += [
            f"### `{k}`",
            "",
            "| " + " | ".join(columns) + " |",
            "|" + " --- |" * len(columns),
        ]
        for r in rows:
            lines.append("| " + " | ".join(_cell(r.get(c)) for c in columns) + " |")
        lines.append("")
    if d["obligations"]:
        lines += ["### What must happen", ""]
        for o in d["obligations"]:
            reason = " *(reasons withheld)*" if o["reasons_withheld"] else ""
            lines.append(
                f"- **{o['modality'].replace('_', ' ')}**: {o['text']}{_due(o)} "
                f"(`{o['rule']}`; {_cite(o)}){reason}"
            )
            if o["who"]:
                lines.append(f"  - *who:* {o['who']}")
            if o["record"]:
                lines.append(f"  - *record:* {_record(o)}")
        lines.append("")
    pending = _pending(decision)
    if pending:
        lines += ["### May also apply, once the facts it needs are known", ""]
        for rid, ob in pending:
            if ob is None:
                lines.append(f"- `{rid}`")
                continue
            lines.append(f"- **{ob.modality.replace('_', ' ')}**: {ob.text} (`{rid}`)")
            if ob.who:
                lines.append(f"  - *who:* {ob.who}")
        lines.append("")
    if "local_plan" in d:
        lines += (
            ["### Local plan", ""] + [f"    {x}" for x in _local_plan_lines(d["local_plan"])] + [""]
        )
    if d["interpretations"]:
        lines += ["### Interpretations relied upon", ""]
        for i in d["interpretations"]:
            lines.append(f"- **{i['id']}**: {i['question']} *Choice:* {i['choice']}")
        lines.append("")
    if d["missing_facts"]:
        lines += ["**Needs:**", ""]
        for n in described_needs(decision, d["missing_facts"], facts):
            named = f"- `{n.path}`{entries_text(n.entries)}"
            lines.append(f"{named}: {n.about}" if n.about else named)
        lines.append("")  # (a line after a list would be read as part of its last item)
    if d["withheld"]:
        lines.append("**Withheld from this audience:** " + ", ".join(d["withheld"]))
    return "\n".join(lines).rstrip() + "\n"
