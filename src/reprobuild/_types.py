"""Type aliases shared across layers."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TypeAlias

__all__ = ["Buffer", "PaxRecords"]

#: Bytes of an archive or member, as read: ``bytes`` or a zero-copy view into them.
Buffer: TypeAlias = bytes | memoryview

#: The records of a tar PAX extended header, in the order they were written.
PaxRecords: TypeAlias = tuple[tuple[str, str], ...]
