"""Whole built packs in the disk cache: a pack whose content, facts schema and imported packs are
unchanged is read back compiled instead of being taken through the stages again.

A built pack holds what plain pickling cannot keep: read-only mapping views, the functions the
code generator made (closures over their constants) and checked expressions whose node facts
are keyed by the identity of each syntax node. `dumps` keeps each as the means to make it again
(the view's dict; the function's code, name and constants; each node beside its facts), and
unpickling makes them anew. Anything else that cannot be pickled makes `dumps` fail, and the pack
is simply not cached.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import marshal
import pickle
from collections.abc import Mapping
from pathlib import Path
from types import CellType, CodeType, FunctionType, MappingProxyType
from typing import Any

from engine import disk_cache
from engine.language import codegen
from engine.language import runtime as R
from engine.language import syntax as A
from engine.language.check import Checked, NodeInfo
from engine.packs import model as M
from engine.packs.facts_schema import resolve_facts_schema
from engine.problems import Problem

KIND = "pack"

_SHARED_GLOBALS: dict[str, Any] | None = None


def _globals() -> dict[str, Any]:
    """The globals of generated functions (read-only to them, so one copy serves all)."""
    global _SHARED_GLOBALS  # noqa: PLW0603 - made once, on first use
    if _SHARED_GLOBALS is None:
        _SHARED_GLOBALS = dict(codegen._GLOBALS)
    return _SHARED_GLOBALS


def _code(raw: bytes) -> CodeType:
    """Code from its marshalled bytes (code objects do not pickle)."""
    code: CodeType = marshal.loads(raw)  # noqa: S302 - our own entries, digest checked
    return code


def _function(code: CodeType, name: str, defaults: Any, cells: tuple[Any, ...]) -> FunctionType:
    """A generated function made again: its code, closed over its constants."""
    closure = tuple(CellType(value) for value in cells) or None
    return FunctionType(code, _globals(), name, defaults, closure)


def _checked(fields: dict[str, Any], facts: list[tuple[A.Node, NodeInfo]]) -> Checked:
    """A checked expression made again, its node facts keyed by the new nodes' identities."""
    return Checked(**fields, info={id(node): info for node, info in facts})


def _nodes(root: A.Node) -> dict[int, A.Node]:
    """Every syntax node under `root`, by identity."""
    found: dict[int, A.Node] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) not in found:
            found[id(node)] = node
            stack.extend(A.children(node))
    return found


