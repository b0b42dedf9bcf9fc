"""prepare_environment without the index: an environment with nothing to install, how it is
cached, when it is made again, and bad requirements."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from reprobuild.errors import BuildError, ProjectError
from reprobuild.frontend import Environment, installers, prepare_environment
from reprobuild.frontend.envdigest import scan_tree, tree_digest
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


def _site_packages(env: Environment) -> Path:
    (site,) = (env.path / "lib").glob("python*/site-packages")
    return site


def _remade(cache: Path) -> tuple[Environment, list[str]]:
    seen: list[str] = []
    return prepare_environment([], cache_dir=cache, progress=seen.append), seen


def test_the_record_is_kept_beside_the_environment(empty_env: Environment) -> None:
    record = empty_env.path.parent / f"{empty_env.key}{CONTENTS_SUFFIX}"
    document = json.loads(record.read_text(encoding="ascii"))
    assert document["key"] == empty_env.key
    assert document["digest"] == empty_env.digest
    assert tree_digest(scan_tree(empty_env.path)) == empty_env.digest
    # nothing in the folder a build sees vouches for it
    assert not any(
        empty_env.digest.encode() in path.read_bytes()
        for path in empty_env.path.rglob("*")
        if path.is_file() and not path.is_symlink()
    )


def test_a_planted_pth_is_found_and_the_environment_made_again(tmp_path: Path) -> None:
    first = prepare_environment([], cache_dir=tmp_path)
    planted = _site_packages(first) / "evil.pth"
    planted.write_text("import os; os.environ['PLANTED'] = '1'\n")
    # the threat is real: every Python of the environment runs it
    check = "import os; print(os.environ.get('PLANTED', '0'))"
    ran = subprocess.run([first.python, "-c", check], capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == "1"

    second, seen = _remade(tmp_path)
    where = planted.relative_to(first.path).as_posix()
    assert seen[0] == (
        f"warning: environment {first.key[:12]} was changed since it was made "
        f"(added {where}): making it again"
    )
    assert f"creating environment {first.key[:12]} with {first.installer}" in seen
    assert not planted.exists()
    assert second.digest == first.digest  # made again, it holds what it held
    ran = subprocess.run([second.python, "-c", check], capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == "0"
    third, seen = _remade(tmp_path)
    assert third == second
    assert seen == [f"reusing environment {first.key[:12]} (0 packages)"]


def _change_cfg(env: Environment) -> str:
    with (env.path / "pyvenv.cfg").open("a") as handle:
        handle.write("include-system-site-packages = true\n")
    return "changed pyvenv.cfg"


def _remove_script(env: Environment) -> str:
    (env.scripts / "activate").unlink()
    return "removed bin/activate"


def _chmod_site(env: Environment) -> str:
    site = _site_packages(env)
    site.chmod(0o777)
    return f"changed {site.relative_to(env.path).as_posix()}"


def _python_elsewhere(env: Environment) -> str:
    target = str(env.python.readlink())
    env.python.unlink()
    env.python.symlink_to(sys.executable if target != sys.executable else "/bin/sh")
    return "changed bin/python"


@pytest.mark.parametrize(
    "tamper",
    [_change_cfg, _remove_script, _chmod_site, _python_elsewhere],
    ids=lambda f: f.__name__,
)
def test_a_changed_environment_is_made_again(
    tmp_path: Path, tamper: Callable[[Environment], str]
) -> None:
    first = prepare_environment([], cache_dir=tmp_path)
    what = tamper(first)
    second, seen = _remade(tmp_path)
    assert seen[0] == (
        f"warning: environment {first.key[:12]} was changed since it was made ({what}): "
        "making it again"
    )
    assert second.digest == first.digest
    assert tree_digest(scan_tree(second.path)) == first.digest


@pytest.mark.parametrize("record", [None, b"{not json", b'{"key": "another"}', b"[]"])
def test_an_environment_without_a_sound_record_is_made_again(
    tmp_path: Path, record: bytes | None
) -> None:
    first = prepare_environment([], cache_dir=tmp_path)
    path = first.path.parent / f"{first.key}{CONTENTS_SUFFIX}"
    if record is None:  # as an environment made before records were kept
        path.unlink()
    else:
        path.write_bytes(record)
    second, seen = _remade(tmp_path)
    assert seen[0].startswith(f"warning: environment {first.key[:12]} has ")
    assert seen[0].endswith(": making it again")
    if record is None:
        assert "has no record of what it held when it was made" in seen[0]
    assert any(line.startswith("creating environment") for line in seen)
    assert second.digest == first.digest
    assert json.loads(path.read_bytes())["digest"] == second.digest


def test_a_record_with_a_wrong_digest_is_damaged(tmp_path: Path) -> None:
    first = prepare_environment([], cache_dir=tmp_path)
    path = first.path.parent / f"{first.key}{CONTENTS_SUFFIX}"
    document = json.loads(path.read_bytes())
    document["digest"] = "0" * 64
    path.write_text(json.dumps(document))
    second, seen = _remade(tmp_path)
    assert seen[0] == (
        f"warning: environment {first.key[:12]} has a damaged record of what it held "
        "(its digest is wrong): making it again"
    )
    assert second.digest == first.digest
