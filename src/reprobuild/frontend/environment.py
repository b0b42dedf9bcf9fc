"""Isolated build environments, pinned with hashes and cached by what they hold.

``prepare_environment`` resolves the build requirements to exact versions with sha256 hashes,
names the environment by the sha256 of those pins and the interpreter (its *key*), and reuses
``<cache_dir>/envs/<key>`` when a complete one is there: a second build of the same project
installs nothing. A new environment is made in a temporary folder beside its final place,
gets its marker file last, and is renamed into place, so a crashed or interrupted install is
never taken for a complete one.

A build must not be able to change the environment that later builds reuse (a ``.pth`` file
planted in ``site-packages`` runs in every Python that starts there). When an environment is
made, every entry of it (path, kind, mode, sha256 or link target) is recorded *beside* it, in
``<key>.contents.json``, so that the folder a build sees holds nothing that vouches for itself;
its sha256 is the environment's :attr:`Environment.digest`. Each reuse scans the folder again
and compares: an environment that was changed since it was made, or that has no record, is
discarded and made again, with a warning that names the first path that differs.

Requirements are resolved and installed from wheels only (see
:mod:`reprobuild.frontend.installers`); ``find_links`` offers folders of wheels besides the
index, such as those :mod:`reprobuild.frontend.wheelhouse` keeps of requirements built from
their sdists in the sandbox. A wheel taken from there is pinned by its own sha256 like any
other.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from reprobuild._fs import write_bytes_atomic
from reprobuild.errors import BuildError, ProjectError
from reprobuild.frontend.envdigest import (
    first_difference,
    parse_entries,
    render_entries,
    scan_tree,
    tree_digest,
)
from reprobuild.frontend.indexes import IndexConfig
from reprobuild.frontend.installers import (
    Installer,
    InstallerName,
    get_installer,
    venv_python,
)
from reprobuild.frontend.interpreter import Interpreter, find_interpreter
from reprobuild.frontend.pins import (
    PinnedRequirement,
    environment_key,
    parse_pins,
    render_pins,
)

__all__ = [
    "CONTENTS_SUFFIX",
    "MARKER",
    "PINS_FILE",
    "Environment",
    "prepare_environment",
    "resolve_requirements",
]

#: Written last into a new environment: its presence means the environment is complete.
MARKER = "reprobuild-env.json"
#: The pins the environment was installed from, in requirements-file form.
PINS_FILE = "pins.txt"
#: Beside the folder ``<key>``, ``<key>`` + this names the record of what it held when made.
CONTENTS_SUFFIX = ".contents.json"
#: Temporary folders left behind by a process that died are removed after this many seconds.
_STALE_AFTER = 24 * 3600


@dataclass(frozen=True, slots=True, kw_only=True)
class Environment:
    """A virtual environment holding exactly ``pinned``.

    ``path`` is its folder (``<cache_dir>/envs/<key>``), ``python`` its interpreter,
    ``installer`` what installed it (``"uv"`` or ``"pip"``), ``key`` the sha256 of its pins and
    interpreter, ``python_version`` and ``implementation`` those of that interpreter.
    ``digest`` is the sha256 of everything the folder held when it was made (every path, its
    kind, mode, and the sha256 of a file or the target of a link; see
    :mod:`reprobuild.frontend.envdigest`), checked again each time it is reused.
    ``find_links`` are the folders of wheels that were offered besides the index when it was
    asked for.
    """

    path: Path
    python: Path
    installer: InstallerName
    pinned: tuple[PinnedRequirement, ...]
    key: str
    python_version: str
    implementation: str
    digest: str
    find_links: tuple[Path, ...] = ()

    @property
    def scripts(self) -> Path:
        """The folder of the environment's console scripts (``bin``)."""
        return self.python.parent


def resolve_requirements(
    requirements: Sequence[str],
    *,
    exclude_newer: datetime | None = None,
    python: Path | None = None,
    installer: InstallerName | None = None,
    index: IndexConfig | None = None,
    progress: Callable[[str], None] | None = None,
    find_links: Sequence[Path] = (),
) -> tuple[PinnedRequirement, ...]:
    """Pin ``requirements`` and all they need to exact versions with sha256 hashes.

    The arguments are those of :func:`prepare_environment`; nothing is installed.
    """
    interpreter = find_interpreter(python)
    tool = get_installer(installer, index=index, find_links=find_links)
    with tempfile.TemporaryDirectory(prefix="reprobuild-") as scratch:
        return _resolve(
            _validate(requirements),
            tool,
            interpreter,
            exclude_newer,
            Path(scratch),
            progress or _quiet,
        )


