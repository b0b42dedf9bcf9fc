"""Our own tar reader and writer: 512-byte headers in v7, ustar, GNU and PAX forms.

A tar file is a sequence of 512-byte header blocks, each followed by the member's data padded to
512 bytes, and ends with (at least) two zero blocks, usually padded to a 10240-byte record.
Extensions precede the header they apply to: a PAX ``x`` header carries ``key=value`` records
(long names, sub-second times, large numbers), a PAX ``g`` header records for the whole archive,
and GNU ``L``/``K`` headers carry a long name or link target.

Reading keeps every field the model knows; writing produces bytes from the model alone, laid out
the way Python's ``tarfile`` lays them out, so an archive already in that form stays unchanged.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from dataclasses import dataclass

from reprobuild._fs import sha256_hex
from reprobuild._types import Buffer, PaxRecords
from reprobuild.archive.model import (
    Archive,
    Container,
    Limits,
    Member,
    MemberKind,
    Payload,
    TarDetails,
    TarFormat,
)
from reprobuild.archive.spool import BLOCK as BLOCK_SIZE
from reprobuild.errors import ArchiveError, UnsafeArchiveError

__all__ = [
    "BLOCK",
    "RECORD",
    "encoded_length",
    "iter_tar",
    "looks_like_tar",
    "member_header",
    "parse_tar",
    "record_padding",
    "required_pax",
    "write_tar",
]

BLOCK = 512
RECORD = 20 * BLOCK
_POSIX_MAGIC = b"ustar\x0000"
_GNU_MAGIC = b"ustar  \x00"
_KIND_OF_TYPE = {
    b"0": MemberKind.FILE,
    b"\x00": MemberKind.FILE,
    b"7": MemberKind.FILE,
    b"1": MemberKind.HARDLINK,
    b"2": MemberKind.SYMLINK,
    b"5": MemberKind.DIR,
}
_TYPE_OF_KIND = {
    MemberKind.FILE: b"0",
    MemberKind.HARDLINK: b"1",
    MemberKind.SYMLINK: b"2",
    MemberKind.DIR: b"5",
}
_UNSUPPORTED_TYPES = {
    b"3": "character device",
    b"4": "block device",
    b"6": "FIFO",
    b"S": "GNU sparse file",
    b"V": "GNU volume header",
    b"M": "GNU multi-volume continuation",
}
_ENCODING = "utf-8"
_ERRORS = "surrogateescape"


def looks_like_tar(data: Buffer) -> bool:
    """True when the first block is a tar header with a valid checksum."""
    if len(data) < BLOCK:
        return False
    block = bytes(data[:BLOCK])
    if block[257:262] == b"ustar":
        return True
    try:
        return _checksum_ok(block)
    except ArchiveError:
        return False


_HIGH_BYTES = bytes(range(128, 256))


def _checksum_ok(block: bytes) -> bool:
    """The header's checksum: the sum of its bytes (the checksum field counted as spaces), or,
    as some old tars wrote it, of the bytes read as signed chars (each byte above 127 then
    counts 256 less)."""
    stored = _number(block[148:156], "checksum")
    unsigned = sum(block[:148]) + 8 * 32 + sum(block[156:])
    if stored == unsigned:
        return True
    rest = block[:148] + block[156:]
    high = len(rest) - len(rest.translate(None, _HIGH_BYTES))
    return stored == unsigned - 256 * high


def _number(field: bytes, what: str) -> int:
    """A numeric header field: octal text, or GNU base-256 when the top bit is set."""
    if field and field[0] & 0x80:
        value = int.from_bytes(field[1:], "big")
        if field[0] == 0xFF:  # negative base-256
            value -= 256 ** (len(field) - 1)
        else:
            value |= (field[0] & 0x7F) << (8 * (len(field) - 1))
        return value
    text = field.split(b"\x00", 1)[0].strip(b" ")
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        raise ArchiveError(f"tar header field {what} is not a number: {field!r}") from None


def _text(field: bytes) -> str:
    return field.split(b"\x00", 1)[0].decode(_ENCODING, _ERRORS)


def _parse_pax(data: bytes, where: str) -> PaxRecords:
    records: list[tuple[str, str]] = []
    pos = 0
    while pos < len(data):
        if not any(data[pos:]):
            break
        space = data.find(b" ", pos)
        try:
            length = int(data[pos:space])
        except ValueError:
            raise ArchiveError("malformed PAX record length", member=where) from None
        record = data[space + 1 : pos + length]
        if space < 0 or length <= 0 or pos + length > len(data) or not record.endswith(b"\n"):
            raise ArchiveError("malformed PAX record", member=where)
        key, sep, value = record[:-1].partition(b"=")
        if not sep:
            raise ArchiveError("PAX record without '='", member=where)
        records.append((key.decode(_ENCODING, _ERRORS), value.decode(_ENCODING, _ERRORS)))
        pos += length
    return tuple(records)


@dataclass(slots=True)
class _Pending:
    """Extensions read so far that apply to the next real header."""

    pax: PaxRecords = ()
    long_name: str | None = None
    long_link: str | None = None


def parse_tar(data: Buffer, *, limits: Limits) -> Archive:
    """Read an uncompressed tar archive."""
    view = memoryview(data)
    members: list[Member] = []
    global_pax: list[tuple[str, str]] = []
    pending = _Pending()
    pos = 0
    end = len(view)
    while True:
        if pos + BLOCK > end:
            if pos == end and not (pending.pax or pending.long_name or pending.long_link):
                break  # no end-of-archive blocks: tolerated, as tar and tarfile do
            raise ArchiveError("tar archive is truncated inside a header", offset=pos)
        block = bytes(view[pos : pos + BLOCK])
        if not any(block):
            break
        if not _checksum_ok(block):
            raise ArchiveError("tar header checksum does not match", offset=pos)
        typeflag = block[156:157]
        size = _number(block[124:136], "size")
        data_start = pos + BLOCK
        raw_name = _text(block[0:100])
        if typeflag in (b"x", b"g", b"L", b"K"):
            if size > limits.max_total_size or data_start + size > end:
                raise ArchiveError("tar extension header is truncated", member=raw_name, offset=pos)
            body = bytes(view[data_start : data_start + size])
            if typeflag == b"x":
                pending.pax = _parse_pax(body, raw_name)
            elif typeflag == b"g":
                global_pax.extend(_parse_pax(body, raw_name))
            elif typeflag == b"L":
                pending.long_name = body.split(b"\x00", 1)[0].decode(_ENCODING, _ERRORS)
            else:
                pending.long_link = body.split(b"\x00", 1)[0].decode(_ENCODING, _ERRORS)
            pos = data_start + _padded(size)
            continue
        member = _member(block, pending, view, pos, limits)
        members.append(member)
        if len(members) > limits.max_members:
            raise UnsafeArchiveError(
                f"more than {limits.max_members} members", hint="this looks like a tar bomb"
            )
        pending = _Pending()
        stored = member.size if member.kind is MemberKind.FILE else 0
        pos = data_start + _padded(stored)
    trailer = end - pos
    return Archive(
        container=Container.TAR,
        members=tuple(members),
        tar_global_pax=tuple(global_pax),
        trailer_size=trailer,
        unaccounted=trailer if any(view[pos:]) else 0,
    )


def _padded(size: int) -> int:
    return -(-size // BLOCK) * BLOCK


def _member(block: bytes, pending: _Pending, view: memoryview, pos: int, limits: Limits) -> Member:
    member = member_header(block, pending, pos)
    stored = member.size
    start = pos + BLOCK
    if start + stored > len(view):
        raise ArchiveError("tar member data is truncated", member=member.name, offset=start)
    if stored > limits.max_total_size:
        raise UnsafeArchiveError(f"member claims {stored} bytes", member=member.name)
    content = view[start : start + stored]
    return dataclasses.replace(
        member, sha256=sha256_hex(content), payload=Payload(raw=content, size=stored)
    )


def member_header(block: bytes, pending: _Pending, pos: int) -> Member:
    """The member a header ``block`` at ``pos`` describes, with the extensions read before it;
    without its content (``sha256`` empty). ``size`` is what follows the header: 0 unless a
    file. Shared by :func:`parse_tar` and the streaming reader."""
    typeflag = block[156:157]
    magic = block[257:265]
    pax = dict(pending.pax)
    if magic == _GNU_MAGIC:
        fmt = TarFormat.GNU
        name = _text(block[0:100])
    elif magic[:6] == b"ustar\x00" or magic[:5] == b"ustar":
        fmt = TarFormat.PAX if pending.pax else TarFormat.USTAR
        name = _text(block[0:100])
        prefix = _text(block[345:500])
        if prefix:
            name = f"{prefix}/{name}"
    else:
        fmt = TarFormat.PAX if pending.pax else TarFormat.V7
        name = _text(block[0:100])
    if pending.long_name is not None:
        name = pending.long_name
    name = pax.get("path", name)
    if typeflag in _UNSUPPORTED_TYPES:
        raise ArchiveError(
            f"unsupported tar member type: {_UNSUPPORTED_TYPES[typeflag]}", member=name, offset=pos
        )
    kind = _KIND_OF_TYPE.get(typeflag)
    if kind is None:
        raise ArchiveError(f"unknown tar member type {typeflag!r}", member=name, offset=pos)
    if kind is MemberKind.FILE and typeflag in (b"\x00", b"0") and name.endswith("/"):
        kind = MemberKind.DIR  # old tars mark directories by the trailing slash only
    link = pending.long_link if pending.long_link is not None else _text(block[157:257])
    link = pax.get("linkpath", link)

    def num(key: str, field: bytes) -> int:
        if key in pax:
            try:
                return math.floor(float(pax[key]))
            except ValueError:
                raise ArchiveError(
                    f"PAX record {key} is not a number", member=name, offset=pos
                ) from None
        return _number(field, key)

    size = num("size", block[124:136])
    if size < 0:
        raise ArchiveError("negative member size", member=name, offset=pos)
    stored = size if kind is MemberKind.FILE else 0
    details = TarDetails(
        format=fmt,
        uid=num("uid", block[108:116]),
        gid=num("gid", block[116:124]),
        uname=pax.get("uname", _text(block[265:297])),
        gname=pax.get("gname", _text(block[297:329])),
        devmajor=_number(block[329:337], "devmajor") if fmt is not TarFormat.V7 else 0,
        devminor=_number(block[337:345], "devminor") if fmt is not TarFormat.V7 else 0,
        pax=pending.pax,
    )
    return Member(
        name=name,
        kind=kind,
        mode=_number(block[100:108], "mode") & 0o7777,
        mtime=num("mtime", block[136:148]),
        size=stored,
        link_target=link if kind in (MemberKind.SYMLINK, MemberKind.HARDLINK) else None,
        tar=details,
    )


# --------------------------------------------------------------------------- writing


def required_pax(member: Member) -> PaxRecords:
    """The PAX records Python's ``tarfile`` would need to write ``member`` (in its order).

    Names and link targets longer than a ustar field or not ASCII, and numbers too large for
    their octal field, go into records; nothing else does.
    """
    records: list[tuple[str, str]] = []
    tar = member.tar or TarDetails()
    for key, value, length in (
        ("path", member.name, 100),
        ("linkpath", member.link_target or "", 100),
        ("uname", tar.uname, 32),
        ("gname", tar.gname, 32),
    ):
        if not value.isascii() or len(value) > length:
            records.append((key, value))
    for key, number, digits in (
        ("uid", tar.uid, 8),
        ("gid", tar.gid, 8),
        ("size", member.size, 12),
        ("mtime", member.mtime, 12),
    ):
        if not 0 <= number < 8 ** (digits - 1):
            records.append((key, str(number)))
    return tuple(records)


def record_padding(length: int) -> int:
    """Zero bytes to end an archive of ``length`` bytes: two blocks, then up to a record."""
    total = length + 2 * BLOCK
    return total + (-total % RECORD) - length


def _octal(value: int, size: int, fmt: TarFormat, what: str, name: str) -> bytes:
    if 0 <= value < 8 ** (size - 1):
        return b"%0*o\x00" % (size - 1, value)
    span = 1 << (8 * (size - 1))
    if fmt is TarFormat.GNU and -span <= value < span:
        if value >= 0:
            return b"\x80" + value.to_bytes(size - 1, "big")
        return b"\xff" + (value + span).to_bytes(size - 1, "big")
    raise ArchiveError(f"{what} {value} does not fit a {fmt.value} tar header", member=name)


def _field(text: str, size: int) -> bytes:
    raw = text.encode(_ENCODING, _ERRORS)[:size]
    return raw + b"\x00" * (size - len(raw))


def _header(
    *,
    name: str,
    mode: int,
    uid: int,
    gid: int,
    size: int,
    mtime: int,
    typeflag: bytes,
    linkname: str,
    fmt: TarFormat,
    uname: str,
    gname: str,
    prefix: str = "",
    member: str,
) -> bytes:
    magic = {TarFormat.GNU: _GNU_MAGIC, TarFormat.V7: b"\x00" * 8}.get(fmt, _POSIX_MAGIC)
    octal_fmt = TarFormat.GNU if fmt is TarFormat.GNU else TarFormat.USTAR
    parts = [
        _field(name, 100),
        _octal(mode & 0o7777, 8, octal_fmt, "mode", member),
        _octal(uid, 8, octal_fmt, "uid", member),
        _octal(gid, 8, octal_fmt, "gid", member),
        _octal(size, 12, octal_fmt, "size", member),
        _octal(mtime, 12, octal_fmt, "mtime", member),
        b" " * 8,
        typeflag,
        _field(linkname, 100),
        magic,
        _field(uname, 32),
        _field(gname, 32),
        b"\x00" * 16,  # devmajor, devminor: empty for anything but devices
        _field(prefix, 155),
    ]
    block = b"".join(parts).ljust(BLOCK, b"\x00")
    checksum = sum(block)
    return block[:148] + b"%06o\x00" % checksum + block[155:]


def _extension(kind: bytes, name: str, body: bytes, fmt: TarFormat, member: str) -> bytes:
    header = _header(
        name=name,
        mode=0,
        uid=0,
        gid=0,
        size=len(body),
        mtime=0,
        typeflag=kind,
        linkname="",
        fmt=fmt,
        uname="",
        gname="",
        member=member,
    )
    return header + body + b"\x00" * (_padded(len(body)) - len(body))


def _pax_body(records: PaxRecords) -> bytes:
    out = bytearray()
    for key, value in records:
        payload = b" " + key.encode(_ENCODING, _ERRORS) + b"=" + value.encode(_ENCODING, _ERRORS)
        payload += b"\n"
        length = len(payload)
        while len(str(length)) + len(payload) != length:
            length = len(str(length)) + len(payload)
        out += str(length).encode("ascii") + payload
    return bytes(out)


def _split_ustar(name: str, member: str) -> tuple[str, str]:
    raw = name.encode(_ENCODING, _ERRORS)
    if len(raw) <= 100:
        return "", name
    for index in range(len(name) - 1, 0, -1):
        if name[index] != "/":
            continue
        prefix, rest = name[:index], name[index + 1 :]
        if (
            len(prefix.encode(_ENCODING, _ERRORS)) <= 155
            and 0 < len(rest.encode(_ENCODING, _ERRORS)) <= 100
        ):
            return prefix, rest
    raise ArchiveError(
        "name is too long for a ustar header",
        member=member,
        hint="write the archive in PAX or GNU format",
    )


def _member_bytes(member: Member) -> bytes:
    data = member.data() if member.kind is MemberKind.FILE else b""
    if len(data) != member.size and member.kind is MemberKind.FILE:
        raise ArchiveError("member content does not match its size", member=member.name)
    out = bytearray(_member_head(member, len(data)))
    out += data
    out += b"\x00" * (_padded(len(data)) - len(data))
    return bytes(out)


def _member_head(member: Member, size: int) -> bytes:
    """The headers of ``member`` (extension headers, then its own) for ``size`` bytes of
    content: what precedes the content in the file."""
    tar = member.tar or TarDetails()
    fmt = tar.format
    name = member.name
    link = member.link_target or ""
    pax = dict(tar.pax)
    out = bytearray()
    prefix = ""
    if fmt is TarFormat.PAX:
        if tar.pax:
            out += _extension(b"x", "././@PaxHeader", _pax_body(tar.pax), TarFormat.USTAR, name)
        if "path" in pax:
            name = name.encode("ascii", "replace").decode("ascii")
        else:
            prefix, name = _split_ustar(name, member.name)
        if "linkpath" in pax:
            link = link.encode("ascii", "replace").decode("ascii")
    elif fmt is TarFormat.GNU:
        if len(name.encode(_ENCODING, _ERRORS)) > 100:
            out += _extension(
                b"L", "././@LongLink", name.encode(_ENCODING, _ERRORS) + b"\x00", fmt, member.name
            )
        if len(link.encode(_ENCODING, _ERRORS)) > 100:
            out += _extension(
                b"K", "././@LongLink", link.encode(_ENCODING, _ERRORS) + b"\x00", fmt, member.name
            )
    elif fmt is TarFormat.USTAR:
        prefix, name = _split_ustar(name, member.name)
    for short, value in (("name", name), ("link target", link)):
        if fmt in (TarFormat.USTAR, TarFormat.V7) and len(value.encode(_ENCODING, _ERRORS)) > 100:
            raise ArchiveError(
                f"{short} is too long for a {fmt.value} tar header", member=member.name
            )

    def fits(key: str, value: int, digits: int) -> int:
        if key in pax and not 0 <= value < 8 ** (digits - 1):
            return 0
        return value

    out += _header(
        name=name,
        mode=member.mode if member.mode is not None else 0o644,
        uid=fits("uid", tar.uid, 8),
        gid=fits("gid", tar.gid, 8),
        size=fits("size", size, 12),
        mtime=fits("mtime", member.mtime, 12),
        typeflag=_TYPE_OF_KIND[member.kind],
        linkname=link,
        fmt=fmt,
        uname=tar.uname,
        gname=tar.gname,
        prefix=prefix,
        member=member.name,
    )
    return bytes(out)


def encoded_length(archive: Archive) -> int:
    """The length :func:`write_tar` gives ``archive``, not counting its trailer."""
    total = 0
    if archive.tar_global_pax:
        total += BLOCK + _padded(len(_pax_body(archive.tar_global_pax)))
    for member in archive.members:
        tar = member.tar or TarDetails()
        if tar.format is TarFormat.GNU:  # long-name headers: simplest to lay them out
            size = member.size if member.kind is MemberKind.FILE else 0
            total += len(_member_head(member, size)) + _padded(size)
            continue
        if tar.format is TarFormat.PAX and tar.pax:
            total += BLOCK + _padded(len(_pax_body(tar.pax)))
        total += BLOCK + (_padded(member.size) if member.kind is MemberKind.FILE else 0)
    return total


def write_tar(archive: Archive) -> bytes:
    """The uncompressed tar bytes of ``archive``: its members, then ``trailer_size`` zeros."""
    out = bytearray()
    if archive.tar_global_pax:
        out += _extension(
            b"g",
            "././@PaxHeader",
            _pax_body(archive.tar_global_pax),
            TarFormat.USTAR,
            "(global PAX header)",
        )
    for member in archive.members:
        out += _member_bytes(member)
    out += b"\x00" * archive.trailer_size
    return bytes(out)


def iter_tar(archive: Archive, *, block: int = BLOCK_SIZE) -> Iterator[Buffer]:
    """:func:`write_tar`'s bytes piece by piece: headers, then each member's content a block at
    a time (read from its payload, spooled or not), so that no member is held whole."""
    if archive.tar_global_pax:
        yield _extension(
            b"g",
            "././@PaxHeader",
            _pax_body(archive.tar_global_pax),
            TarFormat.USTAR,
            "(global PAX header)",
        )
    for member in archive.members:
        if member.kind is not MemberKind.FILE:
            yield _member_head(member, 0)
            continue
        yield _member_head(member, member.size)
        written = 0
        for piece in member.payload.blocks(block):
            written += len(piece) if isinstance(piece, bytes) else memoryview(piece).nbytes
            if written > member.size:
                break
            yield piece
        if written != member.size:
            raise ArchiveError("member content does not match its size", member=member.name)
        yield b"\x00" * (_padded(written) - written)
    for start in range(0, archive.trailer_size, block):
        yield b"\x00" * min(block, archive.trailer_size - start)
