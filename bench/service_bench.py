"""The decision service under load, over HTTP on loopback: `regime serve` as its own process
(SQLite decision log, WAL, synchronous=FULL), 32 concurrent clients posting varied key work facts.

    python bench/service_bench.py                 # the bench line (also run by bench/run.py)
    python bench/service_bench.py --load 60       # the load run: throughput, p50/p99, errors,
                                                  # log rows == acknowledged, then SIGKILL + restart

Every run is bounded in time, talks only to 127.0.0.1, and stops the server it started.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.auth import ensure_dev_keys, mint_token  # noqa: E402
from service.loadtest import (  # noqa: E402
    ServerProcess,
    check_after_kill,
    kill_during_load,
    run_load,
)
from service.log_store import open_store  # noqa: E402


def _server(tmp: Path, workers: int, url: str | None = None) -> tuple[ServerProcess, str, str]:
    private, public, _ = ensure_dev_keys(tmp / "keys")
    token = mint_token(private.read_bytes(), ["ROLE_REGIME_DECISIONS"], "bench", "bench", 60)
    url = url or f"sqlite:///{tmp / 'decisions.db'}"
    return ServerProcess(str(ROOT / "policies"), url, str(public), workers=workers), url, token


def engine_ms(n: int = 400) -> float:
    """The engine's own time per decision (evaluate + to_json_bytes, the decision's JSON as the
    service answers it) on the same varied facts, in this process: the share of a decision's
    server CPU the service cannot cut."""
    import random
    import time

    import engine
    from service.loadtest import varied_facts

    pack = engine.load(ROOT / "policies")["keywork_edm"]
    rng = random.Random(11)
    docs = [varied_facts(rng, i) for i in range(n)]
    for d in docs[:50]:
        engine.evaluate(pack, d, None, "custodial", "request").to_json_bytes()
    started = time.process_time()
    for d in docs:
        engine.evaluate(pack, d, None, "custodial", "request").to_json_bytes()
    return 1000 * (time.process_time() - started) / n


def decide_ms(tmp: Path, n: int = 2000) -> float:
    """CPU time a decision of the service's own path without HTTP, in this process: evaluate,
    serialise, seal and log (group commit to SQLite, 16 waiting at a time). Steadier than the
    HTTP figures on a shared machine, and it counts the log writer thread too."""
    import random

    import engine
    from service.app import Service, parse_request
    from service.auth import Caller
    from service.loadtest import varied_facts
    from service.settings import Settings

    packs = engine.load(ROOT / "policies")
    url = f"sqlite:///{tmp / 'in-process.db'}"
    svc = Service(Settings(ROOT / "policies", url, auth_enabled=False), packs)
    rng = random.Random(7)
    docs = [varied_facts(rng, i) for i in range(500)]
    caller = Caller("bench", "bench")

    async def run(count: int) -> None:
        pack, waiting = svc.registry.current["keywork_edm"], []
        for i in range(count):
            waiting.append(svc.decide(caller, pack, parse_request({"facts": docs[i % 500]}), False))
            if len(waiting) == 16 or i == count - 1:
                await asyncio.gather(*(d.durable for d in waiting))
                waiting = []

    try:
        asyncio.run(run(200))
        started = time.process_time()
        asyncio.run(run(n))
        return 1000 * (time.process_time() - started) / n
    finally:
        svc.close()


def wrk_script(tmp: Path, token: str, count: int = 500) -> Path:
    """A wrk Lua script posting `count` varied key work documents in turn, counting the 200s and
    reporting p50/p99 (wrk measures latency in microseconds)."""
    import random

    import orjson

    from service.loadtest import varied_facts

    rng = random.Random(7)
    bodies = ",\n".join(
        "[==[" + orjson.dumps({"facts": varied_facts(rng, i)}).decode() + "]==]"
        for i in range(count)
    )
    script = tmp / "decisions.lua"
    script.write_text(
        f"""local bodies = {{{bodies}}}
