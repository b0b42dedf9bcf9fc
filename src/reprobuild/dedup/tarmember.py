"""The kind of a tar member, for the readers of tar sdists and of conda packages alike."""

from __future__ import annotations

import tarfile

from reprobuild.archive import MemberKind
from reprobuild.errors import ArchiveError

__all__ = ["tar_kind"]


def tar_kind(info: tarfile.TarInfo) -> MemberKind:
    """A tar member's kind; a special file (device, FIFO) is refused: no package installs one."""
    if info.isfile():
        return MemberKind.FILE
    if info.isdir():
        return MemberKind.DIR
    if info.issym():
        return MemberKind.SYMLINK
    if info.islnk():
        return MemberKind.HARDLINK
    raise ArchiveError(
        "a device, FIFO or other special file: not something a package installs",
        member=info.name,
    )
