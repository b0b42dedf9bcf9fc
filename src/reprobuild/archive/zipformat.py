"""Read and write zip files (wheels), every header field kept, with the standard library only.

A zip file is read from its end. The *end of central directory* record (EOCD, ``PK\\5\\6``, 22
bytes plus the archive comment) points to the *central directory*: one entry (``PK\\1\\2``) per
member with all of its header fields and the offset of its *local header* (``PK\\3\\4``). The
local header repeats most fields and is followed by the member's compressed data and, when flag
bit 3 is set, by a *data descriptor* (``PK\\7\\8``, optional signature) holding the CRC and sizes
that a streaming writer did not know in advance. Zip64 archives replace 32-bit sizes and offsets
by ``0xFFFFFFFF`` and store the real values in an extra field (id ``0x0001``), and add a zip64
EOCD record and locator before the EOCD.

``parse_zip`` validates what it reads (a local header that contradicts the central directory,
overlapping members, bombs) and keeps the compressed bytes of each member as a zero-copy view,
so that ``write_zip`` copies them raw unless the model asks for another compression method.
"""

from __future__ import annotations

import functools
import itertools
import stat
import struct
import time
import zlib
from dataclasses import dataclass, replace

from reprobuild._fs import sha256_hex
from reprobuild._types import Buffer
from reprobuild.archive.model import (
    Archive,
    Container,
    Limits,
    Member,
    MemberKind,
    Payload,
    ZipDetails,
    ZipMethod,
)
from reprobuild.archive.spool import MEMBER_HOLD
from reprobuild.errors import ArchiveError, UnsafeArchiveError

__all__ = [
    "ZipEntry",
    "dos_datetime",
    "find_end_of_central_directory",
    "list_zip",
    "mtime_from_dos",
    "parse_zip",
    "write_zip",
    "write_zip_chunks",
]

_LOCAL = struct.Struct("<IHHHHHIIIHH")  # local file header, 30 bytes
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")  # central directory entry, 46 bytes
_EOCD = struct.Struct("<IHHHHIIH")  # end of central directory, 22 bytes
_EOCD64 = struct.Struct("<IQHHIIQQQQ")  # zip64 end of central directory record, 56 bytes
_LOCATOR = struct.Struct("<IIQI")  # zip64 end of central directory locator, 20 bytes
_LOCAL_SIG, _CENTRAL_SIG, _EOCD_SIG = 0x04034B50, 0x02014B50, 0x06054B50
_EOCD64_SIG, _LOCATOR_SIG, _DESCRIPTOR_SIG = 0x06064B50, 0x07064B50, 0x08074B50
_EOCD_SEARCH = _EOCD.size + 0xFFFF  # the EOCD and the longest archive comment

_ENCRYPTED, _DESCRIPTOR_FLAG, _UTF8 = 0x1, 0x8, 0x800
_MSDOS_DIRECTORY = 0x10
_UNIX = 3
_ZIP64_VERSION = 45
#: values from which a field needs zip64 when writing (module constants so tests can lower them)
_LIMIT32 = 0xFFFFFFFF
_LIMIT16 = 0xFFFF


def _timegm(year: int, month: int, day: int, hour: int, minute: int, second: int) -> int:
    """Seconds since the epoch of a UTC date and time (``calendar.timegm`` without its import
    cost); days, hours, minutes and seconds out of range carry over."""
    shifted = year - (month <= 2)
    era = shifted // 400
    year_of_era = shifted - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    days = era * 146097 + day_of_era - 719468
    return ((days * 24 + hour) * 60 + minute) * 60 + second


_DOS_MIN = _timegm(1980, 1, 1, 0, 0, 0)
_DOS_MAX = _timegm(2107, 12, 31, 23, 59, 58)
_BENIGN = ("extract_version", "flags", "dos_time", "dos_date")


# --------------------------------------------------------------------------- MS-DOS times


def dos_datetime(mtime: int) -> tuple[int, int]:
    """``(dos_time, dos_date)`` for ``mtime`` read as UTC, clamped to 1980..2107, even seconds."""
    t = time.gmtime(min(max(mtime, _DOS_MIN), _DOS_MAX))
    dos_time = t.tm_hour << 11 | t.tm_min << 5 | t.tm_sec // 2
    dos_date = (t.tm_year - 1980) << 9 | t.tm_mon << 5 | t.tm_mday
    return dos_time, dos_date


