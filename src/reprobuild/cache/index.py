"""The cache's index: a SQLite database that lists the blobs and action records on disk.

It is only an index. The files under ``cas/``, ``ac/`` and ``quarantine/`` are the truth, and
:meth:`Index.replace` (called by :meth:`reprobuild.cache.LocalCache.rebuild_index`) makes it
again from them alone: a deleted or damaged index costs a walk of the folders, nothing else. What
it adds is when each entry was last used, for eviction.

Several processes may use one cache at once. The database is in WAL mode (readers do not block
the writer), every write is one short ``BEGIN IMMEDIATE`` transaction, and a writer waits up to
:data:`BUSY_TIMEOUT` seconds for another one to finish.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from reprobuild.errors import CacheError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from contextlib import AbstractContextManager

__all__ = ["BUSY_TIMEOUT", "INDEX_NAME", "ActionEntry", "BlobEntry", "Index", "IndexCounts"]

#: The database's file name in the cache root.
INDEX_NAME = "index.sqlite"
#: Seconds a writer waits for another process's transaction before giving up.
BUSY_TIMEOUT = 60.0
_SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS blobs (
    digest TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    added REAL NOT NULL,
    last_used REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS actions (
    key TEXT PRIMARY KEY,
    created TEXT NOT NULL,
    last_used REAL NOT NULL,
    size INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS rejections (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    reason TEXT NOT NULL,
    at REAL NOT NULL
);
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class BlobEntry:
    """A blob as the index lists it: times are seconds since the epoch."""

    digest: str
    size: int
    added: float
    last_used: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionEntry:
    """An action record as the index lists it: ``created`` as the record says (ISO, UTC),
    ``last_used`` in seconds since the epoch, ``size`` the bytes of its outputs."""

    key: str
    created: str
    last_used: float
    size: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RejectionEntry:
    """An action record that was rejected and set aside, and why."""

    key: str
    reason: str
    at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexCounts:
    """What the index lists: blobs and their bytes, action records, rejected records."""

    blobs: int
    blob_bytes: int
    actions: int
    rejected: int


class Index:
    """The database at ``path``, opened at the first use (again in a process forked since) and
    made when missing. Errors of SQLite are raised as :class:`CacheError`."""

    __slots__ = ("_connection", "_lock", "_pid", "path")

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._connection: sqlite3.Connection | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the connection (it is opened again if the index is used again)."""
        with self._lock:
            if self._connection is not None and self._pid == os.getpid():
                self._connection.close()
            self._connection = None

    # -- writes -----------------------------------------------------------------------------

    def blob_added(self, digest: str, size: int, *, at: float | None = None) -> None:
        """A blob was put (or put again: then it only counts as used)."""
        now = time.time() if at is None else at
        self._write(
            "INSERT INTO blobs (digest, size, added, last_used) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(digest) DO UPDATE SET size = excluded.size, "
            "last_used = excluded.last_used",
            (digest, size, now, now),
        )

    def blob_used(self, digest: str) -> None:
        self._write("UPDATE blobs SET last_used = ? WHERE digest = ?", (time.time(), digest))

    def blob_removed(self, digest: str) -> None:
        self._write("DELETE FROM blobs WHERE digest = ?", (digest,))

    def action_added(self, key: str, *, created: str, size: int, at: float | None = None) -> None:
        """An action record was written (or written again)."""
        self._write(
            "INSERT OR REPLACE INTO actions (key, created, last_used, size) VALUES (?, ?, ?, ?)",
            (key, created, time.time() if at is None else at, size),
        )

    def action_used(self, key: str) -> None:
        self._write("UPDATE actions SET last_used = ? WHERE key = ?", (time.time(), key))

    def action_removed(self, key: str) -> None:
        self._write("DELETE FROM actions WHERE key = ?", (key,))

    def action_rejected(self, key: str, reason: str) -> None:
        """An action record was rejected and set aside: it is listed no more, and the rejection
        is."""
        with self._transaction() as db:
            db.execute("DELETE FROM actions WHERE key = ?", (key,))
            db.execute(
                "INSERT INTO rejections (key, reason, at) VALUES (?, ?, ?)",
                (key, reason, time.time()),
            )

    def replace(
        self,
        *,
        blobs: Iterable[BlobEntry],
        actions: Iterable[ActionEntry],
        rejections: Iterable[RejectionEntry],
    ) -> None:
        """Make the index list exactly these, in one transaction."""
        with self._transaction() as db:
            db.execute("DELETE FROM blobs")
            db.execute("DELETE FROM actions")
            db.execute("DELETE FROM rejections")
            db.executemany(
                "INSERT OR REPLACE INTO blobs VALUES (?, ?, ?, ?)",
                ((b.digest, b.size, b.added, b.last_used) for b in blobs),
            )
            db.executemany(
                "INSERT OR REPLACE INTO actions VALUES (?, ?, ?, ?)",
                ((a.key, a.created, a.last_used, a.size) for a in actions),
            )
            db.executemany(
                "INSERT INTO rejections (key, reason, at) VALUES (?, ?, ?)",
                ((r.key, r.reason, r.at) for r in rejections),
            )

    # -- reads ------------------------------------------------------------------------------

    def counts(self) -> IndexCounts:
        with self._transaction(write=False) as db:
            blobs, blob_bytes = db.execute("SELECT count(*), total(size) FROM blobs").fetchone()
            (actions,) = db.execute("SELECT count(*) FROM actions").fetchone()
            (rejected,) = db.execute("SELECT count(*) FROM rejections").fetchone()
        return IndexCounts(
            blobs=int(blobs), blob_bytes=int(blob_bytes), actions=int(actions), rejected=rejected
        )

    def blob_entries(self) -> Iterator[BlobEntry]:
        with self._transaction(write=False) as db:
            rows = db.execute("SELECT digest, size, added, last_used FROM blobs").fetchall()
        for digest, size, added, last_used in rows:
            yield BlobEntry(digest=digest, size=size, added=added, last_used=last_used)

    def action_entries(self) -> Iterator[ActionEntry]:
        with self._transaction(write=False) as db:
            rows = db.execute("SELECT key, created, last_used, size FROM actions").fetchall()
        for key, created, last_used, size in rows:
            yield ActionEntry(key=key, created=created, last_used=last_used, size=size)

    def rejection_entries(self) -> Iterator[RejectionEntry]:
        with self._transaction(write=False) as db:
            rows = db.execute("SELECT key, reason, at FROM rejections ORDER BY id").fetchall()
        for key, reason, at in rows:
            yield RejectionEntry(key=key, reason=reason, at=at)

    # -- the connection ---------------------------------------------------------------------

    def _write(self, sql: str, parameters: tuple[str | int | float, ...]) -> None:
        with self._transaction() as db:
            db.execute(sql, parameters)

    def _transaction(self, *, write: bool = True) -> AbstractContextManager[sqlite3.Connection]:
        import contextlib

        @contextlib.contextmanager
        def transaction() -> Iterator[sqlite3.Connection]:
            with self._lock:
                try:
                    db = self._connect()
                    db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                    try:
                        yield db
                    except BaseException:
                        db.execute("ROLLBACK")
                        raise
                    db.execute("COMMIT")
                except sqlite3.Error as exc:
                    raise _error(self.path, exc) from exc

        return transaction()

    def _connect(self) -> sqlite3.Connection:
        if self._connection is not None and self._pid == os.getpid():
            return self._connection
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
        )
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("BEGIN IMMEDIATE")
            (version,) = db.execute("PRAGMA user_version").fetchone()
            if version not in (0, _SCHEMA_VERSION):
                db.execute("ROLLBACK")
                raise CacheError(
                    f"an index of schema {version}, not {_SCHEMA_VERSION}",
                    path=str(self.path),
                    hint="delete it: it is only an index, made again from the files",
                )
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
            db.execute("COMMIT")
        except BaseException:
            db.close()
            raise
        self._connection, self._pid = db, os.getpid()
        return db


def _error(path: Path, exc: sqlite3.Error) -> CacheError:
    if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
        return CacheError(
            f"the index stayed locked by another process for {BUSY_TIMEOUT:g} s",
            path=str(path),
            hint="another reprobuild may be stuck on this cache; try again when it is done",
        )
    return CacheError(
        f"the index cannot be used: {exc}",
        path=str(path),
        hint="delete it: it is only an index, made again from the files at the next use",
    )
