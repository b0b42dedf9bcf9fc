"""Benchmark ``reprobuild build`` against ``python -m build`` (pypa/build).

One command, from the repository root::

    python benchmarks/build.py

Both tools build the sdist and then the wheel from that sdist of the fixture projects in
``tests/fixtures/projects`` (one per build backend), each run as a whole process on a fresh copy
of the project in a temporary folder. Per project, after one untimed build by each tool (so
that pip's and uv's own download caches hold everything in every timed run):

- *cold*: ``python -m build``'s first timed run, and ``reprobuild build`` with an empty
  environment cache (a fresh ``REPROBUILD_CACHE_DIR``);
- *warm*: the best of N more runs of each, taking turns; reprobuild's environment cache is the
  one its cold run filled.

Every build's sdist and wheel are compared byte for byte with the tool's other builds of the
same project. The Markdown table goes to stdout and, under the ``## build`` heading, into
``docs/benchmarks.md`` (other sections of that file are left alone).

Progress and the commands run go to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import importlib.metadata
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from _common import (
    DOCS,
    REPO,
    compile_bytecode,
    describe_machine,
    log,
    recorded_command,
    reprobuild_command,
    reprobuild_version,
    scrub,
    source_revision,
    today,
    write_section,
)

HEADING = "## build"
FIXTURES = REPO / "tests" / "fixtures" / "projects"

#: Every fixture: one project per backend, and setuptools configured in ``pyproject.toml``, by a
#: ``setup.py`` alone, with a C extension, and with metadata that follows ``PYTHONHASHSEED``.
PROJECTS = (
    "hatch-demo",
    "flit-demo",
    "pdm-demo",
    "poetry-demo",
    "st-pyproject",
    "st-legacy",
    "st-cext",
    "hashseed",
)
RUNS = 3
TIMEOUT_SECONDS = 900.0
#: The goal: with a warm cache, reprobuild is no slower than ``python -m build``.
GOAL_RATIO = 1.0

#: What the time after each of reprobuild's progress lines is spent on, by the line's start;
#: a line that starts with none of these (a backend warning) does not start a new step.
STEP_OF = (
    ("copying ", "copy"),
    ("resolving ", "resolve"),
    ("creating environment ", "install"),
    ("installing ", "install"),
    ("reusing environment ", "get_requires"),
    ("environment ", "get_requires"),  # "environment KEY ready"
    ("building the sdist", "sdist"),
    ("calling build_sdist ", "sdist"),
    ("building the wheel", "wheel"),
    ("calling build_wheel ", "wheel"),
)
STEPS = {
    "start-up": "start-up",
    "copy": "copy the source",
    "resolve": "resolve (`uv pip compile`)",
    "install": "create environments",
    "get_requires": "`get_requires_for_build_*`",
    "sdist": "`build_sdist`, unpack it",
    "wheel": "`build_wheel`, normalize, write",
}


# --- running -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    """One whole-process build."""

    seconds: float
    exit_code: int
    timed_out: bool
    #: each line the process printed (stdout and stderr), with the seconds since it started
    lines: tuple[tuple[float, str], ...]
    #: the sdist and the wheel it wrote, by file name
    artifacts: Mapping[str, bytes]

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and len(self.artifacts) == 2

    def error(self, timeout: float) -> str:
        if self.timed_out:
            return f"timed out after {timeout:.0f} s"
        tail = " / ".join(text for _, text in self.lines[-5:])
        if self.exit_code == 0:
            return f"exit 0 but wrote {sorted(self.artifacts)}: {tail}"
        return f"exit {self.exit_code}: {tail}"


def run_build(
    cmd: Sequence[str], *, cwd: Path, env: Mapping[str, str], outdir: Path, timeout: float
) -> Run:
    """Run one build to completion, timing the whole process and each line it prints.

    stdout and stderr go to one pipe read here as the lines come; on a timeout the process
    group is killed.
    """
    log(f"$ (cd {cwd.name}) " + shlex.join(cmd))
    lines: list[tuple[float, str]] = []
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    expired = threading.Event()

    def kill() -> None:
        expired.set()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)

    timer = threading.Timer(timeout, kill)
    timer.start()
    try:
        assert proc.stdout is not None
        for raw in proc.stdout:
            lines.append((time.perf_counter() - start, raw.decode(errors="replace").rstrip()))
        proc.wait()
    finally:
        timer.cancel()
    elapsed = time.perf_counter() - start
    artifacts = (
        {p.name: p.read_bytes() for p in outdir.iterdir() if p.name.endswith((".tar.gz", ".whl"))}
        if outdir.is_dir()
        else {}
    )
    run = Run(
        seconds=elapsed,
        exit_code=proc.returncode,
        timed_out=expired.is_set(),
        lines=tuple(lines),
        artifacts=artifacts,
    )
    log(f"  {elapsed:.2f} s, exit {proc.returncode}")
    return run


def wait_for_other_builds() -> bool:
    """Wait while another reprobuild build on this machine holds the build lock.

    reprobuild builds one project at a time per machine (at a fixed path); a build started
    while another runs waits for it, and that wait is not the build's own time. Return whether
    there was a wait.
    """
    from reprobuild.build import BUILD_ROOT

    path = BUILD_ROOT / ".lock"
    if not path.exists():
        return False
    with path.open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log("  another reprobuild build holds the build lock: waiting for it")
            fcntl.flock(lock, fcntl.LOCK_EX)
            return True
    return False


@dataclass(slots=True, kw_only=True)
class Series:
    """One tool's builds of one project: the untimed one, the cold one, the warm ones."""

    prime: Run | None = None
    cold: Run | None = None
    warm: list[Run] = field(default_factory=list)
    error: str = ""
    waits: int = 0  #: builds that first waited for another reprobuild build to finish

    @property
    def best_warm(self) -> Run | None:
        good = [r for r in self.warm if r.ok]
        return min(good, key=lambda r: r.seconds) if good and not self.error else None

    @property
    def cold_seconds(self) -> float | None:
        return self.cold.seconds if self.cold is not None and self.cold.ok else None

    @property
    def warm_seconds(self) -> float | None:
        best = self.best_warm
        return None if best is None else best.seconds

    def all_runs(self) -> list[Run]:
        return [r for r in (self.prime, self.cold, *self.warm) if r is not None and r.ok]


