"""Pinned requirements: exact versions with their sha256 hashes, in pip's requirements format.

A resolution's output (``uv pip compile --generate-hashes``) is parsed into
:class:`PinnedRequirement` values, written back as a requirements file for a
``--require-hashes`` install, and summed up in the key of the environment that holds them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from reprobuild.errors import BuildError

__all__ = ["PinnedRequirement", "environment_key", "parse_pins", "render_pins"]

_HASH = re.compile(r"--hash[=\s]+(?P<algorithm>\w+):(?P<digest>[0-9a-fA-F]+)")


@dataclass(frozen=True, slots=True, kw_only=True)
class PinnedRequirement:
    """One package at one exact version, and the sha256 hashes of the files allowed for it.

    ``name`` is normalized (PEP 503: lower case, runs of ``-_.`` as one ``-``); ``hashes`` are
    ``"sha256:<hex>"`` strings, sorted.
    """

    name: str
    version: str
    hashes: tuple[str, ...]

    def line(self) -> str:
        """The requirements-file line: ``name==version --hash=sha256:... ...``."""
        return " ".join([f"{self.name}=={self.version}", *(f"--hash={h}" for h in self.hashes)])


def parse_pins(text: str) -> tuple[PinnedRequirement, ...]:
    """Parse a hashed requirements file (continuation lines, comments and options allowed).

    Every requirement must be ``name==version`` with at least one sha256 hash; anything else
    (a range, a URL, an unhashed line) raises :class:`BuildError`, since it is not a pin.
    The result is sorted by name.
    """
    logical = re.sub(r"\\\r?\n", " ", text)
    pins: dict[str, PinnedRequirement] = {}
    for raw in logical.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        hashes = sorted(
            f"{m['algorithm'].lower()}:{m['digest'].lower()}"
            for m in _HASH.finditer(line)
            if m["algorithm"].lower() == "sha256"
        )
        spec = _HASH.sub("", line).strip()
        try:
            req = Requirement(spec)
        except InvalidRequirement as exc:
            raise BuildError(f"the resolver wrote {spec!r}, which is not a requirement") from exc
        specifiers = list(req.specifier)
        if req.url or len(specifiers) != 1 or specifiers[0].operator not in {"==", "==="}:
            raise BuildError(
                f"build requirement {spec!r} cannot be pinned to a version from an index",
                hint="build requirements given as URLs or paths are not supported",
            )
        if not hashes:
            raise BuildError(f"build requirement {spec!r} was resolved without a sha256 hash")
        name = canonicalize_name(req.name)
        pins[name] = PinnedRequirement(
            name=name, version=specifiers[0].version, hashes=tuple(hashes)
        )
    return tuple(pins[name] for name in sorted(pins))


def render_pins(pins: Iterable[PinnedRequirement]) -> str:
    """A requirements file with one line per pin, for ``install --require-hashes``."""
    return "".join(f"{pin.line()}\n" for pin in sorted(pins, key=lambda p: p.name))


def environment_key(
    pins: Iterable[PinnedRequirement], *, implementation: str, python_version: str, base: str
) -> str:
    """The sha256 (hex) naming the environment that holds exactly ``pins`` for one interpreter.

    It sums the sorted pin lines and the interpreter's implementation, full version and base
    installation (a virtual environment links to it). The installer is not part of the key:
    the same files installed by uv or pip make the same environment.
    """
    lines = sorted(pin.line() for pin in pins)
    text = "\n".join(
        ["reprobuild-env 1", f"python {implementation} {python_version} {base}", *lines]
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
