"""Checks that refuse hostile archives: unsafe names, links out, duplicates, bombs.

These checks apply to every container; the readers add their own (overlapping zip members,
decompression that outgrows its declared size).

Links are followed as the file system will follow them once the archive is unpacked. Each name
is split into components; a component that an earlier member made a symbolic link is replaced
by the link's target, and ``..`` goes up from where the link led, not from where its name
stands. So a chain of links that each look inside the archive (``pkg/a -> ..``, then
``pkg/a/b -> ..``) is seen for what it is: ``pkg/a/b`` lands beside the folder the archive
is unpacked into, and whatever is written through it, outside. Every member's path (its
folder, and the member itself unless it is a link), every link's target and every hard link's
source are resolved so, with at most :data:`MAX_LINK_HOPS` links followed, as the kernel
does; once all members are known, every link's target is resolved again, since a later link
can change where an earlier one leads.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping

from reprobuild.archive.model import Archive, Limits, Member, MemberKind
from reprobuild.errors import UnsafeArchiveError

__all__ = [
    "MAX_COMPONENT_BYTES",
    "MAX_DEPTH",
    "MAX_LINK_HOPS",
    "MAX_NAME_BYTES",
    "LinkResolver",
    "check_archive",
    "check_name",
]

_DRIVE = re.compile(r"^[A-Za-z]:")
_SEPARATORS = re.compile(r"[/\\]")
#: a component that may be longer than ``MAX_COMPONENT_BYTES`` once encoded (4 bytes a char)
_LONG_PART = re.compile(r"[^/]{64}")

#: The longest member name, in UTF-8 bytes: a path the kernel takes (``PATH_MAX``).
MAX_NAME_BYTES = 4096
#: The longest component of a member name, in UTF-8 bytes (``NAME_MAX``).
MAX_COMPONENT_BYTES = 255
#: The most folders a member name may go down. File systems set no such limit, but Python's
#: own tree walkers (``os.walk`` and ``shutil.rmtree`` before 3.12, ``glob``) recurse once or
#: twice a level, and its recursion limit is 1,000: no real package goes a tenth as deep.
MAX_DEPTH = 256
#: The most symbolic links one path may pass through (Linux's ``MAXSYMLINKS``).
MAX_LINK_HOPS = 40

_OUTSIDE_HINT = "an archive member must not name a path outside the folder it is extracted to"
_LINK_HINT = "links must point to other members of the archive"


def check_name(name: str) -> None:
    """Raise unless ``name`` is a relative path that stays inside the archive."""
    if not name or name in {".", "./"}:
        raise UnsafeArchiveError("empty member name", member=repr(name))
    if "\x00" in name:
        raise UnsafeArchiveError("member name contains a NUL byte", member=repr(name))
    if name.startswith(("/", "\\")) or (name[1:2] == ":" and _DRIVE.match(name)):
        raise UnsafeArchiveError("absolute member name", member=name, hint=_OUTSIDE_HINT)
    if ".." in name and ".." in _SEPARATORS.split(name):
        raise UnsafeArchiveError(
            "member name climbs out of the archive with '..'", member=name, hint=_OUTSIDE_HINT
        )
    if len(name) > MAX_NAME_BYTES // 4 or _LONG_PART.search(name):
        _check_lengths(name)
    if len(name) > MAX_DEPTH and name.count("/") > MAX_DEPTH:
        raise UnsafeArchiveError(
            f"member name goes {name.count('/')} folders deep, more than the limit of {MAX_DEPTH}",
            member=_shortened(name),
            hint="no real package is that deep; tools that walk the tree would fail on it",
        )


def _check_lengths(name: str) -> None:
    """Refuse a name no file system unpacks: longer than ``PATH_MAX``, or with a component
    longer than ``NAME_MAX`` (a 10,000-level path, a 300-character file name)."""
    size = len(name.encode("utf-8", "surrogatepass"))
    if size > MAX_NAME_BYTES:
        raise UnsafeArchiveError(
            f"member name of {size} bytes, more than the limit of {MAX_NAME_BYTES}",
            member=_shortened(name),
            hint="no file system unpacks a path that long",
        )
    for part in name.split("/"):
        if len(part) * 4 > MAX_COMPONENT_BYTES:
            length = len(part.encode("utf-8", "surrogatepass"))
            if length > MAX_COMPONENT_BYTES:
                raise UnsafeArchiveError(
                    f"a component of the member name has {length} bytes, more than the "
                    f"limit of {MAX_COMPONENT_BYTES}",
                    member=_shortened(name),
                    hint="no file system unpacks a file name that long",
                )


def _shortened(name: str, keep: int = 120) -> str:
    """A name too long to print whole: its first and last characters."""
    if len(name) <= 2 * keep:
        return name
    return f"{name[:keep]}…{name[-keep:]}"


class LinkResolver:
    """The symbolic links an archive has defined so far, to resolve paths through them.

    Paths are resolved virtually, component by component: a component that is a known link is
    replaced by its target (relative to the link's folder), ``..`` takes the last resolved
    component off, and a ``..`` with none left leaves the archive. Components that are no link
    are taken as folders, so a path resolves as the file system resolves it, or where the
    file system would refuse it (a file as a folder, a missing folder) anyway.
    """

    __slots__ = ("links",)

    def __init__(self) -> None:
        #: each link's resolved location (its folder resolved, its own name not) → its target
        self.links: dict[str, str] = {}

    def resolve(self, path: str, *, follow_last: bool = True, start: str = "") -> str | None:
        """``path`` (relative to the folder ``start``, a resolved path) with every link in it
        followed; the last component's only with ``follow_last``. None when it leaves the
        archive. Raises ``ValueError`` after :data:`MAX_LINK_HOPS` links (a loop)."""
        resolved: list[str] = []  #: the resolved path's prefixes: "a", "a/b", "a/b/c"
        for part in start.split("/") if start else ():
            resolved.append(f"{resolved[-1]}/{part}" if resolved else part)
        pending = path.split("/")
        pending.reverse()
        hops = 0
        while pending:
            part = pending.pop()
            if part in ("", "."):
                continue
            if part == "..":
                if not resolved:
                    return None
                resolved.pop()
                continue
            candidate = f"{resolved[-1]}/{part}" if resolved else part
            target = self.links.get(candidate)
            if target is not None and (follow_last or any(p not in ("", ".") for p in pending)):
                hops += 1
                if hops > MAX_LINK_HOPS:
                    raise ValueError(f"more than {MAX_LINK_HOPS} symbolic links")
                if target.startswith(("/", "\\")) or _DRIVE.match(target):
                    return None
                parts = target.split("/")
                parts.reverse()
                pending.extend(parts)
                continue
            resolved.append(candidate)
        return resolved[-1] if resolved else ""

    def define(self, location: str, target: str) -> None:
        """Record a link at ``location`` (resolved) pointing to ``target``."""
        self.links[location] = target


def _check_link(member: Member, first: Mapping[str, Member]) -> None:
    """The checks of a link that need no other link: an empty, absolute or lexically escaping
    target; a hard link to a name no earlier member has."""
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
        source = first.get(target.rstrip("/"))
        if source is None:
            raise UnsafeArchiveError(
                f"hard link to {target!r}, which is not an earlier member", member=member.name
            )
        if source.kind is MemberKind.DIR:
            raise UnsafeArchiveError(
                f"hard link to {target!r}, which is a folder", member=member.name
            )
        return
    if target.startswith(("/", "\\")) or _DRIVE.match(target):
        raise UnsafeArchiveError(
            f"symbolic link to the absolute path {target!r}", member=member.name, hint=_LINK_HINT
        )
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(member.path), target))
    if resolved == ".." or resolved.startswith("../"):
        raise UnsafeArchiveError(
            f"symbolic link to {target!r} points outside the archive",
            member=member.name,
            hint=_LINK_HINT,
        )


class _Walk:
    """Every member's path resolved through the links defined before it (used only for an
    archive that holds symbolic links: without them, names are what they say)."""

    def __init__(self) -> None:
        self.resolver = LinkResolver()
        self.kinds: dict[str, MemberKind] = {}  #: resolved path → kind of its first member
        self.symlinks: list[tuple[Member, str]] = []  #: each link and its resolved folder
        #: folders resolved since the last link was defined (a link can change any of them)
        self.folders: dict[str, str] = {}

    def _resolve(self, member: Member, path: str, *, follow_last: bool, start: str = "") -> str:
        try:
            resolved = self.resolver.resolve(path, follow_last=follow_last, start=start)
        except ValueError as exc:
            raise UnsafeArchiveError(
                f"{exc} on the way to {path!r}: a loop or a chain of links",
                member=member.name,
                hint=_LINK_HINT,
            ) from None
        if resolved is None:
            raise UnsafeArchiveError(
                f"{path!r} leads outside the archive through symbolic links",
                member=member.name,
                hint=_OUTSIDE_HINT,
            )
        return resolved

    def add(self, member: Member) -> None:
        is_link = member.kind is MemberKind.SYMLINK
        parent, _, leaf = member.path.rstrip("/").rpartition("/")
        folder = self.folders.get(parent)
        if folder is None:
            folder = self._resolve(member, parent, follow_last=True)
            self.folders[parent] = folder
        where = self._resolve(member, leaf, follow_last=not is_link, start=folder)
        if not where and member.kind is not MemberKind.DIR:
            raise UnsafeArchiveError(
                "member resolves to the folder the archive is unpacked into",
                member=member.name,
                hint=_OUTSIDE_HINT,
            )
        if member.kind is MemberKind.HARDLINK:
            source = self._resolve(member, member.link_target or "", follow_last=True)
            if self.kinds.get(source) not in (MemberKind.FILE, MemberKind.HARDLINK):
                raise UnsafeArchiveError(
                    f"hard link to {member.link_target!r}, which is not an earlier regular file",
                    member=member.name,
                    hint="a hard link must name a file the archive holds before it",
                )
        if is_link:
            self._resolve(member, member.link_target or "", follow_last=True, start=folder)
            self.resolver.define(where, member.link_target or "")
            self.folders.clear()
            self.symlinks.append((member, folder))
        self.kinds.setdefault(where, member.kind)

    def finish(self) -> None:
        """Resolve every link's target again, now that every link is known."""
        for member, folder in self.symlinks:
            self._resolve(member, member.link_target or "", follow_last=True, start=folder)


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
    walk = _Walk() if any(m.kind is MemberKind.SYMLINK for m in archive.members) else None
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
            _check_link(member, first)  # an earlier member: never the link itself
        if walk is not None:
            walk.add(member)
        first.setdefault(key, member)
        total += member.size
        if total > limits.max_total_size:
            raise UnsafeArchiveError(
                f"members expand to more than {limits.max_total_size} bytes",
                member=member.name,
                hint="this looks like a zip bomb",
            )
    if walk is not None:
        walk.finish()


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
