"""The build clock shim, loaded as sitecustomize in real interpreters of this machine."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reprobuild.frontend import clock_variables, find_pythons

INSTANT = 1600000000  # 2020-09-13 12:26:40 UTC

PROBE = """
import os, pathlib, shutil, sys, time
old, new, copy = sys.argv[1:4]
pathlib.Path(new).write_text("written during the build")
shutil.copy2(new, copy)
print(int(time.time()), time.strftime("%Y-%m-%d"), time.localtime().tm_year)
print(int(os.stat(new).st_mtime), int(pathlib.Path(new).stat().st_mtime))
print(int(os.stat(old).st_mtime), int(os.stat(copy).st_mtime), pathlib.Path(new).is_file())
"""


def _interpreters() -> list[str]:
    """The running Python, and the oldest this machine has (the shim must run on 3.6)."""
    found = sorted(find_pythons(), key=lambda p: tuple(int(x) for x in p.version.split(".")[:2]))
    oldest = [str(found[0].executable)] if found else []
    return list(dict.fromkeys([sys.executable, *oldest]))


def _probe(python: str, tmp_path: Path, reads: int | None = None) -> list[str]:
    """PROBE's three lines, run by ``python`` with the clock replaying INSTANT (the clock
    reading ``reads`` when given), beside a file of the sdist written long before."""
    old = tmp_path / "from-the-sdist.py"
    old.write_text("kept")
    os.utime(old, (1500000000, 1500000000))
    variables = clock_variables(INSTANT, since=time.time(), folder=tmp_path / "clock", reads=reads)
    env = {"PATH": os.environ.get("PATH", ""), "TZ": "UTC", **variables}
    return subprocess.run(
        [python, "-c", PROBE, str(old), str(tmp_path / "new"), str(tmp_path / "copy")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")


@pytest.mark.parametrize("python", _interpreters())
def test_files_written_during_the_build_carry_the_replayed_instant(
    python: str, tmp_path: Path
) -> None:
    out = _probe(python, tmp_path)
    assert out[0] == f"{INSTANT} 2020-09-13 2020"  # the clock stands at the instant
    assert out[1] == f"{INSTANT} {INSTANT}"  # a file written now: os.stat and pathlib
    assert out[2] == f"1500000000 {INSTANT} True"  # an older file keeps its time


@pytest.mark.parametrize("python", _interpreters())
def test_a_later_reading_leaves_the_written_files_at_the_instant(
    python: str, tmp_path: Path
) -> None:
    """``reads``: the clock reads a later instant (a publisher's clock that moved on while
    the build ran), the files the build writes still carry the first."""
    later = INSTANT + 2
    out = _probe(python, tmp_path, reads=later)
    assert out[0] == f"{later} 2020-09-13 2020"
    assert out[1] == f"{INSTANT} {INSTANT}"
    assert out[2] == f"1500000000 {INSTANT} True"
    assert "REPROBUILD_BUILD_CLOCK_READS" not in clock_variables(
        INSTANT, since=time.time(), folder=tmp_path / "same", reads=INSTANT
    )


DIST_INFO_PROBE = """
import os, pathlib, shutil, sys
root = pathlib.Path(sys.argv[1])
egg = root / "demo.egg-info"
egg.mkdir()
(egg / "top_level.txt").write_text("demo")
(root / "LICENSE").write_text("license")
dist = root / "bdist.linux-x86_64" / "wheel" / "demo-1.0.dist-info"
shutil.copytree(egg, dist)  # bdist_wheel's egg2dist: the egg-info files keep their times
(dist / "METADATA").write_text("Name: demo")
shutil.copy(root / "LICENSE", dist / "LICENSE")
(dist.parent / "demo-1.0-py3.9-nspkg.pth").write_text("import sys")
with open(dist / "WHEEL", "w") as handle:
    handle.write("Generator: demo")
    handle.flush()
    fstat = int(os.fstat(handle.fileno()).st_mtime)
times = [int(os.stat(p).st_mtime) for p in (
    egg / "top_level.txt", dist / "top_level.txt", dist / "METADATA", dist / "LICENSE",
    dist.parent / "demo-1.0-py3.9-nspkg.pth")]
print(*times, fstat)
"""


@pytest.mark.parametrize("python", _interpreters())
def test_files_written_into_a_dist_info_folder_carry_its_later_time(
    python: str, tmp_path: Path
) -> None:
    """``dist_info``: bdist_wheel writes METADATA, WHEEL, the licenses and a namespace .pth
    into its install tree after the egg-info files, which it copies in with their times."""
    later = INSTANT + 12
    variables = clock_variables(
        INSTANT, since=time.time(), folder=tmp_path / "clock", dist_info=later
    )
    env = {"PATH": os.environ.get("PATH", ""), "TZ": "UTC", **variables}
    (tmp_path / "build").mkdir()
    out = subprocess.run(
        [python, "-c", DIST_INFO_PROBE, str(tmp_path / "build")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == [str(t) for t in (INSTANT, INSTANT, later, later, later, later)]
    assert "REPROBUILD_BUILD_CLOCK_DIST_INFO" not in clock_variables(
        INSTANT, since=time.time(), folder=tmp_path / "same", dist_info=INSTANT
    )


def test_without_the_variables_nothing_changes(tmp_path: Path) -> None:
    clock_variables(INSTANT, since=time.time(), folder=tmp_path / "clock")
    out = subprocess.run(
        [sys.executable, "-c", "import time; print(int(time.time()))"],
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(tmp_path / "clock")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert abs(int(out) - time.time()) < 60


KEPT_PROBE = """
import pathlib, shutil, sys
same, changed, copy = sys.argv[1:4]
pathlib.Path(same).write_text("demo\\n")  # written again, the same bytes
pathlib.Path(changed).write_text("other\\n")  # written again, other bytes
shutil.copy2(same, copy)  # as bdist_wheel copies the egg-info into .dist-info
print(int(pathlib.Path(same).stat().st_mtime), int(pathlib.Path(changed).stat().st_mtime))
print(int(pathlib.Path(copy).stat().st_mtime))
"""


@pytest.mark.parametrize("python", _interpreters())
def test_an_egg_info_file_written_again_unchanged_keeps_its_time(
    python: str, tmp_path: Path
) -> None:
    import hashlib

    egg_info = tmp_path / "demo.egg-info"
    egg_info.mkdir()
    kept = {}
    for name in ("top_level.txt", "SOURCES.txt"):
        (egg_info / name).write_text("demo\n")
        os.utime(egg_info / name, (1500000000, 1500000000))
        kept[egg_info / name] = (hashlib.sha256(b"demo\n").hexdigest(), 5, 1500000000)
    variables = clock_variables(INSTANT, since=time.time(), folder=tmp_path / "clock", kept=kept)
    env = {"PATH": os.environ.get("PATH", ""), "TZ": "UTC", **variables}
    argv = [str(egg_info / "top_level.txt"), str(egg_info / "SOURCES.txt"), str(tmp_path / "c")]
    out = subprocess.run(
        [python, "-c", KEPT_PROBE, *argv], env=env, capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[0] == f"1500000000 {INSTANT}"  # the same bytes keep the time; others do not
    assert out[1] == "1500000000"  # and a copy made with its times carries it on
