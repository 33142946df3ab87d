"""Building: a validated pack document to a checked, compiled Pack, reporting every problem."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import networkx as nx

from engine.language import static_types as T
from engine.language import syntax as A
from engine.language.check import Symbol, check
from engine.language.codegen import compile_checked
from engine.language.parse import ExprError, parse
from engine.packs import model as M
from engine.packs import task_graph
from engine.packs.facts_schema import root_types
from engine.packs.read_yaml import Document
from engine.problems import Code, Problem, did_you_mean, problem

Path_ = tuple[Any, ...]


class PackScope:
    """Names visible to a pack's expressions, filled in as items are checked in order."""

    def __init__(self, roots: dict[str, T.Type], version_ids: list[str]):
        self.symbols: dict[str, Symbol] = {
            root: Symbol("root", t, True) for root, t in roots.items()
        }
        self.symbols["as_of"] = Symbol("as_of", T.DATE, False)
        self.symbols["version"] = Symbol(
            "version", T.enum_of("string", version_ids, "version"), False
        )

    def lookup(self, name: str) -> Symbol | None:
        return self.symbols.get(name)

    def names(self) -> Iterable[str]:
        return self.symbols.keys()


class _Parsed:
    """An expression parsed but not yet checked."""

    def __init__(self, text: str, path: Path_, where: str, node: A.Node | None):
        self.text = text
        self.path = path
        self.where = where
        self.node = node


def _as_text(value: Any) -> str | None:
    """The expression text of a YAML value, or None when it is a literal."""
    return value if isinstance(value, str) else None


def _literal_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal | int):
        return str(value)
    return str(value)


