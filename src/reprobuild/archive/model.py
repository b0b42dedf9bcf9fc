"""The archive model: immutable values for archives and their members.

An :class:`Archive` is what a reader saw in a file, every header field visible, and what a writer
needs to write the file again. Items of an archive are always called *members*. Format-specific
header fields live in :class:`ZipDetails` and :class:`TarDetails`; the fields every format shares
(name, kind, mode, mtime, size, sha256, link target) live on :class:`Member` itself.

A member's bytes are carried by a :class:`Payload`, which is not part of equality: two members are
equal when their headers and their content digest are.
"""

from __future__ import annotations

import enum
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from reprobuild._fs import Behind, sha256_hex
from reprobuild._types import Buffer, PaxRecords
from reprobuild.archive.spool import BLOCK, Extent
from reprobuild.errors import ArchiveError, UnsafeArchiveError

__all__ = [
    "DEFAULT_LIMITS",
    "Archive",
    "Compression",
    "Container",
    "GzipHeader",
    "Limits",
    "Member",
    "MemberKind",
    "Payload",
    "TarDetails",
    "TarFormat",
    "ZipDetails",
    "ZipMethod",
]


class MemberKind(enum.Enum):
    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    HARDLINK = "hardlink"


class Container(enum.Enum):
    ZIP = "zip"
    TAR = "tar"


class Compression(enum.Enum):
    """The compression wrapped around a whole archive (zip members carry their own)."""

    NONE = "none"
    GZIP = "gzip"
    BZIP2 = "bzip2"
    XZ = "xz"


class TarFormat(enum.Enum):
    """How one tar header was written."""

    V7 = "v7"  #: no magic: pre-POSIX tar
    USTAR = "ustar"  #: POSIX.1-1988 ``ustar\\0`` ``00``
    GNU = "gnu"  #: GNU ``ustar  \\0`` magic, long names in ``L``/``K`` headers
    PAX = "pax"  #: ustar header preceded by a PAX ``x`` extended header