@functools.lru_cache(maxsize=4096)  # the members of an archive share few times
def mtime_from_dos(dos_time: int, dos_date: int) -> int:
    """Seconds since the epoch of an MS-DOS time and date read as UTC.

    Month and day are clamped to at least 1 (an all-zero date is 1980-01-01) and the month to at
    most 12; other out-of-range values simply carry over, as ``calendar.timegm`` does.
    """
    month = min(max((dos_date >> 5) & 0xF, 1), 12)
    day = max(dos_date & 0x1F, 1)
    return _timegm(
        1980 + (dos_date >> 9),
        month,
        day,
        dos_time >> 11,
        (dos_time >> 5) & 0x3F,
        (dos_time & 0x1F) * 2,
    )


# --------------------------------------------------------------------------- reading


def find_end_of_central_directory(data: Buffer) -> int | None:
    """The offset of the EOCD record, or None.

    The record is searched backwards in the last 65557 bytes; a candidate counts only when its
    comment length reaches exactly the end of ``data``.
    """
    start = max(0, len(data) - _EOCD_SEARCH)
    tail = bytes(data[start:])
    end = len(tail)
    while (pos := tail.rfind(b"PK\x05\x06", 0, end)) >= 0:
        if pos + _EOCD.size <= len(tail):
            (comment_length,) = struct.unpack_from("<H", tail, pos + 20)
            if pos + _EOCD.size + comment_length == len(tail):
                return start + pos
        end = pos + 3
    return None


def _signature(view: memoryview, pos: int) -> int:
    """The 4-byte signature at ``pos``, or -1 past the end of ``view``."""
    return int.from_bytes(view[pos : pos + 4], "little") if 0 <= pos <= len(view) - 4 else -1


def _zip64_fields(
    extra: Buffer, values: list[int], widths: tuple[int, ...], *, member: str, offset: int
) -> list[int]:
    """``values`` with the saturated ones (all bits set) read from the zip64 extra field.

    ``widths`` are the header widths of the fields (4 or 2 bytes); in the extra field, in the
    same order, a 4-byte field takes 8 bytes and a 2-byte field (the disk number) 4.
    """
    saturated = [v == (1 << 8 * w) - 1 for v, w in zip(values, widths, strict=True)]
    if not any(saturated):
        return values
    pos, block = 0, b""
    while pos + 4 <= len(extra):
        block_id, size = struct.unpack_from("<HH", extra, pos)
        if block_id == 1:
            block = bytes(extra[pos + 4 : pos + 4 + size])
            break
        pos += 4 + size
    result, at = [], 0
    for value, width, wide in zip(values, widths, saturated, strict=True):
        if not wide:
            result.append(value)
            continue
        if at + 2 * width > len(block):
            raise ArchiveError(
                "zip64 values are missing from the extra field", member=member, offset=offset
            )
        result.append(int.from_bytes(block[at : at + 2 * width], "little"))
        at += 2 * width
    return result


def _descriptor_length(view: memoryview, pos: int, expected: tuple[int, int, int]) -> int:
    """Length of the data descriptor at ``pos`` that repeats ``expected`` (crc, sizes), or 0."""
    signed = _signature(view, pos) == _DESCRIPTOR_SIG
    for skip, fmt in ((4, "<III"), (4, "<IQQ"), (0, "<III"), (0, "<IQQ")):
        length = skip + struct.calcsize(fmt)
        if (
            (signed or not skip)
            and pos + length <= len(view)
            and struct.unpack_from(fmt, view, pos + skip) == expected
        ):
            return length
    return 0


def _locate_central_directory(view: memoryview, eocd: int) -> tuple[int, int, int, int, int]:
    """``(start, size, entry count, shift, start of the end records)`` of the central directory.

    ``shift`` is the length of a prefix prepended after the archive was written (offsets stored
    in the file then count from the start of the zip, not of the file); like ``zipfile``, it is
    found by assuming that the central directory ends where the end records start. The end
    records are the zip64 EOCD record and locator, if present, and the EOCD.
    """
    _, disk, cd_disk, _, count, cd_size, cd_offset, _ = _EOCD.unpack_from(view, eocd)
    records = eocd
    locator = eocd - _LOCATOR.size
    if _signature(view, locator) == _LOCATOR_SIG:
        _, disk, stored, disks = _LOCATOR.unpack_from(view, locator)
        fallback = locator - _EOCD64.size  # where the record is when a prefix shifted offsets
        candidates = [s for s in (stored, fallback) if 0 <= s <= fallback]
        records = next((s for s in candidates if _signature(view, s) == _EOCD64_SIG), -1)
        if records < 0:
            raise ArchiveError("zip64 end of central directory record not found", offset=stored)
        (_, size, _, _, disk64, cd_disk, _, count, cd_size, cd_offset) = _EOCD64.unpack_from(
            view, records
        )
        if records + 12 + size > locator:
            raise ArchiveError("zip64 end of central directory record is truncated", offset=records)
        disk = disk or disk64 or (disks > 1)
    if disk or cd_disk:
        raise ArchiveError(
            "multi-disk zip archives are not supported",
            hint="join the parts into a single zip file first",
        )
    if cd_offset + cd_size > records:
        raise ArchiveError(
            "central directory runs into the end of central directory record", offset=cd_offset
        )
    shift = 0
    if count and _signature(view, cd_offset) != _CENTRAL_SIG:
        shift = records - cd_size - cd_offset
        if not shift or _signature(view, cd_offset + shift) != _CENTRAL_SIG:
            raise ArchiveError("no central directory at its declared offset", offset=cd_offset)
    return cd_offset + shift, cd_size, count, shift, records


