"""Archive factories for tests: zip, wheel, tar (plain, gzip, bzip2, xz) and sdist, as bytes.

They are built with the standard library's ``zipfile``, ``tarfile``, ``gzip``, ``bz2`` and
``lzma`` and never with reprobuild's own writer, so a test of the reader or the normalizer does
not check the code against itself.

Every knob is keyword-only and has a default, and the defaults make the same bytes every time.
A *twin fixture* is two calls that differ in exactly one knob::

    a = make_wheel()
    b = make_wheel(mtime=(2024, 5, 1, 12, 0, 0))

Names follow the archive's own spelling: directories end with ``/`` wherever a knob names them
(``order``, ``modes``, a per-member ``mtime``); a directory given without the slash gets one.
``order`` may be partial: the members it lists come first, in that order, and the others follow
in the factory's default order.
"""

from __future__ import annotations

import base64
import bz2
import csv
import gzip
import hashlib
import io
import lzma
import stat
import tarfile
import zipfile
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Literal, TypeAlias, TypedDict, TypeVar, Unpack

__all__ = [
    "ZIP_EPOCH",
    "RecordOrder",
    "TarGzKnobs",
    "TarKnobs",
    "ZipKnobs",
    "ZipTime",
    "arrange",
    "make_sdist",
    "make_tar",
    "make_tar_bz2",
    "make_tar_gz",
    "make_tar_xz",
    "make_wheel",
    "make_zip",
    "record_hash",
    "sdist_filename",
    "wheel_filename",
]

#: A zip member's time as ``zipfile`` takes it: (year, month, day, hour, minute, second).
ZipTime: TypeAlias = tuple[int, int, int, int, int, int]
#: How the rows of a wheel's RECORD are ordered.
RecordOrder: TypeAlias = Literal["sorted", "reverse", "as-written"]

#: The earliest time a zip header can hold; what reproducible zip writers use.
ZIP_EPOCH: ZipTime = (1980, 1, 1, 0, 0, 0)

_NONE: Mapping[str, str] = MappingProxyType({})
_T = TypeVar("_T")


class ZipKnobs(TypedDict, total=False):
    """The knobs of :func:`make_zip`, for the factories that pass them on."""

    mtime: ZipTime | Mapping[str, ZipTime]
    order: Sequence[str] | None
    mode: int
    dir_mode: int
    modes: Mapping[str, int] | None
    file_type: bool
    compress_level: int | None
    method: int
    create_system: int
    extra: bytes
    comment: bytes
    symlinks: Mapping[str, str]
    dirs: Sequence[str]


class TarKnobs(TypedDict, total=False):
    """The knobs of :func:`make_tar`, for the factories that pass them on."""

    fmt: int
    mtime: float | Mapping[str, float]
    order: Sequence[str] | None
    mode: int
    dir_mode: int
    modes: Mapping[str, int] | None
    uid: int
    gid: int
    uname: str
    gname: str
    dirs: Sequence[str]
    symlinks: Mapping[str, str]
    hardlinks: Mapping[str, str]


class TarGzKnobs(TarKnobs, total=False):
    """The knobs of :func:`make_tar_gz` (gzip header and level, plus every tar knob)."""

    gzip_mtime: int
    gzip_filename: str | None
    gzip_os: int | None
    compress_level: int


def _dir_name(name: str) -> str:
    return name if name.endswith("/") else name + "/"


def arrange(default: Sequence[str], order: Sequence[str] | None) -> list[str]:
    """``default`` rearranged so that the names in ``order`` come first, in that order.

    Raises ValueError when ``order`` names something that is not in ``default`` or names a
    member twice: a typo in a test must not pass silently.
    """
    if order is None:
        return list(default)
    known = set(default)
    listed: list[str] = []
    for name in order:
        key = name if name in known else _dir_name(name)
        if key not in known:
            raise ValueError(f"order names {name!r}, which is not a member")
        if key in listed:
            raise ValueError(f"order names {name!r} twice")
        listed.append(key)
    chosen = set(listed)
    return listed + [name for name in default if name not in chosen]


def _check_names(
    files: Mapping[str, bytes], dirs: Sequence[str], *links: Mapping[str, str]
) -> None:
    seen = set(files)
    for name in [_dir_name(d) for d in dirs] + [n for group in links for n in group]:
        if name in seen:
            raise ValueError(f"{name!r} is given twice")
        seen.add(name)


def _lookup(table: Mapping[str, _T] | None, name: str, default: _T) -> _T:
    """``table[name]``, where a directory may be named with or without its ``/``."""
    if table is None:
        return default
    if name in table:
        return table[name]
    return table.get(name.rstrip("/"), default) if name.endswith("/") else default


