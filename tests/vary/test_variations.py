"""Each variation moves the control's spec and nothing else, and says when it cannot run."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from reprobuild.build import BuildSpec, controlled_environment
from reprobuild.vary import control_spec, default_variations, select
from reprobuild.vary.variations import EXPERIMENT_HOST, EXPERIMENT_USER, Variation


def _control(tmp_path: Path) -> BuildSpec:
    return control_spec(
        tmp_path / "project", outdir=tmp_path / "out", cache_dir=tmp_path / "cache", clock=10**9
    )


def _fields(spec: BuildSpec) -> dict[str, object]:
    return {f.name: getattr(spec, f.name) for f in dataclasses.fields(spec)}


def test_the_control_is_a_maintainers_build_under_a_fixed_clock(tmp_path: Path) -> None:
    spec = _control(tmp_path)
    assert spec.normalize is False
    assert spec.export_source_date_epoch is False
    assert spec.build_clock == spec.sdist_clock == 10**9
    assert spec.source_date_epoch == 10**9 - 86400  # the sources were written a day before
    env = controlled_environment(spec, 0, tmp_path / "home")
    assert "SOURCE_DATE_EPOCH" not in env
    given = control_spec(
        tmp_path, outdir=tmp_path, cache_dir=tmp_path, clock=10**9, source_date_epoch=5
    )
    assert given.export_source_date_epoch and given.source_date_epoch == 5


def test_every_variation_changes_the_spec_and_is_pure(tmp_path: Path) -> None:
    control = _control(tmp_path)
    before = _fields(control)
    changed = {}
    for variation in default_variations():
        varied = variation.apply(control)
        assert _fields(control) == before, f"{variation.name} changed the control"
        diff = {k for k, v in _fields(varied).items() if before[k] != v}
        assert diff, f"{variation.name} changes nothing"
        assert variation.apply(control) == varied, f"{variation.name} is not a pure function"
        changed[variation.name] = diff
    assert changed["clock"] >= {"build_clock", "sdist_clock"}
    assert changed["build-path"] == {"build_root"}
    assert changed["umask"] == {"umask"}
    assert changed["hash-seed"] == {"hash_seed"}
    assert changed["timezone"] == {"timezone"}
    assert changed["source-times"] == {"source_time_offset"}
    assert changed["file-order"] == {"creation_order"}
    assert changed["user-home"] == {"home_folder", "extra_env"}
    assert changed["hostname"] == {"hostname"}
    assert changed["cpu-count"] == {"wrapper"}


def test_all_variations_compose(tmp_path: Path) -> None:
    spec = _control(tmp_path)
    for variation in default_variations():
        spec = variation.apply(spec)
    env = controlled_environment(spec, 0, tmp_path / spec.home_folder)
    assert env["USER"] == EXPERIMENT_USER
    assert env["PYTHONHASHSEED"] == "2"
    assert env["TMPDIR"].startswith(str(tmp_path / spec.home_folder))
    assert spec.hostname == EXPERIMENT_HOST
    assert "--cpu-list" in spec.wrapper


def test_names_are_unique_and_every_one_is_described() -> None:
    variations = default_variations()
    names = [v.name for v in variations]
    assert len(names) == len(set(names)) == 13
    assert all(v.description for v in variations)
    for variation in variations:
        reason = variation.available()
        assert reason is None or reason.strip()


def test_a_variation_that_cannot_run_says_why() -> None:
    variation = Variation(
        name="x", description="y", change=lambda s: s, probe=lambda: "not installed"
    )
    assert variation.available() == "not installed"


def test_select_by_name() -> None:
    variations = default_variations()
    assert [v.name for v in select(variations, only=["umask", "clock"])] == ["clock", "umask"]
    assert "umask" not in [v.name for v in select(variations, skip=["umask"])]
    with pytest.raises(ValueError, match="no variation called nope"):
        select(variations, only=["nope"])
