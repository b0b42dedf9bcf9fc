"""The extension point of comparison: a :class:`Comparator` compares one format."""

from __future__ import annotations

from typing import Protocol

TYPE_CHECKING = False
if TYPE_CHECKING:
    from reprobuild.compare import Context, Item
    from reprobuild.compare.difference import Difference

__all__ = ["Comparator"]


class Comparator(Protocol):
    """Compares one format. ``accepts`` must be cheap (names, magic bytes)."""

    @property
    def name(self) -> str: ...

    def accepts(self, a: Item, b: Item) -> bool: ...

    def compare(self, a: Item, b: Item, context: Context) -> Difference | None: ...
