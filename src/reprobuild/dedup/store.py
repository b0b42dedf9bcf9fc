"""Store packages once per distinct member in the cache's content-addressed store, and write
them again bit for bit.

A package is cut into *segments*: the bytes of each member's content, which go into the
:class:`~reprobuild.cache.BlobStore` under the sha256 of the content (the digest the dedup
model gives the member, so a member shared by a wheel, a ``.tar.bz2`` and another package is
one blob), and everything else (headers, the central directory, padding), joined into one
*skeleton* blob. A *manifest* (JSON, a blob too) lists the segments in order and how to
compress them again; ``<store>/dedup/<package sha256>`` names the manifest's blob.

- zip files (wheels, zip sdists): a deflated member is stored inflated when zlib at some level
  deflates it again to the same bytes, else its deflated bytes are stored as they are;
- ``.tar.bz2``: the tar inside is cut into segments, and bzip2 at level 9 must give the file
  back;
- anything else (``.conda``, whose zstd streams are not made again here; ``.tar.gz``), or a file
  the above does not give back: the whole file is one blob.

Every package is written again from its manifest while it is stored, and checked against its
sha256: a manifest that would not give the file back is never written.
"""

from __future__ import annotations

import bz2
import json
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path
from typing import BinaryIO

from reprobuild._fs import atomic_write, sha256_file
from reprobuild._types import JSONValue
from reprobuild.cache import BlobStore
from reprobuild.dedup.read import package_format
from reprobuild.errors import ArchiveError, CacheError
from reprobuild.report import envelope

__all__ = [
    "StoreReport",
    "Stored",
    "materialize",
    "render_stored",
    "store_package",
    "store_packages",
    "stored_document",
]

_BLOCK = 1 << 20
_TAR_BLOCK = 512


@dataclass(frozen=True, slots=True, kw_only=True)
class Stored:
    """One package in the store: its sha256, the manifest's blob, how it was cut
    (``zip``, ``tar.bz2`` or ``whole``), and the digests of the blobs it needs."""

    path: str
    sha256: str
    size: int
    manifest: str
    layout: str
    blobs: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreReport:
    """What storing packages took: their bytes as files, the bytes of the distinct blobs they
    need (each once, as the file system counts them), and each package."""

    packages: tuple[Stored, ...]
    file_bytes: int
    blob_bytes: int
    disk_bytes: int

    @property
    def saved(self) -> int:
        return self.file_bytes - self.disk_bytes


class _Segments:
    """A manifest being made: the skeleton's bytes and the list of segments."""

    def __init__(self) -> None:
        self.skeleton = bytearray()
        self.segments: list[dict[str, JSONValue]] = []

    def fixed(self, data: bytes) -> None:
        if not data:
            return
        span = self.segments[-1].get("skeleton") if self.segments else None
        if isinstance(span, list) and isinstance(span[1], int):
            span[1] += len(data)
        else:
            self.segments.append({"skeleton": [len(self.skeleton), len(data)]})
        self.skeleton += data

    def blob(self, digest: str, size: int, **how: JSONValue) -> None:
        self.segments.append({"blob": digest, "size": size, **how})


def _blocks(handle: BinaryIO, size: int) -> Iterator[bytes]:
    left = size
    while left > 0:
        block = handle.read(min(_BLOCK, left))
        if not block:
            raise ArchiveError("the file ends inside a member")
        left -= len(block)
        yield block


def _deflate_level(store: BlobStore, digest: str, raw_digest: str) -> int | None:
    """The zlib level (6 first, then 9, then the others) that deflates the blob ``digest``
    to bytes of sha256 ``raw_digest``, or None."""
    path = store.path_of(digest)
    for level in (6, 9, 1, 2, 3, 4, 5, 7, 8):
        packer = zlib.compressobj(level, zlib.DEFLATED, -15)
        hasher = sha256()
        with path.open("rb") as handle:
            while block := handle.read(_BLOCK):
                hasher.update(packer.compress(block))
        hasher.update(packer.flush())
        if hasher.hexdigest() == raw_digest:
            return level
    return None


def _cut_zip(path: Path, store: BlobStore) -> _Segments:
    cut = _Segments()
    with zipfile.ZipFile(path) as archive, path.open("rb") as handle:
        infos = sorted(archive.infolist(), key=lambda i: i.header_offset)
        position = 0
        for info in infos:
            handle.seek(info.header_offset)
            local = handle.read(30)
            if len(local) < 30 or local[:4] != b"PK\x03\x04":
                raise ArchiveError("no local header where the central directory says")
            names = int.from_bytes(local[26:28], "little")
            extra = int.from_bytes(local[28:30], "little")
            start = info.header_offset + 30 + names + extra
            handle.seek(position)
            cut.fixed(handle.read(start - position))
            raw = store.put_stream(_blocks(handle, info.compress_size))
            if info.compress_type == zipfile.ZIP_STORED:
                cut.blob(raw.digest, raw.size)
            else:
                content = store.put_stream(_inflate(store, raw.digest))
                level = (
                    _deflate_level(store, content.digest, raw.digest)
                    if info.compress_type == zipfile.ZIP_DEFLATED
                    else None
                )
                if level is None:
                    cut.blob(raw.digest, raw.size)
                else:
                    cut.blob(content.digest, content.size, deflate=level)
            position = start + info.compress_size
        handle.seek(position)
        while block := handle.read(_BLOCK):
            cut.fixed(block)
    return cut