@dataclass(frozen=True, slots=True, kw_only=True)
class Tools:
    reprobuild: tuple[str, ...]
    env: Mapping[str, str]  #: both tools' environment (no SOURCE_DATE_EPOCH)
    work: Path
    prime_cache: Path  #: reprobuild's environment cache for the untimed builds
    runs: int
    timeout: float


def backend_of(project: Path) -> str:
    """The project's build backend, as its ``pyproject.toml`` names it."""
    pyproject = project / "pyproject.toml"
    if not pyproject.is_file():
        return "setuptools, setup.py only"
    system = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("build-system", {})
    backend = system.get("build-backend")
    return str(backend) if backend else "setuptools, no build-backend"


def bench_project(name: str, tools: Tools) -> tuple[Series, Series]:
    """``python -m build`` and reprobuild on one project: untimed, cold, then warm by turns."""
    source = FIXTURES / name
    pmb, repro = Series(), Series()
    cache = tools.work / "caches" / name  #: reprobuild's, empty before its cold run
    counter = iter(range(1_000_000))

    def fresh() -> tuple[Path, Path]:
        """A fresh copy of the project (never build in the fixtures) and an output folder."""
        slot = tools.work / "runs" / f"{name}.{next(counter)}"
        slot.mkdir(parents=True)
        copy = slot / name
        shutil.copytree(source, copy)
        return copy, slot / "out"

    def python_m_build() -> Run:
        copy, out = fresh()
        cmd = [sys.executable, "-m", "build", "--outdir", str(out), str(copy)]
        return run_build(cmd, cwd=copy.parent, env=tools.env, outdir=out, timeout=tools.timeout)

    def reprobuild(cache_dir: Path) -> Run:
        copy, out = fresh()
        repro.waits += wait_for_other_builds()
        cmd = [*tools.reprobuild, "build", str(copy), "-o", str(out)]
        env = {**tools.env, "REPROBUILD_CACHE_DIR": str(cache_dir)}
        return run_build(cmd, cwd=copy.parent, env=env, outdir=out, timeout=tools.timeout)

    log(f"{name}: one untimed build by each tool")
    pmb.prime = python_m_build()
    repro.prime = reprobuild(tools.prime_cache)
    for run in (pmb.prime, repro.prime):
        if not run.ok:
            log(f"  the untimed build failed: {run.error(tools.timeout)}")
    log(f"{name}: cold")
    pmb.cold = python_m_build()
    repro.cold = reprobuild(cache)
    for series in (pmb, repro):
        if series.cold is not None and not series.cold.ok:
            series.error = series.cold.error(tools.timeout)
    for i in range(tools.runs):
        log(f"{name}: warm, run {i + 1} of {tools.runs}")
        for series, build in ((pmb, python_m_build), (repro, lambda: reprobuild(cache))):
            if series.error:
                continue
            run = build()
            series.warm.append(run)
            if not run.ok:
                series.error = run.error(tools.timeout)
    # the runs keep what they wrote; the copies can go
    shutil.rmtree(tools.work / "runs", ignore_errors=True)
    return pmb, repro


