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

import unicodedata

__all__ = ["split_lines", "visible"]

_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(char: str) -> str:
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def visible(text: str, *, keep_tabs: bool = False) -> str:
    """``text`` with every invisible or terminal-controlling character escaped.

    ``keep_tabs`` keeps horizontal tabs as they are (in diff lines, where they are layout).
    """
    if text.isprintable():  # the common case: nothing to escape, no per-character work
        return text
    return "".join(
        char
        if (keep_tabs and char == "\t") or unicodedata.category(char) not in _HIDDEN
        else _escape(char)
        for char in text
    )


def split_lines(text: str) -> list[str]:
    """The lines of ``text``, split at ``\\n`` only (a ``\\r`` stays, to be shown), without the
    empty string after a final newline."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines
