"""The text of a decimal in SQL, equal to the interpreter's: the exponent and the sign of a
zero that each record's calculation gives, worked out beside the value from the expression.

The interpreter's decimals carry an exponent (`6.50` has -2, `10 / 0.5` gives `2E+1`) and a
sign of zero (`0 * -1.5` is `-0.0`) that a SQL decimal column, one scale for every row and no
negative zero, does not hold. They follow from the operations (Python's `decimal`, the General
Decimal Arithmetic rules): a literal's own; a sum's the smaller of its operands'; a product's
their total; an exact quotient's the larger it can have, at most the dividend's less the
divisor's; `round(x, n)`'s -n. So for an expression built from those, the exponent and the
zero's sign are SQL beside the value (`Shape`), and `text` writes the value as Python does.

A decimal read from the facts or a definition, a list's element or a sum has no exponent here
(its column holds one scale): `text` of it raises `Unsupported`, but `round` of it has one, and
only the sign of a zero it rounds from is unknown (the facts may hold `-0.0`): that record's
text is its error, saying the interpreter decides it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlglot import exp

from engine.language import syntax as A
from engine.language.check import Checked
from engine.sql import functions as SF
from engine.sql.builders import (
    ZERO,
    case,
    error_text,
    field_of,
    is_true,
    list_exists,
    list_filter,
    list_map,
    num,
    struct,
)
from engine.sql.types import Unsupported, cast

# Why `text` of a decimal has no SQL form, by where the decimal comes from.
FACTS_WHY = (
    "of a decimal read from the facts: the interpreter writes the number as the facts give "
    "it (`6.50` is written `6.50`, `5` is written `5` and `5.0` `5.0`), which a SQL "
    "DECIMAL column, one scale for every record, does not keep; "
    "`text(round(x, n))` has a SQL form"
)
ELEMENT_WHY = (
    "of an element of a list whose elements have different places (`[0.5, 0.25]`): a SQL "
    "list holds them at one scale, and which element is read varies by record; "
    "`text(round(x, n))` has a SQL form"
)
WHY = FACTS_WHY  # the reason for a decimal whose source the expression does not tell


@dataclass(frozen=True)
class Shape:
    """How the interpreter holds a decimal: its exponent (None where the expression does not
    tell it), whether it is a negative zero, and the rows where that sign is not known."""

    exponent: exp.Expression | None
    negative_zero: exp.Expression
    doubt: exp.Expression | None = None
    why: str = WHY  # where the exponent is None: why (see FACTS_WHY)


def _false() -> exp.Expression:
    return exp.false()


def _and(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return exp.Paren(
        this=exp.And(this=exp.Paren(this=a.copy()), expression=exp.Paren(this=b.copy()))
    )


def _or(a: exp.Expression, b: exp.Expression) -> exp.Expression:
    return exp.Paren(
        this=exp.Or(this=exp.Paren(this=a.copy()), expression=exp.Paren(this=b.copy()))
    )


def _zero(v: exp.Expression) -> exp.Expression:
    return is_true(exp.EQ(this=v.copy(), expression=ZERO.copy()))


def _either(a: exp.Expression | None, b: exp.Expression | None) -> exp.Expression | None:
    if a is None:
        return b
    return a if b is None else _or(a, b)


class Shapes:
    """Works out the `Shape` of decimal expressions from their compiled values (`value`)."""

    def __init__(
        self,
        checked: Checked,
        value: Callable[[A.Node], exp.Expression],
        dialect: str,
        fresh: Callable[[], str],
        compiler: Any = None,
    ):
        self.dialect = dialect
        self.fresh = fresh
        self.checked = checked
        self.value = value
        self.known: dict[int, Shape] = {}
        # the expression compiler (engine.sql.expressions.ExprCompiler): where a local name's
        # list, a quantifier's element variable and a definition's expression are found
        self.compiler = compiler

    def kind(self, node: A.Node) -> str:
        return self.checked.info[id(node)].type.kind

    def exponent(self, node: A.Node) -> exp.Expression:
        shape = self.of(node)
        if shape.exponent is None:
            raise Unsupported("text()", shape.why)
        return shape.exponent

    def negative(self, node: A.Node) -> exp.Expression:
        """Whether the value has a minus sign (a negative number or a negative zero); for a
        quotient, its operands' signs differ (read from them: the quotient's SQL is larger)."""
        if isinstance(node, A.Binary) and node.op == "/" and self.kind(node) == "decimal":
            left, right = self.negative(node.left), self.negative(node.right)
            return exp.Paren(this=exp.NEQ(this=left, expression=right))
        v = self.value(node)
        less = is_true(exp.LT(this=v.copy(), expression=ZERO.copy()))
        return _or(less, self.of(node).negative_zero)

    def zero(self, node: A.Node) -> exp.Expression:
        """Whether the value is zero; a quotient is zero where its dividend is."""
        if isinstance(node, A.Binary) and node.op == "/" and self.kind(node) == "decimal":
            return self.zero(node.left)
        return _zero(self.value(node))

    def of(self, node: A.Node) -> Shape:
        found = self.known.get(id(node))
        if found is None:
            found = self.known[id(node)] = self._of(node)
        return found

    def _of(self, node: A.Node) -> Shape:
        kind = self.kind(node)
        if kind in ("int", "null"):  # a whole number's exponent is 0; it has no negative zero
            return Shape(ZERO.copy(), _false())
        if isinstance(node, A.Lit) and isinstance(node.value, Decimal):
            e = node.value.as_tuple().exponent
            neg0 = node.value.is_zero() and node.value.is_signed()
            return Shape(num(e if isinstance(e, int) else 0), exp.true() if neg0 else _false())
        if isinstance(node, A.Unary) and node.op == "-":  # -x of a zero is +0 (either sign)
            return Shape(self.of(node.operand).exponent, _false())
        if isinstance(node, A.Binary) and node.op in ("+", "-", "*", "/"):
            return self._binary(node)
        if isinstance(node, A.If):
            return self._pick([(self.value(node.cond), node.then)], node.other)
        if isinstance(node, A.Call):
            return self._call(node)
        if isinstance(node, A.Name):
            found = self._name(node)
            if found is not None:
                return found
        if isinstance(node, A.Comprehension) and node.kind == "sum":
            lam = self._lambda(node)
            if lam is not None:
                return self._summed(node, lam[1], lam[0], self.of(node.body))
        # the facts, a list's element whose places vary: no exponent here, and a zero's
        # sign is not known
        facts = isinstance(node, A.Attr) and bool(self.checked.info[id(node)].path)
        why = FACTS_WHY if facts else ELEMENT_WHY
        return Shape(None, _false(), _zero(self.value(node)), why)

    def _lambda(self, node: A.Comprehension) -> tuple[str, exp.Expression] | None:
        if self.compiler is None:
            return None
        found: tuple[str, exp.Expression] | None = self.compiler.lambdas.get(id(node))
        return found

    def _name(self, node: A.Name) -> Shape | None:
        """A local name: the shape every element of its list shares; a definition: the shape
        of its expression, compiled again here."""
        if self.compiler is None:
            return None
        source = self.compiler.bound.get(id(node))
        if source is not None:
            return self.element(source)
        found = self.compiler.definition_shapes(node.name)
        if found is not None:
            shapes, root = found
            return shapes.of(root)
        return None

    def element(self, node: A.Node) -> Shape | None:
        """The shape every element of a list shares, in SQL that reads no element (None where
        the elements' places may differ, or are not known)."""
        t = self.checked.info[id(node)].type
        if t.elem is not None and t.elem.kind in ("int", "null"):
            return Shape(ZERO.copy(), _false())
        if isinstance(node, A.ListLit):
            shapes = [self.of(i) for i in node.items]
            if not shapes:
                return Shape(ZERO.copy(), _false())
            if any(s.exponent is None or s.doubt is not None for s in shapes):
                return None
            first = shapes[0]
            same = all(
                _same(s.exponent, first.exponent) and _same(s.negative_zero, first.negative_zero)
                for s in shapes[1:]
            )
            return first if same else None
        if isinstance(node, A.Comprehension) and node.kind == "map":
            lam = self._lambda(node)
            body = self.of(node.body)
            if lam is None or body.exponent is None or body.doubt is not None:
                return None
            if _reads(body.exponent, lam[0]) or _reads(body.negative_zero, lam[0]):
                return None
            return body
        if isinstance(node, A.Comprehension) and node.kind == "filter":
            return self.element(node.iterable)
        if isinstance(node, A.Call) and node.func in ("sort", "unique", "compact"):
            return self.element(node.args[0])
        if isinstance(node, A.Name) and self.compiler is not None:
            if self.compiler.bound.get(id(node)) is not None:
                return None  # a list that is itself an element
            found = self.compiler.definition_shapes(node.name)
            if found is not None:
                shapes, root = found
                return shapes.element(root)
        return None

    def _summed(self, node: A.Node, items: exp.Expression, var: str, body: Shape) -> Shape:
        """The shape of a sum of a list's elements (each `body`, read with the element as
        `var`), as the interpreter adds them: the first element, then each next one added, so
        the exponent is the least of theirs, -0 only when every element is -0, and an empty
        sum the whole number 0."""
        if body.exponent is None:
            return Shape(None, _false(), _zero(self.value(node)), body.why)
        some = exp.GT(this=exp.ArraySize(this=items.copy()), expression=ZERO.copy())
        each = body.exponent
        if _reads(each, var):
            each = SF.dialect_fn(self.dialect, "LIST_MIN", "ARRAY_MIN", list_map(items, var, each))
        exponent = case([(is_true(some), each)], ZERO.copy())
        neg0: exp.Expression = _false()
        if body.negative_zero != _false():
            other = exp.Not(this=exp.Paren(this=is_true(body.negative_zero)))
            neg0 = _and(some, exp.Not(this=list_exists(items, var, other)))
        doubt = None
        if body.doubt is not None:
            doubt = _and(_zero(self.value(node)), list_exists(items, var, is_true(body.doubt)))
        return Shape(exponent, neg0, doubt)

    def _binary(self, node: A.Binary) -> Shape:
        a, b = self.of(node.left), self.of(node.right)
        result = self.value(node)
        doubt = _either(a.doubt, b.doubt)
        # a quotient is zero where its dividend is (its value is a larger expression)
        zero_result = self.zero(node)
        doubt = None if doubt is None else _and(doubt, zero_result)
        if a.exponent is None or b.exponent is None:
            return Shape(None, _false(), doubt, a.why if a.exponent is None else b.why)
        ea, eb = a.exponent, b.exponent
        if node.op in ("+", "-"):
            exponent: exp.Expression = exp.Least(this=ea.copy(), expressions=[eb.copy()])
            if node.op == "+":  # -0 only from -0 + -0
                neg0 = _and(a.negative_zero, b.negative_zero)
            else:  # a - b is a + (-b) with b's sign turned: -0 only from -0 - (+0)
                plus0 = _and(
                    self.zero(node.right),
                    exp.Not(this=exp.Paren(this=b.negative_zero.copy())),
                )
                neg0 = _and(a.negative_zero, plus0)
            return Shape(exponent, neg0, doubt)
        signs = exp.Paren(
            this=exp.NEQ(this=self.negative(node.left), expression=self.negative(node.right))
        )
        if node.op == "*":
            total = exp.Paren(this=exp.Add(this=ea.copy(), expression=eb.copy()))
            return Shape(total, _and(self.zero(node), signs), doubt)
        # an exact quotient: as near the ideal exponent (the dividend's less the divisor's) as
        # its value allows; a zero quotient has the ideal one
        ideal = exp.Paren(this=exp.Sub(this=ea.copy(), expression=eb.copy()))
        least = exp.Least(
            this=ideal.copy(), expressions=[SF.least_exponent(self.dialect, result, self.fresh())]
        )
        zero = self.zero(node.left)  # a quotient is zero where its dividend is
        return Shape(case([(zero, ideal)], least), _and(zero, signs), doubt)

    def _pick(self, arms: list[tuple[exp.Expression, A.Node]], other: A.Node) -> Shape:
        """The shape of the arm taken (`if`, `coalesce`, `min`/`max`): each arm's where its
        condition holds first."""
        shapes = [(c, self.of(n)) for c, n in arms]
        last = self.of(other)
        exps = [s.exponent for _, s in shapes] + [last.exponent]
        exponent = None
        whys = [s.why for s in [*(s for _, s in shapes), last] if s.exponent is None]
        if all(e is not None for e in exps):
            exponent = case(
                [(is_true(c), s.exponent) for c, s in shapes if s.exponent is not None],
                last.exponent if last.exponent is not None else ZERO.copy(),
            )
        neg0 = case([(is_true(c), s.negative_zero) for c, s in shapes], last.negative_zero)
        doubts = [(c, s.doubt) for c, s in shapes]
        doubt = None
        if any(d is not None for _, d in doubts) or last.doubt is not None:
            doubt = case(
                [(is_true(c), d if d is not None else _false()) for c, d in doubts],
                last.doubt if last.doubt is not None else _false(),
            )
        return Shape(exponent, neg0, doubt, whys[0] if whys else WHY)

    def _call(self, node: A.Call) -> Shape:
        f, args = node.func, node.args
        if f == "round":
            x = self.of(args[0])
            places = self.value(args[1])
            rounded = self.value(node)
            neg0 = _and(_zero(rounded), self.negative(args[0]))
            return Shape(exp.Neg(this=exp.Paren(this=places.copy())), neg0, x.doubt)
        if f == "abs":
            return Shape(self.of(args[0]).exponent, _false())
        if f == "sum":
            return self._sum_of_list(node, args[0])
        if f in ("min", "max") and len(args) == 1:  # one of the elements
            found = self.element(args[0])
            if found is not None:
                return found
            picked = self._picked(node, args[0])
            if picked is not None:
                return picked
        if f == "coalesce":
            arms = [
                (exp.Not(this=exp.Is(this=self.value(a).copy(), expression=exp.Null())), a)
                for a in args[:-1]
            ]
            return self._pick(arms, args[-1])
        if f in ("min", "max") and len(args) > 1:
            # the first of the smallest (largest), as Python's min and max pick
            better = exp.LT if f == "min" else exp.GT
            picks: list[tuple[exp.Expression, A.Node]] = []
            for i, a in enumerate(args):
                others = [
                    (better if j < i else _not_worse(better))(
                        this=self.value(a).copy(), expression=self.value(o).copy()
                    )
                    for j, o in enumerate(args)
                    if j != i
                ]
                cond = others[0]
                for c in others[1:]:
                    cond = exp.And(this=cond, expression=c)
                picks.append((cond, a))
            return self._pick(picks[:-1], args[-1])
        return Shape(None, _false(), _zero(self.value(node)), self._why(node))

    def mapped(self, node: A.Node) -> tuple[exp.Expression, str, exp.Expression, Shape] | None:
        """A list made by `map` (here or in a definition): the list it maps, its element
        variable, and the body's value and shape read with that variable."""
        if isinstance(node, A.Comprehension) and node.kind == "map":
            lam = self._lambda(node)
            if lam is None:
                return None
            return lam[1], lam[0], self.value(node.body), self.of(node.body)
        if isinstance(node, A.Name) and self.compiler is not None:
            if self.compiler.bound.get(id(node)) is not None:
                return None
            found = self.compiler.definition_shapes(node.name)
            if found is not None:
                shapes, root = found
                return shapes.mapped(root)
        return None

    def _picked(self, node: A.Call, items: A.Node) -> Shape | None:
        """`min`/`max` of a list written out, or of a `map`, whose elements' places differ: the
        shape of the first element equal to the result (Python's `min` and `max` keep the
        first of equal values), read from a list of (value, exponent, sign of zero)."""
        if isinstance(items, A.ListLit) and items.items:
            shapes = [self.of(i) for i in items.items]
            if any(s.exponent is None or s.doubt is not None for s in shapes):
                return None
            made = self.value(items)  # its items at one scale (a list of structs takes the
            if not isinstance(made, exp.Array) or len(made.expressions) != len(shapes):
                return None  # first one's)
            rows: exp.Expression = exp.Array(
                expressions=[
                    struct([("v", v), ("e", s.exponent), ("n", s.negative_zero)])
                    for v, s in zip(made.expressions, shapes, strict=True)
                    if s.exponent is not None
                ]
            )
        elif (mapped := self.mapped(items)) is not None:
            values, var, value, body = mapped
            if body.exponent is None or body.doubt is not None:
                return None
            row = struct([("v", value), ("e", body.exponent), ("n", body.negative_zero)])
            rows = list_map(values, var, row)
        else:
            return None
        y = self.fresh()
        same = exp.EQ(this=field_of(exp.column(y), "v"), expression=self.value(node).copy())
        first = SF.dialect_fn(
            self.dialect, "LIST_EXTRACT", "TRY_ELEMENT_AT", list_filter(rows, y, same), num(1)
        )
        return Shape(field_of(first, "e"), is_true(field_of(first.copy(), "n")))

    def _sum_of_list(self, node: A.Call, items: A.Node) -> Shape:
        """`sum(list)`: of a list written out, the items' own shapes; of a `map`, its body's
        for each element of the list it maps; else the shape the elements share."""
        if isinstance(items, A.ListLit) and items.items:
            shapes = [self.of(i) for i in items.items]
            missing = [s for s in shapes if s.exponent is None]
            if missing:
                return Shape(None, _false(), _zero(self.value(node)), missing[0].why)
            exps = [s.exponent for s in shapes if s.exponent is not None]
            exponent = (
                exps[0]
                if len(exps) == 1
                else exp.Least(this=exps[0].copy(), expressions=[e.copy() for e in exps[1:]])
            )
            neg0 = shapes[0].negative_zero
            for s in shapes[1:]:
                neg0 = _and(neg0, s.negative_zero)
            doubts = [s.doubt for s in shapes if s.doubt is not None]
            doubt = None
            if doubts:
                anyone = doubts[0]
                for d in doubts[1:]:
                    anyone = _or(anyone, d)
                doubt = _and(_zero(self.value(node)), anyone)
            return Shape(exponent, neg0, doubt)
        mapped = self.mapped(items)
        if mapped is not None:
            values, var, _, body = mapped
            return self._summed(node, values, var, body)
        shared = self.element(items)
        if shared is None:
            return Shape(None, _false(), _zero(self.value(node)), self._why(items))
        var = self.fresh()
        return self._summed(node, self.value(items), var, shared)

    def _why(self, node: A.Node) -> str:
        """Why a value's places are not known here: it reads the facts, or elements of a
        list whose places differ."""
        stack = [node]
        while stack:
            n = stack.pop()
            info = self.checked.info.get(id(n))
            if isinstance(n, A.Attr) and info is not None and info.path:
                t = info.type
                if t.kind == "decimal" or (t.elem is not None and t.elem.kind == "decimal"):
                    return FACTS_WHY
            stack.extend(A.children(n))
        return ELEMENT_WHY


def _same(a: exp.Expression | None, b: exp.Expression | None) -> bool:
    """Whether two SQL expressions are the same but for the names of the lambda variables they
    bind themselves (each compilation of a quantifier names its variable afresh)."""
    if a is None or b is None:
        return a is b
    return _canonical(a) == _canonical(b)


def _canonical(e: exp.Expression) -> str:
    bound: dict[str, str] = {}
    for lam in e.find_all(exp.Lambda):
        for ident in lam.expressions:
            bound.setdefault(ident.name, f"_b{len(bound)}")
    if not bound:
        return e.sql()
    renamed = e.copy()
    for c in renamed.find_all(exp.Column):
        if not c.table and c.name in bound:
            c.set("this", exp.to_identifier(bound[c.name]))
    for lam in renamed.find_all(exp.Lambda):
        lam.set("expressions", [exp.to_identifier(bound[i.name]) for i in lam.expressions])
    return renamed.sql()


def _reads(e: exp.Expression, var: str) -> bool:
    """Whether SQL reads the lambda variable `var` (an element of a list)."""
    return any(c.name == var and not c.table for c in e.find_all(exp.Column))


def _not_worse(better: type[exp.Expression]) -> Callable[..., exp.Expression]:
    return exp.LTE if better is exp.LT else exp.GTE


def text_of_decimal(
    shapes: Shapes, node: A.Node, value: exp.Expression, where: str
) -> tuple[exp.Expression, exp.Expression | None]:
    """`text(x)` of a decimal as the interpreter writes it, and its error column: the rows
    where the sign of a zero is not known (a zero rounded from the facts) err, saying the
    interpreter decides them."""
    shape = shapes.of(node)
    if shape.exponent is None:
        raise Unsupported("text()", shape.why)
    text = SF.decimal_text(shapes.dialect, value, shape.exponent, shape.negative_zero, shapes.fresh)
    if shape.doubt is None:
        return text, None
    message = (
        f"the text of a decimal zero whose sign SQL does not hold (`-0` read or worked out "
        f"elsewhere), in {where} {SF.PYTHON_DECIDES}"
    )
    error = case([(is_true(shape.doubt), error_text(message, "E-EVAL-RANGE"))], SF.no_error())
    return case([(is_true(shape.doubt), cast(exp.Null(), "VARCHAR"))], text), error
