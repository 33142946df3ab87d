"""Reports the fuzz tally at the end of a session when `make fuzz` asks for it."""

from __future__ import annotations

from typing import Any

from .harness import write_tally


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    write_tally()
