"""The fallback: any two byte strings, described by their sizes and first differing region.

It accepts everything and never raises, so it is always last in the registry; the other
comparators also call :func:`byte_difference` when they can read no further (a member that will
not inflate, a ``.pyc`` body from another Python).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from reprobuild._types import Buffer
from reprobuild.compare import Context, Item
from reprobuild.compare.difference import Category, Difference
from reprobuild.compare.nodes import join_comments, labelled, leaf

__all__ = [
    "BYTES",
    "BytesComparator",
    "byte_difference",
    "common_suffix",
    "first_difference",
    "streamed_difference",
]

#: Bytes shown on each side around the first difference.
REGION = 32
_CHUNK = 1 << 20


def _equal(a: Buffer, b: Buffer, start: int, end: int) -> bool:
    return bytes(a[start:end]) == bytes(b[start:end])


def _bisect(a: Buffer, b: Buffer, start: int, end: int) -> int:
    """The first offset in ``[start, end)`` where ``a`` and ``b`` differ (they do differ there)."""
    lo, hi = start, end
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _equal(a, b, lo, mid):
            lo = mid
        else:
            hi = mid
    return lo


def first_difference(a: Buffer, b: Buffer) -> int | None:
    """The offset of the first byte that differs (the shorter length when one is a prefix of the
    other), or None when ``a`` and ``b`` are equal."""
    common = min(len(a), len(b))
    for start in range(0, common, _CHUNK):
        end = min(start + _CHUNK, common)
        if not _equal(a, b, start, end):
            return _bisect(a, b, start, end)
    return None if len(a) == len(b) else common


def common_suffix(a: Buffer, b: Buffer) -> int:
    """How many bytes at the end of ``a`` and ``b`` are equal."""
    common = min(len(a), len(b))
    matched = 0
    while matched < common:
        step = min(_CHUNK, common - matched)
        tail_a = bytes(a[len(a) - matched - step : len(a) - matched])
        tail_b = bytes(b[len(b) - matched - step : len(b) - matched])
        if tail_a == tail_b:
            matched += step
            continue
        lo, hi = 0, step  # tail_a[lo:] != tail_b[lo:] and tail_a[hi:] == tail_b[hi:]
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if tail_a[mid:] == tail_b[mid:]:
                hi = mid
            else:
                lo = mid
        return matched + step - hi
    return matched


def _hexdump(region: bytes, base: int) -> list[str]:
    """Hex dump lines of ``region``, which starts at offset ``base`` of its file."""
    lines = []
    for at in range(0, len(region), 16):
        chunk = region[at : at + 16]
        hexes = " ".join(chunk[i : i + 2].hex() for i in range(0, len(chunk), 2))
        text = "".join(chr(c) if 32 <= c < 127 else "." for c in chunk)
        lines.append(f"{base + at:08x}: {hexes:<39}  {text}")
    return lines


@dataclass(frozen=True, slots=True, kw_only=True)
class _Found:
    """Where two byte strings differ: what :func:`byte_difference` shows."""

    length_a: int
    length_b: int
    offset: int  #: the first differing offset (the shorter length for a prefix)
    last: int | None  #: the last differing offset, when the lengths are equal
    region_a: bytes  #: :data:`REGION` bytes from ``offset`` rounded down to 16, or fewer
    region_b: bytes


def _leaf(
    name_a: str,
    name_b: str,
    found: _Found,
    *,
    comment: str | None,
    labels: tuple[str, str],
) -> Difference:
    offset, len_a, len_b = found.offset, found.length_a, found.length_b
    if offset == min(len_a, len_b):
        longer = "b" if len_b > len_a else "a"
        what = f"{'a' if longer == 'b' else 'b'} is a prefix of {longer}"
        where = f"{what}, which has {abs(len_a - len_b)} more bytes from offset {offset:#x}"
    else:
        where = f"first difference at offset {offset:#x}"
        if found.last is not None:
            where += f", last at {found.last:#x}"
    sizes = f"{len_a} vs {len_b} bytes" if len_a != len_b else f"{len_a} bytes each"
    start = offset - offset % 16
    dump = difflib.unified_diff(
        _hexdump(found.region_a, start),
        _hexdump(found.region_b, start),
        fromfile=labelled(name_a, labels[0]),
        tofile=labelled(name_b, labels[1]),
        n=2,
        lineterm="",
    )
    return leaf(
        name_a,
        name_b,
        Category.CONTENT,
        comment=join_comments(comment, f"{sizes}; {where}"),
        unified_diff="\n".join(dump) or None,
    )


def byte_difference(
    name_a: str,
    name_b: str,
    a: Buffer,
    b: Buffer,
    *,
    comment: str | None = None,
    labels: tuple[str, str] = ("", ""),
) -> Difference | None:
    """A ``content`` leaf naming the sizes and the first differing offset, with a hex dump of
    :data:`REGION` bytes from there on each side; None when the bytes are equal."""
    offset = first_difference(a, b)
    if offset is None:
        return None
    last = None
    if offset != min(len(a), len(b)) and len(a) == len(b):
        last = len(a) - common_suffix(a, b) - 1
    start = offset - offset % 16
    found = _Found(
        length_a=len(a),
        length_b=len(b),
        offset=offset,
        last=last,
        region_a=bytes(a[start : start + REGION]),
        region_b=bytes(b[start : start + REGION]),
    )
    return _leaf(name_a, name_b, found, comment=comment, labels=labels)


class _Side:
    """One side of a streamed comparison: how much was read, the last bytes (for a region
    that starts before the current block), and the region once its start is known."""

    def __init__(self, blocks: Iterable[Buffer]) -> None:
        self._blocks = iter(blocks)
        self.buffer = b""
        self.pos = 0  #: offset of ``buffer``'s first byte
        self.tail = b""  #: the bytes just before ``pos``, at most 16
        self.region: bytearray | None = None
        self.region_start = 0
        self.done = False

    def fill(self, size: int) -> None:
        while len(self.buffer) < size and not self.done:
            block = next(self._blocks, None)
            if block is None:
                self.done = True
            else:
                self.buffer += bytes(block)

    def consume(self, count: int) -> None:
        taken = self.buffer[:count]
        self.capture(taken, self.pos)
        self.tail = (self.tail + taken[-16:])[-16:]  # not a copy of the block
        self.buffer = self.buffer[count:]
        self.pos += count

    def start_region(self, start: int) -> None:
        self.region_start = start
        self.region = bytearray(self.tail[len(self.tail) - (self.pos - start) :])

    def capture(self, data: bytes, at: int) -> None:
        if self.region is None or len(self.region) >= REGION:
            return
        begin = max(0, self.region_start + len(self.region) - at)
        self.region += data[begin : begin + REGION - len(self.region)]


def streamed_difference(
    name_a: str,
    name_b: str,
    blocks_a: Iterable[Buffer],
    blocks_b: Iterable[Buffer],
    *,
    comment: str | None = None,
    labels: tuple[str, str] = ("", ""),
    block: int = _CHUNK,
) -> Difference | None:
    """:func:`byte_difference` of two byte streams given a block at a time: the same leaf,
    holding about ``block`` bytes of each side, never the whole (for members too large to
    hold)."""
    a, b = _Side(blocks_a), _Side(blocks_b)
    first: int | None = None
    last: int | None = None
    #: the last pair of blocks that differ, and where: the last difference is found in it once,
    #: at the end (a member that differs throughout would otherwise search every block)
    last_pair: tuple[int, bytes, bytes] | None = None
    while True:
        a.fill(block)
        b.fill(block)
        count = min(len(a.buffer), len(b.buffer))
        if not count:
            break
        piece_a, piece_b = a.buffer[:count], b.buffer[:count]
        if piece_a != piece_b:
            if first is None:
                first = a.pos + (first_difference(piece_a, piece_b) or 0)
                a.start_region(first - first % 16)
                b.start_region(first - first % 16)
            last_pair = (a.pos, piece_a, piece_b)
        a.consume(count)
        b.consume(count)
    if last_pair is not None:
        at, piece_a, piece_b = last_pair
        last = at + len(piece_a) - common_suffix(piece_a, piece_b) - 1
    common = a.pos
    if first is None and a.buffer == b.buffer == b"" and a.done and b.done:
        return None
    if first is None:
        first = common
        a.start_region(first - first % 16)
        b.start_region(first - first % 16)
    for side in (a, b):  # the rest of the longer side: its region, and its length
        while side.buffer or not side.done:
            side.consume(len(side.buffer))
            side.fill(block)
    found = _Found(
        length_a=a.pos,
        length_b=b.pos,
        offset=first,
        last=last if a.pos == b.pos and first != common else None,
        region_a=bytes(a.region or b""),
        region_b=bytes(b.region or b""),
    )
    return _leaf(name_a, name_b, found, comment=comment, labels=labels)


@dataclass(frozen=True, slots=True)
class BytesComparator:
    """Accepts every pair; must stay last in the registry."""

    name: str = "bytes"

    def accepts(self, a: Item, b: Item) -> bool:
        return True

    def compare(self, a: Item, b: Item, context: Context) -> Difference | None:
        return byte_difference(a.name, b.name, a.data, b.data, labels=context.options.labels)


BYTES = BytesComparator()
