"""``reprobuild verify``: usage errors and local files that need no build."""

from __future__ import annotations

from pathlib import Path

import pytest

from reprobuild.cli.main import main
from tests.factories import make_sdist, make_wheel


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "nothing to verify"),
        (["ipython"], "not NAME==VERSION"),
        (["ipython==1", "--sdist", "x.tar.gz"], "not several"),
        (["--wheel", "x.whl"], "go together"),
        (["--wheel", "absent.whl", "--sdist", "absent.tar.gz"], "no such file"),
    ],
)
def test_usage_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["verify", "--cache-dir", str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err


def test_a_compiled_wheel_is_not_verifiable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = tmp_path / "demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl"
    wheel.write_bytes(make_wheel(tag="cp311-cp311-manylinux_2_17_x86_64"))
    sdist = tmp_path / "demo-1.0.tar.gz"
    sdist.write_bytes(make_sdist())
    code = main(
        [
            "verify",
            "--cache-dir",
            str(tmp_path),
            "--wheel",
            str(wheel),
            "--sdist",
            str(sdist),
            "--format",
            "json",
        ]
    )
    assert code == 1
    import json

    doc = json.loads(capsys.readouterr().out)
    (artifact,) = doc["artifacts"]
    assert artifact["verdict"] == "not-verifiable"
    assert "compiled" in artifact["cause"]
    assert doc["schema_version"] == 1 and doc["command"] == "verify"
