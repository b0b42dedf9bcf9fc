"""Read packages into the dedup model: wheels and zip sdists through the short listing of
:func:`reprobuild.archive.list_zip`, tar sdists and conda packages as streams (conda through
:mod:`reprobuild.dedup.conda`, loaded only when a conda package is read); and find the
packages in folders (a wheelhouse, a local channel with its platform subfolders).

Memory stays at a block of the largest member (a member above 1 MiB is inflated and hashed a
block at a time, never held) plus the few small files the rules read. A zip file is mapped, not
read into memory, and its pages are let go as its members are read. Members are often the same
in many packages, compressed the same way: :class:`ContentDigests` remembers, for the members
read last, the content digest of each distinct run of compressed bytes, so that such a member
is hashed but not inflated again (inflating is deterministic: the same compressed bytes always
give the same content). The others can be inflated and hashed by a pool of threads, and the
next package read while the caller works on one (:func:`read_packages`).
"""

from __future__ import annotations

import mmap
import os
import tarfile
import threading
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future
from hashlib import sha256
from pathlib import Path
from typing import TypeVar

from reprobuild._fs import sha256_file
from reprobuild.archive import MemberKind, ZipEntry, list_zip
from reprobuild.dedup.model import Entry, Package, PackageFormat
from reprobuild.dedup.rules import keeps
from reprobuild.dedup.tarmember import tar_kind
from reprobuild.errors import ArchiveError, ReprobuildError, UsageError

__all__ = [
    "READING_THREADS",
    "SUFFIXES",
    "ContentDigests",
    "find_package_files",
    "find_packages",
    "package_format",
    "read_package",
    "read_packages",
]

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
#: How many packages are read side by side, at most: one more than the processors, since a
#: reading thread often waits for the interpreter between its inflating and hashing.
READING_THREADS = min((os.cpu_count() or 1) + 1, 4)
_KEY = 33  # a member's method, and the sha256 of its compressed bytes
_SLOT = _KEY + 44  # and its content's sha256, CRC-32 and size
#: How many members a task of the reading threads inflates and hashes, at most.
_TASK_MEMBERS = 64
#: How many compressed bytes a task takes on before it is handed out.
_TASK_BYTES = 1 << 18
_T = TypeVar("_T")


