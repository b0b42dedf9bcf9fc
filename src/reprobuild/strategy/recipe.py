"""The recipe of a rebuild: a handful of parameters, each with the evidence it was inferred from.

A recipe never carries per-member data copied from the artifact it is checked against (member
times, modes, order, hashes): a rebuild that matches only because it copied the answer has
proved nothing. What it may carry is what a publisher chose once for the whole build: the
backend and its version, the Python, ``SOURCE_DATE_EPOCH``, the umask, the date the build
requirements resolved at, and, from a recipe override file, release steps the sdist does not
record.

Most fields are *read*: each :class:`Evidence` names the observation its value rests on. A few
are *fitted*: chosen by scoring candidates against the published file (the time zone that
explains the most member times, the hash seed whose rebuild gives the published bytes). A
fitted value is a search's result, not an observation, and each says so in a :class:`Fitted`
record with the number of tries.
"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from reprobuild.errors import ProjectError

__all__ = ["Evidence", "Fitted", "GzipStep", "Recipe", "gzip_bytes"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    """Why one field of a recipe has its value: ``field`` (a recipe field), the ``value`` as
    text, and ``reason``, the observation it rests on (``WHEEL Generator: hatchling 1.18.0``)."""

    field: str
    value: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Fitted:
    """A recipe field whose value was chosen by trying candidates against the published file
    instead of being read from it.

    ``field`` is the recipe field, ``value`` the value chosen (as text), ``tries`` how many
    candidates were scored or rebuilt (the chosen one included), ``against`` what they were
    scored against (``the published wheel's member times``), and ``reason`` why this value won.
    """

    field: str
    value: str
    tries: int
    against: str
    reason: str

    def describe(self) -> str:
        """The fitting in a few words: ``hash seed after 3 tries``."""
        tries = "1 try" if self.tries == 1 else f"{self.tries} tries"
        return f"{self.field.replace('_', ' ')} after {tries}"


@dataclass(frozen=True, slots=True, kw_only=True)
class GzipStep:
    """Compress ``source`` into ``target`` as ``gzip -<level>c source > target`` does.

    The header is gzip's: the source's base name (FNAME), the source file's modification time
    (MTIME), XFL 2 at level 9 (4 at level 1), and OS 3 (Unix). Both paths are relative to the
    unpacked sdist and may not leave it.
    """

    source: str
    target: str
    level: int = 9

    def describe(self) -> str:
        return f"gzip -{self.level}c {self.source} > {self.target} (recipe override)"

    def apply(self, folder: Path) -> None:
        root = folder.resolve()
        source = (folder / self.source).resolve()
        target = (folder / self.target).resolve()
        for path, text in ((source, self.source), (target, self.target)):
            if root not in path.parents:
                raise ProjectError(f"a recipe step names a path outside the sdist: {text}")
        try:
            data = source.read_bytes()
            mtime = int(source.stat().st_mtime)
        except OSError as exc:
            raise ProjectError(
                f"a recipe step cannot read {self.source}: {exc.strerror or exc}",
                hint="the recipe override does not fit this release",
            ) from exc
        target.write_bytes(gzip_bytes(data, name=source.name, mtime=mtime, level=self.level))
        os.utime(target, (mtime, mtime))


def gzip_bytes(data: bytes, *, name: str, mtime: int, level: int) -> bytes:
    """A gzip member as GNU gzip writes it for a named file at ``level``."""
    flags = 0x08  # FNAME
    xfl = 2 if level == 9 else 4 if level == 1 else 0
    header = struct.pack("<2sBBIBB", b"\x1f\x8b", 8, flags, mtime & 0xFFFFFFFF, xfl, 3)
    header += name.encode("latin-1", "replace") + b"\x00"
    deflater = zlib.compressobj(level, zlib.DEFLATED, -15, zlib.DEF_MEM_LEVEL)
    body = deflater.compress(data) + deflater.flush()
    trailer = struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)
    return header + body + trailer


@dataclass(frozen=True, slots=True, kw_only=True)
class Recipe:
    """How to rebuild one wheel from its sdist.

    ``requirements`` replace the project's build requirements of the same name (the backend at
    the version that made the published file). ``python`` is the interpreter version the
    rebuild runs on and ``wanted_python`` the one inferred (they differ when the machine has no
    such interpreter). ``source_date_epoch`` is exported to the build unless ``None``.
    ``build_clock`` is the instant replayed as the clock of a build without it (the files the
    build writes carry it; see :func:`reprobuild.frontend.clock_variables`), ``closing_clock``
    the time the build's clock reads meanwhile, when later (the publisher's clock at the end of
    its build, which the wheel's writer stamps RECORD with), ``dist_info_clock`` the time of
    the files the build writes inside a ``.dist-info`` folder, when later (bdist_wheel copies
    the egg-info files in with their times and writes METADATA, WHEEL and the licenses
    later), and ``timezone``
    the TZ the build runs in. ``universal`` builds a ``py2.py3`` wheel with setuptools (as
    ``bdist_wheel --universal`` did); ``setup_py`` builds with ``setup.py`` (setuptools' legacy
    backend) though the project names another backend. ``hash_seed`` is the build's
    ``PYTHONHASHSEED``. With ``keep_egg_info`` the egg-info the wheel build writes, when the same
    as the sdist's, keeps the sdist's times (one ``setup.py sdist bdist_wheel`` run).
    ``sources_time`` is the instant the publisher's sources were written (a copy, a fresh
    checkout, all at once): every file of the unpacked sdist gets it (None: each keeps its
    member's time, as pip unpacks an sdist).
    With ``normalized`` the rebuild is normalized (reprobuild's canonical form, times clamped
    to ``source_date_epoch``) before it is compared: the published wheel was, as
    ``reprobuild build`` normalizes what it builds. ``exclude_newer`` is the cut-off for
    resolving build requirements. ``steps`` come from an
    override file, named in ``override``.

    ``evidence`` and ``fitted`` say how the fields were found, not how to rebuild: a read
    field has its :class:`Evidence`, a fitted one its :class:`Fitted` record.
    """

    requirements: tuple[str, ...] = ()
    python: str | None = None
    wanted_python: str | None = None
    source_date_epoch: int | None = None
    build_clock: int | None = None
    closing_clock: int | None = None
    dist_info_clock: int | None = None
    exclude_newer: datetime | None = None
    umask: int = 0o022
    timezone: str = "UTC"
    universal: bool = False
    setup_py: bool = False
    hash_seed: int = 0
    keep_egg_info: bool = False
    sources_time: int | None = None
    normalized: bool = False
    steps: tuple[GzipStep, ...] = ()
    override: str | None = None
    evidence: tuple[Evidence, ...] = ()
    fitted: tuple[Fitted, ...] = ()
