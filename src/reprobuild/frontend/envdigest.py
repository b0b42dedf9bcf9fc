"""What a folder holds, as a sorted list of entries and one sha256: the integrity record of a
cached build environment.

:func:`scan_tree` walks a folder without following a symbolic link, and lists every entry by
its relative path (``/``-separated; the folder itself is ``.``) with its kind, permission bits,
and the sha256 of a file's bytes or a link's target. :func:`tree_digest` sums such a list up
in one sha256; :func:`first_difference` names the first path (in sorted order) at which two
lists differ. Times, owners and inode numbers are not recorded: they do not change what a
build in the folder runs.

Files are opened relative to their folder's descriptor with ``O_NOFOLLOW``, so a link put
where a file or folder was is recorded as a link, never read through; a file is hashed from
the descriptor whose kind was checked.
"""

from __future__ import annotations

import enum
import errno
import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "Change",
    "Difference",
    "EntryKind",
    "TreeEntry",
    "first_difference",
    "parse_entries",
    "render_entries",
    "scan_tree",
    "tree_digest",
]

#: Files are read in blocks of this many bytes (hashlib lets go of the GIL for each).
_BLOCK = 1 << 20
_OPEN_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_OPEN_DIR = _OPEN_FILE | os.O_DIRECTORY


class EntryKind(enum.Enum):
    """What an entry of a folder is. ``other`` is a pipe, socket or device."""

    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    OTHER = "other"


@dataclass(frozen=True, slots=True, kw_only=True)
class TreeEntry:
    """One entry of a folder: its ``/``-separated relative ``path`` (``.`` for the folder
    itself), ``kind``, permission bits ``mode`` (``stat.S_IMODE``), and ``value``: the sha256 of
    a file (lower-case hex), the target of a link, ``""`` for the others."""

    path: str
    kind: EntryKind
    mode: int
    value: str

    def as_list(self) -> list[str | int]:
        """``[path, kind, mode, value]``, the entry's form in a record and in its digest."""
        return [self.path, self.kind.value, self.mode, self.value]


class Change(enum.Enum):
    """How a path differs between a recorded list and the folder as it is now."""

    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Difference:
    """The first path at which two lists differ, and how."""

    change: Change
    path: str

    def __str__(self) -> str:
        return f"{self.change.value} {self.path}"


def scan_tree(root: Path) -> tuple[TreeEntry, ...]:
    """Every entry of the folder ``root`` (``root`` too, as ``.``), sorted by path.

    Raises :class:`OSError` when ``root`` is not a folder or cannot be read.
    """
    entries: list[TreeEntry] = []
    fd = os.open(root, _OPEN_DIR)
    try:
        entries.append(
            TreeEntry(
                path=".", kind=EntryKind.DIR, mode=stat.S_IMODE(os.fstat(fd).st_mode), value=""
            )
        )
        _scan(fd, "", entries)
    finally:
        os.close(fd)
    entries.sort(key=_path_of)
    return tuple(entries)


def tree_digest(entries: tuple[TreeEntry, ...]) -> str:
    """The sha256 (lower-case hex) of ``entries``, sorted as :func:`scan_tree` sorts them,
    in their compact JSON form (one array of ``[path, kind, mode, value]`` arrays, ASCII only,
    so that every name, even one that is not UTF-8, has exactly one spelling)."""
    ordered = sorted(entries, key=_path_of)
    return hashlib.sha256(render_entries(tuple(ordered)).encode("ascii")).hexdigest()


def render_entries(entries: tuple[TreeEntry, ...]) -> str:
    """``entries`` in the compact JSON form that :func:`tree_digest` hashes."""
    return json.dumps([entry.as_list() for entry in entries], separators=(",", ":"))


