"""Infer a :class:`Recipe` from a published wheel (and what the index says about it).

Each rule reads one thing the wheel records and turns it into one recipe field, with the
observation as :class:`Evidence`:

- the backend and its version, from WHEEL's ``Generator:`` line (``bdist_wheel (X)`` is the
  ``wheel`` package; setuptools itself then comes from the cut-off date);
- the cut-off for build requirements, from the upload time (they resolve as they did then);
- ``SOURCE_DATE_EPOCH``, when every member carries one time, told apart from a backend's fixed
  default (a backend that wrote its default was run without it);
- the umask, from the file modes;
- the Python: the newest CPython at upload time that the release supports, or the nearest this
  machine has (the substitution is recorded).

Inference reads the artifact, never copies it: no per-member value goes into the recipe.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from reprobuild.archive import Archive, MemberKind
from reprobuild.strategy.recipe import Evidence, Recipe

__all__ = [
    "BACKEND_DEFAULT_TIMES",
    "PYTHON_RELEASES",
    "Generator",
    "infer_recipe",
    "is_pure",
    "parse_generator",
]

#: The first release of each CPython minor version (UTC dates).
PYTHON_RELEASES: tuple[tuple[str, datetime], ...] = tuple(
    (minor, datetime.fromisoformat(day).replace(tzinfo=UTC))
    for minor, day in (
        ("3.6", "2016-12-23"),
        ("3.7", "2018-06-27"),
        ("3.8", "2019-10-14"),
        ("3.9", "2020-10-05"),
        ("3.10", "2021-10-04"),
        ("3.11", "2022-10-24"),
        ("3.12", "2023-10-02"),
        ("3.13", "2024-10-07"),
        ("3.14", "2025-10-07"),
    )
)

#: Member times backends write when ``SOURCE_DATE_EPOCH`` is not set, by generator name.
BACKEND_DEFAULT_TIMES: dict[str, int] = {
    "hatchling": 1580601600,  # 2020-02-02 00:00:00 UTC
    "flit": 1451606400,  # 2016-01-01 00:00:00 UTC, for the files flit writes itself
}

#: Generator name -> the requirement that installs that backend (None: the name itself).
_BACKENDS: dict[str, str] = {
    "bdist_wheel": "wheel",
    "setuptools": "setuptools",
    "hatchling": "hatchling",
    "flit": "flit_core",
    "poetry-core": "poetry-core",
    "poetry": "poetry",
    "pdm-backend": "pdm-backend",
    "pdm-pep517": "pdm-pep517",
    "pdm": "pdm-pep517",
}

_GENERATOR = re.compile(r"^\s*(?P<name>[A-Za-z0-9_.\-]+)\s*\(?\s*(?P<version>[0-9][^)\s]*)?")


@dataclass(frozen=True, slots=True, kw_only=True)
class Generator:
    """The backend a WHEEL file names: ``name`` and ``version`` as written (version may be "")."""

    name: str
    version: str


def parse_generator(wheel_file: str) -> Generator | None:
    """The ``Generator:`` of a WHEEL file's text, or None when it has none."""
    for line in wheel_file.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() == "generator":
            match = _GENERATOR.match(value)
            if match:
                return Generator(name=match["name"], version=match["version"] or "")
    return None


def is_pure(filename: str) -> bool:
    """True when every tag of the wheel ``filename`` is ``none``-ABI and ``any``-platform."""
    try:
        _, _, _, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        return False
    return all(tag.abi == "none" and tag.platform == "any" for tag in tags)


def _dist_info_text(wheel: Archive, leaf: str) -> str | None:
    for member in wheel.members:
        parts = member.path.split("/")
        if len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == leaf:
            return member.data().decode("utf-8", "replace")
    return None


def _header(text: str, name: str) -> str | None:
    for line in text.splitlines():
        if not line.strip():
            break  # the body starts
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() == name.lower():
            return value.strip()
    return None