def record_hash(data: bytes) -> str:
    """The ``sha256=…`` digest of a RECORD row: urlsafe base64 without padding (PEP 376/427)."""
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def make_zip(
    files: Mapping[str, bytes],
    *,
    mtime: ZipTime | Mapping[str, ZipTime] = ZIP_EPOCH,
    order: Sequence[str] | None = None,
    mode: int = 0o644,
    dir_mode: int = 0o755,
    modes: Mapping[str, int] | None = None,
    file_type: bool = True,
    compress_level: int | None = 6,
    method: int = zipfile.ZIP_DEFLATED,
    create_system: int = 3,
    extra: bytes = b"",
    comment: bytes = b"",
    symlinks: Mapping[str, str] = _NONE,
    dirs: Sequence[str] = (),
) -> bytes:
    """A zip archive of ``files`` (name -> content), built with ``zipfile``.

    - ``mtime``: one time for every member, or a mapping name -> time (others get
      :data:`ZIP_EPOCH`).
    - ``order``: the members to write first (see the module docstring). The default order is
      ``dirs``, then ``files`` as given, then ``symlinks``.
    - ``mode``/``dir_mode``: permission bits of files/directories, stored Unix-style in the high
      16 bits of the external attributes (whatever ``create_system`` says); ``modes`` overrides
      them per member. Symbolic links get ``0o777`` unless ``modes`` says otherwise. With
      ``file_type`` False, files get their permission bits alone, without ``S_IFREG`` (as
      ``zipfile.writestr`` given a name stores 600, and some backends their own constant).
    - ``method``/``compress_level``: the compression of files and links (directories are
      always stored); ``None`` leaves the level to ``zipfile``.
    - ``create_system``: the high byte of "version made by" (0 MS-DOS, 3 Unix).
    - ``extra``: raw extra-field bytes written into the local and central header of every
      member, e.g. an extended-timestamp ``0x5455`` block.
    - ``comment``: the archive comment.
    - ``symlinks``: name -> target, stored as Unix symbolic links (the content is the target).
    - ``dirs``: directory members (a trailing ``/`` is added when missing).
    """
    _check_names(files, dirs, symlinks)
    dir_names = [_dir_name(d) for d in dirs]
    names = arrange([*dir_names, *files, *symlinks], order)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            when = _lookup(mtime, name, ZIP_EPOCH) if isinstance(mtime, Mapping) else mtime
            info = zipfile.ZipInfo(name, date_time=when)
            info.create_system = create_system
            info.extra = extra
            if name in files:
                data = files[name]
                kind = stat.S_IFREG if file_type else 0
                info.external_attr = (kind | _lookup(modes, name, mode)) << 16
                info.compress_type = method
            elif name in symlinks:
                data = symlinks[name].encode("utf-8")
                info.external_attr = (stat.S_IFLNK | _lookup(modes, name, 0o777)) << 16
                info.compress_type = method
            else:
                data = b""
                info.external_attr = (stat.S_IFDIR | _lookup(modes, name, dir_mode)) << 16
                info.external_attr |= 0x10  # the MS-DOS directory bit
                info.compress_type = zipfile.ZIP_STORED
            archive.writestr(info, data, compresslevel=compress_level)
        archive.comment = comment
    return buffer.getvalue()


def wheel_filename(name: str = "demo", version: str = "1.0", tag: str = "py3-none-any") -> str:
    """The file name of the wheel :func:`make_wheel` makes with these arguments."""
    return f"{name.replace('-', '_')}-{version}-{tag}.whl"


def sdist_filename(name: str = "demo", version: str = "1.0") -> str:
    """The file name of the sdist :func:`make_sdist` makes with these arguments."""
    return f"{name.replace('-', '_')}-{version}.tar.gz"


