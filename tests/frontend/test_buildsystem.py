"""read_build_system: what a project says about its build, and every way it can be wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from reprobuild.errors import ProjectError
from reprobuild.frontend import (
    LEGACY_BACKEND,
    LEGACY_REQUIRES,
    OLD_FRONTEND_REQUIRES,
    BuildSystem,
    frontend_requires,
    parse_build_system,
    read_build_system,
)
from tests.frontend.helpers import HATCH_PYPROJECT, write_tree


def test_pyproject_only(tmp_path: Path) -> None:
    write_tree(tmp_path, {"pyproject.toml": HATCH_PYPROJECT})
    assert read_build_system(tmp_path) == BuildSystem(
        requires=("hatchling",), build_backend="hatchling.build"
    )


def test_backend_path(tmp_path: Path) -> None:
    text = '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["_build"]\n'
    write_tree(tmp_path, {"pyproject.toml": text})
    system = read_build_system(tmp_path)
    assert system.requires == ()
    assert system.backend_path == ("_build",)
    assert not system.legacy


def test_legacy_setup_py_without_pyproject(tmp_path: Path) -> None:
    write_tree(tmp_path, {"setup.py": "from setuptools import setup\nsetup()\n"})
    system = read_build_system(tmp_path)
    assert system.build_backend == LEGACY_BACKEND == "setuptools.build_meta:__legacy__"
    assert system.requires == LEGACY_REQUIRES == ("setuptools>=40.8.0",)
    assert system.legacy


def test_pyproject_without_build_system_table(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {"pyproject.toml": "[tool.black]\nline-length = 100\n", "setup.py": "import setuptools"},
    )
    assert read_build_system(tmp_path) == BuildSystem(
        requires=LEGACY_REQUIRES, build_backend=LEGACY_BACKEND, legacy=True
    )


def test_an_override_naming_wheel_puts_it_beside_setuptools_for_a_project_that_names_none(
    tmp_path: Path,
) -> None:
    write_tree(tmp_path, {"setup.py": "from setuptools import setup\nsetup()\n"})
    none_named = read_build_system(tmp_path)
    assert frontend_requires(none_named, ()) == LEGACY_REQUIRES
    assert frontend_requires(none_named, ("setuptools==73.0.1",)) == LEGACY_REQUIRES
    assert frontend_requires(none_named, ("wheel>=0.44",)) == OLD_FRONTEND_REQUIRES
    assert OLD_FRONTEND_REQUIRES == ("setuptools>=40.8.0", "wheel")
    # a project's own requirements are its own, with or without a backend
    own = parse_build_system('[build-system]\nrequires = ["setuptools>=64"]\n')
    assert frontend_requires(own, ("wheel>=0.44",)) == ("setuptools>=64",)
    hatch = BuildSystem(requires=("hatchling",), build_backend="hatchling.build")
    assert frontend_requires(hatch, ("wheel>=0.44",)) == ("hatchling",)


def test_requires_without_backend_uses_the_legacy_backend_with_those_requires() -> None:
    system = parse_build_system('[build-system]\nrequires = ["setuptools>=64", "wheel"]\n')
    assert system == BuildSystem(
        requires=("setuptools>=64", "wheel"), build_backend=LEGACY_BACKEND, legacy=True
    )


def test_not_a_python_project(tmp_path: Path) -> None:
    write_tree(tmp_path, {"README.md": "# nothing to build\n"})
    with pytest.raises(ProjectError, match="not a Python project") as info:
        read_build_system(tmp_path)
    assert info.value.path == str(tmp_path)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="not a folder"):
        read_build_system(tmp_path / "nowhere")


def test_invalid_toml_names_line_and_column(tmp_path: Path) -> None:
    text = '[build-system]\nrequires = ["hatchling"]\nbuild-backend = hatchling.build\n'
    write_tree(tmp_path, {"pyproject.toml": text})
    with pytest.raises(ProjectError) as info:
        read_build_system(tmp_path)
    message = str(info.value)
    assert "invalid pyproject.toml" in message
    assert "(at line 3, column 17)" in message
    assert info.value.path == str(tmp_path / "pyproject.toml")


def test_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_bytes(b'[project]\nname = "caf\xe9"\n')
    with pytest.raises(ProjectError, match="not UTF-8"):
        read_build_system(tmp_path)


@pytest.mark.parametrize(
    ("table", "match"),
    [
        ('requires = "hatchling"', "requires must be a list of strings, not str"),
        ("requires = [1, 2]", "requires must be a list of strings, not a list holding int"),
        ('requires = ["hatchling", ["x"]]', "a list holding list"),
        ('build-backend = "x"', "has no 'requires' key"),
        ('requires = ["hatchling >= = 1"]', "is not a valid requirement"),
        ('requires = ["hatch ling"]', "is not a valid requirement"),
        ("requires = []\nbuild-backend = 3", "is not a 'module:object' name"),
        ('requires = []\nbuild-backend = "a b:c-d"', "is not a 'module:object' name"),
        ('requires = []\nbackend-path = "."', "backend-path must be a list of strings"),
        ('requires = []\nbackend-path = ["../elsewhere"]', "not a folder inside the project"),
        ('requires = []\nbackend-path = ["/abs"]', "not a folder inside the project"),
    ],
)
def test_bad_build_system(table: str, match: str) -> None:
    with pytest.raises(ProjectError, match=match):
        parse_build_system(f"[build-system]\n{table}\n")


def test_build_system_must_be_a_table() -> None:
    with pytest.raises(ProjectError, match="must be a table"):
        parse_build_system('build-system = "hatchling"\n')


def test_backend_with_object_path() -> None:
    system = parse_build_system(
        '[build-system]\nrequires = []\nbuild-backend = "pkg.mod:obj.attr"\n'
    )
    assert system.build_backend == "pkg.mod:obj.attr"
