"""Parsing: expression text to syntax tree, with positions and friendly syntax errors."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from engine import disk_cache
from engine.language import syntax as A
from engine.language.functions import FUNCTIONS
from engine.language.runtime import Months
from engine.problems import Code

if TYPE_CHECKING:
    from lark import Lark, Token

# lark is imported where it is first needed: a start from the disk cache reads syntax trees
# already built, and most commands never parse an expression

MAX_LENGTH = 4000
MAX_DEPTH = 48


class ExprError(Exception):
    """A problem inside one expression, positioned relative to the expression's own text."""

    def __init__(
        self,
        code: Code,
        message: str,
        line: int = 1,
        col: int = 1,
        hint: str | None = None,
        end_line: int | None = None,
        end_col: int | None = None,
    ):
        super().__init__(message)
        self.code = code
        self.message = message
        self.line = line
        self.col = col
        self.hint = hint
        self.end_line = end_line
        self.end_col = end_col

    def __repr__(self) -> str:
        return f"ExprError({self.code}, {self.line}:{self.col}, {self.message!r})"


@lru_cache(maxsize=1)
def _parser() -> Lark:
    import io
    from importlib import resources

    import lark
    from lark import Lark

    text = resources.files("engine.language").joinpath("grammar.lark").read_text(encoding="utf-8")
    # the built parser tables are kept in the disk cache, keyed by the grammar and lark's version
    # (building them is most of the first parse); an entry is written whole or not at all, so
    # processes starting together never read one half-written
    entry = disk_cache.key("lark", text, lark.__version__)
    saved = disk_cache.load("lark", entry)
    if isinstance(saved, bytes):
        try:
            return Lark.load(io.BytesIO(saved))
        except Exception:  # noqa: BLE001 - tables this lark cannot read: built afresh below
            pass
    parser = Lark(text, parser="lalr", propagate_positions=True, maybe_placeholders=True)
    tables = io.BytesIO()
    parser.save(tables)
    disk_cache.store("lark", entry, tables.getvalue())
    return parser


_FRIENDLY = {
    "RPAR": "`)`",
    "LPAR": "`(`",
    "RSQB": "`]`",
    "LSQB": "`[`",
    "LBRACE": "`{`",
    "RBRACE": "`}`",
    "COMMA": "`,`",
    "COLON": "`:`",
    "DOT": "`.`",
    "NAME": "a name",
    "INT": "a number",
    "DECIMAL": "a number",
    "STRING": "a string",
    "DATE": "a date",
    "DURATION": "a duration",
    "COMP_OP": "a comparison",
    "ADD_OP": "`+` or `-`",
    "MUL_OP": "`*` or `/`",
    "MINUS": "`-`",
    "$END": "the end of the expression",
    "ANY": "`any`",
    "ALL": "`all`",
    "COUNT": "`count`",
}


def _describe_expected(expected: set[str]) -> str:
    names: list[str] = []
    for term in sorted(expected):
        word = _FRIENDLY.get(term)
        if word is None:
            m = re.fullmatch(r"(IF|THEN|ELSE|AND|OR|NOT|IN|TRUE|FALSE|NULL)", term)
            word = f"`{term.lower()}`" if m else None
        if word and word not in names:
            names.append(word)
    if not names:
        return ""
    if len(names) > 6:
        names = names[:6] + ["..."]
    return "expected " + ", ".join(names)


def _token_text(tok: Token) -> str:
    if tok.type == "$END":
        return "end of expression"
    return f"`{tok.value}`"


