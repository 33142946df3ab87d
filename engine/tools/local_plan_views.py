"""Local plan views: a plan's choices beside the national tasks, its variations, its page."""

from __future__ import annotations

import json
from typing import Any

from engine.packs import model as M
from engine.tools import docs_site as D
from engine.tools.render_plan import plan_rows, render_text


def _plan(pack: M.Pack) -> M.LocalPlan:
    if pack.local_plan is None:
        raise ValueError(f"pack `{pack.id}` is not under a local plan")
    return pack.local_plan


def _task_entries(plan: M.LocalPlan) -> dict[str, M.LocalEntry]:
    return {e.target: e for e in plan.entries if e.kind == "task"}


def heading(plan: M.LocalPlan) -> str:
    return (
        f"Local plan: {plan.title} ({plan.establishment_code} {plan.establishment_name}), "
        f"version {plan.version}, under {plan.extends_pack} version {plan.extends_version}, "
        f"in force {plan.effective_from}..{plan.effective_to or 'open'}"
    )


def local_plan_rows(pack: M.Pack, stage: int | None = None) -> list[dict[str, Any]]:
    """The national plan rows, each with the local plan's choice for that task."""
    plan = _plan(pack)
    tasks = _task_entries(plan)
    rows = plan_rows(pack.task_graph, stage)
    for row in rows:
        e = tasks.get(str(row["id"]))
        row["local"] = (
            {"summary": e.summary, "file": plan.file, "line": e.line}
            if e is not None
            else {"summary": "as stipulated nationally", "file": None, "line": None}
        )
    return rows


def render_local_plan(pack: M.Pack, stage: int | None = None, fmt: str = "text") -> str:
    """The national task plan with the local plan's choice beside each task (text or json)."""
    plan = _plan(pack)
    if fmt == "json":
        data = {"local_plan": plan.to_dict(), "tasks": local_plan_rows(pack, stage)}
        return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
    tasks = _task_entries(plan)
    lines = [heading(plan)]
    for line in render_text(pack.task_graph, stage).splitlines():
        lines.append(line)
        head = line.strip().split(" ", 2)
        if len(head) >= 2 and head[0].rstrip(".").isdigit() and head[1] in tasks:
            e = tasks[head[1]]
            indent = " " * (len(line) - len(line.lstrip()) + len(head[0]) + 1)
            lines.append(f"{indent}local ({plan.file}:{e.line}): {e.summary}")
    others = [e for e in plan.entries if e.kind != "task"]
    if others:
        lines.append("Other local variations:")
        lines += [f"  {e.kind} {e.target} ({e.autonomy}): {e.summary}" for e in others]
    return "\n".join(lines) + "\n"


def variations(national: M.Pack, merged: M.Pack) -> list[dict[str, Any]]:
    """Every variation the local plan makes from the national pack, with its autonomy level
    and the national passage that allows it."""
    plan = _plan(merged)
    out = []
    for e in sorted(plan.entries, key=lambda e: (e.line, e.col)):
        before: Any = None
        if e.kind == "parameter" and e.target in national.parameters:
            first = national.parameters[e.target].at(plan.effective_from)
            before = first.text if first else None
        elif e.kind == "narrow" and (rule := national.rule(e.target)) is not None:
            before = rule.when.text if rule.when else "true"
        elif e.kind == "narrow" and e.target in national.definitions:
            before = national.definitions[e.target].expr.text
        elif e.kind == "task":
            before = _national_task(national, e.target, e.autonomy)
        out.append(
            {
                "entry": f"{e.kind}:{e.target}",
                "autonomy": e.autonomy,
                "national": before,
                "local": e.summary,
                "line": e.line,
                "allowed_by": [c.text() for c in e.cites],
                "parts": list(e.parts),
            }
        )
    return out


def _national_task(national: M.Pack, task_id: str, autonomy: str) -> str:
    """What the national pack leaves a task to a plan: the options it declares to choose
    from (partial autonomy), the task to design (total), or nothing (limited)."""
    declared = ((national.local or {}).get("tasks") or {}).get(task_id) or {}
    options = [str(o.get("title") or o.get("id")) for o in declared.get("options") or () if o]
    if autonomy == "partial" and options:
        return "the establishment chooses among: " + "; ".join(options)
    if autonomy == "total":
        return "designed by the establishment"
    details = [
        str((d or {}).get("description") or name)
        for name, d in (declared.get("parameters") or {}).items()
    ]
    if details:  # delivered as stipulated, with details the plan records
        return "as stipulated nationally; the plan records: " + "; ".join(details)
    return "as stipulated nationally"


def render_variations(national: M.Pack, merged: M.Pack, fmt: str = "text") -> str:
    plan = _plan(merged)
    rows = variations(national, merged)
    if fmt == "json":
        return json.dumps({"plan": plan.to_dict(), "variations": rows}, indent=2) + "\n"
    lines = [heading(plan), f"{len(rows)} local variation(s) of {national.id}:"]
    for r in rows:
        lines.append(f"  ~ {r['entry']} [{r['autonomy']}] {plan.file}:{r['line']}")
        if r["national"] is not None:
            lines.append(f"      national: {r['national']}")
        lines.append(f"      local:    {r['local']}")
        if r["allowed_by"]:
            lines.append(f"      allowed by: {'; '.join(r['allowed_by'])}")
    return "\n".join(lines) + "\n"


def local_plan_page(national: M.Pack, merged: M.Pack) -> D.Page:
    """A docs page for one local plan: what it is, its sign-offs and every variation."""
    plan = _plan(merged)
    name = f"local-{plan.establishment_code.lower()}-{plan.extends_pack}"
    page = D.Page(name, plan.title)
    page.add(
        D.Heading(1, D.text(plan.title), "top"),
        D.Facts(
            (
                ("Establishment", D.text(f"{plan.establishment_name} ({plan.establishment_code})")),
                (
                    "Extends",
                    D.link(
                        f"{national.id} version {plan.extends_version}",
                        f"{national.id}.html",
                    ),
                ),
                ("Plan version", D.text(f"{plan.version} ({plan.status})")),
                ("In force", D.text(f"{plan.effective_from} to {plan.effective_to or 'open'}")),
                ("File", D.code(plan.file)),
            )
        ),
        D.Heading(2, D.text("Sign-off"), "signoff"),
    )
    if plan.signoffs:
        page.add(
            D.DocTable(
                ("Part", "Body", "Date", "By"),
                tuple(
                    (D.code(s.part), D.text(s.body_name), D.text(str(s.on)), D.text(s.by or ""))
                    for s in plan.signoffs
                ),
            )
        )
    else:
        page.add(D.Para(D.text("No sign-off recorded.")))
    page.add(D.Heading(2, D.text("Local variations"), "variations"))
    page.add(
        D.DocTable(
            ("Entry", "Autonomy", "National", "Local", "Allowed by"),
            tuple(
                (
                    D.code(r["entry"]),
                    D.text(r["autonomy"]),
                    D.text(str(r["national"] or "")),
                    D.text(r["local"]),
                    D.text("; ".join(r["allowed_by"])),
                )
                for r in variations(national, merged)
            ),
            main=3,
        )
    )
    page.footer = f"Generated by regime docs from {plan.file}."
    return page
