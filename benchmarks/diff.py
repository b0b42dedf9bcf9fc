"""Benchmark ``reprobuild diff`` against Debian's ``diffoscope``.

One command, from the repository root::

    python benchmarks/diff.py

It installs ``diffoscope`` (and GNU ``time``) with apt-get when missing, fetches three pairs of real
releases into a cache folder outside the repository (IPython 7.16.1 and 7.17.0 as wheels and as
sdists, and two versions of a manylinux wheel over 10 MB), then, for each pair, runs both tools
as whole processes, taking turns: ``diffoscope --json OUT A B`` and ``reprobuild diff A B
--format json``. It measures each process's wall time (best of N) and peak resident memory
(GNU ``time``'s ``%M``), and checks *coverage*: every archive member that diffoscope
reports as differing — in its content, or on a changed line of its member listing (``zipinfo``,
``zipnote``, the tar ``file list``) — must be reported by reprobuild too. The Markdown table
goes to stdout and, under the ``## diff`` heading, into ``docs/benchmarks.md`` (other sections
of that file are left alone).

Progress and the commands run go to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import (
    DOCS,
    REPO,
    apt_install,
    cache_root,
    compile_bytecode,
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

HEADING = "## diff"

RUNS = 5
#: Once one diffoscope run on a pair takes longer than this, it is not repeated on that pair.
SLOW_SECONDS = 60.0
TIMEOUT_SECONDS = 3600.0
LARGE_MIN_BYTES = 10 * 1024 * 1024

#: Goals: reprobuild at least this many times faster, and at most this fraction of the memory.
SPEED_GOAL = 10.0
MEMORY_GOAL = 0.5

#: Debian packages: diffoscope, its fuzzy matching of renamed members (tlsh), and the tools it
#: runs on these inputs (zipinfo, zipnote, readelf/objdump/strings, file, xxd, diff).
APT_PACKAGES = (
    "diffoscope",
    "python3-tlsh",
    "unzip",
    "zip",
    "binutils",
    "file",
    "xxd",
    "diffutils",
)
#: External programs diffoscope uses on these inputs, listed in the results when found.
DIFFOSCOPE_TOOLS = ("zipinfo", "zipnote", "readelf", "objdump", "strings", "file", "xxd")

MANYLINUX = (
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
)

# --- the anchor tool ---------------------------------------------------------------------------


def missing_python_modules(exe: str) -> set[str]:
    """The optional Python modules diffoscope reports missing (``tlsh``, ``debian``, …)."""
    out = subprocess.run(
        [exe, "--list-missing-tools"], capture_output=True, text=True, check=False
    ).stdout
    for line in out.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "Missing-Python-Modules":
            return {name.strip() for name in value.split(",") if name.strip()}
    return set()


def ensure_diffoscope() -> tuple[str, bool]:
    """diffoscope's path, installed first when missing, and whether it can fuzzy-match.

    Fuzzy matching pairs members whose names differ (a renamed top folder) by the similarity
    of their content; it needs the ``tlsh`` module, which Debian's package recommends and a
    default ``apt-get install diffoscope`` brings along. It is installed here when missing, so
    that diffoscope compares what reprobuild compares.
    """
    found = shutil.which("diffoscope")
    if not found:
        log("diffoscope is not on PATH: installing Debian's package")
        apt_install(APT_PACKAGES)
    elif "tlsh" in missing_python_modules(found):
        log("diffoscope cannot fuzzy-match renamed members: installing python3-tlsh")
        apt_install(["python3-tlsh"])
    found = shutil.which("diffoscope")
    if not found:
        raise SystemExit("error: apt-get installed diffoscope but it is not on PATH")
    return found, "tlsh" not in missing_python_modules(found)


def diffoscope_version(exe: str) -> str:
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False)
    words = (out.stdout or out.stderr).split()
    version = words[-1] if words else "unknown"
    package = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Version}", "diffoscope"],
        capture_output=True,
        text=True,
        check=False,
    )
    if package.returncode == 0 and package.stdout.strip():
        version += f" (Debian package {package.stdout.strip()})"
    return version


# --- reprobuild --------------------------------------------------------------------------------


# --- inputs ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PairSpec:
    """Two releases of one project, fetched the same way."""

    label: str
    slug: str  #: the pair's folder in the cache
    project: str
    versions: tuple[str, str]
    pattern: str  #: the file name, with ``{version}`` and wildcards
    pip_args: tuple[str, ...]


PAIRS = (
    PairSpec(
        label="IPython wheels",
        slug="ipython-wheel",
        project="ipython",
        versions=("7.16.1", "7.17.0"),
        pattern="ipython-{version}-py3-none-any.whl",
        pip_args=("--only-binary", ":all:"),
    ),
    PairSpec(
        label="IPython sdists",
        slug="ipython-sdist",
        project="ipython",
        versions=("7.16.1", "7.17.0"),
        pattern="ipython-{version}.tar.gz",
        pip_args=("--no-binary", ":all:"),
    ),
    PairSpec(
        label="numpy manylinux wheels",
        slug="numpy-manylinux",
        project="numpy",
        versions=("1.26.3", "1.26.4"),
        pattern="numpy-{version}-cp311-cp311-*manylinux2014_x86_64.whl",
        pip_args=MANYLINUX,
    ),
)
LARGE_SLUG = "numpy-manylinux"


@dataclass(frozen=True, slots=True, kw_only=True)
class Pair:
    spec: PairSpec
    folder: Path
    a: Path
    b: Path


def fetch_pairs(cache: Path) -> list[Pair]:
    pairs = []
    for spec in PAIRS:
        folder = cache / "diff" / spec.slug
        a, b = (
            pip_download(
                folder,
                spec.pattern.format(version=version),
                [*spec.pip_args, f"{spec.project}=={version}"],
            )
            for version in spec.versions
        )
        if spec.slug == LARGE_SLUG and min(a.stat().st_size, b.stat().st_size) <= LARGE_MIN_BYTES:
            raise SystemExit(f"error: {a.name} or {b.name} is not over 10 MB")
        pairs.append(Pair(spec=spec, folder=folder, a=a, b=b))
    return pairs


# --- measuring ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    """One whole-process run of a tool."""

    seconds: float
    max_rss_kib: int  #: the largest process of the tool's tree, as GNU time reports it
    exit_code: int
    timed_out: bool
    stderr_tail: str


def ensure_gnu_time() -> str:
    """GNU time, which reports a child's peak memory, installed first when missing."""
    found = shutil.which("time")
    if not found:
        log("GNU time is not on PATH: installing Debian's package")
        apt_install(["time"])
        found = shutil.which("time")
    if not found:
        raise SystemExit("error: apt-get installed time but it is not on PATH")
    out = subprocess.run([found, "--version"], capture_output=True, text=True, check=False)
    if "GNU" not in out.stdout + out.stderr:
        raise SystemExit(f"error: {found} is not GNU time (Debian package: time)")
    return found


