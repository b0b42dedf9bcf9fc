"""Reading a (compressed) tar in one pass, without holding it: for comparing large sdists.

:class:`PlainStream` undoes the outer compression chunk by chunk (gzip, with every stream's
header, CRC and length checked as :func:`~reprobuild.archive.compress.decompress` checks them;
bzip2; xz; or none), bounded by :attr:`Limits.max_total_size`, and digests what it yields.
:func:`scan_tar` reads the members from such chunks: each member's header and the sha256 of its
content, the content itself only for the members asked for. Both refuse the same corrupt and
hostile input as :func:`~reprobuild.archive.tarformat.parse_tar` with the same error classes;
memory stays at about one chunk plus the members kept.
"""

from __future__ import annotations

import dataclasses
import struct
import zlib
from collections.abc import Collection, Iterable, Iterator

from reprobuild._fs import Behind
from reprobuild._types import Buffer
from reprobuild.archive.compress import parse_gzip_header
from reprobuild.archive.model import (
    Archive,
    Compression,
    Container,
    GzipHeader,
    Limits,
    Member,
    Payload,
)
from reprobuild.archive.spool import HOLD, MEMBER_HOLD, Spool
from reprobuild.archive.tarformat import (
    BLOCK,
    _checksum_ok,
    _number,
    _padded,
    _parse_pax,
    _Pending,
    _text,
    member_header,
)
from reprobuild.errors import ArchiveError, UnsafeArchiveError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import bz2
    import hashlib
    import lzma

__all__ = ["PlainStream", "TarScanner", "read_tar_stream", "scan_tar"]

#: Decompressed bytes per chunk, and compressed bytes fed to the decompressor at a time.
CHUNK = 1 << 16
_FEED = 1 << 16


class PlainStream:
    """The decompressed bytes of ``data``, chunk by chunk; iterate once.

    Once the iteration is over, ``length`` and ``sha256`` describe everything yielded and
    ``gzip`` holds the first gzip header with the number of streams counted (None unless gzip),
    the same header :func:`~reprobuild.archive.compress.decompress` returns.
    """

    def __init__(self, data: Buffer, compression: Compression, *, limits: Limits) -> None:
        self._data = memoryview(data)
        self._compression = compression
        self._limits = limits
        from hashlib import sha256  # late: loading it costs a process 3-4 MiB

        self._digest: hashlib._Hash = sha256()
        self.length = 0
        self.gzip: GzipHeader | None = None

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    def __iter__(self) -> Iterator[bytes | memoryview]:
        if self._compression is Compression.NONE:
            pieces: Iterator[bytes | memoryview] = self._plain()
        elif self._compression is Compression.GZIP:
            pieces = self._gzip()
        else:
            pieces = self._bounded()
        for piece in pieces:
            if not piece:
                continue
            self.length += len(piece)
            if self._compression is not Compression.NONE and self.length > (
                self._limits.max_total_size
            ):
                what = self._compression.value
                raise UnsafeArchiveError(
                    f"{what} stream expands to more than {self._limits.max_total_size} bytes",
                    member=f"({what} stream)",
                    hint="this looks like a decompression bomb",
                )
            self._digest.update(piece)
            yield piece

    def _plain(self) -> Iterator[memoryview]:
        view = self._data
        behind = Behind(view)  # a large input file's pages are let go as they are read
        for start in range(0, len(view), CHUNK):
            yield view[start : start + CHUNK]
            behind.reached(start + CHUNK)
        behind.finish()

    def _gzip(self) -> Iterator[bytes]:
        view = self._data
        behind = Behind(view)
        first: GzipHeader | None = None
        streams = 0
        pos = 0
        while pos < len(view):
            if streams and not any(view[pos:]):
                break  # zero padding after the last stream, as tape-blocked files have
            header, body = parse_gzip_header(view, pos)
            first = first or header
            inflater = zlib.decompressobj(-15)
            crc = size = 0
            fed = body
            try:
                while not inflater.eof:
                    if inflater.unconsumed_tail:
                        feed: Buffer = inflater.unconsumed_tail
                    elif fed < len(view):
                        behind.reached(fed)  # what was fed before is consumed (or copied)
                        feed = view[fed : fed + _FEED]
                        fed += len(feed)
                    else:
                        raise ArchiveError(
                            "gzip stream is truncated", member="(gzip stream)", offset=len(view)
                        )
                    piece = inflater.decompress(feed, CHUNK)
                    crc = zlib.crc32(piece, crc)
                    size += len(piece)
                    yield piece
            except zlib.error as exc:
                raise ArchiveError(f"corrupt gzip data: {exc}", member="(gzip stream)") from exc
            end = fed - len(inflater.unused_data)  # (unconsumed_tail is stale at the end)
            trailer = bytes(view[end : end + 8])
            if len(trailer) < 8:
                raise ArchiveError(
                    "gzip trailer is truncated", member="(gzip stream)", offset=len(view)
                )
            want_crc, want_size = struct.unpack("<II", trailer)
            if want_crc != crc or want_size != size & 0xFFFFFFFF:
                raise ArchiveError(
                    "gzip CRC or length does not match the data", member="(gzip stream)"
                )
            streams += 1
            pos = end + 8
        behind.finish()
        if first is None:
            raise ArchiveError("empty gzip file", member="(gzip header)")
        self.gzip = dataclasses.replace(first, streams=streams) if streams > 1 else first

    def _bounded(self) -> Iterator[bytes]:
        import bz2  # here, not at the top: only bzip2 and xz streams need them
        import lzma

        what = self._compression.value
        decompressor: bz2.BZ2Decompressor | lzma.LZMADecompressor = (
            bz2.BZ2Decompressor()
            if self._compression is Compression.BZIP2
            else lzma.LZMADecompressor()
        )
        view = self._data
        behind = Behind(view)
        fed = 0
        try:
            while not decompressor.eof:
                feed: Buffer = b""
                if decompressor.needs_input:
                    if fed >= len(view):
                        raise ArchiveError(f"{what} stream is truncated", member=f"({what} stream)")
                    behind.reached(fed)
                    feed = view[fed : fed + _FEED]
                    fed += len(feed)
                yield decompressor.decompress(feed, CHUNK)
        except (OSError, EOFError, lzma.LZMAError) as exc:
            raise ArchiveError(f"corrupt {what} data: {exc}", member=f"({what} stream)") from exc
        behind.finish()


