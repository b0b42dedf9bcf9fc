"""The Landlock launcher, run as the sandboxed runner runs it: ``python -I _landlock.py ...``.

Each test starts the launcher in a subprocess with a real spec and a real command (mostly a
small Python program), and checks what the command could and could not do from outside.
Some tests run the launcher inside a user namespace whose limits forbid new PID or network
namespaces, so that its fallbacks (sub-reaper only; Landlock's TCP rules only) are exercised
on a machine where the namespaces work.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from reprobuild.frontend import _landlock

ABI = _landlock.probe()

pytestmark = pytest.mark.skipif(
    ABI < 1, reason="the kernel does not offer Landlock (Linux 5.13 or newer, enabled at boot)"
)

LAUNCHER = Path(_landlock.__file__).resolve()

#: What a Python program needs to start: its installation and the system's libraries.
PYTHON_DIRS = sorted(
    {
        os.path.realpath(sys.base_prefix),
        os.path.realpath(sys.prefix),
        os.path.dirname(os.path.realpath(sys.executable)),  # noqa: PTH120
    }
)
SYSTEM_DIRS = ["/usr", "/lib", "/lib64", "/bin", "/etc", "/dev", "/proc"]

#: Run as a wrapper in front of the launcher: a user namespace in which the namespaces named
#: by the arguments before ``--`` cannot be made (their limit is 0), then exec the rest.
RESTRICT = textwrap.dedent(
    """\
    import ctypes, os, sys
    split = sys.argv.index("--")
    names, argv = sys.argv[1:split], sys.argv[split + 1:]
    uid, gid = os.getuid(), os.getgid()
    try:  # exit 99: the namespace cannot be had here
        if ctypes.CDLL(None, use_errno=True).unshare(0x10000000) != 0:
            sys.exit(99)
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                           ("gid_map", f"{gid} {gid} 1")):
            with open(f"/proc/self/{name}", "w") as file:
                file.write(text)
        for name in names:
            with open(f"/proc/sys/user/max_{name}_namespaces", "w") as file:
                file.write("0")
    except OSError:
        sys.exit(99)
    os.execv(argv[0], argv)
    """
)


def write_spec(
    folder: Path,
    *,
    read: Sequence[str | Path] = (),
    write: Sequence[str | Path] = (),
    memory: int | None = None,
    processes: int | None = None,
    file_size: int | None = None,
) -> Path:
    spec = {
        "read": [*PYTHON_DIRS, *SYSTEM_DIRS, *(str(p) for p in read)],
        "write": ["/dev/null", *(str(p) for p in write)],
        "memory": memory,
        "processes": processes,
        "file_size": file_size,
    }
    path = folder / f"spec-{uuid.uuid4().hex}.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return path


def launcher_argv(spec: Path, argv: Sequence[str], *, without: Sequence[str] = ()) -> list[str]:
    """The launcher's command line, inside a user namespace without ``without`` if given."""
    command = [sys.executable, "-I", str(LAUNCHER), "--spec", str(spec), "--", *argv]
    if without:
        command = [sys.executable, "-I", "-c", RESTRICT, *without, "--", *command]
    return command


def launch(
    spec: Path,
    argv: Sequence[str],
    *,
    without: Sequence[str] = (),
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        launcher_argv(spec, argv, without=without),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        check=False,
    )
    if without and proc.returncode == 99:
        pytest.skip("no user namespace can be made here to forbid the launcher's namespaces")
    return proc


def python(code: str, *args: str) -> list[str]:
    return [sys.executable, "-I", "-c", textwrap.dedent(code), *args]


def processes_with(marker: str) -> list[int]:
    """The processes of this machine whose command line holds ``marker``."""
    found = []
    for name in os.listdir("/proc"):  # noqa: PTH208 (names, not paths)
        if not name.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{name}/cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in cmdline.split(b"\0"):
            found.append(int(name))
    return found


