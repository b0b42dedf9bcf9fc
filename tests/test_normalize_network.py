"""End to end: a real setuptools project built twice under different conditions normalizes to
the same bytes, and the normalized wheel installs with a RECORD that verifies.

The build backend comes from the package index (pip's configuration decides which), installed
once per session into a venv; the builds then run ``python -m build --no-isolation`` in that
venv, so no build reaches the network.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.network

SETUPTOOLS = "setuptools==80.9.0"
BUILD = "build==1.2.2.post1"
#: 2020-09-13T12:26:40Z, as a last commit's time would be: earlier than the sources' mtimes
#: (a checkout is made after the commit) and the build's clock, so clamping equalizes them.
EPOCH = 1_600_000_000

PYPROJECT = """\
[build-system]
requires = ["setuptools>=70.1"]
build-backend = "setuptools.build_meta"

[project]
name = "rb-demo"
version = "1.0"
description = "A small project built twice by reprobuild's tests"
requires-python = ">=3.8"

[tool.setuptools]
packages = ["rb_demo"]

[tool.setuptools.package-data]
rb_demo = ["data/*.txt"]
"""

SOURCES = {
    "pyproject.toml": PYPROJECT,
    "README.md": "# rb-demo\n",
    "rb_demo/__init__.py": (
        '"""rb-demo."""\n\nfrom rb_demo.core import greet\n\n__all__ = ["greet"]\n'
    ),
    "rb_demo/core.py": (
        "from importlib.resources import files\n\n\n"
        "def greet() -> str:\n"
        '    return (files("rb_demo") / "data" / "greeting.txt").read_text().strip()\n'
    ),
    "rb_demo/data/greeting.txt": "hello, reproducible world\n",
}


def run(
    cmd: Sequence[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        pytest.fail(
            f"{' '.join(cmd)} exited {proc.returncode}\n"
            f"--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-3000:]}"
        )
    return proc


def run_with_retry(cmd: Sequence[str]) -> None:
    """Run a command that reaches the index, once more after a transient failure."""
    first = run(cmd, check=False)
    if first.returncode == 0:
        return
    time.sleep(3)
    run(cmd)


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


@pytest.fixture(scope="session")
def backend_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with setuptools and build from the index, made once per session."""
    venv = tmp_path_factory.mktemp("backend") / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    python = venv_python(venv)
    run_with_retry(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            SETUPTOOLS,
            BUILD,
        ]
    )
    return python


@dataclass(frozen=True, slots=True, kw_only=True)
class Condition:
    """What differs between the two builds."""

    umask: int
    source_mtime: int


def write_project(root: Path, condition: Condition) -> None:
    """The project's files, with the modes a checkout under ``umask`` would give them."""
    for rel, text in SOURCES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for path in [root, *root.rglob("*")]:
        path.chmod((0o777 if path.is_dir() else 0o666) & ~condition.umask)
        os.utime(path, (condition.source_mtime, condition.source_mtime))


def build(python: Path, project: Path, outdir: Path, condition: Condition) -> tuple[Path, Path]:
    """``python -m build`` (sdist, then the wheel from it) under ``condition``'s umask."""
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    cmd = [
        "sh",
        "-c",
        f'umask {condition.umask:03o}; exec "$@"',
        "sh",
        str(python),
        "-m",
        "build",
        "--no-isolation",
        "--outdir",
        str(outdir),
        str(project),
    ]
    run(cmd, env=env)
    sdists = sorted(outdir.glob("*.tar.gz"))
    wheels = sorted(outdir.glob("*.whl"))
    assert len(sdists) == 1, sdists
    assert len(wheels) == 1, wheels
    return sdists[0], wheels[0]


def reprobuild(*args: str) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "reprobuild", *args], check=False)


def headers(path: Path) -> list[tuple[str, ...]]:
    """One line per member of a tar.gz or zip with the header fields normalize owns."""
    if path.suffix == ".whl" or path.name.endswith(".zip"):
        with zipfile.ZipFile(path) as z:
            return [
                (
                    i.filename,
                    str(i.date_time),
                    oct(i.external_attr >> 16),
                    str(i.compress_type),
                    i.extra.hex(),
                    str(i.CRC),
                )
                for i in z.infolist()
            ]
    with tarfile.open(path, "r:gz") as t:
        return [
            (
                m.name,
                str(m.mtime),
                oct(m.mode),
                f"{m.uid}:{m.gid}",
                f"{m.uname}:{m.gname}",
                str(m.size),
            )
            for m in t.getmembers()
        ]


def explain(a: Path, b: Path) -> str:
    """A short account of how two archives differ, for assertion messages."""
    ha, hb = headers(a), headers(b)
    lines = [f"{a.name}: {a.stat().st_size} vs {b.stat().st_size} bytes"]
    if a.read_bytes()[:10] != b.read_bytes()[:10]:
        lines.append(f"first 10 bytes {a.read_bytes()[:10].hex()} vs {b.read_bytes()[:10].hex()}")
    lines += [f"  a {x}\n  b {y}" for x, y in zip(ha, hb, strict=False) if x != y][:10]
    if len(ha) != len(hb):
        lines.append(f"{len(ha)} vs {len(hb)} members")
    return "\n".join(lines)