def parse(text: str) -> A.Node:
    """Parse one expression; raises ExprError with the line and column of the first problem."""
    if len(text) > MAX_LENGTH:
        raise ExprError(
            "E-LIMIT-SIZE",
            f"expression is {len(text)} characters long; the limit is {MAX_LENGTH}",
            hint="split it into named definitions",
        )
    if not text.strip():
        raise ExprError("E-SYNTAX", "empty expression", hint="write an expression, e.g. `true`")
    _check_nesting(text)
    from lark.exceptions import (
        UnexpectedCharacters,
        UnexpectedEOF,
        UnexpectedInput,
        UnexpectedToken,
        VisitError,
    )

    try:
        tree = _parser().parse(text)
    except UnexpectedCharacters as e:
        pos = e.pos_in_stream or 0
        ch = text[pos] if pos < len(text) else ""
        hint = None
        if ch == "&":
            hint = "write `and` for both, as in `a and b`"
        elif ch == "|":
            hint = "write `or` for either, as in `a or b`"
        elif ch in "=!":
            hint = "use `==`, `!=`, `not`, `and`, `or`"
        elif ch == '"' or ch == "'":
            hint = "close the string with the same quote on the same line"
        raise ExprError(
            "E-SYNTAX", f"unexpected character `{ch}`", e.line, e.column, hint=hint
        ) from None
    except UnexpectedToken as e:
        tok = e.token
        line = tok.line if tok.line is not None else _end_line(text)
        col = tok.column if tok.column is not None else _end_col(text)
        if tok.type == "$END":
            line, col = _end_line(text), _end_col(text)
        hint = _describe_expected(set(e.expected)) or None
        if tok.type in ("COMP_OP", "IN") and "AND" in e.expected:  # after a whole comparison
            hint = "comparisons do not chain: join them with `and`, e.g. `1 < x and x < 3`"
        before = text[: tok.start_pos].split() if tok.start_pos is not None else []
        if len(before) >= 2 and before[-1] in ("any", "all") and before[-2] in ("and", "or", "not"):
            joined = "and not" if before[-2] == "not" else before[-2]
            hint = (
                f"after `{before[-2]}`, put the quantifier in parentheses, "
                f"e.g. `a {joined} ({before[-1]} x in xs: x > 0)`"
            )
        message = f"unexpected {_token_text(tok)}"
        raise ExprError("E-SYNTAX", message, line, col, hint=hint) from None
    except UnexpectedEOF as e:
        hint = _describe_expected(set(e.expected)) or None
        raise ExprError(
            "E-SYNTAX", "unexpected end of expression", _end_line(text), _end_col(text), hint=hint
        ) from None
    except UnexpectedInput as e:  # pragma: no cover - other lark input errors
        raise ExprError("E-SYNTAX", str(e).splitlines()[0], e.line, e.column) from None
    try:
        node = _to_ast().transform(tree)
    except VisitError as e:
        if isinstance(e.orig_exc, ExprError):
            raise e.orig_exc from None
        raise
    except RecursionError:
        raise ExprError(
            "E-LIMIT-DEPTH", f"expression is nested more than {MAX_DEPTH} levels deep"
        ) from None
    if A.depth(node) > MAX_DEPTH:
        raise ExprError(
            "E-LIMIT-DEPTH",
            f"expression is nested more than {MAX_DEPTH} levels deep",
            hint="split it into named definitions",
        )
    return node


def _check_nesting(text: str) -> None:
    level = 0
    line, col = 1, 0
    for ch in text:
        col += 1
        if ch == "\n":
            line, col = line + 1, 0
        elif ch in "([{":
            level += 1
            if level > MAX_DEPTH:
                raise ExprError(
                    "E-LIMIT-DEPTH",
                    f"brackets are nested more than {MAX_DEPTH} levels deep",
                    line,
                    col,
                )
        elif ch in ")]}":
            level -= 1


def _end_line(text: str) -> int:
    return text.count("\n") + 1


def _end_col(text: str) -> int:
    return len(text) - (text.rfind("\n") + 1) + 1


_UNITS = {
    "minute": ("minutes", 1),
    "day": ("days", 1),
    "week": ("days", 7),
    "month": ("months", 1),
    "year": ("months", 12),
}


