"""The population sample of the verify benchmark: a list of releases made by a fixed rule.

The rule (:func:`rule_text`) starts from the ranks of the package list the environment
provides, a tab-separated file whose header names a column ``rank_among_15000_most_downloaded``
(blank: not ranked); its path is given with ``--package-list`` or the environment variable
``REPROBUILD_PACKAGE_LIST``. Each project ranked 701 to 1500 is looked up on the package index
(reprobuild's own client, so pip's configuration holds), and its releases are judged from the
file names and upload times of its page alone: nothing is downloaded. The sample is written to
``benchmarks/verify_sample.txt`` with the rule, the cut-off and the counts in its header, one
``NAME==VERSION`` line per release with its half, so that it can be read, reviewed and made
again.

Everything here but :func:`load_pages` and :func:`package_list_path` is pure: the package
list's text and the index's files in, the sample out.
"""

from __future__ import annotations

import enum
import hashlib
import json
import os
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from reprobuild.index import IndexFile
from reprobuild.strategy import is_pure

__all__ = [
    "CUTOFF",
    "OLD_COUNT",
    "OLD_WINDOW",
    "PACKAGE_LIST_ENV",
    "RANKS",
    "RANK_COLUMN",
    "Corpus",
    "Entry",
    "Half",
    "PageSource",
    "Release",
    "build_corpus",
    "group_releases",
    "half_of",
    "latest_release",
    "load_pages",
    "old_release",
    "package_list_path",
    "parse_corpus",
    "parse_ranks",
    "ranked_between",
    "render_corpus",
    "rule_text",
]

#: The column of the package list that ranks the most downloaded projects.
RANK_COLUMN = "rank_among_15000_most_downloaded"
#: The ranks whose projects are sampled, both ends included.
RANKS = (701, 1500)
#: Only files uploaded before this instant count, so that the sample does not move with time.
CUTOFF = datetime(2026, 12, 1, tzinfo=UTC)
#: How many projects also give a release of :data:`OLD_WINDOW`.
OLD_COUNT = 150
#: The upload years of the old releases: from the first instant, up to the second (excluded).
OLD_WINDOW = (datetime(2019, 1, 1, tzinfo=UTC), datetime(2023, 1, 1, tzinfo=UTC))
#: The environment variable that names the package list when ``--package-list`` is not given.
PACKAGE_LIST_ENV = "REPROBUILD_PACKAGE_LIST"


class Half(enum.Enum):
    """Which half of the sample a project is in: rules are developed on ``dev``, judged on
    ``test``."""

    DEV = "dev"
    TEST = "test"


