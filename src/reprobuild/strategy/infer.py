"""Infer a :class:`Recipe` from a published wheel (and what the index says about it).

Each rule reads one thing the wheel records and turns it into one recipe field, with the
observation as :class:`Evidence`:

- the backend and its version, from WHEEL's ``Generator:`` line (``bdist_wheel (X)`` is the
  ``wheel`` package; setuptools itself then comes from the cut-off date, below a version
  whose METADATA or entry_points.txt would look otherwise, see :data:`SETUPTOOLS_MARKS`,
  :data:`DOWNLOAD_URL_AFTER_LICENSE_BELOW` and :data:`ENTRY_POINTS_BLANK_END_BELOW`, and
  below the one with its own ``bdist_wheel``, see :data:`SETUPTOOLS_OWN_BDIST_WHEEL`);
- the cut-off for build requirements, from the upload time (they resolve as they did then);
- ``SOURCE_DATE_EPOCH``, when every member carries one time, told apart from a backend's fixed
  default (a backend that wrote its default was run without it);
- the build clock, when it was unset: the instant the files the build generated carry (the
  files it copied from the sdist keep the sdist's times), replayed as the rebuild's clock;
- the sources' time: one time on every file of the package, none of them its sdist file's,
  is when the publisher's sources were written (a copy, a checkout); the rebuild unpacks the
  sdist at that time;
- the time zone, when the files copied from the sdist are whole quarter hours off their sdist
  times (zip times are local times, and older tools wrote the publisher's): read when every
  file shows one offset; *fitted* when the offsets follow summer time, by scoring every IANA
  zone against the member times (a :class:`Fitted` record, with the number of zones tried);
- the umask, from the modes of the files the build wrote (see :data:`SETUPTOOLS_FIXED_MODES`);
- the Python: the one the wheel's tag names when it names a minor version (``py312``: a
  release with a pure wheel per Python), else the newest CPython at upload time that the
  release supports and its setuptools runs on; or the nearest this machine has (the
  substitution is recorded).

Inference reads the artifact, never copies it: no per-member value goes into the recipe.
What is fitted here is the time zone alone; :func:`reprobuild.rebuild.verify_wheel` fits the
hash seed and the normalization.
"""

from __future__ import annotations

import fnmatch
import re
import stat
import tomllib
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from reprobuild.archive import Archive, Member, MemberKind
from reprobuild.compare.nodes import format_time
from reprobuild.dist import dist_info_text
from reprobuild.strategy.recipe import Evidence, Fitted, Recipe
from reprobuild.strategy.tags import named_python

TYPE_CHECKING = False
if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

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

#: 1980-01-01 00:00:00, the time of a ``zipfile.ZipInfo`` made without one.
ZIPINFO_DEFAULT_TIME = 315532800

#: build-backend prefixes of backends that never write "Generator: bdist_wheel" themselves
_NOT_SETUPTOOLS = ("poetry.", "flit_core.", "flit.", "hatchling.", "pdm.", "pdm_")

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
    # uv's build backend writes "uv X", X being uv's version, which uv_build shares
    "uv": "uv_build",
}

#: Lines of METADATA that only setuptools older than a version wrote: (line, that version).
#: Measured by running ``setup.py egg_info`` under each setuptools release: 62.1.0 writes
#: ``Platform: UNKNOWN`` for a project that names no platform (and two blank lines after
#: the description), 62.2.0 writes neither. ``License: UNKNOWN`` for a project that names no
#: license: the ``write_pkg_file`` of 62.1.0 writes the field whatever the value (distutils'
#: ``get_license`` gives "UNKNOWN" for none), that of 62.3.2 leaves it out (read in both), and
#: it went with ``Platform: UNKNOWN``, in the same change to distutils' defaults. A publisher
#: whose setuptools was older than its upload date's is told by these lines, and the rebuild
#: resolves below that version.
SETUPTOOLS_MARKS: tuple[tuple[str, str], ...] = (
    ("Platform: UNKNOWN", "62.2"),
    ("License: UNKNOWN", "62.2"),
)

#: The setuptools release from which ``entry_points.txt`` ends with one newline. Before it,
#: egg_info wrote each section as ``[group]``, its lines and a blank line, so the file ended with
#: a blank line; from 60.9 (entry points rendered through ``importlib.metadata``) the sections
#: are joined by a blank line and the last one is not followed by one. Measured on the
#: ``egg_info.write_entries`` of 60.8 and 60.9.
ENTRY_POINTS_BLANK_END_BELOW = "60.9"

#: The setuptools release from which METADATA has ``Download-URL`` after ``Home-page``: before
#: it, ``write_pkg_file`` wrote it after ``License`` (measured on the ``dist.py`` of 60.5 and
#: 60.6). The order of a writer's fields, whatever their values.
DOWNLOAD_URL_AFTER_LICENSE_BELOW = "60.6"

#: The setuptools release from which METADATA names each license file in a ``License-File``
#: field (measured on ``write_pkg_file``: 56.2.0 writes none, 57.0.0 writes one per file its
#: ``license_files``, by default ``LICEN[CS]E*``, ``COPYING*``, ``NOTICE*`` and ``AUTHORS*``,
#: finds). A wheel whose .dist-info holds such a file that METADATA does not name was written
#: before it.
LICENSE_FILE_FIELD_FROM = "57.0"

#: The default license file patterns of setuptools (and of the wheel package's bdist_wheel).
LICENSE_PATTERNS = ("LICEN[CS]E*", "COPYING*", "NOTICE*", "AUTHORS*")

