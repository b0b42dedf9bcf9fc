"""Outer compression of tar archives: gzip (with its header read field by field), bzip2, xz.

Decompression is bounded: output never grows past :attr:`Limits.max_total_size`, so a
decompression bomb is refused before it fills memory.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable, Iterator

from reprobuild._fs import Behind
from reprobuild._types import Buffer
from reprobuild.archive.model import Compression, GzipHeader, Limits
from reprobuild.errors import ArchiveError, UnsafeArchiveError

TYPE_CHECKING = False
if TYPE_CHECKING:  # bz2 and lzma are imported when such a stream is met: most inputs are gzip
    import bz2
    import lzma

__all__ = [
    "compress",
    "compress_blocks",
    "decompress",
    "decompress_within",
    "parse_gzip_header",
    "sniff_compression",
]

_GZIP_MAGIC = b"\x1f\x8b"
FTEXT, FHCRC, FEXTRA, FNAME, FCOMMENT = 1, 2, 4, 8, 16
_CHUNK = 1 << 20


def sniff_compression(head: bytes) -> Compression:
    if head.startswith(_GZIP_MAGIC):
        return Compression.GZIP
    if head.startswith(b"BZh"):
        return Compression.BZIP2
    if head.startswith(b"\xfd7zXZ\x00"):
        return Compression.XZ
    return Compression.NONE


def _zero_terminated(data: Buffer, start: int, what: str) -> tuple[bytes, int]:
    end = bytes(data[start : start + 65536]).find(b"\x00")
    if end < 0:
        raise ArchiveError(
            f"gzip header: unterminated {what}", member="(gzip header)", offset=start
        )
    return bytes(data[start : start + end]), start + end + 1


def parse_gzip_header(data: Buffer, start: int = 0) -> tuple[GzipHeader, int]:
    """Read the gzip header at ``start``; return it and the offset of the deflate stream."""
    if len(data) - start < 10:
        raise ArchiveError("gzip header is truncated", member="(gzip header)", offset=start)
    magic, method, flags, mtime, xfl, os_byte = struct.unpack_from("<2sBBIBB", data, start)
    if magic != _GZIP_MAGIC:
        raise ArchiveError("bad gzip magic", member="(gzip header)", offset=start)
    if method != 8:
        raise ArchiveError(
            f"gzip compression method {method} is not deflate",
            member="(gzip header)",
            offset=start + 2,
        )
    if flags & 0xE0:
        raise ArchiveError(
            f"gzip header has reserved flag bits set ({flags:#04x})",
            member="(gzip header)",
            offset=start + 3,
        )
    pos = start + 10
    extra = filename = comment = None
    if flags & FEXTRA:
        if len(data) < pos + 2:
            raise ArchiveError("gzip extra field is truncated", member="(gzip header)", offset=pos)
        (xlen,) = struct.unpack_from("<H", data, pos)
        extra = bytes(data[pos + 2 : pos + 2 + xlen])
        if len(extra) != xlen:
            raise ArchiveError("gzip extra field is truncated", member="(gzip header)", offset=pos)
        pos += 2 + xlen
    if flags & FNAME:
        filename, pos = _zero_terminated(data, pos, "file name")
    if flags & FCOMMENT:
        comment, pos = _zero_terminated(data, pos, "comment")
    if flags & FHCRC:
        if len(data) < pos + 2:
            raise ArchiveError("gzip header CRC is truncated", member="(gzip header)", offset=pos)
        (hcrc,) = struct.unpack_from("<H", data, pos)
        if hcrc != zlib.crc32(bytes(data[start:pos])) & 0xFFFF:
            raise ArchiveError("gzip header CRC does not match", member="(gzip header)", offset=pos)
        pos += 2
    header = GzipHeader(
        mtime=mtime,
        xfl=xfl,
        os=os_byte,
        flags=flags,
        extra=extra,
        filename=filename,
        comment=comment,
    )
    return header, pos


#: Compressed bytes given to a decompressor at a time. A decompressor stopped by its output
#: cap keeps a copy of the input it did not consume: fed whole, a large file would be copied
#: into memory whole (which is what reading a tar too large to hold had done).
_FEED = 1 << 24


def _inflate_gzip(data: Buffer, limits: Limits) -> tuple[bytes, GzipHeader]:
    """Inflate every gzip stream of ``data``; the header is the first stream's.

    Each stream is inflated a :data:`_FEED` of input at a time, each call capped at what the
    limits still allow: a stream of up to 16 MiB (any sdist one would hold) is inflated in one
    call, and its result not copied again (a 9 MB tar costs 9 MB, not twice that while it
    grows). The pages of a large mapped input are let go behind.
    """
    pieces: list[bytes] = []
    total = 0
    first: GzipHeader | None = None
    streams = 0
    pos = 0
    view = memoryview(data)
    behind = Behind(data)
    while pos < len(view):
        if streams and not any(view[pos:]):
            break  # zero padding after the last stream, as tape-blocked files have
        header, body = parse_gzip_header(view, pos)
        first = first or header
        inflater = zlib.decompressobj(-15)
        parts: list[bytes] = []
        size = crc = 0
        fed = body
        try:
            while not inflater.eof and fed < len(view):
                behind.reached(fed)
                allowed = limits.max_total_size - total - size
                part = inflater.decompress(view[fed : fed + _FEED], allowed + 1)
                fed = min(fed + _FEED, len(view))
                if len(part) > allowed or inflater.unconsumed_tail:
                    raise UnsafeArchiveError(
                        f"gzip stream expands to more than {limits.max_total_size} bytes",
                        member="(gzip stream)",
                        hint="this looks like a decompression bomb",
                    )
                crc = zlib.crc32(part, crc)
                size += len(part)
                parts.append(part)
        except zlib.error as exc:
            raise ArchiveError(f"corrupt gzip data: {exc}", member="(gzip stream)") from exc
        if not inflater.eof:
            raise ArchiveError("gzip stream is truncated", member="(gzip stream)", offset=len(view))
        tail = inflater.unused_data
        end = fed - len(tail)
        trailer = bytes(view[end : end + 8])
        if len(trailer) < 8:
            raise ArchiveError(
                "gzip trailer is truncated", member="(gzip stream)", offset=len(view)
            )
        want_crc, want_size = struct.unpack("<II", trailer)
        if want_crc != crc or want_size != size & 0xFFFFFFFF:
            raise ArchiveError("gzip CRC or length does not match the data", member="(gzip stream)")
        pieces.append(parts[0] if len(parts) == 1 else b"".join(parts))
        del parts
        total += size
        streams += 1
        pos = end + 8
    behind.finish()
    if first is None:
        raise ArchiveError("empty gzip file", member="(gzip header)")
    if streams > 1:
        first = GzipHeader(
            mtime=first.mtime,
            xfl=first.xfl,
            os=first.os,
            flags=first.flags,
            extra=first.extra,
            filename=first.filename,
            comment=first.comment,
            streams=streams,
        )
    return (pieces[0] if len(pieces) == 1 else b"".join(pieces)), first


def _bounded(
    decompressor: bz2.BZ2Decompressor | lzma.LZMADecompressor,
    data: Buffer,
    limits: Limits,
    what: str,
    errors: tuple[type[Exception], ...] = (),
) -> bytes:
    caught: tuple[type[Exception], ...] = (OSError, EOFError, *errors)
    out = bytearray()
    view = memoryview(data)
    behind = Behind(data)
    fed = 0
    try:
        while not decompressor.eof:
            chunk: Buffer = b""
            if decompressor.needs_input:
                if fed >= len(view):
                    raise ArchiveError(f"{what} stream is truncated", member=f"({what} stream)")
                behind.reached(fed)
                chunk = view[fed : fed + _CHUNK]
                fed += len(chunk)
            piece = decompressor.decompress(chunk, _CHUNK)
            out += piece
            if len(out) > limits.max_total_size:
                raise UnsafeArchiveError(
                    f"{what} stream expands to more than {limits.max_total_size} bytes",
                    member=f"({what} stream)",
                    hint="this looks like a decompression bomb",
                )
    except caught as exc:
        raise ArchiveError(f"corrupt {what} data: {exc}", member=f"({what} stream)") from exc
    behind.finish()
    return bytes(out)


def decompress(
    data: Buffer, compression: Compression, *, limits: Limits
) -> tuple[Buffer, GzipHeader | None]:
    """Undo the outer compression; for gzip also return the header."""
    if compression is Compression.NONE:
        return data, None
    if compression is Compression.GZIP:
        return _inflate_gzip(data, limits)
    if compression is Compression.BZIP2:
        import bz2

        return _bounded(bz2.BZ2Decompressor(), data, limits, "bzip2"), None
    import lzma

    return _bounded(lzma.LZMADecompressor(), data, limits, "xz", (lzma.LZMAError,)), None


def decompress_within(
    data: Buffer, compression: Compression, *, limits: Limits, hold: int
) -> tuple[Buffer, GzipHeader | None] | None:
    """:func:`decompress`, or None when the result would be larger than ``hold`` bytes (the
    caller then reads the stream piece by piece instead of holding it whole)."""
    if compression is Compression.NONE:
        return data, None
    import dataclasses

    within = dataclasses.replace(limits, max_total_size=min(hold, limits.max_total_size))
    try:
        return decompress(data, compression, limits=within)
    except UnsafeArchiveError:
        if within.max_total_size == limits.max_total_size:
            raise  # the real limit: a bomb, refused
        return None


def _gzip_header_bytes(header: GzipHeader) -> bytes:
    flags = header.flags & (FTEXT | FHCRC)
    tail = b""
    if header.extra is not None:
        flags |= FEXTRA
        tail += struct.pack("<H", len(header.extra)) + header.extra
    if header.filename is not None:
        flags |= FNAME
        tail += header.filename + b"\x00"
    if header.comment is not None:
        flags |= FCOMMENT
        tail += header.comment + b"\x00"
    head = struct.pack("<2sBBIBB", _GZIP_MAGIC, 8, flags, header.mtime, header.xfl, header.os)
    head += tail
    if flags & FHCRC:
        head += struct.pack("<H", zlib.crc32(head) & 0xFFFF)
    return head


def compress(
    data: bytes, compression: Compression, *, header: GzipHeader | None, level: int
) -> bytes:
    """Apply the outer compression deterministically (one gzip stream, header as given)."""
    if compression is Compression.NONE:
        return data
    if compression is Compression.GZIP:
        deflater = zlib.compressobj(level, zlib.DEFLATED, -15, zlib.DEF_MEM_LEVEL)
        body = deflater.compress(data) + deflater.flush()
        trailer = struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)
        return _gzip_header_bytes(header or GzipHeader()) + body + trailer
    if compression is Compression.BZIP2:
        import bz2

        return bz2.compress(data, max(1, min(level, 9)))
    import lzma

    return lzma.compress(data, format=lzma.FORMAT_XZ, preset=max(0, min(level, 9)))


def compress_blocks(
    pieces: Iterable[Buffer], compression: Compression, *, header: GzipHeader | None, level: int
) -> Iterator[bytes]:
    """:func:`compress` of ``pieces`` joined, given piece by piece: the same bytes, without
    holding the input or the output whole."""
    if compression is Compression.NONE:
        for piece in pieces:
            yield bytes(piece)
        return
    if compression is Compression.GZIP:
        yield _gzip_header_bytes(header or GzipHeader())
        deflater = zlib.compressobj(level, zlib.DEFLATED, -15, zlib.DEF_MEM_LEVEL)
        crc = size = 0
        for piece in pieces:
            crc = zlib.crc32(piece, crc)
            size += len(piece) if isinstance(piece, bytes) else memoryview(piece).nbytes
            if out := deflater.compress(piece):
                yield out
        yield deflater.flush() + struct.pack("<II", crc, size & 0xFFFFFFFF)
        return
    if compression is Compression.BZIP2:
        import bz2

        compressor: bz2.BZ2Compressor | lzma.LZMACompressor = bz2.BZ2Compressor(
            max(1, min(level, 9))
        )
    else:
        import lzma

        compressor = lzma.LZMACompressor(format=lzma.FORMAT_XZ, preset=max(0, min(level, 9)))
    for piece in pieces:
        if out := compressor.compress(piece):
            yield out
    yield compressor.flush()
