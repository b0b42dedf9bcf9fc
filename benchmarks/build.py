"""Benchmark ``reprobuild build``: the sandbox's cost, and ``python -m build --installer uv``.

One command, from the repository root::

    python benchmarks/build.py

Every tool builds the sdist and then the wheel from that sdist of the fixture projects in
``tests/fixtures/projects`` (one per build backend), each run as a whole process on a fresh copy
of the project in a temporary folder, with the same environment (no ``SOURCE_DATE_EPOCH``).
Three *sides* are timed per project:

- ``reprobuild build --no-cache`` (every build a build) with its default sandbox
  (``--sandbox auto``: bubblewrap here, else Landlock);
- ``reprobuild build --sandbox none``, the same build with no sandbox;
- the peer, ``python -m build --installer uv`` (pypa/build making its isolated environments
  with uv, as users who care about speed run it); with ``--with-pip``, also plain
  ``python -m build`` (pip) as a fourth side.

Per project: one untimed build by the peer and by reprobuild (so that uv's and pip's own
download caches hold everything), then reprobuild's *cold* build (an empty environment cache, a
fresh ``REPROBUILD_CACHE_DIR``), then N *rounds*: in each round every side builds once, the
two reprobuild sides one right after the other (which goes first, and whether the peer builds
before or after them, turn over from round to round). Both reprobuild sides use the
environment cache the cold build filled, so they run in the same cache state; every side has
the same N runs. The median and the minimum of each side's N runs are reported, and the
sandbox's cost: the median of the N paired differences (each round's sandboxed build minus the
unsandboxed one next to it), in milliseconds and in per cent of the unsandboxed median, with a
distribution-free confidence interval; and the differences of the two sides' medians and
minimums. The goal is a paired median under 5 % or under 100 ms.

Checks: every sdist is a gzip'd tar with a ``PKG-INFO`` and every wheel a zip with a
``.dist-info`` ``WHEEL`` and ``RECORD`` whose members read back (CRC); each side's builds are
compared byte for byte with its other builds; and all of reprobuild's builds of a project,
sandboxed or not, must be the same bytes. reprobuild's last lines must say which sandbox each
side ran in.

Then, apart from the builds, one process start through :func:`reprobuild.frontend.sandbox.
run_sandboxed` (``python -c pass`` and ``true``) is timed in the sandbox and without it, N
times each by turns: a build calls its backend about four times (``get_requires_for_build_sdist``,
``build_sdist``, ``get_requires_for_build_wheel``, ``build_wheel``), each in a sandbox of its own.

The Markdown goes to stdout and, under the ``## build`` heading, into ``docs/benchmarks.md``
(other sections of that file are left alone). Progress and the commands run go to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import importlib.metadata
import io
import math
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import tomllib
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

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
RUNS = 5
TIMEOUT_SECONDS = 900.0
#: The sandbox's goal: it costs under 5 % or under 100 ms per build.
GOAL_PERCENT = 5.0
GOAL_MS = 100.0

#: The sides, by key: what the table calls them.
SANDBOXED, UNSANDBOXED, PEER_UV, PEER_PIP = "sandboxed", "none", "uv", "pip"
LABELS = {
    SANDBOXED: "reprobuild (sandbox)",
    UNSANDBOXED: "reprobuild --sandbox none",
    PEER_UV: "python -m build --installer uv",
    PEER_PIP: "python -m build (pip)",
}

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
        return (
            self.exit_code == 0
            and not self.timed_out
            and len(self.artifacts) == 2
            and not artifact_problems(self.artifacts)
        )

    def error(self, timeout: float) -> str:
        if self.timed_out:
            return f"timed out after {timeout:.0f} s"
        tail = " / ".join(text for _, text in self.lines[-5:])
        if self.exit_code == 0:
            problems = artifact_problems(self.artifacts)
            if len(self.artifacts) == 2 and problems:
                return "exit 0 but " + "; ".join(problems)
            return f"exit 0 but wrote {sorted(self.artifacts)}: {tail}"
        return f"exit {self.exit_code}: {tail}"

    def sandbox_line(self) -> str:
        """What reprobuild's last lines say of the sandbox the build ran in ("" if nothing)."""
        return next((t for _, t in reversed(self.lines) if t.startswith("sandbox: ")), "")


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
    """One side's builds of one project: the untimed one, the cold one, the timed ones."""

    side: str
    prime: Run | None = None
    cold: Run | None = None
    runs: list[Run] = field(default_factory=list)
    error: str = ""
    waits: int = 0  #: builds that first waited for another reprobuild build to finish

    @property
    def seconds(self) -> list[float]:
        """The timed runs' seconds; none when any run failed (no partial statistics)."""
        if self.error or not self.runs:
            return []
        return [r.seconds for r in self.runs]

    @property
    def stats(self) -> Stats | None:
        return summarize(self.seconds)

    def all_runs(self) -> list[Run]:
        return [r for r in (self.prime, self.cold, *self.runs) if r is not None and r.ok]


