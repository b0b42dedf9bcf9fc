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
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from reprobuild.archive import MemberKind
from reprobuild.dedup.groups import DedupReport, Explainer, PackageSummary, group, summarize
from reprobuild.dedup.model import Entry, Package, PackageFormat

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
        self._where: dict[str, tuple[int, int]] = {}
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
        """Summarize ``package`` and write its model to the spill file: the package itself
        is not kept."""
        summary = summarize(package)
        self._summaries.append(summary)
        record = marshal.dumps(
            (
                package.format.value,
                package.size,
                package.sha256,
                tuple(
                    (
                        e.path,
                        e.kind.value,
                        e.executable,
                        e.size,
                        e.sha256,
                        e.link_target,
                        e.prefix_sha256,
                    )
                    for e in package.entries
                ),
                package.kept,
            )
        )
        self._models.seek(0, 2)
        self._where[package.path] = (self._models.tell(), len(record))
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

    def load(self, path: str) -> Package:
        """The package added from ``path``, read back from the spill file."""
        start, length = self._where[path]
        self._models.seek(start)
        fmt, size, digest, entries, kept = marshal.loads(self._models.read(length))
        return Package(
            path=path,
            format=PackageFormat(fmt),
            size=size,
            sha256=digest,
            entries=tuple(
                Entry(
                    path=p,
                    kind=_KINDS[kind],
                    executable=executable,
                    size=member_size,
                    sha256=member_digest,
                    link_target=target,
                    prefix_sha256=prefix,
                )
                for p, kind, executable, member_size, member_digest, target, prefix in entries
            ),
            kept=kept,
        )

    def explainer(self) -> Explainer:
        """What makes the report's comparisons, reading the packages back as they are
        needed."""
        return Explainer(self.load)