class Builder:
    """One pack document through the stages after schema validation."""

    def __init__(
        self, doc: Document, content: bytes, imported: dict[str, M.Vocabulary] | None = None
    ):
        self.doc = doc
        self.data: dict[str, Any] = doc.data
        self.file = doc.file
        self.content = content
        self.problems: list[Problem] = []
        self.roots = root_types(str(self.data.get("facts") or "facts"))
        self.parsed: dict[str, list[_Parsed]] = {}
        self.exprs: dict[int, M.Expression] = {}
        self.in_cycles: set[str] = set()
        self.imported = imported or {}

    # -- reporting ---------------------------------------------------------------------------

    def problem(
        self, path: Path_, code: Code, message: str, hint: str | None = None, key: bool = False
    ) -> None:
        """A problem at the value (or, with `key`, the key) at `path` in the pack file."""
        span = self.doc.key_span(path) if key else self.doc.span(path)
        end = (span.end_line, span.end_col) if span.end_line and span.end_col else None
        self.problems.append(problem(code, self.file, span.line, span.col, message, hint, end))

    def expr_problem(self, parsed: _Parsed, err: ExprError) -> None:
        if isinstance(self.doc.data, dict) and isinstance(_get(self.doc.data, parsed.path), str):
            line, col = self.doc.locate(parsed.path, err.line, err.col)
            end = None
            if err.end_line is not None and err.end_col is not None:
                end = self.doc.locate(parsed.path, err.end_line, max(err.end_col - 1, 1))
        else:
            span = self.doc.span(parsed.path)
            line, col, end = span.line, span.col, None
        message = f"{err.message} (in {parsed.where})"
        to = (end[0], end[1] + 1) if end else None
        self.problems.append(problem(err.code, self.file, line, col, message, err.hint, to))

    # -- small readers ---------------------------------------------------------------------

    def cites(self, path: Path_) -> tuple[M.Citation, ...]:
        raw = _get(self.data, path)
        if raw is None:
            return ()
        items = raw if isinstance(raw, list) else [raw]
        paths = [(*path, i) for i in range(len(items))] if isinstance(raw, list) else [path]
        out = []
        for item, p in zip(items, paths, strict=True):
            if not isinstance(item, dict):
                continue
            span = self.doc.span(p)
            out.append(
                M.Citation(
                    section=_str(item.get("section")),
                    paragraph=_str(item.get("paragraph")),
                    table=_str(item.get("table")),
                    row=_str(item.get("row")),
                    document=_str(item.get("document")),
                    note=_str(item.get("note")),
                    line=span.line,
                    col=span.col,
                )
            )
        return tuple(out)

    def parse_at(self, key: str, path: Path_, where: str, value: Any = None) -> _Parsed:
        raw = _get(self.data, path) if value is None else value
        text = _as_text(raw)
        if text is None:
            text = _literal_text(raw)
            node: A.Node | None = None
            try:
                node = parse(text)
            except ExprError:
                node = None
            parsed = _Parsed(text, path, where, node)
        else:
            try:
                node = parse(text)
            except ExprError as err:
                parsed = _Parsed(text, path, where, None)
                self.expr_problem(parsed, err)
                node = None
            parsed = _Parsed(text, path, where, node)
        self.parsed.setdefault(key, []).append(parsed)
        return parsed

    # -- the stages ------------------------------------------------------------------------

    def build(self) -> M.Pack | None:
        data = self.data
        interpretations = self.interpretations()
        versions = self.versions()
        vocabulary = self.vocabulary()
        parameters = self.parameters()
        self.collect_expressions()
        order, deps = self.order_items(parameters, vocabulary)
        scope = PackScope(self.roots, [v.id for v in versions])
        for name, param in parameters.items():
            t: T.Type = T.NULL
            for pv in param.values:
                t = T.join(t, T.type_of_value(pv.value)) or T.ANY
            scope.symbols[name] = Symbol("parameter", t, False)
        for name, vocab in vocabulary.items():
            ids = [v.id for v in vocab.values]
            base = "int" if ids and all(isinstance(i, int) for i in ids) else "string"
            scope.symbols[name] = Symbol("vocabulary", T.list_of(T.enum_of(base, ids, name)), False)
        for name in self.in_cycles:  # already reported: read as `any` to avoid knock-on errors
            scope.symbols[name] = Symbol("definition", T.ANY, True)
        healthcare: set[str] = set()
        definitions, outputs, tables, rules = self.check_items(order, scope, healthcare)
        self.check_references(interpretations, versions, definitions, outputs, tables, rules)
        self.check_tables(tables)
        self.lint_unused(definitions, deps)
        graph = self.tasks()
        if any(p.is_error for p in self.problems):
            return None
        src = data.get("source") or {}
        return M.Pack(
            id=str(data["id"]),
            title=str(data.get("title", "")),
            version=str(data.get("version", "")),
            status=str(data.get("status", "")),
            summary=_str(data.get("summary")),
            source=M.Source(
                title=str(src.get("title", "")),
                publisher=_str(src.get("publisher")),
                file=_str(src.get("file")),
                published=src.get("published"),
                url=_str(src.get("url")),
            ),
            file=self.file,
            content_hash="sha256:" + hashlib.sha256(self.content).hexdigest(),
            versions=tuple(versions),
            vocabulary=vocabulary,
            parameters=parameters,
            definitions=definitions,
            outputs=outputs,
            rules=tuple(rules),
            tables=tables,
            interpretations=interpretations,
            tasks=dict(data.get("tasks") or {}),
            task_graph=graph,
            healthcare_names=frozenset(healthcare),
            dependencies={k: frozenset(v) for k, v in deps.items()},
            tests=tuple((data.get("tests") or {}).get("cases") or ()),
            data=data,
        )

    def interpretations(self) -> dict[str, M.Interpretation]:
        out: dict[str, M.Interpretation] = {}
        for i, item in enumerate(self.data.get("interpretations") or []):
            iid = str(item.get("id"))
            if iid in out:
                self.problem(
                    ("interpretations", i, "id"),
                    "E-DUP-ID",
                    f"interpretation `{iid}` is defined twice",
                )
            out[iid] = M.Interpretation(
                id=iid,
                kind=str(item.get("kind", "ambiguity")),
                question=str(item.get("question", "")),
                choice=str(item.get("choice", "")),
                why=str(item.get("why", "")),
                cites=self.cites(("interpretations", i, "cite")),
            )
        return out

    def versions(self) -> list[M.Version]:
        out: list[M.Version] = []
        for i, item in enumerate(self.data.get("versions") or []):
            v = M.Version(
                id=str(item.get("id")),
                title=str(item.get("title", item.get("id"))),
                effective_from=item.get("effective_from"),
                effective_to=item.get("effective_to"),
                changes=tuple(str(c) for c in item.get("changes") or ()),
                interpretations=tuple(item.get("interpretations") or ()),
                cites=self.cites(("versions", i, "cite")),
            )
            if v.effective_to is not None and v.effective_to < v.effective_from:
                self.problem(
                    ("versions", i, "effective_to"),
                    "E-VERSION-DATES",
                    f"version `{v.id}` ends before it begins",
                )
            for other in out:
                if other.id == v.id:
                    self.problem(
                        ("versions", i, "id"), "E-DUP-ID", f"version `{v.id}` is defined twice"
                    )
                elif _overlap(
                    other.effective_from, other.effective_to, v.effective_from, v.effective_to
                ):
                    self.problem(
                        ("versions", i, "effective_from"),
                        "E-VERSION-OVERLAP",
                        f"versions `{other.id}` and `{v.id}` are both in force on some dates",
                        "end the earlier version the day before the later one begins",
                    )
            out.append(v)
        return out

    def vocabulary(self) -> dict[str, M.Vocabulary]:
        out: dict[str, M.Vocabulary] = dict(self.imported)
        for name, item in (self.data.get("vocabulary") or {}).items():
            values = []
            seen: set[Any] = set()
            for j, v in enumerate(item.get("values") or []):
                vid = v.get("id")
                if vid in seen:
                    self.problem(
                        ("vocabulary", name, "values", j, "id"),
                        "E-DUP-ID",
                        f"`{vid}` appears twice in vocabulary `{name}`",
                    )
                seen.add(vid)
                extra = {
                    k: x for k, x in v.items() if k not in ("id", "name", "description", "cite")
                }
                values.append(
                    M.VocabValue(
                        id=vid,
                        name=_str(v.get("name")),
                        description=_str(v.get("description")),
                        extra=extra,
                        cites=self.cites(("vocabulary", name, "values", j, "cite")),
                    )
                )
            if name in self.imported:
                self.problem(
                    ("vocabulary", name),
                    "E-DUP-NAME",
                    f"vocabulary `{name}` is also imported",
                    key=True,
                )
            out[str(name)] = M.Vocabulary(str(name), _str(item.get("description")), tuple(values))
        return out

    def parameters(self) -> dict[str, M.Parameter]:
        out: dict[str, M.Parameter] = {}
        empty = PackScope({}, [])
        for name, item in (self.data.get("parameters") or {}).items():
            values: list[M.ParameterValue] = []
            for j, v in enumerate(item.get("values") or []):
                path = ("parameters", name, "values", j, "value")
                raw = v.get("value")
                value: Any = raw
                if isinstance(raw, str):
                    parsed = _Parsed(raw, path, f"parameter `{name}`", None)
                    try:
                        node = parse(raw)
                        checked = check(node, empty)
                        if checked.errors:
                            for err in checked.errors:
                                self.expr_problem(parsed, err)
                            continue
                        value = compile_checked(checked, f"parameter {name}").fn(
                            {"as_of": None, "version": None}, _no_names
                        )
                    except ExprError as err:
                        self.expr_problem(parsed, err)
                        continue
                start, end = v.get("from"), v.get("to")
                for other in values:
                    if _overlap(other.start, other.end, start, end):
                        self.problem(
                            ("parameters", name, "values", j),
                            "E-PARAM-OVERLAP",
                            f"two values of parameter `{name}` are in force on the same dates",
                            "end the earlier value the day before the next begins",
                        )
                values.append(
                    M.ParameterValue(
                        start=start,
                        end=end,
                        value=value,
                        text=_literal_text(raw),
                        cites=self.cites(("parameters", name, "values", j, "cite")),
                    )
                )
            out[str(name)] = M.Parameter(str(name), _str(item.get("description")), tuple(values))
        return out

    def collect_expressions(self) -> None:
        d = self.data
        for name, item in (d.get("definitions") or {}).items():
            if isinstance(item, dict):
                self.parse_at(f"def:{name}", ("definitions", name, "expr"), f"definition `{name}`")
            else:
                self.parse_at(f"def:{name}", ("definitions", name), f"definition `{name}`")
        for name, item in (d.get("outputs") or {}).items():
            if "value" in item:
                self.parse_at(f"out:{name}", ("outputs", name, "value"), f"output `{name}`")
            if "default" in item:
                self.parse_at(
                    f"out:{name}", ("outputs", name, "default"), f"output `{name}` default"
                )
        for tid, table in (d.get("tables") or {}).items():
            for iname in table.get("inputs") or {}:
                self.parse_at(
                    f"table:{tid}",
                    ("tables", tid, "inputs", iname),
                    f"table `{tid}` input `{iname}`",
                )
            for j, row in enumerate(table.get("rows") or []):
                for col in row.get("then") or {}:
                    self.parse_at(
                        f"table:{tid}",
                        ("tables", tid, "rows", j, "then", col),
                        f"table `{tid}` row {row.get('id', j + 1)} `{col}`",
                    )
        for i, rule in enumerate(d.get("rules") or []):
            rid = rule.get("id")
            key = f"rule:{rid}"
            if "when" in rule:
                self.parse_at(key, ("rules", i, "when"), f"rule `{rid}` when")
            for out in rule.get("sets") or {}:
                self.parse_at(key, ("rules", i, "sets", out), f"rule `{rid}` sets `{out}`")
            ob = rule.get("obligation") or {}
            for field in ("due", "frequency"):
                if field in ob:
                    self.parse_at(key, ("rules", i, "obligation", field), f"rule `{rid}` {field}")

    def order_items(
        self, parameters: dict[str, Any], vocabulary: dict[str, Any]
    ) -> tuple[list[str], dict[str, set[str]]]:
        """Items in an order where each comes after what it reads; cycles are problems."""
        d = self.data
        names: dict[str, str] = {}  # name -> item key
        for kind, section in (("def", "definitions"), ("out", "outputs")):
            for name in d.get(section) or {}:
                if (
                    name in names
                    or name in parameters
                    or name in vocabulary
                    or name in self.roots
                    or name in ("as_of", "version")
                ):
                    self.problem(
                        (section, name),
                        "E-DUP-NAME",
                        f"`{name}` is defined more than once (as a parameter, "
                        "vocabulary, definition, output or fact root)",
                        key=True,
                    )
                names[name] = f"{kind}:{name}"
        deps: dict[str, set[str]] = {}
        keys = [f"def:{n}" for n in d.get("definitions") or {}]
        keys += [f"table:{t}" for t in d.get("tables") or {}]
        keys += [f"rule:{r.get('id')}" for r in d.get("rules") or []]
        keys += [f"out:{n}" for n in d.get("outputs") or {}]
        for key in keys:
            deps[key] = set()
            for parsed in self.parsed.get(key, []):
                if parsed.node is None:
                    continue
                for n in A.free_names(parsed.node):
                    if n in names:
                        deps[key].add(names[n])
        for name, item in (d.get("outputs") or {}).items():
            if item.get("from_table"):
                deps[f"out:{name}"].add(f"table:{item['from_table']}")
        for rule in d.get("rules") or []:
            for out in rule.get("sets") or {}:
                if f"out:{out}" in deps:
                    deps[f"out:{out}"].add(f"rule:{rule.get('id')}")
        graph = nx.DiGraph()
        graph.add_nodes_from(keys)
        for key, reads in deps.items():
            for r in reads:
                if r in deps:
                    graph.add_edge(r, key)
        for component in nx.strongly_connected_components(graph):
            if len(component) == 1:
                (only,) = component
                if not graph.has_edge(only, only):
                    continue
            sub = graph.subgraph(component)
            cycle = [u for u, _ in nx.find_cycle(sub)]
            start = min(cycle, key=lambda k: keys.index(k))
            i = cycle.index(start)
            cycle = cycle[i:] + cycle[:i]
            shown = " -> ".join(f"`{_item_name(k)}`" for k in [*cycle, cycle[0]])
            self.problem(
                self._item_path(start),
                "E-CYCLE",
                f"these read each other in a cycle: {shown}",
                "one of them must be computed without the others",
                key=True,
            )
            graph.remove_edges_from(list(sub.edges()))
            self.in_cycles |= {_item_name(k) for k in component}
        order = list(nx.lexicographical_topological_sort(graph, key=keys.index))
        return order, deps

    def _item_path(self, key: str) -> Path_:
        kind, _, name = key.partition(":")
        if kind == "def":
            return ("definitions", name)
        if kind == "out":
            return ("outputs", name)
        if kind == "table":
            return ("tables", name)
        for i, rule in enumerate(self.data.get("rules") or []):
            if str(rule.get("id")) == name:
                return ("rules", i, "id")
        return ()

    def expression(
        self, parsed: _Parsed, scope: PackScope, expect: str | None = None
    ) -> M.Expression | None:
        if parsed.node is None:
            return None
        checked = check(parsed.node, scope, expect)
        for err in checked.errors:
            self.expr_problem(parsed, err)
        if checked.errors:
            return None
        span = self.doc.span(parsed.path)
        compiled = compile_checked(checked, f"{self.file}: {parsed.where}")
        return M.Expression(parsed.text, parsed.where, span.line, span.col, compiled)

    def check_items(
        self, order: list[str], scope: PackScope, healthcare: set[str]
    ) -> tuple[dict[str, M.Definition], dict[str, M.Output], dict[str, M.Table], list[M.Rule]]:
        d = self.data
        definitions: dict[str, M.Definition] = {}
        outputs: dict[str, M.Output] = {}
        tables: dict[str, M.Table] = {}
        rules: dict[str, M.Rule] = {}
        rule_index = {str(r.get("id")): i for i, r in enumerate(d.get("rules") or [])}

        def parsed_of(key: str) -> dict[tuple[Any, ...], _Parsed]:
            return {p.path: p for p in self.parsed.get(key, [])}

        for key in order:
            kind, _, name = key.partition(":")
            ps = parsed_of(key)
            if kind == "def":
                item = d["definitions"][name]
                long = isinstance(item, dict)
                path = ("definitions", name, "expr") if long else ("definitions", name)
                expr = self.expression(ps[path], scope) if path in ps else None
                if expr is None:
                    scope.symbols[name] = Symbol("definition", T.ANY, True)
                    continue
                hc = expr.healthcare
                if hc:
                    healthcare.add(name)
                scope.symbols[name] = Symbol(
                    "definition", expr.checked.type, expr.checked.nullable, hc
                )
                definitions[name] = M.Definition(
                    name=name,
                    expr=expr,
                    description=_str(item.get("description")) if long else None,
                    cites=self.cites(("definitions", name, "cite")) if long else (),
                    interpretations=tuple(item.get("interpretations") or ()) if long else (),
                )
            elif kind == "table":
                table = self.build_table(name, ps, scope)
                if table is not None:
                    tables[name] = table
            elif kind == "rule":
                i = rule_index[name]
                rule = self.build_rule(i, ps, scope)
                if rule is not None:
                    rules[name] = rule
            elif kind == "out":
                output = self.build_output(name, ps, scope, tables, rules)
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

    def build_table(self, tid: str, ps: dict[Path_, _Parsed], scope: PackScope) -> M.Table | None:
        raw = self.data["tables"][tid]
        inputs: list[tuple[str, M.Expression]] = []
        ok = True
        hc = False
        input_types: dict[str, T.Type] = {}
        for iname in raw.get("inputs") or {}:
            expr = self.expression(ps[("tables", tid, "inputs", iname)], scope)
            if expr is None:
                ok = False
                continue
            hc = hc or expr.healthcare
            inputs.append((iname, expr))
            input_types[iname] = expr.checked.type
        rows: list[M.TableRow] = []
        for j, row in enumerate(raw.get("rows") or []):
            cells: list[tuple[str, frozenset[Any] | None]] = []
            for iname, cell in (row.get("when") or {}).items():
                path = ("tables", tid, "rows", j, "when", iname)
                if iname not in input_types and iname not in dict(raw.get("inputs") or {}):
                    self.problem(
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
                        self.problem(
                            path,
                            "E-TYPE",
                            f"`{v}` is {T.article(vt)} but input `{iname}` is {T.article(want)}",
                        )
                        ok = False
                    elif want is not None and want.values is not None and v not in want.values:
                        self.problem(
                            path,
                            "E-ENUM",
                            f"`{v}` is not a value of input `{iname}`",
                            "use one of "
                            + ", ".join(f"`{x}`" for x in sorted(want.values, key=str)),
                        )
                        ok = False
                cells.append((iname, frozenset(values)))
            then: list[tuple[str, M.Expression]] = []
            for col in row.get("then") or {}:
                expr = self.expression(ps[("tables", tid, "rows", j, "then", col)], scope)
                if expr is None:
                    ok = False
                    continue
                hc = hc or expr.healthcare
                then.append((col, expr))
            rows.append(
                M.TableRow(
                    id=str(row.get("id", j + 1)),
                    cells=tuple(cells),
                    then=tuple(then),
                    cites=self.cites(("tables", tid, "rows", j, "cite")),
                    interpretations=tuple(row.get("interpretations") or ()),
                    line=self.doc.span(("tables", tid, "rows", j)).line,
                )
            )
        if not ok:
            return None
        return M.Table(
            id=tid,
            title=_str(raw.get("title")),
            hit=str(raw.get("hit", "unique")),
            inputs=tuple(inputs),
            rows=tuple(rows),
            cites=self.cites(("tables", tid, "cite")),
            healthcare=hc,
        )

    def build_rule(self, i: int, ps: dict[Path_, _Parsed], scope: PackScope) -> M.Rule | None:
        raw = self.data["rules"][i]
        rid = str(raw.get("id"))
        ok = True
        when = None
        if ("rules", i, "when") in ps:
            when = self.expression(ps[("rules", i, "when")], scope, "bool")
            ok = when is not None
        hc = bool(when and when.healthcare)
        sets: list[tuple[str, M.Expression]] = []
        for out in raw.get("sets") or {}:
            expr = self.expression(ps[("rules", i, "sets", out)], scope)
            if expr is None:
                ok = False
                continue
            hc = hc or expr.healthcare
            sets.append((out, expr))
        obligation = None
        ob = raw.get("obligation")
        if ob:
            due = freq = None
            if ("rules", i, "obligation", "due") in ps:
                due = self.expression(ps[("rules", i, "obligation", "due")], scope, "date")
                ok = ok and due is not None
            if ("rules", i, "obligation", "frequency") in ps:
                freq = self.expression(ps[("rules", i, "obligation", "frequency")], scope)
                ok = ok and freq is not None
            hc = hc or bool(due and due.healthcare) or bool(freq and freq.healthcare)
            obligation = M.Obligation(
                modality=str(ob.get("modality", "must")),
                text=str(ob.get("text", "")),
                who=_str(ob.get("who")),
                due=due,
                frequency=freq,
                records=tuple(dict(r) for r in ob.get("record") or ()),
                releasable=bool(ob.get("releasable", False)),
            )
            if obligation.releasable and not hc:
                self.problem(
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
            cites=self.cites(("rules", i, "cite")),
            interpretations=tuple(raw.get("interpretations") or ()),
            line=self.doc.span(("rules", i)).line,
            healthcare=hc,
        )

    def build_output(
        self,
        name: str,
        ps: dict[Path_, _Parsed],
        scope: PackScope,
        tables: dict[str, M.Table],
        rules: dict[str, M.Rule],
    ) -> M.Output | None:
        raw = self.data["outputs"][name]
        expr = default = None
        hc = False
        t: T.Type = T.NULL
        nullable = False
        mode = "value" if "value" in raw else "rules" if "from_rules" in raw else "table"
        if ("outputs", name, "default") in ps:
            default = self.expression(ps[("outputs", name, "default")], scope)
            if default is None:
                return None
            t = default.checked.type
            hc = default.healthcare
        if mode == "value":
            expr = self.expression(ps[("outputs", name, "value")], scope)
            if expr is None:
                return None
            t, nullable, hc = expr.checked.type, expr.checked.nullable, expr.healthcare
        elif mode == "rules":
            default_type, t = t, T.NULL
            combine = str(raw["from_rules"])
            setters = [r for r in rules.values() if any(o == name for o, _ in r.sets)]
            if not setters and not any(
                name in (r.get("sets") or {}) for r in self.data.get("rules") or []
            ):
                self.problem(
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
                            self.problem(
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
                self.problem(
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
                if tid not in (self.data.get("tables") or {}):
                    self.problem(
                        ("outputs", name, "from_table"),
                        "E-REF",
                        f"no table `{tid}`",
                        did_you_mean(tid, self.data.get("tables") or {}),
                    )
                return None
            if name not in table.columns():
                self.problem(
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
            self.problem(
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
        return M.Output(
            name=name,
            description=_str(raw.get("description")),
            mode=mode,
            expr=expr,
            combine=_str(raw.get("from_rules")),
            table=_str(raw.get("from_table")),
            default=default,
            releasable=releasable,
            withheld_reason=str(raw.get("withheld_reason") or "reasons withheld"),
            cites=self.cites(("outputs", name, "cite")),
            interpretations=tuple(raw.get("interpretations") or ()),
            healthcare=hc,
        )

    def check_references(
        self,
        interpretations: dict[str, M.Interpretation],
        versions: list[M.Version],
        definitions: dict[str, M.Definition],
        outputs: dict[str, M.Output],
        tables: dict[str, M.Table],
        rules: list[M.Rule],
    ) -> None:
        d = self.data
        used: set[str] = set()

        def refs(path: Path_, ids: Iterable[str]) -> None:
            for j, iid in enumerate(ids):
                used.add(iid)
                if iid not in interpretations:
                    self.problem(
                        (*path, j),
                        "E-REF",
                        f"no interpretation `{iid}`",
                        did_you_mean(iid, interpretations),
                    )

        for i, v in enumerate(d.get("versions") or []):
            refs(("versions", i, "interpretations"), v.get("interpretations") or ())
        for name, item in (d.get("definitions") or {}).items():
            if isinstance(item, dict):
                refs(("definitions", name, "interpretations"), item.get("interpretations") or ())
        for name, item in (d.get("outputs") or {}).items():
            refs(("outputs", name, "interpretations"), item.get("interpretations") or ())
        for tid, table in (d.get("tables") or {}).items():
            for j, row in enumerate(table.get("rows") or []):
                refs(
                    ("tables", tid, "rows", j, "interpretations"), row.get("interpretations") or ()
                )
        for tid, task in (d.get("tasks") or {}).items():
            refs(("tasks", tid, "interpretations"), task.get("interpretations") or ())
            for j, dep in enumerate(task.get("after") or []):
                if isinstance(dep, dict) and dep.get("interpretation"):
                    refs(("tasks", tid, "after", j, "interpretation"), [dep["interpretation"]])
                    used.add(str(dep["interpretation"]))
        version_ids = [v.id for v in versions]
        seen_rules: dict[str, int] = {}
        for i, rule in enumerate(d.get("rules") or []):
            rid = str(rule.get("id"))
            if rid in seen_rules:
                self.problem(
                    ("rules", i, "id"),
                    "E-DUP-ID",
                    f"rule `{rid}` is defined twice",
                    f"rule ids are stable and unique; the first is at rule {seen_rules[rid] + 1}",
                )
            seen_rules[rid] = i
            refs(("rules", i, "interpretations"), rule.get("interpretations") or ())
            for j, vid in enumerate(rule.get("versions") or ()):
                if str(vid) not in version_ids:
                    self.problem(
                        ("rules", i, "versions", j),
                        "E-REF",
                        f"no version `{vid}`",
                        did_you_mean(str(vid), version_ids),
                    )
            for out in rule.get("sets") or {}:
                target = (d.get("outputs") or {}).get(out)
                if target is None:
                    self.problem(
                        ("rules", i, "sets", out),
                        "E-REF",
                        f"no output `{out}`",
                        did_you_mean(out, d.get("outputs") or {}),
                        key=True,
                    )
                elif "from_rules" not in target:
                    self.problem(
                        ("rules", i, "sets", out),
                        "E-REF",
                        f"output `{out}` is not computed `from_rules`",
                        f"give output `{out}` `from_rules: collect` (or first, any)",
                        key=True,
                    )
        for i, item in enumerate(d.get("interpretations") or []):
            if str(item.get("id")) not in used:
                self.problem(
                    ("interpretations", i, "id"),
                    "W-UNUSED",
                    f"interpretation `{item.get('id')}` is relied on by nothing",
                    "name it in `interpretations:` of the rules that rely on it",
                )

    def check_tables(self, tables: dict[str, M.Table]) -> None:
        for tid, table in tables.items():
            if table.hit != "unique":
                continue
            for j, row in enumerate(table.rows):
                for k in range(j):
                    other = table.rows[k]
                    if _rows_overlap(other, row, [n for n, _ in table.inputs]):
                        self.problem(
                            ("tables", tid, "rows", j),
                            "E-TABLE-OVERLAP",
                            f"rows `{other.id}` and `{row.id}` of unique table `{tid}` "
                            "can both match",
                            "narrow one row's cells, or use `hit: first`",
                        )

    def lint_unused(self, definitions: dict[str, M.Definition], deps: dict[str, set[str]]) -> None:
        read: set[str] = set()
        for reads in deps.values():
            read |= reads
        for name in definitions:
            if f"def:{name}" not in read:
                self.problem(
                    ("definitions", name),
                    "W-UNUSED",
                    f"definition `{name}` is used by nothing",
                    "use it in a rule or output, or remove it",
                    key=True,
                )

    def tasks(self) -> Any:
        raw = self.data.get("tasks")
        if not raw:
            return None

        for code, message, tid in task_graph.task_problems(raw):
            path: Path_ = ("tasks", tid)
            named = re.findall(r"comes after `([^`]+)`", message)
            index = task_graph.after_index(raw, tid, named[-1]) if named else None
            if index is not None:
                path = ("tasks", tid, "after", index)
            self.problem(path, code, message)
        if any(p.code in ("E-TASK-REF", "E-TASK-CYCLE") for p in self.problems):
            return None
        weighting = (self.data.get("graph") or {}).get("weighting_precedence", True)
        return task_graph.build_task_graph(raw, weighting_precedence=weighting)


def _rows_overlap(a: M.TableRow, b: M.TableRow, inputs: list[str]) -> bool:
    ca, cb = dict(a.cells), dict(b.cells)
    for name in inputs:
        x, y = ca.get(name), cb.get(name)
        if x is not None and y is not None and not (x & y):
            return False
    return True


def _overlap(a0: Any, a1: Any, b0: Any, b1: Any) -> bool:
    lo_a = a0 or dt.date.min
    lo_b = b0 or dt.date.min
    hi_a = a1 or dt.date.max
    hi_b = b1 or dt.date.max
    return bool(lo_a <= hi_b and lo_b <= hi_a)


def _no_names(name: str) -> Any:
    raise KeyError(name)


def _item_name(key: str) -> str:
    return key.partition(":")[2]


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _get(data: Any, path: Path_) -> Any:
    for part in path:
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return None
    return data
