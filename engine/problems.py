"""Problems: the one error type of every stage, with a stable code and a position."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong (or worth a warning) at a place in a file.

    Lines and columns are 1-based. `message` is one lowercase line with user
    input in backticks; `hint` says how to fix it.
    """

    file: str
    line: int
    col: int
    severity: str = field(compare=False)  # "error" | "warning"
    code: str = field(compare=False)
    message: str = field(compare=False)
    hint: str | None = field(default=None, compare=False)
    end_line: int | None = field(default=None, compare=False)
    end_col: int | None = field(default=None, compare=False)

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def format(self) -> str:
        """`path:line:col: error: message [code]`, with the hint after ` (` when present."""
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


class PackError(Exception):
    """Raised by `engine.load` with every problem found, sorted by position."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        errors = [p for p in self.problems if p.is_error]
        first = errors[0].format() if errors else "no errors"
        super().__init__(f"{len(errors)} error(s); first: {first}")


class FactsError(Exception):
    """Raised when a facts document does not match its schema; nothing is evaluated."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        super().__init__("; ".join(p.format() for p in self.problems[:3]))


class EvaluationError(Exception):
    """Raised when an evaluation cannot proceed (no version in force, division by zero...)."""

    def __init__(self, code: str, message: str, problem: Problem | None = None):
        self.code = code
        self.problem = problem
        super().__init__(f"{message} [{code}]")


class PopulationError(Exception):
    """Raised when a population file cannot be read (`E-POPULATION`); nothing is evaluated."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        super().__init__("; ".join(p.format() for p in self.problems[:3]))
