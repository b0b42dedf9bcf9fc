"""``reprobuild verify``: usage errors and local files that need no build."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from reprobuild.cli.main import main
from reprobuild.rebuild import Verification
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
    assert {a["origin"] for a in attempts} == {"index"}
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


def _blocked(tmp_path: Path) -> Path:
    """A path no one can create: a file stands where its folder should be."""
    (tmp_path / "a-file").write_text("")
    return tmp_path / "a-file" / "sub"


@pytest.mark.parametrize(
    ("release", "message"),
    [
        ("a b==1", "not a project name: 'a b'"),
        ("demo_==1", "not a project name"),
        ("requests==2.31.0==1", "more than one '=='"),
        ("demo==x y", "not a version: 'x y'"),
    ],
)
def test_a_bad_release_is_refused_before_the_index_is_asked(
    release: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "r.sqlite3"
    # an index that cannot be reached: asking it would end in exit 3
    argv = ["verify", release, "--db", str(db), "--cache-dir", str(tmp_path / "c")]
    assert main([*argv, "--index-url", (tmp_path / "no-index").as_uri()]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("error: ") and message in err[0]
    assert err[1].startswith("hint: ") and len(err) == 2
    assert not db.exists()


def _local(tmp_path: Path, wheel: str, data: bytes, sdist: str = "demo-1.0.tar.gz") -> list[str]:
    (tmp_path / wheel).write_bytes(data)
    (tmp_path / sdist).write_bytes(make_sdist())
    return ["--wheel", str(tmp_path / wheel), "--sdist", str(tmp_path / sdist)]


@pytest.mark.parametrize(
    "data",
    [make_wheel(tag="cp311-cp311-manylinux_2_17_x86_64")[:200], b"a text file\n"],
    ids=["truncated", "text"],
)
def test_a_local_wheel_that_does_not_read_is_bad_input_and_not_recorded(
    data: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "r.sqlite3"
    # a compiled wheel's name: the file is read before its name decides anything
    files = _local(tmp_path, "demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", data)
    assert main(["verify", *files, "--db", str(db), "--cache-dir", str(tmp_path / "c")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.splitlines()
    assert err[0].startswith(f"error: {files[1]}: ") and "not-verifiable" not in err[0]
    assert err[1].startswith("hint: ")
    assert not db.exists()


def test_a_local_sdist_that_does_not_read_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = _local(tmp_path, "demo-1.0-py3-none-any.whl", make_wheel())
    Path(files[3]).write_bytes(make_sdist()[:100])
    assert main(["verify", *files, "--db", str(tmp_path / "r.db")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {files[3]} › (gzip stream): ") and "\nhint: " in err


@pytest.mark.parametrize(
    ("wheel", "sdist"),
    [
        ("attrs-23.2.0-py3-none-any.whl", "attrs-23.1.0.tar.gz"),
        ("other-1.0-py3-none-any.whl", "demo-1.0.tar.gz"),
    ],
)
def test_a_wheel_and_an_sdist_of_two_releases_are_refused(
    wheel: str, sdist: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "r.sqlite3"
    files = _local(tmp_path, wheel, make_wheel(), sdist)
    assert main(["verify", *files, "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "not one release" in err and "hint: " in err
    assert not db.exists()


def test_local_names_and_versions_are_compared_as_packaging_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    db = tmp_path / "r.sqlite3"
    tag = "cp311-cp311-manylinux_2_17_x86_64"
    files = _local(tmp_path, f"Demo-1.0.0-{tag}.whl", make_wheel(tag=tag))
    assert main(["verify", *files, "--db", str(db), "--cache-dir", str(tmp_path / "c")]) == 1
    assert "not-verifiable" in capsys.readouterr().out
    # the attempt says it came from local files, in every form of the results
    assert main(["results", "--db", str(db), "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["attempts"]
    assert row["origin"] == "local" and row["name"] == "demo" and row["version"] == "1.0"
    assert main(["results", "--db", str(db)]) == 0
    assert "demo==1.0 (local)" in capsys.readouterr().out
    assert main(["results", "--db", str(db), "--format", "csv"]) == 0
    header, line = capsys.readouterr().out.splitlines()
    # a compiled wheel is not rebuilt: no sandbox is recorded for it
    assert header.endswith(",origin,sandbox") and line.endswith(",local,")


def test_usage_errors_are_not_recorded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "r.sqlite3"
    (tmp_path / "folder").mkdir()
    for argv in (
        ["--wheel", "x.whl"],
        ["--wheel", str(tmp_path / "x.whl"), "--sdist", str(tmp_path / "folder")],
    ):
        assert main(["verify", *argv, "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "go together" in err and "folder: a folder, not a file" in err
    assert not db.exists()


def test_where_results_go_is_checked_before_the_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocked = _blocked(tmp_path)
    tag = "cp311-cp311-manylinux_2_17_x86_64"
    files = _local(tmp_path, f"demo-1.0-{tag}.whl", make_wheel(tag=tag))
    cache = ["--cache-dir", str(tmp_path / "c")]
    assert main(["verify", *files, *cache, "--db", str(blocked / "r.sqlite3")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # no verdict printed, then lost
    assert captured.err.startswith(f"error: {blocked / 'r.sqlite3'}: cannot open")
    assert "hint: " in captured.err
    db = ["--db", str(tmp_path / "r.sqlite3")]
    assert main(["verify", *files, *db, "--cache-dir", str(blocked)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {blocked}: cannot create the cache folder") and "hint: " in err


def test_a_releases_file_that_does_not_read_or_has_a_bad_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listing = tmp_path / "releases.txt"
    assert main(["verify", "-r", str(listing), "--cache-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"error: {listing}: cannot read: no such file or folder"
    assert err[1].startswith("hint: ")
    listing.write_text("demo==1.0\n\n# a comment\nbad line here\n")
    assert main(["verify", "-r", str(listing), "--cache-dir", str(tmp_path)]) == 2
    assert f"error: {listing}:4: not NAME==VERSION: 'bad line here'" in capsys.readouterr().err


def _different(files_b: dict[str, bytes]) -> Verification:
    """A verification whose rebuilt wheel differs from the published one in ``files_b``."""
    import time

    from reprobuild._fs import sha256_hex
    from reprobuild.rebuild.verify import _judge, _Result
    from reprobuild.strategy import Recipe

    name = "demo-1.0-py3-none-any.whl"
    published = make_wheel(files={"demo/__init__.py": b"x = 1\ny = 2\n"})
    rebuilt = make_wheel(files=files_b)
    result = _judge(
        published,
        name,
        rebuilt,
        name,
        Recipe(),
        _Result(filename=name, digest=sha256_hex(published), started=time.monotonic()),
    )
    return Verification(name="demo", version="1.0", sdist="demo-1.0.tar.gz", results=(result,))


def test_a_different_wheel_shows_its_diffs_with_the_sides_named(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from reprobuild.cli.verify import _print_text

    monkeypatch.setenv("NO_COLOR", "1")
    long = b"".join(b"line %d\n" % i for i in range(40))
    files = {"demo/__init__.py": b"x = 1\n", **{f"demo/m{i}.py": long for i in range(6)}}
    verification = _different(files)
    assert verification.results[0].verdict.value == "different"
    _print_text(verification)
    lines = capsys.readouterr().out.splitlines()
    start = lines.index("    demo/__init__.py [content]")
    assert lines[start + 1 : start + 6] == [
        "      --- published/demo/__init__.py",
        "      +++ rebuilt/demo/__init__.py",
        "      @@ -1,2 +1 @@",
        "       x = 1",
        "      -y = 2",
    ]
    assert "    demo/m0.py [added]" in lines
    assert "    … 3 more differences: --format html or --format json for all" in lines
    assert lines[-1] == (
        "  the full report: run again with --format html (every difference side by side) "
        "or --format json"
    )


def test_the_json_and_html_of_a_different_wheel_name_the_sides() -> None:
    from reprobuild.rebuild.document import verification_document
    from reprobuild.rebuild.page import verification_page

    verification = _different({"demo/__init__.py": b"x = 1\n"})
    doc = str(verification_document(verification))
    assert "--- published/demo/__init__.py" in doc and "+++ rebuilt/demo/__init__.py" in doc
    page = verification_page([verification])
    assert "published/demo/__init__.py" in page and "rebuilt/demo/__init__.py" in page


def test_text_output_escapes_what_a_release_wrote(capsys: pytest.CaptureFixture[str]) -> None:
    """A cause or a build log quoting a backend's output cannot drive the terminal."""
    from reprobuild.cli.verify import _print_details
    from reprobuild.rebuild.verify import ArtifactResult, Verdict

    result = ArtifactResult(
        filename="demo-1.0-py3-none-any.whl",
        verdict=Verdict.BUILD_FAILED,
        sha256="0" * 64,
        cause="the backend said \x1b[2J\x1b[31mall good",
        log_tail="line one\n\x1b]0;title\x07line two\u202e",
    )
    _print_details(result)
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "\\x1b[2J" in out and "line two\\u202e" in out


