"""JSON as the service reads and writes it, numbers exact: orjson where it is exact and the
standard library where it is not (an integer past 64 bits, which facts may hold)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import orjson

from engine.packs.facts_schema import read_decimal, read_integer


def dumps(value: Any) -> bytes:
    """Compact JSON bytes as orjson writes them; an integer past 64 bits or a decimal, which
    orjson cannot write, by `_written` in the same compact form."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return _written(value, False).encode()


def canonical(value: Any) -> bytes:
    """Canonical JSON bytes (sorted keys, no spaces): what hashes are taken over (an integer
    past 64 bits or a decimal, which orjson cannot write, by `_written`)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return _written(value, True).encode()


def _written(value: Any, sort: bool) -> str:
    """Compact JSON text as the standard writer makes it, a decimal as the number it is
    (`6.50`, never a float's `6.5`), so that reading it back gives the same decimal."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        items = sorted(value.items()) if sort else value.items()
        return (
            "{"
            + ",".join(
                json.dumps(k, ensure_ascii=False) + ":" + _written(v, sort) for k, v in items
            )
            + "}"
        )
    if isinstance(value, list | tuple):
        return "[" + ",".join(_written(v, sort) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


_LONG_DIGITS = re.compile(rb"[0-9]{19}")  # an integer this long may not fit orjson's 64 bits
# a number with a fraction or an exponent (or text that looks like one): orjson would make it
# a float, which a decimal fact must not go through
_FRACTION = re.compile(rb"[0-9][.eE]")


def parse_json(raw: bytes | str) -> Any:
    """JSON bytes as data, with numbers read as a facts file's are: orjson makes an integer
    past 64 bits a float and refuses one past a float's range, so a body holding one is read
    by the standard parser, integers whole (one of 30 digits or more as the HugeNumber the
    facts check words) and a float past its range as infinity (refused by the check too);
    so is one holding a number with a fraction or an exponent, read as the Decimal its text
    says, as the facts reader reads it (see read_decimal).
    Raises orjson.JSONDecodeError for text that is not JSON."""
    if isinstance(raw, str):
        raw = raw.encode()
    if _LONG_DIGITS.search(raw) is None and _FRACTION.search(raw) is None:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as e:
            if "infinity" not in e.msg:
                raise
    try:
        data = json.loads(raw, parse_int=read_integer, parse_float=read_decimal)
        _written(data, False).encode()  # no lone surrogate (orjson refuses one)
    except (ValueError, RecursionError):
        return orjson.loads(raw)  # raises with orjson's words
    return data