#: The setuptools release that brought its own ``bdist_wheel``, which writes ``Generator:
#: setuptools (X)``; the ``wheel`` package's then runs it (wheel 0.44 and later) or is not the
#: command run. ``Generator: bdist_wheel (X)`` was written beside an older setuptools.
SETUPTOOLS_OWN_BDIST_WHEEL = "70.1"

#: The setuptools release whose bdist_wheel no longer calls the ``wheel`` package's
#: ``pkginfo_to_metadata`` (read in 75.5.0, which imports it, and 75.6.0, which does not).
SETUPTOOLS_OWN_METADATA = "75.6"

#: From :data:`SETUPTOOLS_OWN_BDIST_WHEEL` to :data:`SETUPTOOLS_OWN_METADATA`, setuptools'
#: bdist_wheel imports ``wheel.metadata``: the installed ``wheel`` package's when the build
#: environment has one (setuptools' own copy, wheel 0.43, comes last on the path). That
#: function rebuilds Requires-Dist from requires.txt; from wheel 0.44 it passes each line
#: through packaging's ``Requirement``, which writes ``x>=1`` and ``x; extra == "y"``, where
#: 0.41 to 0.43 write ``x >=1`` and ``x ; extra == 'y'`` (measured: setuptools 73.0.1 and
#: 75.3.2 alone, and with wheel 0.41.3 to 0.43.0, write the second form; with 0.44.0 to 0.48.0,
#: the first). A frontend that added ``wheel`` to a project's build requirements by default
#: (pip before 24, build before 1.1) put the newest in.
WHEEL_REQUIREMENT_FORM = "wheel>=0.44"

#: The day :data:`SETUPTOOLS_OWN_BDIST_WHEEL` was uploaded.
SETUPTOOLS_OWN_BDIST_WHEEL_RELEASED = datetime(2024, 6, 19, tzinfo=UTC)

#: When each setuptools release a bound above names was uploaded (the index's upload times): a
#: cut-off before it resolves below it anyway, so the bound would change nothing and is not said.
SETUPTOOLS_RELEASED = {
    LICENSE_FILE_FIELD_FROM: datetime(2021, 5, 23, tzinfo=UTC),
    DOWNLOAD_URL_AFTER_LICENSE_BELOW: datetime(2022, 1, 31, tzinfo=UTC),
    ENTRY_POINTS_BLANK_END_BELOW: datetime(2022, 2, 14, tzinfo=UTC),
    "62.2": datetime(2022, 5, 10, tzinfo=UTC),
    SETUPTOOLS_OWN_BDIST_WHEEL: SETUPTOOLS_OWN_BDIST_WHEEL_RELEASED,
}

