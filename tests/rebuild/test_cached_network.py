"""``verify`` and ``build`` through the action cache, with real builds of a fixture project: a
repeated verification is a cache hit and says so, ``--no-cache`` rebuilds, a poisoned entry is
not used, and a remote cache's entry makes a verdict only with ``--trust-remote-cache``."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from reprobuild.cli.main import main
from tests.cache.nginx import NginxCache, running_nginx
from tests.sandboxes import machine_sandbox

pytestmark = pytest.mark.network

PROJECT = Path(__file__).parents[1] / "fixtures" / "projects" / "flit-demo"
WHEEL = "flit_demo-1.0-py3-none-any.whl"
SDIST = "flit_demo-1.0.tar.gz"


@pytest.fixture(autouse=True)
def _no_proxy_for_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """A proxy set in the environment must not carry the requests to nginx on 127.0.0.1."""
    monkeypatch.setenv("no_proxy", "127.0.0.1")


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture project's sdist and wheel, built by reprobuild (they reproduce)."""
    folder = tmp_path_factory.mktemp("published")
    project = folder / "flit-demo"
    shutil.copytree(PROJECT, project)
    mode = machine_sandbox().mode.value
    argv = ["build", str(project), "-o", str(folder / "dist"), "--sandbox", mode]
    assert main([*argv, "--cache-dir", str(folder / "cache"), "--no-cache"]) == 0
    return folder / "dist"


@pytest.fixture(scope="module")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NginxCache]:
    with running_nginx(tmp_path_factory.mktemp("nginx")) as server:
        yield server


def _verify(
    published: Path, cache: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, str, str]:
    """``verify --wheel --sdist`` of the published pair: its exit code, stdout, stderr and
    how long it took."""
    argv = [
        "verify",
        "--wheel",
        str(published / WHEEL),
        "--sdist",
        str(published / SDIST),
        "--cache-dir",
        str(cache),
        "--sandbox",
        machine_sandbox().mode.value,
        *extra,
    ]
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _rebuild_of(out: str) -> dict[str, object]:
    (artifact,) = json.loads(out)["artifacts"]
    assert artifact["verdict"] == "reproducible"
    rebuild = artifact["rebuild"]
    assert isinstance(rebuild, dict)
    return rebuild


def test_a_repeated_verify_is_a_cache_hit(
    published: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "cache"
    code, out, err = _verify(published, cache, capsys)
    assert code == 0, err
    assert "rebuilt: built now" in out
    code, out, err = _verify(published, cache, capsys)
    assert code == 0, err
    assert "rebuilt: cache hit (local), built " in out
    assert "reprobuild: found in the cache: " in err
    code, out, err = _verify(published, cache, capsys, "--format", "json")
    rebuild = _rebuild_of(out)
    assert rebuild["origin"] == "local" and rebuild["where"]
    assert isinstance(rebuild["key"], str) and len(rebuild["key"]) == 64
    code, out, err = _verify(published, cache, capsys, "--format", "json", "--no-cache")
    assert code == 0, err
    assert _rebuild_of(out)["origin"] == "built"
    assert "found in the cache" not in err


def test_a_poisoned_entry_is_not_used(
    published: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "cache"
    code, out, err = _verify(published, cache, capsys)
    assert code == 0, err
    wheel = (published / WHEEL).read_bytes()
    poisoned = 0
    for blob in (cache / "store" / "cas").rglob("*"):
        if blob.is_file() and blob.read_bytes() == wheel:
            blob.chmod(0o644)
            data = bytearray(wheel)
            data[len(data) // 2] ^= 0x01
            blob.write_bytes(bytes(data))
            blob.chmod(0o444)
            poisoned += 1
    assert poisoned == 1
    code, out, err = _verify(published, cache, capsys, "--format", "json")
    assert code == 0, err
    assert _rebuild_of(out)["origin"] == "built"  # the verdict rests on a real rebuild
    assert "is not used" in err


def test_a_remote_entry_makes_a_verdict_only_when_trusted(
    published: Path, tmp_path: Path, nginx: NginxCache, capsys: pytest.CaptureFixture[str]
) -> None:
    remote = ("--remote-cache", nginx.url)
    code, out, err = _verify(published, tmp_path / "writer", capsys, *remote)
    assert code == 0, err
    assert any((nginx.data / "ac").iterdir())  # the rebuild was shared
    # a fresh machine, not trusting the remote cache: it rebuilds
    code, out, err = _verify(published, tmp_path / "a", capsys, "--format", "json", *remote)
    assert code == 0, err
    assert _rebuild_of(out)["origin"] == "built"
    # trusting it: the remote's entry is the rebuild, and the verdict says so
    trusting = (*remote, "--trust-remote-cache")
    code, out, err = _verify(published, tmp_path / "b", capsys, *trusting)
    assert code == 0, err
    assert "rebuilt: cache hit (remote), built " in out
    # the entry it fetched is kept, still marked remote: without trust, it is not used
    code, out, err = _verify(published, tmp_path / "b", capsys, "--format", "json", *remote)
    assert _rebuild_of(out)["origin"] == "built"
    code, out, err = _verify(published, tmp_path / "c", capsys, "--trust-remote-cache")
    assert code == 2 and "needs --remote-cache" in err


def test_a_repeated_build_is_a_cache_hit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "flit-demo"
    shutil.copytree(PROJECT, project)
    mode = machine_sandbox().mode.value
    cache = ["--cache-dir", str(tmp_path / "cache"), "--sandbox", mode]
    assert main(["build", str(project), "-o", str(tmp_path / "one"), *cache]) == 0
    assert "found in the cache" not in capsys.readouterr().err
    argv = ["build", str(project), "-o", str(tmp_path / "two"), "--format", "json", *cache]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert "reprobuild: found in the cache: " in err
    assert json.loads(out)["rebuild"]["origin"] == "local"
    one = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert one == sorted(p.name for p in (tmp_path / "two").iterdir())
    assert len(one) == 3  # the sdist, the wheel and the buildinfo record
    for name in one:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    argv = ["build", str(project), "-o", str(tmp_path / "three"), "--no-cache", *cache]
    assert main(argv) == 0
    assert "found in the cache" not in capsys.readouterr().err