class ContentDigests:
    """The content of the members read last, by their compressed bytes: a bounded map from
    (method, sha256 of the compressed bytes) to the content's sha256, CRC-32 and size.

    It holds at most ``size`` members in one table made up front (77 bytes each, so its memory
    does not grow with what is read), two to a slot chosen by the key: a member put in a full
    slot takes the place of the one of the two used longest ago."""

    __slots__ = ("_lock", "_sets", "_table")

    def __init__(self, size: int = 2048) -> None:
        self._sets = max(size // 2, 1)
        self._table = bytearray(self._sets * 2 * _SLOT)
        self._lock = threading.Lock()  # packages read side by side share it

    def _slot(self, key: bytes) -> int:
        return int.from_bytes(key[1:9], "little") % self._sets * 2 * _SLOT

    def get(self, key: bytes) -> tuple[str, int, int] | None:
        """The content's (sha256, CRC-32, size) of compressed bytes of ``key``, when known."""
        with self._lock:
            return self._get(key)

    def _get(self, key: bytes) -> tuple[str, int, int] | None:
        table = self._table
        first = self._slot(key)
        if table[first : first + _KEY] == key:
            found = table[first + _KEY : first + _SLOT]
        elif table[first + _SLOT : first + _SLOT + _KEY] == key:
            found = table[first + _SLOT + _KEY : first + 2 * _SLOT]
            older = table[first : first + _SLOT]  # the one used last comes first
            table[first : first + _SLOT] = table[first + _SLOT : first + 2 * _SLOT]
            table[first + _SLOT : first + 2 * _SLOT] = older
        else:
            return None
        return found[:32].hex(), int.from_bytes(found[32:36]), int.from_bytes(found[36:])

    def put(self, key: bytes, found: tuple[str, int, int]) -> None:
        if len(key) != _KEY:
            raise ValueError("a key is a method byte and a sha256")
        digest, crc, size = found
        record = key + bytes.fromhex(digest) + crc.to_bytes(4) + size.to_bytes(8)
        with self._lock:
            table = self._table
            first = self._slot(key)
            table[first + _SLOT : first + 2 * _SLOT] = table[first : first + _SLOT]
            table[first : first + _SLOT] = record


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
    return [Path(found) for found in find_package_files(paths)]


def find_package_files(paths: Iterable[str | os.PathLike[str]]) -> list[str]:
    """:func:`find_packages`, as strings: a path object per file costs more than its string,
    and makes every file name an interned string for as long as it lives."""
    found: list[str] = []
    for given in paths:
        path = _normal(os.fspath(given))
        if os.path.isdir(path):  # noqa: PTH112 (strings: a path object interns each file name)
            found.extend(_walk(path))
        elif os.path.isfile(path):  # noqa: PTH113
            if package_format(os.path.basename(path)) is None:  # noqa: PTH119
                raise UsageError(
                    "not a package dedup reads",
                    path=path,
                    hint="give wheels (.whl), sdists (.tar.gz, .zip), conda packages "
                    "(.conda, .tar.bz2), or folders of them",
                )
            found.append(path)
        else:
            raise UsageError("no such file or folder", path=path, hint="check the path")
    return list(dict.fromkeys(found))


def _normal(path: str) -> str:
    """``path`` as a path object would spell it: no empty or ``.`` parts, no final slash."""
    if os.name != "posix":
        return str(Path(path))
    root = "/" if path.startswith("/") else ""
    if path.startswith("//") and not path.startswith("///"):
        root = "//"
    return root + "/".join(p for p in path.split("/") if p and p != ".") or "."


def _walk(root: str) -> Iterator[str]:
    def fail(exc: OSError) -> None:
        where = exc.filename if isinstance(exc.filename, str) else root
        raise UsageError(f"cannot read: {exc.strerror or exc}", path=where) from exc

    for directory, folders, names in os.walk(root, onerror=fail):
        folders.sort()
        for name in sorted(names):
            if package_format(name) is not None:
                path = _normal(os.path.join(directory, name))  # noqa: PTH118
                if os.path.isfile(path):  # noqa: PTH113
                    yield path


def read_package(
    path: str | os.PathLike[str],
    *,
    digests: ContentDigests | None = None,
    pool: Executor | None = None,
) -> Package:
    """Read the package at ``path``: its members, and the bytes of the few the rules read.
    ``digests`` carries what the packages read before it tell about shared members (one is
    made for this package alone when None). With ``pool`` (threads: zlib and hashlib let go
    of the interpreter while they work), the file's sha256 is computed while its members are
    read, and a zip's members are inflated and hashed by the pool's threads, a task of at most
    64 members at a time each. :class:`ArchiveError` (naming the file and, when known, the
    member) when it does not read."""
    where = path if isinstance(path, str) else str(path)
    fmt = package_format(where.rsplit("/", 1)[-1] if os.sep == "/" else Path(where).name)
    if fmt is None:
        raise UsageError("not a package dedup reads", path=where)
    try:
        size = os.stat(where).st_size  # noqa: PTH116 (strings: a path object interns each file name)
        if fmt.conda:
            from reprobuild.dedup.conda import read_conda

            whole = _run(pool, sha256_file, Path(where))
            entries, kept = read_conda(Path(where))
        elif _is_zip(where):
            whole, entries, kept = _read_zip(where, digests or ContentDigests(), pool)
        else:
            whole = _run(pool, sha256_file, Path(where))
            entries, kept = _read_tar(where)
        digest = whole.result()
    except OSError as exc:
        raise ArchiveError(f"cannot read: {exc.strerror or exc}", path=where) from exc
    except ReprobuildError as exc:
        raise exc.with_path(where) from None
    return Package(path=where, format=fmt, size=size, sha256=digest, entries=entries, kept=kept)


def read_packages(
    paths: Iterable[str | os.PathLike[str]],
    *,
    digests: ContentDigests | None = None,
    pool: Executor | None = None,
    ahead: Executor | None = None,
    depth: int = 1,
) -> Iterator[Package]:
    """:func:`read_package` of each of ``paths``, in order. With ``ahead`` (threads), the next
    ``depth`` packages are read there, side by side, while the caller works on the one given,
    so that at most ``depth + 1`` are held; with ``pool``, as :func:`read_package` says.
    ``digests`` is shared by the packages read side by side: which of them inflates a member
    they share then depends on the threads, what is read does not."""
    known = digests or ContentDigests()
    waiting: deque[Future[Package]] = deque()
    for path in paths:
        waiting.append(_run(ahead, _read_one, path, known, pool))
        if len(waiting) > max(depth, 1) or ahead is None:
            yield waiting.popleft().result()
    while waiting:
        yield waiting.popleft().result()


def _read_one(
    path: str | os.PathLike[str], digests: ContentDigests, pool: Executor | None
) -> Package:
    return read_package(path, digests=digests, pool=pool)


def _run(pool: Executor | None, work: Callable[..., _T], *args: object) -> Future[_T]:
    """``work(*args)`` on ``pool``, or here and now when there is none."""
    if pool is not None:
        return pool.submit(work, *args)
    done: Future[_T] = Future()
    try:
        done.set_result(work(*args))
    except BaseException as exc:  # handed to whoever asks for the result, as a pool does
        done.set_exception(exc)
    return done


def _is_zip(path: str) -> bool:
    with open(path, "rb") as handle:  # noqa: PTH123
        return handle.read(4) in (b"PK\x03\x04", b"PK\x05\x06")


def _entry(member: ZipEntry, digest: str) -> Entry:
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


def _hash_mapped(mapped: mmap.mmap) -> str:
    """The sha256 of a mapped file, its pages let go as they are read when it is large."""
    large = len(mapped) > _RELEASE
    whole = sha256()
    for start in range(0, len(mapped), _RELEASE):
        whole.update(memoryview(mapped)[start : start + _RELEASE])
        if large:
            _let_go(mapped)
    return whole.hexdigest()


#: what a task found of one member: (sha256, CRC-32, kept bytes), or why it does not read
_Found = tuple[str, int, bytes | None] | ReprobuildError


def _read_zip(
    path: str, known: ContentDigests, pool: Executor | None
) -> tuple[Future[str], tuple[Entry, ...], tuple[tuple[str, bytes], ...]]:
    """The file's sha256 (to come), members and kept bytes of a zip file, mapped rather than
    read. Each member's compressed bytes are hashed here and looked up in ``known``; those not
    known are inflated and hashed in tasks (on ``pool``), each task's members handed out in
    file order, and read back in file order, so that the first member that does not read is
    the one named. The work goes a window of 8 MiB of compressed bytes at a time, whose pages
    are let go when the file is large."""
    with open(path, "rb") as handle:  # noqa: PTH123
        if os.fstat(handle.fileno()).st_size == 0:
            raise ArchiveError("an empty file", hint="check that the download is complete")
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    whole = _run(pool, _hash_mapped, mapped)
    large = len(mapped) > _RELEASE
    members = list_zip(memoryview(mapped))
    entries: list[Entry] = []
    kept: list[tuple[str, bytes]] = []
    start = 0
    while start < len(members):
        window: list[tuple[ZipEntry, bytes, bool, tuple[str, int, int] | None]] = []
        tasks: list[Future[list[_Found]]] = []
        task: list[tuple[ZipEntry, bool]] = []
        task_bytes = window_bytes = 0
        while start < len(members) and window_bytes < _RELEASE:
            member = members[start]
            start += 1
            payload = member.payload
            stored = payload.stored_size
            window_bytes += stored
            if member.kind is MemberKind.SYMLINK:
                window.append((member, b"", False, None))
                continue
            keep = keeps(member.path, member.size)
            key = bytes([payload.method]) + sha256(payload.raw).digest()
            found = known.get(key)
            if found is not None and not keep:
                window.append((member, key, keep, found))
                continue
            window.append((member, key, keep, None))
            if keep:  # inflated here: what is kept is allocated by this thread
                if task:
                    tasks.append(_run(pool, _inflate_all, task))
                    task, task_bytes = [], 0
                tasks.append(_run(None, _inflate_all, [(member, keep)]))
                continue
            task.append((member, keep))
            task_bytes += stored
            if len(task) >= _TASK_MEMBERS or task_bytes >= _TASK_BYTES:
                tasks.append(_run(pool, _inflate_all, task))
                task, task_bytes = [], 0
        if task:
            tasks.append(_run(pool, _inflate_all, task))
        results = (found for done in tasks for found in done.result())
        for member, key, _, found in window:
            if member.kind is MemberKind.SYMLINK:
                entries.append(_entry(member, ""))
                continue
            if found is not None:
                digest, crc, size = found
                if (crc, size) != (member.crc32, member.size):
                    raise ArchiveError(
                        "CRC-32 mismatch: the member's data is corrupt", member=member.name
                    )
                entries.append(_entry(member, digest))
                continue
            made = next(results)
            if isinstance(made, ReprobuildError):
                made.member = made.member or member.name
                raise made
            digest, crc, data = made
            if crc != member.crc32:
                raise ArchiveError(
                    "CRC-32 mismatch: the member's data is corrupt", member=member.name
                )
            known.put(key, (digest, crc, member.size))
            entries.append(_entry(member, digest))
            if data is not None:
                kept.append((member.path, data))
        if large:
            _let_go(mapped)
    return whole, tuple(entries), tuple(kept)


def _let_go(mapped: mmap.mmap) -> None:
    """Let go of the pages of ``mapped`` read so far: they stay in the page cache."""
    if hasattr(mmap, "MADV_DONTNEED"):
        mapped.madvise(mmap.MADV_DONTNEED)


def _inflate_all(task: list[tuple[ZipEntry, bool]]) -> list[_Found]:
    """:func:`_inflate` of each member of a task, in order; one that does not read ends the
    task with its error."""
    found: list[_Found] = []
    for member, keep in task:
        try:
            found.append(_inflate(member, keep))
        except ReprobuildError as exc:
            found.append(exc)
            break
    return found


def _inflate(member: ZipEntry, keep: bool) -> tuple[str, int, bytes | None]:
    """The sha256 and CRC-32 of a zip member's content, and the content itself when
    ``keep``. A member above 1 MiB (not kept) is inflated and hashed a block at a time."""
    payload = member.payload
    if member.size > _WHOLE and not keep:
        hasher = sha256()
        crc = 0
        for block in payload.blocks(_BLOCK):
            crc = zlib.crc32(block, crc)
            hasher.update(block)
        return hasher.hexdigest(), crc, None
    content = payload.data() if payload.method == _DEFLATED else payload.raw
    return sha256(content).hexdigest(), zlib.crc32(content), bytes(content) if keep else None


def _read_tar(path: str) -> tuple[tuple[Entry, ...], tuple[tuple[str, bytes], ...]]:
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
