"""Where members too large to hold in memory are kept while an archive is read: a spool.

A :class:`Spool` is one anonymous temporary file (removed from its folder as soon as it is
made, so nothing is left behind whatever happens) that content is appended to, piece by piece,
and read back by offset, a block at a time. A member's content there is an :class:`Extent`.
Memory stays at one block whatever the member's size.
"""

from __future__ import annotations

import contextlib
import os
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from reprobuild._types import Buffer

__all__ = ["BLOCK", "HOLD", "MEMBER_HOLD", "Extent", "Spool"]

#: Bytes read, inflated, hashed or written at a time when a member is streamed.
BLOCK = 1 << 20
#: A member larger than this is never held in memory whole: it is spooled or streamed.
MEMBER_HOLD = 1 << 24
#: The most member content a reader holds in memory at once (all members together); members
#: read after the budget is spent are spooled.
HOLD = 1 << 25


class Spool:
    """An append-only anonymous temporary file; :class:`Extent` objects point into it.

    The file is made at the first append (a spool nothing is written to costs nothing) and
    closed when the spool and every extent pointing into it are gone, or by :meth:`close`.
    """

    def __init__(self) -> None:
        self._fd = -1
        self._end = 0
        self._finalizer: weakref.finalize[[int], Spool] | None = None

    def _open(self) -> int:
        if self._fd < 0:
            import tempfile  # here: only archives with large members need it

            fd, name = tempfile.mkstemp(prefix="reprobuild-spool-")
            with contextlib.suppress(OSError):  # Windows cannot remove an open file
                Path(name).unlink()  # anonymous from now on: nothing is left behind
            self._fd = fd
            self._finalizer = weakref.finalize(self, os.close, fd)
        return self._fd

    def append(self, pieces: Iterable[Buffer]) -> Extent:
        """Write ``pieces`` one after the other at the end; their extent."""
        fd = self._open()
        start = self._end
        for piece in pieces:
            view = memoryview(piece).cast("B")
            while view.nbytes:
                written = (
                    os.pwrite(fd, view, self._end) if _PWRITE else _write_at(fd, view, self._end)
                )
                view = view[written:]
                self._end += written
        return Extent(spool=self, offset=start, length=self._end - start)

    def read(self, offset: int, length: int) -> bytes:
        """``length`` bytes from ``offset`` (fewer only past the end)."""
        if _PWRITE:
            return os.pread(self._open(), length, offset)
        os.lseek(self._open(), offset, os.SEEK_SET)  # pragma: no cover - Windows
        return os.read(self._fd, length)  # pragma: no cover

    def close(self) -> None:
        if self._finalizer is not None:
            self._finalizer()


_PWRITE = hasattr(os, "pwrite")


def _write_at(fd: int, data: memoryview, offset: int) -> int:  # pragma: no cover - Windows
    os.lseek(fd, offset, os.SEEK_SET)
    return os.write(fd, data)


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
