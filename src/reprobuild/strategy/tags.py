"""What a pure wheel's file name says about the Python that built it.

A release with one pure wheel per Python (``py310-none-any``, ``py311-none-any``, …) was built
once with each: a build hook names the wheel after the interpreter running it, and what it
holds may differ too. Such a tag names a minor version, and the rebuild wants that Python. A
tag of the major version alone (``py3``, ``py2.py3``) names none: it is what a backend writes
whatever Python it runs on.
"""

from __future__ import annotations

import re

from packaging.utils import InvalidWheelFilename, parse_wheel_filename

__all__ = ["named_python", "python2_only"]

_MINOR = re.compile(r"^(?:py|cp)(?P<major>[23])(?P<minor>\d+)$")


def named_python(filename: str) -> tuple[str, str] | None:
    """The CPython minor version (``"3.12"``) every tag of the wheel ``filename`` names, with
    the tag; None when its tags name none, or several."""
    try:
        _, _, _, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        return None
    found = {
        (match["major"], match["minor"], tag.interpreter)
        for tag in tags
        if (match := _MINOR.match(tag.interpreter))
    }
    if len(found) != 1 or any(not _MINOR.match(tag.interpreter) for tag in tags):
        return None
    ((major, minor, interpreter),) = found
    return f"{major}.{int(minor)}", interpreter


def python2_only(filename: str) -> bool:
    """True when every tag of the wheel ``filename`` is for Python 2 (``py2``, ``py27``)."""
    try:
        _, _, _, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        return False
    return bool(tags) and all(tag.interpreter.startswith(("py2", "cp2")) for tag in tags)