def wait_for(path: Path, proc: subprocess.Popen[str], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


# --- the file system ------------------------------------------------------------------------


def test_writes_inside_the_write_path_only(tmp_path: Path) -> None:
    work = tmp_path / "work"
    outside = tmp_path / "outside"
    work.mkdir()
    outside.mkdir()
    spec = write_spec(tmp_path, write=[work])
    code = """
        import sys
        from pathlib import Path
        Path(sys.argv[1], "made.txt").write_text("built")
        Path(sys.argv[1], "sub").mkdir()
        Path(sys.argv[1], "sub", "deep.txt").write_text("deep")
        try:
            Path(sys.argv[2], "escaped.txt").write_text("escaped")
        except PermissionError:
            print("outside: denied")
    """
    proc = launch(spec, python(code, str(work), str(outside)), cwd=work)
    assert proc.returncode == 0, proc.stderr
    assert (work / "made.txt").read_text() == "built"
    assert (work / "sub" / "deep.txt").read_text() == "deep"
    assert proc.stdout.splitlines() == ["outside: denied"]
    assert list(outside.iterdir()) == []


READ_ATTEMPT = """
    import os, sys
    for path in sys.argv[1:]:
        try:
            if os.path.isdir(path):
                print(path, "listed", os.listdir(path))
            else:
                with open(path, "rb") as file:
                    print(path, "read", file.read())
        except OSError as exc:
            print(path, "errno", exc.errno)
"""


def test_a_secret_beside_the_write_path_is_unreadable(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("the secret")
    work = tmp_path / "work"
    work.mkdir()
    spec = write_spec(tmp_path, write=[work])
    proc = launch(spec, python(READ_ATTEMPT, str(secret), str(tmp_path)))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [f"{secret} errno 13", f"{tmp_path} errno 13"]


@contextlib.contextmanager
def home_file(home: Path) -> Iterator[Path]:
    """A regular file of the home folder outside the interpreter's folders (made if none)."""
    for entry in sorted(home.iterdir()):
        if entry.is_file() and not any(entry.resolve().is_relative_to(d) for d in PYTHON_DIRS):
            try:
                with entry.open("rb") as file:
                    file.read(1)
            except OSError:
                continue
            yield entry
            return
    with tempfile.NamedTemporaryFile(dir=home, prefix=".reprobuild-test-") as file:
        file.write(b"private")
        file.flush()
        yield Path(file.name)


def test_the_home_folder_is_unreadable(tmp_path: Path) -> None:
    home = Path(pwd.getpwuid(os.getuid()).pw_dir)
    if not home.is_dir():
        pytest.skip(f"the home folder {home} does not exist")
    if any(home.resolve().is_relative_to(d) for d in [*PYTHON_DIRS, *SYSTEM_DIRS]):
        pytest.skip(f"the home folder {home} lies inside a folder the test must let Python read")
    spec = write_spec(tmp_path, write=[tmp_path / "work"])
    with home_file(home) as private:
        proc = launch(spec, python(READ_ATTEMPT, str(home), str(private)))
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.splitlines() == [f"{home} errno 13", f"{private} errno 13"]


# --- the network ----------------------------------------------------------------------------

CONNECT = """
    import socket, sys
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10).close()
    except OSError as exc:
        print("failed", type(exc).__name__)
    else:
        print("connected")
"""


@pytest.mark.parametrize(
    "without",
    [
        pytest.param((), id="namespace"),
        pytest.param(("net",), id="landlock-only"),
    ],
)
def test_no_tcp_connection_leaves_the_sandbox(tmp_path: Path, without: tuple[str, ...]) -> None:
    if without and ABI < 4:
        pytest.skip(f"Landlock ABI {ABI} has no network rules (4 or newer has)")
    spec = write_spec(tmp_path)
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        proc = launch(spec, python(CONNECT, str(port)), without=without)
        server.setblocking(False)
        with pytest.raises(BlockingIOError):
            server.accept()
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("failed"), proc.stdout


ABSTRACT_CONNECT = """
    import socket, sys
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        client.connect(b"\\0" + sys.argv[1].encode())
    except OSError as exc:
        print("failed", type(exc).__name__)
    else:
        print("connected")
"""


@pytest.mark.parametrize(
    "without",
    [
        pytest.param((), id="namespace"),
        pytest.param(("net",), id="landlock-only"),
    ],
)
def test_no_abstract_unix_socket_outside_is_reached(
    tmp_path: Path, without: tuple[str, ...]
) -> None:
    if without and ABI < 6:
        pytest.skip(f"Landlock ABI {ABI} does not scope abstract unix sockets (6 or newer does)")
    name = f"reprobuild-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(b"\0" + name.encode())
        server.listen()
        proc = launch(write_spec(tmp_path), python(ABSTRACT_CONNECT, name), without=without)
        server.setblocking(False)
        with pytest.raises(BlockingIOError):
            server.accept()
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("failed"), proc.stdout


@pytest.mark.parametrize(
    "without",
    [
        pytest.param((), id="namespaces"),
        pytest.param(("pid", "net"), id="landlock-only"),
    ],
)
def test_no_signal_reaches_a_process_outside(tmp_path: Path, without: tuple[str, ...]) -> None:
    if without and ABI < 6:
        pytest.skip(f"Landlock ABI {ABI} does not scope signals (6 or newer does)")
    code = """
        import os, signal, sys
        try:
            os.kill(int(sys.argv[1]), signal.SIGKILL)
        except OSError as exc:
            print("failed", type(exc).__name__)
        else:
            print("killed")
    """
    with subprocess.Popen(["sleep", "60"]) as target:
        try:
            proc = launch(write_spec(tmp_path), python(code, str(target.pid)), without=without)
            assert target.poll() is None
        finally:
            target.kill()
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("failed"), proc.stdout


def test_the_same_connection_works_without_the_sandbox() -> None:
    # the control for the tests above: the client does connect when it is not sandboxed
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        proc = subprocess.run(
            python(CONNECT, str(port)), capture_output=True, text=True, timeout=60, check=False
        )
        server.accept()[0].close()
    assert proc.stdout.strip() == "connected"
    name = f"reprobuild-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(b"\0" + name.encode())
        server.listen()
        proc = subprocess.run(
            python(ABSTRACT_CONNECT, name), capture_output=True, text=True, timeout=60, check=False
        )
        server.accept()[0].close()
    assert proc.stdout.strip() == "connected"


# --- processes ------------------------------------------------------------------------------

#: Start a daemon (fork, setsid, fork, exec a Python that sleeps 300 s with ``marker-daemon``
#: in its command line), wait until it runs, write its pid to ``pidfile``, then sleep ``linger``.
DAEMON = """
    import os, sys, time
    marker, pidfile, linger = sys.argv[1] + "-daemon", sys.argv[2], float(sys.argv[3])
    first = os.fork()
    if first == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-I", "-c",
                                      "import time; time.sleep(300)", marker])
        os._exit(0)
    os.waitpid(first, 0)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for name in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{name}/cmdline", "rb") as file:
                    words = file.read().split(b"\\0")
            except OSError:
                continue
            if marker.encode() in words:
                with open(pidfile + ".tmp", "w") as file:
                    file.write(name)
                os.rename(pidfile + ".tmp", pidfile)
                time.sleep(linger)
                sys.exit(0)
        time.sleep(0.02)
    sys.exit(3)
"""


@pytest.mark.parametrize(
    "without",
    [
        pytest.param((), id="pid-namespace"),
        pytest.param(("pid",), id="sub-reaper"),
    ],
)
def test_a_daemon_does_not_outlive_the_launcher(tmp_path: Path, without: tuple[str, ...]) -> None:
    marker = f"reprobuild-test-{uuid.uuid4().hex}"
    daemon = f"{marker}-daemon"
    pidfile = tmp_path / "work" / "daemon.pid"
    pidfile.parent.mkdir()
    spec = write_spec(tmp_path, write=[pidfile.parent])
    try:
        proc = launch(spec, python(DAEMON, marker, str(pidfile), "0"), without=without)
        assert proc.returncode == 0, proc.stderr
        assert pidfile.read_text().isdigit()  # the daemon was running when the command ended
        assert processes_with(daemon) == []
    finally:
        for pid in processes_with(daemon):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize(
    ("number", "without"),
    [
        pytest.param(signal.SIGTERM, (), id="SIGTERM-pid-namespace"),
        pytest.param(signal.SIGINT, (), id="SIGINT-pid-namespace"),
        pytest.param(signal.SIGTERM, ("pid",), id="SIGTERM-sub-reaper"),
    ],
)
def test_a_stopped_launcher_kills_the_whole_tree(
    tmp_path: Path, number: int, without: tuple[str, ...]
) -> None:
    marker = f"reprobuild-test-{uuid.uuid4().hex}"
    daemon = f"{marker}-daemon"
    pidfile = tmp_path / "work" / "daemon.pid"
    pidfile.parent.mkdir()
    spec = write_spec(tmp_path, write=[pidfile.parent])
    proc = subprocess.Popen(
        launcher_argv(spec, python(DAEMON, marker, str(pidfile), "300"), without=without),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(pidfile, proc)
        assert len(processes_with(daemon)) == 1
        proc.send_signal(number)
        proc.communicate(timeout=60)
        assert proc.returncode == 128 + number
        assert processes_with(daemon) == []
    finally:
        proc.kill()
        proc.communicate()
        for pid in processes_with(daemon):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("import sys; sys.exit(7)", 7),
        ("pass", 0),
        ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", 128 + signal.SIGKILL),
    ],
)
def test_the_exit_status_is_the_command_s(tmp_path: Path, code: str, status: int) -> None:
    proc = launch(write_spec(tmp_path), python(code))
    assert proc.returncode == status, proc.stderr
    assert proc.stderr == ""


def test_a_command_that_cannot_be_found(tmp_path: Path) -> None:
    proc = launch(write_spec(tmp_path), [str(tmp_path / "no-such-program")])
    assert proc.returncode == 127
    assert proc.stderr.startswith("reprobuild-sandbox: cannot run ")


# --- limits ---------------------------------------------------------------------------------


def test_the_memory_limit_holds(tmp_path: Path) -> None:
    code = """
        small = bytearray(16 * 2**20)
        print("small", len(small))
        big = bytearray(1024 * 2**20)
        print("big", len(big))
    """
    proc = launch(write_spec(tmp_path, memory=256 * 2**20), python(code))
    assert proc.returncode != 0
    assert proc.stdout.splitlines() == [f"small {16 * 2**20}"]
    assert "MemoryError" in proc.stderr


def test_the_limits_are_set_and_cannot_be_raised(tmp_path: Path) -> None:
    code = """
        import resource
        for kind in (resource.RLIMIT_AS, resource.RLIMIT_NPROC, resource.RLIMIT_FSIZE):
            soft, hard = resource.getrlimit(kind)
            try:
                resource.setrlimit(kind, (soft, hard + 1))
            except (OSError, ValueError):
                print(soft, hard, "kept")
            else:
                print(soft, hard, "raised")
    """
    memory, processes, file_size = 1000 * 2**20, 300, 5 * 2**20
    spec = write_spec(tmp_path, memory=memory, processes=processes, file_size=file_size)
    proc = launch(spec, python(code))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [f"{n} {n} kept" for n in (memory, processes, file_size)]


@pytest.mark.skipif(os.getuid() == 0, reason="the kernel does not count root's processes")
def test_the_process_limit_holds(tmp_path: Path) -> None:
    code = """
        import os, time
        started = 0
        try:
            for _ in range(60):
                if os.fork() == 0:
                    time.sleep(60)
                    os._exit(0)
                started += 1
        except BlockingIOError:
            print("refused after", started)
    """
    proc = launch(write_spec(tmp_path, processes=20), python(code))
    assert proc.returncode == 0, proc.stderr
    words = proc.stdout.split()
    assert words[:2] == ["refused", "after"], proc.stdout
    assert int(words[2]) < 20


def test_the_file_size_limit_holds(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    code = """
        import sys
        with open(sys.argv[1], "wb") as file:
            file.write(b"x" * 1000)
            file.flush()
            try:
                file.write(b"x" * 100000)
                file.flush()
            except OSError as exc:
                print("errno", exc.errno)
    """
    proc = launch(write_spec(tmp_path, write=[work], file_size=4096), python(code, str(work / "f")))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["errno 27"]  # EFBIG
    assert (work / "f").stat().st_size == 4096


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "why"),
    [
        pytest.param("{not json", "is not JSON", id="not-json"),
        pytest.param('["/usr"]', "not a JSON object", id="not-an-object"),
        pytest.param(
            '{"read": [], "write": [], "memory": null, "processes": null}',
            "lacks keys: file_size",
            id="missing-key",
        ),
        pytest.param(
            '{"read": ["usr"], "write": [], "memory": null, "processes": null, "file_size": null}',
            "not an absolute path",
            id="relative-path",
        ),
        pytest.param(
            '{"read": [], "write": [], "memory": -1, "processes": null, "file_size": null}',
            "memory is not a positive integer",
            id="negative-limit",
        ),
        pytest.param(
            '{"read": [], "write": [], "memory": null, "processes": null, "file_size": null, '
            '"network": true}',
            "unknown keys: network",
            id="unknown-key",
        ),
    ],
)
def test_a_bad_spec_is_refused(tmp_path: Path, text: str, why: str) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text(text, encoding="utf-8")
    ran = tmp_path / "ran"
    proc = launch(spec, ["/bin/sh", "-c", f"touch {ran}"])
    assert proc.returncode == _landlock.SETUP_FAILED
    assert proc.stderr.startswith("reprobuild-sandbox: ")
    assert len(proc.stderr.splitlines()) == 1
    assert why in proc.stderr
    assert not ran.exists()