@dataclass(frozen=True, slots=True, kw_only=True)
class Tools:
    reprobuild: tuple[str, ...]
    env: Mapping[str, str]  #: every side's environment (no SOURCE_DATE_EPOCH)
    work: Path
    prime_cache: Path  #: reprobuild's environment cache for the untimed builds
    runs: int
    timeout: float
    sides: tuple[str, ...]  #: the timed sides, in the first round's order


def backend_of(project: Path) -> str:
    """The project's build backend, as its ``pyproject.toml`` names it."""
    pyproject = project / "pyproject.toml"
    if not pyproject.is_file():
        return "setuptools, setup.py only"
    system = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("build-system", {})
    backend = system.get("build-backend")
    return str(backend) if backend else "setuptools, no build-backend"


def round_order(sides: Sequence[str], i: int) -> list[str]:
    """The order of round ``i``: the two reprobuild sides next to each other, so that each
    round's pair sees the same machine and the same index; which of the two goes first, and
    whether the peers come before or after them, turn over from round to round (a 4-round
    cycle), so that neither side always runs first or always follows the peer."""
    pair = [s for s in (SANDBOXED, UNSANDBOXED) if s in sides]
    peers = [s for s in sides if s not in pair]
    if i % 4 in (2, 3):
        pair.reverse()
    return [*peers, *pair] if i % 2 == 0 else [*pair, *peers]


def bench_project(name: str, tools: Tools) -> dict[str, Series]:
    """Every side on one project: untimed, reprobuild's cold build, then the rounds."""
    source = FIXTURES / name
    series = {side: Series(side=side) for side in tools.sides}
    cache = tools.work / "caches" / name  #: reprobuild's, empty before its cold run
    counter = iter(range(1_000_000))

    def fresh() -> tuple[Path, Path]:
        """A fresh copy of the project (never build in the fixtures) and an output folder."""
        slot = tools.work / "runs" / f"{name}.{next(counter)}"
        slot.mkdir(parents=True)
        copy = slot / name
        shutil.copytree(source, copy)
        return copy, slot / "out"

    def python_m_build(installer: str) -> Run:
        copy, out = fresh()
        cmd = [sys.executable, "-m", "build", "--installer", installer, "--outdir", str(out)]
        cmd.append(str(copy))
        return run_build(cmd, cwd=copy.parent, env=tools.env, outdir=out, timeout=tools.timeout)

    def reprobuild(cache_dir: Path, sandbox: str) -> Run:
        copy, out = fresh()
        series[sandbox].waits += wait_for_other_builds()
        # --no-cache: every build is a build (a cache hit would time nothing)
        cmd = [*tools.reprobuild, "build", str(copy), "-o", str(out), "--no-cache"]
        if sandbox == UNSANDBOXED:
            cmd += ["--sandbox", "none"]
        env = {**tools.env, "REPROBUILD_CACHE_DIR": str(cache_dir)}
        return run_build(cmd, cwd=copy.parent, env=env, outdir=out, timeout=tools.timeout)

    build: dict[str, Callable[[], Run]] = {
        SANDBOXED: lambda: reprobuild(cache, SANDBOXED),
        UNSANDBOXED: lambda: reprobuild(cache, UNSANDBOXED),
        PEER_UV: lambda: python_m_build("uv"),
        PEER_PIP: lambda: python_m_build("pip"),
    }

    log(f"{name}: one untimed build by each tool")
    for side in tools.sides:
        if side == UNSANDBOXED:
            continue  # the same downloads as the sandboxed side's
        # reprobuild's untimed build fills an environment cache of its own, not the cold one's
        run = reprobuild(tools.prime_cache, SANDBOXED) if side == SANDBOXED else build[side]()
        series[side].prime = run
        if not run.ok:
            log(f"  the untimed build failed: {run.error(tools.timeout)}")
    log(f"{name}: reprobuild cold")
    cold = series[SANDBOXED].cold = build[SANDBOXED]()
    if not cold.ok:
        series[SANDBOXED].error = cold.error(tools.timeout)
        series[UNSANDBOXED].error = "not run: the cold build failed"
    for i in range(tools.runs):
        order = round_order(tools.sides, i)
        log(f"{name}: round {i + 1} of {tools.runs}: {', '.join(order)}")
        for side in order:
            if series[side].error:
                continue
            run = build[side]()
            series[side].runs.append(run)
            if not run.ok:
                series[side].error = run.error(tools.timeout)
    # the runs keep what they wrote; the copies can go
    shutil.rmtree(tools.work / "runs", ignore_errors=True)
    return series


