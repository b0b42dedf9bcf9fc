"""What each rule keeps, refuses and reports; idempotence as a property."""

from __future__ import annotations

import csv
import hashlib
import io
import subprocess
import sys
import tarfile
import zipfile
from base64 import urlsafe_b64decode
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reprobuild.archive import Compression, parse_archive
from reprobuild.errors import NormalizeError
from reprobuild.normalize import Policy, normalize_bytes, rules_for
from tests.factories import RecordOrder, make_sdist, make_tar_bz2, make_tar_xz, make_wheel

EPOCH = 1_700_000_000
POLICY = Policy(source_date_epoch=EPOCH)
WHL = "demo-1.0-py3-none-any.whl"


def test_older_times_are_kept_newer_clamped() -> None:
    data = make_wheel(
        files={"demo/__init__.py": b"", "demo/new.py": b""},
        mtime={"demo/__init__.py": (2001, 2, 3, 4, 5, 6), "demo/new.py": (2030, 1, 1, 0, 0, 0)},
    )
    result = normalize_bytes(data, filename=WHL, policy=POLICY)
    times = {m.name: m.mtime for m in result.archive.members}
    assert times["demo/__init__.py"] == 981173106  # 2001-02-03T04:05:06Z, kept
    assert times["demo/new.py"] == EPOCH  # clamped (EPOCH is even: exact in a zip)


def test_exec_bit_is_kept() -> None:
    data = make_sdist(
        files={"demo/__init__.py": b"", "run.sh": b"#!/bin/sh\n"},
        modes={"run.sh": 0o700, "demo/__init__.py": 0o600},
    )
    result = normalize_bytes(data, filename="demo-1.0.tar.gz", policy=POLICY)
    modes = {m.path: m.mode for m in result.archive.members}
    assert modes["demo-1.0/run.sh"] == 0o755
    assert modes["demo-1.0/demo/__init__.py"] == 0o644
    assert modes["demo-1.0"] == 0o755


def test_wheel_order_puts_dist_info_last_and_record_at_the_end() -> None:
    data = make_wheel(
        files={"z.py": b"", "demo/a.py": b"", "demo-1.0.data/scripts/x": b""}, dist_info_first=True
    )
    result = normalize_bytes(data, filename=WHL, policy=POLICY)
    names = [m.name for m in result.archive.members]
    assert names == [
        "demo/a.py",  # by path components: the folder "demo" before "demo-1.0.data"
        "demo-1.0.data/scripts/x",
        "z.py",
        "demo-1.0.dist-info/METADATA",
        "demo-1.0.dist-info/WHEEL",
        "demo-1.0.dist-info/RECORD",
    ]
    record = result.archive.member("demo-1.0.dist-info/RECORD").data().decode()
    assert [row[0] for row in csv.reader(io.StringIO(record))] == names


def test_new_record_has_a_digest_only_when_the_wheel_was_read_with_digests() -> None:
    data = make_wheel(files={"z.py": b"", "demo/a.py": b""}, record_order="reverse")
    record = "demo-1.0.dist-info/RECORD"
    fast = normalize_bytes(data, filename=WHL, policy=POLICY)
    assert fast.reports[-1].rule == "record"
    assert fast.archive.member(record).sha256 == ""  # as every member read without digests
    checked = normalize_bytes(data, filename=WHL, policy=POLICY, verify=True)
    assert checked.data == fast.data
    content = checked.archive.member(record).data()
    assert checked.archive.member(record).sha256 == hashlib.sha256(content).hexdigest()
    assert checked.archive.member(record).size == len(content)


def test_chunks_are_the_canonical_bytes() -> None:
    data = make_wheel(files={"z.py": b"x" * 5000, "demo/a.py": b"y"}, dist_info_first=True)
    result = normalize_bytes(data, filename=WHL, policy=POLICY)
    assert b"".join(result.chunks) == result.data
    assert not result.canonical
    again = normalize_bytes(memoryview(result.data), filename=WHL, policy=POLICY)
    assert again.canonical and again.data == result.data


