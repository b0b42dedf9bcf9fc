"""``reprobuild vary`` on real projects with real backends from the package index: each fixture
project of ``tests/fixtures/vary`` has one known cause of nondeterminism, which must be named,
with its fix."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from reprobuild.report import JSONValue

pytestmark = pytest.mark.network

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "vary"


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("reprobuild-cache")


def _vary(
    source: str | Path, cache_dir: Path, *extra: str
) -> tuple[int, dict[str, JSONValue], str]:
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    env["REPROBUILD_CACHE_DIR"] = str(cache_dir)
    proc = subprocess.run(
        [sys.executable, "-m", "reprobuild", "vary", str(source), "--format", "json", *extra],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    doc = json.loads(proc.stdout)
    assert isinstance(doc, dict)
    return proc.returncode, doc, proc.stderr


def _findings(doc: dict[str, JSONValue]) -> dict[str, dict[str, JSONValue]]:
    artifacts = doc["artifacts"]
    assert isinstance(artifacts, list)
    found = {}
    for artifact in artifacts:
        assert isinstance(artifact, dict) and isinstance(artifact["kind"], str)
        found[artifact["kind"]] = artifact
    return found


def _culprits(finding: dict[str, JSONValue]) -> set[str]:
    culprits = finding["culprits"]
    assert isinstance(culprits, list)
    return {" + ".join(map(str, c)) for c in culprits if isinstance(c, list)}


def _fixes(finding: dict[str, JSONValue]) -> str:
    fixes = finding["fixes"]
    assert isinstance(fixes, list)
    return "\n".join(map(str, fixes))


def _copy(project: str, tmp_path: Path) -> Path:
    target = tmp_path / project
    shutil.copytree(FIXTURES / project, target)
    return target


def test_hatchling_is_reproducible_in_two_builds(tmp_path: Path, cache_dir: Path) -> None:
    code, doc, _ = _vary(_copy("hatchling", tmp_path), cache_dir, "--jobs", "2")
    assert code == 0
    assert doc["schema_version"] == 1 and doc["command"] == "vary"
    assert doc["reproducible"] is True
    assert {f["verdict"] for f in _findings(doc).values()} == {"reproducible"}
    builds = doc["builds"]
    assert isinstance(builds, list) and len(builds) == 2  # control and experiment agree


@pytest.mark.parametrize(
    ("project", "kind", "culprits", "fix"),
    [
        (
            "setuptools-sdist",
            "sdist",
            {"clock"},
            "the sdist's gzip header and member times come from the clock: set SOURCE_DATE_EPOCH",
        ),
        ("flit", "wheel", {"timezone", "source-times"}, "stores its member times in local time"),
        ("hash-seed", "wheel", {"hash-seed"}, "`Requires-Dist` order follows PYTHONHASHSEED"),
        ("umask-wheel", "wheel", {"umask"}, "file modes follow the umask"),
        ("build-path", "wheel", {"build-path"}, "embeds the build path in build_path/_built.py"),
        ("host-user", "wheel", {"hostname", "user-home"}, "host name of the machine"),
    ],
)
def test_the_cause_is_named_with_its_fix(
    project: str, kind: str, culprits: set[str], fix: str, tmp_path: Path, cache_dir: Path
) -> None:
    code, doc, stderr = _vary(_copy(project, tmp_path), cache_dir, "--jobs", "2")
    assert code == 1
    finding = _findings(doc)[kind]
    assert finding["verdict"] == "different"
    found = _culprits(finding)
    if project in ("setuptools-sdist", "umask-wheel", "hash-seed"):
        # setuptools also keeps the clock's, the umask's and the checkout's marks
        assert culprits <= found, found
    else:
        assert found == culprits
    assert fix in _fixes(finding)
    assert "build 3:" in stderr
    if project == "build-path":  # the diffs name the sides
        text = json.dumps(finding["difference"])
        assert "--- control/build_path/_built.py" in text
        assert "+++ experiment/build_path/_built.py" in text
    builds = doc["builds"]
    assert isinstance(builds, list)
    labels = [str(b["label"]) for b in builds if isinstance(b, dict)]
    assert len(labels) < 3 + 12  # fewer than one build per variation
    if any(label.endswith("(in reprobuild-vary-2)") for label in labels):
        # a build in the second folder is compared with the control built there
        assert labels.index("control (in reprobuild-vary-2)") >= 2


def test_a_build_random_on_its_own(tmp_path: Path, cache_dir: Path) -> None:
    code, doc, _ = _vary(_copy("random-build", tmp_path), cache_dir)
    assert code == 1
    wheel = _findings(doc)["wheel"]
    assert wheel["verdict"] == "random"
    assert wheel["culprits"] == []
    assert "random_build/_built.py" in _fixes(wheel)
    assert "+++ control-again/random_build/_built.py" in json.dumps(wheel["difference"])
    builds = doc["builds"]
    assert isinstance(builds, list) and len(builds) == 3  # no attribution for randomness


def test_a_released_sdist(cache_dir: Path) -> None:
    code, doc, stderr = _vary("six==1.17.0", cache_dir, "--only", "umask,hash-seed")
    assert code == 1
    assert "downloading six-1.17.0.tar.gz" in stderr
    findings = _findings(doc)
    assert set(findings) == {"wheel"}  # the sdist is the release's own
    assert _culprits(findings["wheel"]) == {"umask"}


def _marked_processes(mark: str) -> list[int]:
    """The processes whose environment holds ``mark`` (the command's and its workers')."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:  # gone, or another user's
            continue
        if mark.encode() in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_an_interruption_leaves_nothing_behind(tmp_path: Path, cache_dir: Path, jobs: str) -> None:
    """SIGINT once the first build has started: exit 130, 'interrupted', the workers and their
    builds stopped, no scratch folder left in TMPDIR and no half-written file kept."""
    project = _copy("umask-wheel", tmp_path)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    keep = tmp_path / "kept"
    mark = f"REPROBUILD_TEST_MARK={tmp_path.name}"  # its workers inherit it
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    env.update(REPROBUILD_CACHE_DIR=str(cache_dir), TMPDIR=str(scratch))
    env["REPROBUILD_TEST_MARK"] = tmp_path.name
    for extra in ((), ("--keep", str(keep))):
        proc = subprocess.Popen(
            [sys.executable, "-m", "reprobuild", "vary", str(project), "--jobs", jobs, *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert proc.stderr is not None
        seen = []
        for line in proc.stderr:
            seen.append(line)
            if line == "reprobuild:   control: started\n":
                break
        else:
            pytest.fail("no build started:\n" + "".join(seen))
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, "".join(seen) + err
        assert err.splitlines()[-1] == "interrupted", err
        assert "Traceback" not in err
        assert out == ""
        assert _marked_processes(mark) == []
        assert list(scratch.iterdir()) == []
    # what was kept is whole builds only: no temporary file of an interrupted write
    assert not [p for p in keep.rglob("*") if p.name.startswith(".") or p.suffix == ".tmp"]
