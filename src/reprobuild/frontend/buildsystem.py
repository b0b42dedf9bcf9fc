"""A project's ``[build-system]``: what to install and which backend to call (PEP 517/518).

Reading it starts nothing: this module only parses ``pyproject.toml`` and validates what it
says, raising :class:`~reprobuild.errors.ProjectError` for bad input.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from reprobuild.errors import ProjectError

__all__ = [
    "LEGACY_BACKEND",
    "LEGACY_BACKEND_SINCE",
    "LEGACY_REQUIRES",
    "OLD_FRONTEND_REQUIRES",
    "BuildSystem",
    "frontend_requires",
    "overridden",
    "parse_build_system",
    "read_build_system",
    "requirement_name",
    "setup_py_system",
]

#: The backend a project without ``build-backend`` is built with (PEP 517's fallback).
LEGACY_BACKEND = "setuptools.build_meta:__legacy__"
#: The day after setuptools 40.8.0 brought that backend (2019-02-05): build requirements
#: resolved as of an earlier day cannot build a project that has no build-backend.
LEGACY_BACKEND_SINCE = datetime(2019, 2, 6, tzinfo=UTC)
#: What that backend needs when the project does not say (PEP 518; as pip and build assume).
LEGACY_REQUIRES: tuple[str, ...] = ("setuptools>=40.8.0",)

#: What pip before 24.0 and build before 1.1 installed for a project that names no build
#: requirements (PEP 518's first default): setuptools and the ``wheel`` package.
OLD_FRONTEND_REQUIRES: tuple[str, ...] = (*LEGACY_REQUIRES, "wheel")


def frontend_requires(system: BuildSystem, overrides: Sequence[str]) -> tuple[str, ...]:
    """The build requirements to install for ``system``: its own, but for a project that
    names none, an override that names ``wheel`` says that the publisher's frontend put the
    ``wheel`` package in, as pip before 24.0 and build before 1.1 did
    (:data:`OLD_FRONTEND_REQUIRES`; the override then picks its version)."""
    if not system.legacy or system.requires != LEGACY_REQUIRES:
        return system.requires
    if any(requirement_name(override) == "wheel" for override in overrides):
        return OLD_FRONTEND_REQUIRES
    return system.requires


def setup_py_system(system: BuildSystem) -> BuildSystem:
    """setuptools' legacy backend in place of ``system``'s, keeping the project's own bounds
    on setuptools (the version it expected ``setup.py`` to run with)."""
    own = tuple(r for r in system.requires if requirement_name(r) == "setuptools")
    return BuildSystem(requires=own or LEGACY_REQUIRES, build_backend=LEGACY_BACKEND, legacy=True)


def requirement_name(text: str) -> str | None:
    """The canonical name a PEP 508 requirement string names; None when it does not parse."""
    try:
        return canonicalize_name(Requirement(text).name)
    except InvalidRequirement:
        return None


def overridden(requirements: Sequence[str], overrides: Sequence[str]) -> list[str]:
    """``requirements`` with each one named by an override replaced by that override (each
    once, in order)."""
    by_name = {requirement_name(o): o for o in overrides}
    return list(dict.fromkeys(by_name.get(requirement_name(r), r) for r in requirements))


#: ``module.path`` optionally followed by ``:object.path`` (PEP 517's "build-backend").
_BACKEND = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*(:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*)?$")


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildSystem:
    """How a project is built.

    ``requires`` are the PEP 508 requirements of the build environment, as written;
    ``build_backend`` the ``module:object`` the hooks are called on; ``backend_path`` folders
    (relative to the project) put in front of ``sys.path`` for an in-tree backend. ``legacy``
    is true when PEP 517's defaults were used because the project does not name a backend.
    """

    requires: tuple[str, ...]
    build_backend: str
    backend_path: tuple[str, ...] = ()
    legacy: bool = False


def read_build_system(source_dir: Path) -> BuildSystem:
    """Read the build system of the project in ``source_dir``.

    A project is a folder with a ``pyproject.toml`` or a ``setup.py``. Without a
    ``[build-system]`` table (or without its ``build-backend`` key) it is built by setuptools'
    legacy backend, as PEP 517 and 518 say; ``requires`` then defaults to
    ``["setuptools>=40.8.0"]``. Raises :class:`ProjectError` for a folder that is not a
    Python project, a ``pyproject.toml`` that is not valid TOML (with the parser's line and
    column), and a ``[build-system]`` table that does not follow the specification.
    """
    source_dir = Path(source_dir)
    pyproject = source_dir / "pyproject.toml"
    if not source_dir.is_dir():
        raise ProjectError(
            "not a folder",
            path=str(source_dir),
            hint="give the folder of a Python project (the one with pyproject.toml)",
        )
    if not pyproject.is_file():
        if (source_dir / "setup.py").is_file():
            return BuildSystem(requires=LEGACY_REQUIRES, build_backend=LEGACY_BACKEND, legacy=True)
        raise ProjectError(
            "not a Python project: it has neither pyproject.toml nor setup.py",
            path=str(source_dir),
            hint="give the folder of a Python project (the one with pyproject.toml)",
        )
    try:
        text = pyproject.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProjectError(
            f"pyproject.toml is not UTF-8 text: {exc.reason} at byte {exc.start}",
            path=str(pyproject),
        ) from exc
    except OSError as exc:
        raise ProjectError(
            f"cannot read pyproject.toml: {exc.strerror}", path=str(pyproject)
        ) from exc
    return parse_build_system(text, path=str(pyproject))


def parse_build_system(text: str, *, path: str = "pyproject.toml") -> BuildSystem:
    """Parse and validate the ``[build-system]`` table of ``pyproject.toml`` given as ``text``.

    ``path`` only names the file in errors.
    """
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # the message ends with "(at line L, column C)": the parser's own position
        raise ProjectError(
            f"invalid pyproject.toml: {exc}",
            path=path,
            hint="fix the TOML syntax at the line and column given",
        ) from exc
    table = document.get("build-system")
    if table is None:
        return BuildSystem(requires=LEGACY_REQUIRES, build_backend=LEGACY_BACKEND, legacy=True)
    if not isinstance(table, dict):
        raise ProjectError("[build-system] must be a table", path=path)
    if "requires" not in table:
        raise ProjectError(
            "[build-system] has no 'requires' key",
            path=path,
            hint='list what the backend needs, e.g. requires = ["hatchling"] (PEP 518)',
        )
    requires = _string_list(table["requires"], "requires", path)
    for item in requires:
        try:
            Requirement(item)
        except InvalidRequirement as exc:
            raise ProjectError(
                f"[build-system] requires: {item!r} is not a valid requirement: {exc}",
                path=path,
                hint="write requirements as PEP 508 specifiers, e.g. 'hatchling>=1.25'",
            ) from exc
    backend_path = _string_list(table.get("backend-path", []), "backend-path", path)
    for entry in backend_path:
        parts = Path(entry).parts
        if Path(entry).is_absolute() or ".." in parts:
            raise ProjectError(
                f"[build-system] backend-path: {entry!r} is not a folder inside the project",
                path=path,
                hint="backend-path entries are relative paths inside the source tree (PEP 517)",
            )
    if "build-backend" not in table:
        return BuildSystem(
            requires=requires, build_backend=LEGACY_BACKEND, backend_path=backend_path, legacy=True
        )
    backend = table["build-backend"]
    if not isinstance(backend, str) or not _BACKEND.match(backend.replace(" ", "")):
        raise ProjectError(
            f"[build-system] build-backend: {backend!r} is not a 'module:object' name",
            path=path,
            hint='name the backend as PEP 517 says, e.g. build-backend = "hatchling.build"',
        )
    return BuildSystem(
        requires=requires, build_backend=backend.replace(" ", ""), backend_path=backend_path
    )


def _string_list(value: object, key: str, path: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ProjectError(
            f"[build-system] {key} must be a list of strings, not {_describe(value)}",
            path=path,
            hint=f'write it as {key} = ["..."]',
        )
    return tuple(value)


def _describe(value: object) -> str:
    if isinstance(value, list):
        kinds = sorted({type(item).__name__ for item in value if not isinstance(item, str)})
        return f"a list holding {', '.join(kinds)}"
    return f"{type(value).__name__} {value!r}"
