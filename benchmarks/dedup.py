"""Benchmark ``reprobuild dedup`` against Debian's ``rdfind`` and ``jdupes``.

One command, from the repository root::

    python benchmarks/dedup.py

It installs ``rdfind``, ``jdupes``, ``unzip`` and GNU ``time`` with apt-get when missing, and
gathers the inputs into a cache folder outside the repository:

- *index*: every file (wheels and sdist) of the releases listed in
  ``benchmarks/dedup_releases.txt``, downloaded through reprobuild's own index client (pip's
  index configuration, every file checked against the index's sha256). The list is made by a
  fixed rule, written in its header, from the package list the environment provides and the
  index pages: ``--refresh-list`` makes it again (``--package-list PATH``, or the environment
  variable ``REPROBUILD_PACKAGE_LIST``);
- *conda*: the real conda packages of the shared test data (``REPROBUILD_CONDA_DATA``, else
  ``shared/data/conda`` beside the repository), used where they are;
- *rattler-build*: the conda packages of ``tests/fixtures/dedup-conda/``, built with
  py-rattler-build (see its README), when that folder is there.

For each input, each side runs as whole processes, taking turns, the same number of runs:
``reprobuild dedup DIR --format json``; and each peer the way its users run it, on the
unpacked tree of the same files, unpacking included in its time: every package unpacked into
a folder of its own (``unzip`` for wheels and zip sdists, ``tar`` for ``.tar.gz`` and
``.tar.bz2``, and for ``.conda`` ``unzip`` then ``tar --zstd`` of its two inner tars),
then ``rdfind -dryrun true -outputname FILE TREE`` or ``jdupes -r -q -S TREE``. Wall time
(median and minimum) and peak resident memory (GNU ``time``'s ``%M``, the largest process of
each step) are measured around each process.

What they find is compared, at their level and at the package level (see the section's text):
each duplicate group the peers report is looked up in reprobuild's model of the same
packages. The Markdown goes to stdout and, under ``## dedup``, into ``docs/benchmarks.md``.
Progress and the commands run go to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import corpus
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
    recorded_command,
    reprobuild_version,
    scrub,
    source_revision,
    today,
    without_paths,
    write_section,
)
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

HEADING = "## dedup"
RUNS = 5
RELEASES = REPO / "benchmarks" / "dedup_releases.txt"
RATTLER = REPO / "tests" / "fixtures" / "dedup-conda"
CONDA_ENV = "REPROBUILD_CONDA_DATA"

#: The rule that makes :data:`RELEASES`: how far down the ranks to look, what a release must
#: have, and when to stop.
MAX_RANK = 60
MIN_WHEELS = 10
MAX_RELEASE_BYTES = 64 << 20
MIN_FILES = 200
MIN_RELEASES = 3

#: Goal: reprobuild at least this many times faster than unpacking and running rdfind.
SPEED_GOAL = 5.0
#: Below this many files the speed goal is not judged (the times are still shown): every side
#: is bound by its start-up there (an interpreter's imports against a shell's and a C
#: program's), not by the reading the goal is about.
SPEED_MIN_FILES = 100
#: The memory bound the README states: beyond what reading the largest package takes, each
#: package adds at most this much to the peak (its summary, its path, its place in the spill
#: file; a level holds only its groups of more than one package). Measured as the growth from
#: half of an input (every other file, and the largest) to all of it, so that both read the
#: same kinds of file and make the same kinds of comparison, and the largest member is in both.
PER_PACKAGE_KIB = 4
#: Below this many files the growth is not measured: the peak varies by a few hundred KiB
#: from run to run (the allocator), more than a few files add.
GROWTH_MIN_FILES = 100

APT_PACKAGES = ("rdfind", "jdupes", "unzip", "tar", "bzip2", "zstd", "time")

# --- the release list ----------------------------------------------------------------------


def rule_text() -> str:
    cutoff = corpus.CUTOFF.date().isoformat()
    return (
        "Going down the download ranks of the package list the environment provides (its "
        f"{corpus.RANK_COLUMN} column), from rank 1 to rank {MAX_RANK}, a project is taken when "
        f"its latest final release uploaded before {cutoff} (not yanked, not a pre- or "
        f"dev-release) has at least {MIN_WHEELS} wheels and all its files (wheels and sdists, "
        f"as its index page lists them) add up to at most {MAX_RELEASE_BYTES >> 20} MiB; "
        f"projects are taken until the releases have at least {MIN_FILES} files and there are "
        f"at least {MIN_RELEASES} releases. Every file of each release is benchmarked."
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Listed:
    """One line of the release list."""

    name: str
    version: str
    rank: int
    files: int
    wheels: int
    size: int

    @property
    def release(self) -> str:
        return f"{self.name}=={self.version}"


def release_files(
    name: str, version: Version, files: Iterable[Any], *, cutoff: datetime = corpus.CUTOFF
) -> list[Any]:
    """The files of one release of ``name`` on its page: not yanked, uploaded before
    ``cutoff``, a wheel or sdist name of this project and version."""
    chosen = []
    for file in files:
        if file.yanked or file.upload_time is None or file.upload_time >= cutoff:
            continue
        if file_version(name, file.filename) == version:
            chosen.append(file)
    return sorted(chosen, key=lambda f: f.filename)


def file_version(name: str, filename: str) -> Version | None:
    try:
        if filename.endswith(".whl"):
            found, version, _, _ = parse_wheel_filename(filename)
        else:
            found, version = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None
    return version if found == canonicalize_name(name) else None


def choose_releases(
    ranked: Sequence[tuple[int, str]], page: Any, *, skipped: dict[str, str]
) -> list[Listed]:
    """Apply the rule to ``ranked`` projects, asking ``page(name)`` for each one's files."""
    chosen: list[Listed] = []
    for rank, name in ranked:
        if sum(c.files for c in chosen) >= MIN_FILES and len(chosen) >= MIN_RELEASES:
            break
        files = page(name)
        releases = corpus.group_releases(name, files)
        final = [r for r in releases if not r.version.is_prerelease]
        if not final:
            skipped[name] = "no final release"
            continue
        latest = max(final, key=lambda r: r.version)
        mine = release_files(name, latest.version, files)
        wheels = sum(1 for f in mine if f.filename.endswith(".whl"))
        size = sum(f.size or 0 for f in mine)
        if wheels < MIN_WHEELS:
            skipped[name] = f"{wheels} wheel{'s' if wheels != 1 else ''}"
            continue
        if any(f.size is None for f in mine) or size > MAX_RELEASE_BYTES:
            skipped[name] = f"{human_size(size)} of files"
            continue
        chosen.append(
            Listed(
                name=name,
                version=str(latest.version),
                rank=rank,
                files=len(mine),
                wheels=wheels,
                size=size,
            )
        )
    return chosen


