"""``reprobuild vary`` refusing bad input with one error line and exit 2, before building."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reprobuild", "vary", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )


def _one_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    return errors[0]


def test_a_missing_folder(tmp_path: Path) -> None:
    line = _one_error(run(tmp_path / "nowhere"))
    assert "no such file or folder" in line


def test_a_folder_that_is_not_a_project(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello\n")
    line = _one_error(run(tmp_path))
    assert str(tmp_path) in line


def test_a_file_that_is_not_an_sdist(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello\n")
    line = _one_error(run(tmp_path / "notes.txt"))
    assert "not a project folder or an sdist" in line


def test_an_sdist_that_cannot_be_read(tmp_path: Path) -> None:
    (tmp_path / "demo-1.0.tar.gz").write_bytes(b"not a tarball")
    line = _one_error(run(tmp_path / "demo-1.0.tar.gz", "--only", "umask"))
    assert "demo-1.0.tar.gz: not an archive" in line
    assert "control build" not in line


def test_a_bad_release(tmp_path: Path) -> None:
    for text in ("==1.0", "demo==", "demo==1==2"):
        line = _one_error(run(text))
        assert "not NAME==VERSION" in line
    # refused before the index is asked: an unreachable one would end in exit 3
    index = (tmp_path / "no-index").as_uri()
    for text, message in (("a b==1", "not a project name: 'a b'"), ("demo==x y", "not a version")):
        proc = run(text, "--index-url", index, "--cache-dir", tmp_path)
        assert message in _one_error(proc) and "\nhint: " in proc.stderr


def test_a_keep_folder_that_cannot_be_made(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    blocked = tmp_path / "a-file" / "keep"
    proc = run(tmp_path, "--keep", blocked, "--cache-dir", tmp_path / "cache")
    line = _one_error(proc)
    assert line.startswith(f"error: {blocked}: cannot create the folder to keep the builds in")


def test_an_unknown_variation_and_bad_jobs(tmp_path: Path) -> None:
    line = _one_error(run(tmp_path, "--only", "umask,moon-phase"))
    assert "no variation called moon-phase" in line
    line = _one_error(run(tmp_path, "--jobs", "0"))
    assert "not a number of jobs" in line


def test_help_has_examples_and_exit_codes() -> None:
    proc = run("--help")
    assert proc.returncode == 0
    assert "examples:" in proc.stdout and "reprobuild vary demo==1.0" in proc.stdout
    assert "exit codes: 0 reproducible" in proc.stdout


def test_list_names_every_variation() -> None:
    proc = run("--list")
    assert proc.returncode == 0, proc.stderr
    names = [line.split()[0] for line in proc.stdout.splitlines()]
    assert names == [
        "clock",
        "build-path",
        "working-folder",
        "umask",
        "timezone",
        "locale",
        "hash-seed",
        "source-times",
        "file-order",
        "user-home",
        "hostname",
        "cpu-count",
        "environment",
    ]
