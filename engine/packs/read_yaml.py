"""Reading YAML: the first stage; safe loading that keeps a file position for every node.

PyYAML and the composer built on it live in engine.packs.yaml_compose, imported on the first
read: a start whose documents all come from the disk cache never imports them."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine import disk_cache
from engine.problems import Code, PackError, file_problem, problem

if TYPE_CHECKING:
    from yaml.nodes import Node

ALIAS_LIMIT = 100
"""Most aliases (`*name`) one document may use."""

ALIAS_NODE_LIMIT = 10_000
"""Most nodes that all the aliases of one document may expand to, together."""

YamlPath = tuple[Any, ...]

_BREAKS = "\n\x85\u2028\u2029"


@dataclass(frozen=True)
class Span:
    """A range in a file; lines and columns are 1-based, the end is exclusive."""

    file: str
    line: int
    col: int
    end_line: int
    end_col: int


@dataclass(frozen=True)
class Document:
    """A YAML document: plain data plus the position of every value and key in it.

    The positions are the bulk of a document and are needed only to place what a stage says
    about it: a document kept in the disk cache keeps its data and text alone, and reads the
    text again for its positions the first time one is asked for (see `_index`)."""

    data: Any
    file: str
    text: str = field(repr=False, compare=False)
    _nodes: dict[YamlPath, tuple[Node | None, Node]] | None = field(repr=False, compare=False)
    _json_nodes: dict[YamlPath, tuple[Node | None, Node]] | None = field(repr=False, compare=False)
    _line_starts: list[int] | None = field(repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        """Data and text only: positions are read again from the text when asked for."""
        return {**self.__dict__, "_nodes": None, "_json_nodes": None, "_line_starts": None}

    def _index(
        self,
    ) -> tuple[dict[YamlPath, tuple[Node | None, Node]], dict[YamlPath, tuple[Node | None, Node]]]:
        """The nodes by path (and by JSON path), read again from the text if not yet known."""
        if self._nodes is None or self._json_nodes is None or self._line_starts is None:
            again = read_yaml(self.text, self.file)
            object.__setattr__(self, "_nodes", again._nodes)
            object.__setattr__(self, "_json_nodes", again._json_nodes)
            object.__setattr__(self, "_line_starts", again._line_starts)
        assert self._nodes is not None and self._json_nodes is not None
        return self._nodes, self._json_nodes

    def span(self, path: YamlPath = ()) -> Span:
        """The span of the value at `path`, or of its nearest ancestor that exists."""
        entry = self._entry(path)
        if entry is None:
            return Span(self.file, 1, 1, 1, 1)
        return self._node_span(entry[1])

    def key_span(self, path: YamlPath) -> Span:
        """The span of the key of the mapping entry at `path` (the value's span for list items)."""
        entry = self._entry(path)
        if entry is None:
            return Span(self.file, 1, 1, 1, 1)
        key, value = entry
        return self._node_span(key if key is not None else value)

    def has(self, path: YamlPath) -> bool:
        """Whether the document holds a value at exactly `path`."""
        nodes, json_nodes = self._index()
        return tuple(path) in nodes or tuple(path) in json_nodes

    def locate(self, path: YamlPath, line: int, col: int) -> tuple[int, int]:
        """Map a 1-based (line, col) inside the scalar at `path` to its (line, col) in the file."""
        entry = self._entry(path)
        if entry is None:
            return (1, 1)
        from yaml.nodes import ScalarNode

        from engine.packs.yaml_compose import _positions

        node = entry[1]
        if not isinstance(node, ScalarNode):
            span = self._node_span(node)
            return (span.line, span.col)
        value = node.value
        positions = _positions(self.text, node)
        lines = value.split("\n")
        line = min(max(line, 1), len(lines))
        offset = sum(len(text) + 1 for text in lines[: line - 1])
        offset += min(max(col, 1) - 1, len(lines[line - 1]))
        return self._line_col(positions[min(offset, len(positions) - 1)])

    def _entry(self, path: YamlPath) -> tuple[Node | None, Node] | None:
        nodes, json_nodes = self._index()
        path = tuple(path)
        for length in range(len(path), -1, -1):
            prefix = path[:length]
            found = nodes.get(prefix) or json_nodes.get(prefix)
            if found is not None:
                return found
        return None

    def _node_span(self, node: Node) -> Span:
        start, end = node.start_mark, node.end_mark
        if end is None:
            end = start
        return Span(self.file, start.line + 1, start.column + 1, end.line + 1, end.column + 1)

    def _line_col(self, index: int) -> tuple[int, int]:
        self._index()
        starts = self._line_starts
        assert starts is not None
        line = bisect.bisect_right(starts, index)
        return (line, index - starts[line - 1] + 1)


_BREAK = re.compile(f"[{_BREAKS}]")


def _line_starts(text: str) -> list[int]:
    """Where each line starts (after each of YAML's line breaks), found by one regex scan."""
    return [0, *(m.end() for m in _BREAK.finditer(text))]


def read_yaml(text: str, file: str) -> Document:
    """Read one YAML document safely; raise `PackError` for bad YAML."""
    from engine.packs import yaml_compose

    return yaml_compose.read_yaml(text, file)


def __getattr__(name: str) -> Any:
    """The composer's own names (`_Loader`, `_compose_fast`...), for tests that read them."""
    if name.startswith("_") and not name.startswith("__"):
        from engine.packs import yaml_compose

        return getattr(yaml_compose, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# The largest pack or facts file read, in bytes (REGIME_MAX_PACK_BYTES and
# REGIME_MAX_FACTS_BYTES override it)
MAX_FILE_BYTES = 10_000_000


def max_input_bytes(what: str) -> int:
    """The size limit on `pack` or `facts` files: REGIME_MAX_<WHAT>_BYTES, else 10 MB."""
    import os

    try:
        return int(os.environ.get(f"REGIME_MAX_{what.upper()}_BYTES", MAX_FILE_BYTES))
    except ValueError:
        return MAX_FILE_BYTES


def read_capped(path: Path, file: str, what: str) -> bytes:
    """A regular file's bytes, at most the size limit; raises PackError. Devices and pipes
    are refused (they may never end), as is anything over the limit."""
    import os
    import stat

    limit = max_input_bytes(what)

    def fail(code: Code, message: str, hint: str) -> PackError:
        return PackError([file_problem(code, file, message, hint)])

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as error:
        reason = (error.strerror or type(error).__name__).lower()
        raise fail(
            "E-IO", f"cannot read `{file}`: {reason}", "check that the file exists and can be read"
        ) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise fail(
                "E-IO",
                f"`{file}` is not a regular file",
                "give a file: devices, pipes and directories are not read",
            )
        hint = f"split it, or raise REGIME_MAX_{what.upper()}_BYTES"
        if info.st_size > limit:
            raise fail(
                "E-INPUT-SIZE", f"{what} file is {info.st_size} bytes; the limit is {limit}", hint
            )
        with os.fdopen(os.dup(fd), "rb") as f:
            raw = f.read(limit + 1)
    except OSError as error:
        reason = (error.strerror or type(error).__name__).lower()
        raise fail("E-IO", f"cannot read `{file}`: {reason}", "check the file") from None
    finally:
        os.close(fd)
    if len(raw) > limit:
        raise fail("E-INPUT-SIZE", f"{what} file is over the limit of {limit} bytes", hint)
    return raw


def read_text_file(path: Path, file: str | None = None, what: str = "pack") -> tuple[bytes, str]:
    """A file's bytes and its UTF-8 text; an unreadable, oversized, non-regular or non-UTF-8
    file is a `PackError`."""
    file = str(path) if file is None else file
    raw = read_capped(path, file, what)
    try:
        return raw, raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line_start = raw.rfind(b"\n", 0, error.start) + 1
        line = raw.count(b"\n", 0, error.start) + 1
        col = len(raw[line_start : error.start].decode("utf-8", errors="replace")) + 1
        raise PackError(
            [
                problem(
                    "E-ENCODING",
                    file,
                    line,
                    col,
                    f"`{file}` is not UTF-8 text (byte `0x{raw[error.start]:02x}`)",
                    "save the file with UTF-8 encoding",
                )
            ]
        ) from None


CACHE_LIMIT = 1_000_000
"""Largest file (bytes) whose document the disk cache keeps: a larger one's node tree takes
longer to store than it would take to read again (4.8 MB, 20,000 rules: 3.7 s against 2.4 s)."""


def read_yaml_file(path: Path) -> Document:
    """Read a YAML file; an unreadable or non-UTF-8 file is a `PackError` too."""
    content, text = read_text_file(path)
    return read_yaml_kept(content, text, str(path))


def read_yaml_kept(content: bytes, text: str, file: str) -> Document:
    """`read_yaml(text, file)`, kept in the disk cache by `content` and the name `file` (as
    the pack pipeline keeps packs); raises PackError for bad YAML, which is never kept."""
    entry = disk_cache.key("yaml", file, content)
    cached = disk_cache.load("yaml", entry)
    if isinstance(cached, Document):
        return cached
    doc = read_yaml(text, file)
    if len(content) <= CACHE_LIMIT:
        disk_cache.store("yaml", entry, doc)
    return doc
