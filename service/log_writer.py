"""One writer thread per process: records queue up and are committed together (group commit).

A caller's future resolves only after the transaction holding its record has committed, so a
decision is acknowledged only once durable, while one commit (one fsync) serves many requests.
The futures of one group are resolved with one wake-up of their event loop, not one each."""

from __future__ import annotations

import asyncio
import ctypes
import logging
import queue
import threading
import time
from collections import defaultdict

from service.log_record import LogRecord
from service.log_store import LogStore

MAX_GROUP = 512
OS_THREAD_NAME = b"regime-log"  # what /proc shows, so its CPU can be told from the event loop's
log = logging.getLogger("regime.service")

_STOP = object()
Queued = tuple[LogRecord, tuple[tuple[str, bytes], ...], "asyncio.Future[None]"]


class LogWriter:
    """Appends records to a store from a single thread, many per transaction."""

    def __init__(self, store: LogStore):
        self.store = store
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self.commits = 0
        self.committed = 0
        self.commit_seconds = 0.0
        self._thread = threading.Thread(target=self._run, name="decision-log-writer", daemon=True)
        self._thread.start()

    def submit(
        self, record: LogRecord, parts: tuple[tuple[str, bytes], ...] = ()
    ) -> asyncio.Future[None]:
        """Queue a record and the result parts it refers to (from a running event loop); the
        future resolves when it is committed, or fails with the error."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put((record, parts, fut))
        return fut

    def _run(self) -> None:
        _name_os_thread(OS_THREAD_NAME)
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            group = [first]
            stop = False
            while len(group) < MAX_GROUP:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                group.append(item)
            items: list[Queued] = group  # type: ignore[assignment]
            started = time.perf_counter()
            error: BaseException | None = None
            parts = {h: body for _, ps, _ in items for h, body in ps}
            try:
                self.store.append([r for r, _, _ in items], list(parts.items()))
                self.commits += 1
                self.committed += len(items)
                self.commit_seconds += time.perf_counter() - started
            except Exception as e:  # the callers answer 503; nothing was acknowledged
                log.exception("decision log append failed")
                error = e
            by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = defaultdict(list)
            for _, _, f in items:
                by_loop[f.get_loop()].append(f)
            for loop, futures in by_loop.items():
                try:
                    loop.call_soon_threadsafe(_resolve, futures, error)
                except RuntimeError:  # that loop has closed: nobody is waiting any more
                    pass
            if stop:
                return

    def stats(self) -> dict[str, float]:
        """Commits so far, records committed, and the mean group and commit time."""
        return {
            "commits": self.commits,
            "records": self.committed,
            "meanGroup": round(self.committed / self.commits, 1) if self.commits else 0.0,
            "meanCommitMs": round(1000 * self.commit_seconds / self.commits, 2)
            if self.commits
            else 0.0,
        }

    def close(self) -> None:
        """Commit what is queued, then stop the thread."""
        self._queue.put(_STOP)
        self._thread.join(timeout=30)


def _name_os_thread(name: bytes) -> None:
    """Linux: name the calling thread for the kernel (PR_SET_NAME); elsewhere nothing."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(15, ctypes.c_char_p(name[:15]), 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _resolve(futures: list[asyncio.Future[None]], error: BaseException | None) -> None:
    """On the futures' own loop: every waiting caller learns the group's outcome."""
    for f in futures:
        if f.done():
            continue
        if error is None:
            f.set_result(None)
        else:
            f.set_exception(error)
