"""The Python interpreter a build environment is made from."""

from __future__ import annotations

import json
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

from reprobuild.errors import BuildError
from reprobuild.frontend._run import run_tool

__all__ = ["Interpreter", "find_interpreter"]

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
