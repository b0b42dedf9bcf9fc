"""The fallback: any two byte strings, described by their sizes and first differing region.

It accepts everything and never raises, so it is always last in the registry; the other
comparators also call :func:`byte_difference` when they can read no further (a member that will
not inflate, a ``.pyc`` body from another Python).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from reprobuild._types import Buffer
from reprobuild.compare import Context, Item
from reprobuild.compare.difference import Category, Difference
from reprobuild.compare.nodes import join_comments, labelled, leaf

__all__ = ["BYTES", "BytesComparator", "byte_difference", "common_suffix", "first_difference"]

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


def _hexdump(data: Buffer, start: int, end: int) -> list[str]:
    lines = []
    for offset in range(start, min(end, len(data)), 16):
        chunk = bytes(data[offset : min(offset + 16, end, len(data))])
        hexes = " ".join(chunk[i : i + 2].hex() for i in range(0, len(chunk), 2))
        text = "".join(chr(c) if 32 <= c < 127 else "." for c in chunk)
        lines.append(f"{offset:08x}: {hexes:<39}  {text}")
    return lines


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
    if offset == min(len(a), len(b)):
        longer = "b" if len(b) > len(a) else "a"
        what = f"{'a' if longer == 'b' else 'b'} is a prefix of {longer}"
        where = f"{what}, which has {abs(len(a) - len(b))} more bytes from offset {offset:#x}"
    else:
        where = f"first difference at offset {offset:#x}"
        if len(a) == len(b):
            where += f", last at {len(a) - common_suffix(a, b) - 1:#x}"
    sizes = f"{len(a)} vs {len(b)} bytes" if len(a) != len(b) else f"{len(a)} bytes each"
    start = offset - offset % 16
    dump = difflib.unified_diff(
        _hexdump(a, start, start + REGION),
        _hexdump(b, start, start + REGION),
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


@dataclass(frozen=True, slots=True)
class BytesComparator:
    """Accepts every pair; must stay last in the registry."""

    name: str = "bytes"

    def accepts(self, a: Item, b: Item) -> bool:
        return True

    def compare(self, a: Item, b: Item, context: Context) -> Difference | None:
        return byte_difference(a.name, b.name, a.data, b.data, labels=context.options.labels)


BYTES = BytesComparator()
