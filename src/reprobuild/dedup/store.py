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
- ``.conda`` (a zip of stored members): each zstd-compressed tar inside is cut as a tar is,
  when zstd of this machine at some level from 1 to 19 gives its bytes back (the level is
  found by trying, the frame's own flags say whether it holds its size and a checksum); a
  stream it does not give back (another zstd version or an ultra level made it) is one blob;
- anything else (``.tar.gz``), or a file the above does not give back: the whole file is one
  blob.

Every package is written again from its manifest while it is stored, and checked against its
sha256: a manifest that would not give the file back is never written.
"""

from __future__ import annotations

import bz2
import json
import os
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path
from typing import Any, BinaryIO

from reprobuild._fs import atomic_write, sha256_file
from reprobuild._types import JSONValue
from reprobuild.cache import BlobStore
from reprobuild.dedup._zstd import zstd
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
_ZSTD_PIECE = 128 << 10
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
    """A manifest being made: the skeleton's bytes and the list of segments. A nested one
    (the tar inside a compressed stream) shares its parent's skeleton."""

    def __init__(self, skeleton: bytearray | None = None) -> None:
        self.skeleton = bytearray() if skeleton is None else skeleton
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


def _cut_zip(path: Path, store: BlobStore, *, zstd_members: bool = False) -> _Segments:
    """Cut a zip file; with ``zstd_members`` (a ``.conda``), its stored ``.tar.zst`` members
    are cut further (:func:`_cut_zstd`)."""
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
            if (
                zstd_members
                and info.compress_type == zipfile.ZIP_STORED
                and info.filename.endswith(".tar.zst")
            ):
                _cut_zstd(handle, info.compress_size, store, cut)
                position = start + info.compress_size
                continue
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


_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
#: the levels tried, first conda-package-handling's default (19), rattler-build's (15) and
#: zstd's own (3); not the "ultra" levels 20 to 22, whose compressor takes hundreds of MiB (a
#: stream made at one of them is stored as one blob)
_ZSTD_LEVELS = (19, 15, 3, *(n for n in range(1, 20) if n not in (19, 15, 3)))


#: the window log of each level (1 to 19) when the size is not known beforehand, from zstd's
#: table of default parameters for large inputs (a test checks it against this machine's zstd)
_ZSTD_WINDOW_LOGS = (19, 20, 21, 21, 21, 21, 21, 21, 22, 22, 22, 22, 22, 22, 22, 22, 23, 23, 23)


def _zstd_levels(head: bytes) -> tuple[bool, bool, tuple[int, ...]] | None:
    """From a zstd frame header: whether the frame holds its content's size, whether it has a
    checksum, and the levels worth trying (a frame without its size names the window, which
    the level sets); None for what is not one frame header without a dictionary."""
    if len(head) < 6 or head[:4] != _ZSTD_MAGIC or head[4] & 0x03:
        return None
    descriptor = head[4]
    has_size = bool(descriptor >> 6 or descriptor & 0x20)
    levels = _ZSTD_LEVELS
    if not has_size and head[5] & 0x07 == 0:
        log = 10 + (head[5] >> 3)
        levels = tuple(n for n in levels if _ZSTD_WINDOW_LOGS[n - 1] == log)
    return has_size, bool(descriptor & 0x04), levels


def _zstd_packer(level: int, size: int | None, checksum: bool) -> Any:
    packer = zstd.ZstdCompressor(
        options={
            zstd.CompressionParameter.compression_level: level,
            zstd.CompressionParameter.checksum_flag: int(checksum),
            zstd.CompressionParameter.content_size_flag: int(size is not None),
        }
    )
    if size is not None:
        packer.set_pledged_input_size(size)
    return packer


def _unzstd(handle: BinaryIO) -> Iterator[bytes]:
    handle.seek(0)
    with zstd.open(handle, "rb") as stream:
        while block := stream.read(_ZSTD_PIECE):
            yield block


def _zstd_level(
    handle: BinaryIO, size: int | None, checksum: bool, levels: tuple[int, ...]
) -> int | None:
    """The level of ``levels`` at which zstd compresses what ``handle`` (a zstd stream in a
    file) holds to the same bytes, or None. A level is given up at its first output that
    differs."""
    handle.flush()
    fd = handle.fileno()
    end = os.fstat(fd).st_size
    for level in levels:
        packer = _zstd_packer(level, size, checksum)
        offset = 0
        for piece in _unzstd(handle):
            out = packer.compress(piece)
            if out and os.pread(fd, len(out), offset) != out:
                break
            offset += len(out)
        else:
            out = packer.flush()
            if offset + len(out) == end and os.pread(fd, len(out), offset) == out:
                return level
    return None


def _cut_zstd(handle: BinaryIO, size: int, store: BlobStore, cut: _Segments) -> None:
    """Cut the zstd stream of ``size`` bytes at ``handle``'s position: the tar inside it into
    a nested list of segments when zstd gives the stream back at some level, else the stream
    as one blob."""
    with tempfile.TemporaryFile() as stream:
        for block in _blocks(handle, size):
            stream.write(block)
        stream.flush()
        flags = _zstd_levels(os.pread(stream.fileno(), 18, 0))
        level = None
        content = 0
        if flags is not None:
            has_size, checksum, levels = flags
            if has_size:
                content = sum(len(piece) for piece in _unzstd(stream))
            level = _zstd_level(stream, content if has_size else None, checksum, levels)
        if flags is None or level is None:
            stream.seek(0)
            blob = store.put_stream(iter(lambda: stream.read(_BLOCK), b""))
            cut.blob(blob.digest, blob.size)
            return
        inner = _Segments(cut.skeleton)
        stream.seek(0)
        with zstd.open(stream, "rb") as tar:
            _cut_tar(tar, store, inner)  # type: ignore[arg-type]
        cut.segments.append(
            {
                "zstd": {
                    "level": level,
                    "size": content if flags[0] else None,
                    "checksum": flags[1],
                },
                "segments": list(inner.segments),
            }
        )


def _inflate(store: BlobStore, digest: str) -> Iterator[bytes]:
    unpacker = zlib.decompressobj(-15)
    with store.path_of(digest).open("rb") as handle:
        while block := handle.read(_BLOCK):
            yield unpacker.decompress(block)
    yield unpacker.flush()


def _cut_tar(stream: BinaryIO, store: BlobStore, cut: _Segments | None = None) -> _Segments:
    """Cut a plain tar stream: headers, long names, PAX records and padding into the
    skeleton, each regular file's content into a blob."""
    cut = _Segments() if cut is None else cut
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
        how = segment.get("zstd")
        if isinstance(how, dict):
            yield from _zstd_segment(how, _segments(segment, store, skeleton))
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


def _zstd_segment(how: dict[str, JSONValue], pieces: Iterator[bytes]) -> Iterator[bytes]:
    level, size = how.get("level"), how.get("size")
    if not isinstance(level, int) or not (size is None or isinstance(size, int)):
        raise CacheError("a manifest's zstd segment without its level")
    packer = _zstd_packer(level, size, how.get("checksum") is True)
    for piece in pieces:
        if out := packer.compress(piece):
            yield out
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
        if fmt is not None and name.endswith((".whl", ".zip", ".conda")):
            conda = name.endswith(".conda")
            cut = _cut_zip(path, store, zstd_members=conda)
            manifest = {"layout": "conda" if conda else "zip"}
        elif name.endswith(".tar.bz2"):
            with bz2.open(path, "rb") as stream:
                cut = _cut_tar(stream, store)  # type: ignore[arg-type]
            manifest = {"layout": "tar.bz2", "bz2_level": 9}
        if manifest is not None:
            skeleton = store.put_bytes(bytes(cut.skeleton))
            manifest.update(skeleton=skeleton.digest, segments=list(cut.segments))
            if not _check(manifest, store, digest):
                manifest = None
    except (
        OSError,
        EOFError,
        zipfile.BadZipFile,
        zlib.error,
        zstd.ZstdError,
        ArchiveError,
        ValueError,
    ):
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
    blobs.extend(_blobs_of(document))
    return Stored(
        path=str(path),
        sha256=digest,
        size=size,
        manifest=stored.digest,
        layout=str(document["layout"]),
        blobs=tuple(dict.fromkeys(blobs)),
    )


def _blobs_of(manifest: dict[str, JSONValue]) -> Iterator[str]:
    """The blobs of a manifest's segments, nested ones included, in order."""
    segments = manifest.get("segments")
    for segment in segments if isinstance(segments, list) else []:
        if isinstance(segment, dict):
            if isinstance(segment.get("blob"), str):
                yield str(segment["blob"])
            yield from _blobs_of(segment)


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
        f"{_saved(report.saved)} against the files, {_saved(unpacked - report.blob_bytes)} "
        f"against their {unpacked} bytes unpacked\n"
    )


def _saved(count: int) -> str:
    return f"{count} bytes saved" if count >= 0 else f"{-count} bytes more"
