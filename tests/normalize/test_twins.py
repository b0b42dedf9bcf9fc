"""Twin fixtures: two archives differing in exactly one knob become identical after normalize.

Each pair is built with the standard library (tests/factories.py), never with our writer.
"""

from __future__ import annotations

import tarfile
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from reprobuild.normalize import Policy, normalize_bytes
from tests.factories import make_sdist, make_tar, make_wheel, make_zip

EPOCH = 1_700_000_000
POLICY = Policy(source_date_epoch=EPOCH)
FILES = {"demo/__init__.py": b"x = 1\n", "demo/run.py": b"print(1)\n", "demo/data.txt": b"d\n"}
ZIPFILES = {"a/one.txt": b"1\n" * 200, "a/two.txt": b"2\n", "b.txt": b"b\n"}
TARFILES = {"top/a.txt": b"a\n", "top/b/c.txt": b"c\n" * 300}


@dataclass(frozen=True)
class Twin:
    knob: str
    filename: str
    a: Callable[[], bytes]
    b: Callable[[], bytes]
    rule: str  # the rule that must report the knob's difference
    policy: Policy = POLICY


def wheel(**knobs: object) -> Callable[[], bytes]:
    return lambda: make_wheel(files=FILES, **knobs)  # type: ignore[arg-type]


def sdist(**knobs: object) -> Callable[[], bytes]:
    return lambda: make_sdist(files={"demo/__init__.py": b"x = 1\n", "demo/a.py": b"a\n"}, **knobs)  # type: ignore[arg-type]


def plain_zip(**knobs: object) -> Callable[[], bytes]:
    return lambda: make_zip(ZIPFILES, **knobs)  # type: ignore[arg-type]


def plain_tar(**knobs: object) -> Callable[[], bytes]:
    return lambda: make_tar(TARFILES, **knobs)  # type: ignore[arg-type]


WHL = "demo-1.0-py3-none-any.whl"
SDIST = "demo-1.0.tar.gz"
TWINS = [
    # wheels
    Twin(
        "timestamp",
        WHL,
        wheel(mtime=(2024, 1, 1, 0, 0, 0)),
        wheel(mtime=(2024, 5, 1, 12, 0, 0)),
        "timestamps",
    ),
    Twin("order", WHL, wheel(), wheel(order=["demo/run.py", "demo/data.txt"]), "member-order"),
    Twin("dist-info first", WHL, wheel(), wheel(dist_info_first=True), "member-order"),
    Twin("RECORD order", WHL, wheel(), wheel(record_order="reverse"), "record"),
    Twin("mode", WHL, wheel(), wheel(mode=0o664), "permissions"),
    Twin(
        "extra field", WHL, wheel(), wheel(extra=b"UT\x05\x00\x01\x00\x00\x00\x00"), "zip-headers"
    ),
    Twin("create_system", WHL, wheel(), wheel(create_system=0), "zip-headers"),
    Twin("zip comment", WHL, wheel(), wheel(comment=b"built on my laptop"), "zip-headers"),
    Twin(
        "compression level",
        WHL,
        wheel(compress_level=1),
        wheel(compress_level=9),
        "zip-compression",
        Policy(source_date_epoch=EPOCH, recompress_zip=True),
    ),
    Twin(
        "stored vs deflated",
        WHL,
        wheel(),
        wheel(method=0),
        "zip-compression",
        Policy(source_date_epoch=EPOCH, recompress_zip=True),
    ),
    # sdists
    Twin("timestamp", SDIST, sdist(mtime=1_750_000_000), sdist(mtime=1_800_000_000), "timestamps"),
    Twin(
        "sub-second time",
        SDIST,
        sdist(mtime=1_800_000_000),
        sdist(mtime=1_800_000_000.25),
        "tar-format",
    ),
    Twin("order", SDIST, sdist(), sdist(order=["demo/a.py"]), "member-order"),
    Twin("mode", SDIST, sdist(), sdist(mode=0o664), "permissions"),
    Twin("uid/gid", SDIST, sdist(), sdist(uid=1000, gid=1000), "ownership"),
    Twin("user names", SDIST, sdist(), sdist(uname="alice", gname="staff"), "ownership"),
    Twin("tar format", SDIST, sdist(), sdist(fmt=tarfile.GNU_FORMAT), "tar-format"),
    Twin("gzip mtime", SDIST, sdist(), sdist(gzip_mtime=1_700_000_123), "gzip-header"),
    Twin("gzip file name", SDIST, sdist(), sdist(gzip_filename="demo-1.0.tar"), "gzip-header"),
    Twin("gzip OS byte", SDIST, sdist(), sdist(gzip_os=3), "gzip-header"),
    Twin(
        "compression level", SDIST, sdist(compress_level=1), sdist(compress_level=9), "gzip-header"
    ),
    # plain archives
    Twin("order", "data.zip", plain_zip(), plain_zip(order=["b.txt"]), "member-order"),
    Twin(
        "timestamp",
        "data.zip",
        plain_zip(mtime=(2029, 1, 1, 0, 0, 0)),
        plain_zip(mtime=(2030, 1, 1, 0, 0, 0)),
        "timestamps",
    ),
    Twin(
        "tar format",
        "data.tar",
        plain_tar(),
        plain_tar(fmt=tarfile.USTAR_FORMAT, uid=5),
        "ownership",
    ),
    Twin("uid", "data.tar", plain_tar(), plain_tar(uid=5, uname="bob"), "ownership"),
]


@pytest.mark.parametrize("twin", TWINS, ids=lambda t: f"{t.filename}-{t.knob}")
def test_twins_become_identical(twin: Twin) -> None:
    a, b = twin.a(), twin.b()
    assert a != b, "the twins must differ before normalization"
    na = normalize_bytes(a, filename=twin.filename, policy=twin.policy)
    nb = normalize_bytes(b, filename=twin.filename, policy=twin.policy)
    assert na.data == nb.data
    changed = {r.rule for r in na.reports} ^ {r.rule for r in nb.reports}
    reported = {r.rule for r in na.reports} | {r.rule for r in nb.reports}
    assert twin.rule in reported, f"no {twin.rule} report; got {reported}"
    del changed
    # and the result is a fixed point, byte for byte
    again = normalize_bytes(na.data, filename=twin.filename, policy=twin.policy)
    assert again.canonical and again.data == na.data and again.reports == ()
