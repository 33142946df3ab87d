"""The loaded packs, swapped whole on reload, and every pack version ever served kept by content
hash (in memory, and its source in the log's database) so a logged decision can be replayed on
exactly the version that made it."""

from __future__ import annotations

import hashlib
import logging
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import engine
from service.log_store import LogStore

log = logging.getLogger("regime.service")


@dataclass(frozen=True)
class ReloadResult:
    """What a reload did: whether the new packs were taken, and the problems when refused."""

    ok: bool
    packs: dict[str, str]  # pack id -> content hash now serving
    changed: list[str]
    problems: list[str]


class PackRegistry:
    """The packs currently served (`current`, replaced atomically) and every version by hash."""

    def __init__(
        self, directory: Path, store: LogStore | None = None, loaded: engine.Packs | None = None
    ):
        self.directory = directory
        self.store = store
        self._by_hash: dict[str, Any] = {}
        self._reload_lock = threading.Lock()
        self.current: engine.Packs = self._load(loaded)
        self.loaded_at = _now()
        self.reloads = 0
        self.refused = 0

    def _load(self, loaded: engine.Packs | None = None) -> engine.Packs:
        """Load every pack under the directory (raises engine.PackError) and remember them."""
        packs = loaded if loaded is not None else engine.load(self.directory)
        for pack in packs.values():
            self._remember(pack)
        return packs

    def _remember(self, pack: Any) -> None:
        self._by_hash.setdefault(pack.content_hash, pack)
        if self.store is None:
            return
        try:
            source = Path(pack.file).read_bytes()
        except OSError:
            return
        if "sha256:" + hashlib.sha256(source).hexdigest() != pack.content_hash:
            return  # the file changed after loading: its bytes are not this version's
        self.store.put_pack_source(
            pack.content_hash, pack.id, pack.version, Path(pack.file).name, source
        )

    def reload(self) -> ReloadResult:
        """Load the packs again; on any error keep serving the old ones and say why."""
        with self._reload_lock:
            before = {pid: p.content_hash for pid, p in self.current.items()}
            try:
                fresh = self._load()
            except engine.PackError as e:
                self.refused += 1
                problems = [p.format() for p in e.problems if p.is_error]
                log.warning("pack reload refused, old packs keep serving: %s", problems[:3])
                return ReloadResult(False, before, [], problems)
            self.current = fresh
            self.loaded_at = _now()
            self.reloads += 1
            after = {pid: p.content_hash for pid, p in fresh.items()}
            changed = sorted(
                k for k in before.keys() | after.keys() if before.get(k) != after.get(k)
            )
            log.info("packs reloaded; changed: %s", changed or "none")
            return ReloadResult(True, after, changed, [])

    def by_hash(self, content_hash: str) -> Any | None:
        """The pack with this content hash: served now or earlier, else rebuilt from the log."""
        pack = self._by_hash.get(content_hash)
        if pack is not None or self.store is None:
            return pack
        stored = self.store.pack_source(content_hash)
        if stored is None:
            return None
        name, source = stored
        with tempfile.TemporaryDirectory(prefix="regime-replay-") as tmp:
            (Path(tmp) / name).write_bytes(source)
            try:
                packs = engine.load(tmp)
            except engine.PackError:
                return None
        for pack in packs.values():
            if pack.content_hash == content_hash:
                self._by_hash[content_hash] = pack
                return pack
        return None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
