"""The local cache: a content-addressed blob store, an action cache, and their index.

Under the cache root (``<cache-dir>/store`` for the command line)::

    cas/<2 hex>/<64 hex>   blobs, named by the sha256 of their bytes, read-only
    ac/<2 hex>/<64 hex>    action records (JSON), by action key, pointing at blobs
    index.sqlite           what is stored and when it was last used (only an index)
    tmp/                   what is being written
    quarantine/            corrupt blobs and rejected records, each with a ``.reason``

Blobs are verified when written and whenever read; a record is checked against the store before
it is used. :class:`LocalCache` holds the three parts and adds what needs them all: statistics,
eviction down to a size (:meth:`LocalCache.gc`), a check of everything
(:meth:`LocalCache.verify`), and making the index again from the files
(:meth:`LocalCache.rebuild_index`).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reprobuild.cache.actions import (
    ACTION_SCHEMA_VERSION,
    ActionCache,
    ActionResult,
    Output,
    Rejected,
    Status,
    parse_action_result,
    utc_now,
)
from reprobuild.cache.index import (
    INDEX_NAME,
    ActionEntry,
    BlobEntry,
    Index,
    RejectionEntry,
)
from reprobuild.cache.store import (
    REASON_SUFFIX,
    Blob,
    BlobStore,
    check_digest,
    is_digest,
    quarantine,
)
from reprobuild.errors import CacheError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import TracebackType

__all__ = [
    "ACTION_SCHEMA_VERSION",
    "ActionCache",
    "ActionResult",
    "Blob",
    "BlobStore",
    "CacheStats",
    "GcReport",
    "Index",
    "LocalCache",
    "Output",
    "Rejected",
    "Status",
    "VerifyReport",
    "check_digest",
    "is_digest",
    "parse_action_result",
    "utc_now",
]

#: A temporary file older than this (seconds) was left by a process that stopped: gc deletes it.
STALE_TEMP = 3600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class CacheStats:
    """What the cache holds, as its index lists it: blobs and their bytes, action records,
    records rejected so far, and entries set aside in the quarantine (blobs and records)."""

    blobs: int
    blob_bytes: int
    actions: int
    rejected: int
    quarantined: int


@dataclass(frozen=True, slots=True, kw_only=True)
class GcReport:
    """What :meth:`LocalCache.gc` did: the bytes of blobs before and after (at most
    ``max_size`` unless ``size_after`` says otherwise), what it evicted, least recently used
    first, the records it found unreadable and set aside, and stale temporary files removed."""

    max_size: int
    size_before: int
    size_after: int
    bytes_freed: int
    evicted_actions: tuple[str, ...]
    evicted_blobs: tuple[str, ...]
    rejected: tuple[Rejected, ...]
    temp_files_removed: int


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyReport:
    """What :meth:`LocalCache.verify` found: every blob hashed again (the corrupt ones set
    aside), every record parsed and its pointers followed (the broken ones set aside), and the
    files under ``cas/`` and ``ac/`` that are neither (set aside too, by their path in the
    cache)."""

    blobs_checked: int
    corrupt_blobs: tuple[str, ...]
    actions_checked: int
    broken_actions: tuple[Rejected, ...]
    strays: tuple[str, ...]

    @property
    def clean(self) -> bool:
        """Whether nothing was wrong."""
        return not (self.corrupt_blobs or self.broken_actions or self.strays)


class LocalCache:
    """The blob store, action cache and index under ``root`` (made when missing).

    When the index does not exist (a new cache, or one whose index was deleted) it is made from
    the files. ``on_reject`` is told of every action record rejected (see
    :class:`~reprobuild.cache.actions.ActionCache`). Close it (or use it as a context manager)
    to close the index's connection.
    """

    __slots__ = ("actions", "index", "root", "store")

    def __init__(self, root: Path, *, on_reject: Callable[[Rejected], None] | None = None) -> None:
        self.root = Path(root)
        for folder in ("cas", "ac", "tmp", "quarantine"):
            try:
                (self.root / folder).mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise CacheError(
                    f"the cache folder cannot be made: {exc.strerror or exc}",
                    path=str(self.root / folder),
                    hint="give a folder this user may write with --cache-dir",
                ) from exc
        index_path = self.root / INDEX_NAME
        fresh = not index_path.exists()
        self.index = Index(index_path)
        self.store = BlobStore(self.root, index=self.index)
        self.actions = ActionCache(self.root, self.store, index=self.index, on_reject=on_reject)
        if fresh:
            self.rebuild_index()

    def close(self) -> None:
        self.index.close()

    def __enter__(self) -> LocalCache:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- statistics and the index -------------------------------------------------------------

    def stats(self) -> CacheStats:
        """The counts the index holds, and the entries in the quarantine."""
        counts = self.index.counts()
        return CacheStats(
            blobs=counts.blobs,
            blob_bytes=counts.blob_bytes,
            actions=counts.actions,
            rejected=counts.rejected,
            quarantined=sum(1 for _ in self._quarantined()),
        )

    def rebuild_index(self) -> CacheStats:
        """Make the index again from the files alone, and return the statistics it then gives.

        Each blob and record counts as last used when its file last changed (a record's file is
        touched whenever it is used); each record in the quarantine is a rejection, with the
        reason written beside it."""
        blobs = [
            BlobEntry(digest=b.digest, size=b.size, added=mtime, last_used=mtime)
            for b in self.store.blobs()
            if (mtime := _mtime(self.store.root / "cas" / b.digest[:2] / b.digest)) is not None
        ]
        actions: list[ActionEntry] = []
        for key in self.actions.stored_keys():
            mtime = _mtime(self.root / "ac" / key[:2] / key)
            if mtime is None:
                continue
            try:
                result = self.actions.read(key)
            except CacheError:
                created, size = "", 0  # still a record: verify or the next use rejects it
            else:
                created, size = result.created, sum(o.size for o in result.outputs)
            actions.append(ActionEntry(key=key, created=created, last_used=mtime, size=size))
        rejections = []
        for path in self._quarantined():
            if path.name.startswith("ac-"):
                reason_path = path.with_name(path.name + REASON_SUFFIX)
                try:
                    reason = reason_path.read_text(encoding="utf-8").strip()
                    at = reason_path.stat().st_mtime
                except OSError:
                    reason, at = "(no reason recorded)", _mtime(path) or 0.0
                key = path.name[3:].rpartition("-")[0]
                rejections.append(RejectionEntry(key=key, reason=reason, at=at))
        self.index.replace(blobs=blobs, actions=actions, rejections=rejections)
        return self.stats()

    # -- eviction -----------------------------------------------------------------------------

    def gc(self, max_size: int) -> GcReport:
        """Evict until the blobs take at most ``max_size`` bytes.

        What can be evicted are action records (with the blobs that no other record points at)
        and blobs that no record points at, least recently used first (as the index says; when
        it does not know, as the file's time says). A blob that a remaining record points at is
        never deleted. The pointers are read from the records on disk, not from the index; a
        record that does not parse points at nothing, and is set aside. Stale temporary files
        are removed too. A record written while this runs may point at a blob evicted here:
        it is then rejected when read, and its action runs again.
        """
        if type(max_size) is not int or max_size < 0:
            raise UsageError(f"not a size in bytes: {max_size!r}")
        temp_removed = self._remove_stale_temp()
        sizes = {b.digest: b.size for b in self.store.blobs()}
        refs: dict[str, tuple[str, ...]] = {}
        rejected: list[Rejected] = []
        for key in self.actions.stored_keys():
            try:
                result = self.actions.read(key)
            except CacheError as exc:
                rejected.append(self.actions.reject(key, exc.reason))
                continue
            refs[key] = tuple(d for d in dict.fromkeys(result.digests) if d in sizes)
        pointed: dict[str, int] = {}
        for digests in refs.values():
            for digest in digests:
                pointed[digest] = pointed.get(digest, 0) + 1
        used_blob = {e.digest: e.last_used for e in self.index.blob_entries()}
        used_action = {e.key: e.last_used for e in self.index.action_entries()}

        def when(kind: str, name: str) -> float:
            known = (used_action if kind == "action" else used_blob).get(name)
            if known is not None:
                return known
            folder = "ac" if kind == "action" else "cas"
            return _mtime(self.root / folder / name[:2] / name) or 0.0

        candidates = [("action", key) for key in refs] + [
            ("blob", digest) for digest in sizes if digest not in pointed
        ]
        candidates.sort(key=lambda c: (when(*c), c[0], c[1]))
        size_before = total = sum(sizes.values())
        evicted_actions: list[str] = []
        evicted_blobs: list[str] = []
        for kind, name in candidates:
            if total <= max_size:
                break
            if kind == "blob":
                freed = [name]
            else:
                self.actions.remove(name)
                evicted_actions.append(name)
                freed = []
                for digest in refs[name]:
                    pointed[digest] -= 1
                    if not pointed[digest]:
                        freed.append(digest)
            for digest in freed:
                self.store.remove(digest)
                evicted_blobs.append(digest)
                total -= sizes[digest]
        return GcReport(
            max_size=max_size,
            size_before=size_before,
            size_after=total,
            bytes_freed=size_before - total,
            evicted_actions=tuple(evicted_actions),
            evicted_blobs=tuple(evicted_blobs),
            rejected=tuple(rejected),
            temp_files_removed=temp_removed,
        )

    # -- verification -------------------------------------------------------------------------

    def verify(self) -> VerifyReport:
        """Hash every blob again, parse every record and follow its pointers; set aside what
        is wrong (corrupt blobs, records that do not parse or point at a blob missing or
        corrupt, stray files), then make the index again from what is left."""
        strays: list[str] = []
        for path in [*self.store.strays(), *self.actions.strays()]:
            strays.append(path.relative_to(self.root).as_posix())
            quarantine(self.root, path, name="stray", reason=f"not a blob: {strays[-1]}")
        checked = 0
        corrupt: list[str] = []
        for blob in list(self.store.blobs()):
            checked += 1
            if not self.store.verify(blob.digest):
                corrupt.append(blob.digest)
        actions_checked = 0
        broken: list[Rejected] = []
        for key in list(self.actions.stored_keys()):
            actions_checked += 1
            # every blob was hashed just now; a check is not a use
            found = self.actions.lookup(key, verify=False, use=False)
            if isinstance(found, Rejected):
                broken.append(found)
        self.rebuild_index()
        return VerifyReport(
            blobs_checked=checked,
            corrupt_blobs=tuple(corrupt),
            actions_checked=actions_checked,
            broken_actions=tuple(broken),
            strays=tuple(strays),
        )

    # -- helpers ------------------------------------------------------------------------------

    def _quarantined(self) -> list[Path]:
        folder = self.root / "quarantine"
        try:
            names = sorted(p.name for p in folder.iterdir())
        except FileNotFoundError:
            return []
        return [folder / name for name in names if not name.endswith(REASON_SUFFIX)]

    def _remove_stale_temp(self) -> int:
        folder = self.root / "tmp"
        removed = 0
        limit = time.time() - STALE_TEMP
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(folder):
                with contextlib.suppress(FileNotFoundError):
                    if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < limit:
                        Path(entry.path).unlink()
                        removed += 1
        return removed


def _mtime(path: Path) -> float | None:
    try:
        return path.lstat().st_mtime
    except FileNotFoundError:
        return None