@dataclass(frozen=True, slots=True, kw_only=True)
class Release:
    """One release of a project, as the file names and upload times of its page show it.

    ``uploaded`` is the upload time of its earliest file; only the files that count (not
    yanked, uploaded before the cut-off) are described.
    """

    name: str
    version: Version
    uploaded: datetime
    sdists: int
    pure_wheels: int
    compiled_wheels: int

    @property
    def qualifies(self) -> bool:
        """True when the release has an sdist and at least one pure wheel."""
        return self.sdists > 0 and self.pure_wheels > 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One line of the sample: a release, its half, and what the index showed of it."""

    name: str
    version: str
    half: Half
    old: bool
    rank: int
    uploaded: str  #: ``YYYY-MM``
    pure_wheels: int
    compiled_wheels: int

    @property
    def release(self) -> str:
        """``NAME==VERSION``, as ``reprobuild verify`` takes it."""
        return f"{self.name}=={self.version}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Corpus:
    """The sample, with the counts of the projects the rule left out and why."""

    entries: tuple[Entry, ...]
    cutoff: datetime = CUTOFF
    ranked: int = 0  #: projects ranked in :data:`RANKS`
    excluded: Mapping[str, int] = field(default_factory=dict)  #: reason -> projects

    def select(self, *, half: Half | None = None, old: bool | None = None) -> list[Entry]:
        """The entries of ``half`` (both when None), old or latest (both when None)."""
        return [
            e
            for e in self.entries
            if (half is None or e.half is half) and (old is None or e.old is old)
        ]


# --- the rule --------------------------------------------------------------------------------


def rule_text(cutoff: datetime = CUTOFF) -> str:
    """The rule, as written in the sample's header and in the benchmark's report."""
    low, high = RANKS
    first, end = OLD_WINDOW
    return (
        f"Every project ranked {low} to {high} in the column {RANK_COLUMN} of the package "
        "list the environment provides (blank: not ranked). Of its files on the index, only "
        f"those not yanked and uploaded before {_instant(cutoff)} count. Its latest release is "
        "the highest version among them that is neither a pre-release nor a development "
        "release; the project is sampled when that release has an sdist (.tar.gz or .zip) and "
        "at least one pure wheel (every tag of the file name has ABI none and platform any), "
        "compiled wheels beside it included, as the file names on the index page say. Old "
        "releases: the sampled projects are taken in order of sha256 of the name (as packaging "
        f"canonicalizes it), lowest first, and each of the first {OLD_COUNT} that has another "
        "final release with an sdist and a pure wheel whose earliest file was uploaded from "
        f"{first.year} to {end.year - 1} (UTC) gives the highest version of those. Halves: a "
        "project and its releases are dev when the low bit of sha256 of 'split:' + name is 0, "
        "test when it is 1."
    )


def half_of(name: str) -> Half:
    """The half of project ``name``: the low bit of sha256 of ``split:`` + its canonical name."""
    digest = hashlib.sha256(f"split:{canonicalize_name(name)}".encode()).digest()
    return Half.TEST if digest[-1] & 1 else Half.DEV


def _old_order(name: str) -> str:
    return hashlib.sha256(canonicalize_name(name).encode()).hexdigest()


def parse_ranks(text: str) -> dict[str, int]:
    """The ranked projects of a package list: canonical name -> rank.

    The first line names the columns; ``name`` and :data:`RANK_COLUMN` must be among them. A
    blank rank means not ranked; a rank that is not a whole number is refused.
    """
    lines = text.splitlines()
    if not lines:
        raise ValueError("the package list is empty")
    header = lines[0].split("\t")
    for column in ("name", RANK_COLUMN):
        if column not in header:
            raise ValueError(f"the package list has no column {column!r} in its first line")
    name_at, rank_at = header.index("name"), header.index(RANK_COLUMN)
    ranks: dict[str, int] = {}
    for number, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        if len(cells) <= max(name_at, rank_at) or not cells[rank_at].strip():
            continue
        try:
            rank = int(cells[rank_at])
        except ValueError:
            raise ValueError(
                f"line {number}: the rank {cells[rank_at]!r} is not a number"
            ) from None
        ranks.setdefault(canonicalize_name(cells[name_at]), rank)
    return ranks


def ranked_between(ranks: Mapping[str, int], low: int, high: int) -> list[tuple[int, str]]:
    """The ``(rank, name)`` pairs with ``low <= rank <= high``, by rank then name."""
    return sorted((rank, name) for name, rank in ranks.items() if low <= rank <= high)


def group_releases(
    name: str, files: Iterable[IndexFile], *, cutoff: datetime = CUTOFF
) -> list[Release]:
    """The releases of project ``name`` that ``files`` show, by version, lowest first.

    Only files that count are read: not yanked, with a known upload time before ``cutoff``, a
    wheel or sdist file name of this project. A wheel is pure when :func:`is_pure` says so (the
    tags of its name alone).
    """
    project = canonicalize_name(name)
    found: dict[Version, _Tally] = {}
    for file in files:
        if file.yanked or file.upload_time is None or file.upload_time >= cutoff:
            continue
        try:
            if file.filename.endswith(".whl"):
                file_name, version, _, _ = parse_wheel_filename(file.filename)
            else:
                file_name, version = parse_sdist_filename(file.filename)
        except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
            continue
        if file_name != project:
            continue
        tally = found.setdefault(version, _Tally(uploaded=file.upload_time))
        tally.uploaded = min(tally.uploaded, file.upload_time)
        if not file.filename.endswith(".whl"):
            tally.sdists += 1
        elif is_pure(file.filename):
            tally.pure_wheels += 1
        else:
            tally.compiled_wheels += 1
    return [
        Release(
            name=project,
            version=version,
            uploaded=tally.uploaded,
            sdists=tally.sdists,
            pure_wheels=tally.pure_wheels,
            compiled_wheels=tally.compiled_wheels,
        )
        for version, tally in sorted(found.items())
    ]


@dataclass(slots=True, kw_only=True)
class _Tally:
    uploaded: datetime
    sdists: int = 0
    pure_wheels: int = 0
    compiled_wheels: int = 0


def _final(releases: Sequence[Release]) -> list[Release]:
    return [r for r in releases if not r.version.is_prerelease]


def latest_release(releases: Sequence[Release]) -> tuple[Release | None, str]:
    """The project's latest final release when it qualifies, else None and the reason."""
    final = _final(releases)
    if not final:
        return None, "no final release before the cut-off"
    latest = max(final, key=lambda r: r.version)
    if latest.pure_wheels == 0:
        reason = "only compiled wheels" if latest.compiled_wheels else "no wheel"
        return None, f"latest release has {reason}"
    if latest.sdists == 0:
        return None, "latest release has a pure wheel but no sdist"
    return latest, ""


def old_release(
    releases: Sequence[Release],
    *,
    besides: Version,
    window: tuple[datetime, datetime] = OLD_WINDOW,
) -> Release | None:
    """The highest qualifying final release first uploaded in ``window``, other than
    ``besides``."""
    start, end = window
    fits = [
        r
        for r in _final(releases)
        if r.qualifies and r.version != besides and start <= r.uploaded < end
    ]
    return max(fits, key=lambda r: r.version) if fits else None


def build_corpus(
    ranked: Sequence[tuple[int, str]],
    pages: Mapping[str, Sequence[IndexFile]],
    *,
    cutoff: datetime = CUTOFF,
    old_count: int = OLD_COUNT,
) -> Corpus:
    """The sample from the ranked projects and their index pages (a project missing from
    ``pages``, or with no files, is not on the index)."""
    excluded: dict[str, int] = {}
    latest: list[tuple[int, Release]] = []
    history: dict[str, list[Release]] = {}
    for rank, name in ranked:
        files = pages.get(name, ())
        if not files:
            excluded["not on the index"] = excluded.get("not on the index", 0) + 1
            continue
        releases = group_releases(name, files, cutoff=cutoff)
        chosen, reason = latest_release(releases)
        if chosen is None:
            excluded[reason] = excluded.get(reason, 0) + 1
            continue
        latest.append((rank, chosen))
        history[chosen.name] = releases
    old: list[tuple[int, Release]] = []
    for rank, release in sorted(latest, key=lambda pair: _old_order(pair[1].name)):
        if len(old) == old_count:
            break
        found = old_release(history[release.name], besides=release.version)
        if found is not None:
            old.append((rank, found))
    entries = [_entry(rank, r, old=False) for rank, r in latest]
    entries += [_entry(rank, r, old=True) for rank, r in sorted(old, key=lambda p: p[0])]
    return Corpus(entries=tuple(entries), cutoff=cutoff, ranked=len(ranked), excluded=excluded)


def _entry(rank: int, release: Release, *, old: bool) -> Entry:
    return Entry(
        name=release.name,
        version=str(release.version),
        half=half_of(release.name),
        old=old,
        rank=rank,
        uploaded=release.uploaded.strftime("%Y-%m"),
        pure_wheels=release.pure_wheels,
        compiled_wheels=release.compiled_wheels,
    )


# --- the sample's file -----------------------------------------------------------------------

_HEADER = """\
# The population sample of the verify benchmark: `python benchmarks/verify.py --sample`.
# Made by `python benchmarks/verify.py --refresh-sample --package-list PATH` (or with PATH
# in ${env}) from the package list the environment provides and the package
# index; do not edit it by hand.
#
"""


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def render_corpus(corpus: Corpus) -> str:
    """The sample's file: the rule, the cut-off and the counts as comments, then one line per
    release (latest releases by rank, then old releases by rank)."""
    wrap = textwrap.TextWrapper(width=98, initial_indent="# ", subsequent_indent="# ")
    lines = [_HEADER.replace("${env}", PACKAGE_LIST_ENV).rstrip("\n")]
    lines.append("# Rule:")
    lines += wrap.wrap(rule_text(corpus.cutoff))
    lines.append("#")
    lines.append(f"# cut-off: {_instant(corpus.cutoff)}")
    low, high = RANKS
    lines.append(f"# projects ranked {low} to {high}: {corpus.ranked}")
    for reason, count in sorted(corpus.excluded.items()):
        lines.append(f"# left out, {reason}: {count}")
    for label, old in (("latest", False), ("old", True)):
        picked = corpus.select(old=old)
        dev = sum(e.half is Half.DEV for e in picked)
        beside = sum(e.compiled_wheels > 0 for e in picked)
        several = sum(e.pure_wheels > 1 for e in picked)
        lines.append(f"# {label} releases: {len(picked)} (dev {dev}, test {len(picked) - dev})")
        lines.append(
            f"#   with compiled wheels beside: {beside}; with several pure wheels: {several}"
        )
    lines.append("#")
    lines.append("# Each line: the release, then its half (and `old`), its rank, its upload month,")
    lines.append("# and the wheels its index page lists.")
    for label, old in (("latest releases", False), ("old releases", True)):
        lines.append("")
        lines.append(f"# --- {label}")
        picked = corpus.select(old=old)
        width = max((len(e.release) for e in picked), default=0)
        for e in picked:
            tag = e.half.value + (", old" if e.old else "")
            lines.append(
                f"{e.release.ljust(width)}  # {tag}; rank {e.rank}; uploaded {e.uploaded}; "
                f"wheels: {e.pure_wheels} pure, {e.compiled_wheels} compiled"
            )
    return "\n".join(lines) + "\n"


