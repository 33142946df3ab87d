"""The national pack page's section on what a local plan may vary, read from the pack's `local:`
block (engine/packs/local_declarations.py reads and checks the same block; docs/pack-format.md
says what each key means). Everything shown is the pack's own text or the engine's generic
words for a key: bodies by name, options by title, each item linked to what it bears on."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from engine.language.runtime import Months
from engine.packs import model as M
from engine.packs.local_declarations import AUTONOMY_MEANING, SHARED_KINDS
from engine.packs.task_graph import natural_key
from engine.tools import docs_site as D

TITLE = "What a local plan may vary"
ANCHOR = "local"
# each kind of item: its section of the block, its anchor prefix, its name in a sentence
KINDS = {
    "choices": ("local-choice", "choice"),
    "tasks": ("local-task", "task"),
    "parameters": ("local-param", "parameter"),
    "groups": ("local-group", "group"),
    "conditions": ("local-cond", "condition"),
}


def item_anchor(section: str, name: Any) -> str:
    """The row of one item of the block's `section` on the pack page."""
    return D.anchor(KINDS[section][0], name)


def _words(value: Any) -> str:
    return " ".join(str(value).split())


def _cites(raw: Any) -> tuple[M.Citation, ...]:
    items = raw if isinstance(raw, list | tuple) else [raw] if raw else []
    return tuple(M.Citation.from_raw(c) for c in items if isinstance(c, Mapping))


def _ids(raw: Any) -> list[str]:
    return [str(i) for i in raw or ()]


def _sentence(value: str) -> str:
    return value[:1].upper() + value[1:]


def _the(name: str) -> str:
    """A body's name after a preposition: `the Prison Group Director`."""
    return name if name.lower().startswith("the ") else "the " + name


def autonomy_words(autonomy: str) -> str:
    """An autonomy level in words: `Total autonomy: the establishment designs ...`."""
    meaning = AUTONOMY_MEANING.get(autonomy)
    return f"{_sentence(autonomy)} autonomy: {meaning}." if meaning else f"{autonomy} autonomy."


def _item_interpretations(item: Mapping[str, Any]) -> list[str]:
    """The interpretations an item names, its `shared:` declaration's among them."""
    ids = _ids(item.get("interpretations"))
    shared = item.get("shared")
    if isinstance(shared, Mapping):
        ids += [i for i in _ids(shared.get("interpretations")) if i not in ids]
    return ids


def local_reliers(pack: M.Pack) -> Iterator[tuple[list[str], D.Inline]]:
    """Each interpretation list in the `local:` block, with a link to where the section shows
    it: what the page's interpretations say relies on them."""
    local = pack.local
    if not local:
        return
    yield _ids(local.get("interpretations")), D.link(TITLE.lower(), "#" + ANCHOR)
    for section, (_, kind) in KINDS.items():
        for name, item in (local.get(section) or {}).items():
            if isinstance(item, Mapping):
                label = D.join(
                    (
                        D.text(f"local plan {kind} "),
                        D.link(str(name), "#" + item_anchor(section, name), as_code=True),
                    ),
                    (),
                )
                yield _item_interpretations(item), label


# the columns after its name of a table of entries that choose among options (choices, tasks)
OPTION_COLUMNS = ("A plan may", "Options", "Decisions that cite the plan")


