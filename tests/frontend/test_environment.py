"""prepare_environment without the index: an environment with nothing to install, how it is
cached, when it is made again, and bad requirements."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from reprobuild.errors import BuildError, ProjectError
from reprobuild.frontend import Environment, installers, prepare_environment
from reprobuild.frontend.environment import CONTENTS_SUFFIX, MARKER, PINS_FILE, _retarget


def test_empty_environment(empty_env: Environment, cache_dir: Path) -> None:
    assert empty_env.path == cache_dir / "envs" / empty_env.key
    assert empty_env.python.exists()
    assert empty_env.pinned == ()
    assert empty_env.installer in {"uv", "pip"}
    marker = json.loads((empty_env.path / MARKER).read_text())
    assert marker["key"] == empty_env.key
    assert marker["installer"] == empty_env.installer
    assert (empty_env.path / PINS_FILE).read_text() == ""
    # no temporary folder is left beside it
    assert [p.name for p in (cache_dir / "envs").iterdir() if p.name.startswith(".")] == []


def test_reused_without_running_an_installer(empty_env: Environment, cache_dir: Path) -> None:
    before = (empty_env.path / MARKER).stat()
    seen: list[str] = []
    again = prepare_environment([], cache_dir=cache_dir, progress=seen.append)
    assert again == empty_env
    assert seen == [f"reusing environment {empty_env.key[:12]} (0 packages)"]
    after = (empty_env.path / MARKER).stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_incomplete_environment_is_made_again(tmp_path: Path) -> None:
    first = prepare_environment([], cache_dir=tmp_path)
    (first.path / MARKER).unlink()  # as if the process had died before the marker
    (first.path / "leftover").write_text("from the crashed install")
    seen: list[str] = []
    second = prepare_environment([], cache_dir=tmp_path, progress=seen.append)
    assert second.key == first.key
    assert any(line.startswith("creating environment") for line in seen)
    assert (second.path / MARKER).exists()
    assert not (second.path / "leftover").exists()


def test_stale_temporary_folders_are_removed(tmp_path: Path) -> None:
    envs = tmp_path / "envs"
    stale = envs / ".tmp-0123456789abcdef-deadbeef"
    fresh = envs / ".tmp-fedcba9876543210-cafebabe"
    for folder in (stale, fresh):
        (folder / "bin").mkdir(parents=True)
    old = time.time() - 3 * 24 * 3600
    os.utime(stale, (old, old))
    prepare_environment([], cache_dir=tmp_path)
    assert not stale.exists()
    assert fresh.exists()  # another process may still be installing there


def test_an_environment_another_process_is_making_is_waited_for(tmp_path: Path) -> None:
    import fcntl
    import shutil
    import threading

    made = prepare_environment([], cache_dir=tmp_path / "elsewhere")
    cache = tmp_path / "cache"
    (cache / "locks").mkdir(parents=True)
    seen: list[str] = []
    with (cache / "locks" / f"env-{made.key}").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # as the process making it holds it
        waiting = threading.Thread(
            target=lambda: prepare_environment([], cache_dir=cache, progress=seen.append)
        )
        waiting.start()
        shutil.copytree(made.path, cache / "envs" / made.key, symlinks=True)
        record = f"{made.key}{CONTENTS_SUFFIX}"
        shutil.copyfile(made.path.parent / record, cache / "envs" / record)
    waiting.join()
    assert not any(line.startswith("creating") for line in seen), seen
    assert seen[-1].startswith(f"reusing environment {made.key[:12]}")


def test_pip_installer_without_the_index(tmp_path: Path) -> None:
    env = prepare_environment([], cache_dir=tmp_path, installer="pip")
    assert env.installer == "pip"
    assert env.python.exists()


def test_invalid_requirement(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="is not a valid requirement"):
        prepare_environment(["hatchling >= = 1"], cache_dir=tmp_path)
    assert not (tmp_path / "envs").exists() or list((tmp_path / "envs").iterdir()) == []


def test_retarget_rewrites_scripts_but_not_binaries(tmp_path: Path) -> None:
    staging = tmp_path / ".tmp-x"
    final = tmp_path / "final"
    scripts = staging / "bin"
    scripts.mkdir(parents=True)
    (scripts / "tool").write_text(f"#!{staging}/bin/python\nimport tool\n")
    (scripts / "tool").chmod(0o755)
    (scripts / "activate").write_text(f'VIRTUAL_ENV="{staging}"\n')
    binary = b"\x7fELF" + os.fsencode(staging) + b"\x00"
    (scripts / "native").write_bytes(binary)
    (staging / "pyvenv.cfg").write_text(f"home = /usr/bin\ncommand = python -m venv {staging}\n")
    _retarget(staging, final)
    assert (scripts / "tool").read_text() == f"#!{final}/bin/python\nimport tool\n"
    assert (scripts / "tool").stat().st_mode & 0o777 == 0o755
    assert (scripts / "activate").read_text() == f'VIRTUAL_ENV="{final}"\n'
    assert (scripts / "native").read_bytes() == binary
    assert str(final) in (staging / "pyvenv.cfg").read_text()


def test_without_uv_pip_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(installers, "find_uv", lambda: None)
    env = prepare_environment([], cache_dir=tmp_path)
    assert env.installer == "pip"
    with pytest.raises(BuildError, match="uv is not available"):
        prepare_environment([], cache_dir=tmp_path / "other", installer="uv")


def test_find_uv(monkeypatch: pytest.MonkeyPatch) -> None:
    installers.find_uv.cache_clear()
    try:
        assert installers.find_uv() is not None  # a dependency of reprobuild
        installers.find_uv.cache_clear()
        monkeypatch.setitem(sys.modules, "uv", None)  # as if it were not installed
        assert installers.find_uv() is None
    finally:
        installers.find_uv.cache_clear()
