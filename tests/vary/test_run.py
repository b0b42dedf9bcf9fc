"""The orchestration of ``vary`` with a builder that makes archives from the spec alone: the
control twice, the experiment, the halving, the report in its three forms."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from reprobuild._fs import sha256_hex
from reprobuild.build import BuildSpec
from reprobuild.frontend import PinnedRequirement
from reprobuild.vary import (
    Builder,
    BuildRun,
    Resolver,
    Variation,
    VaryReport,
    default_variations,
    render_html,
    render_json,
    render_text,
    vary,
)
from tests.factories import make_sdist, make_wheel


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
    )
    return project


PINS: dict[tuple[str, ...], tuple[PinnedRequirement, ...]] = {
    ("demo-backend",): (PinnedRequirement(name="demo-backend", version="1.0", hashes=()),)
}


def fake_builder(
    random: bool = False, path: bool = False, fails_in: str = ""
) -> tuple[Builder, list[BuildSpec]]:
    """Archives as a backend would make them: the wheel's modes follow the umask, the
    sdist's gzip header the clock; ``random``: the wheel holds a counter; ``path``: the wheel
    holds the folder it was built in; ``fails_in``: builds in a folder of that name fail."""
    seen: list[BuildSpec] = []

    def run(batch: Sequence[tuple[str, tuple[str, ...], BuildSpec]]) -> list[BuildRun]:
        out = []
        for label, names, spec in batch:
            seen.append(spec)
            if spec.build_root.name == fails_in:
                out.append(BuildRun(label=label, variations=names, error="no room"))
                continue
            spec.outdir.mkdir(parents=True)
            sdist = spec.outdir / "demo-1.0.tar.gz"
            sdist.write_bytes(make_sdist(gzip_mtime=spec.sdist_clock or 0))
            wheel = spec.outdir / "demo-1.0-py3-none-any.whl"
            body = f"N = {len(seen)}\n" if random else "N = 0\n"
            if path:
                body += f"HERE = {str(spec.build_root)!r}\n"
            wheel.write_bytes(
                make_wheel(files={"demo/n.py": body.encode()}, mode=0o666 & ~spec.umask)
            )
            out.append(
                BuildRun(
                    label=label,
                    variations=names,
                    artifacts={"sdist": sdist, "wheel": wheel},
                    digests={
                        k: sha256_hex(p.read_bytes())
                        for k, p in (("sdist", sdist), ("wheel", wheel))
                    },
                    resolved=PINS,
                )
            )
        return out

    return run, seen


def _vary(
    tmp_path: Path,
    builder: Builder,
    *,
    variations: Sequence[Variation] | None = None,
    jobs: int = 1,
    resolver: Resolver | None = None,
) -> VaryReport:
    """:func:`vary` of the test project, the clock fixed; every variation unless told."""
    return vary(
        _project(tmp_path),
        cache_dir=tmp_path / "cache",
        workdir=tmp_path / "work",
        variations=default_variations() if variations is None else variations,
        builder=builder,
        jobs=jobs,
        clock=1_700_000_000,
        resolver=resolver,
    )


@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_culprits_are_named_per_artifact(tmp_path: Path, jobs: int) -> None:
    builder, seen = fake_builder()
    report = _vary(tmp_path, builder=builder, jobs=jobs)
    assert not report.reproducible
    findings = {f.kind: f for f in report.artifacts}
    assert findings["sdist"].culprits == (("clock",),)
    assert findings["wheel"].culprits == (("umask",),)
    assert "SOURCE_DATE_EPOCH" in findings["sdist"].fixes[0]
    assert "umask" in findings["wheel"].fixes[0]
    assert len(report.builds) == len(seen) < 3 + 13  # fewer than one build per variation

    text = render_text(report)
    assert "culprit: clock" in text and "culprit: umask" in text
    assert text.rstrip().splitlines()[-1].startswith("not reproducible: sdist: clock; wheel: umask")
    doc = render_json(report)
    again = json.loads(json.dumps(doc))
    assert again["schema_version"] == 1 and again["command"] == "vary"
    assert [a["culprits"] for a in again["artifacts"]] == [[["clock"]], [["umask"]]]
    page = render_html(report)
    assert page.startswith("<!DOCTYPE html>") and "umask" in page
    assert "http://" not in page and "https://" not in page and "<script" not in page


def test_reproducible_in_two_builds(tmp_path: Path) -> None:
    builder, seen = fake_builder()
    report = _vary(
        tmp_path,
        variations=[v for v in default_variations() if v.name not in ("clock", "umask")],
        builder=builder,
    )
    assert report.reproducible
    assert len(seen) == 2
    assert "reproducible under" in render_text(report)


def test_random_on_its_own_is_not_blamed_on_a_variation(tmp_path: Path) -> None:
    builder, _ = fake_builder(random=True)
    report = _vary(
        tmp_path, variations=[v for v in default_variations() if v.name != "clock"], builder=builder
    )
    wheel = {f.kind: f for f in report.artifacts}["wheel"]
    assert wheel.verdict == "random"
    assert wheel.culprits == ()
    assert "demo/n.py" in wheel.fixes[0]


def test_no_variation_that_can_run_is_refused(tmp_path: Path) -> None:
    from reprobuild.errors import UsageError
    from reprobuild.vary import Variation

    builder, seen = fake_builder()
    nothing = Variation(name="x", description="y", change=lambda s: s, probe=lambda: "no")
    with pytest.raises(UsageError, match="none of the variations"):
        vary(
            _project(tmp_path),
            cache_dir=tmp_path / "cache",
            workdir=tmp_path / "work",
            variations=[nothing],
            builder=builder,
        )
    assert seen == []


def test_builds_in_a_second_folder_are_compared_with_its_control(tmp_path: Path) -> None:
    # the wheel holds the folder it was built in: compared with the first folder's control,
    # every build of the second would seem changed by whatever variations it had
    builder, seen = fake_builder(path=True)
    report = _vary(tmp_path, builder=builder, jobs=2)
    findings = {f.kind: f for f in report.artifacts}
    assert findings["wheel"].culprits == (("build-path",), ("umask",))
    assert findings["sdist"].culprits == (("clock",),)
    folders = {spec.build_root.name for spec in seen}
    assert "reprobuild-vary-2" in folders
    labels = [b.label for b in report.builds]
    assert "control (in reprobuild-vary-2)" in labels
    assert any(label.endswith("(in reprobuild-vary-2)") for label in labels if "with" in label)
    assert "embeds the build path in demo/n.py" in "\n".join(findings["wheel"].fixes)
    # the first builds' pins are installed by the later ones
    assert seen[0].resolved == {} and all(spec.resolved == PINS for spec in seen[2:])


def test_a_second_folder_whose_control_fails_is_left(tmp_path: Path) -> None:
    # with 3 jobs, the second folder's control is built beside the control and the experiment
    builder, seen = fake_builder(fails_in="reprobuild-vary-2")
    report = _vary(tmp_path, builder=builder, jobs=3)
    findings = {f.kind: f for f in report.artifacts}
    assert findings["sdist"].culprits == (("clock",),)
    assert findings["wheel"].culprits == (("umask",),)
    failed = [b.label for b in report.builds if b.error]
    assert failed == ["control (in reprobuild-vary-2)"]
    assert [s.build_root.name for s in seen].count("reprobuild-vary-2") == 1


def test_builds_meant_for_a_folder_whose_control_failed_are_made_in_another(
    tmp_path: Path,
) -> None:
    builder, _ = fake_builder(path=True, fails_in="reprobuild-vary-2")
    report = _vary(tmp_path, builder=builder, jobs=2)
    findings = {f.kind: f for f in report.artifacts}
    assert findings["wheel"].culprits == (("build-path",), ("umask",))
    assert findings["sdist"].culprits == (("clock",),)
    failed = [b for b in report.builds if b.error]
    assert "control (in reprobuild-vary-2)" in [b.label for b in failed]
    assert len(failed) > 1  # builds were placed there beside its control
    for build in failed[1:]:  # and made again in the first folder
        assert [b for b in report.builds if b.variations == build.variations and not b.error]


def test_the_parallel_builder_returns_each_build_in_the_order_asked(tmp_path: Path) -> None:
    from reprobuild.vary import parallel_builder

    builder, close = parallel_builder(2)
    try:
        batch = [
            (
                f"build {i}",
                (),
                BuildSpec(
                    source=tmp_path / f"missing-{i}",  # fails at once, in the worker
                    outdir=tmp_path / f"out-{i}",
                    cache_dir=tmp_path / "cache",
                    build_root=tmp_path / ("one" if i % 3 else "two"),
                ),
            )
            for i in range(5)
        ]
        runs = builder(batch)
    finally:
        close()
    assert [run.label for run in runs] == [f"build {i}" for i in range(5)]
    assert all("no such file or folder" in run.error for run in runs)


def test_the_build_requirements_are_resolved_once_for_every_build(tmp_path: Path) -> None:
    builder, seen = fake_builder()
    asked: list[tuple[str, ...]] = []
    pins = (PinnedRequirement(name="hatchling", version="1.0", hashes=()),)

    def resolver(requirements: Sequence[str]) -> tuple[PinnedRequirement, ...]:
        asked.append(tuple(requirements))
        return pins

    _vary(tmp_path, builder=builder, jobs=2, resolver=resolver)
    assert asked == [("hatchling",)]
    assert all(spec.resolved[("hatchling",)] == pins for spec in seen)
