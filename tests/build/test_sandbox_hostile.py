"""Hostile builds in the sandbox: each harmful backend leaves the machine untouched.

Every project here is built by :func:`reprobuild.build.build` exactly as ``reprobuild build``
and ``verify`` build a release, in the sandbox the machine has (bubblewrap here, in CI). The
checks look at the machine itself, not at what reprobuild says: no file outside the build
folder, no secret in any output, no connection seen by a loopback server the test runs, no
process left; and the verdict names what the sandbox stopped.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import socket
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from reprobuild.build import BuildResult, BuildSpec, build
from reprobuild.errors import BuildError
from reprobuild.frontend import (
    Limits,
    Sandbox,
    SandboxError,
    SandboxLimitError,
    SandboxMode,
    choose_sandbox,
    prepare_environment,
)
from tests.build.hostile_projects import write_project
from tests.sandboxes import machine_sandbox


@dataclass
class Run:
    result: BuildResult | None
    error: BuildError | None
    messages: list[str] = field(default_factory=list)

    def loot(self) -> str:
        assert self.result is not None, self.error
        wheel = next(p for p in self.result.paths if p.suffix == ".whl")
        with zipfile.ZipFile(wheel) as whl:
            return whl.read("evil/loot.txt").decode("utf-8", "replace")

    def outputs(self) -> bytes:
        """Every byte the build handed back: artifacts and the buildinfo record."""
        if self.result is None:
            return b""
        paths = [*self.result.paths, self.result.buildinfo_path]
        return b"".join(p.read_bytes() for p in paths)


def _build(
    tmp_path: Path, case: str, *, sandbox: Sandbox | None = None, cache: Path, **fields: object
) -> Run:
    project = write_project(tmp_path / case, case, **fields)
    root = tmp_path / "root"
    messages: list[str] = []
    spec = BuildSpec(
        source=project,
        outdir=tmp_path / "out",
        cache_dir=cache,
        source_date_epoch=315532800,
        build_root=root,
        sandbox=sandbox if sandbox is not None else machine_sandbox(),
    )
    try:
        return Run(build(spec, progress=messages.append), None, messages)
    except BuildError as exc:
        return Run(None, exc, messages)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile-cache")


@pytest.fixture
def token() -> str:
    return "reprobuild-hostile-" + secrets.token_hex(6)


def _home() -> Path:
    return Path(pwd.getpwuid(os.getuid()).pw_dir)


def test_writes_outside_land_in_a_throw_away_folder(
    tmp_path: Path, cache: Path, token: str
) -> None:
    home_target = _home() / f"{token}-home"
    tmp_target = Path("/tmp") / f"{token}-tmp"
    try:
        run = _build(tmp_path, "writes-outside", cache=cache, token=token)
        assert not home_target.exists()
        assert not tmp_target.exists()
    finally:
        home_target.unlink(missing_ok=True)
        tmp_target.unlink(missing_ok=True)
    assert run.result is not None, run.error
    # the build wrote where it believed the home and /tmp were; the sandbox says so, and what
    # it wrote is gone
    said = [m for m in run.messages if "wrote outside its build folder" in m]
    assert said, run.messages
    assert str(home_target) in said[0] or str(tmp_target) in said[0]


def test_writes_outside_are_reported_when_the_build_then_fails(
    tmp_path: Path, cache: Path, token: str
) -> None:
    try:
        run = _build(tmp_path, "writes-outside-and-fails", cache=cache, token=token)
    finally:
        (_home() / f"{token}-home").unlink(missing_ok=True)
        (Path("/tmp") / f"{token}-tmp").unlink(missing_ok=True)
    assert run.error is not None
    said = [m for m in run.messages if "wrote outside its build folder" in m]
    assert said and f"/tmp/{token}-tmp" in said[0], run.messages
    assert run.error.log_path is not None
    assert f"/tmp/{token}-tmp" in Path(run.error.log_path).read_text(encoding="utf-8")


def test_secrets_stay_out_of_the_wheel(tmp_path: Path, cache: Path) -> None:
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    marker = "SECRET-" + secrets.token_hex(8)
    secret.write_text(marker, encoding="utf-8")
    run = _build(tmp_path, "reads-secrets", cache=cache, secret=str(secret))
    loot = run.loot()
    assert marker not in loot
    assert f"could not read {secret}" in loot
    assert "could not read /etc/shadow" in loot
    with contextlib.suppress(OSError):  # readable to this test only when it runs as root
        shadow = Path("/etc/shadow").read_text(errors="replace")
        assert not any(line and line in loot for line in shadow.splitlines())
    assert marker.encode() not in run.outputs()


@contextlib.contextmanager
def _loopback_server() -> Iterator[tuple[int, list[bytes]]]:
    seen: list[bytes] = []
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(1)
                with contextlib.suppress(OSError):
                    seen.append(conn.recv(4096) or b"(connected)")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], seen
    finally:
        stop.set()
        thread.join(5)
        server.close()


def test_no_memory_backed_folder_takes_more_than_its_share(
    tmp_path: Path, cache: Path, token: str
) -> None:
    """The sandbox's own root and /dev are read-only, and its /dev/shm is small: a build cannot
    fill the machine's memory through them."""
    run = _build(tmp_path, "writes-to-memory", cache=cache, token=token)
    loot = run.loot()
    assert f"could not write /{token}" in loot
    assert f"could not write /dev/{token}" in loot
    assert "shm stopped after" in loot
    assert not Path(f"/{token}").exists()


