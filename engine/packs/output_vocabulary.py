"""Building, stage `references`: an output's `vocabulary:`, which says its values are ids of one
of the pack's vocabularies (one id or a list of them) or, as a mapping, which fields of its
records hold such ids. The vocabulary and the fields exist (E-REF); a text written as a
literal where the output's value, or such a field, takes it is an id of that vocabulary
(E-ENUM); and so is every value the checker knows the value or field can take.

Literals are found where they become the value: the expressions a rule sets, a table row
gives, or the output's own `value` and `default`, through `if` branches, list literals and
concatenations, `map` and `filter`, `coalesce`, and the definitions and comprehension
variables those name. A value worked out any other way is not checked."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.language import static_types as T
from engine.language import syntax as A
from engine.language.parse import ExprError
from engine.packs import model as M
from engine.packs.build_context import PackBuild, Parsed, Path_
from engine.problems import did_you_mean


@dataclass(frozen=True)
class _Part:
    """A part of an expression, to be read with its comprehension variables bound as `env`
    says; a literal found in it is reported at `path`, where the expression stands."""

    expr: M.Expression
    path: Path_
    node: A.Node
    env: Mapping[str, _Part] = field(default_factory=dict)

    def at(self, node: A.Node, env: Mapping[str, _Part] | None = None) -> _Part:
        return _Part(self.expr, self.path, node, self.env if env is None else env)


def _whole(expr: M.Expression, path: Path_) -> _Part:
    return _Part(expr, path, expr.checked.node)


def check_output_vocabularies(
    b: PackBuild,
    definitions: Mapping[str, M.Definition],
    outputs: Mapping[str, M.Output],
    tables: Mapping[str, M.Table],
    rules: list[M.Rule],
) -> None:
    """Each output's `vocabulary:` against the pack's vocabularies and the output's shape."""
    walker = _Walker(b, definitions)
    for name, raw in (b.data.get("outputs") or {}).items():
        if not isinstance(raw, dict) or raw.get("vocabulary") is None:
            continue
        built = outputs.get(name)
        symbol = b.scope.symbols.get(name)
        shape = symbol.type if symbol is not None and built is not None else None
        sources = _sources(b, name, built, tables, rules) if built is not None else []
        if isinstance(raw["vocabulary"], dict):
            _check_fields(b, walker, name, raw["vocabulary"], shape, sources)
        else:
            _check_values(b, walker, name, str(raw["vocabulary"]), shape, sources)


def _check_values(
    b: PackBuild,
    walker: _Walker,
    name: str,
    vname: str,
    shape: T.Type | None,
    sources: list[_Part],
) -> None:
    """`vocabulary: <id>`: the output's values, one id or a list of them, are that vocabulary's."""
    where: Path_ = ("outputs", name, "vocabulary")
    ids = _known(b, where, vname)
    if ids is None:
        return
    if _fields(shape):
        b.problem(
            where,
            "E-TYPE",
            f"output `{name}` holds records, so one vocabulary cannot name its values",
            "give `vocabulary:` as a mapping from each field that holds ids to its vocabulary",
        )
        return
    _typed(b, where, shape, vname, ids, f"output `{name}`")
    for source in sources:
        for found in walker.ids(source):
            _refuse(b, walker.reported, found, vname, ids, f"output `{name}`")


