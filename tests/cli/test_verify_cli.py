"""``reprobuild verify``: usage errors and local files that need no build."""

from __future__ import annotations

import hashlib
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


def _index(root: Path) -> str:
    """A PEP 503 file index: ``demo`` 1.0 and 2.0, each an sdist and a compiled wheel (which
    are judged without a build)."""
    import hashlib

    anchors = []
    (root / "files").mkdir(parents=True)
    for version in ("1.0", "2.0"):
        tag = "cp311-cp311-manylinux_2_17_x86_64"
        files = {
            f"demo-{version}.tar.gz": make_sdist(version=version),
            f"demo-{version}-{tag}.whl": make_wheel(version=version, tag=tag),
        }
        for name, data in files.items():
            (root / "files" / name).write_bytes(data)
            digest = hashlib.sha256(data).hexdigest()
            anchors.append(f'<a href="../../files/{name}#sha256={digest}">{name}</a>')
    (root / "simple" / "demo").mkdir(parents=True)
    (root / "simple" / "demo" / "index.html").write_text("".join(anchors))
    return (root / "simple").as_uri()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_batch_keeps_going_records_every_attempt_and_keeps_the_order(
    jobs: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    releases = tmp_path / "releases.txt"
    releases.write_text("demo==2.0\ndemo==9.9  # not on the index\ndemo==1.0\n")
    db = tmp_path / "results.sqlite3"
    argv = ["verify", "-r", str(releases), "--jobs", jobs, "--format", "json"]
    argv += ["--index-url", _index(tmp_path / "idx"), "--cache-dir", str(tmp_path / "c")]
    code = main([*argv, "--db", str(db)])
    captured = capsys.readouterr()
    assert code == 2  # the missing release: bad input
    assert "error: demo==9.9" in captured.err and "no files" in captured.err
    doc = json.loads(captured.out)
    assert [r["version"] for r in doc["releases"]] == ["2.0", "1.0"]  # the file's order
    assert main(["results", "--db", str(db), "--format", "json"]) == 0
    attempts = json.loads(capsys.readouterr().out)["attempts"]
    assert sorted((a["version"], a["verdict"]) for a in attempts) == [
        ("1.0", "not-verifiable"),
        ("2.0", "not-verifiable"),
        ("9.9", "error"),
    ]
    assert next(a for a in attempts if a["verdict"] == "error")["filename"] == ""


def test_jobs_needs_a_file_of_releases(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "demo==1.0", "--jobs", "2", "--cache-dir", str(tmp_path)]) == 2
    assert "--jobs needs -r FILE" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["verify", "-r", "x", "--jobs", "0"])


def test_a_batch_as_one_html_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    releases = tmp_path / "releases.txt"
    releases.write_text("demo==2.0\ndemo==1.0\n")
    argv = ["verify", "-r", str(releases), "--format", "html", "--db", str(tmp_path / "r.db")]
    argv += ["--index-url", _index(tmp_path / "idx"), "--cache-dir", str(tmp_path / "c")]
    assert main(argv) == 1
    page = capsys.readouterr().out
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</html>\n")
    assert "2 not-verifiable" in page
    assert page.index("demo-2.0-cp311") < page.index("demo-1.0-cp311")


def test_source_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["verify", "--cache-dir", str(tmp_path)]
    assert main([*base, "--source", str(tmp_path / "absent")]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert main([*base, "--source", str(tmp_path)]) == 2
    assert "no pyproject.toml" in capsys.readouterr().err
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "demo"\ndynamic = ["version"]\n')
    assert main([*base, "--source", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "dynamic version" in err and "NAME==VERSION --source" in err
    (tmp_path / "list.txt").write_text("demo==1.0\n")
    assert main([*base, "-r", str(tmp_path / "list.txt"), "--source", str(tmp_path)]) == 2
    assert "does not go with -r" in capsys.readouterr().err


def test_compiled_wheels_are_judged_by_their_tags_without_a_download(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A release of compiled wheels only: nothing is downloaded (the sdist would serve no
    rebuild), and the text lists the wheels in one line."""
    index = _index(tmp_path / "idx")
    for name in ("demo-2.0-cp312-cp312-manylinux_2_17_x86_64.whl",):
        data = make_wheel(version="2.0", tag="cp312-cp312-manylinux_2_17_x86_64")
        (tmp_path / "idx" / "files" / name).write_bytes(data)
        page = tmp_path / "idx" / "simple" / "demo" / "index.html"
        digest = hashlib.sha256(data).hexdigest()
        page.write_text(
            page.read_text() + f'<a href="../../files/{name}#sha256={digest}">{name}</a>'
        )
    for path in (tmp_path / "idx" / "files").iterdir():
        if "2.0" in path.name:  # what the index lists stays, but no byte of it can be read
            path.write_bytes(b"")
    argv = ["verify", "demo==2.0", "--index-url", index, "--cache-dir", str(tmp_path / "c")]
    assert main([*argv, "--db", str(tmp_path / "r.sqlite3")]) == 1
    out = capsys.readouterr().out
    assert (
        "2 compiled wheels (demo-2.0-cp311-cp311-manylinux_2_17_x86_64.whl, …): not-verifiable"
        in out
    )
    assert "rebuilt from" not in out
