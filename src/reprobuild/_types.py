"""Type aliases shared across layers."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TypeAlias

__all__ = ["Buffer", "JSONValue", "PaxRecords"]

#: Bytes of an archive or member, as read: ``bytes`` or a zero-copy view into them.
Buffer: TypeAlias = bytes | memoryview

#: The records of a tar PAX extended header, in the order they were written.
PaxRecords: TypeAlias = tuple[tuple[str, str], ...]

#: A value of a JSON document, as the json module reads and writes it.
JSONValue: TypeAlias = bool | int | float | str | list["JSONValue"] | dict[str, "JSONValue"] | None
