"""side_by_side: hunks into rows, each side in order with its own line numbers, nothing lost."""

from __future__ import annotations

import difflib

from hypothesis import given
from hypothesis import strategies as st

from reprobuild.present.sidebyside import Row, RowKind, side_by_side

LINES = st.lists(st.sampled_from(["a", "b", "c", "d", "", "--- x", "+++ y", "@@"]), max_size=12)


def _sides(rows: tuple[Row, ...]) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    left: list[tuple[int, str]] = []
    right: list[tuple[int, str]] = []
    for row in rows:
        if row.kind not in (RowKind.CONTEXT, RowKind.CHANGE):
            continue
        if row.left is not None:
            assert row.left_number is not None
            left.append((row.left_number, row.left))
        if row.right is not None:
            assert row.right_number is not None
            right.append((row.right_number, row.right))
    return left, right


def test_pairs_removed_with_added_and_numbers_each_side() -> None:
    diff = "--- a/f\n+++ b/f\n@@ -10,5 +10,3 @@\n same\n-old 1\n-old 2\n+new 1\n same 2\n-gone\n"
    rows = side_by_side(diff)
    assert rows == (
        Row(kind=RowKind.FILES, left="a/f", right="b/f"),
        Row(kind=RowKind.HUNK, text="@@ -10,5 +10,3 @@"),
        Row(kind=RowKind.CONTEXT, left="same", right="same", left_number=10, right_number=10),
        Row(kind=RowKind.CHANGE, left="old 1", right="new 1", left_number=11, right_number=11),
        Row(kind=RowKind.CHANGE, left="old 2", left_number=12),
        Row(kind=RowKind.CONTEXT, left="same 2", right="same 2", left_number=13, right_number=12),
        Row(kind=RowKind.CHANGE, left="gone", left_number=14),
    )


def test_lines_outside_hunks_are_notes() -> None:
    diff = "@@ -1 +1 @@\n-a\n+b\n\\ No newline at end of file\n[10 more lines]\n"
    kinds = [row.kind for row in side_by_side(diff)]
    assert kinds == [RowKind.HUNK, RowKind.CHANGE, RowKind.NOTE, RowKind.NOTE]


def test_inside_a_hunk_dashes_are_removed_lines_not_headers() -> None:
    diff = "@@ -1,2 +1,2 @@\n--- a\n+++ b\n"
    rows = side_by_side(diff)
    assert rows[1] == Row(
        kind=RowKind.CHANGE, left="-- a", right="++ b", left_number=1, right_number=1
    )


def test_empty_side_numbers_from_the_next_line() -> None:
    rows = side_by_side("@@ -0,0 +1,2 @@\n+x\n+y\n")
    assert [(r.right_number, r.right) for r in rows[1:]] == [(1, "x"), (2, "y")]


def test_anything_at_all_gives_rows() -> None:
    assert side_by_side("") == ()
    assert side_by_side("not a diff") == (Row(kind=RowKind.NOTE, text="not a diff"),)
    odd = side_by_side("@@ garbage @@\n-a\n+b\n c\n@@ -1 +1 @@\n")
    assert [r.kind for r in odd] == [RowKind.HUNK, RowKind.CHANGE, RowKind.CONTEXT, RowKind.HUNK]


@given(LINES, LINES, st.integers(min_value=0, max_value=3))
def test_each_side_is_the_lines_of_its_file(a: list[str], b: list[str], context: int) -> None:
    diff = "".join(difflib.unified_diff([f"{x}\n" for x in a], [f"{x}\n" for x in b], n=context))
    left, right = _sides(side_by_side(diff))
    # every line shown is the line of its file at its number, in order
    assert all(a[number - 1] == text for number, text in left)
    assert all(b[number - 1] == text for number, text in right)
    assert [n for n, _ in left] == sorted({n for n, _ in left})
    assert [n for n, _ in right] == sorted({n for n, _ in right})
    if context >= max(len(a), len(b)):  # one hunk holding both files whole
        assert [text for _, text in left] == (a if a != b else [])
        assert [text for _, text in right] == (b if a != b else [])


@given(st.text())
def test_total_on_any_text(text: str) -> None:
    side_by_side(text)
