"""The dedup model: one package as the list of its members, whatever its format.

A :class:`Package` is what :func:`~reprobuild.dedup.read.read_package` saw in one file: its
format, size and sha256, and one :class:`Entry` per member (path, kind, executable bit, size,
sha256), in file order. The bytes of the few members that canonicalization reads (metadata
files, small scripts) are kept with it; the bytes of any other member never are.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from reprobuild.archive import MemberKind

__all__ = ["Entry", "Level", "MemberClass", "Package", "PackageFormat"]


class PackageFormat(enum.Enum):
    """The kinds of file dedup reads."""

    WHEEL = "wheel"
    SDIST = "sdist"
    CONDA = "conda"  #: the ``.conda`` format: a zip of zstd-compressed info and pkg tars
    CONDA_TAR_BZ2 = "conda-tar-bz2"  #: the older ``.tar.bz2`` conda format

    @property
    def conda(self) -> bool:
        return self in (PackageFormat.CONDA, PackageFormat.CONDA_TAR_BZ2)


class Level(enum.Enum):
    """How alike two packages must be to share a group; each level groups at least what the
    one before it groups."""

    BYTES = "bytes"  #: the same file
    MEMBERS = "members"  #: the same members (path, kind, executable bit, content)
    CANONICAL = "canonical"  #: the same after the canonicalization rules
    PAYLOAD = "payload"  #: the same installed payload, Python version and byte code aside

    @property
    def stricter(self) -> Level | None:
        """The level before this one, or None for ``bytes``."""
        order = list(Level)
        index = order.index(self)
        return order[index - 1] if index else None


class MemberClass(enum.Enum):
    """What a member (or the part of it a rule changes) says about its package."""

    IDENTITY = "identity"  #: names the package: name, version, build, platform, dependencies
    VOLATILE = "volatile"  #: the moment or place of the build: timestamps, build paths
    PROVENANCE = "provenance"  #: how it was built: tools, recipe, environment
    DERIVED = "derived"  #: computed from the other members: RECORD, paths.json, files
    PAYLOAD = "payload"  #: what gets installed


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One member of a package.

    ``sha256`` is the digest of the content (of the link target for a link). ``prefix_sha256``
    is set for a conda file that holds its build prefix (listed in ``info/paths.json`` or
    ``info/has_prefix``): the digest of its content with that prefix replaced by a fixed token.
    """

    path: str
    kind: MemberKind = MemberKind.FILE
    executable: bool = False
    size: int = 0
    sha256: str = ""
    link_target: str | None = None
    prefix_sha256: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Package:
    """One package file: where it is, its format, size and sha256, its members in file order,
    and the bytes of the members canonicalization reads (``kept``, by path)."""

    path: str
    format: PackageFormat
    size: int
    sha256: str
    entries: tuple[Entry, ...]
    kept: tuple[tuple[str, bytes], ...] = ()

    @property
    def name(self) -> str:
        """The file's name."""
        return self.path.rsplit("/", 1)[-1]

    def content(self, path: str) -> bytes | None:
        """The kept bytes of the member at ``path``, or None when they were not kept."""
        for name, data in self.kept:
            if name == path:
                return data
        return None
