"""The compiled facts check decides a date field as the full validator does, whether the day is
given as YYYY-MM-DD text (checked by `date.fromisoformat` and the place of its second `-`,
not by a pattern) or as a date (facts read from YAML), and converts it to the same day."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.packs.facts_schema import _prepare_fast, read_facts_file, validate_facts

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = read_facts_file(ROOT / "examples" / "prisoners" / "a2041kw_open_acct.yaml")

# texts near the YYYY-MM-DD form: the other forms `fromisoformat` reads (20200101, 2020-W01-1,
# 20200101ab), days past a month's end, digits of other scripts, spaces and signs
NEAR = ["2020-02-29", "2021-02-29", "2020-12-31", "20200101", "20200101ab", "2020-W01-1"]
NEAR += ["2020-13-01", "0000-01-01", "9999-12-31", "２０２０-01-01", "٢٠٢٠-01-01", " 2020-01-01"]
NEAR += ["2020-01-01 ", "2020-1-01", "+020-01-01", "2020-01-01T00", "2020/01/01", ""]


def _with_release(value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(EXAMPLE)
    doc["prisoner"]["release_date"] = value
    return doc


def _agrees(value: Any) -> None:
    """The check passes the document exactly when the validator finds no problem, with the
    day the text names."""
    doc = _with_release(value)
    fast = _prepare_fast(copy.deepcopy(doc), "facts")
    valid = not validate_facts(doc)
    assert (fast is not None) == valid, value
    if fast is not None:
        want = dt.date.fromisoformat(value) if isinstance(value, str) else value
        assert fast["prisoner"]["release_date"] == want


def test_texts_near_the_form() -> None:
    for text in NEAR:
        _agrees(text)


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.text(alphabet="0123456789-W T:+./Z٣２", min_size=0, max_size=12),
        st.dates().map(dt.date.isoformat),
        st.tuples(st.dates().map(dt.date.isoformat), st.integers(0, 9), st.characters()).map(
            lambda t: t[0][: t[1]] + t[2] + t[0][t[1] + 1 :]
        ),
    )
)
def test_any_text(text: str) -> None:
    _agrees(text)


@settings(max_examples=100, deadline=None)
@given(st.dates(min_value=dt.date(1, 1, 2)))  # (0001-01-01 is reserved: a recorded none in SQL)
def test_a_date_given_as_a_date_is_kept(day: dt.date) -> None:
    doc = _with_release(day)
    fast = _prepare_fast(doc, "facts")
    assert fast is not None and not validate_facts(doc)
    assert fast["prisoner"]["release_date"] is day
    assert fast["prisoner"] is not doc["prisoner"]  # the record is the decision's own copy
