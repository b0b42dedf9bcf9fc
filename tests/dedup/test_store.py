"""The store: each distinct member once in the cache's blob store, packages written back bit
for bit."""

from __future__ import annotations

from pathlib import Path

import pytest

from reprobuild.cache import LocalCache
from reprobuild.dedup.store import materialize, store_packages
from reprobuild.errors import CacheError
from tests.dedup.data import make_conda
from tests.factories import make_wheel

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
