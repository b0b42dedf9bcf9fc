"""Read packages into the dedup model: wheels and sdists through :mod:`reprobuild.archive`,
conda packages through :mod:`reprobuild.dedup.conda`; and find the packages in folders (a
wheelhouse, a local channel with its platform subfolders)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from reprobuild._fs import sha256_file
from reprobuild.archive import Member, MemberKind, load_archive
from reprobuild.dedup.model import Entry, Package, PackageFormat
from reprobuild.dedup.rules import keeps
from reprobuild.errors import ArchiveError, ReprobuildError, UsageError

__all__ = ["SUFFIXES", "find_packages", "package_format", "read_package"]

#: File names dedup reads, and their formats (the first suffix that matches wins).
SUFFIXES: tuple[tuple[str, PackageFormat], ...] = (
    (".whl", PackageFormat.WHEEL),
    (".conda", PackageFormat.CONDA),
    (".tar.bz2", PackageFormat.CONDA_TAR_BZ2),
    (".tar.gz", PackageFormat.SDIST),
    (".tgz", PackageFormat.SDIST),
    (".zip", PackageFormat.SDIST),
)


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


def read_package(path: Path) -> Package:
    """Read the package at ``path``: its members, a block at a time, and the bytes of the few
    the rules read. :class:`ArchiveError` (naming the file and, when known, the member) when
    it does not read."""
    fmt = package_format(path.name)
    if fmt is None:
        raise UsageError("not a package dedup reads", path=str(path))
    try:
        size = path.stat().st_size
        digest = sha256_file(path)
    except OSError as exc:
        raise ArchiveError(f"cannot read: {exc.strerror or exc}", path=str(path)) from exc
    if fmt.conda:
        from reprobuild.dedup.conda import read_conda

        entries, kept = read_conda(path)
    else:
        entries, kept = _read_archive(path)
    return Package(path=str(path), format=fmt, size=size, sha256=digest, entries=entries, kept=kept)


def _entry(member: Member) -> Entry:
    executable = (
        member.kind is MemberKind.FILE and member.mode is not None and bool(member.mode & 0o111)
    )
    digest = member.sha256
    if member.kind is not MemberKind.FILE and member.link_target is not None:
        from hashlib import sha256

        digest = sha256(member.link_target.encode("utf-8", "surrogateescape")).hexdigest()
    return Entry(
        path=member.path,
        kind=member.kind,
        executable=executable,
        size=member.size if member.kind is MemberKind.FILE else 0,
        sha256=digest,
        link_target=member.link_target,
    )


def _read_archive(path: Path) -> tuple[tuple[Entry, ...], tuple[tuple[str, bytes], ...]]:
    archive = load_archive(path)
    entries = tuple(_entry(member) for member in archive.members)
    kept: list[tuple[str, bytes]] = []
    for member in archive.members:
        if member.kind is MemberKind.FILE and keeps(member.path, member.size):
            try:
                kept.append((member.path, member.data()))
            except ReprobuildError as exc:
                exc.member = exc.member or member.name
                raise exc.with_path(str(path)) from None
    return entries, tuple(kept)
