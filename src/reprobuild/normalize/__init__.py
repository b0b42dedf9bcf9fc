"""Canonical form of archives: an ordered set of named rules under a frozen :class:`Policy`.

``normalize_archive`` works on the model; ``normalize_bytes`` reads, normalizes and writes, and
says whether the input was already canonical (its bytes unchanged). Both are pure: the epoch
comes in through the policy, never from the clock or the environment.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from reprobuild._fs import Behind, equal_buffers, sha256_chunks
from reprobuild._types import Buffer
from reprobuild.archive import (
    DEFAULT_LIMITS,
    Archive,
    Limits,
    iter_archive,
    parse_archive,
    streams,
    write_archive_chunks,
)
from reprobuild.archive.spool import Extent, Spool
from reprobuild.dist import ArtifactKind, artifact_kind
from reprobuild.normalize.policy import DEFAULT_SOURCE_DATE_EPOCH, Policy
from reprobuild.normalize.rules import RULES, Context, Rule

__all__ = [
    "DEFAULT_SOURCE_DATE_EPOCH",
    "RULES",
    "Normalized",
    "Policy",
    "Rule",
    "RuleReport",
    "normalize_archive",
    "normalize_bytes",
    "rules_for",
]

#: The report for bytes that changed although no rule changed a header: the archive was laid
#: out or compressed differently (another deflate implementation, say).
ENCODING = "encoding"


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleReport:
    """What one rule changed: the members (or pseudo-members such as ``(gzip header)``)."""

    rule: str
    touches: str
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Normalized:
    """The outcome of normalizing one file."""

    kind: ArtifactKind
    archive: Archive
    #: the canonical bytes as the pieces to write one after the other (zip member data stays a
    #: view of the input; a large tar's bytes are read back from a spool file a block at a
    #: time): a file is written from them without joining them in memory. Iterable again.
    chunks: Iterable[Buffer]
    canonical: bool  #: the input bytes were already the canonical bytes
    reports: tuple[RuleReport, ...]  #: only the rules that changed something

    @property
    def data(self) -> bytes:
        """The canonical bytes, joined."""
        chunks = self.chunks
        if isinstance(chunks, tuple) and len(chunks) == 1:
            return bytes(chunks[0])
        return b"".join(chunks)

    def sha256(self) -> str:
        """The sha256 of the canonical bytes, read piece by piece (never joined): to tell
        whether two results are the same bytes without holding either."""
        return sha256_chunks(self.chunks)[0]


def rules_for(policy: Policy) -> tuple[Rule, ...]:
    """The rules this policy runs, in order."""
    wanted = []
    for rule in RULES:
        if rule.name in policy.skip:
            continue
        if rule.opt_in and not (rule.name == "zip-compression" and policy.recompress_zip):
            continue
        wanted.append(rule)
    return tuple(wanted)


def normalize_archive(
    archive: Archive, *, kind: ArtifactKind, policy: Policy
) -> tuple[Archive, tuple[RuleReport, ...]]:
    """Apply every rule of ``policy`` that fits ``archive``; report what each changed."""
    context = Context(policy=policy, kind=kind)
    reports = []
    for rule in rules_for(policy):
        if not rule.applies(archive, context):
            continue
        archive, changed = rule.step(archive, context)
        if changed:
            reports.append(RuleReport(rule=rule.name, touches=rule.touches, members=changed))
    return archive, tuple(reports)


def _same_bytes(chunks: tuple[Buffer, ...], data: Buffer) -> bool:
    """Whether the pieces ``chunks``, one after the other, are the bytes of ``data``.

    Piece by piece, without joining them: the first piece that differs (a rewritten header,
    usually the first) settles it. Each piece is compared a MiB at a time, as ``bytes``
    (``memcmp``; memoryviews compare item by item), so a large member copied raw is never
    copied whole, and the pages of a large input file are let go behind the comparison.
    """
    view = memoryview(data).cast("B")
    sizes = [len(chunk) if isinstance(chunk, bytes) else chunk.nbytes for chunk in chunks]
    if sum(sizes) != view.nbytes:
        return False
    pos = 0
    for chunk, size in zip(chunks, sizes, strict=True):
        if not equal_buffers(view[pos : pos + size], chunk):
            return False
        pos += size
    return True


@dataclass(frozen=True, slots=True)
class _SpooledChunks:
    """Bytes kept in a spool file, read back a block at a time each time they are iterated."""

    extent: Extent

    def __iter__(self) -> Iterator[Buffer]:
        return iter(self.extent.blocks())


class _Comparing:
    """Passes pieces on while comparing them with ``data`` (the input): ``same`` at the end
    says whether they were its bytes, exactly."""

    def __init__(self, pieces: Iterable[Buffer], data: Buffer) -> None:
        self._pieces = pieces
        self._view = memoryview(data).cast("B")
        self.same = True
        self._pos = 0

    def __iter__(self) -> Iterator[Buffer]:
        behind = Behind(self._view)  # a large input file's pages are let go as they are read
        for piece in self._pieces:
            size = len(piece) if isinstance(piece, bytes) else memoryview(piece).nbytes
            if self.same:
                end = self._pos + size
                self.same = end <= self._view.nbytes and equal_buffers(
                    self._view[self._pos : end], piece
                )
                behind.reached(end)
            self._pos += size
            yield piece
        behind.finish()
        self.same = self.same and self._pos == self._view.nbytes


def _written(archive: Archive, data: Buffer, level: int) -> tuple[Iterable[Buffer], bool]:
    """The bytes of ``archive`` and whether they are ``data``'s: a list of pieces, or, for an
    archive too large to hold, the pieces written to a spool file as they are made and compared
    with ``data`` on the way, so that neither the input nor the output is ever held whole."""
    if not streams(archive):
        chunks = tuple(write_archive_chunks(archive, level=level))
        return chunks, _same_bytes(chunks, data)
    comparing = _Comparing(iter_archive(archive, level=level), data)
    extent = Spool().append(comparing)
    return _SpooledChunks(extent), comparing.same


def normalize_bytes(
    data: Buffer,
    *,
    filename: str,
    policy: Policy,
    limits: Limits = DEFAULT_LIMITS,
    verify: bool = False,
) -> Normalized:
    """Read ``data`` (named ``filename``, which tells a wheel), normalize, write it back.

    Zip members are copied raw and so are not inflated: their structure is checked, their
    content is not. ``verify`` inflates every member too, checks its CRC and, in a wheel, its
    RECORD hash: corrupt member data is then refused instead of copied as it is.
    """
    archive = parse_archive(data, limits=limits, digests=verify)
    kind = artifact_kind(filename, archive)
    normalized, reports = normalize_archive(archive, kind=kind, policy=policy)
    chunks, canonical = _written(normalized, data, policy.level)
    if not canonical and not reports:
        reports = (
            RuleReport(
                rule=ENCODING,
                touches="the archive's bytes were laid out or compressed differently "
                "(another compressor, say); its members and headers were already canonical",
                members=(),
            ),
        )
    return Normalized(
        kind=kind, archive=normalized, chunks=chunks, canonical=canonical, reports=reports
    )
