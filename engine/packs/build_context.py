"""Building, the context every build stage shares: the pack document, the problems found so far,
what earlier stages made, and the helpers that turn a place in the document into a problem,
a citation, a parsed or a checked expression.

The build stages (declarations, item_order, check_items, references; run in order by
engine.packs.build) each read what the stages before them left on a `PackBuild` and leave
their own results on it for the next."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, get_args

from engine.language import static_types as T
from engine.language import syntax as A
from engine.language.check import Symbol, check
from engine.language.codegen import compile_checked
from engine.language.parse import ExprError, parse
from engine.packs import model as M
from engine.packs.facts_schema import resolve_facts_schema, root_types
from engine.packs.read_yaml import Document
from engine.packs.task_graph import GraphMaker
from engine.problems import Code, Problem, problem

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


class Parsed:
    """An expression parsed but not yet checked."""

    def __init__(self, text: str, path: Path_, where: str, node: A.Node | None):
        self.text = text
        self.path = path
        self.where = where
        self.node = node


def as_text(value: Any) -> str | None:
    """The expression text of a YAML value, or None when it is a literal."""
    return value if isinstance(value, str) else None


def literal_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal | int):
        return str(value)
    return str(value)


class PackBuild:
    """One pack document on its way through the build stages, and what each has made."""

    def __init__(
        self,
        doc: Document,
        content: bytes,
        imported: dict[str, M.Vocabulary] | None = None,
        problems: list[Problem] | None = None,
    ):
        self.doc = doc
        self.data: dict[str, Any] = doc.data
        self.file = doc.file
        self.content = content
        self.problems: list[Problem] = [] if problems is None else problems
        self.facts_schema = "facts"
        self.roots: dict[str, Any] = {}
        try:
            self.facts_schema = resolve_facts_schema(self.data.get("facts"), self.file)
            self.roots = root_types(self.facts_schema)
        except (OSError, ValueError, KeyError, TypeError) as e:
            self.problem(
                ("facts",),
                "E-FACTS-SCHEMA",
                f"cannot use facts schema `{self.data.get('facts')}`: {e}",
                "name a schema in schemas/facts/, in a `schemas` folder beside the pack, "
                "or give a path to a .json file relative to the pack",
            )
        self.parsed: dict[M.ItemKey, list[Parsed]] = {}
        self.trees: dict[str, A.Node] = {}  # expression text -> syntax tree (see `parse`)
        self.parsed_new = False  # whether `trees` gained a tree in this run
        self.exprs: dict[int, M.Expression] = {}
        self.in_cycles: set[str] = set()
        self.imported = imported or {}
        # made by the stages, in order (see engine.packs.build.STAGES)
        self.interpretations: dict[str, M.Interpretation] = {}
        self.versions: list[M.Version] = []
        self.vocabulary: dict[str, M.Vocabulary] = {}
        self.parameters: dict[str, M.Parameter] = {}
        self.order: list[M.ItemKey] = []  # each item after the items it reads
        self.deps: dict[M.ItemKey, set[M.ItemKey]] = {}  # each item -> the items it reads
        self.scope = PackScope(self.roots, [])
        self.healthcare: set[str] = set()  # names whose value derives from healthcare-only facts
        self.definitions: dict[str, M.Definition] = {}
        self.outputs: dict[str, M.Output] = {}
        self.tables: dict[str, M.Table] = {}
        self.rules: list[M.Rule] = []
        self.task_graph_maker: GraphMaker | None = None  # see M.Pack.task_graph

    def problem(
        self, path: Path_, code: Code, message: str, hint: str | None = None, key: bool = False
    ) -> None:
        """A problem at the value (or, with `key`, the key) at `path` in the pack file."""
        span = self.doc.key_span(path) if key else self.doc.span(path)
        end = (span.end_line, span.end_col) if span.end_line and span.end_col else None
        # span.file: a merged document places a local plan's parts in the plan's own file
        self.problems.append(problem(code, span.file, span.line, span.col, message, hint, end))

    def expr_problem(self, parsed: Parsed, err: ExprError) -> None:
        if isinstance(self.doc.data, dict) and isinstance(
            value_at(self.doc.data, parsed.path), str
        ):
            line, col = self.doc.locate(parsed.path, err.line, err.col)
            end = None
            if err.end_line is not None and err.end_col is not None:
                end = self.doc.locate(parsed.path, err.end_line, max(err.end_col - 1, 1))
        else:
            span = self.doc.span(parsed.path)
            line, col, end = span.line, span.col, None
        message = f"{err.message} (in {parsed.where})"
        to = (end[0], end[1] + 1) if end else None
        file = self.doc.span(parsed.path).file
        self.problems.append(
            problem(err.code, file, line, col, message, _yaml_quotes(err, parsed), to)
        )

    def cites(self, path: Path_) -> tuple[M.Citation, ...]:
        raw = value_at(self.data, path)
        if raw is None:
            return ()
        items = raw if isinstance(raw, list) else [raw]
        paths = [(*path, i) for i in range(len(items))] if isinstance(raw, list) else [path]
        out = []
        for item, p in zip(items, paths, strict=True):
            if not isinstance(item, dict):
                continue
            span = self.doc.span(p)
            out.append(M.Citation.from_raw(item, span.line, span.col))
        return tuple(out)

    def parse(self, text: str) -> A.Node:
        """An expression's syntax tree: from `trees` (kept from an earlier run) or parsed."""
        node = self.trees.get(text)
        if node is None:
            node = self.trees[text] = parse(text)
            self.parsed_new = True
        return node

    def parse_at(self, key: M.ItemKey, path: Path_, where: str, value: Any = None) -> Parsed:
        raw = value_at(self.data, path) if value is None else value
        text = as_text(raw)
        if text is None:
            text = literal_text(raw)
            node: A.Node | None = None
            try:
                node = self.parse(text)
            except ExprError:
                node = None
            parsed = Parsed(text, path, where, node)
        else:
            try:
                node = self.parse(text)
            except ExprError as err:
                parsed = Parsed(text, path, where, None)
                self.expr_problem(parsed, err)
                node = None
            parsed = Parsed(text, path, where, node)
        self.parsed.setdefault(key, []).append(parsed)
        return parsed

    def expression(
        self, parsed: Parsed, scope: PackScope, expect: str | None = None
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


def overlap(a0: Any, a1: Any, b0: Any, b1: Any) -> bool:
    lo_a = a0 or dt.date.min
    lo_b = b0 or dt.date.min
    hi_a = a1 or dt.date.max
    hi_b = b1 or dt.date.max
    return bool(lo_a <= hi_b and lo_b <= hi_a)


def no_names(name: str) -> Any:
    raise KeyError(name)


def choice(value: Any, options: Any) -> Any:
    """An enumerated value the schema has already checked, as its `Literal` type."""
    text = str(value)
    assert text in get_args(options), f"{text!r} is not one of {get_args(options)}"
    return text


def opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def value_at(data: Any, path: Path_) -> Any:
    for part in path:
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return None
    return data


def _yaml_quotes(err: ExprError, parsed: Parsed) -> str | None:
    """The hint of `err`, where the whole YAML value is one bare word the hint says to quote
    as text: YAML reads `"x"` as the text x, which names x again, so the quotes go inside
    others (`'"x"'`)."""
    word = parsed.text.strip()
    if err.code != "E-NAME" or not err.hint or not word.isidentifier():
        return err.hint
    return err.hint.replace(f'`"{word}"`', f"`'\"{word}\"'` in YAML")
