"""uv's Pythons for a version this machine lacks, with a fake ``uv`` that never downloads.

The fake answers ``uv python find`` with this test's own interpreter once a version is
"installed" (a file in its folder says so), and ``uv python install`` by installing, failing
like a machine without internet access, or hanging, as ``MODE`` says; it logs every call.
"""

from __future__ import annotations

import os
import platform
import sys
import textwrap
from pathlib import Path

import pytest

from reprobuild.frontend import UvPythons
from reprobuild.frontend.pythons import downloads_allowed

#: The minor version the fake can give: the one running the tests (it hands out that binary).
MINOR = ".".join(platform.python_version().split(".")[:2])

FAKE_UV = textwrap.dedent(
    """\
    #!{python}
    import os, sys, time
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "calls.log"), "a") as log:
        log.write(" ".join(sys.argv[1:]) + "\\n")
    command, request = sys.argv[2], sys.argv[3]
    minor = request.removeprefix("cpython@")
    mark = os.path.join(here, "installed-" + minor)
    if command == "find":
        if os.path.exists(mark):
            print({python!r})
            sys.exit(0)
        print(f"error: No interpreter found for {{request}}", file=sys.stderr)
        sys.exit(2)
    mode = os.environ.get("MODE", "")
    if mode == "fail":
        print("error: Failed to install cpython-" + minor, file=sys.stderr)
        print("  cause: failed to lookup address information", file=sys.stderr)
        sys.exit(1)
    if mode == "hang":
        time.sleep(30)
    open(mark, "w").close()
    """
)


@pytest.fixture
def fake_uv(tmp_path: Path) -> Path:
    folder = tmp_path / "uv"
    folder.mkdir()
    uv = folder / "uv"
    uv.write_text(FAKE_UV.format(python=sys.executable))
    uv.chmod(0o755)
    return uv


def _calls(uv: Path) -> list[str]:
    log = uv.parent / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def _installs(uv: Path) -> list[str]:
    return [call for call in _calls(uv) if call.startswith("python install")]


def _pythons(uv: Path, tmp_path: Path, mode: str = "", **options: object) -> UvPythons:
    environ = {**os.environ, "MODE": mode}
    environ.pop("UV_PYTHON_DOWNLOADS", None)
    return UvPythons(str(uv), state=tmp_path / "state", environ=environ, **options)  # type: ignore[arg-type]


def test_a_python_uv_has_is_found_without_installing(fake_uv: Path, tmp_path: Path) -> None:
    (fake_uv.parent / f"installed-{MINOR}").touch()
    provided = _pythons(fake_uv, tmp_path)(MINOR)
    assert provided.interpreter is not None
    assert provided.interpreter.version == platform.python_version()
    assert provided.how == "found by uv (uv python find)"
    assert _installs(fake_uv) == []
    (find,) = _calls(fake_uv)
    assert find.startswith(f"python find cpython@{MINOR} --no-python-downloads")


def test_a_missing_python_is_installed_once(fake_uv: Path, tmp_path: Path) -> None:
    pythons = _pythons(fake_uv, tmp_path)
    provided = pythons(MINOR)
    assert provided.interpreter is not None
    assert provided.how == f"installed by uv (uv python install {MINOR})"
    assert pythons(MINOR) == provided  # asked again: the same answer, nothing run
    assert len(_installs(fake_uv)) == 1


def test_a_failed_install_is_remembered_for_the_run_and_says_why(
    fake_uv: Path, tmp_path: Path
) -> None:
    provided = _pythons(fake_uv, tmp_path, "fail")(MINOR)
    assert provided.interpreter is None
    assert f"uv python install {MINOR} failed (exit status 1)" in provided.how
    assert "failed to lookup address information" in provided.how
    assert "without internet access" in provided.how
    # another process of the run (another object, the same state folder) runs nothing
    before = len(_calls(fake_uv))
    again = _pythons(fake_uv, tmp_path, "fail")(MINOR)
    assert again.how == provided.how
    assert len(_calls(fake_uv)) == before
    assert len(_installs(fake_uv)) == 1
    # a run of its own (no shared state) tries once itself
    _pythons(fake_uv, tmp_path / "other", "fail")(MINOR)
    assert len(_installs(fake_uv)) == 2


def test_an_install_that_hangs_is_stopped(fake_uv: Path, tmp_path: Path) -> None:
    provided = _pythons(fake_uv, tmp_path, "hang", timeout=1.0)(MINOR)
    assert provided.interpreter is None
    assert "stopped after 1 s" in provided.how


def test_downloads_off_never_install(fake_uv: Path, tmp_path: Path) -> None:
    provided = _pythons(fake_uv, tmp_path, downloads=False)(MINOR)
    assert provided.interpreter is None
    assert "--no-python-downloads" in provided.how
    environ = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    pythons = UvPythons(str(fake_uv), state=tmp_path / "state", environ=environ)
    assert pythons(MINOR).interpreter is None
    assert _installs(fake_uv) == []
    (fake_uv.parent / f"installed-{MINOR}").touch()  # one uv has already is still used
    assert UvPythons(str(fake_uv), downloads=False)(MINOR).interpreter is not None


def test_uv_own_setting() -> None:
    assert downloads_allowed({})
    assert downloads_allowed({"UV_PYTHON_DOWNLOADS": "manual"})  # an explicit install is manual
    assert not downloads_allowed({"UV_PYTHON_DOWNLOADS": "Never"})


def test_without_uv_nothing_runs() -> None:
    provided = UvPythons(None)("3.14")
    assert provided.interpreter is None
    assert provided.how == "no uv to find or install it with"


def test_an_interpreter_of_another_version_is_not_taken(fake_uv: Path, tmp_path: Path) -> None:
    (fake_uv.parent / "installed-3.5").touch()  # the fake hands out this test's interpreter
    assert _pythons(fake_uv, tmp_path, downloads=False)("3.5").interpreter is None
