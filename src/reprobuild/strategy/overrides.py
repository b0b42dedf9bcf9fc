"""Recipe overrides: what no artifact records, written down once per project.

An override file is ``<project>.toml`` (the project's normalized name) in a recipe folder:
reprobuild's own (``reprobuild/recipes/``, shipped with the package) and the user's
(``--recipes DIR``, searched first). It holds ``[[override]]`` tables; the first one whose
``versions`` specifier holds the release applies::

    [[override]]
    versions = ">=7.16.1,<8"          # PEP 440 specifier set of the releases it fits
    reason = "why: one sentence"      # shown in every result that used it
    steps = [                         # run in the unpacked sdist before the wheel is built
        { gzip = "docs/man/ipython.1", to = "docs/man/ipython.1.gz", level = 9 },
    ]

The only step is ``gzip`` (as ``gzip -<level>c SOURCE > TO``): steps are values reprobuild
knows how to run, never shell commands. Results always say when an override was used.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from reprobuild.errors import UsageError
from reprobuild.strategy.recipe import GzipStep

__all__ = ["Override", "find_override", "parse_overrides"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Override:
    """One ``[[override]]`` table: the releases it fits, why, and its steps; ``origin`` names
    the file it came from."""

    versions: str
    reason: str
    steps: tuple[GzipStep, ...]
    origin: str


def parse_overrides(text: str, *, origin: str) -> tuple[Override, ...]:
    """The overrides of one recipe file; a malformed file is refused with its name."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"not valid TOML: {exc}", path=origin) from None
    tables = doc.get("override", [])
    if not isinstance(tables, list):
        raise UsageError("'override' must be an array of tables ([[override]])", path=origin)
    out = []
    for number, table in enumerate(tables, 1):
        where = f"override #{number}"
        if not isinstance(table, dict):
            raise UsageError(f"{where} is not a table", path=origin)
        versions = table.get("versions", "")
        reason = table.get("reason")
        if not isinstance(versions, str) or not isinstance(reason, str) or not reason:
            raise UsageError(f"{where} needs 'versions' and 'reason' strings", path=origin)
        try:
            SpecifierSet(versions)
        except InvalidSpecifier:
            raise UsageError(
                f"{where}: not a version specifier: {versions!r}", path=origin
            ) from None
        steps = []
        for raw in table.get("steps", []):
            if not isinstance(raw, dict) or set(raw) - {"gzip", "to", "level"}:
                raise UsageError(
                    f"{where}: a step is {{ gzip = SOURCE, to = TARGET, level = N }}",
                    path=origin,
                )
            source, target, level = raw.get("gzip"), raw.get("to"), raw.get("level", 9)
            if not isinstance(source, str) or not isinstance(target, str):
                raise UsageError(f"{where}: a gzip step needs 'gzip' and 'to'", path=origin)
            if not isinstance(level, int) or not 1 <= level <= 9:
                raise UsageError(f"{where}: a gzip level is 1 to 9", path=origin)
            steps.append(GzipStep(source=source, target=target, level=level))
        out.append(Override(versions=versions, reason=reason, steps=tuple(steps), origin=origin))
    return tuple(out)


def find_override(
    name: str, version: str, *, folders: Sequence[Path] = (), shipped: bool = True
) -> Override | None:
    """The override for release ``name`` ``version``: from ``folders`` first, then reprobuild's
    own recipes (unless ``shipped`` is False); None when no file has one that fits."""
    stem = canonicalize_name(name)
    try:
        release = Version(version)
    except InvalidVersion:
        return None
    texts: list[tuple[str, str]] = []
    for folder in folders:
        path = Path(folder) / f"{stem}.toml"
        if path.is_file():
            try:
                texts.append((path.read_text(encoding="utf-8"), str(path)))
            except (OSError, UnicodeError) as exc:
                raise UsageError(f"cannot read: {exc}", path=str(path)) from exc
    if shipped:
        packaged = resources.files("reprobuild") / "recipes" / f"{stem}.toml"
        if packaged.is_file():
            texts.append((packaged.read_text(encoding="utf-8"), f"reprobuild/recipes/{stem}.toml"))
    for text, origin in texts:
        for override in parse_overrides(text, origin=origin):
            if SpecifierSet(override.versions).contains(release, prereleases=True):
                return override
    return None