#: Files of a setuptools wheel's .dist-info whose mode its writers fix, whatever the umask:
#: RECORD, which the ``wheel`` package's ``WheelFile`` writes from a string with mode 664
#: (setuptools' own bdist_wheel carries the same ``WheelFile``), and METADATA, a copy of
#: PKG-INFO, which setuptools writes through a temporary file (mode 600) and then makes
#: readable by everyone (644; measured on setuptools 84's ``write_pkg_info``, whose sdists
#: show it too: an egg-info PKG-INFO of 644 beside its other files at 664). Such a file shows
#: nothing of the umask: the files written with ``open`` (WHEEL, an egg-info file) do.
SETUPTOOLS_FIXED_MODES: dict[str, int] = {"RECORD": 0o664, "METADATA": 0o644}

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
    sdist: Archive | None = None,
) -> Recipe:
    """The recipe for rebuilding the published wheel ``wheel`` (named ``filename``).

    ``upload_time`` is the index's (None for a local file: the newest member time is used for
    the cut-off instead). ``pythons`` are the interpreter versions this machine has
    (``"3.8.18"``), for choosing the nearest. ``sdist`` is the release's sdist, the rebuild's
    input: comparing member times with it tells the build clock and the time zone.
    """
    evidence: list[Evidence] = []
    fitted: list[Fitted] = []
    requirements: list[str] = []
    wheel_text = dist_info_text(wheel, "WHEEL") or ""
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
            reason = f"WHEEL Generator: {generator.name} {generator.version}"
            if package == "poetry":
                # poetry-core 1.x writes "poetry X" too, X being its own version: the
                # project's build requirement says which of the two made the wheel
                requirements.append(f"poetry-core=={generator.version}")
                reason += " (poetry, or poetry-core, which writes the same line)"
                requirement += f" or poetry-core=={generator.version}"
            evidence.append(Evidence(field="requirements", value=requirement, reason=reason))
        else:
            evidence.append(
                Evidence(
                    field="requirements",
                    value="",
                    reason=f"WHEEL Generator {generator.name!r} is not a backend reprobuild knows",
                )
            )

    files = [m for m in wheel.members if m.kind is MemberKind.FILE]
    newest = max((m.mtime for m in files), default=0)
    backend = generator.name.lower() if generator else ""
    epoch, said = shared_epoch(
        files,
        defaults={k: v for k, v in BACKEND_DEFAULT_TIMES.items() if k == backend},
        varied=": built without SOURCE_DATE_EPOCH, sources keep the sdist's times",
    )
    if said is not None:
        evidence.append(said)

    # each tail of each sdist file's path: what a wheel member was copied from
    sources = _sdist_tails(sdist) if sdist is not None else None
    times = _Times()
    if epoch is None and sdist is not None and sources is not None and files:
        times = _clock_and_zone(files, sdist, sources, evidence, fitted)

    cutoff: datetime | None
    if upload_time is not None:
        cutoff = upload_time
        cutoff_reason = f"uploaded {upload_time.isoformat()}"
    elif epoch is not None:
        cutoff = None
        cutoff_reason = (
            "no upload time (a local file), and its member times are SOURCE_DATE_EPOCH, not "
            "when it was built: requirements resolve as of now"
        )
    else:
        cutoff = datetime.fromtimestamp(newest, UTC)
        cutoff_reason = "no upload time (a local file): its newest member time"
    evidence.append(
        Evidence(
            field="exclude_newer",
            value=cutoff.isoformat() if cutoff else "none",
            reason=cutoff_reason,
        )
    )

    universal = False
    tags = [
        line.partition(":")[2].strip()
        for line in wheel_text.splitlines()
        if line.lower().startswith("tag:")
    ]
    setuptools = generator is not None and generator.name.lower() in {"bdist_wheel", "setuptools"}
    if setuptools and {t.split("-")[0] for t in tags} >= {"py2", "py3"}:
        universal = True
        evidence.append(
            Evidence(
                field="universal",
                value="yes",
                reason="WHEEL tags " + ", ".join(tags) + ": bdist_wheel --universal",
            )
        )

    setup_py = False
    if setuptools and sdist is not None:
        named = _named_backend(sdist)
        if named is not None and named.startswith(_NOT_SETUPTOOLS):
            setup_py = True
            evidence.append(
                Evidence(
                    field="setup_py",
                    value="yes",
                    reason=f"WHEEL Generator {generator.name if generator else ''} but "
                    f"pyproject.toml names {named}, and the sdist has setup.py: the wheel "
                    "was built by setup.py",
                )
            )

    umask, said = umask_of(files, sources, fixed=SETUPTOOLS_FIXED_MODES if setuptools else None)
    evidence.append(said)

    metadata = dist_info_text(wheel, "METADATA") or ""
    if setuptools:
        marks = _setuptools_marks(
            metadata, dist_info_text(wheel, "entry_points.txt"), _dist_info_licenses(files)
        )
        if generator is not None and generator.name.lower() == "bdist_wheel":
            seen = (
                f"WHEEL has Generator: bdist_wheel ({generator.version}), the wheel package's "
                f"command, which setuptools from {SETUPTOOLS_OWN_BDIST_WHEEL} replaces with its "
                "own (Generator: setuptools (X))"
            )
            marks.append((seen, SETUPTOOLS_OWN_BDIST_WHEEL))
        wheel_form = _wheel_package_form(generator, metadata)
        if wheel_form is not None:
            requirements.append(WHEEL_REQUIREMENT_FORM)
            evidence.append(
                Evidence(field="requirements", value=WHEEL_REQUIREMENT_FORM, reason=wheel_form)
            )
        marks = [
            (seen, below)
            for seen, below in marks
            if cutoff is None
            or below not in SETUPTOOLS_RELEASED
            or cutoff >= SETUPTOOLS_RELEASED[below]
        ]
        if marks:
            seen, below = min(marks, key=lambda mark: Version(mark[1]))
            requirements.append(f"setuptools<{below}")
            evidence.append(
                Evidence(
                    field="requirements",
                    value=f"setuptools<{below}",
                    reason=seen,
                )
            )
    requires_python = _header(metadata, "Requires-Python")
    # no cut-off (a local file whose times are SOURCE_DATE_EPOCH): the newest Python
    wanted, wanted_reason = _wanted_python(cutoff, requires_python)
    wanted, wanted_reason = _within_toolchain(wanted, wanted_reason, requirements)
    tagged = named_python(filename)
    if tagged is not None and tagged[0].startswith("3."):
        wanted, wanted_reason = (
            tagged[0],
            (
                f"the wheel's tag {tagged[1]} names Python {tagged[0]} (a release with a pure "
                "wheel per Python builds each with its own; a tag of the major version alone "
                "names none)"
            ),
        )
    else:
        nspkg = _nspkg_python(files)
        if nspkg is not None:
            wanted, wanted_reason = nspkg
    python, python_reason = _nearest(wanted, pythons)
    evidence.append(Evidence(field="wanted_python", value=wanted, reason=wanted_reason))
    evidence.append(Evidence(field="python", value=python or "", reason=python_reason))
    return Recipe(
        requirements=tuple(requirements),
        python=python,
        wanted_python=wanted,
        source_date_epoch=epoch,
        build_clock=times.clock,
        closing_clock=times.closing_clock,
        dist_info_clock=times.dist_info_clock,
        exclude_newer=cutoff,
        umask=umask,
        timezone=times.timezone,
        universal=universal,
        setup_py=setup_py,
        keep_egg_info=times.keep_egg_info,
        sources_time=times.sources_time,
        evidence=tuple(evidence),
        fitted=tuple(fitted),
    )


#: a Requires-Dist in the form packaging's ``Requirement`` gives (no space before the
#: specifiers or the marker, the marker's values in double quotes), and in the older one
_PACKAGING_FORM = re.compile(r"^[A-Za-z0-9._-]+(\[[^\]]*\])?([<>=!~]|; [a-z_]+ [=!<>~]+ \")")
_OLDER_FORM = re.compile(r"^[A-Za-z0-9._-]+(\[[^\]]*\])? ([<>=!~(]|; )")


