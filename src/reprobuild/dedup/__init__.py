"""Find packages that are the same modulo inconsequential metadata, and store them once.

- :func:`read_package` reads a wheel, an sdist or a conda package (``.conda``, ``.tar.bz2``)
  into one model, a :class:`Package` of :class:`Entry` members, streamed: memory stays at a
  block plus the few small metadata files the rules read. :func:`find_packages` finds them
  in folders.
- :func:`view` gives a package's members at a :class:`Level` (``bytes``, ``members``,
  ``canonical``, ``payload``), each made from the one before, under the named, versioned
  :data:`RULES`; :func:`manifest_digest` is the key that groups packages at a level.
- :func:`dedup` groups packages at every level in one pass, counts what each level saves,
  and names every member that keeps packages apart with its :class:`MemberClass` and the
  category of its difference (compare's categories).
- :mod:`reprobuild.dedup.store` puts every distinct member once into the cache's blob store,
  with a manifest per package to write it again bit for bit.
"""

from __future__ import annotations

from reprobuild.dedup.groups import (
    Comparison,
    DedupReport,
    Explainer,
    Group,
    LevelResult,
    MemberDifference,
    dedup,
    explain,
)
from reprobuild.dedup.levels import View, manifest_digest, view
from reprobuild.dedup.model import Entry, Level, MemberClass, Package, PackageFormat
from reprobuild.dedup.read import ContentDigests, find_packages, package_format, read_package
from reprobuild.dedup.rules import RULES, Rule

__all__ = [
    "RULES",
    "Comparison",
    "ContentDigests",
    "DedupReport",
    "Entry",
    "Explainer",
    "Group",
    "Level",
    "LevelResult",
    "MemberClass",
    "MemberDifference",
    "Package",
    "PackageFormat",
    "Rule",
    "View",
    "dedup",
    "explain",
    "find_packages",
    "manifest_digest",
    "package_format",
    "read_package",
    "view",
]
