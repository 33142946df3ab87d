"""Benchmark of the whole per-document path and of start-up: figures for `make bench`.

- decision-keywork-python: one full key work decision through `evaluate`, no explanation
  (p50 over batches of the example prisoners, each document a fresh copy as `read_facts_file`
  reads it; wall and CPU time; beside it the same documents as a JSON reader decodes them)
- evaluate-many-keywork: decisions a second through `Packs.evaluate_many`
- decision-keywork-expressions: the pack's compiled expressions alone, per document (the floor)
- decision-keywork-stages: the facts check, the program and building the decision, each alone
  (and the program's three-valued form alone, without its two-valued form tried first)
- decision-N-rules: one decision on a generated pack of N rules (grows linearly with N)
- startup-check / startup-load: fresh processes, warm cache (`pipeline.py startup` alone)
- decision-keywork-instructions: instructions per decision and per stage, counted by
  callgrind (`pipeline.py instructions` alone, with valgrind installed): repeatable where CPU
  time on a shared machine is not
"""

from __future__ import annotations

import copy
import datetime as dt
import decimal
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from generated_pack import pack_text  # noqa: E402

from engine.api import check_paths, evaluate, load  # noqa: E402
from engine.evaluation.decision import build_decision  # noqa: E402
from engine.evaluation.program import INLINE_AFTER, Program, program  # noqa: E402
from engine.language.runtime import EXACT  # noqa: E402
from engine.packs.facts_schema import prepare, read_facts_file  # noqa: E402

BATCH = 20
DOCS = 10_000
AS_OF = dt.date(2020, 7, 1)


def _examples() -> list[dict[str, Any]]:
    return [read_facts_file(p) for p in sorted((ROOT / "examples" / "prisoners").glob("*.yaml"))]


def decision_figures() -> None:
    """Per-decision latency and evaluate_many throughput on the key work pack."""
    packs = load(ROOT / "policies")
    pack = packs["keywork_edm"]
    examples = _examples()
    docs = [copy.deepcopy(examples[i % len(examples)]) for i in range(DOCS)]
    for facts in docs[: INLINE_AFTER + len(examples)]:
        evaluate(pack, facts, AS_OF)  # warm: past the decisions made before writing in line
    per: list[float] = []
    per_cpu: list[float] = []  # the same batches in CPU time: steadier on a shared machine
    clock, cpu_clock = time.perf_counter, time.process_time
    for start in range(0, len(docs), BATCH):
        batch = docs[start : start + BATCH]
        t0, c0 = clock(), cpu_clock()
        for facts in batch:
            evaluate(pack, facts, AS_OF)
        per.append((clock() - t0) / len(batch))
        per_cpu.append((cpu_clock() - c0) / len(batch))
    # the same again with every field of each decision read (its JSON bytes): a decision
    # works out its outputs, interpretations and missing facts only when first read
    read_cpu: list[float] = []
    for start in range(0, len(docs), BATCH):
        batch = docs[start : start + BATCH]
        c0 = cpu_clock()
        for facts in batch:
            evaluate(pack, facts, AS_OF).to_json_bytes()
        read_cpu.append((cpu_clock() - c0) / len(batch))
    # the same documents as a JSON reader gives them (orjson, as the service reads a request):
    # equal keys that are not the interned strings `read_facts_file` gives
    decoded = [orjson.loads(orjson.dumps(facts, default=str)) for facts in docs]
    json_cpu: list[float] = []
    for start in range(0, len(decoded), BATCH):
        batch = decoded[start : start + BATCH]
        c0 = cpu_clock()
        for facts in batch:
            evaluate(pack, facts, AS_OF)
        json_cpu.append((cpu_clock() - c0) / len(batch))
    cpu0 = time.process_time()
    t0 = clock()
    count = sum(1 for _ in packs.evaluate_many("keywork_edm", docs, AS_OF))
    wall, cpu = clock() - t0, time.process_time() - cpu0
    print(
        f"decision-keywork-python: {statistics.median(per) * 1e6:.1f} µs p50 "
        f"({statistics.median(per_cpu) * 1e6:.1f} µs p50 of CPU; "
        f"{cpu / count * 1e6:.1f} µs of CPU each through evaluate_many; "
        f"{statistics.median(read_cpu) * 1e6:.1f} µs p50 of CPU with every field read, "
        f"as JSON; {statistics.median(json_cpu) * 1e6:.1f} µs p50 of CPU on the same "
        f"documents decoded from JSON by orjson; load {os.getloadavg()[0]:.1f})"
    )
    print(f"evaluate-many-keywork: {count / wall:,.0f} decisions/s ({count / cpu:,.0f} per CPU s)")
    floor = _expressions_alone(pack, docs)
    print(
        f"decision-keywork-expressions: {floor:.1f} µs p50 of CPU (every compiled expression a "
        "decision runs, once each, on names already worked out: the floor of a decision)"
    )
    check, run, build, three = _stages(pack, docs)
    print(
        f"decision-keywork-stages: facts check {check:.1f} µs, program {run:.1f} µs "
        f"(three-valued form alone {three:.1f} µs), "
        f"decision {build:.1f} µs p50 of CPU (each stage alone, on the same documents: a whole "
        "decision runs few instructions more than the three, see decision-keywork-instructions; "
        "the rest of its time is the caches and branch predictions each stage leaves the next)"
    )