def _inflate(store: BlobStore, digest: str) -> Iterator[bytes]:
    unpacker = zlib.decompressobj(-15)
    with store.path_of(digest).open("rb") as handle:
        while block := handle.read(_BLOCK):
            yield unpacker.decompress(block)
    yield unpacker.flush()


def _cut_tar(stream: BinaryIO, store: BlobStore) -> _Segments:
    """Cut a plain tar stream: headers, long names, PAX records and padding into the
    skeleton, each regular file's content into a blob."""
    cut = _Segments()
    while True:
        header = stream.read(_TAR_BLOCK)
        if len(header) < _TAR_BLOCK or header == bytes(_TAR_BLOCK):
            cut.fixed(header)
            while block := stream.read(_BLOCK):
                cut.fixed(block)
            return cut
        cut.fixed(header)
        try:
            info = tarfile.TarInfo.frombuf(header, "utf-8", "surrogateescape")
        except tarfile.TarError as exc:
            raise ArchiveError(f"a tar header that does not parse: {exc}") from exc
        size = (
            info.size if info.type not in (tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.DIRTYPE) else 0
        )
        padding = -size % _TAR_BLOCK
        if info.type in (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE) and size:
            blob = store.put_stream(_blocks(stream, size))
            cut.blob(blob.digest, blob.size)
        elif size:
            cut.fixed(b"".join(_blocks(stream, size)))
        cut.fixed(stream.read(padding))


def _segments(manifest: dict[str, JSONValue], store: BlobStore, skeleton: bytes) -> Iterator[bytes]:
    """The bytes inside the package's outer compression (the tar of a ``.tar.bz2``), or the
    file itself, segment by segment."""
    items = manifest.get("segments")
    for segment in items if isinstance(items, list) else []:
        if not isinstance(segment, dict):
            raise CacheError("a manifest segment that is not an object")
        span = segment.get("skeleton")
        if isinstance(span, list) and len(span) == 2:
            start, length = span
            if isinstance(start, int) and isinstance(length, int):
                yield skeleton[start : start + length]
                continue
        digest = segment.get("blob")
        if not isinstance(digest, str):
            raise CacheError("a manifest segment without a blob")
        level = segment.get("deflate")
        blob = store.path_of(digest)
        packer = zlib.compressobj(level, zlib.DEFLATED, -15) if isinstance(level, int) else None
        with blob.open("rb") as handle:
            while block := handle.read(_BLOCK):
                yield packer.compress(block) if packer else block
        if packer is not None:
            yield packer.flush()


def _file_bytes(manifest: dict[str, JSONValue], store: BlobStore) -> Iterator[bytes]:
    skeleton_digest = manifest.get("skeleton")
    skeleton = store.read_bytes(skeleton_digest) if isinstance(skeleton_digest, str) else b""
    pieces = _segments(manifest, store, skeleton)
    if manifest.get("layout") != "tar.bz2":
        yield from pieces
        return
    level = manifest.get("bz2_level")
    packer = bz2.BZ2Compressor(level if isinstance(level, int) else 9)
    for piece in pieces:
        if out := packer.compress(piece):
            yield out
    yield packer.flush()


def _check(manifest: dict[str, JSONValue], store: BlobStore, digest: str) -> bool:
    hasher = sha256()
    for piece in _file_bytes(manifest, store):
        hasher.update(piece)
    return hasher.hexdigest() == digest


