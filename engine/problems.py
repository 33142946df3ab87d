"""Problems: the one error type of every stage, its catalogue of stable codes, and the
"did you mean" suggestion every stage uses. The bottom layer: it imports nothing of the engine.

Every code a problem can carry is listed once, in `CATALOGUE`, with its one-line meaning;
`docs/errors.md` is generated from it (with a bad input that produces each code, taken from
the corpus under tests/corpus/), and a test fails when a code lacks either.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

Severity = Literal["error", "warning"]

# Every code, so that mypy rejects a misspelt one where a problem is made.
Code = Literal[
    "E-IO",
    "E-ENCODING",
    "E-YAML",
    "E-YAML-DUPKEY",
    "E-YAML-TAG",
    "E-YAML-ALIAS",
    "E-INPUT-SIZE",
    "E-SCHEMA",
    "E-SYNTAX",
    "E-LIMIT-SIZE",
    "E-LIMIT-DEPTH",
    "E-RANGE",
    "E-NAME",
    "E-PATH",
    "E-FUNC",
    "E-ARGS",
    "E-TYPE",
    "E-TYPE-DURATION",
    "E-TYPE-COND",
    "E-ENUM",
    "E-DUP-ID",
    "E-DUP-NAME",
    "E-CYCLE",
    "E-REF",
    "E-TABLE-OVERLAP",
    "E-VERSION-DATES",
    "E-VERSION-OVERLAP",
    "E-PARAM-OVERLAP",
    "E-TASK-REF",
    "E-TASK-CYCLE",
    "W-UNUSED",
    "W-CITE-MISSING",
    "W-NO-RULES",
    "W-TABLE-COLUMN",
    "W-RELEASABLE",
    "E-RELEASE-DETAIL",
    "E-FACTS-SCHEMA",
    "E-COST-LIMIT",
    "W-COST-HIGH",
    "E-DUP-PACK",
    "E-IMPORT",
    "E-IMPORT-CYCLE",
    "E-NO-PACKS",
    "E-FACTS",
    "E-JSON",
    "E-JSON-DUPKEY",
    "E-FACTS-DEPTH",
    "E-FACTS-NUMBER",
    "E-FACTS-LIMIT",
    "E-EVAL-AUDIENCE",
    "E-EVAL-VERSION",
    "E-EVAL-PARAM",
    "E-EVAL-DIV0",
    "E-EVAL-RANGE",
    "E-EVAL-PLAN",
    "E-EVAL-LIMIT-INT",
    "E-EVAL-LIMIT-LIST",
    "E-EVAL-LIMIT-STRING",
    "E-EVAL-LIMIT-STEPS",
    "E-ARG",
    "E-DATE",
    "E-EXPLAIN-TARGET",
    "E-POPULATION",
    "E-TEST",
    "E-CITE-SECTION",
    "W-CITE-DOCUMENT",
    "E-MAPPING-NAME",
    "E-HTTP-CONFIG",
    "E-HTTP-SETUP",
    "E-HTTP-UNAUTHORISED",
    "E-HTTP-FORBIDDEN",
    "E-HTTP-NOT-FOUND",
    "E-HTTP-UNAVAILABLE",
    "E-HTTP-STATUS",
    "E-HTTP-JSON",
    "E-FACTS-LOCAL",
    "E-FACTS-LOCAL-ESTABLISHMENT",
    "E-LOCAL-DECLARE",
    "W-LOCAL-OPTIONS",
    "W-LOCAL-RULES",
    "E-LOCAL-SHARED",
    "E-LOCAL-EXTENDS",
    "E-LOCAL-VERSION",
    "E-LOCAL-LIMITED",
    "E-LOCAL-OPTION",
    "E-LOCAL-BOUND",
    "E-LOCAL-WIDEN",
    "E-LOCAL-REMOVE",
    "E-LOCAL-AGREEMENT",
    "E-LOCAL-DISAGREE",
    "W-LOCAL-SIGNOFF",
    "W-LOCAL-HEALTHCARE",
    "W-SQL-UNSUPPORTED",
]


@dataclass(frozen=True)
class CodeEntry:
    """One code of the catalogue: the stage that reports it and what it means."""

    code: Code
    stage: str
    meaning: str

    @property
    def severity(self) -> Severity:
        return "warning" if self.code.startswith("W-") else "error"


def _entries(stage: str, *pairs: tuple[Code, str]) -> list[CodeEntry]:
    return [CodeEntry(code, stage, meaning) for code, meaning in pairs]


CATALOGUE: Mapping[Code, CodeEntry] = MappingProxyType(
    {
        entry.code: entry
        for entry in [
            *_entries(
                "reading YAML",
                ("E-IO", "a file cannot be read (it does not exist, or is a directory)"),
                ("E-ENCODING", "a file is not UTF-8 text"),
                ("E-YAML", "the text is not well-formed YAML, or is more than one document"),
                ("E-YAML-DUPKEY", "a mapping gives the same key twice"),
                ("E-YAML-TAG", "a YAML tag asks for something other than plain data"),
                ("E-YAML-ALIAS", "an alias is undefined, recursive, or used too many times"),
                ("E-INPUT-SIZE", "a pack or facts file larger than the size limit"),
            ),
            *_entries(
                "schema validation",
                ("E-SCHEMA", "a pack or worked example does not have the shape its schema sets"),
            ),
            *_entries(
                "parsing expressions",
                ("E-SYNTAX", "the text is not an expression of the language"),
                ("E-LIMIT-SIZE", "an expression is longer than the language allows"),
                ("E-LIMIT-DEPTH", "an expression is nested more deeply than the language allows"),
                ("E-RANGE", "a duration literal longer than the calendar holds (10,000 years)"),
            ),
            *_entries(
                "checking expressions",
                ("E-NAME", "a name that is not a fact root, parameter, definition or output"),
                ("E-PATH", "a field that a fact or record does not have"),
                ("E-FUNC", "a function that is not one of the built-in functions"),
                ("E-ARGS", "a function given the wrong number or kind of arguments"),
                ("E-TYPE", "operand types that do not fit the operator"),
                ("E-TYPE-DURATION", "exact and calendar durations compared or combined"),
                ("E-TYPE-COND", "a condition that is not a boolean"),
                ("E-ENUM", "a literal that is not a value of the enumeration it is compared to"),
            ),
            *_entries(
                "building a pack",
                ("E-DUP-ID", "an id given twice (rule, version, interpretation, vocabulary value)"),
                ("E-DUP-NAME", "a name defined twice, or a vocabulary both defined and imported"),
                (
                    "E-CYCLE",
                    "definitions, outputs, tables or rules that read each other in a cycle",
                ),
                ("E-REF", "a reference to an interpretation, version, output or table not there"),
                ("E-TABLE-OVERLAP", "two rows of a `unique` decision table can both match"),
                ("E-VERSION-DATES", "a version that ends before it begins"),
                ("E-VERSION-OVERLAP", "two versions of a pack in force on the same date"),
                ("E-PARAM-OVERLAP", "two values of a parameter in force on the same date"),
                ("E-TASK-REF", "a task comes `after:` a task that does not exist"),
                ("E-TASK-CYCLE", "tasks that come after each other in a cycle"),
                ("W-UNUSED", "a definition, parameter or interpretation that nothing uses"),
                (
                    "W-CITE-MISSING",
                    "a rule, table row, task or parameter value that cites no source passage",
                ),
                ("W-NO-RULES", "an output computed `from_rules` that no rule sets"),
                (
                    "W-TABLE-COLUMN",
                    "a row of a `unique` or `first` table that leaves out a column others give",
                ),
                (
                    "W-RELEASABLE",
                    "a `releasable` output or rule that reads no healthcare-only fact",
                ),
                (
                    "E-RELEASE-DETAIL",
                    "a releasable obligation whose due or frequency reads healthcare-only facts",
                ),
                ("E-FACTS-SCHEMA", "a pack names a facts schema that cannot be found or read"),
                (
                    "E-COST-LIMIT",
                    "an expression whose estimated evaluation cost is over 1,000,000,000 steps",
                ),
                (
                    "W-COST-HIGH",
                    "an expression whose estimated evaluation cost is over 100,000,000 steps",
                ),
            ),
            *_entries(
                "loading packs together",
                ("E-DUP-PACK", "two files define a pack with the same id"),
                ("E-IMPORT", "a pack imports a pack that is not there or did not load"),
                ("E-IMPORT-CYCLE", "packs that import each other in a cycle"),
                ("E-NO-PACKS", "a folder or list of files holds no pack"),
            ),
            *_entries(
                "preparing facts",
                ("E-FACTS", "a facts document that does not match its facts schema"),
                ("E-JSON", "a `.json` facts file that is not JSON"),
                ("E-JSON-DUPKEY", "a JSON object gives the same key twice"),
                ("E-FACTS-DEPTH", "a facts document nested more than 64 levels deep"),
                ("E-FACTS-NUMBER", "NaN, infinity, or an integer of 30 digits or more in facts"),
                ("E-FACTS-LIMIT", "a text or list in facts longer than 100,000"),
            ),
            *_entries(
                "evaluation",
                ("E-EVAL-AUDIENCE", "an audience other than `custodial` or `healthcare`"),
                ("E-EVAL-VERSION", "no version of the pack is in force on the evaluation date"),
                ("E-EVAL-PARAM", "a parameter has no value in force on the evaluation date"),
                ("E-EVAL-DIV0", "a division by zero"),
                (
                    "E-EVAL-RANGE",
                    "a date past the years 1 to 9999, or a decimal past its precision (in SQL "
                    "also a value a SQL column cannot hold, which the interpreter decides)",
                ),
                (
                    "E-EVAL-PLAN",
                    "facts for another establishment, facts that contradict a local plan's "
                    "choice, or a date the plan is not in force",
                ),
                ("E-EVAL-LIMIT-INT", "a definition or output is an integer over 4,096 bits"),
                ("E-EVAL-LIMIT-LIST", "a definition or output is a list over 100,000 items"),
                (
                    "E-EVAL-LIMIT-STRING",
                    "a definition or output is a text over 1,000,000 characters",
                ),
                (
                    "E-EVAL-LIMIT-STEPS",
                    "one expression's quantifiers and list functions visit over 10,000,000 "
                    "elements, or build a list or text past its budget",
                ),
                ("E-ARG", "a library call given an argument of the wrong kind"),
                ("E-DATE", "an evaluation date that is not written YYYY-MM-DD"),
                ("E-EXPLAIN-TARGET", "an explanation asked of a name the pack does not have"),
            ),
            *_entries(
                "reading populations",
                ("E-POPULATION", "a population file that cannot be read as facts documents"),
            ),
            *_entries(
                "tools",
                ("E-TEST", "a worked example gives other results than it expects"),
                ("E-CITE-SECTION", "a cited section is not a heading of its source document"),
                ("W-CITE-DOCUMENT", "a cited document is not in the sources directory"),
            ),
            *_entries(
                "reading record mappings",
                (
                    "E-MAPPING-NAME",
                    "a record mapping names a service, source, code set or fact that is not there",
                ),
            ),
            *_entries(
                "fetching records",
                (
                    "E-HTTP-CONFIG",
                    "no base URL for a service that is needed, or a bad client configuration",
                ),
                ("E-HTTP-SETUP", "the HTTP client (the `hmpps` extra, httpx) is not installed"),
                ("E-HTTP-UNAUTHORISED", "a service refused the bearer token (401)"),
                ("E-HTTP-FORBIDDEN", "the bearer token lacks the role an endpoint requires (403)"),
                ("E-HTTP-NOT-FOUND", "the one required record does not exist (404)"),
                (
                    "E-HTTP-UNAVAILABLE",
                    "a service still failing (5xx, 429, timeout, no connection) after the retries",
                ),
                ("E-HTTP-STATUS", "a service refused a request with another status (e.g. 400)"),
                ("E-HTTP-JSON", "a service answered something other than JSON"),
            ),
            *_entries(
                "reading local facts",
                (
                    "E-FACTS-LOCAL",
                    "a local facts file (`--local-facts`) does not have the shape "
                    "schemas/local-facts.schema.json sets, or states a fact its schema refuses",
                ),
                (
                    "E-FACTS-LOCAL-ESTABLISHMENT",
                    "a local facts file names another establishment than the records are of",
                ),
            ),
            *_entries(
                "declaring local choice",
                (
                    "E-LOCAL-DECLARE",
                    "a pack's `local:` block gives delivery options to an item without "
                    "partial autonomy, a partial choice no options, or a declared rule "
                    "condition a `rules:` list",
                ),
                (
                    "W-LOCAL-OPTIONS",
                    "a partial-autonomy task whose delivery options `local:` does not declare",
                ),
                (
                    "W-LOCAL-RULES",
                    "a declared definition's `rules:` leaves out a rule that reads it, or lists "
                    "one that does not",
                ),
                (
                    "E-LOCAL-SHARED",
                    "a `shared:` declaration names a pack that is not there, or an item that "
                    "pack's `local:` block does not open, or national values that differ",
                ),
            ),
            *_entries(
                "checking local plans",
                (
                    "E-LOCAL-EXTENDS",
                    "a local plan extends a pack that is not there, or not the pack asked for",
                ),
                (
                    "E-LOCAL-VERSION",
                    "a local plan targets a national version that does not exist or is not "
                    "in force for all its dates",
                ),
                (
                    "E-LOCAL-LIMITED",
                    "a local plan changes an item with limited autonomy, or one the national "
                    "pack does not open to local choice",
                ),
                (
                    "E-LOCAL-OPTION",
                    "a local plan picks an option the national pack does not list, or designs "
                    "its own product where autonomy is only partial",
                ),
                (
                    "E-LOCAL-BOUND",
                    "a local value of a national parameter is below the national minimum",
                ),
                (
                    "E-LOCAL-WIDEN",
                    "a narrowed condition (a rule's, or a declared definition's value) may hold, "
                    "or be not known, where the national one does not hold",
                ),
                (
                    "E-LOCAL-REMOVE",
                    "a local plan removes, replaces or narrows away a national obligation",
                ),
                (
                    "E-LOCAL-AGREEMENT",
                    "a local rule adds to a national group without the agreement it requires",
                ),
                (
                    "E-LOCAL-DISAGREE",
                    "two active plans of one establishment, in force together, set an item "
                    "their packs declare shared to different values or add different members",
                ),
                (
                    "W-LOCAL-SIGNOFF",
                    "a part of an active local plan in force without its required sign-off",
                ),
                (
                    "W-LOCAL-HEALTHCARE",
                    "a local rule reads healthcare-only facts, making national outputs "
                    "healthcare-only (withheld from custodial staff)",
                ),
            ),
            *_entries(
                "compiling to SQL",
                (
                    "W-SQL-UNSUPPORTED",
                    "a pack uses a construct that has no SQL form (the interpreter decides it)",
                ),
            ),
        ]
    }
)


def severity_of(code: Code) -> Severity:
    """`W-` codes are warnings, all others errors."""
    return CATALOGUE[code].severity


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong (or worth a warning) at a place in a file.

    Lines and columns are 1-based. `message` is one lowercase line with user
    input in backticks; `hint` says how to fix it. Made with `problem` or `file_problem`.
    """

    file: str
    line: int
    col: int
    severity: Severity = field(compare=False)
    code: Code = field(compare=False)
    message: str = field(compare=False)
    hint: str | None = field(default=None, compare=False)
    end_line: int | None = field(default=None, compare=False)
    end_col: int | None = field(default=None, compare=False)
    whole_file: bool = field(default=False, compare=False)  # about the file, not a place in it

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def format(self) -> str:
        """`path:line:col: error: message [code]`, with the hint on the next line."""
        text = f"{self.file}:{self.line}:{self.col}: {self.severity}: {self.message} [{self.code}]"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "end_line": self.end_line,
            "end_col": self.end_col,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
        }


