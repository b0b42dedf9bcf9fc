"""The action a build is, and a rebuilder that finds builds in the action cache: with pinned
build requirements and a rebuilder that writes prepared files, so that nothing is resolved or
built."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reprobuild.actions import Caches
from reprobuild.build import BuildResult, BuildSpec, Progress
from reprobuild.buildinfo import BuildOutput
from reprobuild.frontend import Limits, PinnedRequirement, Sandbox, SandboxMode
from reprobuild.rebuild.cached import RESULT_NAME, CachedRebuilder, build_action
from tests.factories import make_sdist, make_wheel

NO_SANDBOX = Sandbox(mode=SandboxMode.NONE)
PIN = PinnedRequirement(name="flit-core", version="3.9.0", hashes=("sha256:" + "a" * 64,))
ENVIRONMENT = (PIN.line(),)


class Step:
    """A build step a knob's value names (the description is all a key sees of it)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def apply(self, folder: Path) -> None:
        pass

    def describe(self) -> str:
        return self.text


#: Every field of a spec that can change a build's output, with another value for it.
KNOBS: dict[str, object] = {
    "source_date_epoch": 1700000000,
    "source_date_epoch_from": "recipe",
    "exclude_newer": datetime(2024, 1, 1, tzinfo=UTC),
    "normalize": False,
    "umask": 0o002,
    "hash_seed": "7",
    "timezone": "Europe/Paris",
    "locale": "en_US.UTF-8",
    "path": "/usr/bin:/bin",
    "build_root": Path("/tmp/reprobuild-build-2"),
    "pins": {"wheel": (PIN,)},
    "overrides": ("setuptools<60",),
    "export_source_date_epoch": False,
    "sdist_times": "members",
    "steps": (Step("gzip -n man/demo.1"),),
    "build_clock": 1600000000,
    "closing_clock": 1600000002,
    "dist_info_clock": 1600000001,
    "sdist_clock": 1600000001,
    "setup_py": True,
    "keep_egg_info": True,
    "distutils_config": "[bdist_wheel]\nuniversal = 1\n",
    "extra_env": {"CFLAGS": "-O0"},
    "wrapper": ("taskset", "-c", "0"),
    "home_folder": "house",
    "tmp_folder": "temp",
    "source_time_offset": 60,
    "creation_order": "reversed",
    "resolved": {("flit_core",): (PIN,)},
    "hostname": "builder",
    "building": ("demo",),
    "sdist_only": True,
    "no_index": True,
    "wheel_only": True,
    "config_settings": {"--build-option": ["--plat-name", "any"]},
}


@pytest.fixture
def sdist(tmp_path: Path) -> Path:
    path = tmp_path / "demo-1.0.tar.gz"
    path.write_bytes(make_sdist())
    return path


def _spec(source: Path, tmp_path: Path, **changes: object) -> BuildSpec:
    spec = BuildSpec(source=source, outdir=tmp_path / "out", cache_dir=tmp_path / "cache")
    return dataclasses.replace(spec, **changes)  # type: ignore[arg-type]


def _key(spec: BuildSpec, sandbox: Sandbox = NO_SANDBOX) -> str:
    return build_action(spec, ENVIRONMENT, sandbox).key


@pytest.mark.parametrize("knob", sorted(KNOBS))
def test_every_knob_changes_the_key(knob: str, sdist: Path, tmp_path: Path) -> None:
    base = _spec(sdist, tmp_path)
    assert _key(_spec(sdist, tmp_path, **{knob: KNOBS[knob]})) != _key(base)


def test_the_knobs_are_every_field_but_where_things_go(sdist: Path, tmp_path: Path) -> None:
    """A field added to BuildSpec must be listed here, as a knob or as not one."""
    fields = {f.name for f in dataclasses.fields(BuildSpec)}
    not_knobs = {"source", "outdir", "cache_dir", "python", "sandbox", "find_links"}
    assert fields - not_knobs <= set(KNOBS)


def test_the_input_the_sandbox_and_the_environment_change_the_key(
    sdist: Path, tmp_path: Path
) -> None:
    base = _spec(sdist, tmp_path)
    other = tmp_path / "other" / "demo-1.0.tar.gz"
    other.parent.mkdir()
    other.write_bytes(make_sdist(files={"demo/__init__.py": b"x = 1\n"}))
    assert _key(_spec(other, tmp_path)) != _key(base)
    limited = Sandbox(mode=SandboxMode.NONE, limits=Limits(wall_seconds=5))
    assert _key(base, limited) != _key(base)
    assert build_action(base, (), NO_SANDBOX).key != _key(base)


def test_where_the_outputs_go_and_the_label_do_not_change_the_key(
    sdist: Path, tmp_path: Path
) -> None:
    base = _spec(sdist, tmp_path)
    moved = _spec(sdist, tmp_path, outdir=tmp_path / "elsewhere", cache_dir=tmp_path / "c2")
    assert _key(moved) == _key(base)
    action = build_action(base, ENVIRONMENT, NO_SANDBOX)
    assert dataclasses.replace(action, label="another name").key == action.key
    copy = tmp_path / "copy" / sdist.name  # the same bytes elsewhere: the same build
    copy.parent.mkdir()
    copy.write_bytes(sdist.read_bytes())
    assert _key(_spec(copy, tmp_path)) == _key(base)


