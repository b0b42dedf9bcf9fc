"""What the benchmark scripts share: logging, reprobuild's command and version, the cache of
inputs, the machine's description, and writing one section of ``docs/benchmarks.md``.

The scripts run as ``python benchmarks/NAME.py``, so this folder is on ``sys.path`` and they
import it as ``_common``.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import platform
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "DOCS",
    "INTRO",
    "REPO",
    "apt_install",
    "cache_root",
    "compile_bytecode",
    "describe_machine",
    "human_size",
    "installed_reprobuild",
    "log",
    "pip_download",
    "recorded_command",
    "reprobuild_command",
    "reprobuild_version",
    "run_logged",
    "scrub",
    "source_revision",
    "today",
    "write_section",
]

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs" / "benchmarks.md"

INTRO = """\
# Benchmarks

Each section is written by a script in `benchmarks/`, which measures reprobuild side by side
with the tool it must beat, in the same run on the same machine. The command and the date are
given with each table; rerun the command to refresh a section.
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_logged(cmd: Sequence[str], *, env: dict[str, str] | None = None) -> None:
    """Run ``cmd`` with its output on stderr, so stdout keeps only the results."""
    log("$ " + shlex.join(cmd))
    subprocess.run(cmd, check=True, stdout=sys.stderr, stderr=sys.stderr, env=env)


def apt_install(packages: Sequence[str]) -> None:
    """Install Debian's ``packages`` (with sudo unless root)."""
    if not shutil.which("apt-get"):
        raise SystemExit(f"error: {', '.join(packages)} missing and there is no apt-get")
    prefix = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run_logged([*prefix, "apt-get", "update"], env=env)
    run_logged([*prefix, "apt-get", "install", "-y", "--no-install-recommends", *packages], env=env)


# --- reprobuild --------------------------------------------------------------------------------


def reprobuild_command() -> list[str]:
    """The installed console script beside this interpreter, else ``python -m reprobuild``.

    The script is looked up next to ``sys.executable`` rather than on PATH, so that a version
    manager's shim (a shell script that execs the real interpreter) is not timed with it.
    """
    script = Path(sysconfig.get_path("scripts")) / "reprobuild"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "reprobuild"]


def installed_reprobuild(cache: Path) -> list[str]:
    """reprobuild installed from this checkout into a virtual environment of its own.

    This is how a command-line tool is installed for use (``pipx install``, a venv): a regular,
    byte-compiled install whose start-up loads only its own dependencies' ``.pth`` files, not
    whatever the benchmark's interpreter has in its site-packages. The venv is kept in the cache
    folder; the checkout is reinstalled into it on every run, so the timings are of this source.
    """
    venv = cache / "reprobuild-venv"
    python = venv / "bin" / "python"
    if not python.is_file():
        run_logged([sys.executable, "-m", "venv", str(venv)])
    source_revision()  # the revision installed, before the checkout can move on
    run_logged([str(python), "-m", "pip", "install", "--quiet", str(REPO)])
    run_logged(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--force-reinstall",
            "--no-deps",
            str(REPO),
        ]
    )
    return [str(venv / "bin" / "reprobuild")]


def compile_bytecode() -> None:
    """Compile reprobuild's modules, as installing a wheel does.

    An editable install run with ``PYTHONDONTWRITEBYTECODE`` set would otherwise parse every
    module from source on each start, a cost no installed copy pays and the timings must not
    include.
    """
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("reprobuild")
    if spec is None or not spec.submodule_search_locations:
        return
    for location in spec.submodule_search_locations:
        compileall.compile_dir(location, quiet=1)


def reprobuild_version(cmd: Sequence[str]) -> str:
    out = subprocess.run([*cmd, "--version"], capture_output=True, text=True, check=False)
    words = (out.stdout or out.stderr).split()
    return words[-1] if out.returncode == 0 and words else "unknown"


