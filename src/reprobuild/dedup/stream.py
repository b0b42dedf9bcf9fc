"""Dedup in bounded memory: each package is read once, summarized, and let go.

A :class:`Scan` takes packages one at a time (:meth:`Scan.add`). It keeps of each only its
:class:`~reprobuild.dedup.groups.PackageSummary` (its digest at every level, name and version,
sizes: a few hundred bytes), and writes the rest of its model (every member's path, kind,
executable bit, size and digest, and the bytes of the small files the rules read) to a spill
file in a temporary folder. Grouping needs the summaries alone; the comparisons that explain a
group read back, one pair at a time, only the packages they name. The contents of all members
are counted once each by sorting their digests in runs of bounded size on disk and merging
them.

So memory is what reading the largest package takes (its largest member, see
:mod:`reprobuild.dedup.read`) plus a constant per package for its summary; the disk holds the
models, a small fraction of the packages' size, until the scan is closed.
"""

from __future__ import annotations

import heapq
import marshal
import tempfile
from array import array
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from reprobuild.archive import MemberKind
from reprobuild.dedup.groups import DedupReport, Explainer, PackageSummary, group, summarize
from reprobuild.dedup.levels import View, view, views
from reprobuild.dedup.model import Entry, Level, Package, PackageFormat
from reprobuild.dedup.rules import identity

__all__ = ["Scan"]

#: How many distinct member digests are held before they are sorted into a run on disk.
RUN = 1024
_RECORD = 40  # a member's sha256 (32 bytes) and its size (8 bytes, big-endian)
_KINDS = {kind.value: kind for kind in MemberKind}


class Scan:
    """Packages added one at a time, grouped in bounded memory; a context manager that owns
    the temporary folder of the spill files (below ``folder``, the system's when None)."""

    def __init__(self, folder: Path | None = None) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="reprobuild-dedup-", dir=folder)
        root = Path(self._folder.name)
        self._models: BinaryIO = (root / "models").open("w+b")
        self._runs: BinaryIO = (root / "contents").open("w+b")
        self._where: dict[str, int] = {}
        self._spans = array("q")  # each package's place in the spill file, and its length
        self._summaries: list[PackageSummary] = []
        self._contents: set[bytes] = set()
        self._run_spans: list[tuple[int, int]] = []
        self._member_bytes = 0

    def __enter__(self) -> Scan:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Remove the spill files."""
        self._models.close()
        self._runs.close()
        self._folder.cleanup()

    def add(self, package: Package) -> PackageSummary:
        """Summarize ``package`` and write what its comparisons need to the spill file (its
        views at every level, made once here, and the bytes kept for the rules): the package
        itself is not kept."""
        name = identity(package)
        found = views(package, name=name)
        summary = summarize(package, found, name=name)
        self._summaries.append(summary)
        members = found[Level.MEMBERS].entries
        index = {id(entry): number for number, entry in enumerate(members)}
        record = marshal.dumps(
            (
                package.format.value,
                package.size,
                package.sha256,
                package.kept,
                tuple(_row(e) for e in members),
                _encode(found[Level.CANONICAL], index),
                _encode(found[Level.PAYLOAD], index),
            )
        )
        self._models.seek(0, 2)
        self._where[package.path] = len(self._spans) // 2
        self._spans.append(self._models.tell())
        self._spans.append(len(record))
        self._models.write(record)
        for entry in package.entries:
            if entry.kind is MemberKind.FILE:
                self._member_bytes += entry.size
                self._contents.add(bytes.fromhex(entry.sha256) + entry.size.to_bytes(8, "big"))
        if len(self._contents) >= RUN:
            self._spill_run()
        return summary

    def _spill_run(self) -> None:
        self._runs.seek(0, 2)
        start = self._runs.tell()
        self._runs.write(b"".join(sorted(self._contents)))
        self._run_spans.append((start, len(self._contents)))
        self._contents = set()

    def _run(self, start: int, count: int) -> Iterator[bytes]:
        position = start
        left = count
        while left:
            take = min(left, 1024)
            self._runs.seek(position)
            block = self._runs.read(take * _RECORD)
            position += len(block)
            left -= take
            for offset in range(0, len(block), _RECORD):
                yield block[offset : offset + _RECORD]

    def _distinct_bytes(self) -> int:
        """The bytes of every distinct member content, each counted once."""
        if not self._run_spans:
            return sum(int.from_bytes(r[32:], "big") for r in self._contents)
        if self._contents:
            self._spill_run()
        total = 0
        last = b""
        for record in heapq.merge(*(self._run(start, n) for start, n in self._run_spans)):
            if record[:32] != last:
                last = record[:32]
                total += int.from_bytes(record[32:], "big")
        return total

    def report(self) -> DedupReport:
        """The groups of the packages added so far, their comparisons not yet made (see
        :meth:`explainer`)."""
        return group(
            self._summaries,
            member_bytes=self._member_bytes,
            distinct_member_bytes=self._distinct_bytes(),
        )

    def load(self, path: str) -> tuple[Package, dict[Level, View]]:
        """The package added from ``path`` as its comparisons need it, read back from the
        spill file: its views at every level and the bytes kept for the rules (its own list of
        members is not kept: the ``members`` view lists them)."""
        where = 2 * self._where[path]
        self._models.seek(self._spans[where])
        fmt, size, digest, kept, rows, canonical, payload = marshal.loads(
            self._models.read(self._spans[where + 1])
        )
        package = Package(
            path=path, format=PackageFormat(fmt), size=size, sha256=digest, entries=(), kept=kept
        )
        members = tuple(_entry(row) for row in rows)
        return package, {
            Level.BYTES: view(package, Level.BYTES),
            Level.MEMBERS: View(level=Level.MEMBERS, entries=members),
            Level.CANONICAL: _decode(Level.CANONICAL, canonical, members),
            Level.PAYLOAD: _decode(Level.PAYLOAD, payload, members),
        }

    def explainer(self) -> Explainer:
        """What makes the report's comparisons, reading the packages back as they are
        needed."""
        return Explainer(self._package, loaded=self.load)

    def _package(self, path: str) -> Package:
        return self.load(path)[0]


_Row = tuple[str, str, bool, int, str, str | None, str | None]


def _row(entry: Entry) -> _Row:
    return (
        entry.path,
        entry.kind.value,
        entry.executable,
        entry.size,
        entry.sha256,
        entry.link_target,
        entry.prefix_sha256,
    )


def _entry(row: _Row) -> Entry:
    path, kind, executable, size, digest, target, prefix = row
    return Entry(
        path=path,
        kind=_KINDS[kind],
        executable=executable,
        size=size,
        sha256=digest,
        link_target=target,
        prefix_sha256=prefix,
    )


def _encode(
    found: View, index: dict[int, int]
) -> tuple[tuple[int | _Row, ...], tuple[tuple[str, str], ...]]:
    """A view for the spill file: each entry that is the ``members`` view's own (most are)
    by its place there, the others in full; and the rules that changed them."""
    rows = tuple(
        number if (number := index.get(id(e))) is not None else _row(e) for e in found.entries
    )
    return rows, found.changed


def _decode(
    level: Level,
    encoded: tuple[tuple[int | _Row, ...], tuple[tuple[str, str], ...]],
    members: tuple[Entry, ...],
) -> View:
    rows, changed = encoded
    entries = tuple(members[row] if isinstance(row, int) else _entry(row) for row in rows)
    return View(level=level, entries=entries, changed=changed)