class _Reader:
    """Reads exact byte counts across the chunks of a stream."""

    def __init__(self, chunks: Iterable[bytes | memoryview]) -> None:
        self._chunks = iter(chunks)
        self._view = memoryview(b"")
        self._at = 0
        self.consumed = 0

    def pieces(self, count: int) -> Iterator[memoryview]:
        """Up to ``count`` bytes, in pieces (fewer at the end of the stream)."""
        while count:
            if self._at >= len(self._view):
                chunk = next(self._chunks, None)
                if chunk is None:
                    return
                self._view, self._at = memoryview(chunk), 0
                continue
            take = min(count, len(self._view) - self._at)
            piece = self._view[self._at : self._at + take]
            self._at += take
            self.consumed += take
            count -= take
            yield piece

    def read(self, count: int) -> bytes:
        return b"".join(self.pieces(count))


class TarScanner:
    """Reads the members of an uncompressed tar from ``chunks``, one at a time.

    :meth:`next_member` reads the next member's header (with the extension headers before it)
    and its content, whose sha256 it computes; :meth:`archive` describes the archive once the
    end is reached. Two scanners can so be advanced side by side (see
    :func:`~reprobuild.compare.tararchive.scan_tars`). ``consumed`` counts the tar bytes read.
    """

    def __init__(self, chunks: Iterable[bytes | memoryview], *, limits: Limits) -> None:
        self._reader = _Reader(chunks)
        self._limits = limits
        self._global_pax: list[tuple[str, str]] = []
        self._pos = 0
        self._count = 0
        self._trailer = 0
        self._unaccounted = False
        self._done = False

    @property
    def consumed(self) -> int:
        return self._reader.consumed

    def next_member(
        self, *, collect: int = -1, spool: Spool | None = None
    ) -> tuple[Member, bytes | None] | None:
        """The next member (its ``sha256`` set, its payload empty) and its content when it is a
        file of at most ``collect`` bytes (None otherwise); None at the end of the archive.
        With a ``spool``, the content of a larger file is written there as it is read, and the
        member's payload points to it."""
        if self._done:
            return None
        from hashlib import sha256

        reader, limits = self._reader, self._limits
        pending = _Pending()
        pos = self._pos
        while True:
            block = reader.read(BLOCK)
            if len(block) < BLOCK:
                at_end = not block and reader.consumed == pos
                if at_end and not (pending.pax or pending.long_name or pending.long_link):
                    self._done = True  # no end-of-archive blocks: tolerated, as tar does
                    return None
                raise ArchiveError("tar archive is truncated inside a header", offset=pos)
            if not any(block):
                self._trailer = BLOCK
                for piece in reader.pieces(limits.max_total_size):
                    self._trailer += len(piece)
                    self._unaccounted = self._unaccounted or any(piece)
                self._done = True
                return None
            if not _checksum_ok(block):
                raise ArchiveError("tar header checksum does not match", offset=pos)
            typeflag = block[156:157]
            size = _number(block[124:136], "size")
            data_start = pos + BLOCK
            if typeflag not in (b"x", b"g", b"L", b"K"):
                break
            raw_name = _text(block[0:100])
            body = reader.read(size) if size <= limits.max_total_size else b""
            if len(body) != size:
                raise ArchiveError("tar extension header is truncated", member=raw_name, offset=pos)
            if typeflag == b"x":
                pending.pax = _parse_pax(body, raw_name)
            elif typeflag == b"g":
                self._global_pax.extend(_parse_pax(body, raw_name))
            elif typeflag == b"L":
                pending.long_name = body.split(b"\x00", 1)[0].decode("utf-8", "surrogateescape")
            else:
                pending.long_link = body.split(b"\x00", 1)[0].decode("utf-8", "surrogateescape")
            pos = data_start + _padded(size)
            _skip(reader, pos - reader.consumed)
        member = member_header(block, pending, pos)
        stored = member.size
        digest = sha256()
        kept: list[bytes] | None = [] if stored <= collect else None
        payload = _EMPTY
        if kept is None and spool is not None and stored:

            def hashed() -> Iterator[memoryview]:
                for piece in reader.pieces(stored):
                    digest.update(piece)
                    yield piece

            extent = spool.append(hashed())
            payload = Payload(raw=b"", size=extent.length, spooled=extent)
        for piece in reader.pieces(stored - payload.size):
            digest.update(piece)
            if kept is not None:
                kept.append(bytes(piece))
        if reader.consumed != data_start + stored:
            raise ArchiveError(
                "tar member data is truncated", member=member.name, offset=data_start
            )
        if stored > limits.max_total_size:
            raise UnsafeArchiveError(f"member claims {stored} bytes", member=member.name)
        self._count += 1
        if self._count > limits.max_members:
            raise UnsafeArchiveError(
                f"more than {limits.max_members} members", hint="this looks like a tar bomb"
            )
        self._pos = data_start + _padded(stored)
        _skip(reader, self._pos - reader.consumed)
        content = b"".join(kept) if kept is not None else None
        return dataclasses.replace(member, sha256=digest.hexdigest(), payload=payload), content

    def archive(self, members: Iterable[Member]) -> Archive:
        """The archive of ``members`` (those read, or some of them) once the end is reached."""
        return Archive(
            container=Container.TAR,
            members=tuple(members),
            tar_global_pax=tuple(self._global_pax),
            trailer_size=self._trailer,
            unaccounted=self._trailer if self._unaccounted else 0,
        )


