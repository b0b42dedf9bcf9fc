"""Folders of local wheels offered besides the index (``find_links``), with uv and with pip:
the wheel there is installed, pinned by its own sha256; a requirement with no wheel is a
:class:`NoWheelError` that names it and the versions asked for."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from reprobuild.frontend import prepare_environment
from reprobuild.frontend.indexes import IndexConfig
from reprobuild.frontend.installers import InstallerName, NoWheelError, no_wheel_error
from tests.factories import make_sdist, make_wheel, sdist_filename, wheel_filename

INSTALLERS: list[InstallerName] = ["uv", "pip"]


def _folder(root: Path, name: str) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    return folder


@pytest.mark.parametrize("installer", INSTALLERS)
def test_a_wheel_offered_as_find_links_is_installed_pinned(
    tmp_path: Path, installer: InstallerName
) -> None:
    index = _folder(tmp_path, "index")  # the requirement is there as an sdist only
    (index / sdist_filename("local", "1.0")).write_bytes(make_sdist("local", "1.0"))
    links = _folder(tmp_path, "links")
    wheel = links / wheel_filename("local", "1.0")
    wheel.write_bytes(make_wheel("local", "1.0"))
    env = prepare_environment(
        ["local"],
        cache_dir=tmp_path / "cache",
        installer=installer,
        index=IndexConfig(find_links=(str(index),), no_index=True),
        find_links=[links],
    )
    (pin,) = env.pinned
    assert (pin.name, pin.version) == ("local", "1.0")
    assert pin.hashes == (f"sha256:{hashlib.sha256(wheel.read_bytes()).hexdigest()}",)
    assert env.find_links == (links,)
    out = subprocess.run(
        [env.python, "-c", "import local; print(local.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "1.0"


@pytest.mark.parametrize("installer", INSTALLERS)
def test_pins_of_a_local_wheel_install_only_with_its_folder(
    tmp_path: Path, installer: InstallerName
) -> None:
    index = _folder(tmp_path, "index")  # the requirement is there as an sdist only
    (index / sdist_filename("local", "1.0")).write_bytes(make_sdist("local", "1.0"))
    sdists = IndexConfig(find_links=(str(index),), no_index=True)
    links = _folder(tmp_path, "links")
    (links / wheel_filename("local", "1.0")).write_bytes(make_wheel("local", "1.0"))
    env = prepare_environment(
        ["local"], cache_dir=tmp_path / "a", installer=installer, index=sdists, find_links=[links]
    )
    with pytest.raises(NoWheelError) as info:
        prepare_environment(
            ["local"], cache_dir=tmp_path / "b", installer=installer, index=sdists, pins=env.pinned
        )
    assert info.value.name == "local"
    again = prepare_environment(
        ["local"],
        cache_dir=tmp_path / "b",
        installer=installer,
        index=sdists,
        pins=env.pinned,
        find_links=[links],
    )
    assert again.key == env.key


def test_an_sdist_only_requirement_is_a_no_wheel_error_with_its_versions(tmp_path: Path) -> None:
    index = _folder(tmp_path, "index")
    (index / sdist_filename("Only_Sdist", "1.0")).write_bytes(make_sdist("Only_Sdist", "1.0"))
    with pytest.raises(NoWheelError) as info:
        prepare_environment(
            ["only-sdist>=0.5,<2"],
            cache_dir=tmp_path / "cache",
            installer="uv",
            index=IndexConfig(find_links=(str(index),), no_index=True),
        )
    assert info.value.name == "only-sdist"
    assert info.value.tool == "uv"
    assert "1.0" in info.value.log_tail


@pytest.mark.parametrize(
    ("requirement", "log", "name", "specifier"),
    [
        (
            "pytoml",
            "Because all versions of pytoml have no usable wheels and flit>=1.2.1 depends on "
            "pytoml, we can conclude that flit>=1.2.1 cannot be used.",
            "pytoml",
            "",
        ),
        (
            "pytoml",
            "Because pytoml==0.1.20 has no usable wheels and you require pytoml==0.1.20, we can "
            "conclude that your requirements are unsatisfiable.",
            "pytoml",
            "==0.1.20",
        ),
        (
            "Py_Toml",
            "and flit>=1.2.1 depends on py-toml>=0.1,<0.2, we can conclude",
            "py-toml",
            "<0.2,>=0.1",
        ),
        ("pytoml<0.2", "No matching distribution found for pytoml<0.2", "pytoml", "<0.2"),
        ("x", "x>=2 has no usable wheels; xy<1 depends on x, and foo-x==3 is there", "x", ">=2"),
    ],
)
def test_the_no_wheel_error_names_the_requirement_and_its_versions(
    requirement: str, log: str, name: str, specifier: str
) -> None:
    error = no_wheel_error(requirement, tool="uv", log_tail=log)
    assert (error.name, error.specifier) == (name, specifier)
