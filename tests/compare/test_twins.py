"""Twin fixtures: two archives that differ in one knob give a difference tree whose every leaf has
that knob's category, and whose verdict (inconsequential or not) follows from it.

Each pair is built with the standard library (tests/factories.py), never with our writer.
"""

from __future__ import annotations

import io
import tarfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from reprobuild.compare import Category
from tests.compare.helpers import categories, diff
from tests.factories import (
    make_sdist,
    make_tar,
    make_tar_bz2,
    make_tar_xz,
    make_wheel,
    make_zip,
)

#: Content large enough that compression levels make different bytes.
PROSE = b"".join(b"line %d of a module that compresses well enough\n" % i for i in range(300))
FILES = {"demo/__init__.py": b"x = 1\n", "demo/run.py": PROSE, "demo/data.txt": b"d\n"}
ZIPFILES = {"a/one.txt": PROSE, "a/two.txt": b"2\n", "b.txt": b"b\n"}
TARFILES = {"top/a.txt": b"a\n", "top/b/c.txt": PROSE}
SDIST_FILES = {"demo/__init__.py": b"x = 1\n", "demo/a.py": PROSE}
UT_2024 = b"UT\x05\x00\x01\x00\x1a\x92\x65"  # extended timestamp: 2024-01-01
UT_2025 = b"UT\x05\x00\x01\x80\x83\x74\x67"  # extended timestamp: 2025-01-01


@dataclass(frozen=True)
class Twin:
    knob: str
    filename: str
    a: Callable[[], bytes]
    b: Callable[[], bytes]
    category: Category


def wheel(**knobs: object) -> Callable[[], bytes]:
    return lambda: make_wheel(files=FILES, **knobs)  # type: ignore[arg-type]


def sorted_wheel(**knobs: object) -> Callable[[], bytes]:
    return wheel(record_order="sorted", **knobs)


def sdist(**knobs: object) -> Callable[[], bytes]:
    return lambda: make_sdist(files=SDIST_FILES, **knobs)  # type: ignore[arg-type]


def plain_zip(**knobs: object) -> Callable[[], bytes]:
    return lambda: make_zip(ZIPFILES, **knobs)  # type: ignore[arg-type]


def plain_tar(**knobs: object) -> Callable[[], bytes]:
    return lambda: make_tar(TARFILES, **knobs)  # type: ignore[arg-type]


def _metadata(*requires: str) -> bytes:
    lines = ["Metadata-Version: 2.1", "Name: demo", "Version: 1.0"]
    lines += [f"Requires-Dist: {r}" for r in requires]
    return ("\n".join(lines) + "\n").encode()


def _record_of(wheel_bytes: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(wheel_bytes)) as archive:
        return archive.read("demo-1.0.dist-info/RECORD")


def requires_dist(*requires: str) -> Callable[[], bytes]:
    """A wheel with this Requires-Dist order, and the RECORD of the first order (so that RECORD's
    METADATA row, which would follow the bytes, stays the same)."""
    first = make_wheel(files=FILES, metadata=_metadata("numpy>=1.20", "packaging", "rich"))
    return lambda: make_wheel(files=FILES, metadata=_metadata(*requires), record=_record_of(first))


WHL = "demo-1.0-py3-none-any.whl"
SDIST = "demo-1.0.tar.gz"
T, ORD, P, OWN = Category.TIMESTAMP, Category.ORDER, Category.PERMISSIONS, Category.OWNERSHIP
COMP, CONT, MO, C = (
    Category.COMPRESSION,
    Category.CONTAINER,
    Category.METADATA_ORDER,
    Category.CONTENT,
)

