"""Group packages at every level, count what each level saves, and name what keeps packages
apart.

Grouping is one pass: a package's manifest digest at a level is the key of its group there, so
the time is linear in the number of packages (and their members). Within each group of a level,
the packages fall into sub-groups at the level before; each sub-group after the first is
compared with the first, member by member, at that stricter level: every member that differs is
named with its class, the category of its difference (compare's categories) and the rule that
sets it aside. Packages of the same name and version that never group, even by payload, are
compared the same way at the payload level (*apart*).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from reprobuild.compare import Category, CompareOptions, Difference, Item, compare
from reprobuild.dedup.levels import View, manifest_digest, view, views
from reprobuild.dedup.model import Entry, Level, MemberClass, Package
from reprobuild.dedup.rules import Rule, classify, identity, python_path

__all__ = [
    "CONTAINER_MEMBER",
    "Comparison",
    "DedupReport",
    "Group",
    "LevelResult",
    "MemberDifference",
    "PackageSummary",
    "dedup",
    "explain",
]

#: The pseudo-member of a difference in the container only (same members, another file).
CONTAINER_MEMBER = "(container)"
_OPTIONS = CompareOptions(max_diff_lines=40)


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberDifference:
    """One member that keeps two packages apart: its path, class, the category of its
    difference, the rule of the next level that sets it aside (None when none does), and a
    comment (with compare's difference tree when both sides' bytes were read)."""

    path: str
    member_class: MemberClass
    category: Category
    rule: str | None
    comment: str
    difference: Difference | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparison:
    """Why ``a`` and ``b`` (package paths) differ at ``level``."""

    a: str
    b: str
    level: Level
    members: tuple[MemberDifference, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Group:
    """Packages that are the same at ``level``, with what one copy of them saves, and why its
    sub-groups at the level before differ."""

    level: Level
    digest: str
    packages: tuple[str, ...]
    bytes_saved: int
    downloads_saved: int
    why_apart_before: tuple[Comparison, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class LevelResult:
    """Every group of one level (one per package when nothing groups), and their savings."""

    level: Level
    groups: tuple[Group, ...]

    @property
    def merged(self) -> tuple[Group, ...]:
        """The groups of more than one package."""
        return tuple(g for g in self.groups if len(g.packages) > 1)

    @property
    def bytes_saved(self) -> int:
        return sum(g.bytes_saved for g in self.groups)

    @property
    def downloads_saved(self) -> int:
        return sum(g.downloads_saved for g in self.groups)


@dataclass(frozen=True, slots=True, kw_only=True)
class PackageSummary:
    """One package as the report lists it."""

    path: str
    format: str
    identity: str
    size: int
    sha256: str
    members: int
    member_bytes: int
    digests: tuple[tuple[Level, str], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class DedupReport:
    """The outcome of :func:`dedup`: the packages, each level's groups, the packages of one
    name and version that stay apart at every level, and what a store of distinct members
    holds (``member_bytes``: every member's bytes; ``distinct_member_bytes``: each distinct
    content once)."""

    packages: tuple[PackageSummary, ...]
    levels: tuple[LevelResult, ...]
    apart: tuple[Comparison, ...]
    member_bytes: int
    distinct_member_bytes: int

    def level(self, level: Level) -> LevelResult:
        for result in self.levels:
            if result.level is level:
                return result
        raise KeyError(level)


def _differences(
    a: Package, b: Package, va: View, vb: View, weaker_a: View | None, weaker_b: View | None
) -> tuple[MemberDifference, ...]:
    """The members that differ between ``va`` and ``vb`` (views at one level), each with the
    rule of the weaker views that sets it aside, if any."""
    rules = {**(weaker_b.rules() if weaker_b else {}), **(weaker_a.rules() if weaker_a else {})}
    ea = {e.path: e for e in va.entries}
    eb = {e.path: e for e in vb.entries}
    found: list[MemberDifference] = []
    if va.level is Level.CANONICAL:
        found += _moved(ea, eb, rules)
    for path in sorted(set(ea) | set(eb)):
        x, y = ea.get(path), eb.get(path)
        if x == y:
            continue
        rule = rules.get(path)
        member_class = rule.sets_aside if rule else classify(path, a.format)
        rule_name = rule.name if rule else None
        if x is None or y is None:
            category = Category.ADDED if x is None else Category.MISSING
            side = a.name if x is None else b.name
            found.append(
                MemberDifference(
                    path=path,
                    member_class=member_class,
                    category=category,
                    rule=rule_name,
                    comment=f"only in {b.name if x is None else a.name}, not in {side}",
                )
            )
            continue
        found.append(_pair(a, b, x, y, member_class, rule_name, rule.category if rule else None))
    return tuple(found)


def _moved(
    ea: dict[str, Entry], eb: dict[str, Entry], rules: dict[str, Rule]
) -> list[MemberDifference]:
    """Members at another path on each side that the payload level reads as one (the
    Python-version part of the path): one difference each, taken out of ``ea`` and ``eb``."""
    only_b = {python_path(p): p for p in eb if p not in ea}
    found = []
    for path in [p for p in ea if p not in eb]:
        other = only_b.get(python_path(path))
        if other is None or python_path(path) == path == other:
            continue
        x, y = ea.pop(path), eb.pop(other)
        same = (x.kind, x.executable, x.sha256) == (y.kind, y.executable, y.sha256)
        rule = rules.get(path) or rules.get(other)
        found.append(
            MemberDifference(
                path=f"{path} → {other}",
                member_class=rule.sets_aside if rule else MemberClass.PAYLOAD,
                category=Category.CONTENT,
                rule=rule.name if rule else None,
                comment="the same content at another path"
                if same
                else "another path, and other content",
            )
        )
    return found


def _pair(
    a: Package,
    b: Package,
    x: Entry,
    y: Entry,
    member_class: MemberClass,
    rule: str | None,
    rule_category: Category | None,
) -> MemberDifference:
    if x.kind is not y.kind:
        comment = f"a {x.kind.value} in {a.name}, a {y.kind.value} in {b.name}"
        return MemberDifference(
            path=x.path,
            member_class=member_class,
            category=Category.CONTENT,
            rule=rule,
            comment=comment,
        )
    if x.sha256 == y.sha256 and x.link_target == y.link_target:
        comment = "the executable bit: " + (
            "set in " + a.name if x.executable else "set in " + b.name
        )
        return MemberDifference(
            path=x.path,
            member_class=member_class,
            category=Category.CONTENT,
            rule=rule,
            comment=comment,
        )
    data_a, data_b = a.content(x.path), b.content(y.path)
    if data_a is not None and data_b is not None:
        tree = compare(
            Item(name=f"{a.name}/{x.path}", data=data_a),
            Item(name=f"{b.name}/{y.path}", data=data_b),
            _OPTIONS,
        )
        if tree is not None:
            leaves = list(tree.leaves())
            category = leaves[0].category if leaves and leaves[0].category else Category.CONTENT
            return MemberDifference(
                path=x.path,
                member_class=member_class,
                category=category,
                rule=rule,
                comment=tree.summary(),
                difference=tree,
            )
    if x.link_target != y.link_target:
        comment = f"links to {x.link_target!r} in {a.name}, to {y.link_target!r} in {b.name}"
    else:
        comment = f"{x.size} bytes in {a.name}, {y.size} in {b.name}, another sha256"
    return MemberDifference(
        path=x.path,
        member_class=member_class,
        category=rule_category or Category.CONTENT,
        rule=rule,
        comment=comment,
    )


def explain(a: Package, b: Package, level: Level) -> Comparison:
    """Every member that keeps ``a`` and ``b`` apart at ``level``, each with the rule of the
    next level that sets it aside (if any). At ``bytes`` the members are the same or not; a
    difference in the file alone is the container's."""
    return _explain(a, b, level, view)


