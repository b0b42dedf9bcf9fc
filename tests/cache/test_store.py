"""The blob store: written once, read-only, verified on every read, safe to share."""

from __future__ import annotations

import hashlib
import multiprocessing
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from reprobuild.cache import BlobStore, LocalCache
from reprobuild.errors import CorruptBlobError, MissingBlobError, UsageError
from tests.cache.helpers import blob_path, flip_byte


@pytest.fixture
def store(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "store")


def test_put_bytes_names_the_blob_by_its_sha256(store: BlobStore) -> None:
    blob = store.put_bytes(b"hello")
    assert blob.digest == hashlib.sha256(b"hello").hexdigest()
    assert blob.size == 5
    path = blob_path(store, blob.digest)
    assert path.read_bytes() == b"hello"
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert store.has(blob.digest)
    assert store.read_bytes(blob.digest) == b"hello"


def test_put_file_and_put_stream_give_the_same_blob(store: BlobStore, tmp_path: Path) -> None:
    data = bytes(range(256)) * 10_000  # more than one block
    source = tmp_path / "source.bin"
    source.write_bytes(data)
    from_file = store.put_file(source)
    from_stream = store.put_stream(data[i : i + 999] for i in range(0, len(data), 999))
    assert from_file == from_stream
    assert from_file.size == len(data)
    assert list(store.blobs()) == [from_file]


def test_a_blob_already_there_is_not_rewritten(store: BlobStore) -> None:
    first = store.put_bytes(b"same")
    before = blob_path(store, first.digest).stat()
    assert store.put_bytes(b"same") == first
    after = blob_path(store, first.digest).stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_expect_refuses_other_bytes_and_stores_nothing(store: BlobStore) -> None:
    wanted = hashlib.sha256(b"wanted").hexdigest()
    with pytest.raises(CorruptBlobError) as exc:
        store.put_bytes(b"other", expect=wanted)
    assert exc.value.digest == wanted
    assert exc.value.actual == hashlib.sha256(b"other").hexdigest()
    assert list(store.blobs()) == []
    assert list((store.root / "tmp").iterdir()) == []
    assert store.put_bytes(b"wanted", expect=wanted).digest == wanted


def test_a_stream_that_raises_midway_leaves_nothing(store: BlobStore) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"a" * 1000
        raise OSError("the source went away")

    with pytest.raises(OSError, match="went away"):
        store.put_stream(chunks())
    assert list(store.blobs()) == []
    assert list((store.root / "tmp").iterdir()) == []
    assert list(store.strays()) == []


@pytest.mark.parametrize(
    "bad",
    [
        "../../etc/passwd",
        "A" * 64,
        "a" * 63,
        "a" * 65,
        "g" * 64,
        "",
        "aa/" + "a" * 61,
    ],
)
def test_a_bad_digest_is_a_usage_error_not_a_path(
    store: BlobStore, bad: str, tmp_path: Path
) -> None:
    for call in (store.has, store.read_bytes, store.path_of, store.verify, store.remove):
        with pytest.raises(UsageError, match="not a sha256"):
            call(bad)
    with pytest.raises(UsageError):
        store.export(bad, tmp_path / "out")
    with pytest.raises(UsageError):
        store.put_bytes(b"x", expect=bad)