def test_a_folder_is_keyed_by_its_files(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "demo"\nversion = "1.0"\n')
    before = build_action(_spec(project, tmp_path), ENVIRONMENT, NO_SANDBOX)
    assert before.kind == "build" and "source" in before.inputs
    (project / "dist").mkdir()  # what a build never copies changes nothing
    (project / "dist" / "old.whl").write_bytes(b"old")
    assert _key(_spec(project, tmp_path)) == before.key
    (project / "demo.py").write_text("x = 1\n")
    assert _key(_spec(project, tmp_path)) != before.key


class Prepared:
    """A rebuilder that writes a prepared sdist, wheel and buildinfo record, and counts."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, spec: BuildSpec, *, progress: Progress | None = None) -> BuildResult:
        self.calls += 1
        spec.outdir.mkdir(parents=True, exist_ok=True)
        files = {"demo-1.0.tar.gz": make_sdist(), "demo-1.0-py3-none-any.whl": make_wheel()}
        paths, outputs = [], []
        for name, data in files.items():
            (spec.outdir / name).write_bytes(data)
            paths.append(spec.outdir / name)
            digest = hashlib.sha256(data).hexdigest()
            outputs.append(BuildOutput(filename=name, sha256=digest, size=len(data)))
        info = spec.outdir / "demo-1.0.buildinfo.json"
        info.write_text('{"command": "build"}\n')
        return BuildResult(
            outputs=tuple(outputs),
            paths=tuple(paths),
            buildinfo_path=info,
            buildinfo={"source_date_epoch": 1, "outputs": [o.filename for o in outputs]},
            resolved={("flit_core",): (PIN,)},
            contained=("it tried to write ~/.cache",),
        )


def _cached(tmp_path: Path, inner: Prepared, *, use_cache: bool = True) -> CachedRebuilder:
    return CachedRebuilder(
        caches=lambda: Caches.at(tmp_path / "cache" / "store"),
        rebuilder=inner,
        use_cache=use_cache,
    )


def test_a_build_is_found_again_with_the_same_result(sdist: Path, tmp_path: Path) -> None:
    inner = Prepared()
    spec = _spec(sdist, tmp_path, pins={"wheel": (PIN,)}, sandbox=NO_SANDBOX)
    said: list[str] = []
    first = _cached(tmp_path, inner)(spec, progress=said.append)
    assert first.action is not None and first.action.origin == "built"
    again = _cached(tmp_path, inner)(
        dataclasses.replace(spec, outdir=tmp_path / "again"), progress=said.append
    )
    assert inner.calls == 1
    assert again.action is not None and again.action.origin == "local"
    assert again.action.key == first.action.key
    assert any(line.startswith("found in the cache: ") for line in said)
    assert dataclasses.replace(again, action=None) == dataclasses.replace(
        first,
        action=None,
        paths=tuple(tmp_path / "again" / p.name for p in first.paths),
        buildinfo_path=tmp_path / "again" / first.buildinfo_path.name,
    )
    for path in [*first.paths, first.buildinfo_path]:
        assert (tmp_path / "again" / path.name).read_bytes() == path.read_bytes()
    assert not (tmp_path / "again" / RESULT_NAME).exists()


def test_no_cache_builds_again_and_keeps_the_new_build(sdist: Path, tmp_path: Path) -> None:
    inner = Prepared()
    spec = _spec(sdist, tmp_path, pins={"wheel": (PIN,)}, sandbox=NO_SANDBOX)
    _cached(tmp_path, inner)(spec)
    forced = _cached(tmp_path, inner, use_cache=False)(spec)
    assert inner.calls == 2 and forced.action is not None and forced.action.origin == "built"
    assert _cached(tmp_path, inner)(spec).action.origin == "local"  # type: ignore[union-attr]


def test_a_poisoned_entry_is_not_used(sdist: Path, tmp_path: Path) -> None:
    inner = Prepared()
    spec = _spec(sdist, tmp_path, pins={"wheel": (PIN,)}, sandbox=NO_SANDBOX)
    first = _cached(tmp_path, inner)(spec)
    assert first.action is not None
    wheel = first.action.outputs["demo-1.0-py3-none-any.whl"]
    blob = tmp_path / "cache" / "store" / "cas" / wheel[:2] / wheel
    blob.chmod(0o644)
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0x01
    blob.write_bytes(bytes(data))
    blob.chmod(0o444)
    warned: list[str] = []
    caches = Caches.at(tmp_path / "cache" / "store", warn=warned.append)
    again = CachedRebuilder(caches=lambda: caches, rebuilder=inner)(spec)
    assert inner.calls == 2 and again.action is not None and again.action.origin == "built"
    assert warned and "is not used" in warned[0]
