"""Checks that refuse hostile archives: unsafe names, links out, duplicates, bombs.

These checks apply to every container; the readers add their own (overlapping zip members,
decompression that outgrows its declared size).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Set as AbstractSet

from reprobuild.archive.model import Archive, Limits, Member, MemberKind
from reprobuild.errors import UnsafeArchiveError

__all__ = ["check_archive", "check_name"]

_DRIVE = re.compile(r"^[A-Za-z]:")
_SEPARATORS = re.compile(r"[/\\]")


def check_name(name: str) -> None:
    """Raise unless ``name`` is a relative path that stays inside the archive."""
    if not name or name in {".", "./"}:
        raise UnsafeArchiveError("empty member name", member=repr(name))
    if "\x00" in name:
        raise UnsafeArchiveError("member name contains a NUL byte", member=repr(name))
    if name.startswith(("/", "\\")) or (name[1:2] == ":" and _DRIVE.match(name)):
        raise UnsafeArchiveError(
            "absolute member name",
            member=name,
            hint="an archive member must not name a path outside the folder it is extracted to",
        )
    if ".." in name and ".." in _SEPARATORS.split(name):
        raise UnsafeArchiveError(
            "member name climbs out of the archive with '..'",
            member=name,
            hint="an archive member must not name a path outside the folder it is extracted to",
        )


def _check_link(member: Member, names: AbstractSet[str]) -> None:
    target = member.link_target or ""
    if not target:
        raise UnsafeArchiveError(f"{member.kind.value} with an empty target", member=member.name)
    if member.kind is MemberKind.HARDLINK:
        try:
            check_name(target)
        except UnsafeArchiveError as exc:
            raise UnsafeArchiveError(
                f"hard link to {target!r}: {exc.reason}", member=member.name, hint=exc.hint
            ) from None
        if target.rstrip("/") not in names:
            raise UnsafeArchiveError(
                f"hard link to {target!r}, which is not an earlier member", member=member.name
            )
        return
    if target.startswith(("/", "\\")) or _DRIVE.match(target):
        raise UnsafeArchiveError(
            f"symbolic link to the absolute path {target!r}",
            member=member.name,
            hint="links must point to other members of the archive",
        )
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(member.path), target))
    if resolved == ".." or resolved.startswith("../"):
        raise UnsafeArchiveError(
            f"symbolic link to {target!r} points outside the archive",
            member=member.name,
            hint="links must point to other members of the archive",
        )


def check_archive(
    archive: Archive,
    limits: Limits,
    *,
    allow_duplicates: bool = False,
    identical_duplicates: bool = False,
) -> None:
    """Raise :class:`UnsafeArchiveError` for the first hostile property of ``archive``.

    ``allow_duplicates`` lets a name appear twice (a comparison wants to show both copies);
    ``identical_duplicates`` lets it appear twice only as the same kind with the same content
    (and link target), where every extractor gives the same file whichever copy wins;
    everything else is always refused.
    """
    if len(archive.members) > limits.max_members:
        raise UnsafeArchiveError(
            f"{len(archive.members)} members, more than the limit of {limits.max_members}",
            hint="this looks like a zip bomb",
        )
    first: dict[str, Member] = {}  #: each name's first member
    total = 0
    for member in archive.members:
        check_name(member.name)
        key = member.path
        earlier = first.get(key)
        harmless = allow_duplicates or (identical_duplicates and _same(earlier, member))
        if earlier is not None and not harmless:
            raise UnsafeArchiveError(
                "duplicate member: the name appears twice",
                member=member.name,
                hint="tools disagree on which copy wins, so the archive's content is ambiguous",
            )
        if member.kind in (MemberKind.SYMLINK, MemberKind.HARDLINK):
            _check_link(member, first.keys())  # an earlier member: never the link itself
        first.setdefault(key, member)
        total += member.size
        if total > limits.max_total_size:
            raise UnsafeArchiveError(
                f"members expand to more than {limits.max_total_size} bytes",
                member=member.name,
                hint="this looks like a zip bomb",
            )


def _same(a: Member | None, b: Member) -> bool:
    """Whether two members of one name give the same file: kind, content and link target
    (an unread digest, as in a zip read without digests, is never the same)."""
    return (
        a is not None
        and a.kind is b.kind
        and bool(a.sha256)
        and a.sha256 == b.sha256
        and a.link_target == b.link_target
    )
