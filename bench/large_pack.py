"""A generated pack of many rules, for measuring how checking scales (`check-N-rules`)."""

from __future__ import annotations

import time
from pathlib import Path

from generated_pack import pack_header

CONDITIONS = [
    'prisoner.acct == "open"',
    'prisoner.rosh in ["HIGH", "VERY_HIGH"] and prisoner.release_date - as_of <= 4 weeks',
    "establishment.regime_level >= 2 and not prisoner.tact",
    "count(s in prisoner.keywork.sessions: s.date > as_of - 7 days) >= 1",
    "age(prisoner.date_of_birth) >= 18 and flagged",
]


def pack_text(rules: int) -> str:
    """A valid pack with `rules` rules, outputs set by some of them and a few definitions."""
    lines = [
        *pack_header("large", "A generated pack for measuring the checker", schema=True),
        "definitions:",
        '  flagged: prisoner.acct == "open" or prisoner.cev',
        "outputs:",
        "  groups:",
        "    from_rules: collect",
        "    default: '[]'",
        "  busy:",
        "    value: len(groups) > 3",
        "rules:",
    ]
    for i in range(rules):
        lines += [
            f"  - id: R-{i:05d}",
            f"    title: Generated rule {i}",
            f"    when: '{CONDITIONS[i % len(CONDITIONS)]}'",
            "    cite: {section: Generated}",
        ]
        if i % 10 == 0:
            lines.append(f"    sets: {{groups: '\"g{i % 50}\"'}}")
        else:
            lines += [
                "    obligation:",
                "      modality: must",
                f"      text: Do generated thing {i}.",
                f"      due: as_of + {i % 28 + 1} days",
            ]
    return "\n".join(lines) + "\n"


def time_sql_check(rules: int, folder: Path) -> float:
    """CPU seconds of the SQL part of `regime check` (compiling the pack to SQL) on a generated
    pack of `rules` rules, without the disk cache."""
    from engine.api import check_paths
    from engine.sql.query import compile_pack
    from engine.sql.types import Unsupported

    path = folder / f"large_{rules}.yaml"
    path.write_text(pack_text(rules), encoding="utf-8")
    packs, _ = check_paths([path])
    start = time.process_time()
    try:
        compile_pack(packs["large"])
    except Unsupported:
        pass  # a warning for `regime check`: the time to find it is what is measured
    return time.process_time() - start


def time_check(rules: int, folder: Path, clock: str = "process") -> float:
    """Seconds to check a generated pack of `rules` rules (no errors expected): CPU seconds of
    this process by default (steady on a shared machine), or wall-clock with clock="wall"."""
    from engine.api import check_paths

    timer = time.process_time if clock == "process" else time.perf_counter
    path = folder / f"large_{rules}.yaml"
    path.write_text(pack_text(rules), encoding="utf-8")
    start = timer()
    packs, problems = check_paths([path])
    took = timer() - start
    errors = [p for p in problems if p.is_error]
    assert "large" in packs and not errors, [p.format() for p in errors[:3]]
    return took


if __name__ == "__main__":
    import sys
    import tempfile

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sql = "--sql" in sys.argv  # also the SQL part of `regime check`
    with tempfile.TemporaryDirectory() as d:
        for n in [int(a) for a in sys.argv[1:] if a != "--sql"] or [1000, 2000]:
            print(f"check-{n}-rules: {time_check(n, Path(d)):.2f}", flush=True)
            if sql:
                print(f"sql-check-{n}-rules: {time_sql_check(n, Path(d)):.2f}", flush=True)
