"""Where members too large to hold in memory are kept while an archive is read: a spool.

A :class:`Spool` is one anonymous temporary file (removed from its folder as soon as it is
made, so nothing is left behind whatever happens) that content is appended to, piece by piece,
and read back by offset, a block at a time. A member's content there is an :class:`Extent`.
Memory stays at one block whatever the member's size.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from reprobuild._types import Buffer

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO

__all__ = ["BLOCK", "HOLD", "MEMBER_HOLD", "Extent", "Spool"]

#: Bytes read, inflated, hashed or written at a time when a member is streamed.
BLOCK = 1 << 20
#: A member larger than this is never held in memory whole: it is spooled or streamed.
MEMBER_HOLD = 1 << 24
#: The most member content a reader holds in memory at once (all members together); members
#: read after the budget is spent are spooled.
HOLD = 1 << 25


class Spool:
    """An append-only anonymous temporary file; :class:`Extent` objects point into it."""

    def __init__(self) -> None:
        import tempfile  # here: only archives with large members need it

        self._file: BinaryIO = tempfile.TemporaryFile()  # noqa: SIM115 - lives with the spool
        self._end = 0

    def append(self, pieces: Iterable[Buffer]) -> Extent:
        """Write ``pieces`` one after the other at the end; their extent."""
        start = self._end
        handle = self._file
        handle.seek(start)
        for piece in pieces:
            handle.write(piece)
            self._end += len(piece) if isinstance(piece, bytes) else memoryview(piece).nbytes
        handle.flush()
        return Extent(spool=self, offset=start, length=self._end - start)

    def read(self, offset: int, length: int) -> bytes:
        """``length`` bytes from ``offset`` (fewer only past the end)."""
        if hasattr(os, "pread"):
            return os.pread(self._file.fileno(), length, offset)
        self._file.seek(offset)  # pragma: no cover - Windows
        return self._file.read(length)

    def close(self) -> None:
        self._file.close()


@dataclass(frozen=True, slots=True, kw_only=True)
class Extent:
    """``length`` bytes of a spool from ``offset``."""

    spool: Spool
    offset: int
    length: int

    def blocks(self, size: int = BLOCK) -> Iterator[bytes]:
        """The bytes, ``size`` at a time."""
        pos, end = self.offset, self.offset + self.length
        while pos < end:
            block = self.spool.read(pos, min(size, end - pos))
            if not block:
                raise OSError(f"spool ends at {pos}, before {end}")
            pos += len(block)
            yield block
