"""One release of ``reprobuild verify``: its name, its local files, and its verification.

``verify`` checks what it is given here before any work starts; :mod:`reprobuild.cli._batch`
runs the verifications, one release each. Both import this module, and it imports neither.
"""

from __future__ import annotations

import argparse
import functools
from pathlib import Path

from reprobuild.cli._checks import parse_release, reason_of
from reprobuild.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from reprobuild.frontend import Interpreter, PythonProvider
    from reprobuild.rebuild import Rebuilder, Verification

__all__ = [
    "check_local",
    "parse_verify_release",
    "python_provider_of",
    "rebuilder_of",
    "verify_index",
    "verify_local",
]


def parse_verify_release(text: str) -> tuple[str, str]:
    """``NAME==VERSION`` as name and version; :class:`UsageError` with verify's example when
    ``text`` is not one."""
    return parse_release(text, example="reprobuild verify ipython==7.16.1")


def verify_index(
    release: str,
    args: argparse.Namespace,
    cache_dir: Path,
    pythons: tuple[Interpreter, ...],
    progress: Callable[[str], None],
    build_root: Path | None = None,
) -> Verification:
    """Verify ``release`` (``NAME==VERSION``) from the index, building in ``build_root`` (by
    default reprobuild's fixed build folder)."""
    from reprobuild.build import BUILD_ROOT
    from reprobuild.index import IndexClient
    from reprobuild.rebuild import verify_release

    name, version = parse_verify_release(release)
    client = IndexClient(cache_dir=cache_dir, index_urls=args.index_url or None)
    return verify_release(
        name,
        version,
        client=client,
        cache_dir=cache_dir,
        pythons=pythons,
        recipe_folders=args.recipes,
        overrides=not args.no_overrides,
        progress=progress,
        build_root=build_root or BUILD_ROOT,
        source=args.source,
        sandbox=args.chosen_sandbox,
        rebuilder=rebuilder_of(args, cache_dir, progress),
        python_provider=python_provider_of(args),
    )


def python_provider_of(args: argparse.Namespace) -> PythonProvider:
    """uv's Pythons, for a recipe that wants one this machine lacks: found, or installed unless
    ``--no-python-downloads`` (or uv's ``UV_PYTHON_DOWNLOADS=never``); failed installs are
    remembered in ``args.python_state``, shared by the run's processes."""
    return _uv_pythons(not args.no_python_downloads, getattr(args, "python_state", None))


@functools.cache
def _uv_pythons(downloads: bool, state: Path | None) -> PythonProvider:
    """One provider per process and run: the releases a process verifies share its answers
    (asking uv takes most of a second)."""
    from reprobuild.frontend import UvPythons, find_uv

    return UvPythons(find_uv(), downloads=downloads, state=state)


def rebuilder_of(
    args: argparse.Namespace, cache_dir: Path, progress: Callable[[str], None]
) -> Rebuilder:
    """The rebuilds of ``verify``: through the action cache in ``cache_dir`` (``--no-cache``:
    always rebuilt), writing to the remote cache when one is given and reading from it only
    with ``--trust-remote-cache``; with ``--keep``, every rebuilt file staged in
    ``args.keep_staging`` too."""
    from reprobuild.cli._remote import caches_of
    from reprobuild.rebuild.cached import CachedRebuilder

    def warn(line: str) -> None:
        progress(f"warning: {line}")

    cached = CachedRebuilder(
        caches=lambda: caches_of(args, cache_dir, warn=warn),
        use_cache=not args.no_cache,
        trust_remote=args.trust_remote_cache,
        warn=warn,
    )
    staging: Path | None = getattr(args, "keep_staging", None)
    if staging is None:
        return cached
    from reprobuild.rebuild.kept import KeepingRebuilder

    return KeepingRebuilder(rebuilder=cached, staging=staging)


