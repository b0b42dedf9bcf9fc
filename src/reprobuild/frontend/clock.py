"""Replaying a build clock: the publisher's instant, for a build that did not fix its times.

:func:`clock_variables` writes reprobuild's clock shim (``_clockshim.py``) as
``sitecustomize.py`` into a folder of the build and returns the variables that load it in every
Python process of the build: the clock stands at ``instant``, and files written since ``since``
(the real time the build started) report ``instant`` as their times. Files older than that, the
unpacked sdist among them, keep their own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

__all__ = ["clock_variables"]

_SHIM = Path(__file__).with_name("_clockshim.py")


def clock_variables(
    instant: int,
    *,
    since: float,
    folder: Path,
    kept: Mapping[Path, tuple[str, int, int]] | None = None,
    reads: int | None = None,
    dist_info: int | None = None,
) -> dict[str, str]:
    """Write the shim into ``folder`` and return the variables a build needs to replay
    ``instant`` (``PYTHONPATH`` names ``folder``: give the build no other).

    ``kept`` maps files to their sha256, size and time: written again during the build with the
    same bytes, such a file is reported at that time rather than at ``instant``. ``reads`` is
    what the clock reads (``time.time()`` and the like) when not ``instant``, while the files
    the build writes still carry ``instant``: a publisher's clock that moved on during the
    build, as the RECORD its wheel writer stamped last shows. ``dist_info`` is the time of the
    files the build writes inside a ``.dist-info`` folder, when not ``instant``: bdist_wheel
    copies the egg-info files in with their times, then writes METADATA, WHEEL and the license
    files later.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_bytes(_SHIM.read_bytes())
    variables = {
        "PYTHONPATH": str(folder),
        "REPROBUILD_BUILD_CLOCK": str(int(instant)),
        "REPROBUILD_BUILD_CLOCK_SINCE": repr(float(since)),
    }
    if reads is not None and reads != instant:
        variables["REPROBUILD_BUILD_CLOCK_READS"] = str(int(reads))
    if dist_info is not None and dist_info != instant:
        variables["REPROBUILD_BUILD_CLOCK_DIST_INFO"] = str(int(dist_info))
    if kept:
        listing = folder / "kept.json"
        document = {str(path.resolve()): list(entry) for path, entry in sorted(kept.items())}
        listing.write_text(json.dumps(document), encoding="utf-8")
        variables["REPROBUILD_BUILD_CLOCK_KEPT"] = str(listing)
    return variables
