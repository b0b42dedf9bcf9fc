"""Peak memory of reprobuild on archives with one very large member.

One command, from the repository root::

    python benchmarks/hostile.py            # 1 GiB members
    python benchmarks/hostile.py --size 4   # 4 GiB members (slower: a minute or more a case)

It makes its inputs in a temporary folder by a fixed rule (nothing is downloaded):

- ``big-1.0.tar.gz``: an sdist whose ``data.bin`` holds SIZE GiB (4 KiB pages, each a zero
  page with a counter line at its head), its headers not canonical (owner, GNU format, times);
- ``zeros.zip``: one member of SIZE GiB of zeros deflated at level 9, a ratio just under the
  zip-bomb limit (``Limits.max_ratio``);
- ``zeros-fast.zip``: the same content deflated at level 1 (equal content, other bytes);
- ``zeros-one.zip``: the same, with its last byte 1 (other content);
- ``big-1.0.other.tar.gz``: the sdist with one byte of ``data.bin`` changed;
- the same with incompressible content (``os.urandom``), whose files are as large as their
  member, so that the input file itself must never be resident whole: ``noise-1.0.tar.gz``
  and ``noise-1.0.other.tar.gz`` (one byte changed), ``noise-stored.zip`` and
  ``noise-stored-one.zip`` (its last byte changed), ``noise.zip`` and ``noise-fast.zip``
  (deflated at levels 9 and 1);
- ``huge-1.0.tar.gz``, an sdist whose in-tree build backend (``backend-path = ["."]``, no
  build requirement) writes ``huge-1.0-py3-none-any.whl`` holding its incompressible
  ``data.bin``; the wheel is written here by that backend, for ``verify`` to rebuild offline.

Then it runs the ``reprobuild`` command as a child process for each case (normalize,
normalize --verify, normalize --check of the output, diff of equal content compressed
otherwise, diff of other content, for zips and for the sdists; verify of the wheel from the
sdist with ``--sandbox none``), checks the exit status that says the verdict is right, and
measures the peak resident memory of the child and of the processes it waited for
(``os.wait4``). The Markdown table, with the goal (below 200 MB) and pass or fail, goes to
stdout; progress to stderr.
"""

from __future__ import annotations

import argparse
import importlib
import io
import os
import platform
import shlex
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from _common import log, reprobuild_command

GOAL_MB = 200
STORED, DEFLATED = zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED
GIB = 1 << 30
PAGE = 4096
EPOCH = 1_700_000_000


# --- inputs ------------------------------------------------------------------------------------