def parse_zip(data: Buffer, *, limits: Limits, digests: bool = True) -> Archive:
    """Read a zip file into an :class:`Archive`, refusing corrupt and hostile input.

    Central entries and local headers are read and cross-checked first, then overlaps are
    refused, and only then is each member inflated (capped at its declared size) to check its
    CRC and compute its digest. With ``digests`` False, members are not inflated (symbolic links
    aside, for their targets): ``sha256`` stays empty and CRCs are not checked, so reading is
    bound by I/O alone.
    """
    view = memoryview(data).cast("B")
    try:
        return _parse(view, limits, digests)
    except struct.error as exc:  # a bounds check missed: still the caller's corrupt input
        raise ArchiveError(f"truncated zip structure: {exc}") from exc


def _parse(view: memoryview, limits: Limits, digests: bool) -> Archive:
    eocd = find_end_of_central_directory(view)
    if eocd is None:
        raise ArchiveError(
            "no end of central directory record",
            hint="the file is truncated, or it is not a zip file",
        )
    cd_start, cd_size, count, shift, records = _locate_central_directory(view, eocd)
    if count > limits.max_members:
        raise UnsafeArchiveError(
            f"{count} members, more than the limit of {limits.max_members}",
            hint="this looks like a zip bomb",
        )
    if count * _CENTRAL.size > cd_size:
        raise ArchiveError(f"central directory too short for its {count} entries", offset=cd_start)
    # (start, end, member name or None for the central directory and end records)
    spans: list[tuple[int, int, str | None]] = [(records, len(view), None)]
    entries: list[Member] = []
    total = 0
    pos = cd_start
    for _ in range(count):
        member, extent, pos = _read_entry(view, pos, cd_start + cd_size, shift, limits)
        entries.append(member)
        spans.append((extent[0], extent[1], member.name))
        total += member.size
        if total > limits.max_total_size:
            raise UnsafeArchiveError(
                f"members expand to more than {limits.max_total_size} bytes",
                member=member.name,
                hint="this looks like a zip bomb",
            )
    spans.append((cd_start, pos, None))
    _check_spans(spans)
    covered = sum(end - start for start, end, _ in spans)
    return Archive(
        container=Container.ZIP,
        members=tuple(
            _finish(m) if digests or m.kind is MemberKind.SYMLINK else m for m in entries
        ),
        comment=bytes(view[eocd + _EOCD.size :]),
        unaccounted=len(view) - covered,
    )


def _check_central(
    name: str,
    flags: int,
    method: int,
    usize: int,
    csize: int,
    disk: int,
    pos: int,
    limits: Limits,
) -> None:
    """Refuse a central directory entry reprobuild does not read (another disk, encrypted,
    another method, a stored member whose sizes differ) or whose ratio looks like a bomb."""
    if disk:
        raise ArchiveError(
            "multi-disk zip archives are not supported",
            member=name,
            hint="join the parts into a single zip file first",
        )
    if flags & _ENCRYPTED:
        raise ArchiveError(
            "encrypted member", member=name, hint="reprobuild reads unencrypted zip files only"
        )
    if method not in (ZipMethod.STORED, ZipMethod.DEFLATED):
        raise ArchiveError(
            f"unsupported compression method {method}",
            member=name,
            hint="reprobuild reads stored (0) and deflated (8) zip members",
        )
    if method == ZipMethod.STORED and csize != usize:
        raise ArchiveError(
            f"stored member of {usize} bytes has {csize} bytes of data", member=name, offset=pos
        )
    if usize > limits.ratio_floor and usize > csize * limits.max_ratio:
        raise UnsafeArchiveError(
            f"member claims {usize} bytes from {csize} compressed, a ratio above "
            f"{limits.max_ratio}",
            member=name,
            hint="this looks like a zip bomb",
        )


