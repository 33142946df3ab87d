"""Evaluating: a compiled pack against prepared facts at a date, recording each step taken."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

from engine.language import syntax as A
from engine.language.runtime import NULL, WITHHELD, Unknown, merge
from engine.packs import model as M
from engine.problems import Code, EvaluationError

# Errors an evaluation can meet in a value (a date past 9999, a decimal past its precision...)
VALUE_ERRORS = (EvaluationError, OverflowError, ValueError, ArithmeticError)


# Runtime budgets: each definition and output is checked as it is worked out, so a chain of
# names that doubles a value (squaring, list + list, text + text) stops at the first name past
# a budget instead of exhausting time or memory.
MAX_INT_BITS = 4096
MAX_LIST = 100_000
MAX_TEXT = 1_000_000


def within_budget(kind: str, name: str, value: Any) -> Any:
    """`value`, or an EvaluationError (E-EVAL-LIMIT-...) when it is past a runtime budget."""
    cls = value.__class__
    code: Code
    if cls is int and value.bit_length() > MAX_INT_BITS:
        code, what = "E-EVAL-LIMIT-INT", f"an integer of {value.bit_length()} bits"
        limit = f"{MAX_INT_BITS} bits"
    elif (cls is list or cls is tuple) and len(value) > MAX_LIST:
        code, what, limit = "E-EVAL-LIMIT-LIST", f"a list of {len(value)} items", f"{MAX_LIST}"
    elif cls is str and len(value) > MAX_TEXT:
        code, what = "E-EVAL-LIMIT-STRING", f"a text of {len(value)} characters"
        limit = f"{MAX_TEXT}"
    else:
        return value
    raise EvaluationError(code, f"{kind} `{name}` is {what}, over the budget of {limit}")


def withheld(value: Any) -> Any:
    """A released value as a custodial audience sees it: every unknown in it (at any depth)
    becomes the fixed marker, so the value says nothing about how it was reached."""
    if value.__class__ is Unknown:
        return WITHHELD
    if isinstance(value, list):
        return [withheld(v) for v in value]
    if isinstance(value, dict):
        return {k: withheld(v) for k, v in value.items()}
    return value


StepKind = Literal["parameter", "definition", "table", "rule", "output"]


@dataclass(frozen=True)
class Step:
    """One thing worked out during an evaluation, in the order it was finished."""

    kind: StepKind
    name: str
    value: Any
    text: str | None  # the expression, when there is one
    cites: tuple[M.Citation, ...]
    interpretations: tuple[str, ...]
    healthcare: bool
    releasable: bool = False
    withheld_reason: str | None = None
    detail: str | None = None
    # for a definition that could not be worked out (and that nothing the decision needs
    # reads: else the decision stopped), the error it met, `message [CODE]`
    error: str | None = None
    # the pack's names it read on the branches its conditions took, in order (see
    # engine.evaluation.branches), where the decision that hands it out worked them out
    reads: tuple[str, ...] | None = None


class Evaluation:
    """The state of one evaluation: facts, memoised names and the steps taken."""

    def __init__(
        self,
        pack: M.Pack,
        facts: dict[str, Any],
        as_of: dt.date,
        custodial: bool = False,
        version_id: str | None = None,
        record: bool = True,
    ):
        version = select_version(pack, as_of, version_id)
        self.pack = pack
        self.custodial = custodial  # healthcare-only parts must never fail or leak
        self.record = record  # whether to keep the steps (an explanation needs them; a result not)
        self.version = version
        self.version_id = version_id  # kept so that a replay takes the same version
        self.as_of = as_of
        self.F: dict[str, Any] = {**facts, "as_of": as_of, "version": version.id}
        self.memo: dict[str | M.ItemKey, Any] = {}  # by name; tables by their item key
        # the definitions that could not be worked out, by name, with the error each met:
        # raised again wherever one is read (lazily: only what the decision needs stops it)
        self.failed: dict[str, Exception] = {}
        self.steps: list[Step] = []
        self.rule_results: dict[str, Any] = {}

    @classmethod
    def finished(
        cls,
        pack: M.Pack,
        F: dict[str, Any],
        as_of: dt.date,
        custodial: bool,
        version: M.Version,
        version_id: str | None,
        memo: dict[Any, Any],
        rule_results: dict[str, Any],
    ) -> Evaluation:
        """An evaluation already run elsewhere (by a pack's compiled program), with the state
        this one's `run` leaves: names and tables memoised, every rule's result, no steps."""
        ev = cls.__new__(cls)
        ev.pack, ev.custodial, ev.record = pack, custodial, False
        ev.version, ev.version_id, ev.as_of = version, version_id, as_of
        ev.F, ev.memo, ev.steps, ev.rule_results = F, memo, [], rule_results
        ev.failed = {}
        return ev

    # the rule results of a run that handed them over as one tuple: the rule ids, their values
    rule_values: tuple[tuple[str, ...], tuple[Any, ...]]

    @cached_property
    def rule_results(self) -> dict[str, Any]:
        """The rule results by rule id, of a run that handed them over as one tuple (see
        `Program.run`): made a dict when first read, and kept (any other evaluation sets
        its own dict, which is read instead; no `__getattr__`, which would slow every read
        of every other attribute)."""
        ids, values = self.__dict__["rule_values"]
        return dict(zip(ids, values, strict=True))

    # -- names -----------------------------------------------------------------------------

    def value(self, name: str) -> Any:
        """The value of a pack name (the `N` compiled expressions call); memoised."""
        try:
            return self.memo[name]
        except KeyError:
            pass
        pack = self.pack
        if name in pack.parameters:
            result = self._parameter(pack.parameters[name])
        elif name in pack.vocabulary:
            result = [v.id for v in pack.vocabulary[name].values]
        elif name in pack.definitions:
            failed = self.failed.get(name)
            if failed is not None:  # worked out once already: read again, it fails again
                raise failed.with_traceback(None)
            d = pack.definitions[name]
            try:
                result = self._guarded(
                    d.expr.healthcare,
                    lambda F, N: within_budget("definition", name, d.expr.compiled.fn(F, N)),
                )
            except VALUE_ERRORS as e:
                self._failed(name, d, e)
                raise
            if self.record:
                self.steps.append(
                    Step(
                        "definition",
                        name,
                        result,
                        d.expr.text,
                        d.cites,
                        d.interpretations,
                        d.expr.healthcare,
                    )
                )
        elif name in pack.outputs:
            result = self._output(pack.outputs[name])
        else:  # the checker rejects unknown names at load time: this is a bug, not bad input
            raise KeyError(f"unknown name `{name}` passed the checker")
        self.memo[name] = result
        return result

    def _failed(self, name: str, d: M.Definition, e: Exception) -> None:
        """Keep a definition's error, to raise again wherever it is read, and its step: kept
        whatever the facts, so which steps exist never depends on them. Should the decision
        need the definition, it stops and the step is never shown."""
        self.failed[name] = e
        if self.record:
            self.steps.append(
                Step(
                    "definition",
                    name,
                    None,
                    d.expr.text,
                    d.cites,
                    d.interpretations,
                    d.expr.healthcare,
                    error=error_text(self.pack.id, e),
                )
            )

    def _guarded(self, healthcare: bool, fn: Any) -> Any:
        """`fn(F, N)`; for a custodial audience, a healthcare-only value that cannot be worked
        out is withheld rather than an error (which would tell whether it could be)."""
        if not (self.custodial and healthcare):
            return fn(self.F, self.value)
        try:
            return fn(self.F, self.value)
        except VALUE_ERRORS:
            return WITHHELD

    def _parameter(self, param: M.Parameter) -> Any:
        pv = param.at(self.as_of)
        if pv is None:
            raise EvaluationError(
                "E-EVAL-PARAM",
                f"parameter `{param.name}` has no value in force on {self.as_of.isoformat()}",
            )
        value = M.thawed(pv.value)  # the pack's own is read-only and shared
        if self.record:
            self.steps.append(Step("parameter", param.name, value, pv.text, pv.cites, (), False))
        return value

    # -- rules, tables, outputs --------------------------------------------------------------

    def in_force(self, rule: M.Rule) -> bool:
        return not rule.versions or self.version.id in rule.versions

    def rule_when(self, rule: M.Rule) -> Any:
        try:
            return self.rule_results[rule.id]
        except KeyError:
            pass
        if not self.in_force(rule):
            result: Any = False
            detail = f"not in force in version {self.version.id}"
        else:
            result = (
                True if rule.when is None else self._guarded(rule.healthcare, rule.when.compiled.fn)
            )
            if self.custodial and rule.healthcare:
                result = withheld(result)
            detail = None
        self.rule_results[rule.id] = result
        if not self.record:
            return result
        self.steps.append(
            Step(
                "rule",
                rule.id,
                result,
                rule.when.text if rule.when else None,
                rule.cites,
                rule.interpretations,
                rule.healthcare,
                detail=detail or rule.title,
            )
        )
        return result

    def table(self, table: M.Table) -> Any:
        """The rows of a table that match, in order, or unknown."""
        key = M.ItemKey("table", table.id)
        if key in self.memo:
            return self.memo[key]
        inputs = {name: self._guarded(e.healthcare, e.compiled.fn) for name, e in table.inputs}
        result = match_rows(table, inputs, self.custodial)
        self.memo[key] = result
        if not self.record:
            return result
        rows = result if isinstance(result, list) else []
        self.steps.append(
            Step(
                "table",
                table.id,
                [r.id for r in rows] if isinstance(result, list) else result,
                None,
                tuple(c for r in rows for c in r.cites) or table.cites,
                tuple(i for r in rows for i in r.interpretations),
                table.healthcare,
                detail=", ".join(f"{k} = {_show(v)}" for k, v in inputs.items()),
            )
        )
        return result

    def _output(self, out: M.Output) -> Any:
        text = None
        interps = list(out.interpretations)
        cites = list(out.cites)
        if out.mode == "value":
            assert out.expr is not None
            text = out.expr.text
        result = self._guarded(
            out.healthcare,
            lambda F, N: within_budget("output", out.name, self._output_value(out)),
        )
        if self.custodial and out.releasable:
            result = withheld(result)
        if not self.record:
            return result
        self.steps.append(
            Step(
                "output",
                out.name,
                result,
                text,
                tuple(cites),
                tuple(interps),
                out.healthcare,
                out.releasable,
                out.withheld_reason,
            )
        )
        return result

    def _output_value(self, out: M.Output) -> Any:
        if out.mode == "value":
            assert out.expr is not None
            result = out.expr.compiled.fn(self.F, self.value)
        elif out.mode == "rules":
            result = self._from_rules(out)
        else:
            result = self._from_table(out)
        return with_default(out, result, self.F, self.value)

    def _from_rules(self, out: M.Output) -> Any:
        return from_rules(
            out, self.pack.rules_setting.get(out.name, ()), self.rule_when, self.F, self.value
        )

    def _from_table(self, out: M.Output) -> Any:
        table = self.pack.tables[str(out.table)]
        rows = self.table(table)
        if rows.__class__ is Unknown:
            return rows
        return table_values(out.name, table.hit, rows, self.F, self.value)

    # -- the whole pack ----------------------------------------------------------------------

    def run(self) -> None:
        """Work out every name, output and rule, so that which steps exist never depends on
        the facts (a custodial explanation must not vary with healthcare-only data).

        Definitions are evaluated lazily as far as errors go: one that cannot be worked out
        stops the decision only where an output, a rule or an obligation reads it (directly
        or through other names, on the branch taken), so its error is raised where it is
        read, and the first error the roots meet, in this order, is the decision's."""
        for name in self.pack.parameters:
            if self.pack.parameters[name].at(self.as_of) is not None:
                self.value(name)
        for name in self.pack.definitions:
            try:
                self.value(name)
            except VALUE_ERRORS:  # kept in `failed`: raised again where a root reads it
                pass
        for name in self.pack.outputs:
            self.value(name)
        for rule in self.pack.rules:
            self.rule_when(rule)
        for e in self.failed.values():  # (their frames lead back here: freed when dropped)
            e.__traceback__ = None


# -- the parts both evaluators share (this one, and the compiled program in program.py) ------


def match_rows(table: M.Table, inputs: dict[str, Any], custodial: bool) -> Any:
    """The rows of a table that match these input values, in order, or unknown."""
    matched: list[M.TableRow] = []
    pending: list[Any] = []
    for row in table.rows:
        verdict: Any = True
        for name, allowed in row.cells:
            if allowed is None:
                continue
            v = inputs.get(name)
            if v.__class__ is Unknown:
                verdict = v if verdict is True else merge(verdict, v)
            elif v not in allowed:
                verdict = False
                break
        if verdict is True:
            if table.hit == "first" and not pending:
                matched.append(row)
                break
            matched.append(row)
        elif verdict is not False:
            pending.append(verdict)
            if table.hit == "first":
                break
    if pending and not (table.hit == "first" and matched):
        return merge(*pending)
    if table.hit == "unique" and len(matched) > 1 and custodial and table.healthcare:
        return WITHHELD
    if table.hit == "unique" and len(matched) > 1:
        # the load-time overlap check (E-TABLE-OVERLAP) is complete for literal cells, so
        # this is a bug in the engine, not a mistake in the pack
        raise AssertionError(f"rows of unique table `{table.id}` overlap despite the check")
    return matched


def from_rules(
    out: M.Output,
    setting: tuple[tuple[M.Rule, M.Expression], ...],
    when_of: Callable[[M.Rule], Any],
    F: dict[str, Any],
    N: Callable[[str], Any],
) -> Any:
    """An output set by rules: their values combined as the output says (None: no rule set
    it, and it has no `combine: collect`), or unknown when a rule that may apply is unknown."""
    values: list[Any] = []
    pending: list[Any] = []
    combine = out.combine
    for rule, expr in setting:
        when = when_of(rule)
        if when is True:
            if combine == "first" and not pending:
                return expr.compiled.fn(F, N)
            values.append(expr.compiled.fn(F, N))
            if combine == "any":
                return True
        elif when is not False:
            pending.append(when)
            if combine == "first":
                return merge(*pending)
    if pending:
        return merge(*pending)
    if combine == "any":
        return False
    if combine == "first":
        return None
    return values


def table_values(name: str, hit: str, rows: Any, F: dict[str, Any], N: Callable[[str], Any]) -> Any:
    """An output read from a table's matched rows (unknown rows stay unknown)."""
    if rows.__class__ is Unknown:
        return rows
    values = []
    for row in rows:
        for col, expr in row.then:
            if col == name:
                values.append(expr.compiled.fn(F, N))
    if hit == "collect":
        return values
    return values[0] if values else None


def with_default(out: M.Output, result: Any, F: dict[str, Any], N: Callable[[str], Any]) -> Any:
    """An output's value with its default in place of an empty or missing result."""
    if out.mode != "value" and isinstance(result, list) and not result and out.default:
        return out.default.compiled.fn(F, N)
    if result is None:
        return out.default.compiled.fn(F, N) if out.default else NULL
    return result


def name_alone(pack: M.Pack, expr: M.Expression) -> str | None:
    """The pack name (parameter, definition or output) an expression is alone, whose value is
    then that name's value as `N` gives it; else None."""
    node = expr.checked.node
    if (
        isinstance(node, A.Name)
        and node.name not in expr.checked.roots
        and node.name not in ("as_of", "version")
        and (
            node.name in pack.parameters
            or node.name in pack.definitions
            or node.name in pack.outputs
        )
    ):
        return node.name
    return None


def error_text(pack_id: str, e: Exception) -> str:
    """An error met in working out a value, as the decision that stopped on it would say it:
    `message [CODE]`."""
    return str(e if isinstance(e, EvaluationError) else out_of_range(pack_id, e))


def out_of_range(pack_id: str, e: Exception) -> EvaluationError:
    """The engine's words for a value an evaluation could not hold: a decimal with no exact
    value or past 200 digits, a date pushed past year 9999 (the SQL form says the same)."""
    if isinstance(e, decimal.Inexact):
        return EvaluationError(
            "E-EVAL-RANGE",
            f"a decimal in pack `{pack_id}` has no exact value (such as 1 / 3) or needs more "
            "than 200 digits; decimals are never rounded silently: use round(x, places)",
        )
    return EvaluationError("E-EVAL-RANGE", f"a value in pack `{pack_id}` went out of range: {e}")


def select_version(pack: M.Pack, as_of: dt.date, version_id: str | None = None) -> M.Version:
    """The policy version to evaluate: the one in force on `as_of`, or the one named."""
    version = pack.version_at(as_of) if version_id is None else _version(pack, version_id)
    if version is None:
        spans = ", ".join(
            f"`{v.id}` {v.effective_from}..{v.effective_to or 'open'}" for v in pack.versions
        )
        nearest = _nearest_in_force(pack, as_of)
        raise EvaluationError(
            "E-EVAL-VERSION",
            f"pack `{pack.id}` has no version in force on {as_of.isoformat()} (versions: {spans})",
            hint=None if nearest is None else f"give a day a version is in force, e.g. {nearest}",
        )
    return version


def _nearest_in_force(pack: M.Pack, day: dt.date) -> dt.date | None:
    """The day nearest `day` on which some version of the pack is in force."""
    ends = [(v.effective_from, v.effective_to or dt.date.max) for v in pack.versions]
    near = [max(start, min(day, end)) for start, end in ends]
    return min(near, key=lambda d: abs((d - day).days), default=None)


def _version(pack: M.Pack, version_id: str) -> M.Version:
    """One of the pack's policy versions by id, to evaluate as if it were in force."""
    for v in pack.versions:
        if v.id == version_id:
            return v
    raise EvaluationError(
        "E-EVAL-VERSION",
        f"pack `{pack.id}` has no version `{version_id}` "
        f"(versions: {', '.join(v.id for v in pack.versions)})",
    )


def _show(value: Any) -> str:
    if value.__class__ is Unknown:
        return "unknown" if value.paths else "none"  # (no fact needed: the decided no-value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return repr(value) if isinstance(value, str) else str(value)
