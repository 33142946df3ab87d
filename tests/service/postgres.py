"""A throwaway PostgreSQL server for tests: initdb in a temporary directory, a free loopback
port, run as an unprivileged user (PostgreSQL refuses to run as root), removed afterwards."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def pg_bin() -> Path | None:
    """The directory of Debian's PostgreSQL server binaries, if installed."""
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if all(os.access(Path(d) / b, os.X_OK) for b in ("initdb", "pg_ctl", "postgres")):
            return Path(d)
    found = shutil.which("initdb")
    return Path(found).resolve().parent if found else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Postgres:
    """Start with `start()`, connect with `url`, and `stop()` removes everything."""

    def __init__(self) -> None:
        self.bin = pg_bin()
        self.dir = Path(tempfile.mkdtemp(prefix="regime-pg-"))
        self.port = free_port()
        self.user: str | None = None

    @property
    def url(self) -> str:
        return f"postgresql://regime@127.0.0.1:{self.port}/postgres"

    def _as_user(self, *cmd: str) -> list[str]:
        if os.geteuid() != 0:
            return list(cmd)
        assert self.user is not None
        return ["runuser", "-u", self.user, "--", *cmd]

    def start(self, timeout: float = 30.0) -> None:
        if self.bin is None:
            raise RuntimeError("PostgreSQL is not installed (scripts/ensure-postgres installs it)")
        if os.geteuid() == 0:
            self.user = "nobody"
            pwd.getpwnam(self.user)
            os.chmod(self.dir, 0o755)
            shutil.chown(self.dir, self.user)
        data = self.dir / "data"
        subprocess.run(
            self._as_user(
                str(self.bin / "initdb"),
                "-D",
                str(data),
                "-U",
                "regime",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
            ),
            check=True,
            capture_output=True,
            timeout=timeout,
        )
        # the port was free when chosen, but another process (another test worker) may take it
        # before the server listens: then the server cannot bind, and starts on another port
        for attempt in range(3):
            started = subprocess.run(
                self._as_user(
                    str(self.bin / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(self.dir / "log"),
                    "-w",
                    "-t",
                    str(int(timeout)),
                    "-o",
                    f"-p {self.port} -h 127.0.0.1 -k {self.dir} -c fsync=on",
                    "start",
                ),
                capture_output=True,
                timeout=timeout + 5,
            )
            if started.returncode == 0:
                break
            log_file = self.dir / "log"
            log = log_file.read_text(errors="replace") if log_file.exists() else ""
            if "could not bind" not in log or attempt == 2:
                started.check_returncode()
            self.port = free_port()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError("PostgreSQL did not start")

    def new_database(self, name: str) -> str:
        """A fresh database on this server; its URL."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://regime@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self.bin is not None and (self.dir / "data" / "postmaster.pid").exists():
            subprocess.run(
                self._as_user(
                    str(self.bin / "pg_ctl"),
                    "-D",
                    str(self.dir / "data"),
                    "-m",
                    "immediate",
                    "stop",
                ),
                capture_output=True,
                timeout=30,
            )
        shutil.rmtree(self.dir, ignore_errors=True)
