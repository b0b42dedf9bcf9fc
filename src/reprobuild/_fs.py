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
    from typing import BinaryIO

__all__ = [
    "atomic_write",
    "default_cache_dir",
    "digest",
    "read_bytes_mapped",
    "sha256_file",
    "sha256_hex",
    "write_bytes_atomic",
    "write_chunks_atomic",
]


def digest(algorithm: str, data: bytes | memoryview) -> bytes:
    """The raw digest of ``data`` with a ``hashlib`` algorithm (ValueError if unknown)."""
    import hashlib

    return hashlib.new(algorithm, data).digest()


def read_bytes_mapped(path: Path) -> Buffer:
    """The bytes of the file at ``path``, mapped into memory rather than read into it.

    Data passed on as a view (a zip member copied raw into a new file) is never copied into the
    process: the kernel copies it from the page cache. The mapping is read-only and outlives the
    file's name: replacing ``path`` by a rename, as an in-place rewrite does, leaves it intact.
    As with any program that maps its input, the file must not be truncated while the mapping
    is in use (reading past its new end would stop the process with SIGBUS). What is not a
    regular file (a pipe, a device), an empty file, and a system that is not POSIX (where a
    mapped file cannot be replaced) get a plain read.
    """
    if os.name != "posix":
        return path.read_bytes()
    import mmap
    import stat

    # the pages are mapped at once (Linux's MAP_POPULATE), not one fault at a time: the whole
    # file is read anyway, by the copy that writes it out again
    flags = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)
    with path.open("rb") as handle:
        status = os.fstat(handle.fileno())
        if not stat.S_ISREG(status.st_mode) or not status.st_size:
            return handle.read()
        mapped = mmap.mmap(handle.fileno(), 0, flags=flags, prot=mmap.PROT_READ)
    return memoryview(mapped)


def sha256_hex(data: bytes | memoryview) -> str:
    """The sha256 of ``data`` as lower-case hex."""
    from hashlib import sha256

    return sha256(data).hexdigest()


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
    (and about 16 MiB) per ``writev``."""
    limit = _iov_max()
    batch: list[Buffer] = []
    size = 0
    for chunk in chunks:
        batch.append(chunk)
        size += len(chunk) if isinstance(chunk, bytes) else memoryview(chunk).nbytes
        if len(batch) >= limit or size >= _BATCH_BYTES:
            _write_batch(fd, batch)
            batch, size = [], 0
    if batch:
        _write_batch(fd, batch)


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
