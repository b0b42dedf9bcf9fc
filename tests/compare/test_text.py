"""Text: a capped unified diff, and line ends told apart from content."""

from __future__ import annotations

from reprobuild.compare import Category, CompareOptions
from reprobuild.compare.text import looks_like_text
from tests.compare.helpers import check_golden, diff


def test_looks_like_text() -> None:
    assert looks_like_text(b"hello\n")
    assert looks_like_text(b"")
    assert not looks_like_text(b"hel\x00lo")
    assert not looks_like_text(b"\xff\xfe")
    # a character cut at the 8 KiB boundary is still text
    assert looks_like_text(b"a" * 8191 + "é".encode() + b"tail")


def test_a_text_difference_is_content_with_a_diff() -> None:
    found = diff(b"one\ntwo\nthree\n", b"one\n2\nthree\n", "notes.txt")
    assert found is not None and found.category is Category.CONTENT
    assert found.unified_diff is not None
    assert "-two" in found.unified_diff and "+2" in found.unified_diff


def test_line_ends_only() -> None:
    found = diff(b"one\r\ntwo\r\n", b"one\ntwo\n", "notes.txt")
    assert found is not None and found.category is Category.CONTENT
    assert found.comment == "only the line ends differ: 2 CRLF line ends in a, 0 in b"
    assert found.unified_diff is None


def test_line_ends_and_content() -> None:
    found = diff(b"one\r\ntwo\r\n", b"one\nthree\n", "notes.txt")
    assert found is not None and found.comment is not None
    assert "the line ends differ too" in found.comment
    assert found.unified_diff is not None and "+three" in found.unified_diff
    assert "\r" not in found.unified_diff


def test_the_diff_is_capped() -> None:
    a = "".join(f"line {i}\n" for i in range(100)).encode()
    b = "".join(f"LINE {i}\n" for i in range(100)).encode()
    found = diff(a, b, "big.txt", options=CompareOptions(max_diff_lines=10))
    assert found is not None and found.unified_diff is not None
    assert len(found.unified_diff.split("\n")) == 10
    assert found.comment == "193 more diff lines not shown"
    uncapped = diff(a, b, "big.txt", options=CompareOptions(max_diff_lines=0))
    assert uncapped is not None and uncapped.comment is None


def test_not_utf8_falls_back_to_bytes() -> None:
    found = diff("café\n".encode("latin-1"), "cafe\n".encode("latin-1"), "notes.txt")
    assert found is not None and found.comment is not None
    assert "first difference at offset 0x3" in found.comment


def test_golden_text() -> None:
    a = b"[metadata]\nname = demo\nversion = 1.0\n\n[options]\npackages = find:\nzip_safe = true\n"
    b = b"[metadata]\nname = demo\nversion = 1.1\n\n[options]\npackages = find:\nzip_safe = false\n"
    check_golden("text", diff(a, b, "demo-1.0/setup.cfg", "demo-1.1/setup.cfg"))