def _check_fields(
    b: PackBuild,
    walker: _Walker,
    name: str,
    given: Mapping[Any, Any],
    shape: T.Type | None,
    sources: list[_Part],
) -> None:
    """`vocabulary: {field: id}`: each named field of the output's records holds that
    vocabulary's ids (one, or a list of them)."""
    fields = _fields(shape)
    if shape is not None and shape.kind not in ("any", "null") and fields is None:
        b.problem(
            ("outputs", name, "vocabulary"),
            "E-TYPE",
            f"output `{name}` is {T.article(shape)}, not records, so it has no fields to name "
            "vocabularies for",
            "give `vocabulary:` one vocabulary's id",
        )
        return
    records = [r for source in sources for r in walker.records(source)]
    for fname, vname in ((str(k), str(v)) for k, v in given.items()):
        where: Path_ = ("outputs", name, "vocabulary", fname)
        if fields is not None and fname not in fields:
            b.problem(
                where,
                "E-REF",
                f"output `{name}` has no field `{fname}`",
                did_you_mean(fname, fields) or f"its fields: {', '.join(fields)}",
                key=True,
            )
            continue
        ids = _known(b, where, vname)
        if ids is None:
            continue
        what = f"field `{fname}` of output `{name}`"
        _typed(b, where, _field_type(shape, fname), vname, ids, what)
        for record in records:
            assert isinstance(record.node, A.RecordLit)
            value = dict(record.node.fields).get(fname)
            for found in walker.ids(record.at(value)) if value is not None else ():
                _refuse(b, walker.reported, found, vname, ids, what)


def _known(b: PackBuild, where: Path_, vname: str) -> list[str] | None:
    """The ids of vocabulary `vname`, or None (with an E-REF) when the pack has none such."""
    vocab = b.data.get("vocabulary") or {}
    if vname not in vocab:
        b.problem(
            where,
            "E-REF",
            f"no vocabulary `{vname}`",
            did_you_mean(vname, vocab) or f"vocabularies: {', '.join(vocab) or 'none'}",
        )
        return None
    return [str(v.get("id")) for v in (vocab[vname] or {}).get("values") or ()]


def _fields(shape: T.Type | None) -> list[str] | None:
    """The fields of an output's records (the output a record, or a list of them), if known."""
    if shape is not None and shape.kind == "list" and shape.elem is not None:
        shape = shape.elem
    if shape is None or shape.kind != "record" or shape.fields is None:
        return None
    return shape.field_names()


def _field_type(shape: T.Type | None, field: str) -> T.Type | None:
    if shape is not None and shape.kind == "list" and shape.elem is not None:
        shape = shape.elem
    found = shape.field(field) if shape is not None else None
    return found[0] if found is not None else None


def _typed(
    b: PackBuild, where: Path_, t: T.Type | None, vname: str, ids: list[str], what: str
) -> None:
    """Where the checker knows every value a place can take (an enumeration, such as a facts
    field's), each is one of the vocabulary's ids."""
    if t is not None and t.kind == "list" and t.elem is not None:
        t = t.elem
    if t is None or t.values is None or t.name == vname:
        return
    extra = sorted(str(v) for v in t.values if v is not None and str(v) not in ids)
    if extra:
        b.problem(
            where,
            "E-ENUM",
            f"`{extra[0]}` is not a value of vocabulary `{vname}`, yet {what} can be it "
            f"(it takes {', '.join(sorted(str(v) for v in t.values))})",
            f"values of `{vname}`: {', '.join(ids)}",
        )


def _refuse(
    b: PackBuild,
    reported: set[tuple[int, str]],
    found: _Part,
    vname: str,
    ids: list[str],
    what: str,
) -> None:
    """An E-ENUM at a literal text that is not one of `ids`, where it stands."""
    node = found.node
    if not isinstance(node, A.Lit) or not isinstance(node.value, str) or node.value in ids:
        return
    if (id(node), vname) in reported:  # (a literal reached along two ways: said once)
        return
    reported.add((id(node), vname))
    message = f"`{node.value}` is not a value of vocabulary `{vname}`, which {what} takes its "
    message += "values from"
    hint = did_you_mean(node.value, ids) or f"values: {', '.join(ids)}"
    if node is found.expr.checked.node:  # the whole expression: the place of its value
        b.problem(found.path, "E-ENUM", message, hint)
        return
    loc = node.loc
    err = ExprError("E-ENUM", message, loc.line, loc.col, hint, loc.end_line, loc.end_col)
    b.expr_problem(Parsed(found.expr.text, found.path, found.expr.where, node), err)