def _expressions_alone(pack: Any, docs: list[dict[str, Any]]) -> float:
    """CPU µs per document to call, once each, every compiled expression a key work decision
    runs (definitions, outputs, rule conditions and values, table inputs, obligations' due
    dates and frequencies) with every name already worked out: what is left of a decision
    when everything around the expressions costs nothing."""
    fns = [d.expr.compiled.fn for d in pack.definitions.values()]
    fns += [o.expr.compiled.fn for o in pack.outputs.values() if o.expr is not None]
    fns += [r.when.compiled.fn for r in pack.rules if r.when is not None]
    fns += [e.compiled.fn for setting in pack.rules_setting.values() for _, e in setting]
    fns += [e.compiled.fn for t in pack.tables.values() for _, e in t.inputs]
    for r in pack.rules:
        if r.obligation is not None:
            fns += [x.compiled.fn for x in (r.obligation.due, r.obligation.frequency) if x]
    cases = []
    with decimal.localcontext(EXACT):
        for facts in docs[:6]:
            done = program(pack, AS_OF, False, None).run(prepare(facts, "<facts>"), AS_OF)
            cases.append((done.F, dict(done.memo).__getitem__))
        per: list[float] = []
        for start in range(0, len(docs), BATCH):
            c0 = time.process_time()
            for i in range(start, start + BATCH):
                F, N = cases[i % len(cases)]
                for fn in fns:
                    fn(F, N)
            per.append((time.process_time() - c0) / BATCH)
    return statistics.median(per) * 1e6