def _read_entry(
    view: memoryview, pos: int, cd_end: int, shift: int, limits: Limits
) -> tuple[Member, tuple[int, int], int]:
    """Read the central entry at ``pos`` and its local header, and check that they agree.

    Returns the member without its digest (``payload`` holds the compressed data), the extent of
    its local header, data and descriptor, and the position of the next central entry.
    """
    if pos + _CENTRAL.size > cd_end:
        raise ArchiveError("truncated central directory", offset=pos)
    (
        sig,
        made_by,
        extract_version,
        flags,
        method,
        dos_time,
        dos_date,
        crc,
        csize,
        usize,
        name_length,
        extra_length,
        comment_length,
        disk,
        internal_attr,
        external_attr,
        local,
    ) = _CENTRAL.unpack_from(view, pos)
    if sig != _CENTRAL_SIG:
        raise ArchiveError("bad central directory entry signature", offset=pos)
    name_end = pos + _CENTRAL.size + name_length
    next_pos = name_end + extra_length + comment_length
    if next_pos > cd_end:
        raise ArchiveError("truncated central directory", offset=pos)
    raw_name = bytes(view[pos + _CENTRAL.size : name_end])
    extra = bytes(view[name_end : name_end + extra_length]) if extra_length else b""
    try:
        # ASCII reads the same in UTF-8 and cp437 (whose codec is written in Python)
        name = raw_name.decode(
            "ascii" if raw_name.isascii() else "utf-8" if flags & _UTF8 else "cp437"
        )
    except UnicodeDecodeError:
        raise ArchiveError(
            "member name is not valid UTF-8", member=repr(raw_name), offset=pos
        ) from None
    if 0xFFFFFFFF in (usize, csize, local) or disk == 0xFFFF:
        usize, csize, local, disk = _zip64_fields(
            extra, [usize, csize, local, disk], (4, 4, 4, 2), member=name, offset=pos
        )
    _check_central(name, flags, method, usize, csize, disk, pos, limits)

    start = local + shift
    if start + _LOCAL.size > len(view):
        raise ArchiveError("truncated local header", member=name, offset=start)
    (
        sig,
        l_extract,
        l_flags,
        l_method,
        l_time,
        l_date,
        l_crc,
        l_csize,
        l_usize,
        l_name_length,
        l_extra_length,
    ) = _LOCAL.unpack_from(view, start)
    if sig != _LOCAL_SIG:
        raise ArchiveError("bad local header signature", member=name, offset=start)
    data_start = start + _LOCAL.size + l_name_length + l_extra_length
    data_end = data_start + csize
    if data_end > len(view):
        raise ArchiveError(
            "member data runs past the end of the file", member=name, offset=data_start
        )
    local_extra = bytes(view[data_start - l_extra_length : data_start]) if l_extra_length else b""
    confusion = []
    if bytes(view[start + _LOCAL.size : start + _LOCAL.size + l_name_length]) != raw_name:
        confusion.append("name")
    if l_method != method:
        confusion.append("method")
    if not l_flags & _DESCRIPTOR_FLAG:
        if 0xFFFFFFFF in (l_usize, l_csize):
            l_usize, l_csize = _zip64_fields(
                local_extra, [l_usize, l_csize], (4, 4), member=name, offset=start
            )
        if (l_crc, l_csize, l_usize) != (crc, csize, usize):
            confusion.append("crc32 and sizes")
    if confusion:
        raise UnsafeArchiveError(
            f"local header disagrees with the central directory ({', '.join(confusion)})",
            member=name,
            offset=start,
            hint="tools that read the local headers would see other content (zip confusion)",
        )
    descriptor = 0
    if l_flags & _DESCRIPTOR_FLAG:
        descriptor = _descriptor_length(view, data_end, (crc, csize, usize))
    central_values = (extract_version, flags, dos_time, dos_date)
    local_values = (l_extract, l_flags, l_time, l_date)
    details = ZipDetails(
        create_system=made_by >> 8,
        create_version=made_by & 0xFF,
        extract_version=extract_version,
        flags=flags,
        method=method,
        dos_time=dos_time,
        dos_date=dos_date,
        crc32=crc,
        compressed_size=csize,
        internal_attr=internal_attr,
        external_attr=external_attr,
        extra=extra,
        local_extra=local_extra,
        comment=bytes(view[name_end + extra_length : next_pos]) if comment_length else b"",
        data_descriptor=descriptor > 0,
        local_mismatch=()
        if local_values == central_values
        else tuple(
            sorted(
                field
                for field, here, there in zip(_BENIGN, local_values, central_values, strict=True)
                if here != there
            )
        ),
    )
    unix = external_attr >> 16 if made_by >> 8 == _UNIX else 0
    if stat.S_ISLNK(unix):
        kind = MemberKind.SYMLINK
    elif name.endswith("/") or external_attr & _MSDOS_DIRECTORY:
        kind = MemberKind.DIR
    else:
        kind = MemberKind.FILE
    member = Member(
        name=name,
        kind=kind,
        mode=unix & 0o7777 if unix else None,
        mtime=mtime_from_dos(dos_time, dos_date),
        size=usize,
        zip=details,
        payload=Payload(raw=view[data_start:data_end], method=method, size=usize),
    )
    return member, (start, data_end + descriptor), next_pos


