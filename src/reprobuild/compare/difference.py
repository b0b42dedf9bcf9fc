"""The difference model: a frozen tree of what differs between two inputs, each node with a
category from a closed set.

A difference is *inconsequential* when its category cannot change what gets installed. That is
a property of the category, decided here and nowhere else.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["INCONSEQUENTIAL", "Category", "Difference"]


class Category(enum.Enum):
    """What kind of thing differs."""

    TIMESTAMP = "timestamp"  #: member or header times
    ORDER = "order"  #: the order of members in a container
    PERMISSIONS = "permissions"  #: mode bits other than the executable bit
    OWNERSHIP = "ownership"  #: uid, gid, user and group names
    COMPRESSION = "compression"  #: compression method or level of the same bytes
    CONTAINER = "container"  #: gzip header, zip comment and extra fields, tar format
    METADATA_ORDER = "metadata-order"  #: RECORD rows or a set-like JSON list reordered
    CONTENT = "content"  #: bytes that are installed or executed differ
    MISSING = "missing"  #: in a, not in b
    ADDED = "added"  #: in b, not in a


#: Categories that cannot change what gets installed. An executable-bit change is filed under
#: CONTENT by the comparators, so PERMISSIONS holds only changes an installer does not keep.
INCONSEQUENTIAL: frozenset[Category] = frozenset(
    {
        Category.TIMESTAMP,
        Category.ORDER,
        Category.PERMISSIONS,
        Category.OWNERSHIP,
        Category.COMPRESSION,
        Category.CONTAINER,
        Category.METADATA_ORDER,
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Difference:
    """One node of the difference tree.

    ``source_a``/``source_b`` name what is compared (a file, a member, a header field).
    A leaf has a ``category`` and a ``unified_diff`` or a ``comment``; an inner node groups
    ``children`` (its own category is None unless it differs itself too).
    """

    source_a: str
    source_b: str
    category: Category | None = None
    unified_diff: str | None = None
    comment: str | None = None
    children: tuple[Difference, ...] = ()

    def walk(self) -> Iterator[Difference]:
        """This node and every node below it, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()

    def leaves(self) -> Iterator[Difference]:
        """The nodes that carry a category."""
        return (node for node in self.walk() if node.category is not None)

    def counts(self) -> Counter[Category]:
        """How many differences of each category the tree holds."""
        return Counter(node.category for node in self.leaves() if node.category is not None)

    @property
    def inconsequential(self) -> bool:
        """True when every difference in the tree is of an inconsequential category."""
        return all(category in INCONSEQUENTIAL for category in self.counts())

    def summary(self) -> str:
        """One line: the count of differences by category, e.g. ``3 content, 12 timestamp``."""
        counts = self.counts()
        if not counts:
            return "no differences"
        parts = [
            f"{n} {c.value}" for c, n in sorted(counts.items(), key=lambda i: (-i[1], i[0].value))
        ]
        verdict = "inconsequential" if self.inconsequential else "consequential"
        return f"{', '.join(parts)} ({verdict})"