# the longest duration a literal may write, per kind: 10,000 years
_LONGEST = {"minutes": 10_000 * 366 * 24 * 60, "days": 10_000 * 366, "months": 10_000 * 12}


def duration_value(count: int, unit: str) -> Any:
    """The runtime value of `count unit`: a timedelta (exact) or Months (calendar)."""
    base = unit[:-1] if unit.endswith("s") else unit
    kind, factor = _UNITS[base]
    if kind == "minutes":
        return dt.timedelta(minutes=count)
    if kind == "days":
        return dt.timedelta(days=count * factor)
    return Months(count * factor)


def _loc_of(meta: Any) -> A.Loc:
    return A.Loc(meta.line, meta.column, meta.end_line, meta.end_column)


def _tok_loc(tok: Token) -> A.Loc:
    return A.Loc(tok.line or 1, tok.column or 1, tok.end_line or tok.line or 1, tok.end_column or 1)


def _unescape(raw: str) -> str:
    body = raw[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


@lru_cache(maxsize=1)
def _to_ast() -> Any:
    """The transformer from lark's tree to the syntax tree (made on first use, with lark)."""
    from lark import Transformer, v_args

    methods = {k: v for k, v in vars(_ToAstMethods).items() if not k.startswith("__")}
    transformer = v_args(meta=True)(type("_ToAst", (Transformer,), methods))
    return transformer()


class _ToAstMethods:
    """Lark tree to syntax tree; one method per grammar alias."""

    def if_(self, meta: Any, c: list[Any]) -> A.Node:
        return A.If(_loc_of(meta), c[0], c[1], c[2])

    def quant(self, meta: Any, c: list[Any]) -> A.Node:
        var, iterable = _binder(c[1], str(c[0]))
        return A.Comprehension(_loc_of(meta), str(c[0]), var, iterable, c[2])

    def comp_fn(self, meta: Any, c: list[Any]) -> str:
        return str(c[0])

    def comprehension(self, meta: Any, c: list[Any]) -> A.Node:
        var, iterable = _binder(c[1], str(c[0]))
        return A.Comprehension(_loc_of(meta), str(c[0]), var, iterable, c[2])

    def or_(self, meta: Any, c: list[Any]) -> A.Node:
        return A.Logic(_loc_of(meta), "or", c[0], c[1])

    def and_(self, meta: Any, c: list[Any]) -> A.Node:
        return A.Logic(_loc_of(meta), "and", c[0], c[1])

    def not_(self, meta: Any, c: list[Any]) -> A.Node:
        return A.Unary(_loc_of(meta), "not", c[0])

    def neg(self, meta: Any, c: list[Any]) -> A.Node:
        return A.Unary(_loc_of(meta), "-", c[0])

    def compare(self, meta: Any, c: list[Any]) -> A.Node:
        return A.Binary(_loc_of(meta), str(c[1]), c[0], c[2])

    def arith(self, meta: Any, c: list[Any]) -> A.Node:
        return A.Binary(_loc_of(meta), str(c[1]), c[0], c[2])

    def in_(self, meta: Any, c: list[Any]) -> A.Node:
        return A.Binary(_loc_of(meta), "in", c[0], c[1])

    def not_in(self, meta: Any, c: list[Any]) -> A.Node:
        return A.Binary(_loc_of(meta), "not in", c[0], c[1])

    def attr(self, meta: Any, c: list[Any]) -> A.Node:
        return A.Attr(_loc_of(meta), c[0], str(c[1]))

    def name(self, meta: Any, c: list[Any]) -> A.Node:
        return A.Name(_loc_of(meta), str(c[0]))

    def call(self, meta: Any, c: list[Any]) -> A.Node:
        return A.Call(_loc_of(meta), str(c[0]), tuple(a for a in c[1:] if a is not None))

    def call_kw(self, meta: Any, c: list[Any]) -> A.Node:
        name = str(c[0])
        if name not in FUNCTIONS:  # a comprehension keyword that is not also a function
            raise ExprError(
                "E-SYNTAX",
                f"`{name}` needs `NAME in LIST: ...` inside its brackets",
                meta.line,
                meta.column,
                hint=f"e.g. `{name}(s in sessions: s.minutes >= 45)`",
            )
        return A.Call(_loc_of(meta), name, tuple(a for a in c[1:] if a is not None))

    def list_lit(self, meta: Any, c: list[Any]) -> A.Node:
        return A.ListLit(_loc_of(meta), tuple(a for a in c if a is not None))

    def record_lit(self, meta: Any, c: list[Any]) -> A.Node:
        fields = tuple(f for f in c if f is not None)
        seen: set[str] = set()
        for name, value in fields:
            if name in seen:
                raise ExprError(
                    "E-SYNTAX",
                    f"field `{name}` appears twice in a record",
                    value.loc.line,
                    value.loc.col,
                )
            seen.add(name)
        return A.RecordLit(_loc_of(meta), fields)

    def field(self, meta: Any, c: list[Any]) -> tuple[str, A.Node]:
        return (str(c[0]), c[1])

    def date_lit(self, meta: Any, c: list[Any]) -> A.Node:
        tok = c[0]
        try:
            value = dt.date.fromisoformat(str(tok))
        except ValueError:
            raise ExprError(
                "E-SYNTAX",
                f"`{tok}` is not a real date",
                tok.line,
                tok.column,
                hint="dates are YYYY-MM-DD",
            ) from None
        return A.Lit(_loc_of(meta), value, "date")

    def duration_lit(self, meta: Any, c: list[Any]) -> A.Node:
        count, unit = str(c[0]).split()
        base = unit[:-1] if unit.endswith("s") else unit
        kind, factor = _UNITS[base]
        if int(count) * factor > _LONGEST[kind]:
            raise ExprError(
                "E-RANGE",
                f"`{c[0]}` is longer than the calendar holds (at most 10,000 years)",
                meta.line,
                meta.column,
                hint="a duration literal must fit between the years 1 and 9999",
            )
        return A.Lit(_loc_of(meta), duration_value(int(count), unit), "duration")

    def decimal_lit(self, meta: Any, c: list[Any]) -> A.Node:
        return A.Lit(_loc_of(meta), Decimal(str(c[0])), "decimal")

    def int_lit(self, meta: Any, c: list[Any]) -> A.Node:
        return A.Lit(_loc_of(meta), int(str(c[0])), "int")

    def string_lit(self, meta: Any, c: list[Any]) -> A.Node:
        return A.Lit(_loc_of(meta), _unescape(str(c[0])), "string")

    def true_lit(self, meta: Any, c: list[Any]) -> A.Node:
        return A.Lit(_loc_of(meta), True, "bool")

    def false_lit(self, meta: Any, c: list[Any]) -> A.Node:
        return A.Lit(_loc_of(meta), False, "bool")

    def null_lit(self, meta: Any, c: list[Any]) -> A.Node:
        return A.Lit(_loc_of(meta), None, "null")


def _binder(node: Any, keyword: str) -> tuple[str, A.Node]:
    """`x in LIST` before the colon of a quantifier or comprehension."""
    if isinstance(node, A.Binary) and node.op == "in" and isinstance(node.left, A.Name):
        return node.left.name, node.right
    loc = node.loc if isinstance(node, A.Node) else A.Loc(1, 1, 1, 1)
    raise ExprError(
        "E-SYNTAX",
        f"`{keyword}` needs `NAME in LIST` before its `:`",
        loc.line,
        loc.col,
        hint=f"e.g. `{keyword}(s in sessions: s.minutes >= 45)`"
        if keyword not in ("any", "all")
        else f'e.g. `{keyword} c in conditions: c == "cancer"`',
    )


def is_tree(x: Any) -> bool:
    from lark import Tree

    return isinstance(x, Tree)
