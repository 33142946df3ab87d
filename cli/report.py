"""Readable renderings of a decision: text for a terminal, Markdown for a page."""

from __future__ import annotations

import json
from typing import Any

from engine.evaluation.decision import Decision


def _v(value: Any, undetermined: bool = False) -> str:
    if value is None:
        return "undetermined" if undetermined else "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _due(o: dict[str, Any]) -> str:
    bits = []
    if o["due"]:
        bits.append(f"due {o['due']}")
    if o["frequency"]:
        f = o["frequency"]
        bits.append(f"{f.get('count')} per {f.get('per')}" if isinstance(f, dict) else str(f))
    return f" ({', '.join(bits)})" if bits else ""


def _cite(o: dict[str, Any]) -> str:
    parts = []
    for c in o.get("citations", []):
        parts.append(
            ", ".join(str(v) for k, v in c.items() if k in ("section", "paragraph", "table", "row"))
        )
    return "; ".join(parts)


def _record(o: dict[str, Any]) -> str:
    out = []
    for r in o["record"]:
        out.append(" / ".join(str(r[k]) for k in ("system", "what", "type", "subtype") if r.get(k)))
    return "; ".join(out)


def render_text(decision: Decision) -> str:
    d = decision.to_dict()
    lines = [
        f"{d['pack']} {d['version']} · policy version {d['policy_version']} · "
        f"as of {d['as_of']} · {d['audience']} · {d['status'].upper()}"
    ]
    if d["outputs"]:
        lines.append("")
        width = max(len(k) for k in d["outputs"])
        for k, v in d["outputs"].items():
            lines.append(f"  {k.ljust(width)}  {_v(v, k in d['undetermined'])}")
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
    if "local_plan" in d:
        lines += [""] + _local_plan_lines(d["local_plan"])
    if d["interpretations"]:
        lines.append("")
        lines.append("Interpretations relied upon:")
        for i in d["interpretations"]:
            lines.append(f"  - {i['id']}: {i['choice']}")
    if d["missing_facts"]:
        lines.append("")
        lines.append("Needs: " + ", ".join(d["missing_facts"]))
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
        lines.append(f"  signed off: {s['part']} by the {s['body_name']} on {s['on']}")
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
    if isinstance(value, list) and all(isinstance(v, dict) for v in value) and value:
        text = "; ".join(", ".join(f"{k}: {_v(x)}" for k, x in v.items()) for v in value)
    elif isinstance(value, dict):
        text = ", ".join(f"{k}: {_v(x)}" for k, x in value.items())
    else:
        text = _v(value, undetermined)
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(decision: Decision) -> str:
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
        for k, v in d["outputs"].items():
            if k in tabular:
                continue
            cell = _cell(v, k in d["undetermined"])
            lines.append(f"| `{k}` | {cell} |")
        lines.append("")
    for k, v in tabular.items():
        rows = v if isinstance(v, list) else [v]
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
        lines.append("**Needs:** " + ", ".join(f"`{m}`" for m in d["missing_facts"]))
    if d["withheld"]:
        lines.append("**Withheld from this audience:** " + ", ".join(d["withheld"]))
    return "\n".join(lines).rstrip() + "\n"
