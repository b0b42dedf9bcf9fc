"""Compressed streams (gzip, bzip2, xz): the header, then whatever they hold.

Both sides are decompressed (bounded by ``options.limits``). When they hold the same bytes,
what differs is how they were compressed: one ``compression`` leaf. Otherwise the decompressed
bytes are compared through the registry (an sdist's ``.tar.gz`` becomes a tar). The gzip header
is read field by field: its extra flags (XFL, the compression level the writer claims) are
``compression``; the mtime, OS, file name, comment, extra field, flags and the number of
concatenated streams are ``container``.
"""

from __future__ import annotations

from dataclasses import dataclass

from reprobuild._fs import equal_buffers
from reprobuild._types import Buffer
from reprobuild.archive import Compression, GzipHeader, Limits
from reprobuild.archive.compress import (
    FCOMMENT,
    FEXTRA,
    FNAME,
    decompress,
    parse_gzip_header,
    sniff_compression,
)
from reprobuild.archive.tarformat import looks_like_tar
from reprobuild.archive.tarstream import PlainStream
from reprobuild.compare import PARSE_ERRORS, Context, Item
from reprobuild.compare.difference import Category, Difference
from reprobuild.compare.nodes import (
    FieldChange,
    field_leaves,
    format_time,
    group,
    join_comments,
    leaf,
    short,
    sub,
)
from reprobuild.compare.tararchive import TAR, TarStreams, compare_tar_streams, scan_tars

__all__ = ["BZIP2", "GZIP", "XZ", "StreamComparator", "inner_name"]

_SUFFIXES = (
    (".tgz", ".tar"),
    (".taz", ".tar"),
    (".tbz2", ".tar"),
    (".tbz", ".tar"),
    (".txz", ".tar"),
    (".gz", ""),
    (".bz2", ""),
    (".xz", ""),
)
_FIELD_FLAGS = FEXTRA | FNAME | FCOMMENT  # follow from the fields being there
_GZIP_HEADER = "(gzip header)"


def inner_name(name: str) -> str:
    """The name of what a compressed file holds: ``x.tar.gz`` → ``x.tar``."""
    for suffix, replacement in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)] + replacement
    return f"{name} (decompressed)"


def _optional(value: bytes | None) -> str:
    return "(absent)" if value is None else short(value)