local threads = {{}}
local i = 0
ok = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
function setup(thread) table.insert(threads, thread) end
function request()
  i = i + 1
  return wrk.format(nil, "/v1/packs/keywork_edm/decisions", nil, bodies[(i % #bodies) + 1])
end
function response(status, headers, body) if status == 200 then ok = ok + 1 end end
function done(summary, latency, requests)
  local acknowledged = 0
  for _, t in ipairs(threads) do acknowledged = acknowledged + t:get("ok") end
  io.write(string.format("wrk: acknowledged %d p50 %.1f p99 %.1f errors %d\\n",
    acknowledged, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout))
end
""",
        encoding="utf-8",
    )
    return script


def run_wrk(url: str, script: Path, seconds: float, clients: int) -> tuple[int, float, float, int]:
    """wrk (2 threads, `clients` connections): acknowledged, p50 ms, p99 ms, errors."""
    import re
    import subprocess

    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{clients}",
            f"-d{seconds:.0f}s",
            "--timeout",
            "30s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    ).stdout
    m = re.search(r"wrk: acknowledged (\d+) p50 ([\d.]+) p99 ([\d.]+) errors (\d+)", out)
    if m is None:
        raise SystemExit(f"wrk printed no summary:\n{out}")
    return int(m[1]), float(m[2]), float(m[3]), int(m[4])


def bench(seconds: float, workers: int, client: str) -> None:
    """The `service-keywork:` line: decisions/s and p99 over a timed run after a warm-up, with
    where the CPU went: the server's processes, the load generator, the engine's share."""
    import resource
    import shutil

    if client == "wrk" and shutil.which("wrk") is None:
        print("service: wrk is not installed (apt-get install wrk); using the asyncio client")
        client = "raw"
    engine_cost = engine_ms()
    with tempfile.TemporaryDirectory(prefix="regime-bench-") as d:
        in_process = decide_ms(Path(d))
        server, url, token = _server(Path(d), workers)
        server.start()
        try:
            script = wrk_script(Path(d), token) if client == "wrk" else None
            asyncio.run(run_load(server.url, token, 2, 32, client_kind="raw"))  # warm-up
            store = open_store(url)
            before = store.count()
            threads = server.cpu_by_thread()
            mine = resource.getrusage(resource.RUSAGE_SELF)
            kids = resource.getrusage(resource.RUSAGE_CHILDREN)
            wall = time.monotonic()
            if script is not None:
                acked, p50, p99, errors = run_wrk(server.url, script, seconds, 32)
            else:
                r = asyncio.run(run_load(server.url, token, seconds, 32, client_kind=client))
                acked, p50, p99 = len(r.acknowledged), r.percentile(50), r.percentile(99)
                errors = sum(r.errors.values())
            wall = time.monotonic() - wall
            threads = {k: v - threads[k] for k, v in server.cpu_by_thread().items()}
            cpu = sum(threads.values())
            after_self = resource.getrusage(resource.RUSAGE_SELF)
            after_kids = resource.getrusage(resource.RUSAGE_CHILDREN)
            load_cpu = (
                after_self.ru_utime + after_self.ru_stime - mine.ru_utime - mine.ru_stime
                if script is None
                else after_kids.ru_utime + after_kids.ru_stime - kids.ru_utime - kids.ru_stime
            )
            rows = store.count() - before
            store.close()
        finally:
            server.stop()
            server.remove_log()
    rate = acked / wall
    # wrk abandons the requests in flight when its time is up; the server still logs them
    in_flight = rows - acked
    consistent = (rows == acked) if script is None else 0 <= in_flight <= 32
    print(
        f"service: {workers} worker(s), SQLite log, 32 clients ({client}), {seconds:.0f} s: "
        f"{acked} decisions, {rate:.0f}/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms, errors {errors}; "
        f"log rows {rows} vs acknowledged {acked} "
        f"({'equal' if rows == acked else f'{in_flight} in flight at the stop'}): "
        f"{'ok' if consistent else 'WRONG'}; load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    per = 1000 * cpu / max(1, acked)
    total = cpu + load_cpu
    split = ", ".join(f"{k} {1000 * v / max(1, acked):.2f} ms" for k, v in threads.items())
    print(
        f"service CPU: server {cpu:.1f} s = {per:.2f} ms a decision ({split}; engine evaluate + "
        f"to_json_bytes {engine_cost:.2f} ms = {100 * engine_cost / per:.0f}%); load generator "
        f"{load_cpu:.1f} s = {100 * load_cpu / total:.0f}% of the CPU both used; server alone on "
        f"2 cores: at most {2000 / per:.0f}/s"
    )
    print(
        f"service CPU in process (evaluate, serialise, seal, log; no HTTP): {in_process:.2f} ms "
        f"a decision, the engine's evaluate + to_json_bytes "
        f"{100 * engine_cost / in_process:.0f}% of it"
    )
    print(f"service-keywork: {rate:.0f} p99 {p99:.1f}")
    if errors or not consistent:
        raise SystemExit(1)


def load(seconds: float, workers: int, client: str, kill_after: float, backends: str) -> None:
    """The full load run, then the SIGKILL run on the same log: on SQLite, on a throwaway
    PostgreSQL server, or both."""
    failed = []
    for backend in ("sqlite", "postgresql"):
        if backends not in (backend, "both"):
            continue
        if backend == "sqlite":
            ok = load_one(seconds, workers, client, kill_after, None)
        else:
            from tests.service.postgres import Postgres, pg_bin

            if pg_bin() is None:
                print(
                    "load on postgresql: SKIPPED, PostgreSQL is not installed "
                    "(bash scripts/ensure-postgres installs it)"
                )
                continue
            pg = Postgres()
            try:
                pg.start()
                ok = load_one(seconds, workers, client, kill_after, pg.new_database("load"))
            finally:
                pg.stop()
        if not ok:
            failed.append(backend)
    if failed:
        raise SystemExit(f"load: FAILED on {', '.join(failed)}")


def load_one(
    seconds: float, workers: int, client: str, kill_after: float, database_url: str | None
) -> bool:
    """One backend's load and kill runs; whether every check held."""
    with tempfile.TemporaryDirectory(prefix="regime-load-") as d:
        server, url, token = _server(Path(d), workers, database_url)
        backend = "postgresql" if url.startswith("postgres") else "sqlite"
        server.start()
        store = open_store(url)
        failed = True
        try:
            before = store.count()
            r = asyncio.run(run_load(server.url, token, seconds, 32, client_kind=client))
            rows = store.count() - before
            print(f"load on {backend} ({client}, {workers} worker(s), 32 clients): {r.summary()}")
            print(
                f"log rows added {rows}, acknowledged {len(r.acknowledged)}: "
                f"{'equal' if rows == len(r.acknowledged) else 'DIFFERENT'}"
            )
            before = store.count()
            killed = asyncio.run(kill_during_load(server, token, kill_after, client_kind=client))
            outcome = check_after_kill(server, store, token, killed, before)
            print(f"kill on {backend}: {outcome.summary()}")
            print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
            failed = (
                r.errors
                or r.connection_errors
                or rows != len(r.acknowledged)
                or outcome.missing
                or outcome.not_intact
                or not outcome.serves_again
            )
        finally:
            server.stop()
            store.close()
            if failed:
                print("server output:\n" + server.output()[-3000:])
            server.remove_log()
    return not failed


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--load", type=float, metavar="SECONDS", help="the load and kill run")
    ap.add_argument("--seconds", type=float, default=20.0, help="bench duration")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--client", choices=["wrk", "raw", "httpx"], default=None)
    ap.add_argument("--kill-after", type=float, default=10.0)
    ap.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    args = ap.parse_args(argv)
    if args.load:
        load(args.load, args.workers, args.client or "raw", args.kill_after, args.database)
    else:
        bench(args.seconds, args.workers, args.client or "wrk")


if __name__ == "__main__":
    main()