def test_a_missing_blob(store: BlobStore, tmp_path: Path) -> None:
    digest = hashlib.sha256(b"never").hexdigest()
    assert not store.has(digest)
    assert not store.verify(digest)
    with pytest.raises(MissingBlobError):
        store.read_bytes(digest)
    with pytest.raises(MissingBlobError):
        store.export(digest, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_export_copies_a_good_blob(store: BlobStore, tmp_path: Path) -> None:
    blob = store.put_bytes(b"wheel bytes")
    dest = tmp_path / "demo.whl"
    assert store.export(blob.digest, dest) == blob
    assert dest.read_bytes() == b"wheel bytes"
    assert dest.stat().st_mode & 0o200  # the copy is the caller's: writable
    assert store.path_of(blob.digest) == blob_path(store, blob.digest)


def test_export_of_a_corrupt_blob_raises_and_leaves_dest_alone(
    store: BlobStore, tmp_path: Path
) -> None:
    blob = store.put_bytes(b"x" * 5000)
    flip_byte(store, blob.digest, at=4000)
    dest = tmp_path / "out.whl"
    dest.write_bytes(b"what was there")
    with pytest.raises(CorruptBlobError) as exc:
        store.export(blob.digest, dest)
    assert dest.read_bytes() == b"what was there"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "store") == ["out.whl"]
    # the bad blob is set aside, with its reason, and is gone from the store
    assert exc.value.quarantined is not None
    moved = Path(exc.value.quarantined)
    assert moved.parent == store.root / "quarantine"
    assert moved.read_bytes() != b"x" * 5000
    assert "sha256" in moved.with_name(moved.name + ".reason").read_text()
    assert not store.has(blob.digest)
    assert "reprobuild cache verify" in (exc.value.hint or "")


@pytest.mark.parametrize("read", ["read_bytes", "path_of"])
def test_every_read_verifies(store: BlobStore, read: str) -> None:
    blob = store.put_bytes(b"payload")
    assert store.has(blob.digest)
    flip_byte(store, blob.digest)
    assert store.has(blob.digest)  # has only looks; reading checks
    with pytest.raises(CorruptBlobError):
        getattr(store, read)(blob.digest)
    assert not store.has(blob.digest)
    assert len([p for p in (store.root / "quarantine").iterdir() if p.suffix != ".reason"]) == 1


def test_verify_sets_a_corrupt_blob_aside(store: BlobStore) -> None:
    blob = store.put_bytes(b"payload")
    assert store.verify(blob.digest)
    flip_byte(store, blob.digest)
    assert not store.verify(blob.digest)
    assert not store.has(blob.digest)
    # putting the right bytes again heals the store
    assert store.put_bytes(b"payload") == blob
    assert store.read_bytes(blob.digest) == b"payload"


def test_a_blob_of_the_wrong_size_is_replaced_by_a_put(store: BlobStore) -> None:
    blob = store.put_bytes(b"payload")
    path = blob_path(store, blob.digest)
    path.chmod(0o644)
    path.write_bytes(b"pay")
    assert store.put_bytes(b"payload") == blob
    assert store.read_bytes(blob.digest) == b"payload"


def test_strays_are_listed(store: BlobStore) -> None:
    store.put_bytes(b"x")
    (store.root / "cas" / "zz").mkdir()
    (store.root / "cas" / "ab" / "notahash").parent.mkdir(exist_ok=True)
    (store.root / "cas" / "ab" / "notahash").write_bytes(b"")
    (store.root / "cas" / "ab" / ("cd" + "0" * 62)).write_bytes(b"")  # in the wrong folder
    assert sorted(p.relative_to(store.root).as_posix() for p in store.strays()) == [
        "cas/ab/cd" + "0" * 62,
        "cas/ab/notahash",
        "cas/zz",
    ]
    assert len(list(store.blobs())) == 1


_SHARED = bytes(range(256)) * 4096  # 1 MiB


def _put_shared(root: str) -> str:
    with LocalCache(Path(root)) as cache:
        return cache.store.put_bytes(_SHARED).digest


def test_processes_writing_the_same_blob_at_once_end_with_one_good_blob(tmp_path: Path) -> None:
    root = tmp_path / "store"
    LocalCache(root).close()
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        digests = pool.map(_put_shared, [str(root)] * 8)
    expected = hashlib.sha256(_SHARED).hexdigest()
    assert set(digests) == {expected}
    with LocalCache(root) as cache:
        assert [b.digest for b in cache.store.blobs()] == [expected]
        assert cache.store.read_bytes(expected) == _SHARED
        assert cache.stats().blobs == 1
    assert list((root / "tmp").iterdir()) == []
    assert list((root / "quarantine").iterdir()) == []