@pytest.mark.parametrize(
    "args",
    [
        pytest.param([], id="nothing"),
        pytest.param(["--", "true"], id="no-spec"),
        pytest.param(["--spec", "x.json"], id="no-command"),
        pytest.param(["--spec", "x.json", "--"], id="empty-command"),
    ],
)
def test_a_bad_command_line_is_refused(args: list[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-I", str(LAUNCHER), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == _landlock.SETUP_FAILED
    assert proc.stderr.startswith("reprobuild-sandbox: ")


PROBE = """
    import importlib.util, sys
    spec = importlib.util.spec_from_file_location("_landlock", sys.argv[1])
    module = sys.modules["_landlock"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    print(module.probe(), module.network_namespace_available())
"""


@pytest.mark.parametrize(
    ("without", "network"),
    [
        pytest.param((), True, id="namespaces"),
        pytest.param(("net",), False, id="no-network-namespace"),
        pytest.param(("user",), False, id="no-user-namespace"),
    ],
)
def test_the_probes_tell_what_the_launcher_can_do(without: tuple[str, ...], network: bool) -> None:
    command = [sys.executable, "-I", "-c", RESTRICT, *without, "--", *python(PROBE, str(LAUNCHER))]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    if proc.returncode == 99:
        pytest.skip("no user namespace can be made here")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [str(ABI), str(network)]
