"""libyaml's composer, used where it is sure to agree, gives the Python composer's tree: the
same tags, values and marks (line, column, index) for every node of every YAML file here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from engine.packs.read_yaml import _compose_fast, _Loader, read_yaml

ROOT = Path(__file__).resolve().parents[2]


def _flat(node: Node, out: list[Any], seen: set[int]) -> list[Any]:
    """Every node in document order with its tag, value, style and marks."""
    s, e = node.start_mark, node.end_mark
    style = getattr(node, "style", None) or None
    value = node.value if isinstance(node, ScalarNode) else None
    out.append(
        (type(node).__name__, node.tag, s.line, s.column, s.index, e.line, e.column, e.index)
    )
    out.append((style, value, id(node) in seen))
    seen.add(id(node))
    if isinstance(node, SequenceNode):
        for child in node.value:
            _flat(child, out, seen)
    elif isinstance(node, MappingNode):
        for key, item in node.value:
            _flat(key, out, seen)
            _flat(item, out, seen)
    return out


def _files() -> list[Path]:
    found = []
    for folder in ("policies", "examples", "tests/corpus"):
        for path in sorted((ROOT / folder).rglob("*.yaml")):
            try:
                path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            found.append(path)
    return found


@pytest.mark.skipif(not getattr(yaml, "__with_libyaml__", False), reason="PyYAML without libyaml")
def test_the_fast_composer_agrees_node_for_node() -> None:
    used = 0
    for path in _files():
        text = path.read_text(encoding="utf-8")
        fast = _compose_fast(text)
        if fast is None:
            continue
        used += 1
        loader = _Loader(text)
        try:
            slow = loader.get_single_node()
        finally:
            loader.dispose()
        assert _flat(fast, [], set()) == _flat(slow, [], set()), path
    assert used >= 50  # the packs and nearly every corpus file take the fast path


def test_an_alias_inside_its_own_value_is_read_the_slow_way() -> None:
    text = "a: &x\n  b: *x\n"
    assert _compose_fast(text) is None
    with pytest.raises(Exception, match="contains it"):
        read_yaml(text, "f.yaml")
