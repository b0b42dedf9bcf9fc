"""Make every character of a name, comment or diff line visible before it is shown.

Member names and file contents come from archives that anyone may have written. Shown raw, a
control character could move a terminal's cursor or recolour its text, a bidirectional override
could make two different names look alike, and a zero-width space could hide the very
difference being explained. So controls, format characters, line and paragraph separators and
lone surrogates are shown as Python escapes (``\\r``, ``\\x1b``, ``\\u202e``, ``\\udcff``);
everything else, including every printable non-ASCII character, is kept as it is.

:func:`split_lines` splits at ``\\n`` only, so that a ``\\r`` stays in its line, to be shown.
"""

from __future__ import annotations

from reprobuild._text import visible

__all__ = ["split_lines", "visible"]


def split_lines(text: str) -> list[str]:
    """The lines of ``text``, split at ``\\n`` only (a ``\\r`` stays, to be shown), without the
    empty string after a final newline."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines
