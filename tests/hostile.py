"""Hostile archives: each one is corrupt or crafted to harm whoever unpacks it.

:data:`HOSTILE_CASES` maps a case id to a function returning ``(file name, bytes)``;
:data:`HOSTILE_MEMBERS` names the member a case is about, when it is about one member.

The standard library's writers refuse most of these, or quietly fix them, so the bytes are
written here field by field: zip local and central headers and end-of-central-directory
records, and 512-byte ustar headers. Apart from its one defect, each case is a well-formed
package, a wheel with METADATA, WHEEL and a RECORD that lists every member, or an sdist under
``evil-1.0/``, so that a reader meets the defect and nothing else. ``tests/test_hostile.py``
checks with ``zipfile``, ``tarfile``, ``gzip`` and ``zlib`` that each case is what it claims.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace

__all__ = ["DEEP_LEVELS", "ENCRYPTION_PASSWORD", "HOSTILE_CASES", "HOSTILE_MEMBERS"]

WHEEL_NAME = "evil-1.0-py3-none-any.whl"
SDIST_NAME = "evil-1.0.tar.gz"
ENCRYPTION_PASSWORD = b"infected"

_DOS_DATE = 0x21  # 1980-01-01
_S_IFREG, _S_IFDIR, _S_IFLNK = 0o100000, 0o040000, 0o120000
_INIT = b'"""Nothing to see here."""\n'

# --- zip, field by field -------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class _ZipEntry:
    """One zip member as it will be written; every field that a case may falsify is here.

    ``data`` is the content the member claims (its CRC, size and RECORD row come from it);
    ``payload`` is what is really written after the local header (default: ``data``
    compressed with ``method``).
    """

    name: str
    data: bytes = b""
    payload: bytes | None = None
    method: int = 8
    flags: int = 0
    crc: int | None = None
    size: int | None = None
    local_name: str | None = None
    mode: int = _S_IFREG | 0o644

    def stored(self) -> bytes:
        if self.payload is not None:
            return self.payload
        if self.method == 0:
            return self.data
        return _deflate(self.data)


@dataclass(frozen=True, slots=True)
class _Central:
    name: bytes
    method: int
    flags: int
    crc: int
    compressed: int
    size: int
    offset: int
    mode: int


def _deflate(data: bytes, level: int = 9) -> bytes:
    deflater = zlib.compressobj(level, zlib.DEFLATED, -15)
    return deflater.compress(data) + deflater.flush()


def _local_header(name: bytes, method: int, flags: int, crc: int, compressed: int,
                  size: int) -> bytes:  # fmt: skip
    return struct.pack(
        "<4sHHHHHIIIHH",
        b"PK\x03\x04", 20, flags, method, 0, _DOS_DATE, crc, compressed, size, len(name), 0,
    ) + name  # fmt: skip


def _central_header(entry: _Central) -> bytes:
    return struct.pack(
        "<4sBBBBHHHHIIIHHHHHII",
        b"PK\x01\x02", 20, 3, 20, 0, entry.flags, entry.method, 0, _DOS_DATE, entry.crc,
        entry.compressed, entry.size, len(entry.name), 0, 0, 0, 0, entry.mode << 16, entry.offset,
    ) + entry.name  # fmt: skip


def _record_row(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}\n"


class _ZipWriter:
    """Writes local headers and data as asked, then the central directory and its end."""

    def __init__(self) -> None:
        self.body = bytearray()
        self.central: list[_Central] = []
        self.record: list[tuple[str, bytes]] = []

    def add(self, entry: _ZipEntry) -> None:
        """Write ``entry``'s local header and data, and list it in the central directory."""
        stored = entry.stored()
        crc = zlib.crc32(entry.data) if entry.crc is None else entry.crc
        size = len(entry.data) if entry.size is None else entry.size
        local = (entry.name if entry.local_name is None else entry.local_name).encode()
        offset = len(self.body)
        self.body += _local_header(local, entry.method, entry.flags, crc, len(stored), size)
        self.body += stored
        self.central.append(_Central(entry.name.encode(), entry.method, entry.flags, crc,
                                     len(stored), size, offset, entry.mode))  # fmt: skip
        self.record.append((entry.name, entry.data))

    def alias(self, name: str, of: str) -> None:
        """List ``name`` in the central directory pointing at the local header of ``of``."""
        target = next(c for c in self.central if c.name == of.encode())
        self.central.append(_Central(name.encode(), target.method, target.flags, target.crc,
                                     target.compressed, target.size, target.offset,
                                     target.mode))  # fmt: skip
        self.record.append((name, dict(self.record)[of]))

    def add_wheel_metadata(self) -> None:
        """Add ``evil-1.0.dist-info/`` METADATA, WHEEL and a RECORD of every member so far."""
        self.add(
            _ZipEntry(
                name="evil-1.0.dist-info/METADATA",
                data=b"Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n",
            )
        )
        self.add(_ZipEntry(name="evil-1.0.dist-info/WHEEL",
                           data=b"Wheel-Version: 1.0\nGenerator: hostile 1.0\n"
                                b"Root-Is-Purelib: true\nTag: py3-none-any\n"))  # fmt: skip
        rows = [_record_row(name, data) for name, data in self.record]
        self.add(
            _ZipEntry(
                name="evil-1.0.dist-info/RECORD",
                data=("".join(rows) + "evil-1.0.dist-info/RECORD,,\n").encode(),
            )
        )

    def finish(self, *, declared_members: int | None = None) -> bytes:
        """The whole file; ``declared_members`` makes a zip64 end record claim that many."""
        directory = b"".join(_central_header(c) for c in self.central)
        start = len(self.body)
        out = bytes(self.body) + directory
        count = len(self.central)
        if declared_members is not None:
            zip64_end = struct.pack(
                "<4sQHHIIQQQQ",
                b"PK\x06\x06", 44, 45, 45, 0, 0,
                declared_members, declared_members, len(directory), start,
            )  # fmt: skip
            locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, len(out), 1)
            out += zip64_end + locator
            count = 0xFFFF
        return out + struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count,
                                 len(directory), start, 0)  # fmt: skip


