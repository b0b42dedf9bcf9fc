"""``reprobuild graph`` over releases from the index and their build-requirement closure.

A real release built with flit_core (a closure of one backend that builds itself): its wheel
comes from its sdist, in an environment installed from the flit_core wheel the graph built,
whose digest is in the key; a second run builds nothing. Then a local index (``file:`` pages
named by ``PIP_INDEX_URL``) where two packages each need the other to build, and one whose sdist
does not build: the cycle is broken by the published wheel of the first of them, the broken one
falls back to its published wheel, and the report lists both seeds.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reprobuild.cli.main import main
from reprobuild.executors import SerialExecutor
from reprobuild.graph import GraphOptions, plan_workspace, run_graph
from reprobuild.graph.closure import load_release_list, parse_release, plan_releases
from reprobuild.graph.plan import Plan, workspace_members
from reprobuild.graph.schedule import graph_id
from reprobuild.index import IndexClient, release_files
from tests.build.test_sdist_requirements import LocalIndex, package_sdist
from tests.factories import make_sdist, make_wheel, sdist_filename, wheel_filename
from tests.sandboxes import machine_sandbox

pytestmark = pytest.mark.network

CUTOFF = datetime(2026, 11, 1, tzinfo=UTC)
WORKSPACE = Path(__file__).resolve().parent.parent / "fixtures" / "workspace"


def _options(cache: Path) -> GraphOptions:
    return GraphOptions(cache_dir=cache, exclude_newer=CUTOFF, sandbox=machine_sandbox())


def test_a_release_is_built_with_the_backend_the_graph_built(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "cache"
    plan = plan_releases(["idna==3.10"], exclude_newer=CUTOFF, cache_dir=cache)
    assert [(n.id, n.kind, n.deps) for n in plan.nodes] == [
        ("flit-core==3.12.0:wheel", "release", ()),
        ("idna==3.10:wheel", "release", ("flit-core==3.12.0:wheel",)),
    ]
    report = run_graph(plan, _options(cache), SerialExecutor())
    assert [n.status for n in report.nodes] == ["built", "built"]
    assert (report.from_source, report.seeds) == (2, ())
    ((flit, flit_digest),) = report.nodes[0].outputs.items()
    assert flit == "flit_core-3.12.0-py3-none-any.whl"
    # the release's action names its sdist on the index and the graph's own flit_core wheel
    state = json.loads((cache / "graphs" / f"{graph_id(plan)}.json").read_text())
    action = state["nodes"]["idna==3.10:wheel"]["action"]
    (sdist,) = [
        f
        for f in release_files(IndexClient(cache_dir=cache).project_files("idna"), "idna", "3.10")
        if f.filename.endswith(".tar.gz")
    ]
    assert action["inputs"] == {"sdist": sdist.sha256}
    assert action["environment"] == [f"flit-core==3.12.0 --hash=sha256:{flit_digest}"]
    assert action["settings"]["no_index"] is True

    # again, from the command line: every step is found in the cache
    code = main(
        [
            "graph",
            "--release",
            "idna==3.10",
            "--exclude-newer",
            "2026-11-01",
            "--cache-dir",
            str(cache),
            "--format",
            "json",
        ]
    )
    assert code == 0
    document = json.loads(capsys.readouterr().out)
    assert [n["status"] for n in document["nodes"]] == ["cache-hit", "cache-hit"]
    assert (document["builds"], document["from_source"], document["seeds"]) == (0, 2, [])


def test_a_workspace_and_a_release_in_one_graph(tmp_path: Path) -> None:
    # the release's closure builds flit_core, which the workspace's projects resolve from the
    # index: the graph's flit_core wheel is not offered to them
    root = tmp_path / "workspace"
    shutil.copytree(WORKSPACE, root)
    cache = tmp_path / "cache"
    workspace = plan_workspace(workspace_members(root))
    closure = plan_releases(["idna==3.10"], exclude_newer=CUTOFF, cache_dir=cache)
    plan = Plan(nodes=(*workspace.nodes, *closure.nodes))
    report = run_graph(plan, _options(cache), SerialExecutor())
    assert {n.status for n in report.nodes} == {"built"}
    assert len(report.nodes) == 8


def test_release_names_are_checked(tmp_path: Path) -> None:
    assert parse_release("Typing_Extensions==4.12.0") == ("typing-extensions", "4.12.0")
    for bad in ("idna", "idna>=3", "idna==3.*", "idna[x]==3.10", "==3"):
        with pytest.raises(Exception, match="not a release"):
            parse_release(bad)
    listing = tmp_path / "releases.txt"
    listing.write_text("# the releases\nsix==1.17.0  # one\n\nidna==3.10\n")
    assert load_release_list(listing) == ("six==1.17.0", "idna==3.10")


BROKEN_BACKEND = """\
def get_requires_for_build_wheel(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    raise RuntimeError("this backend cannot build")
"""


@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalIndex]:
    local = LocalIndex(tmp_path / "index")
    (local.root / "simple").mkdir(parents=True)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    for variable in [v for v in os.environ if v.startswith(("PIP_", "UV_"))]:
        if variable != "PIP_CONFIG_FILE":
            monkeypatch.delenv(variable)
    monkeypatch.setenv("PIP_INDEX_URL", (local.root / "simple").as_uri())
    yield local


def test_a_cycle_and_a_failed_build_are_seeded(tmp_path: Path, index: LocalIndex) -> None:
    # alpha needs beta and broken to build; beta needs alpha: alpha is seeded (first on the
    # cycle), beta is built with alpha's published wheel, and alpha then from its sdist
    index.publish(sdist_filename("alpha", "1.0"), package_sdist("alpha", requires=("beta",)))
    index.publish(sdist_filename("beta", "1.0"), package_sdist("beta", requires=("alpha",)))
    broken = make_sdist(
        "broken",
        "1.0",
        {
            "pyproject.toml": b'[build-system]\nrequires = []\nbuild-backend = "backend"\n'
            b'backend-path = ["."]\n',
            "backend.py": BROKEN_BACKEND.encode(),
        },
    )
    index.publish(sdist_filename("broken", "1.0"), broken)
    for name in ("alpha", "beta", "broken"):
        index.publish(wheel_filename(name, "1.0"), make_wheel(name, "1.0"))
    gamma = package_sdist("gamma", requires=("beta", "broken"))
    index.publish(sdist_filename("gamma", "1.0"), gamma)
    cache = tmp_path / "cache"

    # a folder index gives no upload times, which a cut-off would filter out: resolved as now
    plan = plan_releases(["alpha==1.0", "gamma==1.0"], exclude_newer=None, cache_dir=cache)
    assert [(n.id, n.kind, n.deps) for n in plan.nodes] == [
        ("alpha==1.0:seed", "seed", ()),
        ("beta==1.0:wheel", "release", ("alpha==1.0:seed",)),
        ("alpha==1.0:wheel", "release", ("beta==1.0:wheel",)),
        ("broken==1.0:wheel", "release", ()),
        ("gamma==1.0:wheel", "release", ("beta==1.0:wheel", "broken==1.0:wheel")),
    ]
    report = run_graph(plan, _options(cache), SerialExecutor())
    statuses = {n.id: n.status for n in report.nodes}
    assert statuses == {
        "alpha==1.0:seed": "seeded",
        "beta==1.0:wheel": "built",
        "alpha==1.0:wheel": "built",
        "broken==1.0:wheel": "seeded",
        "gamma==1.0:wheel": "built",
    }
    seeds = report.to_json()["seeds"]
    assert isinstance(seeds, list)
    assert [(s["name"], s["version"]) for s in seeds] == [  # type: ignore[index,call-overload]
        ("alpha", "1.0"),
        ("broken", "1.0"),
    ]
    reasons = [n.reason or "" for n in report.seeds]
    assert reasons[0] == "needed to build itself: alpha==1.0 › beta==1.0 › alpha==1.0"
    assert reasons[1].startswith("its sdist did not build")
    assert report.from_source == 3
    assert report.failed == 0
    # the published wheels, as the index has them, stand in for alpha (for beta) and broken
    published = index.root / "files" / wheel_filename("alpha", "1.0")
    assert report.seeds[0].outputs == {published.name: _sha256(published)}


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()