def parse_entries(document: object) -> tuple[TreeEntry, ...]:
    """The entries of a JSON array in :func:`render_entries`' form; :class:`ValueError` when
    it is not one."""
    if not isinstance(document, list):
        raise ValueError("the entries are not an array")
    entries = []
    for item in document:
        if not (
            isinstance(item, list)
            and len(item) == 4
            and isinstance(item[0], str)
            and isinstance(item[1], str)
            and isinstance(item[2], int)
            and isinstance(item[3], str)
        ):
            raise ValueError(f"not an entry: {item!r}")
        entries.append(
            TreeEntry(path=item[0], kind=EntryKind(item[1]), mode=item[2], value=item[3])
        )
    return tuple(sorted(entries, key=_path_of))


def first_difference(
    recorded: tuple[TreeEntry, ...], current: tuple[TreeEntry, ...]
) -> Difference | None:
    """The first path, in sorted order, that is only in ``current`` (added), only in
    ``recorded`` (removed), or in both with another kind, mode or value (changed); ``None``
    when the two lists are the same."""
    old = sorted(recorded, key=_path_of)
    new = sorted(current, key=_path_of)
    i = j = 0
    while i < len(old) and j < len(new):
        a, b = old[i], new[j]
        if a.path < b.path:
            return Difference(change=Change.REMOVED, path=a.path)
        if b.path < a.path:
            return Difference(change=Change.ADDED, path=b.path)
        if a != b:
            return Difference(change=Change.CHANGED, path=a.path)
        i += 1
        j += 1
    if i < len(old):
        return Difference(change=Change.REMOVED, path=old[i].path)
    if j < len(new):
        return Difference(change=Change.ADDED, path=new[j].path)
    return None


def _path_of(entry: TreeEntry) -> str:
    return entry.path


def _scan(dir_fd: int, prefix: str, entries: list[TreeEntry]) -> None:
    """Add the entries below the folder open as ``dir_fd`` (whose path is ``prefix``)."""
    with os.scandir(dir_fd) as listing:
        children = list(listing)
    for child in children:
        path = prefix + child.name
        if child.is_symlink():
            mode = stat.S_IMODE(child.stat(follow_symlinks=False).st_mode)
            target = os.readlink(child.name, dir_fd=dir_fd)
            entries.append(TreeEntry(path=path, kind=EntryKind.SYMLINK, mode=mode, value=target))
        elif child.is_dir(follow_symlinks=False):
            sub = os.open(child.name, _OPEN_DIR, dir_fd=dir_fd)
            try:
                mode = stat.S_IMODE(os.fstat(sub).st_mode)
                entries.append(TreeEntry(path=path, kind=EntryKind.DIR, mode=mode, value=""))
                _scan(sub, path + "/", entries)
            finally:
                os.close(sub)
        elif child.is_file(follow_symlinks=False):
            entries.append(_file_entry(dir_fd, child.name, path))
        else:
            mode = stat.S_IMODE(child.stat(follow_symlinks=False).st_mode)
            entries.append(TreeEntry(path=path, kind=EntryKind.OTHER, mode=mode, value=""))


def _file_entry(dir_fd: int, name: str, path: str) -> TreeEntry:
    """The entry of the file ``name`` in the folder ``dir_fd``, hashed from the descriptor
    whose kind was checked (a pipe put there since the listing is not read)."""
    try:
        fd = os.open(name, _OPEN_FILE, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise
        # replaced by a link since the listing: record the link
        target = os.readlink(name, dir_fd=dir_fd)
        mode = stat.S_IMODE(os.lstat(name, dir_fd=dir_fd).st_mode)
        return TreeEntry(path=path, kind=EntryKind.SYMLINK, mode=mode, value=target)
    try:
        status = os.fstat(fd)
        mode = stat.S_IMODE(status.st_mode)
        if not stat.S_ISREG(status.st_mode):
            kind = EntryKind.DIR if stat.S_ISDIR(status.st_mode) else EntryKind.OTHER
            return TreeEntry(path=path, kind=kind, mode=mode, value="")
        hasher = hashlib.sha256()
        while block := os.read(fd, _BLOCK):
            hasher.update(block)
        return TreeEntry(path=path, kind=EntryKind.FILE, mode=mode, value=hasher.hexdigest())
    finally:
        os.close(fd)
