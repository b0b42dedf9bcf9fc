"""Bounded memory: a member far larger than what reprobuild holds never fills memory.

Each test runs the command line as a child process on an archive with one 160 MiB member
(the library streams members above 16 MiB; held whole, as before, it took four times that)
and asserts the child's peak resident set size, read from ``os.wait4``, is below
:data:`BOUND`, and that the result is right. The member is either pages of zeros (its archive
is small) or incompressible bytes from a seeded generator (its archive is as large as the
member: the input file itself must never be resident whole).
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.skipif(
        sys.platform != "linux", reason="ru_maxrss is read in KiB, as Linux gives it"
    ),
    pytest.mark.slow,
]

BOUND = 200 * 1000 * 1000
SIZE = 160 << 20
EPOCH = 1_700_000_000


def _pages(size: int, *, flip: int = -1) -> Iterator[bytes]:
    """``size`` bytes, a MiB at a time: 4 KiB zero pages, each headed by its number."""
    for start in range(0, size, 1 << 20):
        block = bytearray(min(1 << 20, size - start))
        for page in range(0, len(block), 4096):
            line = b"%015d\n" % ((start + page) // 4096)
            block[page : page + 16] = line[: len(block) - page]
        if start <= flip < start + len(block):
            block[flip - start] ^= 0xFF
        yield bytes(block)


def _noise(size: int, *, flip: int = -1) -> Iterator[bytes]:
    """``size`` incompressible bytes, a MiB at a time, the same on every run (seeded); the
    byte at ``flip`` (if any) changed."""
    generator = random.Random(20240101)
    for start in range(0, size, 1 << 20):
        block = generator.randbytes(min(1 << 20, size - start))
        if start <= flip < start + len(block):
            changed = bytearray(block)
            changed[flip - start] ^= 0xFF
            block = bytes(changed)
        yield block


class _Reader(io.RawIOBase):
    def __init__(self, blocks: Iterator[bytes]) -> None:
        self._blocks = blocks
        self._rest = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if not self._rest:
            self._rest = next(self._blocks, b"")
        count = min(len(buffer), len(self._rest))
        memoryview(buffer)[:count] = self._rest[:count]
        self._rest = self._rest[count:]
        return count


def _sdist(path: Path, *, flip: int = -1, noise: bool = False) -> None:
    blocks = (_noise if noise else _pages)(SIZE, flip=flip)
    with (
        path.open("wb") as raw,
        tarfile.open(fileobj=raw, mode="w:gz", format=tarfile.GNU_FORMAT, compresslevel=1) as tar,
    ):
        info = tarfile.TarInfo("big-1.0/data.bin")
        info.size, info.mtime, info.uname = SIZE, EPOCH + 99, "builder"
        tar.addfile(info, io.BufferedReader(_Reader(blocks), 1 << 20))


def _zip(
    path: Path,
    *,
    level: int = 9,
    last: int = 0,
    noise: bool = False,
    method: int = zipfile.ZIP_DEFLATED,
) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo("zeros.bin", date_time=(2024, 1, 1, 0, 0, 0))
        info.compress_type = method
        info._compresslevel = level  # type: ignore[attr-defined]  # open() ignores the archive's
        with archive.open(info, "w") as member:
            if noise:
                for piece in _noise(SIZE, flip=SIZE - 1 if last else -1):
                    member.write(piece)
                return
            for start in range(0, SIZE, 1 << 20):
                block = bytearray(1 << 20)
                if start + len(block) == SIZE:
                    block[-1] = last
                member.write(block)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("large")
    _sdist(folder / "big-1.0.tar.gz")
    _sdist(folder / "big-1.0.other.tar.gz", flip=SIZE // 2 + 1)
    _zip(folder / "zeros.zip")
    _zip(folder / "zeros-fast.zip", level=1)
    _zip(folder / "zeros-one.zip", last=1)
    return folder


@pytest.fixture(scope="module")
def noise(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same archives with incompressible members: each file is as large as its member."""
    folder = tmp_path_factory.mktemp("noise")
    _sdist(folder / "big-1.0.tar.gz", noise=True)
    _sdist(folder / "big-1.0.other.tar.gz", flip=SIZE // 2 + 1, noise=True)
    _zip(folder / "stored.zip", noise=True, method=zipfile.ZIP_STORED)
    _zip(folder / "stored-one.zip", noise=True, method=zipfile.ZIP_STORED, last=1)
    _zip(folder / "deflated.zip", noise=True)
    _zip(folder / "deflated-fast.zip", noise=True, level=1)
    return folder


def _sha256(blocks: Iterator[bytes]) -> str:
    digest = hashlib.sha256()
    for block in blocks:
        digest.update(block)
    return digest.hexdigest()


#: Runs the command in a grandchild forked from this small process, and prints the
#: grandchild's peak RSS (KiB) on stderr once it has ended. Linux counts, in a process's peak,
#: the memory of what it was before its exec: a child started straight from the test process
#: (vfork) would carry the test process's own peak, hundreds of MB late in a test run.
_TRAMPOLINE = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, *sys.argv[1:]])
_, status, usage = os.wait4(pid, 0)
sys.stderr.write(f"{usage.ru_maxrss}\\n")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def _run(*args: str | Path) -> tuple[int, int, str]:
    """Exit status, peak RSS in bytes and stdout of ``reprobuild ARGS`` as a child process."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(EPOCH), "NO_COLOR": "1"}
    command = [sys.executable, "-c", _TRAMPOLINE, "-m", "reprobuild", *map(str, args)]
    done = subprocess.run(command, capture_output=True, env=env, check=False)
    peak_kib = int(done.stderr.decode().strip().splitlines()[-1])
    return done.returncode, peak_kib * 1024, done.stdout.decode()


def test_normalize_sdist_with_a_large_member(inputs: Path, tmp_path: Path) -> None:
    status, peak, _ = _run("normalize", inputs / "big-1.0.tar.gz", "-o", tmp_path)
    assert status == 0
    assert peak < BOUND
    expected = hashlib.sha256()
    for block in _pages(SIZE):
        expected.update(block)
    with tarfile.open(tmp_path / "big-1.0.tar.gz") as tar:
        (member,) = tar.getmembers()
        assert (member.size, member.mtime, member.uname, member.uid) == (SIZE, EPOCH, "", 0)
        handle = tar.extractfile(member)
        assert handle is not None
        found = hashlib.sha256()
        while block := handle.read(1 << 20):
            found.update(block)
    assert found.hexdigest() == expected.hexdigest()


def test_normalize_verify_zip_of_zeros(inputs: Path, tmp_path: Path) -> None:
    status, peak, _ = _run("normalize", "--verify", inputs / "zeros.zip", "-o", tmp_path)
    assert status == 0
    assert peak < BOUND
    with zipfile.ZipFile(tmp_path / "zeros.zip") as archive:
        assert archive.testzip() is None
        assert archive.getinfo("zeros.bin").file_size == SIZE


def test_diff_zips_of_equal_content_compressed_otherwise(inputs: Path) -> None:
    status, peak, output = _run("diff", inputs / "zeros.zip", inputs / "zeros-fast.zip")
    assert status == 1
    assert peak < BOUND
    assert f"the same {SIZE} bytes compressed differently" in output


def test_diff_zips_whose_last_byte_differs(inputs: Path) -> None:
    status, peak, output = _run("diff", inputs / "zeros.zip", inputs / "zeros-one.zip")
    assert status == 1
    assert peak < BOUND
    assert f"{SIZE} bytes each; first difference at offset {SIZE - 1:#x}" in output


def test_diff_sdists_whose_large_member_differs(inputs: Path) -> None:
    status, peak, output = _run("diff", inputs / "big-1.0.tar.gz", inputs / "big-1.0.other.tar.gz")
    assert status == 1
    assert peak < BOUND
    flip = SIZE // 2 + 1
    assert f"first difference at offset {flip:#x}, last at {flip:#x}" in output


@pytest.mark.parametrize("verify", [False, True], ids=["plain", "verify"])
def test_normalize_sdist_with_a_large_incompressible_member(
    noise: Path, tmp_path: Path, verify: bool
) -> None:
    source = noise / "big-1.0.tar.gz"
    assert source.stat().st_size > SIZE
    options = ["--verify"] if verify else []
    status, peak, _ = _run("normalize", *options, source, "-o", tmp_path)
    assert status == 0
    assert peak < BOUND
    with tarfile.open(tmp_path / "big-1.0.tar.gz") as tar:
        (member,) = tar.getmembers()
        assert (member.size, member.mtime, member.uname) == (SIZE, EPOCH, "")
        handle = tar.extractfile(member)
        assert handle is not None
        found = _sha256(iter(lambda: handle.read(1 << 20), b""))
    assert found == _sha256(_noise(SIZE))


@pytest.mark.parametrize(
    ("name", "verify"),
    [("stored.zip", False), ("stored.zip", True), ("deflated.zip", False), ("deflated.zip", True)],
)
def test_normalize_zip_of_an_incompressible_member(
    noise: Path, tmp_path: Path, name: str, verify: bool
) -> None:
    options = ["--verify"] if verify else []
    status, peak, _ = _run("normalize", *options, noise / name, "-o", tmp_path)
    assert status == 0
    assert peak < BOUND
    with zipfile.ZipFile(tmp_path / name) as archive, archive.open("zeros.bin") as member:
        found = _sha256(iter(lambda: member.read(1 << 20), b""))
    assert found == _sha256(_noise(SIZE))


def test_diff_sdists_whose_incompressible_member_differs(noise: Path) -> None:
    status, peak, output = _run("diff", noise / "big-1.0.tar.gz", noise / "big-1.0.other.tar.gz")
    assert status == 1
    assert peak < BOUND
    flip = SIZE // 2 + 1
    assert f"first difference at offset {flip:#x}, last at {flip:#x}" in output


def test_diff_stored_zips_whose_last_byte_differs(noise: Path) -> None:
    status, peak, output = _run("diff", noise / "stored.zip", noise / "stored-one.zip")
    assert status == 1
    assert peak < BOUND
    assert f"{SIZE} bytes each; first difference at offset {SIZE - 1:#x}" in output


def test_diff_zips_of_incompressible_content_compressed_otherwise(noise: Path) -> None:
    status, peak, output = _run("diff", noise / "deflated.zip", noise / "deflated-fast.zip")
    assert status == 1
    assert peak < BOUND
    assert f"the same {SIZE} bytes compressed differently" in output
