"""README's library example runs as written from the repository root, and says true things
about what it returns."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_readme_library_example_runs_and_its_comments_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"^```python\n(.*?)^```", readme, re.M | re.S)
    assert block is not None
    monkeypatch.chdir(ROOT)
    names: dict[str, Any] = {}
    exec(compile(block.group(1), "README.md", "exec"), names)  # noqa: S102 - our own README
    decision = names["decision"]
    assert decision.outputs["session_frequency"] == {"count": 1, "per": "week"}
    assert decision.obligations and all(o.cites for o in decision.obligations)
    schema = json.loads((ROOT / "schemas" / "decision.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(decision.to_dict(), schema)
    many = list(
        names["packs"].evaluate_many("keywork_edm", [names["facts"]] * 2, as_of=decision.as_of)
    )
    assert [d.to_dict() for d in many] == [decision.to_dict()] * 2
    assert [t["id"] for t in names["packs"]["omu_edm"].plan(stage=3)][:2] == ["1.1", "1.2"]
