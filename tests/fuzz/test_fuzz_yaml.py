"""Fuzzing the YAML reader and the whole pack pipeline: generated YAML (anchors, aliases, tags,
flow and block styles, duplicate keys, odd scalars) and mutated copies of a real pack go through
reading, schema validation, building, checking and compiling; every input gives a pack or
problems with codes and positions, never another exception."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.api import check_paths
from engine.packs.read_yaml import read_yaml
from engine.problems import PackError

from .harness import SETTINGS, Timer, corpus

ROOT = Path(__file__).resolve().parents[2]
SEED_PACK = (ROOT / "tests" / "data" / "ntk" / "pack.yaml").read_text(encoding="utf-8")

SCALARS = st.sampled_from(
    [
        "1",
        "-0",
        "0x1F",
        "1e400",
        ".nan",
        ".inf",
        "-.inf",
        "~",
        "null",
        "yes",
        "no",
        "on",
        "2020-01-01",
        "2020-02-30",
        "9999-12-31",
        "10000-01-01",
        "12:30",
        "'quoted'",
        '"esc \\u0000 \\x00"',
        "!!binary aGVsbG8=",
        "!!python/object:os.system x",
        "!!set {a}",
        "!!timestamp 2001-12-14t21:59:43.10-05:00",
        "&a x",
        "*a",
        "*missing",
        "|\n  block",
        ">-\n  folded",
        "'" + "x" * 300 + "'",
        "9" * 5000,
        "[",
        "{",
        "]",
        "? complex",
        "- item",
    ]
)
KEYS = st.sampled_from(["id", "title", "versions", "rules", "a", "a", "<<", "? k", "1", "true"])


def yaml_node(depth: int) -> st.SearchStrategy[str]:
    if depth <= 0:
        return SCALARS
    inner = yaml_node(depth - 1)
    return st.one_of(
        SCALARS,
        st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.lists(st.tuples(KEYS, inner), max_size=3).map(
            lambda kvs: "{" + ", ".join(f"{k}: {v}" for k, v in kvs) + "}"
        ),
        st.lists(st.tuples(KEYS, inner), min_size=1, max_size=3).map(
            lambda kvs: "\n".join(f"{k}:\n  " + v.replace("\n", "\n  ") for k, v in kvs)
        ),
        st.lists(inner, min_size=1, max_size=3).map(
            lambda xs: "\n".join("- " + x.replace("\n", "\n  ") for x in xs)
        ),
        inner.map(lambda x: "&r " + x),
    )


documents = st.one_of(
    yaml_node(3),
    st.text(max_size=200),
    st.lists(yaml_node(2), max_size=4).map(lambda xs: "\n".join(xs)),
    # an alias bomb: each level refers to the previous one many times
    st.integers(1, 12).map(
        lambda n: (
            "a0: &a0 [x, x]\n"
            + "\n".join(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, n))
        )
    ),
)


@SETTINGS
@given(text=documents)
def test_reading_yaml_is_total(text: str) -> None:
    with Timer("yaml"):
        try:
            read_yaml(text, "fuzz.yaml")
        except PackError as e:
            assert e.problems and all(p.code.startswith("E-") for p in e.problems)


def _mutate(text: str, edits: list[tuple[int, int, str]]) -> str:
    lines = text.splitlines()
    for kind, at, insert in edits:
        if not lines:
            break
        i = at % len(lines)
        if kind == 0:
            del lines[i]
        elif kind == 1:
            lines.insert(i, lines[(at * 7) % len(lines)])
        elif kind == 2:
            lines[i] = lines[i] + insert
        else:
            head, sep, _ = lines[i].partition(": ")
            lines[i] = head + (sep or ": ") + insert
    return "\n".join(lines) + "\n"


INSERTS = st.one_of(
    SCALARS,
    st.sampled_from(
        [
            "prisoner.clinical.conditions",
            "age(prisoner.date_of_birth) >= 12",
            "x +",
            "1 / 0",
            "as_of + 99999999999 days",
            "latest([])",
            "'[1, 2'",
            "unknown_name",
            "\t",
            " #",
            "count(c in prisoner.clinical.conditions: c == 1)",
            "in_alpha and",
            "true",
        ]
    ),
)


@SETTINGS
@given(edits=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 500), INSERTS), max_size=4))
def test_checking_a_mutated_pack_is_total(
    edits: list[tuple[int, int, str]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "pack.yaml"
    path.write_text(_mutate(SEED_PACK, edits), encoding="utf-8")
    with Timer("pack"):
        packs, problems = check_paths([path])
    assert packs or any(p.is_error for p in problems)
    for p in problems:
        assert p.code.startswith(("E-", "W-")) and p.line >= 1 and p.col >= 1


@pytest.mark.parametrize("case", corpus("yaml"), ids=lambda c: c[0].stem)
def test_saved_yaml_inputs_give_their_expected_error(case: tuple[Path, str, str]) -> None:
    _, expect, text = case
    try:
        read_yaml(text, "corpus.yaml")
        got = "ok"
    except PackError as e:
        got = e.problems[0].code
    assert got == expect
