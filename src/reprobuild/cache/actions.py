"""The action cache: what running an action produced, by the action's key.

An action's key (64 lower-case hex digits, computed by whoever runs the action) names one
record, ``<root>/ac/<first 2 hex>/<key>``: an :class:`ActionResult` as JSON, pointing at its
outputs and log in the blob store by digest. A record is written whole or not at all (a
temporary file forced to disk, then renamed), and a newer record for a key replaces the older.

A record is a claim, and :meth:`ActionCache.get` checks it before it is used: a record that does
not parse (:func:`parse_action_result`), or that points at a blob that is missing, of another
size, or (with ``verify``) whose bytes are not its digest, is *rejected*: moved to the quarantine
with its reason, listed in the index, handed to ``on_reject``, and never returned.
"""

from __future__ import annotations

import contextlib
import enum
import math
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from reprobuild.cache.store import (
    READ_ONLY,
    BlobStore,
    check_digest,
    is_digest,
    make_temp,
    stray_entries,
    sync_folder,
)
from reprobuild.cache.store import quarantine as _quarantine
from reprobuild.errors import CacheError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from reprobuild._types import JSONValue
    from reprobuild.cache.index import Index

__all__ = [
    "ACTION_SCHEMA_VERSION",
    "ActionCache",
    "ActionResult",
    "Output",
    "Rejected",
    "Status",
    "parse_action_result",
    "utc_now",
]

#: The version of the JSON form of :class:`ActionResult`; a record of another is rejected.
ACTION_SCHEMA_VERSION = 1
#: The largest action record read, in bytes: a record only points at its outputs.
MAX_RECORD = 1 << 20
#: The most entries ``extra`` may hold.
MAX_EXTRA = 64


