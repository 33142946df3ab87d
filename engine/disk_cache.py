"""A cache on disk for start-up: what reading a pack works out from its content, kept under
`$REGIME_CACHE_DIR` (or `$XDG_CACHE_HOME/regime`, `~/.cache/regime`; `off` disables it).

Each entry is keyed by a hash of its input's content, the engine's own files and the Python
version, so a changed pack or engine never reads a stale entry; each carries a digest of its
bytes, so a corrupt or truncated entry is ignored (and rewritten). Entries are pickles: the
cache directory must be writable by its user alone, like any per-user cache.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import pickle
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from types import CodeType
from typing import Any

ENV = "REGIME_CACHE_DIR"
_MAGIC = b"regime-cache 1\n"
_ENGINE = Path(__file__).resolve().parent


def directory() -> Path | None:
    """Where entries go, or None when caching is off."""
    value = os.environ.get(ENV)
    if value is not None:
        return None if value.strip().lower() in ("", "off", "0", "no") else Path(value)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "regime"


@cache
def engine_fingerprint() -> str:
    """The Python version and every engine source, grammar and schema file (by name, size and
    modification time): any change to the engine starts a fresh set of entries."""
    digest = hashlib.sha256(sys.version.encode())
    for root in (_ENGINE, _ENGINE.parent / "schemas"):
        found: list[str] = []
        for folder, subfolders, files in os.walk(root):
            subfolders[:] = [d for d in subfolders if d != "__pycache__"]  # bytecode: skipped
            for name in files:
                if name.endswith((".py", ".lark", ".json")):
                    stat = os.stat(os.path.join(folder, name))
                    shown = os.path.relpath(os.path.join(folder, name), root)
                    found.append(f"{shown}:{stat.st_size}:{stat.st_mtime_ns}")
        for line in sorted(found):
            digest.update(line.encode())
    return digest.hexdigest()[:20]


def key(kind: str, *parts: bytes | str) -> str:
    """The key of an entry of `kind` worked out from `parts` by this engine."""
    digest = hashlib.sha256(f"{kind}\0{engine_fingerprint()}".encode())
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def _path(kind: str, entry: str) -> Path | None:
    base = directory()
    return None if base is None else base / kind / f"{entry}.pickle"


def load(kind: str, entry: str) -> Any | None:
    """The value stored under `entry`, or None when there is none or it is unreadable."""
    path = _path(kind, entry)
    if path is None:
        return None
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    head = len(_MAGIC) + 32
    if not raw.startswith(_MAGIC) or len(raw) < head:
        return None
    payload = raw[head:]
    if hashlib.sha256(payload).digest() != raw[len(_MAGIC) : head]:
        return None
    try:
        return pickle.loads(payload)  # noqa: S301 - our own entries, digest checked
    except Exception:  # noqa: BLE001 - an entry from an incompatible build: ignore it
        return None


def store(kind: str, entry: str, value: Any, dumps: Callable[[Any], bytes] | None = None) -> None:
    """Keep `value` under `entry`, atomically; a value that cannot be kept is skipped. `dumps`
    pickles what plain pickling cannot (see engine.packs.pack_cache)."""
    path = _path(kind, entry)
    if path is None:
        return
    try:
        if dumps is None:
            payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        else:
            payload = dumps(value)
        path.parent.mkdir(parents=True, exist_ok=True)
        import tempfile  # only when storing: a warm start never does

        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(_MAGIC + hashlib.sha256(payload).digest() + payload)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except (OSError, pickle.PicklingError, TypeError, ValueError, AttributeError, RecursionError):
        return
    prune(path.parent.parent)


UNUSED_DAYS = 30  # an entry neither written nor read for this long is removed
_PRUNE_EVERY = 24 * 3600  # seconds between two looks at the whole cache


def prune(base: Path, now: float | None = None) -> int:
    """Remove the entries of `base` not used for UNUSED_DAYS (an engine or pack that changed
    leaves its old entries behind), looking at most once a day; the number removed. Used means
    read or written: reads are seen through the file's access time, which most mounts update
    at least daily; where they do not, an entry is removed 30 days after it was written and
    simply made again when next needed."""
    import time

    now = time.time() if now is None else now
    marker = base / ".pruned"
    try:
        if now - marker.stat().st_mtime < _PRUNE_EVERY:
            return 0
    except OSError:
        pass
    removed = 0
    try:
        marker.touch()
        os.utime(marker, (now, now))
        for folder in base.iterdir():
            if not folder.is_dir():
                continue
            for entry in folder.iterdir():
                info = entry.stat()
                if now - max(info.st_atime, info.st_mtime) > UNUSED_DAYS * 86400:
                    entry.unlink(missing_ok=True)
                    removed += 1
    except OSError:
        pass
    return removed


def compiled(source: str, filename: str) -> CodeType:
    """`compile(source, filename, "exec")`, its code kept under the source and file name: the
    generated programs of an unchanged pack are not compiled again at every start."""
    entry = key("compiled", filename, source)
    raw = load("compiled", entry)
    if isinstance(raw, bytes):
        try:
            code = marshal.loads(raw)  # noqa: S302 - our own entries, digest checked
        except (EOFError, ValueError, TypeError):
            code = None
        if isinstance(code, CodeType) and code.co_filename == filename:
            return code
    code = compile(source, filename, "exec")
    try:
        store("compiled", entry, marshal.dumps(code))
    except (ValueError, RecursionError):  # too deep to marshal: compiled each time instead
        pass
    return code