def test_no_network(tmp_path: Path, cache: Path, token: str) -> None:
    with _loopback_server() as (port, seen):
        run = _build(tmp_path, "network", cache=cache, port=port, token=token)
    assert seen == []
    assert "could not connect" in run.loot()


def _processes_with(token: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if token.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
    return found


def test_no_process_outlives_the_build(tmp_path: Path, cache: Path, token: str) -> None:
    run = _build(tmp_path, "daemon", cache=cache, token=token)
    assert run.result is not None, run.error
    assert "daemon started" in run.loot()
    assert _processes_with(token) == []


def test_a_cached_environment_cannot_be_changed_by_a_build(
    tmp_path: Path, cache: Path, token: str
) -> None:
    marker = tmp_path / "planted-code-ran"
    run = _build(tmp_path / "a", "plants-pth", cache=cache, token=token, marker=str(marker))
    assert "could not plant" in run.loot()
    env = prepare_environment([], cache_dir=cache)
    assert not list(env.path.rglob(f"{token}.pth"))
    again = _build(tmp_path / "b", "harmless", cache=cache)
    assert again.result is not None, again.error
    assert not marker.exists()


def test_unsandboxed_planting_is_caught_when_the_environment_is_reused(
    tmp_path: Path, token: str
) -> None:
    """With --sandbox none the build can plant code; the next build finds the environment
    changed, makes it again, and the planted code never runs."""
    cache = tmp_path / "cache"
    marker = tmp_path / "planted-code-ran"
    none = Sandbox(mode=SandboxMode.NONE)
    run = _build(
        tmp_path / "a", "plants-pth", sandbox=none, cache=cache, token=token, marker=str(marker)
    )
    assert "planted " in run.loot()
    again = _build(tmp_path / "b", "harmless", cache=cache)
    assert again.result is not None, again.error
    assert any("was changed since it was made" in m for m in again.messages), again.messages
    assert not marker.exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("case", "limits", "limit"),
    [
        ("fork-bomb", Limits(processes=64), "processes"),
        ("allocates-4g", Limits(), "memory"),  # the default limit, not one made small
        ("writes-10g", Limits(output=256 * 1024**2), "output"),
        ("sleeps-forever", Limits(wall_seconds=3), "wall-clock"),
    ],
)
def test_limits_end_the_build_and_name_the_limit(
    tmp_path: Path, cache: Path, case: str, limits: Limits, limit: str
) -> None:
    box = machine_sandbox(limits)
    run = _build(tmp_path, case, sandbox=box, cache=cache)
    assert isinstance(run.error, SandboxLimitError), run.error
    assert run.error.limit == limit
    assert f"at its {limit} limit" in run.error.reason
    # nothing of the build is left: no process of it, no file it wrote outside its folder
    assert _processes_with(str(tmp_path / case)) == []
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_the_record_names_the_sandbox(tmp_path: Path, cache: Path) -> None:
    run = _build(tmp_path, "harmless", cache=cache)
    assert run.result is not None, run.error
    record = run.result.buildinfo["sandbox"]
    assert isinstance(record, dict)
    assert record["kind"] in {"bwrap", "landlock"}
    assert isinstance(record["limits"], dict)
    assert record["limits"]["wall_seconds"] == 900


