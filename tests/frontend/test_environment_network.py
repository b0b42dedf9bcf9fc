"""prepare_environment against the package index (pip's configuration decides which): pins with
hashes, reuse of a cached environment, resolution as of a date, and the pip fallback."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from packaging.version import Version

from reprobuild.frontend import Environment, prepare_environment, resolve_requirements
from reprobuild.frontend.environment import MARKER
from tests.frontend.helpers import retry_once

pytestmark = pytest.mark.network

#: hatchling 1.12.1 was uploaded on 2022-12-31; 1.12.2 followed in January 2023.
BEFORE_2023 = Version("1.12.1")


@pytest.fixture(scope="session")
def hatchling_env(cache_dir: Path) -> Environment:
    return retry_once(lambda: prepare_environment(["hatchling"], cache_dir=cache_dir))


def pinned_version(env: Environment, name: str) -> Version:
    (pin,) = [p for p in env.pinned if p.name == name]
    return Version(pin.version)


def test_hatchling_resolves_to_pins_with_hashes(hatchling_env: Environment) -> None:
    names = {pin.name for pin in hatchling_env.pinned}
    assert {"hatchling", "packaging", "pathspec", "pluggy"} <= names
    for pin in hatchling_env.pinned:
        assert pin.hashes, pin
        assert all(h.startswith("sha256:") and len(h) == 7 + 64 for h in pin.hashes)
    assert hatchling_env.installer == "uv"
    out = subprocess.run(
        [hatchling_env.python, "-c", "import hatchling.build, sys; print(sys.prefix)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == str(hatchling_env.path)
    recorded = json.loads((hatchling_env.path / MARKER).read_text())["pinned"]
    assert recorded == [pin.line() for pin in hatchling_env.pinned]
    _imports_from_byte_code(hatchling_env)


def _imports_from_byte_code(env: Environment) -> None:
    """The backend's modules are compiled once, when the environment is made (each hook
    imports it anew, and builds write no byte code), and the code names the final folder."""
    out = subprocess.run(
        [
            env.python,
            "-c",
            "import hatchling.build as m; print(m.__cached__); print(m.get_requires_for_build_wheel"
            ".__code__.co_filename)",
        ],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"},
    )
    cached, filename = out.stdout.split()
    assert Path(cached).is_file()
    assert Path(filename).is_relative_to(env.path)


def test_second_call_reuses_the_environment(hatchling_env: Environment, cache_dir: Path) -> None:
    before = (hatchling_env.path / MARKER).stat()
    seen: list[str] = []
    again = retry_once(
        lambda: prepare_environment(["hatchling"], cache_dir=cache_dir, progress=seen.append)
    )
    assert again == hatchling_env
    assert seen == [
        "resolving 1 build requirement with uv",
        f"reusing environment {hatchling_env.key[:12]} ({len(hatchling_env.pinned)} packages)",
    ]
    after = (hatchling_env.path / MARKER).stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_recorded_pins_skip_resolution(hatchling_env: Environment, cache_dir: Path) -> None:
    seen: list[str] = []
    again = prepare_environment(
        ["hatchling"], cache_dir=cache_dir, pins=hatchling_env.pinned, progress=seen.append
    )
    assert again == hatchling_env
    assert seen == [
        f"reusing environment {hatchling_env.key[:12]} ({len(hatchling_env.pinned)} packages)"
    ]


def test_exclude_newer_resolves_as_of_a_date(hatchling_env: Environment) -> None:
    pins = retry_once(
        lambda: resolve_requirements(["hatchling"], exclude_newer=datetime(2023, 1, 1, tzinfo=UTC))
    )
    (hatchling,) = [p for p in pins if p.name == "hatchling"]
    assert Version(hatchling.version) <= BEFORE_2023
    assert Version(hatchling.version) < pinned_version(hatchling_env, "hatchling")
    assert all(pin.hashes for pin in pins)


def test_pip_fallback(tmp_path: Path, hatchling_env: Environment) -> None:
    seen: list[str] = []
    env = retry_once(
        lambda: prepare_environment(
            ["hatchling"], cache_dir=tmp_path, installer="pip", progress=seen.append
        )
    )
    assert env.installer == "pip"
    assert seen[0] == "resolving 1 build requirement with pip"
    assert pinned_version(env, "hatchling") == pinned_version(hatchling_env, "hatchling")
    # pip saw one file per package and hashed it: one hash, among those the index lists
    for pin in env.pinned:
        (digest,) = pin.hashes
        (same,) = [p for p in hatchling_env.pinned if p.name == pin.name]
        assert digest in same.hashes
    subprocess.run([env.python, "-c", "import hatchling.build"], check=True)
    _imports_from_byte_code(env)
    # scripts name the final folder, not the temporary one they were installed in
    script = (env.scripts / "hatchling").read_text()
    assert script.startswith(f"#!{env.python}")
    seen.clear()
    again = prepare_environment(
        ["hatchling"], cache_dir=tmp_path, installer="pip", progress=seen.append
    )
    assert again == env
    assert seen[-1].startswith("reusing environment")