def prepare_environment(
    requirements: Sequence[str],
    *,
    cache_dir: Path,
    exclude_newer: datetime | None = None,
    python: Path | None = None,
    progress: Callable[[str], None] | None = None,
    installer: InstallerName | None = None,
    index: IndexConfig | None = None,
    pins: Sequence[PinnedRequirement] | None = None,
    find_links: Sequence[Path] = (),
) -> Environment:
    """An isolated environment with ``requirements`` installed, pinned and cached.

    ``requirements`` are PEP 508 strings: the build system's ``requires`` together with what
    the backend's ``get_requires_for_build_*`` hook asked for (call again with the union; the
    larger set gets its own environment). They are resolved for ``python`` (default: the
    interpreter running reprobuild) as the package index was at ``exclude_newer`` (default:
    now; a naive time is UTC). ``installer`` forces ``"uv"`` or ``"pip"``; by default uv is
    used when its binary runs and ``venv`` + pip otherwise. ``index`` replaces pip's index
    configuration (by default read from pip and passed on to uv). ``pins`` skips resolution
    and installs exactly those (as recorded by an earlier build); ``requirements`` are then only
    checked for syntax. ``progress`` receives one line per step, and a line starting with
    ``warning:`` when a cached environment was changed since it was made and is made again.
    ``find_links`` are folders of wheels searched besides the index (each wheel there is
    offered whatever its upload time: give only the wheels meant for this environment).

    Raises :class:`ProjectError` for a requirement that does not parse,
    :class:`~reprobuild.frontend.installers.NoWheelError` when a requirement has no wheel, and
    :class:`BuildError` when resolution or installation fails otherwise.
    """
    say = progress or _quiet
    wanted = _validate(requirements)
    interpreter = find_interpreter(python)
    links = tuple(Path(folder).absolute() for folder in find_links)
    tool = get_installer(installer, index=index, find_links=links)
    envs = Path(cache_dir).absolute() / "envs"
    try:
        envs.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BuildError(
            f"cannot use the cache folder: {exc.strerror or exc}",
            path=str(envs),
            hint="give a cache folder you can write to",
        ) from exc
    with tempfile.TemporaryDirectory(prefix="reprobuild-") as scratch_name:
        scratch = Path(scratch_name)
        if pins is None:
            pinned = _resolve(wanted, tool, interpreter, exclude_newer, scratch, say)
        else:
            pinned = parse_pins(render_pins(pins))  # names normalized, hashes sorted, checked
        key = environment_key(
            pinned,
            implementation=interpreter.implementation,
            python_version=interpreter.version,
            base=interpreter.base,
        )
        final = envs / key
        found = _load(final, key, pinned, interpreter)
        if isinstance(found, Environment):
            say(f"reusing environment {key[:12]} ({_count(pinned)})")
            return dataclasses.replace(found, find_links=links)
        # a changed environment is judged again under the lock: another process may be making
        # it again at this very moment, and then there is nothing to warn about
        with _making(envs, key):
            found = _load(final, key, pinned, interpreter)
            if isinstance(found, Environment):
                say(f"reusing environment {key[:12]} ({_count(pinned)}), made meanwhile")
                return dataclasses.replace(found, find_links=links)
            if isinstance(found, _Damaged):
                say(f"warning: environment {key[:12]} {found.reason}: making it again")
            environment = _create(final, key, pinned, interpreter, tool, scratch, say)
    say(f"environment {key[:12]} ready")
    return dataclasses.replace(environment, find_links=links)


