"""The two ways of making a build environment: uv, and ``venv`` + pip when uv is missing.

An :class:`Installer` resolves requirements to pins with hashes, creates an empty virtual
environment, and installs pins into it with ``--require-hashes --no-deps``. uv is located
through its Python package (``uv.find_uv_bin``); it is used when that binary runs.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, Protocol

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)

from reprobuild._fs import sha256_file
from reprobuild.errors import BuildError
from reprobuild.frontend._run import run_tool
from reprobuild.frontend.buildsystem import LEGACY_BACKEND_SINCE
from reprobuild.frontend.indexes import IndexConfig, load_index_config
from reprobuild.frontend.interpreter import Interpreter
from reprobuild.frontend.pins import PinnedRequirement, parse_pins

__all__ = [
    "Installer",
    "InstallerName",
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


def get_installer(name: InstallerName | None, *, index: IndexConfig | None) -> Installer:
    """The installer called ``name``, or uv when it runs and pip otherwise (``None``).

    ``index`` is an explicit index configuration; ``None`` uses pip's own (which uv is given
    as options, see :mod:`reprobuild.frontend.indexes`).
    """
    if name not in {None, "uv", "pip"}:
        raise ValueError(f"unknown installer {name!r}: use 'uv' or 'pip'")
    if name in {None, "uv"}:
        uv = find_uv()
        if uv is not None:
            return UvInstaller(uv, index=index)
        if name == "uv":
            raise BuildError(
                "uv is not available: the uv package is not installed or its binary does not run",
                hint="install reprobuild's dependencies (pip install uv), or use pip",
            )
    return PipInstaller(index=index)


class UvInstaller:
    """``uv pip compile --generate-hashes``, ``uv venv --relocatable``, ``uv pip install``."""

    name: InstallerName = "uv"

    def __init__(self, uv: str, *, index: IndexConfig | None) -> None:
        self.uv = uv
        self._index = index

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
            *self.index.uv_args(),
        ]
        if exclude_newer is not None:
            cmd += ["--exclude-newer", rfc3339(exclude_newer)]
            if exclude_newer < LEGACY_BACKEND_SINCE and not _names_setuptools(requirements_file):
                # a requirement published only as an sdist is built, to read its metadata, by
                # setuptools>=40.8.0, which an earlier cut-off hides; the setuptools of that
                # throwaway build does not reach the environment, which does not require it
                cmd += ["--exclude-newer-package", f"setuptools={rfc3339(LEGACY_BACKEND_SINCE)}"]
        # the scratch folder as working directory: a uv.toml of the project built, or of the
        # folder reprobuild runs in, must not change what is resolved
        out = run_tool(
            cmd,
            what="resolving the build requirements with uv",
            env=self._environ(),
            cwd=workdir,
            hint="check the requirement names and versions, and that the package index answers",
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
        run_tool(
            [
                self.uv,
                "pip",
                "install",
                "--require-hashes",
                "--no-deps",
                "-r",
                pins_file,
                "--python",
                target_python,
                # every hook of every build imports the backend anew, and builds write no byte
                # code (PYTHONDONTWRITEBYTECODE): without it, each import compiles the
                # backend's modules again (setuptools: 0.23 s an import, 0.13 s with it). The
                # byte code names the temporary folder the environment is made in, which no
                # import sees: CPython gives the code it loads the path it loaded it for
                "--compile-bytecode",
                "--no-progress",
                "--color",
                "never",
                *self.index.uv_args(),
            ],
            what="installing the build requirements with uv",
            env=self._environ(),
            cwd=workdir,
        )


def _names_setuptools(requirements_file: Path) -> bool:
    """Whether a line of ``requirements_file`` requires setuptools itself."""
    from packaging.requirements import InvalidRequirement, Requirement

    for line in requirements_file.read_text(encoding="utf-8").splitlines():
        try:
            if Requirement(line.split("#", 1)[0]).name.lower() == "setuptools":
                return True
        except InvalidRequirement:
            continue
    return False


class PipInstaller:
    """``pip download`` (hashes computed here), ``python -m venv``, ``pip install``.

    pip reads its own configuration; an explicit :class:`IndexConfig` is passed as options.
    """

    name: InstallerName = "pip"

    def __init__(self, *, index: IndexConfig | None) -> None:
        self.index_args = [] if index is None else index.pip_args()
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
        run_tool(
            cmd,
            what="resolving the build requirements with pip",
            cwd=workdir,
            hint="check the requirement names and versions, and that the package index answers",
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
        run_tool(
            [
                *pip,
                "install",
                "--progress-bar",
                "off",
                "--require-hashes",
                "--no-deps",
                *source,
                "--compile",  # see UvInstaller.install
                "-r",
                pins_file,
            ],
            what="installing the build requirements with pip",
            cwd=workdir,
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
