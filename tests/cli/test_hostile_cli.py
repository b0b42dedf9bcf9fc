"""Hostile archives given to ``build`` and ``verify``: refused as bad input (exit 2) before
any work, with one ``error:`` line naming the member with its control characters escaped,
nothing written outside the test's folder, and nothing recorded; ``diff`` explains them.

``normalize`` meets every case in ``tests/test_hostile.py``; here are the cases about links,
names and depth, through the other commands. A local sdist is refused when it is read, before
its build requirements are asked for, so none of this needs the package index.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reprobuild.build import BUILD_ROOT
from reprobuild.cli.main import main
from reprobuild.present._chars import visible
from tests.factories import make_sdist, make_wheel
from tests.hostile import HOSTILE_CASES, HOSTILE_MEMBERS, SDIST_NAME, WHEEL_NAME

CASES = [
    "tar-symlink-chain-write",
    "tar-symlink-chain-read",
    "tar-symlink-later",
    "tar-name-escape",
    "tar-name-newline",
    "tar-deep-path",
    "zip-deep-path",
    "zip-record-newline",
]


def _tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture
def canary(tmp_path: Path) -> Path:
    folder = tmp_path / "canary"
    folder.mkdir()
    (folder / "secret").write_text("do not touch\n")
    return folder


def _setup(case: str, tmp_path: Path) -> tuple[Path, Path]:
    """(the hostile file, a benign file of the other kind of the same release)."""
    name, data = HOSTILE_CASES[case]()
    inputs = tmp_path / "in"
    inputs.mkdir()
    hostile = inputs / name
    hostile.write_bytes(data)
    if name == SDIST_NAME:
        other = inputs / WHEEL_NAME
        other.write_bytes(make_wheel("evil"))
    else:
        other = inputs / SDIST_NAME
        other.write_bytes(make_sdist("evil"))
    return hostile, other


def _refused(code: int, err: str, case: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err and "internal error" not in err, err
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, err
    assert visible(HOSTILE_MEMBERS[case]) in errors[0], err
    assert not any(c in err for c in "\x1b\r\u202e"), err  # nothing raw reaches the terminal


def _untouched(tmp_path: Path, canary: Path, before: list[str]) -> None:
    assert _tree(tmp_path) == before
    assert (canary / "secret").read_text() == "do not touch\n"
    for above in (BUILD_ROOT.parent, BUILD_ROOT):  # where the chain would have led
        assert not (above / "PWNED").exists()


@pytest.mark.parametrize("case", CASES)
def test_diff_shows_the_archive_as_not_comparable_with_names_escaped(
    case: str, tmp_path: Path, canary: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """diff reads, never unpacks: a hostile archive is a difference it explains (exit 1), as
    every comparator does with odd input, and a forged line or a terminal escape in a name
    never reaches the output raw."""
    hostile, _ = _setup(case, tmp_path)
    benign = tmp_path / "benign" / hostile.name
    benign.parent.mkdir()
    benign.write_bytes(make_sdist("evil") if hostile.name == SDIST_NAME else make_wheel("evil"))
    before = _tree(tmp_path)
    code = main(["diff", str(hostile), str(benign)])
    captured = capsys.readouterr()
    assert code == 1, captured.err
    assert captured.err == ""
    assert not any(c in captured.out for c in "\x1b\r\u202e"), captured.out
    assert not any(line.lstrip().startswith("# error:") for line in captured.out.splitlines())
    _untouched(tmp_path, canary, before)


@pytest.mark.parametrize("case", [c for c in CASES if c.startswith("tar-")])
def test_build_of_a_local_sdist_refuses(
    case: str, tmp_path: Path, canary: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile, _ = _setup(case, tmp_path)
    out = tmp_path / "out"
    before = _tree(tmp_path)
    code = main(["build", str(hostile), "-o", str(out), "--cache-dir", str(tmp_path / "c")])
    _refused(code, capsys.readouterr().err, case)
    _untouched(tmp_path, canary, before)


@pytest.mark.parametrize("case", CASES)
def test_verify_of_local_files_refuses_and_records_nothing(
    case: str, tmp_path: Path, canary: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile, other = _setup(case, tmp_path)
    wheel, sdist = (other, hostile) if hostile.name == SDIST_NAME else (hostile, other)
    db = tmp_path / "results.sqlite3"
    before = _tree(tmp_path)
    argv = ["verify", "--wheel", str(wheel), "--sdist", str(sdist), "--db", str(db)]
    code = main([*argv, "--cache-dir", str(tmp_path / "c")])
    _refused(code, capsys.readouterr().err, case)
    assert not db.exists()
    _untouched(tmp_path, canary, before)