def test_same_length_other_bytes_is_not_canonical() -> None:
    # only a time changes: the rewrite is as long as the input, and still not canonical
    data = make_wheel(mtime={"demo/__init__.py": (2030, 1, 1, 0, 0, 0)})
    result = normalize_bytes(data, filename=WHL, policy=POLICY)
    assert len(result.data) == len(data)
    assert not result.canonical
    assert [r.rule for r in result.reports] == ["timestamps"]


def test_record_hash_mismatch_is_refused_with_verify() -> None:
    good = parse_archive(make_wheel()).member("demo-1.0.dist-info/RECORD").data().decode()
    first = good.splitlines()[0]
    assert first.startswith("demo/__init__.py,sha256=")
    bad = good.replace(first.split(",")[1], "sha256=AAAA").encode()
    data = make_wheel(record=bad)
    with pytest.raises(NormalizeError, match="does not match RECORD") as caught:
        normalize_bytes(data, filename=WHL, policy=POLICY, verify=True)
    assert caught.value.member == "demo/__init__.py"
    # without --verify the content is not read: the RECORD is reordered, not vouched for
    result = normalize_bytes(data, filename=WHL, policy=POLICY)
    assert b"sha256=AAAA" in result.archive.member("demo-1.0.dist-info/RECORD").data()


def test_record_size_mismatch_is_refused_even_without_verify() -> None:
    bad = b"demo/__init__.py,sha256=AAAA,1\ndemo-1.0.dist-info/RECORD,,\n"
    with pytest.raises(NormalizeError, match="RECORD gives size 1") as caught:
        normalize_bytes(make_wheel(record=bad), filename=WHL, policy=POLICY)
    assert caught.value.member == "demo/__init__.py"


def test_file_missing_from_record_is_refused() -> None:
    data = make_wheel(record=b"demo-1.0.dist-info/RECORD,,\n")
    with pytest.raises(NormalizeError, match="not listed in RECORD"):
        normalize_bytes(data, filename=WHL, policy=POLICY)


@pytest.mark.parametrize(
    ("factory", "compression", "name"),
    [
        (make_tar_bz2, Compression.BZIP2, "data.tar.bz2"),
        (make_tar_xz, Compression.XZ, "data.tar.xz"),
    ],
)
def test_bzip2_and_xz_keep_their_compression(
    factory: object, compression: Compression, name: str
) -> None:
    data = factory({"top/a": b"a" * 100}, uid=7, mtime=1_800_000_000)  # type: ignore[operator]
    result = normalize_bytes(data, filename=name, policy=POLICY)
    assert result.archive.compression is compression
    assert {r.rule for r in result.reports} >= {"ownership", "timestamps"}
    assert normalize_bytes(result.data, filename=name, policy=POLICY).canonical


def test_skip_leaves_a_rule_out() -> None:
    data = make_sdist(uid=1000, uname="alice")
    policy = Policy(source_date_epoch=EPOCH, skip=frozenset({"ownership"}))
    assert "ownership" not in {rule.name for rule in rules_for(policy)}
    result = normalize_bytes(data, filename="demo-1.0.tar.gz", policy=policy)
    assert all(m.tar and m.tar.uname == "alice" for m in result.archive.members)


def test_canonical_sdist_is_what_tarfile_writes() -> None:
    """An sdist written as tarfile/gzip write it, with canonical fields, is left as it is."""
    data = make_sdist(mtime=EPOCH, gzip_mtime=0)
    result = normalize_bytes(data, filename="demo-1.0.tar.gz", policy=POLICY)
    assert result.canonical, result.reports
    assert result.data == data


def test_normalized_sdist_reads_back_with_tarfile() -> None:
    data = make_sdist(uid=1000, uname="alice", mtime=1_800_000_000.5, fmt=tarfile.GNU_FORMAT)
    result = normalize_bytes(data, filename="demo-1.0.tar.gz", policy=POLICY)
    with tarfile.open(fileobj=io.BytesIO(result.data)) as tf:
        for info in tf:
            assert (info.uid, info.gid, info.uname, info.gname) == (0, 0, "", "")
            assert info.mtime == EPOCH
            assert info.pax_headers == {}