# --- results -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    project: str
    backend: str
    pmb: Series
    reprobuild: Series

    def ratio(self, which: Literal["cold", "warm"]) -> float | None:
        if which == "cold":
            a, b = self.pmb.cold_seconds, self.reprobuild.cold_seconds
        else:
            a, b = self.pmb.warm_seconds, self.reprobuild.warm_seconds
        return a / b if a is not None and b else None


def identical(series: Series) -> str:
    """Whether every build of the series wrote the same sdist and wheel, byte for byte."""
    runs = series.all_runs()
    if len(runs) < 2:
        return "n/a"
    first = runs[0].artifacts
    differ = sorted(
        {
            "wheel" if name.endswith(".whl") else "sdist"
            for run in runs[1:]
            for name in set(first) | set(run.artifacts)
            if first.get(name) != run.artifacts.get(name)
        }
    )
    if not differ:
        return f"yes ({len(runs)} builds)"
    what = "the sdist and the wheel differ" if len(differ) == 2 else f"the {differ[0]} differs"
    return f"no: {what} ({len(runs)} builds)"


def steps(run: Run) -> dict[str, float]:
    """Seconds of a reprobuild run by step, from the times its progress lines came."""
    spent = dict.fromkeys(STEPS, 0.0)
    current, since = "start-up", 0.0
    for at, text in run.lines:
        message = text.removeprefix("reprobuild: ") if text.startswith("reprobuild: ") else None
        if message is None:
            continue
        step = next((s for prefix, s in STEP_OF if message.startswith(prefix)), None)
        if step is None:
            continue
        spent[current] += at - since
        current, since = step, at
    spent[current] += run.seconds - since
    return spent


def count_resolves(run: Run) -> int:
    return sum(text.startswith("reprobuild: resolving ") for _, text in run.lines)


def seconds(value: float | None) -> str:
    return "error" if value is None else f"{value:.2f} s"