# --- checks and statistics ---------------------------------------------------------------------


def artifact_problems(artifacts: Mapping[str, bytes]) -> list[str]:
    """What is wrong with a build's sdist and wheel, by name; empty when both are sound.

    An sdist must be a gzip'd tar holding ``NAME-VERSION/PKG-INFO``; a wheel a zip whose
    members all read back (CRC) and that holds a ``.dist-info/WHEEL`` and ``.dist-info/RECORD``.
    """
    problems: list[str] = []
    kinds = sorted("wheel" if n.endswith(".whl") else "sdist" for n in artifacts)
    if kinds != ["sdist", "wheel"]:
        problems.append(
            f"wrote {', '.join(sorted(artifacts)) or 'nothing'}, not an sdist and a wheel"
        )
    for name, data in sorted(artifacts.items()):
        if name.endswith(".whl"):
            try:
                with zipfile.ZipFile(io.BytesIO(data)) as whl:
                    bad = whl.testzip()
                    names = whl.namelist()
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                problems.append(f"{name} is not a zip: {exc}")
                continue
            if bad is not None:
                problems.append(f"{name}: {bad} does not read back")
            for needed in ("WHEEL", "RECORD"):
                if not any(n.count("/") == 1 and n.endswith(".dist-info/" + needed) for n in names):
                    problems.append(f"{name} has no .dist-info/{needed}")
        else:
            try:
                with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as sdist:
                    names = sdist.getnames()
            except (tarfile.TarError, OSError, EOFError) as exc:
                problems.append(f"{name} is not a gzip'd tar: {exc}")
                continue
            if not any(n.count("/") == 1 and n.endswith("/PKG-INFO") for n in names):
                problems.append(f"{name} has no top-level PKG-INFO")
    return problems


def identical(runs: Sequence[Run]) -> str:
    """Whether every one of ``runs`` wrote the same sdist and wheel, byte for byte."""
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
    return f"**no**: {what} ({len(runs)} builds)"


@dataclass(frozen=True, slots=True, kw_only=True)
class Stats:
    median: float
    minimum: float
    count: int


def summarize(values: Sequence[float]) -> Stats | None:
    if not values:
        return None
    return Stats(median=statistics.median(values), minimum=min(values), count=len(values))


