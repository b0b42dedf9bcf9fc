"""Zip files (wheels, sdists in zip form, any ``PK`` archive), member by member.

Members are not inflated up front: two members whose CRC, sizes, method and stored bytes are
equal hold the same content. Otherwise both are inflated, one pair at a time, and compared
through the registry (a wheel's ``.dist-info`` files reach the comparators that read them). A
member that will not inflate is compared by its stored bytes, with a comment.

Header fields and their categories:

- ``timestamp``: the MS-DOS time and date; extra-field blocks that hold times (``0x5455``
  extended timestamp, ``0x000a`` NTFS, ``0x5855`` Info-ZIP Unix) when only their values differ.
- ``permissions``: mode bits in the external attributes; ``content`` when a file's executable
  bits differ.
- ``ownership``: the values of the Info-ZIP Unix uid/gid blocks (``0x7875``, ``0x7855``).
- ``compression``: the method, deflate option flags (bits 1-2), and the stored bytes of equal
  content.
- ``container``: the archive comment, bytes outside any member, "version made by" (system and
  version), version needed, other flags, internal attributes, the MS-DOS and file-type bits of
  the external attributes, extra fields that differ in their blocks, member comments, data
  descriptors, local headers that disagree with the central directory.
- ``content``: the kind of member, a link target, the content, and a CRC that does not match
  equal content (installers refuse it).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from reprobuild._fs import equal_buffers
from reprobuild._types import Buffer
from reprobuild.archive import Member, ZipDetails, ZipMethod, parse_archive
from reprobuild.archive.spool import MEMBER_HOLD
from reprobuild.compare import PARSE_ERRORS, Context, Item
from reprobuild.compare.archives import compare_archives, mode_changes
from reprobuild.compare.binary import byte_difference, streamed_difference
from reprobuild.compare.difference import Category, Difference
from reprobuild.compare.nodes import FieldChange, leaf, short, sub

__all__ = ["ZIP", "ZipComparator"]

_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
#: Names of zip files that may start with something else (a launcher script, say).
_SUFFIXES = (".zip", ".whl", ".egg", ".jar", ".pyz", ".conda")
_COMPRESSION_FLAGS = 0x6  # deflate: normal, maximum, fast, super fast
_TIME_BLOCKS = frozenset({0x5455, 0x000A, 0x5855})
_OWNER_BLOCKS = frozenset({0x7875, 0x7855})
_ZIP64_BLOCK = 0x0001  # sizes and offsets, compared where the model holds them
_TYPE_BITS = 0o170000


def _details(member: Member) -> ZipDetails:
    if member.zip is None:
        raise ValueError(f"{member.name}: a zip member without zip headers")
    return member.zip


def _method(method: int) -> str:
    try:
        return ZipMethod(method).name.lower()
    except ValueError:
        return str(method)


def _blocks(extra: bytes) -> list[tuple[int, bytes]] | None:
    """The (id, data) blocks of an extra field, zip64 blocks left out; None if malformed."""
    blocks = []
    pos = 0
    while pos + 4 <= len(extra):
        block_id, size = struct.unpack_from("<HH", extra, pos)
        if pos + 4 + size > len(extra):
            return None
        if block_id != _ZIP64_BLOCK:
            blocks.append((block_id, extra[pos + 4 : pos + 4 + size]))
        pos += 4 + size
    return blocks if pos == len(extra) else None


def _extra_text(extra: bytes) -> str:
    blocks = _blocks(extra)
    if blocks is None:
        return short(extra, 60)
    return ", ".join(f"{block_id:#06x} ({len(data)} bytes)" for block_id, data in blocks) or "none"


def _extra_changes(field: str, extra_a: bytes, extra_b: bytes) -> list[FieldChange]:
    if extra_a == extra_b:
        return []
    blocks_a, blocks_b = _blocks(extra_a), _blocks(extra_b)
    if (
        blocks_a is None
        or blocks_b is None
        or [block_id for block_id, _ in blocks_a] != [block_id for block_id, _ in blocks_b]
    ):
        return [
            FieldChange(
                category=Category.CONTAINER,
                field=field,
                a=_extra_text(extra_a),
                b=_extra_text(extra_b),
            )
        ]
    changes = []
    for (block_id, data_a), (_, data_b) in zip(blocks_a, blocks_b, strict=True):
        if data_a == data_b:
            continue
        if block_id in _TIME_BLOCKS:
            category = Category.TIMESTAMP
        elif block_id in _OWNER_BLOCKS:
            category = Category.OWNERSHIP
        else:
            category = Category.CONTAINER
        changes.append(
            FieldChange(
                category=category,
                field=f"{field} {block_id:#06x}",
                a=data_a.hex(),
                b=data_b.hex(),
            )
        )
    return changes


def _zip_headers(a: Member, b: Member) -> list[FieldChange]:
    za, zb = _details(a), _details(b)
    changes: list[FieldChange] = []

    def container(field: str, value_a: object, value_b: object) -> None:
        if value_a != value_b:
            changes.append(
                FieldChange(
                    category=Category.CONTAINER, field=field, a=short(value_a), b=short(value_b)
                )
            )

    if a.mtime == b.mtime and (za.dos_time, za.dos_date) != (zb.dos_time, zb.dos_date):
        changes.append(
            FieldChange(
                category=Category.TIMESTAMP,
                field="dos time",
                a=f"{za.dos_date:#06x} {za.dos_time:#06x}",
                b=f"{zb.dos_date:#06x} {zb.dos_time:#06x}",
            )
        )
    unix_a, unix_b = za.external_attr >> 16, zb.external_attr >> 16
    changes += mode_changes(a.kind, unix_a & 0o7777, unix_b & 0o7777)
    if a.kind is b.kind and (unix_a & _TYPE_BITS) != (unix_b & _TYPE_BITS):
        container("file type bits", f"{unix_a & _TYPE_BITS:#o}", f"{unix_b & _TYPE_BITS:#o}")
    container(
        "MS-DOS attributes", f"{za.external_attr & 0xFFFF:#x}", f"{zb.external_attr & 0xFFFF:#x}"
    )
    if za.method != zb.method:
        changes.append(
            FieldChange(
                category=Category.COMPRESSION,
                field="method",
                a=_method(za.method),
                b=_method(zb.method),
            )
        )
    if (za.flags ^ zb.flags) & _COMPRESSION_FLAGS:
        changes.append(
            FieldChange(
                category=Category.COMPRESSION,
                field="deflate option flags",
                a=f"{za.flags & _COMPRESSION_FLAGS:#x}",
                b=f"{zb.flags & _COMPRESSION_FLAGS:#x}",
            )
        )
    container(
        "flags", f"{za.flags & ~_COMPRESSION_FLAGS:#06x}", f"{zb.flags & ~_COMPRESSION_FLAGS:#06x}"
    )
    container("system made by", za.create_system, zb.create_system)
    container("version made by", za.create_version, zb.create_version)
    container("version needed", za.extract_version, zb.extract_version)
    container("internal attributes", za.internal_attr, zb.internal_attr)
    changes += _extra_changes("extra field", za.extra, zb.extra)
    changes += _extra_changes("local extra field", za.local_extra, zb.local_extra)
    container("comment", za.comment, zb.comment)
    container("data descriptor", za.data_descriptor, zb.data_descriptor)
    container("local header differs in", za.local_mismatch, zb.local_mismatch)
    return changes


def _same_raw(a: Buffer, b: Buffer) -> bool:
    """Whether two stored byte strings are equal, compared a block at a time as ``bytes``
    (fast, and never a copy of a large member whole)."""
    return equal_buffers(a, b)


def _zip_content(a: Member, b: Member, context: Context) -> Difference | None:
    za, zb = _details(a), _details(b)
    raw_a, raw_b = a.payload.raw, b.payload.raw
    if (za.crc32, za.method, za.compressed_size, a.size) == (
        zb.crc32,
        zb.method,
        zb.compressed_size,
        b.size,
    ) and _same_raw(raw_a, raw_b):
        return None
    if max(a.size, b.size, za.compressed_size, zb.compressed_size) > MEMBER_HOLD:
        return _large_content(a, b, context)
    try:
        data_a = a.data()
        data_b = b.data()
    except PARSE_ERRORS as exc:
        found = byte_difference(
            a.name,
            b.name,
            raw_a,
            raw_b,
            comment=f"cannot inflate ({exc}); the stored bytes are compared",
            labels=context.options.labels,
        )
        return found or leaf(
            a.name,
            b.name,
            Category.CONTENT,
            comment=f"cannot inflate ({exc}); the stored bytes are equal, their CRC-32 differs",
        )
    if data_a != data_b:
        return context.recurse(
            Item(name=a.name, data=data_a, member=a), Item(name=b.name, data=data_b, member=b)
        )
    return _same_content(a, b, zlib.crc32(data_a))


def _same_content(a: Member, b: Member, crc: int) -> Difference | None:
    """What differs between two members of equal content (whose CRC-32 is ``crc``) whose
    stored bytes differ."""
    za, zb = _details(a), _details(b)
    if za.crc32 != zb.crc32:
        wrong = " and ".join(side for side, z in (("a", za), ("b", zb)) if z.crc32 != crc)
        return leaf(
            sub(a.name, "crc32"),
            sub(b.name, "crc32"),
            Category.CONTENT,
            comment=f"{za.crc32:#010x} vs {zb.crc32:#010x} for the same content: the CRC-32 of "
            f"{wrong} does not match it (installers refuse the member)",
        )
    if za.method != zb.method:
        return None  # the method leaf says it
    return leaf(
        sub(a.name, "compressed data"),
        sub(b.name, "compressed data"),
        Category.COMPRESSION,
        comment=f"the same {a.size} bytes compressed differently "
        f"({za.compressed_size} vs {zb.compressed_size} bytes)",
    )


class _Crc:
    """The CRC-32 of the blocks passed through it."""

    def __init__(self, blocks: Iterable[Buffer]) -> None:
        self._blocks = blocks
        self.value = 0

    def __iter__(self) -> Iterator[Buffer]:
        for block in self._blocks:
            self.value = zlib.crc32(block, self.value)
            yield block


def _large_content(a: Member, b: Member, context: Context) -> Difference | None:
    """:func:`_zip_content` for members too large to hold: both inflated a block at a time
    and compared as bytes (not through the registry: no text diff of a member this large)."""
    note = (
        f"compared as bytes, a block at a time: larger than the {MEMBER_HOLD >> 20} MiB "
        "a member is held in memory"
    )
    labels = context.options.labels
    crc_a = _Crc(a.payload.blocks())
    try:
        found = streamed_difference(
            a.name, b.name, crc_a, b.payload.blocks(), comment=note, labels=labels
        )
    except PARSE_ERRORS as exc:
        found = streamed_difference(
            a.name,
            b.name,
            a.payload.raw_blocks(),
            b.payload.raw_blocks(),
            comment=f"cannot inflate ({exc}); the stored bytes are compared",
            labels=labels,
        )
        return found or leaf(
            a.name,
            b.name,
            Category.CONTENT,
            comment=f"cannot inflate ({exc}); the stored bytes are equal, their CRC-32 differs",
        )
    if found is not None:
        return found
    return _same_content(a, b, crc_a.value)


@dataclass(frozen=True, slots=True)
class ZipComparator:
    """Zip archives, by their ``PK`` signature (or, for a prefixed zip, by their name)."""

    name: str = "zip"

    def accepts(self, a: Item, b: Item) -> bool:
        return all(item.startswith(_MAGIC) or item.basename.endswith(_SUFFIXES) for item in (a, b))

    def compare(self, a: Item, b: Item, context: Context) -> Difference | None:
        limits = context.options.limits
        archive_a = parse_archive(a.data, limits=limits, allow_duplicates=True, digests=False)
        archive_b = parse_archive(b.data, limits=limits, allow_duplicates=True, digests=False)
        container: list[Difference] = []
        if archive_a.comment != archive_b.comment:
            container.append(
                leaf(
                    sub(a.name, "(zip archive comment)"),
                    sub(b.name, "(zip archive comment)"),
                    Category.CONTAINER,
                    comment=f"{short(archive_a.comment)} vs {short(archive_b.comment)}",
                )
            )
        if archive_a.unaccounted != archive_b.unaccounted:
            container.append(
                leaf(
                    sub(a.name, "(unaccounted bytes)"),
                    sub(b.name, "(unaccounted bytes)"),
                    Category.CONTAINER,
                    comment=f"{archive_a.unaccounted} vs {archive_b.unaccounted} bytes belong "
                    "to no member or header",
                )
            )
        return compare_archives(
            a,
            b,
            archive_a,
            archive_b,
            context,
            container=container,
            headers=_zip_headers,
            content=_zip_content,
        )


ZIP = ZipComparator()