class ZipMethod(enum.IntEnum):
    """The zip compression methods reprobuild can read and write."""

    STORED = 0
    DEFLATED = 8


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """What an archive may claim before it is treated as hostile (a zip bomb, say).

    ``max_ratio`` bounds uncompressed/compressed size for any member larger than
    ``ratio_floor`` bytes; DEFLATE cannot exceed about 1032:1, so a larger ratio means a crafted
    archive.
    """

    max_members: int = 500_000
    max_total_size: int = 16 * 1024**3
    max_ratio: int = 1100
    ratio_floor: int = 1024 * 1024


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class Payload:
    """The bytes of one member as they are stored: ``raw`` compressed with ``method``.

    Tar members and new content are stored plain (``method`` 0). A zip member read from a file
    keeps its compressed bytes, so that a rewrite which does not change them copies them raw.
    A member too large to hold in memory keeps its stored bytes in a spool file instead:
    ``spooled`` says where, and ``raw`` is empty. :meth:`blocks` and :meth:`raw_blocks` read
    either kind a block at a time; :meth:`data` joins them.
    """

    raw: Buffer
    method: int = 0
    size: int = 0
    spooled: Extent | None = None

    @classmethod
    def plain(cls, data: bytes) -> Payload:
        return cls(raw=data, method=ZipMethod.STORED, size=len(data))

    @property
    def stored_size(self) -> int:
        """The length of the stored (compressed) bytes."""
        if self.spooled is not None:
            return self.spooled.length
        return len(self.raw) if isinstance(self.raw, bytes) else memoryview(self.raw).nbytes

    def raw_blocks(self, size: int = BLOCK) -> Iterator[Buffer]:
        """The stored bytes, ``size`` at a time."""
        if self.spooled is not None:
            yield from self.spooled.blocks(size)
            return
        view = memoryview(self.raw).cast("B")
        behind = Behind(self.raw)  # a large input file's pages are let go as they are read
        for start in range(0, view.nbytes, size):
            yield view[start : start + size]
            behind.reached(start + size)
        behind.finish()

    def blocks(self, size: int = BLOCK) -> Iterator[Buffer]:
        """The uncompressed bytes, ``size`` at a time (checked against ``size`` as
        :meth:`data` checks them); memory stays at a block whatever the member's size."""
        if self.method == ZipMethod.STORED:
            yield from self.raw_blocks(size)
            return
        if self.method != ZipMethod.DEFLATED:
            self.data()  # raises: the method is not one reprobuild reads
            return
        inflater = zlib.decompressobj(-15)
        produced = 0
        try:
            for piece in self.raw_blocks(size):
                pending: Buffer = piece
                while pending and not inflater.eof:
                    out = inflater.decompress(pending, size)
                    pending = inflater.unconsumed_tail
                    produced += len(out)
                    self._check_not_over(produced)
                    if out:
                        yield out
            while not inflater.eof:
                out = inflater.decompress(inflater.unconsumed_tail, size)
                if not out:
                    break
                produced += len(out)
                self._check_not_over(produced)
                yield out
        except zlib.error as exc:
            raise ArchiveError(f"corrupt deflate data: {exc}") from exc
        if produced < self.size or not inflater.eof:
            raise ArchiveError(f"member inflates to less than its declared {self.size} bytes")

    def _check_not_over(self, produced: int) -> None:
        if produced > self.size:
            raise UnsafeArchiveError(f"member inflates to more than its declared {self.size} bytes")

    def data(self) -> bytes:
        """The uncompressed bytes (checked against ``size``)."""
        if self.spooled is not None:
            return b"".join(self.blocks())
        if self.method == ZipMethod.STORED:
            return bytes(self.raw)
        if self.method == ZipMethod.DEFLATED:
            inflater = zlib.decompressobj(-15)
            try:
                out = inflater.decompress(self.raw, self.size + 1)
            except zlib.error as exc:
                raise ArchiveError(f"corrupt deflate data: {exc}") from exc
            if len(out) > self.size or inflater.unconsumed_tail:
                raise UnsafeArchiveError(
                    f"member inflates to more than its declared {self.size} bytes"
                )
            if len(out) < self.size or not inflater.eof:
                raise ArchiveError(f"member inflates to less than its declared {self.size} bytes")
            return out
        raise ArchiveError(
            f"unsupported zip compression method {self.method}",
            hint="reprobuild reads stored (0) and deflated (8) zip members",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ZipDetails:
    """The zip headers of one member (central directory, plus what the local header adds)."""

    create_system: int = 3  #: high byte of "version made by": 0 MS-DOS, 3 Unix, …
    create_version: int = 20  #: low byte of "version made by"
    extract_version: int = 20
    flags: int = 0  #: general purpose bits (bit 3: data descriptor, bit 11: UTF-8 names)
    method: int = ZipMethod.DEFLATED
    dos_time: int = 0  #: the 16-bit MS-DOS time, as stored (local time, 2-second steps)
    dos_date: int = 0x21  #: the 16-bit MS-DOS date; 0x21 is 1980-01-01
    crc32: int = 0
    compressed_size: int = 0
    internal_attr: int = 0
    external_attr: int = 0  #: Unix mode in the high 16 bits when create_system is 3
    extra: bytes = b""  #: central directory extra field
    local_extra: bytes = b""  #: local header extra field
    comment: bytes = b""  #: per-member comment
    data_descriptor: bool = False  #: a data descriptor follows the member's data
    #: header fields whose local value differs from the central one (benign fields only:
    #: a name, method, size or CRC mismatch is refused as hostile)
    local_mismatch: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class TarDetails:
    """The tar header of one member."""

    format: TarFormat = TarFormat.USTAR
    uid: int = 0
    gid: int = 0
    uname: str = ""
    gname: str = ""
    devmajor: int = 0
    devminor: int = 0
    #: records of the PAX ``x`` header that precedes this member, in order ("mtime", "path", …)
    pax: PaxRecords = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Member:
    """One item of an archive.

    ``name`` is exactly as stored (directories may keep a trailing ``/``); ``path`` is the name
    without it. ``mode`` holds the permission bits (``0o7777``), or None when the archive does not
    record them (a zip member made on MS-DOS). ``mtime`` is whole seconds since the epoch; zip
    times, which carry no time zone, are read as UTC. ``sha256`` is the digest of the member's
    content: the link target for a zip symlink, and the digest of no bytes for directories and
    tar links. It is empty when the archive was read without digests (see ``parse_archive``).
    """

    name: str
    kind: MemberKind = MemberKind.FILE
    mode: int | None = 0o644
    mtime: int = 0
    size: int = 0
    sha256: str = ""
    link_target: str | None = None
    zip: ZipDetails | None = None
    tar: TarDetails | None = None
    payload: Payload = field(default=Payload(b""), compare=False, repr=False)

    @property
    def path(self) -> str:
        """The name without a directory's trailing slash."""
        return self.name.rstrip("/") if self.kind is MemberKind.DIR else self.name

    def data(self) -> bytes:
        """The member's uncompressed content."""
        return self.payload.data()

    def blocks(self) -> Iterator[Buffer]:
        """The member's uncompressed content a block at a time (for large members: writing
        one out never holds it whole)."""
        return self.payload.blocks()

    @classmethod
    def from_bytes(
        cls,
        name: str,
        data: bytes,
        *,
        mode: int | None = 0o644,
        mtime: int = 0,
        zip: ZipDetails | None = None,
        tar: TarDetails | None = None,
    ) -> Member:
        """A file member holding ``data``: size and digest are computed here."""
        return cls(
            name=name,
            kind=MemberKind.FILE,
            mode=mode,
            mtime=mtime,
            size=len(data),
            sha256=sha256_hex(data),
            zip=zip,
            tar=tar,
            payload=Payload.plain(data),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class GzipHeader:
    """The header of a gzip stream (RFC 1952), every field as stored."""

    mtime: int = 0
    xfl: int = 0  #: extra flags: 2 = best compression, 4 = fastest
    os: int = 255  #: 3 = Unix, 255 = unknown (what Python's gzip module writes)
    flags: int = 0  #: FTEXT 1, FHCRC 2, FEXTRA 4, FNAME 8, FCOMMENT 16
    extra: bytes | None = None
    filename: bytes | None = None
    comment: bytes | None = None
    streams: int = 1  #: gzip members concatenated in the file (normally 1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Archive:
    """A whole archive: its container, outer compression, container headers and members.

    ``comment`` is the zip archive comment. ``tar_global_pax`` holds the records of PAX global
    (``g``) headers. ``trailer_size`` is the number of zero bytes after a tar's last member (the
    end-of-archive blocks plus padding to the record size). ``unaccounted`` counts bytes of the
    file that belong to no header or member (a zip's prefix or gaps); a writer drops them.
    """

    container: Container
    members: tuple[Member, ...] = ()
    compression: Compression = Compression.NONE
    gzip: GzipHeader | None = None
    comment: bytes = b""
    tar_global_pax: PaxRecords = ()
    trailer_size: int = 0
    unaccounted: int = 0

    def member(self, name: str) -> Member:
        """The member called ``name`` (exact, or by :attr:`Member.path`)."""
        for candidate in self.members:
            if name in (candidate.name, candidate.path):
                return candidate
        raise KeyError(name)
