"""Packaging meaning of archives: which artifact a file is, its dist-info, its RECORD.

Pure functions over the archive model; no file is opened here.
"""

from __future__ import annotations

import base64
import csv
import enum
import io
from collections.abc import Callable
from dataclasses import dataclass

from reprobuild._fs import digest
from reprobuild.archive import Archive, Container, Member
from reprobuild.errors import ArchiveError

__all__ = [
    "ArtifactKind",
    "RecordRow",
    "artifact_kind",
    "dist_info_dir",
    "dist_info_text",
    "member_record_hash",
    "parse_record",
    "path_order_key",
    "record_hash",
    "render_record",
    "wheel_order_key",
]


class ArtifactKind(enum.Enum):
    WHEEL = "wheel"
    SDIST = "sdist"
    ZIP = "zip"
    TAR = "tar"


_SDIST_SUFFIXES = (".tar.gz", ".tgz", ".zip", ".tar.bz2", ".tar.xz", ".tar")


def artifact_kind(filename: str, archive: Archive) -> ArtifactKind:
    """A wheel by its name; an sdist when one top folder holds a PKG-INFO; else plain."""
    if filename.endswith(".whl") and archive.container is Container.ZIP:
        return ArtifactKind.WHEEL
    if filename.endswith(_SDIST_SUFFIXES):
        tops = {m.path.split("/", 1)[0] for m in archive.members}
        if len(tops) == 1:
            top = next(iter(tops))
            if any(m.path == f"{top}/PKG-INFO" for m in archive.members):
                return ArtifactKind.SDIST
    return ArtifactKind.ZIP if archive.container is Container.ZIP else ArtifactKind.TAR


def dist_info_dir(archive: Archive) -> str:
    """The wheel's ``{name}-{version}.dist-info`` folder (exactly one must hold a RECORD)."""
    found = sorted(
        {
            m.path.split("/", 1)[0]
            for m in archive.members
            if m.path.count("/") == 1
            and m.path.split("/", 1)[0].endswith(".dist-info")
            and m.path.endswith("/RECORD")
        }
    )
    if len(found) != 1:
        raise ArchiveError(
            "a wheel needs exactly one .dist-info folder with a RECORD; found "
            + (", ".join(found) or "none"),
            member="*.dist-info/RECORD",
        )
    return found[0]


def dist_info_text(wheel: Archive, leaf: str) -> str | None:
    """The text of the wheel's ``*.dist-info/leaf`` (``METADATA``, ``WHEEL``), or None."""
    for member in wheel.members:
        parts = member.path.split("/")
        if len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == leaf:
            return member.data().decode("utf-8", "replace")
    return None


def path_order_key(member: Member) -> tuple[str, ...]:
    """Order by path components, so a folder comes right before what it holds."""
    return tuple(member.path.split("/"))


_RECORD_LAST = ("RECORD", "RECORD.jws", "RECORD.p7s")


def wheel_order_key(dist_info: str) -> Callable[[Member], tuple[int, int, tuple[str, ...]]]:
    """The canonical member order of a wheel.

    Package files first, sorted by path components; then the ``.dist-info`` folder, sorted, with
    RECORD (and its signatures) last. The wheel specification asks for the dist-info at the end
    so that RECORD can be written last and a streaming reader finds the files it lists before it.
    """

    def key(member: Member) -> tuple[int, int, tuple[str, ...]]:
        parts = tuple(member.path.split("/"))
        in_dist_info = parts[0] == dist_info
        last = in_dist_info and len(parts) == 2 and parts[1] in _RECORD_LAST
        rank = _RECORD_LAST.index(parts[1]) if last else -1
        return (1 if in_dist_info else 0, rank, parts)

    return key


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordRow:
    """One row of a wheel's RECORD: a path, ``algo=digest`` (urlsafe base64) and a size."""

    path: str
    hash: str = ""
    size: str = ""


def parse_record(data: bytes, *, member: str) -> tuple[RecordRow, ...]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ArchiveError(f"RECORD is not UTF-8: {exc}", member=member) from exc
    rows = []
    reader = csv.reader(io.StringIO(text, newline=""))  # a quoted name may hold a line break
    try:
        for fields in reader:
            if not fields:
                continue
            if len(fields) != 3:
                shown = repr(fields) if len(repr(fields)) <= 200 else f"{repr(fields)[:200]}…"
                raise ArchiveError(
                    f"RECORD row {reader.line_num} has {len(fields)} fields, not 3: {shown}",
                    member=member,
                )
            rows.append(RecordRow(path=fields[0], hash=fields[1], size=fields[2]))
    except csv.Error as exc:  # a stray quote or line break, a field over csv's size limit
        raise ArchiveError(
            f"RECORD is not valid CSV at line {reader.line_num}: {exc}",
            member=member,
            hint="a wheel's RECORD lists one file a line: path, hash, size",
        ) from exc
    return tuple(rows)


def render_record(rows: tuple[RecordRow, ...] | list[RecordRow]) -> bytes:
    """RECORD as CSV with ``\\n`` line ends, as the ``wheel`` package and flit write it."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=",", quotechar='"', lineterminator="\n")
    for row in rows:
        writer.writerow((row.path, row.hash, row.size))
    return out.getvalue().encode("utf-8")


def record_hash(data: bytes, algorithm: str = "sha256") -> str:
    """``algorithm=digest`` in RECORD's urlsafe-base64-without-padding form."""
    return _record_form(algorithm, digest(algorithm, data))


def member_record_hash(member: Member, algorithm: str) -> str:
    """:func:`record_hash` of a member's content, reusing its sha256 rather than reading again."""
    if algorithm == "sha256" and member.sha256:
        return _record_form(algorithm, bytes.fromhex(member.sha256))
    return record_hash(member.data(), algorithm)


def _record_form(algorithm: str, digest: bytes) -> str:
    return f"{algorithm}=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
