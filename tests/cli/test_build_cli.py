"""``reprobuild build`` refusing what it cannot do well, before it builds anything."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reprobuild.errors import UsageError
from tests.factories import make_sdist


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reprobuild", "build", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )


def _record(folder: Path) -> Path:
    folder.mkdir()
    record = folder / "demo-1.0.buildinfo.json"
    record.write_text(json.dumps({"schema_version": 1, "command": "build"}))
    return record


def test_buildinfo_with_options_it_fixes_is_a_usage_error(tmp_path: Path) -> None:
    record = _record(tmp_path / "dist")
    for extra in (
        ["--source-date-epoch", "1"],
        ["--exclude-newer", "2024-01-01"],
        ["--no-normalize"],
    ):
        result = run(tmp_path, "--buildinfo", record, "-o", tmp_path / "out", *extra)
        assert result.returncode == 2, result.stderr
        assert "cannot be combined with --buildinfo" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_rebuild_never_overwrites_the_record_it_checks(tmp_path: Path) -> None:
    record = _record(tmp_path / "dist")
    result = run(tmp_path, "--buildinfo", record, "-o", tmp_path / "dist")
    assert result.returncode == 2
    assert "would overwrite it" in result.stderr
    assert json.loads(record.read_text()) == {"schema_version": 1, "command": "build"}


def test_the_input_sdist_is_never_replaced(tmp_path: Path) -> None:
    sdist = tmp_path / "demo-1.0.tar.gz"
    sdist.write_bytes(make_sdist())
    before = sdist.read_bytes()
    result = run(sdist, "-o", tmp_path)
    assert result.returncode == 2
    assert "would replace it" in result.stderr
    assert sdist.read_bytes() == before


def test_an_output_folder_that_is_a_file_is_refused_first(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
    )
    (tmp_path / "notes.txt").write_text("keep me\n")
    result = run(tmp_path, "-o", tmp_path / "notes.txt")
    assert result.returncode == 2
    assert "is a file" in result.stderr
    assert (tmp_path / "notes.txt").read_text() == "keep me\n"


def test_an_invalid_project_is_named_by_the_path_given(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[build-system\n")
    result = run(tmp_path, "-o", tmp_path / "out")
    assert result.returncode == 2
    assert str(tmp_path.resolve()) in result.stderr
    assert "reprobuild-build" not in result.stderr


def test_an_output_folder_that_cannot_be_made_is_refused_before_the_build(tmp_path: Path) -> None:
    sdist = tmp_path / "demo-1.0.tar.gz"
    sdist.write_bytes(make_sdist())
    (tmp_path / "a-file").write_text("")
    blocked = tmp_path / "a-file" / "out"
    result = run(sdist, "-o", blocked, "--cache-dir", tmp_path / "cache")
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {blocked}: cannot create the output folder")
    assert "\nhint: " in result.stderr and "reprobuild: " not in result.stderr  # nothing built
    result = run(sdist, "-o", tmp_path / "new" / "out", "--cache-dir", blocked)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {blocked}: cannot create the cache folder")
    assert not (tmp_path / "new").exists()  # the check leaves no folder behind


def test_a_wheel_is_not_something_to_build(tmp_path: Path) -> None:
    from tests.factories import make_wheel

    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    wheel.write_bytes(make_wheel())
    result = run(wheel)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {wheel}: a wheel, not an sdist or a project folder")
    assert "\nhint: " in result.stderr


def test_config_settings_are_read_as_pypa_build_reads_them() -> None:
    from reprobuild.cli.build import config_settings

    given = ["--build-option=--quiet", "key=a=b", "flag", "--build-option=--verbose"]
    assert config_settings(given) == {
        "--build-option": ["--quiet", "--verbose"],
        "key": "a=b",
        "flag": "",
    }
    assert config_settings([]) == {}


def test_the_kinds_and_settings_asked_for_reach_the_spec(tmp_path: Path) -> None:
    from reprobuild.cli.build import _spec
    from reprobuild.cli.main import build_parser

    (tmp_path / "pyproject.toml").write_text("[build-system]\nrequires = []\n")
    cache = ["--cache-dir", str(tmp_path / "cache"), "--sandbox", "none"]

    def spec_of(*argv: str) -> tuple[bool, bool, object]:
        args = build_parser("build").parse_args(["build", str(tmp_path), *cache, *argv])
        spec = _spec(args)
        return spec.sdist_only, spec.wheel_only, spec.config_settings

    assert spec_of() == (False, False, {})
    assert spec_of("--sdist") == (True, False, {})
    assert spec_of("-w") == (False, True, {})
    assert spec_of("--sdist", "--wheel") == (False, False, {})  # both: the default
    assert spec_of("-C--opt=1", "--config-setting", "k=v") == (
        False,
        False,
        {"--opt": "1", "k": "v"},
    )


def test_sdist_from_an_sdist_and_kinds_with_a_record_are_refused(tmp_path: Path) -> None:
    sdist = tmp_path / "demo-1.0.tar.gz"
    sdist.write_bytes(make_sdist())
    result = run(sdist, "--sdist", "-o", tmp_path / "out")
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {sdist}: an sdist, not a project folder")
    record = _record(tmp_path / "dist")
    for extra in (["--wheel"], ["--sdist"], ["-C", "k=v"]):
        result = run(tmp_path, "--buildinfo", record, "-o", tmp_path / "out", *extra)
        assert result.returncode == 2, result.stderr
        assert "cannot be combined with --buildinfo" in result.stderr
    result = run(tmp_path, "-C", "=v", "-o", tmp_path / "out")
    assert result.returncode == 2
    assert "names no key" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_record_replays_the_kinds_and_settings_it_names(tmp_path: Path) -> None:
    from reprobuild.cli.build import _replay
    from reprobuild.cli.main import build_parser

    (tmp_path / "pyproject.toml").write_text("[build-system]\nrequires = []\n")
    record = tmp_path / "kinds-1.0.buildinfo.json"
    doc = {
        "schema_version": 1,
        "command": "build",
        "source": {},
        "environments": {},
        "source_date_epoch": 1,
        "config_settings": {"k": ["a", "b"], "flag": ""},
        "outputs": [{"filename": "kinds-1.0-py3-none-any.whl", "sha256": "0" * 64, "size": 1}],
    }
    record.write_text(json.dumps(doc))
    args = build_parser("build").parse_args(
        ["build", str(tmp_path), "--cache-dir", str(tmp_path / "c"), "--sandbox", "none"]
    )
    from reprobuild.cli.build import _spec

    spec, _, _ = _replay(_spec(args), record)
    assert (spec.sdist_only, spec.wheel_only) == (False, True)
    assert spec.config_settings == {"k": ["a", "b"], "flag": ""}
    doc["config_settings"] = {"k": 3}
    record.write_text(json.dumps(doc))
    with pytest.raises(UsageError, match="config_settings is not an object"):
        _replay(_spec(args), record)
