"""Environments are prepared from wheels only, with uv and with pip: a requirement published
only as an sdist is refused, by name, and its backend never runs (resolving it would have run
its metadata hook outside the sandbox). The packages come from a folder of files given as
find-links, so no package index is needed."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from reprobuild.errors import BuildError
from reprobuild.frontend import prepare_environment
from reprobuild.frontend.indexes import IndexConfig
from reprobuild.frontend.installers import InstallerName
from reprobuild.frontend.interpreter import find_pythons
from reprobuild.frontend.pins import PinnedRequirement
from tests.factories import make_sdist, make_wheel, sdist_filename, wheel_filename

INSTALLERS: list[InstallerName] = ["uv", "pip"]


def planted_sdist(folder: Path, marker: Path) -> Path:
    """An sdist whose metadata is dynamic, so that resolving it runs its in-tree backend,
    which writes ``marker`` the moment it is imported."""
    backend = (
        "import pathlib\n"
        f"pathlib.Path({str(marker)!r}).write_text('the backend ran')\n"
        "def get_requires_for_build_wheel(config_settings=None):\n"
        "    return []\n"
        "def prepare_metadata_for_build_wheel(directory, config_settings=None):\n"
        "    raise SystemExit(1)\n"
        "def build_wheel(directory, config_settings=None, metadata_directory=None):\n"
        "    raise SystemExit(1)\n"
    )
    pyproject = (
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n\n'
        '[project]\nname = "planted"\nversion = "1.0"\ndynamic = ["dependencies"]\n'
    )
    path = folder / sdist_filename("planted", "1.0")
    path.write_bytes(
        make_sdist(
            "planted",
            "1.0",
            {"pyproject.toml": pyproject.encode(), "backend.py": backend.encode()},
        )
    )
    return path


@pytest.fixture
def links(tmp_path: Path) -> Path:
    folder = tmp_path / "links"
    folder.mkdir()
    return folder


def offline(folder: Path) -> IndexConfig:
    return IndexConfig(find_links=(str(folder),), no_index=True)


@pytest.mark.parametrize("installer", INSTALLERS)
def test_an_sdist_only_requirement_is_refused_unbuilt(
    tmp_path: Path, links: Path, installer: InstallerName
) -> None:
    marker = tmp_path / "ran"
    planted_sdist(links, marker)
    with pytest.raises(BuildError) as info:
        prepare_environment(
            ["planted"], cache_dir=tmp_path / "cache", installer=installer, index=offline(links)
        )
    assert "build requirement planted" in info.value.reason
    assert "would run its code outside the sandbox" in info.value.reason
    assert info.value.hint is not None and "wheel" in info.value.hint
    assert not marker.exists()
    assert [p for p in (tmp_path / "cache" / "envs").iterdir() if p.is_dir()] == []


@pytest.mark.parametrize("installer", INSTALLERS)
def test_pins_naming_an_sdist_are_refused_unbuilt(
    tmp_path: Path, links: Path, installer: InstallerName
) -> None:
    marker = tmp_path / "ran"
    sdist = planted_sdist(links, marker)
    pin = PinnedRequirement(
        name="planted",
        version="1.0",
        hashes=(f"sha256:{hashlib.sha256(sdist.read_bytes()).hexdigest()}",),
    )
    with pytest.raises(BuildError, match="would run its code outside the sandbox") as info:
        prepare_environment(
            ["planted"],
            cache_dir=tmp_path / "cache",
            installer=installer,
            index=offline(links),
            pins=[pin],
        )
    assert "planted" in info.value.reason
    assert info.value.hint is not None and "version of planted published" in info.value.hint
    assert not marker.exists()
    envs = tmp_path / "cache" / "envs"
    assert [p for p in envs.iterdir() if p.is_dir() and not p.name.startswith(".")] == []


def test_a_requirement_with_a_wheel_installs(tmp_path: Path, links: Path) -> None:
    # (pip's side of this is its fallback test, against the index)
    wheel = links / wheel_filename("fine", "1.0")
    wheel.write_bytes(make_wheel("fine", "1.0"))
    planted_sdist(links, tmp_path / "ran")  # beside it, not required
    env = prepare_environment(
        ["fine"], cache_dir=tmp_path / "cache", installer="uv", index=offline(links)
    )
    (pin,) = env.pinned
    assert (pin.name, pin.version) == ("fine", "1.0")
    assert f"sha256:{hashlib.sha256(wheel.read_bytes()).hexdigest()}" in pin.hashes
    out = subprocess.run(
        [env.python, "-c", "import fine; print(fine.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "1.0"


def _python36() -> Path | None:
    """A CPython 3.6 of this machine (uv's byte-code compiler needs 3.7), or None."""
    found = [p for p in find_pythons() if p.version.startswith("3.6.")]
    return found[0].executable if found else None


def test_a_python_older_than_3_7_gets_its_byte_code_from_its_own_compileall(
    tmp_path: Path, links: Path
) -> None:
    python = _python36()
    if python is None:
        pytest.skip("no CPython 3.6 on this machine")
    wheel = links / wheel_filename("fine", "1.0")
    wheel.write_bytes(make_wheel("fine", "1.0"))
    env = prepare_environment(
        ["fine"],
        cache_dir=tmp_path / "cache",
        installer="uv",
        index=offline(links),
        python=python,
    )
    compiled = list(env.path.glob("lib/python3.6/site-packages/fine/__pycache__/*.pyc"))
    assert [p.name.split(".")[1] for p in compiled] == ["cpython-36"]
    out = subprocess.run(
        [env.python, "-c", "import fine; print(fine.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "1.0"
