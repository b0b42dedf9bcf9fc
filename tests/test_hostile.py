"""Hostile archives are refused by the real command line, cleanly, and leave nothing behind.

For every case of :data:`tests.hostile.HOSTILE_CASES`, ``reprobuild normalize`` is run the way a
user runs it (``-o DIR``, ``--in-place``, ``--check``) and must exit 2 with exactly one
``error:`` line naming the file (and the member, when the case is about one), no traceback,
no output file, no temporary file, and the input untouched.

The second half checks the cases themselves with the standard library, so that a case which
stops being what it claims (and would pass for the wrong reason) fails here.
"""

from __future__ import annotations

import gzip
import io
import itertools
import stat
import struct
import subprocess
import sys
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import pytest

from reprobuild.present._chars import visible
from tests.hostile import DEEP_LEVELS, ENCRYPTION_PASSWORD, HOSTILE_CASES, HOSTILE_MEMBERS

Mode = Literal["output", "in-place", "check"]
MODES: tuple[Mode, ...] = ("output", "in-place", "check")

#: Cases whose structure is sound but whose member data is corrupt. Normalizing copies zip data
#: raw without inflating it, so these are refused when ``--verify`` asks for the content to be
#: checked too; without it, they are copied as they are (see the test below).
CONTENT_CASES = frozenset({"zip-corrupt-deflate", "zip-bad-crc"})


