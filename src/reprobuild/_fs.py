"""File-system helpers: atomic writes, digests, the cache folder. Nothing here interprets
archives.

``hashlib`` is imported where it is used: loading OpenSSL costs a few milliseconds that a
normalization which copies zip data raw never needs.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from reprobuild._types import Buffer

TYPE_CHECKING = False
if TYPE_CHECKING:
    import mmap
    from typing import BinaryIO

__all__ = [
    "Behind",
    "atomic_write",
    "default_cache_dir",
    "digest",
    "equal_buffers",
    "read_bytes_mapped",
    "release",
    "sha256_chunks",
    "sha256_file",
    "sha256_hex",
    "write_bytes_atomic",
    "write_chunks_atomic",
]


def digest(algorithm: str, data: bytes | memoryview) -> bytes:
    """The raw digest of ``data`` with a ``hashlib`` algorithm (ValueError if unknown)."""
    import hashlib

    return hashlib.new(algorithm, data).digest()


#: A file larger than this is mapped without reading it in up front, and its pages are let go
#: behind the reader (:func:`release`): memory then holds a window of it, never the whole.
MAP_WHOLE = 1 << 25


def read_bytes_mapped(path: Path) -> Buffer:
    """The bytes of the file at ``path``, mapped into memory rather than read into it.

    Data passed on as a view (a zip member copied raw into a new file) is never copied into the
    process: the kernel copies it from the page cache. The mapping is read-only and outlives the
    file's name: replacing ``path`` by a rename, as an in-place rewrite does, leaves it intact.
    As with any program that maps its input, the file must not be truncated while the mapping
    is in use (reading past its new end would stop the process with SIGBUS). What is not a
    regular file (a pipe, a device), an empty file, and a system that is not POSIX (where a
    mapped file cannot be replaced) get a plain read.

    A file of at most :data:`MAP_WHOLE` bytes has its pages mapped at once (Linux's
    ``MAP_POPULATE``): it is read whole anyway, by the copy that writes it out again. A larger
    one is mapped a page at a time as it is read, and whoever reads it through calls
    :func:`release` behind itself, so that the pages it read stop counting in the process's
    memory: a mapped page that was touched is resident, whatever its size on disk.
    """
    if os.name != "posix":
        return path.read_bytes()
    import mmap
    import stat

    with path.open("rb") as handle:
        status = os.fstat(handle.fileno())
        if not stat.S_ISREG(status.st_mode) or not status.st_size:
            return handle.read()
        if status.st_size <= MAP_WHOLE:
            flags = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)
            mapped = mmap.mmap(handle.fileno(), 0, flags=flags, prot=mmap.PROT_READ)
        else:
            mapped = _mapping_class()(
                handle.fileno(), 0, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ
            )
    return memoryview(mapped)


#: The class of large mapped files, once one is mapped (see :func:`_mapping_class`).
_MAPPING: list[type[mmap.mmap]] = []


def _mapping_class() -> type[mmap.mmap]:
    """The class of the large files :func:`read_bytes_mapped` maps (made at the first use:
    ``mmap`` is imported only then)."""
    if not _MAPPING:
        import mmap

        class Mapping(mmap.mmap):
            """A large file mapped read-only and shared by :func:`read_bytes_mapped`: its
            pages can be let go at any time, and are read again from the page cache when
            touched again."""

        _MAPPING.append(Mapping)
    return _MAPPING[0]


def release(data: Buffer, start: int = 0, end: int | None = None) -> None:
    """Let go of the pages of a large mapped file (see :func:`read_bytes_mapped`) that hold
    ``data[start:end]``: they stop counting in the process's memory, and stay in the page
    cache, from which they are mapped again if read again. Nothing changes for anything else
    (bytes, a small file's mapping). When ``data`` is a view of part of the file, the whole
    file's pages are let go.
    """
    if not _MAPPING or isinstance(data, bytes):
        return
    mapped = memoryview(data).obj
    if not isinstance(mapped, _MAPPING[0]):
        return
    import mmap

    length = len(mapped)
    if memoryview(data).nbytes != length:
        start, end = 0, length
    stop = length if end is None else min(end, length)
    start -= start % mmap.PAGESIZE
    if stop > start:
        mapped.madvise(mmap.MADV_DONTNEED, start, stop - start)


#: Bytes read between two calls of :func:`release` by a reader that goes through a file.
RELEASE_EVERY = 1 << 24
_PIECE = 1 << 20


class Behind:
    """Lets go of the pages of a large mapped file (:func:`release`) behind a reader that
    goes through ``data`` in order: it says how far it has read with :meth:`reached`."""

    __slots__ = ("_data", "_done", "_pos")

    def __init__(self, data: Buffer) -> None:
        self._data = data
        self._done = 0
        self._pos = 0

    def reached(self, pos: int) -> None:
        """Everything before ``pos`` is read; its pages go once :data:`RELEASE_EVERY` bytes
        have piled up."""
        self._pos = pos
        if pos - self._done >= RELEASE_EVERY:
            release(self._data, self._done, pos)
            self._done = pos

    def finish(self) -> None:
        """Let go of the pages read and not let go of yet."""
        if self._pos > self._done:
            release(self._data, self._done, self._pos)
            self._done = self._pos


def equal_buffers(a: Buffer, b: Buffer) -> bool:
    """Whether ``a`` and ``b`` hold the same bytes: compared a MiB at a time (as ``bytes``,
    with ``memcmp``), never copied whole, letting go of the pages of large mapped files behind
    the comparison (:func:`release`)."""
    if isinstance(a, bytes) and isinstance(b, bytes):
        return a == b
    view_a, view_b = memoryview(a).cast("B"), memoryview(b).cast("B")
    size = view_a.nbytes
    if size != view_b.nbytes:
        return False
    if size <= _PIECE:
        return bytes(view_a) == bytes(view_b)
    behind_a, behind_b = Behind(a), Behind(b)
    for at in range(0, size, _PIECE):
        if bytes(view_a[at : at + _PIECE]) != bytes(view_b[at : at + _PIECE]):
            return False
        behind_a.reached(at + _PIECE)
        behind_b.reached(at + _PIECE)
    behind_a.finish()
    behind_b.finish()
    return True


def sha256_hex(data: bytes | memoryview) -> str:
    """The sha256 of ``data`` as lower-case hex."""
    from hashlib import sha256

    return sha256(data).hexdigest()


def sha256_chunks(chunks: Iterable[Buffer]) -> tuple[str, int]:
    """The sha256 (lower-case hex) and the length of ``chunks`` joined, without joining them:
    each is hashed a MiB at a time, and the pages of a large mapped file are let go behind
    (:func:`release`), so that hashing a file's mapping never makes it resident whole."""
    from hashlib import sha256

    digest = sha256()
    length = 0
    for chunk in chunks:
        if isinstance(chunk, bytes):
            digest.update(chunk)
            length += len(chunk)
            continue
        view = memoryview(chunk).cast("B")
        behind = Behind(chunk)
        for start in range(0, view.nbytes, _PIECE):
            digest.update(view[start : start + _PIECE])
            behind.reached(start + _PIECE)
        behind.finish()
        length += view.nbytes
    return digest.hexdigest(), length


def sha256_file(path: Path) -> str:
    """The sha256 of the file at ``path`` as lower-case hex, read a MiB at a time."""
    from hashlib import sha256

    hasher = sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            hasher.update(block)
    return hasher.hexdigest()


@contextlib.contextmanager
def atomic_write(path: Path, *, mode: int | None = None) -> Iterator[BinaryIO]:
    """Open a new temporary file beside ``path``; on success rename it over ``path``.

    On any exception the temporary file is removed and ``path`` is left as it was: no reader
    ever sees a half-written file, and a failed run leaves nothing behind. (The rename is atomic;
    the data is not forced to disk, as neither pip nor strip-nondeterminism force it.) ``mode``
    sets the permission bits of the new file; by default an existing file's bits are kept, else
    a new file gets 0o644 less the umask.
    """
    path = Path(path)
    if mode is None:
        with contextlib.suppress(FileNotFoundError):
            mode = path.stat().st_mode & 0o7777
    for attempt in range(100):
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{attempt}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - a hundred stale temporary files of this very process
        raise FileExistsError(f"cannot create a temporary file beside {path}")
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        if mode is not None:
            tmp.chmod(mode)  # not reduced by the umask, unlike os.open's
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_bytes_atomic(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`)."""
    with atomic_write(path, mode=mode) as handle:
        handle.write(data)


def write_chunks_atomic(path: Path, chunks: Iterable[Buffer], *, mode: int | None = None) -> None:
    """Write ``chunks`` one after the other to ``path`` atomically (see :func:`atomic_write`):
    the file holds their bytes joined, without their being joined in memory first. The pieces
    are taken from ``chunks`` as they are written, a batch at a time, so a generator of pieces
    is never held whole. Where the system has ``writev``, many pieces go out in one call."""
    with atomic_write(path, mode=mode) as handle:
        if hasattr(os, "writev"):
            _write_all(handle.fileno(), chunks)
        else:  # pragma: no cover - Windows
            handle.writelines(chunks)


def _iov_max() -> int:
    try:
        return max(16, os.sysconf("SC_IOV_MAX"))
    except (ValueError, OSError):  # pragma: no cover - a system that does not say
        return 16  # the least POSIX allows


#: Bytes of pieces made as they are written (not views of data already in memory) taken into
#: one batch at most.
_BATCH_BYTES = 1 << 24


def _write_all(fd: int, chunks: Iterable[Buffer]) -> None:
    """Write every byte of ``chunks`` to ``fd``: batches of up to the system's limit of pieces
    (and about 16 MiB) per ``writev``. A piece that views a large mapped file is written 16 MiB
    at a time, and the file's pages are let go after each write (:func:`release`): writing it
    out never makes it resident whole."""
    limit = _iov_max()
    batch: list[Buffer] = []
    size = 0
    for chunk in chunks:
        length = len(chunk) if isinstance(chunk, bytes) else memoryview(chunk).nbytes
        if length > _BATCH_BYTES and not isinstance(chunk, bytes):
            if batch:
                _write_batch(fd, batch)
                _release_all(batch)
                batch, size = [], 0
            view = memoryview(chunk).cast("B")
            for start in range(0, length, _BATCH_BYTES):
                _write_batch(fd, [view[start : start + _BATCH_BYTES]])
                release(chunk, start, start + _BATCH_BYTES)
            continue
        batch.append(chunk)
        size += length
        if len(batch) >= limit or size >= _BATCH_BYTES:
            _write_batch(fd, batch)
            _release_all(batch)
            batch, size = [], 0
    if batch:
        _write_batch(fd, batch)
        _release_all(batch)


def _release_all(chunks: list[Buffer]) -> None:
    """:func:`release` the large mapped files that ``chunks`` view, each once."""
    if not _MAPPING:
        return
    seen: set[int] = set()
    for chunk in chunks:
        if isinstance(chunk, bytes):
            continue
        mapped = memoryview(chunk).obj
        if isinstance(mapped, _MAPPING[0]) and id(mapped) not in seen:
            seen.add(id(mapped))
            release(memoryview(mapped))


def _write_batch(fd: int, chunks: list[Buffer]) -> None:
    """Write every byte of ``chunks`` to ``fd``, up to the system's limit of pieces per
    ``writev``, going on after a short write from where it stopped."""
    limit = _iov_max()
    sizes = [
        len(chunk) if isinstance(chunk, bytes) else memoryview(chunk).nbytes for chunk in chunks
    ]
    start = 0
    while start < len(chunks):
        batch = chunks[start : start + limit]
        if not sum(sizes[start : start + limit]):
            start += len(batch)
            continue
        written = os.writev(fd, batch)
        if not written:
            raise OSError(f"no byte written of {sum(sizes[start : start + limit])}")
        while written and written >= sizes[start]:
            written -= sizes[start]
            start += 1
        if written:  # a piece written in part: the rest of it is the next piece
            chunks[start] = memoryview(chunks[start]).cast("B")[written:]
            sizes[start] -= written


def default_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where reprobuild keeps what it can reuse (build environments, downloads).

    ``REPROBUILD_CACHE_DIR`` when set, else ``$XDG_CACHE_HOME/reprobuild`` when that is an
    absolute path (the XDG base directory rule), else ``~/.cache/reprobuild``. Only the command
    line calls this: library code receives its cache folder as an argument, so that no result
    depends on the environment it happened to run in. ``environ`` defaults to ``os.environ``.
    """
    env = os.environ if environ is None else environ
    if explicit := env.get("REPROBUILD_CACHE_DIR"):
        return Path(explicit).expanduser()
    xdg = env.get("XDG_CACHE_HOME", "")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "reprobuild"
    home = env.get("HOME")
    base = Path(home) if home else Path.home()
    return base / ".cache" / "reprobuild"
