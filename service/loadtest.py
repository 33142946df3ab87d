"""Load and fault runs against a running service: N concurrent clients (httpx, async) for a fixed
time, varied key work facts, latencies and acknowledged decision ids recorded. Bounded in time and
count; loopback only."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

BASE_FACTS: dict[str, Any] = {
    "as_of": "2020-07-01",
    "establishment": {
        "code": "SDI",
        "name": "HMP Send",
        "regime_level": 3,
        "outbreak_declared_on": None,
        "community_prevalence_high": False,
        "guidance_changed_on": None,
        "keywork_model": "weekly",
    },
    "prisoner": {
        "prison_number": "B3152KW",
        "date_of_birth": "1984-09-03",
        "cell_location": "SDI-A-1-006",
        "alerts": ["ROH"],
        "acct": "none",
        "rosh": "HIGH",
        "tact": False,
        "pathfinder_recommended": False,
        "irmm_keywork_from": None,
        "pathfinder_keywork_from": None,
        "cev": False,
        "governor_priority": False,
        "sentence_type": "determinate",
        "release_date": "2020-07-20",
        "keywork": {
            "key_worker": "Officer S. Hughes",
            "sessions": [{"date": "2020-06-16", "kind": "session", "minutes": 40}],
        },
    },
}


def varied_facts(rng: random.Random, n: int) -> dict[str, Any]:
    """Key work facts varied on the fields the priority rules read, so no two are alike."""
    p = dict(BASE_FACTS["prisoner"])
    p["prison_number"] = (
        f"A{n % 10000:04d}{chr(65 + rng.randrange(26))}{chr(65 + rng.randrange(26))}"
    )
    p["acct"] = rng.choice(["open", "post_closure", "none"])
    p["rosh"] = rng.choice(["LOW", "MEDIUM", "HIGH", "VERY_HIGH", None])
    p["tact"] = rng.random() < 0.1
    p["cev"] = rng.random() < 0.1
    release = dt.date(2020, 7, 1) + dt.timedelta(days=rng.randrange(-30, 400))
    p["release_date"] = release.isoformat() if rng.random() < 0.9 else None
    est = dict(BASE_FACTS["establishment"])
    est["regime_level"] = rng.randrange(1, 5)
    return {"as_of": "2020-07-01", "establishment": est, "prisoner": p}


@dataclass
class LoadResult:
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    connection_errors: int = 0

    @property
    def throughput(self) -> float:
        return len(self.acknowledged) / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        data = sorted(self.latencies_ms)
        return data[min(len(data) - 1, int(q / 100 * len(data)))]

    def summary(self) -> str:
        return (
            f"{len(self.acknowledged)} decisions in {self.seconds:.1f} s: "
            f"{self.throughput:.0f}/s, p50 {self.percentile(50):.1f} ms, "
            f"p99 {self.percentile(99):.1f} ms, HTTP errors "
            f"{sum(v for k, v in self.errors.items() if not k.startswith('connection'))}, "
            f"connection errors {self.connection_errors} {dict(self.errors) or ''}"
        )


class RawClient:
    """A lean HTTP/1.1 keep-alive client (one connection) for throughput runs, where httpx's own
    CPU cost per request would be measured instead of the server's."""

    def __init__(self, host: str, port: int, headers: dict[str, str]):
        self.host, self.port = host, port
        self.head = "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(
            b"POST "
            + path.encode()
            + b" HTTP/1.1\r\nHost: "
            + self.host.encode()
            + b"\r\n"
            + self.head
            + b"Content-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )
        try:
            await self.writer.drain()
            head = await self.reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            return status, await self.reader.readexactly(length)
        except (OSError, asyncio.IncompleteReadError, ValueError) as e:
            await self.close()
            raise httpx.TransportError(str(e)) from e

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def run_load(
    base_url: str,
    token: str | None,
    seconds: float,
    clients: int = 32,
    pack: str = "keywork_edm",
    max_requests: int = 1_000_000,
    seed: int = 7,
    stop_on_connection_error: bool = False,
    client_kind: str = "httpx",
    result: LoadResult | None = None,
) -> LoadResult:
    """`clients` concurrent clients posting decisions for `seconds` (or `max_requests`), into
    `result` when given (so that a caller can watch the load as it goes)."""
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    result = result if result is not None else LoadResult(seconds=0.0)
    deadline = time.monotonic() + seconds
    counter = iter(range(max_requests))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    url = f"{base_url}/v1/packs/{pack}/decisions"
    import orjson

    parsed = httpx.URL(base_url)
    path = f"/v1/packs/{pack}/decisions"
    async with httpx.AsyncClient(limits=limits, timeout=30.0, headers=headers) as client:

        async def one_client(k: int) -> None:
            rng = random.Random(seed * 1000 + k)
            raw = RawClient(parsed.host, parsed.port or 80, headers)
            try:
                await loop(rng, raw)
            finally:
                await raw.close()

        async def loop(rng: random.Random, raw: RawClient) -> None:
            while time.monotonic() < deadline:
                n = next(counter, None)
                if n is None:
                    return
                body = orjson.dumps({"facts": varied_facts(rng, n)})
                t0 = time.perf_counter()
                try:
                    if client_kind == "raw":
                        status, content = await raw.post(path, body)
                    else:
                        resp = await client.post(url, content=body)
                        status, content = resp.status_code, resp.content
                except httpx.HTTPError as e:
                    result.connection_errors += 1
                    kind = f"connection:{type(e).__name__}"
                    result.errors[kind] = result.errors.get(kind, 0) + 1
                    if stop_on_connection_error:
                        return
                    await asyncio.sleep(0.05)
                    continue
                ms = (time.perf_counter() - t0) * 1000
                if status == 200:
                    result.latencies_ms.append(ms)
                    result.acknowledged.append(orjson.loads(content)["decisionId"])
                else:
                    key = str(status)
                    result.errors[key] = result.errors.get(key, 0) + 1

        start = time.monotonic()
        await asyncio.gather(*(one_client(k) for k in range(clients)))
        result.seconds = time.monotonic() - start
    return result


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


