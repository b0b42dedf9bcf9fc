"""Write an archive's members into a new folder, never through a link that leaves it.

:func:`~reprobuild.archive.safety.check_archive` refuses hostile archives when they are read;
this module does not rely on it. Whatever :class:`Archive` it is handed, every path is resolved
inside the folder on the disk, component by component: an existing symbolic link is followed
only by reading it and resolving its target in turn, inside the folder (at most
:data:`~reprobuild.archive.safety.MAX_LINK_HOPS` of them), and a ``..`` above the folder is
refused. Files are created with ``O_CREAT | O_EXCL | O_NOFOLLOW``, so that nothing already
there, a link least of all, is written through; a hard link is copied from a regular file
inside the folder, opened with ``O_NOFOLLOW``; once every member is written, every link's target
is resolved again, since a later link can change where an earlier one leads.

A refused archive raises :class:`~reprobuild.errors.UnsafeArchiveError` naming the member, and
the folder is removed with everything written into it: nothing is left half-written. An
:class:`OSError` that the archive did not cause (a full disk, a folder that cannot be written)
is raised as it is, for the caller to report as the environment's failure.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from collections.abc import Callable, Iterable
from pathlib import Path

from reprobuild._types import Buffer
from reprobuild.archive.model import Archive, Member, MemberKind
from reprobuild.archive.safety import MAX_LINK_HOPS, check_name
from reprobuild.archive.spool import BLOCK
from reprobuild.errors import UnsafeArchiveError

__all__ = ["extract_archive"]

#: What ``os.open`` adds to every open: no link followed, no descriptor inherited.
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW
#: Errors the archive causes (a name that exists, a file where a folder should be, a name too
#: long or not encodable): bad input, refused. Any other error is the machine's.
_INPUT_ERRNOS = frozenset(
    {
        errno.EEXIST,
        errno.ENOTDIR,
        errno.EISDIR,
        errno.ENAMETOOLONG,
        errno.ELOOP,
        errno.EINVAL,
        errno.EILSEQ,
    }
)
_HINT = "an archive member must not write or read outside the folder it is unpacked into"


class _Refused(Exception):
    """A member the extractor will not write; carries the reason."""


def extract_archive(
    archive: Archive, target: Path, *, file_mode: Callable[[int | None], int]
) -> list[Path]:
    """Write ``archive``'s members below ``target``, a folder made here (it must not exist).

    ``file_mode`` gives a regular file's permission bits from its member's mode; folders and
    copies of hard links are made as ``mkdir`` and ``open`` make them (less the umask). Return,
    for each member in order, the path it was written to (a duplicate's is its first copy's).
    """
    root = Path(target)
    root.mkdir()
    extractor = _Extractor(root, file_mode)
    try:
        written = [extractor.write(member) for member in archive.members]
        extractor.recheck_links()
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return [root / rel if rel else root for rel in written]


class _Extractor:
    def __init__(self, root: Path, file_mode: Callable[[int | None], int]) -> None:
        self.root = root
        self.file_mode = file_mode
        self.first: dict[str, Member] = {}  #: each resolved location's first member
        self.links: list[tuple[Member, str, str]] = []  #: link, its folder, its location
        #: folders resolved since the last link was made (a link can change any of them)
        self.folders: dict[str, str] = {}

    def _abs(self, rel: str) -> Path:
        return self.root / rel if rel else self.root

    def resolve(self, path: str, *, start: str = "", create: bool, follow_last: bool) -> str:
        """``path`` (below the folder ``start``) resolved on the disk, inside the root.

        Links are followed by reading them; a component that does not exist is made a folder
        with ``create`` (but never the last one), else taken as it is named. The last
        component is followed only with ``follow_last``.
        """
        resolved = start.split("/") if start else []
        pending = [part for part in path.split("/") if part not in ("", ".")]
        pending.reverse()
        hops = 0
        while pending:
            part = pending.pop()
            if part == "..":
                if not resolved:
                    raise _Refused(f"{path!r} leads outside the folder it is unpacked into")
                resolved.pop()
                continue
            last = not pending
            here = "/".join([*resolved, part])
            try:
                info = os.lstat(self._abs(here))
            except (FileNotFoundError, NotADirectoryError):
                if create and not last:
                    self._abs(here).mkdir()
                resolved.append(part)
                continue
            if stat.S_ISLNK(info.st_mode) and (follow_last or not last):
                hops += 1
                if hops > MAX_LINK_HOPS:
                    raise _Refused(f"more than {MAX_LINK_HOPS} symbolic links on {path!r}")
                link = os.readlink(self._abs(here))  # noqa: PTH115 (the text, as written)
                if link.startswith("/"):
                    raise _Refused(f"{path!r} leads through a link to the absolute path {link!r}")
                pending.extend(reversed([p for p in link.split("/") if p not in ("", ".")]))
                continue
            if not last and not stat.S_ISDIR(info.st_mode):
                raise _Refused(f"{here!r} is not a folder")
            resolved.append(part)
        return "/".join(resolved)

    def write(self, member: Member) -> str:
        try:
            check_name(member.name)
            return self._write(member)
        except _Refused as exc:
            raise UnsafeArchiveError(str(exc), member=member.name, hint=_HINT) from None
        except OSError as exc:
            if exc.errno not in _INPUT_ERRNOS:
                raise
            raise UnsafeArchiveError(
                f"cannot be unpacked: {exc.strerror or exc}", member=member.name, hint=_HINT
            ) from None
        except UnicodeError:  # a name the file system's encoding cannot hold
            raise UnsafeArchiveError(
                "the name cannot be written on this system", member=member.name
            ) from None

    def _write(self, member: Member) -> str:
        parent, _, leaf = member.path.rstrip("/").rpartition("/")
        folder = self.folders.get(parent)
        if folder is None:
            folder = self.resolve(parent, create=True, follow_last=True)
            if folder and not self._abs(folder).exists():  # no member made it: a tar of files
                self._abs(folder).mkdir()
            self.folders[parent] = folder
        is_dir = member.kind is MemberKind.DIR
        # a folder's own name is followed (an existing link to a folder inside is a folder);
        # anything else is created right there, through no link
        where = self.resolve(leaf, start=folder, create=False, follow_last=is_dir)
        if not where:
            if is_dir:
                return where
            raise _Refused("resolves to the folder it is unpacked into")
        earlier = self.first.get(where)
        if earlier is not None:
            if _same(earlier, member):
                return where
            raise _Refused("a member was already written there")
        if is_dir:
            try:
                self._abs(where).mkdir()
            except FileExistsError:
                if not stat.S_ISDIR(os.lstat(self._abs(where)).st_mode):
                    raise _Refused("a member that is no folder is already there") from None
        elif member.kind is MemberKind.SYMLINK:
            target = member.link_target or ""
            if not target or target.startswith("/"):
                raise _Refused(f"symbolic link to {target!r}")
            self.resolve(target, start=folder, create=False, follow_last=True)
            self._abs(where).symlink_to(target)
            self.folders.clear()
            self.links.append((member, folder, where))
        elif member.kind is MemberKind.HARDLINK:
            self._copy(member.link_target or "", where)
        else:
            self._create(where, member.blocks(), self.file_mode(member.mode))
        self.first[where] = member
        return where

    def _create(self, where: str, blocks: Iterable[Buffer], mode: int | None) -> None:
        """A regular file holding ``blocks``, written a block at a time (a large member is
        never held whole)."""
        fd = os.open(self._abs(where), _CREATE, 0o600 if mode is not None else 0o666)
        try:
            with os.fdopen(fd, "wb", closefd=False) as out:
                for block in blocks:
                    out.write(block)
            if mode is not None:
                os.fchmod(fd, mode)
        finally:
            os.close(fd)

    def _copy(self, source_name: str, where: str) -> None:
        """A hard link, as a copy of a regular file already inside the folder."""
        if not source_name or source_name.startswith("/"):
            raise _Refused(f"hard link to {source_name!r}")
        source = self.resolve(source_name, create=False, follow_last=True)
        if not source:
            raise _Refused(f"hard link to {source_name!r}, the folder it is unpacked into")
        try:
            fd = os.open(self._abs(source), os.O_RDONLY | _NOFOLLOW)
        except FileNotFoundError:
            raise _Refused(f"hard link to {source_name!r}, which is not unpacked") from None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise _Refused(f"hard link to {source_name!r}, which is not a regular file")
            with os.fdopen(fd, "rb", closefd=False) as handle:  # copied a block at a time
                self._create(where, iter(lambda: handle.read(BLOCK), b""), None)
        finally:
            os.close(fd)

    def recheck_links(self) -> None:
        """Resolve every link's target again, with every member written."""
        for member, folder, _where in self.links:
            try:
                self.resolve(member.link_target or "", start=folder, create=False, follow_last=True)
            except _Refused as exc:
                raise UnsafeArchiveError(str(exc), member=member.name, hint=_HINT) from None


def _same(a: Member, b: Member) -> bool:
    """Two members of one location that give the same file (an sdist may list one twice)."""
    return (
        a.kind is b.kind
        and a.link_target == b.link_target
        and (a.kind is MemberKind.DIR or (bool(a.sha256) and a.sha256 == b.sha256))
    )
