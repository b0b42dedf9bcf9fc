"""Read conda packages (``.conda`` and ``.tar.bz2``) member by member, without unpacking them
to disk, through ``conda-package-streaming``.

Each member is hashed a block at a time as the stream goes by; only the members the rules read
(:func:`reprobuild.dedup.rules.keeps`) are held, so memory stays at a block plus those small
files whatever the package's size. A file that holds its build prefix (``info/paths.json``'s
``prefix_placeholder``, or ``info/has_prefix``) is hashed a second way too, with the prefix
replaced by a fixed token: a ``.conda`` streams its ``info`` part first, and a ``.tar.bz2``
almost always starts with ``info/``; a file met before the list that names it is read again in
a second pass over that part of the stream.
"""

from __future__ import annotations

import json
import lzma
import shlex
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from hashlib import sha256
from pathlib import Path
from typing import IO

from reprobuild.archive import MemberKind
from reprobuild.dedup.model import Entry
from reprobuild.dedup.rules import keeps
from reprobuild.dedup.tarmember import tar_kind
from reprobuild.errors import ArchiveError

__all__ = ["PREFIX_TOKEN", "prefix_digest", "read_conda", "tar_kind"]

#: What a build prefix is replaced with before a file holding one is hashed.
PREFIX_TOKEN = b"<build-prefix>"
#: The placeholder of ``info/has_prefix`` lines that name only a path (conda's old default).
DEFAULT_PLACEHOLDER = "/opt/anaconda1anaconda2anaconda3"
_BLOCK = 1 << 20

#: What conda-package-streaming and the decompressors below it raise on a damaged package.
_READ_ERRORS: tuple[type[Exception], ...] = (
    tarfile.TarError,
    zipfile.BadZipFile,
    EOFError,
    OSError,
    LookupError,
    ValueError,
    RuntimeError,
    zlib.error,
    lzma.LZMAError,
    AssertionError,  # conda-package-streaming asserts one component of each kind
)


class _Substituting:
    """A sha256 of bytes fed piece by piece, each occurrence of ``placeholder`` replaced by
    :data:`PREFIX_TOKEN` (occurrences across pieces too)."""

    __slots__ = ("_carry", "_hash", "_keep", "_placeholder")

    def __init__(self, placeholder: bytes) -> None:
        self._placeholder = placeholder
        self._keep = len(placeholder) - 1
        self._carry = b""
        self._hash = sha256()

    def update(self, piece: bytes) -> None:
        buf = self._carry + piece
        pos = 0
        while (found := buf.find(self._placeholder, pos)) >= 0:
            self._hash.update(buf[pos:found])
            self._hash.update(PREFIX_TOKEN)
            pos = found + len(self._placeholder)
        # an occurrence starting before ``cut`` would have ended inside ``buf``: none is left
        cut = max(pos, len(buf) - self._keep)
        self._hash.update(buf[pos:cut])
        self._carry = buf[cut:]

    def hexdigest(self) -> str:
        self._hash.update(self._carry)
        self._carry = b""
        return self._hash.hexdigest()


def prefix_digest(data: bytes, placeholder: str) -> str:
    """The sha256 of ``data`` with each ``placeholder`` replaced by :data:`PREFIX_TOKEN`."""
    hasher = _Substituting(placeholder.encode("utf-8", "surrogateescape"))
    hasher.update(data)
    return hasher.hexdigest()


def placeholders(kept: dict[str, bytes]) -> dict[str, str]:
    """The build prefix each file holds, by path, as ``info/paths.json`` (or, in older
    packages, ``info/has_prefix``) lists it; files without one are not listed."""
    found: dict[str, str] = {}
    paths_json = kept.get("info/paths.json")
    if paths_json is not None:
        try:
            document = json.loads(paths_json)
        except ValueError:
            document = None
        items = document.get("paths") if isinstance(document, dict) else None
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict):
                path, holder = item.get("_path"), item.get("prefix_placeholder")
                if isinstance(path, str) and isinstance(holder, str) and holder:
                    found[path] = holder
    has_prefix = kept.get("info/has_prefix")
    if has_prefix is not None:
        for line in has_prefix.decode("utf-8", "replace").splitlines():
            try:
                parts = shlex.split(line)
            except ValueError:
                continue
            if len(parts) == 3:
                found.setdefault(parts[2], parts[0])
            elif len(parts) == 1:
                found.setdefault(parts[0], DEFAULT_PLACEHOLDER)
    return found


def _components(path: Path) -> Iterator[str]:
    """The parts of the package to stream, in order: the ``.conda`` format keeps ``info`` and
    ``pkg`` apart (info first, so that the prefix list is known before the files); a
    ``.tar.bz2`` is one stream."""
    if path.name.endswith(".conda"):
        yield "info"
        yield "pkg"
    else:
        yield "pkg"


