"""The normalization rules, in the order they run.

Each rule is a named, pure ``Archive -> Archive`` step that declares what it touches and
reports the members it changed. The order matters only where a rule reads what an earlier one
wrote: ``tar-format`` computes the PAX records a member still needs from its final times and
owners, and ``record`` lists members in their final order.
"""

from __future__ import annotations

import stat
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace

from reprobuild._fs import sha256_hex
from reprobuild.archive import (
    Archive,
    Compression,
    Container,
    GzipHeader,
    Member,
    MemberKind,
    Payload,
    TarFormat,
    ZipDetails,
    ZipMethod,
)
from reprobuild.archive.zipformat import dos_datetime, mtime_from_dos
from reprobuild.dist import (
    ArtifactKind,
    RecordRow,
    dist_info_dir,
    member_record_hash,
    parse_record,
    path_order_key,
    render_record,
    wheel_order_key,
)
from reprobuild.errors import NormalizeError
from reprobuild.normalize.policy import Policy

__all__ = ["RULES", "Context", "Rule"]

#: Pseudo-member names for changes to an archive's own headers.
GZIP_HEADER = "(gzip header)"
ZIP_COMMENT = "(zip archive comment)"
TAR_GLOBAL = "(tar global header)"
TAR_TRAILER = "(tar end of archive)"


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """What a rule may read besides the archive."""

    policy: Policy
    kind: ArtifactKind


