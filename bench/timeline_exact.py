"""Change points against day-by-day evaluation, on a bigger generated population than the
test suite samples: every pack, a year each, both audiences. Prints `name: figure` lines
and exits 1 on any disagreement.

    .venv/bin/python bench/timeline_exact.py [DOCUMENTS_PER_PACK]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import engine  # noqa: E402
from tests.timeline_check import RANGES, check_pack  # noqa: E402


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    packs = engine.load(Path(__file__).resolve().parent.parent / "policies")
    failed = 0
    for pack_id in sorted(RANGES):
        began = time.perf_counter()
        tally = check_pack(packs[pack_id], count, seed=31)
        took = time.perf_counter() - began
        print(f"timeline_exact.{pack_id}.documents: {tally.documents}")
        print(f"timeline_exact.{pack_id}.days: {tally.days}")
        print(f"timeline_exact.{pack_id}.change_points: {tally.change_points}")
        print(f"timeline_exact.{pack_id}.days_evaluated_by_change_points: {tally.evaluated}")
        print(f"timeline_exact.{pack_id}.disagreements: {len(tally.disagreements)}")
        print(f"timeline_exact.{pack_id}.seconds: {took:.1f}")
        for line in tally.disagreements[:5]:
            print(f"  {line}", file=sys.stderr)
        failed += len(tally.disagreements)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
