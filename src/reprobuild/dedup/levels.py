"""What a package is at each level: a *view* (its members as that level sees them) and the
view's *manifest digest*. Two packages share a group at a level exactly when their digests
there are equal.

Each view is made from the one before it (``members`` from the package, ``canonical`` from
``members``, ``payload`` from ``canonical``), so packages equal at one level are equal at every
later one: each level groups at least what the one before groups.

Pure: no clock, environment, network or subprocess.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from hashlib import sha256

from reprobuild.archive import MemberKind
from reprobuild.dedup.model import Entry, Level, Package
from reprobuild.dedup.rules import (
    RULES,
    RULES_DIGEST,
    Rule,
    bytecode,
    entry_point,
    identity,
    python_path,
    rule_for,
)

__all__ = ["IDENTITY_MEMBER", "View", "manifest_digest", "view", "views"]

#: The member of a payload view that holds the package's name and version.
IDENTITY_MEMBER = "(identity)"
_RULES = {rule.name: rule for rule in RULES}


@dataclass(frozen=True, slots=True, kw_only=True)
class View:
    """A package's members at one level, sorted by path, with the rule that changed each
    member it changed (by the member's path in the view; dropped members by their own)."""

    level: Level
    entries: tuple[Entry, ...]
    changed: tuple[tuple[str, str], ...] = ()

    def entry(self, path: str) -> Entry | None:
        for entry in self.entries:
            if entry.path == path:
                return entry
        return None

    def rules(self) -> dict[str, Rule]:
        """The rule that changed each member, by path."""
        return {path: _RULES[name] for path, name in self.changed}


def manifest_digest(entries: Iterable[Entry], level: Level) -> str:
    """The sha256 of a view's members: path, kind, executable bit, content digest and link
    target of each, sorted by path; the rules' names and versions for canonical levels."""
    head = level.value + "\n"
    if level in (Level.CANONICAL, Level.PAYLOAD):
        head += RULES_DIGEST + "\n"
    lines = [
        f"{e.path}\0{e.kind.value}\0{'x' if e.executable else '-'}\0{e.sha256}\0"
        f"{e.link_target or ''}\n"
        for e in sorted(entries, key=_path)
    ]
    return sha256((head + "".join(lines)).encode("utf-8", "surrogateescape")).hexdigest()


def _path(entry: Entry) -> str:
    return entry.path


def view(package: Package, level: Level) -> View:
    """``package``'s members as ``level`` sees them."""
    if level is Level.BYTES:
        whole = Entry(path=package.name, size=package.size, sha256=package.sha256)
        return View(level=level, entries=(whole,))
    members = _members(package)
    if level is Level.MEMBERS:
        return members
    canonical = _canonical(package, members)
    if level is Level.CANONICAL:
        return canonical
    return _payload(package, canonical, identity(package))


def views(package: Package, *, name: str | None = None) -> dict[Level, View]:
    """``package``'s members at every level, each made once from the one before. ``name`` is
    the package's :func:`~reprobuild.dedup.rules.identity` when the caller has it already."""
    members = _members(package)
    canonical = _canonical(package, members)
    return {
        Level.BYTES: view(package, Level.BYTES),
        Level.MEMBERS: members,
        Level.CANONICAL: canonical,
        Level.PAYLOAD: _payload(package, canonical, identity(package) if name is None else name),
    }


def _members(package: Package) -> View:
    """Every member but the folders that hold others (a container lists those or not, as it
    likes): path, kind, executable bit and content, whatever the container."""
    parents: set[str] = set()
    for entry in package.entries:
        path = entry.path
        cut = path.rfind("/")
        while cut >= 0:
            parent = path[:cut]
            if parent in parents:  # and so are all of its own parents
                break
            parents.add(parent)
            cut = path.rfind("/", 0, cut)
    kept = [
        replace(e, prefix_sha256=None) if e.prefix_sha256 else e
        for e in package.entries
        if not (e.kind is MemberKind.DIR and e.path in parents)
    ]
    kept.sort(key=_path)
    return View(level=Level.MEMBERS, entries=tuple(kept))


def _with_content(entry: Entry, data: bytes) -> Entry:
    return replace(entry, size=len(data), sha256=sha256(data).hexdigest())


def _canonical(package: Package, members: View) -> View:
    prefixes = {e.path: e.prefix_sha256 for e in package.entries if e.prefix_sha256}
    entries: list[Entry] = []
    changed: list[tuple[str, str]] = []
    for entry in members.entries:
        if entry.path in prefixes and package.format.conda:
            digest = prefixes[entry.path]
            if digest is not None and digest != entry.sha256:
                entries.append(replace(entry, sha256=digest))
                changed.append((entry.path, "conda-prefix"))
                continue
        rule = rule_for(entry.path, package.format, Level.CANONICAL)
        data = package.content(entry.path) if rule is not None else None
        if rule is None or rule.transform is None or data is None:
            entries.append(entry)
            continue
        try:
            result = rule.transform(data, package)
        except (ValueError, UnicodeError):
            result = data  # not what the rule reads: compared as it is
        if result is None:
            changed.append((entry.path, rule.name))
            continue
        if result != data:
            changed.append((entry.path, rule.name))
        entries.append(_with_content(entry, result))
    return View(level=Level.CANONICAL, entries=tuple(entries), changed=tuple(changed))


def _payload(package: Package, canonical: View, identity_name: str) -> View:
    """The installed payload: metadata and byte code dropped, Python-version paths mapped,
    entry-point scripts read as what they call, the name and version as one member."""
    entries: dict[str, Entry] = {}
    changed: list[tuple[str, str]] = []

    def add(entry: Entry, rule: str | None = None, source: str | None = None) -> None:
        if rule is not None:
            changed.append((source or entry.path, rule))
        if entry.path in entries:  # two Python versions' copies of one file: keep the first
            return
        entries[entry.path] = entry

    for name, command in _noarch_entry_points(package):
        point = Entry(path=f"bin/{name}", executable=True)
        add(_with_content(point, f"entry point {command}\n".encode()), "entry-points")
    for entry in canonical.entries:
        if _RULES["package-metadata"].applies(entry.path, package.format):
            changed.append((entry.path, "package-metadata"))
            continue
        if bytecode(entry.path):
            changed.append((entry.path, "bytecode"))
            continue
        path = python_path(entry.path)
        moved = replace(entry, path=path) if path != entry.path else entry
        script = package.content(entry.path) if path.startswith("bin/") else None
        target = entry_point(script) if script is not None and package.format.conda else None
        if target is not None:
            point = _with_content(
                replace(moved, executable=True), f"entry point {target}\n".encode()
            )
            add(point, "entry-points", entry.path)
        elif moved is not entry:
            add(moved, "python-path", entry.path)
        else:
            add(moved)
    add(_with_content(Entry(path=IDENTITY_MEMBER), identity_name.encode()))
    return View(
        level=Level.PAYLOAD,
        entries=tuple(sorted(entries.values(), key=lambda e: e.path)),
        changed=tuple(changed),
    )


def _noarch_entry_points(package: Package) -> list[tuple[str, str]]:
    """The entry points a noarch python package asks conda to write at install
    (``info/link.json``), as (command, ``module:function``)."""
    import json

    data = package.content("info/link.json") if package.format.conda else None
    if data is None:
        return []
    try:
        value = json.loads(data)
    except ValueError:
        return []
    noarch = value.get("noarch") if isinstance(value, dict) else None
    points = noarch.get("entry_points") if isinstance(noarch, dict) else None
    found = []
    for point in points if isinstance(points, list) else []:
        if isinstance(point, str) and "=" in point:
            command, _, target = point.partition("=")
            found.append((command.strip(), target.strip().replace(" ", "")))
    return found
