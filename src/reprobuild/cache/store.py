"""The content-addressed store: blobs named by the sha256 of their bytes.

Under the cache root::

    cas/<first 2 hex>/<64 hex>   one blob, read-only (0o444) from the moment it has its name
    tmp/                         blobs and records being written (a rename publishes them)
    quarantine/                  what was found wrong, set aside with a ``.reason`` beside it

A blob is verified on write and on every read. On write, its name is the digest of the bytes as
they were written, computed while writing them (and compared with ``expect`` when the caller
knows what it should be). On read, :meth:`BlobStore.read_bytes`, :meth:`BlobStore.export` and
:meth:`BlobStore.path_of` hash what they read before handing it on: a blob whose bytes changed
on disk is moved to the quarantine and :class:`~reprobuild.errors.CorruptBlobError` is raised;
bad bytes are never returned. :meth:`BlobStore.has` only looks at the file system.

A digest is checked (64 lower-case hex digits) before it names a file: a bad one is a
:class:`~reprobuild.errors.UsageError`, never a path.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from reprobuild._fs import atomic_write
from reprobuild._types import Buffer
from reprobuild.errors import CorruptBlobError, MissingBlobError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO

    from reprobuild.cache.index import Index

__all__ = ["Blob", "BlobStore", "check_digest", "is_digest", "quarantine", "stray_entries"]

_HEX = frozenset("0123456789abcdef")
_BLOCK = 1 << 20
#: Permission bits of a stored blob or action record.
READ_ONLY = 0o444
#: What a quarantined entry's reason is written beside it as (``<entry>.reason``).
REASON_SUFFIX = ".reason"


def is_digest(text: str) -> bool:
    """Whether ``text`` is a sha256 in lower-case hex (64 digits), the only names in the store."""
    return len(text) == 64 and _HEX.issuperset(text)


def check_digest(text: str, *, what: str = "digest") -> str:
    """``text`` when it is a sha256 in lower-case hex; :class:`UsageError` otherwise."""
    if not isinstance(text, str) or not is_digest(text):
        raise UsageError(f"not a sha256 {what} (64 lower-case hex digits): {text!r}")
    return text


@dataclass(frozen=True, slots=True, kw_only=True)
class Blob:
    """A blob in the store: the sha256 of its bytes (lower-case hex) and their number."""

    digest: str
    size: int


def quarantine(root: Path, path: Path, *, name: str, reason: str) -> Path | None:
    """Move ``path`` to ``<root>/quarantine/<name>-<nanoseconds>`` with its ``reason`` written
    beside it, and return where it went; None when it was no longer there (another process set
    it aside first)."""
    folder = root / "quarantine"
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / f"{name}-{time.time_ns()}"
    try:
        path.replace(dest)
    except FileNotFoundError:
        return None
    dest.with_name(dest.name + REASON_SUFFIX).write_text(reason + "\n", encoding="utf-8")
    return dest


def make_temp(folder: Path, prefix: str) -> tuple[int, Path]:
    """A new file in ``folder`` (made if missing), open for writing, readable by its owner only
    until it is published."""
    import tempfile

    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=folder, prefix=prefix)
    return fd, Path(name)


def sync_folder(folder: Path) -> None:
    """Force a folder's entries (a rename into it) to disk, where the system allows it."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class BlobStore:
    """Blobs under ``<root>/cas``, named by their sha256 and verified on every read.

    ``index``, when given, is told of every blob written, read and removed (see
    :class:`~reprobuild.cache.index.Index`); the files are the truth, the index only lists them.
    Any number of processes may use one store at once: a blob is published by one atomic link or
    rename, and two writers of the same bytes end with one blob.
    """

    __slots__ = ("_index", "root")

    def __init__(self, root: Path, *, index: Index | None = None) -> None:
        self.root = Path(root)
        self._index = index

    # -- writing --------------------------------------------------------------------------

    def put_stream(self, chunks: Iterable[Buffer], *, expect: str | None = None) -> Blob:
        """Store the bytes of ``chunks`` joined, and return their blob.

        They are hashed as they are written to a temporary file in the store, which is forced to
        disk, made read-only, and only then given its name. When a blob of that digest is
        already there, it is kept and nothing is rewritten. With ``expect``, bytes whose sha256
        is another are refused with :class:`CorruptBlobError` and nothing is stored. When
        ``chunks`` raises, the exception goes on and nothing is left behind.
        """
        from hashlib import sha256

        if expect is not None:
            check_digest(expect)
        fd, tmp = make_temp(self.root / "tmp", ".blob-")
        try:
            hasher = sha256()
            size = 0
            with os.fdopen(fd, "wb") as handle:
                for chunk in chunks:
                    view = memoryview(chunk).cast("B")
                    hasher.update(view)
                    handle.write(view)
                    size += view.nbytes
                handle.flush()
                os.fsync(handle.fileno())
                os.fchmod(handle.fileno(), READ_ONLY)
            digest = hasher.hexdigest()
            if expect is not None and digest != expect:
                raise CorruptBlobError(
                    f"the bytes given are not those of {expect} (their sha256 is {digest})",
                    digest=expect,
                    actual=digest,
                )
            self._publish(tmp, digest, size)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        if self._index is not None:
            self._index.blob_added(digest, size)
        return Blob(digest=digest, size=size)

    def put_bytes(self, data: Buffer, *, expect: str | None = None) -> Blob:
        """Store ``data`` (see :meth:`put_stream`)."""
        return self.put_stream((data,), expect=expect)

    def put_file(self, path: Path, *, expect: str | None = None) -> Blob:
        """Store the bytes of the file at ``path``, read a MiB at a time (see
        :meth:`put_stream`)."""
        with Path(path).open("rb") as handle:
            return self.put_stream(iter(lambda: handle.read(_BLOCK), b""), expect=expect)

    def _publish(self, tmp: Path, digest: str, size: int) -> None:
        final = self._path(digest)
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(tmp, final)  # never replaces: a blob once there is not rewritten
        except FileExistsError:
            if self._size(final) == size:
                return
            # a blob of another size under this name is corrupt: ours takes its place
            quarantine(
                self.root,
                final,
                name=f"blob-{digest}",
                reason=f"size {self._size(final)} is not {size}, the size of its bytes",
            )
            tmp.replace(final)
        except OSError:  # a file system without hard links
            if self._size(final) == size:
                return
            tmp.replace(final)
        sync_folder(final.parent)

    # -- reading --------------------------------------------------------------------------

    def has(self, digest: str) -> bool:
        """Whether a blob of ``digest`` is stored. Only a look at the file system: reading it
        still verifies it."""
        return self._path(check_digest(digest)).is_file()

    def size_of(self, digest: str) -> int | None:
        """The size on disk of the blob of ``digest``, or None when there is none (unverified)."""
        return self._size(self._path(check_digest(digest)))

    def read_bytes(self, digest: str) -> bytes:
        """The bytes of the blob of ``digest``, verified (:class:`CorruptBlobError` when they
        are not its bytes, :class:`MissingBlobError` when there is none)."""
        path = self._path(check_digest(digest))
        with self._open(digest, path) as handle:
            status = os.fstat(handle.fileno())
            data = handle.read()
        from hashlib import sha256

        actual = sha256(data).hexdigest()
        if actual != digest:
            self._corrupt(digest, actual, path, status)
        self._used(digest)
        return data

    def export(self, digest: str, dest: Path) -> Blob:
        """Copy the blob of ``digest`` to ``dest``, verified: hashed while copied to a temporary
        file beside ``dest``, which is renamed over it only when the digest is right. On a
        mismatch the blob is set aside, :class:`CorruptBlobError` is raised and ``dest`` is left
        as it was. ``dest`` gets the permission bits a new file gets (it is not read-only)."""
        from hashlib import sha256

        path = self._path(check_digest(digest))
        with self._open(digest, path) as handle:
            status = os.fstat(handle.fileno())
            hasher = sha256()
            size = 0
            with atomic_write(Path(dest)) as out:
                while block := handle.read(_BLOCK):
                    hasher.update(block)
                    out.write(block)
                    size += len(block)
                actual = hasher.hexdigest()
                if actual != digest:
                    self._corrupt(digest, actual, path, status)
        self._used(digest)
        return Blob(digest=digest, size=size)

    def path_of(self, digest: str) -> Path:
        """The path of the blob of ``digest``, once its bytes are verified (see
        :meth:`read_bytes` for the errors). The file is read-only and must stay so: it may be
        linked or copied, never written."""
        path = self._path(check_digest(digest))
        with self._open(digest, path) as handle:
            status = os.fstat(handle.fileno())
            actual = _hash_handle(handle)
        if actual != digest:
            self._corrupt(digest, actual, path, status)
        self._used(digest)
        return path

    def verify(self, digest: str) -> bool:
        """Whether a good blob of ``digest`` is stored: its bytes are hashed again. A corrupt
        one is set aside (and False returned); a missing one is False."""
        path = self._path(check_digest(digest))
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            return False
        with handle:
            status = os.fstat(handle.fileno())
            actual = _hash_handle(handle)
        if actual == digest:
            return True
        with contextlib.suppress(CorruptBlobError):
            self._corrupt(digest, actual, path, status)
        return False

    # -- listing and removing ---------------------------------------------------------------

    def blobs(self) -> Iterator[Blob]:
        """Every blob stored, by the size on disk (not verified), in no particular order."""
        for folder, name in self._entries():
            path = folder / name
            size = self._size(path)
            if size is not None and is_digest(name) and name[:2] == folder.name:
                yield Blob(digest=name, size=size)

    def strays(self) -> Iterator[Path]:
        """Entries under ``cas/`` that are not blobs: wrong names, wrong folders, not files."""
        return stray_entries(self.root / "cas")

    def remove(self, digest: str) -> int:
        """Delete the blob of ``digest``; the number of bytes freed (0 when there was none)."""
        path = self._path(check_digest(digest))
        size = self._size(path)
        try:
            path.unlink()
        except FileNotFoundError:
            size = None
        if self._index is not None:
            self._index.blob_removed(digest)
        return size or 0

    # -- helpers ----------------------------------------------------------------------------

    def _path(self, digest: str) -> Path:
        return self.root / "cas" / digest[:2] / digest

    def _entries(self) -> Iterator[tuple[Path, str]]:
        cas = self.root / "cas"
        try:
            folders = sorted(cas.iterdir())
        except FileNotFoundError:
            return
        for folder in folders:
            if folder.is_dir() and not folder.is_symlink() and _is_prefix(folder.name):
                for name in sorted(p.name for p in folder.iterdir()):
                    yield folder, name

    @staticmethod
    def _size(path: Path) -> int | None:
        import stat

        try:
            status = path.lstat()
        except FileNotFoundError:
            return None
        return status.st_size if stat.S_ISREG(status.st_mode) else None

    @staticmethod
    @contextlib.contextmanager
    def _open(digest: str, path: Path) -> Iterator[BinaryIO]:
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            raise MissingBlobError("no such blob in the store", digest=digest) from None
        with handle:
            yield handle

    def _corrupt(self, digest: str, actual: str, path: Path, status: os.stat_result) -> None:
        """Set aside the blob at ``path`` (when it is still the file that was read) and raise."""
        moved: Path | None = None
        with contextlib.suppress(FileNotFoundError):
            now = path.lstat()
            if (now.st_dev, now.st_ino) == (status.st_dev, status.st_ino):
                moved = quarantine(
                    self.root,
                    path,
                    name=f"blob-{digest}",
                    reason=f"its bytes have the sha256 {actual}",
                )
        if self._index is not None:
            self._index.blob_removed(digest)
        raise CorruptBlobError(
            f"the blob's bytes are not those of its digest (their sha256 is {actual})",
            digest=digest,
            actual=actual,
            path=str(path),
            quarantined=None if moved is None else str(moved),
        )

    def _used(self, digest: str) -> None:
        if self._index is not None:
            self._index.blob_used(digest)


def stray_entries(top: Path) -> Iterator[Path]:
    """Entries under ``top`` that are not ``<2 hex>/<64 hex>`` regular files with matching
    prefixes, in order."""
    import stat

    try:
        folders = sorted(top.iterdir())
    except FileNotFoundError:
        return
    for folder in folders:
        if not (folder.is_dir() and not folder.is_symlink() and _is_prefix(folder.name)):
            yield folder
            continue
        for name in sorted(p.name for p in folder.iterdir()):
            path = folder / name
            try:
                regular = stat.S_ISREG(path.lstat().st_mode)
            except FileNotFoundError:
                continue
            if not (regular and is_digest(name) and name[:2] == folder.name):
                yield path


def _is_prefix(name: str) -> bool:
    return len(name) == 2 and _HEX.issuperset(name)


def _hash_handle(handle: BinaryIO) -> str:
    from hashlib import sha256

    hasher = sha256()
    while block := handle.read(_BLOCK):
        hasher.update(block)
    return hasher.hexdigest()