class _Pages(io.RawIOBase):
    """``size`` bytes of 4 KiB pages, page ``n`` a zero page headed by the line ``n``; the
    byte at ``flip`` (if any) is changed."""

    def __init__(self, size: int, *, flip: int = -1) -> None:
        self._size = size
        self._pos = 0
        self._flip = flip

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        count = min(len(view), self._size - self._pos)
        block = bytearray(count)
        first = -(-self._pos // PAGE) * PAGE
        for page in range(first, self._pos + count, PAGE):
            line = b"%015d\n" % (page // PAGE)
            at = page - self._pos
            block[at : at + len(line)] = line[: count - at]
        if self._pos <= self._flip < self._pos + count:
            block[self._flip - self._pos] ^= 0xFF
        view[:count] = block
        self._pos += count
        return count


class _Zeros(io.RawIOBase):
    """``size`` zero bytes, the last one ``last``."""

    def __init__(self, size: int, *, last: int = 0) -> None:
        self._size = size
        self._pos = 0
        self._last = last

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        count = min(len(view), self._size - self._pos)
        view[:count] = bytes(count)
        if count and self._pos + count == self._size:
            view[count - 1] = self._last
        self._pos += count
        return count


def make_sdist(path: Path, size: int, *, flip: int = -1) -> None:
    """An sdist holding ``data.bin`` of ``size`` bytes and a small ``PKG-INFO``, with headers
    that normalize changes (GNU format, an owner, times after the epoch)."""
    with (
        path.open("wb") as raw,
        tarfile.open(fileobj=raw, mode="w:gz", format=tarfile.GNU_FORMAT, compresslevel=6) as tar,
    ):
        info = tarfile.TarInfo("big-1.0/PKG-INFO")
        body = b"Metadata-Version: 2.1\nName: big\nVersion: 1.0\n"
        info.size, info.mtime, info.uname, info.uid = len(body), EPOCH + 99, "builder", 1000
        tar.addfile(info, io.BytesIO(body))
        info = tarfile.TarInfo("big-1.0/data.bin")
        info.size, info.mtime, info.uname, info.uid = size, EPOCH + 99, "builder", 1000
        tar.addfile(info, io.BufferedReader(_Pages(size, flip=flip), 1 << 20))


def make_zip(path: Path, size: int, *, level: int = 9, last: int = 0) -> None:
    """A zip of one member, ``size`` zeros (the last ``last``), deflated at ``level``."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        info = zipfile.ZipInfo("zeros.bin", date_time=(2024, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info._compresslevel = level  # type: ignore[attr-defined]  # open() ignores the archive's
        info.file_size = size
        with archive.open(info, "w", force_zip64=size >= 1 << 31) as member:
            source = io.BufferedReader(_Zeros(size, last=last), 1 << 20)
            while block := source.read(1 << 20):
                member.write(block)


class _Noise(io.RawIOBase):
    """``size`` incompressible bytes: blocks of ``os.urandom``, each used for ``1/REUSE`` of
    the content (so that two files made from the same ``seed`` hold the same bytes), the
    byte at ``flip`` (if any) changed."""

    def __init__(self, size: int, seed: bytes, *, flip: int = -1) -> None:
        self._size = size
        self._pos = 0
        self._flip = flip
        self._seed = seed

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        count = min(len(view), self._size - self._pos, NOISE_BLOCK - self._pos % NOISE_BLOCK)
        block = bytearray(_noise_block(self._seed, self._pos // NOISE_BLOCK)[:count])
        if self._pos <= self._flip < self._pos + count:
            block[self._flip - self._pos] ^= 0xFF
        view[:count] = block
        self._pos += count
        return count


NOISE_BLOCK = 1 << 20
_NOISE: dict[tuple[bytes, int], bytes] = {}


def _noise_block(seed: bytes, number: int) -> bytes:
    """Block ``number`` of the noise of ``seed``: SHAKE-256 of both (fast, incompressible, and
    the same for every file made from ``seed``)."""
    import hashlib

    key = (seed, number)
    if key not in _NOISE:
        _NOISE.clear()  # one block kept: files are written one after the other
        _NOISE[key] = hashlib.shake_256(seed + number.to_bytes(8, "big")).digest(NOISE_BLOCK)
    return _NOISE[key]


def make_noise_sdist(path: Path, size: int, seed: bytes, *, flip: int = -1) -> None:
    """An sdist holding ``data.bin``, ``size`` incompressible bytes, gzip level 1."""
    with (
        path.open("wb") as raw,
        tarfile.open(fileobj=raw, mode="w:gz", format=tarfile.GNU_FORMAT, compresslevel=1) as tar,
    ):
        info = tarfile.TarInfo("noise-1.0/data.bin")
        info.size, info.mtime, info.uname, info.uid = size, EPOCH + 99, "builder", 1000
        tar.addfile(info, io.BufferedReader(_Noise(size, seed, flip=flip), NOISE_BLOCK))


def make_noise_zip(
    path: Path, size: int, seed: bytes, *, method: int, level: int = 9, last: bool = False
) -> None:
    """A zip of one member, ``size`` incompressible bytes (the last changed if ``last``),
    stored or deflated at ``level``."""
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo("noise.bin", date_time=(2024, 1, 1, 0, 0, 0))
        info.compress_type = method
        info._compresslevel = level  # type: ignore[attr-defined]  # open() ignores the archive's
        info.file_size = size
        with archive.open(info, "w", force_zip64=size >= 1 << 31) as member:
            source = _Noise(size, seed, flip=size - 1 if last else -1)
            while block := source.read(NOISE_BLOCK):
                member.write(block)


_BACKEND = """\
import base64, hashlib, os, shutil, tarfile, zipfile

NAME = "huge"


def build_sdist(sdist_directory, config_settings=None):
    base = NAME + "-1.0"
    path = os.path.join(sdist_directory, base + ".tar.gz")
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT, compresslevel=1) as tar:
        for name in ("backend.py", "data.bin", "pyproject.toml"):
            tar.add(name, arcname=base + "/" + name)
    return base + ".tar.gz"


def _row(path, digest, size):
    text = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return path + ",sha256=" + text + "," + str(size)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    dist = NAME + "-1.0.dist-info"
    name = NAME + "-1.0-py3-none-any.whl"
    digest = hashlib.sha256()
    with open("data.bin", "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    small = {
        dist + "/METADATA": b"Metadata-Version: 2.1\\nName: huge\\nVersion: 1.0\\n",
        dist + "/WHEEL": b"Wheel-Version: 1.0\\nGenerator: huge\\nRoot-Is-Purelib: true\\n"
        b"Tag: py3-none-any\\n",
    }
    rows = [_row("huge/data.bin", digest.digest(), os.path.getsize("data.bin"))]
    rows += [_row(path, hashlib.sha256(data).digest(), len(data)) for path, data in small.items()]
    rows.append(dist + "/RECORD,,")
    small[dist + "/RECORD"] = ("\\n".join(rows) + "\\n").encode()
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as wheel:
        info = zipfile.ZipInfo("huge/data.bin", (1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        with open("data.bin", "rb") as source, wheel.open(info, "w", force_zip64=True) as out:
            shutil.copyfileobj(source, out, 1 << 20)
        for path, data in small.items():
            info = zipfile.ZipInfo(path, (1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            wheel.writestr(info, data)
    return name
"""

_PYPROJECT = """\
[build-system]
requires = []
build-backend = "backend"
backend-path = ["."]

[project]
name = "huge"
version = "1.0"
"""


def make_huge_project(work: Path, size: int) -> None:
    """The project ``huge`` in ``work/huge`` (an in-tree backend, ``size`` bytes of noise in
    ``data.bin``), and its sdist and wheel in ``work``, written by its own backend."""
    project = work / "huge"
    project.mkdir()
    (project / "backend.py").write_text(_BACKEND, encoding="utf-8")
    (project / "pyproject.toml").write_text(_PYPROJECT, encoding="utf-8")
    with (project / "data.bin").open("wb") as out:
        source = _Noise(size, b"huge")
        while block := source.read(NOISE_BLOCK):
            out.write(block)
    here = Path.cwd()
    sys.path.insert(0, str(project))
    try:
        os.chdir(project)
        backend = importlib.import_module("backend")
        backend.build_sdist(str(work))
        backend.build_wheel(str(work))
    finally:
        os.chdir(here)
        sys.path.remove(str(project))
        sys.modules.pop("backend", None)


# --- runs --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    name: str
    args: Callable[[Path], list[str]]
    expect: int  #: the exit status that says the verdict is right
    check: Callable[[Path, str], str | None] = lambda _work, _out: None  #: a failure, or None


@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    case: Case
    peak_mb: float
    seconds: float
    status: int
    problem: str | None

    @property
    def passed(self) -> bool:
        return self.problem is None and self.peak_mb < GOAL_MB


def run(case: Case, work: Path) -> Result:
    """Run the case's command as a child; its peak resident set size from ``os.wait4``.

    Linux counts in a child's peak what the child was before its exec, a copy of this script:
    the figure is an upper bound, by at most this small script's own peak (its inputs are
    written a MiB at a time)."""
    cmd = [*reprobuild_command(), *case.args(work)]
    log("$ " + shlex.join(cmd))
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(EPOCH), "NO_COLOR": "1"}
    out_path = work / "stdout.txt"
    start = time.perf_counter()
    with out_path.open("wb") as out:
        child = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, env=env)
        assert child.stderr is not None
        errors = child.stderr.read()
        _, wait_status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(wait_status)
    seconds = time.perf_counter() - start
    output = out_path.read_text("utf-8", "replace")
    status = child.returncode
    problem = None
    if status != case.expect:
        problem = f"exit {status}, expected {case.expect}: {errors.decode()[-300:]}"
    else:
        problem = case.check(work, output)
    # ru_maxrss is in KiB on Linux, in bytes on macOS
    peak = usage.ru_maxrss * (1 if platform.system() == "Darwin" else 1024)
    return Result(case=case, peak_mb=peak / 1e6, seconds=seconds, status=status, problem=problem)


def _mentions(*words: str) -> Callable[[Path, str], str | None]:
    def check(_work: Path, output: str) -> str | None:
        missing = [word for word in words if word not in output]
        return f"the report does not mention {', '.join(missing)}" if missing else None

    return check


def _sdist_content_kept(size: int) -> Callable[[Path, str], str | None]:
    def check(work: Path, _output: str) -> str | None:
        with tarfile.open(work / "out" / "big-1.0.tar.gz") as tar:
            member = tar.getmember("big-1.0/data.bin")
            if member.size != size or member.uname or member.mtime != EPOCH:
                return f"data.bin's header is not canonical: {member.get_info()}"
            handle = tar.extractfile(member)
            assert handle is not None
            expected = io.BufferedReader(_Pages(size), 1 << 20)
            while block := handle.read(1 << 20):
                if block != expected.read(len(block)):
                    return "data.bin's content changed"
        return None

    return check


def cases(size: int) -> list[Case]:
    def out(work: Path) -> str:
        return str(work / "out")

    return [
        Case(
            name="normalize sdist (.tar.gz)",
            args=lambda w: ["normalize", str(w / "big-1.0.tar.gz"), "-o", out(w)],
            expect=0,
            check=_sdist_content_kept(size),
        ),
        Case(
            name="normalize --check of its output",
            args=lambda w: ["normalize", "--check", str(w / "out" / "big-1.0.tar.gz")],
            expect=0,
        ),
        Case(
            name="normalize zip of zeros",
            args=lambda w: ["normalize", str(w / "zeros.zip"), "-o", out(w)],
            expect=0,
        ),
        Case(
            name="normalize --verify zip of zeros",
            args=lambda w: ["normalize", "--verify", str(w / "zeros.zip"), "-o", out(w)],
            expect=0,
        ),
        Case(
            name="diff zips: same content, level 9 vs 1",
            args=lambda w: ["diff", str(w / "zeros.zip"), str(w / "zeros-fast.zip")],
            expect=1,
            check=_mentions("compressed differently"),
        ),
        Case(
            name="diff zips: last byte differs",
            args=lambda w: ["diff", str(w / "zeros.zip"), str(w / "zeros-one.zip")],
            expect=1,
            check=_mentions("first difference at offset"),
        ),
        Case(
            name="diff sdists: one byte differs",
            args=lambda w: ["diff", str(w / "big-1.0.tar.gz"), str(w / "big-1.0.other.tar.gz")],
            expect=1,
            check=_mentions("data.bin", "first difference at offset"),
        ),
        Case(
            name="normalize sdist of noise (.tar.gz)",
            args=lambda w: ["normalize", str(w / "noise-1.0.tar.gz"), "-o", out(w)],
            expect=0,
        ),
        Case(
            name="normalize --verify sdist of noise",
            args=lambda w: ["normalize", "--verify", str(w / "noise-1.0.tar.gz"), "-o", out(w)],
            expect=0,
        ),
        Case(
            name="normalize --check of its output",
            args=lambda w: ["normalize", "--check", str(w / "out" / "noise-1.0.tar.gz")],
            expect=0,
        ),
        Case(
            name="normalize stored zip of noise",
            args=lambda w: ["normalize", str(w / "noise-stored.zip"), "-o", out(w)],
            expect=0,
        ),
        Case(
            name="normalize --verify stored zip of noise",
            args=lambda w: ["normalize", "--verify", str(w / "noise-stored.zip"), "-o", out(w)],
            expect=0,
        ),
        Case(
            name="normalize deflated zip of noise",
            args=lambda w: ["normalize", str(w / "noise.zip"), "-o", out(w)],
            expect=0,
        ),
        Case(
            name="normalize --verify deflated zip of noise",
            args=lambda w: ["normalize", "--verify", str(w / "noise.zip"), "-o", out(w)],
            expect=0,
        ),
        Case(
            name="diff zips of noise: same content, level 9 vs 1",
            args=lambda w: ["diff", str(w / "noise.zip"), str(w / "noise-fast.zip")],
            expect=1,
            check=_mentions("compressed differently"),
        ),
        Case(
            name="diff stored zips of noise: last byte differs",
            args=lambda w: ["diff", str(w / "noise-stored.zip"), str(w / "noise-stored-one.zip")],
            expect=1,
            check=_mentions("first difference at offset"),
        ),
        Case(
            name="diff sdists of noise: one byte differs",
            args=lambda w: [
                "diff",
                str(w / "noise-1.0.tar.gz"),
                str(w / "noise-1.0.other.tar.gz"),
            ],
            expect=1,
            check=_mentions("data.bin", "first difference at offset"),
        ),
        Case(
            name="verify wheel of noise from its sdist (--sandbox none)",
            args=lambda w: [
                "verify",
                "--wheel",
                str(w / "huge-1.0-py3-none-any.whl"),
                "--sdist",
                str(w / "huge-1.0.tar.gz"),
                "--sandbox",
                "none",
                "--cache-dir",
                str(w / "cache"),
            ],
            expect=0,
            check=_mentions("reproducible"),
        ),
    ]


def make_inputs(work: Path, size: int) -> None:
    made: list[tuple[str, Callable[[Path], None]]] = [
        ("big-1.0.tar.gz", lambda p: make_sdist(p, size)),
        ("big-1.0.other.tar.gz", lambda p: make_sdist(p, size, flip=size // 2 + 1)),
        ("zeros.zip", lambda p: make_zip(p, size)),
        ("zeros-fast.zip", lambda p: make_zip(p, size, level=1)),
        ("zeros-one.zip", lambda p: make_zip(p, size, last=1)),
        ("noise-1.0.tar.gz", lambda p: make_noise_sdist(p, size, b"noise")),
        (
            "noise-1.0.other.tar.gz",
            lambda p: make_noise_sdist(p, size, b"noise", flip=size // 2 + 1),
        ),
        ("noise-stored.zip", lambda p: make_noise_zip(p, size, b"noise", method=STORED)),
        (
            "noise-stored-one.zip",
            lambda p: make_noise_zip(p, size, b"noise", method=STORED, last=True),
        ),
        ("noise.zip", lambda p: make_noise_zip(p, size, b"noise", method=DEFLATED)),
        (
            "noise-fast.zip",
            lambda p: make_noise_zip(p, size, b"noise", method=DEFLATED, level=1),
        ),
        ("huge-1.0-py3-none-any.whl", lambda _p: make_huge_project(work, size)),
    ]
    for name, make in made:
        start = time.perf_counter()
        make(work / name)
        log(
            f"made {name}: {(work / name).stat().st_size:,} bytes in "
            f"{time.perf_counter() - start:.1f} s"
        )


def render(results: Sequence[Result], size: str) -> str:
    lines = [
        f"Peak resident memory of `reprobuild`, one member of {size} "
        f"(goal: below {GOAL_MB} MB whatever the size).",
        "",
        "| case | peak RSS (MB) | time (s) | verdict | result |",
        "|---|---:|---:|---|---|",
    ]
    for r in results:
        verdict = "right" if r.problem is None else f"wrong: {r.problem}"
        lines.append(
            f"| {r.case.name} | {r.peak_mb:.0f} | {r.seconds:.1f} | {verdict} "
            f"| {'pass' if r.passed else 'FAIL'} |"
        )
    passed = sum(r.passed for r in results)
    lines += ["", f"{passed}/{len(results)} cases pass."]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--size", type=int, default=1, choices=(1, 4), help="GiB in the large member (1 or 4)"
    )
    parser.add_argument(
        "--mib", type=int, help="MiB in the large member instead (a quick run: --mib 300)"
    )
    parser.add_argument("--only", action="append", default=[], help="run cases whose name has this")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    size = args.mib << 20 if args.mib else args.size * GIB
    with tempfile.TemporaryDirectory(prefix="reprobuild-hostile-") as folder:
        work = Path(folder)
        make_inputs(work, size)
        results = []
        for case in cases(size):
            if args.only and not any(part in case.name for part in args.only):
                continue
            result = run(case, work)
            log(f"  {result.peak_mb:.0f} MB, {result.seconds:.1f} s, {result.problem or 'right'}")
            results.append(result)
    print(render(results, f"{args.mib} MiB" if args.mib else f"{args.size} GiB"))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