def _create(
    final: Path,
    key: str,
    pinned: tuple[PinnedRequirement, ...],
    interpreter: Interpreter,
    tool: Installer,
    scratch: Path,
    say: Callable[[str], None],
) -> Environment:
    """Make the environment ``key`` in a temporary folder beside ``final``, complete it with
    its marker, record what it holds beside ``final``, and rename it into place. The caller
    holds the lock of ``key`` (:func:`_making`)."""
    envs = final.parent
    _remove_stale(envs)
    if final.exists():  # not complete, changed since it was made, or made by another version
        _discard(final, envs)
    say(f"creating environment {key[:12]} with {tool.name}")
    staging = envs / f".tmp-{key[:16]}-{secrets.token_hex(4)}"
    try:
        staged_python = tool.create(staging, interpreter=interpreter, workdir=scratch)
        (staging / PINS_FILE).write_text(render_pins(pinned), encoding="utf-8")
        if pinned:
            say(f"installing {_count(pinned)} with {tool.name}")
            tool.install(
                staging / PINS_FILE,
                interpreter=interpreter,
                target_python=staged_python,
                workdir=scratch,
            )
        _retarget(staging, final)
        marker = {
            "schema_version": 1,
            "tool": "reprobuild",
            "key": key,
            "installer": tool.name,
            "implementation": interpreter.implementation,
            "python_version": interpreter.version,
            "base": interpreter.base,
            "pinned": [pin.line() for pin in pinned],
        }
        write_bytes_atomic(staging / MARKER, (json.dumps(marker, indent=2) + "\n").encode("utf-8"))
        # recorded before the rename: from the moment the folder is in place, its record is
        # there to check it against (the paths are relative, the rename changes none)
        digest = _record_contents(staging, _record_path(final), key)
        _commit(staging, final)
        return Environment(
            path=final,
            python=venv_python(final),
            installer=tool.name,
            pinned=pinned,
            key=key,
            python_version=interpreter.version,
            implementation=interpreter.implementation,
            digest=digest,
        )
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


@contextlib.contextmanager
def _making(envs: Path, key: str) -> Iterator[None]:
    """Held while the environment ``key`` is made in ``envs``: another process about to make
    the same one (two builds of one project started together) waits, then finds it made,
    instead of installing it a second time. The lock files are kept in ``locks`` beside
    ``envs``; an environment is still renamed into place whole, so a process that does not
    take the lock never sees one half made."""
    locks = envs.parent / "locks"
    locks.mkdir(exist_ok=True)
    with (locks / f"env-{key}").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _quiet(_message: str) -> None:
    return None


def _count(pins: Sequence[PinnedRequirement]) -> str:
    return f"{len(pins)} package{'' if len(pins) == 1 else 's'}"


def _validate(requirements: Sequence[str]) -> tuple[str, ...]:
    if isinstance(requirements, str):
        raise TypeError("requirements must be a sequence of strings, not one string")
    for requirement in requirements:
        try:
            Requirement(requirement)
        except InvalidRequirement as exc:
            raise ProjectError(
                f"{requirement!r} is not a valid requirement: {exc}",
                hint="write requirements as PEP 508 specifiers, e.g. 'hatchling>=1.25'",
            ) from exc
    # the order in which requirements were given does not change what they resolve to
    return tuple(sorted(set(requirements)))


