"""Overlays: a local plan checked against its national pack's bounds, merged in and built.

A local plan extends a national pack at a policy version. It may vary only what the national
pack's `local:` block declares (see engine.packs.local_declarations): options of partial
tasks and choices, products of total ones, declared local parameters, national parameters
open to local values, members of declared groups, narrower conditions of declared rules and
of declared boolean definitions, and rules of its own. Checking happens in two steps: the
bounds, on the plan as written; then the merged pack is built like any other, with problems
in the plan's parts reported at the plan's own lines and columns.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.language import syntax as A
from engine.language.logic_equal import TooManyAtoms, truth_text, wider
from engine.language.parse import ExprError, parse
from engine.packs import model as M
from engine.packs.build import Loading, run_stages
from engine.packs.build_context import PackBuild
from engine.packs.local_declarations import AUTONOMY_MEANING
from engine.packs.read_yaml import Document, Span
from engine.packs.references import rules_reading
from engine.problems import Code, Problem, did_you_mean, problem

Path_ = tuple[Any, ...]

OBLIGING = ("must", "must_not", "should", "should_not")


@dataclass(frozen=True)
class MergedDocument(Document):
    """The national document with a plan merged in: positions of the plan's parts come from
    the plan's own document, everything else from the national one."""

    overlay: Document | None = None
    mapping: tuple[tuple[Path_, Path_], ...] = field(default=(), repr=False, compare=False)

    def _mapped(self, path: Path_) -> Path_ | None:
        path = tuple(path)
        for merged, own in self.mapping:
            if path[: len(merged)] == merged:
                return own + path[len(merged) :]
        return None

    def span(self, path: Path_ = ()) -> Span:
        own = self._mapped(path)
        if own is not None and self.overlay is not None:
            return self.overlay.span(own)
        return super().span(path)

    def key_span(self, path: Path_) -> Span:
        own = self._mapped(path)
        if own is not None and self.overlay is not None:
            return self.overlay.key_span(own)
        return super().key_span(path)

    def locate(self, path: Path_, line: int, col: int) -> tuple[int, int]:
        own = self._mapped(path)
        if own is not None and self.overlay is not None:
            return self.overlay.locate(own, line, col)
        return super().locate(path, line, col)


def _cite_text(raw: Any) -> str:
    texts = [dataclasses.replace(c, note=None).text() for c in _citations(raw)]
    return "; ".join(texts) or "the national pack"


def _citations(raw: Any) -> tuple[M.Citation, ...]:
    items = raw if isinstance(raw, list) else [raw] if raw else []
    return tuple(M.Citation.from_raw(c) for c in items if isinstance(c, dict))


def _s(value: Any) -> str | None:
    return None if value is None else str(value)


def _conjuncts(node: A.Node) -> list[A.Node]:
    if isinstance(node, A.Logic) and node.op == "and":
        return _conjuncts(node.left) + _conjuncts(node.right)
    if isinstance(node, A.Lit) and node.value is True:
        return []
    return [node]


@dataclasses.dataclass(frozen=True)
class Narrowing:
    """Whether a local condition is no wider than the national one (None: one does not parse,
    which the build reports), and where not, an example of what it admits beyond it."""

    narrows: bool | None
    example: str = ""


def narrowing(national: str | None, local: str) -> Narrowing:
    """Whether `local` admits nothing `national` does not, under three-valued logic over the
    comparisons as written (engine.language.logic_equal); past its limit on parts, whether
    `local` is `national and something` (conjuncts in any order)."""
    try:
        nat = parse(national) if national and national.strip() != "true" else None
        loc = parse(local)
    except ExprError:
        return Narrowing(None)
    if nat is None:
        return Narrowing(True)
    try:
        found = wider(loc, nat)
    except TooManyAtoms:
        if _adds_conjuncts(nat, loc):
            return Narrowing(True)
        return Narrowing(
            False,
            "it is not the national condition `and` something more, and has too many parts "
            "for their logic to be compared",
        )
    if found is None:
        return Narrowing(True)
    where = ", ".join(f"`{text}` is {truth_text(v)}" for text, v in found.atoms)
    return Narrowing(
        False,
        f"where {where}, the local condition is {truth_text(found.first)} and the national "
        f"one {truth_text(found.second)}",
    )