def record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def verify_record(rows: list[list[str]], read: dict[str, bytes]) -> list[str]:
    """Every hashed RECORD row against the bytes; returns the problems found."""
    problems = []
    for row in rows:
        if not row:
            continue
        name, digest, size = row[0], row[1], row[2]
        if not digest:
            continue
        if name not in read:
            problems.append(f"{name}: listed but missing")
            continue
        if record_hash(read[name]) != digest:
            problems.append(f"{name}: sha256 differs")
        if size and int(size) != len(read[name]):
            problems.append(f"{name}: size {len(read[name])}, RECORD says {size}")
    return problems


def test_two_builds_normalize_to_the_same_bytes(backend_python: Path, tmp_path: Path) -> None:
    control = Condition(umask=0o022, source_mtime=1_650_000_000)
    experiment = Condition(umask=0o077, source_mtime=1_690_000_000)

    started = time.monotonic()
    write_project(tmp_path / "a" / "rb-demo", control)
    sdist_a, wheel_a = build(
        backend_python, tmp_path / "a" / "rb-demo", tmp_path / "dist-a", control
    )
    # A different wall clock for the second build: at least two seconds later.
    time.sleep(max(0.0, 2.1 - (time.monotonic() - started)))
    write_project(tmp_path / "b" / "rb-demo", experiment)
    sdist_b, wheel_b = build(
        backend_python, tmp_path / "b" / "rb-demo", tmp_path / "dist-b", experiment
    )

    assert sdist_a.name == sdist_b.name
    assert wheel_a.name == wheel_b.name
    assert sdist_a.read_bytes() != sdist_b.read_bytes(), "the raw sdists should differ"
    assert wheel_a.read_bytes() != wheel_b.read_bytes(), "the raw wheels should differ"

    normalized = {}
    for side, files in (("a", (sdist_a, wheel_a)), ("b", (sdist_b, wheel_b))):
        out = tmp_path / f"norm-{side}"
        out.mkdir()
        copies = [Path(shutil.copy2(f, out / f.name)) for f in files]
        proc = reprobuild(
            "normalize", "--in-place", "--source-date-epoch", str(EPOCH), *map(str, copies)
        )
        assert proc.returncode == 0, f"normalize exited {proc.returncode}\n{proc.stderr}"
        normalized[side] = copies

    (norm_sdist_a, norm_wheel_a), (norm_sdist_b, norm_wheel_b) = normalized["a"], normalized["b"]
    assert norm_sdist_a.read_bytes() == norm_sdist_b.read_bytes(), explain(
        norm_sdist_a, norm_sdist_b
    )
    assert norm_wheel_a.read_bytes() == norm_wheel_b.read_bytes(), explain(
        norm_wheel_a, norm_wheel_b
    )

    # Normalized output is canonical: --check agrees, and says so in its JSON.
    check = reprobuild(
        "normalize",
        "--check",
        "--format",
        "json",
        "--source-date-epoch",
        str(EPOCH),
        str(norm_sdist_a),
        str(norm_wheel_a),
    )
    assert check.returncode == 0, check.stdout + check.stderr
    document = json.loads(check.stdout)
    assert document["schema_version"] == 1
    assert [f["canonical"] for f in document["files"]] == [True, True]
    assert [f["changed"] for f in document["files"]] == [False, False]

    # The normalized wheel's own RECORD still matches its members.
    with zipfile.ZipFile(norm_wheel_a) as z:
        members = {i.filename: z.read(i) for i in z.infolist() if not i.is_dir()}
    record_name = next(n for n in members if n.endswith(".dist-info/RECORD"))
    rows = list(csv.reader(io.StringIO(members[record_name].decode("utf-8"))))
    assert verify_record(rows, members) == []
    assert {r[0] for r in rows if r} == set(members)

    # It installs, and the installed RECORD verifies.
    target = tmp_path / "site"
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "--disable-pip-version-check",
            "--target",
            str(target),
            str(norm_wheel_a),
        ]
    )
    installed_records = list(target.glob("*.dist-info/RECORD"))
    assert len(installed_records) == 1, installed_records
    with installed_records[0].open(newline="", encoding="utf-8") as f:
        installed_rows = list(csv.reader(f))
    listed = {r[0]: (target / r[0]) for r in installed_rows if r and r[1]}
    on_disk = {name: path.read_bytes() for name, path in listed.items() if path.is_file()}
    assert verify_record(installed_rows, on_disk) == []
    assert "rb_demo/data/greeting.txt" in listed
    assert "rb_demo/core.py" in listed
    greeting = run(
        [sys.executable, "-c", "import rb_demo; print(rb_demo.greet())"],
        env={**os.environ, "PYTHONPATH": str(target)},
    )
    assert greeting.stdout.strip() == "hello, reproducible world"
