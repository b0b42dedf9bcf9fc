"""The byte comparison: first and last differing offsets, the hex dump, and that it takes all."""

from __future__ import annotations

import pytest

from reprobuild.compare import Category, CompareOptions, Context, Item
from reprobuild.compare.binary import BYTES, byte_difference, common_suffix, first_difference
from tests.compare.helpers import check_golden, diff


@pytest.mark.parametrize(
    ("a", "b", "offset"),
    [
        (b"", b"", None),
        (b"abc", b"abc", None),
        (b"abc", b"abd", 2),
        (b"abc", b"abcd", 3),
        (b"abcd", b"abc", 3),
        (b"", b"x", 0),
        (b"x" * 3_000_000 + b"y", b"x" * 3_000_000 + b"z", 3_000_000),
        (b"x" * (1 << 20) + b"y", b"x" * (1 << 20) + b"z", 1 << 20),
    ],
)
def test_first_difference(a: bytes, b: bytes, offset: int | None) -> None:
    assert first_difference(a, b) == offset
    assert first_difference(memoryview(a), memoryview(b)) == offset


@pytest.mark.parametrize(
    ("a", "b", "suffix"),
    [
        (b"", b"", 0),
        (b"abc", b"xbc", 2),
        (b"abc", b"abc", 3),
        (b"bc", b"abc", 2),
        (b"a" + b"z" * 3_000_000, b"b" + b"z" * 3_000_000, 3_000_000),
    ],
)
def test_common_suffix(a: bytes, b: bytes, suffix: int) -> None:
    assert common_suffix(a, b) == suffix


def test_byte_difference_names_sizes_and_offsets() -> None:
    a = bytes(range(256)) * 4
    b = bytearray(a)
    b[300] ^= 0xFF
    b[700] ^= 0xFF
    found = byte_difference("x.so", "x.so", a, bytes(b))
    assert found is not None and found.category is Category.CONTENT
    assert found.comment == "1024 bytes each; first difference at offset 0x12c, last at 0x2bc"
    assert found.unified_diff is not None and "00000120:" in found.unified_diff


def test_byte_difference_of_a_prefix() -> None:
    found = byte_difference("a", "b", b"abc", b"abcdef")
    assert found is not None
    assert (
        found.comment == "3 vs 6 bytes; a is a prefix of b, which has 3 more bytes from offset 0x3"
    )


def test_equal_bytes_are_no_difference() -> None:
    assert byte_difference("a", "b", b"same", b"same") is None


def test_the_comparator_accepts_everything() -> None:
    context = Context(options=CompareOptions(), registry=(BYTES,))
    a, b = Item(name="a", data=b"\x00\x01"), Item(name="b", data=b"\x00\x02")
    assert BYTES.accepts(a, b)
    found = BYTES.compare(a, b, context)
    assert found is not None and found.category is Category.CONTENT


def test_golden_binary() -> None:
    a = b"\x7fELF\x02\x01\x01" + bytes(57) + b"GNU\x00" + bytes(range(40)) + bytes(100)
    b = a[:70] + b"\xaa\xbb\xcc" + a[73:]
    check_golden("binary", diff(a, b, "lib/_speedups.so"))
