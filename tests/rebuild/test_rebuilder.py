"""``verify`` with a rebuilder that builds nothing: prepared files stand in for the rebuild."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

from reprobuild.build import BuildResult, BuildSpec, Progress
from reprobuild.errors import BuildError
from reprobuild.frontend import Sandbox, SandboxMode
from reprobuild.index import IndexClient
from reprobuild.rebuild import Rebuilder, Verdict, verify_release
from tests.factories import make_sdist, make_wheel
from tests.rebuild.offline import verify_demo

WHEEL = "demo-1.0-py3-none-any.whl"
SDIST = "demo-1.0.tar.gz"
#: no build runs, so no sandbox is needed; the verification still records the one it was given
NO_SANDBOX = Sandbox(mode=SandboxMode.NONE)


class PreparedRebuilder:
    """A :class:`Rebuilder` that writes prepared files (name -> bytes) into the spec's output
    folder and remembers every spec it was given; ``error`` makes every build fail with it."""

    def __init__(self, files: Mapping[str, bytes], error: str = "") -> None:
        self.files = dict(files)
        self.error = error
        self.specs: list[BuildSpec] = []

    def __call__(self, spec: BuildSpec, *, progress: Progress | None = None) -> BuildResult:
        self.specs.append(spec)
        if self.error:
            raise BuildError(self.error, log_tail="the backend said no")
        spec.outdir.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, data in self.files.items():
            path = spec.outdir / name
            path.write_bytes(data)
            paths.append(path)
        return BuildResult(
            outputs=(),
            paths=tuple(paths),
            buildinfo_path=spec.outdir / "demo.buildinfo.json",
            buildinfo={},
        )


def _published(tmp_path: Path) -> tuple[Path, Path, bytes]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    wheel = make_wheel(files={"demo/__init__.py": b"x = 1\n"})
    (tmp_path / WHEEL).write_bytes(wheel)
    (tmp_path / SDIST).write_bytes(make_sdist())
    return tmp_path / WHEEL, tmp_path / SDIST, wheel


def _verify(tmp_path: Path, rebuilder: Rebuilder) -> Verdict:
    wheel, sdist, _ = _published(tmp_path)
    result = verify_demo(wheel, sdist, tmp_path / "cache", rebuilder)
    return result.verdict


def _index(root: Path, files: Mapping[str, bytes]) -> str:
    """A PEP 503 index of files on disk (``file:`` URLs: no network)."""
    (root / "files").mkdir(parents=True)
    anchors = []
    for name, data in files.items():
        (root / "files" / name).write_bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        anchors.append(f'<a href="../../files/{name}#sha256={digest}">{name}</a>')
    (root / "simple" / "demo").mkdir(parents=True)
    (root / "simple" / "demo" / "index.html").write_text("".join(anchors))
    return (root / "simple").as_uri()


def test_a_release_whose_rebuild_is_the_published_wheel_is_reproducible(tmp_path: Path) -> None:
    """From the index to the verdict, with the rebuild's spec made from the recipe."""
    wheel, sdist, data = _published(tmp_path / "published")
    url = _index(tmp_path / "index", {WHEEL: data, SDIST: sdist.read_bytes()})
    rebuilder = PreparedRebuilder({SDIST: sdist.read_bytes(), WHEEL: data})
    client = IndexClient(cache_dir=tmp_path / "cache", index_urls=[url])
    verification = verify_release(
        "demo",
        "1.0",
        client=client,
        cache_dir=tmp_path / "cache",
        build_root=tmp_path / "build",
        sandbox=NO_SANDBOX,
        rebuilder=rebuilder,
    )
    assert verification.reproducible
    (result,) = verification.results
    assert result.verdict is Verdict.REPRODUCIBLE
    assert result.rebuilt_filename == WHEEL
    assert result.rebuilt_sha256 == result.sha256 == hashlib.sha256(data).hexdigest()
    (spec,) = rebuilder.specs
    assert spec.source.name == SDIST  # rebuilt from the release's sdist
    assert result.recipe is not None  # the spec is the recipe's
    assert spec.source_date_epoch == result.recipe.source_date_epoch
    assert spec.normalize is result.recipe.normalized
    assert spec.build_root == tmp_path / "build"
    assert spec.sandbox == NO_SANDBOX
    assert verification.sandbox == NO_SANDBOX.to_json()
    assert wheel.read_bytes() == data


def test_another_content_is_different(tmp_path: Path) -> None:
    other = make_wheel(files={"demo/__init__.py": b"x = 2\n"})
    assert _verify(tmp_path, PreparedRebuilder({WHEEL: other})) is Verdict.DIFFERENT


def test_a_failed_rebuild_is_build_failed(tmp_path: Path) -> None:
    rebuilder = PreparedRebuilder({}, error="the backend is missing")
    assert _verify(tmp_path, rebuilder) is Verdict.BUILD_FAILED
    assert len(rebuilder.specs) == 1


def test_a_rebuild_without_a_wheel_is_build_failed(tmp_path: Path) -> None:
    assert _verify(tmp_path, PreparedRebuilder({SDIST: make_sdist()})) is Verdict.BUILD_FAILED


def test_a_python_2_wheel_is_not_verifiable_and_nothing_is_built(tmp_path: Path) -> None:
    name = "demo-1.0-py2-none-any.whl"
    (tmp_path / name).write_bytes(make_wheel(tag="py2-none-any"))
    (tmp_path / SDIST).write_bytes(make_sdist())
    rebuilder = PreparedRebuilder({})
    result = verify_demo(tmp_path / name, tmp_path / SDIST, tmp_path / "cache", rebuilder)
    assert result.verdict is Verdict.NOT_VERIFIABLE
    assert result.cause is not None and "Python 2" in result.cause
    assert rebuilder.specs == []
