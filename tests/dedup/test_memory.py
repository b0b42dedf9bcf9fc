"""Bounded memory: ``reprobuild dedup`` keeps a small summary per package, not the packages.

The command runs as a child process on 50 and then on 400 small wheels, each with members of
its own and members shared with the others, in groups of two at ``members`` and with a
package of the same name and version apart (so that every comparison is made and written),
and its peak resident set size is read from ``os.wait4``. What the 350 more packages add must
stay under a small constant per package: the packages' members and metadata are not kept.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import make_wheel

pytestmark = pytest.mark.skipif(
    sys.platform != "linux", reason="ru_maxrss is read in KiB, as Linux gives it"
)

#: What each package beyond the first 50 may add to the peak, in bytes: its summary (about
#: 2 KiB: digests, path, name, its place in each level's groups and in the spill file), and a
#: share of what fills up to a fixed bound (the digests of recent compressed members, the
#: distinct contents held before a sorted run goes to disk: under 1 MiB together).
PER_PACKAGE = 6 << 10

#: Runs the command in a grandchild forked from this small process and prints its peak RSS
#: (KiB) on stderr (see tests/test_memory.py: a child started straight from the test process
#: would carry the test process's own peak).
_TRAMPOLINE = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, *sys.argv[1:]])
_, status, usage = os.wait4(pid, 0)
sys.stderr.write(f"{usage.ru_maxrss}\\n")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def _wheels(folder: Path, count: int) -> Path:
    folder.mkdir()
    shared = {f"demo/shared_{i}.py": f"VALUE = {i}\n".encode() * 20 for i in range(20)}
    for number in range(count):
        own = {f"demo/own_{j}.py": f"NUMBER = {number}  # {j}\n".encode() * 30 for j in range(10)}
        files = {**shared, **own, "demo/__init__.py": f"N = {number // 2}\n".encode()}
        if number % 2:  # the same members as the package before: a group at members
            files = {
                **shared,
                **_own(number - 1),
                "demo/__init__.py": f"N = {number // 2}\n".encode(),
            }
        data = make_wheel(f"demo{number // 4}", "1.0", files, tag=f"py3-none-{number % 4}")
        (folder / f"demo{number // 4}-1.0-py3-none-any-{number}.whl").write_bytes(data)
    return folder


def _own(number: int) -> dict[str, bytes]:
    return {f"demo/own_{j}.py": f"NUMBER = {number}  # {j}\n".encode() * 30 for j in range(10)}


def _peak(folder: Path) -> tuple[int, dict[str, object]]:
    command = [sys.executable, "-c", _TRAMPOLINE, "-m", "reprobuild", "dedup", str(folder)]
    done = subprocess.run(
        [*command, "--format", "json"],
        capture_output=True,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    assert done.returncode == 1, done.stderr.decode()[-2000:]
    peak_kib = int(done.stderr.decode().strip().splitlines()[-1])
    document: dict[str, object] = json.loads(done.stdout)
    return peak_kib * 1024, document


def test_peak_memory_grows_by_a_small_constant_per_package(tmp_path: Path) -> None:
    few, few_doc = _peak(_wheels(tmp_path / "few", 50))
    many, many_doc = _peak(_wheels(tmp_path / "many", 400))
    assert len(many_doc["packages"]) == 400  # type: ignore[arg-type]
    assert len(many_doc["apart"]) == 100  # type: ignore[arg-type]
    assert few_doc["store"] != many_doc["store"]
    grown = max(many - few, 0)
    assert grown / 350 < PER_PACKAGE, f"{grown / 350:.0f} bytes more per package"