def run_measured(
    cmd: Sequence[str], *, meter: str, cwd: Path, stdout: Path, stderr: Path, timeout: float
) -> Run:
    """Run ``cmd`` to completion; its wall time and its peak resident memory.

    The peak memory comes from GNU time (``meter``) started in front of ``cmd``: its ``%M`` is
    the ``ru_maxrss`` of the child, the largest of the process and the processes it started
    and waited for (diffoscope runs zipinfo, readelf and others), in KiB. It is not read from
    this process's own ``wait4``: a child forked from a Python process starts with the
    parent's resident pages, so its ``ru_maxrss`` can be no smaller than this process's
    (tens of MiB after reading diffoscope's reports). The wall time is measured here, around
    the whole; on a timeout the child's process group is killed.
    """
    report = stderr.with_suffix(".rss")
    report.unlink(missing_ok=True)
    with stdout.open("wb") as out, stderr.open("wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [meter, "-f", "%M", "-o", str(report), *cmd],
            cwd=cwd,
            stdout=out,
            stderr=err,
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
            proc.wait()
        finally:
            timer.cancel()
        elapsed = time.perf_counter() - start
    tail = stderr.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
    lines = report.read_text(encoding="utf-8").split() if report.exists() else []
    return Run(
        seconds=elapsed,
        max_rss_kib=int(lines[-1]) if lines and lines[-1].isdigit() else 0,
        exit_code=proc.returncode,
        timed_out=expired.is_set(),
        stderr_tail=" / ".join(tail),
    )


@dataclass(slots=True, kw_only=True)
class Timing:
    """A tool's runs on one pair."""

    runs: list[Run] = field(default_factory=list)
    output: Path | None = None  #: the JSON document of the first good run
    error: str = ""

    @property
    def best(self) -> float | None:
        return min(r.seconds for r in self.runs) if self.runs and not self.error else None

    @property
    def peak_kib(self) -> int | None:
        return max(r.max_rss_kib for r in self.runs) if self.runs and not self.error else None


def time_pair(
    pair: Pair,
    *,
    diffoscope: str,
    reprobuild: Sequence[str],
    meter: str,
    work: Path,
    runs: int,
    timeout: float,
) -> dict[str, Timing]:
    """Both tools on one pair, taking turns run by run; diffoscope only once when it is slow.

    Both exit 1 on a difference; any other exit code (or a timeout) is an error to report.
    """
    a, b = pair.a.name, pair.b.name
    timings = {"diffoscope": Timing(), "reprobuild": Timing()}
    for i in range(runs):
        for tool, timing in timings.items():
            if timing.error:
                continue
            if tool == "diffoscope" and timing.runs and timing.runs[0].seconds > SLOW_SECONDS:
                continue
            out = work / f"{pair.spec.slug}.{tool}.{i}.json"
            if tool == "diffoscope":
                cmd = [diffoscope, "--json", str(out), a, b]
                stdout = work / f"{pair.spec.slug}.{tool}.{i}.stdout"
            else:
                cmd = [*reprobuild, "diff", a, b, "--format", "json"]
                stdout = out
            log(f"$ (cd {pair.spec.slug}) " + shlex.join(cmd))
            run = run_measured(
                cmd,
                meter=meter,
                cwd=pair.folder,
                stdout=stdout,
                stderr=work / f"{pair.spec.slug}.{tool}.{i}.stderr",
                timeout=timeout,
            )
            log(f"  {run.seconds:.2f} s, {run.max_rss_kib / 1024:.1f} MiB, exit {run.exit_code}")
            if run.timed_out:
                timing.error = f"timed out after {timeout:.0f} s"
            elif run.exit_code not in (0, 1):
                timing.error = f"exit {run.exit_code}: {run.stderr_tail}"
            else:
                timing.runs.append(run)
                if timing.output is None:
                    timing.output = out
    return timings


def time_startups(
    cmds: dict[str, list[str]], *, meter: str, work: Path, runs: int
) -> dict[str, Run | None]:
    """Best run of commands that do no work: each tool's start-up floor, taking turns."""
    best: dict[str, Run | None] = dict.fromkeys(cmds)
    for i in range(runs):
        for label, cmd in cmds.items():
            run = run_measured(
                cmd,
                meter=meter,
                cwd=work,
                stdout=work / f"startup.{i}.stdout",
                stderr=work / f"startup.{i}.stderr",
                timeout=60,
            )
            previous = best[label]
            if run.exit_code == 0 and (previous is None or run.seconds < previous.seconds):
                best[label] = run
    return best


# --- coverage ----------------------------------------------------------------------------------

Json = dict[str, Any]

#: reprobuild's separator between a member and one of its fields or parts.
FIELD_SEP = " › "
#: Categories that say something about a member's content (or its presence), as opposed to
#: the header fields every archive member has (time, mode, owner, compression).
CONTENT_CATEGORIES = frozenset({"content", "metadata-order", "order", "missing", "added"})
#: The fields of a zip or tar member's header, as reprobuild names them in ``member › field``.
HEADER_FIELD = re.compile(
    r"^(mtime|dos time|mode|executable bit|kind|link target|uid|gid|uname|gname|method"
    r"|deflate option flags|flags|file type bits|MS-DOS attributes|system made by"
    r"|version made by|version needed|internal attributes|(local )?extra field( 0x[0-9a-f]{4})?"
    r"|comment|data descriptor|local header differs in|PAX .+|format|device numbers)$"
)

#: Names diffoscope gives to what it finds *about* a container, not to a member of it.
LISTING_PREFIXES = ("file list", "zipinfo", "zipnote")
META_PREFIXES = (*LISTING_PREFIXES, "filetype from file(1)", "encoding", "metadata", "stat ")

#: A line of libarchive's listing (tar ``file list``): mode, links, owner, group, size, time.
TAR_LINE = re.compile(
    r"^(?P<meta>[-a-z?][-rwxsStT]{9}\S*\s.*?\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}) (?P<name>.+)$"
)
#: A line of ``zipinfo``: mode, version, system, size, text/binary, method, date, time.
ZIPINFO_LINE = re.compile(
    r"^(?P<meta>[-a-z?][-rwxsStT]{9}\S*\s+\S+\s+\S+\s+\d+\s+\S+\s+\S+\s+"
    r"\d\d-[A-Za-z]{3}-\d\d \d\d:\d\d) (?P<name>.+)$"
)
#: A line of ``zipnote``, as diffoscope prints it.
ZIPNOTE_LINE = re.compile(r"^Filename: (?P<name>.+)$")
#: Lines of a listing that are about the archive as a whole.
SUMMARY_LINE = re.compile(
    r"^(Zip file size: |\d+ files?, |Comment: |Zip file comment:|There is no zipfile comment|$)"
)
TRUNCATED = re.compile(r"^\[ \d+ lines removed \]$|truncated by diffoscope")


def is_meta(name: str) -> bool:
    return name.startswith(META_PREFIXES)


def is_listing(name: str) -> bool:
    return name.startswith(LISTING_PREFIXES)


@dataclass(slots=True, kw_only=True)
class Reported:
    """What reprobuild's tree says, by member path, on each side."""

    any_a: set[str] = field(default_factory=set)  #: members with any difference
    any_b: set[str] = field(default_factory=set)
    content_a: set[str] = field(default_factory=set)  #: members with a content difference
    content_b: set[str] = field(default_factory=set)
    renames: dict[str, str] = field(default_factory=dict)  #: folder a → folder b, both with /
    missing: set[str] = field(default_factory=set)  #: members (or folders) reported missing
    #: members on both sides that differ in what they hold (not folder renames)
    content_members: set[str] = field(default_factory=set)
    added: set[str] = field(default_factory=set)  #: members (or folders) reported added
    order: bool = False  #: member order reported for the archive


def member_of(source: str) -> str:
    return source.split(FIELD_SEP, 1)[0]


def is_header_leaf(source: str) -> bool:
    """``member › field, field`` naming only fields of the archive's member header."""
    _, sep, fields = source.partition(FIELD_SEP)
    return bool(sep) and all(HEADER_FIELD.match(f) for f in fields.split(", "))


def read_reprobuild(document: Json) -> Reported:
    """Collect the members reprobuild reports, telling header-only reports from content ones.

    A difference at a member counts as about its content when its category is one of
    :data:`CONTENT_CATEGORIES`, or when it is not named after the member's header fields (a
    ``.pyc``'s embedded source time is a ``timestamp`` found in the content).
    """
    reported = Reported()
    stack = [document["difference"]]
    while stack:
        node = stack.pop()
        stack.extend(node.get("children", []))
        category = node.get("category")
        if not category:
            continue
        source_a, source_b = str(node["source_a"]), str(node["source_b"])
        member_a, member_b = member_of(source_a), member_of(source_b)
        reported.any_a.add(member_a)
        reported.any_b.add(member_b)
        if category in CONTENT_CATEGORIES or not is_header_leaf(source_a):
            reported.content_a.add(member_a)
            reported.content_b.add(member_b)
            if category not in ("order", "missing", "added") and not member_a.endswith("/"):
                reported.content_members.add(member_a)
        if category == "order":
            reported.order = True
        elif category == "missing":
            reported.missing.add(member_a)
        elif category == "added":
            reported.added.add(member_b)
        if source_a != source_b and source_a.endswith("/") and source_b.endswith("/"):
            reported.renames[source_a] = source_b
    return reported


@dataclass(slots=True, kw_only=True)
class Finding:
    """One member diffoscope reports as differing, and whether reprobuild does."""

    name_a: str | None
    name_b: str | None
    why: str  #: content, header, renamed, moved, only in a or b (and where diffoscope said so)
    covered: bool = False
    via: str = ""  #: how reprobuild covers it, when not by naming the member

    @property
    def name(self) -> str:
        if self.name_a and self.name_b and self.name_a != self.name_b:
            return f"{self.name_a} → {self.name_b}"
        return self.name_a or self.name_b or "?"


#: Which finding names a member in the summary when diffoscope reports it more than once.
RANK = ("content", "header", "only in", "renamed", "moved")


def rank(finding: Finding) -> int:
    return next((i for i, why in enumerate(RANK) if finding.why.startswith(why)), len(RANK))


@dataclass(slots=True, kw_only=True)
class Coverage:
    #: by member name (its a-side name when it has one); a member is covered when all are
    findings: dict[str, list[Finding]] = field(default_factory=dict)
    about_container: list[str] = field(default_factory=list)  #: diffoscope's non-member parts
    archive_reported: bool = False  #: reprobuild reports a difference of the archive itself
    diffoscope_content: int = 0  #: members whose content diffoscope compared and found different
    reprobuild_content: int = 0  #: the same, for reprobuild
    reprobuild_only: list[str] = field(default_factory=list)  #: of those, not diffoscope's
    unparsed: list[str] = field(default_factory=list)  #: listing lines not understood
    truncated: list[str] = field(default_factory=list)  #: listings diffoscope cut short
    error: str = ""

    def add(self, finding: Finding) -> None:
        self.findings.setdefault(finding.name_a or finding.name_b or "?", []).append(finding)

    @property
    def total(self) -> int:
        return len(self.findings)

    @property
    def covered(self) -> int:
        return sum(all(f.covered for f in found) for found in self.findings.values())

    @property
    def uncovered(self) -> list[Finding]:
        return [f for found in self.findings.values() for f in found if not f.covered]

    @property
    def primary(self) -> list[Finding]:
        """One finding per member, the most telling (content before header before rename)."""
        return [min(found, key=rank) for found in self.findings.values()]


def member_level(root: Json, filename: str) -> Json | None:
    """diffoscope's node whose details are the archive's members.

    For a zip that is the root. For a ``.tar.gz`` it is the decompressed ``.tar`` below the
    root, when diffoscope found differences in it (None when only the gzip header differs).
    """
    if not filename.endswith((".tar.gz", ".tgz")):
        return root
    inner = [d for d in root.get("details") or [] if not is_meta(str(d.get("source1", "")))]
    return inner[0] if len(inner) == 1 else None


Listed = list[tuple[str, str]]  #: (member name, the rest of its line) per changed line


def parse_listing(diff: str, coverage: Coverage, where: str) -> tuple[Listed, Listed]:
    """The members on the removed (a) and added (b) lines of a listing's unified diff."""
    removed: Listed = []
    added: Listed = []
    for line in diff.splitlines():
        if not line or line.startswith(("@@", "---", "+++")) or line[0] not in "+-":
            continue
        side, text = line[0], line[1:]
        if TRUNCATED.search(text):
            coverage.truncated.append(where)
            continue
        match = TAR_LINE.match(text) or ZIPINFO_LINE.match(text) or ZIPNOTE_LINE.match(text)
        if match is None:
            if not SUMMARY_LINE.match(text):
                coverage.unparsed.append(f"{where}: {line[:120]}")
            continue
        name = match["name"]
        meta = match.groupdict().get("meta") or ""
        if meta.startswith("l") and " -> " in name:
            name = name.split(" -> ", 1)[0]
        (removed if side == "-" else added).append((name, " ".join(meta.split())))
    return removed, added


def renamed(name: str, renames: dict[str, str]) -> str:
    for old, new in renames.items():
        if name.startswith(old):
            return new + name[len(old) :]
    return name


def within(name: str, folders: set[str]) -> bool:
    """Whether ``name`` lies in one of ``folders`` (each named with its trailing ``/``)."""
    return any(folder.endswith("/") and name.startswith(folder) for folder in folders)


def check_listing(
    removed: Listed, added: Listed, reported: Reported, coverage: Coverage, kind: str
) -> None:
    """Every member on a changed listing line must be accounted for by reprobuild.

    A member on both sides with a different line (time, mode, size…) must be named by
    reprobuild. A member only on one side is matched across the folder renames reprobuild
    reports; when its line is then the same, the rename covers it. A member on both sides with
    the same line has only moved (zipnote lists members in archive order): reprobuild's member
    order difference covers it.
    """
    a_lines: dict[str, list[str]] = {}
    b_lines: dict[str, list[str]] = {}
    for name, meta in removed:
        a_lines.setdefault(name, []).append(meta)
    for name, meta in added:
        b_lines.setdefault(name, []).append(meta)
    back = {new: old for old, new in reported.renames.items()}
    seen_b: set[str] = set()
    note = coverage.add
    for name_a, metas_a in a_lines.items():
        name_b = name_a if name_a in b_lines else renamed(name_a, reported.renames)
        if name_b not in b_lines:
            finding = Finding(name_a=name_a, name_b=None, why=f"only in a ({kind})")
            finding.covered = name_a in reported.any_a or within(name_a, reported.missing)
            note(finding)
            continue
        seen_b.add(name_b)
        metas_b = b_lines[name_b]
        if sorted(metas_a) != sorted(metas_b):
            finding = Finding(name_a=name_a, name_b=name_b, why=f"header ({kind})")
            finding.covered = name_a in reported.any_a or name_b in reported.any_b
        elif name_a != name_b:
            finding = Finding(name_a=name_a, name_b=name_b, why=f"renamed ({kind})")
            finding.covered = name_a in reported.any_a or any(
                name_a.startswith(folder) for folder in reported.renames
            )
            finding.via = "" if name_a in reported.any_a else "the folder rename"
        else:
            finding = Finding(name_a=name_a, name_b=name_b, why=f"moved ({kind})")
            finding.covered = reported.order or name_a in reported.any_a
            finding.via = "" if name_a in reported.any_a else "the member order difference"
        note(finding)
    for name_b in b_lines:
        if name_b in seen_b:
            continue
        name_a = renamed(name_b, back)
        if name_a in a_lines:
            continue  # handled from the a side
        finding = Finding(name_a=None, name_b=name_b, why=f"only in b ({kind})")
        finding.covered = name_b in reported.any_b or within(name_b, reported.added)
        note(finding)


def check_coverage(diffoscope_json: Path, reprobuild_json: Path, filename: str) -> Coverage:
    """Which members diffoscope reports as differing, and whether reprobuild reports each."""
    coverage = Coverage()
    try:
        root: Json = json.loads(diffoscope_json.read_text(encoding="utf-8"))
        reported = read_reprobuild(json.loads(reprobuild_json.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        coverage.error = f"unreadable output: {type(exc).__name__}: {exc}"
        return coverage
    for detail in root.get("details") or []:
        name = str(detail.get("source1", ""))
        if is_meta(name) and not is_listing(name):
            coverage.about_container.append(name)
    coverage.archive_reported = filename in reported.any_a
    archive_names = {filename, filename.rsplit(".", 1)[0]}  # the .tar inside a .tar.gz
    reprobuild_content = reported.content_members - archive_names
    coverage.reprobuild_content = len(reprobuild_content)
    level = member_level(root, filename)
    if level is None:
        return coverage
    listings: list[tuple[Listed, Listed, str]] = []
    content: list[Json] = []
    for detail in level.get("details") or []:
        name = str(detail.get("source1", ""))
        if is_listing(name):
            kind = name.split(" {}")[0].split(" «")[0]
            removed, added = parse_listing(str(detail.get("unified_diff") or ""), coverage, kind)
            listings.append((removed, added, kind))
        elif is_meta(name):
            if level is not root:
                coverage.about_container.append(name)
        else:
            content.append(detail)
    for removed, added, kind in listings:
        check_listing(removed, added, reported, coverage, kind)
    for detail in content:
        name_a, name_b = str(detail["source1"]), str(detail["source2"])
        if is_same_content(detail):
            # Paired by fuzzy matching across a rename, and found identical: a rename only.
            finding = Finding(name_a=name_a, name_b=name_b, why="renamed (same content)")
            by_rename = renamed(name_a, reported.renames) == name_b != name_a
            finding.covered = name_a in reported.any_a or by_rename
            finding.via = "" if name_a in reported.any_a else "the folder rename"
        else:
            coverage.diffoscope_content += 1
            finding = Finding(name_a=name_a, name_b=name_b, why="content")
            finding.covered = name_a in reported.content_a or name_b in reported.content_b
            if not finding.covered and (name_a in reported.any_a or name_b in reported.any_b):
                finding.via = "reprobuild reports only its header"
        coverage.add(finding)
    compared = {str(d["source1"]) for d in content if not is_same_content(d)}
    coverage.reprobuild_only = sorted(reprobuild_content - compared)
    return coverage


def is_same_content(detail: Json) -> bool:
    """diffoscope's node for two members it paired by fuzzy matching and found identical."""
    comments = [str(c) for c in detail.get("comments") or []]
    return (
        not detail.get("unified_diff")
        and not detail.get("details")
        and any("identical despite different names" in c for c in comments)
    )


# --- report ------------------------------------------------------------------------------------


@dataclass(slots=True, kw_only=True)
class Row:
    pair: Pair
    diffoscope: Timing
    reprobuild: Timing
    coverage: Coverage

    @property
    def speed(self) -> float | None:
        d, r = self.diffoscope.best, self.reprobuild.best
        return d / r if d is not None and r else None

    @property
    def memory(self) -> float | None:
        """reprobuild's peak memory as a fraction of diffoscope's."""
        d, r = self.diffoscope.peak_kib, self.reprobuild.peak_kib
        return r / d if d and r is not None else None


def seconds(t: Timing) -> str:
    if t.best is None:
        return "timeout" if t.error.startswith("timed out") else "error"
    best = f"{t.best:.2f} s" if t.best >= 1 else f"{t.best * 1000:.0f} ms"
    return f"{best} ({len(t.runs)} run{'s' if len(t.runs) != 1 else ''})"


def mib(t: Timing) -> str:
    return "n/a" if t.peak_kib is None else f"{t.peak_kib / 1024:.1f} MiB"


def render_table(rows: Sequence[Row]) -> str:
    lines = [
        "| pair | sizes | diffoscope time | diffoscope peak memory | reprobuild time "
        "| reprobuild peak memory | speed (diffoscope / reprobuild) "
        "| memory (reprobuild / diffoscope) | members diffoscope reports | covered by reprobuild |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        p = r.pair
        speed = "n/a" if r.speed is None else f"{r.speed:.1f}x"
        memory = "n/a" if r.memory is None else f"{r.memory:.2f}"
        covered = "n/a" if r.coverage.error else f"{r.coverage.covered}/{r.coverage.total}"
        lines.append(
            f"| {p.spec.label}: `{p.a.name}` vs `{p.b.name}` "
            f"| {human_size(p.a.stat().st_size)} / {human_size(p.b.stat().st_size)} "
            f"| {seconds(r.diffoscope)} | {mib(r.diffoscope)} "
            f"| {seconds(r.reprobuild)} | {mib(r.reprobuild)} "
            f"| {speed} | {memory} | {r.coverage.total} | {covered} |"
        )
    return "\n".join(lines)


def render_goals(rows: Sequence[Row]) -> str:
    lines = ["Goals, per pair:", ""]
    for r in rows:
        parts = []
        if r.speed is None:
            parts.append("at least 10x faster: **not measured** (a tool failed)")
        else:
            met = "met" if r.speed >= SPEED_GOAL else "**not met**"
            parts.append(f"at least {SPEED_GOAL:.0f}x faster: {met} ({r.speed:.1f}x)")
        if r.memory is None:
            parts.append("at most half the memory: **not measured**")
        else:
            met = "met" if r.memory <= MEMORY_GOAL else "**not met**"
            parts.append(f"at most half the memory: {met} ({r.memory:.2f} of diffoscope's)")
        c = r.coverage
        if c.error or r.diffoscope.output is None or r.reprobuild.output is None:
            parts.append("full coverage: **not measured**")
        else:
            partial = " (diffoscope cut a listing short)" if c.truncated else ""
            met = "met" if c.covered == c.total and not c.truncated else "**not met**"
            parts.append(f"full coverage: {met} ({c.covered}/{c.total}){partial}")
        lines.append(f"- {r.pair.spec.label}: " + "; ".join(parts) + ".")
    return "\n".join(lines)


def count_by(findings: Sequence[Finding]) -> str:
    counts: dict[str, int] = {}
    for f in findings:
        key = f.why + (f", covered by {f.via}" if f.via and f.covered else "")
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{n} {why}" for why, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def render_notes(rows: Sequence[Row]) -> str:
    notes: list[str] = []
    for r in rows:
        c = r.coverage
        label = r.pair.spec.label
        if c.error:
            notes.append(f"- {label}: coverage not checked: {c.error}")
        else:
            findings = c.primary
            notes.append(f"- {label}: diffoscope reports {count_by(findings) or 'nothing'}.")
            notes.append(
                f"  Members on both sides found different in what they hold: "
                f"{c.diffoscope_content} by diffoscope, {c.reprobuild_content} by reprobuild."
            )
            if c.reprobuild_only:
                only = ", ".join(f"`{n}`" for n in c.reprobuild_only[:10])
                more = (
                    f" and {len(c.reprobuild_only) - 10} more"
                    if len(c.reprobuild_only) > 10
                    else ""
                )
                notes.append(
                    f"  Found different in content by reprobuild, not by diffoscope: {only}{more}."
                )
            if c.about_container:
                about = ", ".join(f"`{n}`" for n in dict.fromkeys(c.about_container))
                also = (
                    "reprobuild reports a difference of the archive itself too"
                    if c.archive_reported
                    else "**reprobuild reports no difference of the archive itself**"
                )
                notes.append(f"  About the archive itself, not a member: {about}; {also}.")
            missed = c.uncovered
            if missed:
                shown = ", ".join(
                    f"`{f.name}` ({f.why}{'; ' + f.via if f.via else ''})" for f in missed[:20]
                )
                more = f" and {len(missed) - 20} more" if len(missed) > 20 else ""
                notes.append(f"  **Not reported by reprobuild**: {shown}{more}.")
            if c.truncated:
                notes.append(f"  diffoscope cut these listings short: {', '.join(c.truncated)}.")
            if c.unparsed:
                notes.append(
                    f"  {len(c.unparsed)} changed listing lines were not understood, e.g. "
                    f"`{c.unparsed[0]}`."
                )
        for who, t in (("diffoscope", r.diffoscope), ("reprobuild", r.reprobuild)):
            if t.error:
                notes.append(f"  **{who} failed**: {t.error}")
    return "\n".join(notes)


def render_section(
    rows: Sequence[Row],
    *,
    command: str,
    runs: int,
    versions: dict[str, str],
    tools: str,
    machine: str,
    fuzzy: bool,
    startup: dict[str, Run | None],
) -> str:
    versions_text = ", ".join(f"{k} {v}" for k, v in versions.items())
    fuzzy_text = (
        "Its fuzzy matching (the `tlsh` module, which Debian's package recommends) is\n"
        "installed, so it pairs members across a renamed top folder and compares their content,\n"
        "as reprobuild does."
        if fuzzy
        else "Its fuzzy matching is **not** available (no `tlsh` module), so it does not pair\n"
        "members across a renamed top folder."
    )
    return f"""{HEADING}

`reprobuild diff A B --format json` against Debian's `diffoscope --json OUT A B`, each run as a
whole process from the pair's folder, taking turns. diffoscope keeps its defaults: given two
files it sets `--exclude-directory-metadata=yes`, which leaves out only the two input files'
own file-system metadata (the member headers inside the archives are still listed).
{fuzzy_text}

Time is the best of {runs} runs per tool (diffoscope runs once on a pair where one run takes
over {SLOW_SECONDS:.0f} s). Peak memory is the highest maximum resident set size that GNU
`time -f %M` reported for the tool's process over its runs; for diffoscope, the largest of its
own process and the tools it starts ({tools}).

*Coverage*: every member diffoscope reports as differing — one it compares and finds
different, or one on a changed line of a listing (`zipinfo`, `zipnote`, the tar `file list`) —
must be reported by reprobuild as well: a content difference by a difference found in that
member's content (not only in its header), a header difference by any difference at that
member, a member only on one side by that member (or its folder) reported missing or added, a
member that only moved by the archive's member-order difference, and a member that differs
only by its renamed top folder by the folder rename, which reprobuild reports once.
`benchmarks/diff.py` checks this on every run and names any member left uncovered.

Command: `{command}` — run on {today()} ({machine}; {versions_text}).

{render_table(rows)}

{render_goals(rows)}

{render_notes(rows)}

Start-up alone (a process that does no work), best of {runs}; a whole-process time above is
roughly this floor plus the work:

{render_startup(startup)}
"""


def render_startup(startup: dict[str, Run | None]) -> str:
    return "\n".join(
        f"- `{cmd}`: "
        + ("failed" if r is None else f"{r.seconds * 1000:.0f} ms, {r.max_rss_kib / 1024:.1f} MiB")
        for cmd, r in startup.items()
    )


# --- main --------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=RUNS, help="runs per tool (best is kept)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=TIMEOUT_SECONDS,
        help="seconds one run may take before it is killed and reported as a timeout",
    )
    parser.add_argument("--cache-dir", help="where inputs are kept (default: user cache dir)")
    parser.add_argument(
        "--no-docs", action="store_true", help="print the table only; leave docs/ alone"
    )
    return parser.parse_args(argv)


def iter_rows(
    pairs: Sequence[Pair],
    *,
    diffoscope: str,
    reprobuild: Sequence[str],
    meter: str,
    work: Path,
    runs: int,
    timeout: float,
) -> Iterator[Row]:
    for pair in pairs:
        log(f"{pair.spec.label}: {pair.a.name} vs {pair.b.name}, {runs} runs per tool")
        timings = time_pair(
            pair,
            diffoscope=diffoscope,
            reprobuild=reprobuild,
            meter=meter,
            work=work,
            runs=runs,
            timeout=timeout,
        )
        d, r = timings["diffoscope"], timings["reprobuild"]
        if d.output is not None and r.output is not None:
            coverage = check_coverage(d.output, r.output, pair.a.name)
        else:
            coverage = Coverage(error="a tool produced no document")
        for finding in coverage.uncovered:
            log(f"  not covered: {finding.name} ({finding.why}) {finding.via}")
        yield Row(pair=pair, diffoscope=d, reprobuild=r, coverage=coverage)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    runs: int = args.runs
    timeout: float = args.timeout
    machine = describe_machine()
    diffoscope, fuzzy = ensure_diffoscope()
    meter = ensure_gnu_time()
    reprobuild = installed_reprobuild(cache_root(args.cache_dir))
    compile_bytecode()
    pairs = fetch_pairs(cache_root(args.cache_dir))
    with tempfile.TemporaryDirectory(prefix="reprobuild-bench-") as tmp:
        rows = list(
            iter_rows(
                pairs,
                diffoscope=diffoscope,
                reprobuild=reprobuild,
                meter=meter,
                work=Path(tmp),
                runs=runs,
                timeout=timeout,
            )
        )
        startup = time_startups(
            {
                "reprobuild --version": [*reprobuild, "--version"],
                "diffoscope --version": [diffoscope, "--version"],
            },
            meter=meter,
            work=Path(tmp),
            runs=runs,
        )
    versions = {
        "Python": platform.python_version(),
        "reprobuild": reprobuild_version(reprobuild) + source_revision(),
        "diffoscope": diffoscope_version(diffoscope),
    }
    tools = ", ".join(t for t in DIFFOSCOPE_TOOLS if shutil.which(t)) or "none found"
    command = recorded_command("diff.py", sys.argv[1:] if argv is None else argv)
    section = scrub(
        render_section(
            rows,
            command=command,
            runs=runs,
            versions=versions,
            tools=tools,
            machine=machine,
            fuzzy=fuzzy,
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