def _gzip_changes(a: GzipHeader, b: GzipHeader) -> list[FieldChange]:
    changes = []
    if a.mtime != b.mtime:
        changes.append(
            FieldChange(
                category=Category.CONTAINER,
                field="mtime",
                a=format_time(a.mtime) if a.mtime else "0 (none)",
                b=format_time(b.mtime) if b.mtime else "0 (none)",
            )
        )
    for field, value_a, value_b in (
        ("os", str(a.os), str(b.os)),
        ("file name", _optional(a.filename), _optional(b.filename)),
        ("comment", _optional(a.comment), _optional(b.comment)),
        ("extra field", _optional(a.extra), _optional(b.extra)),
        ("flags", f"{a.flags & ~_FIELD_FLAGS:#04x}", f"{b.flags & ~_FIELD_FLAGS:#04x}"),
        ("streams", str(a.streams), str(b.streams)),
    ):
        if value_a != value_b:
            changes.append(
                FieldChange(category=Category.CONTAINER, field=field, a=value_a, b=value_b)
            )
    if a.xfl != b.xfl:
        changes.append(
            FieldChange(category=Category.COMPRESSION, field="xfl", a=str(a.xfl), b=str(b.xfl))
        )
    return changes


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamComparator:
    """One kind of compressed stream, recognized by its magic bytes."""

    name: str
    compression: Compression
    magic: bytes

    def accepts(self, a: Item, b: Item) -> bool:
        return a.startswith(self.magic) and b.startswith(self.magic)

    def compare(self, a: Item, b: Item, context: Context) -> Difference | None:
        scanned = _scan_if_tars(a, b, self.compression, context)
        if scanned is not None:
            (length_a, length_b), (header_a, header_b) = scanned.lengths, scanned.gzip
            same = scanned.digests[0] == scanned.digests[1] and length_a == length_b
        else:
            limits = context.options.limits
            plain_a, header_a = decompress(a.data, self.compression, limits=limits)
            plain_b, header_b = decompress(b.data, self.compression, limits=limits)
            length_a, length_b = len(plain_a), len(plain_b)
            same = plain_a == plain_b
        changes: list[FieldChange] = []
        start_a = start_b = 0
        if header_a is not None and header_b is not None:
            changes = _gzip_changes(header_a, header_b)
            start_a = parse_gzip_header(a.data)[1]
            start_b = parse_gzip_header(b.data)[1]
        children: list[Difference | None] = []
        inner_a, inner_b = inner_name(a.name), inner_name(b.name)
        if same:
            if not equal_buffers(memoryview(a.data)[start_a:], memoryview(b.data)[start_b:]):
                level = [c for c in changes if c.category is Category.COMPRESSION]
                changes = [c for c in changes if c.category is not Category.COMPRESSION]
                children.append(
                    leaf(
                        sub(a.name, "(compressed stream)"),
                        sub(b.name, "(compressed stream)"),
                        Category.COMPRESSION,
                        comment=join_comments(
                            f"the same {length_a} bytes compressed differently "
                            f"({len(a.data) - start_a} vs {len(b.data) - start_b} bytes)",
                            *(f"{c.field}: {c.a} vs {c.b}" for c in level),
                        ),
                    )
                )
        elif scanned is not None:
            # what context.recurse does when the tar comparator is the first to accept
            deeper = Context(
                options=context.options, registry=context.registry, depth=context.depth + 1
            )
            children.append(
                compare_tar_streams(
                    Item(name=inner_a, data=b""), Item(name=inner_b, data=b""), scanned, deeper
                )
            )
        else:
            children.append(
                context.recurse(
                    Item(name=inner_a, data=bytes(plain_a)),
                    Item(name=inner_b, data=bytes(plain_b)),
                )
            )
        header = field_leaves(sub(a.name, _GZIP_HEADER), sub(b.name, _GZIP_HEADER), changes)
        return group(a.name, b.name, [*header, *children])


#: Decompressed bytes enough to tell what a stream holds (the comparators look at magic bytes).
_HEAD = 1 << 16


def _head(data: Buffer, compression: Compression, limits: Limits) -> bytes:
    head = bytearray()
    for piece in PlainStream(data, compression, limits=limits):
        head += piece
        if len(head) >= _HEAD:
            break
    return bytes(head)


def _scan_if_tars(
    a: Item, b: Item, compression: Compression, context: Context
) -> TarStreams | None:
    """Both sides read as tars in one streaming pass, when what they hold is compared by the
    tar comparator (the first of the registry to accept it); None when it is not, or when
    either side does not read as a tar: then the whole streams are decompressed, as before,
    and the registry explains them (with its comments on what failed)."""
    limits = context.options.limits
    try:
        head_a = _head(a.data, compression, limits)
        head_b = _head(b.data, compression, limits)
    except PARSE_ERRORS:
        return None
    if not (_plain_tar(head_a) and _plain_tar(head_b)):
        return None
    heads = (Item(name=inner_name(a.name), data=head_a), Item(name=inner_name(b.name), data=head_b))
    for comparator in context.registry:
        if context.depth >= context.options.max_depth and comparator.name != "bytes":
            continue
        if comparator.accepts(*heads):
            if comparator is not TAR:
                return None
            break
    else:
        return None
    try:
        return scan_tars(a.data, b.data, compression, limits)
    except PARSE_ERRORS:
        return None


def _plain_tar(head: bytes) -> bool:
    """What :func:`sniff` takes for an uncompressed tar (as the tar comparator parses it)."""
    return (
        not head.startswith((b"PK\x03\x04", b"PK\x05\x06"))
        and sniff_compression(head[:6]) is Compression.NONE
        and looks_like_tar(head)
    )


GZIP = StreamComparator(name="gzip", compression=Compression.GZIP, magic=b"\x1f\x8b")
BZIP2 = StreamComparator(name="bzip2", compression=Compression.BZIP2, magic=b"BZh")
XZ = StreamComparator(name="xz", compression=Compression.XZ, magic=b"\xfd7zXZ\x00")
