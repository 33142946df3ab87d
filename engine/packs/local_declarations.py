"""Local declarations: reading and checking what a pack's `local:` block opens to local plans."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from engine.problems import Code, did_you_mean

Path_ = tuple[Any, ...]

AUTONOMY_MEANING = {
    "total": "the establishment designs the product itself",
    "partial": "the establishment chooses among the declared delivery options",
    "limited": "the establishment delivers it exactly as stipulated",
}


@dataclass(frozen=True)
class Finding:
    """A problem in a `local:` block, at a path of the pack document."""

    path: Path_
    code: Code
    message: str
    hint: str | None = None
    key: bool = False


def declared_interpretations(data: Mapping[str, Any]) -> Iterator[tuple[Path_, list[str]]]:
    """Every `interpretations:` list inside the `local:` block, with its path."""
    local = data.get("local") or {}
    yield ("local", "interpretations"), list(local.get("interpretations") or ())
    for section in ("choices", "tasks", "parameters", "groups", "conditions"):
        for name, item in (local.get(section) or {}).items():
            if isinstance(item, dict):
                yield (
                    ("local", section, name, "interpretations"),
                    list(item.get("interpretations") or ()),
                )
    for path, declared in shared_declarations(data):
        yield (*path, "interpretations"), list(declared.get("interpretations") or ())


SHARED_KINDS = {"parameters": "parameter", "groups": "group"}


def shared_declarations(data: Mapping[str, Any]) -> Iterator[tuple[Path_, Mapping[str, Any]]]:
    """Every `shared:` under the `local:` block's parameters and groups, with its path: the
    item another pack opens to its plans that this one is the same as."""
    local = data.get("local")
    if not isinstance(local, dict):
        return
    for section in SHARED_KINDS:
        for name, item in (local.get(section) or {}).items():
            if isinstance(item, dict) and isinstance(item.get("shared"), dict):
                yield ("local", section, name, "shared"), item["shared"]


def local_items(data: Mapping[str, Any]) -> frozenset[tuple[str, str]]:
    """The parameters and groups the `local:` block opens to plans, as (kind, name)."""
    local = data.get("local")
    if not isinstance(local, dict):
        return frozenset()
    return frozenset(
        (kind, str(name))
        for section, kind in SHARED_KINDS.items()
        for name in local.get(section) or {}
    )


def check_declarations(data: Mapping[str, Any]) -> list[Finding]:
    """References in the `local:` block name things the pack has; options match autonomy."""
    local = data.get("local")
    if not isinstance(local, dict):
        return []
    found: list[Finding] = []
    rule_ids = [str(r.get("id")) for r in data.get("rules") or []]
    tasks = data.get("tasks") or {}
    parts = local.get("parts") or {}
    bodies = local.get("bodies") or {}

    def ref(path: Path_, name: str, known: Any, what: str, key: bool = False) -> None:
        """`key`: the name is the key at `path` (stand at it, not at what it holds)."""
        if name not in known:
            hint = did_you_mean(name, known)
            found.append(Finding(path, "E-REF", f"no {what} `{name}`", hint, key=key))

    for pid, part in parts.items():
        for j, body in enumerate(part.get("signoff") or ()):
            ref(("local", "parts", pid, "signoff", j), str(body), bodies, "signing body")
        if part.get("via") is not None:
            ref(("local", "parts", pid, "via"), str(part["via"]), bodies, "signing body")
    for j, pid in enumerate(local.get("parts_always") or ()):
        ref(("local", "parts_always", j), str(pid), parts, "plan part")
    for section in ("choices", "tasks", "parameters", "groups", "conditions"):
        for name, item in (local.get(section) or {}).items():
            base: Path_ = ("local", section, name)
            for j, pid in enumerate(item.get("parts") or ()):
                ref((*base, "parts", j), str(pid), parts, "plan part")
            for j, rid in enumerate(item.get("rules") or ()):
                ref((*base, "rules", j), str(rid), rule_ids, "rule")
    for tid, item in (local.get("tasks") or {}).items():
        task = tasks.get(tid)
        if task is None:
            found.append(
                Finding(
                    ("local", "tasks", tid),
                    "E-REF",
                    f"no task `{tid}`",
                    did_you_mean(tid, tasks),
                    key=True,
                )
            )
            continue
        autonomy = str(task.get("autonomy", "limited"))
        if item.get("options") and autonomy != "partial":
            found.append(
                Finding(
                    ("local", "tasks", tid, "options"),
                    "E-LOCAL-DECLARE",
                    f"task `{tid}` has {autonomy} autonomy, so it has no delivery options",
                    "declare options only for partial-autonomy tasks",
                    key=True,
                )
            )
    for tid, task in tasks.items():
        declared = (local.get("tasks") or {}).get(tid) or {}
        if task.get("autonomy") == "partial" and not declared.get("options"):
            found.append(
                Finding(
                    ("tasks", tid, "autonomy"),
                    "W-LOCAL-OPTIONS",
                    f"task `{tid}` has partial autonomy but `local.tasks` declares no options",
                    f'declare the options under `local: tasks: "{tid}": options:`',
                )
            )
    for cid, item in (local.get("choices") or {}).items():
        if item.get("autonomy") == "partial" and not item.get("options"):
            found.append(
                Finding(
                    ("local", "choices", cid, "autonomy"),
                    "E-LOCAL-DECLARE",
                    f"choice `{cid}` has partial autonomy but no options",
                    "list the options a plan may choose from",
                )
            )
    for name in local.get("parameters") or {}:
        known = data.get("parameters") or {}
        ref(("local", "parameters", name), str(name), known, "parameter", key=True)
    definitions = data.get("definitions") or {}
    for name, item in (local.get("groups") or {}).items():
        ref(("local", "groups", name), str(name), definitions, "definition", key=True)
        if item.get("agreement") is not None:
            ref(("local", "groups", name, "agreement"), str(item["agreement"]), bodies, "body")
    for name, item in (local.get("conditions") or {}).items():
        name = str(name)
        if name in rule_ids:
            if item.get("rules"):
                found.append(
                    Finding(
                        ("local", "conditions", name, "rules"),
                        "E-LOCAL-DECLARE",
                        f"`{name}` is a rule: a plan that narrows it is cited by that rule "
                        "itself, so it lists no `rules:`",
                        "list `rules:` only under a declared definition",
                        key=True,
                    )
                )
        elif name not in definitions:
            found.append(
                Finding(
                    ("local", "conditions", name),
                    "E-REF",
                    f"no rule or definition `{name}`: a declared condition names a rule whose "
                    "`when` a plan may narrow, or a boolean definition",
                    did_you_mean(name, [*rule_ids, *definitions]),
                    key=True,
                )
            )
    return found


def condition_definitions(data: Mapping[str, Any]) -> list[str]:
    """The definitions (not rules) among the conditions the `local:` block declares."""
    local = data.get("local")
    if not isinstance(local, dict):
        return []
    rule_ids = {str(r.get("id")) for r in data.get("rules") or []}
    definitions = data.get("definitions") or {}
    return [
        str(n)
        for n in local.get("conditions") or {}
        if str(n) not in rule_ids and str(n) in definitions
    ]