def _evil_wheel(*hostile: _ZipEntry) -> _ZipWriter:
    """A wheel writer holding ``evil/__init__.py`` and ``hostile``, its metadata not yet added."""
    writer = _ZipWriter()
    writer.add(_ZipEntry(name="evil/__init__.py", data=_INIT))
    for entry in hostile:
        writer.add(entry)
    return writer


def _wheel(*hostile: _ZipEntry) -> tuple[str, bytes]:
    writer = _evil_wheel(*hostile)
    writer.add_wheel_metadata()
    return WHEEL_NAME, writer.finish()


# --- traditional PKWARE encryption (APPNOTE 6.1), to make an honestly encrypted member ------


def _crc_step(crc: int, byte: int) -> int:
    """One step of the CRC-32 table, without the pre- and post-inversion of ``zlib.crc32``."""
    return zlib.crc32(bytes([byte]), crc ^ 0xFFFFFFFF) ^ 0xFFFFFFFF


def _zipcrypto(plain: bytes, password: bytes) -> bytes:
    keys = [0x12345678, 0x23456789, 0x34567890]

    def update(byte: int) -> None:
        keys[0] = _crc_step(keys[0], byte)
        keys[1] = ((keys[1] + (keys[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        keys[2] = _crc_step(keys[2], keys[1] >> 24)

    for byte in password:
        update(byte)
    out = bytearray()
    for byte in plain:
        temp = (keys[2] | 2) & 0xFFFF
        out.append(byte ^ (((temp * (temp ^ 1)) >> 8) & 0xFF))
        update(byte)
    return bytes(out)


# --- tar, 512 bytes at a time ---------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class _TarEntry:
    name: str
    data: bytes = b""
    typeflag: bytes = b"0"
    linkname: str = ""
    mode: int = 0o644


def _tar_header(entry: _TarEntry) -> bytes:
    name, link = entry.name.encode(), entry.linkname.encode()
    if len(name) > 100 or len(link) > 100:
        raise ValueError("names longer than 100 bytes need a prefix or PAX header")
    header = struct.pack(
        "100s8s8s8s12s12s8sc100s6s2s32s32s8s8s155s12s",
        name, b"%07o\x00" % entry.mode, b"0000000\x00", b"0000000\x00",
        b"%011o\x00" % len(entry.data), b"%011o\x00" % 0, b" " * 8, entry.typeflag, link,
        b"ustar\x00", b"00", b"", b"", b"0000000\x00", b"0000000\x00", b"", b"",
    )  # fmt: skip
    return header[:148] + b"%06o\x00 " % sum(header) + header[156:]


def _pax_record(key: str, value: str) -> bytes:
    """One ``length key=value\\n`` record of a PAX extended header (the length counts itself)."""
    body = f" {key}={value}\n".encode()
    length = len(body) + 1
    while len(str(length)) + len(body) != length:
        length += 1
    return str(length).encode() + body


def _tar(entries: list[_TarEntry]) -> bytes:
    """The tar of ``entries``; a name over 100 bytes goes in a PAX ``x`` header before its own."""
    out = bytearray()
    for entry in entries:
        header = entry
        if len(entry.name.encode()) > 100:
            record = _pax_record("path", entry.name)
            pax = _TarEntry(name="././@PaxHeader", data=record, typeflag=b"x")
            out += _tar_header(pax) + record + b"\x00" * (-len(record) % 512)
            header = replace(entry, name=entry.name.encode()[:100].decode("utf-8", "ignore"))
        out += _tar_header(header)
        out += entry.data + b"\x00" * (-len(entry.data) % 512)
    out += b"\x00" * 1024
    out += b"\x00" * (-len(out) % 10240)
    return bytes(out)


def _sdist_tar(*hostile: _TarEntry) -> bytes:
    """An uncompressed sdist tree under ``evil-1.0/`` followed by ``hostile``."""
    return _tar([
        _TarEntry(name="evil-1.0/", typeflag=b"5", mode=0o755),
        _TarEntry(name="evil-1.0/PKG-INFO",
                  data=b"Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n"),
        _TarEntry(name="evil-1.0/evil/", typeflag=b"5", mode=0o755),
        _TarEntry(name="evil-1.0/evil/__init__.py", data=_INIT),
        _TarEntry(name="evil-1.0/pyproject.toml",
                  data=b'[project]\nname = "evil"\nversion = "1.0"\n'),
        *hostile,
    ])  # fmt: skip


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=9, mtime=0)


def _sdist(*hostile: _TarEntry) -> tuple[str, bytes]:
    return SDIST_NAME, _gzip(_sdist_tar(*hostile))


# --- the cases ------------------------------------------------------------------------------


def zip_truncated_central() -> tuple[str, bytes]:
    """A wheel cut off in the middle of its central directory (no end record at all)."""
    _, data = _wheel()
    start = data.index(b"PK\x01\x02")
    return WHEEL_NAME, data[: start + 30]


def zip_corrupt_deflate() -> tuple[str, bytes]:
    """A member whose deflate stream starts with the reserved block type 3."""
    content = b"print('broken')\n"
    return _wheel(_ZipEntry(name="evil/broken.py", data=content,
                            payload=b"\x07" + _deflate(content)[1:]))  # fmt: skip


def zip_bad_crc() -> tuple[str, bytes]:
    """A member whose CRC-32 (local and central alike) does not match its content."""
    writer = _ZipWriter()
    writer.add(_ZipEntry(name="evil/__init__.py", data=_INIT, crc=zlib.crc32(_INIT) ^ 1))
    writer.add_wheel_metadata()
    return WHEEL_NAME, writer.finish()


def zip_local_name_mismatch() -> tuple[str, bytes]:
    """The central directory says ``evil/__init__.py``; its local header says ``__main__``."""
    writer = _ZipWriter()
    writer.add(_ZipEntry(name="evil/__init__.py", data=_INIT, local_name="evil/__main__.py"))
    writer.add_wheel_metadata()
    return WHEEL_NAME, writer.finish()


def zip_overlap_shared_header() -> tuple[str, bytes]:
    """Ten central entries that all point at the one local header of ``evil/__init__.py``."""
    writer = _evil_wheel()
    for i in range(10):
        writer.alias(f"evil/copy{i}.py", of="evil/__init__.py")
    writer.add_wheel_metadata()
    return WHEEL_NAME, writer.finish()


def zip_overlap_quoted() -> tuple[str, bytes]:
    """The non-recursive zip bomb (Fifield, 2019): overlapping members, each name honest.

    The members share one kernel of compressed data. Member ``i`` holds a stored deflate block
    quoting the local header of member ``i + 1``, then member ``i + 1``'s own data: every
    local header agrees with its central entry and every CRC is right, yet each member's data
    contains all the members after it.
    """
    count = 10
    names = [f"evil/bomb{i}.bin".encode() for i in range(count)]
    kernel_plain = bytes(64 * 1024)
    stored = [b""] * count
    plain = [b""] * count
    stored[-1], plain[-1] = _deflate(kernel_plain), kernel_plain
    headers = [b""] * count
    for i in range(count - 1, -1, -1):
        if i < count - 1:
            quoted = headers[i + 1]
            block = struct.pack("<BHH", 0, len(quoted), len(quoted) ^ 0xFFFF) + quoted
            stored[i] = block + stored[i + 1]
            plain[i] = quoted + plain[i + 1]
        headers[i] = _local_header(names[i], 8, 0, zlib.crc32(plain[i]), len(stored[i]),
                                   len(plain[i]))  # fmt: skip
    writer = _evil_wheel()
    base = len(writer.body)
    writer.body += headers[0] + stored[0]
    offset = base
    for i in range(count):
        writer.central.append(_Central(names[i], 8, 0, zlib.crc32(plain[i]), len(stored[i]),
                                       len(plain[i]), offset, _S_IFREG | 0o644))  # fmt: skip
        writer.record.append((names[i].decode(), plain[i]))
        offset += len(headers[i]) + 5
    writer.add_wheel_metadata()
    return WHEEL_NAME, writer.finish()


def zip_too_many_members() -> tuple[str, bytes]:
    """A wheel whose zip64 end record claims 10 million members (the directory holds 4)."""
    writer = _evil_wheel()
    writer.add_wheel_metadata()
    return WHEEL_NAME, writer.finish(declared_members=10_000_000)


def zip_expansion_ratio() -> tuple[str, bytes]:
    """A member that declares 100 MiB of zeros for a deflate stream of under 100 bytes.

    DEFLATE cannot expand more than about 1032:1, so a ratio over the limit of 1100:1 can
    only be declared, never honest; the declaration is the attack (it sizes a reader's
    buffers), and a reader must refuse it before inflating. The CRC is that of 100 MiB of
    zeros; the stream itself holds 64 KiB of them.
    """
    declared = 100 * 1024 * 1024
    crc = 0
    zeros = bytes(1024 * 1024)
    for _ in range(declared // len(zeros)):
        crc = zlib.crc32(zeros, crc)
    return _wheel(_ZipEntry(name="evil/zeros.bin", data=bytes(64 * 1024), crc=crc,
                            size=declared))  # fmt: skip


def zip_dotdot() -> tuple[str, bytes]:
    """A member named ``../evil.txt``: it would land beside the folder it is unpacked into."""
    return _wheel(_ZipEntry(name="../evil.txt", data=b"outside\n"))


def zip_absolute() -> tuple[str, bytes]:
    """A member named ``/etc/evil.txt``."""
    return _wheel(_ZipEntry(name="/etc/evil.txt", data=b"outside\n"))


def zip_symlink_out() -> tuple[str, bytes]:
    """``evil/passwd``: a Unix symbolic link to ``../../etc/passwd``, out of the archive."""
    return _wheel(_ZipEntry(name="evil/passwd", data=b"../../etc/passwd", method=0,
                            mode=_S_IFLNK | 0o777))  # fmt: skip


def zip_symlink_absolute() -> tuple[str, bytes]:
    """``evil/passwd``: a Unix symbolic link to the absolute path ``/etc/passwd``."""
    return _wheel(_ZipEntry(name="evil/passwd", data=b"/etc/passwd", method=0,
                            mode=_S_IFLNK | 0o777))  # fmt: skip


def zip_duplicate() -> tuple[str, bytes]:
    """``evil/__init__.py`` twice, with different content."""
    return _wheel(_ZipEntry(name="evil/__init__.py", data=b"import os\nos.system('true')\n"))


def zip_encrypted() -> tuple[str, bytes]:
    """``evil/secret.py``, encrypted with traditional PKWARE encryption (flag bit 0).

    The encryption is real: ``zipfile`` decrypts it with :data:`ENCRYPTION_PASSWORD`.
    """
    content = b"SECRET = 42\n"
    crc = zlib.crc32(content)
    header = b"\x5a" * 11 + bytes([crc >> 24])  # the last byte lets a reader check the password
    payload = _zipcrypto(header + content, ENCRYPTION_PASSWORD)
    return _wheel(_ZipEntry(name="evil/secret.py", data=content, payload=payload, method=0,
                            flags=0x1))  # fmt: skip


def targz_truncated() -> tuple[str, bytes]:
    """An sdist whose gzip stream stops halfway."""
    _, data = _sdist()
    return SDIST_NAME, data[: len(data) // 2]


def _patched(offset: int, value: bytes) -> bytes:
    _, data = _sdist()
    return data[:offset] + value + data[offset + len(value) :]


def gzip_reserved_flags() -> tuple[str, bytes]:
    """An sdist whose gzip header sets the reserved flag bits 5-7 (FLG = 0xE0)."""
    return SDIST_NAME, _patched(3, b"\xe0")


def gzip_bad_method() -> tuple[str, bytes]:
    """An sdist whose gzip header names compression method 7 (only 8, deflate, exists)."""
    return SDIST_NAME, _patched(2, b"\x07")


def gzip_bad_header_crc() -> tuple[str, bytes]:
    """An sdist whose gzip header has FHCRC set and a header CRC that does not match."""
    _, data = _sdist()
    header = bytearray(data[:10])
    header[3] |= 0x02
    wrong = (zlib.crc32(bytes(header)) & 0xFFFF) ^ 0xFFFF
    return SDIST_NAME, bytes(header) + struct.pack("<H", wrong) + data[10:]


def empty_file() -> tuple[str, bytes]:
    """Zero bytes under a wheel's name."""
    return WHEEL_NAME, b""


def not_an_archive() -> tuple[str, bytes]:
    """An HTML error page saved under an sdist's name, as a failed download leaves it."""
    return SDIST_NAME, b"<!DOCTYPE html>\n<html><title>404 Not Found</title></html>\n"


def tar_dotdot() -> tuple[str, bytes]:
    """A tar member named ``../evil.txt``."""
    return _sdist(_TarEntry(name="../evil.txt", data=b"outside\n"))


def tar_absolute() -> tuple[str, bytes]:
    """A tar member named ``/etc/evil.txt``."""
    return _sdist(_TarEntry(name="/etc/evil.txt", data=b"outside\n"))


def tar_symlink_out() -> tuple[str, bytes]:
    """``evil-1.0/passwd``: a symbolic link to ``../../etc/passwd``, out of the archive."""
    return _sdist(_TarEntry(name="evil-1.0/passwd", typeflag=b"2",
                            linkname="../../etc/passwd", mode=0o777))  # fmt: skip


def tar_symlink_absolute() -> tuple[str, bytes]:
    """``evil-1.0/passwd``: a symbolic link to the absolute path ``/etc/passwd``."""
    return _sdist(_TarEntry(name="evil-1.0/passwd", typeflag=b"2", linkname="/etc/passwd",
                            mode=0o777))  # fmt: skip


def tar_hardlink_nonmember() -> tuple[str, bytes]:
    """``evil-1.0/passwd``: a hard link to ``evil-1.0/shadow``, which is no member."""
    return _sdist(_TarEntry(name="evil-1.0/passwd", typeflag=b"1",
                            linkname="evil-1.0/shadow"))  # fmt: skip


def tar_duplicate() -> tuple[str, bytes]:
    """``evil-1.0/evil/__init__.py`` twice, with different content."""
    return _sdist(_TarEntry(name="evil-1.0/evil/__init__.py",
                            data=b"import os\nos.system('true')\n"))  # fmt: skip


#: A chain of symbolic links, each inside the archive by its own name: ``evil-1.0/a`` is the
#: folder the sdist is unpacked into, ``evil-1.0/a/b`` (there) is its parent, and
#: ``evil-1.0/a/b/c`` (there) the parent's parent.
_CHAIN = (
    _TarEntry(name="evil-1.0/a", typeflag=b"2", linkname="..", mode=0o777),
    _TarEntry(name="evil-1.0/a/b", typeflag=b"2", linkname="..", mode=0o777),
    _TarEntry(name="evil-1.0/a/b/c", typeflag=b"2", linkname="..", mode=0o777),
)


def tar_symlink_chain_write() -> tuple[str, bytes]:
    """A chain of links that each look inside, then a file written through it: two levels
    above the folder the sdist is unpacked into."""
    return _sdist(*_CHAIN, _TarEntry(name="evil-1.0/a/b/c/PWNED", data=b"outside\n"))


def tar_symlink_chain_read() -> tuple[str, bytes]:
    """The same chain, then a hard link whose source goes through it: a file from outside
    (``/etc/passwd``, from a folder two levels deep) copied into the sdist's tree."""
    return _sdist(*_CHAIN, _TarEntry(name="evil-1.0/passwd", typeflag=b"1",
                                     linkname="evil-1.0/a/b/c/etc/passwd"))  # fmt: skip


def tar_symlink_later() -> tuple[str, bytes]:
    """``evil-1.0/l -> d/../../etc``, inside while ``d`` is a folder; then ``evil-1.0/d -> ..``
    makes it lead out: each link alone is inside, and the first one is wrong only once the
    second exists."""
    return _sdist(
        _TarEntry(name="evil-1.0/l", typeflag=b"2", linkname="d/../../etc", mode=0o777),
        _TarEntry(name="evil-1.0/d", typeflag=b"2", linkname="..", mode=0o777),
    )


def tar_name_escape() -> tuple[str, bytes]:
    """A link out whose name holds terminal escape sequences (red text, then a reset)."""
    return _sdist(_TarEntry(name="evil-1.0/\x1b[31mred\x1b[0m\u202e", typeflag=b"2",
                            linkname="/etc/passwd", mode=0o777))  # fmt: skip


def tar_name_newline() -> tuple[str, bytes]:
    """A link out whose name holds a line break and a carriage return, to forge a line."""
    return _sdist(_TarEntry(name="evil-1.0/a\nerror: fine\rb", typeflag=b"2",
                            linkname="/etc/passwd", mode=0o777))  # fmt: skip


DEEP_LEVELS = 10_000


def tar_deep_path() -> tuple[str, bytes]:
    """A file 10,000 folders deep (its name, 20,000 bytes, in a PAX header)."""
    return _sdist(_TarEntry(name="evil-1.0/" + "a/" * DEEP_LEVELS + "x", data=b"deep\n"))


def zip_deep_path() -> tuple[str, bytes]:
    """A wheel member 10,000 folders deep, listed in RECORD."""
    return _wheel(_ZipEntry(name="evil/" + "a/" * DEEP_LEVELS + "x.py", data=_INIT))


def zip_record_newline() -> tuple[str, bytes]:
    """A RECORD that lists ``evil/x\\ny.py`` (quoted, with its line break), which the wheel
    does not hold."""
    writer = _evil_wheel()
    writer.record.append(("evil/x\ny.py", b""))
    rows = [_record_row(name, data) for name, data in writer.record]
    rows[-1] = '"' + rows[-1].replace(",", '",', 1)
    writer.record.pop()
    writer.add(_ZipEntry(name="evil-1.0.dist-info/METADATA",
                         data=b"Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n"))  # fmt: skip
    writer.add(_ZipEntry(name="evil-1.0.dist-info/WHEEL",
                         data=b"Wheel-Version: 1.0\nGenerator: hostile 1.0\n"
                              b"Root-Is-Purelib: true\nTag: py3-none-any\n"))  # fmt: skip
    rows += [_record_row(name, data) for name, data in writer.record[-2:]]
    record = "".join(rows) + "evil-1.0.dist-info/RECORD,,\n"
    writer.add(_ZipEntry(name="evil-1.0.dist-info/RECORD", data=record.encode()))
    return WHEEL_NAME, writer.finish()


HOSTILE_CASES: dict[str, Callable[[], tuple[str, bytes]]] = {
    "zip-truncated-central": zip_truncated_central,
    "zip-corrupt-deflate": zip_corrupt_deflate,
    "zip-bad-crc": zip_bad_crc,
    "zip-local-name-mismatch": zip_local_name_mismatch,
    "zip-overlap-shared-header": zip_overlap_shared_header,
    "zip-overlap-quoted": zip_overlap_quoted,
    "zip-too-many-members": zip_too_many_members,
    "zip-expansion-ratio": zip_expansion_ratio,
    "zip-dotdot": zip_dotdot,
    "zip-absolute": zip_absolute,
    "zip-symlink-out": zip_symlink_out,
    "zip-symlink-absolute": zip_symlink_absolute,
    "zip-duplicate": zip_duplicate,
    "zip-encrypted": zip_encrypted,
    "targz-truncated": targz_truncated,
    "gzip-reserved-flags": gzip_reserved_flags,
    "gzip-bad-method": gzip_bad_method,
    "gzip-bad-header-crc": gzip_bad_header_crc,
    "empty-file": empty_file,
    "not-an-archive": not_an_archive,
    "tar-dotdot": tar_dotdot,
    "tar-absolute": tar_absolute,
    "tar-symlink-out": tar_symlink_out,
    "tar-symlink-absolute": tar_symlink_absolute,
    "tar-hardlink-nonmember": tar_hardlink_nonmember,
    "tar-duplicate": tar_duplicate,
    "tar-symlink-chain-write": tar_symlink_chain_write,
    "tar-symlink-chain-read": tar_symlink_chain_read,
    "tar-symlink-later": tar_symlink_later,
    "tar-name-escape": tar_name_escape,
    "tar-name-newline": tar_name_newline,
    "tar-deep-path": tar_deep_path,
    "zip-deep-path": zip_deep_path,
    "zip-record-newline": zip_record_newline,
}

#: The member a case is about, which the error message must name. Cases about the whole file
#: (truncation, the gzip header, a member count) and overlaps (either member of a pair may be
#: named) are not listed.
HOSTILE_MEMBERS: dict[str, str] = {
    "zip-corrupt-deflate": "evil/broken.py",
    "zip-bad-crc": "evil/__init__.py",
    "zip-local-name-mismatch": "evil/__init__.py",
    "zip-expansion-ratio": "evil/zeros.bin",
    "zip-dotdot": "../evil.txt",
    "zip-absolute": "/etc/evil.txt",
    "zip-symlink-out": "evil/passwd",
    "zip-symlink-absolute": "evil/passwd",
    "zip-duplicate": "evil/__init__.py",
    "zip-encrypted": "evil/secret.py",
    "tar-dotdot": "../evil.txt",
    "tar-absolute": "/etc/evil.txt",
    "tar-symlink-out": "evil-1.0/passwd",
    "tar-symlink-absolute": "evil-1.0/passwd",
    "tar-hardlink-nonmember": "evil-1.0/passwd",
    "tar-duplicate": "evil-1.0/evil/__init__.py",
    "tar-symlink-chain-write": "evil-1.0/a/b",
    "tar-symlink-chain-read": "evil-1.0/a/b",
    "tar-symlink-later": "evil-1.0/l",
    "tar-name-escape": "evil-1.0/\x1b[31mred\x1b[0m\u202e",
    "tar-name-newline": "evil-1.0/a\nerror: fine\rb",
    "tar-deep-path": "evil-1.0/a/a/a/a/a/a/a/a",
    "zip-deep-path": "evil/a/a/a/a/a/a/a/a",
    "zip-record-newline": "evil-1.0.dist-info/RECORD",
}