def test_two_releases_without_r_hint_at_r(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["verify", "--cache-dir", str(tmp_path), "demo==1.0", "other==2.0"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: one NAME==VERSION at a time, not 2")
    assert "hint: " in err and "-r FILE" in err
    with pytest.raises(SystemExit):
        main(["verify", "--help"])
    assert "more_releases" not in capsys.readouterr().out  # the usage shows one release


def _recipe() -> object:
    from reprobuild.strategy import Evidence, Recipe

    return Recipe(
        requirements=("wheel==0.30.0", "setuptools<62.2"),
        python="3.11.7",
        wanted_python="3.8",
        build_clock=1_600_000_000,
        evidence=(
            Evidence(field="requirements", value="wheel==0.30.0", reason="WHEEL Generator"),
            Evidence(field="requirements", value="setuptools<62.2", reason="Platform: UNKNOWN"),
            Evidence(field="build_clock", value="1600000000", reason="the gzip header"),
            Evidence(field="python", value="3.11.7", reason="the nearest (a substitution)"),
        ),
    )


def test_the_text_recipe_shows_every_field_of_the_json_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from reprobuild.cli.verify import _print_details
    from reprobuild.rebuild.document import recipe_document
    from reprobuild.rebuild.verify import ArtifactResult, Verdict
    from reprobuild.strategy import Recipe

    recipe = _recipe()
    assert isinstance(recipe, Recipe)
    result = ArtifactResult(
        filename="demo-1.0-py3-none-any.whl",
        verdict=Verdict.REPRODUCIBLE,
        sha256="a" * 64,
        rebuilt_sha256="a" * 64,
        rebuilt_filename="demo-1.0-py3-none-any.whl",
        recipe=recipe,
    )
    _print_details(result)
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert [line.strip().split(" =")[0] for line in lines].count("requirements") == 1
    assert (
        "      requirements = wheel==0.30.0, setuptools<62.2  (WHEEL Generator; "
        "Platform: UNKNOWN)" in lines
    )
    # the clock as a date, never the raw number
    assert "      build_clock = 2020-09-13 12:26:40 UTC  (the gzip header)" in lines
    assert "1600000000" not in out
    for field in recipe_document(recipe):
        if field not in ("evidence", "fitted"):
            assert f"{field} = " in out, field
    assert "hash_seed = 0" in out  # once JSON-only
    assert f"    sha256 {'a' * 64} (published and rebuilt)" in lines


def test_keep_is_checked_before_the_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-file").write_text("")
    argv = ["verify", "demo==1.0", "--cache-dir", str(tmp_path / "c")]
    assert main([*argv, "--keep", str(tmp_path / "a-file")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {tmp_path / 'a-file'}: the --keep folder is a file")


def test_keep_puts_the_judged_rebuild_beside_its_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rebuilds go through the rebuilder verify makes (here one that writes the published
    bytes), the judged one is kept under its name, and text and JSON say where."""
    import json

    from reprobuild.build import BuildResult, BuildSpec, Progress
    from reprobuild.buildinfo import BuildOutput

    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    wheel.write_bytes(make_wheel())
    sdist = tmp_path / "demo-1.0.tar.gz"
    sdist.write_bytes(make_sdist())

    class Copying:
        def __init__(self, **_options: object) -> None:
            pass

        def __call__(self, spec: BuildSpec, *, progress: Progress | None = None) -> BuildResult:
            spec.outdir.mkdir(parents=True, exist_ok=True)
            made = spec.outdir / wheel.name
            made.write_bytes(wheel.read_bytes())
            record = spec.outdir / "demo-1.0.buildinfo.json"
            record.write_text('{"made": "here"}')
            digest = hashlib.sha256(made.read_bytes()).hexdigest()
            output = BuildOutput(filename=made.name, sha256=digest, size=made.stat().st_size)
            return BuildResult(
                outputs=(output,), paths=(made,), buildinfo_path=record, buildinfo={}
            )

    monkeypatch.setattr("reprobuild.rebuild.cached.CachedRebuilder", Copying)
    keep = tmp_path / "kept"
    argv = ["verify", "--wheel", str(wheel), "--sdist", str(sdist), "--keep", str(keep)]
    argv += ["--cache-dir", str(tmp_path / "c"), "--sandbox", "none"]
    assert main([*argv, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["artifacts"][0]["kept"] == str(keep / wheel.name)
    assert (keep / wheel.name).read_bytes() == wheel.read_bytes()
    assert (keep / f"{wheel.name}.buildinfo.json").read_text() == '{"made": "here"}'
    assert sorted(p.name for p in keep.iterdir()) == [wheel.name, f"{wheel.name}.buildinfo.json"]
    assert main(argv) == 0
    assert f"    kept: {keep / wheel.name} (its buildinfo record beside it)" in (
        capsys.readouterr().out.splitlines()
    )


def test_no_python_downloads_reaches_the_provider(tmp_path: Path) -> None:
    from reprobuild.cli._release import python_provider_of
    from reprobuild.cli.main import build_parser
    from reprobuild.frontend import UvPythons

    def provider(*argv: str) -> UvPythons:
        args = build_parser("verify").parse_args(["verify", "demo==1.0", *argv])
        args.python_state = tmp_path
        made = python_provider_of(args)
        assert isinstance(made, UvPythons)
        return made

    assert provider("--no-python-downloads").downloads is False
    assert provider().state == tmp_path
