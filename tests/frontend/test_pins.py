"""Pins: parsing a resolver's hashed output, writing it back, and the environment key."""

from __future__ import annotations

import pytest

from reprobuild.errors import BuildError
from reprobuild.frontend import PinnedRequirement, environment_key, parse_pins, render_pins

A = "a" * 64
B = "b" * 64
C = "c" * 64

UV_OUTPUT = f"""\
# a comment the resolver may write
Hatchling==1.27.0 \\
    --hash=sha256:{B} \\
    --hash=sha256:{A}
pathspec==0.12.1 \\
    --hash=sha256:{C}
zope.interface==7.0 --hash=sha256:{A}
"""


def key(pins: tuple[PinnedRequirement, ...], version: str = "3.11.7") -> str:
    return environment_key(pins, implementation="cpython", python_version=version, base="/py")


def test_parse_uv_output() -> None:
    pins = parse_pins(UV_OUTPUT)
    assert pins == (
        PinnedRequirement(
            name="hatchling", version="1.27.0", hashes=(f"sha256:{A}", f"sha256:{B}")
        ),
        PinnedRequirement(name="pathspec", version="0.12.1", hashes=(f"sha256:{C}",)),
        PinnedRequirement(name="zope-interface", version="7.0", hashes=(f"sha256:{A}",)),
    )


def test_render_then_parse_is_the_same() -> None:
    pins = parse_pins(UV_OUTPUT)
    text = render_pins(pins)
    assert text.splitlines()[0] == f"hatchling==1.27.0 --hash=sha256:{A} --hash=sha256:{B}"
    assert parse_pins(text) == pins


@pytest.mark.parametrize(
    ("line", "match"),
    [
        (f"hatchling>=1 --hash=sha256:{A}", "cannot be pinned"),
        (f"hatchling @ https://example.invalid/h.whl --hash=sha256:{A}", "cannot be pinned"),
        ("hatchling==1.27.0", "without a sha256 hash"),
        ("hatchling==1.27.0 --hash=md5:abcd", "without a sha256 hash"),
        (f"not a requirement! --hash=sha256:{A}", "not a requirement"),
    ],
)
def test_not_a_pin(line: str, match: str) -> None:
    with pytest.raises(BuildError, match=match):
        parse_pins(line)


def test_key_ignores_order_and_follows_content() -> None:
    pins = parse_pins(UV_OUTPUT)
    assert key(pins) == key(tuple(reversed(pins)))
    assert len(key(pins)) == 64
    assert key(pins) != key(pins[:2])
    assert key(pins) != key(pins, version="3.12.1")
    other = (PinnedRequirement(name="hatchling", version="1.27.0", hashes=(f"sha256:{A}",)),)
    assert key(other) != key(pins[:1])
