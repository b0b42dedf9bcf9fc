"""Tar archives (uncompressed: gzip, bzip2 and xz are undone by the stream comparators first),
member by member.

Header fields and their categories:

- ``timestamp``: the mtime, and PAX time records (``mtime`` with its fraction, ``atime``,
  ``ctime``, ``LIBARCHIVE.creationtime``).
- ``permissions``: mode bits; ``content`` when a file's executable bits differ.
- ``ownership``: uid, gid, user and group names.
- ``container``: the header format (ustar, GNU, PAX; a switch between ustar and PAX that only
  carries differing PAX records is left to those records), other PAX records, PAX records that
  spell the same name, size or owner differently, device numbers, global PAX headers, the
  end-of-archive padding, bytes after the end.
- ``content``: the kind of member, a link target, the content.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from reprobuild._types import Buffer
from reprobuild.archive import (
    Archive,
    Compression,
    Container,
    GzipHeader,
    Limits,
    Member,
    Payload,
    TarDetails,
    TarFormat,
    parse_archive,
)
from reprobuild.archive.safety import check_archive
from reprobuild.archive.spool import MEMBER_HOLD
from reprobuild.archive.tarformat import BLOCK, RECORD, looks_like_tar
from reprobuild.archive.tarstream import PlainStream, TarScanner, scan_tar
from reprobuild.compare import Context, Item
from reprobuild.compare.archives import MemberContent, compare_archives, mode_changes
from reprobuild.compare.binary import streamed_difference
from reprobuild.compare.difference import Category, Difference
from reprobuild.compare.nodes import FieldChange, format_time, leaf, short, sub

TYPE_CHECKING = False
if TYPE_CHECKING:
    import decimal

__all__ = [
    "KEEP_BUDGET",
    "TAR",
    "TarComparator",
    "TarStreams",
    "compare_tar_streams",
    "scan_tars",
]

_TIME_RECORDS = ("mtime", "atime", "ctime", "LIBARCHIVE.creationtime")
#: PAX records whose value the model holds in a field of its own (compared there).
_MODEL_RECORDS = frozenset({"path", "linkpath", "size", "uid", "gid", "uname", "gname"})


def _model_value(member: Member, key: str) -> object:
    tar = member.tar or TarDetails()
    return {
        "path": member.name,
        "linkpath": member.link_target,
        "size": member.size,
        "uid": tar.uid,
        "gid": tar.gid,
        "uname": tar.uname,
        "gname": tar.gname,
    }[key]


def _details(member: Member) -> TarDetails:
    if member.tar is None:
        raise ValueError(f"{member.name}: a tar member without tar headers")
    return member.tar


def _time_value(text: str | int) -> decimal.Decimal | str:
    import decimal  # here, not at the top: only PAX times need it

    try:
        return decimal.Decimal(text)
    except (decimal.InvalidOperation, ValueError):
        return str(text)


def _show_time(value: decimal.Decimal | str | None) -> str:
    if value is None:
        return "(absent)"
    if isinstance(value, str) or not value.is_finite():
        return repr(str(value))
    try:
        return format_time(float(value))
    except OverflowError:
        return str(value)


def _tar_headers(a: Member, b: Member) -> list[FieldChange]:
    ta, tb = _details(a), _details(b)
    changes: list[FieldChange] = []
    pax_a, pax_b = dict(ta.pax), dict(tb.pax)

    # times: the header's whole seconds are compared as mtime already; the records add fractions
    for key in _TIME_RECORDS:
        value_a, value_b = pax_a.get(key), pax_b.get(key)
        if value_a == value_b:
            continue
        if key == "mtime":
            time_a = _time_value(value_a if value_a is not None else a.mtime)
            time_b = _time_value(value_b if value_b is not None else b.mtime)
            if time_a == time_b or a.mtime != b.mtime:
                continue  # spelled differently, or already reported as mtime
            shown_a, shown_b = _show_time(time_a), _show_time(time_b)
        else:
            shown_a = _show_time(_time_value(value_a) if value_a is not None else None)
            shown_b = _show_time(_time_value(value_b) if value_b is not None else None)
        changes.append(
            FieldChange(category=Category.TIMESTAMP, field=f"PAX {key}", a=shown_a, b=shown_b)
        )
    if a.mode is not None and b.mode is not None:
        changes += mode_changes(a.kind, a.mode, b.mode)
    for field, owner_a, owner_b in (
        ("uid", ta.uid, tb.uid),
        ("gid", ta.gid, tb.gid),
        ("uname", ta.uname, tb.uname),
        ("gname", ta.gname, tb.gname),
    ):
        if owner_a != owner_b:
            changes.append(
                FieldChange(
                    category=Category.OWNERSHIP, field=field, a=short(owner_a), b=short(owner_b)
                )
            )
    encoding = []
    for key in sorted(set(pax_a) | set(pax_b)):
        if key in _TIME_RECORDS or pax_a.get(key) == pax_b.get(key):
            continue
        if key in _MODEL_RECORDS and _model_value(a, key) != _model_value(b, key):
            continue  # the field itself differs and is reported (or is the member's identity)
        encoding.append(key)
    if encoding:
        changes.append(
            FieldChange(
                category=Category.CONTAINER,
                field="PAX records",
                a=", ".join(
                    f"{k}={short(pax_a[k], 40)}" if k in pax_a else f"no {k}" for k in encoding
                ),
                b=", ".join(
                    f"{k}={short(pax_b[k], 40)}" if k in pax_b else f"no {k}" for k in encoding
                ),
            )
        )
    formats = {ta.format, tb.format}
    if ta.format is not tb.format and not (
        formats == {TarFormat.USTAR, TarFormat.PAX} and ta.pax != tb.pax
    ):
        changes.append(
            FieldChange(
                category=Category.CONTAINER,
                field="format",
                a=ta.format.value,
                b=tb.format.value,
            )
        )
    if (ta.devmajor, ta.devminor) != (tb.devmajor, tb.devminor):
        changes.append(
            FieldChange(
                category=Category.CONTAINER,
                field="device numbers",
                a=f"{ta.devmajor},{ta.devminor}",
                b=f"{tb.devmajor},{tb.devminor}",
            )
        )
    return changes


def _end_of_archive(trailer: int, length: int) -> str:
    """How the archive ends: the usual two zero blocks padded to a whole record, or not (the
    trailer's length alone follows from the length of what comes before)."""
    if length % RECORD == 0 and 2 * BLOCK <= trailer < 2 * BLOCK + RECORD:
        return f"two zero blocks, padded to a {RECORD}-byte record"
    return f"{trailer} zero bytes"


def _tar_content(a: Member, b: Member, context: Context) -> Difference | None:
    if a.sha256 == b.sha256 and a.size == b.size:
        return None
    if max(a.size, b.size) > MEMBER_HOLD:  # compared a block at a time, never held whole
        return streamed_difference(
            a.name,
            b.name,
            a.payload.blocks(),
            b.payload.blocks(),
            comment=f"compared as bytes, a block at a time: larger than the "
            f"{MEMBER_HOLD >> 20} MiB a member is held in memory",
            labels=context.options.labels,
        )
    return context.recurse(
        Item(name=a.name, data=a.data(), member=a), Item(name=b.name, data=b.data(), member=b)
    )


def _as_parsed(archive: Archive) -> Archive:
    """``archive`` as :func:`parse_archive` returns a plain tar: checked, with the fields it
    keeps."""
    parsed = Archive(
        container=Container.TAR,
        members=archive.members,
        tar_global_pax=archive.tar_global_pax,
        trailer_size=archive.trailer_size,
    )
    return parsed


def _tar_difference(
    a: Item,
    b: Item,
    archives: tuple[Archive, Archive],
    lengths: tuple[int, int],
    context: Context,
    content: MemberContent = _tar_content,
) -> Difference:
    archive_a, archive_b = archives
    container: list[Difference] = []

    def add(pseudo: str, shown_a: str, shown_b: str) -> None:
        container.append(
            leaf(
                sub(a.name, pseudo),
                sub(b.name, pseudo),
                Category.CONTAINER,
                comment=f"{shown_a} vs {shown_b}",
            )
        )

    if archive_a.tar_global_pax != archive_b.tar_global_pax:
        add(
            "(tar global header)",
            short(archive_a.tar_global_pax),
            short(archive_b.tar_global_pax),
        )
    end_a = _end_of_archive(archive_a.trailer_size, lengths[0])
    end_b = _end_of_archive(archive_b.trailer_size, lengths[1])
    if end_a != end_b:
        add("(tar end of archive)", end_a, end_b)
    if archive_a.unaccounted != archive_b.unaccounted:
        add(
            "(unaccounted bytes)",
            f"{archive_a.unaccounted} bytes",
            f"{archive_b.unaccounted} bytes",
        )
    return compare_archives(
        a,
        b,
        archive_a,
        archive_b,
        context,
        container=container,
        headers=_tar_headers,
        content=content,
    )


#: Content kept from the one pass over both tars, at most (both sides together): members whose
#: content the other side has nowhere, which a difference will show. A member is held whole
#: while its digest is computed, so this also bounds what one member adds to memory for a while;
#: larger ones are read again, in a second pass, when a difference needs them.
KEEP_BUDGET = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class TarStreams:
    """Two tars read in one pass from their compressed bytes (see :func:`scan_tars`)."""

    archives: tuple[Archive, Archive]  #: members with their digests, no content
    lengths: tuple[int, int]  #: of the decompressed tars
    digests: tuple[str, str]  #: sha256 of the decompressed tars
    gzip: tuple[GzipHeader | None, GzipHeader | None]
    sources: tuple[Buffer, Buffer]  #: the compressed bytes, for a second pass
    compression: Compression
    #: content of members (by index) whose digest no member of the other side has
    contents: tuple[dict[int, bytes], dict[int, bytes]]


def scan_tars(
    data_a: Buffer,
    data_b: Buffer,
    compression: Compression,
    limits: Limits,
    *,
    budget: int = KEEP_BUDGET,
) -> TarStreams:
    """Decompress and read both tars, keeping headers and digests; raises as
    :func:`parse_archive` does on input it refuses.

    The two are read side by side, the one behind first, so that a member and its counterpart
    are read at about the same time. A file's content is kept while no member of the other side
    read so far has the same digest, and dropped when one turns up: at the end, what is kept is
    the content of the members whose content the other side has nowhere, which is what a
    comparison shows. Kept content is bounded by ``budget`` bytes; a member that does not fit is
    read again by :func:`compare_tar_streams` if it is needed."""
    streams = (
        PlainStream(data_a, compression, limits=limits),
        PlainStream(data_b, compression, limits=limits),
    )
    scanners = (TarScanner(streams[0], limits=limits), TarScanner(streams[1], limits=limits))
    members: tuple[list[Member], list[Member]] = ([], [])
    seen: tuple[set[str], set[str]] = (set(), set())
    contents: tuple[dict[int, bytes], dict[int, bytes]] = ({}, {})
    unmatched: tuple[dict[str, list[int]], dict[str, list[int]]] = ({}, {})
    kept = 0
    active = [0, 1]
    while active:
        side = min(active, key=lambda s: scanners[s].consumed)
        found = scanners[side].next_member(collect=budget - kept)
        if found is None:
            active.remove(side)
            continue
        member, content = found
        index = len(members[side])
        members[side].append(member)
        other = 1 - side
        seen[side].add(member.sha256)
        if member.sha256 in seen[other]:  # the other side has this content: drop its copies
            for number in unmatched[other].pop(member.sha256, ()):
                kept -= len(contents[other].pop(number))
        elif content is not None:
            contents[side][index] = content
            unmatched[side].setdefault(member.sha256, []).append(index)
            kept += len(content)
    archives = []
    for scanner, found_members in zip(scanners, members, strict=True):
        archive = _as_parsed(scanner.archive(found_members))
        check_archive(archive, limits, allow_duplicates=True)
        archives.append(archive)
    return TarStreams(
        archives=(archives[0], archives[1]),
        lengths=(streams[0].length, streams[1].length),
        digests=(streams[0].sha256, streams[1].sha256),
        gzip=(streams[0].gzip, streams[1].gzip),
        sources=(data_a, data_b),
        compression=compression,
        contents=contents,
    )


def compare_tar_streams(a: Item, b: Item, scanned: TarStreams, context: Context) -> Difference:
    """The difference between the tars ``scanned`` (named ``a`` and ``b``; their data is not
    used), as the tar comparator finds it on the decompressed bytes, holding only the content
    of the members whose digests differ: the content :func:`scan_tars` kept, and, when it could
    not keep some of it, those members decompressed again, in a second pass, and compared."""
    numbers = [
        {id(member): number for number, member in enumerate(archive.members)}
        for archive in scanned.archives
    ]
    missing: tuple[set[int], set[int]] = (set(), set())

    def kept(member_a: Member, member_b: Member, inner: Context) -> Difference | None:
        if member_a.sha256 == member_b.sha256 and member_a.size == member_b.size:
            return None
        found = []
        for side, member in enumerate((member_a, member_b)):
            number = numbers[side][id(member)]
            if number not in scanned.contents[side]:
                missing[side].add(number)
                continue
            content = scanned.contents[side][number]
            found.append(dataclasses.replace(member, payload=Payload.plain(content)))
        if len(found) < 2:
            return None  # this tree is dropped: the second pass compares the pair
        return _tar_content(found[0], found[1], inner)

    first = _tar_difference(a, b, scanned.archives, scanned.lengths, context, kept)
    if not (missing[0] or missing[1]):
        return first
    # every member whose digest differs from its counterpart's, with its content: what was kept,
    # and what was not, read again
    wanted: list[tuple[Member, Member]] = []

    def note(member_a: Member, member_b: Member, _context: Context) -> None:
        if member_a.sha256 != member_b.sha256 or member_a.size != member_b.size:
            wanted.append((member_a, member_b))

    _tar_difference(a, b, scanned.archives, scanned.lengths, context, note)
    limits = context.options.limits
    archives = []
    for side, (data, archive) in enumerate(zip(scanned.sources, scanned.archives, strict=True)):
        needed = {numbers[side][id(pair[side])] for pair in wanted}
        contents = scanned.contents[side]
        payloads = {n: Payload.plain(contents[n]) for n in needed if n in contents}
        again = sorted(needed - payloads.keys())
        if again:
            stream = PlainStream(data, scanned.compression, limits=limits)
            found = scan_tar(stream, limits=limits, keep=frozenset(again), kept_only=True)
            payloads.update(zip(again, (m.payload for m in found.members), strict=True))
        members = tuple(
            dataclasses.replace(member, payload=payloads[number]) if number in payloads else member
            for number, member in enumerate(archive.members)
        )
        archives.append(dataclasses.replace(archive, members=members))
    return _tar_difference(a, b, (archives[0], archives[1]), scanned.lengths, context)


@dataclass(frozen=True, slots=True)
class TarComparator:
    """Uncompressed tar archives, by a first header with a valid checksum."""

    name: str = "tar"

    def accepts(self, a: Item, b: Item) -> bool:
        return looks_like_tar(a.data) and looks_like_tar(b.data)

    def compare(self, a: Item, b: Item, context: Context) -> Difference | None:
        limits = context.options.limits
        archive_a = parse_archive(a.data, limits=limits, allow_duplicates=True)
        archive_b = parse_archive(b.data, limits=limits, allow_duplicates=True)
        return _tar_difference(a, b, (archive_a, archive_b), (len(a.data), len(b.data)), context)


TAR = TarComparator()