def problem(
    code: Code,
    file: str,
    line: int,
    col: int,
    message: str,
    hint: str | None = None,
    end: tuple[int, int] | None = None,
) -> Problem:
    """A problem at a position; its severity comes from the code."""
    end_line, end_col = end if end else (None, None)
    return Problem(file, line, col, severity_of(code), code, message, hint, end_line, end_col)


def file_problem(code: Code, file: str, message: str, hint: str | None = None) -> Problem:
    """A problem with a whole file, shown at its first line and column."""
    return Problem(file, 1, 1, severity_of(code), code, message, hint, whole_file=True)


def closest(word: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The candidate nearest to a misspelt word, if one is near enough."""
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=cutoff)
    return matches[0] if matches else None


def did_you_mean(word: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The one "did you mean" hint of every stage: "did you mean `x`?", or None."""
    near = closest(word, candidates, cutoff)
    return f"did you mean `{near}`?" if near is not None else None


class PackError(Exception):
    """Raised by `engine.load` with every problem found, sorted by position."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        errors = [p for p in self.problems if p.is_error]
        first = errors[0].format() if errors else "no errors"
        super().__init__(f"{len(errors)} error(s); first: {first}")


class FactsError(Exception):
    """Raised when a facts document does not match its schema; nothing is evaluated.

    `placeable` false: the problems name their place by path alone, and are not to be placed
    at a line and column of the file (nor shown with its text): for a reader who may not see
    some parts of the document, the place would move with those parts, and the text around
    it could quote them."""

    def __init__(self, problems: list[Problem], placeable: bool = True):
        self.problems = sorted(problems)
        self.placeable = placeable
        super().__init__("; ".join(p.format() for p in self.problems[:3]))


class EvaluationError(Exception):
    """Raised when an evaluation cannot proceed (no version in force, division by zero...)."""

    def __init__(
        self, code: Code, message: str, problem: Problem | None = None, hint: str | None = None
    ):
        self.code = code
        self.problem = problem
        self.hint = hint  # how to put it right, where the caller can say
        super().__init__(f"{message} [{code}]")


class UnknownPackError(EvaluationError, KeyError):
    """A pack id the loaded packs do not have (E-ARG); a KeyError too, so that loaded packs
    answer `in` and `get` as any mapping does."""

    def __str__(self) -> str:
        return Exception.__str__(self)  # the message, not KeyError's quoted repr of it


class PopulationError(Exception):
    """Raised when a population file cannot be read (`E-POPULATION`); nothing is evaluated."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        super().__init__("; ".join(p.format() for p in self.problems[:3]))