def render_list(chosen: Sequence[Listed], skipped: Mapping[str, str]) -> str:
    import textwrap

    lines = [
        "# Releases of `python benchmarks/dedup.py`: every file of each is an input of reprobuild",
        "# dedup, rdfind and jdupes. Made by `python benchmarks/dedup.py --refresh-list`; do not",
        "# edit by hand.",
        "#",
        *textwrap.wrap(rule_text(), width=94, initial_indent="# ", subsequent_indent="# "),
        "#",
        *textwrap.wrap(
            "Skipped on the way: "
            + "; ".join(f"{name} ({why})" for name, why in skipped.items())
            + ".",
            width=94,
            initial_indent="# ",
            subsequent_indent="# ",
        ),
        "#",
        f"# {len(chosen)} releases, {sum(c.files for c in chosen)} files, "
        f"{human_size(sum(c.size for c in chosen))}.",
    ]
    for c in chosen:
        lines.append(
            f"{c.release}  # rank {c.rank}, {c.files} files ({c.wheels} wheels), "
            f"{human_size(c.size)}"
        )
    return "\n".join(lines) + "\n"


def read_list(path: Path) -> list[tuple[str, str]]:
    """``(name, version)`` of each release of the list."""
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        text = line.split("#", 1)[0].strip()
        if text:
            name, _, version = text.partition("==")
            found.append((name.strip(), version.strip()))
    return found


def refresh_list(args: argparse.Namespace, cache: Path) -> None:
    from reprobuild.errors import ReprobuildError
    from reprobuild.index import IndexClient

    path = corpus.package_list_path(args.package_list, os.environ)
    ranks = corpus.parse_ranks(path.read_text(encoding="utf-8"))
    ranked = corpus.ranked_between(ranks, 1, MAX_RANK)
    client = IndexClient(cache_dir=cache / "index")

    def page(name: str) -> Any:
        log(f"index page of {name}")
        return corpus.load_pages(client, [name], cache / "dedup" / "index-pages")[name]

    skipped: dict[str, str] = {}
    try:
        chosen = choose_releases(ranked, page, skipped=skipped)
    except ReprobuildError as exc:
        hint = f"\nhint: {exc.hint}" if exc.hint else ""
        raise SystemExit(f"error: {scrub(str(exc))}{hint}") from None
    RELEASES.write_text(render_list(chosen, skipped), encoding="utf-8")
    log(f"wrote {len(chosen)} releases to {RELEASES.relative_to(REPO)}")


def fetch_index_corpus(cache: Path) -> Path:
    """Every file of every listed release, linked into one folder of the cache."""
    from reprobuild.index import IndexClient

    folder = cache / "dedup" / "index"
    client = IndexClient(cache_dir=cache / "index")
    wanted: set[str] = set()
    for name, version in read_list(RELEASES):
        files = corpus.load_pages(client, [name], cache / "dedup" / "index-pages")[name]
        mine = release_files(name, Version(version), files)
        if not mine:
            raise SystemExit(f"error: the index lists no file of {name}=={version}")
        target = folder / f"{canonicalize_name(name)}-{version}"
        target.mkdir(parents=True, exist_ok=True)
        for file in mine:
            dest = target / file.filename
            wanted.add(str(dest))
            if dest.is_file():
                continue
            log(f"download {file.filename}")
            got = client.download(file)
            try:
                os.link(got, dest)
            except OSError:
                shutil.copyfile(got, dest)
    stale = [p for p in folder.rglob("*") if p.is_file() and str(p) not in wanted]
    for path in stale:
        path.unlink()
    return folder


def conda_data() -> Path | None:
    folder = Path(os.environ.get(CONDA_ENV, REPO.parent / "shared" / "data" / "conda"))
    return folder if (folder / "README.md").is_file() else None


# --- measuring -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    seconds: float
    max_rss_kib: int
    exit_code: int


def ensure_tools() -> str:
    """GNU time's path, after installing whatever is missing."""
    missing = [
        t for t in ("rdfind", "jdupes", "unzip", "tar", "bunzip2", "zstd") if not shutil.which(t)
    ]
    meter = shutil.which("time")
    if missing or not meter:
        log(f"missing: {', '.join(missing) or 'GNU time'}: installing Debian's packages")
        apt_install(APT_PACKAGES)
        meter = shutil.which("time")
    if not meter:
        raise SystemExit("error: apt-get installed time but it is not on PATH")
    out = subprocess.run([meter, "--version"], capture_output=True, text=True, check=False)
    if "GNU" not in out.stdout + out.stderr:
        raise SystemExit(f"error: {meter} is not GNU time (Debian package: time)")
    return meter