def infer_recipe(
    wheel: Archive,
    *,
    filename: str,
    upload_time: datetime | None,
    pythons: Sequence[str],
) -> Recipe:
    """The recipe for rebuilding the published wheel ``wheel`` (named ``filename``).

    ``upload_time`` is the index's (None for a local file: the newest member time is used for
    the cut-off instead). ``pythons`` are the interpreter versions this machine has
    (``"3.8.18"``), for choosing the nearest.
    """
    evidence: list[Evidence] = []
    requirements: list[str] = []
    wheel_text = _dist_info_text(wheel, "WHEEL") or ""
    generator = parse_generator(wheel_text)
    if generator is None:
        evidence.append(Evidence(field="requirements", value="", reason="WHEEL names no Generator"))
    else:
        package = _BACKENDS.get(generator.name.lower())
        if generator.name.lower() == "flit" and generator.version.startswith(("0.", "1.")):
            package = "flit"  # flit_core exists from flit 2
        if package and generator.version:
            requirement = f"{package}=={generator.version}"
            requirements.append(requirement)
            evidence.append(
                Evidence(
                    field="requirements",
                    value=requirement,
                    reason=f"WHEEL Generator: {generator.name} {generator.version}",
                )
            )
        else:
            evidence.append(
                Evidence(
                    field="requirements",
                    value="",
                    reason=f"WHEEL Generator {generator.name!r} is not a backend reprobuild knows",
                )
            )

    files = [m for m in wheel.members if m.kind is MemberKind.FILE]
    times = Counter(m.mtime for m in files)
    epoch: int | None = None
    if len(times) == 1:
        (only,) = times
        default_of = next(
            (
                name
                for name, value in BACKEND_DEFAULT_TIMES.items()
                if generator and generator.name.lower() == name and value == only
            ),
            None,
        )
        if default_of:
            evidence.append(
                Evidence(
                    field="source_date_epoch",
                    value="unset",
                    reason=f"every member carries {_iso(only)}, {default_of}'s own default: "
                    "built without SOURCE_DATE_EPOCH",
                )
            )
        else:
            epoch = only
            evidence.append(
                Evidence(
                    field="source_date_epoch",
                    value=str(only),
                    reason=f"all {len(files)} files carry one time, {_iso(only)}",
                )
            )
    elif times:
        evidence.append(
            Evidence(
                field="source_date_epoch",
                value="unset",
                reason=f"the files carry {len(times)} different times: built without "
                "SOURCE_DATE_EPOCH, sources keep the sdist's times",
            )
        )

    if upload_time is not None:
        cutoff = upload_time
        cutoff_reason = f"uploaded {upload_time.isoformat()}"
    else:
        cutoff = datetime.fromtimestamp(max(times, default=0), UTC)
        cutoff_reason = "no upload time (a local file): its newest member time"
    evidence.append(Evidence(field="exclude_newer", value=cutoff.isoformat(), reason=cutoff_reason))

    modes = Counter((m.mode or 0) & 0o777 for m in files)
    umask = 0o022
    if modes and all(mode & 0o020 for mode in modes):
        umask = 0o002
    evidence.append(
        Evidence(
            field="umask",
            value=f"{umask:03o}",
            reason="file modes " + ", ".join(f"{mode:o}" for mode in sorted(modes)),
        )
    )

    metadata = _dist_info_text(wheel, "METADATA") or ""
    requires_python = _header(metadata, "Requires-Python")
    wanted, wanted_reason = _wanted_python(cutoff, requires_python)
    python, python_reason = _nearest(wanted, pythons)
    evidence.append(Evidence(field="wanted_python", value=wanted, reason=wanted_reason))
    evidence.append(Evidence(field="python", value=python or "", reason=python_reason))
    return Recipe(
        requirements=tuple(requirements),
        python=python,
        wanted_python=wanted,
        source_date_epoch=epoch,
        exclude_newer=cutoff,
        umask=umask,
        evidence=tuple(evidence),
    )


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _wanted_python(cutoff: datetime, requires_python: str | None) -> tuple[str, str]:
    released = [minor for minor, day in PYTHON_RELEASES if day <= cutoff]
    candidates = list(reversed(released or [PYTHON_RELEASES[0][0]]))
    if requires_python:
        try:
            spec = SpecifierSet(requires_python)
        except InvalidSpecifier:
            spec = None
        if spec is not None:
            fitting = [m for m in candidates if spec.contains(f"{m}.0", prereleases=True)]
            if fitting:
                return fitting[0], (
                    f"the newest CPython at {cutoff.date()} within Requires-Python "
                    f"{requires_python}"
                )
    return candidates[0], f"the newest CPython at {cutoff.date()}"


def _nearest(wanted: str, pythons: Sequence[str]) -> tuple[str | None, str]:
    def minor(version: str) -> tuple[int, int] | None:
        try:
            release = Version(version).release
        except InvalidVersion:
            return None
        return (release[0], release[1]) if len(release) >= 2 else None

    target = minor(wanted)
    have = [(minor(v), v) for v in pythons]
    usable = [(m, v) for m, v in have if m is not None]
    if target is None or not usable:
        return None, "no interpreter found: the one running reprobuild"
    exact = [v for m, v in usable if m == target]
    if exact:
        return exact[0], f"this machine has Python {exact[0]}"
    best = min(usable, key=lambda mv: (abs(mv[0][1] - target[1]), -mv[0][1]))[1]
    return best, f"this machine has no Python {wanted}: the nearest is {best} (a substitution)"