_ViewOf = Callable[[Package, Level], View]


def _explain(a: Package, b: Package, level: Level, view: _ViewOf) -> Comparison:
    if level is Level.BYTES:
        members = _differences(a, b, view(a, Level.MEMBERS), view(b, Level.MEMBERS), None, None)
        if members:
            return Comparison(a=a.path, b=b.path, level=Level.MEMBERS, members=members)
        formats = (
            f"formats {a.format.value} and {b.format.value}"
            if a.format is not b.format
            else f"format {a.format.value}"
        )
        note = MemberDifference(
            path=CONTAINER_MEMBER,
            member_class=MemberClass.VOLATILE,
            category=Category.CONTAINER,
            rule=None,
            comment=f"the same members in other files ({formats}): times, order, owners, "
            "compression or container differ",
        )
        return Comparison(a=a.path, b=b.path, level=level, members=(note,))
    va, vb = view(a, level), view(b, level)
    weaker = {Level.MEMBERS: Level.CANONICAL, Level.CANONICAL: Level.PAYLOAD}.get(level)
    wa = view(a, weaker) if weaker else None
    wb = view(b, weaker) if weaker else None
    return Comparison(a=a.path, b=b.path, level=level, members=_differences(a, b, va, vb, wa, wb))


def _savings(packages: Sequence[Package]) -> tuple[int, int]:
    """What one copy of equal packages saves: the bytes of all but the smallest, and the
    downloads of all but one."""
    sizes = [p.size for p in packages]
    return sum(sizes) - min(sizes), len(sizes) - 1


