"""End to end: ``reprobuild diff`` on two real releases, IPython 7.16.1 and 7.17.0.

The four files (wheel and sdist of each version) come from the package index (pip's
configuration decides which), downloaded once per test session. Between the two releases a
handful of modules changed, the version moved in the metadata, and the sdist's top folder was
renamed with the version; the diff must say so with the right categories.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.network

OLD, NEW = "7.16.1", "7.17.0"

#: Modules whose source changed between the two releases, and one that did not.
CHANGED_MODULES = (
    "IPython/core/release.py",
    "IPython/core/interactiveshell.py",
    "IPython/core/debugger.py",
    "IPython/terminal/debugger.py",
)
UNCHANGED_MODULE = "IPython/core/alias.py"

Node = dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class Release:
    wheel: Path
    sdist: Path


def download_commands(dest: Path) -> list[list[str]]:
    """``pip download`` of each version's wheel and sdist, without dependencies."""
    pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check"]
    commands = []
    for version in (OLD, NEW):
        spec = f"ipython=={version}"
        commands.append([*pip, "-d", str(dest / "wheel"), "--only-binary", ":all:", spec])
        commands.append([*pip, "-d", str(dest / "sdist"), "--no-binary", ":all:", spec])
    return commands


def run_all(commands: Sequence[Sequence[str]]) -> list[tuple[Sequence[str], int, str]]:
    """Run the commands side by side; each one's exit code and the tail of its output."""
    procs = [
        (cmd, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
        for cmd in commands
    ]
    results = []
    for cmd, proc in procs:
        out, _ = proc.communicate()
        results.append((cmd, proc.returncode, out[-3000:]))
    return results


@pytest.fixture(scope="session")
def releases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Release]:
    """Both releases' wheel and sdist, downloaded once per session (once more on a failure)."""
    dest = tmp_path_factory.mktemp("ipython")
    pending: Sequence[Sequence[str]] = download_commands(dest)
    for attempt in range(2):
        failed = [(cmd, out) for cmd, code, out in run_all(pending) if code != 0]
        if not failed:
            break
        if attempt == 1:
            cmd, out = failed[0]
            pytest.fail(f"{' '.join(cmd)} failed twice:\n{out}")
        pending = [cmd for cmd, _ in failed]
        time.sleep(3)
    found = {}
    for version in (OLD, NEW):
        wheel = dest / "wheel" / f"ipython-{version}-py3-none-any.whl"
        sdist = dest / "sdist" / f"ipython-{version}.tar.gz"
        assert wheel.is_file(), sorted(p.name for p in (dest / "wheel").iterdir())
        assert sdist.is_file(), sorted(p.name for p in (dest / "sdist").iterdir())
        found[version] = Release(wheel=wheel, sdist=sdist)
    return found


def diff(a: Path, b: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reprobuild", "diff", str(a), str(b), *options],
        capture_output=True,
        text=True,
        check=False,
    )


def diff_json(a: Path, b: Path) -> Node:
    """The JSON document of ``reprobuild diff A B``, which must exit 1 (different)."""
    proc = diff(a, b, "--format", "json")
    assert proc.returncode == 1, f"exit {proc.returncode}\n{proc.stderr[-3000:]}"
    document: Node = json.loads(proc.stdout)
    assert document["schema_version"] == 1
    assert document["tool"]["name"] == "reprobuild"
    assert document["different"] is True
    return document


def walk(node: Node) -> Iterator[Node]:
    yield node
    for child in node["children"]:
        yield from walk(child)


def text_of(node: Node) -> str:
    return f"{node['comment'] or ''}\n{node['unified_diff'] or ''}"


def categories_at(nodes: Sequence[Node], source_a: str, source_b: str) -> set[str]:
    """Categories of the differences found at one member (not at its fields: `` › mtime``)."""
    return {
        n["category"]
        for n in nodes
        if n["source_a"] == source_a and n["source_b"] == source_b and n["category"]
    }


def field_leaf(nodes: Sequence[Node], source_a: str, source_b: str) -> Node:
    hits = [n for n in nodes if n["source_a"] == source_a and n["source_b"] == source_b]
    assert len(hits) == 1, (source_a, hits)
    return hits[0]


def test_wheels(releases: dict[str, Release]) -> None:
    document = diff_json(releases[OLD].wheel, releases[NEW].wheel)
    nodes = list(walk(document["difference"]))

    for module in CHANGED_MODULES:
        assert "content" in categories_at(nodes, module, module), module
    assert categories_at(nodes, UNCHANGED_MODULE, UNCHANGED_MODULE) == set()
    assert {n["category"] for n in nodes if n["source_a"].startswith(UNCHANGED_MODULE)} <= {
        None,
        "timestamp",
    }

    # The version bump, found in METADATA's Version field across the renamed dist-info folder.
    version = field_leaf(
        nodes,
        f"ipython-{OLD}.dist-info/METADATA › Version",
        f"ipython-{NEW}.dist-info/METADATA › Version",
    )
    assert version["category"] == "content"
    assert version["children"] == []
    assert OLD in text_of(version)
    assert NEW in text_of(version)

    # Members are matched across the renamed folder: nothing is reported missing or added.
    assert not [n for n in nodes if n["category"] in ("missing", "added")]
    counts = document["summary"]["counts"]
    assert counts["content"] >= len(CHANGED_MODULES) + 1
    assert counts["missing"] == counts["added"] == 0


def test_sdists(releases: dict[str, Release]) -> None:
    document = diff_json(releases[OLD].sdist, releases[NEW].sdist)
    nodes = list(walk(document["difference"]))
    old_top, new_top = f"ipython-{OLD}/", f"ipython-{NEW}/"

    # The top folder's rename is reported once, and the members are matched across it.
    renames = [
        n
        for n in nodes
        if n["source_a"] == old_top and n["source_b"] == new_top and n["category"] is not None
    ]
    assert len(renames) == 1, renames
    for module in CHANGED_MODULES:
        assert "content" in categories_at(nodes, old_top + module, new_top + module), module
    unchanged = old_top + UNCHANGED_MODULE
    assert {n["category"] for n in nodes if n["source_a"].startswith(unchanged)} <= {
        None,
        "timestamp",
    }

    version = field_leaf(nodes, f"{old_top}PKG-INFO › Version", f"{new_top}PKG-INFO › Version")
    assert version["category"] == "content"
    assert OLD in text_of(version)
    assert NEW in text_of(version)

    # 7.17.0's sdist carries one file more (a backup of release.py); 7.16.1's nothing of its own.
    added = [n["source_b"] for n in nodes if n["category"] == "added"]
    assert added == [f"{new_top}IPython/core/release.pybkp"]
    assert not [n for n in nodes if n["category"] == "missing"]


def test_a_file_against_itself(releases: dict[str, Release]) -> None:
    for path in (releases[NEW].wheel, releases[NEW].sdist):
        proc = diff(path, path, "--format", "json")
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert json.loads(proc.stdout)["different"] is False