def run_measured(cmd: Sequence[str], *, meter: str, stdout: Path, stderr: Path) -> Run:
    """``cmd`` run to completion: wall time, and GNU time's ``%M`` (the largest process of the
    tree it waited for, in KiB)."""
    report = stderr.with_suffix(".rss")
    report.unlink(missing_ok=True)
    with stdout.open("wb") as out, stderr.open("wb") as err:
        start = time.perf_counter()
        proc = subprocess.run(
            [meter, "-f", "%M", "-o", str(report), *cmd], stdout=out, stderr=err, check=False
        )
        elapsed = time.perf_counter() - start
    words = report.read_text(encoding="utf-8").split() if report.exists() else []
    return Run(
        seconds=elapsed,
        max_rss_kib=int(words[-1]) if words and words[-1].isdigit() else 0,
        exit_code=proc.returncode,
    )


def version_of(cmd: Sequence[str], package: str) -> str:
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    first = (out.stdout or out.stderr).strip().splitlines()
    found = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Version}", package],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return (first[0] if first else "unknown") + (f" (Debian package {found})" if found else "")


# --- unpacking, as a user of the peers must ------------------------------------------------


def unpack_script(packages: Sequence[Path], root: Path, tree: Path, scratch: Path) -> str:
    """A shell script that unpacks each package into ``tree/<its path below root>/``: a
    ``.conda`` is a zip of two zstd tars (``pkg-*`` and ``info-*``), unzipped into ``scratch``
    and both untarred, as conda's own format documentation describes."""
    lines = ["failed=0", 'fail() { echo "cannot unpack all of $1" >&2; failed=1; }']
    for package in packages:
        dest = tree / package.relative_to(root)
        src, out = shlex.quote(str(package)), shlex.quote(str(dest))
        shown = shlex.quote(str(package.relative_to(root)))
        lines.append(f"mkdir -p {out}")
        name = package.name
        if name.endswith((".whl", ".zip")):
            lines.append(f"unzip -qq -o {src} -d {out} || fail {shown}")
        elif name.endswith((".tar.gz", ".tgz")):
            lines.append(f"tar -xzf {src} -C {out} || fail {shown}")
        elif name.endswith(".tar.bz2"):
            lines.append(f"tar -xjf {src} -C {out} || fail {shown}")
        elif name.endswith(".conda"):
            parts = shlex.quote(str(scratch))
            lines += [
                f"rm -rf {parts} && mkdir -p {parts}",
                f"unzip -qq {src} -d {parts} || fail {shown}",
                f"for part in {parts}/pkg-*.tar.zst {parts}/info-*.tar.zst; do "
                f'tar --zstd -xf "$part" -C {out} || fail {shown}; done',
            ]
    # Like a user, carry on past a package that does not unpack whole; say so at the end.
    lines.append("exit 0")
    return "\n".join(lines) + "\n"


# --- what the peers report -----------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Found:
    """A peer's duplicate groups: each a list of paths below the tree, with the file size."""

    groups: tuple[tuple[int, tuple[str, ...]], ...]

    @property
    def duplicate_bytes(self) -> int:
        return sum(size * (len(paths) - 1) for size, paths in self.groups)

    @property
    def duplicate_files(self) -> int:
        return sum(len(paths) - 1 for _, paths in self.groups)

    def normalized(self) -> set[frozenset[str]]:
        return {frozenset(paths) for _, paths in self.groups}


def parse_rdfind(text: str, tree: Path) -> Found:
    groups: dict[int, tuple[int, list[str]]] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        fields = line.split(" ", 7)
        ident, size, name = abs(int(fields[1])), int(fields[3]), fields[7]
        groups.setdefault(ident, (size, []))[1].append(_below(name, tree))
    return Found(groups=tuple((size, tuple(paths)) for size, paths in groups.values()))


def parse_jdupes(text: str, tree: Path) -> Found:
    groups: list[tuple[int, tuple[str, ...]]] = []
    size, paths = 0, list[str]()
    for line in [*text.splitlines(), ""]:
        if not line:
            if paths:
                groups.append((size, tuple(paths)))
            size, paths = 0, list[str]()
        elif not paths and re.fullmatch(r"\d+ bytes? +each:", line):
            size = int(line.split()[0])
        else:
            paths.append(_below(line, tree))
    return Found(groups=tuple(groups))


def _below(name: str, tree: Path) -> str:
    path = Path(name)
    return str(path.relative_to(tree) if path.is_absolute() else path)


# --- comparing with reprobuild's model -----------------------------------------------------