def _finish(member: Member) -> Member:
    """``member`` with its content checked against size and CRC, digest and link target set."""
    assert member.zip is not None
    if member.size > MEMBER_HOLD and member.kind is not MemberKind.SYMLINK:
        return _finish_streamed(member)
    raw = member.payload.raw
    content: Buffer = raw
    if member.zip.method == ZipMethod.DEFLATED:
        try:
            content = member.payload.data()  # bounded by the declared size
        except ArchiveError as exc:
            exc.member = exc.member or member.name
            raise
    if zlib.crc32(content) != member.zip.crc32:
        raise ArchiveError("CRC-32 mismatch: the member's data is corrupt", member=member.name)
    link_target = None
    if member.kind is MemberKind.SYMLINK:
        try:
            link_target = bytes(content).decode("utf-8")
        except UnicodeDecodeError:
            raise ArchiveError(
                "symbolic link target is not valid UTF-8", member=member.name
            ) from None
    return replace(member, sha256=sha256_hex(content), link_target=link_target)


def _finish_streamed(member: Member) -> Member:
    """:func:`_finish` for a large member: inflated, CRC-checked and hashed a block at a time,
    never held whole."""
    assert member.zip is not None
    from hashlib import sha256

    digest = sha256()
    crc = 0
    try:
        for block in member.payload.blocks():
            crc = zlib.crc32(block, crc)
            digest.update(block)
    except ArchiveError as exc:
        exc.member = exc.member or member.name
        raise
    if crc != member.zip.crc32:
        raise ArchiveError("CRC-32 mismatch: the member's data is corrupt", member=member.name)
    return replace(member, sha256=digest.hexdigest())


@dataclass(frozen=True, slots=True)
class ZipEntry:
    """One member of a zip file as :func:`list_zip` reads it: what identifies its content,
    without the header fields a rewrite needs (times, extra fields, versions). (A dataclass,
    not a ``NamedTuple``: a comparison must not import ``typing``.)"""

    name: str
    kind: MemberKind
    mode: int | None  #: the Unix permission bits, when the writer recorded them
    size: int
    crc32: int
    payload: Payload
    link_target: str | None = None

    @property
    def path(self) -> str:
        """The name without a directory's trailing slash."""
        return self.name.rstrip("/") if self.kind is MemberKind.DIR else self.name


def list_zip(data: Buffer, *, limits: Limits) -> tuple[ZipEntry, ...]:
    """The members of a zip file, in central-directory order, each with its compressed bytes
    (a view of ``data``): :func:`parse_zip` without the header fields that only a rewrite
    needs, and so faster. The structure is checked as :func:`parse_zip` checks it (local
    headers against the central directory, overlaps, bombs, unsupported methods); a symbolic
    link's target is read, and its CRC checked; other members are not inflated."""
    view = memoryview(data).cast("B")
    try:
        return _list(view, limits)
    except struct.error as exc:  # a bounds check missed: still the caller's corrupt input
        raise ArchiveError(f"truncated zip structure: {exc}") from exc


