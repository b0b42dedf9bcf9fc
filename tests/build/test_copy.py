"""The copy of a source tree a build starts from: what is skipped, and what the digest covers."""

from __future__ import annotations

import os
from pathlib import Path

from reprobuild.build import _copy_tree


def _tree(root: Path, files: dict[str, bytes], mtime: int) -> Path:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    for path in [root, *root.rglob("*")]:
        os.utime(path, (mtime, mtime))
    return root


FILES = {
    "pyproject.toml": b"[project]\n",
    "src/pkg/__init__.py": b"",
    "tests/build/test_x.py": b"x",  # a folder called build below the top is source
    "build/lib/pkg/__init__.py": b"old",  # the top-level build folder is an output
    "dist/pkg-1.0.tar.gz": b"old",
    "src/pkg.egg-info/PKG-INFO": b"old",
    "src/pkg/__pycache__/x.pyc": b"old",
}


def test_outputs_and_caches_are_skipped(tmp_path: Path) -> None:
    source = _tree(tmp_path / "a", FILES, 1_800_000_000)
    _copy_tree(source, tmp_path / "copy", 1_600_000_000)
    copied = sorted(
        p.relative_to(tmp_path / "copy").as_posix()
        for p in (tmp_path / "copy").rglob("*")
        if p.is_file()
    )
    assert copied == ["pyproject.toml", "src/pkg/__init__.py", "tests/build/test_x.py"]
    assert {p.stat().st_mtime for p in (tmp_path / "copy").rglob("*")} == {1_600_000_000}


def test_digest_ignores_times_and_location_but_not_content(tmp_path: Path) -> None:
    one = _copy_tree(_tree(tmp_path / "a", FILES, 1_700_000_000), tmp_path / "c1", 1)
    two = _copy_tree(_tree(tmp_path / "b", FILES, 1_900_000_000), tmp_path / "c2", 2)
    assert one == two
    changed = _copy_tree(
        _tree(tmp_path / "d", {**FILES, "src/pkg/__init__.py": b"x"}, 1), tmp_path / "c3", 1
    )
    assert changed != one


def test_a_build_folder_others_may_write_to_is_refused(tmp_path: Path) -> None:
    import pytest

    from reprobuild.build import _locked_root
    from reprobuild.errors import UsageError

    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(UsageError, match="not this user's own"), _locked_root(shared):
        pass
    own = tmp_path / "own"
    with _locked_root(own) as work:
        assert work.is_dir()
    assert own.stat().st_mode & 0o777 == 0o700
    assert not (own / "work").exists()  # emptied after a build that succeeded
