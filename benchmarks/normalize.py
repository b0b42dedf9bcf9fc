"""Benchmark ``reprobuild normalize`` against Debian's ``strip-nondeterminism``.

One command, from the repository root::

    python benchmarks/normalize.py

It installs ``strip-nondeterminism`` with apt-get when it is not on PATH, fetches three inputs
into a cache folder outside the repository (a small pure-Python wheel, a manylinux wheel over
10 MB, a setuptools-made sdist), then, for each input and each tool, normalizes a fresh copy in
place as a whole process, best of N runs, with the same ``SOURCE_DATE_EPOCH`` for both. Each
tool's output is then checked with ``reprobuild normalize --check``, and the sdist's tar headers
are compared before and after. The Markdown table goes to stdout and, under the ``## normalize``
heading, into ``docs/benchmarks.md`` (other sections of that file are left alone).

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
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from _common import (
    DOCS,
    REPO,
    apt_install,
    cache_root,
    describe_machine,
    human_size,
    installed_reprobuild,
    log,
    pip_download,
    recorded_command,
    reprobuild_version,
    scrub,
    source_revision,
    today,
    write_section,
)

HEADING = "## normalize"

#: 2023-11-14T22:13:20Z: later than the small wheel's and the sdist's member times, earlier than
#: the large wheel's, so the clamp does work on at least one input.
EPOCH = 1_700_000_000
RUNS = 7
LARGE_MIN_BYTES = 10 * 1024 * 1024

SMALL_WHEEL = "six==1.16.0"
LARGE_WHEEL = "numpy==1.26.4"
SDIST = "setuptools==69.5.1"

SMALL_LABEL = "small pure-Python wheel"
LARGE_LABEL = "large manylinux wheel"
SDIST_LABEL = "setuptools sdist"

# --- the anchor tool ---------------------------------------------------------------------------


def ensure_strip_nondeterminism() -> str:
    found = shutil.which("strip-nondeterminism")
    if found:
        return found
    log("strip-nondeterminism is not on PATH: installing Debian's package")
    apt_install(["strip-nondeterminism"])
    found = shutil.which("strip-nondeterminism")
    if not found:
        raise SystemExit("error: apt-get installed strip-nondeterminism but it is not on PATH")
    return found


def strip_nondeterminism_version(exe: str) -> str:
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False)
    words = (out.stdout or out.stderr).split()
    return words[-1] if words else "unknown"


# --- reprobuild --------------------------------------------------------------------------------


# --- inputs ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Input:
    label: str
    path: Path

    @property
    def size(self) -> int:
        return self.path.stat().st_size


def is_setuptools_sdist(path: Path) -> bool:
    """A setuptools sdist carries ``PKG-INFO`` and the ``<name>.egg-info/`` that wrote it."""
    with tarfile.open(path, "r:gz") as tar:
        names = tar.getnames()
    top = {n.split("/", 1)[0] for n in names}
    if len(top) != 1:
        return False
    root = top.pop()
    has_pkg_info = f"{root}/PKG-INFO" in names
    has_egg_info = any(
        n.startswith(f"{root}/") and n.count("/") == 2 and n.endswith(".egg-info/PKG-INFO")
        for n in names
    )
    return has_pkg_info and has_egg_info


def fetch_inputs(cache: Path) -> list[Input]:
    small = pip_download(cache / "small", "*.whl", ["--only-binary", ":all:", SMALL_WHEEL])
    if not small.name.endswith("-none-any.whl"):
        raise SystemExit(f"error: {small.name} is not a pure-Python wheel")
    large = pip_download(
        cache / "large",
        "*.whl",
        [
            "--only-binary",
            ":all:",
            "--python-version",
            "3.11",
            "--implementation",
            "cp",
            "--abi",
            "cp311",
            "--platform",
            "manylinux2014_x86_64",
            LARGE_WHEEL,
        ],
    )
    if large.stat().st_size <= LARGE_MIN_BYTES:
        raise SystemExit(f"error: {large.name} is not over 10 MB")
    sdist = pip_download(cache / "sdist", "*.tar.gz", ["--no-binary", ":all:", SDIST])
    if not is_setuptools_sdist(sdist):
        raise SystemExit(f"error: {sdist.name} does not look made by setuptools")
    return [
        Input(label=SMALL_LABEL, path=small),
        Input(label=LARGE_LABEL, path=large),
        Input(label=SDIST_LABEL, path=sdist),
    ]


# --- timing ------------------------------------------------------------------------------------


@dataclass(slots=True, kw_only=True)
class Timing:
    best: float | None = None  #: seconds, best of the runs; None when the tool failed
    output: Path | None = None  #: the last run's output
    error: str = ""


def time_once(cmd: Sequence[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    """Wall time of one whole process, and its error (empty when it exited 0)."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode == 0:
        return elapsed, ""
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
    return elapsed, f"exit {proc.returncode}: " + " / ".join(tail)


