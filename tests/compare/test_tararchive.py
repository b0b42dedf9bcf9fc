"""Tar archives: sdists matched below differently named top folders, header fields by category."""

from __future__ import annotations

import io
import tarfile

from reprobuild.compare import Category
from tests.compare.helpers import categories, check_golden, diff
from tests.factories import make_sdist, make_tar


def _tar(
    *members: tuple[tarfile.TarInfo, bytes | None],
    format: int = tarfile.PAX_FORMAT,
    pax_headers: dict[str, str] | None = None,
) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=format, pax_headers=pax_headers) as archive:
        for info, data in members:
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def _file(name: str, data: bytes, **fields: object) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in fields.items():
        setattr(info, key, value)
    return info, data


def test_sdists_of_two_versions_match_below_the_top_folder() -> None:
    found = diff(
        make_sdist(version="1.0"), make_sdist(version="1.1"), "demo-1.0.tar.gz", "demo-1.1.tar.gz"
    )
    assert found is not None
    assert categories(found) == {Category.CONTENT}
    renames = [leaf for leaf in found.leaves() if leaf.comment == "the folder is renamed"]
    assert [(r.source_a, r.source_b) for r in renames] == [("demo-1.0/", "demo-1.1/")]
    check_golden("sdist_versions", found)


def test_an_sdist_against_a_plain_tar_with_one_top_folder() -> None:
    a = make_tar({"pkg-1/a.txt": b"a\n", "pkg-1/b.txt": b"b\n"})
    b = make_tar({"pkg-2/a.txt": b"a\n", "pkg-2/b.txt": b"B\n"})
    found = diff(a, b, "x.tar")
    assert found is not None
    assert [leaf.source_a for leaf in found.leaves()] == ["pkg-1/", "pkg-1/b.txt"]


def test_other_pax_records_are_container() -> None:
    a = _tar(_file("a.txt", b"a\n"))
    b = _tar(_file("a.txt", b"a\n", pax_headers={"comment": "built by me"}))
    found = diff(a, b, "x.tar")
    assert found is not None and categories(found) == {Category.CONTAINER}
    (leaf,) = found.leaves()
    assert leaf.comment == "PAX records: no comment vs comment='built by me'"


def test_pax_atime_is_a_timestamp() -> None:
    a = _tar(_file("a.txt", b"a\n", pax_headers={"atime": "1700000000"}))
    b = _tar(_file("a.txt", b"a\n", pax_headers={"atime": "1700000100"}))
    assert categories(diff(a, b, "x.tar")) == {Category.TIMESTAMP}


def test_a_long_name_spelled_in_pax_or_ustar_prefix_is_container() -> None:
    name = "d" * 60 + "/" + "f" * 60
    a = _tar(_file(name, b"a\n"), format=tarfile.USTAR_FORMAT)
    b = _tar(_file(name, b"a\n", pax_headers={"path": name}))
    found = diff(a, b, "x.tar")
    assert found is not None and categories(found) == {Category.CONTAINER}
    (leaf,) = found.leaves()
    assert leaf.source_a == f"{name} › PAX records"


def test_a_global_pax_header_is_container() -> None:
    a = _tar(_file("a.txt", b"a\n"))
    b = _tar(_file("a.txt", b"a\n"), pax_headers={"comment": "abc123"})
    found = diff(a, b, "x.tar")
    assert found is not None and categories(found) == {Category.CONTAINER}
    assert [leaf.source_a for leaf in found.leaves()] == ["x.tar › (tar global header)"]


def test_kind_and_hardlink_target_are_content() -> None:
    a = make_tar({"a.txt": b"a\n", "b.txt": b"b\n"}, hardlinks={"c.txt": "a.txt"})
    b = make_tar({"a.txt": b"a\n", "b.txt": b"b\n"}, hardlinks={"c.txt": "b.txt"})
    assert categories(diff(a, b, "x.tar")) == {Category.CONTENT}
    c = make_tar({"a.txt": b"a\n"}, dirs=["x"], dir_mode=0o644)
    d = make_tar({"a.txt": b"a\n", "x": b""}, order=["x"])
    found = diff(c, d, "x.tar")
    assert found is not None and categories(found) == {Category.CONTENT}
    assert next(found.leaves()).comment == "kind: dir vs file"


def test_padding_that_follows_from_the_length_is_not_reported() -> None:
    a = make_tar({"a.txt": b"a" * 100})
    b = make_tar({"a.txt": b"a" * 10_000})
    found = diff(a, b, "x.tar")
    assert categories(found) == {Category.CONTENT}


def test_the_end_of_archive_padding_is_container() -> None:
    a = make_tar({"a.txt": b"a\n"})  # header, data, and zeros up to a 10240-byte record
    b = a[:1024] + bytes(1024)  # the same header and data, then just two zero blocks
    assert len(a) == 10240
    found = diff(a, b, "x.tar")
    assert found is not None and categories(found) == {Category.CONTAINER}
    (leaf,) = found.leaves()
    assert leaf.source_a == "x.tar › (tar end of archive)"


def test_golden_tar_headers() -> None:
    files = {"pkg/a.py": b"x = 1\n", "pkg/b.py": b"y = 2\n"}
    a = make_tar(files, mtime=1_700_000_000, uid=0, gid=0)
    b = make_tar(
        files,
        mtime={"pkg/a.py": 1_700_000_000.5, "pkg/b.py": 1_700_000_000},
        uid=1000,
        gid=100,
        uname="builder",
        gname="users",
        modes={"pkg/b.py": 0o600},
    )
    check_golden("tar_headers", diff(a, b, "pkg.tar"))
