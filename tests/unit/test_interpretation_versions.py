"""An interpretation limited to some versions (`versions:`) is relied upon only by decisions of
those versions, though the item naming it is evaluated in every version; the pack page and
the version diff show the limit."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import engine
from engine.tools.pack_diff import diff_packs

PACK = """\
id: scoped
title: A pack with two versions
version: 0.1.0
status: draft
source: {title: Test}
versions:
  - {id: "1", effective_from: 2020-01-01, effective_to: 2020-12-31}
  - {id: "2", effective_from: 2021-01-01, effective_to: null}
outputs:
  triggered:
    value: version == "2" and prisoner.cev
    interpretations: [I-ALL, I-TWO]
interpretations:
  - id: I-ALL
    kind: gap
    question: Read in both versions?
    choice: Yes.
    why: It is about both.
  - id: I-TWO
    kind: gap
    versions: ["2"]
    question: What does the trigger of version 2 mean?
    choice: This.
    why: Only version 2 has the trigger.
"""


def _load(tmp_path: Path) -> engine.Packs:
    (tmp_path / "scoped.yaml").write_text(PACK, encoding="utf-8")
    return engine.load(tmp_path)


def _relied(packs: engine.Packs, on: dt.date) -> list[str]:
    decision = packs.evaluate("scoped", {"prisoner": {"cev": True}}, as_of=on)
    return [i.id for i in decision.interpretations]


def test_a_version_limited_reading_is_listed_only_in_its_versions(tmp_path: Path) -> None:
    packs = _load(tmp_path)
    assert _relied(packs, dt.date(2020, 6, 1)) == ["I-ALL"]
    assert _relied(packs, dt.date(2021, 6, 1)) == ["I-ALL", "I-TWO"]
    # and in the JSON, as it is in the model
    decision = packs.evaluate("scoped", {"prisoner": {"cev": True}}, as_of=dt.date(2020, 6, 1))
    assert [i["id"] for i in decision.to_dict()["interpretations"]] == ["I-ALL"]


def test_the_limit_is_in_the_model_and_the_version_diff(tmp_path: Path) -> None:
    pack = _load(tmp_path)["scoped"]
    assert pack.interpretations["I-TWO"].versions == ("2",)
    assert pack.interpretations["I-ALL"].versions == ()
    unscoped = PACK.replace('    versions: ["2"]\n', "")
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "scoped.yaml").write_text(unscoped, encoding="utf-8")
    before = engine.load(tmp_path / "old")["scoped"]
    (change,) = diff_packs(before, pack).changes
    assert (change.section, change.kind, change.id) == ("interpretations", "changed", "I-TWO")
    assert change.fields == {"versions": (None, "2")}


def test_the_pack_page_shows_the_versions_a_reading_bears_on(tmp_path: Path) -> None:
    from engine.tools.docs_site import pack_page, to_markdown

    md = to_markdown(pack_page(_load(tmp_path)["scoped"]))
    two = md[md.index("### `I-TWO`") :]
    assert "- **Versions**: 2" in two.split("\n### ")[0]
    one = md[md.index("### `I-ALL`") : md.index("### `I-TWO`")]
    assert "**Versions**" not in one
