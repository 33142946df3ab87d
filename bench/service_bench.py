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


def _server(tmp: Path, workers: int) -> tuple[ServerProcess, str, str]:
    private, public, _ = ensure_dev_keys(tmp / "keys")
    token = mint_token(private.read_bytes(), ["ROLE_REGIME_DECISIONS"], "bench", "bench", 60)
    url = f"sqlite:///{tmp / 'decisions.db'}"
    return ServerProcess(str(ROOT / "policies"), url, str(public), workers=workers), url, token


def bench(seconds: float, workers: int, client: str) -> None:
    """The `service-keywork:` line: decisions/s and p99 over a timed run after a warm-up."""
    with tempfile.TemporaryDirectory(prefix="regime-bench-") as d:
        server, url, token = _server(Path(d), workers)
        server.start()
        try:
            asyncio.run(run_load(server.url, token, 2, 32, client_kind=client))  # warm-up
            store = open_store(url)
            before = store.count()
            cpu = server.cpu_seconds()
            r = asyncio.run(run_load(server.url, token, seconds, 32, client_kind=client))
            cpu = server.cpu_seconds() - cpu
            rows = store.count() - before
            store.close()
        finally:
            server.stop()
            server.remove_log()
    print(
        f"service: {workers} worker(s), SQLite log, 32 clients ({client}), {seconds:.0f} s: "
        f"{r.summary()}; log rows {rows} == acknowledged {len(r.acknowledged)}: "
        f"{'yes' if rows == len(r.acknowledged) else 'NO'}; load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    per = 1000 * cpu / max(1, len(r.acknowledged))
    print(
        f"service CPU: {cpu:.1f} s for {len(r.acknowledged)} decisions = {per:.2f} ms a decision "
        f"(so at most {2000 / per:.0f}/s if the server had both cores to itself)"
    )
    print(f"service-keywork: {r.throughput:.0f} p99 {r.percentile(99):.1f}")
    if r.errors or r.connection_errors or rows != len(r.acknowledged):
        raise SystemExit(1)


def load(seconds: float, workers: int, client: str, kill_after: float) -> None:
    """The full load run, then the SIGKILL run on the same log."""
    with tempfile.TemporaryDirectory(prefix="regime-load-") as d:
        server, url, token = _server(Path(d), workers)
        server.start()
        store = open_store(url)
        failed = True
        try:
            before = store.count()
            r = asyncio.run(run_load(server.url, token, seconds, 32, client_kind=client))
            rows = store.count() - before
            print(f"load ({client}, {workers} worker(s), 32 clients): {r.summary()}")
            print(
                f"log rows added {rows}, acknowledged {len(r.acknowledged)}: "
                f"{'equal' if rows == len(r.acknowledged) else 'DIFFERENT'}"
            )
            before = store.count()
            killed = asyncio.run(kill_during_load(server, token, kill_after))
            outcome = check_after_kill(server, store, token, killed, before)
            print(outcome.summary())
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
    if failed:
        raise SystemExit(1)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--load", type=float, metavar="SECONDS", help="the load and kill run")
    ap.add_argument("--seconds", type=float, default=20.0, help="bench duration")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--client", choices=["raw", "httpx"], default=None)
    ap.add_argument("--kill-after", type=float, default=10.0)
    args = ap.parse_args(argv)
    if args.load:
        load(args.load, args.workers, args.client or "httpx", args.kill_after)
    else:
        bench(args.seconds, args.workers, args.client or "raw")


if __name__ == "__main__":
    main()