_EMPTY = Payload(b"")


def scan_tar(
    chunks: Iterable[bytes | memoryview],
    *,
    limits: Limits,
    keep: Collection[int] = (),
    kept_only: bool = False,
    member_hold: int = MEMBER_HOLD,
) -> Archive:
    """Read an uncompressed tar archive from ``chunks``: what :func:`parse_tar` reads, but the
    members' payloads are empty except for those whose index (in file order) is in ``keep``
    (held in memory up to ``member_hold`` bytes, spooled when larger).
    With ``kept_only``, the archive holds those members only (every header is still read and
    checked): a second pass that pulls out a few members holds no more than those."""
    scanner = TarScanner(chunks, limits=limits)
    members: list[Member] = []
    index = 0
    spool: Spool | None = None
    while True:
        wanted = index in keep
        if wanted and spool is None:
            spool = Spool()
        found = scanner.next_member(
            collect=member_hold if wanted else -1, spool=spool if wanted else None
        )
        if found is None:
            break
        member, content = found
        if content is not None:
            member = dataclasses.replace(member, payload=Payload.plain(content))
        if wanted or not kept_only:
            members.append(member)
        index += 1
    return scanner.archive(members)


def read_tar_stream(
    data: Buffer,
    compression: Compression,
    *,
    limits: Limits,
    hold: int = HOLD,
    member_hold: int = MEMBER_HOLD,
) -> Archive:
    """What :func:`parse_archive` reads from a (compressed) tar, read in one streaming pass
    with bounded memory: a file's content is held in memory when it is at most
    ``member_hold`` bytes and all content held stays within ``hold``; any other file's content
    goes to a spool file, which its payload reads back a block at a time."""
    stream = PlainStream(data, compression, limits=limits)
    scanner = TarScanner(stream, limits=limits)
    spool = Spool()
    members: list[Member] = []
    held = 0
    while found := scanner.next_member(collect=min(member_hold, hold - held), spool=spool):
        member, content = found
        if content is not None:
            member = dataclasses.replace(member, payload=Payload(raw=content, size=len(content)))
            held += len(content)
        members.append(member)
    archive = scanner.archive(members)
    return dataclasses.replace(archive, compression=compression, gzip=stream.gzip)


def _skip(reader: _Reader, count: int) -> None:
    for _ in reader.pieces(count):
        pass