@dataclass(frozen=True, slots=True, kw_only=True)
class Cost:
    """What the sandbox adds to a build, in milliseconds and in per cent of the unsandboxed
    median: the median of the rounds' paired differences (each round's sandboxed build minus
    the unsandboxed build next to it), with a distribution-free confidence interval of that
    median; and, for reference, the difference of the two sides' medians and of their
    minimums."""

    paired_ms: float
    paired_percent: float
    low_ms: float  #: the confidence interval of the paired median
    high_ms: float
    confidence: float  #: its coverage (0.96 for 9 rounds)
    median_ms: float
    median_percent: float
    min_ms: float
    min_percent: float

    @property
    def meets_goal(self) -> bool:
        """The paired median under 5 % or under 100 ms."""
        return self.paired_ms < GOAL_MS or self.paired_percent < GOAL_PERCENT


def median_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """A distribution-free confidence interval of the median of ``values``: the k-th smallest
    and the k-th largest, for the largest k whose coverage (from the binomial distribution with
    p = 1/2) is at least ``level``, or the whole range when no k reaches it; and the coverage."""
    ordered = sorted(values)
    n = len(ordered)
    total: int = 2**n

    def coverage(k: int) -> float:  # P(k-th smallest <= median <= k-th largest)
        return 1 - 2 * sum(math.comb(n, j) for j in range(k)) / total

    k = 1
    while k + 1 <= n // 2 and coverage(k + 1) >= level:
        k += 1
    return ordered[k - 1], ordered[n - k], coverage(k)


def sandbox_cost(sandboxed: Sequence[float], unsandboxed: Sequence[float]) -> Cost:
    """The cost from the two sides' runs, paired round by round (the i-th of each)."""
    a, b = summarize(sandboxed), summarize(unsandboxed)
    assert a is not None and b is not None and len(sandboxed) == len(unsandboxed)
    differences = [(x - y) * 1000 for x, y in zip(sandboxed, unsandboxed, strict=True)]
    low, high, level = median_interval(differences)

    def percent(ms: float) -> float:
        return ms / (b.median * 1000) * 100 if b.median > 0 else float("inf")

    paired = statistics.median(differences)
    return Cost(
        paired_ms=paired,
        paired_percent=percent(paired),
        low_ms=low,
        high_ms=high,
        confidence=level,
        median_ms=(a.median - b.median) * 1000,
        median_percent=percent((a.median - b.median) * 1000),
        min_ms=(a.minimum - b.minimum) * 1000,
        min_percent=(a.minimum - b.minimum) / b.minimum * 100 if b.minimum > 0 else float("inf"),
    )


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


def median_steps(runs: Sequence[Run]) -> dict[str, float]:
    """Each step's median seconds over ``runs``."""
    each = [steps(r) for r in runs]
    return {key: statistics.median(s[key] for s in each) for key in STEPS}


# --- results -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    project: str
    backend: str
    series: Mapping[str, Series]

    def stats(self, side: str) -> Stats | None:
        return self.series[side].stats if side in self.series else None

    def cost(self) -> Cost | None:
        a, b = self.series[SANDBOXED].seconds, self.series[UNSANDBOXED].seconds
        return sandbox_cost(a, b) if a and b and len(a) == len(b) else None

    def ratio(self, peer: str) -> float | None:
        """The peer's median over the sandboxed reprobuild's: above 1, reprobuild is faster."""
        a, b = self.stats(peer), self.stats(SANDBOXED)
        return a.median / b.median if a is not None and b is not None and b.median else None

    def reprobuild_runs(self) -> list[Run]:
        return [*self.series[SANDBOXED].all_runs(), *self.series[UNSANDBOXED].all_runs()]


def seconds(stats: Stats | None) -> str:
    return "error" if stats is None else f"{stats.median:.2f} / {stats.minimum:.2f} s"


