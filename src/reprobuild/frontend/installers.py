"""The two ways of making a build environment: uv, and ``venv`` + pip when uv is missing.

An :class:`Installer` resolves requirements to pins with hashes, creates an empty virtual
environment, and installs pins into it with ``--require-hashes --no-deps``. uv is located
through its Python package (``uv.find_uv_bin``); it is used when that binary runs.

Both resolve and install from wheels only (uv's ``--no-build``, pip's ``--only-binary
:all:``): building an sdist, even only to read its metadata, runs its ``setup.py`` or backend,
and environments are prepared outside the sandbox that builds run in. A requirement with no
wheel fails with a :class:`NoWheelError` that names it (and the versions asked for, when the
installer said), so that its caller can build that wheel in the sandbox and offer it again as
``find_links``: folders of wheels searched besides the index.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, Protocol

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from reprobuild._fs import sha256_file
from reprobuild.errors import BuildError
from reprobuild.frontend._run import run_tool
from reprobuild.frontend.indexes import IndexConfig, load_index_config
from reprobuild.frontend.interpreter import Interpreter
from reprobuild.frontend.pins import PinnedRequirement, parse_pins

__all__ = [
    "Installer",
    "InstallerName",
    "NoWheelError",
    "PipInstaller",
    "UvInstaller",
    "find_uv",
    "get_installer",
    "rfc3339",
]

InstallerName = Literal["uv", "pip"]

#: pip learnt ``--uploaded-prior-to`` (resolve as of a date) in 26.0, ``--python`` in 22.3.
_PIP_UPLOADED_PRIOR_TO = (26, 0)
_PIP_PYTHON_OPTION = (22, 3)

#: How uv names a package it found no wheel of when building is off: its hint (uv 0.5 and
#: later), else its explanation ("all versions of x have no usable wheels",
#: "x==1.0 has no usable wheels").
_UV_NO_WHEEL = (
    re.compile(r"Wheels are required for `(?P<name>[^`]+)`"),
    re.compile(
        r"(?:versions of )?(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\S* (?:has|have) no usable wheels"
    ),
)
#: pip's last word when nothing it may use matches a requirement (with ``--only-binary
#: :all:``, an sdist is not something it may use).
_PIP_NO_MATCH = re.compile(r"No matching distribution found for (?P<name>\S+)")
#: What a specifier looks like in uv's explanations (``pytoml>=0.1,<0.2``, ``x==1.0``).
_UV_SPECIFIER = r"(?P<spec>(?:[<>=!~]=?=?[A-Za-z0-9.*+!_-]+,?)+)"


class NoWheelError(BuildError):
    """A build requirement has no wheel the installer may use (it is published only as an
    sdist, at least in the versions allowed). ``name`` is its normalized name; ``specifier``
    the versions asked for, as far as the installer said (``""``: any); ``tool`` the installer
    (``"uv"`` or ``"pip"``)."""

    def __init__(
        self,
        reason: str,
        *,
        name: str,
        specifier: str = "",
        tool: str,
        hint: str | None = None,
        log_tail: str = "",
    ) -> None:
        super().__init__(reason, hint=hint, log_tail=log_tail)
        self.name = name
        self.specifier = specifier
        self.tool = tool


class Installer(Protocol):
    """Resolves, creates and installs build environments (uv, or venv + pip)."""

    @property
    def name(self) -> InstallerName:
        """``"uv"`` or ``"pip"``, as recorded in the environment."""
        ...

    def resolve(
        self,
        requirements_file: Path,
        *,
        interpreter: Interpreter,
        exclude_newer: datetime | None,
        workdir: Path,
    ) -> tuple[PinnedRequirement, ...]:
        """Pin ``requirements_file`` (and everything it needs) to exact versions with hashes,
        for ``interpreter``, as the index was at ``exclude_newer``. ``workdir`` is a scratch
        folder that lives until :meth:`install` has run."""
        ...

    def create(self, target: Path, *, interpreter: Interpreter, workdir: Path) -> Path:
        """Create an empty virtual environment at ``target``; return its Python."""
        ...

    def install(
        self, pins_file: Path, *, interpreter: Interpreter, target_python: Path, workdir: Path
    ) -> None:
        """Install exactly the pins of ``pins_file`` (hashes required, no dependencies) into
        the environment of ``target_python``, made from ``interpreter``."""
        ...


def rfc3339(moment: datetime) -> str:
    """``moment`` in UTC as ``YYYY-MM-DDTHH:MM:SSZ`` (a naive time is taken to be UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _wheels_only(run: Callable[[], str], patterns: tuple[re.Pattern[str], ...], tool: str) -> str:
    """``run()``'s output; when it fails because a package has no wheel (one of ``patterns``
    names it in the log), a :class:`BuildError` that says so."""
    try:
        return run()
    except BuildError as exc:
        for pattern in patterns:
            if match := pattern.search(exc.log_tail):
                raise no_wheel_error(match["name"], tool=tool, log_tail=exc.log_tail) from exc
        raise


def _asked_versions(name: str, requirement: Requirement | None, log_tail: str) -> str:
    """The versions of ``name`` asked for: ``requirement``'s specifier, and those uv's
    explanation in ``log_tail`` gives it (``x>=1 depends on name<2``, ``you require
    name==1.0``, ``name==1.0 has no usable wheels``), joined; ``""`` when none is said."""
    specifiers = SpecifierSet(str(requirement.specifier)) if requirement else SpecifierSet()
    spelled = "[-_.]+".join(re.escape(part) for part in re.split(r"[-_.]+", name))
    patterns = (
        rf"depends on {spelled}{_UV_SPECIFIER}",
        rf"you require {spelled}{_UV_SPECIFIER}",
        rf"(?<![\w.-]){spelled}{_UV_SPECIFIER} (?:has|have) no usable wheels",
    )
    for pattern in patterns:
        for match in re.finditer(pattern, log_tail, flags=re.IGNORECASE):
            try:
                specifiers &= SpecifierSet(match["spec"].rstrip(","))
            except InvalidSpecifier:
                continue
    return str(specifiers)


def no_wheel_error(requirement: str, *, tool: str, log_tail: str = "") -> NoWheelError:
    """The error for a build requirement (a name, or a name and version) that has no wheel
    ``tool`` may install (pip cannot tell that from a name it found nothing for at all: it
    says less)."""
    parsed: Requirement | None
    try:
        parsed = Requirement(requirement)
        name = parsed.name
    except InvalidRequirement:
        parsed, name = None, requirement
    if tool == "pip":
        reason = (
            f"pip found no wheel for the build requirement {requirement}: if it is published "
            "only as an sdist, building it would run its code outside the sandbox"
        )
    else:
        reason = (
            f"the build requirement {requirement} has no wheel {tool} could use: building it "
            "from its sdist would run its code outside the sandbox"
        )
    return NoWheelError(
        reason + ", so reprobuild installs build requirements from wheels only",
        name=canonicalize_name(name),
        specifier=_asked_versions(name, parsed, log_tail),
        tool=tool,
        hint=("check the name; " if tool == "pip" else "")
        + f"require a version of {name} published as a wheel for this Python (a newer one, "
        "or a later cut-off date), or build its wheel yourself, in a sandbox, and offer it "
        "through pip's find-links or an index of your own"
        + (f"\nthe last lines {tool} wrote:\n{log_tail}" if log_tail else ""),
        log_tail=log_tail,
    )


def venv_python(venv: Path) -> Path:
    """The interpreter of the virtual environment at ``venv``."""
    if os.name == "nt":  # pragma: no cover - reprobuild is tested on POSIX
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


@functools.lru_cache(maxsize=1)
def find_uv() -> str | None:
    """The path of a uv binary that runs, from the ``uv`` Python package; ``None`` without."""
    try:
        from uv import find_uv_bin
    except ImportError:
        return None
    try:
        path = str(find_uv_bin())
        proc = subprocess.run(
            [path, "--version"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return path if proc.returncode == 0 else None


def get_installer(
    name: InstallerName | None, *, index: IndexConfig | None, find_links: Sequence[Path] = ()
) -> Installer:
    """The installer called ``name``, or uv when it runs and pip otherwise (``None``).

    ``index`` is an explicit index configuration; ``None`` uses pip's own (which uv is given
    as options, see :mod:`reprobuild.frontend.indexes`). ``find_links`` are folders of wheels
    searched besides it (wheels reprobuild built in the sandbox).
    """
    if name not in {None, "uv", "pip"}:
        raise ValueError(f"unknown installer {name!r}: use 'uv' or 'pip'")
    if name in {None, "uv"}:
        uv = find_uv()
        if uv is not None:
            return UvInstaller(uv, index=index, find_links=find_links)
        if name == "uv":
            raise BuildError(
                "uv is not available: the uv package is not installed or its binary does not run",
                hint="install reprobuild's dependencies (pip install uv), or use pip",
            )
    return PipInstaller(index=index, find_links=find_links)


def _links_args(find_links: Sequence[Path]) -> list[str]:
    return [arg for folder in find_links for arg in ("--find-links", str(Path(folder).absolute()))]


class UvInstaller:
    """``uv pip compile --generate-hashes``, ``uv venv --relocatable``, ``uv pip install``."""

    name: InstallerName = "uv"

    def __init__(
        self, uv: str, *, index: IndexConfig | None, find_links: Sequence[Path] = ()
    ) -> None:
        self.uv = uv
        self._index = index
        self.find_links = tuple(find_links)

    @functools.cached_property
    def index(self) -> IndexConfig:
        """The index configuration given, else pip's (read only when an index is needed)."""
        return load_index_config() if self._index is None else self._index

    def _environ(self) -> dict[str, str]:
        return {**os.environ, **self.index.uv_environ()}

    def resolve(
        self,
        requirements_file: Path,
        *,
        interpreter: Interpreter,
        exclude_newer: datetime | None,
        workdir: Path,
    ) -> tuple[PinnedRequirement, ...]:
        cmd: list[str | Path] = [
            self.uv,
            "pip",
            "compile",
            requirements_file,
            "--generate-hashes",
            "--python",
            interpreter.executable,
            "--no-header",
            "--no-annotate",
            "--no-progress",
            "--color",
            "never",
            # wheels only: reading an sdist's metadata means running its build
            "--no-build",
            *self.index.uv_args(),
            *_links_args(self.find_links),
        ]
        if exclude_newer is not None:
            cmd += ["--exclude-newer", rfc3339(exclude_newer)]
        # the scratch folder as working directory: a uv.toml of the project built, or of the
        # folder reprobuild runs in, must not change what is resolved
        out = _wheels_only(
            lambda: run_tool(
                cmd,
                what="resolving the build requirements with uv",
                env=self._environ(),
                cwd=workdir,
                hint="check the requirement names and versions, and that the package index answers",
            ),
            _UV_NO_WHEEL,
            "uv",
        )
        return parse_pins(out)

    def create(self, target: Path, *, interpreter: Interpreter, workdir: Path) -> Path:
        run_tool(
            [
                self.uv,
                "venv",
                target,
                "--python",
                interpreter.executable,
                "--relocatable",  # moved into place once complete: scripts must survive that
                "--no-progress",
                "--color",
                "never",
                "--quiet",
            ],
            what="creating a virtual environment with uv",
            env=dict(os.environ),
            cwd=workdir,
        )
        return venv_python(target)

    def install(
        self, pins_file: Path, *, interpreter: Interpreter, target_python: Path, workdir: Path
    ) -> None:
        # uv compiles with a script that needs Python 3.7 (py_compile's invalidation modes):
        # older ones compile with their own compileall, after the install
        own_compile = _version_tuple(interpreter.version) < (3, 7)
        command: list[str | Path] = [
            self.uv,
            "pip",
            "install",
            "--require-hashes",
            "--no-deps",
            "--no-build",  # pins recorded elsewhere may name an sdist: never build it
            "-r",
            pins_file,
            "--python",
            target_python,
            # every hook of every build imports the backend anew, and builds write no byte
            # code (PYTHONDONTWRITEBYTECODE): without it, each import compiles the
            # backend's modules again (setuptools: 0.23 s an import, 0.13 s with it). The
            # byte code names the temporary folder the environment is made in, which no
            # import sees: CPython gives the code it loads the path it loaded it for
            *([] if own_compile else ["--compile-bytecode"]),
            "--no-progress",
            "--color",
            "never",
            *self.index.uv_args(),
            *_links_args(self.find_links),
        ]
        _wheels_only(
            lambda: run_tool(
                command,
                what="installing the build requirements with uv",
                env=self._environ(),
                cwd=workdir,
            ),
            _UV_NO_WHEEL,
            "uv",
        )
        if own_compile:
            # the standard library's compileall only reads and compiles the files: nothing
            # installed runs
            run_tool(
                [
                    target_python,
                    "-I",
                    "-m",
                    "compileall",
                    "-q",
                    target_python.parent.parent / "lib",
                ],
                what="compiling the build requirements' byte code",
                cwd=workdir,
            )


class PipInstaller:
    """``pip download`` (hashes computed here), ``python -m venv``, ``pip install``.

    pip reads its own configuration; an explicit :class:`IndexConfig` is passed as options.
    With ``find_links``, pip's own configuration is passed as options too: a ``--find-links``
    on the command line replaces those of its configuration, it does not add to them.
    """

    name: InstallerName = "pip"

    def __init__(self, *, index: IndexConfig | None, find_links: Sequence[Path] = ()) -> None:
        if find_links and index is None:
            index = load_index_config()
        self.index_args = [] if index is None else index.pip_args()
        self.index_args += _links_args(find_links)
        self._pip_versions: dict[Path, tuple[int, ...]] = {}

    def _pip(self, interpreter: Interpreter) -> list[str | Path]:
        return [
            interpreter.executable,
            "-m",
            "pip",
            "--disable-pip-version-check",
            "--no-input",
            "--no-color",
        ]

    def _version(self, interpreter: Interpreter) -> tuple[int, ...]:
        if interpreter.executable not in self._pip_versions:
            out = run_tool(
                [*self._pip(interpreter), "--version"],
                what=f"running pip with {interpreter.executable}",
                hint="install uv (pip install uv), or pip for that interpreter",
            )
            match = re.match(r"pip (\d+)\.(\d+)", out)
            self._pip_versions[interpreter.executable] = (
                (int(match[1]), int(match[2])) if match else (0, 0)
            )
        return self._pip_versions[interpreter.executable]

    def resolve(
        self,
        requirements_file: Path,
        *,
        interpreter: Interpreter,
        exclude_newer: datetime | None,
        workdir: Path,
    ) -> tuple[PinnedRequirement, ...]:
        version = self._version(interpreter)
        downloads = workdir / "downloads"
        cmd: list[str | Path] = [
            *self._pip(interpreter),
            "download",
            "--progress-bar",
            "off",
            "--dest",
            downloads,
            "--only-binary",  # wheels only: reading an sdist's metadata means running its build
            ":all:",
            "-r",
            requirements_file,
            *self.index_args,
        ]
        if exclude_newer is not None:
            if version < _PIP_UPLOADED_PRIOR_TO:
                raise BuildError(
                    f"pip {'.'.join(map(str, version))} cannot resolve requirements as of a "
                    "date (it needs --uploaded-prior-to, pip 26.0 or later)",
                    hint="install uv (pip install uv) or a newer pip, or build without "
                    "--exclude-newer",
                )
            cmd += ["--uploaded-prior-to", rfc3339(exclude_newer)]
        _wheels_only(
            lambda: run_tool(
                cmd,
                what="resolving the build requirements with pip",
                cwd=workdir,
                hint="check the requirement names and versions, and that the package index answers",
            ),
            (_PIP_NO_MATCH,),
            "pip",
        )
        lines = []
        for file in sorted(downloads.iterdir()):
            name, version_text = _name_and_version(file.name)
            lines.append(f"{name}=={version_text} --hash=sha256:{sha256_file(file)}")
        return parse_pins("\n".join(lines))

    def create(self, target: Path, *, interpreter: Interpreter, workdir: Path) -> Path:
        with_pip = self._version(interpreter) < _PIP_PYTHON_OPTION
        run_tool(
            [
                interpreter.executable,
                "-m",
                "venv",
                *([] if with_pip else ["--without-pip"]),
                target,
            ],
            what="creating a virtual environment with venv",
            cwd=workdir,
        )
        return venv_python(target)

    def install(
        self, pins_file: Path, *, interpreter: Interpreter, target_python: Path, workdir: Path
    ) -> None:
        if self._version(interpreter) < _PIP_PYTHON_OPTION:
            pip: list[str | Path] = [target_python, "-m", "pip", "--disable-pip-version-check"]
        else:
            pip = [*self._pip(interpreter), "--python", target_python]
        downloads = workdir / "downloads"
        # the very files resolved (and hashed) above, and no other; pins given by the caller
        # (nothing downloaded) come from the index
        source: list[str | Path] = (
            ["--no-index", "--find-links", downloads] if downloads.is_dir() else [*self.index_args]
        )
        command: list[str | Path] = [
            *pip,
            "install",
            "--progress-bar",
            "off",
            "--require-hashes",
            "--no-deps",
            "--only-binary",  # see resolve
            ":all:",
            *source,
            "--compile",  # see UvInstaller.install
            "-r",
            pins_file,
        ]
        _wheels_only(
            lambda: run_tool(
                command, what="installing the build requirements with pip", cwd=workdir
            ),
            (_PIP_NO_MATCH,),
            "pip",
        )


def _name_and_version(filename: str) -> tuple[str, str]:
    try:
        if filename.endswith(".whl"):
            name, version, _build, _tags = parse_wheel_filename(filename)
        else:
            name, version = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename) as exc:
        raise BuildError(f"pip downloaded a file reprobuild cannot name: {filename}") from exc
    return str(name), str(version)


def _version_tuple(version: str) -> tuple[int, ...]:
    """``"3.6.15"`` as ``(3, 6, 15)``; what is not a number ends it."""
    parts: list[int] = []
    for part in version.split("."):
        if not part.isdigit():
            break
        parts.append(int(part))
    return tuple(parts)
