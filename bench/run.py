"""Benchmark: the expression language against a hand-written Python function, in the same run.

The expression is the key work priority rule (ten clauses over facts that are often null).
Both sides evaluate the same 88,000 generated records; latency is measured per batch of
records (so the timer's own cost is spread), and the ratio compares medians.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.language import static_types as T  # noqa: E402
from engine.language.check import SimpleScope, Symbol, check  # noqa: E402
from engine.language.codegen import compile_checked  # noqa: E402
from engine.language.parse import parse  # noqa: E402
from engine.language.runtime import Unknown  # noqa: E402
from engine.packs.facts_schema import root_types  # noqa: E402

RECORDS = 88_000
BATCH = 50
ROUNDS = 3

EXPRESSION = """
prisoner.acct == "open"
or prisoner.rosh in ["HIGH", "VERY_HIGH"]
   and (prisoner.release_date - as_of <= 28 days or as_of >= prisoner.irmm_keywork_from)
or (prisoner.tact or prisoner.pathfinder_recommended)
   and (as_of >= prisoner.release_date - 2 months or as_of >= prisoner.pathfinder_keywork_from)
or prisoner.cev
or prisoner.governor_priority
"""

FOUR_WEEKS = dt.timedelta(days=28)


def _minus_months(d: dt.date, n: int) -> dt.date:
    import calendar

    total = d.year * 12 + d.month - 1 - n
    y, m = divmod(total, 12)
    return dt.date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))


def hand_written(facts: dict[str, Any]) -> Any:
    """The same rule in plain Python, with the same three-valued answer (None for unknown)."""
    p = facts["prisoner"]
    as_of = facts["as_of"]
    acct = p.get("acct")
    if acct == "open":
        return True
    unknown = acct is None
    rosh = p.get("rosh")
    release = p.get("release_date")
    if rosh is None:
        unknown = True
    elif rosh in ("HIGH", "VERY_HIGH"):
        irmm = p.get("irmm_keywork_from")
        near = None if release is None else release - as_of <= FOUR_WEEKS
        ext = None if irmm is None else as_of >= irmm
        if near or ext:
            return True
        if near is None or ext is None:
            unknown = True
    tact, pf = p.get("tact"), p.get("pathfinder_recommended")
    extremist = True if (tact or pf) else (None if tact is None or pf is None else False)
    if extremist is not False:
        pfrom = p.get("pathfinder_keywork_from")
        near = None if release is None else as_of >= _minus_months(release, 2)
        ext = None if pfrom is None else as_of >= pfrom
        window = True if (near or ext) else (None if near is None or ext is None else False)
        if extremist and window:
            return True
        if window is not False:
            unknown = True
    for key in ("cev", "governor_priority"):
        v = p.get(key)
        if v is True:
            return True
        if v is None:
            unknown = True
    return None if unknown else False


def records(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    as_of = dt.date(2020, 7, 1)

    def maybe(value: Any, p_null: float = 0.05) -> Any:
        return None if rnd.random() < p_null else value

    out = []
    for _ in range(n):
        release = None if rnd.random() < 0.3 else as_of + dt.timedelta(days=rnd.randint(-5, 900))
        out.append(
            {
                "as_of": as_of,
                "prisoner": {
                    "acct": maybe(rnd.choices(["none", "open", "post_closure"], [90, 6, 4])[0]),
                    "rosh": maybe(
                        rnd.choices(["LOW", "MEDIUM", "HIGH", "VERY_HIGH"], [40, 35, 20, 5])[0], 0.1
                    ),
                    "release_date": release,
                    "irmm_keywork_from": None if rnd.random() < 0.97 else as_of,
                    "pathfinder_keywork_from": None if rnd.random() < 0.99 else as_of,
                    "tact": maybe(rnd.random() < 0.01),
                    "pathfinder_recommended": maybe(rnd.random() < 0.01),
                    "cev": maybe(rnd.random() < 0.04),
                    "governor_priority": maybe(rnd.random() < 0.01),
                },
            }
        )
    return out


def measure(fn: Callable[[dict[str, Any]], Any], data: list[dict[str, Any]]) -> list[float]:
    """Per-evaluation seconds, one figure per batch of BATCH records."""
    per: list[float] = []
    clock = time.perf_counter
    for start in range(0, len(data), BATCH):
        batch = data[start : start + BATCH]
        t0 = clock()
        for facts in batch:
            fn(facts)
        per.append((clock() - t0) / len(batch))
    return per


def clauses(node: Any) -> int:
    """Conditions joined by `and` / `or`."""
    from engine.language.syntax import Logic

    if isinstance(node, Logic):
        return clauses(node.left) + clauses(node.right)
    return 1


def main() -> None:
    roots = root_types()
    scope = SimpleScope(
        {
            **{name: Symbol("root", t, True) for name, t in roots.items()},
            "as_of": Symbol("as_of", T.DATE, False),
        }
    )
    t0 = time.perf_counter()
    checked = check(parse(EXPRESSION), scope, "bool")
    assert not checked.errors, checked.errors
    compiled = compile_checked(checked, "bench")
    compile_ms = (time.perf_counter() - t0) * 1e3
    t1 = time.perf_counter()
    for _ in range(100):
        compile_checked(check(parse(EXPRESSION), scope, "bool"), "bench")
    compile_warm_ms = (time.perf_counter() - t1) * 1e3 / 100

    data = records(RECORDS)
    fn = compiled.fn

    def language(facts: dict[str, Any]) -> Any:
        return fn(facts, None)

    # same answers first: a benchmark of a wrong result is worth nothing
    mismatches = 0
    for facts in data:
        a, b = fn(facts, None), hand_written(facts)
        a = None if isinstance(a, Unknown) else a
        if a != b:
            mismatches += 1
    lang: list[float] = []
    hand: list[float] = []
    for _ in range(ROUNDS):
        hand += measure(hand_written, data)
        lang += measure(language, data)

    def stats(xs: list[float]) -> tuple[float, float, float]:
        xs = sorted(xs)
        return statistics.median(xs), xs[int(len(xs) * 0.99) - 1], 1.0 / statistics.mean(xs)

    lm, lp, lt = stats(lang)
    hm, hp, ht = stats(hand)
    unknown = sum(isinstance(fn(f, None), Unknown) for f in data)
    print(
        f"expression: key work priority rule, {clauses(checked.node)} clauses over "
        f"{len(checked.fact_paths)} fact paths"
    )
    print(
        f"records: {RECORDS:,} generated ({unknown:,} evaluate to unknown); "
        f"batches of {BATCH}, {ROUNDS} rounds; python {sys.version.split()[0]}"
    )
    print(
        f"answers identical to the hand-written function: "
        f"{'yes' if mismatches == 0 else f'NO ({mismatches} differ)'}"
    )
    print(
        f"compile (parse + check + codegen + compile): first {compile_ms:.2f} ms, "
        f"warm {compile_warm_ms:.2f} ms"
    )
    print(f"{'':14}{'median':>10}{'p99':>10}{'throughput':>16}")
    print(f"{'language':14}{lm * 1e6:>8.3f}us{lp * 1e6:>8.3f}us{lt:>12,.0f}/s")
    print(f"{'hand-written':14}{hm * 1e6:>8.3f}us{hp * 1e6:>8.3f}us{ht:>12,.0f}/s")
    print(f"language-vs-python: {lm / hm:.2f}x")
    check_large_pack()
    if mismatches:
        raise SystemExit(1)


def check_large_pack() -> None:
    """Checking a generated pack of many rules (BENCH_CHECK_RULES, default 20,000): CPU
    seconds, which stay steady on a shared machine."""
    import os
    import tempfile

    from large_pack import time_check

    rules = int(os.environ.get("BENCH_CHECK_RULES", "20000"))
    with tempfile.TemporaryDirectory() as folder:
        print(f"check-{rules}-rules: {time_check(rules, Path(folder)):.2f}")


if __name__ == "__main__":
    main()
    # the whole per-document path and start-up (see bench/pipeline.py)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import pipeline

    pipeline.main()
    import service_bench  # the decision service over HTTP: the `service-keywork:` line

    service_bench.main([])