class ServerProcess:
    """`regime serve` as its own process group on a free loopback port: started, waited for,
    stopped with SIGTERM, or killed with SIGKILL (the whole group, workers included)."""

    def __init__(
        self,
        packs: str,
        database_url: str,
        public_key: str,
        workers: int = 1,
        port: int | None = None,
        regime: str | None = None,
    ):
        import shutil
        import socket
        import sys

        if port is None:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = int(s.getsockname()[1])
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        exe = regime or shutil.which("regime", path=str(Path(sys.executable).parent)) or "regime"
        self.argv = [
            exe,
            "serve",
            "--packs",
            packs,
            "--database-url",
            database_url,
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--jwt-public-key",
            public_key,
        ]
        self.proc: Any = None
        import tempfile

        self.log = Path(tempfile.mkstemp(prefix="regime-serve-", suffix=".log")[1])

    def start(self, timeout: float = 90.0) -> None:
        import subprocess

        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                self.argv, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"regime serve exited: {self.output()}")
            try:
                if httpx.get(self.url + "/health/readiness", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.kill()
        raise RuntimeError("regime serve did not become ready")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the server's whole process group (Linux)."""
        return sum(self.cpu_by_thread().values())

    def cpu_by_thread(self) -> dict[str, float]:
        """CPU time so far of the server's process group by kind of thread (Linux): the
        decision log writers (`regime-log`), and everything else (event loops, supervisor)."""
        import os

        totals, tick = {"log writer": 0, "event loop and rest": 0}, os.sysconf("SC_CLK_TCK")
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) != self.proc.pid:  # process group id
                    continue
                for task in (entry / "task").iterdir():
                    stat = (task / "stat").read_text()
                    name = stat[stat.index("(") + 1 : stat.rindex(")")]
                    used = stat.rsplit(")", 1)[1].split()
                    kind = "log writer" if name == "regime-log" else "event loop and rest"
                    totals[kind] += int(used[11]) + int(used[12])
            except (OSError, ValueError):
                continue
        return {k: v / tick for k, v in totals.items()}

    def output(self) -> str:
        """What the server has written to stderr so far."""
        return self.log.read_text(encoding="utf-8", errors="replace")

    def remove_log(self) -> None:
        """Delete the server's output file (after a run that needs it no more)."""
        self.log.unlink(missing_ok=True)

    def signal(self, sig: int) -> None:
        import os

        os.kill(self.proc.pid, sig)

    def kill(self) -> None:
        """SIGKILL the server's whole process group, as a crash would."""
        import os
        import signal

        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        import os
        import signal
        import subprocess

        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()


@dataclass
class KillResult:
    load: LoadResult
    in_log: int
    missing: list[str]
    not_intact: int
    rows_before: int
    rows_after: int
    serves_again: bool

    def summary(self) -> str:
        return (
            f"SIGKILL after {self.load.seconds:.1f} s of load: {len(self.load.acknowledged)} "
            f"acknowledged, {self.in_log} of them in the log after restart, "
            f"{len(self.missing)} missing, {self.not_intact} rows not intact, "
            f"{self.rows_after - self.rows_before} rows added "
            f"(unacknowledged in-flight commits may add a few), "
            f"serves again: {'yes' if self.serves_again else 'NO'}"
        )


async def kill_during_load(
    server: ServerProcess,
    token: str,
    kill_after: float,
    clients: int = 32,
    client_kind: str = "httpx",
    acknowledged: int = 1,
) -> LoadResult:
    """Load the server and SIGKILL it `kill_after` seconds in, or later once it has
    acknowledged `acknowledged` decisions (a loaded machine may take longer to answer the
    first); the load up to the kill."""
    result = LoadResult(seconds=0.0)
    load = asyncio.create_task(
        run_load(
            server.url,
            token,
            kill_after + 90,
            clients,
            stop_on_connection_error=True,
            client_kind=client_kind,
            result=result,
        )
    )
    await asyncio.sleep(kill_after)
    deadline = time.monotonic() + 60
    while len(result.acknowledged) < acknowledged and time.monotonic() < deadline:
        if load.done():
            break
        await asyncio.sleep(0.05)
    server.kill()
    return await load


def check_after_kill(
    server: ServerProcess, store: Any, token: str, result: LoadResult, rows_before: int
) -> KillResult:
    """Restart the server on the same log: every acknowledged decision is there and intact."""
    server.start()
    records = {r.decision_id: r for r in store.records()}
    missing = [d for d in result.acknowledged if d not in records]
    hashes = sorted({h for r in records.values() for h in r.part_hashes()})
    parts = store.parts(hashes)  # a row naming a part not stored (or not matching) is broken
    not_intact = sum(1 for r in records.values() if not r.intact() or not r.to_api(parts)["intact"])
    resp = httpx.post(
        f"{server.url}/v1/packs/keywork_edm/decisions",
        json={"facts": BASE_FACTS},
        headers={"authorization": f"Bearer {token}"},
        timeout=30,
    )
    return KillResult(
        result,
        len(result.acknowledged) - len(missing),
        missing,
        not_intact,
        rows_before,
        len(records),
        resp.status_code == 200,
    )
