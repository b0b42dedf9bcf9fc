"""``reprobuild normalize`` as a user runs it: a real subprocess, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reprobuild import __version__
from tests.factories import make_sdist, make_wheel

WHL = "demo-1.0-py3-none-any.whl"
SDIST = "demo-1.0.tar.gz"


def run(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "reprobuild", "normalize", *map(str, args)],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    folder = tmp_path / "dist"
    folder.mkdir()
    (folder / WHL).write_bytes(make_wheel(mtime=(2030, 1, 1, 0, 0, 0), mode=0o664))
    (folder / SDIST).write_bytes(make_sdist(uid=1000, uname="alice", gzip_mtime=123))
    return folder


def test_output_dir_then_check(dist: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run(dist / WHL, dist / SDIST, "-o", out, "--source-date-epoch", "1700000000")
    assert result.returncode == 0, result.stderr
    assert "normalized" in result.stdout and "ownership" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == sorted([WHL, SDIST])
    check = run(*sorted(out.iterdir()), "--check", "--source-date-epoch", "1700000000")
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count(": canonical") == 2


def test_check_exits_1_and_writes_nothing(dist: Path) -> None:
    before = {p.name: p.read_bytes() for p in dist.iterdir()}
    result = run(*sorted(dist.iterdir()), "--check")
    assert result.returncode == 1
    assert "not canonical" in result.stdout
    assert {p.name: p.read_bytes() for p in dist.iterdir()} == before


def test_in_place_is_idempotent_and_keeps_mode(dist: Path) -> None:
    sdist = dist / SDIST
    sdist.chmod(0o640)
    assert run(sdist, "--in-place").returncode == 0
    once = sdist.read_bytes()
    assert sdist.stat().st_mode & 0o777 == 0o640
    again = run(sdist, "--in-place")
    assert again.returncode == 0 and ": canonical" in again.stdout
    assert sdist.read_bytes() == once
    assert [p.name for p in dist.iterdir() if p.name.startswith(".")] == []


def test_source_date_epoch_from_environment(dist: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    run(dist / SDIST, "-o", a, env={"SOURCE_DATE_EPOCH": "1700000000"})
    run(dist / SDIST, "-o", b, "--source-date-epoch", "1700000000")
    assert (a / SDIST).read_bytes() == (b / SDIST).read_bytes()
    bad = run(dist / SDIST, "--check", env={"SOURCE_DATE_EPOCH": "yesterday"})
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: SOURCE_DATE_EPOCH='yesterday'")


def test_json_document(dist: Path) -> None:
    result = run(dist / WHL, "--check", "--format", "json")
    assert result.returncode == 1
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == 1
    assert doc["tool"] == {"name": "reprobuild", "version": __version__}
    assert doc["command"] == "normalize"
    [entry] = doc["files"]
    assert entry["kind"] == "wheel" and entry["canonical"] is False and entry["written"] is False
    rules = {r["rule"]: r for r in entry["rules"]}
    assert rules["timestamps"]["count"] == len(rules["timestamps"]["members"]) == 4


def test_usage_errors_exit_2(dist: Path, tmp_path: Path) -> None:
    nowhere = run(dist / WHL)
    assert nowhere.returncode == 2 and "error: say where" in nowhere.stderr
    assert "hint: add -o DIR" in nowhere.stderr
    missing = run(tmp_path / "missing.whl", "--check")
    assert missing.returncode == 2
    assert missing.stderr.startswith(f"error: {tmp_path / 'missing.whl'}: cannot read")
    both = run(dist / WHL, "--check", "--in-place")
    assert both.returncode == 2 and "not allowed with" in both.stderr


def test_one_bad_file_does_not_stop_the_others(dist: Path, tmp_path: Path) -> None:
    (dist / "broken.whl").write_bytes(b"PK\x03\x04 not really")
    out = tmp_path / "out"
    result = run(dist / "broken.whl", dist / SDIST, "-o", out)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {dist / 'broken.whl'}")
    assert [p.name for p in out.iterdir()] == [SDIST]


def test_list_rules_and_help() -> None:
    rules = run("--list-rules")
    assert rules.returncode == 0
    names = [line.split()[0] for line in rules.stdout.splitlines()]
    assert names[:3] == ["member-order", "timestamps", "permissions"]
    helped = run("--help")
    assert helped.returncode == 0 and "SOURCE_DATE_EPOCH" in helped.stdout
    assert "examples:" in helped.stdout


def test_output_dir_that_is_the_files_own_folder_is_refused(dist: Path) -> None:
    before = (dist / SDIST).read_bytes()
    result = run(dist / SDIST, "-o", dist)
    assert result.returncode == 2
    assert "own folder" in result.stderr and "--in-place" in result.stderr
    assert (dist / SDIST).read_bytes() == before


def test_option_errors_are_one_error_line_and_a_hint() -> None:
    result = run("--format", "xml", "x.whl")
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: reprobuild normalize: argument --format: invalid choice")
    assert lines[1].startswith("hint: run 'reprobuild normalize --help'")
    assert len(lines) == 2


def test_a_missing_file_a_folder_and_a_blocked_output_each_get_a_hint(
    dist: Path, tmp_path: Path
) -> None:
    missing = run(tmp_path / "nosuch.whl", "--check")
    assert missing.returncode == 2
    assert missing.stderr.splitlines()[0] == f"error: {tmp_path / 'nosuch.whl'}: cannot read: " + (
        "no such file or folder"
    )
    assert missing.stderr.splitlines()[1].startswith("hint: ")
    folder = run(dist, "--check")
    assert folder.returncode == 2
    assert folder.stderr.startswith(f"error: {dist}: a folder, not an archive\nhint: ")
    (tmp_path / "a-file").write_text("")
    blocked = tmp_path / "a-file" / "out"
    refused = run(dist / WHL, "-o", blocked)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.startswith(f"error: {blocked}: cannot create the output folder")
    assert "\nhint: " in refused.stderr
