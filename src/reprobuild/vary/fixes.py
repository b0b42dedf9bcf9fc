"""The catalogue of known causes: from a culprit variation and what differs, the fix.

Each rule names the variation it explains, a test over the difference between the control's
artifact and the experiment's (its categories, its members, strings in its diffs), and one
sentence a maintainer can act on. Rules are tried in order; every rule that matches gives its
sentence, and a culprit no rule explains gets a plain one naming what it changes.

The same catalogue says which variations are *suspects* for a difference (:func:`suspects`):
those known to leave the marks it shows. The search for culprits tries them first, each alone.

Pure: it reads a difference tree, nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from reprobuild.compare.difference import Category, Difference
from reprobuild.compare.nodes import times_shown

__all__ = [
    "RULES",
    "Evidence",
    "Rule",
    "differing_members",
    "evidence_of",
    "fixes_for",
    "random_fix",
    "suspects",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    """What a rule looks at: the artifact's kind, each differing member with its categories,
    the text of every diff and comment, and the strings the experiment put in the build
    (``markers``: ``build-path`` -> the folders it built in, ``hostname`` -> its host name...).
    """

    kind: str  #: "sdist" or "wheel"
    members: Mapping[str, frozenset[Category]]
    text: str
    markers: Mapping[str, tuple[str, ...]]
    #: how far each differing time moved (seconds, the experiment's less the control's), one
    #: per time or container difference; None where it shows no time (a gzip header's OS)
    time_moves: tuple[int | None, ...] = ()

    @property
    def categories(self) -> frozenset[Category]:
        return frozenset().union(*self.members.values()) if self.members else frozenset()

    def mentions(self, marker: str) -> bool:
        """True when a diff shows one of the strings of ``marker``."""
        return any(s and s in self.text for s in self.markers.get(marker, ()))

    def named(self, limit: int = 3) -> str:
        """The differing members, the first few by name (for a sentence)."""
        names = [_short(m) for m in self.members]
        # RECORD lists every file's digest: it differs whenever another file does
        consequences = [n for n in names if n.endswith(".dist-info/RECORD")]
        if len(consequences) < len(names):
            names = [n for n in names if n not in consequences]
        if not names:
            return f"the {self.kind}"
        shown = ", ".join(names[:limit])
        return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")

    def with_category(self, *categories: Category) -> Evidence:
        """The same evidence, keeping only the members that differ in one of ``categories``."""
        wanted = set(categories)
        return Evidence(
            kind=self.kind,
            members={m: c for m, c in self.members.items() if c & wanted},
            text=self.text,
            markers=self.markers,
            time_moves=self.time_moves,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    variation: str
    applies: Callable[[Evidence], bool]
    fix: Callable[[Evidence], str]


def _short(member: str) -> str:
    """A member's name without the sdist's top folder."""
    head, _, rest = member.partition("/")
    top = rest and "-" in head and not head.endswith((".dist-info", ".data"))
    return rest if top else member


def _has(*categories: Category) -> Callable[[Evidence], bool]:
    return lambda ev: bool(ev.categories & set(categories))


def _metadata_order(ev: Evidence) -> bool:
    return any(
        Category.METADATA_ORDER in cats or Category.CONTENT in cats
        for member, cats in ev.members.items()
        if member.endswith(("/METADATA", "/PKG-INFO", "PKG-INFO", "/requires.txt"))
    )


_T, _C = Category.TIMESTAMP, Category.CONTAINER

RULES: tuple[Rule, ...] = (
    Rule(
        variation="clock",
        applies=lambda ev: ev.kind == "sdist" and bool(ev.categories & {_T, _C}),
        fix=lambda ev: (
            "the sdist's gzip header and member times come from the clock: set "
            "SOURCE_DATE_EPOCH when building it (the last commit's time: git log -1 "
            "--format=%ct), or build with `reprobuild build`"
        ),
    ),
    Rule(
        variation="clock",
        applies=lambda ev: ev.kind == "wheel" and bool(ev.categories & {_T, _C}),
        fix=lambda ev: (
            "the wheel's member times come from the clock (the files the build writes, such "
            f"as {ev.with_category(_T, _C).named()}, carry the time they were written): set "
            "SOURCE_DATE_EPOCH when building it, or build with `reprobuild build`"
        ),
    ),
    Rule(
        variation="clock",
        applies=_has(Category.CONTENT),
        fix=lambda ev: (
            "the date or time of the build is written into "
            f"{ev.with_category(Category.CONTENT).named()}: take it from SOURCE_DATE_EPOCH "
            "when that is set, or leave it out"
        ),
    ),
    Rule(
        variation="source-times",
        applies=_has(_T, _C),
        fix=lambda ev: (
            f"the {ev.kind}'s member times are the source files' modification "
            "times, which a fresh checkout sets to the time of the checkout: set "
            "SOURCE_DATE_EPOCH so that the backend writes that time instead, or build with "
            "`reprobuild build`"
        ),
    ),
    Rule(
        variation="timezone",
        applies=_has(_T, _C),
        fix=lambda ev: (
            f"the {ev.kind} stores its member times in local time (a zip records "
            "no time zone): build with TZ=UTC, or set SOURCE_DATE_EPOCH, or build with "
            "`reprobuild build`"
        ),
    ),
    Rule(
        variation="timezone",
        applies=_has(Category.CONTENT),
        fix=lambda ev: (
            "a local date or time is written into "
            f"{ev.with_category(Category.CONTENT).named()}: write it in UTC"
        ),
    ),
    Rule(
        variation="umask",
        applies=_has(Category.PERMISSIONS, Category.CONTENT),
        fix=lambda ev: (
            f"the {ev.kind}'s file modes follow the umask of the build (the backend "
            "keeps the mode each file has on disk, and new files get theirs from the umask): "
            "build with umask 022, or build with `reprobuild build`"
        ),
    ),
    Rule(
        variation="hash-seed",
        applies=_metadata_order,
        fix=lambda ev: (
            "`Requires-Dist` order follows PYTHONHASHSEED: setup.py builds "
            "`install_requires` from a set; give it a list (or sorted(...)) instead"
        ),
    ),
    Rule(
        variation="hash-seed",
        applies=lambda ev: not _metadata_order(ev),
        fix=lambda ev: (
            f"the order of items in {ev.named()} follows PYTHONHASHSEED: the build "
            "iterates over a set (or a dict keyed by hashed values) to write them; sort them first"
        ),
    ),
    Rule(
        variation="build-path",
        applies=lambda ev: ev.mentions("build-path"),
        fix=lambda ev: (
            f"the {ev.kind} embeds the build path in {ev.named()}: a generated file "
            "writes `__file__` (or another absolute path) at build time; write a path relative to "
            "the package, or compute it when the module is imported"
        ),
    ),
    Rule(
        variation="build-path",
        applies=lambda ev: not ev.mentions("build-path"),
        fix=lambda ev: (
            f"the folder the project is built in changes {ev.named()}: look for paths "
            "computed at build time"
        ),
    ),
    Rule(
        variation="working-folder",
        applies=lambda ev: True,
        fix=lambda ev: (
            f"TMPDIR changes {ev.named()}: the build writes the path of a temporary file "
            "or folder into it; leave it out"
        ),
    ),
    Rule(
        variation="user-home",
        applies=lambda ev: ev.mentions("user"),
        fix=lambda ev: (
            f"the name of the user who built it is written into {ev.named()} "
            "(getpass.getuser(), $USER or $LOGNAME): leave it out, or take it from the "
            "project's configuration"
        ),
    ),
    Rule(
        variation="user-home",
        applies=lambda ev: not ev.mentions("user"),
        fix=lambda ev: (
            f"HOME or the user's name changes {ev.named()}: the build reads a user's "
            "configuration, or writes the path of a home folder; leave it out"
        ),
    ),
    Rule(
        variation="hostname",
        applies=lambda ev: True,
        fix=lambda ev: (
            "the host name of the machine that built it is written into "
            f"{ev.named()} (socket.gethostname(), platform.node()): leave it out"
        ),
    ),
    Rule(
        variation="locale",
        applies=lambda ev: True,
        fix=lambda ev: (
            f"the locale (LC_ALL, LANG) changes {ev.named()}: open files with "
            "encoding='utf-8', and do not sort or format with the locale"
        ),
    ),
    Rule(
        variation="file-order",
        applies=lambda ev: True,
        fix=lambda ev: (
            f"the order in {ev.named()} follows the order a folder is listed in: "
            "sort the results of os.listdir, os.scandir, glob and os.walk"
        ),
    ),
    Rule(
        variation="cpu-count",
        applies=lambda ev: True,
        fix=lambda ev: (
            f"the number of CPUs changes {ev.named()}: parallel steps write in the order "
            "they finish; sort their results, or build with one job"
        ),
    ),
    Rule(
        variation="environment",
        applies=lambda ev: True,
        fix=lambda ev: (
            f"environment variables of the build are written into {ev.named()}: record "
            "only the ones the project needs, or none"
        ),
    ),
)


def fixes_for(variations: Sequence[str], evidence: Evidence) -> list[str]:
    """The sentences of the rules that explain ``variations`` (a culprit) changing an
    artifact as ``evidence`` shows; one plain sentence when none does."""
    found = [
        rule.fix(evidence)
        for rule in RULES
        if len(variations) == 1 and rule.variation == variations[0] and rule.applies(evidence)
    ]
    if found:
        return found
    what = " and ".join(variations)
    kinds = ", ".join(sorted(c.value for c in evidence.categories)) or "its bytes"
    together = " together" if len(variations) > 1 else ""
    return [
        f"varying {what}{together} changes {evidence.named()} ({kinds}): make the build "
        f"independent of {'them' if len(variations) > 1 else 'it'}"
    ]


#: The variations known to leave each kind of mark: member or header times come from the
#: clock or from the source files' times (and from local time: see :func:`_zone_moved`);
#: modes from the umask; owners from the user; orders from the hash seed or from how a
#: folder lists its files.
_LEAVE_MARKS: Mapping[Category, tuple[str, ...]] = {
    Category.TIMESTAMP: ("clock", "source-times"),
    Category.CONTAINER: ("clock", "source-times"),
    Category.PERMISSIONS: ("umask",),
    Category.OWNERSHIP: ("user-home",),
    Category.ORDER: ("hash-seed", "file-order"),
    Category.METADATA_ORDER: ("hash-seed", "file-order"),
}

#: The variations whose own strings (see :attr:`Evidence.markers`) a diff may show.
_MARKED = ("build-path", "working-folder", "user-home", "hostname")


def suspects(evidence: Evidence, shifts: Mapping[str, int] | None = None) -> frozenset[str]:
    """The variations known to leave the marks ``evidence`` shows: its categories (times,
    modes, owners, orders), a reordered ``Requires-Dist``, and the experiment's own strings
    (its build path, TMPDIR, HOME or user name, host name) in a diff. The time zone is
    suspected for moved times only when one moved by the zone's share (see
    :func:`_zone_moved`; always without ``shifts``, the variations' moves in seconds).

    Content that differs without such a string points to no variation in particular (the
    clock, the locale, randomness...): it adds no suspect. A suspect is only where the search
    looks first; every variation is still tried (see :mod:`reprobuild.vary.attribute`).
    """
    found: set[str] = set()
    for category in evidence.categories:
        found.update(_LEAVE_MARKS.get(category, ()))
    if evidence.categories & {Category.TIMESTAMP, Category.CONTAINER} and _zone_moved(
        evidence.time_moves, shifts
    ):
        found.add("timezone")
    if _metadata_order(evidence):
        found.add("hash-seed")
    found.update(name for name in _MARKED if evidence.mentions(name))
    return frozenset(found)


def _zone_moved(moves: Sequence[int | None], shifts: Mapping[str, int] | None) -> bool:
    """Whether a time may have moved by the time zone: one of ``moves`` is not a sum of the
    other variations' ``shifts`` (modulo a day, see
    :data:`reprobuild.vary.variations.TIME_SHIFTS`), or ``moves`` does not say.

    Only local time adds the zone's offset. The clock and the source files' times add their
    own shifts, or whole days: the control's sources were written a day before its clock, and
    the clock shim shows a file newer than the build's start (a source file moved ahead) at
    the clock's instant; so the part of a move below a day tells whether the zone is in it.
    """
    if not shifts or "timezone" not in shifts or not moves:
        return True
    day = 86400
    others = [shift for name, shift in shifts.items() if name != "timezone"]
    without = {0}
    for shift in others:
        without |= {(total + shift) % day for total in without}
    return any(move is None or move % day not in without for move in moves)


def random_fix(evidence: Evidence) -> str:
    """The sentence for an artifact that differs between two builds of the control."""
    return (
        "the build is random on its own: two builds in one environment differ in "
        f"{evidence.named(limit=5)}; look for random numbers, UUIDs, or a clock read outside "
        "Python"
    )


def differing_members(diff: Difference, archive: str) -> dict[str, frozenset[Category]]:
    """Each member (or header of the archive) that differs, with its categories, in order."""
    found: dict[str, set[Category]] = {}
    for leaf in diff.leaves():
        parts = leaf.source_a.split(" › ")
        if parts[0] in (archive, archive.removesuffix(".gz")) and len(parts) > 1:
            member = f"{archive} {parts[1]}" if parts[1].startswith("(") else parts[1]
        else:
            member = parts[0]
        if leaf.category is not None:
            found.setdefault(member, set()).add(leaf.category)
    return {m: frozenset(c) for m, c in found.items()}


def evidence_of(
    diff: Difference | None, *, kind: str, archive: str, markers: Mapping[str, tuple[str, ...]]
) -> Evidence:
    """The evidence a difference tree gives about one artifact."""
    if diff is None:
        return Evidence(kind=kind, members={}, text="", markers=markers)
    texts: list[str] = []
    for node in diff.walk():
        texts.extend(t for t in (node.unified_diff, node.comment) if t)
    moves: list[int | None] = []
    for leaf in diff.leaves():
        if leaf.category in (Category.TIMESTAMP, Category.CONTAINER):
            shown = times_shown(leaf.comment or "")
            moves.extend([round(b - a) for a, b in shown] or [None])
    return Evidence(
        kind=kind,
        members=differing_members(diff, archive),
        text="\n".join(texts),
        markers=markers,
        time_moves=tuple(moves),
    )