def time_processes(
    make_cmds: dict[str, Callable[[Path], list[str]]],
    src: Path,
    work: Path,
    runs: int,
    env: dict[str, str],
) -> dict[str, Timing]:
    """Best wall time of ``runs`` whole-process runs per tool, each on a fresh copy of ``src``.

    The tools take turns run by run, so that a burst of load elsewhere on the machine falls on
    both alike rather than on one tool's whole series. Before each run the previous run's copy
    is removed and the file system synced (untimed): no run pays for writing back the pages an
    earlier run left dirty.
    """
    timings = {tool: Timing() for tool in make_cmds}
    for i in range(runs):
        for tool, make_cmd in make_cmds.items():
            timing = timings[tool]
            if timing.error:
                continue
            if timing.output is not None:  # the outputs of all runs are the same bytes
                shutil.rmtree(timing.output.parent)
            slot = work / tool / str(i)
            slot.mkdir(parents=True, exist_ok=True)
            copy = slot / src.name  # the same name: both tools tell a format by it
            shutil.copyfile(src, copy)
            os.sync()
            elapsed, error = time_once(make_cmd(copy), env)
            if error:
                timing.error, timing.best, timing.output = error, None, None
                continue
            timing.best = elapsed if timing.best is None else min(timing.best, elapsed)
            timing.output = copy
    return timings


def time_startups(cmds: dict[str, list[str]], runs: int) -> dict[str, float | None]:
    """Best wall time of commands that do no work: each tool's start-up floor, taking turns."""
    best: dict[str, float | None] = dict.fromkeys(cmds)
    failed: set[str] = set()
    for _ in range(runs):
        for label, cmd in cmds.items():
            if label in failed:
                continue
            elapsed, error = time_once(cmd)
            if error:
                failed.add(label)
                best[label] = None
                continue
            previous = best[label]
            best[label] = elapsed if previous is None else min(previous, elapsed)
    return best


#: Run by the virtual environment's Python: the library as installed from this checkout,
#: whatever ``reprobuild`` the benchmark's own interpreter would import.
_IN_PROCESS = """
import json, sys, time
from pathlib import Path
from reprobuild.normalize import Policy, normalize_bytes
src, out, runs, epoch = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
policy = Policy(source_date_epoch=epoch)
best = None
for _ in range(runs):
    start = time.perf_counter()
    data = src.read_bytes()
    result = normalize_bytes(data, filename=src.name, policy=policy)
    with out.open("wb") as handle:  # the pieces, one after the other, as the CLI writes
        handle.writelines(result.chunks)
    elapsed = time.perf_counter() - start
    best = elapsed if best is None else min(best, elapsed)
print(json.dumps(best))
"""


