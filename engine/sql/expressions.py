"""One checked expression to SQL: a value column that is NULL when unknown, beside a mask.

Every value is a pair. `v` is the value, SQL NULL when the language's value is unknown (or a
decided "none"). `m` is a BIGINT bit mask of the fact paths the unknown came from: zero for a
decided "none" and for every known scalar, so that "unknown" and "none" stay apart. For a list
or a record that is known, `m` holds the paths of the unknowns inside it, as the Python
runtime's `unknown_paths` and `merge` see them. Bits are numbered per pack (`PathBits`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Context, Decimal, localcontext
from typing import Any

from sqlglot import exp

from engine.evaluation.evaluate import MAX_LIST, MAX_TEXT
from engine.language import static_types as T
from engine.language import syntax as A
from engine.language.check import Checked
from engine.language.codegen import strict_op
from engine.language.functions import FUNCTIONS
from engine.packs.reserved import RESERVED_DATE, RESERVED_TEXT
from engine.sql import functions as SF
from engine.sql.bounds import DAYS_SPAN, KINDS, bound, element_bound, may_overflow, with_local
from engine.sql.builders import (
    US_PER_DAY,
    US_PER_MINUTE,
    ZERO,
    Err,
    bor,
    case,
    const,
    constant_branches,
    date_add_days,
    decimal_scale,
    error_if,
    error_text,
    field_of,
    first_error,
    floor_div,
    has_error,
    is_null,
    is_true,
    is_zero,
    lam,
    list_exists,
    list_filter,
    list_map,
    list_size,
    literal_int,
    not_null,
    num,
    struct,
    typed_null,
    unshare,
)
from engine.sql.decimal_text import Shapes, text_of_decimal
from engine.sql.types import DECIMAL_SCALE, Unsupported, cast

MAX_PATHS = 62
# A date moved by a duration or months whose size is bounded in the expression (`4 weeks`,
# `len(x) * 2 days`: less than the 10,000 years of the calendar) can pass the years 1 to 9999
# only from a date within that reach of an edge. Inside a lambda such a move is tested where
# it is made, only on those dates; elsewhere, in a pack's query, the moved date is kept in
# `Scope.edges` and the query tests it once per row (`edge_error`): testing every move made
# the key work query half as slow again. A move of unbounded size (a fact, a definition) is
# tested where it is made, and is the row's E-EVAL-RANGE in the interpreter's words.
_LAMBDA_VAR = re.compile(r"x[0-9]+")  # the names `_var` gives a quantifier's element

# functions unknown from an unknown element of their list argument (given by position)
LIST_STRICT = {
    "sum": 0,
    "sort": 0,
    "flatten": 0,
    "min": 0,
    "max": 0,
    "earliest": 0,
    "latest": 0,
    "index_of": 1,
    "contains_any": 1,
}

# A fact whose null the schema reads as a known none (`x-null: none`) differs from an absent
# one; the facts table keeps a known none as a sentinel value and an absent fact as NULL. The
# facts check refuses a real value equal to the sentinel in such a field (engine.packs.reserved).
NONE_DATE = RESERVED_DATE
NONE_TEXT = RESERVED_TEXT
NONE_SENTINELS: dict[str, Callable[[], exp.Expression]] = {
    "date": lambda: cast(exp.Literal.string(NONE_DATE.isoformat()), "DATE"),
    "string": lambda: exp.Literal.string(NONE_TEXT),
}


@dataclass(frozen=True)
class SV:
    """A compiled value: SQL for the value and for its mask, and which bits the mask may hold."""

    v: exp.Expression
    m: exp.Expression
    t: T.Type
    bits: frozenset[int] = frozenset()
    facts: bool = False  # read straight from the facts: a null field is an unknown fact path
    chain: bool = False  # a static path from a facts root (an absent parent is not its unknown)
    parts: dict[str, SV] | None = None  # a record built in this expression: each field's value
    e: Err = None  # the error column (see `builders.first_error`); None when it cannot err


class TooManyPaths(Unsupported):
    """A pack reads more fact paths than one mask word holds."""

    CONSTRUCT = "fact paths"

    def __init__(self, path: str):
        super().__init__(
            self.CONSTRUCT,
            f"`{path}` is fact path {MAX_PATHS + 1}; missing facts are told apart in one "
            f"64-bit mask, so a pack compiled to SQL may read at most {MAX_PATHS}",
        )
        self.path = path


class PathBits:
    """The fact paths a pack's decisions may name as missing, one bit each (at most `limit`;
    None only to count them, the SQL of a wider mask is not valid)."""

    def __init__(self, limit: int | None = MAX_PATHS) -> None:
        self.paths: list[str] = []
        self.index: dict[str, int] = {}
        self.limit = limit

    def bit(self, path: str) -> int:
        i = self.index.get(path)
        if i is None:
            if self.limit is not None and len(self.paths) >= self.limit:
                raise TooManyPaths(path)
            i = self.index[path] = len(self.paths)
            self.paths.append(path)
        return 1 << i


# -- the compiler -------------------------------------------------------------------------


@dataclass
class Scope:
    """How names outside the facts read: pack names as columns or constants."""

    name: Callable[[str], SV]
    bits: PathBits
    dialect: str = "duckdb"
    as_of: exp.Expression = field(default_factory=lambda: exp.column("as_of"))
    version: exp.Expression = field(default_factory=lambda: exp.column("policy_version"))
    # computes a row-level expression once, as a column of its own, and returns that column
    hoist: Callable[[exp.Expression], exp.Expression] | None = None
    origin: str = "<expression>"  # where the expression stands, as a run-time error names it
    pack: str = "<pack>"  # the pack's id, as an out-of-range error names it
    consts: Mapping[str, int] = field(default_factory=dict)  # sizes of names (parameters)
    # a definition's checked expression by name (for the text of a decimal it works out: its
    # places follow from the expression, compiled again where the text is)
    definition: Callable[[str], Checked | None] | None = None
    # where given, a date moved by a bounded duration or months that reads no list element
    # is not tested per move: the date and the reach are kept here (by the date's SQL, the
    # largest reach), and the pack's query tests each such date once per row (see `edges`)
    edges: dict[str, tuple[exp.Expression, dt.timedelta]] | None = None


class ExprCompiler:
    """Compiles one checked expression; raises `Unsupported` for a construct without SQL."""

    def __init__(self, checked: Checked, scope: Scope):
        self.checked = checked
        self.scope = scope
        self.locals: dict[str, SV] = {}
        # the sizes of names: the parameters', and the locals' bounded by their lists
        self.consts: Mapping[str, int] = scope.consts
        self.n_lambda = 0
        self.in_region = False  # inside a tree of strict operations (see `_guarded_error`)
        self.made: dict[int, SV] = {}  # each node's compiled value, by node
        self.binding: dict[str, A.Node] = {}  # a local name -> the list its quantifier reads
        self.bound: dict[int, A.Node] = {}  # a local name's node -> that list's node
        self.lambdas: dict[int, tuple[str, exp.Expression]] = {}  # quantifier -> var, list
        # a date moved untested (by its SQL) -> the date it was moved from, and how far at most
        self.moved_from: dict[str, tuple[exp.Expression, dt.timedelta]] = {}
        # per quantifier being compiled (innermost last): the values its body reads more than
        # once, each bound once per element (name, expression), see `_shared`
        self.frames: list[list[tuple[str, exp.Expression]]] = []
        # the conditions under which the branch of an `if` being compiled is taken (outermost
        # first): a list hoisted into a column of its own there is worked out only on the rows
        # that take the branch, as it is where it stands (see `_hoisted`)
        self.guards: list[exp.Expression] = []

    def _hoisted(self, e: exp.Expression) -> exp.Expression:
        """`e` as a column of its own (`Scope.hoist`), NULL on the rows where an `if` around it
        takes the other branch: nothing reads it there, and the row need not work it out."""
        assert self.scope.hoist is not None
        # (a condition that reads a quantifier's element is not the row's: left out, so the
        # column is worked out on more rows than need it, never on fewer)
        row_level = [
            g
            for g in self.guards
            if not any(_LAMBDA_VAR.fullmatch(c.name) for c in g.find_all(exp.Column))
        ]
        if row_level:
            taken = row_level[0].copy()
            for g in row_level[1:]:
                taken = exp.And(this=taken, expression=g.copy())
            e = case([(taken, e)], exp.Null())
        return self.scope.hoist(e)

    def info_type(self, node: A.Node) -> T.Type:
        return self.checked.info[id(node)].type

    def nullable(self, node: A.Node) -> bool:
        return self.checked.info[id(node)].nullable

    def bit(self, path: str) -> int:
        return self.scope.bits.bit(path)

    def compile(self) -> SV:
        sv = self.gen(self.checked.node)
        for part in (sv.v, sv.m, sv.e):
            if part is not None:
                unshare(part)
        return sv

    def gen(self, node: A.Node) -> SV:
        method = getattr(self, "_" + type(node).__name__)
        strict = strict_op(node)
        top = not (strict and self.in_region)  # a guarded region starts here (or none)
        saved, self.in_region = self.in_region, strict
        try:
            result: SV = method(node)
        except Unsupported as u:
            if not u.line:  # the innermost construct: where it stands in the expression
                u.line, u.col = node.loc.line, node.loc.col
            raise
        finally:
            self.in_region = saved
        if top and result.e is not None:
            result = self._guarded_error(node, result)
        self.made[id(node)] = result
        return result

    def _guarded_error(self, node: A.Node, sv: SV) -> SV:
        """The error of a guarded region, in the interpreter's order: a tree of strict
        operations (or a guarded call) works out its nullable leaves first, then, only when
        none is unknown, the rest (its other leaves and its own operations) in order."""
        leaves = _region_leaves(node, self.checked)
        if leaves is None:
            return sv
        first = [self.made[id(leaf)] for leaf in leaves if self.nullable(leaf)]
        if not first:
            return sv
        # a NULL value is an unknown or a decided none: the interpreter's none is an unknown
        # that names no fact, so the body is worked out only when every value is not NULL
        known: exp.Expression | None = None
        for leaf in first:
            test = exp.Paren(this=not_null(leaf.v))
            known = test if known is None else exp.And(this=known, expression=test)
        body = sv.e if known is None else error_if(exp.Paren(this=known), sv.e)
        return replace(sv, e=first_error(*(leaf.e for leaf in first), body))

    # -- leaves ----------------------------------------------------------------------------

    def _Lit(self, node: A.Lit) -> SV:
        t = self.info_type(node)
        return SV(const(node.value, t), ZERO.copy(), t)

    def _ListLit(self, node: A.ListLit) -> SV:
        t = self.info_type(node)
        items = [self.gen(i) for i in node.items]
        if not items:
            if t.elem is None or t.elem.kind in ("null", "any"):
                return SV(exp.Array(expressions=[]), ZERO.copy(), t)  # typed where it is used
            return SV(const([], t), ZERO.copy(), t)
        elem = t.elem
        vals = []
        for i in items:
            v = i.v
            if elem is not None and i.t.kind != elem.kind and i.t.kind in ("null", "any"):
                v = typed_null(elem)
            vals.append(v)
        if elem is not None and elem.kind == "decimal":
            # one scale for every element, the largest (an engine would round to the first's)
            found = [decimal_scale(SF.as_decimal(i.v, i.t)) for i in items if i.t.kind != "null"]
            scale = max((x if x is not None else DECIMAL_SCALE) for x in found) if found else 0
            to = exp.DataType.build(f"DECIMAL(38, {scale})")
            vals = [
                exp.Cast(this=SF.as_decimal(v, i.t), to=to.copy()) if i.t.kind != "null" else v
                for v, i in zip(vals, items, strict=True)
            ]
        bits = frozenset().union(*(i.bits for i in items))
        err = first_error(*(i.e for i in items))
        return SV(exp.Array(expressions=vals), bor(*(i.m for i in items)), t, bits, e=err)

    def _RecordLit(self, node: A.RecordLit) -> SV:
        t = self.info_type(node)
        fields = [(k, self.gen(v)) for k, v in node.fields]
        ft = {n: ty for n, ty, _ in (t.fields or ())}
        vals = []
        for k, f in fields:
            v = f.v
            if isinstance(v, exp.Null) and k in ft:
                v = typed_null(ft[k])
            vals.append((k, v))
        bits = frozenset().union(*(f.bits for _, f in fields)) if fields else frozenset()
        err = first_error(*(f.e for _, f in fields))
        # a field read from it takes the error of the whole record (all fields are worked out)
        parts = {k: f if err is None else replace(f, e=err) for k, f in fields}
        return SV(struct(vals), bor(*(f.m for _, f in fields)), t, bits, parts=parts, e=err)

    def _Name(self, node: A.Name) -> SV:
        t = self.info_type(node)
        if node.name in self.locals:
            if node.name in self.binding:
                self.bound[id(node)] = self.binding[node.name]
            return self.locals[node.name]
        if node.name == "as_of":
            return SV(self.scope.as_of.copy(), ZERO.copy(), t)
        if node.name == "version":
            return SV(self.scope.version.copy(), ZERO.copy(), t)
        if node.name in self.checked.roots:
            return SV(exp.column(node.name), ZERO.copy(), t, facts=True, chain=True)
        return self.scope.name(node.name)

    def _Attr(self, node: A.Attr) -> SV:
        obj = self.gen(node.obj)
        sv = self._field(node, obj)
        return sv if obj.e is None or sv.e is not None else replace(sv, e=obj.e)

    def _field(self, node: A.Attr, obj: SV) -> SV:
        t = self.info_type(node)
        info = self.checked.info[id(node)]
        if obj.parts is not None and node.name in obj.parts:
            return obj.parts[node.name]  # a field of a record built here: its own value and mask
        raw = field_of(obj.v, node.name)
        value = raw
        if getattr(t, "null_none", False):
            # a known none is stored as a sentinel (see NONE_DATE), an absent field as NULL
            if t.kind not in NONE_SENTINELS:
                raise Unsupported(f"fact `{info.path}`", f"a known none of type {t.kind}")
            value = exp.Nullif(this=raw.copy(), expression=NONE_SENTINELS[t.kind]())
        if obj.facts:
            if not self.nullable(node) and not getattr(t, "null_none", False):
                return SV(raw, ZERO.copy(), t, facts=True, chain=obj.chain)
            b = self.bit(info.path or f"?.{node.name}")
            if obj.chain or is_zero(obj.m):
                # a static fact read names its own path, absent parents or not
                m = case([(is_null(raw), num(b))], ZERO.copy())
                bits = frozenset({b})
            else:  # facts reached through a definition: an unknown parent keeps its paths
                m = case([(is_null(obj.v), obj.m), (is_null(raw), num(b))], ZERO.copy())
                bits = obj.bits | {b}
            return SV(value, m, t, bits, facts=True, chain=obj.chain)
        if not self.nullable(node) and t.kind not in ("list", "record"):
            return SV(value, ZERO.copy(), t)
        # a computed record keeps one mask for all its fields: a field's unknowns are among them
        if is_zero(obj.m):
            return SV(value, ZERO.copy(), t)
        if t.kind in ("list", "record"):
            m = obj.m.copy()
        else:
            m = case([(is_null(value), obj.m)], ZERO.copy())
        return SV(value, m, t, obj.bits)

    # -- operators -------------------------------------------------------------------------

    def _strict(self, t: T.Type, v: exp.Expression, args: list[SV], own: Err = None) -> SV:
        """A strict operation: unknown when any operand is unknown, with all their paths; an
        error of an operand (the first, in order) or of the operation itself (`own`)."""
        bits = frozenset().union(*(a.bits for a in args)) if args else frozenset()
        m = bor(*(a.m for a in args))
        if not is_zero(m) and any(a.t.kind in ("list", "record") for a in args):
            if t.kind not in ("list", "record"):
                m = case([(is_null(v), m)], ZERO.copy())
        return SV(v, m, t, bits, e=first_error(*(a.e for a in args), own))

    def _Unary(self, node: A.Unary) -> SV:
        x = self.gen(node.operand)
        t = self.info_type(node)
        if node.op == "not":
            return SV(exp.Not(this=exp.Paren(this=x.v)), x.m, t, x.bits, e=x.e)
        if t.kind in KINDS and may_overflow(node, self.checked, self.consts):
            v, own = SF.checked_whole(
                lambda a: exp.Neg(this=exp.Paren(this=a)), [x.v], self._too_big(node, t)
            )
            return SV(v, x.m, t, x.bits, e=first_error(x.e, own))
        return SV(exp.Neg(this=exp.Paren(this=x.v)), x.m, t, x.bits, e=x.e)

    def _whole(self, node: A.Node, t: T.Type, cls: Any, args: list[SV]) -> SV:
        """`+`, `-` or `*` of integers, durations or months: in BIGINT, checked per row only
        where the result may pass it (see `bounds`)."""
        a, b = args[0].v, args[1].v
        if not may_overflow(node, self.checked, self.consts):
            return self._strict(t, exp.Paren(this=cls(this=a, expression=b)), args)
        v, own = SF.checked_whole(
            lambda x, y: exp.Paren(this=cls(this=x, expression=y)), [a, b], self._too_big(node, t)
        )
        return self._strict(t, v, args, own)

    def _decimal(self, node: A.Node, t: T.Type, cls: Any, args: list[SV]) -> SV:
        """`+`, `-` or `*` with a decimal operand, at the scale the interpreter's exponents give
        (the larger for a sum, the total for a product). A result past the 38 digits of a SQL
        decimal is the row's error (the interpreter holds 200): tested, before it is worked
        out, on the operands' magnitudes as DOUBLEs, with a margin of one in a thousand, so a
        result within that margin below the limit errs too."""
        a, b = (SF.as_decimal(x.v, x.t) for x in args)
        exact = exp.Paren(this=cls(this=a, expression=b))
        if not _decimal_may_overflow(node, self.checked):
            return self._strict(t, exact, args)
        assert isinstance(node, A.Binary)
        sa, sb = self.places(node.left), self.places(node.right)
        scale = sa + sb if cls is exp.Mul else max(sa, sb)
        if scale > 38:
            raise Unsupported("decimal", "a result with more than 38 places")
        message = (
            f"a decimal past the 38 digits a SQL column holds, in {self._where(node)} "
            f"{SF.PYTHON_DECIDES}"
        )
        v, own = SF.decimal_within(cls, a, b, 38 - scale, message)
        return self._strict(t, v, args, own)

    def places(self, node: A.Node) -> int:
        """The places of a compiled number as the engines type it: read from its SQL where the
        SQL tells them, else from the expression (a decimal fact is held at 10, a sum of two
        at the larger, a product at the total, a definition at its expression's, an element
        at its list's). What neither tells is taken to be at 10, as a quotient is."""
        if self.info_type(node).kind != "decimal":
            return 0
        made = self.made.get(id(node))
        if made is not None:
            found = decimal_scale(SF.as_decimal(made.v, made.t))
            if found is not None:
                return found
        if isinstance(node, A.Binary) and node.op in ("+", "-", "*"):
            left, right = self.places(node.left), self.places(node.right)
            return min(left + right, 38) if node.op == "*" else max(left, right)
        if isinstance(node, A.Unary):
            return self.places(node.operand)
        if isinstance(node, A.If):
            return max(self.places(node.then), self.places(node.other))
        if isinstance(node, A.Name):
            return self._name_places(node, element=True)
        if isinstance(node, A.Comprehension) and node.kind == "sum":
            return self.places(node.body)
        if isinstance(node, A.Call):
            written = written_places(node.args[1]) if node.func == "round" else None
            if written is not None:
                return max(written, 0)
            if node.func in ("min", "max", "sum") and len(node.args) == 1:
                return self.list_places(node.args[0])
            if node.func in ("abs", "min", "max", "coalesce"):
                return max(self.places(a) for a in node.args)
        return DECIMAL_SCALE

    def list_places(self, node: A.Node) -> int:
        """The places of the elements of a compiled list of numbers (see `places`)."""
        elem = self.info_type(node).elem
        if elem is None or elem.kind != "decimal":
            return 0
        made = self.made.get(id(node))
        if isinstance(node, A.ListLit) and made is not None:
            found = [decimal_scale(i) for i in made.v.expressions if not isinstance(i, exp.Null)]
            if found and all(x is not None for x in found):
                return max(x for x in found if x is not None)
        if isinstance(node, A.Comprehension) and node.kind == "map":
            return self.places(node.body)
        if isinstance(node, A.Comprehension) and node.kind == "filter":
            return self.list_places(node.iterable)
        if isinstance(node, A.Call) and node.func == "sort" and node.args:
            return self.list_places(node.args[0])
        if isinstance(node, A.Name):
            return self._name_places(node, element=False)
        return DECIMAL_SCALE

    def _name_places(self, node: A.Name, element: bool) -> int:
        """The places of a name: a quantifier's element (those of its list's elements) or a
        definition (its expression's, compiled again here); 10 for what neither tells."""
        if element and id(node) in self.bound:
            return self.list_places(self.bound[id(node)])
        found = self._definition_compiled(node.name)
        if found is None:
            return DECIMAL_SCALE
        sub, root = found
        return sub.places(root) if element else sub.list_places(root)

    def _too_big(self, node: A.Node, t: T.Type) -> str:
        """The row's error where a whole number passes what a BIGINT holds."""
        what = {
            "int": "an integer past the 64 bits",
            "duration": "a duration past the 292,000 years",
            "months": "a number of months past the 64 bits",
        }[t.kind]
        return f"{what} a SQL column holds, in {self._where(node)} {SF.PYTHON_DECIDES}"

    def _days_later(
        self, node: A.Node, t: T.Type, d: exp.Expression, days: exp.Expression, args: list[SV]
    ) -> SV:
        """A date moved by whole days; past the years 1 to 9999 the row's error, in the
        interpreter's words (Python's date arithmetic overflows). Where the duration is bounded
        (`4 weeks`) only the dates within that reach of an edge are tested."""
        reach = bound(node, self.checked, self.consts)
        near = None
        if reach is not None and reach // US_PER_DAY + 1 < DAYS_SPAN:
            span = dt.timedelta(days=reach // US_PER_DAY + 1)
            if self._edge(d, span):
                return self._strict(t, self._moved(self._plus_days(d, days), d, span), args)
            near = _near_edge(d, span)

        def made(z: exp.Expression) -> tuple[exp.Expression, exp.Expression]:
            zn = _near_edge(z, span) if near is not None else None
            operands = [z if a.v is d else a.v for a in args]  # each operand known
            return SF.dated(self._plus_days(z, days), operands, self._range_error(), zn)

        v, own = self._bound(d, made)
        v, own = self._once(v), self._once(own)
        return self._strict(t, v, args, own)

    def _int_times(self, node: A.Node) -> bool:
        """Whether a duration is a whole number times a duration (`k * 1 day`)."""
        if not (isinstance(node, A.Binary) and node.op == "*"):
            return False
        kinds = {self.info_type(node.left).kind, self.info_type(node.right).kind}
        return kinds == {"int", "duration"}

    def _edge(self, d: exp.Expression, span: dt.timedelta) -> bool:
        """Whether a date moved by at most `span` is left untested here, kept for the query's
        one test per row (`Scope.edges`): it reads no list element, or only through a bounded
        move of a date that reads none (a date inside a lambda is tested where it is moved,
        only where it lies within `span` of an edge)."""
        edges = self.scope.edges
        if edges is None:
            return False
        # a date that is itself moved (`as_of - 1 month + 1 day`): the date it was moved from,
        # with both reaches, so that the row tests the plain date (no calendar sum per row);
        # a date moved from the row's by an element's bounded size (`as_of - k * 1 day`, `k`
        # from a list written out) is tested on the row's date too
        base, inner = self.moved_from.get(d.sql(), (d, dt.timedelta(0)))
        if any(_LAMBDA_VAR.fullmatch(c.name) for c in base.find_all(exp.Column)):
            return False
        key = base.sql()
        found = edges.get(key)
        if found is None or found[1] < span + inner:
            edges[key] = (base.copy(), span + inner)
        return True

    def _moved(
        self, value: exp.Expression, d: exp.Expression, span: dt.timedelta
    ) -> exp.Expression:
        """`value`, the date `d` moved by at most `span` untested: noted, for `_edge`."""
        base, inner = self.moved_from.get(d.sql(), (d, dt.timedelta(0)))
        self.moved_from[value.sql()] = (base, span + inner)
        return value

    def _plus_days(self, d: exp.Expression, days: exp.Expression) -> exp.Expression:
        """A date moved by whole days: in DuckDB `d + n` (a DATE, where an interval would make a
        timestamp to cast back), `d - n` for a negative literal."""
        if self.scope.dialect == "spark":
            return date_add_days(d, days)
        k = literal_int(days)
        if k is not None and k < 0:
            return exp.Sub(this=d.copy(), expression=num(-k))
        if k is not None:
            return exp.Add(this=d.copy(), expression=num(k))
        return exp.Add(this=d.copy(), expression=cast(days, "INT"))

    def _once(self, e: exp.Expression) -> exp.Expression:
        """Inside a quantifier, a row-level expression that reads no element (`as_of - 6 days`)
        as a column of its own, so that the row works it out once, not once per element."""
        if not self.locals or self.scope.hoist is None:
            return e
        if any(_LAMBDA_VAR.fullmatch(c.name) for c in e.find_all(exp.Column)):
            return e
        return self._hoisted(e)

    def _months_later(
        self, node: A.Node, t: T.Type, d: exp.Expression, n: exp.Expression, args: list[SV]
    ) -> SV:
        """A date moved by calendar months; a year past 1 to 9999 is the row's error, named as
        the interpreter names it (`year 10000 is out of range`). Where the months are bounded
        only the dates within that many years of an edge are tested."""
        reach = bound(node, self.checked, self.consts)
        near = None
        span: dt.timedelta | None = None
        if reach is not None and reach // 12 + 1 < 4999:
            span = dt.timedelta(days=(reach // 12 + 2) * 366)
            if self._edge(d, span):
                return self._strict(t, self._moved(self._add_months(d, n), d, span), args)
            near = _near_edge(d, span)
        v, own = self._bound(d, lambda z: self._months_moved(z, n, near is not None, span))
        v, own = self._once(v), self._once(own)
        return self._strict(t, v, args, own)

    def _months_moved(
        self, d: exp.Expression, n: exp.Expression, edged: bool, span: dt.timedelta | None
    ) -> tuple[exp.Expression, exp.Expression]:
        """The value and own error of `d` moved by `n` months (tested near the calendar's
        edges only where `edged`, within `span`)."""
        near = _near_edge(d, span) if edged and span is not None else None
        total = exp.Add(
            this=exp.Add(
                this=exp.Mul(this=cast(exp.Year(this=d.copy()), "BIGINT"), expression=num(12)),
                expression=exp.Sub(
                    this=cast(exp.Month(this=d.copy()), "BIGINT"), expression=num(1)
                ),
            ),
            expression=exp.Paren(this=n.copy()),
        )
        year = floor_div(total, 12)
        ok = exp.Between(this=year.copy(), low=num(1), high=num(9999))
        text = exp.DPipe(
            this=exp.DPipe(
                this=exp.Literal.string(f"{self._range_error()}year "),
                expression=cast(year, "VARCHAR"),
            ),
            expression=exp.Literal.string(" is out of range"),
        )
        known = exp.And(this=not_null(d), expression=not_null(n))
        own = case(
            [(exp.And(this=known, expression=exp.Not(this=ok)), error_text(text, "E-EVAL-RANGE"))],
            SF.no_error(),
        )
        return SF.edged(self._add_months(d, n), ok, own, near, "DATE")

    def _bound(
        self,
        d: exp.Expression,
        build: Callable[[exp.Expression], tuple[exp.Expression, exp.Expression]],
    ) -> tuple[exp.Expression, exp.Expression]:
        """`build` of the operand `d`, which it reads several times: where `d` reads a list
        element (so no column of the row can hold it), bound once per element by a lambda over
        a one-element list, so that a date moved again and again (in nested quantifiers)
        grows the SQL by a constant, not by a factor, per move."""
        if isinstance(d, (exp.Column, exp.Literal)) or not any(
            _LAMBDA_VAR.fullmatch(c.name) for c in d.find_all(exp.Column)
        ):
            return build(d)
        z = self._var()
        v, own = build(exp.column(z))
        one = exp.Array(expressions=[d.copy()])

        def let(body: exp.Expression) -> exp.Expression:
            return SF.dialect_fn(
                self.dialect, "LIST_EXTRACT", "TRY_ELEMENT_AT", list_map(one, z, body), num(1)
            )

        return let(v), let(own)

    def _range_error(self) -> str:
        """The start of the interpreter's words for a value out of range (engine.api)."""
        return f"a value in pack `{self.scope.pack}` went out of range: "

    def _Binary(self, node: A.Binary) -> SV:
        t = self.info_type(node)
        op = node.op
        if op in ("in", "not in"):
            return self._membership(node, t)
        if op == "+" and t.kind == "list":
            return self._concat(node, t)
        left, right = self.gen(node.left), self.gen(node.right)
        lk, rk = left.t.kind, right.t.kind
        lv, rv = left.v, right.v
        if op in ("==", "!=", "<", "<=", ">", ">="):
            cls = {
                "==": exp.EQ,
                "!=": exp.NEQ,
                "<": exp.LT,
                "<=": exp.LTE,
                ">": exp.GT,
                ">=": exp.GTE,
            }[op]
            if "any" in (lk, rk):
                raise Unsupported(f"comparison `{op}`", f"between {lk} and {rk}")
            return self._strict(t, cls(this=lv, expression=rv), [left, right])
        if op in ("+", "-"):
            if lk == "date" and rk == "duration":
                # Python's date - duration subtracts the duration's whole days (rounded down)
                days = _whole_days(rv, op == "-", self._int_times(node.right))
                return self._days_later(node.right, t, lv, days, [left, right])
            if lk == "duration" and rk == "date" and op == "+":
                days = _whole_days(lv, False, self._int_times(node.left))
                return self._days_later(node.left, t, rv, days, [left, right])
            if lk == "date" and rk == "months":
                n = rv if op == "+" else exp.Neg(this=exp.Paren(this=rv))
                return self._months_later(node.right, t, lv, n, [left, right])
            if lk == "months" and rk == "date" and op == "+":
                return self._months_later(node.left, t, rv, lv, [left, right])
            if lk == "date" and rk == "date" and op == "-":
                days = exp.DateDiff(this=lv, expression=rv, unit=exp.var("DAY"))
                span = exp.Mul(this=days, expression=num(US_PER_DAY))
                return self._strict(t, span, [left, right])
            if lk == rk and lk in ("int", "duration", "months"):
                cls2 = exp.Add if op == "+" else exp.Sub
                return self._whole(node, t, cls2, [left, right])
            if {lk, rk} <= {"int", "decimal"} and "decimal" in (lk, rk):
                cls3 = exp.Add if op == "+" else exp.Sub
                return self._decimal(node, t, cls3, [left, right])
            if lk == rk == "string" and op == "+":
                return self._strict(t, exp.DPipe(this=lv, expression=rv), [left, right])
            raise Unsupported(f"`{op}`", f"between {left.t.describe()} and {right.t.describe()}")
        if op == "*":
            if {lk, rk} <= {"int", "duration", "months"} and "int" in (lk, rk):
                return self._whole(node, t, exp.Mul, [left, right])
            if {lk, rk} <= {"int", "decimal"}:
                return self._decimal(node, t, exp.Mul, [left, right])
            raise Unsupported("`*`", f"between {left.t.describe()} and {right.t.describe()}")
        if op == "/" and lk == rk == "int":
            quotient, error = SF.divide_whole(self.dialect, lv, rv, self._where(node))
            return self._strict(t, quotient, [left, right], error)
        if op == "/" and {lk, rk} <= {"int", "decimal"}:
            lk_t, rk_t = left.t, right.t
            scales = (
                decimal_scale(SF.as_decimal(lv, lk_t)),
                decimal_scale(SF.as_decimal(rv, rk_t)),
            )
            written = (self._written(node.left), self._written(node.right))
            quotient, error = SF.divide(self.dialect, lv, rv, self._where(node), scales, written)
            return self._strict(t, quotient, [left, right], error)
        if op == "/" and lk == "duration" and rk == "int":
            quotient, error = SF.divide_duration(lv, rv, self._where(node))
            return self._strict(t, quotient, [left, right], error)
        raise Unsupported(f"`{op}`", "no SQL form")

    def shapes(self) -> Shapes:
        """The exponents and signs of zero of this expression's decimals (for `text`)."""
        return Shapes(
            self.checked, lambda n: self.made[id(n)].v, self.dialect, self._var, compiler=self
        )

    def definition_shapes(self, name: str) -> tuple[Shapes, A.Node] | None:
        """A definition's expression compiled again here, for the shape of its decimal (its
        value is the definition's column; the places follow from its expression): the
        `Shapes` of that compilation and its root; None for a name that is no definition."""
        found = self._definition_compiled(name)
        if found is None:
            return None
        sub, root = found
        return sub.shapes(), root

    def _definition_compiled(self, name: str) -> tuple[ExprCompiler, A.Node] | None:
        """A definition's expression compiled again here (its lambdas numbered on from this
        compilation's), with its root; None for a name that is no definition."""
        checked = self.scope.definition(name) if self.scope.definition is not None else None
        if checked is None:
            return None
        sub = ExprCompiler(checked, self.scope)
        sub.n_lambda = self.n_lambda
        sub.compile()
        self.n_lambda = sub.n_lambda
        return sub, checked.node

    def _written(self, node: A.Node) -> exp.Expression | None:
        """A decimal operand's text as the interpreter writes it (for an error's words), where
        the expression tells its places; None otherwise (SQL's text stands in)."""
        if self.info_type(node).kind != "decimal":
            return None
        shapes = self.shapes()
        shape = shapes.of(node)
        if shape.exponent is None or shape.doubt is not None:
            return None
        v = self.made[id(node)].v
        return SF.decimal_text(self.dialect, v, shape.exponent, shape.negative_zero, self._var)

    @property
    def dialect(self) -> str:
        return self.scope.dialect

    def _where(self, node: A.Node) -> str:
        """Where a node stands, for a run-time error message (the interpreter's words)."""
        return f"{self.scope.origin} at {node.loc.line}:{node.loc.col}"

    def _concat(self, node: A.Binary, t: T.Type) -> SV:
        """`a + b + c` of lists as one concatenation, each operand written once in the value
        (a nested form would repeat the left side at every step)."""
        parts = [self.gen(n) for n in _operands(node, self.checked)]
        missing = _any_null([p.v for p in parts])
        cat: exp.Expression = parts[0].v.copy()
        for p in parts[1:]:
            cat = exp.ArrayConcat(this=cat, expressions=[p.v.copy()])
        return self._strict(t, case([(missing, typed_null(t))], cat), parts)

    def _add_months(self, d: exp.Expression, n: exp.Expression) -> exp.Expression:
        """Calendar months, clamped at the month's end (both engines clamp)."""
        if self.scope.dialect == "spark":
            return exp.Anonymous(this="ADD_MONTHS", expressions=[d.copy(), n.copy()])
        interval = exp.Interval(this=exp.Paren(this=n.copy()), unit=exp.var("MONTH"))
        return cast(exp.Add(this=d.copy(), expression=interval), "DATE")

    def _membership(self, node: A.Binary, t: T.Type) -> SV:
        left = self.gen(node.left)
        negate = node.op == "not in"
        right_node = node.right
        if (
            isinstance(right_node, A.ListLit)
            and right_node.items
            and all(
                isinstance(i, A.Lit) and i.kind in ("string", "int", "bool", "date")
                for i in right_node.items
            )
        ):
            items = [const(i.value) for i in right_node.items]  # type: ignore[attr-defined]
            v: exp.Expression = exp.In(this=left.v.copy(), expressions=items)
            if negate:
                v = exp.Not(this=v)
            return SV(v, left.m, t, left.bits, e=left.e)
        right = self.gen(right_node)
        if right.t.kind != "list":
            raise Unsupported("`in`", "membership in something that is not a list")
        var = self._var()
        x = exp.column(var)
        contains = list_exists(right.v, var, exp.EQ(this=x, expression=left.v.copy()))
        has_null = list_exists(right.v, var, is_null(x))
        found = case(
            [
                (is_null(left.v), exp.Null()),
                (is_null(right.v), exp.Null()),
                (contains, exp.true()),
                (has_null, exp.Null()),
            ],
            exp.false(),
        )
        m = case([(is_null(found), bor(left.m, right.m))], ZERO.copy())
        v = exp.Not(this=exp.Paren(this=found)) if negate else found
        return SV(v, m, t, left.bits | right.bits, e=first_error(left.e, right.e))

    def _Logic(self, node: A.Logic) -> SV:
        operands = [self.gen(o) for o in _flatten(node, node.op)]
        t = self.info_type(node)
        cls = exp.And if node.op == "and" else exp.Or
        v = exp.Paren(this=operands[0].v.copy())
        for o in operands[1:]:
            v = cls(this=v, expression=exp.Paren(this=o.v.copy()))
        v = exp.Paren(this=v)
        m = bor(*(o.m for o in operands))
        bits = frozenset().union(*(o.bits for o in operands))
        if not is_zero(m):
            m = case([(is_null(v), m)], ZERO.copy())
        return SV(v, m, t, bits, e=_short_circuit_error(operands, node.op))

    def _If(self, node: A.If) -> SV:
        t = self.info_type(node)
        c = self.gen(node.cond)
        # each branch is read only on the rows that take it: what it hoists is worked out there
        # alone (the other branch is taken wherever the condition is not true)
        self.guards.append(is_true(c.v))
        try:
            a = self.gen(node.then)
        finally:
            self.guards.pop()
        self.guards.append(exp.Not(this=exp.Paren(this=is_true(c.v))))
        try:
            b = self.gen(node.other)
        finally:
            self.guards.pop()
        av = a.v if not isinstance(a.v, exp.Null) else typed_null(t)
        bv = b.v if not isinstance(b.v, exp.Null) else typed_null(t)
        if t.kind == "decimal":
            av, bv = same_scale([(av, a.t), (bv, b.t)])
        if not self.nullable(node.cond):
            v = case([(c.v, av)], bv)
            m = case([(c.v, a.m)], b.m) if not (is_zero(a.m) and is_zero(b.m)) else ZERO.copy()
        else:
            neg = exp.Not(this=exp.Paren(this=c.v.copy()))
            v = case([(c.v, av), (neg, bv)], typed_null(t))
            m = case([(c.v, a.m), (neg, b.m)], c.m)
        # the condition's error, else the error of the branch taken (the other is not worked out)
        taken = [
            (w, x.e)
            for w, x in ((c.v, a), (exp.Not(this=exp.Paren(this=c.v)), b))
            if x.e is not None
        ]
        branch = case(taken, cast(exp.Null(), "VARCHAR")) if taken else None
        # a choice between two facts is a fact: a field missing from it is unknown (named by
        # the path both read, else `?.field`, as the interpreter names it)
        facts = a.facts and b.facts
        return SV(v, m, t, c.bits | a.bits | b.bits, facts=facts, e=first_error(c.e, branch))

    def _var(self) -> str:
        self.n_lambda += 1
        return f"x{self.n_lambda}"

    def _Comprehension(self, node: A.Comprehension) -> SV:
        t = self.info_type(node)
        items = self.gen(node.iterable)
        if items.t.kind != "list" or items.t.elem is None:
            raise Unsupported(node.kind, "a quantifier over something that is not a typed list")
        var = self._var()
        x = exp.column(var)
        # a fact list, or one chosen or kept from a fact list (the checker gives it the list's
        # path): its elements are the facts' own, each field naming its own path
        facts = items.facts or self.checked.info[id(node.iterable)].path is not None
        if facts:
            elem = SV(x, ZERO.copy(), items.t.elem, frozenset(), facts=True)
        else:  # a computed list: an unknown inside an element is among the list's unknowns
            elem = SV(x, items.m.copy(), items.t.elem, items.bits)
        saved = self.locals.get(node.var)
        saved_binding = self.binding.get(node.var)
        saved_consts = self.consts
        self.locals[node.var] = elem
        self.binding[node.var] = node.iterable
        self.consts = with_local(
            saved_consts, node.var, element_bound(node.iterable, self.checked, saved_consts)
        )
        self.lambdas[id(node)] = (var, items.v)
        self.frames.append([])
        try:
            body = self.gen(node.body)
        finally:
            self.consts = saved_consts
            shared = self.frames.pop()
            if saved is None:
                del self.locals[node.var]
            else:
                self.locals[node.var] = saved
            if saved_binding is None:
                del self.binding[node.var]
            else:
                self.binding[node.var] = saved_binding
        L = items.v
        # the body once per element (value, with its mask when it may have one); every
        # quantity below reads that list and no column of the row (see `_per_element`)
        each, val, msk = self._per_element(L, var, body, shared)
        y = self._var()
        yv = val(exp.column(y))
        any_unknown = list_exists(each, y, is_null(yv))
        pending = self._pending_mask(each, body, val, msk)
        kind = node.kind
        if kind in ("any", "all"):
            decisive = exp.true() if kind == "any" else exp.false()
            hit = yv.copy() if kind == "any" else exp.Not(this=exp.Paren(this=yv.copy()))
            decided = list_exists(each, y, hit)
            v = case(
                [(is_null(L), exp.Null()), (decided, decisive), (any_unknown, exp.Null())],
                exp.false() if kind == "any" else exp.true(),
            )
            m = case([(is_null(L), items.m), (decided, ZERO.copy())], pending)
            err = self._element_error(L, each, items, body, stops_on=kind)
            return SV(v, m, t, items.bits | body.bits, e=err)
        if kind in ("count", "filter"):
            if kind == "count":
                value = list_size(list_filter(each, y, is_true(yv)))
            else:
                value = list_filter(L, var, _let_all(self.dialect, shared, is_true(body.v)))
            v = case([(is_null(L), exp.Null()), (any_unknown, exp.Null())], value)
            inner = ZERO.copy() if kind == "count" else items.m
            m = case([(is_null(L), items.m), (any_unknown, pending)], inner)
            kept_facts = facts and kind == "filter"  # the elements are still facts
            err = self._element_error(L, each, items, body)
            return SV(v, m, t, items.bits | body.bits, facts=kept_facts, e=err)
        if kind == "map":
            plain = is_zero(body.m) and body.e is None
            v = each if plain else list_map(each, y, yv)
            if self.scope.hoist is not None and not self.locals and not isinstance(v, exp.Column):
                v = self._hoisted(v)  # the mapped list once, however often it is read
            if body.t.kind in ("list", "record"):  # a known element may hold unknowns too
                pending = self._pending_mask(each, body, val, msk, every=True)
            m = case([(is_null(L), items.m)], pending)
            err = self._element_error(L, each, items, body)
            return SV(v, m, t, items.bits | body.bits, e=err)
        if kind == "sum":
            if t.kind not in ("int", "duration", "months", "decimal"):
                raise Unsupported("sum", f"a sum of {t.describe()} values")
            plain = is_zero(body.m) and body.e is None
            scale = self.places(node.body) if t.kind == "decimal" else None
            summed = each if plain else list_map(each, y, yv)
            total, own = self._list_sum(summed, t, node, scale)
            v = case([(is_null(L), exp.Null()), (any_unknown, exp.Null())], total)
            m = case([(is_null(L), items.m), (any_unknown, pending)], ZERO.copy())
            err = self._element_error(L, each, items, body)
            if own is not None:  # the sum's own error, once every element is worked out
                own = case([(exp.Or(this=is_null(L), expression=any_unknown), SF.no_error())], own)
                err = first_error(err, own)
            return SV(v, m, t, items.bits | body.bits, e=err)
        raise Unsupported(kind, "no SQL form")

    def _element_error(
        self,
        L: exp.Expression,
        each: exp.Expression,
        items: SV,
        body: SV,
        stops_on: str | None = None,
    ) -> Err:
        """The error of a quantifier: the list's own, else that of the first element whose
        body errs (the interpreter works the elements out in order; `any` stops at the first
        true element, `all` at the first false one: `stops_on`)."""
        if body.e is None:
            return items.e
        y = self._var()
        ye = exp.column(y)
        stop = has_error(field_of(ye, "e"))
        if stops_on is not None:  # an element that decides (and does not err) ends the search
            hit = field_of(ye.copy(), "v")
            if stops_on == "all":
                hit = exp.Not(this=exp.Paren(this=hit))
            stop = exp.Or(this=stop, expression=is_true(hit))
        # the first element that errs or decides, read once from the list: its error, if any
        first = SF.dialect_fn(
            self.dialect, "LIST_EXTRACT", "TRY_ELEMENT_AT", list_filter(each, y, stop), num(1)
        )
        own = case([(not_null(L), field_of(first, "e"))], exp.Null())
        return first_error(items.e, own)

    def _shared(self, e: exp.Expression) -> exp.Expression:
        """Inside a quantifier's body, a value read more than once (a nested quantifier's
        per-element list) bound once per element of the innermost quantifier, as a name its
        lambda defines: so that nesting grows the SQL by a constant, not by a factor."""
        if not self.frames or isinstance(e, (exp.Column, exp.Literal)):
            return e
        name = self._var()
        self.frames[-1].append((name, e))
        return exp.column(name)

    def _per_element(
        self,
        L: exp.Expression,
        var: str,
        body: SV,
        shared: list[tuple[str, exp.Expression]] = [],  # noqa: B006 - read only
    ) -> tuple[
        exp.Expression,
        Callable[[exp.Expression], exp.Expression],
        Callable[[exp.Expression], exp.Expression],
    ]:
        """The body evaluated once for each element: a list of values, or of (v, m) structs
        when the body may be unknown. Outside any other quantifier the list is hoisted into
        a column of its own, so the lambda that reads the row's columns runs once per row
        (DuckDB's lambdas that capture outer columns are slow) and the counts, unknowns and
        masks are taken from it by lambdas that read nothing but the element."""
        bv = body.v if not isinstance(body.v, exp.Null) else typed_null(body.t)
        if body.e is not None:  # each element's error beside its value (and mask)
            fields = [("v", bv)] + ([] if is_zero(body.m) else [("m", body.m)])
            each = list_map(L, var, struct([*fields, ("e", body.e)]))
            zero_mask = is_zero(body.m)

            def val(e: exp.Expression) -> exp.Expression:
                return field_of(e, "v")

            def msk(e: exp.Expression) -> exp.Expression:
                return ZERO.copy() if zero_mask else field_of(e, "m")

        elif is_zero(body.m):
            each = list_map(L, var, bv)

            def val(e: exp.Expression) -> exp.Expression:
                return e

            def msk(e: exp.Expression) -> exp.Expression:
                return ZERO.copy()

        else:
            each = list_map(L, var, struct([("v", bv), ("m", body.m)]))

            def val(e: exp.Expression) -> exp.Expression:
                return field_of(e, "v")

            def msk(e: exp.Expression) -> exp.Expression:
                return field_of(e, "m")

        if shared:  # the values the body shares, bound once per element (see `_shared`)
            lam = each.expression
            lam.set("this", _let_all(self.dialect, shared, lam.this))
        if self.scope.hoist is not None and not self.locals:
            each = self._hoisted(each)
        elif self.locals:
            each = self._shared(each)
        return each, val, msk

    def _pending_mask(
        self,
        each: exp.Expression,
        body: SV,
        val: Callable[[exp.Expression], exp.Expression],
        msk: Callable[[exp.Expression], exp.Expression],
        every: bool = False,
    ) -> exp.Expression:
        """The paths of the elements whose body is unknown (with `every`, of every element's
        body, for a list or record that holds unknowns inside): the OR of their masks, read
        from the per-element list."""
        if is_zero(body.m):
            return ZERO.copy()
        y = self._var()
        ye = exp.column(y)
        one = msk(ye) if every else case([(is_null(val(ye.copy())), msk(ye))], ZERO.copy())
        return self._list_bit_or(list_map(each, y, one))

    def _list_bit_or(self, items: exp.Expression) -> exp.Expression:
        """The bitwise OR of a list of BIGINT masks (0 for an empty list)."""
        if self.scope.dialect == "spark":
            a, b = self._var(), self._var()
            merge = exp.Lambda(
                this=exp.BitwiseOr(this=exp.column(a), expression=exp.column(b)),
                expressions=[exp.to_identifier(a), exp.to_identifier(b)],
            )
            return exp.Anonymous(
                this="AGGREGATE", expressions=[items, exp.cast(ZERO.copy(), "BIGINT"), merge]
            )
        agg = exp.Anonymous(
            this="LIST_AGGREGATE", expressions=[items, exp.Literal.string("bit_or")]
        )
        return exp.Coalesce(this=agg, expressions=[ZERO.copy()])

    def _list_sum(
        self,
        items: exp.Expression,
        t: T.Type,
        node: A.Node | None = None,
        scale: int | None = None,
    ) -> Any:
        """The sum of a list's values (0 when it is empty, as the interpreter's empty sum); with
        `node`, a pair: the sum and its error, worked out exactly and checked where it may pass
        a BIGINT, or for decimals (at `scale` places) 38 digits (None when it cannot)."""
        if t.kind == "decimal":
            where = node if node is not None else self.checked.node
            message = (
                f"a sum of decimals past the 38 digits a SQL column holds, in "
                f"{self._where(where)} {SF.PYTHON_DECIDES}"
            )
            total, own = SF.decimal_sum(
                self.dialect, items, self._var(), self._var(), scale, message
            )
            return total if node is None else (total, own)
        if node is not None:
            if not may_overflow(node, self.checked, self.consts):
                return self._list_sum(items, t), None
            wide = SF.wide_sum(self.dialect, items, self._var(), self._var())
            return SF.checked_whole(lambda x: x, [wide], self._too_big(node, t))
        if self.scope.dialect == "spark":
            a, b = self._var(), self._var()
            merge = exp.Lambda(
                this=exp.Add(this=exp.column(a), expression=exp.column(b)),
                expressions=[exp.to_identifier(a), exp.to_identifier(b)],
            )
            return exp.Anonymous(
                this="AGGREGATE", expressions=[items, cast(ZERO.copy(), "BIGINT"), merge]
            )
        return exp.Coalesce(
            this=cast(exp.Anonymous(this="LIST_SUM", expressions=[items]), "BIGINT"),
            expressions=[ZERO.copy()],
        )

    # -- functions -------------------------------------------------------------------------

    def _Call(self, node: A.Call) -> SV:
        args = [self.gen(a) for a in node.args]
        sv = self._call(node, args)
        err = first_error(*(a.e for a in args))  # every argument is worked out first
        return sv if sv.e is not None or err is None else replace(sv, e=err)

    def _call(self, node: A.Call, args: list[SV]) -> SV:
        t = self.info_type(node)
        f = node.func
        bits = frozenset().union(*(a.bits for a in args)) if args else frozenset()
        if f == "known":
            return SV(not_null(args[0].v), ZERO.copy(), t)
        if f == "coalesce":
            # the arguments after the first literal other than null are never read: nothing is
            # unknown from them, and nothing before it is unknown once it is taken
            stop = next(
                (
                    i
                    for i, a in enumerate(node.args)
                    if isinstance(a, A.Lit) and a.kind != "null" and is_zero(args[i].m)
                ),
                None,
            )
            if stop is not None:
                args = args[: stop + 1]
            vals = [a.v if not isinstance(a.v, exp.Null) else typed_null(t) for a in args]
            if t.kind == "decimal":
                vals = same_scale([(v, a.t) for v, a in zip(vals, args, strict=True)])
            first = exp.Coalesce(this=vals[0].copy(), expressions=[x.copy() for x in vals[1:]])
            m = ZERO.copy() if stop is not None else bor(*(a.m for a in args))
            if not is_zero(m):
                m = case([(is_null(first), m)], ZERO.copy())
            return SV(first, m, t, bits)
        if f == "is_none":
            x = args[0]
            sentinel = _sentinel_test(x)
            if sentinel is not None:
                return SV(sentinel, x.m, t, bits)
            none = exp.And(
                this=is_null(x.v), expression=exp.EQ(this=x.m.copy(), expression=ZERO.copy())
            )
            answer = case([(none, exp.true()), (is_null(x.v), exp.Null())], exp.false())
            return SV(answer, case([(is_null(x.v), x.m)], ZERO.copy()), t, bits)
        if f == "compact":
            var = self._var()
            kept = list_filter(args[0].v, var, not_null(exp.column(var)))
            return SV(kept, case([(is_null(args[0].v), args[0].m)], ZERO.copy()), t, bits)
        if f == "unique":  # the first of each value, in order (DuckDB counts from 1, Spark 0)
            items = args[0].v
            xv, i = self._var(), self._var()
            pos: exp.Expression = exp.column(i)
            if self.scope.dialect == "spark":
                pos = exp.Add(this=pos, expression=num(1))
            first = exp.EQ(
                this=exp.ArrayPosition(this=items.copy(), expression=exp.column(xv)), expression=pos
            )
            lam2 = exp.Lambda(this=first, expressions=[exp.to_identifier(xv), exp.to_identifier(i)])
            kept = exp.ArrayFilter(this=items.copy(), expression=lam2)
            return SV(kept, args[0].m, t, bits)
        as_of = self.scope.as_of.copy()
        a0 = args[0].v if args else None
        v: exp.Expression
        if f == "len":
            if args[0].t.kind == "string":
                v = exp.Length(this=a0)
            else:
                v = list_size(a0)
        elif f == "minutes":
            v = floor_div(a0, US_PER_MINUTE)
        elif f == "days":
            v = floor_div(a0, US_PER_DAY)
        elif f in ("age", "age_on"):
            born = a0
            on = as_of if f == "age" else args[1].v
            v = _years_between(born, on)
        elif f == "month_end":
            v = exp.LastDay(this=a0)
        elif f == "month_start":
            v = cast(exp.DateTrunc(this=a0, unit=exp.var("MONTH")), "DATE")
        elif f == "week_start":
            v = cast(exp.DateTrunc(this=a0, unit=exp.var("WEEK")), "DATE")
        elif f in ("year", "month", "day"):
            cls = {"year": exp.Year, "month": exp.Month, "day": exp.Day}[f]
            v = cast(cls(this=a0), "BIGINT")
        elif f in ("lower", "upper"):
            v = (exp.Lower if f == "lower" else exp.Upper)(this=a0)
        elif f in ("earliest", "latest", "min", "max") and len(args) >= 2:
            cls = exp.Least if f in ("earliest", "min") else exp.Greatest
            vals = [a.v for a in args]
            if t.kind == "decimal":
                vals = same_scale([(a.v, a.t) for a in args])
            picked = cls(this=vals[0].copy(), expressions=[v.copy() for v in vals[1:]])
            any_null = _any_null([a.v for a in args])
            v = case([(any_null, typed_null(t))], picked)
        elif f == "starts_with":
            v = exp.StartsWith(this=a0, expression=args[1].v)
        elif f == "contains":
            v = exp.GT(
                this=exp.StrPosition(
                    this=exp.Lower(this=a0), substr=exp.Lower(this=args[1].v.copy())
                ),
                expression=ZERO.copy(),
            )
        elif f == "date":
            return self._parse_date(args[0], t)
        elif f in ("earliest", "latest", "min", "max"):  # of one list
            least = f in ("earliest", "min")
            v = SF.extreme(self.dialect, a0, self._var(), t, least)
        elif f == "sum":
            if t.kind not in ("int", "duration", "months", "decimal"):
                raise Unsupported("sum()", f"a sum of {t.describe()} values")
            scale = self.list_places(node.args[0]) if t.kind == "decimal" else None
            total, own = self._list_sum(a0, t, node, scale)
            v = SF.whole_list(a0, self._var(), t, total)
            sv = self._guarded(node, t, v, args, args[0].m)
            return sv if own is None else replace(sv, e=first_error(*(a.e for a in args), own))
        elif f == "sort":
            v = SF.sort_list(self.dialect, a0, self._var(), t)
        elif f == "flatten":
            v = SF.flatten_list(self.dialect, a0, self._var(), args[0].t.elem, t)
        elif f == "contains_any":
            v = SF.contains_any(a0, args[1].v, self._var())
        elif f == "index_of":
            v = SF.index_of(self.dialect, a0, args[1].v, self._var())
        elif f == "text" and args[0].t.kind == "decimal":
            shapes = self.shapes()
            v, own = text_of_decimal(shapes, node.args[0], a0, self._where(node))
            return self._strict(t, v, args, own)
        elif f == "text":
            v = SF.text_of(a0, args[0].t)
        elif f == "abs":
            if t.kind in KINDS and may_overflow(node, self.checked, self.consts):
                v, own = SF.checked_whole(lambda a: exp.Abs(this=a), [a0], self._too_big(node, t))
                return self._strict(t, v, args, own)
            v = exp.Abs(this=a0)
        elif f == "round":
            written = written_places(node.args[1])
            if written is None:
                # places worked out per record: rounded to 0 to 10 places, else the row errs
                v, own = SF.round_computed(a0, args[0].t, args[1].v)
                return self._strict(t, v, args, own)
            v, own = SF.round_to(a0, args[0].t, written, self._where(node))
            return self._strict(t, v, args, own)
        else:
            raise Unsupported(f"{f}()", "this function has no SQL form yet")
        if f in LIST_STRICT:
            return self._guarded(node, t, v, args, args[LIST_STRICT[f]].m)
        return self._strict(t, v, args)

    def _guarded(
        self, node: A.Call, t: T.Type, v: exp.Expression, args: list[SV], inner: exp.Expression
    ) -> SV:
        """As the interpreter guards a call: unknown with the paths of its nullable arguments
        (a list's unknown elements included) when one is unknown; otherwise unknown only from
        the unknown elements of its list argument (`inner`)."""
        bits = frozenset().union(*(a.bits for a in args))
        guarded = [a for a, n in zip(args, node.args, strict=True) if self.nullable(n)]
        if guarded:
            missing = _any_null([a.v for a in guarded])
            m = case([(missing, bor(*(a.m for a in guarded))), (is_null(v), inner)], ZERO.copy())
        else:
            m = case([(is_null(v), inner)], ZERO.copy()) if not is_zero(inner) else ZERO.copy()
        return SV(v, m, t, bits)

    def _parse_date(self, text: SV, t: T.Type) -> SV:
        """`date(text)`: YYYY-MM-DD or YYYY-MM (first day); a decided "none" otherwise."""
        s = exp.Trim(this=text.v.copy())
        shape = exp.RegexpLike(
            this=s.copy(), expression=exp.Literal.string(r"^[0-9]{4}-[0-9]{2}(-[0-9]{2})?$")
        )
        # a month `YYYY-MM` padded to its first day; a full date is already ten characters
        padded = exp.Pad(
            this=s, expression=num(10), fill_pattern=exp.Literal.string("-01"), is_left=False
        )
        v = case([(shape, exp.TryCast(this=padded, to=exp.DataType.build("DATE")))], typed_null(t))
        return SV(v, text.m, t, text.bits)


def with_error(sv: SV, err: Err) -> SV:
    """`sv` with the error of what was worked out before it (first) added to its own."""
    if err is None:
        return sv
    return replace(sv, e=first_error(err, sv.e))


def no_error() -> exp.Expression:
    return cast(exp.Null(), "VARCHAR")


def rules_error(setters: list[tuple[SV, SV]], combine: str, default: SV | None) -> Err:
    """The error of an output set by rules (each a condition and a value), as the interpreter
    reads them in order: a rule's condition, then the value of a rule that applies; `first`
    stops at the first rule that applies or is pending, `any` at the first that applies; the
    default is worked out when no rule gave a value."""
    if all(w.e is None and s.e is None for w, s in setters) and (
        default is None or default.e is None
    ):
        return None
    whens: list[tuple[exp.Expression, exp.Expression]] = []
    for w, s in setters:
        if w.e is not None:
            whens.append((has_error(w.e), w.e))
        applies = is_true(w.v)
        if combine == "collect":
            if s.e is not None:
                whens.append((exp.And(this=applies, expression=has_error(s.e)), s.e))
            continue
        whens.append((applies, s.e if s.e is not None else no_error()))
        if combine == "first":
            whens.append((is_null(w.v), no_error()))
    other = no_error()
    if default is not None and default.e is not None:
        if combine == "first":
            other = default.e
        elif combine == "collect":  # when none applies and none is pending
            none = exp.And(
                this=exp.Not(this=_any_null([w.v for w, _ in setters])) if setters else exp.true(),
                expression=exp.Not(
                    this=exp.Paren(this=_any_of([is_true(w.v) for w, _ in setters]) or exp.false())
                ),
            )
            other = case([(none, default.e)], no_error())
    if not whens:
        return other
    return case(whens, other)


def table_error(row: SV, vals: list[tuple[int, SV]], collect: bool, default: SV | None) -> Err:
    """The error of an output read from a table: the table's (its inputs'), then that of the
    value of each row matched (in order), then the default's when no row gave a value."""
    whens: list[tuple[exp.Expression, exp.Expression]] = []
    for i, sv in vals:
        if sv.e is None:
            continue
        hit = (
            exp.ArrayContains(this=row.v.copy(), expression=num(i))
            if collect
            else exp.EQ(this=row.v.copy(), expression=num(i))
        )
        whens.append((exp.And(this=is_true(hit), expression=has_error(sv.e)), sv.e))
    if default is not None and default.e is not None:
        valued = [num(i) for i, _ in vals]
        if collect:
            gave = (
                _any_of([exp.ArrayContains(this=row.v.copy(), expression=n) for n in valued])
                or exp.false()
            )
        else:
            gave = exp.In(this=row.v.copy(), expressions=valued) if valued else exp.false()
        none = exp.And(this=not_null(row.v), expression=exp.Not(this=exp.Paren(this=gave)))
        whens.append((is_true(none), default.e))
    own = case(whens, no_error()) if whens else None
    return first_error(row.e, own)


def may_err(checked: Checked, consts: Mapping[str, int] | None = None) -> bool:
    """Whether an expression can stop a decision at run time: it divides, moves a date (past
    year 9999), rounds to a computed number of places, or works out a whole number that may
    pass a BIGINT."""
    stack: list[tuple[A.Node, Mapping[str, int] | None]] = [(checked.node, consts)]
    while stack:
        n, sizes = stack.pop()
        if isinstance(n, A.Binary) and n.op == "/":
            return True
        if isinstance(n, A.Binary) and checked.info[id(n)].type.kind == "date":
            if n.op in ("+", "-") and _moves_far(n, checked, sizes):
                return True
        if isinstance(n, A.Call) and n.func == "round":
            written = written_places(n.args[1])
            if written is None or not 0 <= written <= DECIMAL_SCALE:
                return True
        if isinstance(n, A.Call) and n.func == "text" and _kind(n.args[0], checked) == "decimal":
            return True  # a zero rounded from the facts: the sign of its text is not known
        if isinstance(n, A.Call | A.Comprehension) and _is_decimal_sum(n, checked):
            return True
        if _whole_arithmetic(n) and may_overflow(n, checked, sizes):
            return True
        if _decimal_may_overflow(n, checked):
            return True
        if isinstance(n, A.Comprehension):  # its name bounded by a list written out
            size = element_bound(n.iterable, checked, sizes)
            stack.append((n.iterable, sizes))
            stack.append((n.body, with_local(sizes, n.var, size)))
        else:
            stack.extend((c, sizes) for c in A.children(n))
    return _moves_element(checked.node, checked, frozenset(), consts)


def _moves_element(
    node: A.Node,
    checked: Checked,
    bound_names: frozenset[str],
    consts: Mapping[str, int] | None = None,
) -> bool:
    """Whether a date that reads a quantifier's element is moved (by any duration or months):
    such a move is tested where it is made (see `Scope.edges`), so it may err there. A date
    moved by a bounded size from one that reads no element (`as_of - k * 1 day`, `k` from a
    list written out) is the row's date within a reach: tested once per row, as a row's is."""
    if isinstance(node, A.Comprehension):
        if _moves_element(node.iterable, checked, bound_names, consts):
            return True
        size = element_bound(node.iterable, checked, consts)
        inner = with_local(consts, node.var, size)
        return _moves_element(node.body, checked, bound_names | {node.var}, inner)
    if bound_names and isinstance(node, A.Binary) and node.op in ("+", "-"):
        kinds = (_kind(node.left, checked), _kind(node.right, checked))
        if _kind(node, checked) == "date" and "date" in kinds and kinds != ("date", "date"):
            d = node.left if kinds[0] == "date" else node.right
            if _reads_element(d, checked, bound_names, consts):
                return True
    return any(_moves_element(c, checked, bound_names, consts) for c in A.children(node))


def _reads_element(
    d: A.Node, checked: Checked, bound_names: frozenset[str], consts: Mapping[str, int] | None
) -> bool:
    """Whether a date reads a quantifier's element other than through a bounded move of a date
    that reads none (the compiler keeps such a date's base and reach, see `_edge`)."""
    if isinstance(d, A.Binary) and d.op in ("+", "-") and _kind(d, checked) == "date":
        kinds = (_kind(d.left, checked), _kind(d.right, checked))
        if "date" in kinds and not _moves_far(d, checked, consts):
            base = d.left if kinds[0] == "date" else d.right
            return _reads_element(base, checked, bound_names, consts)
    return any(isinstance(n, A.Name) and n.name in bound_names for n in _nodes(d))


def _nodes(node: A.Node) -> list[A.Node]:
    out, stack = [], [node]
    while stack:
        n = stack.pop()
        out.append(n)
        stack.extend(A.children(n))
    return out


def covers(values: Sequence[Any], versions: Sequence[Any]) -> bool:
    """Whether a parameter's dated values (`start`, `end`) cover every day of the pack's
    versions (`effective_from`, `effective_to`): if not, reading it may stop a decision."""
    spans = [(v.start or dt.date.min, v.end or dt.date.max) for v in values]
    for version in versions:
        day, last = version.effective_from, version.effective_to or dt.date.max
        while True:  # from the version's first day, through each value in force in turn
            end = next((e for s, e in spans if s <= day <= e), None)
            if end is None:
                return False
            if end >= last:
                break
            day = end + dt.timedelta(days=1)
    return True


def param_missing(name: str, as_of: exp.Expression) -> exp.Expression:
    """The interpreter's error for a parameter read on a day none of its values is in force."""
    message = exp.DPipe(
        this=exp.Literal.string(f"parameter `{name}` has no value in force on "),
        expression=cast(as_of.copy(), "VARCHAR"),
    )
    return error_text(message, "E-EVAL-PARAM")


def grows(checked: Checked) -> bool:
    """Whether an expression can build a list or text longer than any it reads (`+` of lists
    or texts, `flatten`): only such a value can pass the interpreter's budgets, as facts are
    held within them."""
    stack = [checked.node]
    while stack:
        n = stack.pop()
        if isinstance(n, A.Binary) and n.op == "+":
            if checked.info[id(n)].type.kind in ("list", "string"):
                return True
        if isinstance(n, A.Call) and n.func == "flatten":
            return True
        stack.extend(A.children(n))
    return False


def within_budget(kind: str, name: str, sv: SV) -> SV:
    """A definition's or output's value checked against the interpreter's budgets, as the
    interpreter checks it once worked out: E-EVAL-LIMIT-LIST for a list over `MAX_LIST` items,
    E-EVAL-LIMIT-STRING for a text over `MAX_TEXT` characters, in the interpreter's words."""
    if sv.t.kind == "list":
        n, limit, code, unit = list_size(sv.v), MAX_LIST, "E-EVAL-LIMIT-LIST", "a list of"
        what = " items"
    elif sv.t.kind == "string":
        n, limit, code, unit = exp.Length(this=sv.v.copy()), MAX_TEXT, "E-EVAL-LIMIT-STRING", ""
        unit, what = "a text of", " characters"
    else:
        return sv
    message = exp.DPipe(
        this=exp.DPipe(
            this=exp.Literal.string(f"{kind} `{name}` is {unit} "), expression=cast(n, "VARCHAR")
        ),
        expression=exp.Literal.string(f"{what}, over the budget of {limit}"),
    )
    over = error_if(exp.GT(this=n.copy(), expression=num(limit)), error_text(message, code))
    return replace(sv, e=first_error(sv.e, over))


def same_scale(values: list[tuple[exp.Expression, T.Type]]) -> list[exp.Expression]:
    """Decimals (and whole numbers) that one `CASE`, `COALESCE`, `LEAST` or `GREATEST` picks
    among, cast to one scale, the largest (10 where not known): both engines would otherwise
    give them the scale of one of them (DuckDB keeps 2 places of `0.50` and `0.0000001`)."""
    found = [decimal_scale(SF.as_decimal(v, t)) for v, t in values if t.kind != "null"]
    scale = max((x if x is not None else DECIMAL_SCALE) for x in found) if found else 0
    to = exp.DataType.build(f"DECIMAL(38, {scale})")
    out = []
    for v, t in values:
        if isinstance(v, exp.Null) or t.kind == "null":
            out.append(v)
        elif decimal_scale(SF.as_decimal(v, t)) == scale:
            out.append(v)  # already at that scale
        else:  # exp.Cast itself: sqlglot's `cast` keeps a DECIMAL as it is, whatever its scale
            out.append(exp.Cast(this=SF.as_decimal(v, t), to=to.copy()))
    return out


def written_places(node: A.Node) -> int | None:
    """The number of places of a `round` written in the pack (`2`, `-3`), None when worked out."""
    if isinstance(node, A.Lit) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, A.Unary) and node.op == "-":
        inner = written_places(node.operand)
        return None if inner is None else -inner
    return None


def _kind(node: A.Node, checked: Checked) -> str:
    return checked.info[id(node)].type.kind


def _is_decimal_sum(node: A.Node, checked: Checked) -> bool:
    """A sum of decimals (which may pass the 38 digits of a SQL decimal)."""
    if isinstance(node, A.Call) and node.func != "sum":
        return False
    if isinstance(node, A.Comprehension) and node.kind != "sum":
        return False
    return _kind(node, checked) == "decimal"


def _whole_arithmetic(n: A.Node) -> bool:
    """Whether a node works out a new whole number (the operations checked against a BIGINT)."""
    if isinstance(n, A.Binary):
        return n.op in ("+", "-", "*")
    if isinstance(n, A.Unary):
        return n.op == "-"
    if isinstance(n, A.Call):
        return n.func in ("abs", "sum")
    return isinstance(n, A.Comprehension) and n.kind == "sum"


def _let_all(
    dialect: str, shared: list[tuple[str, exp.Expression]], body: exp.Expression
) -> exp.Expression:
    """`body` with each shared name bound to its value (in order: a later value may read an
    earlier name), by a lambda over a one-element list (SQL has no `let` inside a lambda)."""
    for name, value in reversed(shared):
        one = exp.Array(expressions=[value.copy()])
        body = SF.dialect_fn(
            dialect, "LIST_EXTRACT", "TRY_ELEMENT_AT", list_map(one, name, body), num(1)
        )
    return body


def _near_edge(d: exp.Expression, reach: dt.timedelta) -> exp.Expression:
    """Whether a date lies within `reach` of the calendar's first or last day: only such a
    date can be moved past them by a move of that size."""
    low = const(dt.date.min + reach)
    high = const(dt.date.max - reach)
    return exp.Paren(
        this=exp.Or(
            this=exp.LT(this=d.copy(), expression=low),
            expression=exp.GT(this=d.copy(), expression=high),
        )
    )


def edge_error(edges: Mapping[str, tuple[exp.Expression, dt.timedelta]]) -> exp.Expression | None:
    """The row's error where a date a bounded move reads lies within that move's reach of the
    calendar's first or last day (see `Scope.edges`): the query does not test those moves one
    by one, so it hands the record to the interpreter, which decides it exactly."""
    if not edges:
        return None
    near = _any_of([_near_edge(d, span) for d, span in edges.values()])
    assert near is not None
    message = (
        "a date within reach of the years 1 or 9999 moved by a bounded duration or months, "
        f"which the query does not test move by move {SF.PYTHON_DECIDES}"
    )
    return error_if(near, error_text(message, "E-EVAL-RANGE"))


def _moves_far(node: A.Binary, checked: Checked, consts: Mapping[str, int] | None) -> bool:
    """Whether a date moved by a duration or months may be moved past the calendar: its size
    is unbounded (a bounded move is tested once per row, see `Scope.edges`, or where it is
    made, inside a lambda)."""
    by = node.right if checked.info[id(node.left)].type.kind == "date" else node.left
    reach = bound(by, checked, consts)
    if reach is None:
        return True
    if checked.info[id(by)].type.kind == "months":
        return reach // 12 + 1 >= 4999
    return reach // US_PER_DAY + 1 >= DAYS_SPAN


def _decimal_may_overflow(node: A.Node, checked: Checked) -> bool:
    """Whether `+`, `-` or `*` with a decimal result may pass 38 digits: any that reads more
    than literals, and one of literals whose result (worked out here) comes within the
    guard's margin of what a SQL decimal holds at its places."""
    if not (isinstance(node, A.Binary) and node.op in ("+", "-", "*")):
        return False
    if checked.info[id(node)].type.kind != "decimal":
        return False
    stack: list[A.Node] = [node]
    while stack:
        n = stack.pop()
        if not isinstance(n, A.Lit | A.Binary | A.Unary):
            return True
        stack.extend(A.children(n))
    worked = _literal_decimal(node)
    if worked is None:
        return True
    value, places = worked
    return abs(value) >= Decimal("0.999") * Decimal(10) ** (38 - places)


def _literal_decimal(node: A.Node) -> tuple[Decimal, int] | None:
    """The exact value and SQL places of arithmetic on literals (None for anything else)."""
    if isinstance(node, A.Lit) and node.kind in ("int", "decimal"):
        value = Decimal(node.value)
        exponent = value.as_tuple().exponent
        places = -exponent if isinstance(exponent, int) and node.kind == "decimal" else 0
        return value, max(places, 0)
    if isinstance(node, A.Unary) and node.op == "-":
        inner = _literal_decimal(node.operand)
        return None if inner is None else (-inner[0], inner[1])
    if isinstance(node, A.Binary) and node.op in ("+", "-", "*"):
        left, right = _literal_decimal(node.left), _literal_decimal(node.right)
        if left is None or right is None:
            return None
        with localcontext(Context(prec=400)):
            if node.op == "*":
                return left[0] * right[0], min(left[1] + right[1], 38)
            total = left[0] + right[0] if node.op == "+" else left[0] - right[0]
            return total, max(left[1], right[1])
    return None


def _any_of(conds: list[exp.Expression]) -> exp.Expression | None:
    if not conds:
        return None
    out = conds[0]
    for c in conds[1:]:
        out = exp.Or(this=out, expression=c)
    return exp.Paren(this=out)


def _region_leaves(node: A.Node, checked: Checked) -> list[A.Node] | None:
    """The values a guarded node tests before working out the rest: the frontier of a tree of
    strict operations, or the arguments of a function that may be unknown, or both sides of a
    membership; None for a node the interpreter does not guard so."""
    if strict_op(node):
        out: list[A.Node] = []

        def frontier(n: A.Node) -> None:
            for child in A.children(n):
                if strict_op(child):
                    frontier(child)
                else:
                    out.append(child)

        frontier(node)
        return out
    if isinstance(node, A.Binary) and node.op in ("in", "not in"):
        right = node.right
        if isinstance(right, A.ListLit) and any(checked.info[id(i)].nullable for i in right.items):
            return None  # every item is worked out, as the left side is
        return [node.left, right]
    if isinstance(node, A.Call):
        fn = FUNCTIONS.get(node.func)
        if fn is not None and not fn.null_aware:
            return list(node.args)
    return None


def _short_circuit_error(operands: list[SV], op: str) -> Err:
    """The error of `a or b or ...` (or `and`): the operands are worked out in order until one
    decides (true for `or`, false for `and`), so a later operand's error may never happen."""
    last = max((i for i, o in enumerate(operands) if o.e is not None), default=-1)
    if last < 0:
        return None
    no_error = cast(exp.Null(), "VARCHAR")
    whens: list[tuple[exp.Expression, exp.Expression]] = []
    for o in operands[: last + 1]:
        if o.e is not None:
            whens.append((has_error(o.e), o.e))
        if o is not operands[last]:
            v = exp.Paren(this=o.v.copy())
            whens.append((is_true(v if op == "or" else exp.Not(this=v)), no_error))
    return case(whens, no_error)


def _any_null(values: list[exp.Expression]) -> exp.Expression:
    out: exp.Expression = is_null(values[0])
    for v in values[1:]:
        out = exp.Or(this=out, expression=is_null(v))
    return exp.Paren(this=out)


def _sentinel_test(x: SV) -> exp.Expression | None:
    """`is_none` of a fact read straight from the table with a known-none sentinel, as `raw =
    sentinel`: true for the sentinel, NULL where the fact is absent (its mask names it), false
    otherwise; the same three values as the general test, without a CASE per row."""
    v = x.v
    if not (x.facts and isinstance(v, exp.Nullif)):
        return None
    raw = v.this
    m = x.m
    if not (isinstance(m, exp.Case) and len(m.args.get("ifs") or []) == 1):
        return None
    when = m.args["ifs"][0]
    b = literal_int(when.args.get("true"))
    if when.this != is_null(raw) or not b or not is_zero(m.args.get("default")):
        return None  # an absent fact must be unknown (a nonzero mask), never a decided none
    return exp.EQ(this=raw.copy(), expression=v.expression.copy())


def _whole_days(us: exp.Expression, negate: bool, int_times: bool = False) -> exp.Expression:
    """The whole days (rounded down) of a duration in microseconds, negated for `date -
    duration`; a duration that is a CASE of constants (a parameter dated by version) stays
    one, so that the row picks a constant number of days; one that is a whole number times
    whole days (`int_times`: `k * 1 day`) is that number times the days."""
    days = _day_multiple(us) if int_times else None
    if days is None:
        days = floor_div(us, US_PER_DAY)
    if not negate:
        return days
    branches = constant_branches(days)
    if branches is None:
        return exp.Neg(this=exp.Paren(this=days))
    whens, other = branches
    rest = cast(exp.Null(), "INT") if other is None else num(-other)
    return case([(c, num(-k)) for c, k in whens], rest)


def _day_multiple(us: exp.Expression) -> exp.Expression | None:
    """The days of a duration that is a whole number times whole days (`k * 1 day`), as that
    number times the days: exact, without the floor division of its microseconds."""
    while isinstance(us, exp.Paren):
        us = us.this
    if not isinstance(us, exp.Mul):
        return None
    for lit, other in ((us.expression, us.this), (us.this, us.expression)):
        k = literal_int(lit)
        if k is not None and k % US_PER_DAY == 0:
            n = k // US_PER_DAY
            return other.copy() if n == 1 else exp.Mul(this=other.copy(), expression=num(n))
    return None


def _years_between(born: exp.Expression, on: exp.Expression) -> exp.Expression:
    """Whole years from `born` to `on`, a year counted on the birthday itself."""

    def md(d: exp.Expression) -> exp.Expression:
        return exp.Add(
            this=exp.Mul(this=exp.Month(this=d.copy()), expression=num(100)),
            expression=exp.Day(this=d.copy()),
        )

    years = exp.Sub(this=exp.Year(this=on.copy()), expression=exp.Year(this=born.copy()))
    before = case([(exp.LT(this=md(on), expression=md(born)), num(1))], ZERO.copy())
    return cast(exp.Paren(this=exp.Sub(this=years, expression=before)), "BIGINT")


def _operands(node: A.Node, checked: Checked) -> list[A.Node]:
    """The operands of a chain of list concatenations, in order."""
    if isinstance(node, A.Binary) and node.op == "+" and checked.info[id(node)].type.kind == "list":
        return _operands(node.left, checked) + _operands(node.right, checked)
    return [node]


def _flatten(node: A.Node, op: str) -> list[A.Node]:
    if isinstance(node, A.Logic) and node.op == op:
        return _flatten(node.left, op) + _flatten(node.right, op)
    return [node]


# the builders are part of this module's interface (the query and the facts checks use them)
__all__ = [
    "MAX_PATHS",
    "covers",
    "param_missing",
    "grows",
    "within_budget",
    "Err",
    "no_error",
    "may_err",
    "rules_error",
    "table_error",
    "with_error",
    "first_error",
    "error_if",
    "NONE_DATE",
    "NONE_SENTINELS",
    "NONE_TEXT",
    "SV",
    "ExprCompiler",
    "PathBits",
    "TooManyPaths",
    "Scope",
    "ZERO",
    "bor",
    "case",
    "const",
    "date_add_days",
    "field_of",
    "floor_div",
    "is_null",
    "is_true",
    "is_zero",
    "lam",
    "list_exists",
    "list_filter",
    "list_map",
    "list_size",
    "not_null",
    "num",
    "struct",
    "typed_null",
]
