"""One decision log record, sealed by a hash over every field: a half-written or altered record
shows."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from service.exact_json import parse_json
from service.result_parts import part_hash, rebuild


def sha256(data: bytes) -> str:
    """`sha256:` and the hex digest of `data` (hashed keeping the GIL, see `_update`)."""
    h = hashlib.sha256()
    _update(h, data)
    return "sha256:" + h.hexdigest()


_UNDER_GIL = 2047  # hashlib lets go of the GIL for an update of 2048 bytes or more


def _update(h: Any, data: bytes) -> None:
    """`h.update(data)` in pieces small enough that the GIL is kept: a 10 KB hash is a few
    microseconds, and letting go of the GIL means waiting for it again behind the log writer."""
    if len(data) <= _UNDER_GIL:
        h.update(data)
        return
    view = memoryview(data)
    for start in range(0, len(data), _UNDER_GIL):
        h.update(view[start : start + _UNDER_GIL])


@dataclass(frozen=True)
class LogRecord:
    """What the log keeps about one decision. `input` is masked for a custodial audience."""

    decision_id: str
    recorded_at: str
    client_id: str | None
    user_name: str | None
    pack: str
    version: str
    policy_version: str
    content_hash: str
    as_of: str
    audience: str
    input_hash: str
    input: str  # canonical JSON of the (masked) facts
    masked_paths: str  # canonical JSON list
    result: str  # JSON of decision.to_dict(), the bytes the caller was sent (less decisionId),
    # with the members named in `result_parts` (when set) stored apart and null here
    record_hash: str = ""
    batch_id: str | None = None  # the batch request it was a line of, if any
    batch_line: int | None = None  # its line number in that batch (from 1)
    result_parts: str | None = None  # canonical JSON {member: part hash} stored apart, if any

    def computed_hash(self, encoded: Mapping[str, bytes] | None = None) -> str:
        """The hash of every field but `record_hash` itself (length-prefixed, so no two
        different records join to the same bytes). The batch fields join only when set, and
        `result_parts` (after both batch fields) only when set, so records logged before they
        existed still check; a part is sealed by its hash, checked when it is read.
        `encoded`: fields' UTF-8 bytes already at hand (the result as serialised), so they are
        not encoded again."""
        h = hashlib.sha256()
        names = SEALED if self.batch_id is None and self.batch_line is None else SEALED + BATCH
        if self.result_parts is not None:
            names = SEALED + BATCH + PARTS
        for name in names:
            value = getattr(self, name)
            if value is None:
                h.update(b"\x00\x00\x00\x00\x00\x00\x00\x01\x00")
                continue
            data = encoded[name] if encoded and name in encoded else str(value).encode()
            h.update((len(data) + 1).to_bytes(8, "big") + b"\x01")
            _update(h, data)
        return "sha256:" + h.hexdigest()

    def sealed(self, encoded: Mapping[str, bytes] | None = None) -> LogRecord:
        """This record with its `record_hash` set (`encoded` as for `computed_hash`): a copy
        of its fields, made without the frozen dataclass's field-by-field `__init__` (on the
        hot path, once a decision), so the same record `dataclasses.replace` would give."""
        made = object.__new__(LogRecord)
        made.__dict__.update(self.__dict__)
        made.__dict__["record_hash"] = self.computed_hash(encoded)
        return made

    def intact(self) -> bool:
        """True when the stored hash matches the fields: nothing half-written or changed."""
        return self.record_hash == self.computed_hash()

    def part_hashes(self) -> list[str]:
        """The hashes of the parts of the result stored apart (none for a whole result)."""
        return list(orjson.loads(self.result_parts).values()) if self.result_parts else []

    def to_api(self, parts: Mapping[str, bytes] | None = None) -> dict[str, Any]:
        """The record as the API shows it, the result whole again (`parts`: the stored parts
        by hash, each checked against its hash for `intact`)."""
        bodies = dict(parts or {})
        parts_intact = all(h in bodies and part_hash(bodies[h]) == h for h in self.part_hashes())
        return {
            "decisionId": self.decision_id,
            "recordedAt": self.recorded_at,
            "caller": {"clientId": self.client_id, "userName": self.user_name},
            "pack": self.pack,
            "version": self.version,
            "policyVersion": self.policy_version,
            "contentHash": self.content_hash,
            "asOf": self.as_of,
            "audience": self.audience,
            "inputHash": self.input_hash,
            "input": parse_json(self.input),
            "maskedPaths": parse_json(self.masked_paths),
            "decision": rebuild(self.result, self.result_parts, bodies)
            if parts_intact
            else parse_json(self.result),
            "batch": None
            if self.batch_id is None
            else {"batchId": self.batch_id, "line": self.batch_line},
            "recordHash": self.record_hash,
            "intact": parts_intact and self.intact(),
        }


COLUMNS = tuple(LogRecord.__dataclass_fields__)
BATCH = ("batch_id", "batch_line")
PARTS = ("result_parts",)
SEALED = COLUMNS[: COLUMNS.index("record_hash")]
assert COLUMNS == (*SEALED, "record_hash", *BATCH, *PARTS)
