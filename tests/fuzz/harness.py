"""What every fuzz target shares: how many examples to run, a tally of what was run, and the
one rule of all targets: an input gives a result or one of the engine's own errors with a code,
never any other exception, and never takes longer than a bound."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, Phase, settings

# `make test` runs a short round; `make fuzz` sets FUZZ_EXAMPLES high and repeats rounds
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
SLOW_SECONDS = float(os.environ.get("FUZZ_SLOW_SECONDS", "5"))
# crashes found by fuzzing stay here, each with the error it must give
CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "fuzz"

SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    database=None,
)

TALLY: Counter[str] = Counter()


class Hang(AssertionError):
    """An input took longer than FUZZ_SLOW_SECONDS: a hang for the fuzz report."""


class Timer:
    """Counts one example of `target` and fails it when it uses too much CPU time (CPU, not
    wall-clock: `make fuzz` runs at the lowest priority, where waiting is not hanging)."""

    def __init__(self, target: str):
        self.target = target

    def __enter__(self) -> Timer:
        TALLY[f"{self.target} examples"] += 1
        self.start = time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        took = time.process_time() - self.start
        if took > SLOW_SECONDS and exc[0] is None:
            TALLY[f"{self.target} hangs"] += 1
            raise Hang(f"{self.target}: one input took {took:.1f} s of CPU")


def write_tally() -> None:
    """Add this run's tally to the file FUZZ_STATS names (for `make fuzz`'s report)."""
    path = os.environ.get("FUZZ_STATS")
    if not path or not TALLY:
        return
    p = Path(path)
    old = json.loads(p.read_text()) if p.exists() else {}
    for k, v in TALLY.items():
        old[k] = old.get(k, 0) + v
    p.write_text(json.dumps(old, indent=1, sort_keys=True))


def corpus(target: str) -> list[tuple[Path, str, str]]:
    """The saved inputs of a target: (file, expected code, input text). The first line of
    each file is `# expect: CODE` (or `# expect: ok`)."""
    out = []
    for f in sorted((CORPUS / target).glob("*")):
        head, _, body = f.read_text(encoding="utf-8").partition("\n")
        assert head.startswith("# expect: "), f"{f.name}: first line must be `# expect: CODE`"
        out.append((f, head.removeprefix("# expect: ").strip(), body))
    return out
