"""Read packages into the dedup model: wheels and zip sdists through :mod:`reprobuild.archive`'s
zip reader, tar sdists and conda packages as streams (conda through
:mod:`reprobuild.dedup.conda`); and find the packages in folders (a wheelhouse, a local channel
with its platform subfolders).

Memory stays at the largest member (a member above 16 MiB is inflated and hashed a block at a
time, never held) plus the few small files the rules read. A zip file is mapped, not read into
memory, and its pages are let go as its members are read. Members are often the same in many
packages, compressed the same way: :class:`ContentDigests` remembers, for the members read last,
the content digest of each distinct run of compressed bytes, so that such a member is hashed
but not inflated again (inflating is deterministic: the same compressed bytes always give the
same content).
"""

from __future__ import annotations

import mmap
import os
import tarfile
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from hashlib import sha256
from pathlib import Path

from reprobuild._fs import sha256_file
from reprobuild.archive import Member, MemberKind, parse_archive
from reprobuild.dedup.conda import tar_kind
from reprobuild.dedup.model import Entry, Package, PackageFormat
from reprobuild.dedup.rules import keeps
from reprobuild.errors import ArchiveError, ReprobuildError, UsageError

__all__ = ["SUFFIXES", "ContentDigests", "find_packages", "package_format", "read_package"]

#: File names dedup reads, and their formats (the first suffix that matches wins).
SUFFIXES: tuple[tuple[str, PackageFormat], ...] = (
    (".whl", PackageFormat.WHEEL),
    (".conda", PackageFormat.CONDA),
    (".tar.bz2", PackageFormat.CONDA_TAR_BZ2),
    (".tar.gz", PackageFormat.SDIST),
    (".tgz", PackageFormat.SDIST),
    (".zip", PackageFormat.SDIST),
)

_BLOCK = 1 << 18
#: A member larger than this is inflated and hashed a block at a time (unless its bytes are
#: kept for the rules), so that reading holds a block of it, not the whole member.
_WHOLE = 1 << 20
#: How many bytes of a mapped file are read before its pages are let go.
_RELEASE = 1 << 23
_DEFLATED = 8


class ContentDigests:
    """The content of the members read last, by their compressed bytes: a bounded map from
    (method, sha256 of the compressed bytes) to the content's sha256, CRC-32 and size. It holds
    at most ``size`` members (under 250 bytes each: the key and the value are one bytes string
    each), dropping the one used longest ago."""

    __slots__ = ("_known", "_size")

    def __init__(self, size: int = 2048) -> None:
        self._size = size
        self._known: OrderedDict[bytes, bytes] = OrderedDict()

    def get(self, key: bytes) -> tuple[str, int, int] | None:
        """The content's (sha256, CRC-32, size) of compressed bytes of ``key``, when known."""
        found = self._known.get(key)
        if found is None:
            return None
        self._known.move_to_end(key)
        return found[:32].hex(), int.from_bytes(found[32:36]), int.from_bytes(found[36:])

    def put(self, key: bytes, found: tuple[str, int, int]) -> None:
        digest, crc, size = found
        self._known[key] = bytes.fromhex(digest) + crc.to_bytes(4) + size.to_bytes(8)
        if len(self._known) > self._size:
            self._known.popitem(last=False)


def package_format(name: str) -> PackageFormat | None:
    """The format a file name says, or None when dedup does not read such files."""
    for suffix, fmt in SUFFIXES:
        if name.endswith(suffix):
            return fmt
    return None