class Status(enum.Enum):
    """How an action ended."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Output:
    """One output of an action: its name (a file name, as the action made it), and the digest
    and size of its bytes in the blob store."""

    name: str
    digest: str
    size: int

    def __post_init__(self) -> None:
        if not self.name or "\0" in self.name:
            raise UsageError(f"not an output name: {self.name!r}")
        check_digest(self.digest, what="output digest")
        if type(self.size) is not int or self.size < 0:
            raise UsageError(f"not a size in bytes: {self.size!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionResult:
    """What one run of an action produced.

    ``outputs`` in the order the action gave them (names unique); ``status`` and, when the
    action's process ended by itself, its ``exit_code``; ``log_digest`` the blob of its log;
    ``timings`` in seconds by phase (finite, not negative); ``where`` the host or executor that
    ran it; ``created`` when, in ISO 8601 UTC (:func:`utc_now`); ``extra`` a few free-form
    strings. The mappings are copied, so the caller's dictionaries may change afterwards.
    """

    outputs: tuple[Output, ...]
    status: Status
    exit_code: int | None = None
    log_digest: str | None = None
    timings: Mapping[str, float] = field(default_factory=dict, hash=False)
    where: str
    created: str
    extra: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "outputs", tuple(self.outputs))
        object.__setattr__(self, "extra", dict(self.extra))
        timings: dict[str, float] = {}
        for phase, seconds in dict(self.timings).items():
            if not isinstance(phase, str) or type(seconds) not in (int, float):
                raise UsageError(f"not a timing in seconds: {phase!r}: {seconds!r}")
            if not math.isfinite(seconds) or seconds < 0:
                raise UsageError(f"not a time in seconds: {phase!r}: {seconds!r}")
            timings[phase] = float(seconds)
        object.__setattr__(self, "timings", timings)
        if not isinstance(self.status, Status):
            raise UsageError(f"not a status: {self.status!r}")
        names = [o.name for o in self.outputs]
        if len(set(names)) != len(names):
            raise UsageError(f"output names repeat: {sorted(names)!r}")
        if self.exit_code is not None and type(self.exit_code) is not int:
            raise UsageError(f"not an exit code: {self.exit_code!r}")
        if self.log_digest is not None:
            check_digest(self.log_digest, what="log digest")
        if len(self.extra) > MAX_EXTRA or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in self.extra.items()
        ):
            raise UsageError(f"extra holds at most {MAX_EXTRA} strings by strings")
        if not isinstance(self.where, str):
            raise UsageError(f"not a host or executor name: {self.where!r}")
        _check_created(self.created)

    @property
    def digests(self) -> tuple[str, ...]:
        """Every blob the result points at: its outputs', then its log's."""
        log = () if self.log_digest is None else (self.log_digest,)
        return (*(o.digest for o in self.outputs), *log)

    def to_json(self) -> bytes:
        """The record as written: JSON, keys sorted, no spaces, ASCII only (the same result
        always gives the same bytes)."""
        import json

        doc: dict[str, JSONValue] = {
            "schema_version": ACTION_SCHEMA_VERSION,
            "outputs": [{"name": o.name, "digest": o.digest, "size": o.size} for o in self.outputs],
            "status": self.status.value,
            "exit_code": self.exit_code,
            "log_digest": self.log_digest,
            "timings": dict(self.timings),
            "where": self.where,
            "created": self.created,
            "extra": dict(self.extra),
        }
        return json.dumps(doc, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()

    @classmethod
    def from_json(cls, data: bytes) -> ActionResult:
        """The result a record holds (see :func:`parse_action_result`)."""
        return parse_action_result(data)


def utc_now() -> str:
    """The time now, as :attr:`ActionResult.created` writes it (``2024-05-01T12:00:00Z``)."""
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _check_created(text: str) -> None:
    from datetime import datetime, timedelta

    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        moment = None
    if moment is None or moment.utcoffset() != timedelta(0):
        raise UsageError(f"not a time in ISO 8601 UTC: {text!r}")


_FIELDS = frozenset(
    {
        "schema_version",
        "outputs",
        "status",
        "exit_code",
        "log_digest",
        "timings",
        "where",
        "created",
        "extra",
    }
)
_OUTPUT_FIELDS = frozenset({"name", "digest", "size"})


def parse_action_result(data: bytes) -> ActionResult:
    """The :class:`ActionResult` a record holds; :class:`CacheError` for anything else: bytes
    that are not JSON (or hold a key twice, or NaN), another schema version, a field missing,
    unknown or of the wrong type, a digest that is not 64 lower-case hex digits."""
    import json

    if len(data) > MAX_RECORD:
        raise CacheError(f"an action record of {len(data)} bytes (at most {MAX_RECORD})")

    def pairs(items: list[tuple[str, JSONValue]]) -> dict[str, JSONValue]:
        doc = dict(items)
        if len(doc) != len(items):
            raise ValueError("a key is given twice")
        return doc

    def constant(name: str) -> None:
        raise ValueError(f"{name} is not a number")

    try:
        doc = json.loads(data, object_pairs_hook=pairs, parse_constant=constant)
    except (ValueError, RecursionError) as exc:
        raise CacheError(f"an action record that is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise CacheError("an action record that is not a JSON object")
    version = doc.get("schema_version")
    if type(version) is not int or version != ACTION_SCHEMA_VERSION:
        raise CacheError(
            f"an action record of schema {version!r}, not {ACTION_SCHEMA_VERSION}",
            hint="a reprobuild of another version wrote it; it is set aside and run again",
        )
    if doc.keys() != _FIELDS:
        missing, unknown = sorted(_FIELDS - doc.keys()), sorted(doc.keys() - _FIELDS)
        raise CacheError(f"an action record with fields missing {missing} or unknown {unknown}")
    outputs = doc["outputs"]
    timings = doc["timings"]
    extra = doc["extra"]
    if not isinstance(outputs, list) or not isinstance(timings, dict):
        raise CacheError("an action record whose outputs or timings are of the wrong type")
    if not isinstance(extra, dict) or not all(isinstance(v, str) for v in extra.values()):
        raise CacheError("an action record whose extra is not strings by strings")
    if not all(isinstance(o, dict) and o.keys() == _OUTPUT_FIELDS for o in outputs):
        raise CacheError("an action record with an output that is not name, digest and size")
    status, exit_code, log, where, created = (
        doc["status"],
        doc["exit_code"],
        doc["log_digest"],
        doc["where"],
        doc["created"],
    )
    if not (
        isinstance(status, str)
        and (exit_code is None or type(exit_code) is int)
        and (log is None or isinstance(log, str))
        and isinstance(where, str)
        and isinstance(created, str)
        and all(type(v) in (int, float) for v in timings.values())
    ):
        raise CacheError("an action record with a field of the wrong type")
    try:
        return ActionResult(
            outputs=tuple(
                Output(name=o["name"], digest=o["digest"], size=o["size"]) for o in outputs
            ),
            status=Status(status),
            exit_code=exit_code,
            log_digest=log,
            timings=timings,
            where=where,
            created=created,
            extra={k: v for k, v in extra.items() if isinstance(v, str)},
        )
    except (UsageError, ValueError, TypeError) as exc:
        raise CacheError(f"an action record that does not hold: {exc}") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class Rejected:
    """An action record that was not used: its key, why, and where it was set aside (None when
    another process set it aside first)."""

    key: str
    reason: str
    quarantined: str | None


class ActionCache:
    """Action records under ``<root>/ac``, pointing at blobs of ``store``.

    ``index``, when given, is told of every record written, used, removed and rejected;
    ``on_reject`` is called with every :class:`Rejected` record (a warning to show, a count to
    keep) before :meth:`get` returns None for it.
    """

    __slots__ = ("_index", "_on_reject", "root", "store")

    def __init__(
        self,
        root: Path,
        store: BlobStore,
        *,
        index: Index | None = None,
        on_reject: Callable[[Rejected], None] | None = None,
    ) -> None:
        self.root = Path(root)
        self.store = store
        self._index = index
        self._on_reject = on_reject

    def put(self, key: str, result: ActionResult) -> None:
        """Write the record of ``key`` (replacing one already there), whole or not at all.

        The blobs it points at are not looked for: a record whose blobs are missing is rejected
        when read. Put the blobs first.
        """
        path = self._path(check_digest(key, what="action key"))
        fd, tmp = make_temp(self.root / "tmp", ".action-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(result.to_json())
                handle.flush()
                os.fsync(handle.fileno())
                os.fchmod(handle.fileno(), READ_ONLY)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.replace(path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        sync_folder(path.parent)
        if self._index is not None:
            self._index.action_added(
                key, created=result.created, size=sum(o.size for o in result.outputs)
            )

    def get(self, key: str, *, verify: bool = True) -> ActionResult | None:
        """The result recorded for ``key``, or None: when there is none, and when the record was
        rejected (see :meth:`lookup`)."""
        found = self.lookup(key, verify=verify)
        return found if isinstance(found, ActionResult) else None

    def lookup(
        self, key: str, *, verify: bool = True, use: bool = True
    ) -> ActionResult | Rejected | None:
        """The result recorded for ``key``; None when there is none; :class:`Rejected` when the
        record does not parse or points at a blob that is missing or of another size, or, with
        ``verify``, whose bytes are not its digest (every blob is hashed again; without it, the
        blobs are verified when read). A rejected record is set aside and reported. With
        ``use`` false, a good record is not counted as used (a check, not a use)."""
        path = self._path(check_digest(key, what="action key"))
        try:
            data = _read_record(path)
        except FileNotFoundError:
            return None
        try:
            result = parse_action_result(data)
        except CacheError as exc:
            return self.reject(key, exc.reason)
        sizes = {o.digest: o.size for o in result.outputs}
        for digest in result.digests:
            size = self.store.size_of(digest)
            if size is None:
                return self.reject(key, f"blob {digest} is missing")
            if digest in sizes and size != sizes[digest]:
                return self.reject(key, f"blob {digest} has {size} bytes, not {sizes[digest]}")
            if verify and not self.store.verify(digest):
                return self.reject(key, f"blob {digest} is corrupt (set aside)")
        if use:
            with contextlib.suppress(OSError):
                os.utime(path)  # when it was last used, for a rebuilt index
            if self._index is not None:
                self._index.action_used(key)
        return result

    def reject(self, key: str, reason: str) -> Rejected:
        """Set aside the record of ``key`` for ``reason``, list it in the index, and report it
        to ``on_reject``."""
        moved = _quarantine(
            self.root, self._path(check_digest(key)), name=f"ac-{key}", reason=reason
        )
        if moved is not None and self._index is not None:
            self._index.action_rejected(key, reason)
        where = None if moved is None else str(moved)
        rejected = Rejected(key=key, reason=reason, quarantined=where)
        if self._on_reject is not None:
            self._on_reject(rejected)
        return rejected

    def stored_keys(self) -> Iterator[str]:
        """The key of every record on disk, in order."""
        ac = self.root / "ac"
        try:
            folders = sorted(ac.iterdir())
        except FileNotFoundError:
            return
        for folder in folders:
            if folder.is_dir() and not folder.is_symlink():
                for name in sorted(p.name for p in folder.iterdir()):
                    if is_digest(name) and name[:2] == folder.name:
                        yield name

    def strays(self) -> Iterator[Path]:
        """Entries under ``ac/`` that are not records: wrong names, wrong folders, not files."""
        return stray_entries(self.root / "ac")

    def read(self, key: str) -> ActionResult:
        """The record of ``key`` as it is on disk, parsed but not checked against the store,
        and not counted as a use (:class:`CacheError` when it does not parse)."""
        path = self._path(check_digest(key, what="action key"))
        try:
            return parse_action_result(_read_record(path))
        except CacheError as exc:
            raise exc.with_path(str(path)) from None

    def remove(self, key: str) -> bool:
        """Delete the record of ``key``; whether there was one."""
        path = self._path(check_digest(key, what="action key"))
        if self._index is not None:
            self._index.action_removed(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    def _path(self, key: str) -> Path:
        return self.root / "ac" / key[:2] / key


def _read_record(path: Path) -> bytes:
    """The bytes of a record, at most one more than :data:`MAX_RECORD`."""
    with path.open("rb") as handle:
        return handle.read(MAX_RECORD + 1)
