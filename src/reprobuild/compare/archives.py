"""What every container comparison shares: matching members, their order, what is missing or
added, and the header fields every format has.

Members are matched by name. When both archives hold everything under one top folder (an
sdist's ``foo-1.0/``), or a wheel's ``.dist-info`` or ``.data`` folder is named differently on
each side (``foo-1.0.dist-info`` against ``foo-1.1.dist-info``), members are matched by their
path below that folder and the rename is reported once, as ``content``. A name that appears
twice is matched by its occurrence.

The differences of one member, header fields and content, are grouped under one node named
after the member. The format comparators (zip, tar) supply the container-level differences and
two functions: the member header fields of their format, and the content comparison (which for
zip avoids inflating a member whose stored bytes are equal).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reprobuild.archive import Archive, Member, MemberKind
from reprobuild.compare import Context, Item
from reprobuild.compare.difference import Category, Difference
from reprobuild.compare.nodes import (
    FieldChange,
    cut_note,
    field_leaves,
    format_time,
    group,
    join_comments,
    leaf,
    sides,
    sub,
    unified,
)

__all__ = [
    "HeaderFields",
    "MemberContent",
    "compare_archives",
    "folder_renames",
    "mode_changes",
]

#: The format's own header fields of a pair of matched members.
HeaderFields = Callable[[Member, Member], list[FieldChange]]
#: The content difference of a pair of matched files (None when equal).
MemberContent = Callable[[Member, Member, Context], Difference | None]

_EXEC = 0o111
_RENAMED_SUFFIXES = (".dist-info", ".data")


def mode_changes(kind: MemberKind, mode_a: int, mode_b: int) -> list[FieldChange]:
    """``permissions`` for mode bits, but ``content`` when a file's executable bits differ
    (installers keep those, and a script that cannot run is a different program)."""
    if mode_a == mode_b:
        return []
    changes = []
    counts_exec = kind in (MemberKind.FILE, MemberKind.HARDLINK)
    if counts_exec and (mode_a & _EXEC) != (mode_b & _EXEC):
        changes.append(
            FieldChange(
                category=Category.CONTENT,
                field="executable bit",
                a=f"{mode_a:#o}",
                b=f"{mode_b:#o}",
            )
        )
    mask = ~_EXEC if counts_exec else ~0
    if (mode_a & mask) != (mode_b & mask):
        changes.append(
            FieldChange(
                category=Category.PERMISSIONS, field="mode", a=f"{mode_a:#o}", b=f"{mode_b:#o}"
            )
        )
    return changes


def _common_changes(a: Member, b: Member) -> list[FieldChange]:
    changes = []
    if a.kind is not b.kind:
        changes.append(
            FieldChange(category=Category.CONTENT, field="kind", a=a.kind.value, b=b.kind.value)
        )
    if a.link_target != b.link_target:
        changes.append(
            FieldChange(
                category=Category.CONTENT,
                field="link target",
                a=repr(a.link_target),
                b=repr(b.link_target),
            )
        )
    if a.mtime != b.mtime:
        changes.append(
            FieldChange(
                category=Category.TIMESTAMP,
                field="mtime",
                a=format_time(a.mtime),
                b=format_time(b.mtime),
            )
        )
    return changes


def _single_top(members: Sequence[Member]) -> str | None:
    tops = {member.path.split("/", 1)[0] for member in members}
    if len(tops) != 1 or not any("/" in member.path for member in members):
        return None
    return next(iter(tops))


def folder_renames(a: Sequence[Member], b: Sequence[Member]) -> dict[str, str]:
    """Top folders of ``a``'s members to match with differently named ones of ``b``'s."""
    top_a, top_b = _single_top(a), _single_top(b)
    if top_a is not None and top_b is not None:
        return {top_a: top_b} if top_a != top_b else {}
    tops_a = {member.path.split("/", 1)[0] for member in a if "/" in member.path}
    tops_b = {member.path.split("/", 1)[0] for member in b if "/" in member.path}
    renames = {}
    for suffix in _RENAMED_SUFFIXES:
        found_a = [top for top in tops_a if top.endswith(suffix)]
        found_b = [top for top in tops_b if top.endswith(suffix)]
        if len(found_a) == len(found_b) == 1 and found_a != found_b:
            renames[found_a[0]] = found_b[0]
    return renames


def _translate(path: str, renames: dict[str, str]) -> str:
    top, sep, rest = path.partition("/")
    return renames[top] + sep + rest if top in renames else path


@dataclass(frozen=True, slots=True, kw_only=True)
class _Entry:
    key: str  #: the name to match on, with its occurrence when the name is repeated
    member: Member


def _entries(
    members: Sequence[Member], context: Context, renames: dict[str, str] | None = None
) -> list[_Entry]:
    seen: Counter[str] = Counter()
    entries = []
    for member in members:
        path = _translate(member.path, renames) if renames else member.path
        if path != member.path and context.options.excluded(path):
            continue
        seen[path] += 1
        key = path if seen[path] == 1 else f"{path} (#{seen[path]})"
        entries.append(_Entry(key=key, member=member))
    return entries


def _describe(member: Member) -> str:
    if member.kind is MemberKind.FILE:
        return f"{member.size} bytes"
    if member.link_target is not None:
        return f"{member.kind.value} to {member.link_target!r}"
    return str(member.kind.value)


def compare_archives(
    a: Item,
    b: Item,
    archive_a: Archive,
    archive_b: Archive,
    context: Context,
    *,
    container: Sequence[Difference],
    headers: HeaderFields,
    content: MemberContent,
) -> Difference:
    """The difference between two parsed archives read from ``a`` and ``b`` (whose bytes
    differ): ``container`` differences first, then folder renames, member order, and each
    member in ``a``'s order, the members only in ``b`` last.

    When nothing differs in what the model holds, the archives differ in their layout alone
    (offsets, padding, how a header was encoded): one ``container`` leaf says so.
    """
    excluded = context.options.excluded
    members_a = [member for member in archive_a.members if not excluded(member.path)]
    members_b = [member for member in archive_b.members if not excluded(member.path)]
    renames = folder_renames(members_a, members_b)
    entries_a = _entries(members_a, context, renames)
    entries_b = _entries(members_b, context)
    by_key_b = {entry.key: entry.member for entry in entries_b}
    keys_a = {entry.key for entry in entries_a}
    children: list[Difference | None] = list(container)
    for old, new in renames.items():
        children.append(
            leaf(f"{old}/", f"{new}/", Category.CONTENT, comment="the folder is renamed")
        )
    order_a = [entry.key for entry in entries_a if entry.key in by_key_b]
    order_b = [entry.key for entry in entries_b if entry.key in keys_a]
    if order_a != order_b:
        diff, cut = unified(
            order_a,
            order_b,
            name_a=a.name,
            name_b=b.name,
            max_lines=context.options.max_diff_lines,
            labels=context.options.labels,
        )
        children.append(
            leaf(
                sub(a.name, "(member order)"),
                sub(b.name, "(member order)"),
                Category.ORDER,
                comment=join_comments(
                    f"the same {len(order_a)} members in another order", cut_note(cut)
                ),
                unified_diff=diff or None,
            )
        )
    for entry in entries_a:
        member_a = entry.member
        member_b = by_key_b.get(entry.key)
        if member_b is None:
            children.append(
                leaf(
                    member_a.name,
                    entry.key,
                    Category.MISSING,
                    comment=f"only in {sides(context.options.labels)[0]} ({_describe(member_a)})",
                )
            )
            continue
        changes = _common_changes(member_a, member_b) + headers(member_a, member_b)
        found: list[Difference | None] = list(field_leaves(member_a.name, member_b.name, changes))
        if member_a.kind is member_b.kind is MemberKind.FILE:
            inside = content(member_a, member_b, context)
            if (
                inside is not None
                and inside.category is None
                and inside.comment is None
                and (inside.source_a, inside.source_b) == (member_a.name, member_b.name)
            ):
                found.extend(inside.children)  # one node per member, not two of the same name
            else:
                found.append(inside)
        children.append(group(member_a.name, member_b.name, found))
    for entry in entries_b:
        if entry.key not in keys_a:
            member = entry.member
            children.append(
                leaf(
                    member.name,
                    member.name,
                    Category.ADDED,
                    comment=f"only in {sides(context.options.labels)[1]} ({_describe(member)})",
                )
            )
    found_tree = group(a.name, b.name, children)
    if found_tree is not None:
        return found_tree
    skipped = len(archive_a.members) + len(archive_b.members) - len(entries_a) - len(entries_b)
    if skipped:
        return Difference(
            source_a=a.name,
            source_b=b.name,
            comment=f"no differences outside the {skipped} excluded members",
        )
    return Difference(
        source_a=a.name,
        source_b=b.name,
        children=(
            leaf(
                sub(a.name, "(archive structure)"),
                sub(b.name, "(archive structure)"),
                Category.CONTAINER,
                comment="the members, their headers and their content are the same; the "
                "archives differ in layout only (offsets, padding or how headers are encoded)",
            ),
        ),
    )
