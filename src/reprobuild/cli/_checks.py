"""Checks of the command line's input, made before any work: a release's name and version,
and the folders and files a command will write to.

A command that would fail only when it writes its result (after a build of minutes) is refused
at once instead, with the path and a plain reason.
"""

from __future__ import annotations

import contextlib
import errno
from pathlib import Path

from reprobuild.errors import UsageError

__all__ = ["parse_release", "reason_of", "writable_file", "writable_folder"]

_VERSION_HINT = "a version as the index lists it, for example 1.0 or 2.31.0"


def parse_release(text: str, *, example: str) -> tuple[str, str]:
    """``NAME==VERSION`` as (name, version), refused unless the name is a valid project name
    and the version a valid version (packaging's rules), before the index is asked anything.

    ``example`` is a command line shown in the hint.
    """
    from packaging.utils import InvalidName, canonicalize_name
    from packaging.version import InvalidVersion, Version

    name, sep, version = (part.strip() for part in text.partition("=="))
    if not sep or not name or not version:
        raise UsageError(f"not NAME==VERSION: {text!r}", hint=f"for example: {example}")
    if "==" in version:
        raise UsageError(
            f"not NAME==VERSION: {text!r} (more than one '==')",
            hint=f"one '==' between the name and the version, for example: {example}",
        )
    try:
        canonicalize_name(name, validate=True)
    except InvalidName:
        raise UsageError(
            f"not a project name: {name!r}",
            hint="a project name holds only letters, digits and . _ - and starts and ends "
            f"with a letter or digit, for example: {example}",
        ) from None
    try:
        Version(version)
    except InvalidVersion:
        raise UsageError(f"not a version: {version!r}", hint=_VERSION_HINT) from None
    return name, version


def reason_of(exc: OSError) -> str:
    """A plain reason for an :class:`OSError`, without its ``[Errno N]`` prefix and path."""
    if exc.errno == errno.ENOENT:
        return "no such file or folder"
    if exc.errno == errno.EISDIR:
        return "a folder, not a file"
    if exc.errno == errno.ENOTDIR:
        return "a file stands where a folder should be"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.EROFS:
        return "a read-only file system"
    return (exc.strerror or str(exc)).lower()


def writable_folder(path: Path, *, what: str, hint: str) -> None:
    """Check that ``path`` is a folder a file can be written in, or that it can be created.

    Folders made for the check are removed again: the command makes them when it writes, so a
    command that fails later leaves nothing behind. ``what`` names the folder in the error
    (``the output folder``), ``hint`` says what to do.
    """
    import tempfile

    if path.exists() and not path.is_dir():
        raise UsageError(f"{what} is a file, not a folder", path=str(path), hint=hint)
    missing = []
    parent = path.absolute()
    while not parent.exists() and parent != parent.parent:
        missing.append(parent)
        parent = parent.parent
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        # mkdir's ENOENT: the folder above does not take new folders (/proc, a stale mount)
        reason = "nothing can be created here" if exc.errno == errno.ENOENT else reason_of(exc)
        raise UsageError(f"cannot create {what}: {reason}", path=str(path), hint=hint) from exc
    try:
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise UsageError(
            f"cannot write in {what}: {reason_of(exc)}", path=str(path), hint=hint
        ) from exc
    finally:
        for folder in missing:  # deepest first
            with contextlib.suppress(OSError):
                folder.rmdir()


def writable_file(path: Path, *, hint: str) -> None:
    """Check that the file ``path`` can be written (its folder exists and takes a new file),
    without creating it."""
    import tempfile

    if path.is_dir():
        raise UsageError("a folder, not a file", path=str(path), hint=hint)
    folder = path.parent
    if not folder.is_dir():
        reason = "is a file" if folder.exists() else "does not exist"
        raise UsageError(f"its folder {reason}", path=str(path), hint=hint)
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise UsageError(f"cannot write here: {reason_of(exc)}", path=str(path), hint=hint) from exc