def check_local(args: argparse.Namespace, *, read: bool = True) -> tuple[str, str]:
    """The release of ``--wheel`` and ``--sdist``: the sdist's name and version, once every
    file is known to read and to belong to that one release (bad input, refused before any
    build and not recorded as an attempt)."""
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        canonicalize_name,
        parse_sdist_filename,
        parse_wheel_filename,
    )

    if args.sdist is None or not args.wheel:
        raise UsageError(
            "--wheel and --sdist go together",
            hint="give both: reprobuild verify --wheel FILE.whl --sdist FILE.tar.gz",
        )
    for path in [args.sdist, *args.wheel]:
        if path.is_dir():
            raise UsageError(
                "a folder, not a file", path=str(path), hint="give the wheel and sdist files"
            )
        if not path.is_file():
            raise UsageError("no such file", path=str(path), hint="check the path")
    try:
        name, version = parse_sdist_filename(args.sdist.name)
    except InvalidSdistFilename as exc:
        raise UsageError(
            "not an sdist file name (NAME-VERSION.tar.gz)",
            path=str(args.sdist),
            hint="give the sdist under its published file name",
        ) from exc
    for wheel in args.wheel:
        try:
            wheel_name, wheel_version, _, _ = parse_wheel_filename(wheel.name)
        except InvalidWheelFilename as exc:
            raise UsageError(
                "not a wheel file name (NAME-VERSION-PYTHON-ABI-PLATFORM.whl)",
                path=str(wheel),
                hint="give the wheel under its published file name",
            ) from exc
        if canonicalize_name(wheel_name) != canonicalize_name(name) or wheel_version != version:
            raise UsageError(
                f"the wheel is {wheel_name} {wheel_version} but the sdist "
                f"{args.sdist.name} is {name} {version}: not one release",
                path=str(wheel),
                hint="give the sdist of the wheel's own release",
            )
    if read:
        for wheel in args.wheel:
            _check_readable(wheel, wheel=True)
        _check_readable(args.sdist, wheel=False)
    return name, str(version)


def _check_readable(path: Path, *, wheel: bool) -> None:
    """Refuse a local archive that does not read (truncated, or not an archive at all)."""
    from reprobuild._fs import read_bytes_mapped
    from reprobuild.archive import parse_archive
    from reprobuild.errors import ReprobuildError

    hint = "give the file as it was published: this one is damaged or of another kind"
    try:
        data = read_bytes_mapped(path)  # a large file is never read in whole
    except OSError as exc:
        raise UsageError(f"cannot read: {reason_of(exc)}", path=str(path), hint=hint) from exc
    try:
        archive = parse_archive(data, identical_duplicates=not wheel)  # as verification reads it
        if wheel:  # and its RECORD, as the recipe's check of the canonical form reads it
            from reprobuild.dist import ArtifactKind
            from reprobuild.normalize import Policy, normalize_archive

            normalize_archive(archive, kind=ArtifactKind.WHEEL, policy=Policy())
    except ReprobuildError as exc:
        raise UsageError(exc.reason, path=str(path), member=exc.member, hint=hint) from exc


def verify_local(
    args: argparse.Namespace,
    cache_dir: Path,
    pythons: tuple[Interpreter, ...],
    progress: Callable[[str], None],
) -> Verification:
    from reprobuild.rebuild import Verification, verify_sdist, verify_wheel

    name, version = check_local(args, read=False)  # read when the command started
    rebuilder = rebuilder_of(args, cache_dir, progress)
    provider = python_provider_of(args)
    results = [
        verify_wheel(
            wheel,
            args.sdist,
            name=name,
            version=version,
            upload_time=None,
            cache_dir=cache_dir,
            pythons=pythons,
            recipe_folders=args.recipes,
            overrides=not args.no_overrides,
            progress=progress,
            sandbox=args.chosen_sandbox,
            rebuilder=rebuilder,
            python_provider=provider,
        )
        for wheel in args.wheel
    ]
    if args.source is not None:
        base = next((r.recipe for r in results if r.recipe is not None), None)
        checked = verify_sdist(
            args.source,
            args.sdist,
            upload_time=None,
            base=base,
            cache_dir=cache_dir,
            pythons=pythons,
            progress=progress,
            sandbox=args.chosen_sandbox,
            rebuilder=rebuilder,
            python_provider=provider,
        )
        results.insert(0, checked)
    return Verification(
        name=name,
        version=version,
        sdist=args.sdist.name,
        results=tuple(results),
        sandbox=args.chosen_sandbox.to_json(),
    )
