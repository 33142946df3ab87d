"""The values a field whose null is a recorded none (`x-null: none`) may not hold: the SQL
facts tables keep such a none as one of them (a date field's none as the calendar's first
day, a text field's as a NUL then `none`), so a real value equal to it could not be told
from the none there. A facts document holding one in such a field is refused by every engine,
with the words below, rather than decided one way by the interpreter and another in SQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

RESERVED_DATE = dt.date(1, 1, 1)
RESERVED_TEXT = "\u0000none"

# how a message shows each reserved value (a NUL character is not shown as itself)
_SHOWN = {RESERVED_DATE.isoformat(): "`0001-01-01`", RESERVED_TEXT: "the text `\\u0000none`"}


def reserved_value(node: Any) -> str | None:
    """The text a value of the facts schema `node` may not hold (its JSON form), or None when
    the node's null is no recorded none or the node is not text."""
    if not isinstance(node, Mapping) or node.get("x-null") != "none":
        return None
    kinds = node.get("type")
    if "string" not in ((kinds,) if isinstance(kinds, str) else (kinds or ())):
        return None
    return RESERVED_DATE.isoformat() if node.get("format") == "date" else RESERVED_TEXT


def holds_reserved(value: Any, reserved: str) -> bool:
    """Whether `value` (a fact as given: text, or a date read from YAML) is `reserved`."""
    if isinstance(value, str):
        return value == reserved
    return value.__class__ is dt.date and value == RESERVED_DATE and reserved != RESERVED_TEXT


def reserved_problem(reserved: str) -> tuple[str, str]:
    """What is wrong with a field holding `reserved`, and how to fix it."""
    shown = _SHOWN[reserved]
    message = (
        f"{shown} is reserved: the SQL engines keep a recorded none of this field as that "
        "value and could not tell the two apart; a recorded none of this field is written "
        "as null"
    )
    if reserved == RESERVED_TEXT:
        hint = "write null for a recorded none (leave the field out when it is not known), or "
        hint += "the text without its NUL character"
    else:
        hint = "write null for a recorded none (leave the field out when it is not known); no "
        hint += "real fact falls on that day: check the date at its source"
    return message, hint
