"""Composing YAML with positions: PyYAML's safe loader (libyaml's when it is sure to agree),
bounded aliases, and plain data built with every node indexed by its path. Imported by
engine.packs.read_yaml on the first document it reads."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Hashable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent, MappingStartEvent, SequenceStartEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from engine.language.convert import json_key
from engine.packs.read_yaml import (
    _BREAKS,
    ALIAS_LIMIT,
    ALIAS_NODE_LIMIT,
    Document,
    YamlPath,
    _line_starts,
)
from engine.problems import Code, PackError, Problem, file_problem, problem

_STD = "tag:yaml.org,2002:"
_NULL, _BOOL, _INT, _FLOAT = _STD + "null", _STD + "bool", _STD + "int", _STD + "float"
_STR, _TIMESTAMP, _SEQ, _MAP, _MERGE = (
    _STD + "str",
    _STD + "timestamp",
    _STD + "seq",
    _STD + "map",
    _STD + "merge",
)
_SCALAR_TAGS = {_NULL, _BOOL, _INT, _FLOAT, _STR, _TIMESTAMP}
_ESCAPES = yaml.scanner.Scanner.ESCAPE_REPLACEMENTS
_ESCAPE_CODES = yaml.scanner.Scanner.ESCAPE_CODES


class _Stop(Exception):
    """An error found while composing, with the position it belongs to."""

    def __init__(self, code: Code, mark: Any, message: str, hint: str):
        super().__init__(message)
        self.code, self.mark, self.message, self.hint = code, mark, message, hint


class _Bounded(Composer):
    """The safe loader's composer, bounding aliases; the data is built by `_Builder`."""

    def _bounds(self) -> None:
        self.alias_count = 0
        self.alias_nodes = 0
        self.open_anchors: set[str] = set()
        self.sizes: dict[int, int] = {}

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()  # type: ignore[attr-defined]
        if isinstance(event, AliasEvent):
            self._check_alias(event)
            return super().compose_node(parent, index)
        anchor = event.anchor
        if anchor is None or not isinstance(event, (SequenceStartEvent, MappingStartEvent)):
            return super().compose_node(parent, index)
        self.open_anchors.add(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self.open_anchors.discard(anchor)

    def _check_alias(self, event: AliasEvent) -> None:
        name = event.anchor
        self.alias_count += 1
        if self.alias_count > ALIAS_LIMIT:
            raise _Stop(
                "E-YAML-ALIAS",
                event.start_mark,
                f"more than {ALIAS_LIMIT} aliases in one document",
                "repeat the values instead of using so many `*` aliases",
            )
        if name in self.open_anchors:
            raise _Stop(
                "E-YAML-ALIAS",
                event.start_mark,
                f"alias `*{name}` refers to a value that contains it",
                f"an alias may only refer to a value defined before it, outside `&{name}`",
            )
        target = self.anchors.get(name)
        if target is None:
            return  # the composer reports the undefined alias
        self.alias_nodes += self._size(target)
        if self.alias_nodes > ALIAS_NODE_LIMIT:
            raise _Stop(
                "E-YAML-ALIAS",
                event.start_mark,
                f"alias `*{name}` expands the document beyond {ALIAS_NODE_LIMIT} values",
                "aliases that repeat large structures are not allowed; write the values out",
            )

    def _size(self, node: Node) -> int:
        known = self.sizes.get(id(node))
        if known is not None:
            return known
        size = 1
        if isinstance(node, SequenceNode):
            size += sum(self._size(child) for child in node.value)
        elif isinstance(node, MappingNode):
            size += sum(self._size(k) + self._size(v) for k, v in node.value)
        self.sizes[id(node)] = size
        return size


class _Loader(_Bounded, yaml.SafeLoader):
    """The pure-Python safe loader: every error message and position comes from it."""

    def __init__(self, stream: str):
        yaml.SafeLoader.__init__(self, stream)
        self._bounds()


# libyaml's parser, when PyYAML was built with it (else the pure loader does everything)
_CParser: Any = getattr(getattr(yaml, "cyaml", None), "CParser", None)


if _CParser is not None:

    class _FastLoader(_Bounded, _CParser, SafeConstructor, Resolver):
        """libyaml's scanner and parser under the same composer and bounds: used for ASCII
        documents (whose positions it reports as the pure loader does) that read cleanly."""

        def __init__(self, stream: str):
            _CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self._bounds()


def _compose(text: str) -> Node | None:
    """The document's node tree: fast when libyaml is there and the text is ASCII; any problem
    is found again by the pure loader, so that messages and positions are always its own."""
    if _CParser is not None and text.isascii():
        try:
            fast = _FastLoader(text)
            try:
                return fast.get_single_node()
            finally:
                fast.dispose()
        except Exception:  # noqa: BLE001 - re-read below for the canonical problem
            pass
    loader = _Loader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def _show_tag(tag: str) -> str:
    return "!!" + tag[len(_STD) :] if tag.startswith(_STD) else tag


class _Builder:
    """Builds plain data from a node tree, indexing every node by its path."""

    def __init__(self, file: str, apart: Callable[[YamlPath], int | None] | None = None):
        self.file = file
        self.problems: list[Problem] = []
        # `apart(path)`: for a mapping at `path` inside a part whose problems are kept apart,
        # how many steps lead to that part (None elsewhere); its problems, by the part's path
        self.apart = apart
        self.kept_apart: dict[YamlPath, Problem] = {}
        self.at: YamlPath = ()  # the JSON path of the node being built
        self.nodes: dict[YamlPath, tuple[Node | None, Node]] = {}
        self.json_nodes: dict[YamlPath, tuple[Node | None, Node]] = {}
        self.active: set[int] = set()
        self.constructor = yaml.constructor.SafeConstructor()

    def problem(self, code: Code, node: Node, message: str, hint: str) -> None:
        start, end = node.start_mark, node.end_mark or node.start_mark
        found = problem(
            code,
            self.file,
            start.line + 1,
            start.column + 1,
            message,
            hint,
            (end.line + 1, end.column + 1),
        )
        steps = self.apart(self.at) if self.apart is not None else None
        if steps is not None:  # inside a part kept apart: the first problem there, for it
            self.kept_apart.setdefault(self.at[:steps], found)
        else:
            self.problems.append(found)

    def build(self, node: Node, path: YamlPath, jpath: YamlPath, key: Node | None) -> Any:
        outer, self.at = self.at, jpath
        try:
            return self._build(node, path, jpath, key)
        finally:
            self.at = outer

    def _build(self, node: Node, path: YamlPath, jpath: YamlPath, key: Node | None) -> Any:
        self.nodes.setdefault(path, (key, node))
        self.json_nodes.setdefault(jpath, (key, node))
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        if id(node) in self.active:
            self.problem(
                "E-YAML-ALIAS",
                node,
                "an alias refers to a value that contains it",
                "an alias may only refer to a value defined outside it",
            )
            return None
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                if node.tag != _SEQ:
                    self.bad_tag(node, "a list")
                return [
                    self.build(child, path + (i,), jpath + (i,), None)
                    for i, child in enumerate(node.value)
                ]
            if isinstance(node, MappingNode):
                if node.tag != _MAP:
                    self.bad_tag(node, "a mapping")
                return self.mapping(node, path, jpath)
            return None
        finally:
            self.active.discard(id(node))

    def bad_tag(self, node: Node, kind: str) -> None:
        tag = _show_tag(node.tag)
        if node.tag in _SCALAR_TAGS | {_SEQ, _MAP}:
            message = f"tag `{tag}` cannot be used on {kind}"
        else:
            message = f"tag `{tag}` is not allowed"
        self.problem(
            "E-YAML-TAG",
            node,
            message,
            "remove the tag: only plain values, lists and mappings are read",
        )

    def scalar(self, node: ScalarNode) -> Any:
        tag, text = node.tag, node.value
        if tag not in _SCALAR_TAGS:
            self.bad_tag(node, "a value")
            return text
        try:
            if tag == _STR:
                return text
            if tag == _NULL:
                return None
            if tag == _BOOL:
                return self.constructor.construct_yaml_bool(node)
            if tag == _INT:
                return self.constructor.construct_yaml_int(node)
            if tag == _FLOAT:
                return _decimal(self.constructor, node)
            return self.constructor.construct_yaml_timestamp(node)
        except (ValueError, KeyError, AttributeError, InvalidOperation):
            kinds = {
                _BOOL: "true or false",
                _INT: "an integer",
                _FLOAT: "a number",
                _TIMESTAMP: "a valid date",
            }
            hint = "quote the value to keep it as text"
            if tag == _TIMESTAMP:
                hint = "check the year, month and day, or " + hint
            self.problem("E-YAML", node, f"`{text}` is not {kinds.get(tag, 'valid')}", hint)
            return text

    def mapping(self, node: MappingNode, path: YamlPath, jpath: YamlPath) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        first: dict[Any, Node] = {}
        for key_node, value_node, merged in self.entries(node):
            if not isinstance(key_node, ScalarNode):
                self.problem(
                    "E-YAML",
                    key_node,
                    "a mapping key must be a single value, not a list or mapping",
                    "use a plain text key",
                )
                continue
            key = self.scalar(key_node)
            if not isinstance(key, Hashable):
                continue
            if key in first:
                if not merged:
                    self.problem(
                        "E-YAML-DUPKEY",
                        key_node,
                        f"duplicate key `{json_key(key)}`",
                        f"`{json_key(key)}` is first defined on line "
                        f"{first[key].start_mark.line + 1}; remove or rename one of them",
                    )
                continue
            first[key] = key_node
            result[key] = self.build(value_node, path + (key,), jpath + (json_key(key),), key_node)
        return result

    def entries(self, node: MappingNode) -> Iterator[tuple[Node, Node, bool]]:
        """The mapping's own entries, then those merged in with `<<` (own keys win)."""
        merges: list[tuple[Node, Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merges.append((key_node, value_node))
            else:
                yield key_node, value_node, False
        for merge_key, value_node in merges:
            sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
            for source in sources:
                if not isinstance(source, MappingNode) or id(source) in self.active:
                    self.problem(
                        "E-YAML",
                        merge_key,
                        "`<<` must be followed by a mapping or a list of mappings",
                        "merge an alias of a mapping, e.g. `<<: *defaults`",
                    )
                    continue
                self.active.add(id(source))
                try:
                    for key_node, item, _ in self.entries(source):
                        yield key_node, item, True
                finally:
                    self.active.discard(id(source))


def _decimal(constructor: yaml.constructor.SafeConstructor, node: ScalarNode) -> Decimal:
    text = node.value.replace("_", "").lower()
    special = {".inf": "Infinity", "+.inf": "Infinity", "-.inf": "-Infinity", ".nan": "NaN"}
    if text in special:
        return Decimal(special[text])
    if ":" in text:
        return Decimal(str(constructor.construct_yaml_float(node)))
    return Decimal(text)


def _readable(text: str) -> str:
    replacements = {
        "'<block end>'": "the end of an indented block",
        "<block end>": "the end of an indented block",
        "'<block mapping start>'": "a new mapping",
        "'<block sequence start>'": "a new list",
        "'<block collection start>'": "a new block",
        "'<scalar>'": "a value",
        "<scalar>": "a value",
        "'<document start>'": "`---`",
        "'<stream end>'": "the end of the file",
        "'<flow mapping end>'": "`}`",
        "'<flow sequence end>'": "`]`",
        "'<block mapping end>'": "the end of the mapping",
        "'<alias>'": "an alias",
        "'<anchor>'": "an anchor",
        "'<tag>'": "a tag",
        "'<key>'": "a key",
        "'<value>'": "`:`",
    }
    for old, new in replacements.items():
        text = text.replace(old, new)
    out = []
    quote = False
    for ch in text:
        if ch == "'":
            out.append("`")
            quote = not quote
        else:
            out.append(ch)
    return "".join(out).replace("\\t", "tab").strip()


_HINTS = [
    ("'\\t'", "indent with spaces, not tabs"),
    ("cannot start any token", "quote the value"),
    (
        "mapping values are not allowed",
        "quote a value that contains `: `, or check the indentation",
    ),
    ("could not find expected ':'", "check the indentation, and that each key ends with `: `"),
    ("expected <block end>", "check the indentation of this line against the lines above"),
    ("found unexpected end of stream", "close the quoted string"),
    ("found undefined alias", "define the anchor with `&name` before using `*name`"),
    ("found duplicate anchor", "give each anchor `&name` a different name"),
    ("expected a single document", "keep one document per file: remove the extra `---`"),
    ("found character", "quote the value"),
]


def _misindented(mark: yaml.Mark) -> str | None:
    """Where `key: value` is refused as a mapping value on a line that holds only that (no
    second `: ` to quote), the line above it is indented differently, and the hint says so
    with both indents: the mistake is on the line above, which the position does not show."""
    buffer = getattr(mark, "buffer", None)
    if not isinstance(buffer, str):
        return None
    lines = buffer.split("\n")
    if mark.line >= len(lines) or mark.line == 0:
        return None
    here = lines[mark.line]
    key, sep, value = here.strip().partition(": ")
    unquoted_colon = ": " in value and not value.startswith(("'", '"'))
    if not sep or unquoted_colon or not key.replace("_", "").replace("-", "").isalnum():
        return None
    above = next(
        (
            (n, s)
            for n, s in reversed(list(enumerate(lines[: mark.line])))
            if s.strip() and not s.lstrip().startswith("#")
        ),
        None,
    )
    if above is None:
        return None
    indent = len(here) - len(here.lstrip(" "))
    above_indent = len(above[1]) - len(above[1].lstrip(" "))
    if indent <= above_indent:
        return None
    spaces = "space" if indent == 1 else "spaces"
    return (
        f"line {mark.line + 1} is indented {indent} {spaces}, line {above[0] + 1} "
        f"{above_indent}: keys of one mapping start in the same column"
    )


def _syntax_problem(error: yaml.MarkedYAMLError, file: str) -> Problem:
    what = error.problem or error.context or "invalid YAML"
    mark = error.problem_mark or error.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    message = _readable(what)
    if error.context and error.problem:
        if error.problem.startswith("but "):
            message = f"{_readable(error.context)}, {message}"
        else:
            message = f"{message} ({_readable(error.context)})"
    message = message.replace(" (while scanning for the next token)", "")
    message = message.replace(
        "found character `tab` that cannot start any token", "found a tab where YAML expects spaces"
    )
    message = re.sub(
        r"found character (`.+`) that cannot start any token", r"\1 cannot start a value", message
    )
    hint = "check the YAML syntax at this position"
    for needle, text in _HINTS:
        if needle in f"{error.context} {what}":
            hint = text
            break
    if "mapping values are not allowed" in what and mark is not None:
        hint = _misindented(mark) or hint
    if error.context_mark is not None and error.problem_mark is not None:
        if error.context_mark.line != error.problem_mark.line:
            hint += f" (it started on line {error.context_mark.line + 1})"
    code: Code = "E-YAML-ALIAS" if "undefined alias" in what else "E-YAML"
    return problem(code, file, line, col, message, hint)


def read_yaml(text: str, file: str) -> Document:
    """Read one YAML document safely; raise `PackError` for bad YAML."""
    return read_yaml_apart(text, file, None)[0]


def read_yaml_apart(
    text: str, file: str, apart: Callable[[YamlPath], int | None] | None
) -> tuple[Document, dict[YamlPath, Problem]]:
    """`read_yaml`, with a key given twice in a mapping inside a part `apart` names (see
    `_Builder`) kept apart from the problems that refuse the document: returned by the path of
    that part, for the caller to say what it means there."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.startswith("\ufeff"):
        text = text[1:]
    starts = _line_starts(text)
    root = _compose_fast(text)
    if root is not None:
        return _document(root, text, file, starts, apart)
    try:
        root = _compose(text)
    except _Stop as stop:
        line, col = stop.mark.line + 1, stop.mark.column + 1
        raise PackError([problem(stop.code, file, line, col, stop.message, stop.hint)]) from None
    except yaml.reader.ReaderError as error:
        line = bisect.bisect_right(starts, error.position)
        col = error.position - starts[line - 1] + 1
        char = error.character
        code_point = char if isinstance(char, int) else ord(char[0]) if char else 0
        message = f"special character `#x{code_point:04x}` is not allowed in YAML"
        hint = "remove the character, or write it as an escape in a double-quoted string"
        raise PackError([problem("E-YAML", file, line, col, message, hint)]) from None
    except yaml.MarkedYAMLError as error:
        raise PackError([_syntax_problem(error, file)]) from None
    except yaml.YAMLError as error:
        raise PackError(
            [file_problem("E-YAML", file, _readable(str(error)), "check the YAML syntax")]
        ) from None
    except RecursionError:
        raise PackError([_too_deep(file)]) from None
    return _document(root, text, file, starts, apart)


def _document(
    root: Node | None,
    text: str,
    file: str,
    starts: list[int],
    apart: Callable[[YamlPath], int | None] | None = None,
) -> tuple[Document, dict[YamlPath, Problem]]:
    """Plain data and positions from a composed node tree, with the problems kept apart;
    raise `PackError` for bad values."""
    builder = _Builder(file, apart)
    try:
        data = builder.build(root, (), (), None) if root is not None else None
    except RecursionError:
        raise PackError([_too_deep(file)]) from None
    if builder.problems:
        raise PackError(builder.problems)
    doc = Document(data, file, text, builder.nodes, builder.json_nodes, starts)
    return doc, builder.kept_apart


_FAST_NESTING = 5_000
"""Most nesting the C composer is given: well within its (unchecked) C stack."""


def _compose_fast(text: str) -> Node | None:
    """The node tree from libyaml's composer, when it is sure to equal the Python composer's:
    it keeps the same marks (line, column, index) for every node, but words no errors, so a
    document with an error, deep nesting or aliases beyond `_Loader`'s bounds returns None
    and is read the slow way, which words the problem. About ten times faster on packs."""
    loader_class = getattr(yaml, "CSafeLoader", None)
    if loader_class is None or not text.strip():
        return None
    longest = max((len(line) for line in text.split("\n")), default=0)
    if text.count("[") + text.count("{") + longest > _FAST_NESTING:
        return None
    try:
        loader = loader_class(text)
        try:
            root: Node | None = loader.get_single_node()
        finally:
            loader.dispose()
    except Exception:  # noqa: BLE001 - any failure is worded by the slow reader
        return None
    if root is None or not _aliases_allowed(root):
        return None
    return root


def _aliases_allowed(root: Node) -> bool:
    """Whether the tree's aliases are within what `_Loader` allows: none refers to a value
    containing it, at most ALIAS_LIMIT of them, expanding to at most ALIAS_NODE_LIMIT nodes.
    A node met again is an alias (`*name`); its contents were walked where it was anchored."""
    seen: set[int] = set()
    open_nodes: set[int] = set()
    sizes: dict[int, int] = {}
    aliases = expanded = 0

    def size(node: Node) -> int:
        known = sizes.get(id(node))
        if known is None:
            known = 1
            if isinstance(node, SequenceNode):
                known += sum(size(child) for child in node.value)
            elif isinstance(node, MappingNode):
                known += sum(size(k) + size(v) for k, v in node.value)
            sizes[id(node)] = known
        return known

    def walk(node: Node) -> bool:
        nonlocal aliases, expanded
        key = id(node)
        if key in open_nodes:
            return False  # an alias inside the value it refers to
        if key in seen:
            aliases += 1
            expanded += size(node)
            return aliases <= ALIAS_LIMIT and expanded <= ALIAS_NODE_LIMIT
        seen.add(key)
        if isinstance(node, SequenceNode):
            children: list[Node] = list(node.value)
        elif isinstance(node, MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            return True
        open_nodes.add(key)
        ok = all(walk(child) for child in children)
        open_nodes.discard(key)
        return ok

    try:
        return walk(root)
    except RecursionError:
        return False


def _too_deep(file: str) -> Problem:
    return file_problem(
        "E-YAML",
        file,
        "the document is nested too deeply",
        "flatten the structure: a few levels of nesting are enough",
    )


# Positions inside scalars ---------------------------------------------------------------


def _units(text: str, start: int, end: int, style: str | None) -> list[tuple[int, int, str]]:
    """The characters the source between `start` and `end` stands for: (pos, length, char)."""
    units: list[tuple[int, int, str]] = []
    p = start
    while p < end:
        ch = text[p]
        if style == "'" and ch == "'" and text[p + 1 : p + 2] == "'":
            units.append((p, 2, "'"))
            p += 2
        elif style == '"' and ch == "\\" and p + 1 < end:
            nxt = text[p + 1]
            if nxt in _BREAKS:
                p += 2
                while p < end and text[p] in " \t":
                    p += 1
            elif nxt in _ESCAPE_CODES:
                size = 2 + _ESCAPE_CODES[nxt]
                try:
                    char = chr(int(text[p + 2 : p + size], 16))
                except ValueError:
                    char = "?"
                units.append((p, size, char))
                p += size
            else:
                units.append((p, 2, _ESCAPES.get(nxt, nxt)))
                p += 2
        else:
            units.append((p, 1, ch))
            p += 1
    return units


def _positions(text: str, node: ScalarNode) -> list[int]:
    """For each character of the scalar's value (and its end), an index into `text`."""
    start = node.start_mark.index
    end = node.end_mark.index if node.end_mark is not None else len(text)
    style = node.style
    while start < end and text[start] in "&!":
        while start < end and text[start] not in " \t\n":
            start += 1
        while start < end and text[start] in " \t\n":
            start += 1
    if style in ("'", '"'):
        start += 1
        end = max(start, end - 1)
    elif style in ("|", ">"):
        while start < end and text[start] != "\n":
            start += 1
        start += 1
    units = _units(text, start, min(end, len(text)), style)
    value: str = node.value
    positions: list[int] = []
    i = k = 0
    while i < len(value):
        ch = value[i]
        if k >= len(units):
            positions.append(units[-1][0] + units[-1][1] if units else start)
            i += 1
        elif ch.isspace():
            j = i
            while j < len(value) and value[j].isspace():
                j += 1
            m = k
            while m < len(units) and units[m][2].isspace():
                m += 1
            if m == k:
                positions.append(units[k][0])
                i += 1
                continue
            for offset in range(j - i):
                positions.append(units[min(k + offset, m - 1)][0])
            i, k = j, m
        elif units[k][2] == ch:
            positions.append(units[k][0])
            i += 1
            k += 1
        elif units[k][2].isspace():
            k += 1
        else:
            positions.append(units[k][0])
            i += 1
            k += 1
    if k > 0:
        positions.append(units[k - 1][0] + units[k - 1][1])
    else:
        positions.append(units[0][0] if units else start)
    return positions