def times(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def render_table(rows: Sequence[Row], runs: int) -> str:
    lines = [
        "| project (backend) | python -m build cold | python -m build warm (best of "
        f"{runs}) | reprobuild cold | reprobuild warm (best of {runs}) "
        "| ratio cold (python -m build / reprobuild) | ratio warm (python -m build / reprobuild) "
        "| reprobuild's builds identical "
        "| python -m build's builds identical |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.project} (`{r.backend}`) "
            f"| {seconds(r.pmb.cold_seconds)} | {seconds(r.pmb.warm_seconds)} "
            f"| {seconds(r.reprobuild.cold_seconds)} | {seconds(r.reprobuild.warm_seconds)} "
            f"| {times(r.ratio('cold'))} | {times(r.ratio('warm'))} "
            f"| {identical(r.reprobuild)} | {identical(r.pmb)} |"
        )
    return "\n".join(lines)


def render_steps(rows: Sequence[Row]) -> str:
    lines = [
        "| project | " + " | ".join(STEPS.values()) + " | whole process |",
        "|---|" + "---:|" * (len(STEPS) + 1),
    ]
    for r in rows:
        cold, warm = r.reprobuild.cold, r.reprobuild.best_warm
        if cold is None or warm is None or not cold.ok:
            continue
        a, b = steps(cold), steps(warm)
        cells = []
        for key in STEPS:
            cell = f"{a[key]:.2f} / {b[key]:.2f}"
            if key == "resolve":
                cell += f" ({count_resolves(warm)} times)"
            cells.append(cell)
        lines.append(
            f"| {r.project} | "
            + " | ".join(cells)
            + f" | {cold.seconds:.2f} / {warm.seconds:.2f} |"
        )
    return "\n".join(lines)


def render_goal(rows: Sequence[Row]) -> str:
    measured = [(r.project, r.ratio("warm")) for r in rows]
    failed = [p for p, v in measured if v is None]
    slower = [f"{p} ({v:.2f}x)" for p, v in measured if v is not None and v < GOAL_RATIO]
    goal = "with a warm cache, no slower than `python -m build`"
    if failed:
        verdict = f"**not measured** on {', '.join(failed)} (a build failed)"
    elif slower:
        verdict = f"**not met**: slower on {', '.join(slower)}"
    else:
        low = min(v for _, v in measured if v is not None)
        verdict = f"met on all {len(rows)} projects (the smallest ratio is {low:.2f}x)"
    return f"Goal — {goal}: {verdict}."


def render_notes(rows: Sequence[Row], timeout: float) -> str:
    notes: list[str] = []
    for r in rows:
        for who, series in (("python -m build", r.pmb), ("reprobuild", r.reprobuild)):
            if series.error:
                notes.append(f"- {r.project}: **{who} failed**: {series.error}")
            if series.waits:
                notes.append(
                    f"- {r.project}: before {series.waits} of its builds, {who} waited for "
                    "another reprobuild build on this machine to finish (not timed)."
                )
            if series.prime is not None and not series.prime.ok:
                notes.append(
                    f"- {r.project}: {who}'s untimed build failed: {series.prime.error(timeout)}"
                )
    return "\n".join(notes)


def isolation_of(rows: Sequence[Row]) -> str:
    """How ``python -m build`` said it made its environments (``venv+pip``, …)."""
    found: set[str] = set()
    marker = "* Creating isolated environment: "
    for r in rows:
        for run in r.pmb.all_runs():
            found |= {t.removeprefix(marker).rstrip(".") for _, t in run.lines if marker in t}
    return ", ".join(sorted(found)) or "unknown"


def render_startup(startup: Mapping[str, float | None]) -> str:
    return "\n".join(
        f"- `{cmd}`: {'failed' if t is None else f'{t * 1000:.0f} ms'}"
        for cmd, t in startup.items()
    )


def render_section(
    rows: Sequence[Row],
    *,
    command: str,
    runs: int,
    timeout: float,
    versions: Mapping[str, str],
    machine: str,
    startup: Mapping[str, float | None],
) -> str:
    versions_text = ", ".join(f"{k} {v}" for k, v in versions.items())
    notes = render_notes(rows, timeout)
    return f"""{HEADING}

`reprobuild build PROJECT -o OUT` against `python -m build --outdir OUT PROJECT` (pypa/build),
on the fixture projects of `tests/fixtures/projects`. Both build the sdist, then the wheel from
that sdist. Every build runs as a whole process, timed from start to exit, on a fresh copy of
the project in a folder of its own, with the same environment (no `SOURCE_DATE_EPOCH`).

- *Cold*: reprobuild with an empty environment cache (a fresh `REPROBUILD_CACHE_DIR`);
  `python -m build`'s first timed run — it has no environment cache: each run creates fresh
  isolated environments ({isolation_of(rows)}), one for the sdist and one for the wheel.
- *Warm*: reprobuild with its environment cache filled by the cold build of the same project,
  best of {runs} runs; `python -m build`, best of {runs} more runs. The two tools take turns.
- pip's own download and wheel caches, and uv's cache, are warm in both cases: each project is
  built once by each tool, untimed, before the cold runs (reprobuild into another environment
  cache).
- *Ratio* is `python -m build`'s time over reprobuild's: above 1, reprobuild is faster.
- *Identical*: every build of that tool of that project (the untimed, the cold and the warm
  ones) wrote the same sdist and wheel, byte for byte.

Command: `{command}` — run on {today()} ({machine}; {versions_text}).

{render_table(rows, runs)}

{render_goal(rows)}
{chr(10) + notes + chr(10) if notes else ""}
Where reprobuild's time goes, cold / warm (the best warm run), in seconds, from the times its
progress lines were printed; "resolve" runs once or more for the sdist's environment and once
or more for the wheel's, on every build, cold or warm:

{render_steps(rows)}

Start-up alone (a process that does no work), best of {runs}:

{render_startup(startup)}
"""


# --- main --------------------------------------------------------------------------------------


def time_startups(cmds: Mapping[str, Sequence[str]], runs: int) -> dict[str, float | None]:
    """Best wall time of commands that do no work, taking turns."""
    best: dict[str, float | None] = dict.fromkeys(cmds)
    for _ in range(runs):
        for label, cmd in cmds.items():
            start = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, check=False)
            elapsed = time.perf_counter() - start
            previous = best[label]
            if proc.returncode == 0 and (previous is None or elapsed < previous):
                best[label] = elapsed
    return best


