"""``reprobuild build`` on real projects with real backends from the package index.

Each fixture project is built twice, from two copies in different folders, under different
umask, time zone, locale, hash seed, working folder, source-file times and wall clock: both
builds must give the same bytes, sdist and wheel. Plain ``python -m build`` of the setuptools
and pdm-backend projects does not, which is why reprobuild exists.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.network

PROJECTS = Path(__file__).resolve().parent.parent / "fixtures" / "projects"
FIXTURES = [
    "st-pyproject",
    "st-legacy",
    "hatch-demo",
    "flit-demo",
    "poetry-demo",
    "pdm-demo",
    "st-cext",
    "hashseed",
]


@dataclass(frozen=True)
class Variation:
    umask: int
    env: Mapping[str, str]
    source_mtime: int


CONTROL = Variation(
    umask=0o022,
    env={"TZ": "UTC", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "PYTHONHASHSEED": "1"},
    source_mtime=1_600_000_000,
)
EXPERIMENT = Variation(
    umask=0o077,
    env={
        "TZ": "Asia/Tokyo",
        "LANG": "fr_FR.UTF-8",
        "LC_ALL": "fr_FR.UTF-8",
        "PYTHONHASHSEED": "4242",
        "CFLAGS": "-O0",
    },
    source_mtime=1_800_000_000,
)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("reprobuild-cache")


def _copy(project: str, where: Path, mtime: int) -> Path:
    target = where / project
    shutil.copytree(PROJECTS / project, target)
    for path in [target, *target.rglob("*")]:
        os.utime(path, (mtime, mtime))
    return target


def _reprobuild(
    args: list[str], *, cwd: Path, cache_dir: Path, variation: Variation
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    env.update(variation.env)
    env["REPROBUILD_CACHE_DIR"] = str(cache_dir)
    for attempt in range(2):  # one retry for a transient index error
        proc = subprocess.run(
            [sys.executable, "-m", "reprobuild", "build", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            umask=variation.umask,
            check=False,
        )
        if proc.returncode != 3 or attempt:
            return proc
    return proc


def _artifacts(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.suffix in (".whl", ".gz")}


@pytest.mark.parametrize("project", FIXTURES)
def test_two_builds_under_different_conditions_are_identical(
    project: str, tmp_path: Path, cache_dir: Path
) -> None:
    outputs = []
    for name, variation in (("control", CONTROL), ("experiment", EXPERIMENT)):
        work = tmp_path / name
        work.mkdir()
        source = _copy(project, work, variation.source_mtime)
        proc = _reprobuild(
            [str(source), "-o", str(work / "out"), "--format", "json"],
            cwd=work,
            cache_dir=cache_dir,
            variation=variation,
        )
        assert proc.returncode == 0, proc.stderr
        outputs.append(_artifacts(work / "out"))
        time.sleep(1.1)  # the wall clock moves on between the two builds
    control, experiment = outputs
    assert len(control) == 2, control.keys()
    assert control.keys() == experiment.keys()
    for filename in control:
        assert control[filename] == experiment[filename], f"{filename} differs"


@pytest.mark.parametrize("project", FIXTURES)
def test_buildinfo_round_trip(project: str, tmp_path: Path, cache_dir: Path) -> None:
    source = _copy(project, tmp_path, CONTROL.source_mtime)
    first = _reprobuild(
        [str(source), "-o", str(tmp_path / "one")],
        cwd=tmp_path,
        cache_dir=cache_dir,
        variation=CONTROL,
    )
    assert first.returncode == 0, first.stderr
    [record] = (tmp_path / "one").glob("*.buildinfo.json")
    doc = json.loads(record.read_text())
    assert doc["schema_version"] == 1 and doc["command"] == "build"
    assert doc["environment_variables"]["PYTHONHASHSEED"] == "0"
    assert all(r["hashes"] for env in doc["environments"].values() for r in env["requirements"])
    produced = {p.name for p in (tmp_path / "one").iterdir() if p != record}
    assert {o["filename"] for o in doc["outputs"]} == produced
    again = _reprobuild(
        [str(source), "-o", str(tmp_path / "two"), "--buildinfo", str(record)],
        cwd=tmp_path,
        cache_dir=cache_dir,
        variation=EXPERIMENT,
    )
    assert again.returncode == 0, again.stderr
    assert _artifacts(tmp_path / "one") == _artifacts(tmp_path / "two")
    assert "identical to the buildinfo record: 2 files, byte for byte" in again.stdout
    assert "SOURCE_DATE_EPOCH" in first.stdout and "buildinfo record" in again.stdout
    if project != "hatch-demo":
        return
    # a record that promises other bytes is caught: exit 1, and the difference named
    doc["outputs"][0]["sha256"] = "0" * 64
    forged = tmp_path / "forged.buildinfo.json"
    forged.write_text(json.dumps(doc))
    mismatch = _reprobuild(
        [str(source), "-o", str(tmp_path / "three"), "--buildinfo", str(forged)],
        cwd=tmp_path,
        cache_dir=cache_dir,
        variation=CONTROL,
    )
    assert mismatch.returncode == 1
    assert doc["outputs"][0]["filename"] in mismatch.stderr
    assert "hint: reprobuild diff" in mismatch.stderr
    # changed source files: said, with both digests
    module = next(p for p in source.rglob("*.py"))
    module.write_text(module.read_text() + "\nchanged = True\n")
    changed = _reprobuild(
        [str(source), "-o", str(tmp_path / "four"), "--buildinfo", str(record)],
        cwd=tmp_path,
        cache_dir=cache_dir,
        variation=CONTROL,
    )
    assert changed.returncode == 1
    assert "the source is not the record's" in changed.stderr


def test_source_date_epoch_from_the_last_commit(tmp_path: Path, cache_dir: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    source = _copy("hatch-demo", tmp_path, CONTROL.source_mtime)
    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": "@1650000000 +0000",
        "GIT_COMMITTER_DATE": "@1650000000 +0000",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
    }
    for cmd in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "release"]):
        subprocess.run(["git", *cmd], cwd=source, env=env, check=True)
    proc = _reprobuild(
        [str(source), "-o", str(tmp_path / "out")],
        cwd=tmp_path,
        cache_dir=cache_dir,
        variation=CONTROL,
    )
    assert proc.returncode == 0, proc.stderr
    [record] = (tmp_path / "out").glob("*.buildinfo.json")
    doc = json.loads(record.read_text())
    assert doc["source_date_epoch"] == 1650000000
    assert doc["source_date_epoch_from"] == "git"
    assert len(doc["source"]["git_commit"]) == 40


def test_build_from_an_sdist(tmp_path: Path, cache_dir: Path) -> None:
    source = _copy("flit-demo", tmp_path, CONTROL.source_mtime)
    first = _reprobuild(
        [str(source), "-o", str(tmp_path / "one")],
        cwd=tmp_path,
        cache_dir=cache_dir,
        variation=CONTROL,
    )
    assert first.returncode == 0, first.stderr
    [sdist] = (tmp_path / "one").glob("*.tar.gz")
    second = _reprobuild(
        [str(sdist), "-o", str(tmp_path / "two")],
        cwd=tmp_path,
        cache_dir=cache_dir,
        variation=EXPERIMENT,
    )
    assert second.returncode == 0, second.stderr
    assert _artifacts(tmp_path / "one") == _artifacts(tmp_path / "two")


@pytest.mark.parametrize("project", ["st-pyproject", "pdm-demo"])
def test_plain_python_m_build_sdist_is_not_reproducible(project: str, tmp_path: Path) -> None:
    """The control experiment: the same variations break a plain ``python -m build``."""
    sdists = []
    for name, variation in (("control", CONTROL), ("experiment", EXPERIMENT)):
        work = tmp_path / name
        work.mkdir()
        source = _copy(project, work, variation.source_mtime)
        env = {**os.environ, **variation.env}
        env.pop("SOURCE_DATE_EPOCH", None)
        proc = subprocess.run(
            [sys.executable, "-m", "build", "--sdist", "--outdir", str(work / "out"), str(source)],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            umask=variation.umask,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        [sdist] = (work / "out").glob("*.tar.gz")
        sdists.append(sdist.read_bytes())
        time.sleep(1.1)
    assert sdists[0] != sdists[1]


def test_not_a_python_project_exits_2(tmp_path: Path, cache_dir: Path) -> None:
    (tmp_path / "empty").mkdir()
    proc = _reprobuild(
        [str(tmp_path / "empty"), "-o", str(tmp_path / "out")],
        cwd=tmp_path,
        cache_dir=cache_dir,
        variation=CONTROL,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("error: ") == 1 and "not a Python project" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_failing_build_exits_3_with_the_log_tail(tmp_path: Path, cache_dir: Path) -> None:
    source = tmp_path / "broken"
    source.mkdir()
    (source / "setup.py").write_text("raise SystemExit('this project cannot be built')\n")
    proc = _reprobuild(
        [str(source), "-o", str(tmp_path / "out")],
        cwd=tmp_path,
        cache_dir=cache_dir,
        variation=CONTROL,
    )
    assert proc.returncode == 3, proc.stderr
    assert "this project cannot be built" in proc.stderr
    assert "Traceback" not in proc.stderr.split("hint:")[0]
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_later_build_installs_the_pins_an_earlier_one_resolved(
    tmp_path: Path, cache_dir: Path
) -> None:
    from reprobuild.build import BuildSpec, build

    source = _copy("flit-demo", tmp_path, CONTROL.source_mtime)
    first_steps: list[str] = []
    first = build(
        BuildSpec(source=source, outdir=tmp_path / "one", cache_dir=cache_dir),
        progress=first_steps.append,
    )
    assert any(step.startswith("resolving") for step in first_steps)
    assert first.resolved and all(first.resolved.values())
    steps: list[str] = []
    again = build(
        BuildSpec(
            source=source, outdir=tmp_path / "two", cache_dir=cache_dir, resolved=first.resolved
        ),
        progress=steps.append,
    )
    assert not any(step.startswith("resolving") for step in steps), steps
    assert again.resolved == first.resolved
    assert again.buildinfo["environments"] == first.buildinfo["environments"]
    assert _artifacts(tmp_path / "one") == _artifacts(tmp_path / "two")
