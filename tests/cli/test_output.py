"""Printing helpers: the JSON text is the standard library's, written in one pass."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reprobuild.cli._output import json_text
from reprobuild.report import JSONValue

_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
)
_VALUES = st.recursive(
    _LEAVES,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(_VALUES)
def test_the_text_is_what_json_dumps_writes(doc: JSONValue) -> None:
    assert json_text(doc) == json.dumps(doc, indent=2)


@pytest.mark.parametrize(
    "doc",
    [
        {"a": [], "b": {}, "c": [[], {}], "d": 'é\u2028\x00"\\', "e": -0.0, "f": 10**30},
        {"nan": math.nan, "inf": [math.inf, -math.inf], "tuple": (1, "x")},
        {1: "a key that is not a string", "b": 2},
        {"set": {1}},
    ],
)
def test_odd_values_are_written_as_json_dumps_writes_them(doc: JSONValue) -> None:
    try:
        expected = json.dumps(doc, indent=2)
    except TypeError:
        with pytest.raises(TypeError):
            json_text(doc)
        return
    assert json_text(doc) == expected
