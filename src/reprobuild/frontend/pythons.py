"""CPython interpreters from uv, for a rebuild that wants a version this machine lacks.

A recipe names the Python a release was built with; :func:`~reprobuild.frontend.find_pythons`
finds those on ``PATH`` (and pyenv's). For a version not among them, :class:`UvPythons` asks
uv, in this order:

1. ``uv python find cpython@3.X``, never downloading: an interpreter uv manages (installed
   earlier by ``uv python install``) or one it finds elsewhere on the machine;
2. ``uv python install 3.X``, only when downloads are allowed: not with ``downloads=False``
   (``verify --no-python-downloads``), nor when uv's own ``UV_PYTHON_DOWNLOADS`` is ``never``.
   It downloads a CPython build, so it needs the internet: it is given :data:`INSTALL_TIMEOUT`
   seconds, tried at most once per version in a run (worker processes share a state folder,
   under a lock), and its failure is remembered for the rest of the run.

When neither gives one, the answer says why, and the caller keeps its substitution (the
nearest version this machine has).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from reprobuild.errors import BuildError
from reprobuild.frontend._run import run_tool
from reprobuild.frontend.interpreter import Interpreter, find_interpreter

__all__ = ["INSTALL_TIMEOUT", "ProvidedPython", "PythonProvider", "UvPythons", "downloads_allowed"]

#: Seconds ``uv python install`` may take (a CPython build is some 30 MB to download).
INSTALL_TIMEOUT = 120.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ProvidedPython:
    """What was found for a wanted version: the ``interpreter`` (None: none) and ``how``, one
    phrase: how it was found, or why there is none."""

    interpreter: Interpreter | None
    how: str


class PythonProvider(Protocol):
    """Gives an interpreter of a CPython minor version (``"3.14"``), or says why it cannot."""

    def __call__(self, minor: str) -> ProvidedPython: ...


def downloads_allowed(environ: Mapping[str, str]) -> bool:
    """Whether uv's own setting allows downloading Pythons (``UV_PYTHON_DOWNLOADS`` is not
    ``never``; ``manual`` allows an explicit ``uv python install``)."""
    return environ.get("UV_PYTHON_DOWNLOADS", "").strip().lower() != "never"


class UvPythons:
    """A :class:`PythonProvider` that asks the uv binary ``uv`` (None: no uv, nothing found).

    ``downloads`` False never runs ``uv python install``; ``state`` is a folder shared by the
    processes of one run, where each version's failed install is remembered (None: in this
    object only); ``environ`` is the environment uv runs with (default: this process's).
    """

    def __init__(
        self,
        uv: str | None,
        *,
        downloads: bool = True,
        state: Path | None = None,
        timeout: float = INSTALL_TIMEOUT,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.uv = uv
        self.environ = dict(os.environ if environ is None else environ)
        self.downloads = downloads and downloads_allowed(self.environ)
        self.state = state
        self.timeout = timeout
        self._answers: dict[str, ProvidedPython] = {}

    def __call__(self, minor: str) -> ProvidedPython:
        if minor not in self._answers:
            self._answers[minor] = self._provide(minor)
        return self._answers[minor]

    def _provide(self, minor: str) -> ProvidedPython:
        if self.uv is None:
            return ProvidedPython(interpreter=None, how="no uv to find or install it with")
        failed = self._failure(minor)
        if failed is not None:  # installing it failed earlier in this run: nothing to find
            return ProvidedPython(interpreter=None, how=failed)
        found = self._find(minor)
        if found is not None:
            return ProvidedPython(interpreter=found, how="found by uv (uv python find)")
        if not self.downloads:
            return ProvidedPython(
                interpreter=None,
                how=f"uv has none, and downloading Python {minor} is off "
                "(--no-python-downloads, or UV_PYTHON_DOWNLOADS=never)",
            )
        with self._locked(minor):
            failed = self._failure(minor)
            if failed is None:
                found = self._find(minor)  # another process of this run may have installed it
                if found is not None:
                    return ProvidedPython(interpreter=found, how="found by uv (uv python find)")
                failed = self._install(minor)
            if failed:
                return ProvidedPython(interpreter=None, how=failed)
        found = self._find(minor)
        if found is None:
            return ProvidedPython(
                interpreter=None,
                how=f"uv python install {minor} ran, but uv python find finds no CPython {minor}",
            )
        return ProvidedPython(interpreter=found, how=f"installed by uv (uv python install {minor})")

    def _find(self, minor: str) -> Interpreter | None:
        """The CPython ``minor`` uv finds without downloading anything, or None."""
        assert self.uv is not None
        try:
            out = run_tool(
                [
                    self.uv,
                    "python",
                    "find",
                    f"cpython@{minor}",
                    "--no-python-downloads",
                    "--no-project",
                    "--no-config",
                    "--color",
                    "never",
                ],
                what=f"looking for Python {minor} with uv",
                env={**self.environ, "UV_PYTHON_DOWNLOADS": "never"},
                timeout=60,
            )
            lines = out.strip().splitlines()
            if not lines:
                return None
            interpreter = find_interpreter(Path(lines[-1].strip()))
        except BuildError:
            return None
        wanted = minor.split(".")[:2]
        if interpreter.implementation != "cpython" or interpreter.version.split(".")[:2] != wanted:
            return None
        return interpreter

    def _install(self, minor: str) -> str:
        """Run ``uv python install minor``; "" when it succeeded, else why not (remembered)."""
        assert self.uv is not None
        try:
            run_tool(
                [self.uv, "python", "install", minor, "--no-progress", "--color", "never"],
                what=f"uv python install {minor}",
                env=self.environ,
                timeout=self.timeout,
            )
        except BuildError as exc:
            said = [line.strip() for line in exc.log_tail.splitlines() if line.strip()]
            why = exc.reason + (f": {said[-1][:200]}" if said else "")
            why += " (a machine without internet access cannot download Pythons)"
            self._remember(minor, why)
            return why
        return ""

    def _failure(self, minor: str) -> str | None:
        """Why installing ``minor`` failed earlier in this run, or None."""
        if self.state is None:
            return None
        try:
            return (self.state / f"python-{minor}.failed").read_text(encoding="utf-8")
        except OSError:
            return None

    def _remember(self, minor: str, why: str) -> None:
        if self.state is not None:
            (self.state / f"python-{minor}.failed").write_text(why, encoding="utf-8")

    @contextlib.contextmanager
    def _locked(self, minor: str) -> Iterator[None]:
        """One process of the run at a time installs ``minor``; the others wait for it."""
        if self.state is None:
            yield
            return
        self.state.mkdir(parents=True, exist_ok=True)
        with (self.state / f"python-{minor}.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield
