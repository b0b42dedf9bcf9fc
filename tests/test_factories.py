"""The archive factories do what they say: each knob changes the bytes, and only as documented.

Every twin test builds the same archive twice, once with the defaults and once with one knob
changed, reads both back with the standard library, and checks that the property the knob
controls holds for the changed twin and not for the default one.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import stat
import struct
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Literal, TypeVar

import pytest

from tests.factories import (
    ZIP_EPOCH,
    TarGzKnobs,
    TarKnobs,
    ZipKnobs,
    arrange,
    make_sdist,
    make_tar,
    make_tar_bz2,
    make_tar_gz,
    make_tar_xz,
    make_wheel,
    make_zip,
    record_hash,
    sdist_filename,
    wheel_filename,
)

#: Compressible but not trivially so, so that compression levels give different bytes.
TEXT = "".join(f"line {i}: {i * i} {i**3 % 977}\n" for i in range(4000)).encode()
FILES = {"pkg/a.py": b"print('a')\n", "pkg/b.txt": TEXT}
DIRS = ("pkg/",)

_A = TypeVar("_A")
ZipCheck = Callable[[zipfile.ZipFile], bool]
TarCheck = Callable[[tarfile.TarFile], bool]


def _zip(data: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(data))


def _tar(data: bytes, mode: Literal["r:", "r:gz", "r:bz2", "r:xz"] = "r:") -> tarfile.TarFile:
    return tarfile.open(fileobj=io.BytesIO(data), mode=mode)


def _holds(check: Callable[[_A], bool], archive: _A) -> bool:
    """``check(archive)``, where a member that is not there means the property does not hold."""
    try:
        return check(archive)
    except KeyError:
        return False


def _unix_mode(info: zipfile.ZipInfo) -> int:
    return info.external_attr >> 16


def _zip_modes(archive: zipfile.ZipFile) -> dict[str, int]:
    return {i.filename: stat.S_IMODE(_unix_mode(i)) for i in archive.infolist()}


UT_EXTRA = b"UT\x05\x00\x01\x00\xe1\xf5\x05"  # 0x5455 extended timestamp, mtime only

ZIP_TWINS: dict[str, tuple[ZipKnobs, ZipCheck]] = {
    "mtime": (
        {"mtime": (2024, 5, 1, 12, 0, 0)},
        lambda z: all(i.date_time == (2024, 5, 1, 12, 0, 0) for i in z.infolist()),
    ),
    "mtime-per-member": (
        {"mtime": {"pkg/a.py": (2000, 1, 2, 3, 4, 6)}},
        lambda z: (
            z.getinfo("pkg/a.py").date_time == (2000, 1, 2, 3, 4, 6)
            and z.getinfo("pkg/b.txt").date_time == ZIP_EPOCH
        ),
    ),
    "order": (
        {"order": ["pkg/b.txt", "pkg"]},
        lambda z: z.namelist() == ["pkg/b.txt", "pkg/", "pkg/a.py"],
    ),
    "mode": (
        {"mode": 0o755},
        lambda z: _zip_modes(z)["pkg/a.py"] == _zip_modes(z)["pkg/b.txt"] == 0o755,
    ),
    "dir_mode": ({"dir_mode": 0o700}, lambda z: _zip_modes(z)["pkg/"] == 0o700),
    "modes": (
        {"modes": {"pkg/a.py": 0o600, "pkg": 0o750}},
        lambda z: _zip_modes(z) == {"pkg/": 0o750, "pkg/a.py": 0o600, "pkg/b.txt": 0o644},
    ),
    "compress_level": (
        {"compress_level": 1},
        lambda z: (
            z.getinfo("pkg/b.txt").compress_size
            > zipfile.ZipFile(io.BytesIO(make_zip(FILES))).getinfo("pkg/b.txt").compress_size
        ),
    ),
    "method": (
        {"method": zipfile.ZIP_STORED},
        lambda z: all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist()),
    ),
    "create_system": (
        {"create_system": 0},
        lambda z: all(i.create_system == 0 for i in z.infolist()),
    ),
    "extra": ({"extra": UT_EXTRA}, lambda z: all(i.extra == UT_EXTRA for i in z.infolist())),
    "comment": ({"comment": b"made by a test"}, lambda z: z.comment == b"made by a test"),
    "symlinks": (
        {"symlinks": {"pkg/link": "a.py"}},
        lambda z: (
            stat.S_ISLNK(_unix_mode(z.getinfo("pkg/link")))
            and z.read("pkg/link") == b"a.py"
            and _zip_modes(z)["pkg/link"] == 0o777
        ),
    ),
    "dirs": (
        {"dirs": ["pkg", "empty/"]},
        lambda z: z.getinfo("empty/").is_dir() and stat.S_ISDIR(_unix_mode(z.getinfo("empty/"))),
    ),
}


@pytest.mark.parametrize("knob", ZIP_TWINS)
def test_zip_twin_differs_in_one_knob(knob: str) -> None:
    changed, holds = ZIP_TWINS[knob]
    control = make_zip(FILES, dirs=DIRS)
    knobs: ZipKnobs = {"dirs": DIRS, **changed}
    experiment = make_zip(FILES, **knobs)
    assert experiment != control
    assert holds(_zip(experiment))
    assert not _holds(holds, _zip(control))
    with _zip(experiment) as archive:
        assert archive.testzip() is None
        assert archive.read("pkg/b.txt") == TEXT


def test_zip_defaults() -> None:
    data = make_zip(FILES, dirs=DIRS)
    assert data == make_zip(FILES, dirs=DIRS)
    with _zip(data) as archive:
        assert archive.namelist() == ["pkg/", "pkg/a.py", "pkg/b.txt"]
        for info in archive.infolist():
            assert info.date_time == ZIP_EPOCH
            assert info.create_system == 3
            assert info.extra == b""
        assert _unix_mode(archive.getinfo("pkg/")) == stat.S_IFDIR | 0o755
        assert archive.getinfo("pkg/").compress_type == zipfile.ZIP_STORED
        assert _unix_mode(archive.getinfo("pkg/a.py")) == stat.S_IFREG | 0o644
        assert archive.getinfo("pkg/a.py").compress_type == zipfile.ZIP_DEFLATED
        assert archive.comment == b""


def test_order_must_name_members_once() -> None:
    with pytest.raises(ValueError, match="not a member"):
        make_zip(FILES, order=["pkg/c.py"])
    with pytest.raises(ValueError, match="twice"):
        make_zip(FILES, order=["pkg/a.py", "pkg/a.py"])
    with pytest.raises(ValueError, match="given twice"):
        make_tar(FILES, symlinks={"pkg/a.py": "b.txt"})
    assert arrange(["a", "b/", "c"], ["c", "b"]) == ["c", "b/", "a"]


# --- wheels -------------------------------------------------------------------------------


def _record_rows(
    archive: zipfile.ZipFile, dist_info: str = "demo-1.0.dist-info"
) -> list[list[str]]:
    text = archive.read(f"{dist_info}/RECORD").decode()
    return list(csv.reader(io.StringIO(text)))


def _assert_record_verifies(data: bytes, dist_info: str = "demo-1.0.dist-info") -> None:
    with _zip(data) as archive:
        rows = _record_rows(archive, dist_info)
        files = [i.filename for i in archive.infolist() if not i.is_dir()]
        assert sorted(row[0] for row in rows) == sorted(files)
        for path, digest, size in rows:
            if path == f"{dist_info}/RECORD":
                assert (digest, size) == ("", "")
            else:
                content = archive.read(path)
                assert digest == record_hash(content)
                assert int(size) == len(content)


def test_record_hash_is_urlsafe_base64_without_padding() -> None:
    # sha256(b"") = e3b0c442…, the well-known digest from PEP 376 examples
    assert record_hash(b"") == "sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"


def test_wheel_defaults() -> None:
    data = make_wheel()
    assert data == make_wheel()
    with _zip(data) as archive:
        assert archive.namelist() == [
            "demo/__init__.py",
            "demo-1.0.dist-info/METADATA",
            "demo-1.0.dist-info/WHEEL",
            "demo-1.0.dist-info/RECORD",
        ]
        wheel = archive.read("demo-1.0.dist-info/WHEEL").decode()
        assert "Wheel-Version: 1.0\n" in wheel
        assert "Generator: factory 1.0\n" in wheel
        assert "Tag: py3-none-any\n" in wheel
        metadata = archive.read("demo-1.0.dist-info/METADATA").decode()
        assert metadata.startswith("Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n")
        assert [row[0] for row in _record_rows(archive)] == archive.namelist()
    _assert_record_verifies(data)
    assert wheel_filename() == "demo-1.0-py3-none-any.whl"


WHEEL_VARIANTS: dict[str, Callable[[], bytes]] = {
    "default": make_wheel,
    "knobs": lambda: make_wheel(
        dist_info_first=True,
        record_order="sorted",
        mtime=(2024, 5, 1, 12, 0, 0),
        method=zipfile.ZIP_STORED,
        extra=UT_EXTRA,
        create_system=0,
        mode=0o664,
    ),
    "record-first": lambda: make_wheel(order=["demo-1.0.dist-info/RECORD"], record_order="reverse"),
}


@pytest.mark.parametrize("variant", WHEEL_VARIANTS)
def test_wheel_installs_and_record_verifies(variant: str, tmp_path: Path) -> None:
    data = WHEEL_VARIANTS[variant]()
    _assert_record_verifies(data)
    wheel = tmp_path / wheel_filename()
    wheel.write_bytes(data)
    target = tmp_path / "site"
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--no-compile",
         "--target", str(target), str(wheel)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (target / "demo" / "__init__.py").read_bytes() == (
        b'"""A demo package."""\n\n__version__ = "1.0"\n'
    )
    installed = (target / "demo-1.0.dist-info" / "RECORD").read_text()
    assert "demo/__init__.py,sha256=" in installed


def test_wheel_record_order() -> None:
    written = make_wheel(files={"demo/z.py": b"", "demo/a.py": b"", "demo/__init__.py": b""})
    sorted_ = make_wheel(
        files={"demo/z.py": b"", "demo/a.py": b"", "demo/__init__.py": b""}, record_order="sorted"
    )
    reverse = make_wheel(
        files={"demo/z.py": b"", "demo/a.py": b"", "demo/__init__.py": b""}, record_order="reverse"
    )
    paths = {
        "as-written": [r[0] for r in _record_rows(_zip(written))],
        "sorted": [r[0] for r in _record_rows(_zip(sorted_))],
        "reverse": [r[0] for r in _record_rows(_zip(reverse))],
    }
    assert paths["as-written"] == _zip(written).namelist()
    assert paths["as-written"][:3] == ["demo/z.py", "demo/a.py", "demo/__init__.py"]
    assert paths["sorted"] == sorted(paths["as-written"])
    assert paths["reverse"] == sorted(paths["as-written"], reverse=True)
    # only RECORD differs between the twins: the other members are the same bytes
    for data in (sorted_, reverse):
        assert _zip(data).namelist() == _zip(written).namelist()
        _assert_record_verifies(data)


def test_wheel_dist_info_first_and_record_last() -> None:
    data = make_wheel(dist_info_first=True)
    assert _zip(data).namelist() == [
        "demo-1.0.dist-info/METADATA",
        "demo-1.0.dist-info/WHEEL",
        "demo/__init__.py",
        "demo-1.0.dist-info/RECORD",
    ]
    moved = make_wheel(order=["demo-1.0.dist-info/RECORD"])
    assert _zip(moved).namelist()[0] == "demo-1.0.dist-info/RECORD"
    assert _record_rows(_zip(moved))[0][0] == "demo-1.0.dist-info/RECORD"


@pytest.mark.parametrize(
    ("knobs", "expected"),
    [
        ({"generator": "bdist_wheel (0.43.0)"}, "Generator: bdist_wheel (0.43.0)\n"),
        ({"tag": "cp311-cp311-linux_x86_64"}, "Tag: cp311-cp311-linux_x86_64\n"),
    ],
)
def test_wheel_file_knobs(knobs: dict[str, str], expected: str) -> None:
    data = make_wheel(**knobs)  # type: ignore[arg-type]
    assert data != make_wheel()
    assert expected in _zip(data).read("demo-1.0.dist-info/WHEEL").decode()
    _assert_record_verifies(data)


def test_wheel_passes_zip_knobs_and_keeps_record_valid() -> None:
    data = make_wheel(mtime=(2024, 5, 1, 12, 0, 0), comment=b"c", dirs=["demo"])
    with _zip(data) as archive:
        assert {i.date_time for i in archive.infolist()} == {(2024, 5, 1, 12, 0, 0)}
        assert archive.comment == b"c"
        assert archive.namelist()[0] == "demo/"
    _assert_record_verifies(data)


def test_wheel_overrides_and_names() -> None:
    custom = make_wheel(metadata=b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nX: y\n")
    assert b"X: y" in _zip(custom).read("demo-1.0.dist-info/METADATA")
    _assert_record_verifies(custom)
    broken = make_wheel(record=b"demo/__init__.py,sha256=nope,1\n")
    assert _zip(broken).read("demo-1.0.dist-info/RECORD") == b"demo/__init__.py,sha256=nope,1\n"
    dashed = make_wheel("my-pkg", "2.0", {"my_pkg/__init__.py": b""})
    assert "my_pkg-2.0.dist-info/WHEEL" in _zip(dashed).namelist()
    _assert_record_verifies(dashed, "my_pkg-2.0.dist-info")
    assert wheel_filename("my-pkg", "2.0") == "my_pkg-2.0-py3-none-any.whl"


# --- tar ------------------------------------------------------------------------------------


def _tar_modes(archive: tarfile.TarFile) -> dict[str, int]:
    return {m.name: m.mode for m in archive.getmembers()}


TAR_TWINS: dict[str, tuple[TarKnobs, TarCheck]] = {
    "fmt": (
        {"fmt": tarfile.GNU_FORMAT},
        lambda t: _raw_magic(t) == b"ustar  \x00",
    ),
    "mtime": ({"mtime": 1_600_000_000}, lambda t: {m.mtime for m in t} == {1_600_000_000}),
    "mtime-float": (
        {"mtime": 1_600_000_000.25},
        lambda t: all(m.pax_headers.get("mtime") == "1600000000.25" for m in t),
    ),
    "mtime-per-member": (
        {"mtime": {"pkg/a.py": 7}},
        lambda t: {m.name: m.mtime for m in t} == {"pkg": 0, "pkg/a.py": 7, "pkg/b.txt": 0},
    ),
    "order": (
        {"order": ["pkg/b.txt", "pkg/a.py"]},
        lambda t: t.getnames() == ["pkg/b.txt", "pkg/a.py", "pkg"],
    ),
    "mode": ({"mode": 0o600}, lambda t: t.getmember("pkg/a.py").mode == 0o600),
    "dir_mode": ({"dir_mode": 0o700}, lambda t: t.getmember("pkg").mode == 0o700),
    "modes": (
        {"modes": {"pkg/b.txt": 0o755, "pkg/": 0o711}},
        lambda t: _tar_modes(t) == {"pkg": 0o711, "pkg/a.py": 0o644, "pkg/b.txt": 0o755},
    ),
    "uid": ({"uid": 1000}, lambda t: {m.uid for m in t} == {1000}),
    "gid": ({"gid": 100}, lambda t: {m.gid for m in t} == {100}),
    "uname": ({"uname": "builder"}, lambda t: {m.uname for m in t} == {"builder"}),
    "gname": ({"gname": "staff"}, lambda t: {m.gname for m in t} == {"staff"}),
    "dirs": ({"dirs": ["pkg", "empty"]}, lambda t: t.getmember("empty").isdir()),
    "symlinks": (
        {"symlinks": {"pkg/link": "a.py"}},
        lambda t: t.getmember("pkg/link").issym() and t.getmember("pkg/link").linkname == "a.py",
    ),
    "hardlinks": (
        {"hardlinks": {"pkg/hard": "pkg/a.py"}},
        lambda t: (
            t.getmember("pkg/hard").islnk() and t.getmember("pkg/hard").linkname == "pkg/a.py"
        ),
    ),
}


def _raw_magic(archive: tarfile.TarFile) -> bytes:
    fileobj = archive.fileobj
    assert fileobj is not None
    fileobj.seek(257)
    return bytes(fileobj.read(8))


@pytest.mark.parametrize("knob", TAR_TWINS)
def test_tar_twin_differs_in_one_knob(knob: str) -> None:
    changed, holds = TAR_TWINS[knob]
    control = make_tar(FILES, dirs=DIRS)
    knobs: TarKnobs = {"dirs": DIRS, **changed}
    experiment = make_tar(FILES, **knobs)
    assert experiment != control
    with _tar(experiment) as archive:
        assert holds(archive)
        member = archive.extractfile("pkg/b.txt")
        assert member is not None and member.read() == TEXT
    with _tar(control) as archive:
        assert not _holds(holds, archive)


def test_tar_defaults() -> None:
    data = make_tar(FILES, dirs=DIRS)
    assert data == make_tar(FILES, dirs=DIRS)
    assert len(data) % tarfile.RECORDSIZE == 0
    assert data[257:265] == b"ustar\x0000"
    with _tar(data) as archive:
        assert archive.getnames() == ["pkg", "pkg/a.py", "pkg/b.txt"]
        for member in archive:
            assert (member.mtime, member.uid, member.gid, member.uname, member.gname) == (
                0, 0, 0, "", "",
            )  # fmt: skip
            assert member.pax_headers == {}
        assert _tar_modes(archive) == {"pkg": 0o755, "pkg/a.py": 0o644, "pkg/b.txt": 0o644}
    assert data[:4] == b"pkg/"  # directories are written with their slash


GZ_TWINS: dict[str, tuple[TarGzKnobs, Callable[[bytes], bool]]] = {
    "gzip_mtime": (
        {"gzip_mtime": 1_600_000_000},
        lambda d: struct.unpack_from("<I", d, 4)[0] == 1_600_000_000,
    ),
    "gzip_filename": (
        {"gzip_filename": "demo-1.0.tar.gz"},
        lambda d: d[3] & 0x08 != 0 and d[10:23] == b"demo-1.0.tar\x00",
    ),
    "gzip_os": ({"gzip_os": 3}, lambda d: d[9] == 3),
    "compress_level": ({"compress_level": 1}, lambda d: d[8] == 4),
    "tar-knob": ({"uid": 1000}, lambda d: _tar(d, "r:gz").getmember("pkg/a.py").uid == 1000),
}


@pytest.mark.parametrize("knob", GZ_TWINS)
def test_tar_gz_twin_differs_in_one_knob(knob: str) -> None:
    changed, holds = GZ_TWINS[knob]
    control = make_tar_gz(FILES, dirs=DIRS)
    knobs: TarGzKnobs = {"dirs": DIRS, **changed}
    experiment = make_tar_gz(FILES, **knobs)
    assert experiment != control
    assert holds(experiment)
    assert not holds(control)
    with _tar(experiment, "r:gz") as archive:
        member = archive.extractfile("pkg/b.txt")
        assert member is not None and member.read() == TEXT


def test_tar_gz_defaults() -> None:
    data = make_tar_gz(FILES, dirs=DIRS)
    assert data == make_tar_gz(FILES, dirs=DIRS)
    # magic, deflate, no flags, mtime 0, XFL 2 (level 9), OS 255: what gzip.GzipFile writes
    assert data[:10] == b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    assert gzip.decompress(data) == make_tar(FILES, dirs=DIRS)


@pytest.mark.parametrize(
    ("factory", "mode", "magic"),
    [(make_tar_bz2, "r:bz2", b"BZh"), (make_tar_xz, "r:xz", b"\xfd7zXZ\x00")],
    ids=["bz2", "xz"],
)
def test_tar_bz2_and_xz(
    factory: Callable[..., bytes], mode: Literal["r:bz2", "r:xz"], magic: bytes
) -> None:
    data = factory(FILES, dirs=DIRS)
    assert data.startswith(magic)
    assert data == factory(FILES, dirs=DIRS)
    assert factory(FILES, dirs=DIRS, compress_level=1) != data
    with _tar(data, mode) as archive:
        assert archive.getnames() == ["pkg", "pkg/a.py", "pkg/b.txt"]
    with _tar(factory(FILES, dirs=DIRS, uid=7), mode) as archive:
        assert {m.uid for m in archive} == {7}


# --- sdists ---------------------------------------------------------------------------------


def test_sdist_defaults() -> None:
    data = make_sdist()
    assert data == make_sdist()
    assert data[:10] == b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    with _tar(data, "r:gz") as archive:
        assert archive.getnames() == [
            "demo-1.0",
            "demo-1.0/PKG-INFO",
            "demo-1.0/demo",
            "demo-1.0/demo/__init__.py",
            "demo-1.0/pyproject.toml",
        ]
        assert archive.getmember("demo-1.0").isdir()
        assert archive.getmember("demo-1.0/demo").isdir()
        pkg_info = archive.extractfile("demo-1.0/PKG-INFO")
        assert pkg_info is not None
        assert pkg_info.read().startswith(b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n")
        pyproject = archive.extractfile("demo-1.0/pyproject.toml")
        assert pyproject is not None and b'name = "demo"' in pyproject.read()
    assert sdist_filename() == "demo-1.0.tar.gz"


def test_sdist_knobs_are_relative_to_the_top_folder() -> None:
    data = make_sdist(
        "my-pkg",
        "2.0",
        {"src/my_pkg/__init__.py": b"", "README": b"hi"},
        order=["README"],
        modes={"src/my_pkg/__init__.py": 0o600, "": 0o700, "src": 0o750},
        mtime={"README": 1.5},
        hardlinks={"README.copy": "README"},
        symlinks={"src/link": "my_pkg/__init__.py"},
        dirs=["empty"],
        gzip_os=3,
        uname="me",
    )
    assert data[9] == 3
    with _tar(data, "r:gz") as archive:
        names = archive.getnames()
        assert names[0] == "my_pkg-2.0/README"
        assert all(n == "my_pkg-2.0" or n.startswith("my_pkg-2.0/") for n in names)
        assert {"my_pkg-2.0/src", "my_pkg-2.0/src/my_pkg", "my_pkg-2.0/empty"} <= set(names)
        modes = _tar_modes(archive)
        assert modes["my_pkg-2.0/src/my_pkg/__init__.py"] == 0o600
        assert modes["my_pkg-2.0"] == 0o700
        assert modes["my_pkg-2.0/src"] == 0o750
        assert archive.getmember("my_pkg-2.0/README").pax_headers["mtime"] == "1.5"
        hard = archive.getmember("my_pkg-2.0/README.copy")
        assert hard.islnk() and hard.linkname == "my_pkg-2.0/README"
        link = archive.getmember("my_pkg-2.0/src/link")
        assert link.issym() and link.linkname == "my_pkg/__init__.py"
        assert {m.uname for m in archive} == {"me"}
    assert sdist_filename("my-pkg", "2.0") == "my_pkg-2.0.tar.gz"


def test_sdist_twin_varies_one_knob() -> None:
    control = make_sdist()
    experiment = make_sdist(mtime=1_700_000_000)
    assert control != experiment
    with _tar(control, "r:gz") as a, _tar(experiment, "r:gz") as b:
        assert a.getnames() == b.getnames()
        assert {m.mtime for m in a} == {0}
        assert {m.mtime for m in b} == {1_700_000_000}
