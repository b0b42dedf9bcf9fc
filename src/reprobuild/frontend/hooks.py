"""Calling a backend's PEP 517 hooks inside a prepared environment.

Each hook runs in a subprocess of the environment's Python (through ``pyproject_hooks``) with
exactly the environment variables it is given, an optional umask, and its output in a log file.
A hook that fails raises :class:`BuildError` with the last lines of that log; an sdist or wheel
appears in the output folder only once it is complete.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Literal

from pyproject_hooks import (
    BackendUnavailable,
    BuildBackendHookCaller,
    HookMissing,
    UnsupportedOperation,
)

from reprobuild.errors import BuildError
from reprobuild.frontend._run import read_tail, tail
from reprobuild.frontend.buildsystem import BuildSystem, read_build_system
from reprobuild.frontend.environment import Environment
from reprobuild.frontend.sandbox import (
    Sandbox,
    SandboxLimitError,
    SandboxMode,
    SandboxRun,
    default_sandbox,
    run_sandboxed,
)

__all__ = ["HOOKS", "build_sdist", "build_wheel", "call_hook", "get_requires"]

#: The hooks of PEP 517 and PEP 660 that :func:`call_hook` knows, with their arguments.
HOOKS: Mapping[str, tuple[str, ...]] = {
    "get_requires_for_build_sdist": ("config_settings",),
    "get_requires_for_build_wheel": ("config_settings",),
    "get_requires_for_build_editable": ("config_settings",),
    "prepare_metadata_for_build_wheel": ("metadata_directory", "config_settings"),
    "prepare_metadata_for_build_editable": ("metadata_directory", "config_settings"),
    "build_sdist": ("sdist_directory", "config_settings"),
    "build_wheel": ("wheel_directory", "config_settings", "metadata_directory"),
    "build_editable": ("wheel_directory", "config_settings", "metadata_directory"),
}

ConfigSettings = Mapping[str, str | list[str]]

#: The command-line option that raises each of the sandbox's limits.
_LIMIT_OPTIONS = {
    "wall-clock": "--timeout SECONDS",
    "memory": "--memory-limit SIZE",
    "processes": "--max-processes N",
    "output": "--output-limit SIZE",
}


class _HookFailed(Exception):
    def __init__(self, returncode: int) -> None:
        super().__init__(returncode)
        self.returncode = returncode


class _Stopped(Exception):
    def __init__(self, run: SandboxRun) -> None:
        super().__init__(run.stopped)
        self.run = run


class _CannotStart(Exception):
    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


def call_hook(
    env: Environment,
    source_dir: Path,
    hook: str,
    *,
    args: Mapping[str, object] | None = None,
    env_vars: Mapping[str, str],
    umask: int | None = None,
    log_path: Path | None = None,
    system: BuildSystem | None = None,
    progress: Callable[[str], None] | None = None,
    wrapper: Sequence[str] = (),
    sandbox: Sandbox | None = None,
    writable: Sequence[Path] = (),
    hostname: str | None = None,
    contained: list[str] | None = None,
) -> object:
    """Run the PEP 517 ``hook`` of the project in ``source_dir`` with ``env``'s Python.

    ``args`` are the hook's keyword arguments (see :data:`HOOKS`). The subprocess gets exactly
    ``env_vars`` as its environment, plus the variables ``pyproject_hooks`` uses to name the
    backend, and the environment's script folder in front of ``PATH`` (as every PEP 517 front
    end does, so that tools installed as build requirements are found). ``umask`` is set in the
    subprocess when given. Its standard output and error are appended to ``log_path`` (a
    temporary file when ``None``). Warnings the backend emits are written to the log and
    passed to ``progress``. ``system`` defaults to :func:`read_build_system`. ``wrapper`` is
    a command the subprocess is run under (``taskset -c 0``, say): its words come first.

    The subprocess runs in ``sandbox`` (default: the best this machine has, see
    :func:`~reprobuild.frontend.sandbox.choose_sandbox`; a machine with none refuses to run the
    hook unless ``Sandbox(mode=SandboxMode.NONE)`` is given). It may write only to
    ``writable`` folders (default: ``source_dir`` and the folder the hook writes into), and it
    sees the system, ``env`` and its interpreter read-only; ``hostname`` is the host name it
    sees (None: this machine's). A hook stopped at one of the
    sandbox's limits raises :class:`SandboxLimitError`, which names the limit.

    What the sandbox kept the hook from doing is appended to ``contained``, one sentence each.
    Files the hook wrote outside its writable folders (into the sandbox's throw-away home or
    ``/tmp``) are named in the log and passed to ``progress``.

    Returns what the hook returned. Raises :class:`BuildError`, with the last lines of the log,
    when the hook fails, and with the import error when the backend cannot be imported.
    """
    if hook not in HOOKS:
        raise ValueError(f"unknown PEP 517 hook {hook!r}; known: {', '.join(HOOKS)}")
    kwargs = dict(args or {})
    unknown = set(kwargs) - set(HOOKS[hook])
    if unknown:
        raise ValueError(f"hook {hook} takes no argument {', '.join(sorted(unknown))}")
    source_dir = Path(source_dir).absolute()
    system = system or read_build_system(source_dir)
    say = progress or (lambda _message: None)
    with _log_file(log_path) as log:
        start = log.stat().st_size if log.exists() else 0
        child_env = dict(env_vars)
        child_env["PATH"] = os.pathsep.join(
            [str(env.scripts), *([child_env["PATH"]] if child_env.get("PATH") else [])]
        )

        box = sandbox if sandbox is not None else default_sandbox()
        folders = [Path(p).absolute() for p in writable] or _default_writable(source_dir, kwargs)

        def runner(
            cmd: Sequence[str],
            cwd: str | None = None,
            extra_environ: Mapping[str, str] | None = None,
        ) -> None:
            words = [str(part) for part in cmd]
            if not os.access(words[0], os.X_OK):  # bwrap would only say so in the log
                error = FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), words[0])
                raise _CannotStart(error)
            # pyproject_hooks runs [python, its _in_process.py, hook, control folder]
            script_dir = Path(words[1]).parent
            control = Path(words[-1])
            with log.open("ab") as out:
                try:
                    run = run_sandboxed(
                        box,
                        [*wrapper, *words],
                        cwd=Path(cwd or source_dir),
                        env={**child_env, **(extra_environ or {})},
                        stdout=out,
                        writable=[*folders, control],
                        readable=[script_dir, env.path],
                        python=env.python,
                        umask=umask,
                        hostname=hostname,
                    )
                except OSError as exc:
                    raise _CannotStart(exc) from exc
            if run.outside:  # said at once: a build that then fails tried it too
                listed = ", ".join(run.outside[:5]) + (
                    f" and {len(run.outside) - 5} more" if len(run.outside) > 5 else ""
                )
                said = f"{hook} wrote outside its build folder, into the sandbox's throw-away "
                said += f"home or /tmp (discarded): {listed}"
                with log.open("a", encoding="utf-8") as out:
                    out.write(f"reprobuild: {said}\n")
                say(f"sandbox: {said}")
                if contained is not None:
                    contained.append(said)
            if run.stopped is not None:
                raise _Stopped(run)
            if run.returncode != 0:
                raise _HookFailed(run.returncode)

        try:
            caller = BuildBackendHookCaller(
                str(source_dir),
                system.build_backend,
                backend_path=list(system.backend_path) or None,
                runner=runner,
                python_executable=str(env.python),
            )
        except ValueError as exc:  # a backend-path outside the source tree
            raise BuildError(f"invalid backend-path: {exc}", path=str(source_dir)) from exc
        method: Callable[..., object] = getattr(caller, hook)
        say(f"calling {hook} of {system.build_backend}")
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result = method(**kwargs)
        except _Stopped as exc:
            log_tail = read_tail(log, start=start)
            raise SandboxLimitError(
                f"{'reprobuild' if box.mode is SandboxMode.NONE else 'the sandbox'} stopped "
                f"{hook} of {system.build_backend} at its {exc.run.stopped} limit: "
                f"{exc.run.detail}",
                limit=exc.run.stopped or "",
                path=str(source_dir),
                hint=f"if the build really needs more, raise the limit "
                f"({_LIMIT_OPTIONS.get(exc.run.stopped or '', 'see --help')}); "
                + _log_hint(log_tail, log_path),
                log_tail=log_tail,
                log_path=None if log_path is None else str(log_path),
            ) from None
        except _HookFailed as exc:
            log_tail = read_tail(log, start=start)
            raise BuildError(
                f"the build backend {system.build_backend} failed in {hook} "
                f"(exit status {exc.returncode})",
                path=str(source_dir),
                hint=_log_hint(log_tail, log_path),
                log_tail=log_tail,
                log_path=None if log_path is None else str(log_path),
            ) from None
        except BackendUnavailable as exc:
            log_tail = tail(exc.traceback or str(exc))
            cause = log_tail.splitlines()[-1] if log_tail else "unknown error"
            holds = ", ".join(f"{pin.name} {pin.version}" for pin in env.pinned) or "nothing"
            raise BuildError(
                f"the build backend {system.build_backend!r} cannot be imported: {cause}",
                path=str(source_dir),
                hint="check [build-system] in pyproject.toml: build-backend must name a module "
                f"that 'requires' installs (the environment holds {holds}) or one in "
                f"backend-path; the import failed with:\n{log_tail}",
                log_tail=log_tail,
                log_path=None if log_path is None else str(log_path),
            ) from exc
        except UnsupportedOperation as exc:
            raise BuildError(
                f"the build backend {system.build_backend} cannot run {hook} here",
                path=str(source_dir),
                hint=tail(exc.traceback),
                log_tail=tail(exc.traceback),
            ) from exc
        except HookMissing as exc:
            raise BuildError(
                f"the build backend {system.build_backend} has no {exc.hook_name} hook",
                path=str(source_dir),
                hint="the backend does not support this kind of build",
            ) from exc
        except _CannotStart as exc:
            raise BuildError(
                f"cannot run {env.python}: {exc.error.strerror or exc.error}",
                path=str(env.path),
                hint="the cached environment may be damaged; delete it and build again",
            ) from exc
        except (OSError, ValueError) as exc:  # exit status 0, but no (readable) output.json
            log_tail = read_tail(log, start=start)
            raise BuildError(
                f"the build backend {system.build_backend} ran {hook} but gave no result",
                path=str(source_dir),
                hint=_log_hint(log_tail, log_path),
                log_tail=log_tail,
                log_path=None if log_path is None else str(log_path),
            ) from exc
        if caught:
            with log.open("a", encoding="utf-8") as out:
                for warning in caught:
                    line = f"{warning.category.__name__}: {warning.message}"
                    out.write(f"reprobuild: the backend warned: {line}\n")
                    say(f"backend warning: {line}")
    return result


def get_requires(
    env: Environment,
    source_dir: Path,
    kind: Literal["sdist", "wheel", "editable"],
    env_vars: Mapping[str, str],
    *,
    config_settings: ConfigSettings | None = None,
    umask: int | None = None,
    log_path: Path | None = None,
    system: BuildSystem | None = None,
    progress: Callable[[str], None] | None = None,
    wrapper: Sequence[str] = (),
    sandbox: Sandbox | None = None,
    writable: Sequence[Path] = (),
    hostname: str | None = None,
    contained: list[str] | None = None,
) -> list[str]:
    """What the backend needs, besides ``requires``, to build a ``kind`` (PEP 517's
    ``get_requires_for_build_*``; an empty list when the backend lacks the hook)."""
    result = call_hook(
        env,
        source_dir,
        f"get_requires_for_build_{kind}",
        args={"config_settings": _settings(config_settings)},
        env_vars=env_vars,
        umask=umask,
        log_path=log_path,
        system=system,
        progress=progress,
        wrapper=wrapper,
        sandbox=sandbox,
        writable=writable,
        hostname=hostname,
        contained=contained,
    )
    if not isinstance(result, list) or not all(isinstance(item, str) for item in result):
        raise BuildError(
            f"get_requires_for_build_{kind} returned {result!r}, not a list of strings",
            path=str(source_dir),
        )
    return list(result)


def build_sdist(
    env: Environment,
    source_dir: Path,
    outdir: Path,
    env_vars: Mapping[str, str],
    *,
    config_settings: ConfigSettings | None = None,
    umask: int | None = None,
    log_path: Path | None = None,
    system: BuildSystem | None = None,
    progress: Callable[[str], None] | None = None,
    wrapper: Sequence[str] = (),
    sandbox: Sandbox | None = None,
    writable: Sequence[Path] = (),
    hostname: str | None = None,
    contained: list[str] | None = None,
) -> Path:
    """Build the project's sdist into ``outdir``; return its path.

    The backend writes into a temporary folder inside ``outdir``; the finished file is renamed
    into ``outdir``, so a failed build leaves nothing there (see :func:`call_hook`).
    """
    return _build(
        "build_sdist",
        "sdist_directory",
        env,
        source_dir,
        outdir,
        env_vars,
        config_settings=config_settings,
        umask=umask,
        log_path=log_path,
        system=system,
        progress=progress,
        wrapper=wrapper,
        sandbox=sandbox,
        writable=writable,
        hostname=hostname,
        contained=contained,
    )


def build_wheel(
    env: Environment,
    source_dir: Path,
    outdir: Path,
    env_vars: Mapping[str, str],
    *,
    config_settings: ConfigSettings | None = None,
    umask: int | None = None,
    log_path: Path | None = None,
    system: BuildSystem | None = None,
    progress: Callable[[str], None] | None = None,
    wrapper: Sequence[str] = (),
    sandbox: Sandbox | None = None,
    writable: Sequence[Path] = (),
    hostname: str | None = None,
    contained: list[str] | None = None,
) -> Path:
    """Build the project's wheel into ``outdir``; return its path (as :func:`build_sdist`)."""
    return _build(
        "build_wheel",
        "wheel_directory",
        env,
        source_dir,
        outdir,
        env_vars,
        config_settings=config_settings,
        umask=umask,
        log_path=log_path,
        system=system,
        progress=progress,
        wrapper=wrapper,
        sandbox=sandbox,
        writable=writable,
        hostname=hostname,
        contained=contained,
    )


def _build(
    hook: str,
    directory_arg: str,
    env: Environment,
    source_dir: Path,
    outdir: Path,
    env_vars: Mapping[str, str],
    *,
    config_settings: ConfigSettings | None,
    umask: int | None,
    log_path: Path | None,
    system: BuildSystem | None,
    progress: Callable[[str], None] | None,
    wrapper: Sequence[str] = (),
    sandbox: Sandbox | None = None,
    writable: Sequence[Path] = (),
    hostname: str | None = None,
    contained: list[str] | None = None,
) -> Path:
    outdir = Path(outdir).absolute()
    created = not outdir.exists()
    outdir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".reprobuild-", dir=outdir))
    done = False
    try:
        name = call_hook(
            env,
            source_dir,
            hook,
            args={directory_arg: str(staging), "config_settings": _settings(config_settings)},
            env_vars=env_vars,
            umask=umask,
            log_path=log_path,
            system=system,
            progress=progress,
            wrapper=wrapper,
            sandbox=sandbox,
            writable=writable,
            hostname=hostname,
            contained=contained,
        )
        if not isinstance(name, str) or not name or Path(name).name != name:
            raise BuildError(
                f"{hook} returned {name!r}, not the name of a file", path=str(source_dir)
            )
        built = staging / name
        if not built.is_file():
            raise BuildError(
                f"{hook} said it wrote {name}, but there is no such file", path=str(source_dir)
            )
        target = outdir / name
        built.replace(target)
        done = True
        return target
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if created and not done:
            with contextlib.suppress(OSError):
                outdir.rmdir()  # the folder this failed build made, now empty again


def _default_writable(source_dir: Path, kwargs: Mapping[str, object]) -> list[Path]:
    folders = [source_dir]
    for name in ("sdist_directory", "wheel_directory", "metadata_directory"):
        value = kwargs.get(name)
        if isinstance(value, str) and value:
            folders.append(Path(value).absolute())
    return folders


def _settings(config_settings: ConfigSettings | None) -> dict[str, str | list[str]] | None:
    return None if config_settings is None else dict(config_settings)


def _log_hint(log_tail: str, log_path: Path | None) -> str:
    where = f" (the whole log is in {log_path})" if log_path is not None else ""
    if not log_tail:
        return f"the backend wrote nothing{where}"
    return f"the last lines the backend wrote{where}:\n{log_tail}"


@contextlib.contextmanager
def _log_file(log_path: Path | None) -> Iterator[Path]:
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        yield log_path
        return
    handle, name = tempfile.mkstemp(prefix="reprobuild-hook-", suffix=".log")
    os.close(handle)
    try:
        yield Path(name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            Path(name).unlink()
