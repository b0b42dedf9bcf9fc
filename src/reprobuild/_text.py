"""Show every character of a name: controls and invisible ones escaped (``\\x1b``, ``\\n``).

Below every layer, so that an error's own text (:class:`reprobuild.errors.ReprobuildError`)
shows a member's name escaped wherever it is printed or recorded; the reasons are given in
:mod:`reprobuild.present._chars`.
"""

from __future__ import annotations

import unicodedata

__all__ = ["visible"]

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
