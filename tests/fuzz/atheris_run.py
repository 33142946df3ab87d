"""The atheris part of `make fuzz`: each coverage-guided target (tests/fuzz/atheris_targets.py)
for ATHERIS_SECONDS (default 300), each in its own process, seeded with the saved corpus.
Prints `name: figure` lines (runs per target, crashes); a crashing input is kept under
FUZZ_OUT (libFuzzer's `crash-...` file) to join the corpus with its expected error."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGETS = ("yaml", "expressions", "facts")
SEEDS = {
    "yaml": [ROOT / "tests" / "corpus" / "fuzz" / "yaml", ROOT / "tests" / "corpus" / "packs"],
    "expressions": [ROOT / "tests" / "corpus" / "fuzz" / "expressions"],
    "facts": [ROOT / "tests" / "corpus" / "facts"],
}


def run_target(target: str, seconds: int, out: Path) -> tuple[int, bool]:
    """Fuzz one target; its number of runs and whether it crashed."""
    corpus = out / f"atheris-corpus-{target}"  # libFuzzer adds the inputs it finds here
    corpus.mkdir(parents=True, exist_ok=True)
    for folder in SEEDS[target]:
        for f in sorted(folder.glob("*")):
            if f.is_file() and f.suffix != ".expect":
                shutil.copy(f, corpus / f.name)
    cmd = [
        sys.executable,
        str(ROOT / "tests" / "fuzz" / "atheris_targets.py"),
        target,
        f"-max_total_time={seconds}",
        "-timeout=30",  # seconds for one input: past it, a hang
        "-rss_limit_mb=4096",
        f"-artifact_prefix={out}/atheris-{target}-",
        str(corpus),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    log = done.stdout + done.stderr
    (out / f"atheris-{target}.log").write_text(log, encoding="utf-8")
    runs = re.findall(r"Done (\d+) runs", log)
    stats = re.findall(r"#(\d+)\s", log)
    count = int(runs[-1]) if runs else int(stats[-1]) if stats else 0
    return count, done.returncode != 0


def main() -> int:
    seconds = int(os.environ.get("ATHERIS_SECONDS", "300"))
    out = Path(os.environ.get("FUZZ_OUT", ROOT / ".fuzz-findings"))
    out.mkdir(exist_ok=True)
    crashed = []
    for target in TARGETS:
        runs, crash = run_target(target, seconds, out)
        print(f"atheris-{target}-runs: {runs}", flush=True)
        if crash:
            crashed.append(target)
    print(f"atheris-crashes: {len(crashed)}" + (f" ({', '.join(crashed)})" if crashed else ""))
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
