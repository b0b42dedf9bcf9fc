"""The Landlock sandbox launcher: the fallback sandbox where bubblewrap cannot run.

The sandboxed runner (:mod:`reprobuild.frontend.sandbox`) puts this script in front of a build
command when it chooses Landlock::

    python -I _landlock.py --spec SPEC.json -- ARGV...

``SPEC.json`` is ``{"read": [paths], "write": [paths], "memory": int|null,
"processes": int|null, "file_size": int|null}``. The script is run by path and imports only
the standard library; the runner also imports it for :func:`probe` and
:func:`network_namespace_available`, so importing it does nothing but define names.

What the command gets (the guarantees):

- **File system**: the paths under ``read`` (absolute paths; one that does not exist is
  skipped) can be read and executed, and directories under them listed; the paths under
  ``write`` get every right (create, write, truncate, remove, rename, make folders, links,
  sockets and pipes, device ioctls). Opening, listing or executing anything else fails
  with ``EACCES``, whatever the file's mode says and whoever the user is. In the user
  namespace the command is its own user and group; files of other owners show as owned by
  the overflow user (``nobody``).
- **Network**: none. The launcher first makes a new user namespace (mapping the user's uid and
  gid to themselves, ``setgroups`` denied) with an empty network namespace; where the kernel
  has Landlock ABI 4 or newer it also denies every TCP bind and connect. When neither can be
  had it refuses to run the command. With ABI 6 or newer, the command cannot reach abstract
  unix sockets nor send signals outside its sandbox.
- **No process left behind**: the launcher stays the parent (a child sub-reaper, and the
  parent of a new PID namespace when one can be made), waits for the command, then kills and
  reaps every process that is left, daemons that forked twice and called ``setsid`` too. It
  exits with the command's status (``128 + N`` when a signal ``N`` killed it). When the
  launcher gets ``SIGTERM``, ``SIGINT`` or ``SIGHUP`` it kills the whole tree and exits with
  ``128 + N``; the command's first process is also killed if the launcher dies.
- **Limits**: ``memory`` is the address-space limit (``RLIMIT_AS``), ``processes`` the process
  limit (``RLIMIT_NPROC``) and ``file_size`` the largest file the command may write
  (``RLIMIT_FSIZE``); both soft and hard, so the command cannot raise them. ``null`` leaves a
  limit as it is.
- ``no_new_privs`` is set and the capability bounding set emptied: no set-user-ID program,
  file capability or namespace root gives the command a privilege.
- **Never unsandboxed**: a bad spec, a kernel without Landlock, or any failure while setting
  the sandbox up ends the launcher with status 125 and one line on standard error starting
  ``reprobuild-sandbox:``; the command is not run. A command that cannot be executed ends
  with 127 (not found) or 126 (not allowed), with such a line too.

What it does not guarantee (bubblewrap's sandbox does better on each):

- Landlock governs opening, listing, executing and changing files, not looking at them: the
  metadata of any path (``stat``, ``readlink``, whether it exists) can still be read, and a
  file descriptor the launcher was given stays usable.
- A readable path is readable whole: a pathname unix socket under a ``read`` or ``write``
  path can be connected to (Landlock does not mediate ``connect`` on those sockets), and
  UDP is blocked only by the network namespace, not by Landlock.
- Without a PID namespace the command sees the other processes of the machine in ``/proc``
  (when ``/proc`` is readable) and can signal those of its own user (unless the Landlock ABI
  is 6 or newer); with one, ``/proc`` is mounted afresh for it when the kernel allows.
- The limits are per process (``RLIMIT_NPROC`` counts the user's processes): a build of many
  processes may use many times ``memory`` in all. Wall-clock time, total output and limits
  over the whole tree (cgroups) are the runner's to set and watch.
- With Landlock ABI 1 (Linux 5.13 to 5.18) a file can never be linked or renamed into another
  folder (``EXDEV``), and truncation is not controlled before ABI 3 (Linux 6.2).
- The file system is the real one: nothing is hidden or made private by mounts, timestamps
  and owners are what they are, and ``/tmp`` is only writable if listed.
- When the launcher itself is killed with ``SIGKILL`` and there is no PID namespace, processes
  that the command's first process started may outlive it.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import errno
import json
import os
import platform
import select
import signal
import stat
import sys
import warnings
from collections.abc import Sequence

__all__ = [
    "SETUP_FAILED",
    "SandboxSpec",
    "SetupError",
    "main",
    "network_namespace_available",
    "parse_spec",
    "probe",
]

#: The exit status of a launcher that could not set the sandbox up (the command did not run).
SETUP_FAILED = 125

_PREFIX = "reprobuild-sandbox:"

# Landlock system calls: the same numbers on every architecture but alpha (Linux 5.13).
_SYS_LANDLOCK_CREATE_RULESET = 444
_SYS_LANDLOCK_ADD_RULE = 445
_SYS_LANDLOCK_RESTRICT_SELF = 446
_LANDLOCK_CREATE_RULESET_VERSION = 1 << 0
_LANDLOCK_RULE_PATH_BENEATH = 1

# File system rights, and the ABI that introduced the last ones.
_FS_EXECUTE = 1 << 0
_FS_WRITE_FILE = 1 << 1
_FS_READ_FILE = 1 << 2
_FS_READ_DIR = 1 << 3
_FS_REMOVE_DIR = 1 << 4
_FS_REMOVE_FILE = 1 << 5
_FS_MAKE_CHAR = 1 << 6
_FS_MAKE_DIR = 1 << 7
_FS_MAKE_REG = 1 << 8
_FS_MAKE_SOCK = 1 << 9
_FS_MAKE_FIFO = 1 << 10
_FS_MAKE_BLOCK = 1 << 11
_FS_MAKE_SYM = 1 << 12
_FS_REFER = 1 << 13  # ABI 2
_FS_TRUNCATE = 1 << 14  # ABI 3
_FS_IOCTL_DEV = 1 << 15  # ABI 5
_FS_ABI1 = (1 << 13) - 1
#: The rights that make sense on a file (not a directory): a rule on a file may only hold these.
_FS_FILE_RIGHTS = _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE | _FS_TRUNCATE | _FS_IOCTL_DEV
_FS_READ_RIGHTS = _FS_EXECUTE | _FS_READ_FILE | _FS_READ_DIR

# Network rights (ABI 4) and scopes (ABI 6).
_NET_BIND_TCP = 1 << 0
_NET_CONNECT_TCP = 1 << 1
_SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0
_SCOPE_SIGNAL = 1 << 1

# unshare(2), prctl(2) and mount(2) constants.
_CLONE_NEWNS = 0x00020000
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWPID = 0x20000000
_CLONE_NEWNET = 0x40000000
_PR_SET_PDEATHSIG = 1
_PR_CAPBSET_DROP = 24
_PR_SET_CHILD_SUBREAPER = 36
_PR_SET_NO_NEW_PRIVS = 38
_MS_NOSUID = 2
_MS_NODEV = 4
_MS_NOEXEC = 8
_MS_REC = 1 << 14
_MS_PRIVATE = 1 << 18

#: The signals that make the launcher kill the whole tree and leave.
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class SetupError(Exception):
    """The sandbox could not be set up; the command must not run."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SandboxSpec:
    """What the command may touch, and its limits (``None``: left as it is)."""

    read: tuple[str, ...]
    write: tuple[str, ...]
    memory: int | None
    processes: int | None
    file_size: int | None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class _Command:
    """The command to run, its sandbox, and the signal mask it is to start with."""

    spec: SandboxSpec
    abi: int
    argv: tuple[str, ...]
    mask: frozenset[int]


