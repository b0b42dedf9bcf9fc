"""Real builds: a tiny hatchling project and a setup.py-only setuptools project, each built
once per session with backends from the package index."""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path
from typing import Literal

import pytest

from reprobuild.errors import BuildError
from reprobuild.frontend import (
    Environment,
    build_sdist,
    build_wheel,
    get_requires,
    prepare_environment,
    read_build_system,
)
from tests.frontend.helpers import HATCH_PYPROJECT, retry_once, write_tree

pytestmark = pytest.mark.network

ENV_VARS = {"SOURCE_DATE_EPOCH": "1600000000", "TZ": "UTC", "LC_ALL": "C.UTF-8"}

SETUP_PY = """\
from setuptools import setup

setup(name="rb-legacy-demo", version="1.0", py_modules=["rb_legacy_demo"])
"""


def environment_for(source: Path, cache_dir: Path, kind: Literal["sdist", "wheel"]) -> Environment:
    """The two-step preparation a build does: ``requires``, then the union with what the
    backend's ``get_requires_for_build_*`` asks for."""
    system = read_build_system(source)
    env = retry_once(lambda: prepare_environment(system.requires, cache_dir=cache_dir))
    extra = get_requires(env, source, kind, ENV_VARS)
    if not extra:
        return env
    return retry_once(lambda: prepare_environment([*system.requires, *extra], cache_dir=cache_dir))


@pytest.fixture(scope="session")
def hatch_dists(
    tmp_path_factory: pytest.TempPathFactory, cache_dir: Path
) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("hatch")
    source = write_tree(
        root / "src",
        {
            "pyproject.toml": HATCH_PYPROJECT,
            "src/rb_hatch_demo/__init__.py": '"""demo."""\n\nANSWER = 42\n',
        },
    )
    env = environment_for(source, cache_dir, "wheel")
    outdir = root / "dist"
    log = root / "build.log"
    sdist = build_sdist(env, source, outdir, ENV_VARS, umask=0o022, log_path=log)
    wheel = build_wheel(env, source, outdir, ENV_VARS, umask=0o022, log_path=log)
    return sdist, wheel, outdir


def test_hatchling_sdist_and_wheel(hatch_dists: tuple[Path, Path, Path]) -> None:
    sdist, wheel, outdir = hatch_dists
    assert sdist.name == "rb_hatch_demo-1.0.tar.gz"
    assert wheel.name == "rb_hatch_demo-1.0-py3-none-any.whl"
    assert sorted(p.name for p in outdir.iterdir()) == sorted([sdist.name, wheel.name])
    with tarfile.open(sdist) as tar:
        assert "rb_hatch_demo-1.0/src/rb_hatch_demo/__init__.py" in tar.getnames()
    with zipfile.ZipFile(wheel) as zf:
        assert "rb_hatch_demo/__init__.py" in zf.namelist()
        # SOURCE_DATE_EPOCH reached the backend: hatchling dates members by it
        assert zf.getinfo("rb_hatch_demo/__init__.py").date_time == (2020, 9, 13, 12, 26, 40)


def test_setuptools_legacy_project(tmp_path: Path, cache_dir: Path) -> None:
    source = write_tree(
        tmp_path / "src", {"setup.py": SETUP_PY, "rb_legacy_demo.py": "ANSWER = 42\n"}
    )
    assert read_build_system(source).legacy
    env = environment_for(source, cache_dir, "wheel")
    assert "setuptools" in {pin.name for pin in env.pinned}
    sdist = build_sdist(env, source, tmp_path / "dist", ENV_VARS)
    wheel = build_wheel(env, source, tmp_path / "dist", ENV_VARS)
    assert sdist.name == "rb_legacy_demo-1.0.tar.gz"
    assert wheel.name == "rb_legacy_demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as zf:
        assert "rb_legacy_demo.py" in zf.namelist()


def test_a_real_backend_that_fails(tmp_path: Path, cache_dir: Path) -> None:
    # hatchling refuses a project whose version is dynamic but has no source for it
    pyproject = HATCH_PYPROJECT.replace('version = "1.0"', 'dynamic = ["version"]')
    source = write_tree(
        tmp_path / "src",
        {"pyproject.toml": pyproject, "src/rb_hatch_demo/__init__.py": ""},
    )
    env = retry_once(lambda: prepare_environment(["hatchling"], cache_dir=cache_dir))
    with pytest.raises(BuildError, match="failed in build_wheel") as info:
        build_wheel(env, source, tmp_path / "dist", ENV_VARS)
    assert "version" in info.value.log_tail
    assert "Traceback" in info.value.log_tail or "Error" in info.value.log_tail
    assert not (tmp_path / "dist").exists()
