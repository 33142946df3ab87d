"""JSON as the service reads and writes it, numbers exact: orjson where it is exact and the
standard library where it is not (an integer past 64 bits, which facts may hold)."""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

from engine.packs.facts_schema import read_integer


def dumps(value: Any) -> bytes:
    """Compact JSON bytes as orjson writes them; an integer past 64 bits, which orjson cannot
    write, through the standard writer in the same compact form."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def canonical(value: Any) -> bytes:
    """Canonical JSON bytes (sorted keys, no spaces): what hashes are taken over (an integer
    past 64 bits, which orjson cannot write, through the standard writer)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return text.encode()


_LONG_DIGITS = re.compile(rb"[0-9]{19}")  # an integer this long may not fit orjson's 64 bits


def parse_json(raw: bytes | str) -> Any:
    """JSON bytes as data, with numbers read as a facts file's are: orjson makes an integer
    past 64 bits a float and refuses one past a float's range, so a body holding one is read
    by the standard parser, integers whole (one of 30 digits or more as the HugeNumber the
    facts check words) and a float past its range as infinity (refused by the check too).
    Raises orjson.JSONDecodeError for text that is not JSON."""
    if isinstance(raw, str):
        raw = raw.encode()
    if _LONG_DIGITS.search(raw) is None:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as e:
            if "infinity" not in e.msg:
                raise
    try:
        data = json.loads(raw, parse_int=read_integer)
        json.dumps(data, ensure_ascii=False).encode()  # no lone surrogate (orjson refuses one)
    except (ValueError, RecursionError):
        return orjson.loads(raw)  # raises with orjson's words
    return data