TWINS = [
    # wheels
    Twin(
        "timestamp",
        WHL,
        wheel(mtime=(2024, 1, 1, 0, 0, 0)),
        wheel(mtime=(2024, 5, 1, 12, 0, 0)),
        T,
    ),
    Twin("order", WHL, sorted_wheel(), sorted_wheel(order=["demo/run.py", "demo/data.txt"]), ORD),
    Twin("dist-info first", WHL, sorted_wheel(), sorted_wheel(dist_info_first=True), ORD),
    Twin("RECORD row order", WHL, wheel(), wheel(record_order="reverse"), MO),
    Twin(
        "Requires-Dist order",
        WHL,
        requires_dist("numpy>=1.20", "packaging", "rich"),
        requires_dist("rich", "numpy>=1.20", "packaging"),
        MO,
    ),
    Twin("mode", WHL, wheel(), wheel(mode=0o664), P),
    Twin("exec bit", WHL, wheel(), wheel(modes={"demo/run.py": 0o755}), C),
    Twin("extra field", WHL, wheel(), wheel(extra=UT_2024), CONT),
    Twin("extended timestamp", WHL, wheel(extra=UT_2024), wheel(extra=UT_2025), T),
    Twin("create_system", WHL, wheel(), wheel(create_system=0), CONT),
    Twin("zip comment", WHL, wheel(), wheel(comment=b"built on my laptop"), CONT),
    Twin("compression level", WHL, wheel(compress_level=1), wheel(compress_level=9), COMP),
    Twin("stored vs deflated", WHL, wheel(), wheel(method=zipfile.ZIP_STORED), COMP),
    Twin("content", WHL, wheel(), lambda: make_wheel(files={**FILES, "demo/data.txt": b"e\n"}), C),
    # sdists
    Twin("timestamp", SDIST, sdist(mtime=1_750_000_000), sdist(mtime=1_800_000_000), T),
    Twin("sub-second time", SDIST, sdist(mtime=1_800_000_000), sdist(mtime=1_800_000_000.25), T),
    Twin("order", SDIST, sdist(), sdist(order=["demo/a.py"]), ORD),
    Twin("mode", SDIST, sdist(), sdist(mode=0o664), P),
    Twin("exec bit", SDIST, sdist(), sdist(modes={"demo/a.py": 0o755}), C),
    Twin("uid/gid", SDIST, sdist(), sdist(uid=1000, gid=1000), OWN),
    Twin("user names", SDIST, sdist(), sdist(uname="alice", gname="staff"), OWN),
    Twin("tar format", SDIST, sdist(), sdist(fmt=tarfile.GNU_FORMAT), CONT),
    Twin("gzip mtime", SDIST, sdist(), sdist(gzip_mtime=1_700_000_123), CONT),
    Twin("gzip file name", SDIST, sdist(), sdist(gzip_filename="demo-1.0.tar"), CONT),
    Twin("gzip OS byte", SDIST, sdist(), sdist(gzip_os=3), CONT),
    Twin("gzip compression level", SDIST, sdist(compress_level=1), sdist(compress_level=9), COMP),
    Twin(
        "content",
        SDIST,
        sdist(),
        lambda: make_sdist(files={**SDIST_FILES, "demo/__init__.py": b"x = 2\n"}),
        C,
    ),
    # plain archives
    Twin("order", "data.zip", plain_zip(), plain_zip(order=["b.txt"]), ORD),
    Twin(
        "timestamp",
        "data.zip",
        plain_zip(mtime=(2029, 1, 1, 0, 0, 0)),
        plain_zip(mtime=(2030, 1, 1, 0, 0, 0)),
        T,
    ),
    Twin("compression level", "data.zip", plain_zip(compress_level=1), plain_zip(), COMP),
    Twin("uid", "data.tar", plain_tar(), plain_tar(uid=5), OWN),
    Twin("user name", "data.tar", plain_tar(), plain_tar(uname="bob"), OWN),
    Twin("mode", "data.tar", plain_tar(), plain_tar(mode=0o600), P),
    Twin(
        "directory mode",
        "data.tar",
        plain_tar(dirs=["top"]),
        plain_tar(dirs=["top"], dir_mode=0o700),
        P,
    ),
    Twin(
        "symlink target",
        "data.tar",
        plain_tar(symlinks={"top/link": "a.txt"}),
        plain_tar(symlinks={"top/link": "b/c.txt"}),
        C,
    ),
    Twin(
        "bzip2 level",
        "data.tar.bz2",
        lambda: make_tar_bz2(TARFILES, compress_level=1),
        lambda: make_tar_bz2(TARFILES, compress_level=9),
        COMP,
    ),
    Twin(
        "xz preset",
        "data.tar.xz",
        lambda: make_tar_xz(TARFILES, compress_level=0),
        lambda: make_tar_xz(TARFILES, compress_level=9),
        COMP,
    ),
]


@pytest.mark.parametrize("twin", TWINS, ids=lambda t: f"{t.filename}-{t.knob}")
def test_one_knob_gives_one_category(twin: Twin) -> None:
    a, b = twin.a(), twin.b()
    assert a != b, "the twins must differ"
    found = diff(a, b, twin.filename)
    assert found is not None
    assert categories(found) == {twin.category}, found.summary()
    assert found.inconsequential is (twin.category not in {Category.CONTENT})
    assert found.source_a == found.source_b == twin.filename
    assert diff(b, a, twin.filename) is not None  # and the other way round


@pytest.mark.parametrize("twin", TWINS, ids=lambda t: f"{t.filename}-{t.knob}")
def test_each_twin_is_the_same_as_itself(twin: Twin) -> None:
    data = twin.a()
    assert diff(data, data, twin.filename) is None


def test_added_and_missing_members() -> None:
    a = make_zip(ZIPFILES)
    b = make_zip({**{k: v for k, v in ZIPFILES.items() if k != "b.txt"}, "c.txt": b"c\n"})
    found = diff(a, b, "data.zip")
    assert found is not None
    assert categories(found) == {Category.MISSING, Category.ADDED}
    assert not found.inconsequential
    leaves = {leaf.category: leaf for leaf in found.leaves()}
    assert leaves[Category.MISSING].source_a == "b.txt"
    assert leaves[Category.ADDED].source_b == "c.txt"