def _files_under(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*"))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", HOSTILE_CASES)
def test_hostile_archive_is_refused(case: str, mode: Mode, tmp_path: Path) -> None:
    name, data = HOSTILE_CASES[case]()
    source = tmp_path / "in"
    source.mkdir()
    path = source / name
    path.write_bytes(data)
    outdir = tmp_path / "out"
    outdir.mkdir()
    args = {
        "output": ["-o", str(outdir)],
        "in-place": ["--in-place"],
        "check": ["--check"],
    }[mode]
    if case in CONTENT_CASES:
        args.append("--verify")
    result = subprocess.run(
        [sys.executable, "-m", "reprobuild", "normalize", str(path), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    where = f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.returncode == 2, where
    assert "Traceback" not in result.stdout + result.stderr, where
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, where
    assert name in errors[0], where
    if case in HOSTILE_MEMBERS:  # named, every control character escaped
        assert visible(HOSTILE_MEMBERS[case]) in errors[0], where
    assert "\x1b" not in result.stderr and "\r" not in result.stderr, where
    assert _files_under(outdir) == [], where
    assert _files_under(source) == [path], where  # no temporary file beside the input
    assert path.read_bytes() == data


@pytest.mark.parametrize("case", sorted(CONTENT_CASES))
def test_corrupt_member_data_is_copied_raw_without_verify(case: str, tmp_path: Path) -> None:
    """Without --verify, normalize neither inflates nor repairs: the corrupt bytes stay as they
    were, so the output is exactly as corrupt as the input, no more."""
    name, data = HOSTILE_CASES[case]()
    path = tmp_path / name
    path.write_bytes(data)
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "reprobuild", "normalize", str(path), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    member = HOSTILE_MEMBERS[case]
    with _zip(data) as before, _zip((out / name).read_bytes()) as after:
        old, new = before.getinfo(member), after.getinfo(member)
        assert (new.CRC, new.compress_size, new.file_size) == (
            old.CRC,
            old.compress_size,
            old.file_size,
        )
        raw_before = data[old.header_offset :][30 + len(member) :][: old.compress_size]
        written = (out / name).read_bytes()
        raw_after = written[new.header_offset :][30 + len(member) :][: new.compress_size]
        assert raw_after == raw_before


# --- the cases are what they claim ----------------------------------------------------------


def _zip(data: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(data))


def _tar_gz(data: bytes) -> tarfile.TarFile:
    return tarfile.open(fileobj=io.BytesIO(data), mode="r:gz")


def _check_truncated_central(data: bytes) -> None:
    assert b"PK\x01\x02" in data and b"PK\x05\x06" not in data
    with pytest.raises(zipfile.BadZipFile):
        _zip(data)


def _check_corrupt_deflate(data: bytes) -> None:
    with _zip(data) as archive, pytest.raises(zlib.error, match="invalid block type"):
        archive.read("evil/broken.py")


def _check_bad_crc(data: bytes) -> None:
    with _zip(data) as archive, pytest.raises(zipfile.BadZipFile, match="Bad CRC-32"):
        archive.read("evil/__init__.py")


def _check_local_name_mismatch(data: bytes) -> None:
    with _zip(data) as archive:
        assert "evil/__init__.py" in archive.namelist()
        with pytest.raises(zipfile.BadZipFile, match="File name in directory"):
            archive.read("evil/__init__.py")


def _check_overlap_shared_header(data: bytes) -> None:
    with _zip(data) as archive:
        offsets = [i.header_offset for i in archive.infolist()]
        shared = archive.getinfo("evil/__init__.py").header_offset
        assert offsets.count(shared) == 11
        assert len(set(archive.namelist())) == len(archive.namelist())


def _check_overlap_quoted(data: bytes) -> None:
    with _zip(data) as archive:
        bombs = [i for i in archive.infolist() if i.filename.startswith("evil/bomb")]
        assert len(bombs) == 10
        for first, second in itertools.pairwise(bombs):
            data_start = first.header_offset + 30 + len(first.filename)
            assert first.header_offset < second.header_offset < data_start + first.compress_size
        try:
            contents = [archive.read(i.filename) for i in bombs]
        except zipfile.BadZipFile as exc:  # newer Pythons detect the overlap themselves
            assert "verlap" in str(exc)
        else:  # older ones read every member: names, CRCs and sizes are all honest
            assert sum(map(len, contents)) > 10 * 64 * 1024 > 100 * len(data)


def _check_too_many_members(data: bytes) -> None:
    with _zip(data) as archive:
        assert len(archive.infolist()) == 4
    end = data.rindex(b"PK\x05\x06")
    assert struct.unpack_from("<HH", data, end + 8) == (0xFFFF, 0xFFFF)
    locator = end - 20
    assert data[locator : locator + 4] == b"PK\x06\x07"
    (record,) = struct.unpack_from("<Q", data, locator + 8)
    assert data[record : record + 4] == b"PK\x06\x06"
    assert struct.unpack_from("<QQ", data, record + 24) == (10_000_000, 10_000_000)


def _check_expansion_ratio(data: bytes) -> None:
    with _zip(data) as archive:
        info = archive.getinfo("evil/zeros.bin")
        assert info.file_size > 1024 * 1024
        assert info.file_size / info.compress_size > 1100
        with pytest.raises(zipfile.BadZipFile):
            archive.read("evil/zeros.bin")  # the stream ends long before the declared size


def _zip_name(name: str) -> Callable[[bytes], None]:
    def check(data: bytes) -> None:
        with _zip(data) as archive:
            assert name in archive.namelist()
            assert archive.testzip() is None

    return check


def _zip_symlink(target: bytes) -> Callable[[bytes], None]:
    def check(data: bytes) -> None:
        with _zip(data) as archive:
            info = archive.getinfo("evil/passwd")
            assert info.create_system == 3
            assert stat.S_ISLNK(info.external_attr >> 16)
            assert archive.read(info) == target

    return check


def _check_zip_duplicate(data: bytes) -> None:
    with _zip(data) as archive:
        copies = [i for i in archive.infolist() if i.filename == "evil/__init__.py"]
        assert len(copies) == 2
        assert archive.read(copies[0]) != archive.read(copies[1])


def _check_encrypted(data: bytes) -> None:
    with _zip(data) as archive:
        info = archive.getinfo("evil/secret.py")
        assert info.flag_bits & 0x1
        with pytest.raises(RuntimeError, match="encrypted"):
            archive.read(info)
        assert archive.read(info, pwd=ENCRYPTION_PASSWORD) == b"SECRET = 42\n"


def _check_targz_truncated(data: bytes) -> None:
    with pytest.raises(EOFError):
        gzip.decompress(data)


def _check_reserved_flags(data: bytes) -> None:
    assert data[3] == 0xE0
    with pytest.raises(zlib.error, match="unknown header flags"):
        zlib.decompress(data, wbits=31)


def _check_bad_method(data: bytes) -> None:
    assert data[:2] == b"\x1f\x8b"
    with pytest.raises(gzip.BadGzipFile, match="Unknown compression method"):
        gzip.decompress(data)


def _check_bad_header_crc(data: bytes) -> None:
    assert data[3] & 0x02
    with pytest.raises(zlib.error, match="header crc mismatch"):
        zlib.decompress(data, wbits=31)


def _check_empty(data: bytes) -> None:
    assert data == b""


def _check_not_an_archive(data: bytes) -> None:
    assert not zipfile.is_zipfile(io.BytesIO(data))
    with pytest.raises(tarfile.ReadError), tarfile.open(fileobj=io.BytesIO(data)):
        pass


def _tar_filtered(name: str, error: type[tarfile.FilterError]) -> Callable[[bytes], None]:
    """The member is there, and tarfile's own extraction filter refuses it with ``error``."""

    def check(data: bytes) -> None:
        with _tar_gz(data) as archive:
            member = archive.getmember(name)
            with pytest.raises(error):
                tarfile.data_filter(member, "/tmp/unpack-here")

    return check


def _check_tar_absolute(data: bytes) -> None:
    """tarfile's filter does not refuse an absolute name: it strips the slash (a repair)."""
    with _tar_gz(data) as archive:
        member = archive.getmember("/etc/evil.txt")
        assert tarfile.data_filter(member, "/tmp/unpack-here").name == "etc/evil.txt"


def _check_hardlink_nonmember(data: bytes) -> None:
    with _tar_gz(data) as archive:
        link = archive.getmember("evil-1.0/passwd")
        assert link.islnk() and link.linkname == "evil-1.0/shadow"
        assert "evil-1.0/shadow" not in archive.getnames()


def _check_tar_duplicate(data: bytes) -> None:
    with _tar_gz(data) as archive:
        copies = [m for m in archive.getmembers() if m.name == "evil-1.0/evil/__init__.py"]
        assert len(copies) == 2
        contents = []
        for member in copies:
            handle = archive.extractfile(member)
            assert handle is not None
            contents.append(handle.read())
        assert contents[0] != contents[1]


def _tar_links(links: dict[str, str]) -> Callable[[bytes], None]:
    """The sdist holds these symbolic and hard links, with these targets, in this order."""

    def check(data: bytes) -> None:
        with _tar_gz(data) as archive:
            found = {m.name: m.linkname for m in archive.getmembers() if m.issym() or m.islnk()}
        assert found == links

    return check


_CHAIN = {"evil-1.0/a": "..", "evil-1.0/a/b": "..", "evil-1.0/a/b/c": ".."}


def _check_chain_write(data: bytes) -> None:
    _tar_links(_CHAIN)(data)
    with _tar_gz(data) as archive:
        assert archive.getmember("evil-1.0/a/b/c/PWNED").isfile()


def _check_deep_tar(data: bytes) -> None:
    with _tar_gz(data) as archive:
        (deep,) = [m for m in archive.getmembers() if m.name.endswith("/x")]
        assert deep.name.count("/") == DEEP_LEVELS + 1 and deep.isfile()


def _check_deep_zip(data: bytes) -> None:
    with _zip(data) as archive:
        (deep,) = [n for n in archive.namelist() if n.endswith("/x.py")]
        assert deep.count("/") == DEEP_LEVELS + 1
        assert deep in archive.read("evil-1.0.dist-info/RECORD").decode()


def _check_record_newline(data: bytes) -> None:
    with _zip(data) as archive:
        record = archive.read("evil-1.0.dist-info/RECORD").decode()
        assert '"evil/x\ny.py",sha256=' in record
        assert "evil/x\ny.py" not in archive.namelist()
        assert archive.testzip() is None


CHECKS: dict[str, Callable[[bytes], None]] = {
    "zip-truncated-central": _check_truncated_central,
    "zip-corrupt-deflate": _check_corrupt_deflate,
    "zip-bad-crc": _check_bad_crc,
    "zip-local-name-mismatch": _check_local_name_mismatch,
    "zip-overlap-shared-header": _check_overlap_shared_header,
    "zip-overlap-quoted": _check_overlap_quoted,
    "zip-too-many-members": _check_too_many_members,
    "zip-expansion-ratio": _check_expansion_ratio,
    "zip-dotdot": _zip_name("../evil.txt"),
    "zip-absolute": _zip_name("/etc/evil.txt"),
    "zip-symlink-out": _zip_symlink(b"../../etc/passwd"),
    "zip-symlink-absolute": _zip_symlink(b"/etc/passwd"),
    "zip-duplicate": _check_zip_duplicate,
    "zip-encrypted": _check_encrypted,
    "targz-truncated": _check_targz_truncated,
    "gzip-reserved-flags": _check_reserved_flags,
    "gzip-bad-method": _check_bad_method,
    "gzip-bad-header-crc": _check_bad_header_crc,
    "empty-file": _check_empty,
    "not-an-archive": _check_not_an_archive,
    "tar-dotdot": _tar_filtered("../evil.txt", tarfile.OutsideDestinationError),
    "tar-absolute": _check_tar_absolute,
    "tar-symlink-out": _tar_filtered("evil-1.0/passwd", tarfile.LinkOutsideDestinationError),
    "tar-symlink-absolute": _tar_filtered("evil-1.0/passwd", tarfile.AbsoluteLinkError),
    "tar-hardlink-nonmember": _check_hardlink_nonmember,
    "tar-duplicate": _check_tar_duplicate,
    "tar-symlink-chain-write": _check_chain_write,
    "tar-symlink-chain-read": _tar_links(
        {**_CHAIN, "evil-1.0/passwd": "evil-1.0/a/b/c/etc/passwd"}
    ),
    "tar-symlink-later": _tar_links({"evil-1.0/l": "d/../../etc", "evil-1.0/d": ".."}),
    "tar-name-escape": _tar_links({"evil-1.0/\x1b[31mred\x1b[0m\u202e": "/etc/passwd"}),
    "tar-name-newline": _tar_links({"evil-1.0/a\nerror: fine\rb": "/etc/passwd"}),
    "tar-deep-path": _check_deep_tar,
    "zip-deep-path": _check_deep_zip,
    "zip-record-newline": _check_record_newline,
}


def test_every_case_is_checked() -> None:
    assert set(CHECKS) == set(HOSTILE_CASES)
    assert set(HOSTILE_MEMBERS) <= set(HOSTILE_CASES)


@pytest.mark.parametrize("case", HOSTILE_CASES)
def test_case_is_what_it_claims(case: str) -> None:
    name, data = HOSTILE_CASES[case]()
    assert name in ("evil-1.0-py3-none-any.whl", "evil-1.0.tar.gz")
    assert len(data) < 64 * 1024
    assert HOSTILE_CASES[case]() == (name, data)  # deterministic
    CHECKS[case](data)


def test_gzip_cases_patch_one_field_of_a_valid_sdist() -> None:
    """The gzip cases patch one field of an otherwise valid sdist, which tarfile reads."""
    _, sound = HOSTILE_CASES["gzip-reserved-flags"]()
    repaired = sound[:3] + b"\x00" + sound[4:]
    with _tar_gz(repaired) as archive:
        assert "evil-1.0/evil/__init__.py" in archive.getnames()
    _, method = HOSTILE_CASES["gzip-bad-method"]()
    assert method[:2] + b"\x08" + method[3:] == repaired