def _resolve(
    requirements: tuple[str, ...],
    tool: Installer,
    interpreter: Interpreter,
    exclude_newer: datetime | None,
    scratch: Path,
    say: Callable[[str], None],
) -> tuple[PinnedRequirement, ...]:
    if not requirements:
        return ()
    count = len(requirements)
    say(f"resolving {count} build requirement{'' if count == 1 else 's'} with {tool.name}")
    requirements_file = scratch / "requirements.in"
    requirements_file.write_text("".join(f"{r}\n" for r in requirements), encoding="utf-8")
    return tool.resolve(
        requirements_file, interpreter=interpreter, exclude_newer=exclude_newer, workdir=scratch
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Damaged:
    """A complete environment that is not as it was made: ``reason`` says how, to follow
    ``environment <key>`` in a warning."""

    reason: str


def _record_path(folder: Path) -> Path:
    """Where the record of the environment ``folder`` is kept: beside it, not inside."""
    return folder.with_name(folder.name + CONTENTS_SUFFIX)


def _record_contents(folder: Path, record: Path, key: str) -> str:
    """Scan ``folder``, write what it holds to ``record``, and return its digest."""
    entries = scan_tree(folder)
    digest = tree_digest(entries)
    text = (
        f'{{"schema_version":1,"tool":"reprobuild","key":{json.dumps(key)},'
        f'"digest":"{digest}","entries":{render_entries(entries)}}}\n'
    )
    write_bytes_atomic(record, text.encode("ascii"))
    return digest


def _check_contents(folder: Path, key: str) -> str | _Damaged:
    """The digest of ``folder`` when it holds what its record says, else how it differs."""
    try:
        record = json.loads(_record_path(folder).read_bytes())
    except FileNotFoundError:
        return _Damaged(reason="has no record of what it held when it was made")
    except (OSError, ValueError) as exc:
        return _Damaged(reason=f"has a record that cannot be read ({exc})")
    if not isinstance(record, dict) or record.get("key") != key:
        return _Damaged(reason="has a record that is not its own")
    try:
        current = scan_tree(folder)
    except OSError as exc:
        return _Damaged(reason=f"cannot be read ({exc.strerror or exc}: {exc.filename})")
    digest = tree_digest(current)
    if record.get("digest") == digest:
        return digest
    try:
        recorded = parse_entries(record.get("entries"))
    except ValueError as exc:
        return _Damaged(reason=f"has a damaged record of what it held ({exc})")
    difference = first_difference(recorded, current)
    if difference is None:
        return _Damaged(reason="has a damaged record of what it held (its digest is wrong)")
    return _Damaged(reason=f"was changed since it was made ({difference})")


def _load(
    folder: Path, key: str, pins: tuple[PinnedRequirement, ...], interpreter: Interpreter
) -> Environment | _Damaged | None:
    """The environment in ``folder`` when it is complete, holds ``key`` and is as it was
    made; :class:`_Damaged` when it is complete but changed since; ``None`` when it is not
    there or not complete."""
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(marker, dict) or marker.get("key") != key:
        return None
    installer = marker.get("installer")
    python = venv_python(folder)
    # exists() follows the link to the base interpreter: gone if that was uninstalled
    if installer not in {"uv", "pip"} or not python.exists():
        return None
    digest = _check_contents(folder, key)
    if isinstance(digest, _Damaged):
        return digest
    return Environment(
        path=folder,
        python=python,
        installer="uv" if installer == "uv" else "pip",
        pinned=pins,
        key=key,
        python_version=interpreter.version,
        implementation=interpreter.implementation,
        digest=digest,
    )


def _commit(staging: Path, final: Path) -> None:
    """Rename the complete ``staging`` folder to ``final``. Every process makes an environment
    under its lock, which removed ``final`` first: a folder found there now was put there
    otherwise, and is discarded."""
    try:
        staging.rename(final)
    except OSError:
        _discard(final, final.parent)
        try:
            staging.rename(final)
        except OSError as exc:
            raise BuildError(
                f"cannot move the new environment into place: {exc.strerror or exc}",
                path=str(final),
            ) from exc


def _discard(folder: Path, envs: Path) -> None:
    """Move ``folder`` out of the way at once (a rename), then delete it."""
    trash = envs / f".trash-{folder.name[:16]}-{secrets.token_hex(4)}"
    with contextlib.suppress(FileNotFoundError):
        folder.rename(trash)
    shutil.rmtree(trash, ignore_errors=True)


def _remove_stale(envs: Path) -> None:
    """Delete temporary folders (and half-written records) that a process which died left
    behind a day or more ago."""
    now = time.time()
    for entry in envs.iterdir():
        if entry.name.startswith((".tmp-", ".trash-")):
            with contextlib.suppress(OSError):
                if now - entry.stat().st_mtime > _STALE_AFTER:
                    shutil.rmtree(entry, ignore_errors=True)
        elif entry.name.startswith(".") and entry.name.endswith(".tmp"):  # atomic_write's
            with contextlib.suppress(OSError):
                if now - entry.lstat().st_mtime > _STALE_AFTER:
                    entry.unlink()


def _retarget(staging: Path, final: Path) -> None:
    """Make the scripts of an environment built in ``staging`` name ``final`` instead.

    uv makes relocatable environments, whose scripts find their interpreter relative to
    themselves; pip writes the interpreter's absolute path into each script's ``#!`` line.
    Only text files that start with ``#!``, the activation scripts and ``pyvenv.cfg`` are
    rewritten; binaries are left alone.
    """
    old, new = os.fsencode(staging), os.fsencode(final)
    scripts = venv_python(staging).parent
    candidates = [staging / "pyvenv.cfg"]
    if scripts.is_dir():
        candidates += [p for p in scripts.iterdir() if p.is_file() and not p.is_symlink()]
    for path in candidates:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if old not in data:
            continue
        is_script = data.startswith(b"#!") or path.name.startswith("activate")
        if not (is_script or path.name == "pyvenv.cfg"):
            continue
        mode = path.stat().st_mode & 0o7777
        write_bytes_atomic(path, data.replace(old, new), mode=mode)