def dedup(packages: Iterable[Package]) -> DedupReport:
    """Group ``packages`` at every level and explain what keeps the groups apart."""
    items = list(packages)
    made = [views(p) for p in items]
    at = {id(p): found for p, found in zip(items, made, strict=True)}

    def view_of(package: Package, level: Level) -> View:
        found = at.get(id(package))
        return found[level] if found is not None else view(package, level)

    digests: list[dict[Level, str]] = [
        {level: manifest_digest(found[level].entries, level) for level in Level} for found in made
    ]
    levels: list[LevelResult] = []
    for level in Level:
        buckets: dict[str, list[int]] = {}
        for index, found in enumerate(digests):
            buckets.setdefault(found[level], []).append(index)
        groups = []
        for digest, members in buckets.items():
            chosen = [items[i] for i in members]
            saved_bytes, saved_downloads = _savings(chosen)
            why: list[Comparison] = []
            stricter = level.stricter
            if stricter is not None and len(members) > 1:
                sub: dict[str, list[int]] = {}
                for i in members:
                    sub.setdefault(digests[i][stricter], []).append(i)
                heads = [items[indexes[0]] for indexes in sub.values()]
                why = [_explain(heads[0], other, stricter, view_of) for other in heads[1:]]
            groups.append(
                Group(
                    level=level,
                    digest=digest,
                    packages=tuple(p.path for p in chosen),
                    bytes_saved=saved_bytes,
                    downloads_saved=saved_downloads,
                    why_apart_before=tuple(why),
                )
            )
        levels.append(LevelResult(level=level, groups=tuple(groups)))
    apart = _apart(items, digests, view_of)
    sizes: dict[str, int] = {}
    total = 0
    for package in items:
        for entry in package.entries:
            if entry.kind.value == "file":
                total += entry.size
                sizes[entry.sha256] = entry.size
    summaries = tuple(
        PackageSummary(
            path=p.path,
            format=p.format.value,
            identity=identity(p),
            size=p.size,
            sha256=p.sha256,
            members=len(p.entries),
            member_bytes=sum(e.size for e in p.entries),
            digests=tuple(found.items()),
        )
        for p, found in zip(items, digests, strict=True)
    )
    return DedupReport(
        packages=summaries,
        levels=tuple(levels),
        apart=apart,
        member_bytes=total,
        distinct_member_bytes=sum(sizes.values()),
    )


def _apart(
    items: list[Package], digests: list[dict[Level, str]], view_of: _ViewOf
) -> tuple[Comparison, ...]:
    """Packages of one name and version in different payload groups: each group's first
    package compared with the first group's, at the payload level."""
    by_name: dict[str, dict[str, int]] = {}
    for index, package in enumerate(items):
        name = identity(package)
        if name:
            by_name.setdefault(name, {}).setdefault(digests[index][Level.PAYLOAD], index)
    found: list[Comparison] = []
    for heads in by_name.values():
        first, *others = heads.values()
        found.extend(_explain(items[first], items[i], Level.PAYLOAD, view_of) for i in others)
    return tuple(found)
