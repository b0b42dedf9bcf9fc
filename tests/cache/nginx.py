"""A real HTTP cache for the tests: Debian's ``nginx`` with WebDAV ``PUT``, started as a child.

nginx serves a folder as Bazel's HTTP cache protocol expects (``GET``/``HEAD``/``PUT`` of
``<base>/ac/<key>`` and ``<base>/cas/<sha256>``, 404 for a missing entry) with a configuration
of its own in a temporary folder: the system's configuration, logs and service are never used.
The same folder is served twice: at ``/`` to anyone, and at ``/auth/`` only to requests that
carry :data:`AUTH_HEADER`. Everything under ``/broken/`` answers 503, and under ``/moved/`` is
redirected to ``/``.

Where nginx is not installed the tests that need it skip, except in CI (``CI`` set), whose
machine must run them.

A test module takes a server from :func:`running_nginx` in a fixture of its own, or imports the
:func:`nginx_cache` fixture.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import pytest

__all__ = ["AUTH_HEADER", "NginxCache", "find_nginx", "nginx_cache", "running_nginx"]

#: The header the ``/auth/`` location asks for; without it nginx answers 401.
AUTH_HEADER: Mapping[str, str] = MappingProxyType({"Authorization": "Bearer s3cret"})

_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True, kw_only=True)
class NginxCache:
    """A running nginx: the base URLs it serves, and the folder behind them.

    ``data / "ac" / key`` and ``data / "cas" / digest`` are the entries under :attr:`url`;
    the same under ``data / "auth"`` for :attr:`auth_url`.
    """

    url: str
    auth_url: str
    data: Path
    auth_data: Path
    headers: Mapping[str, str] = field(default_factory=lambda: AUTH_HEADER)


def find_nginx() -> str:
    """The nginx binary on ``PATH`` (or in ``/usr/sbin``); the test skips without one, except
    in CI."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if found:
        return found
    reason = "nginx is not installed: the remote cache's tests run against a real nginx"
    if os.environ.get("CI"):  # pragma: no cover - depends on the machine
        pytest.fail(f"CI must run the remote cache's tests: {reason}")
    pytest.skip(reason)  # pragma: no cover - depends on the machine


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _quote(path: Path) -> str:
    return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _config(folder: Path, port: int) -> str:
    token = AUTH_HEADER["Authorization"]
    temp = {name: _quote(folder / name) for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    return f"""\
daemon off;
master_process off;
worker_processes 1;
pid {_quote(folder / "nginx.pid")};
error_log {_quote(folder / "error.log")} warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    default_type application/octet-stream;
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    server {{
        listen 127.0.0.1:{port};
        root {_quote(folder / "data")};
        dav_methods PUT;
        create_full_put_path on;
        client_max_body_size 0;
        location / {{ }}
        location /auth/ {{
            if ($http_authorization != "{token}") {{ return 401; }}
        }}
        location /broken/ {{ return 503; }}
        location /moved/ {{ return 302 /; }}
    }}
}}
"""


def _answers(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(timeout=_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:  # pragma: no cover - nginx ignored SIGQUIT
            process.kill()
            process.wait()


def _start(binary: str, folder: Path, port: int) -> subprocess.Popen[bytes] | None:
    """nginx listening on ``port``, or None when it exited (the port was taken meanwhile)."""
    conf = folder / "nginx.conf"
    conf.write_text(_config(folder, port), encoding="utf-8")
    command = [binary, "-p", str(folder), "-c", str(conf), "-e", str(folder / "error.log")]
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return None
        if _answers(port):
            return process
        time.sleep(0.01)
    _stop(process)  # pragma: no cover - nginx neither answered nor exited
    return None  # pragma: no cover


@contextlib.contextmanager
def running_nginx(folder: Path) -> Iterator[NginxCache]:
    """nginx serving a new cache under ``folder`` on 127.0.0.1, stopped (SIGQUIT, then
    SIGKILL) on exit, leaving no process behind."""
    binary = find_nginx()
    data = folder / "data"
    for name in ("data", "body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    for _ in range(5):  # another process may take the free port before nginx binds it
        port = _free_port()
        process = _start(binary, folder, port)
        if process is not None:
            break
    else:
        log = folder / "error.log"
        text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
        pytest.fail(f"nginx did not start:\n{text}")
    try:
        yield NginxCache(
            url=f"http://127.0.0.1:{port}",
            auth_url=f"http://127.0.0.1:{port}/auth",
            data=data,
            auth_data=data / "auth",
        )
    finally:
        _stop(process)


@pytest.fixture
def nginx_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NginxCache]:
    """A new nginx cache for one test (see :func:`running_nginx`)."""
    with running_nginx(tmp_path_factory.mktemp("nginx")) as server:
        yield server
