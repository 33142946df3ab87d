"""The long fuzz run behind `make fuzz`: rounds of every fuzz target and the need-to-know
property, each round with a new seed and many examples, until FUZZ_SECONDS have passed.
Prints `name: figure` lines (examples run per target, crashes, hangs, leaks); the report of
each failing round is kept under FUZZ_OUT for its inputs to join the corpus."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def main() -> int:
    seconds = float(os.environ.get("FUZZ_SECONDS", "1800"))
    out = Path(os.environ.get("FUZZ_OUT", ROOT / ".fuzz-findings"))
    out.mkdir(exist_ok=True)
    # short rounds, so that a run at the lowest priority on a busy machine still reports
    os.environ.setdefault("FUZZ_EXAMPLES", "60")
    os.environ.setdefault("NTK_EXAMPLES", "25")
    os.environ.setdefault("NTK_CLI_EXAMPLES", "2")
    sys.path.insert(0, str(ROOT))
    from tests.fuzz.harness import TALLY

    start = time.monotonic()
    rounds = failed_rounds = crashes = leaks = 0
    stopped = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopped
        stopped = True
        raise KeyboardInterrupt  # pytest ends the round cleanly and reports what it ran

    # the run ends on time even inside a long round, and on `kill` with its figures printed
    signal.signal(signal.SIGALRM, stop)
    signal.signal(signal.SIGTERM, stop)
    signal.alarm(max(1, int(seconds)))
    while not stopped and time.monotonic() - start < seconds:
        rounds += 1
        seed = int(time.time() * 1000) % 2**32
        buf = io.StringIO()
        args = [
            str(ROOT / "tests" / "fuzz"),
            str(ROOT / "tests" / "property" / "test_need_to_know.py"),
            "-q",
            "-k",
            "not atheris",  # the coverage-guided targets run on their own (atheris_run.py)
            "-p",
            "no:cacheprovider",
            "-W",
            "ignore",
            f"--hypothesis-seed={seed}",
        ]
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
            code = pytest.main(args)
        text = buf.getvalue()
        if stopped and code == pytest.ExitCode.INTERRUPTED:
            break  # the time is up: this round's examples so far are counted, not failed
        if code != 0:
            failed_rounds += 1
            (out / f"round-{rounds}-seed-{seed}.txt").write_text(text, encoding="utf-8")
            for line in text.splitlines():
                if line.startswith("FAILED"):
                    if "need_to_know" in line:
                        leaks += 1
                    else:
                        crashes += 1
        elapsed = time.monotonic() - start
        so_far = ", ".join(f"{k} {v}" for k, v in sorted(TALLY.items()))
        print(f"round {rounds} (seed {seed}): exit {code}, {elapsed:.0f} s; {so_far}", flush=True)
    print(f"fuzz-seconds: {time.monotonic() - start:.0f}")
    print(f"fuzz-rounds: {rounds}")
    for key in sorted(k for k in TALLY if k.endswith("examples") or "compared" in k):
        print(f"{key}: {TALLY[key]}")
    print(f"crashes: {crashes}")
    print(f"hangs: {sum(v for k, v in TALLY.items() if k.endswith('hangs'))}")
    print(f"leaks: {leaks}")
    print(f"failed-rounds: {failed_rounds}")
    return 1 if failed_rounds else 0


if __name__ == "__main__":
    sys.exit(main())
