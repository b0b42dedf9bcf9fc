"""The streaming tar reader agrees with parse_tar, and refuses what it refuses."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
from collections.abc import Callable

import pytest

from reprobuild.archive import DEFAULT_LIMITS, Compression, Limits
from reprobuild.archive.compress import decompress
from reprobuild.archive.tarformat import parse_tar
from reprobuild.archive.tarstream import PlainStream, scan_tar
from reprobuild.errors import ArchiveError, UnsafeArchiveError


def _tar(fmt: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        names = ["demo-1.0/PKG-INFO", "demo-1.0/é.txt", "demo-1.0/big.bin"]
        if fmt != tarfile.USTAR_FORMAT:
            names.append("demo-1.0/" + "x" * 120 + ".py")
        for number, name in enumerate(names):
            data = name.encode() * (40_000 if name.endswith(".bin") else number + 1)
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 1_600_000_000.5, 0o664
            info.uid, info.gid, info.uname, info.gname = 1000, 100, "me", "users"
            tf.addfile(info, io.BytesIO(data))
        folder = tarfile.TarInfo("demo-1.0/pkg")
        folder.type, folder.mode = tarfile.DIRTYPE, 0o755
        tf.addfile(folder)
        link = tarfile.TarInfo("demo-1.0/link")
        link.type, link.linkname = tarfile.SYMTYPE, "PKG-INFO"
        tf.addfile(link)
    return buf.getvalue()


_FORMATS = [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT]
_COMPRESSORS: dict[Compression, Callable[[bytes], bytes]] = {
    Compression.NONE: lambda data: data,
    Compression.GZIP: lambda data: gzip.compress(data, mtime=0),
    Compression.BZIP2: bz2.compress,
    Compression.XZ: lzma.compress,
}


@pytest.mark.parametrize("compression", list(_COMPRESSORS))
@pytest.mark.parametrize("fmt", _FORMATS)
def test_scan_agrees_with_parse_tar(fmt: int, compression: Compression) -> None:
    raw = _tar(fmt) + b"\x00" * 3000  # more trailer than the usual record
    packed = _COMPRESSORS[compression](raw)
    expected = parse_tar(raw, limits=DEFAULT_LIMITS)
    stream = PlainStream(packed, compression, limits=DEFAULT_LIMITS)
    scanned = scan_tar(stream, limits=DEFAULT_LIMITS)
    assert scanned == expected  # every header field, digest, trailer and unaccounted byte
    assert all(not member.payload.raw for member in scanned.members)
    assert stream.length == len(raw)
    assert stream.gzip == decompress(packed, compression, limits=DEFAULT_LIMITS)[1]


@pytest.mark.parametrize("fmt", _FORMATS)
def test_kept_members_carry_their_content(fmt: int) -> None:
    raw = _tar(fmt)
    expected = parse_tar(raw, limits=DEFAULT_LIMITS)
    scanned = scan_tar(
        [raw[i : i + 777] for i in range(0, len(raw), 777)], limits=DEFAULT_LIMITS, keep={0, 2}
    )
    assert [m.data() for m in scanned.members[:3]] == [
        expected.members[0].data(),
        b"",
        expected.members[2].data(),
    ]
    only = scan_tar([raw], limits=DEFAULT_LIMITS, keep={2}, kept_only=True)
    assert only.members == (expected.members[2],)
    assert only.members[0].data() == expected.members[2].data()


def test_unaccounted_trailer_bytes_are_counted() -> None:
    raw = _tar(tarfile.PAX_FORMAT) + b"junk"
    assert scan_tar([raw], limits=DEFAULT_LIMITS) == parse_tar(raw, limits=DEFAULT_LIMITS)


def test_multiple_gzip_streams_and_padding_are_read_as_decompress_reads_them() -> None:
    raw = _tar(tarfile.PAX_FORMAT)
    packed = gzip.compress(raw[:5000], mtime=0) + gzip.compress(raw[5000:], mtime=7) + b"\0" * 64
    stream = PlainStream(packed, Compression.GZIP, limits=DEFAULT_LIMITS)
    assert b"".join(stream) == raw
    assert stream.gzip == decompress(packed, Compression.GZIP, limits=DEFAULT_LIMITS)[1]
    assert stream.gzip is not None and stream.gzip.streams == 2


def _refusal(data: bytes, compression: Compression, limits: Limits) -> type[Exception]:
    with pytest.raises(ArchiveError) as parsed:
        parse_tar(decompress(data, compression, limits=limits)[0], limits=limits)
    with pytest.raises(ArchiveError) as scanned:
        scan_tar(PlainStream(data, compression, limits=limits), limits=limits)
    assert type(scanned.value) is type(parsed.value)
    return type(scanned.value)


@pytest.mark.parametrize("cut", [100, 512 + 10, 1024 + 300, -1536])
def test_truncated_tars_are_refused_alike(cut: int) -> None:
    raw = _tar(tarfile.PAX_FORMAT)
    raw = raw[:cut] if cut > 0 else raw[: len(raw) + cut - 5000]
    assert _refusal(raw, Compression.NONE, DEFAULT_LIMITS) is ArchiveError


def test_bad_checksum_is_refused_alike() -> None:
    raw = bytearray(_tar(tarfile.USTAR_FORMAT))
    raw[0] ^= 1
    assert _refusal(bytes(raw), Compression.NONE, DEFAULT_LIMITS) is ArchiveError


def test_too_many_members_is_refused_alike() -> None:
    limits = Limits(max_members=2)
    assert _refusal(_tar(tarfile.GNU_FORMAT), Compression.NONE, limits) is UnsafeArchiveError


@pytest.mark.parametrize("compression", [Compression.GZIP, Compression.BZIP2, Compression.XZ])
def test_decompression_bombs_and_corrupt_streams_are_refused(compression: Compression) -> None:
    packed = _COMPRESSORS[compression](_tar(tarfile.PAX_FORMAT))
    with pytest.raises(UnsafeArchiveError):
        b"".join(PlainStream(packed, compression, limits=Limits(max_total_size=10_000)))
    with pytest.raises(ArchiveError):
        b"".join(PlainStream(packed[:-20], compression, limits=DEFAULT_LIMITS))
    with pytest.raises(ArchiveError):
        decompress(packed[:-20], compression, limits=DEFAULT_LIMITS)


def test_gzip_crc_mismatch_is_refused() -> None:
    packed = bytearray(gzip.compress(_tar(tarfile.PAX_FORMAT), mtime=0))
    packed[-8] ^= 1
    with pytest.raises(ArchiveError, match="CRC"):
        b"".join(PlainStream(bytes(packed), Compression.GZIP, limits=DEFAULT_LIMITS))
