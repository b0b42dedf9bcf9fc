"""A controlled build: the sdist and the wheel of a project as a pure function of its source.

``build(spec)`` copies the source to a fixed path with every file time set to
``SOURCE_DATE_EPOCH``, builds the sdist in an isolated environment of pinned requirements with a
fixed environment (``TZ=UTC``, a UTF-8 locale, ``PYTHONHASHSEED=0``, umask 022, a throw-away
``HOME``), unpacks that sdist at a fixed path and builds the wheel from it, normalizes both, and
writes them with a buildinfo record. Nothing is written into the output folder before every
artifact is ready.

A build requirement published only as an sdist (no wheel before the cut-off date) is built
first: its sdist is downloaded from the index, checked against the index's sha256, built into a
wheel by this same ``build``, in the same sandbox, and kept in the cache (see
:mod:`reprobuild.frontend.wheelhouse`); the environment is then resolved again with that wheel
offered beside the index, pinned by its own sha256. Its build requirements go the same way, at
most :data:`SDIST_DEPTH` levels deep, and a requirement needed to build itself is refused.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import platform
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, Protocol

from reprobuild._fs import (
    read_bytes_mapped,
    sha256_chunks,
    sha256_file,
    sha256_hex,
    write_bytes_atomic,
    write_chunks_atomic,
)
from reprobuild._types import Buffer
from reprobuild.archive import Archive, load_archive
from reprobuild.archive.extract import extract_archive
from reprobuild.buildinfo import BuildOutput, dump_buildinfo
from reprobuild.compare.nodes import format_time
from reprobuild.errors import BuildError, ReprobuildError, UsageError
from reprobuild.frontend import (
    LEGACY_BACKEND,
    LEGACY_BACKEND_SINCE,
    BuildSystem,
    Environment,
    IndexConfig,
    PinnedRequirement,
    Sandbox,
    SandboxMode,
    build_sdist,
    build_wheel,
    clock_variables,
    default_sandbox,
    frontend_requires,
    get_requires,
    git_commit_info,
    overridden,
    prepare_environment,
    read_build_system,
    setup_py_system,
)
from reprobuild.frontend.installers import NoWheelError
from reprobuild.frontend.interpreter import find_interpreter
from reprobuild.frontend.wheelhouse import (
    BuiltWheel,
    find_built,
    kept_wheels,
    source_key,
    store_built,
)
from reprobuild.index import IndexClient
from reprobuild.index.pages import IndexFile
from reprobuild.normalize import DEFAULT_SOURCE_DATE_EPOCH, Policy, normalize_bytes
from reprobuild.report import JSONValue

TYPE_CHECKING = False
if TYPE_CHECKING:
    from reprobuild.actions import Performed

__all__ = [
    "BUILD_ROOT",
    "SDIST_DEPTH",
    "BuildResult",
    "BuildSpec",
    "PrepareStep",
    "build",
    "controlled_environment",
    "home_of",
    "tree_digest",
]

#: Where every build happens, the same on every machine, so that what a build embeds of its own
#: path (debug information of C extensions, a generated module's ``__file__``) is the same too.
BUILD_ROOT = Path("/tmp/reprobuild-build")

#: How deep build requirements built from their sdists may nest: a requirement published only
#: as an sdist, one of its own build requirements published only as an sdist, and so on.
SDIST_DEPTH = 3
#: How many wheels one environment may need built from sdists before reprobuild gives up.
_MOST_BUILT = 16

#: Folders at the top of a source tree that hold outputs of earlier work, never inputs.
_SKIPPED_AT_TOP = frozenset({"build", "dist", ".tox", ".nox", ".venv"})
#: Caches skipped wherever they are (and ``*.egg-info``, setuptools' leftovers).
_SKIPPED_ANYWHERE = frozenset(
    {"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".hypothesis"}
)


def _skipped(name: str, *, top: bool) -> bool:
    return (
        name in _SKIPPED_ANYWHERE or name.endswith(".egg-info") or (top and name in _SKIPPED_AT_TOP)
    )


class PrepareStep(Protocol):
    """A step run in the unpacked sdist before its wheel is built (a release step the sdist
    does not record, such as compressing a man page). Steps are values: they say what they do."""

    def apply(self, folder: Path) -> None: ...

    def describe(self) -> str: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildSpec:
    """What to build and how; every field that can change the output is here."""

    source: Path  #: a project folder or an sdist file
    outdir: Path
    cache_dir: Path
    source_date_epoch: int | None = None  #: None: the environment, git, the sdist, or a default
    source_date_epoch_from: str = "option"
    exclude_newer: datetime | None = None
    normalize: bool = True
    umask: int = 0o022
    hash_seed: str = "0"
    timezone: str = "UTC"
    locale: str = "C.UTF-8"
    path: str = "/usr/local/bin:/usr/bin:/bin"  #: PATH inside the build (compilers are found)
    build_root: Path = BUILD_ROOT
    #: exact requirements to install instead of resolving (a rebuild from buildinfo)
    pins: Mapping[str, tuple[PinnedRequirement, ...]] = field(default_factory=dict)
    #: the interpreter the build environments are made from (None: the one running reprobuild)
    python: Path | None = None
    #: requirements that replace the project's build requirements of the same name
    overrides: tuple[str, ...] = ()
    #: False: the build does not see SOURCE_DATE_EPOCH (the backends' own defaults apply)
    export_source_date_epoch: bool = True
    #: the times of the unpacked sdist's files: the epoch, or each member's own (as pip does)
    sdist_times: Literal["epoch", "members"] = "epoch"
    #: run in the unpacked sdist, in order, before the wheel is built
    steps: tuple[PrepareStep, ...] = ()
    #: replay this instant (seconds since the epoch) as the wheel build's clock: its Python
    #: processes read it as the time and see the files they write as written then, while the
    #: unpacked sdist keeps its own times (a wheel built without SOURCE_DATE_EPOCH)
    build_clock: int | None = None
    #: with ``build_clock``: the time the wheel build's clock reads, when later than the time
    #: the files it writes carry (the clock at the end of the publisher's build, which the
    #: wheel's writer stamps RECORD with); None: ``build_clock``
    closing_clock: int | None = None
    #: with ``build_clock``: the time of the files the wheel build writes inside a
    #: ``.dist-info`` folder, when later (METADATA, WHEEL and the licenses, which bdist_wheel
    #: writes after the egg-info files it copies in with their times); None: ``build_clock``
    dist_info_clock: int | None = None
    #: the same for the sdist's build from a project folder (the instant the sdist was written)
    sdist_clock: int | None = None
    #: build the wheel with setuptools' legacy backend (``setup.py``) whatever backend the
    #: project names: a publisher who ran ``setup.py bdist_wheel`` did not use the named one
    setup_py: bool = False
    #: with ``build_clock``: the sdist's egg-info files, written again by the wheel build with
    #: the same bytes, keep the sdist's times (a publisher's single ``setup.py sdist
    #: bdist_wheel`` run wrote them once, before the sdist was made)
    keep_egg_info: bool = False
    #: the build's ~/.pydistutils.cfg, read by setuptools as a user's own defaults for its
    #: commands (``[bdist_wheel]`` ``universal = 1`` is ``bdist_wheel --universal``); "": none
    distutils_config: str = ""
    #: variables added to the build's environment; they replace controlled ones of that name
    extra_env: Mapping[str, str] = field(default_factory=dict)
    #: a command every backend subprocess runs under (``taskset -c 0``, say); (): none
    wrapper: tuple[str, ...] = ()
    #: the build's HOME, a folder of the build folder, and its TMPDIR, a folder of HOME
    home_folder: str = "home"
    tmp_folder: str = "tmp"
    #: seconds added to the times of the source files (the copied folder's, or the unpacked
    #: sdist's when an sdist is built), SOURCE_DATE_EPOCH unchanged
    source_time_offset: int = 0
    #: the order the copied source files are created in (a folder may list them in that order)
    creation_order: Literal["sorted", "reversed"] = "sorted"
    #: requirement sets an earlier build of the same project resolved (for the same interpreter
    #: and cut-off), each with its pins: installed as pinned instead of being resolved again
    resolved: Mapping[tuple[str, ...], tuple[PinnedRequirement, ...]] = field(default_factory=dict)
    #: the sandbox every backend subprocess runs in (None: the best this machine has, and an
    #: error when it has none; ``Sandbox(mode=SandboxMode.NONE)`` builds unsandboxed)
    sandbox: Sandbox | None = None
    #: the host name the build sees (None: this machine's)
    hostname: str | None = None
    #: the build requirements whose sdists are being built, outermost first, this build being
    #: the last one's (set by reprobuild when it builds a requirement published only as an sdist)
    building: tuple[str, ...] = ()
    #: folders of wheels offered besides the index to every build environment (wheels built
    #: earlier in a graph: give only those meant for this build)
    find_links: tuple[Path, ...] = ()
    #: build the sdist only (from a project folder): the wheel is another step's work
    sdist_only: bool = False
    #: build the wheel only: from a project folder, straight from the copied folder with no
    #: sdist made (as ``python -m build --wheel`` does); from an sdist, the wheel without the
    #: sdist's normalized copy among the outputs
    wheel_only: bool = False
    #: PEP 517 ``config_settings`` passed to every hook of the project's build (the
    #: ``get_requires_for_build_*`` hooks too); a key given several times holds a list of its
    #: values, in order. Empty: the hooks get ``None``, as without settings
    config_settings: Mapping[str, str | list[str]] = field(default_factory=dict)
    #: install build requirements from ``find_links`` only, never from an index (a graph's
    #: own wheels): a requirement none of them provides fails the build, it is not built here
    no_index: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildResult:
    outputs: tuple[BuildOutput, ...]
    paths: tuple[Path, ...]
    buildinfo_path: Path
    buildinfo: dict[str, JSONValue]
    #: the requirement sets of this build's environments, with the pins installed for each
    #: (what ``BuildSpec.resolved`` of a later build takes)
    resolved: Mapping[tuple[str, ...], tuple[PinnedRequirement, ...]] = field(default_factory=dict)
    #: what the sandbox kept the build from doing (writes outside its build folder), one
    #: sentence each: a build that reproduces can still have tried
    contained: tuple[str, ...] = ()
    #: the action this build was when it went through the action cache: its key, and whether
    #: it was built here or found in a cache (a claim, not a rebuild); None without a cache
    action: Performed | None = None


Progress = Callable[[str], None]


def controlled_environment(spec: BuildSpec, epoch: int, home: Path) -> dict[str, str]:
    """Exactly the variables a build sees: nothing else leaks in from the caller's shell."""
    env = {
        "PATH": spec.path,
        "HOME": str(home),
        "TMPDIR": str(home / spec.tmp_folder),
        "SOURCE_DATE_EPOCH": str(epoch),
        "TZ": spec.timezone,
        "LC_ALL": spec.locale,
        "LANG": spec.locale,
        "PYTHONHASHSEED": spec.hash_seed,
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if not spec.export_source_date_epoch:
        del env["SOURCE_DATE_EPOCH"]
    env.update(spec.extra_env)
    return env


def home_of(spec: BuildSpec) -> Path:
    """The HOME of a build of ``spec`` (its TMPDIR is ``tmp_folder`` in it), in its build
    folder: what a build that writes such paths into an artifact writes."""
    return spec.build_root / _WORK / spec.home_folder


#: The folder of the build folder that one build works in.
_WORK = "work"


@contextlib.contextmanager
def _locked_root(root: Path) -> Iterator[Path]:
    """The fixed build folder, emptied, for one build at a time on this machine.

    The folder must belong to this user and be writable by no one else (another user could
    otherwise change the sources under a build). After a failed build the work folder is kept,
    so that the log an error points to is still there; the next build empties it.
    """
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = root.lstat()
    if stat.S_ISLNK(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
        raise UsageError(
            "the build folder is not this user's own, or others may write to it",
            path=str(root),
            hint="remove it (or make it yours, mode 0700); reprobuild builds at a fixed path",
        )
    with (root / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        work = root / _WORK
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        yield work
        shutil.rmtree(work, ignore_errors=True)


def tree_digest(source: Path) -> str:
    """The digest of a project folder that :func:`build` computes as it copies it: each
    file's relative path, executable bit and content (a link's target), in sorted order, with
    what a build never copies (``.git``'s insides, ``__pycache__``, ``*.egg-info``, the
    top-level ``build`` and ``dist``) left out."""
    listing = []
    for folder, dirs, files in os.walk(source):
        rel = Path(folder).relative_to(source)
        dirs[:] = sorted(d for d in dirs if not _skipped(d, top=rel == Path()))
        if ".git" in rel.parts:
            continue
        for name in sorted(files):
            path = Path(folder) / name
            if path.is_symlink():
                listing.append(f"{(rel / name).as_posix()}\0link\0{path.readlink()}")
                continue
            executable = os.access(path, os.X_OK)
            listing.append(f"{(rel / name).as_posix()}\0{int(executable)}\0{sha256_file(path)}")
    return sha256_hex("\n".join(sorted(listing)).encode())


def _copy_tree(source: Path, target: Path, epoch: int, *, reverse: bool = False) -> str:
    """Copy a project folder, every time set to ``epoch``; return a digest of what was copied.

    The digest covers each file's relative path, executable bit and content, in sorted order.
    Files and folders are created in sorted order, or in the reverse of it with ``reverse``.
    """
    listing = []
    for folder, dirs, files in os.walk(source):
        rel = Path(folder).relative_to(source)
        dirs[:] = sorted((d for d in dirs if not _skipped(d, top=rel == Path())), reverse=reverse)
        (target / rel).mkdir(parents=True, exist_ok=True)
        for name in sorted(files, reverse=reverse):
            src = Path(folder) / name
            dst = target / rel / name
            if src.is_symlink():
                target_text = str(src.readlink())
                dst.symlink_to(target_text)
                if ".git" not in rel.parts:
                    listing.append(f"{(rel / name).as_posix()}\0link\0{target_text}")
                continue
            shutil.copyfile(src, dst)
            executable = os.access(src, os.X_OK)
            dst.chmod(0o755 if executable else 0o644)
            if ".git" not in rel.parts:
                data = dst.read_bytes()
                listing.append(f"{(rel / name).as_posix()}\0{int(executable)}\0{sha256_hex(data)}")
    for folder, dirs, files in os.walk(target):
        for name in [*dirs, *files]:
            os.utime(Path(folder) / name, (epoch, epoch), follow_symlinks=False)
    os.utime(target, (epoch, epoch))
    return sha256_hex("\n".join(sorted(listing)).encode())


def _unpack_sdist(
    archive: Archive, target: Path, epoch: int | None, umask: int, offset: int = 0
) -> Path:
    """Write an sdist's members below ``target`` (a folder made here), never through a link that
    leaves it (see :func:`~reprobuild.archive.extract.extract_archive`); every time set to
    ``epoch``, or to each member's own when it is ``None``, plus ``offset``; file modes the
    member's, less ``umask`` (see :func:`_unpacked_mode`). Return the sdist's top folder."""
    tops = {m.path.split("/", 1)[0] for m in archive.members}
    if len(tops) != 1:
        raise UsageError(
            "an sdist must hold exactly one top folder, not " + ", ".join(sorted(tops))
        )
    try:
        written = extract_archive(
            archive, target, file_mode=lambda mode: _unpacked_mode(mode, umask)
        )
    except OSError as exc:
        raise BuildError(
            f"cannot unpack the sdist: {exc.strerror or exc}",
            path=str(target),
            hint="check the build folder's disk space and permissions",
        ) from exc
    if epoch is not None:
        for folder, dirs, files in os.walk(target):
            for name in [*dirs, *files]:
                os.utime(Path(folder) / name, (epoch + offset,) * 2, follow_symlinks=False)
    else:  # deepest first, so that setting a file's time never touches its folder's again
        order = sorted(
            range(len(written)), key=lambda i: archive.members[i].path.count("/"), reverse=True
        )
        for i in order:
            os.utime(written[i], (archive.members[i].mtime + offset,) * 2, follow_symlinks=False)
    return target / next(iter(tops))


def _unpacked_mode(mode: int | None, umask: int) -> int:
    """The mode of an unpacked sdist file: the member's permission bits less ``umask``, as
    ``tar`` restores them (a setuptools sdist records the publisher's files as they were), and
    always readable and writable by its owner; 0o666 less ``umask`` when the sdist has none."""
    if mode is None:
        return 0o666 & ~umask
    return (mode & 0o777 & ~umask) | 0o600


def _environment_for(
    spec: BuildSpec,
    source: Path,
    system: BuildSystem,
    kind: Literal["sdist", "wheel"],
    env_vars: Mapping[str, str],
    progress: Progress,
    resolved: dict[tuple[str, ...], Environment],
    sandbox: Sandbox,
    contained: list[str] | None = None,
) -> Environment:
    """The pinned environment to run ``kind``'s hook in (static plus dynamic requirements) for
    the project in ``source``, whose build system is ``system``.

    A project without a build-backend is built by ``setuptools.build_meta:__legacy__``, which
    setuptools has had since 40.8.0 (2019-02-05): an earlier cut-off resolves as of that day.

    ``resolved`` remembers the environments of this build by requirement set: the sdist's and
    the wheel's usually need the same, and one build resolves a set once. A set that
    ``spec.resolved`` holds is installed as pinned there, not resolved again.

    A requirement with no wheel is built from its sdist in ``sandbox`` (see
    :func:`_with_built_wheels`).
    """
    cutoff = spec.exclude_newer
    legacy = system.legacy and cutoff is not None and cutoff < LEGACY_BACKEND_SINCE
    built: dict[str, BuiltWheel] = {}  # offered again to the next environment of this hook
    if kind in spec.pins:
        pins = spec.pins[kind]
        return _with_built_wheels(
            lambda links: prepare_environment(
                [f"{p.name}=={p.version}" for p in pins],
                cache_dir=spec.cache_dir,
                pins=pins,
                python=spec.python,
                progress=progress,
                find_links=links,
                index=IndexConfig(no_index=True) if spec.no_index else None,
            ),
            spec,
            [f"{p.name}=={p.version}" for p in pins],
            LEGACY_BACKEND_SINCE if legacy else cutoff,
            sandbox,
            progress,
            built,
        )
    if legacy and cutoff is not None:
        progress(
            f"resolving as of {LEGACY_BACKEND_SINCE.date()}, not {cutoff.date()}: the "
            f"project has no build-backend, and {LEGACY_BACKEND} came with setuptools 40.8.0"
        )
        cutoff = LEGACY_BACKEND_SINCE

    def prepare(requirements: Sequence[str]) -> Environment:
        key = tuple(requirements)
        if key not in resolved:
            wanted = overridden(requirements, spec.overrides)
            resolved[key] = _with_built_wheels(
                lambda links: prepare_environment(
                    wanted,
                    cache_dir=spec.cache_dir,
                    exclude_newer=cutoff,
                    python=spec.python,
                    progress=progress,
                    pins=spec.resolved.get(key),
                    find_links=links,
                    index=IndexConfig(no_index=True) if spec.no_index else None,
                ),
                spec,
                wanted,
                cutoff,
                sandbox,
                progress,
                built,
            )
        return resolved[key]

    requires = frontend_requires(system, spec.overrides)
    base = prepare(requires)
    extra = get_requires(
        base,
        source,
        kind,
        env_vars,
        config_settings=dict(spec.config_settings) or None,
        system=system,
        umask=spec.umask,
        wrapper=spec.wrapper,
        sandbox=sandbox,
        writable=(spec.build_root / _WORK,),
        hostname=spec.hostname,
        contained=contained,
    )
    return prepare([*requires, *extra]) if extra else base


class _SdistBuildError(BuildError):
    """A build requirement's wheel could not be built from its sdist (said once, where it
    failed, not again by every build that needed it)."""


def _with_built_wheels(
    make: Callable[[tuple[Path, ...]], Environment],
    spec: BuildSpec,
    requirements: Sequence[str],
    cutoff: datetime | None,
    sandbox: Sandbox,
    say: Progress,
    built: dict[str, BuiltWheel],
) -> Environment:
    """``make(find_links)``, first with the folders of the wheels ``built`` holds (by name);
    each time it fails because a requirement has no wheel, that requirement's wheel is built
    from its sdist in ``sandbox`` (:func:`_wheel_from_sdist`), added to ``built`` and offered
    in one folder more."""
    while True:
        try:
            return make((*spec.find_links, *(wheel.folder for wheel in built.values())))
        except NoWheelError as exc:
            if spec.no_index:
                raise BuildError(
                    f"the build requirement {exc.name} ({exc.specifier or 'any version'}) is "
                    "not among the wheels offered, and no index may be used",
                    hint="offer a wheel of it through find-links",
                    log_tail=exc.log_tail,
                ) from exc
            if exc.name in built:
                wheel = built[exc.name]
                raise BuildError(
                    f"the build requirement {exc.name} has no wheel {exc.tool} could use, even "
                    f"with {wheel.path.name}, built from its sdist {wheel.sdist}, beside the index",
                    hint="the versions the other requirements allow may not be the one built "
                    f"({exc.specifier or 'any version'} was asked for); require a version of "
                    f"{exc.name} yourself (--override)",
                    log_tail=exc.log_tail,
                ) from exc
            if len(built) >= _MOST_BUILT:
                raise BuildError(
                    f"more than {_MOST_BUILT} build requirements of one environment have no "
                    "wheel: reprobuild builds at most that many from their sdists",
                    hint="check the requirements, or give a later cut-off date",
                    log_tail=exc.log_tail,
                ) from exc
            specifier = _asked_for(exc.name, exc.specifier, requirements)
            built[exc.name] = _wheel_from_sdist(spec, exc.name, specifier, cutoff, sandbox, say)


def _asked_for(name: str, specifier: str, requirements: Sequence[str]) -> str:
    """``specifier``, narrowed by what ``requirements`` ask of ``name`` themselves."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.specifiers import SpecifierSet
    from packaging.utils import canonicalize_name

    out = SpecifierSet(specifier)
    for text in requirements:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        if canonicalize_name(requirement.name) == name:
            out &= requirement.specifier
    return str(out)


def _wheel_from_sdist(
    spec: BuildSpec,
    name: str,
    specifier: str,
    cutoff: datetime | None,
    sandbox: Sandbox,
    say: Progress,
) -> BuiltWheel:
    """The wheel of the build requirement ``name``, built from the sdist of the version a
    resolver would pick (the newest that ``specifier`` allows, published before ``cutoff``,
    for the build's interpreter), downloaded and checked against the index's sha256, built by
    :func:`build` in ``sandbox``, and kept in the cache (or taken from there when that sdist
    was built so before)."""
    chain = (*spec.building, name)
    if name in spec.building:
        raise _SdistBuildError(
            "a build requirement is needed to build itself: " + " › ".join(chain),
            hint=f"publish (or offer through find-links) a wheel of {name}",
        )
    if len(spec.building) >= SDIST_DEPTH:
        raise _SdistBuildError(
            f"the build requirements published only as sdists nest more than {SDIST_DEPTH} "
            "deep: " + " › ".join(chain),
            hint=f"offer a wheel of {name} through find-links, or give a later cut-off date",
        )
    interpreter = find_interpreter(spec.python)
    client = IndexClient(cache_dir=spec.cache_dir)
    file, version = _chosen_sdist(
        client.project_files(name), name, specifier, cutoff, interpreter.version
    )
    box = sandbox.to_json()
    key = source_key(
        sdist_sha256=file.sha256 or "",
        implementation=interpreter.implementation,
        python_version=interpreter.version,
        exclude_newer=cutoff,
        sandbox=box,
    )
    where = "in the sandbox" if sandbox.mode is not SandboxMode.NONE else "without a sandbox"
    found = find_built(spec.cache_dir, key)
    if found is not None:
        say(f"reusing {found.path.name}, built from its sdist {file.filename} {where}")
        return found
    sdist = client.download(file)
    say(f"building the build requirement {name} {version} from its sdist {file.filename} {where}")
    try:
        with tempfile.TemporaryDirectory(prefix="reprobuild-") as out:
            nested = BuildSpec(
                source=sdist,
                outdir=Path(out),
                cache_dir=spec.cache_dir,
                exclude_newer=cutoff,
                python=spec.python,
                sandbox=sandbox,
                build_root=spec.build_root.with_name(f"{spec.build_root.name}-{len(chain)}"),
                building=chain,
            )
            result = build(nested, progress=lambda message: say(f"{name}: {message}"))
            (wheel,) = [path for path in result.paths if path.name.endswith(".whl")]
            kept = store_built(
                spec.cache_dir,
                key,
                wheel,
                name=name,
                version=version,
                sdist=file.filename,
                sdist_sha256=file.sha256 or "",
                sdist_url=file.url,
                sandbox=box,
                buildinfo=result.buildinfo,
            )
    except _SdistBuildError:
        raise  # a requirement's requirement: said already
    except BuildError as exc:
        raise _SdistBuildError(
            f"the build requirement {name} {version} has no wheel, and building it from its "
            f"sdist {file.filename} {where} failed: {exc.reason}",
            path=exc.path,
            hint=exc.hint,
            log_tail=exc.log_tail,
            log_path=exc.log_path,
        ) from exc
    say(f"built {kept.path.name} (sha256 {kept.sha256[:12]}) from its sdist {where}")
    return kept


def _chosen_sdist(
    files: Sequence[IndexFile],
    name: str,
    specifier: str,
    cutoff: datetime | None,
    python_version: str,
) -> tuple[IndexFile, str]:
    """The sdist of the newest version of ``name`` in ``files`` that ``specifier`` allows, not
    yanked, published before ``cutoff`` (a file whose index gives no upload time is taken, as
    uv does) and whose Requires-Python admits ``python_version``; with its version. A
    ``.tar.gz`` is preferred to a ``.zip`` of the same version."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.utils import InvalidSdistFilename, parse_sdist_filename
    from packaging.version import InvalidVersion, Version

    limit = None
    if cutoff is not None:
        limit = cutoff if cutoff.tzinfo else cutoff.replace(tzinfo=UTC)
    candidates: dict[Version, list[IndexFile]] = {}
    for file in files:
        if file.yanked or file.sha256 is None:
            continue
        if limit is not None and file.upload_time is not None and file.upload_time >= limit:
            continue
        try:
            _, version = parse_sdist_filename(file.filename)
            if file.requires_python and not SpecifierSet(file.requires_python).contains(
                Version(python_version), prereleases=True
            ):
                continue
        except (InvalidSdistFilename, InvalidSpecifier, InvalidVersion):
            continue
        candidates.setdefault(version, []).append(file)
    allowed = list(SpecifierSet(specifier).filter(candidates))
    if not allowed:
        before = f" published before {format_time(int(limit.timestamp()))}" if limit else ""
        raise BuildError(
            f"the build requirement {name} has no wheel, and no sdist of it either "
            f"({specifier or 'any version'}{before}, for Python {python_version}) to build one "
            "from",
            hint="check the name and the cut-off date, and that the index lists sdists with "
            "sha256 digests",
        )
    version = max(allowed)
    file = max(candidates[version], key=lambda f: (f.filename.endswith(".tar.gz"), f.filename))
    return file, str(version)


def _clocked(
    env_vars: Mapping[str, str],
    instant: int | None,
    folder: Path,
    say: Progress,
    *,
    what: str,
    kept: Mapping[Path, tuple[str, int, int]] | None = None,
    reads: int | None = None,
    dist_info: int | None = None,
) -> Mapping[str, str]:
    """``env_vars``, plus the clock shim's variables replaying ``instant`` from now on (its
    files in ``folder``; ``kept``, ``reads`` and ``dist_info``: see :func:`clock_variables`);
    unchanged when it is None."""
    if instant is None:
        return env_vars
    later = f", the clock read as {format_time(reads)}" if reads not in (None, instant) else ""
    if dist_info not in (None, instant):
        later += f", .dist-info files written at {format_time(dist_info)}"
    say(f"replaying {what} {format_time(instant)}{later}")
    variables = clock_variables(
        instant, since=time.time(), folder=folder, kept=kept, reads=reads, dist_info=dist_info
    )
    return {**env_vars, **variables}


def _egg_info_files(project: Path) -> dict[Path, tuple[str, int, int]]:
    """Every file of an ``.egg-info`` folder in ``project``: its sha256, size and time."""
    out = {}
    for folder in sorted(project.rglob("*.egg-info")):
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.is_file() and not path.is_symlink():
                data = path.read_bytes()
                out[path] = (sha256_hex(data), len(data), int(path.stat().st_mtime))
    return out


def _environment_record(env: Environment) -> dict[str, JSONValue]:
    record: dict[str, JSONValue] = {
        "installer": env.installer,
        "requirements": [
            {"name": p.name, "version": p.version, "hashes": list(p.hashes)} for p in env.pinned
        ],
    }
    pinned = {digest.removeprefix("sha256:") for p in env.pinned for digest in p.hashes}
    built = [w for f in env.find_links for w in kept_wheels(f) if w.sha256 in pinned]
    if built:  # installed from wheels reprobuild built from their sdists, in the sandbox
        record["built_from_sdist"] = [wheel.to_json() for wheel in built]
    return record


def _epoch_for(spec: BuildSpec, sdist: Archive | None, source: Path) -> tuple[int, str]:
    if spec.source_date_epoch is not None:
        return spec.source_date_epoch, spec.source_date_epoch_from
    if sdist is not None:
        newest = max((m.mtime for m in sdist.members), default=DEFAULT_SOURCE_DATE_EPOCH)
        return newest, "sdist"
    commit = git_commit_info(source)
    if commit is not None:
        return commit.time, "git"
    return DEFAULT_SOURCE_DATE_EPOCH, "default"


def build(spec: BuildSpec, *, progress: Progress | None = None) -> BuildResult:
    """Build ``spec.source`` into ``spec.outdir``: sdist, then the wheel from that sdist (or
    one of them, see ``spec.sdist_only`` and ``spec.wheel_only``).

    An error names ``spec.source`` as the user gave it, never the copy of it in the build
    folder; when the backend's log names paths of the build folder, the hint says what they
    are copies of."""
    say = progress or (lambda _message: None)
    source = spec.source.resolve()
    if not source.exists():
        raise UsageError("no such file or folder", path=str(spec.source))
    if spec.outdir.exists() and not spec.outdir.is_dir():
        raise UsageError("the output folder is a file", path=str(spec.outdir))
    if spec.sdist_only and spec.wheel_only:
        raise UsageError(
            "an sdist only and a wheel only: build both, or one of them",
            path=str(spec.source),
        )
    sdist_in: Archive | None = None
    if source.is_dir():
        try:
            read_build_system(source)  # a bad project is refused before anything is copied
        except ReprobuildError as exc:
            raise exc.with_path(str(spec.source)) from None
    if source.is_file():
        if spec.sdist_only:
            raise UsageError(
                "an sdist is built from a project folder, not from an sdist",
                path=str(spec.source),
            )
        if not spec.wheel_only and (spec.outdir / source.name).resolve() == source:
            raise UsageError(
                "the output folder is the sdist's own folder: its normalized copy would replace it",
                path=str(spec.source),
                hint="choose another folder with -o",
            )
        sdist_in = load_archive(source, identical_duplicates=True)
    sandbox = spec.sandbox if spec.sandbox is not None else default_sandbox()
    contained: list[str] = []
    epoch, epoch_from = _epoch_for(spec, sdist_in, source)
    commit = git_commit_info(source) if sdist_in is None else None
    old_umask = os.umask(spec.umask)
    try:
        with _locked_root(spec.build_root) as work:
            resolved: dict[tuple[str, ...], Environment] = {}
            home = work / spec.home_folder
            (home / spec.tmp_folder).mkdir(parents=True)
            if spec.distutils_config:
                (home / ".pydistutils.cfg").write_text(spec.distutils_config, encoding="utf-8")
            env_vars = controlled_environment(spec, epoch, home)
            staging = work / "out"
            staging.mkdir()
            settings = dict(spec.config_settings) or None
            sdist_path: Path | None = None
            if sdist_in is None:
                tree = work / "source"
                say(f"copying {spec.source} to {tree}")
                source_digest = _copy_tree(
                    source,
                    tree,
                    epoch + spec.source_time_offset,
                    reverse=spec.creation_order == "reversed",
                )
                system = read_build_system(tree)
                source_kind = "folder"
            if sdist_in is None and not spec.wheel_only:
                sdist_vars = _clocked(
                    env_vars, spec.sdist_clock, work / "sdist-clock", say, what="the sdist's clock"
                )
                env_sdist = _environment_for(
                    spec, tree, system, "sdist", sdist_vars, say, resolved, sandbox, contained
                )
                say("building the sdist")
                sdist_path = build_sdist(
                    env_sdist,
                    tree,
                    staging,
                    sdist_vars,
                    config_settings=settings,
                    system=system,
                    umask=spec.umask,
                    log_path=work / "sdist.log",
                    progress=say,
                    wrapper=spec.wrapper,
                    sandbox=sandbox,
                    writable=(work,),
                    hostname=spec.hostname,
                    contained=contained,
                )
                sdist_archive: Archive | None = load_archive(sdist_path, identical_duplicates=True)
            elif sdist_in is None:  # the wheel straight from the copied folder
                sdist_archive = None
                env_sdist = None
            else:
                sdist_archive = sdist_in
                sdist_path = staging / source.name
                shutil.copyfile(source, sdist_path)
                source_digest = sha256_file(sdist_path)
                env_sdist = None
                source_kind = "sdist"
            built = [sdist_path] if sdist_path is not None and not spec.wheel_only else []
            env_wheel = None
            if not spec.sdist_only:
                if sdist_archive is None:
                    unpacked = tree
                else:
                    unpacked = _unpack_sdist(
                        sdist_archive,
                        work / "sdist",
                        epoch if spec.sdist_times == "epoch" else None,
                        spec.umask,
                        spec.source_time_offset if sdist_in is not None else 0,
                    )
                for step in spec.steps:
                    say(step.describe())
                    step.apply(unpacked)
                system = read_build_system(unpacked)
                if spec.setup_py and not system.legacy:
                    say(f"building the wheel with {LEGACY_BACKEND}, not {system.build_backend}")
                    system = setup_py_system(system)
                keep = spec.keep_egg_info and spec.build_clock is not None
                wheel_vars = _clocked(
                    env_vars,
                    spec.build_clock,
                    work / "clock",
                    say,
                    what="the build clock",
                    kept=_egg_info_files(unpacked) if keep else None,
                    reads=spec.closing_clock,
                    dist_info=spec.dist_info_clock,
                )
                env_wheel = _environment_for(
                    spec, unpacked, system, "wheel", wheel_vars, say, resolved, sandbox, contained
                )
                say(
                    "building the wheel from the sdist"
                    if sdist_archive is not None
                    else "building the wheel from the folder (no sdist)"
                )
                wheel_path = build_wheel(
                    env_wheel,
                    unpacked,
                    staging,
                    wheel_vars,
                    config_settings=settings,
                    system=system,
                    umask=spec.umask,
                    log_path=work / "wheel.log",
                    progress=say,
                    wrapper=spec.wrapper,
                    sandbox=sandbox,
                    writable=(work,),
                    hostname=spec.hostname,
                    contained=contained,
                )
                built.append(wheel_path)
            # each artifact as the pieces of its file (never joined): its mapping outlives the
            # work folder, and a large one is never read in whole
            artifacts: dict[str, Iterable[Buffer]] = {}
            for path in built:
                data = read_bytes_mapped(path)
                artifacts[path.name] = (
                    normalize_bytes(
                        data, filename=path.name, policy=Policy(source_date_epoch=epoch)
                    ).chunks
                    if spec.normalize
                    else (data,)
                )
    except ReprobuildError as exc:
        # an error names the input, not the copy of it in the build folder (the log it points
        # to stays where it is)
        raise _located(exc, spec) from None
    finally:
        os.umask(old_umask)
    outputs = tuple(
        BuildOutput(filename=name, sha256=digest, size=size)
        for name, (digest, size) in ((name, sha256_chunks(c)) for name, c in artifacts.items())
    )
    name, version = _name_version(built[0].name)
    environments: dict[str, JSONValue] = {}
    if env_wheel is not None:
        environments["wheel"] = _environment_record(env_wheel)
    if env_sdist is not None:
        environments = {"sdist": _environment_record(env_sdist), **environments}
    record: dict[str, JSONValue] = {
        "source": {
            "kind": source_kind,
            "name": name,
            "version": version,
            "sha256": source_digest,
            "git_commit": commit.commit if commit else None,
            "git_dirty": commit.dirty if commit else None,
        },
        "python": {
            "implementation": sys.implementation.name,
            "version": platform.python_version(),
            "platform": f"{sys.platform}-{platform.machine()}",
        },
        "build_system": {
            "requires": list(system.requires),
            "build_backend": system.build_backend,
            "backend_path": list(system.backend_path),
        },
        "environments": environments,
        "exclude_newer": spec.exclude_newer.isoformat() if spec.exclude_newer else None,
        "source_date_epoch": epoch,
        "source_date_epoch_from": epoch_from,
        "build_clock": spec.build_clock,
        "closing_clock": spec.closing_clock,
        "dist_info_clock": spec.dist_info_clock,
        "sdist_clock": spec.sdist_clock,
        "setup_py": spec.setup_py,
        "keep_egg_info": spec.keep_egg_info,
        "distutils_config": spec.distutils_config or None,
        "config_settings": _settings_record(spec.config_settings),
        "wheel_from": None if spec.sdist_only else "folder" if sdist_archive is None else "sdist",
        "environment_variables": {k: v for k, v in env_vars.items() if k not in ("HOME", "TMPDIR")},
        "normalized": spec.normalize,
        "sandbox": sandbox.to_json(),
        "outputs": [{"filename": o.filename, "sha256": o.sha256, "size": o.size} for o in outputs],
    }
    spec.outdir.mkdir(parents=True, exist_ok=True)
    paths = []
    for filename, chunks in artifacts.items():
        target = spec.outdir / filename
        write_chunks_atomic(target, chunks, mode=0o644)
        paths.append(target)
    info_path = spec.outdir / f"{name}-{version}.buildinfo.json"
    write_bytes_atomic(info_path, dump_buildinfo(record).encode(), mode=0o644)
    return BuildResult(
        outputs=outputs,
        paths=tuple(paths),
        buildinfo_path=info_path,
        buildinfo=record,
        resolved={key: env.pinned for key, env in resolved.items()},
        contained=tuple(contained),
    )


def _settings_record(settings: Mapping[str, str | list[str]]) -> JSONValue:
    """The config settings as the buildinfo record holds them (None: no settings)."""
    if not settings:
        return None
    record: dict[str, JSONValue] = {}
    for key, value in settings.items():
        record[key] = value if isinstance(value, str) else list[JSONValue](value)
    return record


def _located(exc: ReprobuildError, spec: BuildSpec) -> ReprobuildError:
    """``exc`` naming ``spec.source`` where it named the build folder's copy of it: its path,
    and the build folder's paths in its reason. When its hint (the backend's log) names paths
    of the build folder, a last line says what they are copies of."""
    work = spec.build_root / _WORK
    given = str(spec.source)
    copies = {
        f"{work}/source": f"a copy of {given}",
        f"{work}/sdist": (
            f"the sdist built from {given}, unpacked"
            if spec.source.is_dir()
            else f"{given}, unpacked"
        ),
    }
    if exc.path and Path(exc.path).is_relative_to(spec.build_root):
        exc.path = given
    exc.reason = exc.reason.replace(f"{work}/source", given)
    log = (exc.hint or "").replace(f"{work}/sdist.log", "").replace(f"{work}/wheel.log", "")
    named = [f"{copy} is {original}" for copy, original in copies.items() if copy in log]
    if named:
        exc.hint = (
            f"{exc.hint}\n(the build runs in a copy at a fixed path: " + "; ".join(named) + ")"
        )
    return exc


def _name_version(filename: str) -> tuple[str, str]:
    """The name and version in an sdist's or a wheel's file name, as the backend wrote them."""
    if filename.endswith(".whl"):
        name, version, *_ = filename.removesuffix(".whl").split("-")
        return name, version
    stem = filename.removesuffix(".tar.gz").removesuffix(".zip")
    name, _, version = stem.rpartition("-")
    if not name:
        raise ReprobuildError(f"cannot tell name and version from {filename!r}")
    return name, version
