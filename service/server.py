"""Running the service: one uvicorn server in this process, or several worker processes, each
listening on the same port (SO_REUSEPORT, so the kernel spreads connections over them), under a
small supervisor that holds the port and passes SIGHUP (reload) on to every worker."""

from __future__ import annotations

import ctypes
import dataclasses
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from typing import Any

import uvicorn

from service.settings import Settings

log = logging.getLogger("regime.service")


def _config(settings: Settings, loaded: Any = None) -> uvicorn.Config:
    from service.app import serving_app

    return uvicorn.Config(
        serving_app(settings, loaded),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,  # no access log on the hot path
        proxy_headers=False,  # the service reads no client address
        loop="auto",  # uvloop and httptools when installed (uvicorn[standard])
        http="auto",
        timeout_graceful_shutdown=10,
        timeout_keep_alive=65,  # longer than a client pool keeps idle connections
    )


def _die_with_parent() -> None:
    """Linux: this worker gets SIGKILL when the supervisor dies, so none is left behind."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _worker(settings: Settings, sock: socket.socket | None) -> None:
    """One worker: on the supervisor's shared socket, or (`sock` None) its own SO_REUSEPORT
    socket on the same address, so the kernel spreads new connections evenly over workers."""
    _die_with_parent()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if sock is None:
        sock = reuseport_socket(settings.host, settings.port)
        sock.listen(2048)
    uvicorn.Server(_config(settings)).run(sockets=[sock])


def reuseport_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port with SO_REUSEPORT (not yet listening)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def serve(settings: Settings, loaded: Any = None) -> None:
    """Serve until SIGINT or SIGTERM (`loaded`: the packs, when already loaded here)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if settings.workers <= 1:
        uvicorn.Server(_config(settings, loaded)).run()
        return
    shared: socket.socket | None = None
    if hasattr(socket, "SO_REUSEPORT"):
        # each worker listens on its own socket: one shared socket lets the first worker to
        # wake accept a whole burst of connections (about 60/40 under a 32-client load)
        try:
            held = reuseport_socket(settings.host, settings.port)  # the port is free, and kept
        except OSError as e:
            where = f"{settings.host}:{settings.port}"
            raise SystemExit(f"regime serve: cannot listen on {where}: {e}") from e
        settings = dataclasses.replace(settings, port=int(held.getsockname()[1]))
    else:
        config = uvicorn.Config("service.app:create_app", host=settings.host, port=settings.port)
        held = shared = config.bind_socket()
    os.environ["REGIME_SUPERVISOR_PID"] = str(os.getpid())
    ctx = multiprocessing.get_context("spawn")
    procs: list[Any] = []
    stopping = False

    def start() -> Any:
        p = ctx.Process(target=_worker, args=(settings, shared), daemon=False)
        p.start()
        return p

    def on_hup(*_: Any) -> None:
        for p in procs:
            if p.is_alive() and p.pid:
                os.kill(p.pid, signal.SIGHUP)

    def on_stop(*_: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGHUP, on_hup)
    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
    procs.extend(start() for _ in range(settings.workers))
    while not stopping:
        time.sleep(0.2)
        for i, p in enumerate(procs):
            if not p.is_alive() and not stopping:
                print(
                    f"regime serve: worker {p.pid} exited ({p.exitcode}); restarting",
                    file=sys.stderr,
                )
                procs[i] = start()
    for p in procs:
        if p.is_alive() and p.pid:
            os.kill(p.pid, signal.SIGTERM)
    for p in procs:
        p.join(timeout=15)
    held.close()