def _wheel_package_form(generator: Generator | None, metadata: str) -> str | None:
    """The reason to put the ``wheel`` package beside a setuptools that rebuilds METADATA's
    Requires-Dist with it (see :data:`WHEEL_REQUIREMENT_FORM`), or None: every line that
    shows a form shows packaging's, and one at least shows one."""
    if generator is None or generator.name.lower() != "setuptools":
        return None
    try:
        version = Version(generator.version)
    except InvalidVersion:
        return None
    if not Version(SETUPTOOLS_OWN_BDIST_WHEEL) <= version < Version(SETUPTOOLS_OWN_METADATA):
        return None
    lines = [
        value.strip()
        for key, sep, value in (
            line.partition(":") for line in metadata.partition("\n\n")[0].splitlines()
        )
        if sep and key.strip().lower() == "requires-dist"
    ]
    newer = [line for line in lines if _PACKAGING_FORM.match(line)]
    if not newer or any(_OLDER_FORM.match(line) for line in lines):
        return None
    return (
        f"METADATA has 'Requires-Dist: {newer[0]}', the form the wheel package's "
        f"pkginfo_to_metadata writes from 0.44, which setuptools {generator.version}'s "
        "bdist_wheel calls when the build environment has it (its own copy, 0.43, writes "
        "'x >=1' and 'x ; extra == ...' in single quotes)"
    )


#: a ``.pth`` file setuptools writes for namespace packages at the wheel's root, named after
#: the egg of the Python that ran the build (pkg_resources' ``egg_name``)
_NSPKG = re.compile(r"^[^/]+-py(?P<major>3)\.(?P<minor>\d+)-nspkg\.pth$")


def _nspkg_python(files: Sequence[Member]) -> tuple[str, str] | None:
    """The Python a setuptools build ran on, from the name of its ``-nspkg.pth`` file, with
    the reason; None without one (or with several that disagree)."""
    found = {
        (f"{match['major']}.{match['minor']}", member.path)
        for member in files
        if (match := _NSPKG.match(member.path))
    }
    if len({version for version, _ in found}) != 1:
        return None
    version, path = min(found)
    return version, (
        f"the wheel's {path}: setuptools names the .pth file of namespace packages after the "
        f"Python that ran the build ({version})"
    )


def _setuptools_marks(
    metadata: str, entry_points: str | None, licenses: Sequence[str] = ()
) -> list[tuple[str, str]]:
    """What the .dist-info files a setuptools build wrote show of an older setuptools: each
    observation (a reason) with the setuptools version it was written before.

    ``metadata`` is METADATA's text (its headers are read, see :data:`SETUPTOOLS_MARKS`, and
    the order of two of them, see :data:`DOWNLOAD_URL_AFTER_LICENSE_BELOW`) and
    ``entry_points`` entry_points.txt's (None when the wheel has none): a file that ends with a
    blank line after its last section was written before
    :data:`ENTRY_POINTS_BLANK_END_BELOW`. Both are the form a writer gives a whole file,
    whatever the project's own values. ``licenses`` are the license files of the .dist-info
    (names matching :data:`LICENSE_PATTERNS`): when METADATA has no ``License-File`` at all,
    it was written before :data:`LICENSE_FILE_FIELD_FROM`.
    """
    lines = set(metadata.partition("\n\n")[0].splitlines())
    marks = [
        (f"METADATA has {line!r}, which setuptools wrote before {below}", below)
        for line, below in SETUPTOOLS_MARKS
        if line in lines
    ]
    names = [line.partition(":")[0] for line in metadata.partition("\n\n")[0].splitlines()]
    if {"Download-URL", "License"} <= set(names) and names.index("Download-URL") > names.index(
        "License"
    ):
        marks.append(
            (
                "METADATA has Download-URL after License, as setuptools wrote it before "
                + DOWNLOAD_URL_AFTER_LICENSE_BELOW,
                DOWNLOAD_URL_AFTER_LICENSE_BELOW,
            )
        )
    # searched in the whole text: a header folded over a blank line (a long License) ends
    # what _header reads, and a body that starts a line with it only keeps the bound unsaid
    if licenses and re.search(r"^License-File:", metadata, re.MULTILINE | re.IGNORECASE) is None:
        marks.append(
            (
                f"METADATA names no License-File though .dist-info holds {', '.join(licenses)}, "
                f"as setuptools wrote it before {LICENSE_FILE_FIELD_FROM}",
                LICENSE_FILE_FIELD_FROM,
            )
        )
    text = (entry_points or "").replace("\r\n", "\n")
    if text.lstrip().startswith("[") and text.endswith("\n\n"):
        marks.append(
            (
                "entry_points.txt ends with a blank line after its last section, as setuptools "
                f"wrote it before {ENTRY_POINTS_BLANK_END_BELOW}",
                ENTRY_POINTS_BLANK_END_BELOW,
            )
        )
    return marks


def _dist_info_licenses(files: Sequence[Member]) -> list[str]:
    """The names of the .dist-info's files (at its root or under ``licenses/``) that match
    :data:`LICENSE_PATTERNS`."""
    found = []
    for member in files:
        top, _, rest = member.path.partition("/")
        name = rest.removeprefix("licenses/")
        licensed = any(fnmatch.fnmatchcase(name, pattern) for pattern in LICENSE_PATTERNS)
        if top.endswith(".dist-info") and "/" not in name and licensed:
            found.append(name)
    return sorted(found)