def _view(mapping: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    """A read-only view made again over its dict."""
    return MappingProxyType(mapping)


def _pack(fields: dict[str, Any]) -> M.Pack:
    """A built pack made again from its fields (plain pickling of a pack is refused: see
    `Pack.__reduce_ex__`)."""
    pack = object.__new__(M.Pack)
    pack.__dict__.update(fields)
    return pack


_FIELDS: dict[type, tuple[str, ...] | None] = {}


def _slotted_fields(cls: type) -> tuple[str, ...] | None:
    """The fields of a dataclass with slots that its constructor takes, all of them, in order
    (None for any other class): pickle makes such an object again by calling the class, far
    faster than the dataclass's own `__setstate__`, which looks its fields up each time."""
    if cls not in _FIELDS:
        names: tuple[str, ...] | None = None
        if dataclasses.is_dataclass(cls) and "__slots__" in vars(cls):
            found = dataclasses.fields(cls)
            if all(f.init for f in found) and not hasattr(cls, "__post_init__"):
                names = tuple(f.name for f in found)
        _FIELDS[cls] = names
    return _FIELDS[cls]


class _Pickler(pickle.Pickler):
    """Pickles a built pack: each part plain pickling cannot keep, as the means to remake it."""

    def reducer_override(self, obj: Any) -> Any:
        names = _slotted_fields(type(obj))
        if names is not None:
            return type(obj), tuple(getattr(obj, name) for name in names)
        if obj.__class__ is M.Pack:
            return _pack, (dict(vars(obj)),)
        if isinstance(obj, MappingProxyType):
            return _view, (dict(obj),)
        if isinstance(obj, CodeType):
            return _code, (marshal.dumps(obj),)
        if isinstance(obj, FunctionType) and obj.__globals__.get("_U") is R.Unknown:
            if obj.__kwdefaults__:
                raise TypeError("a generated function with keyword defaults")
            cells = tuple(c.cell_contents for c in obj.__closure__ or ())
            return _function, (obj.__code__, obj.__name__, obj.__defaults__, cells)
        if isinstance(obj, Checked):
            nodes = _nodes(obj.node)
            if not obj.info.keys() <= nodes.keys():
                raise TypeError("facts about a node outside the checked expression")
            fields = {k: v for k, v in vars(obj).items() if k != "info"}
            return _checked, (fields, [(nodes[i], info) for i, info in obj.info.items()])
        return NotImplemented


def dumps(value: Any) -> bytes:
    """`value` pickled, generated functions and checked expressions included."""
    out = io.BytesIO()
    _Pickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return out.getvalue()


def _facts_signature(data: Mapping[str, Any], file: str) -> str | None:
    """What the pack's facts schema is, by content when it is a file of the pack's own (the
    engine's schemas are in every key already); None when it cannot be resolved (the stages
    report that)."""
    try:
        name = resolve_facts_schema(data.get("facts"), file)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not name.endswith(".json"):
        return name
    try:
        return name + ":" + hashlib.sha256(Path(name).read_bytes()).hexdigest()
    except OSError:
        return None


def entry(file: str, content: bytes, data: Any, imported: Mapping[str, M.Pack]) -> str | None:
    """The key of a pack built from `content` (shown as `file`): its content, its facts schema,
    the packs it names under `imports` (each by its own key, so transitively) and the engine,
    and nothing else loaded beside it; None when it cannot be cached."""
    if not isinstance(data, Mapping):
        return None
    facts = _facts_signature(data, file)
    if facts is None:
        return None
    named = data.get("imports") or []
    if not isinstance(named, list):
        return None
    parts = []
    for pid in named:
        pack = imported.get(str(pid))
        if pack is None or pack.build_key is None or pack.local_plan is not None:
            return None  # an import missing (an error, never kept) or not keyed by content
        parts.append(f"{pid}\0{pack.build_key}")
    return disk_cache.key(KIND, file, content, facts, *parts)


def load(key: str) -> tuple[M.Pack, list[Problem]] | None:
    """The pack and its problems (warnings) kept under `key`, if any."""
    found = disk_cache.load(KIND, key)
    if (
        isinstance(found, tuple)
        and len(found) == 2
        and isinstance(found[0], M.Pack)
        and isinstance(found[1], list)
        and all(isinstance(p, Problem) for p in found[1])
    ):
        return found[0], found[1]
    return None


def store(key: str, pack: M.Pack, problems: list[Problem]) -> None:
    """Keep a freshly built pack and its problems under `key` (skipped if it cannot be)."""
    disk_cache.store(KIND, key, (pack, list(problems)), dumps=dumps)


PLAN_KIND = "plan"


def plan_entry(file: str, content: bytes, national: M.Pack, national_content: bytes) -> str | None:
    """The key of a local plan (`content`, shown as `file`) merged into its national pack: the
    plan and the national pack's own key (its content, facts schema and imports) and content,
    not the other packs loaded beside it; None when it cannot be cached."""
    if national.local_plan is not None or national.build_key is None:
        return None
    return disk_cache.key(PLAN_KIND, file, content, national.build_key, national_content)


def load_plan(key: str) -> tuple[M.Pack | None, tuple[Problem, ...]] | None:
    """The merged pack (None when the plan has errors) and the problems kept under `key`."""
    found = disk_cache.load(PLAN_KIND, key)
    if (
        isinstance(found, tuple)
        and len(found) == 2
        and (found[0] is None or isinstance(found[0], M.Pack))
        and isinstance(found[1], tuple)
        and all(isinstance(p, Problem) for p in found[1])
    ):
        return found[0], found[1]
    return None


def store_plan(key: str, merged: tuple[M.Pack | None, tuple[Problem, ...]]) -> None:
    """Keep a plan's merged pack and problems under `key` (skipped if they cannot be)."""
    disk_cache.store(PLAN_KIND, key, merged, dumps=dumps)
