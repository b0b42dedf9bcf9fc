"""The exceptions of reprobuild: one root, each subclass with structured fields.

Library code raises these; only the command line catches them, once, and prints
``error: <path> › <member>: <reason>`` followed by ``hint: …``.
"""

from __future__ import annotations

from reprobuild._text import visible

__all__ = [
    "ArchiveError",
    "BuildError",
    "CacheError",
    "CorruptBlobError",
    "MissingBlobError",
    "NetworkError",
    "NormalizeError",
    "ProjectError",
    "ReprobuildError",
    "UnsafeArchiveError",
    "UsageError",
]


class ReprobuildError(Exception):
    """Root of every error reprobuild raises on purpose.

    ``path`` is the file the error is about, ``member`` the archive member inside it (if any),
    ``offset`` a byte offset (if it helps), and ``hint`` one sentence on what to do next.
    """

    def __init__(
        self,
        reason: str,
        *,
        path: str | None = None,
        member: str | None = None,
        offset: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path
        self.member = member
        self.offset = offset
        self.hint = hint

    def with_path(self, path: str) -> ReprobuildError:
        """Return this error with ``path`` filled in when the raiser did not know it."""
        if self.path is None:
            self.path = path
        return self

    def location(self) -> str:
        """``path › member`` (the parts that are known), for the one-line error message, every
        control or invisible character in them escaped: a member's name is the archive's
        author's, and a line break or a terminal escape in it must not reach a log or a
        terminal as it is."""
        parts = [visible(p) for p in (self.path, self.member) if p]
        return " › ".join(parts)

    def __str__(self) -> str:
        where = self.location()
        text = f"{where}: {self.reason}" if where else self.reason
        if self.offset is not None:
            text += f" (at byte {self.offset})"
        return text


class UsageError(ReprobuildError):
    """The command was asked something it cannot do (bad flags, missing files)."""


class ArchiveError(ReprobuildError):
    """An archive is truncated, corrupt, or in a form reprobuild does not read."""


class UnsafeArchiveError(ArchiveError):
    """An archive is readable but hostile: path traversal, links out, bombs, duplicates."""


class NormalizeError(ReprobuildError):
    """An archive cannot be brought into canonical form (e.g. its RECORD does not verify)."""


class ProjectError(ReprobuildError):
    """A source tree is not a buildable Python project: no ``pyproject.toml`` or ``setup.py``,
    a ``pyproject.toml`` that is not valid TOML, or a ``[build-system]`` table that is wrong.

    Bad input, like :class:`UsageError`: the command line exits 2.
    """


class BuildError(ReprobuildError):
    """A build or its environment failed: requirements that do not resolve or install, a
    backend that cannot be imported, a hook that raised. The command line exits 3.

    ``log_tail`` holds the last lines the backend or installer wrote (also in ``hint``), and
    ``log_path`` the full log when one was kept.
    """

    def __init__(
        self,
        reason: str,
        *,
        path: str | None = None,
        hint: str | None = None,
        log_tail: str = "",
        log_path: str | None = None,
    ) -> None:
        super().__init__(reason, path=path, hint=hint)
        self.log_tail = log_tail
        self.log_path = log_path


class NetworkError(ReprobuildError):
    """The package index could not be reached, or answered with something unusable (a page
    that does not parse, a download whose sha256 is not the index's). The command line exits 3:
    the input may be fine; the infrastructure failed."""


#: What to do about a cache that holds something wrong.
VERIFY_HINT = "run 'reprobuild cache verify': it checks every entry and sets aside what is wrong"


class CacheError(ReprobuildError):
    """The local cache cannot be used as asked: a blob that is not there, an action record that
    does not parse, an index that is not a database, a folder that cannot be written. The
    command line exits 3: the input may be fine; the environment failed."""

    def __init__(
        self,
        reason: str,
        *,
        path: str | None = None,
        hint: str | None = VERIFY_HINT,
    ) -> None:
        super().__init__(reason, path=path, hint=hint)


class CorruptBlobError(CacheError):
    """A blob's bytes are not those its digest names. ``digest`` is the name it was stored
    under, ``actual`` the sha256 of what was read, and ``quarantined`` where the blob was moved
    to (None when another reader moved it first): a corrupt blob is never read twice."""

    def __init__(
        self,
        reason: str,
        *,
        digest: str,
        actual: str,
        path: str | None = None,
        quarantined: str | None = None,
    ) -> None:
        super().__init__(reason, path=path)
        self.digest = digest
        self.actual = actual
        self.quarantined = quarantined


class MissingBlobError(CacheError):
    """The store holds no blob of ``digest``: it was never put, was evicted, or was set aside
    as corrupt."""

    def __init__(self, reason: str, *, digest: str, path: str | None = None) -> None:
        super().__init__(
            reason, path=path, hint="put the blob again, or run the action that makes it again"
        )
        self.digest = digest