class _RulesetAttr(ctypes.Structure):
    _fields_ = (
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    )


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = (("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32))


class _Libc:
    """The few libc calls the launcher needs, each raising :class:`OSError` on failure."""

    def __init__(self) -> None:
        self._lib = ctypes.CDLL(None, use_errno=True)
        self._syscall = self._lib.syscall
        self._syscall.restype = ctypes.c_long
        self._prctl = self._lib.prctl
        self._prctl.restype = ctypes.c_int
        self._prctl.argtypes = (
            ctypes.c_int,
            ctypes.c_ulong,
            ctypes.c_ulong,
            ctypes.c_ulong,
            ctypes.c_ulong,
        )
        self._unshare = self._lib.unshare
        self._unshare.restype = ctypes.c_int
        self._unshare.argtypes = (ctypes.c_int,)
        self._mount = self._lib.mount
        self._mount.restype = ctypes.c_int
        self._mount.argtypes = (
            ctypes.c_char_p,
            ctypes.c_char_p,
            ctypes.c_char_p,
            ctypes.c_ulong,
            ctypes.c_void_p,
        )

    @staticmethod
    def _check(result: int, what: str) -> int:
        if result < 0:
            code = ctypes.get_errno()
            raise OSError(code, f"{what}: {os.strerror(code)}")
        return result

    def syscall(self, number: int, *args: int | ctypes.c_void_p | None, what: str) -> int:
        """Call system call ``number``; its arguments are integers, pointers or ``None``."""
        words = [ctypes.c_long(a) if isinstance(a, int) else a for a in args]
        return self._check(int(self._syscall(ctypes.c_long(number), *words)), what)

    def prctl(self, option: int, arg: int = 0, what: str = "prctl") -> int:
        return self._check(int(self._prctl(option, arg, 0, 0, 0)), what)

    def unshare(self, flags: int) -> None:
        self._check(int(self._unshare(flags)), "unshare")

    def mount(self, source: str, target: str, fstype: str | None, flags: int) -> None:
        self._check(
            int(
                self._mount(
                    source.encode(),
                    target.encode(),
                    None if fstype is None else fstype.encode(),
                    flags,
                    None,
                )
            ),
            f"mount {target}",
        )


def _libc() -> _Libc:
    return _Libc()


# --- probes for the runner ------------------------------------------------------------------


def probe() -> int:
    """The Landlock ABI version of the running kernel, 0 when Landlock is not available.

    Raises :class:`OSError` only when the C library itself cannot be loaded.
    """
    if platform.system() != "Linux":
        return 0
    try:
        return _libc().syscall(
            _SYS_LANDLOCK_CREATE_RULESET,
            None,
            0,
            _LANDLOCK_CREATE_RULESET_VERSION,
            what="landlock_create_ruleset",
        )
    except OSError:
        # ENOSYS: a kernel without Landlock; EOPNOTSUPP: built in but not enabled at boot
        return 0


def network_namespace_available() -> bool:
    """Whether this process can make a user namespace with an empty network namespace.

    Tried for real, in one forked child that exits at once, exactly as the launcher does it.
    """
    if platform.system() != "Linux":
        return False
    return _namespaces_work(_libc(), pid=False)


# --- the spec -------------------------------------------------------------------------------

_SPEC_KEYS = frozenset({"read", "write", "memory", "processes", "file_size"})


def parse_spec(data: object) -> SandboxSpec:
    """Validate a decoded SPEC.json; raise :class:`SetupError` saying what is wrong."""
    if not isinstance(data, dict):
        raise SetupError("the spec is not a JSON object")
    unknown = sorted(str(key) for key in data if key not in _SPEC_KEYS)
    if unknown:
        raise SetupError(f"the spec has unknown keys: {', '.join(unknown)}")
    missing = sorted(_SPEC_KEYS - data.keys())
    if missing:
        raise SetupError(f"the spec lacks keys: {', '.join(missing)}")
    return SandboxSpec(
        read=_paths(data["read"], "read"),
        write=_paths(data["write"], "write"),
        memory=_limit(data["memory"], "memory"),
        processes=_limit(data["processes"], "processes"),
        file_size=_limit(data["file_size"], "file_size"),
    )


def _paths(value: object, key: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise SetupError(f"the spec's {key} is not a list of paths")
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item:
            raise SetupError(f"the spec's {key}[{index}] is not a path")
        if not os.path.isabs(item):  # noqa: PTH117 (plain strings, no pathlib at start-up)
            raise SetupError(f"the spec's {key}[{index}] is not an absolute path: {item}")
        if "\0" in item:
            raise SetupError(f"the spec's {key}[{index}] holds a NUL character")
    return tuple(value)


def _limit(value: object, key: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise SetupError(f"the spec's {key} is not a positive integer or null")
    return value


def _load_spec(path: str) -> SandboxSpec:
    try:
        with open(path, "rb") as file:  # noqa: PTH123
            data = json.load(file)
    except OSError as exc:
        raise SetupError(f"cannot read the spec {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise SetupError(f"the spec {path} is not JSON: {exc}") from exc
    return parse_spec(data)


def _parse_args(args: Sequence[str]) -> tuple[str, list[str]]:
    usage = "usage: _landlock.py --spec SPEC.json -- ARGV..."
    if "--" not in args:
        raise SetupError(f"no command after '--' ({usage})")
    split = list(args).index("--")
    options, command = list(args[:split]), list(args[split + 1 :])
    if len(options) == 2 and options[0] == "--spec":
        spec = options[1]
    elif len(options) == 1 and options[0].startswith("--spec="):
        spec = options[0].removeprefix("--spec=")
    else:
        raise SetupError(f"bad options {' '.join(options) or '(none)'} ({usage})")
    if not command:
        raise SetupError(f"no command after '--' ({usage})")
    return spec, command


# --- namespaces -----------------------------------------------------------------------------


def _enter_namespaces(libc: _Libc, *, pid: bool) -> None:
    """Move this process into a new user and network namespace (and PID one for its child)."""
    uid, gid = os.getuid(), os.getgid()
    libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNET | (_CLONE_NEWPID if pid else 0))
    for name, text in (
        ("setgroups", "deny"),
        ("uid_map", f"{uid} {uid} 1\n"),
        ("gid_map", f"{gid} {gid} 1\n"),
    ):
        try:
            with open(f"/proc/self/{name}", "w", encoding="ascii") as file:  # noqa: PTH123
                file.write(text)
        except FileNotFoundError:
            if name != "setgroups":  # kernels before 3.19 have no setgroups file
                raise


def _namespaces_work(libc: _Libc, *, pid: bool) -> bool:
    """Try :func:`_enter_namespaces` in a child that exits at once."""
    with warnings.catch_warnings():
        # the child calls nothing that takes a lock another thread of the runner may hold
        warnings.simplefilter("ignore", DeprecationWarning)
        child = os.fork()
    if child == 0:  # pragma: no cover (runs in the child)
        try:
            _enter_namespaces(libc, pid=pid)
            if pid:
                # the PID namespace is only real once a process lives in it
                grandchild = os.fork()
                if grandchild == 0:
                    os._exit(0)
                _, status = os.waitpid(grandchild, 0)
                os._exit(0 if status == 0 else 1)
        except BaseException:
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(child, 0)
    return status == 0


def _mount_proc(libc: _Libc) -> bool:
    """In a new PID namespace: a private mount namespace with ``/proc`` of this namespace."""
    try:
        libc.unshare(_CLONE_NEWNS)
        libc.mount("none", "/", None, _MS_REC | _MS_PRIVATE)
        libc.mount("proc", "/proc", "proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
    except OSError:
        return False
    return True


# --- the Landlock domain --------------------------------------------------------------------


def _handled_fs(abi: int) -> int:
    rights = _FS_ABI1
    if abi >= 2:
        rights |= _FS_REFER
    if abi >= 3:
        rights |= _FS_TRUNCATE
    if abi >= 5:
        rights |= _FS_IOCTL_DEV
    return rights


def _make_ruleset(libc: _Libc, spec: SandboxSpec, abi: int) -> int:
    handled = _handled_fs(abi)
    attr = _RulesetAttr(
        handled_access_fs=handled,
        # no rule for the network: every TCP bind and connect is denied
        handled_access_net=(_NET_BIND_TCP | _NET_CONNECT_TCP) if abi >= 4 else 0,
        scoped=(_SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL) if abi >= 6 else 0,
    )
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    ruleset = libc.syscall(
        _SYS_LANDLOCK_CREATE_RULESET,
        ctypes.cast(ctypes.pointer(attr), ctypes.c_void_p),
        size,
        0,
        what="landlock_create_ruleset",
    )
    try:
        for paths, rights in ((spec.read, _FS_READ_RIGHTS), (spec.write, handled)):
            for path in paths:
                _add_path(libc, ruleset, path, rights & handled)
    except BaseException:
        os.close(ruleset)
        raise
    return ruleset


def _add_path(libc: _Libc, ruleset: int, path: str, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise SetupError(f"cannot open {path} for a rule: {exc.strerror}") from exc
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            rights &= _FS_FILE_RIGHTS
        rule = _PathBeneathAttr(allowed_access=rights, parent_fd=fd)
        libc.syscall(
            _SYS_LANDLOCK_ADD_RULE,
            ruleset,
            _LANDLOCK_RULE_PATH_BENEATH,
            ctypes.cast(ctypes.pointer(rule), ctypes.c_void_p),
            0,
            what=f"landlock_add_rule {path}",
        )
    finally:
        os.close(fd)


def _set_limits(spec: SandboxSpec) -> None:
    import resource

    for value, kind, name in (
        (spec.memory, resource.RLIMIT_AS, "memory"),
        (spec.processes, resource.RLIMIT_NPROC, "processes"),
        (spec.file_size, resource.RLIMIT_FSIZE, "file_size"),
    ):
        if value is None:
            continue
        _, hard = resource.getrlimit(kind)
        # the hard limit can only be lowered
        limit = value if hard == resource.RLIM_INFINITY else min(value, hard)
        try:
            resource.setrlimit(kind, (limit, limit))
        except (OSError, ValueError) as exc:
            raise SetupError(f"cannot set the {name} limit to {limit}: {exc}") from exc


def _drop_capabilities(libc: _Libc) -> None:
    """Empty the bounding set, so that the command execs with no capability at all."""
    for cap in range(64):
        try:
            libc.prctl(_PR_CAPBSET_DROP, cap)
        except OSError as exc:
            if exc.errno == errno.EINVAL:  # past the last capability this kernel knows
                return
            if exc.errno == errno.EPERM:  # no CAP_SETPCAP: there is nothing to drop
                return
            raise


# --- the processes --------------------------------------------------------------------------


def _fail(message: str) -> None:
    with contextlib.suppress(OSError):
        os.write(2, f"{_PREFIX} {message}\n".encode(errors="replace"))


def _status_code(status: int) -> int:
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status)
    return 128 + signal.SIGKILL  # pragma: no cover (waitpid without WUNTRACED)


def _exec_command(libc: _Libc, command: _Command) -> None:
    """In the command's own process: restrict it, then exec its argv. Never returns."""
    spec, abi, argv = command.spec, command.abi, command.argv
    code = SETUP_FAILED
    try:
        for number in (signal.SIGPIPE, signal.SIGXFSZ):  # Python ignores them; a command must not
            signal.signal(number, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, command.mask)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, what="prctl(PR_SET_PDEATHSIG)")
        ruleset = _make_ruleset(libc, spec, abi)
        _set_limits(spec)
        _drop_capabilities(libc)
        libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, what="prctl(PR_SET_NO_NEW_PRIVS)")
        libc.syscall(_SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0, what="landlock_restrict_self")
        os.close(ruleset)
        code = 127
        os.execvp(argv[0], argv)
    except SetupError as exc:
        _fail(str(exc))
    except OSError as exc:
        if code == SETUP_FAILED:
            _fail(f"cannot set up the sandbox: {exc}")
        else:
            code = 127 if exc.errno == errno.ENOENT else 126
            _fail(f"cannot run {argv[0]}: {exc.strerror}")
    except BaseException as exc:
        _fail(f"cannot set up the sandbox: {exc!r}")
    finally:
        os._exit(code)


def _init(libc: _Libc, command: _Command) -> int:
    """PID 1 of the new PID namespace: run the command, reap orphans, return its status.

    When this process exits, the kernel kills every process left in the namespace.
    """
    _mount_proc(libc)
    child = os.fork()
    if child == 0:
        _exec_command(libc, command)
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:  # pragma: no cover (the command is a child until it is reaped)
            return SETUP_FAILED
        if pid == child:
            return _status_code(status)


def _children(parent: int) -> list[int]:
    """The processes whose parent is ``parent``, from ``/proc``."""
    found: list[int] = []
    try:
        names = os.listdir("/proc")  # noqa: PTH208 (names, not paths)
    except OSError:
        return found
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as file:  # noqa: PTH123
                data = file.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses
        fields = data[data.rfind(b")") + 2 :].split()
        if len(fields) > 1 and int(fields[1]) == parent:
            found.append(int(name))
    return found


def _kill_descendants() -> None:
    """Kill and reap every process below this one (a sub-reaper: orphans come back to it)."""
    me = os.getpid()
    while True:
        for pid in _children(me):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def _supervise(libc: _Libc, command: _Command, *, pid_ns: bool) -> int:
    """Fork the command (or PID 1 of its namespace), wait for it, leave nothing behind."""
    libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, what="prctl(PR_SET_CHILD_SUBREAPER)")
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    command = dataclasses.replace(command, mask=frozenset(int(n) for n in mask))
    child = os.fork()
    if child == 0:
        if not pid_ns:
            _exec_command(libc, command)
        code = SETUP_FAILED
        try:
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, what="prctl(PR_SET_PDEATHSIG)")
            code = _init(libc, command)
        except BaseException as exc:
            _fail(f"cannot set up the sandbox: {exc}")
        finally:
            os._exit(code)
    # a stop signal only wakes the wait below: it never interrupts the code with an exception
    wakeup_read, wakeup_write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wakeup_write, warn_on_full_buffer=False)
    for number in _STOP_SIGNALS:
        signal.signal(number, _ignore_signal)
    ended = os.pidfd_open(child)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
    code = 0
    while True:
        ready, _, _ = select.select([ended, wakeup_read], [], [])
        if wakeup_read in ready:
            received = [n for n in os.read(wakeup_read, 64) if n in _STOP_SIGNALS]
            if received:
                code = 128 + received[0]
                os.kill(child, signal.SIGKILL)  # not reaped yet: the pid is still this child
                break
        if ended in ready:
            pid, status = os.waitpid(child, os.WNOHANG)
            if pid == child:
                code = _status_code(status)
                break
    os.close(ended)
    _kill_descendants()
    return code