def _stream(path: Path, component: str) -> Iterator[tuple[tarfile.TarFile, tarfile.TarInfo]]:
    from conda_package_streaming.package_streaming import (  # type: ignore[import-untyped]
        stream_conda_component,
    )

    stream: Iterator[tuple[tarfile.TarFile, tarfile.TarInfo]] = stream_conda_component(
        str(path), component=component
    )
    return stream


def _blocks(handle: IO[bytes]) -> Iterator[bytes]:
    while block := handle.read(_BLOCK):
        yield block


def _walk(
    path: Path, component: str, visit: Callable[[tarfile.TarFile, tarfile.TarInfo], None]
) -> None:
    """Call ``visit`` on every member of one part of the package; damage becomes
    :class:`ArchiveError` naming the file and the member read last."""
    current: str | None = None
    try:
        for tar, info in _stream(path, component):
            current = info.name
            visit(tar, info)
    except ArchiveError as exc:
        raise exc.with_path(str(path)) from None
    except _READ_ERRORS as exc:
        raise ArchiveError(
            f"not a readable conda package: {exc}",
            path=str(path),
            member=current,
            hint="check that the download is complete; conda packages are .conda or .tar.bz2",
        ) from exc
    except Exception as exc:  # zstd's own error class is not importable without it
        if type(exc).__name__ != "ZstdError":
            raise
        raise ArchiveError(
            f"not a readable conda package: {exc}", path=str(path), member=current
        ) from exc


def read_conda(path: Path) -> tuple[tuple[Entry, ...], tuple[tuple[str, bytes], ...]]:
    """The members of the conda package at ``path`` in stream order, and the bytes of those
    the rules read."""
    entries: list[Entry] = []
    kept: dict[str, bytes] = {}
    holders: dict[str, str] = {}
    late: dict[str, str] = {}  # component of each file met before its prefix was known
    seen: set[str] = set()

    for component in _components(path):

        def visit(tar: tarfile.TarFile, info: tarfile.TarInfo, component: str = component) -> None:
            name = info.name
            if name in seen:
                raise ArchiveError("a member name appears twice", member=name)
            seen.add(name)
            kind = tar_kind(info)
            if kind is not MemberKind.FILE:
                target = info.linkname if kind is not MemberKind.DIR else None
                digest = sha256((target or "").encode("utf-8", "surrogateescape")).hexdigest()
                entries.append(
                    Entry(path=name, kind=kind, sha256=digest, link_target=target, size=0)
                )
                return
            handle = tar.extractfile(info)
            if handle is None:
                raise ArchiveError("a file member without data", member=name)
            hasher = sha256()
            holder = holders.get(name)
            substituting = _Substituting(holder.encode()) if holder else None
            keep = keeps(name, info.size)
            pieces: list[bytes] = []
            size = 0
            for block in _blocks(handle):
                hasher.update(block)
                size += len(block)
                if substituting is not None:
                    substituting.update(block)
                if keep:
                    pieces.append(block)
            if keep:
                kept[name] = b"".join(pieces)
                if name in ("info/paths.json", "info/has_prefix"):
                    holders.update(placeholders(kept))
            if name not in holders:
                late[name] = component
            entries.append(
                Entry(
                    path=name,
                    kind=kind,
                    executable=bool(info.mode & 0o111),
                    size=size,
                    sha256=hasher.hexdigest(),
                    prefix_sha256=substituting.hexdigest() if substituting else None,
                )
            )

        _walk(path, component, visit)

    missed = {name: late[name] for name in holders if name in late}
    if missed:
        _second_pass(path, entries, kept, holders, missed)
    return tuple(entries), tuple(kept.items())


def _second_pass(
    path: Path,
    entries: list[Entry],
    kept: dict[str, bytes],
    holders: dict[str, str],
    missed: dict[str, str],
) -> None:
    """Hash again, with the build prefix replaced, the files met before the list naming them
    (from their kept bytes when they were kept, else in a second pass over the stream)."""
    digests = {name: prefix_digest(kept[name], holders[name]) for name in missed if name in kept}
    missed = {name: part for name, part in missed.items() if name not in kept}
    for component in dict.fromkeys(missed.values()):

        def visit(tar: tarfile.TarFile, info: tarfile.TarInfo) -> None:
            if info.name not in missed or not info.isfile():
                return
            handle = tar.extractfile(info)
            if handle is None:
                return
            hasher = _Substituting(holders[info.name].encode())
            for block in _blocks(handle):
                hasher.update(block)
            digests[info.name] = hasher.hexdigest()

        _walk(path, component, visit)
    for index, entry in enumerate(entries):
        if entry.path in digests:
            entries[index] = Entry(
                path=entry.path,
                kind=entry.kind,
                executable=entry.executable,
                size=entry.size,
                sha256=entry.sha256,
                link_target=entry.link_target,
                prefix_sha256=digests[entry.path],
            )
