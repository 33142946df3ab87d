"""Runtime values out of the language: the one conversion to JSON-ready data and the one to
display text, used by decisions, explanations, schema validation, diffs and messages."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from engine.language.runtime import WITHHELD, Months, Unknown


def json_key(key: Any) -> str:
    """A mapping key as a JSON object key (`true`, `null`, `2020-01-01`, `1.50`)."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    if isinstance(key, dt.date):
        return key.isoformat()
    return str(key)


def iso_duration(d: dt.timedelta) -> str:
    """An exact duration in ISO 8601: `P14D`, `PT30M`, `P1DT2M`."""
    minutes = int(d.total_seconds() // 60)
    days, minutes = divmod(minutes, 1440)
    if minutes == 0:
        return f"P{days}D"
    return f"P{days}DT{minutes}M" if days else f"PT{minutes}M"


def to_json(value: Any, exact_numbers: bool = False) -> Any:
    """A value as JSON-ready data: dates ISO, durations ISO 8601, unknown as null, and decimals
    as text (money must not pass through floats). With `exact_numbers`, decimals stay numbers,
    as JSON Schema validation of YAML data needs."""
    if value is None or value.__class__ is Unknown:
        return None
    if isinstance(value, bool | int | str | float):
        return value
    if isinstance(value, Decimal):
        return value if exact_numbers else str(value)
    if isinstance(value, dt.date):  # and datetime
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return iso_duration(value)
    if isinstance(value, Months):
        return f"P{value.n}M" if value.n % 12 else f"P{value.n // 12}Y"
    if isinstance(value, Mapping):
        return {json_key(k): to_json(v, exact_numbers) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        return [to_json(v, exact_numbers) for v in value]
    return str(value)


def to_text(value: Any) -> str:
    """A value as an explanation shows it: its JSON text, `none` for the decided no-value (an
    unknown that needs no fact, as the decision reads it), `unknown (needs ...)`, or
    `undetermined` for a value withheld from a custodial audience (see runtime.WITHHELD)."""
    if value is WITHHELD:
        return "undetermined"
    if value.__class__ is Unknown:
        needs = ", ".join(sorted(value.paths))
        return f"unknown (needs {needs})" if needs else "none"
    return json.dumps(to_json(value), ensure_ascii=False)
