"""A unified diff laid out side by side: removed lines on the left, added lines on the right.

:func:`side_by_side` reads the hunks of a unified diff (as ``difflib.unified_diff`` and
``diff -u`` write them) into rows of a two-column table. Within a hunk, a run of removed and
added lines is paired line by line, the longer side going on alone; context lines stand on
both sides; each side keeps its own line numbers from the hunk header. Anything that is not
part of a hunk (a note that the diff was cut short, ``\\ No newline at end of file``) becomes a
row across both columns, so no line of the input is lost.

Pure and total: any text gives rows, however malformed.
"""

from __future__ import annotations

import enum
import itertools
import re
from dataclasses import dataclass

from reprobuild.present._chars import split_lines

__all__ = ["Row", "RowKind", "side_by_side"]

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


class RowKind(enum.Enum):
    FILES = "files"  #: the ``---``/``+++`` names: ``left`` and ``right``
    HUNK = "hunk"  #: a ``@@ … @@`` header, in ``text``
    CONTEXT = "context"  #: the same line on both sides
    CHANGE = "change"  #: a removed line, an added line, or one of each
    NOTE = "note"  #: any other line, in ``text``, across both columns


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """One row of the table. ``left``/``right`` are None where a side has no line."""

    kind: RowKind
    left: str | None = None
    right: str | None = None
    left_number: int | None = None
    right_number: int | None = None
    text: str | None = None


@dataclass(slots=True)
class _Reader:
    rows: list[Row]
    removed: list[str]
    added: list[str]
    old: int = 0
    new: int = 0
    #: lines still expected in the current hunk, per side; None: unknown (header unreadable)
    old_left: int | None = 0
    new_left: int | None = 0

    @property
    def in_hunk(self) -> bool:
        if self.old_left is None or self.new_left is None:
            return True
        return self.old_left > 0 or self.new_left > 0

    def flush(self) -> None:
        """Pair the pending removed and added lines into rows."""
        old = self.old
        new = self.new
        for left, right in itertools.zip_longest(self.removed, self.added):
            self.rows.append(
                Row(
                    kind=RowKind.CHANGE,
                    left=left,
                    right=right,
                    left_number=old if left is not None else None,
                    right_number=new if right is not None else None,
                )
            )
            if left is not None:
                old += 1
            if right is not None:
                new += 1
        self.old = old
        self.new = new
        self.removed.clear()
        self.added.clear()

    def count(self, *, old: bool, new: bool) -> None:
        if old and self.old_left is not None:
            self.old_left = max(self.old_left - 1, 0)
        if new and self.new_left is not None:
            self.new_left = max(self.new_left - 1, 0)

    def hunk(self, line: str) -> None:
        self.flush()
        self.rows.append(Row(kind=RowKind.HUNK, text=line))
        match = _HUNK.match(line)
        if match is None:
            self.old = self.new = 0
            self.old_left = self.new_left = None
            return
        old_start, old_len, new_start, new_len = match.groups()
        self.old_left = int(old_len) if old_len is not None else 1
        self.new_left = int(new_len) if new_len is not None else 1
        # an empty side's start is the line before the hunk: number the first line after it
        self.old = int(old_start) + (1 if self.old_left == 0 else 0)
        self.new = int(new_start) + (1 if self.new_left == 0 else 0)

    def hunk_line(self, line: str) -> bool:
        """Take one line of a hunk's body; False when it is not one."""
        marker, text = line[:1], line[1:]
        if marker == "-":
            if self.added:  # a removal after additions starts a new pairing
                self.flush()
            self.removed.append(text)
            self.count(old=True, new=False)
        elif marker == "+":
            self.added.append(text)
            self.count(old=False, new=True)
        elif marker in {" ", ""}:  # some tools strip the space of an empty context line
            self.flush()
            self.rows.append(
                Row(
                    kind=RowKind.CONTEXT,
                    left=text,
                    right=text,
                    left_number=self.old,
                    right_number=self.new,
                )
            )
            self.old += 1
            self.new += 1
            self.count(old=True, new=True)
        else:
            return False
        return True

    def note(self, line: str) -> None:
        self.flush()
        self.rows.append(Row(kind=RowKind.NOTE, text=line))


def side_by_side(unified_diff: str) -> tuple[Row, ...]:
    """The rows of a two-column table for ``unified_diff`` (see the module's docstring)."""
    reader = _Reader(rows=[], removed=[], added=[])
    lines = split_lines(unified_diff)
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if line.startswith("@@"):
            reader.hunk(line)
        elif line.startswith("\\"):  # "\ No newline at end of file": not a line of either side
            reader.note(line)
        elif reader.in_hunk and reader.hunk_line(line):
            pass
        elif line.startswith("--- ") and index < len(lines) and lines[index].startswith("+++ "):
            reader.flush()
            reader.rows.append(Row(kind=RowKind.FILES, left=line[4:], right=lines[index][4:]))
            index += 1
        else:
            reader.note(line)
    reader.flush()
    return tuple(reader.rows)
