"""Zip archives: members matched and compared without inflating equal ones, header fields by
category, corrupt members compared as bytes."""

from __future__ import annotations

import io
import zipfile
import zlib

from reprobuild.compare import Category, CompareOptions
from tests.compare.helpers import categories, check_golden, diff
from tests.factories import make_wheel, make_zip
from tests.hostile import _deflate, _ZipEntry, _ZipWriter

PROSE = b"".join(b"line %d of a module\n" % i for i in range(200))


def _zip_with(**info_fields: object) -> bytes:
    """A one-member zip written by zipfile, with ``info_fields`` set on its ZipInfo."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("a.txt", date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o100644 << 16
        for key, value in info_fields.items():
            setattr(info, key, value)
        archive.writestr(info, b"hello\n")
    return buffer.getvalue()


def _writer_zip(*entries: _ZipEntry) -> bytes:
    writer = _ZipWriter()
    for entry in entries:
        writer.add(entry)
    return writer.finish()


def test_member_comment_and_internal_attributes_are_container() -> None:
    found = diff(_zip_with(), _zip_with(comment=b"hi", internal_attr=1), "x.zip")
    assert found is not None and categories(found) == {Category.CONTAINER}
    (leaf,) = found.leaves()
    assert leaf.source_a == "a.txt › internal attributes, comment"


def test_ms_dos_attribute_bits_are_container() -> None:
    found = diff(_zip_with(), _zip_with(external_attr=(0o100644 << 16) | 0x20), "x.zip")
    assert categories(found) == {Category.CONTAINER}


def test_a_corrupt_member_is_compared_as_stored_bytes() -> None:
    content = b"print('hello')\n" * 20
    good = _writer_zip(_ZipEntry(name="a.py", data=content))
    bad = _writer_zip(_ZipEntry(name="a.py", data=content, payload=b"\x07" + _deflate(content)[1:]))
    found = diff(good, bad, "x.zip")
    assert found is not None and categories(found) == {Category.CONTENT}
    (leaf,) = found.leaves()
    assert leaf.source_a == "a.py"
    assert leaf.comment is not None
    assert leaf.comment.startswith("cannot inflate (")
    assert "the stored bytes are compared" in leaf.comment
    assert "first difference at offset 0x0" in leaf.comment
    assert leaf.unified_diff is not None


def test_a_corrupt_nested_zip_falls_back_to_bytes() -> None:
    inner = make_zip({"x.txt": PROSE})
    a = make_zip({"inner.zip": inner})
    b = make_zip({"inner.zip": inner[: len(inner) // 2]})
    found = diff(a, b, "outer.zip")
    assert found is not None
    (leaf,) = found.leaves()
    assert leaf.source_a == "inner.zip"
    assert leaf.comment is not None
    assert leaf.comment.startswith("not comparable as zip: no end of central directory record")


def test_a_nested_zip_is_compared_member_by_member() -> None:
    a = make_zip({"inner.zip": make_zip({"x.txt": b"1\n", "y.txt": b"y\n"})})
    b = make_zip({"inner.zip": make_zip({"x.txt": b"2\n", "y.txt": b"y\n"})})
    found = diff(a, b, "outer.zip")
    assert found is not None
    assert [leaf.source_a for leaf in found.leaves()] == ["x.txt"]


def test_a_file_that_is_not_a_zip_falls_back() -> None:
    found = diff(b"PK\x03\x04 not really", b"PK\x03\x04 not at all", "x.zip")
    assert found is not None and found.comment is not None
    assert found.comment.startswith("not comparable as zip:")


def test_a_crc_that_does_not_match_equal_content() -> None:
    data = b"x = 1\n"
    good = _writer_zip(_ZipEntry(name="a.py", data=data))
    bad = _writer_zip(_ZipEntry(name="a.py", data=data, crc=zlib.crc32(data) ^ 1))
    found = diff(good, bad, "x.zip")
    assert found is not None and categories(found) == {Category.CONTENT}
    (leaf,) = found.leaves()
    assert leaf.comment is not None and "the CRC-32 of b does not match" in leaf.comment


def test_duplicate_names_are_matched_by_occurrence() -> None:
    a = _writer_zip(_ZipEntry(name="a.py", data=b"1\n"), _ZipEntry(name="a.py", data=b"2\n"))
    b = _writer_zip(_ZipEntry(name="a.py", data=b"1\n"), _ZipEntry(name="a.py", data=b"3\n"))
    found = diff(a, b, "x.zip")
    assert found is not None and categories(found) == {Category.CONTENT}
    (leaf,) = found.leaves()
    assert leaf.unified_diff is not None and "+3" in leaf.unified_diff


def test_unchanged_members_are_not_inflated() -> None:
    """A member whose stored bytes are equal is skipped: corrupt but equal data goes unnoticed."""
    content = b"print('hello')\n" * 20
    broken = _ZipEntry(name="a.py", data=content, payload=b"\x07" + _deflate(content)[1:])
    a = _writer_zip(broken, _ZipEntry(name="b.txt", data=b"1\n"))
    b = _writer_zip(broken, _ZipEntry(name="b.txt", data=b"2\n"))
    found = diff(a, b, "x.zip")
    assert found is not None
    assert [leaf.source_a for leaf in found.leaves()] == ["b.txt"]


def test_wheels_of_two_versions_match_their_dist_info() -> None:
    a = make_wheel(version="1.0")
    b = make_wheel(version="1.1")
    found = diff(a, b, "demo-1.0-py3-none-any.whl", "demo-1.1-py3-none-any.whl")
    assert found is not None
    assert Category.MISSING not in found.counts() and Category.ADDED not in found.counts()
    check_golden("wheel_versions", found)


def test_exclude_skips_members() -> None:
    a = make_wheel(version="1.0")
    b = make_wheel(version="1.1")
    options = CompareOptions(exclude=("*.dist-info/*", "__init__.py"))
    found = diff(a, b, "a.whl", "b.whl", options=options)
    assert found is not None
    assert found.comment == "no differences outside the 8 excluded members"
    assert not found.counts()


def test_golden_zip_headers() -> None:
    a = make_wheel(files={"demo/__init__.py": b"", "demo/cli.py": PROSE})
    b = make_wheel(
        files={"demo/__init__.py": b"", "demo/cli.py": PROSE},
        modes={"demo/cli.py": 0o775},
        mtime={"demo/__init__.py": (2024, 2, 29, 12, 0, 0)},
        comment=b"made on a Tuesday",
        extra=b"UT\x05\x00\x01\x00\x1a\x92\x65",
    )
    check_golden("zip_headers", diff(a, b, "demo-1.0-py3-none-any.whl"))
