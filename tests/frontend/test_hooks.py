"""call_hook and the build helpers with a backend kept inside the project (no index needed):
the environment the hook sees, the umask, the log, and every way a hook can fail."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from reprobuild.errors import BuildError
from reprobuild.frontend import (
    Environment,
    build_sdist,
    build_wheel,
    call_hook,
    get_requires,
    read_build_system,
)
from tests.frontend.helpers import INTREE_BACKEND, write_tree

PYPROJECT = """\
[build-system]
requires = []
build-backend = "intree_backend"
backend-path = ["_backend"]
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_tree(
        tmp_path / "project",
        {"pyproject.toml": PYPROJECT, "_backend/intree_backend.py": INTREE_BACKEND},
    )


def built(path: Path) -> dict[str, object]:
    doc = json.loads(path.read_text())
    assert isinstance(doc, dict)
    return doc


def test_wheel_sees_exactly_the_environment_given(
    empty_env: Environment, project: Path, tmp_path: Path
) -> None:
    env_vars = {"SOURCE_DATE_EPOCH": "315532800", "TZ": "UTC", "PATH": "/usr/bin:/bin"}
    wheel = build_wheel(empty_env, project, tmp_path / "dist", env_vars, umask=0o022)
    assert wheel == tmp_path / "dist" / "intree-1.0-py3-none-any.whl"
    doc = built(wheel)
    environ = doc["environ"]
    assert isinstance(environ, dict)
    # pyproject_hooks names the backend to its in-process helper; python adds LC_CTYPE on some
    # platforms when no locale is set (PEP 538); the sandbox names the working folder (PWD):
    # nothing else of this process leaks in
    extra = set(environ) - set(env_vars)
    assert all(name.startswith("_PYPROJECT_HOOKS") or name in {"LC_CTYPE", "PWD"} for name in extra)
    assert environ.get("PWD", str(project)) == str(project)
    assert environ["SOURCE_DATE_EPOCH"] == "315532800"
    assert environ["PATH"] == f"{empty_env.scripts}:/usr/bin:/bin"
    assert doc["umask"] == 0o022
    assert doc["cwd"] == str(project)
    assert sorted(p.name for p in (tmp_path / "dist").iterdir()) == [wheel.name]


@pytest.mark.parametrize("umask", [0o077, 0o002])
def test_umask(empty_env: Environment, project: Path, tmp_path: Path, umask: int) -> None:
    wheel = build_wheel(empty_env, project, tmp_path / "dist", {}, umask=umask)
    doc = built(wheel)
    assert doc["umask"] == umask
    environ = doc["environ"]
    assert isinstance(environ, dict)
    assert environ["PATH"] == str(empty_env.scripts)  # no PATH given: only the environment's


def test_sdist_and_log(empty_env: Environment, project: Path, tmp_path: Path) -> None:
    log = tmp_path / "logs" / "build.log"
    sdist = build_sdist(empty_env, project, tmp_path / "dist", {}, log_path=log)
    assert sdist.name == "intree-1.0.tar.gz"
    assert "making the sdist" in log.read_text()


def test_config_settings_reach_the_backend(
    empty_env: Environment, project: Path, tmp_path: Path
) -> None:
    wheel = build_wheel(
        empty_env, project, tmp_path / "dist", {}, config_settings={"--build-option": ["x"]}
    )
    assert built(wheel)["config_settings"] == {"--build-option": ["x"]}


def test_get_requires(empty_env: Environment, project: Path) -> None:
    assert get_requires(empty_env, project, "wheel", {}) == []
    assert get_requires(empty_env, project, "wheel", {"MODE": "extra"}) == ["example-extra>=1"]
    # a hook the backend lacks means "nothing more" (PEP 517)
    assert get_requires(empty_env, project, "sdist", {}) == []


