"""``reprobuild build`` refusing what it cannot do well, before it builds anything."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
