"""The ordered registry of comparators: the first that accepts a pair compares it."""

from __future__ import annotations

from reprobuild.compare import Comparator

__all__ = ["REGISTRY"]

#: Tried in order; the byte comparison, which accepts everything, must stay last.
REGISTRY: tuple[Comparator, ...] = ()