def test_a_build_that_raises(empty_env: Environment, project: Path, tmp_path: Path) -> None:
    log = tmp_path / "wheel.log"
    outdir = tmp_path / "dist"
    with pytest.raises(BuildError) as info:
        build_wheel(empty_env, project, outdir, {"MODE": "raise"}, log_path=log)
    error = info.value
    assert "failed in build_wheel" in error.reason
    assert "RuntimeError: boom: the build broke on purpose" in error.log_tail
    assert error.hint is not None and "boom" in error.hint and str(log) in error.hint
    lines = error.log_tail.splitlines()
    assert 30 <= len(lines) <= 40
    assert "compiling part 0" not in error.log_tail  # only the tail
    assert error.log_path == str(log)
    # nothing half-written: the output folder was new, and is gone again
    assert not outdir.exists()


def test_a_failed_build_leaves_an_existing_outdir_as_it_was(
    empty_env: Environment, project: Path, tmp_path: Path
) -> None:
    outdir = tmp_path / "dist"
    outdir.mkdir()
    (outdir / "older.whl").write_text("kept")
    for mode in ("raise", "exit", "missing"):
        with pytest.raises(BuildError):
            build_wheel(empty_env, project, outdir, {"MODE": mode})
    assert sorted(p.name for p in outdir.iterdir()) == ["older.whl"]


def test_exit_status_is_reported(empty_env: Environment, project: Path, tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="exit status 7") as info:
        build_wheel(empty_env, project, tmp_path / "dist", {"MODE": "exit"})
    assert "compiling part 99" in info.value.log_tail


def test_a_hook_that_returns_a_file_it_did_not_write(
    empty_env: Environment, project: Path, tmp_path: Path
) -> None:
    with pytest.raises(BuildError, match="no such file"):
        build_wheel(empty_env, project, tmp_path / "dist", {"MODE": "missing"})


def test_backend_that_fails_to_import(empty_env: Environment, tmp_path: Path) -> None:
    project = write_tree(
        tmp_path / "p",
        {
            "pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "no_such_backend"\n',
        },
    )
    with pytest.raises(BuildError) as info:
        build_wheel(empty_env, project, tmp_path / "dist", {})
    error = info.value
    assert error.reason == (
        "the build backend 'no_such_backend' cannot be imported: "
        "ModuleNotFoundError: No module named 'no_such_backend'"
    )
    assert "No module named 'no_such_backend'" in error.log_tail
    assert error.hint is not None and "[build-system]" in error.hint
    assert not (tmp_path / "dist").exists()


def test_backend_warnings_go_to_the_log_not_to_warnings(
    empty_env: Environment, project: Path, tmp_path: Path
) -> None:
    seen: list[str] = []
    log = tmp_path / "log"
    build_wheel(
        empty_env, project, tmp_path / "dist", {"MODE": "warn"}, log_path=log, progress=seen.append
    )
    assert any("this backend is old" in line for line in seen)
    assert "this backend is old" in log.read_text()


def test_unknown_hook_and_argument(empty_env: Environment, project: Path) -> None:
    with pytest.raises(ValueError, match="unknown PEP 517 hook"):
        call_hook(empty_env, project, "build_everything", env_vars={})
    with pytest.raises(ValueError, match="takes no argument"):
        call_hook(empty_env, project, "build_sdist", args={"wheel_directory": "x"}, env_vars={})


def test_call_hook_with_a_given_build_system(empty_env: Environment, project: Path) -> None:
    system = read_build_system(project)
    result = call_hook(
        empty_env,
        project,
        "get_requires_for_build_wheel",
        args={"config_settings": None},
        env_vars={"MODE": "extra"},
        system=system,
    )
    assert result == ["example-extra>=1"]


def test_a_backend_that_exits_without_a_result(
    empty_env: Environment, project: Path, tmp_path: Path
) -> None:
    with pytest.raises(BuildError, match="ran build_wheel but gave no result") as info:
        build_wheel(empty_env, project, tmp_path / "dist", {"MODE": "vanish"})
    assert "compiling part 99" in info.value.log_tail


def test_an_environment_whose_python_is_gone(
    empty_env: Environment, project: Path, tmp_path: Path
) -> None:
    broken = dataclasses.replace(empty_env, python=tmp_path / "gone" / "python")
    with pytest.raises(BuildError, match=r"cannot run .*gone/python") as info:
        build_wheel(broken, project, tmp_path / "dist", {})
    assert info.value.hint is not None and "damaged" in info.value.hint
