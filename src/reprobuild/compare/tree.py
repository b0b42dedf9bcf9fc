"""Two folders, already read into memory: relative POSIX path → bytes on each side.

Files only on one side are ``missing`` or ``added`` leaves; files on both whose bytes differ are
compared through the registry, like archive members. Paths matched by ``options.exclude`` are
skipped. Reading the folders (and deciding what to do with links) is the caller's business.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reprobuild.compare import CompareOptions, Context, Item, default_registry
from reprobuild.compare.difference import Category, Difference
from reprobuild.compare.nodes import group, leaf, sides

TYPE_CHECKING = False
if TYPE_CHECKING:
    from reprobuild.compare.comparator import Comparator

__all__ = ["compare_trees"]


def compare_trees(
    a: Mapping[str, bytes],
    b: Mapping[str, bytes],
    options: CompareOptions | None = None,
    *,
    name_a: str,
    name_b: str,
    registry: Sequence[Comparator] | None = None,
) -> Difference | None:
    """The difference tree between two folders' files, or None when they hold the same files
    with the same bytes (excluded paths aside). Children are in path order."""
    context = Context(
        options=options or CompareOptions(),
        registry=tuple(registry) if registry is not None else default_registry(),
    )
    excluded = context.options.excluded
    paths_a = {path for path in a if not excluded(path)}
    paths_b = {path for path in b if not excluded(path)}
    children: list[Difference | None] = []
    side_a, side_b = sides(context.options.labels)
    for path in sorted(paths_a | paths_b):
        if path not in paths_b:
            children.append(
                leaf(
                    path, path, Category.MISSING, comment=f"only in {side_a} ({len(a[path])} bytes)"
                )
            )
        elif path not in paths_a:
            children.append(
                leaf(path, path, Category.ADDED, comment=f"only in {side_b} ({len(b[path])} bytes)")
            )
        else:
            children.append(
                context.recurse(Item(name=path, data=a[path]), Item(name=path, data=b[path]))
            )
    return group(name_a, name_b, children)
