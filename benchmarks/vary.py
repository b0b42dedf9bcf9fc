"""Benchmark ``reprobuild vary`` against Debian's ``reprotest --auto-build``.

One command, from the repository root::

    python benchmarks/vary.py

It installs ``reprotest``, ``disorderfs`` and ``faketime`` with apt-get when ``reprotest`` or
``faketime`` is not on PATH. Then, for each fixture project of ``tests/fixtures/vary`` (one
known cause of nondeterminism each), on a fresh copy of the project:

- ``reprobuild vary COPY --format json --jobs N``;
- ``reprotest --auto-build -c "python3 -m build --installer uv --outdir dist ." COPY
  'dist/*'``: the same sdist-then-wheel build, with uv making the build environments as
  reprobuild does. reprotest builds with everything fixed and everything varied, then varies
  one thing at a time.

For each tool: the builds it ran, its wall time, what it named, and whether that is the known
cause. The Markdown table goes to stdout and, under the ``## vary`` heading, into
``docs/benchmarks.md`` (other sections of that file are left alone).

Progress and the commands run go to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from _common import (
    DOCS,
    REPO,
    apt_install,
    cache_root,
    describe_machine,
    installed_reprobuild,
    log,
    recorded_command,
    reprobuild_version,
    scrub,
    source_revision,
    today,
    write_section,
)

HEADING = "## vary"
FIXTURES = REPO / "tests" / "fixtures" / "vary"

#: fixture -> (the artifact the cause shows in, the culprits to name; "reproducible" and
#: "random" for the fixtures without a variation to blame)
EXPECTED: dict[str, tuple[str, frozenset[str]]] = {
    "setuptools-sdist": ("sdist", frozenset({"clock"})),
    "flit": ("wheel", frozenset({"timezone", "source-times"})),
    "hash-seed": ("wheel", frozenset({"hash-seed"})),
    "umask-wheel": ("wheel", frozenset({"umask"})),
    "build-path": ("wheel", frozenset({"build-path"})),
    "host-user": ("wheel", frozenset({"hostname", "user-home"})),
    "random-build": ("wheel", frozenset({"random"})),
    "hatchling": ("wheel", frozenset({"reproducible"})),
}

#: reprotest's variations, by the name of reprobuild's that varies the same thing
REPROTEST_NAMES: dict[str, frozenset[str]] = {
    "clock": frozenset({"time"}),
    "build-path": frozenset({"build_path"}),
    "umask": frozenset({"umask"}),
    "timezone": frozenset({"timezone"}),
    "locale": frozenset({"locales"}),
    "file-order": frozenset({"fileordering"}),
    "user-home": frozenset({"user_group", "home"}),
    "hostname": frozenset({"domain_host"}),
    "cpu-count": frozenset({"num_cpus"}),
    "environment": frozenset({"environment"}),
}

#: reprotest gives the build a HOME inside the project's copy; uv's cache goes elsewhere, or it
#: would be packed into the sdist
REPROTEST_BUILD = "UV_CACHE_DIR={cache} python3 -m build --installer uv --outdir dist ."


@dataclass(frozen=True, slots=True)
class Run:
    builds: int
    seconds: float
    named: frozenset[str]  #: in reprobuild's names (reprotest's mapped back)
    said: str  #: the tool's own words
    right: bool


def ensure_tools() -> None:
    if not shutil.which("reprotest") or not shutil.which("faketime"):
        apt_install(["reprotest", "disorderfs", "faketime"])


def _judge(fixture: str, named: frozenset[str]) -> bool:
    _kind, expected = EXPECTED[fixture]
    return bool(named) and expected <= named


def run_reprobuild(cmd: Sequence[str], project: Path, jobs: int, cache: Path) -> Run:
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    env["REPROBUILD_CACHE_DIR"] = str(cache)
    argv = [*cmd, "vary", str(project), "--format", "json", "--jobs", str(jobs)]
    log("$ " + " ".join(argv))
    started = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    seconds = time.monotonic() - started
    if proc.returncode not in (0, 1):
        log(proc.stderr[-3000:])
        return Run(0, seconds, frozenset(), f"failed (exit {proc.returncode})", False)
    doc = json.loads(proc.stdout)
    kind, _expected = EXPECTED[project.name]
    named: set[str] = set()
    for artifact in doc["artifacts"]:
        if artifact["kind"] != kind:
            continue
        if artifact["verdict"] in ("reproducible", "random"):
            named.add(artifact["verdict"])
        for culprit in artifact["culprits"]:
            named.update(culprit)
    frozen = frozenset(named)
    return Run(
        len(doc["builds"]), seconds, frozen, ", ".join(sorted(frozen)), _judge(project.name, frozen)
    )


def run_reprotest(project: Path, cache: Path) -> Run:
    argv = [
        "reprotest",
        "--auto-build",
        "--min-cpus=1",
        "--vary=-user_group",  # it needs sudo and a second user, which this machine lacks
        "-c",
        REPROTEST_BUILD.format(cache=cache / "uv-cache"),
        str(project),
        "dist/*",
    ]
    log("$ " + " ".join(argv))
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    started = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False, cwd=cache)
    seconds = time.monotonic() - started
    out = proc.stdout + proc.stderr
    builds = out.count("Successfully built")
    lines = out.splitlines()
    named: set[str] = set()
    said = "nothing"
    if any(line.startswith("Not reproducible, even when fixing") for line in lines):
        said = "not reproducible even with everything fixed"
        # with every variation fixed and the builds still different: random on its own
        named.add("random")
    elif any(line.startswith("Reproducible, even when varying") for line in lines):
        said = "reproducible"
        named.add("reproducible")
    else:
        for i, line in enumerate(lines):
            if line.startswith("Observed unreproducibility when varying") and i + 1 < len(lines):
                found = lines[i + 1].split()
                said = " ".join(found) or "none"
                for ours, theirs in REPROTEST_NAMES.items():
                    if theirs & set(found):
                        named.add(ours)
    if proc.returncode not in (0, 1) and said == "nothing":
        said = f"failed (exit {proc.returncode})"
        log(out[-3000:])
    frozen = frozenset(named)
    return Run(builds, seconds, frozen, said, _judge(project.name, frozen))


def _load_now() -> str:
    """The load average at the end (the machine may be shared: both tools ran under it)."""
    return f", {os.getloadavg()[0]:.2f} at the end" if hasattr(os, "getloadavg") else ""


def reprotest_version() -> str:
    proc = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", "reprotest"],
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout.strip() or "unknown"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--jobs", type=int, default=2, help="reprobuild vary --jobs (default 2)")
    parser.add_argument(
        "--fixture",
        action="append",
        choices=sorted(EXPECTED),
        help="run only this fixture (repeatable; default: all)",
    )
    parser.add_argument("--cache-dir", help="where reprobuild's installation is kept")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/benchmarks.md")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    machine = describe_machine()  # the load average before anything runs
    ensure_tools()
    reprobuild = installed_reprobuild(cache_root(args.cache_dir))
    fixtures: list[str] = args.fixture or list(EXPECTED)
    rows: list[tuple[str, Run, Run]] = []
    with tempfile.TemporaryDirectory(prefix="reprobuild-bench-vary-") as tmp:
        work = Path(tmp)
        cache = work / "reprobuild-cache"
        for fixture in fixtures:
            log(f"== {fixture}")
            ours_copy = work / "ours" / fixture
            theirs_copy = work / "theirs" / fixture
            shutil.copytree(FIXTURES / fixture, ours_copy)
            shutil.copytree(FIXTURES / fixture, theirs_copy)
            ours = run_reprobuild(reprobuild, ours_copy, args.jobs, cache)
            theirs = run_reprotest(theirs_copy, work)
            log(f"   reprobuild: {ours}\n   reprotest: {theirs}")
            rows.append((fixture, ours, theirs))

    def cell(run: Run) -> str:
        return f"{run.builds} | {run.seconds:.1f} s | {run.said} | {'yes' if run.right else 'no'}"

    table = [
        "| fixture | known cause | reprobuild builds | wall | named | right | "
        "reprotest builds | wall | named | right |",
        "|---|---|---:|---:|---|---|---:|---:|---|---|",
    ]
    for fixture, ours, theirs in rows:
        kind, expected = EXPECTED[fixture]
        cause = f"{kind}: {', '.join(sorted(expected))}"
        table.append(f"| {fixture} | {cause} | {cell(ours)} | {cell(theirs)} |")
    ours_total = sum(r[1].seconds for r in rows)
    theirs_total = sum(r[2].seconds for r in rows)
    ours_right = sum(r[1].right for r in rows)
    theirs_right = sum(r[2].right for r in rows)
    table.append(
        f"| **all** | | {sum(r[1].builds for r in rows)} | {ours_total:.1f} s | | "
        f"{ours_right}/{len(rows)} | {sum(r[2].builds for r in rows)} | {theirs_total:.1f} s | "
        f"| {theirs_right}/{len(rows)} |"
    )
    ratio = ours_total / theirs_total if theirs_total else float("nan")
    all_right = ours_right == len(rows)
    goals = [
        f"- the right culprit on every fixture: {'met' if all_right else '**not met**'}"
        f" ({ours_right}/{len(rows)}; reprotest {theirs_right}/{len(rows)})",
        f"- at most half of reprotest's wall time: "
        f"{'met' if ratio <= 0.5 else '**not met**'} ({ratio:.2f} of it)",
    ]
    # where reprotest went on to vary one thing at a time (it stops after its first builds
    # when even the fixed builds differ, naming nothing)
    searched = [r for r in rows if r[2].builds > 3]
    if searched:
        ours_s = sum(r[1].seconds for r in searched)
        theirs_s = sum(r[2].seconds for r in searched)
        goals.append(
            f"- on the {len(searched)} fixtures where reprotest varied one thing at a time "
            f"({', '.join(r[0] for r in searched)}): reprobuild took {ours_s:.1f} s, reprotest "
            f"{theirs_s:.1f} s ({ours_s / theirs_s:.2f} of it)"
        )
    versions = (
        f"Python {platform.python_version()}, reprobuild {reprobuild_version(reprobuild)}"
        f"{source_revision()}, reprotest {reprotest_version()}"
    )
    build_cmd = REPROTEST_BUILD.format(cache="DIR")
    intro = (
        f"`reprobuild vary PROJECT --jobs {args.jobs}` against Debian's `reprotest --auto-build "
        f"--min-cpus=1 --vary=-user_group -c \"{build_cmd}\" PROJECT 'dist/*'` on the fixture "
        "projects of `tests/fixtures/vary`, one known cause each, each tool on a fresh copy "
        "(DIR is a folder outside the copy: reprotest gives the build a HOME inside it, and "
        "uv's cache there would be packed into the sdist). reprotest's `user_group` variation "
        'is left out: it needs sudo and a second user. "Builds" counts each tool\'s '
        "sdist-and-wheel builds (reprotest's from the build front end's 'Successfully built' "
        'lines); "right" is whether what it named holds the known cause. A reprotest run that '
        "ends with 'Not reproducible, even when fixing as much as reprotest knows how to' is "
        "counted as naming randomness (right only for `random-build`). reprotest has no "
        "variation of PYTHONHASHSEED or of the source files' times. On the setuptools "
        "fixtures, the clock, the source files' times and the umask each change both "
        "artifacts on their own (setuptools keeps file times and modes when SOURCE_DATE_EPOCH "
        "is not set): reprobuild names them beside the known cause, each from a build with "
        "it alone. The load average is the machine's, which other work may share; both "
        "tools ran under it, one fixture after the other."
    )
    section = "\n".join(
        [
            HEADING,
            "",
            intro,
            "",
            f"Command: `{recorded_command('vary.py', sys.argv[1:] if argv is None else argv)}` "
            f"— run on {today()} ({machine}{_load_now()}; {versions}).",
            "",
            *table,
            "",
            "Goals:",
            "",
            *goals,
            "",
        ]
    )
    print(section)
    if not args.no_write:
        write_section(DOCS, HEADING, scrub(section))
        log(f"wrote the {HEADING} section of {DOCS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
