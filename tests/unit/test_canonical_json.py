"""Our fast canonical JSON is byte-identical to the RFC 8785 reference on every value an
event may hold, and refuses the floats on which the two would differ."""

from __future__ import annotations

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.envelope import canonical_json

scalars = st.none() | st.booleans() | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1) | st.text()
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(), json_values, max_size=8))
def test_canonical_json_matches_the_rfc8785_reference(value: dict) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)


@pytest.mark.parametrize(
    "text", ["\u2028\u2029", "\x00\x1f\x7f", 'quote " and \\ backslash', "😀 astral", "é"]
)
def test_strings_needing_escapes_match_the_reference(text: str) -> None:
    value: dict[str, str | int] = {"k": text, text: 1}
    assert canonical_json(value) == rfc8785.dumps(value)


@pytest.mark.parametrize(
    "value",
    [
        {"measure": "1.5", "spelled": "1e+16", "quoted": 'say "2.5" \\', "n": 12, "yes": True},
        {"1.5": [10, -3, False], "e": "E"},
    ],
)
def test_strings_and_integers_that_look_like_floats_are_not_refused(value: dict) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)


@pytest.mark.parametrize(
    "value",
    [{"amount": 1.5}, {"nested": [{"x": 0.1}]}, {"nan": float("nan")}, {"big": 1e16}, {"inf": float("-inf")}],
)
def test_floats_are_refused_with_a_hint(value: dict) -> None:
    with pytest.raises(TypeError, match="floats are not allowed"):
        canonical_json(value)