def parse_corpus(text: str) -> Corpus:
    """The sample written by :func:`render_corpus` (the counts of left-out projects are not
    read back)."""
    entries = []
    cutoff = CUTOFF
    ranked = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("# cut-off:"):
            cutoff = datetime.fromisoformat(line.split(":", 1)[1].strip().replace("Z", "+00:00"))
            continue
        if line.startswith("# projects ranked"):
            ranked = int(line.rsplit(":", 1)[1])
            continue
        if not line or line.startswith("#"):
            continue
        release, _, comment = line.partition("#")
        name, sep, version = release.strip().partition("==")
        fields = [f.strip() for f in comment.split(";")]
        if not sep or len(fields) != 4:
            raise ValueError(f"line {number}: not `NAME==VERSION  # half; rank; uploaded; wheels`")
        tags = [t.strip() for t in fields[0].split(",")]
        pure, _, compiled = fields[3].removeprefix("wheels:").partition(",")
        try:
            entries.append(
                Entry(
                    name=name,
                    version=version,
                    half=Half(tags[0]),
                    old="old" in tags[1:],
                    rank=int(fields[1].removeprefix("rank")),
                    uploaded=fields[2].removeprefix("uploaded").strip(),
                    pure_wheels=int(pure.split()[0]),
                    compiled_wheels=int(compiled.split()[0]),
                )
            )
        except (ValueError, IndexError) as exc:
            raise ValueError(f"line {number}: {exc}") from None
    return Corpus(entries=tuple(entries), cutoff=cutoff, ranked=ranked)


# --- inputs ----------------------------------------------------------------------------------


def package_list_path(given: str | None, environ: Mapping[str, str]) -> Path:
    """The package list: ``given`` (``--package-list``), else :data:`PACKAGE_LIST_ENV`.

    Raises :class:`SystemExit` with a message that says how to give it when neither names a
    file.
    """
    value = given or environ.get(PACKAGE_LIST_ENV, "")
    if not value:
        raise SystemExit(
            "error: the sample is made from the package list the environment provides "
            f"(a tab-separated file with a {RANK_COLUMN} column), and none was given\n"
            f"hint: give --package-list PATH, or set {PACKAGE_LIST_ENV}"
        )
    path = Path(value).expanduser()
    if not path.is_file():
        raise SystemExit(
            f"error: the package list {value} is not a file\n"
            f"hint: give --package-list PATH, or set {PACKAGE_LIST_ENV}"
        )
    return path


def _dump_files(files: Sequence[IndexFile]) -> str:
    return json.dumps(
        [
            {
                "filename": f.filename,
                "url": f.url,
                "sha256": f.sha256,
                "size": f.size,
                "upload_time": f.upload_time.isoformat() if f.upload_time else None,
                "requires_python": f.requires_python,
                "yanked": f.yanked,
            }
            for f in files
        ]
    )


def _load_files(text: str) -> tuple[IndexFile, ...]:
    kept: list[dict[str, Any]] = json.loads(text)
    return tuple(
        IndexFile(
            filename=d["filename"],
            url=d["url"],
            sha256=d["sha256"],
            size=d["size"],
            upload_time=datetime.fromisoformat(d["upload_time"]) if d["upload_time"] else None,
            requires_python=d["requires_python"],
            yanked=d["yanked"],
        )
        for d in kept
    )


class PageSource(Protocol):
    """What gives a project's files: reprobuild's ``IndexClient``, or a stand-in in tests."""

    def project_files(self, name: str) -> tuple[IndexFile, ...]: ...


def load_pages(
    client: PageSource,
    names: Sequence[str],
    cache: Path,
    *,
    jobs: int = 4,
    progress: Callable[[str], None] = lambda _message: None,
) -> dict[str, tuple[IndexFile, ...]]:
    """The files of each project of ``names`` on the index, kept in ``cache`` (one JSON file
    per project), so that making the sample again asks the index only for pages not yet kept.
    Delete the folder to ask again for every page."""
    cache.mkdir(parents=True, exist_ok=True)

    def one(name: str) -> tuple[IndexFile, ...]:
        kept = cache / f"{canonicalize_name(name)}.json"
        if kept.is_file():
            return _load_files(kept.read_text(encoding="utf-8"))
        files = client.project_files(name)
        partial = kept.with_suffix(f".{os.getpid()}.part")
        partial.write_text(_dump_files(files), encoding="utf-8")
        partial.replace(kept)
        return files

    pages: dict[str, tuple[IndexFile, ...]] = {}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for number, (name, files) in enumerate(zip(names, pool.map(one, names), strict=True), 1):
            pages[name] = files
            if number % 50 == 0 or number == len(names):
                progress(f"index pages: {number}/{len(names)}")
    return pages