def shared_epoch(
    files: Sequence[Member], *, defaults: Mapping[str, int], varied: str
) -> tuple[int | None, Evidence | None]:
    """``SOURCE_DATE_EPOCH`` from one time on every file of ``files``, told apart from a
    backend's own (``defaults``: backend name -> the time it writes without it), with the
    evidence; ``varied`` ends the reason when the files carry several times."""
    times = Counter(m.mtime for m in files)
    if len(times) > 1:
        reason = f"the files carry {len(times)} different times{varied}"
        return None, Evidence(field="source_date_epoch", value="unset", reason=reason)
    if not times:
        return None, None
    (only,) = times
    default = next((name for name, value in defaults.items() if value == only), None)
    if default is not None:
        reason = (
            f"every member carries {format_time(only)}, {default}'s own default: "
            "built without SOURCE_DATE_EPOCH"
        )
        return None, Evidence(field="source_date_epoch", value="unset", reason=reason)
    reason = f"all {len(files)} files carry one time, {format_time(only)}"
    return only, Evidence(field="source_date_epoch", value=str(only), reason=reason)


def umask_of(
    files: Sequence[Member],
    sources: Mapping[str, Member | None] | None = None,
    *,
    fixed: Mapping[str, int] | None = None,
) -> tuple[int, Evidence]:
    """The umask the modes of ``files`` show, with the evidence: of the group's bits, write
    when not every one is group-writable, all three when none is group-readable; of the
    others', write, or all three when none is readable by others (022 for 644, 002 for 664,
    077 for 600, 027 for 640).

    With ``sources``, the files of the sdist the wheel was built from by path tail (see
    :func:`_sdist_tails`), a file whose mode is its sdist file's tells nothing (a copy that
    kept its mode, as a license or an egg-info file is): the files the build wrote itself
    show the umask. ``fixed`` (a file name in ``.dist-info`` -> a mode, see
    :data:`SETUPTOOLS_FIXED_MODES`) names files a writer gives one mode whatever the umask: a
    file with that mode tells nothing either, and neither does a zip member whose mode has no
    file type (``zipfile.writestr``'s 600, hatchling's 644, poetry's 644: a writer's constant,
    not a file's mode) or no Unix mode at all (a zip written on Windows).
    """

    def permissions(member: Member) -> int:
        return (member.mode or 0) & 0o777

    def typeless(member: Member) -> bool:
        return member.zip is not None and not stat.S_IFMT(member.zip.external_attr >> 16)

    def set_aside(member: Member) -> bool:
        top, _, rest = member.path.partition("/")
        return (
            fixed is not None
            and top.endswith(".dist-info")
            and fixed.get(rest) == permissions(member)
        )

    constants = sum(typeless(m) for m in files)
    files = [m for m in files if not typeless(m)]
    aside = [m for m in files if set_aside(m)]
    if aside and len(aside) < len(files):
        files = [m for m in files if not set_aside(m)]
    modes = Counter(permissions(m) for m in files)
    reason = "file modes " + ", ".join(f"{mode:o}" for mode in sorted(modes))
    if aside and files:
        reason += (
            "; "
            + ", ".join(f"{m.path.partition('/')[2]} ({permissions(m):o})" for m in aside)
            + " set aside: modes their writers give whatever the umask"
        )
    written = modes
    if sources is not None:
        kept = [
            m
            for m in files
            if (source := sources.get(_source_of(m.path))) is not None
            and permissions(source) == permissions(m)
        ]
        if kept and len(kept) < len(files):
            written = modes - Counter(permissions(m) for m in kept)
            reason += f"; {len(files) - len(kept)} not copied with the sdist's mode: " + ", ".join(
                f"{mode:o}" for mode in sorted(written)
            )
    if constants:
        reason += f"; {constants} with a writer's own mode (no file type) set aside"
    umask = _umask_of_modes(written)
    return umask, Evidence(field="umask", value=f"{umask:03o}", reason=reason)


def _umask_of_modes(modes: Collection[int]) -> int:
    """The umask that files of ``modes``, written by a build, were created under (see
    :func:`umask_of`); 022 when there are none. A mode of 0 is none: a zip written on
    Windows, or by a writer that stores no Unix mode, says nothing of the umask."""
    modes = [mode for mode in modes if mode]
    if not modes:
        return 0o022
    if not any(mode & 0o040 for mode in modes):
        group = 0o070
    elif all(mode & 0o020 for mode in modes):
        group = 0
    else:
        group = 0o020
    others = 0o002 if any(mode & 0o004 for mode in modes) else 0o007
    return group | others


