"""UTF-8 text: a unified diff of the lines, capped at ``options.max_diff_lines``.

Text is what decodes as UTF-8 and has no NUL byte in its first 8 KiB. When the two sides differ
only in their line ends (CRLF against LF), the comment says so instead of showing every line as
changed; when the line ends differ as well as the text, the diff is of the text with CRLF read
as LF, and the comment says that too.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from reprobuild._types import Buffer
from reprobuild.compare import Context, Item
from reprobuild.compare.difference import Category, Difference
from reprobuild.compare.nodes import cut_note, join_comments, leaf, sides, unified

__all__ = ["TEXT", "TextComparator", "looks_like_text", "text_difference"]

_HEAD = 8192


def looks_like_text(data: Buffer) -> bool:
    """No NUL in the first 8 KiB, and those bytes decode as UTF-8 (a character cut at the
    boundary allowed)."""
    head = bytes(data[:_HEAD])
    if b"\x00" in head:
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=len(data) <= _HEAD)
    except UnicodeDecodeError:
        return False
    return True


def _crlf_lines(text: str) -> int:
    return text.count("\r\n")


def text_difference(
    name_a: str,
    name_b: str,
    text_a: str,
    text_b: str,
    *,
    max_lines: int,
    comment: str | None = None,
    labels: tuple[str, str] = ("", ""),
) -> Difference | None:
    """A ``content`` leaf with the unified diff of two texts, or None when they are equal."""
    if text_a == text_b:
        return None
    crlf_a, crlf_b = _crlf_lines(text_a), _crlf_lines(text_b)
    side_a, side_b = sides(labels)
    endings = None
    if crlf_a != crlf_b:
        plain_a, plain_b = text_a.replace("\r\n", "\n"), text_b.replace("\r\n", "\n")
        if plain_a == plain_b:
            return leaf(
                name_a,
                name_b,
                Category.CONTENT,
                comment=join_comments(
                    comment,
                    f"only the line ends differ: {crlf_a} CRLF line ends in {side_a}, "
                    f"{crlf_b} in {side_b}",
                ),
            )
        endings = (
            f"the line ends differ too ({crlf_a} CRLF line ends in {side_a}, {crlf_b} in "
            f"{side_b}); "
            "the diff reads CRLF as LF"
        )
        text_a, text_b = plain_a, plain_b
    last = None
    if text_a and text_b and text_a.endswith("\n") != text_b.endswith("\n"):
        last = f"no line end at the end of {'b' if text_a.endswith(chr(10)) else 'a'}"
    diff, cut = unified(
        _lines(text_a),
        _lines(text_b),
        name_a=name_a,
        name_b=name_b,
        max_lines=max_lines,
        labels=labels,
    )
    return leaf(
        name_a,
        name_b,
        Category.CONTENT,
        comment=join_comments(comment, endings, last, cut_note(cut)),
        unified_diff=diff or None,
    )


def _lines(text: str) -> list[str]:
    """The lines of ``text`` split at LF only (a form feed or U+2028 is not a line end here)."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


@dataclass(frozen=True, slots=True)
class TextComparator:
    """UTF-8 text, line by line."""

    name: str = "text"

    def accepts(self, a: Item, b: Item) -> bool:
        return looks_like_text(a.data) and looks_like_text(b.data)

    def compare(self, a: Item, b: Item, context: Context) -> Difference | None:
        return text_difference(
            a.name,
            b.name,
            a.content.decode("utf-8"),
            b.content.decode("utf-8"),
            max_lines=context.options.max_diff_lines,
            labels=context.options.labels,
        )


TEXT = TextComparator()
