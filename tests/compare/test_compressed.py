"""Compressed streams: the gzip header field by field, compression told apart from content."""

from __future__ import annotations

import bz2
import gzip
import lzma

import pytest

from reprobuild.archive import Member
from reprobuild.compare import Category
from reprobuild.compare.compressed import inner_name
from tests.compare.helpers import categories, check_golden, diff
from tests.factories import make_sdist

TEXT = b"".join(b"line %d\n" % i for i in range(500))


@pytest.mark.parametrize(
    ("name", "inner"),
    [
        ("demo-1.0.tar.gz", "demo-1.0.tar"),
        ("demo-1.0.tgz", "demo-1.0.tar"),
        ("x.tar.bz2", "x.tar"),
        ("x.txz", "x.tar"),
        ("notes.txt.xz", "notes.txt"),
        ("data", "data (decompressed)"),
        (".gz", ".gz (decompressed)"),
    ],
)
def test_inner_name(name: str, inner: str) -> None:
    assert inner_name(name) == inner


def test_a_gzipped_text_is_compared_as_text() -> None:
    a = gzip.compress(TEXT, mtime=0)
    b = gzip.compress(TEXT.replace(b"line 7\n", b"line seven\n"), mtime=0)
    found = diff(a, b, "CHANGES.txt.gz")
    assert found is not None and categories(found) == {Category.CONTENT}
    (leaf,) = found.leaves()
    assert leaf.source_a == "CHANGES.txt"
    assert leaf.unified_diff is not None and "+line seven" in leaf.unified_diff


def test_header_and_content_together() -> None:
    a = gzip.compress(TEXT, mtime=0)
    b = gzip.compress(TEXT + b"more\n", mtime=1_700_000_000)
    assert categories(diff(a, b, "x.gz")) == {Category.CONTENT, Category.CONTAINER}


@pytest.mark.parametrize(
    ("name", "a", "b"),
    [
        ("x.gz", gzip.compress(TEXT, 1, mtime=0), gzip.compress(TEXT, 9, mtime=0)),
        ("x.bz2", bz2.compress(TEXT, 1), bz2.compress(TEXT, 9)),
        ("x.xz", lzma.compress(TEXT, preset=0), lzma.compress(TEXT, preset=9)),
    ],
)
def test_the_same_content_compressed_differently(name: str, a: bytes, b: bytes) -> None:
    found = diff(a, b, name)
    assert found is not None and categories(found) == {Category.COMPRESSION}
    (leaf,) = found.leaves()
    assert leaf.source_a == f"{name} › (compressed stream)"


def test_a_truncated_stream_falls_back_to_bytes() -> None:
    a = gzip.compress(TEXT, mtime=0)
    found = diff(a, a[:-20], "x.gz")
    assert found is not None and found.comment is not None
    assert found.comment.startswith("not comparable as gzip:")


def test_golden_gzip_header() -> None:
    a = make_sdist(compress_level=9)
    b = make_sdist(
        compress_level=1, gzip_mtime=1_700_000_000, gzip_filename="demo-1.0.tar", gzip_os=3
    )
    found = diff(a, b, "demo-1.0.tar.gz")
    assert categories(found) == {Category.CONTAINER, Category.COMPRESSION}
    check_golden("gzip_header", found)


def _sdist(files: dict[str, bytes], *, gzip_mtime: int = 0) -> bytes:
    import gzip as gzip_module
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(f"demo-1.0/{name}")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return gzip_module.compress(buf.getvalue(), mtime=gzip_mtime)


@pytest.mark.parametrize(
    ("files_b", "mtime_b"),
    [
        ({"a.txt": b"one\n", "b.txt": b"three\n", "c.txt": b"new\n"}, 0),
        ({"a.txt": b"one\n", "b.txt": b"two\n"}, 5),
    ],
)
def test_tar_gz_is_compared_streaming_with_the_same_result(
    monkeypatch: pytest.MonkeyPatch, files_b: dict[str, bytes], mtime_b: int
) -> None:
    from reprobuild.compare import Item, compare, compressed

    a = Item(name="demo.tar.gz", data=_sdist({"a.txt": b"one\n", "b.txt": b"two\n"}))
    b = Item(name="demo.tar.gz", data=_sdist(files_b, gzip_mtime=mtime_b))
    with monkeypatch.context() as patch:
        patch.setattr(compressed, "_scan_if_tars", lambda *args: None)
        whole = compare(a, b)
    with monkeypatch.context() as patch:

        def refuse(*args: object, **kwargs: object) -> None:
            raise AssertionError("the tar.gz was decompressed whole")

        patch.setattr(compressed, "decompress", refuse)
        streamed = compare(a, b)
    assert whole is not None
    assert streamed == whole


def _pair() -> tuple[bytes, bytes]:
    shared = {f"m{i}.txt": f"same {i}\n".encode() for i in range(6)}
    a = _sdist({**shared, "changed.txt": b"old\n", "gone.txt": b"only in a\n"})
    b = _sdist({**shared, "changed.txt": b"new\n", "moved.txt": b"same 3\n"})
    return a, b


def test_one_pass_keeps_only_content_the_other_side_has_nowhere() -> None:
    from reprobuild.archive import DEFAULT_LIMITS, Compression
    from reprobuild.compare.tararchive import scan_tars

    a, b = _pair()
    scanned = scan_tars(a, b, Compression.GZIP, DEFAULT_LIMITS)
    kept = [
        sorted(archive.members[number].path for number in contents)
        for archive, contents in zip(scanned.archives, scanned.contents, strict=True)
    ]
    # moved.txt holds what m3.txt holds on the other side: nothing of it is kept
    assert kept == [["demo-1.0/changed.txt", "demo-1.0/gone.txt"], ["demo-1.0/changed.txt"]]
    assert scanned.contents[0] == {
        n: m.data() for n, m in enumerate(_members(a)) if m.path in kept[0]
    }


@pytest.mark.parametrize("budget", [0, 5])
def test_content_past_the_budget_is_read_again_with_the_same_result(
    monkeypatch: pytest.MonkeyPatch, budget: int
) -> None:
    from reprobuild.archive import DEFAULT_LIMITS, Compression
    from reprobuild.compare import Item, compare, tararchive

    a, b = _pair()
    expected = compare(Item(name="demo.tar.gz", data=a), Item(name="demo.tar.gz", data=b))
    scanned = tararchive.scan_tars(a, b, Compression.GZIP, DEFAULT_LIMITS, budget=budget)
    assert sum(len(c) for side in scanned.contents for c in side.values()) <= budget
    original = tararchive.scan_tars
    monkeypatch.setattr(tararchive, "scan_tars", lambda *args: original(*args, budget=budget))
    from reprobuild.compare import compressed

    monkeypatch.setattr(compressed, "scan_tars", tararchive.scan_tars)
    assert compare(Item(name="demo.tar.gz", data=a), Item(name="demo.tar.gz", data=b)) == expected


def _members(data: bytes) -> tuple[Member, ...]:
    from reprobuild.archive import parse_archive

    return parse_archive(data).members
