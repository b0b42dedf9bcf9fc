"""The local cache as a whole: its index, eviction, and the check of everything."""

from __future__ import annotations

import multiprocessing
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from reprobuild.cache import LocalCache, Rejected
from reprobuild.errors import CacheError, UsageError
from tests.cache.helpers import blob_path, flip_byte, key, result_of


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[LocalCache]:
    with LocalCache(tmp_path / "store") as local:
        yield local


def _fill(cache: LocalCache) -> None:
    """Three records sharing one blob, one loose blob, one rejected record."""
    shared = cache.store.put_bytes(b"s" * 100)
    for n in range(3):
        own = cache.store.put_bytes(bytes([n]) * (10 + n))
        cache.actions.put(key(n), result_of(own, shared))
    cache.store.put_bytes(b"loose")
    gone = cache.store.put_bytes(b"gone")
    cache.actions.put(key(9), result_of(gone))
    cache.store.remove(gone.digest)
    assert cache.actions.get(key(9)) is None


def _drop_index(root: Path) -> None:
    for name in ("index.sqlite", "index.sqlite-wal", "index.sqlite-shm"):
        (root / name).unlink(missing_ok=True)


def test_stats_count_blobs_actions_and_rejections(cache: LocalCache) -> None:
    _fill(cache)
    stats = cache.stats()
    assert (stats.blobs, stats.blob_bytes) == (5, 100 + 10 + 11 + 12 + 5)
    assert (stats.actions, stats.rejected, stats.quarantined) == (3, 1, 1)


def test_the_index_made_again_from_the_files_gives_the_same_stats(tmp_path: Path) -> None:
    root = tmp_path / "store"
    with LocalCache(root) as cache:
        _fill(cache)
        before = cache.stats()
        assert cache.rebuild_index() == before
    _drop_index(root)
    with LocalCache(root) as cache:
        assert cache.stats() == before
        # what the rebuilt index lists is still good for use
        assert cache.actions.get(key(0)) is not None


def test_an_index_that_is_not_a_database_is_a_cache_error(tmp_path: Path) -> None:
    root = tmp_path / "store"
    LocalCache(root).close()
    _drop_index(root)
    (root / "index.sqlite").write_bytes(b"not a database at all" * 100)
    with LocalCache(root) as cache, pytest.raises(CacheError, match="index") as exc:
        cache.stats()
    assert "delete it" in (exc.value.hint or "")


def test_gc_evicts_least_recently_used_and_keeps_what_survivors_point_at(
    cache: LocalCache,
) -> None:
    loose = cache.store.put_bytes(b"u" * 1000)  # oldest, pointed at by nothing
    shared = cache.store.put_bytes(b"s" * 100)
    own_a = cache.store.put_bytes(b"a" * 10)
    own_b = cache.store.put_bytes(b"b" * 20)
    cache.actions.put(key(1), result_of(own_a, shared))
    cache.actions.put(key(2), result_of(own_b, shared))
    assert cache.actions.get(key(1)) is not None  # 1 is now the most recently used
    report = cache.gc(max_size=110)
    assert report.evicted_blobs == (loose.digest, own_b.digest)
    assert report.evicted_actions == (key(2),)
    assert (report.size_before, report.size_after) == (1130, 110)
    assert report.bytes_freed == 1020
    # the survivor and everything it points at are intact
    assert cache.actions.get(key(1)) is not None
    assert cache.store.read_bytes(shared.digest) == b"s" * 100
    stats = cache.stats()
    assert (stats.blobs, stats.blob_bytes, stats.actions) == (2, 110, 1)


def test_gc_never_deletes_a_blob_a_surviving_record_points_at(cache: LocalCache) -> None:
    shared = cache.store.put_bytes(b"s" * 100)
    cache.actions.put(key(1), result_of(shared))
    cache.actions.put(key(2), result_of(shared))
    report = cache.gc(max_size=50)  # the old record goes; the shared blob stays until the last
    assert report.evicted_actions == (key(1), key(2))
    assert report.evicted_blobs == (shared.digest,)
    assert cache.gc(max_size=0).bytes_freed == 0


def test_gc_under_the_size_evicts_nothing(cache: LocalCache) -> None:
    _fill(cache)
    report = cache.gc(max_size=10**9)
    assert (report.evicted_actions, report.evicted_blobs, report.bytes_freed) == ((), (), 0)


def test_gc_to_zero_empties_the_store(cache: LocalCache) -> None:
    _fill(cache)
    report = cache.gc(max_size=0)
    assert report.size_after == 0
    assert list(cache.store.blobs()) == []
    assert list(cache.actions.stored_keys()) == []
    assert cache.stats().blobs == 0


def test_gc_sets_aside_a_record_that_does_not_parse(cache: LocalCache) -> None:
    blob = cache.store.put_bytes(b"x" * 10)
    cache.actions.put(key(1), result_of(blob))
    path = cache.root / "ac" / key(1)[:2] / key(1)
    path.chmod(0o644)
    path.write_bytes(b"{")
    report = cache.gc(max_size=0)
    assert [r.key for r in report.rejected] == [key(1)]
    assert report.evicted_blobs == (blob.digest,)


def test_gc_refuses_a_negative_size(cache: LocalCache) -> None:
    with pytest.raises(UsageError):
        cache.gc(max_size=-1)


def test_verify_of_a_good_cache_is_clean(cache: LocalCache) -> None:
    _fill(cache)
    report = cache.verify()
    assert report.clean
    assert (report.blobs_checked, report.actions_checked) == (5, 3)


def test_verify_finds_corrupt_blobs_broken_records_and_strays(tmp_path: Path) -> None:
    seen: list[Rejected] = []
    with LocalCache(tmp_path / "store", on_reject=seen.append) as cache:
        _fill(cache)
        seen.clear()
        own = result_of(cache.store.put_bytes(b"own"))
        cache.actions.put(key(5), own)
        flip_byte(cache.store, own.outputs[0].digest)
        bad = cache.root / "ac" / key(6)[:2] / key(6)
        bad.parent.mkdir(parents=True, exist_ok=True)
        bad.write_bytes(b"not json")
        (cache.root / "cas" / "stray.txt").write_bytes(b"?")
        report = cache.verify()
        assert not report.clean
        assert report.corrupt_blobs == (own.outputs[0].digest,)
        assert sorted(r.key for r in report.broken_actions) == [key(5), key(6)]
        assert [r.key for r in seen] == [key(5), key(6)]
        assert report.strays == ("cas/stray.txt",)
        assert not blob_path(cache.store, own.outputs[0].digest).exists()
        again = cache.verify()
        assert again.clean
        assert (again.blobs_checked, again.actions_checked) == (5, 3)
        assert cache.stats().rejected == 3


def _writer(root: str, start: int) -> None:
    with LocalCache(Path(root)) as cache:
        shared = cache.store.put_bytes(b"shared" * 1000)
        for n in range(start, start + 20):
            own = cache.store.put_bytes(n.to_bytes(4, "big"))
            cache.actions.put(key(n), result_of(own, shared))
            assert cache.actions.get(key(n)) is not None


def test_processes_sharing_a_cache_keep_its_index_whole(tmp_path: Path) -> None:
    root = tmp_path / "store"
    LocalCache(root).close()
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_writer, args=(str(root), s)) for s in (0, 100, 200, 300)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    with sqlite3.connect(root / "index.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()
    with LocalCache(root) as cache:
        stats = cache.stats()
        assert (stats.blobs, stats.actions, stats.rejected) == (81, 80, 0)
        assert cache.rebuild_index() == stats
        assert cache.verify().clean
