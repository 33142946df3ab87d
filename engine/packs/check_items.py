"""Building, stage `check`: each item, in dependency order, type-checked against the names
visible to it, then compiled. The scope grows as items are checked: a definition's or output's
type is known to everything after it, which is why `order` runs first.

Need-to-know is decided here too: an item is healthcare-only when any expression it reads is,
through any chain of definitions; a `releasable` output is the one way back (its readers see it
unmarked). An item with an error is left out of the model and read as `any` by later items, so
a mistake is reported once, where it is made."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from engine.language import static_types as T
from engine.language.check import Symbol
from engine.packs import model as M
from engine.packs.build_context import (
    PackBuild,
    PackScope,
    Parsed,
    Path_,
    choice,
    opt_str,
)
from engine.problems import did_you_mean


def check_items(
    b: PackBuild, order: list[M.ItemKey], scope: PackScope, healthcare: set[str]
) -> tuple[dict[str, M.Definition], dict[str, M.Output], dict[str, M.Table], list[M.Rule]]:
    d = b.data
    definitions: dict[str, M.Definition] = {}
    outputs: dict[str, M.Output] = {}
    tables: dict[str, M.Table] = {}
    rules: dict[str, M.Rule] = {}
    rule_index = {str(r.get("id")): i for i, r in enumerate(d.get("rules") or [])}

    def parsed_of(key: M.ItemKey) -> dict[tuple[Any, ...], Parsed]:
        return {p.path: p for p in b.parsed.get(key, [])}

    for key in order:
        kind, name = key
        ps = parsed_of(key)
        if kind == "def":
            item = d["definitions"][name]
            long = isinstance(item, dict)
            path = ("definitions", name, "expr") if long else ("definitions", name)
            expr = b.expression(ps[path], scope) if path in ps else None
            if expr is None:
                scope.symbols[name] = Symbol("definition", T.ANY, True)
                continue
            hc = expr.healthcare
            if hc:
                healthcare.add(name)
            scope.symbols[name] = Symbol(
                "definition", expr.checked.type, expr.checked.nullable, hc, expr.checked.path
            )
            definitions[name] = M.Definition(
                name=name,
                expr=expr,
                description=opt_str(item.get("description")) if long else None,
                cites=b.cites(("definitions", name, "cite")) if long else (),
                interpretations=tuple(item.get("interpretations") or ()) if long else (),
            )
        elif kind == "table":
            table = build_table(b, name, ps, scope)
            if table is not None:
                tables[name] = table
        elif kind == "rule":
            i = rule_index[name]
            rule = build_rule(b, i, ps, scope)
            if rule is not None:
                rules[name] = rule
        elif kind == "out":
            output = build_output(b, name, ps, scope, tables, rules)
            if output is None:
                scope.symbols[name] = Symbol("output", T.ANY, True)
                continue
            outputs[name] = output
            if output.healthcare:
                healthcare.add(name)
    # keep the pack's own order for rules and outputs
    ordered_rules = [
        rules[str(r.get("id"))] for r in d.get("rules") or [] if str(r.get("id")) in rules
    ]
    ordered_outputs = {n: outputs[n] for n in d.get("outputs") or {} if n in outputs}
    ordered_defs = {n: definitions[n] for n in d.get("definitions") or {} if n in definitions}
    return ordered_defs, ordered_outputs, tables, ordered_rules


def _named_expressions(
    b: PackBuild, names: Iterable[str], at: Path_, ps: dict[Path_, Parsed], scope: PackScope
) -> tuple[list[tuple[str, M.Expression]], bool, bool]:
    """Each named expression at `at` compiled, in order: those that compiled, whether all did,
    and whether any reads healthcare-only facts."""
    out: list[tuple[str, M.Expression]] = []
    ok = True
    hc = False
    for name in names:
        expr = b.expression(ps[(*at, name)], scope)
        if expr is None:
            ok = False
            continue
        hc = hc or expr.healthcare
        out.append((name, expr))
    return out, ok, hc


def build_table(
    b: PackBuild, tid: str, ps: dict[Path_, Parsed], scope: PackScope
) -> M.Table | None:
    raw = b.data["tables"][tid]
    inputs, ok, hc = _named_expressions(
        b, raw.get("inputs") or {}, ("tables", tid, "inputs"), ps, scope
    )
    input_types: dict[str, T.Type] = {iname: expr.checked.type for iname, expr in inputs}
    rows: list[M.TableRow] = []
    for j, row in enumerate(raw.get("rows") or []):
        cells: list[tuple[str, frozenset[Any] | None]] = []
        for iname, cell in (row.get("when") or {}).items():
            path = ("tables", tid, "rows", j, "when", iname)
            if iname not in input_types and iname not in dict(raw.get("inputs") or {}):
                b.problem(
                    path,
                    "E-REF",
                    f"table `{tid}` has no input `{iname}`",
                    did_you_mean(iname, raw.get("inputs") or {}),
                    key=True,
                )
                ok = False
                continue
            if cell is None or cell == "-":
                cells.append((iname, None))
                continue
            values = cell if isinstance(cell, list) else [cell]
            want = input_types.get(iname)
            for v in values:
                vt = T.type_of_value(v)
                if want is not None and not T.compatible(want, vt):
                    b.problem(
                        path,
                        "E-TYPE",
                        f"`{_quoted(v)}` is {T.article(vt)} but input `{iname}` is "
                        f"{T.article(want)}",
                        _cell_hint(v, iname),
                    )
                    ok = False
                elif want is not None and want.values is not None and v not in want.values:
                    b.problem(
                        path,
                        "E-ENUM",
                        f"`{v}` is not a value of input `{iname}`",
                        "use one of " + ", ".join(f"`{x}`" for x in sorted(want.values, key=str)),
                    )
                    ok = False
            cells.append((iname, frozenset(values)))
        then, then_ok, then_hc = _named_expressions(
            b, row.get("then") or {}, ("tables", tid, "rows", j, "then"), ps, scope
        )
        ok = ok and then_ok
        hc = hc or then_hc
        rows.append(
            M.TableRow(
                id=str(row.get("id", j + 1)),
                cells=tuple(cells),
                then=tuple(then),
                cites=b.cites(("tables", tid, "rows", j, "cite")),
                interpretations=tuple(row.get("interpretations") or ()),
                line=b.doc.span(("tables", tid, "rows", j)).line,
            )
        )
    if not ok:
        return None
    return M.Table(
        id=tid,
        title=opt_str(raw.get("title")),
        hit=choice(raw.get("hit", "unique"), M.HitPolicy),
        inputs=tuple(inputs),
        rows=tuple(rows),
        cites=b.cites(("tables", tid, "cite")),
        healthcare=hc,
    )


def build_rule(b: PackBuild, i: int, ps: dict[Path_, Parsed], scope: PackScope) -> M.Rule | None:
    raw = b.data["rules"][i]
    rid = str(raw.get("id"))
    ok = True
    when = None
    if ("rules", i, "when") in ps:
        when = b.expression(ps[("rules", i, "when")], scope, "bool")
        ok = when is not None
    sets, sets_ok, sets_hc = _named_expressions(
        b, raw.get("sets") or {}, ("rules", i, "sets"), ps, scope
    )
    ok = ok and sets_ok
    hc = bool(when and when.healthcare) or sets_hc
    obligation = None
    ob = raw.get("obligation")
    if ob:
        due = freq = None
        if ("rules", i, "obligation", "due") in ps:
            due = b.expression(ps[("rules", i, "obligation", "due")], scope, "date")
            ok = ok and due is not None
        if ("rules", i, "obligation", "frequency") in ps:
            freq = b.expression(ps[("rules", i, "obligation", "frequency")], scope, "frequency")
            ok = ok and freq is not None
        hc = hc or bool(due and due.healthcare) or bool(freq and freq.healthcare)
        obligation = M.Obligation(
            modality=choice(ob.get("modality", "must"), M.Modality),
            text=str(ob.get("text", "")),
            who=opt_str(ob.get("who")),
            due=due,
            frequency=freq,
            records=tuple(dict(r) for r in ob.get("record") or ()),
            releasable=bool(ob.get("releasable", False)),
        )
        leaky = [
            part
            for part, e in (("due", due), ("frequency", freq))
            if e is not None and e.healthcare
        ]
        if obligation.releasable and leaky:
            b.problem(
                ("rules", i, "obligation", leaky[0]),
                "E-RELEASE-DETAIL",
                f"rule `{rid}` releases its obligation, but its {leaky[0]} is worked out "
                "from healthcare-only facts, which would reach custodial staff",
                "work it out in an output marked `releasable` and use that output here",
            )
            ok = False
        if obligation.releasable and not hc:
            b.problem(
                ("rules", i, "obligation", "releasable"),
                "W-RELEASABLE",
                f"rule `{rid}` is marked releasable but reads no healthcare-only fact",
                "remove `releasable`",
            )
    if not ok:
        return None
    return M.Rule(
        id=rid,
        title=str(raw.get("title", "")),
        when=when,
        versions=tuple(str(v) for v in raw.get("versions") or ()),
        sets=tuple(sets),
        obligation=obligation,
        cites=b.cites(("rules", i, "cite")),
        interpretations=tuple(raw.get("interpretations") or ()),
        line=b.doc.span(("rules", i)).line,
        healthcare=hc,
    )


def build_output(
    b: PackBuild,
    name: str,
    ps: dict[Path_, Parsed],
    scope: PackScope,
    tables: dict[str, M.Table],
    rules: dict[str, M.Rule],
) -> M.Output | None:
    raw = b.data["outputs"][name]
    expr = default = None
    hc = False
    t: T.Type = T.NULL
    nullable = False
    mode: M.OutputMode = "value" if "value" in raw else "rules" if "from_rules" in raw else "table"
    if ("outputs", name, "default") in ps:
        default = b.expression(ps[("outputs", name, "default")], scope)
        if default is None:
            return None
        t = default.checked.type
        hc = default.healthcare
    if mode == "value":
        expr = b.expression(ps[("outputs", name, "value")], scope)
        if expr is None:
            return None
        t, nullable = expr.checked.type, expr.checked.nullable
        hc = hc or expr.healthcare
    elif mode == "rules":
        default_type, t = t, T.NULL
        combine = str(raw["from_rules"])
        setters = [r for r in rules.values() if any(o == name for o, _ in r.sets)]
        if not setters and not any(
            name in (r.get("sets") or {}) for r in b.data.get("rules") or []
        ):
            b.problem(
                ("outputs", name, "from_rules"),
                "W-NO-RULES",
                f"no rule sets output `{name}`",
                f"add `sets: {{{name}: ...}}` to the rules that decide it",
            )
        for r in setters:
            hc = hc or r.healthcare
            nullable = nullable or bool(r.when and r.when.checked.nullable)
            for o, e in r.sets:
                if o == name:
                    joined = T.join(t, e.checked.type)
                    if joined is None:
                        b.problem(
                            ("outputs", name),
                            "E-TYPE",
                            f"rules set output `{name}` to values of different "
                            f"types ({t.describe()}, {e.checked.type.describe()})",
                            key=True,
                        )
                        return None
                    t = joined
        if combine == "collect":
            t = T.list_of(t)
        elif combine == "any":
            t = T.BOOL
        joined = T.join(t, default_type)
        if joined is None:
            b.problem(
                ("outputs", name, "default"),
                "E-TYPE",
                f"the default of output `{name}` is {T.article(default_type)} but "
                f"its rules give {T.article(t)}",
            )
            return None
        t = joined
    else:
        tid = str(raw["from_table"])
        table = tables.get(tid)
        if table is None:
            if tid not in (b.data.get("tables") or {}):
                b.problem(
                    ("outputs", name, "from_table"),
                    "E-REF",
                    f"no table `{tid}`",
                    did_you_mean(tid, b.data.get("tables") or {}),
                )
            return None
        if name not in table.columns():
            b.problem(
                ("outputs", name, "from_table"),
                "E-REF",
                f"table `{tid}` has no column `{name}`",
                did_you_mean(name, table.columns()),
            )
            return None
        hc = hc or table.healthcare
        nullable = True
        for row in table.rows:
            for col, e in row.then:
                if col == name:
                    t = T.join(t, e.checked.type) or T.ANY
        if table.hit == "collect":
            t = T.list_of(t)
    releasable = bool(raw.get("releasable", False))
    if releasable and not hc:
        b.problem(
            ("outputs", name, "releasable"),
            "W-RELEASABLE",
            f"output `{name}` is marked releasable but reads no healthcare-only fact",
            "remove `releasable`",
        )
    # a releasable output is declassified: what reads it is not healthcare-only
    scope.symbols[name] = Symbol(
        "output",
        t.unmarked() if releasable else t,
        nullable or mode != "value",
        hc and not releasable,
    )
    vocab = raw.get("vocabulary")  # one vocabulary's id, or record field -> vocabulary id
    return M.Output(
        name=name,
        description=opt_str(raw.get("description")),
        mode=mode,
        expr=expr,
        combine=choice(raw["from_rules"], M.Combine) if mode == "rules" else None,
        table=opt_str(raw.get("from_table")),
        default=default,
        releasable=releasable,
        withheld_reason=str(raw.get("withheld_reason") or "reasons withheld"),
        cites=b.cites(("outputs", name, "cite")),
        interpretations=tuple(raw.get("interpretations") or ()),
        healthcare=hc,
        vocabulary=None if isinstance(vocab, dict) else opt_str(vocab),
        field_vocabularies=tuple((str(k), str(v)) for k, v in vocab.items())
        if isinstance(vocab, dict)
        else (),
    )


def _quoted(value: Any) -> str:
    """A cell's value as written: text with its quotes (`"4"`, not `4`, beside an integer)."""
    return f'"{value}"' if isinstance(value, str) else str(value)


_COMPARISON = re.compile(r"^\s*(<=|>=|<|>|==|!=|not\b|in\b)")


def _cell_hint(value: Any, input_name: str) -> str | None:
    """What to write in a table cell that has the wrong type: a number in quotes without them;
    a comparison (`">= 4"`), which a cell cannot hold, as a condition made an input."""
    if isinstance(value, str) and _COMPARISON.match(value):
        return (
            "a cell holds a value or a list of values, not a comparison: list the values "
            f"(`[3, 4]`), or make the comparison an input (`{input_name}_high: ... >= 4`) "
            "and give its cell `true`"
        )
    if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value.strip()):
        return f"write it without quotes: `{value.strip()}`"
    return None