def _list(view: memoryview, limits: Limits) -> tuple[ZipEntry, ...]:
    eocd = find_end_of_central_directory(view)
    if eocd is None:
        raise ArchiveError(
            "no end of central directory record",
            hint="the file is truncated, or it is not a zip file",
        )
    cd_start, cd_size, count, shift, records = _locate_central_directory(view, eocd)
    if count > limits.max_members:
        raise UnsafeArchiveError(
            f"{count} members, more than the limit of {limits.max_members}",
            hint="this looks like a zip bomb",
        )
    if count * _CENTRAL.size > cd_size:
        raise ArchiveError(f"central directory too short for its {count} entries", offset=cd_start)
    spans: list[tuple[int, int, str | None]] = [(records, len(view), None)]
    entries: list[ZipEntry] = []
    total = 0
    pos = cd_start
    cd_end = cd_start + cd_size
    central = _CENTRAL.unpack_from
    local_header = _LOCAL.unpack_from
    size = len(view)
    for _ in range(count):
        if pos + _CENTRAL.size > cd_end:
            raise ArchiveError("truncated central directory", offset=pos)
        (
            sig,
            made_by,
            _,
            flags,
            method,
            _,
            _,
            crc,
            csize,
            usize,
            name_length,
            extra_length,
            comment_length,
            disk,
            _,
            external_attr,
            local,
        ) = central(view, pos)
        if sig != _CENTRAL_SIG:
            raise ArchiveError("bad central directory entry signature", offset=pos)
        name_end = pos + _CENTRAL.size + name_length
        next_pos = name_end + extra_length + comment_length
        if next_pos > cd_end:
            raise ArchiveError("truncated central directory", offset=pos)
        raw_name = bytes(view[pos + _CENTRAL.size : name_end])
        try:
            name = raw_name.decode(
                "ascii" if raw_name.isascii() else "utf-8" if flags & _UTF8 else "cp437"
            )
        except UnicodeDecodeError:
            raise ArchiveError(
                "member name is not valid UTF-8", member=repr(raw_name), offset=pos
            ) from None
        if 0xFFFFFFFF in (usize, csize, local) or disk == 0xFFFF:
            extra = bytes(view[name_end : name_end + extra_length])
            usize, csize, local, disk = _zip64_fields(
                extra, [usize, csize, local, disk], (4, 4, 4, 2), member=name, offset=pos
            )
        _check_central(name, flags, method, usize, csize, disk, pos, limits)
        start = local + shift
        if start + _LOCAL.size > size:
            raise ArchiveError("truncated local header", member=name, offset=start)
        (sig, _, l_flags, l_method, _, _, l_crc, l_csize, l_usize, l_name_length, l_extra) = (
            local_header(view, start)
        )
        if sig != _LOCAL_SIG:
            raise ArchiveError("bad local header signature", member=name, offset=start)
        data_start = start + _LOCAL.size + l_name_length + l_extra
        data_end = data_start + csize
        if data_end > size:
            raise ArchiveError(
                "member data runs past the end of the file", member=name, offset=data_start
            )
        confusion = []
        if view[start + _LOCAL.size : start + _LOCAL.size + l_name_length] != raw_name:
            confusion.append("name")
        if l_method != method:
            confusion.append("method")
        if not l_flags & _DESCRIPTOR_FLAG:
            if 0xFFFFFFFF in (l_usize, l_csize):
                local_extra = bytes(view[data_start - l_extra : data_start])
                l_usize, l_csize = _zip64_fields(
                    local_extra, [l_usize, l_csize], (4, 4), member=name, offset=start
                )
            if (l_crc, l_csize, l_usize) != (crc, csize, usize):
                confusion.append("crc32 and sizes")
        if confusion:
            raise UnsafeArchiveError(
                f"local header disagrees with the central directory ({', '.join(confusion)})",
                member=name,
                offset=start,
                hint="tools that read the local headers would see other content (zip confusion)",
            )
        end = data_end
        if l_flags & _DESCRIPTOR_FLAG:
            end += _descriptor_length(view, data_end, (crc, csize, usize))
        unix = external_attr >> 16 if made_by >> 8 == _UNIX else 0
        if stat.S_ISLNK(unix):
            kind = MemberKind.SYMLINK
        elif name.endswith("/") or external_attr & _MSDOS_DIRECTORY:
            kind = MemberKind.DIR
        else:
            kind = MemberKind.FILE
        entries.append(
            ZipEntry(
                name=name,
                kind=kind,
                mode=unix & 0o7777 if unix else None,
                size=usize,
                crc32=crc,
                payload=Payload(raw=view[data_start:data_end], method=method, size=usize),
            )
        )
        spans.append((start, end, name))
        total += usize
        if total > limits.max_total_size:
            raise UnsafeArchiveError(
                f"members expand to more than {limits.max_total_size} bytes",
                member=name,
                hint="this looks like a zip bomb",
            )
        pos = next_pos
    spans.append((cd_start, pos, None))
    _check_spans(spans)
    return tuple(
        replace(e, link_target=_link_target(e.name, e.payload, e.crc32))
        if e.kind is MemberKind.SYMLINK
        else e
        for e in entries
    )


def _check_spans(spans: list[tuple[int, int, str | None]]) -> None:
    """Refuse member data that overlaps other member data or the central directory."""
    spans.sort(key=lambda span: (span[0], span[1]))
    for (_, prev_end, prev), (start, _, name) in itertools.pairwise(spans):
        if start < prev_end:
            if prev is not None and name is not None:
                raise UnsafeArchiveError(
                    f"member data overlaps member {prev!r}",
                    member=name,
                    offset=start,
                    hint="this looks like a zip bomb (overlapping entries)",
                )
            raise ArchiveError(
                "member data runs into the central directory", member=prev or name, offset=start
            )


def _link_target(name: str, payload: Payload, crc: int) -> str:
    """A symbolic link's target, its CRC checked, as :func:`_finish` reads it."""
    try:
        content: Buffer = payload.data() if payload.method == ZipMethod.DEFLATED else payload.raw
    except ArchiveError as exc:
        exc.member = exc.member or name
        raise
    if zlib.crc32(content) != crc:
        raise ArchiveError("CRC-32 mismatch: the member's data is corrupt", member=name)
    try:
        return bytes(content).decode("utf-8")
    except UnicodeDecodeError:
        raise ArchiveError("symbolic link target is not valid UTF-8", member=name) from None


