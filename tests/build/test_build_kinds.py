"""What a build makes (``sdist_only``, ``wheel_only``), the PEP 517 config settings every hook
is given, and errors that name the project the user gave, not its copy in the build folder.

The project's backend lives in it (``backend-path``) and needs nothing installed: each hook
writes the config settings it was called with into the artifact it makes, so the test reads
what the backend saw from the outputs.
"""

from __future__ import annotations

import json
import tarfile
import zipfile
from pathlib import Path

import pytest

from reprobuild.build import BuildResult, BuildSpec, build
from reprobuild.buildinfo import load_buildinfo
from reprobuild.errors import BuildError, UsageError
from reprobuild.frontend import Sandbox, SandboxMode

NO_SANDBOX = Sandbox(mode=SandboxMode.NONE)

PYPROJECT = """\
[build-system]
requires = []
build-backend = "kinds_backend"
backend-path = ["."]
"""

#: Every hook records what it was given; the artifacts carry those records (and the name of
#: the folder the wheel was built in: ``source`` is the copied project, ``kinds-1.0`` the
#: unpacked sdist). ``FAIL`` in the project makes build_wheel fail naming a file of its own.
BACKEND = """\
import base64
import hashlib
import json
import os
import tarfile
import zipfile

SEEN = "seen.json"


def _record(hook, config_settings):
    seen = json.load(open(SEEN)) if os.path.exists(SEEN) else {}
    seen[hook] = config_settings
    with open(SEEN, "w") as handle:
        json.dump(seen, handle, sort_keys=True)


def get_requires_for_build_sdist(config_settings=None):
    _record("get_requires_for_build_sdist", config_settings)
    return []


def get_requires_for_build_wheel(config_settings=None):
    _record("get_requires_for_build_wheel", config_settings)
    return []


def build_sdist(sdist_directory, config_settings=None):
    _record("build_sdist", config_settings)
    path = os.path.join(sdist_directory, "kinds-1.0.tar.gz")
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(os.listdir(".")):
            if name.endswith((".toml", ".py", ".json")) or name == "FAIL":
                tar.add(name, arcname="kinds-1.0/" + name)
    return "kinds-1.0.tar.gz"


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _record("build_wheel", config_settings)
    if os.path.exists("FAIL"):
        open(os.path.join(os.getcwd(), "missing.txt"))
    files = {
        "kinds/seen.json": open(SEEN, "rb").read(),
        "kinds/folder.txt": os.path.basename(os.getcwd()).encode(),
        "kinds-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\\nName: kinds\\nVersion: 1.0\\n",
        "kinds-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\\nGenerator: kinds\\n"
        b"Root-Is-Purelib: true\\nTag: py3-none-any\\n",
    }
    rows = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        rows.append(f"{name},sha256={digest},{len(data)}")
    rows.append("kinds-1.0.dist-info/RECORD,,")
    files["kinds-1.0.dist-info/RECORD"] = ("\\n".join(rows) + "\\n").encode()
    name = "kinds-1.0-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as archive:
        for member, data in files.items():
            archive.writestr(zipfile.ZipInfo(member, (2020, 1, 1, 0, 0, 0)), data)
    return name
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "kinds"
    folder.mkdir()
    (folder / "pyproject.toml").write_text(PYPROJECT)
    (folder / "kinds_backend.py").write_text(BACKEND)
    return folder


def _build(project: Path, tmp_path: Path, **fields: object) -> BuildResult:
    spec = BuildSpec(
        source=project,
        outdir=tmp_path / "out",
        cache_dir=tmp_path / "cache",
        build_root=tmp_path / "root",
        sandbox=NO_SANDBOX,
        source_date_epoch=1_600_000_000,
        **fields,  # type: ignore[arg-type]
    )
    return build(spec)


def _wheel_text(result: BuildResult, member: str) -> str:
    (wheel,) = [p for p in result.paths if p.name.endswith(".whl")]
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(member).decode()


def test_by_default_the_sdist_then_the_wheel_from_it(project: Path, tmp_path: Path) -> None:
    result = _build(project, tmp_path)
    assert [p.name for p in result.paths] == ["kinds-1.0.tar.gz", "kinds-1.0-py3-none-any.whl"]
    assert _wheel_text(result, "kinds/folder.txt") == "kinds-1.0"  # the unpacked sdist
    assert result.buildinfo["wheel_from"] == "sdist"
    assert result.buildinfo["config_settings"] is None


def test_wheel_only_builds_straight_from_the_folder(project: Path, tmp_path: Path) -> None:
    result = _build(project, tmp_path, wheel_only=True)
    assert [p.name for p in result.paths] == ["kinds-1.0-py3-none-any.whl"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "kinds-1.0-py3-none-any.whl",
        "kinds-1.0.buildinfo.json",
    ]
    assert _wheel_text(result, "kinds/folder.txt") == "source"  # the copied folder
    seen = json.loads(_wheel_text(result, "kinds/seen.json"))
    assert "build_sdist" not in seen  # no sdist was made at all
    record = json.loads(result.buildinfo_path.read_text())
    assert load_buildinfo(result.buildinfo_path) == record
    assert record["wheel_from"] == "folder"
    assert list(record["environments"]) == ["wheel"]
    assert (record["source"]["name"], record["source"]["version"]) == ("kinds", "1.0")


def test_sdist_only_builds_no_wheel(project: Path, tmp_path: Path) -> None:
    result = _build(project, tmp_path, sdist_only=True)
    assert [p.name for p in result.paths] == ["kinds-1.0.tar.gz"]
    assert result.buildinfo["wheel_from"] is None


def test_wheel_only_from_an_sdist_leaves_out_its_copy_and_may_write_beside_it(
    project: Path, tmp_path: Path
) -> None:
    sdist = _build(project, tmp_path, sdist_only=True).paths[0]
    before = sdist.read_bytes()
    spec = BuildSpec(
        source=sdist,
        outdir=sdist.parent,  # the sdist's own folder: nothing replaces it
        cache_dir=tmp_path / "cache",
        build_root=tmp_path / "root",
        sandbox=NO_SANDBOX,
        wheel_only=True,
    )
    result = build(spec)
    assert [p.name for p in result.paths] == ["kinds-1.0-py3-none-any.whl"]
    assert [o.filename for o in result.outputs] == ["kinds-1.0-py3-none-any.whl"]
    assert sdist.read_bytes() == before
    assert result.buildinfo["wheel_from"] == "sdist"


def test_sdist_only_and_wheel_only_together_are_refused(project: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="build both, or one of them"):
        _build(project, tmp_path, sdist_only=True, wheel_only=True)


def test_config_settings_reach_every_hook_and_the_record(project: Path, tmp_path: Path) -> None:
    settings = {"--build-option": ["--quiet", "--verbose"], "key": "value", "flag": ""}
    result = _build(project, tmp_path, config_settings=settings)
    seen = json.loads(_wheel_text(result, "kinds/seen.json"))
    # the wheel is built from the sdist, which carries what its own hooks were given
    assert seen["get_requires_for_build_wheel"] == settings
    assert seen["build_wheel"] == settings
    with tarfile.open(result.paths[0]) as sdist:
        member = sdist.extractfile("kinds-1.0/seen.json")
        assert member is not None
        in_sdist = json.loads(member.read())
    assert in_sdist == {"get_requires_for_build_sdist": settings, "build_sdist": settings}
    assert load_buildinfo(result.buildinfo_path)["config_settings"] == settings


def test_without_settings_every_hook_gets_none(project: Path, tmp_path: Path) -> None:
    result = _build(project, tmp_path, wheel_only=True)
    seen = json.loads(_wheel_text(result, "kinds/seen.json"))
    assert seen == {"get_requires_for_build_wheel": None, "build_wheel": None}


def test_a_failed_build_names_the_project_given_and_says_what_the_copies_are(
    project: Path, tmp_path: Path
) -> None:
    (project / "FAIL").write_text("")
    with pytest.raises(BuildError) as caught:
        _build(project, tmp_path)
    error = caught.value
    assert error.path == str(project)
    assert str(tmp_path / "root") not in error.reason
    # the backend's own words name its copy; the hint's last line says what that is
    assert error.hint is not None
    last = error.hint.splitlines()[-1]
    assert last.startswith("(the build runs in a copy at a fixed path: ")
    assert f"{tmp_path / 'root' / 'work' / 'sdist'} is the sdist built from {project}" in last
    with pytest.raises(BuildError) as caught:
        _build(project, tmp_path, wheel_only=True)
    hint = caught.value.hint or ""
    assert f"{tmp_path / 'root' / 'work' / 'source'} is a copy of {project}" in hint
