"""Replaying a build clock: the publisher's instant, for a build that did not fix its times.

:func:`clock_variables` writes reprobuild's clock shim (``_clockshim.py``) as
``sitecustomize.py`` into a folder of the build and returns the variables that load it in every
Python process of the build: the clock stands at ``instant``, and files written since ``since``
(the real time the build started) report ``instant`` as their times. Files older than that, the
unpacked sdist among them, keep their own.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["clock_variables"]

_SHIM = Path(__file__).with_name("_clockshim.py")


def clock_variables(instant: int, *, since: float, folder: Path) -> dict[str, str]:
    """Write the shim into ``folder`` and return the variables a build needs to replay
    ``instant`` (``PYTHONPATH`` names ``folder``: give the build no other)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_bytes(_SHIM.read_bytes())
    return {
        "PYTHONPATH": str(folder),
        "REPROBUILD_BUILD_CLOCK": str(int(instant)),
        "REPROBUILD_BUILD_CLOCK_SINCE": repr(float(since)),
    }
