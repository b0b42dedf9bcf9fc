"""The sandbox options of the commands that build: refusal without a sandbox, the warning of
``--sandbox none``, and what the results say."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reprobuild.cli.main import main
from reprobuild.frontend import sandbox
from tests.build.hostile_projects import write_project


@pytest.fixture
def no_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine where neither bubblewrap nor Landlock can run (what the probes would find on
    one: this one has both)."""
    monkeypatch.setattr(sandbox, "_bwrap", lambda: (None, "user namespaces are not allowed"))
    monkeypatch.setattr(sandbox, "_landlock", lambda: (0, "the kernel does not offer Landlock"))


@pytest.mark.usefixtures("no_sandbox")
@pytest.mark.parametrize("command", ["build", "verify", "vary"])
def test_no_sandbox_is_refused_before_any_work(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_project(tmp_path / "project", "harmless")
    source = {"build": str(project), "verify": "demo==1.0", "vary": str(project)}[command]
    argv = [command, source, "--cache-dir", str(tmp_path / "cache")]
    if command == "build":
        argv += ["-o", str(tmp_path / "out")]
    if command == "verify":
        argv += ["--db", str(tmp_path / "results.sqlite3")]
    assert main(argv) == 3
    err = capsys.readouterr().err
    assert "error: no sandbox can run here" in err
    assert "--sandbox none" in err
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "cache" / "envs").exists()


@pytest.mark.usefixtures("no_sandbox")
def test_asking_for_a_sandbox_that_cannot_run_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_project(tmp_path / "project", "harmless")
    argv = ["build", str(project), "-o", str(tmp_path / "out"), "--sandbox", "bwrap"]
    assert main([*argv, "--cache-dir", str(tmp_path / "cache")]) == 3
    assert "user namespaces are not allowed" in capsys.readouterr().err


def test_sandbox_none_warns_and_is_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_project(tmp_path / "project", "harmless")
    argv = ["build", str(project), "-o", str(tmp_path / "out"), "--sandbox", "none"]
    assert main([*argv, "--cache-dir", str(tmp_path / "cache"), "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert "warning: --sandbox none: the build runs unsandboxed" in captured.err
    assert "read your files and secrets" in captured.err
    document = json.loads(captured.out)
    # no isolation, but the limits still hold, and the record says so
    assert document["sandbox"]["kind"] == "none"
    assert document["sandbox"]["limits"]["wall_seconds"] == 900
    (record,) = (tmp_path / "out").glob("*.buildinfo.json")
    assert json.loads(record.read_text())["sandbox"] == document["sandbox"]


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--memory-limit", "lots", "not a size"),
        ("--memory-limit", "0", "must be positive"),
        ("--memory-limit", "1e400G", "not a size"),
        ("--memory-limit", "nanG", "not a size"),
        ("--memory-limit", "512", "a number alone is bytes"),
        ("--output-limit", "1K", "below 1M"),
        ("--timeout", "-1", "must be a positive number"),
        ("--timeout", "inf", "must be a positive number"),
        ("--max-processes", "1.5", "not a whole number"),
        ("--max-processes", "99999999999999999999", "between 1 and"),
    ],
)
def test_bad_limits_are_usage_errors(
    option: str, value: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["build", str(tmp_path), option, value])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_limits_are_given_to_the_sandbox(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_project(tmp_path / "project", "harmless")
    argv = ["build", str(project), "-o", str(tmp_path / "out"), "--format", "json"]
    limits = ["--timeout", "60", "--memory-limit", "1G", "--max-processes", "64"]
    assert main([*argv, *limits, "--output-limit", "512M", "--cache-dir", str(tmp_path / "c")]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["sandbox"]["kind"] in {"bwrap", "landlock"}
    assert document["sandbox"]["limits"] == {
        "wall_seconds": 60,
        "memory": 1024**3,
        "processes": 64,
        "output": 512 * 1024**2,
    }
