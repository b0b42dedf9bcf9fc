"""The Python interpreter a build environment is made from."""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reprobuild.errors import BuildError
from reprobuild.frontend._run import run_tool

__all__ = ["Interpreter", "find_interpreter", "find_pythons"]

_QUERY = (
    "import json, platform, sys; print(json.dumps({'implementation': sys.implementation.name, "
    "'version': platform.python_version(), 'base': sys.base_prefix, "
    "'executable': sys.executable}))"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Interpreter:
    """A Python interpreter: the ``executable`` given, its ``implementation`` (``cpython``,
    ``pypy``), full ``version`` (``3.11.7``) and ``base`` installation (``sys.base_prefix``)."""

    executable: Path
    implementation: str
    version: str
    base: str


def find_interpreter(python: Path | None = None) -> Interpreter:
    """Describe ``python``, or the interpreter running reprobuild when it is ``None``.

    ``python`` is a path, or a command name looked up on ``PATH``; the description holds the
    absolute path the interpreter reports for itself.

    Raises :class:`BuildError` when ``python`` does not run.
    """
    if python is None:
        return Interpreter(
            executable=Path(sys.executable),
            implementation=sys.implementation.name,
            version=platform.python_version(),
            base=sys.base_prefix,
        )
    out = run_tool(
        [python, "-c", _QUERY],
        what=f"asking {python} for its version",
        hint="give the path of a working Python interpreter",
    )
    try:
        info = json.loads(out)
        return Interpreter(
            executable=Path(str(info["executable"]) or python),
            implementation=str(info["implementation"]),
            version=str(info["version"]),
            base=str(info["base"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise BuildError(f"{python} did not answer like a Python interpreter") from exc


def find_pythons(
    search_path: str | None = None, *, extra_folders: Sequence[Path] = ()
) -> tuple[Interpreter, ...]:
    """The CPython interpreters this machine has, one per minor version, oldest first.

    Looked for: ``python3.N`` commands on ``search_path`` (default ``PATH``), and
    ``bin/python3`` of every installation below ``extra_folders`` (default: pyenv's
    ``versions`` folder, when there is one). Each candidate is run once to ask its version; one
    that does not run (a version manager's shim for a version not selected) is skipped.
    """
    path = os.environ.get("PATH", "") if search_path is None else search_path
    if not extra_folders:
        root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
        extra_folders = (root,)
    found: dict[tuple[int, int], Interpreter] = {}

    def consider(candidate: Path) -> None:
        try:
            interpreter = find_interpreter(candidate)
        except BuildError:
            return
        key = _minor(interpreter.version)
        if interpreter.implementation == "cpython" and key is not None:
            found.setdefault(key, interpreter)

    for folder in extra_folders:
        if folder.is_dir():
            for candidate in sorted(folder.glob("*/bin/python3")):
                consider(candidate)
    for entry in path.split(os.pathsep):
        for minor in range(6, 30):
            candidate = Path(entry or ".") / f"python3.{minor}"
            if (3, minor) in found or not candidate.is_file() or not os.access(candidate, os.X_OK):
                continue
            consider(candidate)
    return tuple(found[key] for key in sorted(found))


def _minor(version: str) -> tuple[int, int] | None:
    parts = version.split(".")
    try:
        return int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        return None