def make_wheel(
    name: str = "demo",
    version: str = "1.0",
    files: Mapping[str, bytes] | None = None,
    *,
    generator: str = "factory 1.0",
    tag: str = "py3-none-any",
    record_order: RecordOrder = "as-written",
    dist_info_first: bool = False,
    metadata: bytes | None = None,
    record: bytes | None = None,
    **knobs: Unpack[ZipKnobs],
) -> bytes:
    """A valid wheel: it installs with ``pip install --no-deps --no-index`` and its RECORD verifies.

    ``files`` are the package's files (default: ``{name}/__init__.py``). The factory adds
    ``{name}-{version}.dist-info/METADATA`` (``metadata`` replaces it), ``WHEEL`` (with
    ``generator`` and ``tag``) and ``RECORD``, a row ``path,sha256=…,size`` for every file and
    ``…/RECORD,,`` for itself; ``record`` replaces RECORD's content (to make one that does not
    verify). Directory entries and symbolic links (the ``dirs`` and ``symlinks`` knobs) get no
    RECORD row.

    Members are written package files first, then METADATA, WHEEL and RECORD;
    ``dist_info_first`` writes METADATA and WHEEL before the package files. RECORD comes last
    unless the ``order`` knob says otherwise. ``record_order`` orders RECORD's rows: by path
    (``"sorted"``), by path backwards (``"reverse"``) or in the order the members are written
    (``"as-written"``). Every :func:`make_zip` knob is passed on.
    """
    stem = name.replace("-", "_")
    if files is None:
        files = {
            f"{stem}/__init__.py": f'"""A demo package."""\n\n__version__ = "{version}"\n'.encode()
        }
    dist_info = f"{stem}-{version}.dist-info"
    meta_files = {
        f"{dist_info}/METADATA": metadata
        if metadata is not None
        else (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
            "Summary: A package made by the test factories\n"
        ).encode(),
        f"{dist_info}/WHEEL": (
            f"Wheel-Version: 1.0\nGenerator: {generator}\nRoot-Is-Purelib: true\nTag: {tag}\n"
        ).encode(),
    }
    record_name = f"{dist_info}/RECORD"
    content = {k: v for k, v in files.items() if k not in meta_files and k != record_name}
    meta_files = {k: files.get(k, v) for k, v in meta_files.items()}
    members = {**meta_files, **content} if dist_info_first else {**content, **meta_files}
    dirs = [_dir_name(d) for d in knobs.get("dirs", ())]
    links = list(knobs.get("symlinks", {}))
    written = arrange([*dirs, *members, record_name, *links], knobs.get("order"))
    if record is None:
        rows: list[list[str]] = []
        for path in written:
            if path == record_name:
                rows.append([path, "", ""])
            elif path in members:
                rows.append([path, record_hash(members[path]), str(len(members[path]))])
        if record_order == "sorted":
            rows.sort()
        elif record_order == "reverse":
            rows.sort(reverse=True)
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows(rows)
        record = text.getvalue().encode()
    zip_knobs: ZipKnobs = {**knobs, "order": written}
    return make_zip({**members, record_name: record}, **zip_knobs)


def make_tar(
    files: Mapping[str, bytes],
    *,
    fmt: int = tarfile.PAX_FORMAT,
    mtime: float | Mapping[str, float] = 0,
    order: Sequence[str] | None = None,
    mode: int = 0o644,
    dir_mode: int = 0o755,
    modes: Mapping[str, int] | None = None,
    uid: int = 0,
    gid: int = 0,
    uname: str = "",
    gname: str = "",
    dirs: Sequence[str] = (),
    symlinks: Mapping[str, str] = _NONE,
    hardlinks: Mapping[str, str] = _NONE,
) -> bytes:
    """A plain tar archive of ``files`` (name -> content), built with ``tarfile``.

    - ``fmt``: ``tarfile.PAX_FORMAT`` (ustar headers, plus a PAX ``x`` header only where one is
      needed), ``USTAR_FORMAT`` or ``GNU_FORMAT``.
    - ``mtime``: for every member, or a mapping name -> time (others get 0). An ``int`` goes in
      the ustar header; a ``float`` (with the PAX format) also gives a PAX ``mtime`` record
      with the fraction.
    - ``order``: the members to write first; by default ``dirs``, ``files`` as given,
      ``symlinks``, ``hardlinks``.
    - ``mode``/``dir_mode``/``modes``: permission bits of files/directories, ``modes`` per
      member; links get ``0o777`` unless ``modes`` says otherwise.
    - ``uid``/``gid``/``uname``/``gname``: the owner of every member.
    - ``dirs``: directory members (stored with a trailing ``/``, as ``tarfile`` writes them).
    - ``symlinks``: name -> link target; ``hardlinks``: name -> the member it links to.
    """
    _check_names(files, dirs, symlinks, hardlinks)
    dir_names = [_dir_name(d) for d in dirs]
    names = arrange([*dir_names, *files, *symlinks, *hardlinks], order)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as archive:
        for name in names:
            info = tarfile.TarInfo(name)
            info.mtime = _lookup(mtime, name, 0) if isinstance(mtime, Mapping) else mtime
            info.uid, info.gid, info.uname, info.gname = uid, gid, uname, gname
            data: bytes | None = None
            if name in files:
                data = files[name]
                info.size = len(data)
                info.mode = _lookup(modes, name, mode)
            elif name in symlinks:
                info.type = tarfile.SYMTYPE
                info.linkname = symlinks[name]
                info.mode = _lookup(modes, name, 0o777)
            elif name in hardlinks:
                info.type = tarfile.LNKTYPE
                info.linkname = hardlinks[name]
                info.mode = _lookup(modes, name, mode)
            else:
                info.type = tarfile.DIRTYPE
                info.mode = _lookup(modes, name, dir_mode)
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def make_tar_gz(
    files: Mapping[str, bytes],
    *,
    gzip_mtime: int = 0,
    gzip_filename: str | None = None,
    gzip_os: int | None = None,
    compress_level: int = 9,
    **knobs: Unpack[TarKnobs],
) -> bytes:
    """:func:`make_tar` wrapped in one gzip stream written by ``gzip.GzipFile``.

    - ``gzip_mtime``: the header's MTIME field.
    - ``gzip_filename``: the header's FNAME field (``gzip`` drops a trailing ``.gz``); None
      writes no FNAME.
    - ``gzip_os``: patches the OS byte (offset 9); None keeps what ``gzip`` writes (255).
    - ``compress_level``: the deflate level; ``gzip`` also sets XFL from it (2 for 9, 4 for 1).

    Every :func:`make_tar` knob is passed on.
    """
    plain = make_tar(files, **knobs)
    buffer = io.BytesIO()
    with gzip.GzipFile(
        filename=gzip_filename or "",
        mode="wb",
        compresslevel=compress_level,
        fileobj=buffer,
        mtime=gzip_mtime,
    ) as stream:
        stream.write(plain)
    data = bytearray(buffer.getvalue())
    if gzip_os is not None:
        data[9] = gzip_os
    return bytes(data)