def narrows(national: str | None, local: str) -> bool | None:
    """Whether `local` admits nothing `national` does not (see `narrowing`)."""
    return narrowing(national, local).narrows


def _adds_conjuncts(national: A.Node, local: A.Node) -> bool:
    """Whether `local` is `national and something` (conjuncts in any order), as written."""
    remaining = [A.shape(n) for n in _conjuncts(local)]
    for n in _conjuncts(national):
        shape = A.shape(n)
        if shape not in remaining:
            return False
        remaining.remove(shape)
    return True


class OverlayBuilder:
    """One local plan against its national pack: the bounds, then the merged build."""

    def __init__(
        self,
        doc: Document,
        content: bytes,
        national: M.Pack,
        national_doc: Document,
        national_content: bytes,
    ):
        self.doc = doc
        self.data: dict[str, Any] = doc.data
        self.content = content
        self.national = national
        self.national_doc = national_doc
        self.national_content = national_content
        self.ndata: Mapping[str, Any] = national_doc.data
        self.local: Mapping[str, Any] = self.ndata.get("local") or {}
        self.problems: list[Problem] = []
        self.entries: list[M.LocalEntry] = []
        self.kept_rules: list[int] = []  # the indices of the local rules merged (check_rules)

    # -- reporting -------------------------------------------------------------------------

    def problem(
        self,
        path: Path_,
        code: Code,
        message: str,
        hint: str | None = None,
        key: bool = False,
    ) -> None:
        """A problem at the value (or, with `key`, the key) at `path` in the plan."""
        span = self.doc.key_span(path) if key else self.doc.span(path)
        end = (span.end_line, span.end_col) if span.end_line and span.end_col else None
        self.problems.append(problem(code, self.doc.file, span.line, span.col, message, hint, end))

    def known(
        self, path: Path_, what: str, name: str, names: Mapping[str, Any], key: bool = False
    ) -> bool:
        """Whether `name` is one of `names`; if not, an E-REF problem at `path` (a likely name
        as the hint)."""
        if name in names:
            return True
        self.problem(path, "E-REF", f"no {what} `{name}`", did_you_mean(name, names), key=key)
        return False

    def entry(self, path: Path_, **kw: Any) -> None:
        span = self.doc.key_span(path)
        parts = tuple(self.local.get("parts_always") or ()) + tuple(kw.pop("parts", ()) or ())
        self.entries.append(M.LocalEntry(line=span.line, col=span.col, parts=parts, **kw))

    # -- the bounds ------------------------------------------------------------------------

    def check_version(self) -> bool:
        ext = self.data.get("extends") or {}
        vid = str(ext.get("version"))
        versions = {v.id: v for v in self.national.versions}
        start: dt.date = self.data["effective_from"]
        end: dt.date | None = self.data.get("effective_to")
        if end is not None and end < start:
            self.problem(("effective_to",), "E-VERSION-DATES", "the plan ends before it begins")
            return False
        version = versions.get(vid)
        spans = ", ".join(
            f"`{v.id}` {v.effective_from}..{v.effective_to or 'open'}"
            for v in self.national.versions
        )
        if version is None:
            self.problem(
                ("extends", "version"),
                "E-LOCAL-VERSION",
                f"pack `{self.national.id}` has no version `{vid}`",
                f"versions: {spans}",
            )
            return False
        last = version.effective_to
        ends_after = last is not None and (end is None or end > last)
        if start < version.effective_from or ends_after:
            self.problem(
                ("extends", "version"),
                "E-LOCAL-VERSION",
                f"version `{vid}` of pack `{self.national.id}` is not in force for the whole "
                f"plan ({start}..{end or 'open'}; the version runs "
                f"{version.effective_from}..{version.effective_to or 'open'})",
                f"make the plan under the version in force on its dates ({spans})",
            )
            return False
        return True

    def _limited(self, path: Path_, what: str, cite: Any, key: bool = True, also: str = "") -> None:
        self.problem(
            path,
            "E-LOCAL-LIMITED",
            f"{what} has limited autonomy: {AUTONOMY_MEANING['limited']} "
            f"(set by {_cite_text(cite)})",
            "leave it out of the local plan; only what the national `local:` block declares "
            "may vary" + also,
            key=key,
        )

    def check_tasks(self) -> None:
        tasks = self.ndata.get("tasks") or {}
        declared = self.local.get("tasks") or {}
        for tid, item in (self.data.get("tasks") or {}).items():
            base: Path_ = ("tasks", tid)
            task = tasks.get(tid)
            if task is None:
                self.problem(base, "E-REF", f"no task `{tid}`", did_you_mean(tid, tasks), key=True)
                continue
            autonomy = str(task.get("autonomy", "limited"))
            decl = declared.get(tid) or {}
            cite = task.get("cite")
            what = f"task `{tid}` ({task.get('title')})"
            ok = True
            if "options" in item:
                if autonomy == "limited":
                    self._limited((*base, "options"), what, cite)
                    ok = False
                elif autonomy == "total":
                    self.problem(
                        (*base, "options"),
                        "E-LOCAL-OPTION",
                        f"{what} has total autonomy: {AUTONOMY_MEANING['total']}; "
                        "it has no options to choose",
                        "describe the local product under `product:`",
                        key=True,
                    )
                    ok = False
                else:
                    known = [str(o.get("id")) for o in decl.get("options") or ()]
                    for j, opt in enumerate(item["options"]):
                        if str(opt) not in known:
                            self.problem(
                                (*base, "options", j),
                                "E-LOCAL-OPTION",
                                f"`{opt}` is not a declared delivery option of {what}, which "
                                f"has partial autonomy: {AUTONOMY_MEANING['partial']} "
                                f"(set by {_cite_text(cite)})",
                                f"options: {', '.join(known)}" if known else None,
                            )
                            ok = False
            if "product" in item and autonomy != "total":
                if autonomy == "limited":
                    self._limited((*base, "product"), what, cite)
                else:
                    self.problem(
                        (*base, "product"),
                        "E-LOCAL-OPTION",
                        f"{what} has partial autonomy: {AUTONOMY_MEANING['partial']}; "
                        f"a product of the plan's own design needs total autonomy "
                        f"(set by {_cite_text(cite)})",
                        "choose among the declared options under `options:`",
                        key=True,
                    )
                ok = False
            params = decl.get("parameters") or {}
            for name in item.get("parameters") or {}:
                if name not in params:
                    if autonomy == "limited":
                        self._limited((*base, "parameters", name), what, cite)
                    else:
                        self.problem(
                            (*base, "parameters", name),
                            "E-REF",
                            f"task `{tid}` declares no local parameter `{name}`",
                            did_you_mean(name, params) or "the national pack declares none",
                            key=True,
                        )
                    ok = False
            if not ok:
                continue
            titles = {str(o.get("id")): str(o.get("title")) for o in decl.get("options") or ()}
            bits = [titles.get(str(o), str(o)) for o in item.get("options") or ()]
            if item.get("product"):
                bits.append(str(item["product"]))
            # each detail under the words the national pack describes it by, where it does
            bits += [
                f"{(params.get(k) or {}).get('description') or k}: {v}"
                for k, v in (item.get("parameters") or {}).items()
            ]
            self.entry(
                base,
                kind="task",
                target=str(tid),
                autonomy=autonomy,
                summary="; ".join(bits) or "(no variation)",
                rules=tuple(decl.get("rules") or ()),
                parts=tuple(decl.get("parts") or ()),
                cites=_citations(decl.get("cite") or cite),
                note=_s(item.get("note")),
            )

    def check_choices(self) -> None:
        declared = self.local.get("choices") or {}
        for cid, item in (self.data.get("choices") or {}).items():
            base: Path_ = ("choices", cid)
            decl = declared.get(cid)
            if decl is None:
                self.problem(
                    base,
                    "E-REF",
                    f"pack `{self.national.id}` declares no local choice `{cid}`",
                    did_you_mean(cid, declared) or "the national pack declares none",
                    key=True,
                )
                continue
            autonomy = str(decl.get("autonomy"))
            what = f"choice `{cid}` ({decl.get('title')})"
            if autonomy == "partial":
                known = {str(o.get("id")): str(o.get("title")) for o in decl.get("options") or ()}
                option = item.get("option")
                if option is None or "product" in item:
                    self.problem(
                        (*base, "product") if "product" in item else base,
                        "E-LOCAL-OPTION",
                        f"{what} has partial autonomy: {AUTONOMY_MEANING['partial']} "
                        f"(set by {_cite_text(decl.get('cite'))})",
                        f"write `option:` with one of: {', '.join(known)}",
                        key=True,
                    )
                    continue
                if str(option) not in known:
                    self.problem(
                        (*base, "option"),
                        "E-LOCAL-OPTION",
                        f"`{option}` is not a declared option of {what}, which has partial "
                        f"autonomy: {AUTONOMY_MEANING['partial']} "
                        f"(set by {_cite_text(decl.get('cite'))})",
                        f"options: {', '.join(known)}",
                    )
                    continue
                summary = known[str(option)]
                fact = (str(decl["fact"]), str(option)) if decl.get("fact") else None
            else:
                if "option" in item or not item.get("product"):
                    self.problem(
                        (*base, "option") if "option" in item else base,
                        "E-LOCAL-OPTION",
                        f"{what} has total autonomy: {AUTONOMY_MEANING['total']}",
                        "describe the local product under `product:`",
                        key=True,
                    )
                    continue
                summary, fact = str(item["product"]), None
            self.entry(
                base,
                kind="choice",
                target=str(cid),
                autonomy=autonomy,
                summary=summary,
                rules=tuple(decl.get("rules") or ()),
                parts=tuple(decl.get("parts") or ()),
                cites=_citations(decl.get("cite")),
                fact=fact,
                note=_s(item.get("note")),
            )

    def check_parameters(self) -> None:
        declared = self.local.get("parameters") or {}
        national = self.ndata.get("parameters") or {}
        for name, item in (self.data.get("parameters") or {}).items():
            base: Path_ = ("parameters", name)
            if not self.known(base, "parameter", name, national, key=True):
                continue
            if name not in declared:
                first = (national[name].get("values") or [{}])[0]
                self._limited(
                    base, f"parameter `{name}`", first.get("cite") or national[name].get("cite")
                )
                continue
            decl = declared[name]
            self.entry(
                base,
                kind="parameter",
                target=str(name),
                autonomy="partial" if decl.get("at_least") else "total",
                summary=f"{name} = {item.get('value')}",
                parts=tuple(decl.get("parts") or ()),
                cites=_citations(decl.get("cite")),
                note=_s(item.get("note")),
            )

    def check_removals(self) -> None:
        for j, rid in enumerate(self.data.get("remove") or ()):
            rule = self._national_rule(str(rid))
            if rule is None:
                self.problem(("remove", j), "E-REF", f"no national rule `{rid}`")
                continue
            self.problem(
                ("remove", j),
                "E-LOCAL-REMOVE",
                f"a local plan cannot remove national rule `{rid}` ({self._what(rule)}, "
                f"set by {_cite_text(rule.get('cite'))})",
                "a local plan may add rules and narrow declared conditions, never drop them",
            )

    def _national_rule(self, rid: str) -> dict[str, Any] | None:
        for r in self.ndata.get("rules") or ():
            if str(r.get("id")) == rid:
                return dict(r)
        return None

    @staticmethod
    def _what(rule: Mapping[str, Any]) -> str:
        ob = rule.get("obligation") or {}
        if ob:
            return f"a `{ob.get('modality', 'must')}` obligation"
        if rule.get("sets"):
            return "it decides " + ", ".join(f"`{k}`" for k in rule["sets"])
        return "a national rule"

    def _declared_definitions_read(self, rid: str) -> list[str]:
        """The definitions open to narrowing that rule `rid` reads, directly or through
        others, in the order the national pack declares them."""
        declared = self.local.get("conditions") or {}
        reads = self.national.closure([M.ItemKey("rule", rid)])
        return [
            str(n)
            for n in declared
            if str(n) in self.national.definitions and M.ItemKey("def", str(n)) in reads
        ]

    def check_narrowing(self) -> None:
        declared = self.local.get("conditions") or {}
        definitions = self.ndata.get("definitions") or {}
        for rid, item in (self.data.get("narrow") or {}).items():
            base: Path_ = ("narrow", rid)
            rule = self._national_rule(str(rid))
            if rule is None and rid in definitions:
                self._narrow_definition(str(rid), item)
                continue
            if rule is None:
                self.problem(
                    base,
                    "E-REF",
                    f"no national rule or definition `{rid}`",
                    did_you_mean(str(rid), [*self._national_rule_ids(), *definitions]),
                    key=True,
                )
                continue
            modality = (rule.get("obligation") or {}).get("modality")
            if rid not in declared:
                instead = self._declared_definitions_read(str(rid))
                also = (
                    "; its condition reads "
                    + ", ".join(f"`{n}`" for n in instead)
                    + ", which the national pack opens to narrowing: narrow "
                    + ("that" if len(instead) == 1 else "one of those")
                    + " instead"
                    if instead
                    else ""
                )
                if modality in OBLIGING:
                    self.problem(
                        base,
                        "E-LOCAL-REMOVE",
                        f"narrowing rule `{rid}` would remove its `{modality}` obligation "
                        f"where the national condition holds (set by "
                        f"{_cite_text(rule.get('cite'))})",
                        "national obligations apply wherever their condition holds" + also,
                        key=True,
                    )
                else:
                    self._limited(
                        base, f"the condition of rule `{rid}`", rule.get("cite"), also=also
                    )
                continue
            national_when = rule.get("when")
            result = narrowing(
                None if national_when is None else str(national_when), str(item.get("when"))
            )
            if result.narrows is False:
                self.problem(
                    (*base, "when"),
                    "E-LOCAL-WIDEN",
                    f"the local condition of rule `{rid}` may hold where the national one "
                    f"(`{national_when}`) does not: {result.example} "
                    f"(set by {_cite_text(declared[rid].get('cite') or rule.get('cite'))})",
                    f"write `{national_when} and ...`",
                )
                continue
            self.entry(
                base,
                kind="narrow",
                target=str(rid),
                autonomy="narrowed",
                summary=f"applies only when {item.get('when')}",
                rules=(str(rid),),
                parts=tuple(declared[rid].get("parts") or ()),
                cites=_citations(declared[rid].get("cite") or rule.get("cite")),
                note=_s(item.get("note")),
            )

    def _narrow_definition(self, name: str, item: Mapping[str, Any]) -> None:
        """A plan's narrower value of a national boolean definition the `local:` block
        declares: the national expression `and` more. The entry is cited by the rules the
        declaration lists."""
        base: Path_ = ("narrow", name)
        raw = (self.ndata.get("definitions") or {})[name]
        text = _literal(raw.get("expr") if isinstance(raw, dict) else raw)
        cite = raw.get("cite") if isinstance(raw, dict) else None
        decl = (self.local.get("conditions") or {}).get(name)
        if decl is None:
            self._limited(base, f"definition `{name}`", cite)
            return
        result = narrowing(text, str(item.get("when")))
        if result.narrows is False:
            self.problem(
                (*base, "when"),
                "E-LOCAL-WIDEN",
                f"the local value of definition `{name}` may hold where the national one "
                f"(`{text}`) does not: {result.example} "
                f"(set by {_cite_text(decl.get('cite') or cite)})",
                f"write `{text} and ...`",
            )
            return
        self.entry(
            base,
            kind="narrow",
            target=name,
            autonomy="narrowed",
            summary=(
                f"{note} (holds only when {item.get('when')})"
                if (note := _s(item.get("note")))
                else f"holds only when {item.get('when')}"
            ),
            rules=tuple(
                str(r)
                for r in decl.get("rules")
                or rules_reading(
                    self.national.dependencies, name, [r.id for r in self.national.rules]
                )
            ),
            parts=tuple(decl.get("parts") or ()),
            cites=_citations(decl.get("cite") or cite),
            note=_s(item.get("note")),
        )

    def _national_rule_ids(self) -> list[str]:
        return [str(r.get("id")) for r in self.ndata.get("rules") or ()]

    def check_rules(self) -> list[int]:
        """The local rules, checked; returns the indices of those to merge."""
        rules = self.data.get("rules") or []
        add = self.local.get("add_rules")
        groups = self.local.get("groups") or {}
        bodies = self.local.get("bodies") or {}
        national_ids = {str(r.get("id")) for r in self.ndata.get("rules") or ()}
        seen: set[str] = set()
        keep: list[int] = []
        for i, rule in enumerate(rules):
            rid = str(rule.get("id"))
            base: Path_ = ("rules", i)
            if rid in national_ids:
                self.problem(
                    (*base, "id"),
                    "E-LOCAL-REMOVE",
                    f"local rule `{rid}` has the id of a national rule: a local plan adds rules, "
                    "it cannot replace (and so remove) national ones",
                    "give the local rule an id of its own, e.g. with the establishment's code",
                )
                continue
            if rid in seen:
                self.problem((*base, "id"), "E-DUP-ID", f"rule `{rid}` is defined twice")
                continue
            seen.add(rid)
            group = rule.get("group")
            if group is not None:
                decl = groups.get(group)
                if decl is None:
                    self.problem(
                        (*base, "group"),
                        "E-REF",
                        f"pack `{self.national.id}` declares no local group `{group}`",
                        did_you_mean(str(group), groups) or "the national pack declares none",
                    )
                    continue
                need = decl.get("agreement")
                agreement = rule.get("agreement") or {}
                if need is not None and str(agreement.get("body")) != str(need):
                    name = (bodies.get(need) or {}).get("name", need)
                    self.problem(
                        (*base, "agreement", "body") if agreement else (*base, "id"),
                        "E-LOCAL-AGREEMENT",
                        f"local rule `{rid}` adds to group `{group}`, which needs the "
                        f"agreement of the {name} (set by {_cite_text(decl.get('cite'))})",
                        f"record it: `agreement: {{body: {need}, date: YYYY-MM-DD}}`",
                    )
                    continue
            elif add is None:
                self.problem(
                    (*base, "id"),
                    "E-LOCAL-LIMITED",
                    f"pack `{self.national.id}` does not let local plans add rules of their own",
                    "declare `local: add_rules:` in the national pack if its source allows it",
                )
                continue
            decl = groups.get(group) if group is not None else add or {}
            defines = (
                (M.ItemKey("def", f"local_rule_{len(keep) + 1}"),) if group is not None else ()
            )
            summary = str(rule.get("title"))
            if agreement := rule.get("agreement"):
                body = str(agreement.get("body"))
                named = (self.local.get("bodies") or {}).get(body) or {}
                summary += (
                    f" (agreed by the {named.get('name') or body} on {agreement.get('date')})"
                )
            self.entry(
                base,
                kind="rule",
                target=rid,
                autonomy="local rule",
                summary=summary,
                rules=(rid,),
                parts=tuple((decl or {}).get("parts") or ()),
                cites=_citations(rule.get("cite") or (decl or {}).get("cite")),
                note=_s(rule.get("note")),
                defines=defines,
                group=None if group is None else str(group),
            )
            keep.append(i)
        return keep

    def check_signoff(self) -> tuple[M.SignOff, ...]:
        parts = self.local.get("parts") or {}
        bodies = self.local.get("bodies") or {}
        out: list[M.SignOff] = []
        for j, s in enumerate(self.data.get("signoff") or ()):
            part, body = str(s.get("part")), str(s.get("body"))
            if not self.known(("signoff", j, "part"), "plan part", part, parts):
                continue
            if not self.known(("signoff", j, "body"), "signing body", body, bodies):
                continue
            out.append(
                M.SignOff(
                    part,
                    body,
                    str(bodies[body].get("name")),
                    s.get("date"),
                    _s(s.get("by")),
                    _s(s.get("reference")),
                    _s((parts.get(part) or {}).get("title")),
                )
            )
        if self.data.get("status") != "active":
            return tuple(out)
        start: dt.date = self.data["effective_from"]
        used: list[str] = []
        for e in self.entries:
            for p in e.parts:
                if p not in used:
                    used.append(p)
        where: Path_ = ("signoff",) if self.doc.has(("signoff",)) else ("effective_from",)
        for p in used:
            for body in (parts.get(p) or {}).get("signoff") or ():
                signed = [s for s in out if s.part == p and s.body == body]
                name = (bodies.get(body) or {}).get("name", body)
                cite = _cite_text((parts.get(p) or {}).get("cite"))
                if not signed:
                    self.problem(
                        where,
                        "W-LOCAL-SIGNOFF",
                        f"part `{p}` of the plan is in force from {start} without sign-off by "
                        f"the {name} (required by {cite})",
                        f"record it under `signoff:` as `{{part: {p}, body: {body}, date: ...}}`",
                        key=True,
                    )
                elif all(s.on > start for s in signed):
                    j = next(
                        k
                        for k, s in enumerate(self.data.get("signoff") or ())
                        if str(s.get("part")) == p and str(s.get("body")) == body
                    )
                    self.problem(
                        ("signoff", j, "date"),
                        "W-LOCAL-SIGNOFF",
                        f"part `{p}` came into force on {start}, before the {name} signed it "
                        f"off on {signed[0].on} (required by {cite})",
                        "start the plan on or after its sign-off",
                    )
        return tuple(out)

    # -- merging ---------------------------------------------------------------------------

    def merge(self, keep: list[int]) -> tuple[dict[str, Any], list[tuple[Path_, Path_]]]:
        merged = copy.deepcopy(dict(self.ndata))
        merged.pop("tests", None)
        mapping: list[tuple[Path_, Path_]] = []
        rules: list[dict[str, Any]] = merged.setdefault("rules", [])
        index = {str(r.get("id")): k for k, r in enumerate(rules)}
        definitions = merged.setdefault("definitions", {})
        for rid, item in (self.data.get("narrow") or {}).items():
            if str(rid) not in index:  # a declared definition (check_narrowing)
                current = definitions[rid]
                if isinstance(current, dict):
                    current["expr"] = item["when"]
                    mapping.append((("definitions", rid, "expr"), ("narrow", rid, "when")))
                else:
                    definitions[rid] = item["when"]
                    mapping.append((("definitions", rid), ("narrow", rid, "when")))
                continue
            k = index[str(rid)]
            rules[k]["when"] = item["when"]
            mapping.append((("rules", k, "when"), ("narrow", rid, "when")))
        for name, item in (self.data.get("parameters") or {}).items():
            param = merged["parameters"][name]
            cite = (param.get("values") or [{}])[0].get("cite")
            param["values"] = [{"from": None, "to": None, "value": item["value"], "cite": cite}]
            mapping.append((("parameters", name, "values", 0), ("parameters", name)))
        extra: dict[str, list[str]] = {}
        for n, i in enumerate(keep):
            raw = self.data["rules"][i]
            rule = {
                k: v for k, v in raw.items() if k in ("id", "title", "when", "obligation", "cite")
            }
            gid = raw.get("group")
            declared = (
                (self.local.get("groups") or {}).get(gid)
                if gid is not None
                else self.local.get("add_rules")
            ) or {}
            if not rule.get("cite") and declared.get("cite"):
                rule["cite"] = declared["cite"]  # as its plan entry: the passage allowing it
            k = len(rules)
            if gid is not None:
                name = f"local_rule_{n + 1}"
                definitions[name] = raw.get("when", True)
                mapping.append((("definitions", name), ("rules", i, "when")))
                extra.setdefault(str(raw["group"]), []).append(name)
                rule["when"] = name
            rules.append(rule)
            mapping.append((("rules", k), ("rules", i)))
        for group, names in extra.items():
            current = definitions[group]
            text = current.get("expr") if isinstance(current, dict) else current
            expr = f"({_literal(text)}) or " + " or ".join(names)
            if isinstance(current, dict):
                current["expr"] = expr
            else:
                definitions[group] = expr
        return merged, mapping

    def build(self) -> M.Pack | None:
        if not self.check_version():
            return None
        self.check_tasks()
        self.check_choices()
        self.check_parameters()
        self.check_removals()
        self.check_narrowing()
        keep = self.kept_rules = self.check_rules()
        signoffs = self.check_signoff()
        if any(p.is_error for p in self.problems):
            return None
        merged, mapping = self.merge(keep)
        nd = self.national_doc
        nd.span()  # its positions, read once (a cached document reads them when first asked)
        doc = MergedDocument(
            data=merged,
            file=nd.file,
            text=nd.text,
            _nodes=nd._nodes,
            _json_nodes=nd._json_nodes,
            _line_starts=nd._line_starts,
            overlay=self.doc,
            mapping=tuple(mapping),
        )
        own = set(self.ndata.get("vocabulary") or {})
        imported = {k: v for k, v in self.national.vocabulary.items() if k not in own}
        # the merged document through the same stages as any pack, from `declarations` on
        # (read, yaml and schema were done on each file; imports are the national pack's)
        loading = Loading(Path(nd.file), nd.file, doc=doc)
        loading.content = self.national_content + b"\n" + self.content
        loading.build = PackBuild(doc, loading.content, imported, loading.problems)
        run_stages(loading, start="declarations")
        for p in loading.problems:
            if p.is_error or p.file == self.doc.file:
                self.problems.append(p)
        pack = loading.pack
        if pack is None:
            return None
        self.check_bounds(pack)
        if any(p.is_error for p in self.problems):
            return None
        self.check_need_to_know(pack)
        est = self.data.get("establishment") or {}
        ext = self.data.get("extends") or {}
        plan = M.LocalPlan(
            file=self.doc.file,
            establishment_code=str(est.get("code")),
            establishment_name=str(est.get("name")),
            title=str(self.data.get("title")),
            version=str(self.data.get("version")),
            status=str(self.data.get("status")),
            content_hash="sha256:" + hashlib.sha256(self.content).hexdigest(),
            extends_pack=str(ext.get("pack")),
            extends_version=str(ext.get("version")),
            effective_from=self.data["effective_from"],
            effective_to=self.data.get("effective_to"),
            signoffs=signoffs,
            entries=tuple(self.entries),
        )
        return dataclasses.replace(pack, local_plan=plan)

    def check_need_to_know(self, pack: M.Pack) -> None:
        """A local rule adding to a national group from healthcare-only facts makes the group
        healthcare-only, and every national output reading it: custodial staff, who saw those
        outputs under the national pack, no longer do. Said at each such rule."""
        hidden = [
            name
            for name, out in pack.outputs.items()
            if out.custodial_withheld
            and name in self.national.outputs
            and not self.national.outputs[name].custodial_withheld
        ]
        if not hidden:
            return
        shown = ", ".join(f"`{n}`" for n in hidden)
        for n, i in enumerate(self.kept_rules):
            raw = self.data["rules"][i]
            found = pack.definitions.get(f"local_rule_{n + 1}")
            if raw.get("group") is None or found is None or not found.expr.healthcare:
                continue
            self.problem(
                ("rules", i, "when"),
                "W-LOCAL-HEALTHCARE",
                f"local rule `{raw.get('id')}` reads healthcare-only facts, so group "
                f"`{raw['group']}` and the national outputs reading it ({shown}) become "
                "healthcare-only: custodial staff no longer see them",
                "decide local group members from facts custodial staff may see (a releasable "
                "output of the national pack among them)",
            )

    def check_bounds(self, pack: M.Pack) -> None:
        """Local parameter values against their national bounds (`at_least`)."""
        declared = self.local.get("parameters") or {}
        start = self.data["effective_from"]
        for name in self.data.get("parameters") or {}:
            if not (declared.get(name) or {}).get("at_least"):
                continue
            national = self.national.parameters[name].at(start)
            local = pack.parameters[name].values[0]
            if national is None:
                continue
            try:
                below = local.value < national.value
            except TypeError:
                below = True
            if below:
                self.problem(
                    ("parameters", name, "value"),
                    "E-LOCAL-BOUND",
                    f"`{local.text}` is below the national `{national.text}`: parameter "
                    f"`{name}` may only be raised locally (set by "
                    f"{_cite_text((declared.get(name) or {}).get('cite'))})",
                    f"use `{national.text}` or more, in the same unit",
                )


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
