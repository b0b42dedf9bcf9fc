"""``reprobuild graph`` on a real workspace (``tests/fixtures/workspace``): three projects, one
of which is the others' build backend, built in the machine's sandbox with flit_core from the
index. A cold run, a run with nothing changed, early cutoff after a test-only edit, a dry run,
a poisoned local entry, a remote cache on a real nginx (a second machine, a poisoned remote
entry), and the same graph on a Dask LocalCluster, with a worker killed mid-run."""

from __future__ import annotations

import os
import shutil
import signal
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reprobuild.executors import DaskExecutor, SerialExecutor
from reprobuild.graph import GraphOptions, GraphReport, RemoteConfig, plan_workspace, run_graph
from reprobuild.graph.plan import Plan, workspace_members
from tests.cache.nginx import NginxCache, running_nginx
from tests.sandboxes import machine_sandbox

pytestmark = pytest.mark.network

WORKSPACE = Path(__file__).resolve().parent.parent / "fixtures" / "workspace"
#: a fixed cut-off: the same resolution on every run, so that it is cached
CUTOFF = datetime(2026, 11, 1, tzinfo=UTC)


def _options(cache: Path, **kw: object) -> GraphOptions:
    return GraphOptions(cache_dir=cache, exclude_newer=CUTOFF, sandbox=machine_sandbox(), **kw)  # type: ignore[arg-type]


def _plan(root: Path) -> Plan:
    return plan_workspace(workspace_members(root), bundle=True)


def _statuses(report: GraphReport) -> dict[str, str]:
    return {n.id: n.status for n in report.nodes}


def _outputs(report: GraphReport) -> dict[str, dict[str, str]]:
    return {n.id: dict(n.outputs) for n in report.nodes}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, GraphReport]]:
    """The workspace copied, and built cold into a cache of its own."""
    base = tmp_path_factory.mktemp("graph")
    root = base / "workspace"
    shutil.copytree(WORKSPACE, root)
    cache = base / "cache"
    report = run_graph(_plan(root), _options(cache), SerialExecutor())
    yield root, cache, report


def test_a_cold_run_builds_every_step(built: tuple[Path, Path, GraphReport]) -> None:
    _, _, report = built
    assert _statuses(report) == {
        "ws-base:sdist": "built",
        "ws-base:wheel": "built",
        "ws-mid:sdist": "built",
        "ws-mid:wheel": "built",
        "ws-top:sdist": "built",
        "ws-top:wheel": "built",
        "bundle": "built",
    }
    assert report.builds == 7
    outputs = _outputs(report)
    assert list(outputs["ws-base:wheel"]) == ["ws_base-1.0-py3-none-any.whl"]
    assert list(outputs["bundle"]) == ["bundle.tar"]


def test_a_second_run_with_nothing_changed_builds_nothing(
    built: tuple[Path, Path, GraphReport],
) -> None:
    root, cache, cold = built
    again = run_graph(_plan(root), _options(cache), SerialExecutor())
    assert set(_statuses(again).values()) == {"cache-hit"}
    assert again.builds == 0
    assert _outputs(again) == _outputs(cold)


def test_a_test_only_edit_is_cut_off_after_the_wheel(
    built: tuple[Path, Path, GraphReport], tmp_path: Path
) -> None:
    root, cache, cold = built
    edited = tmp_path / "workspace"
    shutil.copytree(root, edited)
    test_file = edited / "ws-base" / "tests" / "test_base.py"
    test_file.write_text(test_file.read_text() + "\n# one more line\n")
    plan = _plan(edited)
    assert plan.depth() >= 4  # base wheel > mid wheel > top wheel > bundle: cutoff at depth >= 3

    dry = run_graph(plan, _options(cache, dry_run=True), SerialExecutor())
    assert _statuses(dry)["ws-base:sdist"] == "would-build"
    assert dry.nodes[0].changed == ("inputs.source",)
    assert {s for i, s in _statuses(dry).items() if i != "ws-base:sdist"} == {"waits"}
    assert dry.builds == 0

    report = run_graph(plan, _options(cache), SerialExecutor())
    statuses = _statuses(report)
    # the sdist holds the tests, so it changed; the wheel does not, so it came out the same
    assert statuses["ws-base:sdist"] in ("built", "rebuilt-changed")
    assert statuses["ws-base:wheel"] in ("built", "rebuilt-unchanged")
    assert _outputs(report)["ws-base:wheel"] == _outputs(cold)["ws-base:wheel"]
    assert _outputs(report)["ws-base:sdist"] != _outputs(cold)["ws-base:sdist"]
    # every step after the wheel keeps its key: found in the cache, not run (early cutoff)
    after = ["ws-mid:sdist", "ws-mid:wheel", "ws-top:sdist", "ws-top:wheel", "bundle"]
    assert [statuses[n] for n in after] == ["cache-hit"] * 5
    assert report.builds == 2