def _stages(pack: Any, docs: list[dict[str, Any]]) -> tuple[float, float, float, float]:
    """CPU µs p50 per document of each stage of a decision on its own: the facts check and
    conversion, the pack's program, and building the decision from what the program leaves;
    then the program's three-valued form alone (without its two-valued form tried first)."""
    found = program(pack, AS_OF, True, None)
    alone = Program(pack, found.version, True, two_valued=False)
    prepared = [prepare(facts, "<facts>", pack.facts, True) for facts in docs]
    with decimal.localcontext(EXACT):
        for p in prepared[:INLINE_AFTER]:
            alone.run(p, AS_OF)  # (written in line from here)
        done = [found.run(p, AS_OF) for p in prepared[: len(docs) // 4]]
        stages = (
            (lambda facts: prepare(facts, "<facts>", pack.facts, True), docs),
            (lambda p: found.run(p, AS_OF), prepared),
            (lambda ev: build_decision(ev, "custodial", pack.facts), done),
            (lambda p: alone.run(p, AS_OF), prepared),
        )
        figures = []
        for step, inputs in stages:
            per: list[float] = []
            for start in range(0, len(inputs) - BATCH + 1, BATCH):
                c0 = time.process_time()
                for x in inputs[start : start + BATCH]:
                    step(x)
                per.append((time.process_time() - c0) / BATCH)
            figures.append(statistics.median(per) * 1e6)
    return figures[0], figures[1], figures[2], figures[3]


# what `instruction_figures` counts, each over the same documents after the same warm-up
_COUNTED = ("evaluate", "prepare", "run", "decide", "three")


def instruction_figures(n: int = 300) -> None:
    """Instructions per key work decision through `evaluate`, and per stage alone (the facts
    check and conversion, the program's run, the run with the decision built), counted by
    callgrind in a child process that counts only the decisions themselves."""
    if shutil.which("valgrind") is None:
        print("decision-keywork-instructions: skipped (valgrind is not installed)")
        return
    counts = {}
    with tempfile.TemporaryDirectory() as tmp:
        for what in _COUNTED:
            out = Path(tmp) / f"{what}.out"
            argv = ["valgrind", "--tool=callgrind", "--collect-atstart=no"]
            argv += ["--toggle-collect=sys_call_tracing", f"--callgrind-out-file={out}"]
            argv += [sys.executable, __file__, "count", what, str(n)]
            subprocess.run(argv, cwd=ROOT, capture_output=True, check=True)
            totals = [ln for ln in out.read_text().splitlines() if ln.startswith("summary:")]
            counts[what] = int(totals[0].split()[1]) / n
    beyond = counts["evaluate"] - counts["prepare"] - counts["decide"]
    print(
        f"decision-keywork-instructions: {counts['evaluate']:,.0f} per decision (facts check "
        f"{counts['prepare']:,.0f}, program {counts['run']:,.0f} (three-valued form alone "
        f"{counts['three']:,.0f}), program and decision "
        f"{counts['decide']:,.0f}, the call around them {beyond:,.0f}; {n} decisions)"
    )


def _count(what: str, n: int) -> None:
    """The work `instruction_figures` counts, run through `sys.call_tracing` (which nothing
    else calls: callgrind counts inside it alone)."""
    packs = load(ROOT / "policies")
    pack = packs["keywork_edm"]
    examples = _examples()
    warm = INLINE_AFTER + 64  # the program writes its expressions in line after INLINE_AFTER
    docs = [copy.deepcopy(examples[i % len(examples)]) for i in range(n + warm)]
    for facts in docs[:warm]:
        evaluate(pack, facts, AS_OF)
    docs = docs[warm:]
    found = program(pack, AS_OF, True, None)
    prepared = [prepare(facts, "<facts>", pack.facts, True) for facts in docs]
    alone = Program(pack, found.version, True, two_valued=False)
    with decimal.localcontext(EXACT):
        for p in prepared[:INLINE_AFTER]:
            alone.run(p, AS_OF)  # (written in line from here)

    def evaluating() -> None:
        for facts in docs:
            evaluate(pack, facts, AS_OF)

    def preparing() -> None:
        for facts in docs:
            prepare(facts, "<facts>", pack.facts, True)

    def running() -> None:
        with decimal.localcontext(EXACT):
            for p in prepared:
                found.run(p, AS_OF)

    def deciding() -> None:
        with decimal.localcontext(EXACT):
            for p in prepared:
                build_decision(found.run(p, AS_OF), "custodial", pack.facts)

    def three_valued() -> None:
        with decimal.localcontext(EXACT):
            for p in prepared:
                alone.run(p, AS_OF)

    work = {"evaluate": evaluating, "prepare": preparing, "run": running, "decide": deciding}
    work["three"] = three_valued
    sys.call_tracing(work[what], ())


def rules_figures(sizes: tuple[int, ...]) -> None:
    """Load and one decision on generated packs of each size."""
    facts = {"prisoner": {"rosh": "HIGH", "release_date": "2020-07-10", "cev": False}}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            folder = Path(tmp) / str(n)
            folder.mkdir()
            (folder / "generated.yaml").write_text(pack_text(n), encoding="utf-8")
            t0 = time.perf_counter()
            packs, problems = check_paths([folder])
            load_s = time.perf_counter() - t0
            assert not [p for p in problems if p.is_error], problems[:3]
            pack = packs[f"generated_{n}"]
            times = []
            for _ in range(6):
                t0 = time.perf_counter()
                decision = evaluate(pack, facts, AS_OF)
                times.append((time.perf_counter() - t0) * 1e3)
                assert len(decision.obligations) == n // 4, len(decision.obligations)
            print(
                f"decision-{n}-rules: {statistics.median(times[1:]):.1f} ms p50 "
                f"(first {times[0]:.1f} ms, with the pack's indexes; load {load_s:.2f} s)"
            )


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _start_ms(argv: list[str], runs: int = 5) -> tuple[float, float]:
    """Median wall and CPU milliseconds of a fresh process, after one run that warms the cache
    (and writes the bytecode files an installed engine has: any PYTHONDONTWRITEBYTECODE, even
    "0", would stop Python writing them and make every start compile the engine's modules)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, check=False)
    wall, cpu = [], []
    for _ in range(runs):
        c0, t0 = _child_cpu(), time.perf_counter()
        subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, check=False)
        wall.append((time.perf_counter() - t0) * 1e3)
        cpu.append((_child_cpu() - c0) * 1e3)
    return statistics.median(wall), statistics.median(cpu)


def startup_figures() -> None:
    """Start-up with a warm cache: wall time (the goal) and CPU time (steadier on a shared
    machine, where wall time also counts waiting for a core), with the machine's one-minute
    load average after the runs."""
    regime = str(Path(sys.executable).parent / "regime")
    wall, cpu = _start_ms([regime, "check", "policies/"])
    print(f"startup-check: {wall:.0f} ms ({cpu:.0f} ms CPU, load {os.getloadavg()[0]:.1f})")
    code = "import engine.api as a; a.load('policies')"
    wall, cpu = _start_ms([sys.executable, "-c", code])
    print(f"startup-load: {wall:.0f} ms ({cpu:.0f} ms CPU, load {os.getloadavg()[0]:.1f})")


def main(sizes: tuple[int, ...] = (1_000, 10_000)) -> None:
    decision_figures()
    startup_figures()
    rules_figures(sizes)


if __name__ == "__main__":
    if sys.argv[1:] == ["startup"]:  # only the start-up figures
        startup_figures()
    elif sys.argv[1:] == ["instructions"]:  # only the instruction counts (valgrind)
        instruction_figures()
    elif sys.argv[1:2] == ["count"]:  # (the child process of `instruction_figures`)
        _count(sys.argv[2], int(sys.argv[3]))
    else:
        main(tuple(int(a) for a in sys.argv[1:]) or (1_000, 10_000))