def _ignore_signal(number: int, frame: object) -> None:
    """A stop signal's handler: the wakeup pipe tells the launcher; nothing to do here."""


def main(args: Sequence[str]) -> int:
    """Run ``--spec SPEC.json -- ARGV...`` sandboxed; return the exit status."""
    try:
        spec_path, argv = _parse_args(args)
        spec = _load_spec(spec_path)
        abi = probe()
        if abi < 1:
            raise SetupError("the kernel does not offer Landlock (Linux 5.13 or newer, enabled)")
        libc = _libc()
        pid_ns = network = False
        for pid in (True, False):
            if _namespaces_work(libc, pid=pid):
                _enter_namespaces(libc, pid=pid)
                pid_ns, network = pid, True
                break
        if not network and abi < 4:
            raise SetupError(
                f"no way to cut the network: no user namespace can be made and Landlock's ABI "
                f"is {abi} (4 or newer denies TCP)"
            )
        command = _Command(spec=spec, abi=abi, argv=tuple(argv), mask=frozenset())
        return _supervise(libc, command, pid_ns=pid_ns)
    except SetupError as exc:
        _fail(str(exc))
    except Exception as exc:  # the command must never run unsandboxed, nor this fail silently
        _fail(f"cannot set up the sandbox: {exc!r}")
    return SETUP_FAILED


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