def test_a_poisoned_local_entry_is_not_used(built: tuple[Path, Path, GraphReport]) -> None:
    root, cache, cold = built
    digest = cold.nodes[3].outputs["ws_mid-1.0-py3-none-any.whl"]
    blob = cache / "store" / "cas" / digest[:2] / digest
    blob.chmod(0o644)
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.write_bytes(bytes(data))
    warnings: list[str] = []
    report = run_graph(_plan(root), _options(cache), SerialExecutor(), progress=warnings.append)
    statuses = _statuses(report)
    assert statuses["ws-mid:wheel"] in ("rebuilt-unchanged", "built")
    assert any("ws-mid:wheel" in w or "not used" in w for w in warnings)
    assert _outputs(report) == _outputs(cold)  # rebuilt bit for bit; the rest found


@pytest.fixture
def nginx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[NginxCache]:
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    with running_nginx(tmp_path / "nginx") as server:
        yield server


def test_a_second_machine_with_the_remote_cache_warm_builds_nothing(
    built: tuple[Path, Path, GraphReport], nginx: NginxCache, tmp_path: Path
) -> None:
    root, _, cold = built
    remote = RemoteConfig(url=nginx.url)
    first = run_graph(_plan(root), _options(tmp_path / "one", remote=remote), SerialExecutor())
    assert first.builds == 7
    assert _outputs(first) == _outputs(cold)  # another cache folder, the same bytes
    second = run_graph(_plan(root), _options(tmp_path / "two", remote=remote), SerialExecutor())
    assert set(_statuses(second).values()) == {"remote-hit"}
    assert second.builds == 0
    assert _outputs(second) == _outputs(cold)

    # a poisoned remote blob: reported, not used, and that step rebuilt
    digest = cold.nodes[5].outputs["ws_top-1.0-py3-none-any.whl"]
    (nginx.data / "cas" / digest).write_bytes(b"not the wheel")
    warnings: list[str] = []
    third = run_graph(
        _plan(root),
        _options(tmp_path / "three", remote=RemoteConfig(url=nginx.url, read_only=True)),
        SerialExecutor(),
        progress=warnings.append,
    )
    assert _statuses(third)["ws-top:wheel"] == "built"
    assert any("not used" in w for w in warnings)
    assert _outputs(third) == _outputs(cold)


def test_a_dask_cluster_gives_the_same_outputs_even_with_a_worker_killed(
    built: tuple[Path, Path, GraphReport], tmp_path: Path
) -> None:
    """The graph on a Dask cluster joined by its scheduler's address (as ``--scheduler``
    does), a LocalCluster of 2 worker processes started by the test."""
    from distributed import LocalCluster

    root, _, cold = built
    cluster = LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    executor = DaskExecutor(cluster.scheduler_address)
    killed: list[int] = []

    def kill_one(line: str) -> None:
        if not killed and line.endswith(": building"):
            pid = executor.worker_pids()[0]
            killed.append(pid)
            # a moment into the build, so that the worker dies with the step running
            threading.Timer(0.3, lambda: os.kill(pid, signal.SIGKILL)).start()

    try:
        report = run_graph(_plan(root), _options(tmp_path / "dask"), executor, progress=kill_one)
    finally:
        executor.close()
        cluster.close()
    assert killed
    assert report.executor == "dask"
    assert report.failed == 0
    assert _outputs(report) == _outputs(cold)