# --------------------------------------------------------------------------- writing


def _default_details(member: Member) -> ZipDetails:
    """Headers for a member that has none: made on Unix (or MS-DOS when it has no mode)."""
    dos_time, dos_date = dos_datetime(member.mtime)
    type_bits = {MemberKind.DIR: stat.S_IFDIR, MemberKind.SYMLINK: stat.S_IFLNK}
    mode = member.mode
    if mode is None and member.kind is MemberKind.SYMLINK:
        mode = 0o777
    attr = 0 if mode is None else (type_bits.get(member.kind, stat.S_IFREG) | mode) << 16
    if member.kind is MemberKind.DIR:
        attr |= _MSDOS_DIRECTORY
    return ZipDetails(
        create_system=0 if mode is None else _UNIX,
        flags=0 if member.name.isascii() else _UTF8,
        method=ZipMethod.STORED if member.kind is MemberKind.DIR else ZipMethod.DEFLATED,
        dos_time=dos_time,
        dos_date=dos_date,
        external_attr=attr,
    )


def _stored_data(member: Member, details: ZipDetails, level: int) -> tuple[Buffer, int, int]:
    """``(bytes to write, crc32, uncompressed size)``: raw copy whenever the method allows."""
    payload = member.payload
    if payload.method == details.method:
        if payload.method == ZipMethod.STORED:
            return payload.raw, _crc32(payload), payload.size
        crc = details.crc32 if member.zip is not None else zlib.crc32(payload.data())
        return payload.raw, crc, payload.size
    if member.kind is MemberKind.SYMLINK and member.link_target and not payload.size:
        data = member.link_target.encode("utf-8")
    else:
        data = payload.data()
    if details.method == ZipMethod.STORED:
        return data, zlib.crc32(data), len(data)
    if details.method != ZipMethod.DEFLATED:
        raise ArchiveError(
            f"cannot compress with zip method {details.method}",
            member=member.name,
            hint="use stored (0) or deflated (8)",
        )
    deflater = zlib.compressobj(level, zlib.DEFLATED, -15)
    return deflater.compress(data) + deflater.flush(), zlib.crc32(data), len(data)


def _crc32(payload: Payload) -> int:
    """The CRC-32 of a stored payload; a large one a block at a time (the pages of a large
    input file are then let go behind)."""
    if payload.stored_size <= MEMBER_HOLD:
        return zlib.crc32(payload.raw)
    crc = 0
    for block in payload.raw_blocks():
        crc = zlib.crc32(block, crc)
    return crc


def _without_zip64(extra: bytes) -> bytes:
    """``extra`` without its zip64 block (unchanged when it is not a list of blocks)."""
    kept, pos = [], 0
    while pos + 4 <= len(extra):
        block_id, size = struct.unpack_from("<HH", extra, pos)
        if block_id != 1:
            kept.append(extra[pos : pos + 4 + size])
        pos += 4 + size
    return b"".join(kept) if pos == len(extra) else extra


def _check_length(what: str, value: bytes, member: str | None = None) -> None:
    if len(value) > 0xFFFF:
        raise ArchiveError(f"{what} is longer than 65535 bytes", member=member)


def _field(value: int, limit: int, marker: int) -> int:
    """``value`` as a header field: ``marker`` (all bits set) when zip64 must hold it."""
    return marker if value >= limit else value


def _encode_name(member: Member, flags: int) -> bytes:
    if member.name.isascii():  # the same bytes in UTF-8 and cp437, without the cp437 codec
        return member.name.encode("ascii")
    try:
        return member.name.encode("utf-8" if flags & _UTF8 else "cp437")
    except UnicodeEncodeError:
        raise ArchiveError(
            "member name cannot be written in the zip's cp437 encoding",
            member=member.name,
            hint="set the UTF-8 flag (0x800) in the member's ZipDetails.flags",
        ) from None