class LocalSection:
    """Builds the blocks of the section for one pack with a `local:` block; `site` holds the
    other packs the site shows, for links to the items declared the same as this pack's."""

    def __init__(self, pack: M.Pack, site: Mapping[str, M.Pack]):
        self.pack = pack
        self.local: Mapping[str, Any] = pack.local or {}
        self.site = site
        self.bodies: Mapping[str, Any] = self.local.get("bodies") or {}
        self.parts: Mapping[str, Any] = self.local.get("parts") or {}
        self.always = _ids(self.local.get("parts_always"))
        self.blocks: list[D.Block] = []

    # -- links and cells -------------------------------------------------------------------

    def rule(self, rid: str) -> D.Inline:
        if self.pack.rule(rid) is None:
            return D.code(rid)
        return D.link(rid, "#" + D.anchor("rule", rid))

    def rules(self, ids: Iterable[str]) -> D.Inline:
        shown = [self.rule(r) for r in ids]
        return D.join(shown) if shown else D.DASH

    def body(self, bid: str) -> str:
        found = self.bodies.get(bid)
        return _words(found.get("name")) if isinstance(found, Mapping) else bid

    def signers(self, pid: str) -> str:
        """Who signs off part `pid`, in words."""
        part = self.parts.get(pid) or {}
        names = [self.body(b) for b in _ids(part.get("signoff"))]
        said = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
        if part.get("via") is not None:
            said += f", submitted through {_the(self.body(str(part['via'])))}"
        return said

    def signoff(self, item: Mapping[str, Any]) -> D.Inline:
        """The bodies that sign off the parts an item belongs to, each linked to its part."""
        parts = list(dict.fromkeys([*self.always, *_ids(item.get("parts"))]))
        shown = [D.link(self.signers(p), "#" + D.anchor("local-part", p)) for p in parts]
        return D.join(shown, D.BR) if shown else D.DASH

    def options(self, item: Mapping[str, Any]) -> D.Inline:
        """Each declared option: its id, its title and where it comes from."""
        shown = []
        for option in item.get("options") or ():
            line = D.join(
                (D.code(str(option.get("id"))), D.text(" " + _words(option["title"]))), ()
            )
            found = _cites(option.get("cite"))
            if found:
                line = D.join((line, D.text(" — " + "; ".join(c.text() for c in found))), ())
            shown.append(line)
        return D.join(shown, D.BR) if shown else D.DASH

    def heading(self, title: str, anchor: str) -> None:
        self.blocks.append(D.Heading(3, D.text(title), anchor))

    def closing(self, item: Mapping[str, Any], cites: Any = None) -> tuple[D.Inline, ...]:
        """The cells every kind of entry ends its row with: sign-off, interpretations, source
        (`cites` where the entry's own citations may be missing and something else stands)."""
        return (
            self.signoff(item),
            D.interp_links(_item_interpretations(item)),
            D.cites(cites if cites is not None else _cites(item.get("cite"))),
        )

    def table(
        self,
        title: str,
        anchor: str,
        head: tuple[str, ...],
        rows: list[tuple[D.Inline, ...]],
        ids: list[str],
        main: int | None = None,
        intro: str | None = None,
    ) -> None:
        """A subsection: its heading, a line of its own where given, and its table, whose last
        columns are those `closing` fills."""
        self.heading(title, anchor)
        if intro is not None:
            self.blocks.append(D.Para(D.text(intro)))
        head = (*head, "Signed off by", "Interpretations", "Source")
        self.blocks.append(D.DocTable(head, tuple(rows), tuple(ids), main=main))

    # -- the section -----------------------------------------------------------------------

    def build(self) -> list[D.Block]:
        local = self.local
        self.blocks.append(D.Heading(2, D.text(TITLE), ANCHOR))
        if local.get("description"):
            self.blocks.append(D.Para(D.text(_words(local["description"]))))
        self.blocks.append(
            D.Facts(
                (
                    ("Source", D.cites(_cites(local.get("cite")))),
                    ("Interpretations", D.interp_links(_ids(local.get("interpretations")))),
                )
            )
        )
        if local.get("choices"):
            self.choices()
        if local.get("tasks") or self.open_tasks():
            self.tasks()
        if local.get("parameters"):
            self.parameters()
        if local.get("groups"):
            self.groups()
        if local.get("conditions"):
            self.conditions()
        if local.get("add_rules") is not None:
            self.add_rules()
        if self.parts or self.bodies:
            self.signoffs()
        return self.blocks

    def choices(self) -> None:
        rows, ids = [], []
        for cid, item in self.local["choices"].items():
            may = autonomy_words(str(item.get("autonomy")))
            if item.get("fact"):
                what = D.join(
                    (
                        D.text(may + " The option chosen fills the fact "),
                        D.code(item["fact"]),
                        D.text("."),
                    ),
                    (),
                )
            else:
                what = D.text(may)
            rows.append(
                (
                    D.join((D.strong(_words(item.get("title", cid))), D.BR, D.code(str(cid))), ()),
                    what,
                    self.options(item),
                    self.rules(_ids(item.get("rules"))),
                    *self.closing(item),
                )
            )
            ids.append(item_anchor("choices", cid))
        self.table(
            "Choices",
            "local-choices",
            ("Choice", *OPTION_COLUMNS),
            rows,
            ids,
            main=2,
        )

    def open_tasks(self) -> list[str]:
        """Tasks the block leaves out that a plan may still vary: those of total autonomy (a
        partial one without declared options is warned about by `regime check`)."""
        declared = self.local.get("tasks") or {}
        return [
            tid
            for tid, t in self.pack.tasks.items()
            if tid not in declared and t.autonomy in ("total", "partial")
        ]

    def tasks(self) -> None:
        declared: Mapping[str, Any] = self.local.get("tasks") or {}
        rows, ids = [], []
        every = [*declared, *self.open_tasks()]
        for tid in sorted(every, key=natural_key):
            item = declared.get(tid) or {}
            task = self.pack.tasks.get(tid)
            autonomy = (task.autonomy if task else None) or "limited"
            what: list[D.Inline] = [D.text(autonomy_words(autonomy))]
            for name, param in (item.get("parameters") or {}).items():
                what.append(
                    D.join(
                        (
                            D.text("It records "),
                            D.code(str(name)),
                            D.text(": " + _words(param.get("description", ""))),
                        ),
                        (),
                    )
                )
                found = _cites(param.get("cite"))
                if found:
                    what.append(D.text("— " + "; ".join(c.text() for c in found)))
            title = _words(task.title) if task else ""
            rows.append(
                (
                    D.join((D.link(tid, "#" + D.anchor("task", tid)), D.BR, D.text(title)), ())
                    if task
                    else D.code(tid),
                    D.join(what, D.BR),
                    self.options(item),
                    self.rules(_ids(item.get("rules"))),
                    *self.closing(item, _cites(item.get("cite")) or (task.cites if task else ())),
                )
            )
            ids.append(item_anchor("tasks", tid))
        self.table(
            "Tasks",
            "local-tasks",
            ("Task", *OPTION_COLUMNS),
            rows,
            ids,
            main=2,
            intro=(
                "A task's autonomy is its own (see the task list); a task not listed here "
                "is delivered as stipulated."
            ),
        )

    def shared(self, section: str, name: str, item: Mapping[str, Any]) -> D.Inline:
        """The items of other packs this one is declared the same as, either way round."""
        kind = SHARED_KINDS[section]
        agree = D.text(": an establishment's plans of the two packs must agree on it")
        shown: list[D.Inline] = []
        declared = item.get("shared")
        if isinstance(declared, Mapping):
            pid, other = str(declared.get("pack")), str(declared.get(kind))
            line = D.join(
                (
                    D.text(f"The same as {kind} "),
                    self.other_item(section, pid, other),
                    D.text(" of "),
                    self.other_pack(pid),
                    agree,
                ),
                (),
            )
            found = _cites(declared.get("cite"))
            if found:
                line = D.join((line, D.text(" — " + "; ".join(c.text() for c in found))), ())
            shown.append(line)
        for pid in sorted(self.site):
            for s in self.site[pid].shared:
                if s.pack == self.pack.id and s.other == name and s.kind == kind:
                    shown.append(
                        D.join(
                            (
                                self.other_pack(pid),
                                D.text(f" declares its {kind} "),
                                self.other_item(section, pid, s.name),
                                D.text(" the same as this one"),
                                agree,
                            ),
                            (),
                        )
                    )
        return D.join(shown, D.BR) if shown else D.DASH

    def other_pack(self, pid: str) -> D.Inline:
        """Another pack, linked to its page when the site shows it."""
        if pid not in self.site or pid == self.pack.id:
            return D.code(pid)
        return D.link(pid, f"{pid}.html", as_code=True)

    def other_item(self, section: str, pid: str, name: str) -> D.Inline:
        """Another pack's item, linked to its row when the site shows that pack."""
        if pid not in self.site or pid == self.pack.id:
            return D.code(name)
        return D.link(name, f"{pid}.html#{item_anchor(section, name)}", as_code=True)

    def national(self, name: str) -> D.Inline:
        """A parameter's national values, each with the dates it is in force."""
        param = self.pack.parameters.get(name)
        if param is None:
            return D.DASH
        return D.join(
            (
                D.join((D.code(v.text), D.text(f" ({D.in_force(v.start, v.end)})")), ())
                for v in param.values
            ),
            D.BR,
        )

    def bound(self, name: str, item: Mapping[str, Any]) -> str:
        """What a plan may do to a parameter, in words from its key and its values' type."""
        if not item.get("at_least"):
            return "Set its own value in place of the national one."
        param = self.pack.parameters.get(name)
        values = [v.value for v in param.values] if param else []
        if values and all(isinstance(v, dt.timedelta | Months) for v in values):
            return "Lengthen it, not shorten it: never below the national value."
        if values and all(isinstance(v, dt.date) for v in values):
            return "Set a later date, not an earlier one: never before the national value."
        return "Raise it, not lower it: never below the national value."

    def parameters(self) -> None:
        rows, ids = [], []
        for name, item in self.local["parameters"].items():
            name = str(name)
            param = self.pack.parameters.get(name)
            rows.append(
                (
                    D.link(name, "#" + D.anchor("param", name), as_code=True)
                    if param
                    else D.code(name),
                    D.text(self.bound(name, item)),
                    self.national(name),
                    self.shared("parameters", name, item),
                    *self.closing(item),
                )
            )
            ids.append(item_anchor("parameters", name))
        self.table(
            "Parameters",
            "local-parameters",
            (
                "Parameter",
                "A plan may",
                "National value",
                "Shared with",
            ),
            rows,
            ids,
        )

    def groups(self) -> None:
        rows, ids = [], []
        for name, item in self.local["groups"].items():
            name = str(name)
            said = "Add members by rules of its own, each an alternative to the national ones"
            if item.get("agreement") is not None:
                said += f", each with the agreement of {_the(self.body(str(item['agreement'])))}"
            what: list[D.Inline] = [D.text(said + ".")]
            if item.get("value") is not None:
                what.append(
                    D.join((D.text("Outputs show its members as "), D.code(str(item["value"]))), ())
                )
            label = (
                D.link(name, "#" + D.anchor("def", name), as_code=True)
                if name in self.pack.definitions
                else D.code(name)
            )
            rows.append(
                (
                    D.join((D.strong(_words(item.get("title", name))), D.BR, label), ()),
                    D.join(what, D.BR),
                    self.shared("groups", name, item),
                    *self.closing(item),
                )
            )
            ids.append(item_anchor("groups", name))
        self.table(
            "Groups",
            "local-groups",
            (
                "Group",
                "A plan may",
                "Shared with",
            ),
            rows,
            ids,
        )

    def readers(self, name: str) -> list[str]:
        """The rules that read definition `name`, directly or through others."""
        key = M.ItemKey("def", name)
        return [
            str(r.id)
            for r in self.pack.rules
            if key in self.pack.closure([M.ItemKey("rule", r.id)])
        ]

    def conditions(self) -> None:
        rows, ids = [], []
        for name, item in self.local["conditions"].items():
            name = str(name)
            if self.pack.rule(name) is not None:
                label = self.rule(name)
                what = "Narrow when the rule applies: the national condition and more, never less."
                bears = [name]
            else:
                label = (
                    D.link(name, "#" + D.anchor("def", name), as_code=True)
                    if name in self.pack.definitions
                    else D.code(name)
                )
                what = "Narrow the definition: the national condition and more, never less."
                bears = _ids(item.get("rules")) or self.readers(name)
            rows.append(
                (
                    label,
                    D.text(what),
                    self.rules(bears),
                    *self.closing(item),
                )
            )
            ids.append(item_anchor("conditions", name))
        self.table(
            "Conditions a plan may narrow",
            "local-conditions",
            (
                "Rule or definition",
                "A plan may",
                "Decisions that cite the plan",
            ),
            rows,
            ids,
        )

    def add_rules(self) -> None:
        item = self.local.get("add_rules") or {}
        self.heading("Rules of the plan's own", "local-add-rules")
        said = "Add obligations of its own"
        if self.local.get("groups"):
            said += ", and members of the groups above (outputs change only through those)"
        self.blocks.append(
            D.Facts(
                (
                    ("A plan may", D.text(said + ".")),
                    ("Signed off by", self.signoff(item)),
                    ("Source", D.cites(_cites(item.get("cite")))),
                )
            )
        )

    def signoffs(self) -> None:
        self.heading("Sign-off", "local-signoff")
        needs: dict[str, list[D.Inline]] = {p: [] for p in self.parts}
        for section, (_, kind) in KINDS.items():
            items: Mapping[str, Any] = self.local.get(section) or {}
            for name in sorted(items, key=natural_key) if section == "tasks" else items:
                for p in _ids(items[name].get("parts")):
                    needs.setdefault(p, []).append(
                        D.join(
                            (
                                D.text(kind + " "),
                                D.link(str(name), "#" + item_anchor(section, name), True),
                            ),
                            (),
                        )
                    )
        for p in _ids((self.local.get("add_rules") or {}).get("parts")):
            needs.setdefault(p, []).append(D.link("rules of the plan's own", "#local-add-rules"))
        rows, ids = [], []
        for pid, part in self.parts.items():
            needed = (
                D.text("every variation")
                if pid in self.always
                else D.join(needs.get(pid) or (), D.BR) or D.DASH
            )
            rows.append(
                (
                    D.text(_words(part.get("title", pid))),
                    D.text(self.signers(pid)),
                    needed,
                    D.cites(_cites(part.get("cite"))),
                )
            )
            ids.append(D.anchor("local-part", pid))
        self.blocks += [
            D.Para(
                D.text(
                    "Each part of a plan is signed off by every body named; a variation belongs "
                    "to the parts listed for it above."
                )
            ),
            D.DocTable(("Part", "Signed off by", "Needed for", "Source"), tuple(rows), tuple(ids)),
        ]
        if self.bodies:
            self.blocks.append(
                D.DocTable(
                    ("Body", "Source"),
                    tuple(
                        (D.text(self.body(str(b))), D.cites(_cites(v.get("cite"))))
                        for b, v in self.bodies.items()
                    ),
                    tuple(D.anchor("local-body", b) for b in self.bodies),
                )
            )


def local_section(pack: M.Pack, site: Mapping[str, M.Pack] | None = None) -> list[D.Block]:
    """The section's blocks, or none for a pack without a `local:` block."""
    if not pack.local:
        return []
    return LocalSection(pack, site or {}).build()