def find_packages(paths: Iterable[Path]) -> list[Path]:
    """The package files among ``paths``: each file as it is, each folder searched below for
    the files :func:`package_format` knows (others, such as ``repodata.json``, are passed
    over), in a stable order. A path that is missing, or a file of another kind, is refused."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(_walk(path))
        elif path.is_file():
            if package_format(path.name) is None:
                raise UsageError(
                    "not a package dedup reads",
                    path=str(path),
                    hint="give wheels (.whl), sdists (.tar.gz, .zip), conda packages "
                    "(.conda, .tar.bz2), or folders of them",
                )
            found.append(path)
        else:
            raise UsageError("no such file or folder", path=str(path), hint="check the path")
    return list(dict.fromkeys(found))


def _walk(root: Path) -> Iterator[Path]:
    def fail(exc: OSError) -> None:
        where = exc.filename if isinstance(exc.filename, str) else str(root)
        raise UsageError(f"cannot read: {exc.strerror or exc}", path=where) from exc

    for directory, folders, names in os.walk(root, onerror=fail):
        folders.sort()
        for name in sorted(names):
            if package_format(name) is not None:
                path = Path(directory, name)
                if path.is_file():
                    yield path


def read_package(path: Path, *, digests: ContentDigests | None = None) -> Package:
    """Read the package at ``path``: its members, and the bytes of the few the rules read.
    ``digests`` carries what the packages read before it tell about shared members (one is
    made for this package alone when None). :class:`ArchiveError` (naming the file and, when
    known, the member) when it does not read."""
    fmt = package_format(path.name)
    if fmt is None:
        raise UsageError("not a package dedup reads", path=str(path))
    try:
        size = path.stat().st_size
        if fmt.conda:
            from reprobuild.dedup.conda import read_conda

            digest = sha256_file(path)
            entries, kept = read_conda(path)
        elif _is_zip(path):
            digest, entries, kept = _read_zip(path, digests or ContentDigests())
        else:
            digest = sha256_file(path)
            entries, kept = _read_tar(path)
    except OSError as exc:
        raise ArchiveError(f"cannot read: {exc.strerror or exc}", path=str(path)) from exc
    except ReprobuildError as exc:
        raise exc.with_path(str(path)) from None
    return Package(path=str(path), format=fmt, size=size, sha256=digest, entries=entries, kept=kept)


def _is_zip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) in (b"PK\x03\x04", b"PK\x05\x06")


def _entry(member: Member, digest: str) -> Entry:
    executable = (
        member.kind is MemberKind.FILE and member.mode is not None and bool(member.mode & 0o111)
    )
    if member.kind is not MemberKind.FILE and member.link_target is not None:
        digest = sha256(member.link_target.encode("utf-8", "surrogateescape")).hexdigest()
    return Entry(
        path=member.path,
        kind=member.kind,
        executable=executable,
        size=member.size if member.kind is MemberKind.FILE else 0,
        sha256=digest,
        link_target=member.link_target,
    )


def _read_zip(
    path: Path, known: ContentDigests
) -> tuple[str, tuple[Entry, ...], tuple[tuple[str, bytes], ...]]:
    """The file's sha256, members and kept bytes of a zip file, mapped rather than read."""
    with path.open("rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            raise ArchiveError("an empty file", hint="check that the download is complete")
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    large = len(mapped) > _RELEASE
    whole = sha256()
    for start in range(0, len(mapped), _RELEASE):
        whole.update(memoryview(mapped)[start : start + _RELEASE])
        if large:
            _let_go(mapped)
    archive = parse_archive(memoryview(mapped), digests=False)
    entries: list[Entry] = []
    kept: list[tuple[str, bytes]] = []
    read = 0
    for member in archive.members:
        if member.kind is MemberKind.SYMLINK:
            entries.append(_entry(member, member.sha256))
            continue
        try:
            digest, data = _content(member, known, keeps(member.path, member.size))
        except ReprobuildError as exc:
            exc.member = exc.member or member.name
            raise
        entries.append(_entry(member, digest))
        if data is not None:
            kept.append((member.path, data))
        read += member.payload.stored_size
        if large and read >= _RELEASE:
            _let_go(mapped)
            read = 0
    return whole.hexdigest(), tuple(entries), tuple(kept)


def _let_go(mapped: mmap.mmap) -> None:
    """Let go of the pages of ``mapped`` read so far: they stay in the page cache."""
    if hasattr(mmap, "MADV_DONTNEED"):
        mapped.madvise(mmap.MADV_DONTNEED)


def _content(member: Member, known: ContentDigests, keep: bool) -> tuple[str, bytes | None]:
    """The sha256 of a zip member's content, checked against its size and CRC-32, and the
    content itself when ``keep``."""
    assert member.zip is not None
    payload = member.payload
    raw = payload.raw
    key = bytes([payload.method]) + sha256(raw).digest()
    found = known.get(key)
    if found is not None and not keep:
        digest, crc, size = found
        if (crc, size) != (member.zip.crc32, member.size):
            raise ArchiveError("CRC-32 mismatch: the member's data is corrupt")
        return digest, None
    if member.size > _WHOLE and not keep:
        hasher = sha256()
        crc = 0
        for block in payload.blocks(_BLOCK):
            crc = zlib.crc32(block, crc)
            hasher.update(block)
        digest = hasher.hexdigest()
        data = None
    else:
        content = payload.data() if payload.method == _DEFLATED else raw
        crc = zlib.crc32(content)
        digest = sha256(content).hexdigest()
        data = bytes(content) if keep else None
    if crc != member.zip.crc32:
        raise ArchiveError("CRC-32 mismatch: the member's data is corrupt")
    known.put(key, (digest, crc, member.size))
    return digest, data


def _read_tar(path: Path) -> tuple[tuple[Entry, ...], tuple[tuple[str, bytes], ...]]:
    """The members and kept bytes of a (compressed) tar file, read as one stream, each member
    hashed a block at a time."""
    entries: list[Entry] = []
    kept: list[tuple[str, bytes]] = []
    seen: set[str] = set()
    current: str | None = None
    try:
        with tarfile.open(path, mode="r|*") as tar:
            for info in tar:
                current = info.name
                if info.name in seen:
                    raise ArchiveError("a member name appears twice", member=info.name)
                seen.add(info.name)
                kind = tar_kind(info)
                if kind is not MemberKind.FILE:
                    target = info.linkname if kind is not MemberKind.DIR else None
                    digest = sha256((target or "").encode("utf-8", "surrogateescape"))
                    entries.append(
                        Entry(
                            path=info.name,
                            kind=kind,
                            sha256=digest.hexdigest(),
                            link_target=target,
                        )
                    )
                    continue
                handle = tar.extractfile(info)
                if handle is None:
                    raise ArchiveError("a file member without data", member=info.name)
                keep = keeps(info.name, info.size)
                hasher = sha256()
                pieces: list[bytes] = []
                size = 0
                while block := handle.read(_BLOCK):
                    hasher.update(block)
                    size += len(block)
                    if keep:
                        pieces.append(block)
                if keep:
                    kept.append((info.name, b"".join(pieces)))
                entries.append(
                    Entry(
                        path=info.name,
                        kind=kind,
                        executable=bool(info.mode & 0o111),
                        size=size,
                        sha256=hasher.hexdigest(),
                    )
                )
    except ArchiveError:
        raise
    except (tarfile.TarError, EOFError, zlib.error, ValueError, LookupError) as exc:
        raise ArchiveError(
            f"not a readable tar file: {exc}",
            member=current,
            hint="check that the download is complete",
        ) from exc
    return tuple(entries), tuple(kept)
