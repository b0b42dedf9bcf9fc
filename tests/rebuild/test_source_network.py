"""``reprobuild verify --source``: an sdist rebuilt from a checkout of its project and judged.

The published files are made by the backend itself (hatchling from the index, with
SOURCE_DATE_EPOCH, not normalized), as a maintainer's release would be; ``verify`` then works
out the recipe from the published files alone and rebuilds the sdist from the checkout.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reprobuild.build import BuildSpec, build
from reprobuild.cli.main import main

pytestmark = pytest.mark.network

PROJECT = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "hatch-demo"


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("published")
    spec = BuildSpec(
        source=PROJECT,
        outdir=root / "dist",
        cache_dir=root / "cache",
        source_date_epoch=1_700_000_000,
        normalize=False,
        build_root=root / "build",
    )
    paths = build(spec).paths
    (sdist,) = [p for p in paths if p.name.endswith(".tar.gz")]
    (wheel,) = [p for p in paths if p.name.endswith(".whl")]
    return sdist, wheel


def _verify(checkout: Path, published: tuple[Path, Path], tmp_path: Path) -> dict[str, object]:
    sdist, wheel = published
    argv = ["verify", "--source", str(checkout), "--sdist", str(sdist), "--wheel", str(wheel)]
    argv += ["--cache-dir", str(tmp_path / "cache"), "--db", str(tmp_path / "r.db")]
    return {"code": main([*argv, "--format", "json"])}


def test_the_checkout_rebuilds_the_published_sdist(
    published: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = _verify(PROJECT, published, tmp_path)
    doc = json.loads(capsys.readouterr().out)
    verdicts = {a["filename"]: a["verdict"] for a in doc["artifacts"]}
    assert verdicts == {
        "hatch_demo-1.0.tar.gz": "reproducible",
        "hatch_demo-1.0-py3-none-any.whl": "reproducible",
    }
    sdist = doc["artifacts"][0]
    assert sdist["recipe"]["source_date_epoch"] == 1_700_000_000
    assert result["code"] == 0


def test_a_changed_checkout_is_named(
    published: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkout = tmp_path / "checkout"
    shutil.copytree(PROJECT, checkout)
    module = checkout / "src" / "hatch_demo" / "__init__.py"
    module.write_text(module.read_text() + "BACKDOOR = True\n")
    result = _verify(checkout, published, tmp_path)
    doc = json.loads(capsys.readouterr().out)
    sdist = doc["artifacts"][0]
    assert sdist["filename"] == "hatch_demo-1.0.tar.gz"
    assert sdist["verdict"] == "different"
    assert "src/hatch_demo/__init__.py" in sdist["cause"]
    assert result["code"] == 1


def test_what_reprobuild_build_makes_verifies_byte_for_byte(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``reprobuild build`` normalizes what it builds: the recipe sees the canonical form and
    normalizes its rebuild too, and a checkout with no date of its own (1980) needs no
    Python of 1980."""
    cache = ["--cache-dir", str(tmp_path / "cache")]
    checkout = tmp_path / "checkout"
    shutil.copytree(PROJECT, checkout)
    assert main(["build", str(checkout), "-o", str(tmp_path / "dist"), *cache]) == 0
    dist = tmp_path / "dist"
    argv = ["verify", "--source", str(checkout), "--sdist", str(dist / "hatch_demo-1.0.tar.gz")]
    argv += ["--wheel", str(dist / "hatch_demo-1.0-py3-none-any.whl"), *cache]
    capsys.readouterr()
    code = main([*argv, "--db", str(tmp_path / "r.db"), "--format", "json"])
    artifacts = json.loads(capsys.readouterr().out)["artifacts"]
    assert [(a["filename"], a["verdict"]) for a in artifacts] == [
        ("hatch_demo-1.0.tar.gz", "reproducible"),
        ("hatch_demo-1.0-py3-none-any.whl", "reproducible"),
    ]
    assert code == 0
    assert all(a["recipe"]["normalized"] is True for a in artifacts)
