"""A decision's JSON with its pack-constant members serialised once and spliced in.

The interpretations a decision rests on are most of its bytes (about 18 of 25 KB for key work)
and depend only on the pack version, the audience and which interpretations were relied upon.
The decision writes its own JSON in pieces around them (`Decision.json_parts`, the member made
once per such key): each answer is those pieces joined, and the log keeps the rest with a
reference to the member's bytes, stored once under their hash (`result_parts`). The first
decision of each key is checked against `decision.to_dict()` serialised whole; a key that does
not match is never split."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

import orjson

from service.exact_json import dumps, parse_json

log = logging.getLogger("regime.service")

MEMBER = "interpretations"
MAX_KEYS = 4096


@dataclass(frozen=True)
class SplitResult:
    """One decision's result: `full`, the bytes answered (exactly `decision.to_dict()`);
    `stored`, what the log row keeps (the member replaced by null when split); `parts_ref`, the
    canonical JSON `{member: hash}` of what was taken out (None when nothing was); `parts`,
    (hash, bytes) of each part taken out."""

    full: bytes
    stored: bytes
    parts_ref: str | None
    parts: tuple[tuple[str, bytes], ...]


def part_hash(body: bytes) -> str:
    """The content address of a stored part."""
    return "sha256:" + hashlib.sha256(body).hexdigest()


_OPEN = b'"' + MEMBER.encode() + b'":'


def _around(head: dict[str, Any], tail: dict[str, Any]) -> tuple[bytes, bytes]:
    """What goes before and after MEMBER's value in `{**head, MEMBER: ..., **tail}` as orjson
    writes it: serialised once, for both the answer and the log form."""
    before, after = orjson.dumps(head), orjson.dumps(tail)
    return (
        (before[:-1] + b"," if len(before) > 2 else b"{") + _OPEN,
        (b"," + after[1:] if len(after) > 2 else b"}"),
    )


def _joined(head: dict[str, Any], value: bytes, tail: dict[str, Any]) -> bytes:
    """The object `{**head, MEMBER: <value>, **tail}` as orjson writes it, with `value` as is."""
    before, after = _around(head, tail)
    return b"".join((before, value, after))


class ResultSplitter:
    """Serialises decisions, keeping each distinct interpretations member as bytes made once."""

    def __init__(self) -> None:
        # the interpretations' bytes (`Decision.json_parts`, one object per distinct member) by
        # id -> (those bytes, held so the id is not reused; their hash, or None: never split)
        self._parts: dict[int, tuple[bytes, str | None]] = {}

    def split(self, decision: Any) -> SplitResult:
        """The decision's answer and log form (see SplitResult)."""
        before, body, after = decision.json_parts()
        known = self._parts.get(id(body))
        if known is None or known[0] is not body:
            known = self._first(decision, before, body, after)
        digest = known[1]
        if digest is None:  # this member did not splice back to to_dict(): never split
            return _whole(dumps(decision.to_dict()))
        return SplitResult(
            b"".join((before, body, after)),
            b"".join((before, b"null", after)),
            _ref(digest),
            ((digest, body),),
        )

    def _first(
        self, decision: Any, before: bytes, body: bytes, after: bytes
    ) -> tuple[bytes, str | None]:
        """The first decision with this member: its pieces checked against `to_dict()`
        serialised whole, the member's hash kept if they join to the same bytes."""
        if len(self._parts) >= MAX_KEYS:
            self._parts.clear()
        d = decision.to_dict()
        full = dumps(d)
        digest: str | None = part_hash(body)
        if not isinstance(d.get(MEMBER), list) or b"".join((before, body, after)) != full:
            log.warning(
                "decision JSON does not splice back for %s; logged whole",
                (decision.content_hash, decision.audience),
            )
            digest = None
        self._parts[id(body)] = (body, digest)
        return body, digest


def _whole(full: bytes) -> SplitResult:
    return SplitResult(full, full, None, ())


def _ref(digest: str) -> str:
    return '{"' + MEMBER + '":"' + digest + '"}'


def rebuild(stored: str, parts_ref: str | None, bodies: dict[str, bytes]) -> Any:
    """The full result from a log row's stored form and its parts (`bodies` by hash)."""
    doc = parse_json(stored)
    if parts_ref:
        for member, digest in orjson.loads(parts_ref).items():
            doc[member] = parse_json(bodies[digest])
    return doc
