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

from sqlglot import exp

from engine.language import syntax as A
from engine.language.check import Checked
from engine.sql import functions as SF
from engine.sql.builders import ZERO, case, error_text, is_true, num
from engine.sql.types import Unsupported, cast

WHY = (
    "of a decimal read from the facts or worked out elsewhere (a definition, a list, a sum): "
    "its SQL column holds it at one scale for every record, not the places the record's "
    "calculation gave (`6.50` from the facts, `2E+1` from `10 / 0.5`), which the text shows; "
    "`text(round(x, n))` has a SQL form"
)


@dataclass(frozen=True)
class Shape:
    """How the interpreter holds a decimal: its exponent (None where the expression does not
    tell it), whether it is a negative zero, and the rows where that sign is not known."""

    exponent: exp.Expression | None
    negative_zero: exp.Expression
    doubt: exp.Expression | None = None


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
    ):
        self.dialect = dialect
        self.fresh = fresh
        self.checked = checked
        self.value = value
        self.known: dict[int, Shape] = {}

    def kind(self, node: A.Node) -> str:
        return self.checked.info[id(node)].type.kind

    def exponent(self, node: A.Node) -> exp.Expression:
        found = self.of(node).exponent
        if found is None:
            raise Unsupported("text()", WHY)
        return found

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
        # the facts, a definition, a local name, a sum, a list's extreme: no exponent here,
        # and a zero's sign is not known
        return Shape(None, _false(), _zero(self.value(node)))

    def _binary(self, node: A.Binary) -> Shape:
        a, b = self.of(node.left), self.of(node.right)
        result = self.value(node)
        doubt = _either(a.doubt, b.doubt)
        # a quotient is zero where its dividend is (its value is a larger expression)
        zero_result = self.zero(node)
        doubt = None if doubt is None else _and(doubt, zero_result)
        if a.exponent is None or b.exponent is None:
            return Shape(None, _false(), doubt)
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
        return Shape(exponent, neg0, doubt)

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
        return Shape(None, _false(), _zero(self.value(node)))


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
        raise Unsupported("text()", WHY)
    text = SF.decimal_text(shapes.dialect, value, shape.exponent, shape.negative_zero, shapes.fresh)
    if shape.doubt is None:
        return text, None
    message = (
        f"the text of a decimal zero whose sign SQL does not hold (`-0` read or worked out "
        f"elsewhere), in {where} {SF.PYTHON_DECIDES}"
    )
    error = case([(is_true(shape.doubt), error_text(message, "E-EVAL-RANGE"))], SF.no_error())
    return case([(is_true(shape.doubt), cast(exp.Null(), "VARCHAR"))], text), error