def _write_member(member: Member, offset: int, level: int) -> tuple[list[Buffer], list[bytes], int]:
    """The chunks of ``member``'s local header, data and descriptor, and of its central entry,
    and the length of the first."""
    if member.kind is MemberKind.HARDLINK:
        raise ArchiveError(
            "a zip file cannot hold a hard link",
            member=member.name,
            hint="store the linked file's content instead",
        )
    details = member.zip or _default_details(member)
    name = _encode_name(member, details.flags)
    data, crc, usize = _stored_data(member, details, level)
    csize = memoryview(data).nbytes
    flags = details.flags | (_DESCRIPTOR_FLAG if details.data_descriptor else 0)
    big_sizes = usize >= _LIMIT32 or csize >= _LIMIT32
    extract = details.extract_version
    if big_sizes or offset >= _LIMIT32:
        extract = max(extract, _ZIP64_VERSION)

    # local header: with a data descriptor, CRC and sizes follow the data instead
    local = (0, 0, 0) if details.data_descriptor else (crc, csize, usize)
    local_extra = details.local_extra
    if big_sizes:
        local_extra = struct.pack("<HHQQ", 1, 16, local[2], local[1]) + _without_zip64(local_extra)
        local = (local[0], 0xFFFFFFFF, 0xFFFFFFFF)
    extra = details.extra
    if usize >= _LIMIT32 or csize >= _LIMIT32 or offset >= _LIMIT32:
        wide = [v for v in (usize, csize, offset) if v >= _LIMIT32]
        extra = struct.pack(f"<HH{len(wide)}Q", 1, 8 * len(wide), *wide) + _without_zip64(extra)
    if max(len(name), len(local_extra), len(extra), len(details.comment)) > 0xFFFF:
        for what, value in (
            ("name", name),
            ("local extra field", local_extra),
            ("extra field", extra),
            ("comment", details.comment),
        ):
            _check_length(what, value, member.name)
    chunks: list[Buffer] = [
        _LOCAL.pack(
            _LOCAL_SIG,
            extract,
            flags,
            details.method,
            details.dos_time,
            details.dos_date,
            *local,
            len(name),
            len(local_extra),
        ),
        name,
        local_extra,
        data,
    ]
    length = _LOCAL.size + len(name) + len(local_extra) + csize
    if details.data_descriptor:
        fmt = "<IIQQ" if big_sizes else "<IIII"
        chunks.append(struct.pack(fmt, _DESCRIPTOR_SIG, crc, csize, usize))
        length += len(chunks[-1])
    central = [
        _CENTRAL.pack(
            _CENTRAL_SIG,
            details.create_system << 8 | details.create_version,
            extract,
            flags,
            details.method,
            details.dos_time,
            details.dos_date,
            crc,
            _field(csize, _LIMIT32, 0xFFFFFFFF),
            _field(usize, _LIMIT32, 0xFFFFFFFF),
            len(name),
            len(extra),
            len(details.comment),
            0,
            details.internal_attr,
            details.external_attr,
            _field(offset, _LIMIT32, 0xFFFFFFFF),
        ),
        name,
        extra,
        details.comment,
    ]
    return chunks, central, length


def write_zip(archive: Archive, *, level: int) -> bytes:
    """Write ``archive`` as a zip file: :func:`write_zip_chunks`, joined."""
    return b"".join(write_zip_chunks(archive, level=level))


def write_zip_chunks(archive: Archive, *, level: int) -> list[Buffer]:
    """Write ``archive`` as a zip file, deterministically, from the model alone.

    Members are written in order: local header (fields from :class:`ZipDetails`, ``local_extra``
    as its extra field), data, data descriptor if ``data_descriptor``; then the central
    directory and the EOCD with the archive comment. Compressed data is copied raw when the
    payload's method is the member's method, else the content is compressed anew at ``level``.
    Zip64 records are written only when a size, offset or count needs them. A member without
    :class:`ZipDetails` gets defaults made from its kind, mode and mtime. Bytes the reader
    counted as ``unaccounted`` are dropped.

    The file comes as the list of its pieces, in order: the data of a member copied raw is the
    payload's own view of the bytes it was read from, not a copy. Writing the pieces one after
    the other to a file (or joining them) gives the zip file.
    """
    chunks: list[Buffer] = []
    central: list[bytes] = []
    offset = 0
    for member in archive.members:
        local, entry, length = _write_member(member, offset, level)
        chunks += local
        central += entry
        offset += length
    cd_size = sum(len(chunk) for chunk in central)
    count = len(archive.members)
    _check_length("archive comment", archive.comment)
    if count >= _LIMIT16 or cd_size >= _LIMIT32 or offset >= _LIMIT32:
        central += [
            _EOCD64.pack(
                _EOCD64_SIG,
                _EOCD64.size - 12,
                _UNIX << 8 | _ZIP64_VERSION,
                _ZIP64_VERSION,
                0,
                0,
                count,
                count,
                cd_size,
                offset,
            ),
            _LOCATOR.pack(_LOCATOR_SIG, 0, offset + cd_size, 1),
        ]
    count16 = _field(count, _LIMIT16, 0xFFFF)
    central.append(
        _EOCD.pack(
            _EOCD_SIG,
            0,
            0,
            count16,
            count16,
            _field(cd_size, _LIMIT32, 0xFFFFFFFF),
            _field(offset, _LIMIT32, 0xFFFFFFFF),
            len(archive.comment),
        )
    )
    return [*chunks, *central, archive.comment]
