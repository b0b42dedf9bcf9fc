"""Group packages at every level, count what each level saves, and name what keeps packages
apart.

Grouping is one pass: a package's manifest digest at a level is the key of its group there, so
the time is linear in the number of packages (and their members), and grouping needs only a
summary of each package (:func:`summarize`, then :func:`group`). Within each group of a level,
the packages fall into sub-groups at the level before; each sub-group after the first is
compared with the first, member by member, at that stricter level: every member that differs is
named with its class, the category of its difference (compare's categories) and the rule that
sets it aside. Packages of the same name and version that never group, even by payload, are
compared the same way at the payload level (*apart*). :class:`Explainer` makes those
comparisons, reading only the packages they name, one pair at a time.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

from reprobuild.archive import MemberKind
from reprobuild.compare import Category, CompareOptions, Difference, Item, compare
from reprobuild.dedup.levels import View, manifest_digest, view, views
from reprobuild.dedup.model import Entry, Level, MemberClass, Package
from reprobuild.dedup.rules import Rule, classify, identity, python_path

__all__ = [
    "CONTAINER_MEMBER",
    "Comparison",
    "DedupReport",
    "Explainer",
    "Group",
    "LevelResult",
    "MemberDifference",
    "PackageSummary",
    "dedup",
    "explain",
    "explained",
    "group",
    "summarize",
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
    #: the packages (paths) whose comparison at the level before makes ``why_apart_before``
    pairs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class LevelResult:
    """The groups of one level: those of more than one package (``merged``, each with its
    savings and comparisons), and how many groups there are in all (``count``: a package that
    groups with no other is a group of its own). The groups of one package are not held: they
    save nothing, and :attr:`groups` makes them again from the packages' summaries when asked."""

    level: Level
    merged: tuple[Group, ...]
    count: int
    #: the summaries the groups were made from, in the report's order
    packages: tuple[PackageSummary, ...] = field(default=(), repr=False, compare=False)

    @property
    def groups(self) -> tuple[Group, ...]:
        """Every group of the level (one per package when nothing groups), in the order of
        their first package; the groups of one package are made here, from the summaries."""
        merged = iter(self.merged)
        first: dict[bytes, int] = {}
        many: set[int] = set()
        for index, package in enumerate(self.packages):
            head = first.setdefault(package.digest(self.level), index)
            if head != index:
                many.add(head)
        found: list[Group] = []
        for index in first.values():
            if index in many:
                found.append(next(merged))
                continue
            package = self.packages[index]
            found.append(
                Group(
                    level=self.level,
                    digest=package.digest(self.level).hex(),
                    packages=(package.path,),
                    bytes_saved=0,
                    downloads_saved=0,
                )
            )
        return tuple(found)

    @property
    def bytes_saved(self) -> int:
        return sum(g.bytes_saved for g in self.merged)

    @property
    def downloads_saved(self) -> int:
        return sum(g.downloads_saved for g in self.merged)


_LEVELS = tuple(Level)


@dataclass(frozen=True, slots=True, kw_only=True)
class PackageSummary:
    """One package as the report lists it. Its digests are held as bytes, one string for
    all of them (``packed``: the file's sha256, then its manifest digest at each level in
    :class:`Level`'s order, 32 bytes each), since a summary is kept for every package."""

    path: str
    format: str
    identity: str
    size: int
    members: int
    member_bytes: int
    packed: bytes

    @property
    def sha256(self) -> str:
        """The file's sha256, in hex."""
        return self.packed[:32].hex()

    def digest(self, level: Level) -> bytes:
        """The manifest digest at ``level`` (32 bytes)."""
        start = 32 + 32 * _LEVELS.index(level)
        return self.packed[start : start + 32]

    @property
    def digests(self) -> tuple[tuple[Level, str], ...]:
        """The manifest digest at every level, in hex."""
        return tuple((level, self.digest(level).hex()) for level in _LEVELS)


@dataclass(frozen=True, slots=True, kw_only=True)
class DedupReport:
    """The outcome of :func:`dedup`: the packages, each level's groups, the packages of one
    name and version that stay apart at every level (``apart_pairs``, and their comparisons
    once made), and what a store of distinct members holds (``member_bytes``: every member's
    bytes; ``distinct_member_bytes``: each distinct content once)."""

    packages: tuple[PackageSummary, ...]
    levels: tuple[LevelResult, ...]
    apart: tuple[Comparison, ...]
    member_bytes: int
    distinct_member_bytes: int
    apart_pairs: tuple[tuple[str, str], ...] = ()

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


def summarize(
    package: Package, found: Mapping[Level, View] | None = None, *, name: str | None = None
) -> PackageSummary:
    """What grouping needs of ``package``, made in one pass over its members: its digest at
    every level, its name and version, sizes and counts (``found``: its views, and ``name``:
    its identity, when the caller made them already). The package itself can then be let go;
    :class:`Explainer` reads it again only to explain a group."""
    name = sys.intern(identity(package) if name is None else name)
    if found is None:
        found = views(package, name=name)
    packed = bytes.fromhex(package.sha256) + b"".join(
        bytes.fromhex(manifest_digest(found[level].entries, level)) for level in _LEVELS
    )
    return PackageSummary(
        path=package.path,
        format=package.format.value,
        identity=name,
        size=package.size,
        members=len(package.entries),
        member_bytes=sum(e.size for e in package.entries),
        packed=packed,
    )