def time_in_process(python: str, src: Path, work: Path, runs: int, epoch: int) -> Timing:
    """Best time of ``reprobuild.normalize.normalize_bytes`` with the file read and written,
    in one process of ``python`` (the virtual environment reprobuild is installed in)."""
    timing = Timing()
    out = work / "inproc" / src.name
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [python, "-c", _IN_PROCESS, str(src), str(out), str(runs), str(epoch)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:  # a crash is a result to report, not to hide
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        timing.error = lines[-1] if lines else f"exit {proc.returncode}"
        return timing
    timing.best = float(json.loads(proc.stdout))
    timing.output = out
    return timing


# --- checks ------------------------------------------------------------------------------------


@dataclass(slots=True, kw_only=True)
class Check:
    canonical: bool | None = None  #: None: the check itself failed
    rules: list[str] = field(default_factory=list)  #: what normalize would still change
    error: str = ""


def check_canonical(reprobuild: Sequence[str], path: Path, epoch: int) -> Check:
    cmd = [
        *reprobuild,
        "normalize",
        "--check",
        "--format",
        "json",
        "--source-date-epoch",
        str(epoch),
        str(path),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode not in (0, 1):
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        return Check(error=f"exit {proc.returncode}: " + " / ".join(tail))
    rules: list[str] = []
    try:
        document = json.loads(proc.stdout)
        for entry in document.get("files", []):
            for rule in entry.get("rules", []):
                name = rule.get("rule") or rule.get("name") if isinstance(rule, dict) else rule
                if name and str(name) not in rules:
                    rules.append(str(name))
    except (ValueError, AttributeError) as exc:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return Check(error=f"exit {proc.returncode}, unreadable JSON ({exc}): " + " / ".join(tail))
    return Check(canonical=proc.returncode == 0, rules=rules)


TarHeader = tuple[float, int, int, str, str, int]


def tar_headers(path: Path) -> dict[str, TarHeader]:
    with tarfile.open(path, "r:gz") as tar:
        return {m.name: (m.mtime, m.uid, m.gid, m.uname, m.gname, m.mode) for m in tar.getmembers()}


def gzip_header(path: Path) -> tuple[int, int, bool]:
    """The gzip header's mtime and OS byte, and whether it names the original file."""
    head = path.read_bytes()[:10]
    return int.from_bytes(head[4:8], "little"), head[9], bool(head[3] & 0x08)


def describe_tar_change(before: Path, after: Path) -> str:
    """What a tool did to the tar members' headers and the gzip header of an sdist."""
    a, b = tar_headers(before), tar_headers(after)
    fields = ("mtime", "uid", "gid", "uname", "gname", "mode")
    changed = dict.fromkeys(fields, 0)
    members = 0
    for name, header in a.items():
        other = b.get(name)
        if other is None:
            continue
        diff = [f for f, x, y in zip(fields, header, other, strict=True) if x != y]
        members += bool(diff)
        for f in diff:
            changed[f] += 1
    parts = [f"{members} of {len(a)} members' headers changed"]
    parts += [f"{f}: {n}" for f, n in changed.items() if n]
    if set(a) != set(b):
        parts.append(f"member names differ ({len(set(a) ^ set(b))})")
    parts.append("member order " + ("kept" if list(a) == list(b) else "changed"))
    gz_a, gz_b = gzip_header(before), gzip_header(after)
    parts.append(f"gzip mtime {gz_a[0]}→{gz_b[0]}, file name {'kept' if gz_b[2] else 'absent'}")
    return "; ".join(parts)


def describe_zip_change(before: Path, after: Path) -> str:
    with zipfile.ZipFile(before) as za, zipfile.ZipFile(after) as zb:
        a = {i.filename: (i.date_time, i.external_attr, i.extra) for i in za.infolist()}
        b = {i.filename: (i.date_time, i.external_attr, i.extra) for i in zb.infolist()}
    members = sum(1 for name, h in a.items() if b.get(name) != h)
    order = "kept" if list(a) == list(b) else "changed"
    return f"{members} of {len(a)} members' headers changed; member order {order}"


def describe_change(before: Path, after: Path) -> str:
    if before.read_bytes() == after.read_bytes():
        return "bytes unchanged"
    if after.name.endswith(".tar.gz"):
        return describe_tar_change(before, after)
    return describe_zip_change(before, after)


# --- report ------------------------------------------------------------------------------------


@dataclass(slots=True, kw_only=True)
class Row:
    input: Input
    strip: Timing
    reprobuild: Timing
    in_process: Timing
    strip_check: Check
    reprobuild_check: Check
    strip_change: str
    reprobuild_change: str


def ms(t: Timing) -> str:
    return "error" if t.best is None else f"{t.best * 1000:.1f} ms"


def yes_no(c: Check) -> str:
    if c.canonical is None:
        return "check failed"
    return "yes" if c.canonical else "no"


def ratio(a: Timing, b: Timing) -> str:
    if a.best is None or b.best is None or b.best == 0:
        return "n/a"
    return f"{a.best / b.best:.2f}x"


def render_table(rows: Sequence[Row]) -> str:
    lines = [
        "| input | size | strip-nondeterminism | reprobuild | ratio (strip-nd / reprobuild) "
        "| reprobuild in-process | canonical after strip-nd | canonical after reprobuild |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.input.label}: `{r.input.path.name}` | {human_size(r.input.size)} "
            f"| {ms(r.strip)} | {ms(r.reprobuild)} | {ratio(r.strip, r.reprobuild)} "
            f"| {ms(r.in_process)} | {yes_no(r.strip_check)} | {yes_no(r.reprobuild_check)} |"
        )
    return "\n".join(lines)


def render_notes(rows: Sequence[Row]) -> str:
    notes: list[str] = []
    for r in rows:
        name = f"`{r.input.path.name}`"
        notes.append(f"- {name}, after strip-nondeterminism: {r.strip_change}.")
        if r.strip_check.canonical is False and r.strip_check.rules:
            notes.append(
                f"  reprobuild's check would still apply: {', '.join(r.strip_check.rules)}."
            )
        notes.append(f"- {name}, after reprobuild: {r.reprobuild_change}.")
        if r.reprobuild_check.canonical is False:
            rules = ", ".join(r.reprobuild_check.rules) or "(none named)"
            notes.append(f"  **not canonical after reprobuild** (rules: {rules}).")
        for who, t in (
            ("strip-nondeterminism", r.strip),
            ("reprobuild", r.reprobuild),
            ("reprobuild in-process", r.in_process),
        ):
            if t.error:
                notes.append(f"  **{who} failed**: {t.error}")
        for who, c in (("strip-nd", r.strip_check), ("reprobuild", r.reprobuild_check)):
            if c.error:
                notes.append(f"  **check of {who}'s output failed**: {c.error}")
    return "\n".join(notes)


def render_section(
    rows: Sequence[Row],
    *,
    command: str,
    runs: int,
    epoch: int,
    versions: dict[str, str],
    startup: dict[str, float | None],
) -> str:
    machine = describe_machine(load_average=False)
    versions_text = ", ".join(f"{k} {v}" for k, v in versions.items())
    return f"""{HEADING}

`reprobuild normalize FILE --in-place --source-date-epoch {epoch}` against Debian's
`strip-nondeterminism --timestamp {epoch} --clamp-timestamp FILE` (both clamp later times to
the epoch and run with `SOURCE_DATE_EPOCH={epoch}`). Each tool runs as a whole process on a
fresh copy of the input (the previous run's copy removed and the file system synced first,
untimed, so that no run pays for another's writes); the time is the best of {runs} runs.
Each tool is installed as its users install it: strip-nondeterminism from Debian's package,
reprobuild from this checkout into a virtual environment of its own (as `pipx install` does).
"in-process" is `reprobuild.normalize.normalize_bytes` plus reading the file and writing its
pieces, best of {runs} in one process of that environment.
"Canonical" is the verdict of `reprobuild normalize --check` on the tool's output.

Command: `{command}` — run on {today()} ({machine}; {versions_text}).

{render_table(rows)}

{render_goals(rows)}

{render_notes(rows)}

Start-up alone (a process that does no work), best of {runs}; a whole-process time above is
roughly this floor plus the work:

{render_startup(startup)}
"""


def render_goals(rows: Sequence[Row]) -> str:
    """The goals this benchmark is judged against, each with its verdict from this run."""
    by_label = {r.input.label: r for r in rows}

    def speed(label: str, at_least: float, goal: str) -> str:
        row = by_label[label]
        if row.strip.best is None or row.reprobuild.best is None:
            return f"- {goal}: **not measured** (a tool failed)"
        value = row.strip.best / row.reprobuild.best
        met = "met" if value >= at_least else "**not met**"
        return f"- {goal}: {met} ({value:.2f}x)"

    sdist = by_label[SDIST_LABEL]
    normalized = sdist.reprobuild_check.canonical is True
    return "\n".join(
        [
            "Goals:",
            "",
            speed(SMALL_LABEL, 1.0, "no slower than strip-nondeterminism on the small wheel"),
            speed(LARGE_LABEL, 3.0, "at least 3x faster on the large wheel"),
            f"- sdist fully normalized (canonical after reprobuild): "
            f"{'met' if normalized else '**not met**'}",
        ]
    )


def render_startup(startup: dict[str, float | None]) -> str:
    return "\n".join(
        f"- `{cmd}`: {'failed' if t is None else f'{t * 1000:.1f} ms'}"
        for cmd, t in startup.items()
    )


# --- main --------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=RUNS, help="runs per tool (best is kept)")
    parser.add_argument("--epoch", type=int, default=EPOCH, help="SOURCE_DATE_EPOCH for both")
    parser.add_argument("--cache-dir", help="where inputs are kept (default: user cache dir)")
    parser.add_argument(
        "--no-docs", action="store_true", help="print the table only; leave docs/ alone"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    runs: int = args.runs
    epoch: int = args.epoch
    strip_exe = ensure_strip_nondeterminism()
    reprobuild = installed_reprobuild(cache_root(args.cache_dir))
    python = str(Path(reprobuild[0]).with_name("python"))
    inputs = fetch_inputs(cache_root(args.cache_dir))
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(epoch)}

    def strip_cmd(path: Path) -> list[str]:
        return [strip_exe, "--timestamp", str(epoch), "--clamp-timestamp", str(path)]

    def reprobuild_cmd(path: Path) -> list[str]:
        return [
            *reprobuild,
            "normalize",
            str(path),
            "--in-place",
            "--source-date-epoch",
            str(epoch),
        ]

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="reprobuild-bench-") as tmp:
        work = Path(tmp)
        for item in inputs:
            log(f"timing {item.path.name} ({human_size(item.size)}), {runs} runs per tool")
            stem = item.path.name
            timings = time_processes(
                {"strip": strip_cmd, "repro": reprobuild_cmd}, item.path, work / stem, runs, env
            )
            strip, repro = timings["strip"], timings["repro"]
            inproc = time_in_process(python, item.path, work / "lib" / stem, runs, epoch)
            strip_check = (
                check_canonical(reprobuild, strip.output, epoch) if strip.output else Check()
            )
            repro_check = (
                check_canonical(reprobuild, repro.output, epoch) if repro.output else Check()
            )
            rows.append(
                Row(
                    input=item,
                    strip=strip,
                    reprobuild=repro,
                    in_process=inproc,
                    strip_check=strip_check,
                    reprobuild_check=repro_check,
                    strip_change=(
                        describe_change(item.path, strip.output) if strip.output else "failed"
                    ),
                    reprobuild_change=(
                        describe_change(item.path, repro.output) if repro.output else "failed"
                    ),
                )
            )

    versions = {
        "Python": platform.python_version(),
        "reprobuild": reprobuild_version(reprobuild) + source_revision(),
        "strip-nondeterminism": strip_nondeterminism_version(strip_exe),
    }
    startup = time_startups(
        {
            "python -c pass (reprobuild's venv)": [
                str(Path(reprobuild[0]).with_name("python")),
                "-c",
                "pass",
            ],
            "reprobuild --version": [*reprobuild, "--version"],
            "perl -e 1": ["perl", "-e", "1"],
            "strip-nondeterminism --version": [strip_exe, "--version"],
        },
        runs,
    )
    command = recorded_command("normalize.py", sys.argv[1:] if argv is None else argv)
    section = render_section(
        rows, command=command, runs=runs, epoch=epoch, versions=versions, startup=startup
    )
    section = scrub(section)
    print(section)
    if not args.no_docs:
        write_section(DOCS, HEADING, section)
        log(f"wrote the {HEADING!r} section of {DOCS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