@functools.cache
def source_revision() -> str:
    """The checkout's commit, when run from one, and whether src/ had changes not committed.

    Read once: :func:`installed_reprobuild` reads it as it installs, so that a commit made
    while a long benchmark runs does not name a revision the benchmark did not measure."""
    head = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    if head.returncode != 0:
        return ""
    status = subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain", "--", "src"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.splitlines()
    changed = any(not line.startswith("??") for line in status)
    untracked = any(line.startswith("??") for line in status)
    notes = [
        *(["uncommitted changes to src/"] if changed else []),
        *(["untracked files in src/"] if untracked else []),
    ]
    return f" at {head.stdout.strip()}" + (f" with {' and '.join(notes)}" if notes else "")


# --- inputs ------------------------------------------------------------------------------------


def cache_root(override: str | None) -> Path:
    """Where downloaded inputs are kept: ``override``, else the user's cache folder."""
    if override:
        return Path(override).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "reprobuild-bench"


def pip_download(dest: Path, pattern: str, args: Sequence[str]) -> Path:
    """Download into ``dest`` unless a file matching ``pattern`` is already there."""
    dest.mkdir(parents=True, exist_ok=True)
    hits = sorted(dest.glob(pattern))
    if not hits:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(dest), *args]
        try:
            run_logged(cmd)
        except subprocess.CalledProcessError:
            log("pip download failed; retrying once")
            time.sleep(2)
            run_logged(cmd)
        hits = sorted(dest.glob(pattern))
    if len(hits) != 1:
        raise SystemExit(f"error: expected one {pattern} in the cache, found {len(hits)}")
    return hits[0]


# --- report ------------------------------------------------------------------------------------


def human_size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def today() -> str:
    """Today's date in UTC, ``YYYY-MM-DD``."""
    return dt.datetime.now(dt.UTC).date().isoformat()


def describe_machine(*, load_average: bool = True) -> str:
    """Architecture, CPUs and system, and the load average now when asked and known."""
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}"
    if load_average and hasattr(os, "getloadavg"):
        machine += f", load average {os.getloadavg()[0]:.2f} at the start"
    return machine


def scrub(text: str) -> str:
    """Take this machine's paths out of ``text`` (error messages quote them)."""
    for path, name in (
        (str(REPO), "."),
        (tempfile.gettempdir(), "$TMPDIR"),
        (sys.prefix, "$PREFIX"),
        (str(Path.home()), "~"),
    ):
        text = text.replace(path + os.sep, name + "/").replace(path, name)
    return text


def write_section(path: Path, heading: str, section: str) -> None:
    """Replace the section under ``heading`` in ``path`` (or add it), keeping the others.

    A section runs from its heading line to the next ``## `` heading or the end of the file;
    ``section`` starts with its own heading.
    """
    text = path.read_text(encoding="utf-8") if path.exists() else INTRO
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == heading), None)
    if start is None:
        body = text.rstrip("\n") + "\n\n" + section
    else:
        end = next(
            (j for j in range(start + 1, len(lines)) if lines[j].startswith("## ")), len(lines)
        )
        tail = "".join(lines[end:])
        body = "".join(lines[:start]) + section + ("\n" + tail if tail else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body.rstrip("\n") + "\n", encoding="utf-8")


def recorded_command(script: str, argv: Sequence[str]) -> str:
    """``python benchmarks/SCRIPT`` with ``argv`` as typed, less ``--cache-dir`` (a path of
    this machine)."""
    kept: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--cache-dir":
            skip = True
            continue
        if arg.startswith("--cache-dir="):
            continue
        kept.append(arg)
    return shlex.join(["python", f"benchmarks/{script}", *kept])


def without_paths(argv: Sequence[str]) -> list[str]:
    """``argv`` with the value of ``--package-list`` (a path of this machine) said as ``PATH``."""
    kept: list[str] = []
    for arg in argv:
        if kept and kept[-1] == "--package-list":
            kept.append("PATH")
        elif arg.startswith("--package-list="):
            kept.append("--package-list=PATH")
        else:
            kept.append(arg)
    return kept
