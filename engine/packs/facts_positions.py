"""Place facts problems where they are: a problem found by JSON path (the validators and limit
checks work on data, not text) gets the line and column of that value in the facts file."""

from __future__ import annotations

import ast
import bisect
import dataclasses
import re
from collections.abc import Callable, Iterable
from json import JSONDecoder
from pathlib import Path
from typing import Any

from engine.problems import PackError, Problem

from .read_yaml import read_yaml

# the JSON paths problems name, as validate_schema writes them: $.name, $[0], $['odd key']
_QUOTED = r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\""
_PATH = re.compile(rf"^`(\$(?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\]|\[(?:{_QUOTED})\])*)`")
_STEP = re.compile(rf"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[({_QUOTED})\]")


_UNKNOWN_FIELD = re.compile(r": unknown field `([^`]+)`$")


def unknown_key(text: str) -> str | None:
    """The key a problem says is not a field of the object its path names (`$.a: unknown field
    `b``), which is placed at that key rather than under the whole object."""
    found = _UNKNOWN_FIELD.search(text)
    return found.group(1) if found else None


def json_path_steps(text: str) -> tuple[Any, ...] | None:
    """The keys and indexes of a JSON path a problem message starts with, or None."""
    found = _PATH.match(text)
    if found is None:
        return None
    steps: list[Any] = []
    for name, index, quoted in _STEP.findall(found.group(1)[1:]):
        steps.append(name or (int(index) if index else ast.literal_eval(quoted)))
    return tuple(steps)


Place = tuple[int, int, int, int]  # line, column, end line, end column
Locate = Callable[[tuple[Any, ...], bool], Place]  # (steps, at the last step's key)


def positioned(problems: Iterable[Problem], text: str | None = None) -> list[Problem]:
    """The problems, each one that names a JSON path in a file moved to that value's line and
    column (or its nearest enclosing value's). The file is read again only when some problem
    needs it; a file that cannot be read again leaves the problems where they were."""
    found: dict[str, Locate | None] = {}
    out = []
    for p in problems:
        steps = json_path_steps(p.message) if (p.line, p.col) == (1, 1) else None
        if steps is not None and p.file not in found:
            found[p.file] = _locator(p.file, text)
        locate = found.get(p.file) if steps is not None else None
        if locate is None or steps is None:
            out.append(p)
            continue
        key = unknown_key(p.message)
        if key is not None:
            line, col, end_line, end_col = locate((*steps, key), True)
        else:
            line, col, end_line, end_col = locate(steps, False)
        out.append(
            dataclasses.replace(
                p, line=line, col=col, end_line=end_line, end_col=end_col, whole_file=False
            )
        )
    return sorted(out, key=lambda q: (q.file, q.line, q.col)) if found else out


def _locator(file: str, text: str | None) -> Locate | None:
    if text is None:
        try:
            text = Path(file).read_text(encoding="utf-8")
        except (OSError, UnicodeError):
            return None
    if file.endswith(".json"):
        return _json_locator(text)
    try:
        doc = read_yaml(text, file)
    except PackError:
        return None

    def locate(steps: tuple[Any, ...], key: bool) -> Place:
        if key and not doc.has(steps):
            steps, key = steps[:-1], False
        span = doc.key_span(steps) if key else doc.span(steps)
        return span.line, span.col, span.end_line, span.end_col

    return locate


_SCALAR = re.compile(r"-?(?:\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|Infinity)|true|false|null|NaN")
_STRING = JSONDecoder()  # reads the one string at an offset (keys and text values)
_SPACE = re.compile(r"[ \t\n\r]*")


def _json_locator(text: str) -> Locate | None:
    """Where each value of a JSON text starts and ends, by path: the text has already been read
    as JSON (with NaN and numbers of any length), so this only walks it."""
    spans: dict[tuple[Any, ...], tuple[int, int]] = {}
    keys: dict[tuple[Any, ...], tuple[int, int]] = {}  # where each object key is written

    def value(i: int, path: tuple[Any, ...]) -> int:
        i = _SPACE.match(text, i).end()  # type: ignore[union-attr]
        start, c = i, text[i]
        if c in "{[":
            close, n = ("}" if c == "{" else "]"), 0
            i = _SPACE.match(text, i + 1).end()  # type: ignore[union-attr]
            while text[i] != close:
                if c == "{":
                    key_start = i
                    key, i = _STRING.raw_decode(text, i)
                    keys[(*path, key)] = (key_start, i)
                    i = text.index(":", i) + 1
                    i = value(i, (*path, key))
                else:
                    i = value(i, (*path, n))
                    n += 1
                i = _SPACE.match(text, i).end()  # type: ignore[union-attr]
                if text[i] == ",":
                    i = _SPACE.match(text, i + 1).end()  # type: ignore[union-attr]
            i += 1
        elif c == '"':
            i = _STRING.raw_decode(text, i)[1]
        else:
            token = _SCALAR.match(text, i)
            if token is None:
                raise ValueError(i)
            i = token.end()
        spans[path] = (start, i)
        return i

    try:
        value(0, ())
    except (ValueError, IndexError, RecursionError):
        return None
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]

    def place(offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(starts, offset)
        return line, offset - starts[line - 1] + 1

    def locate(steps: tuple[Any, ...], key: bool) -> Place:
        if key and steps in keys:
            start, end = keys[steps]
            return (*place(start), *place(end))
        while steps not in spans:
            steps = steps[:-1]
        start, end = spans[steps]
        return (*place(start), *place(end))

    return locate