def times(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def render_cost(cost: Cost | None) -> str:
    if cost is None:
        return "n/a"
    return (
        f"{cost.median_ms:+.0f} ms ({cost.median_percent:+.1f} %) / "
        f"{cost.min_ms:+.0f} ms ({cost.min_percent:+.1f} %)"
    )


def render_paired(cost: Cost | None) -> str:
    if cost is None:
        return "n/a"
    return (
        f"{cost.paired_ms:+.0f} ms ({cost.paired_percent:+.1f} %), "
        f"{cost.low_ms:+.0f} to {cost.high_ms:+.0f} ms"
    )


def render_table(rows: Sequence[Row], sides: Sequence[str]) -> str:
    peers = [s for s in (PEER_UV, PEER_PIP) if s in sides]
    head = [
        "project (backend)",
        *(f"{LABELS[s]}, median / min" for s in (*peers, UNSANDBOXED, SANDBOXED)),
        "sandbox's cost, paired median (its confidence interval)",
        "sandbox goal",
        "difference of the medians / of the minimums",
        *(f"ratio {LABELS[p]} / reprobuild (medians)" for p in peers),
        "reprobuild cold (sandbox, one run)",
        "reprobuild's builds identical (sandboxed and not)",
        *(f"{LABELS[p]}'s builds identical" for p in peers),
    ]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 3) + "---|" * 2]
    lines[1] = "|---|" + "---:|" * (len(peers) + 3) + "---|" + "---:|" * (len(peers) + 2)
    lines[1] += "---|" * (1 + len(peers))
    for r in rows:
        cost = r.cost()
        goal = "n/a" if cost is None else ("met" if cost.meets_goal else "**not met**")
        cold = r.series[SANDBOXED].cold
        cells = [
            f"{r.project} (`{r.backend}`)",
            *(seconds(r.stats(s)) for s in (*peers, UNSANDBOXED, SANDBOXED)),
            render_paired(cost),
            goal,
            render_cost(cost),
            *(times(r.ratio(p)) for p in peers),
            f"{cold.seconds:.2f} s" if cold is not None and cold.ok else "error",
            identical(r.reprobuild_runs()),
            *(identical(r.series[p].all_runs()) for p in peers),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_goal(rows: Sequence[Row]) -> str:
    measured = [(r.project, r.cost()) for r in rows]
    failed = [p for p, c in measured if c is None]
    over = [
        f"{p} ({c.paired_ms:+.0f} ms, {c.paired_percent:+.1f} %; interval "
        f"{c.low_ms:+.0f} to {c.high_ms:+.0f} ms)"
        for p, c in measured
        if c is not None and not c.meets_goal
    ]
    goal = f"the sandbox costs under {GOAL_PERCENT:g} % or under {GOAL_MS:g} ms per build"
    if failed:
        verdict = f"**not measured** on {', '.join(failed)} (a build failed)"
    elif over:
        verdict = f"**not met** on {len(over)} of {len(rows)} projects: " + "; ".join(over)
    else:
        known = [c for _, c in measured if c is not None]
        worst = max(known, key=lambda c: c.paired_ms)
        highest = max(known, key=lambda c: c.high_ms)
        verdict = (
            f"met on all {len(rows)} projects, on the paired medians (the largest is "
            f"{worst.paired_ms:+.0f} ms, {worst.paired_percent:+.1f} %; the highest upper "
            f"end of an interval, {highest.high_ms:+.0f} ms)"
        )
    return f"Goal — {goal}: {verdict}."


def render_coverage(rows: Sequence[Row]) -> str:
    levels = sorted({round(c.confidence * 100, 1) for r in rows if (c := r.cost()) is not None})
    if not levels:
        return ""
    shown = " / ".join(f"{v:g} %" for v in levels)
    return f"The intervals cover the paired median with a probability of {shown}."


def render_peer(rows: Sequence[Row]) -> str:
    ratios = [(r.project, r.ratio(PEER_UV)) for r in rows]
    known = [v for _, v in ratios if v is not None]
    if not known:
        return "Against `python -m build --installer uv`: not measured (a build failed)."
    slower = [f"{p} ({v:.2f}x)" for p, v in ratios if v is not None and v < 1]
    text = (
        "Against `python -m build --installer uv`, the ratio of the medians "
        f"(`python -m build`'s over the sandboxed reprobuild's) is {min(known):.2f}x to "
        f"{max(known):.2f}x"
    )
    return text + (f"; reprobuild is slower on {', '.join(slower)}." if slower else ".")


def render_steps(rows: Sequence[Row]) -> str:
    lines = [
        "| project | " + " | ".join(STEPS.values()) + " | whole process |",
        "|---|" + "---:|" * (len(STEPS) + 1),
    ]
    for r in rows:
        a_runs, b_runs = r.series[UNSANDBOXED].runs, r.series[SANDBOXED].runs
        if r.series[UNSANDBOXED].error or r.series[SANDBOXED].error or not a_runs or not b_runs:
            continue
        a, b = median_steps(a_runs), median_steps(b_runs)
        whole_a = statistics.median(x.seconds for x in a_runs)
        whole_b = statistics.median(x.seconds for x in b_runs)
        cells = [f"{a[k]:.2f} / {b[k]:.2f}" for k in STEPS]
        lines.append(
            f"| {r.project} | " + " | ".join(cells) + f" | {whole_a:.2f} / {whole_b:.2f} |"
        )
    return "\n".join(lines)


def render_notes(rows: Sequence[Row], timeout: float) -> str:
    notes: list[str] = []
    for r in rows:
        for side, series in r.series.items():
            who = LABELS[side]
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
        for side, want in (
            (SANDBOXED, ("sandbox: bwrap", "sandbox: landlock")),
            (UNSANDBOXED, ("sandbox: none",)),
        ):
            said = {run.sandbox_line().split(" (")[0] for run in r.series[side].all_runs()}
            wrong = sorted(s for s in said if not s.startswith(want))
            if wrong:
                notes.append(f"- {r.project}: **{LABELS[side]} said** {'; '.join(wrong)!r}")
    return "\n".join(notes)


def sandbox_of(rows: Sequence[Row]) -> str:
    """What the sandboxed builds said of their sandbox (``bwrap 0.11.0 (limits …)``)."""
    found = {
        run.sandbox_line().removeprefix("sandbox: ")
        for r in rows
        for run in r.series[SANDBOXED].all_runs()
    }
    return "; ".join(sorted(s for s in found if s)) or "unknown"


def isolation_of(rows: Sequence[Row], side: str) -> str:
    """How ``python -m build`` said it made its environments (``venv+uv``, …)."""
    found: set[str] = set()
    marker = "* Creating isolated environment: "
    for r in rows:
        if side not in r.series:
            continue
        for run in r.series[side].all_runs():
            found |= {t.removeprefix(marker).rstrip(".") for _, t in run.lines if marker in t}
    return ", ".join(sorted(found)) or "unknown"


def render_startup(startup: Mapping[str, Stats | None]) -> str:
    return "\n".join(
        f"- `{cmd}`: "
        + (
            "failed"
            if t is None
            else f"{t.median * 1000:.0f} ms median, {t.minimum * 1000:.0f} ms min"
        )
        for cmd, t in startup.items()
    )


def render_section(
    rows: Sequence[Row],
    *,
    command: str,
    runs: int,
    sides: Sequence[str],
    timeout: float,
    versions: Mapping[str, str],
    machine: str,
    startup: Mapping[str, Stats | None],
    hooks: Mapping[str, Stats | None],
) -> str:
    versions_text = ", ".join(f"{k} {v}" for k, v in versions.items())
    notes = render_notes(rows, timeout)
    pip = (
        f" With pip as well, `python -m build` ({isolation_of(rows, PEER_PIP)}) is a side of "
        "its own."
        if PEER_PIP in sides
        else ""
    )
    return f"""{HEADING}

`reprobuild build --no-cache PROJECT -o OUT` (every build a build: no action-cache hit) in
its sandbox ({sandbox_of(rows)}), the same with
`--sandbox none`, and `python -m build --installer uv --outdir OUT PROJECT` (pypa/build making
its isolated environments with uv: {isolation_of(rows, PEER_UV)}), on the fixture projects of
`tests/fixtures/projects`.{pip} Each builds the sdist, then the wheel from that sdist. Every
build runs as a whole process, timed from start to exit, on a fresh copy of the project in a
folder of its own, with the same environment (no `SOURCE_DATE_EPOCH`).

- Per project, each tool first builds once, untimed, so that uv's (and pip's) download caches
  hold everything; then reprobuild builds *cold*, in its sandbox, with an empty environment
  cache (a fresh `REPROBUILD_CACHE_DIR`).
- Then {runs} rounds: in each, every side builds once. The two reprobuild sides build one
  right after the other; which goes first, and whether `python -m build` builds before or
  after them, turn over from round to round. Both reprobuild sides use the environment cache
  the cold build filled; `python -m build` has no environment cache and makes fresh
  environments on every build. Times are the median / the minimum of each side's {runs} runs.
- *Sandbox's cost*: in each round, the sandboxed build's time minus the unsandboxed build's
  next to it; the median of these {runs} paired differences, in ms and in per cent of the
  unsandboxed median, and a distribution-free confidence interval of that median (order
  statistics; the coverage is given below the table). Pairing takes out what a round's two
  builds share: the resolver asking the index, the interpreter's start, the machine's state
  at that moment (the steps below show where the time goes). The goal is a paired median under
  {GOAL_PERCENT:g} % or under {GOAL_MS:g} ms. The difference of the two sides' medians and of
  their minimums is in the table too. `--sandbox none` still runs each backend call through
  the same runner (its cgroup, its limits, its watcher), so the cost is that of the sandbox
  itself.
- *Ratio*: `python -m build`'s median over the sandboxed reprobuild's: above 1, reprobuild is
  faster.
- *Identical*: every build of that project by that tool (the untimed, the cold and the timed
  ones; for reprobuild, sandboxed and not together) wrote the same sdist and wheel, byte for
  byte. Every build's sdist (a gzip'd tar with a `PKG-INFO`) and wheel (a zip that reads back,
  with `WHEEL` and `RECORD`) were checked to be sound.

Command: `{command}` — run on {today()} ({machine}; {versions_text}).

{render_table(rows, sides)}

{render_goal(rows)} {render_coverage(rows)}

{render_peer(rows)}
{chr(10) + notes + chr(10) if notes else ""}
Where reprobuild's time goes, `--sandbox none` / sandboxed, medians of the {runs} runs in
seconds, from the times its progress lines were printed. The sandbox wraps each call of the
backend (`get_requires_for_build_sdist`, `build_sdist`, `get_requires_for_build_wheel`,
`build_wheel`, each in a sandbox of its own); resolving and creating environments run outside
it:

{render_steps(rows)}

One process through reprobuild's sandboxed runner (`run_sandboxed`), with and without the
sandbox, {runs * 4} times each by turns, in one process (so the one-time costs of the first
call are left out):

{render_startup(hooks)}

Start-up alone (a process that does no work), {runs} times each by turns:

{render_startup(startup)}
"""


# --- main --------------------------------------------------------------------------------------


def time_commands(cmds: Mapping[str, Callable[[], bool]], runs: int) -> dict[str, Stats | None]:
    """Median and minimum wall time of callables that return whether they succeeded, by
    turns; a label with any failure has ``None``."""
    spent: dict[str, list[float]] = {label: [] for label in cmds}
    failed: set[str] = set()
    for _ in range(runs):
        for label, call in cmds.items():
            start = time.perf_counter()
            ok = call()
            spent[label].append(time.perf_counter() - start)
            if not ok:
                failed.add(label)
    return {k: None if k in failed else summarize(v) for k, v in spent.items()}


def process(cmd: Sequence[str]) -> Callable[[], bool]:
    def call() -> bool:
        return subprocess.run(cmd, capture_output=True, check=False).returncode == 0

    return call


def time_sandbox_starts(work: Path, runs: int) -> dict[str, Stats | None]:
    """One process through :func:`run_sandboxed`, sandboxed and not, by turns."""
    from reprobuild.frontend.sandbox import SandboxMode, choose_sandbox, run_sandboxed

    boxed, bare = choose_sandbox(SandboxMode.AUTO), choose_sandbox(SandboxMode.NONE)
    folder = work / "sandbox-starts"
    build = folder / "build"
    build.mkdir(parents=True)
    counter = iter(range(1_000_000))
    python = Path(sys.executable)
    true = shutil.which("true", path="/usr/bin:/bin") or "true"

    def through(mode: str, argv: Sequence[str], sink: IO[bytes]) -> Callable[[], bool]:
        box = boxed if mode == "sandbox" else bare

        def call() -> bool:
            run = run_sandboxed(
                box,
                argv,
                cwd=build,
                env={"PATH": "/usr/bin:/bin"},
                stdout=sink,
                writable=[build],
                python=python,
                scratch=folder / f"scratch.{next(counter)}",
            )
            return run.returncode == 0 and run.stopped is None

        return call

    py = [sys.executable, "-c", "pass"]
    name = boxed.mode.value
    with Path(os.devnull).open("wb") as sink:
        # the first call's one-time costs (the scan of /etc) are left out
        through("sandbox", py, sink)()
        through("none", py, sink)()
        return time_commands(
            {
                f"run_sandboxed({name}, python -c pass)": through("sandbox", py, sink),
                "run_sandboxed(none, python -c pass)": through("none", py, sink),
                f"run_sandboxed({name}, true)": through("sandbox", [true], sink),
                "run_sandboxed(none, true)": through("none", [true], sink),
            },
            runs,
        )


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


def check_peer() -> None:
    """``python -m build --installer uv`` needs uv: the ``uv`` module or ``uv`` on PATH."""
    try:
        import uv

        uv.find_uv_bin()
    except (ImportError, FileNotFoundError):
        if shutil.which(os.environ.get("UV") or "uv") is None:
            raise SystemExit(
                "error: python -m build --installer uv needs uv: pip install uv (or build[uv])"
            ) from None


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--runs", type=int, default=RUNS, help="timed runs per side (median and minimum kept)"
    )
    parser.add_argument(
        "--project",
        action="append",
        choices=sorted(p.name for p in FIXTURES.iterdir() if p.is_dir()),
        help=f"a fixture project to build; repeat for more (default: {', '.join(PROJECTS)})",
    )
    parser.add_argument(
        "--with-pip",
        action="store_true",
        help="time plain python -m build (pip) too, as a side of its own",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=TIMEOUT_SECONDS,
        help="seconds one build may take before it is killed and reported as a timeout",
    )
    parser.add_argument(
        "--no-docs", action="store_true", help="print the tables only; leave docs/ alone"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    runs: int = args.runs
    timeout: float = args.timeout
    projects: list[str] = args.project or list(PROJECTS)
    sides = (PEER_UV, *([PEER_PIP] if args.with_pip else []), UNSANDBOXED, SANDBOXED)
    check_peer()
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
            sides=sides,
        )
        for name in projects:
            series = bench_project(name, tools)
            rows.append(Row(project=name, backend=backend_of(FIXTURES / name), series=series))
        log("one process through the sandboxed runner")
        hooks = time_sandbox_starts(Path(tmp), runs * 4)
    if hasattr(os, "getloadavg"):
        machine += f", {os.getloadavg()[0]:.2f} at the end"
    startup = time_commands(
        {
            "python -c pass": process([sys.executable, "-c", "pass"]),
            "reprobuild --version": process([*reprobuild, "--version"]),
            "python -m build --version": process([sys.executable, "-m", "build", "--version"]),
        },
        runs,
    )
    command = recorded_command("build.py", sys.argv[1:] if argv is None else argv)
    section = scrub(
        render_section(
            rows,
            command=command,
            runs=runs,
            sides=sides,
            timeout=timeout,
            versions=versions_of(reprobuild),
            machine=machine,
            startup=startup,
            hooks=hooks,
        )
    )
    print(section)
    if not args.no_docs:
        write_section(DOCS, HEADING, section)
        log(f"wrote the {HEADING!r} section of {DOCS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
