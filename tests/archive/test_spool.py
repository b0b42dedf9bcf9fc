"""Streaming: the spooled reading and the piece-by-piece writing give the same model and the
same bytes as reading and writing whole."""

from __future__ import annotations

import random

import pytest

from reprobuild.archive import (
    DEFAULT_LIMITS,
    Compression,
    iter_archive,
    parse_archive,
    write_archive,
)
from reprobuild.archive.compress import compress, compress_blocks
from reprobuild.archive.model import Payload
from reprobuild.archive.spool import Spool
from reprobuild.archive.tarstream import read_tar_stream
from reprobuild.errors import ArchiveError, UnsafeArchiveError
from tests.factories import make_tar_gz


def _files(seed: int) -> dict[str, bytes]:
    rng = random.Random(seed)
    return {
        f"p-1/f{i}.bin": bytes(rng.randrange(4) for _ in range(rng.choice((0, 10, 700, 5000))))
        for i in range(6)
    }


@pytest.mark.parametrize("seed", range(5))
def test_spooled_reading_gives_the_same_archive_and_bytes(seed: int) -> None:
    data = make_tar_gz(_files(seed))
    whole = parse_archive(data)
    streamed = read_tar_stream(
        data, Compression.GZIP, limits=DEFAULT_LIMITS, hold=3000, member_hold=1000
    )
    assert streamed == whole
    assert any(m.payload.spooled is not None for m in streamed.members) or seed  # seed 0 spools
    assert [m.data() for m in streamed.members] == [m.data() for m in whole.members]
    assert b"".join(iter_archive(streamed)) == write_archive(whole)


@pytest.mark.parametrize("compression", [Compression.GZIP, Compression.BZIP2, Compression.XZ])
def test_compressing_in_pieces_gives_the_same_bytes(compression: Compression) -> None:
    rng = random.Random(7)
    data = bytes(rng.randrange(8) for _ in range(300_000))
    cuts = sorted(rng.sample(range(len(data)), 20))
    pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
    expected = compress(data, compression, header=None, level=9)
    assert b"".join(compress_blocks(pieces, compression, header=None, level=9)) == expected


def test_blocks_of_a_deflated_payload_are_checked_like_its_data() -> None:
    import zlib

    content = bytes(range(256)) * 100
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = deflater.compress(content) + deflater.flush()
    good = Payload(raw=raw, method=8, size=len(content))
    assert b"".join(good.blocks(size=100)) == good.data() == content
    with pytest.raises(UnsafeArchiveError):
        list(Payload(raw=raw, method=8, size=len(content) - 1).blocks(size=100))
    with pytest.raises(ArchiveError):
        list(Payload(raw=raw[:-10], method=8, size=len(content)).blocks(size=100))


def test_a_spool_reads_back_what_was_appended() -> None:
    spool = Spool()
    first = spool.append([b"abc", memoryview(b"defg")])
    second = spool.append([b"xy"])
    assert b"".join(first.blocks(size=2)) == b"abcdefg"
    assert b"".join(second.blocks()) == b"xy"
    spool.close()