def store_package(path: Path, store: BlobStore) -> Stored:
    """Put the package at ``path`` into ``store``: its members' content once each, its
    skeleton and its manifest; checked by writing it again (in memory, a block at a time)."""
    digest = sha256_file(path)
    size = path.stat().st_size
    name = path.name
    fmt = package_format(name)
    manifest: dict[str, JSONValue] | None = None
    try:
        if fmt is not None and name.endswith((".whl", ".zip")):
            cut = _cut_zip(path, store)
            manifest = {"layout": "zip"}
        elif name.endswith(".tar.bz2"):
            with bz2.open(path, "rb") as stream:
                cut = _cut_tar(stream, store)  # type: ignore[arg-type]
            manifest = {"layout": "tar.bz2", "bz2_level": 9}
        if manifest is not None:
            skeleton = store.put_bytes(bytes(cut.skeleton))
            manifest.update(skeleton=skeleton.digest, segments=list(cut.segments))
            if not _check(manifest, store, digest):
                manifest = None
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error, ArchiveError, ValueError):
        manifest = None  # stored whole below, the one way that always gives the file back
    if manifest is None:
        whole = store.put_file(path, expect=digest)
        manifest = {
            "layout": "whole",
            "segments": [{"blob": whole.digest, "size": whole.size}],
        }
    document = envelope("dedup-manifest", {"package": name, "sha256": digest, "size": size})
    document.update(manifest)
    stored = store.put_bytes(json.dumps(document, sort_keys=True, indent=1).encode())
    pointer = store.root / "dedup" / digest
    pointer.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(pointer) as handle:
        handle.write(stored.digest.encode() + b"\n")
    blobs = [stored.digest]
    if isinstance(document.get("skeleton"), str):
        blobs.append(str(document["skeleton"]))
    segments = document.get("segments")
    for segment in segments if isinstance(segments, list) else []:
        if isinstance(segment, dict) and isinstance(segment.get("blob"), str):
            blobs.append(str(segment["blob"]))
    return Stored(
        path=str(path),
        sha256=digest,
        size=size,
        manifest=stored.digest,
        layout=str(document["layout"]),
        blobs=tuple(dict.fromkeys(blobs)),
    )


def store_packages(paths: list[Path], store: BlobStore) -> StoreReport:
    """Store every package of ``paths`` and count the disk they take in the store, each blob
    once, against what the files take."""
    stored = tuple(store_package(path, store) for path in paths)
    blobs = {digest for item in stored for digest in item.blobs}
    blob_bytes = disk = 0
    for digest in blobs:
        status = (store.root / "cas" / digest[:2] / digest).stat()
        blob_bytes += status.st_size
        disk += getattr(status, "st_blocks", 0) * 512 or status.st_size
    return StoreReport(
        packages=stored,
        file_bytes=sum(item.size for item in stored),
        blob_bytes=blob_bytes,
        disk_bytes=disk,
    )


def _load_manifest(store: BlobStore, digest: str) -> dict[str, JSONValue]:
    pointer = store.root / "dedup" / digest
    try:
        manifest_digest = pointer.read_text(encoding="ascii").strip()
    except OSError as exc:
        raise CacheError(
            "no package of this sha256 in the store",
            path=str(pointer),
            hint="store it first: reprobuild dedup PATH --store DIR",
        ) from exc
    try:
        value = json.loads(store.read_bytes(manifest_digest))
    except ValueError as exc:
        raise CacheError(f"a manifest that does not parse: {exc}", path=str(pointer)) from exc
    if not isinstance(value, dict):
        raise CacheError("a manifest that is not an object", path=str(pointer))
    return value


def materialize(store: BlobStore, digest: str, dest: Path) -> None:
    """Write the package of sha256 ``digest`` to ``dest`` from the store, atomically, and
    check its sha256 before it takes ``dest``'s name."""
    manifest = _load_manifest(store, digest)
    with atomic_write(Path(dest)) as handle:
        hasher = sha256()
        for piece in _file_bytes(manifest, store):
            hasher.update(piece)
            handle.write(piece)
        if hasher.hexdigest() != digest:
            raise CacheError(
                f"the package written again has sha256 {hasher.hexdigest()}, not {digest}",
                path=str(dest),
            )


def stored_document(report: StoreReport) -> dict[str, JSONValue]:
    """The ``stored`` part of ``--format json`` with ``--store``."""
    return {
        "file_bytes": report.file_bytes,
        "blob_bytes": report.blob_bytes,
        "disk_bytes": report.disk_bytes,
        "saved_bytes": report.saved,
        "packages": [
            {"path": s.path, "sha256": s.sha256, "manifest": s.manifest, "layout": s.layout}
            for s in report.packages
        ],
    }


def render_stored(report: StoreReport, *, unpacked: int) -> str:
    """The text lines for ``--store``; ``unpacked`` is the bytes of every member of the
    packages, as unpacked trees would take them."""
    layouts: dict[str, int] = {}
    for item in report.packages:
        layouts[item.layout] = layouts.get(item.layout, 0) + 1
    how = ", ".join(f"{n} {layout}" for layout, n in sorted(layouts.items()))
    return (
        f"store: {len(report.packages)} packages ({how}): {report.file_bytes} bytes as files, "
        f"{report.blob_bytes} bytes of distinct blobs ({report.disk_bytes} on disk): "
        f"{report.saved} bytes saved against the files, {unpacked - report.blob_bytes} "
        f"against their {unpacked} bytes unpacked\n"
    )