def make_tar_bz2(
    files: Mapping[str, bytes], *, compress_level: int = 9, **knobs: Unpack[TarKnobs]
) -> bytes:
    """:func:`make_tar` compressed with ``bz2`` at ``compress_level`` (1-9)."""
    return bz2.compress(make_tar(files, **knobs), compress_level)


def make_tar_xz(
    files: Mapping[str, bytes], *, compress_level: int = 6, **knobs: Unpack[TarKnobs]
) -> bytes:
    """:func:`make_tar` compressed with ``lzma`` in the xz format, preset ``compress_level``."""
    return lzma.compress(make_tar(files, **knobs), format=lzma.FORMAT_XZ, preset=compress_level)


def make_sdist(
    name: str = "demo",
    version: str = "1.0",
    files: Mapping[str, bytes] | None = None,
    **knobs: Unpack[TarGzKnobs],
) -> bytes:
    """An sdist: a ``.tar.gz`` whose members all live under ``{name}-{version}/``.

    ``files`` (default: ``{name}/__init__.py``) are named relative to the top folder; the
    factory adds ``PKG-INFO`` and ``pyproject.toml`` unless ``files`` has them, and a directory
    member for the top folder and for every folder above a file. Members are written in sorted
    order, so a folder comes before what it holds.

    Every :func:`make_tar_gz` knob is passed on. Names in ``order``, ``modes``, a per-member
    ``mtime``, ``dirs``, ``symlinks`` and ``hardlinks`` (key and target) are relative to the top
    folder, like ``files``; the top folder itself is ``""``. Symbolic link targets are left as
    given.
    """
    stem = name.replace("-", "_")
    top = f"{stem}-{version}/"
    if files is None:
        files = {
            f"{stem}/__init__.py": f'"""A demo package."""\n\n__version__ = "{version}"\n'.encode()
        }
    generated = {
        "PKG-INFO": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
            "Summary: A package made by the test factories\n"
        ).encode(),
        "pyproject.toml": (
            '[build-system]\nrequires = ["flit_core>=3.2,<4"]\n'
            'build-backend = "flit_core.buildapi"\n\n'
            f'[project]\nname = "{name}"\nversion = "{version}"\n'
            'description = "A package made by the test factories"\n'
        ).encode(),
    }
    relative = {**generated, **files}
    folders = {""}
    for path in [*relative, *knobs.get("symlinks", {}), *knobs.get("hardlinks", {})]:
        parts = path.split("/")[:-1]
        folders.update("/".join(parts[: i + 1]) + "/" for i in range(len(parts)))
    folders.update(_dir_name(d) for d in knobs.get("dirs", ()))

    def full(path: str) -> str:
        return top + path

    symlinks = {full(k): v for k, v in knobs.get("symlinks", {}).items()}
    hardlinks = {full(k): full(v) for k, v in knobs.get("hardlinks", {}).items()}
    members = {full(k): v for k, v in relative.items()}
    dirs = sorted(full(d) for d in folders)
    default = sorted([*dirs, *members, *symlinks, *hardlinks])
    given_order = knobs.get("order")
    order = arrange(default, None if given_order is None else [full(n) for n in given_order])
    tar_knobs: TarGzKnobs = {
        **knobs,
        "order": order,
        "dirs": dirs,
        "symlinks": symlinks,
        "hardlinks": hardlinks,
    }
    modes = knobs.get("modes")
    if modes is not None:
        tar_knobs["modes"] = {full(k): v for k, v in modes.items()}
    mtime = knobs.get("mtime")
    if isinstance(mtime, Mapping):
        tar_knobs["mtime"] = {full(k): v for k, v in mtime.items()}
    return make_tar_gz(members, **tar_knobs)