def _sources(
    b: PackBuild,
    name: str,
    output: M.Output,
    tables: Mapping[str, M.Table],
    rules: list[M.Rule],
) -> list[_Part]:
    """The expressions whose values become the output's: its own value and default, what each
    rule sets it to and each row of its table gives it."""
    found = [
        _whole(e, ("outputs", name, key))
        for key, e in (("value", output.expr), ("default", output.default))
        if e is not None
    ]
    raw_rules = b.data.get("rules") or []
    index = {str(r.get("id")): i for i, r in enumerate(raw_rules) if isinstance(r, dict)}
    for rule in rules:
        for out, e in rule.sets:
            if out == name and rule.id in index:
                found.append(_whole(e, ("rules", index[rule.id], "sets", name)))
    table = tables.get(output.table) if output.table else None
    for j, row in enumerate(table.rows if table is not None else ()):
        for col, e in row.then:
            if col == name:
                found.append(_whole(e, ("tables", output.table, "rows", j, "then", name)))
    return found


class _Walker:
    """Follows an expression to the parts that become its value."""

    def __init__(self, b: PackBuild, definitions: Mapping[str, M.Definition]) -> None:
        self.b = b
        self.definitions = definitions
        self.reported: set[tuple[int, str]] = set()  # the literals refused, by node and vocabulary

    def _definition(self, name: str) -> _Part | None:
        found = self.definitions.get(name)
        if found is None:
            return None
        raw = (self.b.data.get("definitions") or {}).get(name)
        path: Path_ = (
            ("definitions", name, "expr") if isinstance(raw, dict) else ("definitions", name)
        )
        return _whole(found.expr, path)

    @staticmethod
    def _is_list(part: _Part) -> bool:
        info = part.expr.checked.info.get(id(part.node))
        return info is None or info.type.kind in ("list", "any", "null")

    def _parts(self, part: _Part) -> Iterator[tuple[_Part, bool]]:
        """The parts `part`'s value is made of, each with whether it is one element of that
        value (a list literal's item, a `map`'s body) rather than the whole of it. (Each step
        goes into a smaller expression, or to a definition, which cannot read itself.)"""
        node, env = part.node, part.env
        if isinstance(node, A.If):
            yield part.at(node.then), False
            yield part.at(node.other), False
        elif isinstance(node, A.ListLit):
            for item in node.items:
                yield part.at(item), True
        elif isinstance(node, A.Binary) and node.op == "+" and self._is_list(part):
            yield part.at(node.left), False
            yield part.at(node.right), False
        elif isinstance(node, A.Call) and node.func == "coalesce":
            for arg in node.args:
                yield part.at(arg), False
        elif isinstance(node, A.Comprehension) and node.kind == "map":
            yield part.at(node.body, {**env, node.var: part.at(node.iterable)}), True
        elif isinstance(node, A.Comprehension) and node.kind == "filter":
            yield part.at(node.iterable), False
        elif isinstance(node, A.Name) and node.name in env:
            # a comprehension's variable: each element of the list it runs over
            yield from ((element, False) for element in self._elements(env[node.name]))
        elif isinstance(node, A.Name):
            found = self._definition(node.name)
            if found is not None:
                yield found, False

    def _elements(self, part: _Part) -> Iterator[_Part]:
        """The parts of a list's value that are its elements."""
        for inner, element in self._parts(part):
            if element:
                yield inner
            else:
                yield from self._elements(inner)

    def ids(self, part: _Part) -> Iterator[_Part]:
        """The literals a value is, or is a list of."""
        if isinstance(part.node, A.Lit):
            yield part
            return
        for inner, _ in self._parts(part):
            yield from self.ids(inner)

    def records(self, part: _Part) -> Iterator[_Part]:
        """The record literals a value is, or is a list of."""
        if isinstance(part.node, A.RecordLit):
            yield part
            return
        for inner, _ in self._parts(part):
            yield from self.records(inner)