def _named_backend(sdist: Archive) -> str | None:
    """The build-backend the sdist's pyproject.toml names, when the sdist also has a setup.py
    (so that setup.py could have built it); None otherwise."""
    top_files = {
        m.path.split("/", 1)[1]: m
        for m in sdist.members
        if m.kind is MemberKind.FILE and m.path.count("/") == 1
    }
    pyproject = top_files.get("pyproject.toml")
    if pyproject is None or "setup.py" not in top_files:
        return None
    try:
        document = tomllib.loads(pyproject.data().decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    table = document.get("build-system")
    backend = table.get("build-backend") if isinstance(table, dict) else None
    return backend if isinstance(backend, str) else None


def _sdist_tails(sdist: Archive) -> dict[str, Member | None]:
    """Each tail of each sdist file's path (top folder removed) -> that file, None when two
    files share that tail."""
    tails: dict[str, Member | None] = {}
    for member in sdist.members:
        if member.kind is not MemberKind.FILE:
            continue
        parts = member.path.split("/")[1:]
        for start in range(len(parts)):
            tail = "/".join(parts[start:])
            tails[tail] = member if tail not in tails else None
    return tails


def _source_of(path: str) -> str:
    """The sdist path tail a wheel member comes from: itself, or for a file of a .dist-info
    folder (a license) its name there."""
    top, sep, rest = path.partition("/")
    if sep and top.endswith(".dist-info"):
        return rest.removeprefix("licenses/")
    return path


def _zone(offset: int) -> tuple[str, str]:
    """The POSIX TZ value of ``offset`` seconds east of UTC, and its usual name."""
    if offset == 0:
        return "UTC", "UTC"
    sign = "+" if offset > 0 else "-"
    hours, minutes = divmod(abs(offset) // 60, 60)
    name = f"UTC{sign}{hours:02d}:{minutes:02d}"
    posix = f"<{sign}{hours:02d}{minutes:02d}>{'-' if offset > 0 else '+'}{hours}:{minutes:02d}"
    return posix, name


#: Zones tried first when a wheel's times follow summer time (see :func:`_named_zone`).
_COMMON_ZONES = (
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Helsinki",
    "Australia/Sydney",
)


def _fits(zip_time: int, when: int, offset: int) -> bool:
    """True when ``zip_time`` is ``when`` written as a zip time ``offset`` seconds east of UTC
    (2-second steps, rounded down or to the nearest second)."""
    return -2 <= zip_time - offset - when <= 1


#: The farthest a time zone is from UTC (UTC-12:00 to UTC+14:00).
_MOST_OFFSET = 14 * 3600


def _quarter_hours(zip_time: int, when: int) -> int | None:
    """The offset in seconds, a whole number of quarter hours no farther from UTC than a zone
    is, at which ``zip_time`` is ``when`` written as a zip time (see :func:`_fits`); None when
    there is none (a file written days after its sdist time is no zone's copy of it)."""
    quarter = round((zip_time - when) / 900) * 900
    if abs(quarter) > _MOST_OFFSET:
        return None
    return quarter if _fits(zip_time, when, quarter) else None


def _named_zone(copied: Sequence[tuple[Member, int]]) -> tuple[ZoneInfo, int, int] | None:
    """The time zone with daylight saving time (an IANA name) that explains the most of the
    ``copied`` files' zip times, how many it explains, and how many zones were scored; None
    when tzdata is missing."""
    import zoneinfo  # only for wheels whose times follow a zone's summer time

    try:
        available = zoneinfo.available_timezones()
    except (OSError, zoneinfo.ZoneInfoNotFoundError):
        return None
    areas = ("Africa/", "America/", "Asia/", "Atlantic/", "Australia/", "Europe/", "Pacific/")
    # The zones most publishers live in come first: of zones with the same rules, the first
    # one that explains the times is named.
    names = [name for name in _COMMON_ZONES if name in available]
    names += sorted(n for n in available if n.startswith(areas) and n not in _COMMON_ZONES)
    best: tuple[ZoneInfo, int] | None = None
    for name in names:
        zone = zoneinfo.ZoneInfo(name)
        count = 0
        for member, when in copied:
            offset = datetime.fromtimestamp(when, zone).utcoffset()
            if offset is not None and _fits(member.mtime, when, int(offset.total_seconds())):
                count += 1
        if best is None or count > best[1]:
            best = (zone, count)
    return (*best, len(names)) if best is not None else None


@dataclass(frozen=True, slots=True)
class _Times:
    """What the member times of a wheel built without ``SOURCE_DATE_EPOCH`` say of its build:
    the recipe fields of the same names (see :class:`Recipe`)."""

    timezone: str = "UTC"
    clock: int | None = None
    closing_clock: int | None = None
    dist_info_clock: int | None = None
    keep_egg_info: bool = False
    sources_time: int | None = None


def _clock_and_zone(
    files: Sequence[Member],
    sdist: Archive,
    sources: Mapping[str, Member | None],
    evidence: list[Evidence],
    fitted: list[Fitted],
) -> _Times:
    """The time zone and build clock of a wheel built without ``SOURCE_DATE_EPOCH``, and
    whether its .dist-info files copied from an egg-info keep the sdist's times.

    Files copied from the sdist keep its times, written as zip times: local times, 2-second
    steps. Their offset from the sdist's times, when it is a whole number of quarter hours,
    is the publisher's time zone (an IANA zone when the offset follows summer time). The files
    the build wrote (the metadata, RECORD) carry its clock: the earliest of them, one instant,
    is replayed. ``sources`` are the sdist's files by path tail (:func:`_sdist_tails`).

    A zone read from one offset goes into ``evidence``; a zone chosen by scoring the IANA
    zones against the member times (the offsets follow summer time) into ``fitted``.
    """
    matched: list[tuple[Member, int]] = []
    for member in files:
        source = sources.get(_source_of(member.path))
        if source is not None:
            matched.append((member, source.mtime))
    copied = [(m, when) for m, when in matched if ".dist-info/" not in m.path]
    offsets: Counter[int] = Counter()
    for member, when in copied:
        quarter = _quarter_hours(member.mtime, when)
        if quarter is not None:
            offsets[quarter] += 1
    fixed, count = offsets.most_common(1)[0] if offsets else (0, 0)
    if count * 2 <= sum(offsets.values()):
        fixed, count = 0, offsets[0]

    def offset_at(when: int) -> int:
        return fixed

    timezone, zone_name = _zone(fixed)
    # a license copied into .dist-info keeps its sdist time too: when it is whole quarter
    # hours off the modules' offset, it was written in the other season of the same zone
    licenses = [
        (m, when)
        for m, when in matched
        if ".dist-info/" in m.path
        and not _fits(m.mtime, when, fixed)
        and _quarter_hours(m.mtime, when) is not None
    ]
    seasons = copied + licenses
    scored: int | None = None  # how many named zones were scored against the member times
    fixed_name, fixed_count = zone_name, count
    if (len(offsets) > 1 and count < len(copied)) or licenses:
        named = _named_zone(seasons)
        if named is not None:
            scored = named[2]
        if named is not None and named[1] > count:
            zone, count, _ = named
            copied = seasons
            timezone = zone_name = zone.key

            def offset_at(when: int) -> int:
                offset = datetime.fromtimestamp(when, zone).utcoffset()
                return int(offset.total_seconds()) if offset is not None else 0

    if scored is not None:
        fitted.append(
            Fitted(
                field="timezone",
                value=zone_name,
                tries=scored + 1,
                against="the published wheel's member times, as local times of the sdist's",
                reason=f"{count} of {len(copied)} files from the sdist carry its times as "
                f"local times in {zone_name}, the most of {scored} zones with summer time; "
                f"one fixed offset ({fixed_name}) explains {fixed_count}",
            )
        )
    elif timezone != "UTC":
        evidence.append(
            Evidence(
                field="timezone",
                value=zone_name,
                reason=f"{count} of {len(copied)} files from the sdist carry its times as "
                f"local times in {zone_name}: zip times written in the publisher's zone",
            )
        )
    from_sdist = {m.path for m, when in matched if _fits(m.mtime, when, offset_at(when))}
    # zipfile.ZipInfo's own default (1980-01-01, the zip format's first instant) is what a
    # backend writes when it gives a generated file no time (poetry-core): no clock reading
    defaults = {*BACKEND_DEFAULT_TIMES.values(), ZIPINFO_DEFAULT_TIME}
    # the .dist-info files are the ones every build writes: a module the publisher's checkout
    # had and the sdist lacks keeps its own, older time
    written = [
        m
        for m in files
        if ".dist-info/" in m.path and m.path not in from_sdist and m.mtime not in defaults
    ]
    generated = [m.mtime for m in written]
    egg_info = {
        m.path.rpartition("/")[2]
        for m in sdist.members
        if m.kind is MemberKind.FILE and m.path.rpartition("/")[0].endswith(".egg-info")
    }
    counterparts = [
        m for m in files if ".dist-info/" in m.path and m.path.rpartition("/")[2] in egg_info
    ]
    # a copy keeps the sdist's time rounded down to the zip format's 2 seconds (tar and zip
    # writers both drop the fraction): 0 or 1 s earlier. A time one second after it is the
    # build's own clock reading the same second the sdist was made in (`python -m build` makes
    # both within a second), and one 2 s earlier a file written before the sdist was made:
    # neither tells a kept egg-info
    sdist_time = {m.path: when for m, when in matched}
    kept = sorted(
        m.path.rpartition("/")[2]
        for m in counterparts
        if m.path in from_sdist
        and -2 < m.mtime - offset_at(sdist_time[m.path]) - sdist_time[m.path] <= 0
    )
    if len(kept) < len(counterparts):
        kept = []  # egg_info wrote some again: the files it skips keep their times anyway
    if kept:
        evidence.append(
            Evidence(
                field="keep_egg_info",
                value="yes",
                reason=f"{', '.join(kept)} in .dist-info carry the times of the sdist's egg-info: "
                "one setup.py run wrote the egg-info once, then made the sdist and the wheel",
            )
        )

    def utc(when: int) -> int:  # a zip time (local) as seconds since the epoch
        return when - offset_at(when - offset_at(when))

    one_time = _sources_time(files, sources, from_sdist, defaults) if not kept else None
    sources_time: int | None = None
    if one_time is not None:
        sources_time = utc(one_time[0])
        evidence.append(
            Evidence(
                field="sources_time",
                value=format_time(sources_time),
                reason=f"all {one_time[1]} files of the package carry one time, "
                f"{format_time(sources_time)}, and none its sdist file's: the publisher's "
                "sources were written then (a copy, a checkout); the unpacked sdist's files "
                "get that time",
            )
        )
    times = _Times(timezone=timezone, keep_egg_info=bool(kept), sources_time=sources_time)
    if not generated:
        return times
    local = min(generated)
    clock = utc(local)
    evidence.append(
        Evidence(
            field="build_clock",
            value=format_time(clock),
            reason=f"{len(generated)} .dist-info files the sdist does not hold as they are "
            "carry the publisher's clock: the earliest is replayed",
        )
    )
    # the wheel's writer stamps RECORD, written last, with the clock as it closes the wheel,
    # and the other files with the times they were written: a RECORD later than all of them,
    # which carry one time, is the clock read at the end of the publisher's build
    record = [m for m in written if m.path.endswith(".dist-info/RECORD")]
    others = {m.mtime for m in written if m not in record}
    closing: int | None = None
    steps = _dist_info_step(written, record, egg_info, local)
    if steps is not None:
        later, late_names, early_names = steps
        dist_info = utc(later)
        evidence.append(
            Evidence(
                field="dist_info_clock",
                value=format_time(dist_info),
                reason=f"{', '.join(late_names)} in .dist-info carry a time "
                f"{dist_info - clock} s after {', '.join(early_names)} (the egg-info's files, "
                "which bdist_wheel copies in with their times): the publisher's build wrote "
                ".dist-info then",
            )
        )
        if len(record) == 1 and record[0].mtime >= later:
            closing = utc(record[0].mtime)
            evidence.append(
                Evidence(
                    field="closing_clock",
                    value=format_time(closing),
                    reason="RECORD, which the wheel's writer stamps with the clock as it "
                    f"closes the wheel, carries a time {closing - clock} s after the "
                    "egg-info's files: the clock the publisher's build read at its end",
                )
            )
        return replace(times, clock=clock, closing_clock=closing, dist_info_clock=dist_info)
    if len(record) == 1 and others == {local} and record[0].mtime > local:
        closing = utc(record[0].mtime)
        evidence.append(
            Evidence(
                field="closing_clock",
                value=format_time(closing),
                reason=f"RECORD, which the wheel's writer stamps with the clock as it closes "
                f"the wheel, carries a time {closing - clock} s after the other "
                f"{len(generated) - 1} .dist-info files the build wrote: the clock "
                "the publisher's build read at its end",
            )
        )
    return replace(times, clock=clock, closing_clock=closing)


def _dist_info_step(
    written: Sequence[Member], record: Sequence[Member], egg_info: set[str], first: int
) -> tuple[int, list[str], list[str]] | None:
    """When the .dist-info files a build wrote, RECORD aside, carry two times, the earlier
    (``first``) on egg-info files alone (``egg_info``: the names of the sdist's egg-info
    files) and the later on the others (METADATA, WHEEL, licenses): that later time, and the
    names at each. Else None."""
    rest = [m for m in written if m not in record]
    early = [m for m in rest if m.path.rpartition("/")[2] in egg_info]
    late = [m for m in rest if m.path.rpartition("/")[2] not in egg_info]
    if not early or not late or {m.mtime for m in early} != {first}:
        return None
    times = {m.mtime for m in late}
    if len(times) != 1 or min(times) <= first:
        return None
    return (
        min(times),
        sorted(m.path.rpartition("/")[2] for m in late),
        sorted(m.path.rpartition("/")[2] for m in early),
    )


def _sources_time(
    files: Sequence[Member],
    sources: Mapping[str, Member | None],
    from_sdist: set[str],
    defaults: set[int],
) -> tuple[int, int] | None:
    """The one zip time every file of the package (outside .dist-info) carries, and how many
    they are, when each of them is an sdist file that did not keep its sdist time: the sources
    the wheel was built from were written at one instant (a copy, a fresh checkout), after
    the sdist's. None otherwise, or when that time is a backend's default (no write time)."""
    package = [m for m in files if not m.path.partition("/")[0].endswith(".dist-info")]
    times = {m.mtime for m in package}
    if len(times) != 1 or not package:
        return None
    (only,) = times
    if only in defaults:
        return None
    for member in package:
        if member.path in from_sdist or sources.get(_source_of(member.path)) is None:
            return None
    return only, len(package)


def _wanted_python(cutoff: datetime | None, requires_python: str | None) -> tuple[str, str]:
    """The newest CPython minor released by ``cutoff`` (None: the newest known) that
    ``requires_python`` allows; when none released by then does, the oldest that it allows."""
    released = [minor for minor, day in PYTHON_RELEASES if cutoff is None or day <= cutoff]
    candidates = list(reversed(released or [PYTHON_RELEASES[0][0]]))
    at = f"at {cutoff.date()}" if cutoff is not None else "known"
    if requires_python:
        try:
            spec = SpecifierSet(requires_python)
        except InvalidSpecifier:
            spec = None
        if spec is not None:
            fitting = [m for m in candidates if spec.contains(f"{m}.0", prereleases=True)]
            if fitting:
                return fitting[
                    0
                ], f"the newest CPython {at} within Requires-Python {requires_python}"
            later = [m for m, _ in PYTHON_RELEASES if spec.contains(f"{m}.0", prereleases=True)]
            if later:
                return later[0], (
                    f"the oldest CPython within Requires-Python {requires_python} (none "
                    f"released {at} is)"
                )
    return candidates[0], f"the newest CPython {at}"


#: The newest CPython minor that setuptools older than the version runs on: 66.1 is the first
#: whose ``pkg_resources`` imports without ``pkgutil.ImpImporter``, which Python 3.12 removed
#: (older ones fail at import, before any hook runs).
SETUPTOOLS_NEWEST_PYTHON: tuple[tuple[str, str], ...] = (("66.1", "3.11"),)


def _within_toolchain(wanted: str, reason: str, requirements: Sequence[str]) -> tuple[str, str]:
    """``wanted``, or the newest Python the inferred toolchain runs on when it is older: a
    publisher whose setuptools was older than 66.1 built on Python 3.11 or older, whatever the
    newest Python of the day was."""
    for requirement in requirements:
        try:
            parsed = Requirement(requirement)
        except InvalidRequirement:
            continue
        if parsed.name.lower() != "setuptools" or not parsed.specifier:
            continue
        for below, newest in SETUPTOOLS_NEWEST_PYTHON:
            if not _keeps_below(parsed.specifier, Version(below)):
                continue
            if Version(f"{wanted}.0") > Version(f"{newest}.0"):
                return newest, (
                    f"{requirement} runs on Python {newest} at the newest (setuptools before "
                    f"{below} imports pkgutil.ImpImporter, which Python 3.12 removed); not "
                    f"{wanted}, {reason}"
                )
    return wanted, reason


def _keeps_below(specifier: SpecifierSet, bound: Version) -> bool:
    """Whether one of ``specifier``'s clauses admits no version from ``bound`` on."""
    for clause in specifier:
        try:
            version = Version(clause.version.removesuffix(".*"))
        except InvalidVersion:
            continue
        if clause.operator == "<" and version <= bound:
            return True
        if clause.operator in ("<=", "==", "===") and version < bound:
            return True
    return False


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
