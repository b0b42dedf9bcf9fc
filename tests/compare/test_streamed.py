"""The streamed byte comparison gives the leaf the whole-bytes comparison gives."""

from __future__ import annotations

import random

import pytest

from reprobuild.compare.binary import byte_difference, streamed_difference


def _blocks(data: bytes, rng: random.Random) -> list[bytes]:
    pieces, pos = [], 0
    while pos < len(data):
        size = rng.randint(1, 70)
        pieces.append(data[pos : pos + size])
        pos += size
    return pieces


@pytest.mark.parametrize("seed", range(200))
def test_streamed_difference_is_byte_difference(seed: int) -> None:
    rng = random.Random(seed)
    a = bytes(rng.randrange(3) for _ in range(rng.randint(0, 300)))
    b = bytearray(a)
    for _ in range(rng.randint(0, 3)):
        if b:
            b[rng.randrange(len(b))] ^= 1
    if rng.random() < 0.3:
        b = b[: rng.randint(0, len(b))]
    if rng.random() < 0.3:
        b += bytes(rng.randint(1, 40))
    expected = byte_difference("a", "b", a, bytes(b), comment="c")
    found = streamed_difference(
        "a", "b", _blocks(a, rng), _blocks(bytes(b), rng), comment="c", block=rng.randint(1, 40)
    )
    assert found == expected