def test_normalized_wheel_installs_and_its_record_verifies(tmp_path: Path) -> None:
    data = make_wheel(
        files={"demo/__init__.py": b"x = 1\n", "demo/sub/m.py": b"y = 2\n"},
        mtime=(2030, 1, 1, 0, 0, 0),
        record_order="reverse",
        mode=0o600,
        extra=b"UT\x05\x00\x01\x00\x00\x00\x00",
    )
    result = normalize_bytes(data, filename=WHL, policy=POLICY)
    wheel = tmp_path / WHL
    wheel.write_bytes(result.data)
    with zipfile.ZipFile(wheel) as zf:
        assert zf.testzip() is None
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "--no-compile",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    record = (target / "demo-1.0.dist-info" / "RECORD").read_text()
    checked = 0
    for path, digest, _size in csv.reader(io.StringIO(record)):
        if not digest:
            continue
        algorithm, _, value = digest.partition("=")
        content = (target / path).read_bytes()
        assert hashlib.new(algorithm, content).digest() == urlsafe_b64decode(value + "==")
        checked += 1
    assert checked >= 4


_times = st.integers(1_600_000_000, 1_900_000_000)


@settings(max_examples=40, deadline=None)
@given(
    mtime=_times,
    order=st.permutations(["demo/__init__.py", "demo/a.py", "demo/b/c.py"]),
    mode=st.sampled_from([0o600, 0o644, 0o664, 0o755, 0o777]),
    uid=st.integers(0, 70000),
    fmt=st.sampled_from([tarfile.PAX_FORMAT, tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT]),
    level=st.integers(1, 9),
    epoch=_times,
)
def test_normalize_sdist_is_idempotent(
    mtime: int, order: list[str], mode: int, uid: int, fmt: int, level: int, epoch: int
) -> None:
    files = {name: name.encode() * 3 for name in order}
    data = make_sdist(
        files=files, order=order, mtime=mtime, mode=mode, uid=uid, fmt=fmt, compress_level=level
    )
    policy = Policy(source_date_epoch=epoch)
    once = normalize_bytes(data, filename="demo-1.0.tar.gz", policy=policy)
    twice = normalize_bytes(once.data, filename="demo-1.0.tar.gz", policy=policy)
    assert twice.canonical and twice.data == once.data and twice.reports == ()
    assert parse_archive(once.data) == once.archive


@settings(max_examples=40, deadline=None)
@given(
    mtime=st.tuples(
        st.integers(1980, 2100),
        st.integers(1, 12),
        st.integers(1, 28),
        st.integers(0, 23),
        st.integers(0, 59),
        st.integers(0, 59),
    ),
    order=st.permutations(["demo/__init__.py", "demo/a.py", "demo/b/c.py"]),
    mode=st.sampled_from([0o600, 0o644, 0o755]),
    level=st.integers(0, 9),
    record_order=st.sampled_from(["sorted", "reverse", "as-written"]),
    recompress=st.booleans(),
    epoch=_times,
)
def test_normalize_wheel_is_idempotent(
    mtime: tuple[int, int, int, int, int, int],
    order: list[str],
    mode: int,
    level: int,
    record_order: RecordOrder,
    recompress: bool,
    epoch: int,
) -> None:
    files = {name: name.encode() * 30 for name in order}
    data = make_wheel(
        files=files,
        order=order,
        mtime=mtime,
        mode=mode,
        compress_level=level,
        record_order=record_order,
    )
    policy = Policy(source_date_epoch=epoch, recompress_zip=recompress)
    once = normalize_bytes(data, filename=WHL, policy=policy, verify=True)
    twice = normalize_bytes(once.data, filename=WHL, policy=policy)
    assert twice.canonical and twice.data == once.data and twice.reports == ()
    assert parse_archive(once.data) == once.archive


def test_sha256_is_the_digest_of_the_canonical_bytes() -> None:
    import hashlib

    from reprobuild.normalize import Policy, normalize_bytes
    from tests.factories import make_tar_gz

    result = normalize_bytes(
        make_tar_gz({"p-1/a.txt": b"a" * 1000}), filename="p-1.tar.gz", policy=Policy()
    )
    assert result.sha256() == hashlib.sha256(result.data).hexdigest()