@pytest.mark.slow
def test_verify_says_what_the_sandbox_stopped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``verify`` of a release whose build never ends: a build-failed verdict whose cause names
    the limit, and a results row that says which sandbox the rebuild ran in."""
    import json

    from reprobuild.cli.main import main
    from tests.factories import make_sdist, make_wheel

    machine_sandbox()
    project = write_project(tmp_path / "project", "sleeps-forever")
    name = "evil_sleeps_forever"
    files = {p.name: p.read_bytes() for p in sorted(project.iterdir())}
    (tmp_path / f"{name}-1.0.tar.gz").write_bytes(make_sdist(name, "1.0", files))
    (tmp_path / f"{name}-1.0-py3-none-any.whl").write_bytes(make_wheel(name, "1.0"))
    db = tmp_path / "results.sqlite3"
    argv = [
        "verify",
        "--wheel",
        str(tmp_path / f"{name}-1.0-py3-none-any.whl"),
        "--sdist",
        str(tmp_path / f"{name}-1.0.tar.gz"),
        "--db",
        str(db),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--timeout",
        "3",
        "--format",
        "json",
    ]
    assert main(argv) == 1
    document = json.loads(capsys.readouterr().out)
    (artifact,) = document["artifacts"]
    assert artifact["verdict"] == "build-failed"
    assert "wall-clock limit" in artifact["cause"]
    assert document["sandbox"]["kind"] in {"bwrap", "landlock"}
    assert document["sandbox"]["limits"]["wall_seconds"] == 3
    assert main(["results", "--db", str(db), "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["attempts"]
    assert row["verdict"] == "build-failed"
    assert row["sandbox"] == document["sandbox"]["kind"]
    # the page says it too
    argv[argv.index("--timeout") + 1] = "1"
    assert main([*argv[:-1], "html"]) == 1
    page = capsys.readouterr().out
    assert "<dt>sandbox</dt>" in page and "wall_seconds 1" in page


def _landlock(limits: Limits | None = None) -> Sandbox:
    try:
        return choose_sandbox(SandboxMode.LANDLOCK, limits or Limits())
    except SandboxError as exc:  # pragma: no cover - depends on the machine
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Landlock fallback's tests: {exc.reason}")
        pytest.skip(exc.reason)


@pytest.mark.slow
def test_the_landlock_fallback_holds_too(tmp_path: Path, cache: Path, token: str) -> None:
    """The fallback for machines without user namespaces: the same cases, refused in place
    (no private /tmp or home to divert writes to: they fail), and the same limits."""
    box = _landlock(Limits(wall_seconds=5, processes=64))
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("SECRET-" + token, encoding="utf-8")
    home_target = _home() / f"{token}-home"
    marker = tmp_path / "planted-code-ran"
    with _loopback_server() as (port, seen):
        runs = {
            case: _build(
                tmp_path / case,
                case,
                sandbox=box,
                cache=cache,
                token=token,
                secret=str(secret),
                port=port,
                marker=str(marker),
            )
            for case in ("writes-outside", "reads-secrets", "network", "daemon", "plants-pth")
        }
    try:
        assert not home_target.exists()
        assert not Path(f"/tmp/{token}-tmp").exists()
    finally:
        home_target.unlink(missing_ok=True)
        Path(f"/tmp/{token}-tmp").unlink(missing_ok=True)
    assert "could not write" in runs["writes-outside"].loot()
    assert token not in runs["reads-secrets"].loot()
    assert "could not read /etc/shadow" in runs["reads-secrets"].loot()
    assert seen == []
    assert "could not connect" in runs["network"].loot()
    assert _processes_with(token) == []
    assert "could not plant" in runs["plants-pth"].loot()
    for case, limit in (("sleeps-forever", "wall-clock"), ("fork-bomb", "processes")):
        run = _build(tmp_path / case, case, sandbox=box, cache=cache)
        assert isinstance(run.error, SandboxLimitError), run.error
        assert run.error.limit == limit


def test_a_release_that_reproduces_still_shows_what_it_tried(
    tmp_path: Path, cache: Path, token: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A build that writes into the home folder and /tmp, yet makes the published bytes:
    ``reproducible``, and the result says what the sandbox stopped."""
    import json

    from reprobuild.cli.main import main

    home_target = _home() / f"{token}-home"
    try:
        published = _build(tmp_path / "published", "writes-outside", cache=cache, token=token)
        assert published.result is not None, published.error
        sdist, wheel = sorted(published.result.paths, key=lambda p: p.suffix == ".whl")
        argv = ["verify", "--wheel", str(wheel), "--sdist", str(sdist), "--format", "json"]
        argv += ["--db", str(tmp_path / "r.sqlite3"), "--cache-dir", str(cache)]
        assert main(argv) == 0
        assert not home_target.exists()
    finally:
        home_target.unlink(missing_ok=True)
        Path(f"/tmp/{token}-tmp").unlink(missing_ok=True)
    (artifact,) = json.loads(capsys.readouterr().out)["artifacts"]
    assert artifact["verdict"] == "reproducible"
    (said,) = artifact["contained"]
    assert "wrote outside its build folder" in said and "(discarded)" in said
    assert str(home_target) in said and f"/tmp/{token}-tmp" in said