@dataclass(slots=True, kw_only=True)
class Model:
    """reprobuild's members of each package, by the package's path below the input folder."""

    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    largest_member: int = 0
    largest_package: Path | None = None

    @classmethod
    def read(cls, packages: Sequence[Path], root: Path) -> Model:
        from reprobuild.dedup import read_package

        model = cls()
        largest = -1
        for path in packages:
            package = read_package(path)
            key = str(path.relative_to(root))
            model.entries[key] = {e.path.rstrip("/"): e for e in package.entries}
            for entry in package.entries:
                model.largest_member = max(model.largest_member, entry.size)
            if package.size > largest:
                largest, model.largest_package = package.size, path
        return model

    def split(self, path: str) -> tuple[str, str] | None:
        """``(package, member)`` of a path below the unpacked tree."""
        parts = Path(path).parts
        for cut in range(1, len(parts)):
            key = str(Path(*parts[:cut]))
            if key in self.entries:
                return key, str(Path(*parts[cut:]))
        return None

    def file_groups(self) -> tuple[int, int, int]:
        """Files with the same content as another: (groups, duplicate files, duplicate
        bytes), counting non-empty files only, as the peers do."""
        by_digest: dict[str, list[int]] = {}
        for members in self.entries.values():
            for entry in members.values():
                if entry.kind.value == "file" and entry.size > 0:
                    by_digest.setdefault(entry.sha256, []).append(entry.size)
        groups = [sizes for sizes in by_digest.values() if len(sizes) > 1]
        return (
            len(groups),
            sum(len(s) - 1 for s in groups),
            sum(s[0] * (len(s) - 1) for s in groups),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Coverage:
    groups: int  #: the peer's duplicate groups
    seen: int  #: of them, groups whose every file is a member of one content in reprobuild
    unmapped: tuple[str, ...]  #: files reprobuild has no member for (first few)
    split: tuple[str, ...]  #: groups reprobuild sees as more than one content (first few)


def check_files(found: Found, model: Model) -> Coverage:
    """Is every duplicate group of the peer one content in reprobuild's members?"""
    seen = 0
    unmapped: list[str] = []
    split: list[str] = []
    for _, paths in found.groups:
        digests = set()
        ok = True
        for path in paths:
            where = model.split(path)
            entry = model.entries[where[0]].get(where[1]) if where else None
            if entry is None:
                unmapped.append(path)
                ok = False
                continue
            digests.add(entry.sha256)
        if ok and len(digests) == 1:
            seen += 1
        elif ok:
            split.append(" = ".join(paths[:2]))
    return Coverage(
        groups=len(found.groups), seen=seen, unmapped=tuple(unmapped[:3]), split=tuple(split[:3])
    )


def whole_trees(found: Found, tree: Path, packages: Iterable[str]) -> list[tuple[str, ...]]:
    """Packages whose unpacked trees the peer finds duplicates of each other as a whole: the
    same relative paths, each file in one duplicate group with its namesake (empty files equal
    to empty files, links to links with the same target), folders aside."""
    group_of: dict[str, int] = {}
    for number, (_, paths) in enumerate(found.groups):
        for path in paths:
            group_of[path] = number
    signatures: dict[tuple[tuple[str, str], ...], list[str]] = {}
    for package in packages:
        top = tree / package
        items: list[tuple[str, str]] = []
        for directory, _, names in os.walk(top):
            for name in names:
                full = Path(directory, name)
                rel = str(full.relative_to(top))
                below = str(full.relative_to(tree))
                if full.is_symlink():
                    items.append((rel, "link:" + str(full.readlink())))
                elif below in group_of:
                    items.append((rel, f"group:{group_of[below]}"))
                elif full.stat().st_size == 0:
                    items.append((rel, "empty"))
                else:
                    items.append((rel, "unique:" + below))
        signatures.setdefault(tuple(sorted(items)), []).append(package)
    return [tuple(sorted(p)) for p in signatures.values() if len(p) > 1]


# --- one input -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Input:
    label: str
    root: Path
    packages: tuple[Path, ...]
    note: str

    @property
    def size(self) -> int:
        return sum(p.stat().st_size for p in self.packages)


@dataclass(slots=True, kw_only=True)
class Side:
    """One side's runs: each run's steps (unpacking, then the tool)."""

    runs: list[tuple[Run, ...]] = field(default_factory=list)
    error: str = ""

    def total(self, run: tuple[Run, ...]) -> float:
        return sum(r.seconds for r in run)

    @property
    def median(self) -> float:
        return statistics.median(self.total(r) for r in self.runs)

    @property
    def best(self) -> float:
        return min(self.total(r) for r in self.runs)

    def step_median(self, index: int) -> float:
        return statistics.median(r[index].seconds for r in self.runs)

    @property
    def peak_kib(self) -> int:
        return max(s.max_rss_kib for r in self.runs for s in r)

    def step_peak(self, index: int) -> int:
        return max(r[index].max_rss_kib for r in self.runs)


@dataclass(slots=True, kw_only=True)
class Result:
    input: Input
    sides: dict[str, Side]
    report: dict[str, Any]
    rdfind: Found
    jdupes: Found
    model: Model
    rdfind_cov: Coverage
    jdupes_cov: Coverage
    whole: list[tuple[str, ...]]
    whole_seen: int
    largest_alone: Run | None
    #: reprobuild on every other file and the largest: (files, peak KiB over its runs)
    half: tuple[int, int] | None
    unpack_errors: tuple[str, ...]
    whole_why: tuple[str, ...]  #: for each whole group reprobuild keeps apart, what it says
    #: of those, the groups kept apart only by executable bits, which the peers do not compare
    whole_modes: int


SIDES = ("reprobuild", "rdfind", "jdupes")


def measure(item: Input, *, reprobuild: Sequence[str], meter: str, work: Path, runs: int) -> Result:
    log(f"{item.label}: {len(item.packages)} files, {human_size(item.size)}, {runs} runs a side")
    sides = {name: Side() for name in SIDES}
    tree = work / "tree"
    script = work / "unpack.sh"
    script.write_text(
        unpack_script(item.packages, item.root, tree, work / "conda-parts"), encoding="utf-8"
    )
    outputs: dict[str, Path] = {}
    rdfind_found = jdupes_found = Found(groups=())
    whole: list[tuple[str, ...]] = []
    unpack_errors: list[str] = []
    for i in range(runs):
        for name, side in sides.items():
            if side.error:
                continue
            shutil.rmtree(tree, ignore_errors=True)
            subprocess.run(["sync"], check=False)
            out, err = work / f"{name}.{i}.out", work / f"{name}.{i}.err"
            steps: list[Run] = []
            if name == "reprobuild":
                cmd = [*reprobuild, "dedup", str(item.root), "--format", "json"]
                log("$ " + shlex.join(cmd))
                steps.append(run_measured(cmd, meter=meter, stdout=out, stderr=err))
                ok = steps[-1].exit_code in (0, 1)
            else:
                unpack = run_measured(
                    ["sh", str(script)], meter=meter, stdout=out, stderr=err.with_suffix(".u")
                )
                steps.append(unpack)
                if i == 0 and name == "rdfind":
                    complaints = err.with_suffix(".u").read_text(encoding="utf-8", errors="replace")
                    unpack_errors = [
                        scrub(line) for line in complaints.splitlines() if line.strip()
                    ]
                if unpack.exit_code != 0:
                    side.error = "unpacking failed: " + _tail(err.with_suffix(".u"))
                    continue
                if name == "rdfind":
                    results = work / f"rdfind.{i}.txt"
                    cmd = ["rdfind", "-dryrun", "true", "-outputname", str(results), str(tree)]
                else:
                    results = out
                    cmd = ["jdupes", "-r", "-q", "-S", str(tree)]
                log("$ " + shlex.join(cmd))
                steps.append(run_measured(cmd, meter=meter, stdout=out, stderr=err))
                ok = steps[-1].exit_code == 0
                if ok and i == 0:
                    text = results.read_text(encoding="utf-8", errors="surrogateescape")
                    found = (parse_rdfind if name == "rdfind" else parse_jdupes)(text, tree)
                    if name == "rdfind":
                        rdfind_found = found
                        keys = [str(p.relative_to(item.root)) for p in item.packages]
                        whole = whole_trees(found, tree, keys)
                    else:
                        jdupes_found = found
            if not ok:
                side.error = f"exit {steps[-1].exit_code}: {_tail(err)}"
                continue
            side.runs.append(tuple(steps))
            outputs.setdefault(name, out)
            log(
                f"  {name}: {sum(s.seconds for s in steps):.2f} s, "
                f"{max(s.max_rss_kib for s in steps) / 1024:.1f} MiB"
            )
    shutil.rmtree(tree, ignore_errors=True)
    report: dict[str, Any] = (
        json.loads(outputs["reprobuild"].read_text(encoding="utf-8"))
        if "reprobuild" in outputs
        else {}
    )
    model = Model.read(item.packages, item.root)
    groups = _members_groups(report, item.root)
    whole_seen = sum(1 for g in whole if any(set(g) <= m for m in groups))
    missed = [g for g in whole if not any(set(g) <= m for m in groups)]
    whole_why = tuple(_why_apart(report, g, item.root) for g in missed)
    whole_modes = sum(1 for g in missed if _apart_by_modes_only(report, g, item.root))
    largest_alone = None
    half = None
    if model.largest_package is not None:
        cmd = [*reprobuild, "dedup", str(model.largest_package), "--format", "json"]
        largest_alone = run_measured(
            cmd, meter=meter, stdout=work / "largest.out", stderr=work / "largest.err"
        )
        chosen = sorted(set(item.packages[::2]) | {model.largest_package})
        if len(item.packages) >= GROWTH_MIN_FILES:
            cmd = [*reprobuild, "dedup", *map(str, chosen), "--format", "json"]
            peaks = [
                run_measured(cmd, meter=meter, stdout=work / "half.out", stderr=work / "half.err")
                for _ in range(runs)
            ]
            if all(r.exit_code in (0, 1) for r in peaks):
                half = (len(chosen), max(r.max_rss_kib for r in peaks))
    return Result(
        input=item,
        sides=sides,
        report=report,
        rdfind=rdfind_found,
        jdupes=jdupes_found,
        model=model,
        rdfind_cov=check_files(rdfind_found, model),
        jdupes_cov=check_files(jdupes_found, model),
        whole=whole,
        whole_seen=whole_seen,
        largest_alone=largest_alone,
        half=half,
        unpack_errors=tuple(unpack_errors),
        whole_why=whole_why,
        whole_modes=whole_modes,
    )


def _why_apart(report: Mapping[str, Any], packages: Sequence[str], root: Path) -> str:
    """What reprobuild's report says keeps ``packages`` (paths below ``root``) apart."""
    wanted = set(packages)
    for found in report.get("apart", []):
        pair = {str(Path(found["a"]).relative_to(root)), str(Path(found["b"]).relative_to(root))}
        if pair <= wanted:
            members = "; ".join(f"`{m['path']}`: {m['comment']}" for m in found["members"][:3])
            return f"{' and '.join(f'`{p}`' for p in sorted(pair))}: {members}"
    return f"{' and '.join(f'`{p}`' for p in packages)}: not explained by the report"


def _apart_by_modes_only(report: Mapping[str, Any], packages: Sequence[str], root: Path) -> bool:
    """Whether all that reprobuild's report names between ``packages`` is executable bits:
    the peers compare contents only, so such packages are found, and told apart by more."""
    wanted = set(packages)
    for found in report.get("apart", []):
        pair = {str(Path(found["a"]).relative_to(root)), str(Path(found["b"]).relative_to(root))}
        if pair <= wanted:
            return bool(found["members"]) and all(
                str(m.get("comment", "")).startswith("the executable bit") for m in found["members"]
            )
    return False


def _members_groups(report: Mapping[str, Any], root: Path) -> list[set[str]]:
    for level in report.get("levels", []):
        if level["level"] == "members":
            return [
                {str(Path(p).relative_to(root)) for p in g["packages"]} for g in level["group_list"]
            ]
    return []


def _tail(path: Path) -> str:
    lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return scrub(" / ".join(lines[-3:]))


# --- the section ---------------------------------------------------------------------------


def _s(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _mib(kib: int) -> str:
    return f"{kib / 1024:.1f} MiB"


def _level(report: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    for level in report.get("levels", []):
        if level["level"] == name:
            found: Mapping[str, Any] = level
            return found
    return {}


def render_time_table(results: Sequence[Result], runs: int) -> str:
    rows = [
        "| input | side | time, median (min) of "
        f"{runs} | of which unpacking | peak memory | speed-up of reprobuild (medians) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in results:
        mine = r.sides["reprobuild"]
        for name in SIDES:
            side = r.sides[name]
            label = (
                f"{r.input.label} ({len(r.input.packages)} files, {human_size(r.input.size)})"
                if name == "reprobuild"
                else ""
            )
            if side.error or not side.runs:
                rows.append(f"| {label} | {name} | failed: {side.error} | | | |")
                continue
            what = (
                "`reprobuild dedup DIR --format json`"
                if name == "reprobuild"
                else "unpack + `rdfind -dryrun true`"
                if name == "rdfind"
                else "unpack + `jdupes -r -q -S`"
            )
            unpacking = "" if name == "reprobuild" else _s(side.step_median(0))
            speed = (
                ""
                if name == "reprobuild" or mine.error or not mine.runs
                else f"{side.median / mine.median:.1f}x"
            )
            rows.append(
                f"| {label} | {what} | {_s(side.median)} ({_s(side.best)}) | {unpacking} | "
                f"{_mib(side.peak_kib)} | {speed} |"
            )
    return "\n".join(rows)


def render_found_table(results: Sequence[Result]) -> str:
    rows = [
        "| input | rdfind: duplicate groups / files / bytes | jdupes: groups / files / bytes | "
        "reprobuild members: groups / files / bytes | peers' groups one content in reprobuild "
        "| packages the peers find whole duplicates (groups) | of those, grouped by reprobuild "
        "at `members` | reprobuild groups: bytes / members / canonical / payload | "
        "bytes a mirror saves: bytes / members / canonical / payload |",
        "|---|---|---|---|---|---:|---:|---|---|",
    ]
    for r in results:
        groups, files, size = r.model.file_groups()
        merged = " / ".join(
            str(_level(r.report, level).get("merged_groups", "?"))
            for level in ("bytes", "members", "canonical", "payload")
        )
        saved = " / ".join(
            human_size(int(_level(r.report, level).get("bytes_saved", 0)))
            for level in ("bytes", "members", "canonical", "payload")
        )
        rows.append(
            f"| {r.input.label} "
            f"| {len(r.rdfind.groups)} / {r.rdfind.duplicate_files} / "
            f"{human_size(r.rdfind.duplicate_bytes)} "
            f"| {len(r.jdupes.groups)} / {r.jdupes.duplicate_files} / "
            f"{human_size(r.jdupes.duplicate_bytes)} "
            f"| {groups} / {files} / {human_size(size)} "
            f"| rdfind {r.rdfind_cov.seen}/{r.rdfind_cov.groups}, "
            f"jdupes {r.jdupes_cov.seen}/{r.jdupes_cov.groups} "
            f"| {sum(len(g) for g in r.whole)} ({len(r.whole)}) "
            f"| {r.whole_seen}/{len(r.whole)} "
            f"| {merged} | {saved} |"
        )
    return "\n".join(rows)


def render_memory(results: Sequence[Result], startup: Run | None) -> str:
    lines = []
    for r in results:
        side = r.sides["reprobuild"]
        if side.error or not side.runs or r.largest_alone is None:
            continue
        lines.append(
            f"- {r.input.label}: {_mib(side.peak_kib)} on all {len(r.input.packages)} files "
            f"({human_size(r.input.size)}, {human_size(int(r.report['store']['member_bytes']))} "
            f"of members); {_mib(r.largest_alone.max_rss_kib)} on its largest file alone "
            f"(`{r.model.largest_package.name if r.model.largest_package else '?'}`); "
            f"largest member {human_size(r.model.largest_member)}; "
            + (
                f"about {(side.peak_kib - r.largest_alone.max_rss_kib) / (n - 1):.1f} KiB more "
                "for each other file"
                if (n := len(r.input.packages)) > 1
                else ""
            )
            + (
                f"; {_mib(r.half[1])} on {r.half[0]} of the files (every other one and the "
                f"largest), so {_growth(r):.1f} KiB for each file beyond those"
                if r.half is not None
                else ""
            )
        )
    if startup is not None:
        lines.append(f"- start-up alone (`reprobuild --version`): {_mib(startup.max_rss_kib)}")
    return "\n".join(lines)


def _verdict(met: bool | None) -> str:
    return "not measured" if met is None else "met" if met else "not met"


def _growth(r: Result) -> float:
    """KiB of peak memory per file, from half of the input to all of it."""
    assert r.half is not None
    more = len(r.input.packages) - r.half[0]
    return (r.sides["reprobuild"].peak_kib - r.half[1]) / more


def render_goals(results: Sequence[Result], startup: Run | None) -> str:
    lines = ["Goals:", ""]
    if startup is not None:
        lines += [
            "(On an input of a few small files every side is bound by its start-up: "
            f"`reprobuild --version` alone takes {_s(startup.seconds)}. The speed goal is "
            f"judged on inputs of {SPEED_MIN_FILES} files or more.)",
            "",
        ]
    for r in results:
        mine, peer = r.sides["reprobuild"], r.sides["rdfind"]
        if mine.error or peer.error or not mine.runs or not peer.runs:
            lines.append(f"- {r.input.label}: not measured (a side failed)")
            continue
        speed = peer.median / mine.median
        covered = (
            r.rdfind_cov.seen == r.rdfind_cov.groups
            and r.jdupes_cov.seen == r.jdupes_cov.groups
            and r.whole_seen + r.whole_modes == len(r.whole)
        )
        extra = int(_level(r.report, "payload").get("merged_groups", 0)) - int(
            _level(r.report, "members").get("merged_groups", 0)
        )
        floor = startup.max_rss_kib if startup else 0
        over_corpus = mine.peak_kib - floor
        over_largest = (r.largest_alone.max_rss_kib - floor) if r.largest_alone else 0
        bounded: bool | None
        if r.half is not None:
            growth = _growth(r)
            bounded = growth <= PER_PACKAGE_KIB
            bound_text = (
                f"{growth:.1f} KiB more peak memory for each file from {r.half[0]} of the "
                f"{len(r.input.packages)} files to all of them, against at most "
                f"{PER_PACKAGE_KIB} KiB"
            )
        else:
            bounded = None
            bound_text = f"fewer than {GROWTH_MIN_FILES} files: the growth per file is not measured"
        apart = (
            f"; the other{'s' if len(r.whole_why) > 1 else ''} named apart by reprobuild "
            "(see the checks below)"
            + (
                f", {r.whole_modes} of {len(r.whole_why)} by an executable bit alone, which the "
                "peers do not compare"
                if r.whole_modes
                else ""
            )
            if r.whole_why
            else ""
        )
        lines += [
            f"- {r.input.label}: finds everything the peers find: "
            f"{'met' if covered else 'not met'} (file groups one content of reprobuild's "
            f"members: rdfind's {r.rdfind_cov.seen}/{r.rdfind_cov.groups}, jdupes's "
            f"{r.jdupes_cov.seen}/{r.jdupes_cov.groups}; packages they find duplicated whole "
            f"grouped at `members`: {r.whole_seen}/{len(r.whole)}{apart}), plus {extra} "
            f"group{'s' if extra != 1 else ''} of more than one that only `canonical` or "
            "`payload` makes",
            f"  - at least {SPEED_GOAL:.0f}x faster than unpack + rdfind (medians): "
            + (
                f"{'met' if speed >= SPEED_GOAL else 'not met'} ({speed:.1f}x)"
                if len(r.input.packages) >= SPEED_MIN_FILES
                else f"not judged ({speed:.1f}x; fewer than {SPEED_MIN_FILES} files: bound by "
                "start-up)"
            ),
            f"  - memory bounded by the largest member, not the corpus: "
            f"{_verdict(bounded)} ({bound_text}; over the start-up floor: "
            f"{_mib(over_corpus)} on the whole input, {_mib(over_largest)} on its largest "
            f"file alone; largest member {human_size(r.model.largest_member)})",
        ]
    return "\n".join(lines)


def render_notes(results: Sequence[Result]) -> str:
    notes = []
    for r in results:
        if r.unpack_errors:
            shown = "; ".join(f"`{e}`" for e in r.unpack_errors[:4])
            more = len(r.unpack_errors) - 4
            notes.append(
                f"- {r.input.label}: unpacking for the peers complained (and went on, as a user "
                f"would): {shown}" + (f" and {more} more lines" if more > 0 else "")
            )
        for name, cov in (("rdfind", r.rdfind_cov), ("jdupes", r.jdupes_cov)):
            if cov.unmapped:
                notes.append(
                    f"- {r.input.label}: {name}'s files with no member in reprobuild's model: "
                    + ", ".join(f"`{p}`" for p in cov.unmapped)
                )
            if cov.split:
                notes.append(
                    f"- {r.input.label}: {name}'s groups reprobuild sees as other contents: "
                    + ", ".join(f"`{p}`" for p in cov.split)
                )
        for why in r.whole_why:
            notes.append(
                f"- {r.input.label}: packages the peers find duplicated whole that reprobuild "
                f"keeps apart at every level, naming what differs: {why}"
            )
        if r.rdfind.normalized() != r.jdupes.normalized():
            only_r = len(r.rdfind.normalized() - r.jdupes.normalized())
            only_j = len(r.jdupes.normalized() - r.rdfind.normalized())
            notes.append(
                f"- {r.input.label}: rdfind and jdupes disagree: {only_r} groups only rdfind "
                f"reports, {only_j} only jdupes"
            )
        else:
            notes.append(f"- {r.input.label}: rdfind and jdupes report the same groups")
    return "\n".join(notes)


def render_section(
    results: Sequence[Result],
    *,
    command: str,
    runs: int,
    machine: str,
    versions: Mapping[str, str],
    startup: Run | None,
    inputs_text: str,
) -> str:
    versions_text = ", ".join(f"{k} {v}" for k, v in versions.items())
    return f"""{HEADING}

`reprobuild dedup DIR --format json` against Debian's `rdfind` and `jdupes`, which find
identical files. They read files, not packages, so each of their runs first unpacks every
package into a folder of its own, as their user would have to, and that is part of their time:
`unzip -qq` for wheels, `tar -xzf` for sdists, `tar -xjf` for `.tar.bz2` conda packages, and
for a `.conda` package (a zip of two zstd tars) `unzip` and then `tar --zstd -xf` of its
`pkg-*` and `info-*` tars, all from one shell script. (conda-package-streaming's `extract`,
what `cph x` runs, stops with "seeking backwards is not allowed" on the zlib `.conda` packages,
which hold symbolic links.) Then `rdfind -dryrun true -outputname FILE TREE` (report only, as a
user first runs it) or `jdupes -r -q -S TREE` (every set of duplicates with its size).
reprobuild reads the packages as they are. Each side runs {runs} times as whole processes,
taking turns, on a fresh tree each time (the previous one removed and the file system synced,
untimed); time is the median with the minimum beside it. Peak memory is the largest maximum
resident set size GNU `time -f %M` reported for any step of the side (the unpacking script
counts its largest child) over its runs. The memory goal is checked against the bound the
README states (what reading the largest package takes, plus about {PER_PACKAGE_KIB} KiB per
package): on an input of at least {GROWTH_MIN_FILES} files, reprobuild also runs {runs} times
on every other file and the largest, and the growth of its peak from there to the whole
input, per file added, must stay under {PER_PACKAGE_KIB} KiB. Both runs hold the same largest
member, read the same kinds of file and make the same kinds of comparison, so what grows is
what is kept per package, and not the bytes read (half the corpus's bytes come on top).

Inputs: {inputs_text}

*What "finds everything they find" means.* The peers find files with the same bytes; across
packages that is the same member in two packages. reprobuild's `members` level keys each member
by its content digest (`--store` keeps each such content once, and the report's `members: …
distinct` line counts it once). So, at the file level, each duplicate group rdfind or jdupes
reports is looked up, file by file, in reprobuild's model of the same packages (the unpacked
path is the package and the member path): the group is *seen* when every file is a member with
one content digest. Empty files are left out on every side (both peers skip them by default).
At the package level, the peers say nothing by themselves; the closest they come is two
unpacked trees in which every file is in a duplicate group with its namesake (the same paths,
empty files and link targets equal): such packages must share a group of reprobuild's
`members` level, which also groups them across formats, unless a member's executable bit
differs: the peers compare content only, `members` also compares that bit (it changes what
gets installed), and the report then names the member. What reprobuild finds beyond that is
the groups of `canonical` and `payload`, which no file-level tool can see, since a package's
metadata differs there by at least one byte.

Command: `{command}` — run on {today()} ({machine}; {versions_text}).

{render_time_table(results, runs)}

What each finds (file level: groups of files with the same non-empty content, the files beyond
the first of each, and their bytes; package level: groups of more than one package, and the
bytes of the package files a channel or mirror would not keep):

{render_found_table(results)}

{render_goals(results, startup)}

Memory of reprobuild (peak resident set size):

{render_memory(results, startup)}

Checks of the peers' outputs:

{render_notes(results)}
"""


# --- main ----------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=RUNS, help="runs per side (median kept)")
    parser.add_argument("--cache-dir", help="where inputs are kept (default: user cache dir)")
    parser.add_argument(
        "--refresh-list",
        action="store_true",
        help=f"make {RELEASES.name} again from the package list and the index, then run",
    )
    parser.add_argument(
        "--package-list",
        metavar="PATH",
        help=f"the package list for --refresh-list (default: ${corpus.PACKAGE_LIST_ENV})",
    )
    parser.add_argument(
        "--no-docs", action="store_true", help="print the section only; leave docs/ alone"
    )
    return parser.parse_args(argv)


def gather(cache: Path) -> tuple[list[Input], str]:
    from reprobuild.dedup import find_packages

    inputs: list[Input] = []
    index = fetch_index_corpus(cache)
    releases = read_list(RELEASES)
    inputs.append(
        Input(
            label="index",
            root=index,
            packages=tuple(find_packages([index])),
            note=f"every file of {len(releases)} releases ("
            + ", ".join(f"{n} {v}" for n, v in releases)
            + f"), chosen by the rule in the header of `{RELEASES.relative_to(REPO)}`",
        )
    )
    data = conda_data()
    if data is not None:
        inputs.append(
            Input(
                label="conda",
                root=data,
                packages=tuple(find_packages([data])),
                note="the real conda packages of the shared test data (zlib for four "
                "platforms in both formats, a package built for py27 and as noarch, small "
                "packages in both formats; made by conda-build and conda-package-handling, "
                "from conda's and conda-build's test data, BSD 3-Clause, Copyright (c) 2012, "
                "Anaconda, Inc.)",
            )
        )
    else:
        log(f"no shared conda data (set {CONDA_ENV}): that input is left out")
    if RATTLER.is_dir():
        inputs.append(
            Input(
                label="rattler-build",
                root=RATTLER,
                packages=tuple(find_packages([RATTLER])),
                note=f"the conda packages of `{RATTLER.relative_to(REPO)}`, built offline with "
                "py-rattler-build: one wheel packaged for several Python variants, and two "
                "builds of one recipe made at different times, in both formats",
            )
        )
    text = "; ".join(f"*{i.label}*, {i.note}" for i in inputs) + "."
    return inputs, text


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    given = sys.argv[1:] if argv is None else list(argv)
    cache = cache_root(args.cache_dir)
    if args.refresh_list:
        refresh_list(args, cache)
    machine = describe_machine()
    meter = ensure_tools()
    reprobuild = installed_reprobuild(cache)
    compile_bytecode()
    inputs, inputs_text = gather(cache)
    results = []
    with tempfile.TemporaryDirectory(prefix="reprobuild-bench-") as tmp:
        for item in inputs:
            work = Path(tmp, item.label)
            work.mkdir()
            results.append(
                measure(item, reprobuild=reprobuild, meter=meter, work=work, runs=args.runs)
            )
        startup = run_measured(
            [*reprobuild, "--version"],
            meter=meter,
            stdout=Path(tmp, "v.out"),
            stderr=Path(tmp, "v.err"),
        )
    versions = {
        "Python": platform.python_version(),
        "reprobuild": reprobuild_version(reprobuild) + source_revision(),
        "rdfind": version_of(["rdfind", "--version"], "rdfind").removeprefix(
            "This is rdfind version "
        ),
        "jdupes": version_of(["jdupes", "--version"], "jdupes").removeprefix("jdupes "),
        "unzip": " ".join(version_of(["unzip", "-v"], "unzip").split()[1:2]),
    }
    command = recorded_command("dedup.py", without_paths(given))
    section = scrub(
        render_section(
            results,
            command=command,
            runs=args.runs,
            machine=machine,
            versions=versions,
            startup=startup,
            inputs_text=inputs_text,
        )
    )
    print(section)
    if not args.no_docs:
        write_section(DOCS, HEADING, section)
        log(f"wrote the {HEADING!r} section of {DOCS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
