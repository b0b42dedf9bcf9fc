"""``reprobuild graph``'s command line: its help, and bad input refused before any build."""

from __future__ import annotations

from pathlib import Path

import pytest

from reprobuild.cli.main import main


def test_help_teaches_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["graph", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for word in ("--dry-run", "--remote-cache", "--dask", "--scheduler", "early cutoff"):
        assert word in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--remote-read-only"], "--remote-read-only needs --remote-cache"),
        (["--dask", "local", "--scheduler", "tcp://127.0.0.1:1"], "not both"),
        (["--remote-cache", "http://127.0.0.1:1/", "--remote-header", "no-equals"], "NAME=VALUE"),
    ],
)
def test_bad_options_are_refused_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    project = tmp_path / "p"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "1"\n')
    code = main(["graph", str(project), "--cache-dir", str(tmp_path / "cache"), *argv])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error:") and message in err
    assert "Traceback" not in err


def test_a_cycle_is_refused_with_exit_2_and_nothing_built(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, other in (("a", "b"), ("b", "a")):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "pyproject.toml").write_text(
            f'[build-system]\nrequires = ["{other}"]\nbuild-backend = "x"\n\n'
            f'[project]\nname = "{name}"\nversion = "1"\n'
        )
    code = main(["graph", str(tmp_path), "--cache-dir", str(tmp_path / "cache")])
    err = capsys.readouterr().err
    assert code == 2
    assert "cycle: a › b › a" in err
    assert not (tmp_path / "cache").exists()


def test_a_folder_with_no_project_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["graph", str(tmp_path), "--cache-dir", str(tmp_path / "cache")])
    assert code == 2
    assert "no project" in capsys.readouterr().err
