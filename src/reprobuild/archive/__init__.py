"""Bytes ⇄ model: read zip and tar archives (plain, gzip, bzip2, xz) and write them back.

``parse_archive`` and ``write_archive`` are pure (bytes in, bytes out); ``load_archive`` and
``dump_archive`` touch files, ``dump_archive`` atomically. Memory is bounded whatever the
archive: a tar too large to hold is read in one streaming pass, its large members kept in an
anonymous spool file (see :mod:`reprobuild.archive.spool`), and written back piece by piece by
:func:`iter_archive`; zip members are views of the input, inflated a block at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from reprobuild._fs import read_bytes_mapped, write_chunks_atomic
from reprobuild._types import Buffer
from reprobuild.archive import compress, zipformat
from reprobuild.archive.model import (
    DEFAULT_LIMITS,
    Archive,
    Compression,
    Container,
    GzipHeader,
    Limits,
    Member,
    MemberKind,
    Payload,
    TarDetails,
    TarFormat,
    ZipDetails,
    ZipMethod,
)
from reprobuild.archive.safety import check_archive, check_name
from reprobuild.archive.spool import HOLD
from reprobuild.archive.zipformat import ZipEntry
from reprobuild.errors import ArchiveError, ReprobuildError, UnsafeArchiveError

__all__ = [
    "DEFAULT_LIMITS",
    "Archive",
    "Compression",
    "Container",
    "GzipHeader",
    "Limits",
    "Member",
    "MemberKind",
    "Payload",
    "TarDetails",
    "TarFormat",
    "ZipDetails",
    "ZipEntry",
    "ZipMethod",
    "dump_archive",
    "iter_archive",
    "list_zip",
    "load_archive",
    "parse_archive",
    "sniff",
    "streams",
    "write_archive",
    "write_archive_chunks",
]


def list_zip(data: Buffer, *, limits: Limits = DEFAULT_LIMITS) -> tuple[ZipEntry, ...]:
    """The members of the zip file ``data`` in a short form (:class:`ZipEntry`: name, kind,
    mode, size, CRC-32 and compressed bytes), refusing the corrupt and hostile input that
    :func:`parse_archive` refuses: its structure is checked in full, names that climb out of
    the archive and names given twice are refused, and symbolic links are checked as
    :func:`parse_archive` checks them. Members are not inflated: faster than
    :func:`parse_archive` with ``digests`` False, for a reader that needs no header fields."""
    entries = zipformat.list_zip(data, limits=limits)
    if any(e.kind is MemberKind.SYMLINK for e in entries):
        check_archive(zipformat.parse_zip(data, limits=limits, digests=False), limits)
        return entries
    seen: set[str] = set()
    for entry in entries:
        check_name(entry.name)
        if entry.path in seen:
            raise UnsafeArchiveError(
                "duplicate member: the name appears twice",
                member=entry.name,
                hint="tools disagree on which copy wins, so the archive's content is ambiguous",
            )
        seen.add(entry.path)
    return entries


def sniff(data: Buffer) -> tuple[Container, Compression]:
    """Tell the container and outer compression of ``data`` from its first bytes."""
    head = bytes(data[:6])
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return Container.ZIP, Compression.NONE
    outer = compress.sniff_compression(head)
    if outer is not Compression.NONE:
        return Container.TAR, outer
    from reprobuild.archive import tarformat  # here: reading and writing zips never need it

    if tarformat.looks_like_tar(data):
        return Container.TAR, Compression.NONE
    if zipformat.find_end_of_central_directory(data) is not None:
        return Container.ZIP, Compression.NONE
    raise ArchiveError(
        "not an archive reprobuild reads",
        hint="reprobuild reads zip and wheel files and tar files (plain, .gz, .bz2, .xz)",
    )


def parse_archive(
    data: Buffer,
    *,
    limits: Limits = DEFAULT_LIMITS,
    allow_duplicates: bool = False,
    identical_duplicates: bool = False,
    digests: bool = True,
) -> Archive:
    """Read ``data`` into an :class:`Archive`, refusing corrupt and hostile input.

    A name that appears twice is refused unless ``allow_duplicates``, or unless
    ``identical_duplicates`` and both copies are the same kind with the same content: then both
    members stay visible in the model, in file order. With ``digests`` False, zip members are
    neither inflated nor CRC-checked and their ``sha256`` is left empty: the structure is still
    checked in full, and reading is bound by I/O (what normalization needs, since it copies zip
    data raw).
    """
    container, compression = sniff(data)
    if container is Container.ZIP:
        archive = zipformat.parse_zip(data, limits=limits, digests=digests)
    else:
        from reprobuild.archive import tarformat

        held = compress.decompress_within(data, compression, limits=limits, hold=HOLD)
        if held is None:  # too large to hold: read in one pass, large members spooled
            from reprobuild.archive.tarstream import read_tar_stream

            archive = read_tar_stream(data, compression, limits=limits)
            check_archive(
                archive,
                limits,
                allow_duplicates=allow_duplicates,
                identical_duplicates=identical_duplicates,
            )
            return archive
        plain, header = held
        archive = tarformat.parse_tar(plain, limits=limits)
        archive = Archive(
            container=Container.TAR,
            members=archive.members,
            compression=compression,
            gzip=header,
            tar_global_pax=archive.tar_global_pax,
            trailer_size=archive.trailer_size,
        )
    check_archive(
        archive,
        limits,
        allow_duplicates=allow_duplicates,
        identical_duplicates=identical_duplicates,
    )
    return archive


def write_archive(archive: Archive, *, level: int = 9) -> bytes:
    """Write ``archive`` as bytes, deterministically.

    ``level`` is the compression level used for outer compression and for zip members whose
    content must be compressed anew; zip members whose stored bytes can be reused are copied raw.
    """
    chunks = write_archive_chunks(archive, level=level)
    return bytes(chunks[0]) if len(chunks) == 1 else b"".join(chunks)


def write_archive_chunks(archive: Archive, *, level: int = 9) -> list[Buffer]:
    """:func:`write_archive` as the list of the file's pieces, in order, not joined.

    Zip member data copied raw stays a view of the bytes the archive was read from: a caller
    that writes the pieces to a file one after the other (``writelines``) never copies them in
    memory. The bytes are those of :func:`write_archive`.
    """
    if archive.container is Container.ZIP:
        return zipformat.write_zip_chunks(archive, level=level)
    from reprobuild.archive import tarformat

    plain = tarformat.write_tar(archive)
    return [compress.compress(plain, archive.compression, header=archive.gzip, level=level)]


def streams(archive: Archive) -> bool:
    """Whether ``archive`` is written piece by piece (:func:`iter_archive`) rather than whole:
    a tar whose content is larger than what is held in memory, or has members spooled."""
    if archive.container is Container.ZIP:
        return False
    total = 0
    for member in archive.members:
        if member.payload.spooled is not None:
            return True
        total += member.size
    return total > HOLD


def iter_archive(archive: Archive, *, level: int = 9) -> Iterator[Buffer]:
    """:func:`write_archive`'s bytes, piece by piece: a tar's members are read a block at a
    time and compressed as they go, so memory stays bounded whatever their size. The bytes
    are those of :func:`write_archive`."""
    if archive.container is Container.ZIP:
        yield from zipformat.write_zip_chunks(archive, level=level)
        return
    from reprobuild.archive import tarformat

    yield from compress.compress_blocks(
        tarformat.iter_tar(archive), archive.compression, header=archive.gzip, level=level
    )


def load_archive(
    path: Path, *, limits: Limits = DEFAULT_LIMITS, identical_duplicates: bool = False
) -> Archive:
    """Read the archive at ``path``; errors name the file."""
    try:
        data = read_bytes_mapped(Path(path))
    except OSError as exc:
        raise ArchiveError(f"cannot read: {exc.strerror or exc}", path=str(path)) from exc
    try:
        return parse_archive(data, limits=limits, identical_duplicates=identical_duplicates)
    except ReprobuildError as exc:
        raise exc.with_path(str(path)) from None


def dump_archive(archive: Archive, path: Path, *, level: int = 9) -> None:
    """Write ``archive`` to ``path`` atomically: the file is whole, or untouched (piece by
    piece, so a large archive is never held whole)."""
    write_chunks_atomic(Path(path), iter_archive(archive, level=level))
