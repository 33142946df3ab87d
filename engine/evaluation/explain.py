"""Explaining: a decision's steps as readable reasons, each with its citation, for its audience."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.evaluation.evaluate import Step
from engine.language.convert import to_text
from engine.language.runtime import WITHHELD, Months, Unknown
from engine.packs.facts_schema import fact_description, fact_type, is_healthcare_path

if TYPE_CHECKING:
    from engine.evaluation.decision import Decision


@dataclass(frozen=True)
class ExplainIndex:
    """What explaining a decision needs of its pack, kept by a decision copied into another
    process without it: the pack's own order of its items, and the names each output,
    definition, table and rule reads (a table's rows apart: see `_Reads`)."""

    order: tuple[tuple[str, str], ...]
    reads: tuple[tuple[str, frozenset[str]], ...]
    # the pack's own words for its items, by (step kind, name): a description, a rule's title
    about: tuple[tuple[tuple[str, str], str], ...] = ()
    facts: str = "facts"  # the facts schema, whose healthcare-only paths are named as withheld
    # per table, its inputs' reads and each row's (by row id): the names a matched row reads
    rows: tuple[tuple[str, frozenset[str], tuple[tuple[str, frozenset[str]], ...]], ...] = ()

    def targets(self) -> frozenset[str]:
        """The names a decision can be explained for."""
        return frozenset(name for name, _ in self.reads)

    def words(self, kind: str, name: str) -> str | None:
        return dict(self.about).get((kind, name))


def explain_index(pack: Any) -> ExplainIndex:
    """The pack's `ExplainIndex`, worked out once."""
    found = pack.derived.get("explain_index")
    if found is None:
        names = [*pack.outputs, *pack.definitions, *pack.tables, *(r.id for r in pack.rules)]
        about = [(("rule", r.id), r.title) for r in pack.rules if r.title]
        for kind, items in (("definition", pack.definitions), ("output", pack.outputs)):
            about += [
                ((kind, n), " ".join(i.description.split()))
                for n, i in items.items()
                if i.description
            ]
        reads: dict[str, set[str]] = {n: set() for n in names}
        for key, deps in pack.dependencies.items():
            if key.name in reads:
                reads[key.name] |= {d.name for d in deps}
                for expr in _expressions(pack, key.kind, key.name):
                    reads[key.name] |= _read(pack, expr)
        rows = []
        for t in pack.tables.values():
            base = frozenset(n for _, e in t.inputs for n in _read(pack, e))
            each = tuple(
                (r.id, frozenset(n for _, e in r.then for n in _read(pack, e))) for r in t.rows
            )
            rows.append((t.id, base, each))
        found = pack.derived["explain_index"] = ExplainIndex(
            tuple(_declaration_rank(pack)),
            tuple((n, frozenset(r)) for n, r in reads.items()),
            tuple(about),
            pack.facts,
            tuple(rows),
        )
    return found


def _read(pack: Any, expr: Any) -> set[str]:
    """The pack's names (items and parameters) an expression reads."""
    items = (pack.parameters, pack.definitions, pack.tables, pack.outputs)
    return {n for n in expr.checked.names if any(n in i for i in items)}


def visible_steps(decision: Decision, target: str | None = None) -> list[Step]:
    """The steps this decision's audience may see, limited to those `target` rests on. For a
    custodial audience a parameter read only by reasoning it is not shown is left out too: it
    would point at a test the reader cannot see applied."""
    custodial = decision.audience != "healthcare"
    steps = list(decision.steps)
    index = _index(decision)
    taken = {s.name: frozenset(s.reads) for s in steps if s.reads is not None}
    reads = None if index is None else _Reads(index, _matched_rows(decision), taken)
    if target is not None:
        keep = {target} if reads is None else _closure(reads, target)
        steps = [s for s in steps if s.name in keep]
    rank = _rank(decision)
    if custodial and rank is not None:
        # evaluation order can follow healthcare-only data: show the pack's own order instead
        steps.sort(key=lambda s: rank.get((s.kind, s.name), len(rank)))
    out = []
    obliged = {o.rule for o in decision.obligations}
    for s in steps:
        if custodial and s.healthcare and not s.releasable:
            if s.kind == "rule" and s.name in obliged:
                out.append(s)  # a releasable obligation: shown, reasons withheld
            continue
        out.append(s)
    if custodial and reads is not None:
        read: set[str] = set()
        for s in out:
            if s.kind != "parameter" and not s.healthcare:
                read |= reads(s.name)
        out = [s for s in out if s.kind != "parameter" or s.name in read]
    return out


def _declaration_rank(pack: Any) -> dict[tuple[str, str], int]:
    order: list[tuple[str, str]] = [("parameter", n) for n in pack.parameters]
    order += [("definition", n) for n in pack.definitions]
    order += [("table", n) for n in pack.tables]
    order += [("rule", r.id) for r in pack.rules]
    order += [("output", n) for n in pack.outputs]
    return {key: i for i, key in enumerate(order)}


def _rank(decision: Decision) -> dict[tuple[str, str], int] | None:
    """The place of each item in the decision's pack, as the pack declares them."""
    if decision.model is not None:
        return _declaration_rank(decision.model)
    if decision.explain_index is not None:
        return {key: i for i, key in enumerate(decision.explain_index.order)}
    return None


def _matched_rows(decision: Decision) -> dict[str, frozenset[str]]:
    """The rows each table matched, by id, where known and this audience may see them."""
    custodial = decision.audience != "healthcare"
    return {
        s.name: frozenset(s.value)
        for s in decision.steps
        if s.kind == "table" and isinstance(s.value, list) and not (custodial and s.healthcare)
    }


class _Reads:
    """The names each item of an index reads directly: as its step recorded them on the
    branches the decision took (`taken`), else as the decision's tables matched (for a table
    whose matched rows are known, its inputs' and those rows' alone), else all of them."""

    def __init__(
        self,
        index: ExplainIndex,
        matched: Mapping[str, frozenset[str]],
        taken: Mapping[str, frozenset[str]],
    ) -> None:
        self.reads = dict(index.reads)
        self.rows = {t: (base, dict(rows)) for t, base, rows in index.rows if t in matched}
        self.matched = matched
        self.taken = taken

    def __call__(self, name: str) -> frozenset[str]:
        found = self.taken.get(name)
        if found is not None:
            return found
        if name in self.rows:
            base, rows = self.rows[name]
            return base.union(*(rows.get(r, frozenset()) for r in self.matched[name]))
        return self.reads.get(name, frozenset())


def _closure(reads: _Reads, target: str) -> set[str]:
    """An output, definition, table or rule and everything it reads, directly or not, by
    name; through a table whose matched rows are known, only what those rows read, so that an
    explanation names only the parameters and definitions of the rows that applied."""
    seen: set[str] = set()
    stack = [target]
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack.extend(reads(name))
    return seen


def _expressions(pack: Any, kind: str, name: str) -> list[Any]:
    if kind == "def" and name in pack.definitions:
        return [pack.definitions[name].expr]
    if kind == "out" and name in pack.outputs:
        o = pack.outputs[name]
        return [e for e in (o.expr, o.default) if e is not None]
    if kind == "table" and name in pack.tables:
        t = pack.tables[name]
        return [e for _, e in t.inputs] + [e for r in t.rows for _, e in r.then]
    if kind == "rule":
        r = pack.rule(name)
        if r is None:
            return []
        out = [e for _, e in r.sets]
        if r.when is not None:
            out.append(r.when)
        if r.obligation:
            out += [e for e in (r.obligation.due, r.obligation.frequency) if e is not None]
        return out
    return []


def value_text(value: Any) -> str:
    """A step's value as an explanation shows it: a duration in words, as a pack writes one
    (`28 days`, `2 months`, `45 minutes`), anything else as `to_text` gives it."""
    if isinstance(value, Months):
        n, unit = (value.n // 12, "year") if value.n and value.n % 12 == 0 else (value.n, "month")
        return f"{n} {unit}{'' if n == 1 else 's'}"
    if isinstance(value, dt.timedelta):
        minutes = int(value.total_seconds() // 60)
        days, minutes = divmod(minutes, 1440)
        parts = [(days, "day"), (minutes, "minute")]
        if minutes and days == 0:
            parts = [(minutes, "minute")]
        shown = [f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in parts if n]
        return " ".join(shown) or "0 days"
    return to_text(value)


def step_lines(decision: Decision, step: Step) -> list[str]:
    """A step as lines of text: the conclusion, the expression, the citation."""
    custodial = decision.audience != "healthcare"
    withheld = custodial and step.healthcare
    if step.kind == "rule":
        verdict = (
            "applies"
            if step.value is True
            else "does not apply"
            if step.value is False or to_text(step.value) == "none"  # (as the decision reads it)
            else to_text(step.value)
        )
        if withheld:
            verdict = f"applies ({step.withheld_reason or 'reasons withheld'})"
        head = f"rule {step.name}: {verdict}"
        if step.detail:
            head += f" — {step.detail}"
    elif withheld:
        head = (
            f"{step.kind} `{step.name}` = {value_text(step.value)} "
            f"({step.withheld_reason or 'reasons withheld'})"
        )
    elif step.error is not None:  # (else the decision would have stopped on it)
        head = (
            f"{step.kind} `{step.name}` could not be worked out: {step.error}; "
            "nothing the decision needs depends on it"
        )
    else:
        head = f"{step.kind} `{step.name}` = {value_text(step.value)}"
        if step.kind == "table" and step.detail:
            head += f" (rows matched for {step.detail})"
    lines = [head]
    title = _rule_title(decision, step.name) if step.kind == "rule" and not withheld else None
    if title and title != step.detail:  # (a rule that applies already says it in its head)
        lines.append(f"    {title}")
    if step.text and not withheld and step.kind != "parameter":
        lines.append(f"    because {' '.join(step.text.split())}")
    if step.cites and not withheld:
        lines.append("    see " + "; ".join(c.text() for c in step.cites))
    if step.interpretations and not withheld:
        lines.append("    relies on " + ", ".join(step.interpretations))
    return lines


def render_text(
    decision: Decision, target: str | None = None, facts: Mapping[str, Any] | None = None
) -> str:
    """The whole explanation as numbered text. With a target, the header and the facts named
    at the end are the target's own (the whole decision's status beside them): a decided
    output of an undetermined decision reads as decided, and needs nothing. Given the facts
    read, a needed field of a list's elements names the entries that lack it."""
    steps = visible_steps(decision, target)
    head = (
        f"{decision.pack} {decision.version} (policy version {decision.policy_version}) "
        f"as of {decision.as_of.isoformat()}, for a {decision.audience} audience: "
    )
    needs = list(decision.missing_facts)
    own = _target_step(steps, target) if target is not None else None
    if own is None:
        out = [head + decision.status]
    else:
        needs = _needs(decision, own.value)
        status = "undetermined" if needs or _withheld_value(own.value) else "decided"
        whole = "" if status == decision.status else f" (the whole decision: {decision.status})"
        out = [head + f"`{target}` {status}{whole}"]
        about = _description(decision, own)
        if about:
            out.append(f"     about `{target}`: {about}")
    for n, step in enumerate(steps, 1):
        lines = step_lines(decision, step)
        out.append(f"{n:>3}. {lines[0]}")
        out.extend("     " + line for line in lines[1:])
    if needs:
        out.append("needs:")
        out.extend(f"  - {need_text(n)}" for n in described_needs(decision, needs, facts))
    if decision.withheld:
        out.append("withheld from this audience: " + ", ".join(decision.withheld))
    return "\n".join(out)


def _target_step(steps: list[Step], target: str) -> Step | None:
    """The step that worked the target out (the last of that name: a rule's own step comes
    after the steps it reads)."""
    found = [s for s in steps if s.name == target and s.kind != "parameter"]
    return found[-1] if found else None


def _withheld_value(value: Any) -> bool:
    return value is WITHHELD


def _unknown_paths(value: Any, acc: set[str]) -> None:
    """The facts an unknown value, or the unknown parts of a list or record, need."""
    if value.__class__ is Unknown:
        acc.update(value.paths)
    elif isinstance(value, dict):
        for v in value.values():
            _unknown_paths(v, acc)
    elif isinstance(value, list | tuple):
        for v in value:
            _unknown_paths(v, acc)


def _needs(decision: Decision, value: Any) -> list[str]:
    """The facts a target's value needs, named as the decision names them: for a custodial
    audience a healthcare-only fact only as the withheld marker."""
    paths: set[str] = set()
    _unknown_paths(value, paths)
    if decision.audience == "healthcare" or not paths:
        return sorted(paths)
    index = _index(decision)
    marker = next(iter(WITHHELD.paths))

    def hidden(p: str) -> bool:
        if index is None:  # nothing to tell by: only what the decision itself names is shown
            return p not in decision.missing_facts
        return p == marker or is_healthcare_path(p, index.facts)

    return sorted({marker if hidden(p) else p for p in paths})


@dataclass(frozen=True)
class Need:
    """A fact a decision needs: its path, what the facts schema says it is (where this
    audience may read that), and, for a field of a list's elements, the entries of the facts
    read that do not record it (numbered from 1; `2.1` for the first entry of the second)."""

    path: str
    about: str | None = None
    entries: tuple[str, ...] = ()


def described_needs(
    decision: Decision, paths: Iterable[str], facts: Mapping[str, Any] | None = None
) -> list[Need]:
    """Each fact path a decision needs with what the facts schema says that fact is, so a
    reader knows what to find out: no words for a healthcare-only fact unless the audience is
    healthcare (a custodial decision names such a fact only as the withheld marker anyway).
    Given the facts read, a list element's field also says which entries lack it: in a record
    of forty sessions, the one without a date."""
    index = _index(decision)
    custodial = decision.audience != "healthcare"
    out: list[Need] = []
    for path in paths:
        if index is None or (custodial and is_healthcare_path(path, index.facts)):
            out.append(Need(path))
            continue
        entries = unrecorded_entries(path, facts, index.facts) if facts is not None else ()
        out.append(Need(path, fact_description(path, index.facts), entries))
    return out


_MOST_ENTRIES = 10  # entries named before the rest are counted


def need_text(need: Need) -> str:
    """A needed fact as one line of text: its path, the entries that lack it, then what it
    is where that is known."""
    text = need.path + entries_text(need.entries)
    return f"{text}: {need.about}" if need.about else text


def entries_text(entries: tuple[str, ...]) -> str:
    """` (not recorded in entries 2 and 5)`, or nothing where no entry is named."""
    if not entries:
        return ""
    shown = list(entries[:_MOST_ENTRIES])
    more = len(entries) - len(shown)
    if more:
        shown.append(f"{more} more")
    words = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
    return f" (not recorded in {'entry' if len(entries) == 1 else 'entries'} {words})"


def unrecorded_entries(path: str, facts: Mapping[str, Any], schema: str) -> tuple[str, ...]:
    """For a field of a list's elements (`a.b[].c`), the entries of `facts` where it is not
    recorded: absent, or null where the schema does not make a null a known none (an entry
    whose record on the way is missing counts too). Nothing for any other path."""
    if "[]" not in path:
        return ()
    parts = path.replace("[]", ".[]").split(".")
    t = fact_type(path, schema)
    null_counts = t is None or not t.null_none
    found: list[str] = []

    def walk(value: Any, i: int, at: tuple[int, ...]) -> None:
        if i == len(parts):
            return
        part = parts[i]
        if part == "[]":
            if isinstance(value, list):
                for n, item in enumerate(value, 1):
                    walk(item, i + 1, (*at, n))
            return
        if not isinstance(value, Mapping):
            return
        last = i == len(parts) - 1
        if part not in value or (value[part] is None and (null_counts or not last)):
            if at:  # (a gap before the first list is the list's own: no entry to name)
                found.append(".".join(map(str, at)))
            return
        walk(value[part], i + 1, at)

    walk(facts, 0, ())
    return tuple(found)


def _index(decision: Decision) -> ExplainIndex | None:
    """What explaining needs of the decision's pack, from the pack itself or, for a decision
    read back without it, as the decision kept it: either way the same explanation."""
    if decision.model is not None:
        return explain_index(decision.model)
    return decision.explain_index


def _description(decision: Decision, step: Step) -> str | None:
    """The pack's own words for what a target is (its description, a rule's title), where
    this audience may see them."""
    index = _index(decision)
    if index is None or (decision.audience != "healthcare" and step.healthcare):
        return None
    return index.words(step.kind, step.name)


def _rule_title(decision: Decision, rule_id: str) -> str | None:
    index = _index(decision)
    return None if index is None else index.words("rule", rule_id)
