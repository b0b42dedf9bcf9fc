"""The store: each distinct member once in the cache's blob store, packages written back bit
for bit."""

from __future__ import annotations

import bz2
import io
import json
import zipfile
from hashlib import sha256
from pathlib import Path
from typing import Any

import pytest

from reprobuild.cache import LocalCache
from reprobuild.dedup._zstd import zstd
from reprobuild.dedup.store import _ZSTD_WINDOW_LOGS, materialize, store_packages
from reprobuild.errors import CacheError
from tests.dedup.data import make_conda
from tests.factories import make_wheel

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "dedup-conda"

_BIG = {"share/demo/data.bin": bytes(range(256)) * 1024}


def test_two_builds_share_their_members_and_come_back_bit_for_bit(tmp_path: Path) -> None:
    a, b = tmp_path / "a.tar.bz2", tmp_path / "b.tar.bz2"
    a.write_bytes(make_conda(_BIG))
    b.write_bytes(make_conda(_BIG, timestamp=1, mtime=1))
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    wheel.write_bytes(make_wheel(files={"demo/data.bin": _BIG["share/demo/data.bin"]}))
    with LocalCache(tmp_path / "store") as cache:
        report = store_packages([a, b, wheel], cache.store)
        assert [p.layout for p in report.packages] == ["tar.bz2", "tar.bz2", "zip"]
        # the 256 KiB member is one blob for all three packages
        assert report.blob_bytes < 1.5 * len(_BIG["share/demo/data.bin"])
        for item in report.packages:
            out = tmp_path / "out"
            materialize(cache.store, item.sha256, out)
            assert out.read_bytes() == Path(item.path).read_bytes()


def test_a_package_not_in_the_store_is_a_cache_error(tmp_path: Path) -> None:
    with LocalCache(tmp_path / "store") as cache, pytest.raises(CacheError):
        materialize(cache.store, "0" * 64, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def _zstd(data: bytes, *, sized: bool, **options: int) -> bytes:
    """``data`` as one zstd frame, with or without its size in the frame header."""
    parameter = zstd.CompressionParameter
    packer = zstd.ZstdCompressor(
        options={getattr(parameter, key): value for key, value in options.items()}
    )
    if sized:
        packer.set_pledged_input_size(len(data))
    return packer.compress(data) + packer.flush()


def _dot_conda(tar: bytes, **how: Any) -> bytes:
    """A ``.conda``: a zip of stored members, the package's tar compressed with zstd."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("metadata.json", json.dumps({"conda_pkg_format_version": 2}))
        archive.writestr("pkg-demo-1.0-py38_0.tar.zst", _zstd(tar, **how))
    return out.getvalue()


def test_the_window_of_each_level_is_this_machines_zstd() -> None:
    for level, log in enumerate(_ZSTD_WINDOW_LOGS, start=1):
        head = _zstd(b"x" * 5000, sized=False, compression_level=level)
        assert head[4] & 0xC0 == 0 and head[5] & 0x07 == 0, level  # no size; a plain window
        assert 10 + (head[5] >> 3) == log, level


@pytest.mark.parametrize(
    "how",
    [
        {"sized": False, "compression_level": 19},
        {"sized": True, "compression_level": 3, "checksum_flag": 1},
        {"sized": True, "compression_level": 15},
    ],
    ids=["19-streamed", "3-sized-checksum", "15-sized"],
)
def test_a_dot_conda_shares_its_members_with_the_tar_bz2_of_the_same_package(
    tmp_path: Path, how: dict[str, Any]
) -> None:
    tar_bz2 = make_conda(_BIG)
    dot_conda = _dot_conda(bz2.decompress(tar_bz2), **how)
    a, b = tmp_path / "demo-1.0-py38_0.tar.bz2", tmp_path / "demo-1.0-py38_0.conda"
    a.write_bytes(tar_bz2)
    b.write_bytes(dot_conda)
    with LocalCache(tmp_path / "store") as cache:
        report = store_packages([a, b], cache.store)
        assert [p.layout for p in report.packages] == ["tar.bz2", "conda"]
        member = sha256(_BIG["share/demo/data.bin"]).hexdigest()
        assert all(member in p.blobs for p in report.packages)
        assert report.blob_bytes < 1.5 * len(_BIG["share/demo/data.bin"])
        for item in report.packages:
            out = tmp_path / "out"
            materialize(cache.store, item.sha256, out)
            assert out.read_bytes() == Path(item.path).read_bytes()


def test_a_zstd_stream_made_otherwise_is_one_blob_and_comes_back(tmp_path: Path) -> None:
    # level 19 with a window no level gives by default: no level tried makes it again
    tar = bz2.decompress(make_conda(_BIG))
    made = _dot_conda(tar, sized=False, compression_level=19, window_log=24)
    path = tmp_path / "demo-1.0-py38_0.conda"
    path.write_bytes(made)
    with LocalCache(tmp_path / "store") as cache:
        (item,) = store_packages([path], cache.store).packages
        assert item.layout == "conda"
        assert sha256(_BIG["share/demo/data.bin"]).hexdigest() not in item.blobs
        materialize(cache.store, item.sha256, tmp_path / "out")
        assert (tmp_path / "out").read_bytes() == made


def test_rattler_builds_python_variants_share_their_modules_in_the_store(tmp_path: Path) -> None:
    variants = sorted((FIXTURES / "variants" / "linux-64").glob("*.conda"))
    first = FIXTURES / "twice" / "first" / "linux-64" / "rbdemo-1.0-py312_0.tar.bz2"
    with LocalCache(tmp_path / "store") as cache:
        report = store_packages([*variants, first], cache.store)
        assert [p.layout for p in report.packages] == ["conda"] * 3 + ["tar.bz2"]
        shared = set.intersection(*(set(p.blobs) for p in report.packages))
        # the modules, the script and most of the dist-info: one blob for the four packages
        assert len(shared) >= 4
        for item in report.packages:
            out = tmp_path / "out"
            materialize(cache.store, item.sha256, out)
            assert out.read_bytes() == Path(item.path).read_bytes()


def test_a_broken_zstd_stream_is_stored_whole(tmp_path: Path) -> None:
    made = _dot_conda(bz2.decompress(make_conda(_BIG)), sized=True, compression_level=3)
    at = made.index(b"\x28\xb5\x2f\xfd") + 40
    broken = made[:at] + bytes(b ^ 0xFF for b in made[at : at + 64]) + made[at + 64 :]
    path = tmp_path / "demo-1.0-py38_0.conda"
    path.write_bytes(broken)
    with LocalCache(tmp_path / "store") as cache:
        (item,) = store_packages([path], cache.store).packages
        assert item.layout == "whole"
        materialize(cache.store, item.sha256, tmp_path / "out")
        assert (tmp_path / "out").read_bytes() == broken