Step = Callable[[Archive, Context], tuple[Archive, tuple[str, ...]]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """A named step: ``touches`` says in one line what it may change."""

    name: str
    touches: str
    containers: frozenset[Container]
    step: Step
    kinds: frozenset[ArtifactKind] = frozenset(ArtifactKind)
    opt_in: bool = False

    def applies(self, archive: Archive, context: Context) -> bool:
        return archive.container in self.containers and context.kind in self.kinds


def _map_members(
    archive: Archive, change: Callable[[Member], Member]
) -> tuple[Archive, tuple[str, ...]]:
    members = []
    changed = []
    for member in archive.members:
        new = change(member)
        if new is not member and new != member:
            changed.append(member.name)
        members.append(new)
    return replace(archive, members=tuple(members)), tuple(changed)


# --------------------------------------------------------------------------- member order


def _member_order(archive: Archive, context: Context) -> tuple[Archive, tuple[str, ...]]:
    if context.kind is ArtifactKind.WHEEL:
        key = wheel_order_key(dist_info_dir(archive))
        ordered = sorted(archive.members, key=key)
    else:
        ordered = sorted(archive.members, key=path_order_key)
    moved = tuple(
        new.name for old, new in zip(archive.members, ordered, strict=True) if old is not new
    )
    return replace(archive, members=tuple(ordered)), moved


# --------------------------------------------------------------------------- timestamps


def _timestamps(archive: Archive, context: Context) -> tuple[Archive, tuple[str, ...]]:
    epoch = context.policy.source_date_epoch
    dos_time, dos_date = dos_datetime(epoch)
    clamped = mtime_from_dos(dos_time, dos_date)

    def change(member: Member) -> Member:
        if member.mtime <= epoch:
            return member
        if member.zip is not None:
            details = replace(member.zip, dos_time=dos_time, dos_date=dos_date)
            return replace(member, mtime=clamped, zip=details)
        return replace(member, mtime=epoch)

    return _map_members(archive, change)


# --------------------------------------------------------------------------- permissions

_FILE_TYPE = {
    MemberKind.FILE: stat.S_IFREG,
    MemberKind.HARDLINK: stat.S_IFREG,
    MemberKind.DIR: stat.S_IFDIR,
    MemberKind.SYMLINK: stat.S_IFLNK,
}
_MSDOS_DIRECTORY = 0x10


def canonical_mode(member: Member, policy: Policy) -> int:
    """0644 or 0755 for files (keeping the exec bit), 0755 for folders, 0777 for symlinks."""
    if member.kind is MemberKind.DIR:
        return policy.dir_mode
    if member.kind is MemberKind.SYMLINK:
        return 0o777
    executable = member.mode is not None and member.mode & 0o111
    return policy.exec_mode if executable else policy.file_mode


def _permissions(archive: Archive, context: Context) -> tuple[Archive, tuple[str, ...]]:
    def change(member: Member) -> Member:
        mode = canonical_mode(member, context.policy)
        if member.zip is None:
            return member if member.mode == mode else replace(member, mode=mode)
        attr = (_FILE_TYPE[member.kind] | mode) << 16
        if member.kind is MemberKind.DIR:
            attr |= _MSDOS_DIRECTORY
        if member.mode == mode and member.zip.external_attr == attr:
            return member
        return replace(member, mode=mode, zip=replace(member.zip, external_attr=attr))

    return _map_members(archive, change)


# --------------------------------------------------------------------------- ownership


def _ownership(archive: Archive, context: Context) -> tuple[Archive, tuple[str, ...]]:
    def change(member: Member) -> Member:
        tar = member.tar
        if tar is None or (tar.uid, tar.gid, tar.uname, tar.gname) == (0, 0, "", ""):
            return member
        return replace(member, tar=replace(tar, uid=0, gid=0, uname="", gname=""))

    return _map_members(archive, change)


# --------------------------------------------------------------------------- tar format


def _tar_format(archive: Archive, context: Context) -> tuple[Archive, tuple[str, ...]]:
    # here, not at the top: normalizing a zip never needs the tar writer
    from reprobuild.archive.tarformat import encoded_length, record_padding, required_pax

    def change(member: Member) -> Member:
        name = member.path + "/" if member.kind is MemberKind.DIR else member.name
        new = replace(member, name=name)
        assert new.tar is not None
        details = replace(new.tar, format=TarFormat.PAX, devmajor=0, devminor=0, pax=())
        records = required_pax(replace(new, tar=details))
        # a PAX archive's member that needs no records has a plain ustar header
        fmt = TarFormat.PAX if records else TarFormat.USTAR
        return replace(new, tar=replace(details, format=fmt, pax=records))

    normalized, changed = _map_members(archive, change)
    extra = []
    if archive.tar_global_pax:
        extra.append(TAR_GLOBAL)
    normalized = replace(normalized, tar_global_pax=(), unaccounted=0)
    trailer = record_padding(encoded_length(normalized))
    if trailer != archive.trailer_size or archive.unaccounted:
        extra.append(TAR_TRAILER)
    return replace(normalized, trailer_size=trailer), changed + tuple(extra)


# --------------------------------------------------------------------------- gzip header


def canonical_gzip_header(level: int) -> GzipHeader:
    """mtime 0, no name or comment, OS 255 and the XFL byte zlib's level implies."""
    xfl = {9: 2, 1: 4}.get(level, 0)
    return GzipHeader(mtime=0, xfl=xfl, os=255, flags=0)


def _gzip_header(archive: Archive, context: Context) -> tuple[Archive, tuple[str, ...]]:
    if archive.compression is not Compression.GZIP:
        return archive, ()
    header = canonical_gzip_header(context.policy.level)
    changed = (GZIP_HEADER,) if archive.gzip != header else ()
    return replace(archive, gzip=header), changed


# --------------------------------------------------------------------------- zip headers


#: create_system, create_version, extract_version, internal_attr, extra, local_extra, comment,
#: data_descriptor and local_mismatch of a canonical zip member
_CANONICAL_ZIP_HEADER = (3, 20, 20, 0, b"", b"", b"", False, ())


def _zip_headers(archive: Archive, context: Context) -> tuple[Archive, tuple[str, ...]]:
    def change(member: Member) -> Member:
        details = member.zip or ZipDetails()
        flags = 0 if member.name.isascii() else 0x800
        if (
            details.create_system,
            details.create_version,
            details.extract_version,
            details.internal_attr,
            details.extra,
            details.local_extra,
            details.comment,
            details.data_descriptor,
            details.local_mismatch,
        ) == _CANONICAL_ZIP_HEADER and details.flags == flags:
            return member
        new = replace(
            details,
            create_system=3,
            create_version=20,
            extract_version=20,
            flags=flags,
            internal_attr=0,
            extra=b"",
            local_extra=b"",
            comment=b"",
            data_descriptor=False,
            local_mismatch=(),
        )
        return replace(member, zip=new)

    normalized, changed = _map_members(archive, change)
    if archive.comment or archive.unaccounted:
        changed += (ZIP_COMMENT,)
    return replace(normalized, comment=b"", unaccounted=0), changed


# --------------------------------------------------------------------------- zip compression


def _deflate(data: bytes, level: int) -> bytes:
    deflater = zlib.compressobj(level, zlib.DEFLATED, -15)
    return deflater.compress(data) + deflater.flush()


def _zip_compression(archive: Archive, context: Context) -> tuple[Archive, tuple[str, ...]]:
    members = []
    changed = []
    for member in archive.members:
        assert member.zip is not None
        data = member.data()
        if member.kind is MemberKind.DIR:
            method, raw = ZipMethod.STORED, data
        else:
            method, raw = ZipMethod.DEFLATED, _deflate(data, context.policy.level)
        if member.zip.method == method and bytes(member.payload.raw) == raw:
            members.append(member)
            continue
        details = replace(member.zip, method=method, compressed_size=len(raw))
        members.append(
            replace(member, zip=details, payload=Payload(raw=raw, method=method, size=len(data)))
        )
        changed.append(member.name)
    return replace(archive, members=tuple(members)), tuple(changed)


# --------------------------------------------------------------------------- RECORD

_SIGNATURES = ("RECORD.jws", "RECORD.p7s")


def _record(archive: Archive, context: Context) -> tuple[Archive, tuple[str, ...]]:
    dist_info = dist_info_dir(archive)
    record_name = f"{dist_info}/RECORD"
    record_member = archive.member(record_name)
    record_data = record_member.data()
    rows = {row.path: row for row in reversed(parse_record(record_data, member=record_name))}
    unlisted = {record_name, *(f"{dist_info}/{name}" for name in _SIGNATURES)}
    for name in unlisted:
        rows.pop(name, None)
    listed: list[RecordRow] = []
    for member in archive.members:
        if member.path in unlisted:
            continue
        row = rows.pop(member.path, None)
        if row is None:
            if member.kind is MemberKind.DIR:
                continue
            raise NormalizeError(
                "member is not listed in RECORD",
                member=member.name,
                hint="a wheel's RECORD must list every file; normalize will not vouch for "
                "an unlisted one",
            )
        _verify_row(row, member)
        listed.append(row)
    if rows:
        missing = next(iter(rows))
        raise NormalizeError(
            f"RECORD lists {missing!r}, which is not in the wheel",
            member=record_name,
        )
    listed.append(RecordRow(path=record_name))
    content = render_record(listed)
    if content == record_data:
        return archive, ()
    raw = _deflate(content, context.policy.level)
    details = replace(
        record_member.zip or ZipDetails(),
        method=ZipMethod.DEFLATED,
        crc32=zlib.crc32(content),
        compressed_size=len(raw),
    )
    new_member = replace(
        record_member,
        kind=MemberKind.FILE,
        size=len(content),
        link_target=None,
        zip=details,
        payload=Payload(raw=raw, method=ZipMethod.DEFLATED, size=len(content)),
    )
    if record_member.sha256:  # the new RECORD has a digest when the archive's were read
        new_member = replace(new_member, sha256=sha256_hex(content))
    members = tuple(new_member if m is record_member else m for m in archive.members)
    return replace(archive, members=members), (record_name,)


def _verify_row(row: RecordRow, member: Member) -> None:
    if member.kind is not MemberKind.FILE or not row.hash:
        if member.kind is MemberKind.FILE:
            raise NormalizeError("RECORD gives no hash for this file", member=member.name)
        return
    if row.size and row.size != str(member.size):
        raise NormalizeError(
            f"RECORD gives size {row.size}, the file has {member.size}", member=member.name
        )
    if not member.sha256:
        return  # read without digests: the content is copied as it is, not vouched for
    algorithm = row.hash.partition("=")[0]
    try:
        actual = member_record_hash(member, algorithm)
    except ValueError:
        raise NormalizeError(
            f"RECORD uses the unknown hash {algorithm!r}", member=member.name
        ) from None
    if actual != row.hash:
        raise NormalizeError(
            f"content does not match RECORD ({row.hash} listed, {actual} found)",
            member=member.name,
            hint="the wheel was changed after it was built; normalize will not vouch for it",
        )


_ALL = frozenset(Container)
_ZIP = frozenset({Container.ZIP})
_TAR = frozenset({Container.TAR})

#: Every rule, in the order it runs.
RULES: tuple[Rule, ...] = (
    Rule(
        name="member-order",
        touches="the order of members (wheels: dist-info last, RECORD "
        "at the very end; others: sorted by path)",
        containers=_ALL,
        step=_member_order,
    ),
    Rule(
        name="timestamps",
        touches="member times later than SOURCE_DATE_EPOCH, clamped to it",
        containers=_ALL,
        step=_timestamps,
    ),
    Rule(
        name="permissions",
        touches="modes: 0644 or 0755 for files (keeping the exec bit), "
        "0755 for folders, 0777 for symlinks",
        containers=_ALL,
        step=_permissions,
    ),
    Rule(
        name="ownership",
        touches="tar owners: uid and gid 0, empty user and group names",
        containers=_TAR,
        step=_ownership,
    ),
    Rule(
        name="tar-format",
        touches="tar headers: PAX with only the records a member needs "
        "(no sub-second times), no global header, end padded to a 10240-byte record",
        containers=_TAR,
        step=_tar_format,
    ),
    Rule(
        name="gzip-header",
        touches="gzip header: mtime 0, no file name, OS 255; compressed again at level 9",
        containers=_TAR,
        step=_gzip_header,
    ),
    Rule(
        name="zip-headers",
        touches="zip headers: made on Unix (create_system 3), no extra "
        "fields, comments or data descriptors",
        containers=_ZIP,
        step=_zip_headers,
    ),
    Rule(
        name="zip-compression",
        touches="zip members deflated again at level 9, with --recompress (the output then "
        "depends on the local zlib)",
        containers=_ZIP,
        step=_zip_compression,
        opt_in=True,
    ),
    Rule(
        name="record",
        touches="a wheel's RECORD: rows in member order, verified, RECORD last",
        containers=_ZIP,
        step=_record,
        kinds=frozenset({ArtifactKind.WHEEL}),
    ),
)