def group(
    packages: Sequence[PackageSummary], *, member_bytes: int, distinct_member_bytes: int
) -> DedupReport:
    """Group summarized packages at every level, in one pass per level over their digests.

    Each group of more than one package lists the pairs of packages to compare at the level
    before (:attr:`Group.pairs`: the first package of its first sub-group against the first of
    each other), and the report the pairs of one name and version that never group
    (:attr:`DedupReport.apart_pairs`); the comparisons themselves are left to
    :class:`Explainer`, which reads only the packages they name."""
    summaries = tuple(packages)
    levels: list[LevelResult] = []
    for level in Level:
        # each group by its first package; the others of the groups of more than one
        first: dict[bytes, int] = {}
        others: dict[int, list[int]] = {}
        for index, package in enumerate(packages):
            head = first.setdefault(package.digest(level), index)
            if head != index:
                others.setdefault(head, []).append(index)
        count = len(first)
        del first
        groups = []
        stricter = level.stricter
        for head in sorted(others):
            members = [head, *others[head]]
            sizes = [packages[i].size for i in members]
            pairs: tuple[tuple[str, str], ...] = ()
            if stricter is not None:
                sub: dict[bytes, int] = {}
                for i in members:
                    sub.setdefault(packages[i].digest(stricter), i)
                top, *rest = sub.values()
                pairs = tuple((packages[top].path, packages[i].path) for i in rest)
            groups.append(
                Group(
                    level=level,
                    digest=packages[head].digest(level).hex(),
                    packages=tuple(packages[i].path for i in members),
                    bytes_saved=sum(sizes) - min(sizes),
                    downloads_saved=len(sizes) - 1,
                    pairs=pairs,
                )
            )
        levels.append(
            LevelResult(level=level, merged=tuple(groups), count=count, packages=summaries)
        )
    by_name: dict[str, dict[bytes, int]] = {}
    for index, package in enumerate(packages):
        if package.identity:
            by_name.setdefault(package.identity, {}).setdefault(
                package.digest(Level.PAYLOAD), index
            )
    apart: list[tuple[str, str]] = []
    for heads in by_name.values():
        one, *rest = heads.values()
        apart.extend((packages[one].path, packages[i].path) for i in rest)
    return DedupReport(
        packages=summaries,
        levels=tuple(levels),
        apart=(),
        apart_pairs=tuple(apart),
        member_bytes=member_bytes,
        distinct_member_bytes=distinct_member_bytes,
    )


Loaded = tuple[Package, Mapping[Level, View]]


class Explainer:
    """Makes the comparisons a grouped report names, reading each package through ``load``
    (by path) when a comparison needs it, and making its views; or, with ``loaded``, reading
    the package with the views made when it was summarized (its bytes kept for the rules, its
    views at every level), so that they are not made twice. The views of the last few packages
    are kept: the first package of a group is compared with each of the others in turn."""

    __slots__ = ("_keep", "_load", "_loaded", "_recent")

    def __init__(
        self,
        load: Callable[[str], Package],
        *,
        keep: int = 2,
        loaded: Callable[[str], Loaded] | None = None,
    ) -> None:
        self._load = load
        self._loaded = loaded
        self._keep = max(keep, 2)
        self._recent: dict[str, Loaded] = {}

    def _package(self, path: str) -> Loaded:
        found = self._recent.pop(path, None)
        if found is None and self._loaded is not None:
            found = self._loaded(path)
        elif found is None:
            package = self._load(path)
            found = (package, views(package))
        self._recent[path] = found
        while len(self._recent) > self._keep:
            del self._recent[next(iter(self._recent))]
        return found

    def compare(self, a: str, b: str, level: Level) -> Comparison:
        """Why the packages at paths ``a`` and ``b`` differ at ``level``."""
        pa, va = self._package(a)
        pb, vb = self._package(b)
        made = {id(pa): va, id(pb): vb}

        def view_of(package: Package, at: Level) -> View:
            return made[id(package)][at]

        return _explain(pa, pb, level, view_of)

    def why_apart(self, group: Group) -> Iterator[Comparison]:
        """Why the sub-groups of ``group`` differ at the level before its own, one pair at a
        time (the group's own comparisons, when it has them)."""
        if group.why_apart_before or not group.pairs:
            yield from group.why_apart_before
            return
        stricter = group.level.stricter
        assert stricter is not None
        for a, b in group.pairs:
            yield self.compare(a, b, stricter)

    def apart(self, report: DedupReport) -> Iterator[Comparison]:
        """Why the packages of one name and version that never group differ (the report's own
        comparisons, when it has them)."""
        if report.apart or not report.apart_pairs:
            yield from report.apart
            return
        for a, b in report.apart_pairs:
            yield self.compare(a, b, Level.PAYLOAD)


def dedup(packages: Iterable[Package]) -> DedupReport:
    """Group ``packages`` (held in memory) at every level and explain what keeps the groups
    apart. :class:`reprobuild.dedup.stream.Scan` does the same for any number of packages in
    bounded memory."""
    listed = list(packages)
    made: dict[str, Loaded] = {p.path: (p, views(p)) for p in listed}
    summaries = [summarize(p, made[p.path][1]) for p in listed]
    sizes: dict[str, int] = {}
    total = 0
    for package in listed:
        for entry in package.entries:
            if entry.kind is MemberKind.FILE:
                total += entry.size
                sizes[entry.sha256] = entry.size
    report = group(summaries, member_bytes=total, distinct_member_bytes=sum(sizes.values()))
    explainer = Explainer(lambda path: made[path][0], keep=len(made), loaded=made.__getitem__)
    return explained(report, explainer)


def explained(report: DedupReport, explainer: Explainer) -> DedupReport:
    """``report`` with every comparison made (held in memory)."""
    levels = tuple(
        replace(
            result,
            merged=tuple(
                replace(g, why_apart_before=tuple(explainer.why_apart(g))) if g.pairs else g
                for g in result.merged
            ),
        )
        for result in report.levels
    )
    return replace(report, levels=levels, apart=tuple(explainer.apart(report)))