def versions_of(reprobuild: Sequence[str]) -> dict[str, str]:
    from reprobuild.frontend.installers import find_uv

    def dist(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    uv = find_uv()
    uv_version = "not found"
    if uv is not None:
        out = subprocess.run([uv, "--version"], capture_output=True, text=True, check=False)
        words = out.stdout.split()
        uv_version = words[1] if len(words) > 1 else "unknown"
    return {
        "Python": platform.python_version(),
        "reprobuild": reprobuild_version(reprobuild) + source_revision(),
        "build": dist("build"),
        "pip": dist("pip"),
        "uv": uv_version,
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=RUNS, help="warm runs per tool (best is kept)")
    parser.add_argument(
        "--project",
        action="append",
        choices=sorted(p.name for p in FIXTURES.iterdir() if p.is_dir()),
        help=f"a fixture project to build; repeat for more (default: {', '.join(PROJECTS)})",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=TIMEOUT_SECONDS,
        help="seconds one build may take before it is killed and reported as a timeout",
    )
    parser.add_argument(
        "--no-docs", action="store_true", help="print the table only; leave docs/ alone"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    runs: int = args.runs
    timeout: float = args.timeout
    projects: list[str] = args.project or list(PROJECTS)
    machine = describe_machine()
    reprobuild = reprobuild_command()
    compile_bytecode()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SOURCE_DATE_EPOCH", "REPROBUILD_CACHE_DIR")
    }
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="reprobuild-bench-") as tmp:
        tools = Tools(
            reprobuild=tuple(reprobuild),
            env=env,
            work=Path(tmp),
            prime_cache=Path(tmp) / "caches" / "untimed",
            runs=runs,
            timeout=timeout,
        )
        for name in projects:
            pmb, repro = bench_project(name, tools)
            rows.append(
                Row(project=name, backend=backend_of(FIXTURES / name), pmb=pmb, reprobuild=repro)
            )
    if hasattr(os, "getloadavg"):
        machine += f", {os.getloadavg()[0]:.2f} at the end"
    startup = time_startups(
        {
            "python -c pass": [sys.executable, "-c", "pass"],
            "reprobuild --version": [*reprobuild, "--version"],
            "python -m build --version": [sys.executable, "-m", "build", "--version"],
        },
        runs,
    )
    command = recorded_command("build.py", sys.argv[1:] if argv is None else argv)
    section = scrub(
        render_section(
            rows,
            command=command,
            runs=runs,
            timeout=timeout,
            versions=versions_of(reprobuild),
            machine=machine,
            startup=startup,
        )
    )
    print(section)
    if not args.no_docs:
        write_section(DOCS, HEADING, section)
        log(f"wrote the {HEADING!r} section of {DOCS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
