"""Building difference nodes: leaves, groups, field changes and capped unified diffs.

Every comparator builds its part of the tree with these helpers, so that names, comments and
diffs look the same whichever format they come from. A field of something is named
``path › field``; pseudo-members of a container are named ``path › (zip archive comment)``.
"""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from reprobuild._text import visible
from reprobuild.compare.difference import Category, Difference

__all__ = [
    "FieldChange",
    "cut_note",
    "field_leaves",
    "format_time",
    "group",
    "join_comments",
    "leaf",
    "short",
    "sub",
    "times_shown",
    "unified",
]

#: How much of a value a comment shows.
SHORT = 120


def sub(name: str, part: str) -> str:
    """``name › part``: a field of ``name`` or a pseudo-member of a container."""
    return f"{name} › {part}"


def short(value: object, limit: int = SHORT) -> str:
    """``repr(value)``, cut to about ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_time(seconds: float) -> str:
    """A POSIX time as ``YYYY-MM-DD HH:MM:SS UTC``; the number itself when out of range."""
    try:
        moment = datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
    except (OverflowError, ValueError, OSError):
        return str(seconds)
    text = moment.strftime("%Y-%m-%d %H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + " UTC"


_SHOWN_TIME = r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?) UTC"
_SHOWN_TIMES = re.compile(f"{_SHOWN_TIME} vs {_SHOWN_TIME}")


def times_shown(comment: str) -> list[tuple[float, float]]:
    """The pairs of times a field change's comment shows, ``A vs B``, as :func:`format_time`
    wrote them (POSIX seconds)."""

    def seconds(text: str) -> float:
        moment = datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.UTC)
        return moment.timestamp()

    return [(seconds(a), seconds(b)) for a, b in _SHOWN_TIMES.findall(comment)]


def leaf(
    source_a: str,
    source_b: str,
    category: Category,
    *,
    comment: str | None = None,
    unified_diff: str | None = None,
) -> Difference:
    """A node that carries a category."""
    return Difference(
        source_a=source_a,
        source_b=source_b,
        category=category,
        comment=comment,
        unified_diff=unified_diff,
    )


def group(
    source_a: str,
    source_b: str,
    children: Iterable[Difference | None],
    *,
    comment: str | None = None,
) -> Difference | None:
    """An inner node holding ``children`` (None entries dropped); None when none are left.

    A lone child that already carries the group's names (and no comment is added) is returned
    as it is: a node that repeats its only child's names says nothing.
    """
    kept = tuple(child for child in children if child is not None)
    if not kept:
        return None
    if len(kept) == 1 and comment is None:
        only = kept[0]
        if (only.source_a, only.source_b) == (source_a, source_b):
            return only
    return Difference(source_a=source_a, source_b=source_b, comment=comment, children=kept)


def unified(
    lines_a: Sequence[str],
    lines_b: Sequence[str],
    *,
    name_a: str,
    name_b: str,
    max_lines: int,
    context: int = 3,
    labels: tuple[str, str] = ("", ""),
) -> tuple[str, int]:
    """A unified diff of two lists of lines (without line ends), and how many lines were cut.

    ``max_lines`` caps the diff (0: no cap); the lines past the cap are counted, not kept.
    ``labels`` go before the names in the ``---``/``+++`` lines (see ``CompareOptions``).
    """
    kept: list[str] = []
    cut = 0
    fromfile, tofile = labelled(name_a, labels[0]), labelled(name_b, labels[1])
    for line in difflib.unified_diff(
        lines_a, lines_b, fromfile=fromfile, tofile=tofile, n=context, lineterm=""
    ):
        if max_lines and len(kept) >= max_lines:
            cut += 1
        else:
            kept.append(line)
    return "\n".join(kept), cut


def labelled(name: str, label: str) -> str:
    """``name`` as a unified diff's header line shows it: after ``label/``, when there is one,
    with its controls and line breaks escaped (a name from an archive must not add a line of
    its own to the report)."""
    shown = visible(name)
    return f"{label}/{shown}" if label else shown


def sides(labels: tuple[str, str]) -> tuple[str, str]:
    """What a comment calls the two sides: their labels (``published``, ``rebuilt``), or
    ``a`` and ``b``."""
    return labels[0] or "a", labels[1] or "b"


def cut_note(cut: int) -> str | None:
    """The comment that says how many diff lines were left out, if any."""
    if not cut:
        return None
    return f"{cut} more diff line{'s' if cut != 1 else ''} not shown"


def join_comments(*parts: str | None) -> str | None:
    """The non-empty parts joined with ``; ``, or None."""
    kept = [part for part in parts if part]
    return "; ".join(kept) or None


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldChange:
    """One header field that differs, with its category and both values as shown."""

    category: Category
    field: str
    a: str
    b: str


def field_leaves(source_a: str, source_b: str, changes: Iterable[FieldChange]) -> list[Difference]:
    """One leaf per category, named ``source › field, field``, in the order categories appear.

    A member whose uid and gid both differ gets one ``ownership`` leaf, not two: the tree stays
    small and the count by category still says what kind of thing differs.
    """
    by_category: dict[Category, list[FieldChange]] = {}
    for change in changes:
        by_category.setdefault(change.category, []).append(change)
    leaves = []
    for category, found in by_category.items():
        fields = ", ".join(dict.fromkeys(change.field for change in found))
        comment = "; ".join(f"{change.field}: {change.a} vs {change.b}" for change in found)
        leaves.append(leaf(sub(source_a, fields), sub(source_b, fields), category, comment=comment))
    return leaves
