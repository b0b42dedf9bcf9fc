"""Recipe override files: the format, the search order, and the gzip step."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from reprobuild.errors import ProjectError, UsageError
from reprobuild.strategy import GzipStep, find_override, gzip_bytes, parse_overrides

GOOD = """
[[override]]
versions = ">=2,<3"
reason = "the release compressed the man page"
steps = [{ gzip = "man/demo.1", to = "man/demo.1.gz", level = 9 }]

[[override]]
versions = "<2"
reason = "older releases"
"""


def test_parse_overrides() -> None:
    first, second = parse_overrides(GOOD, origin="demo.toml")
    assert first.steps == (GzipStep(source="man/demo.1", target="man/demo.1.gz", level=9),)
    assert first.origin == "demo.toml"
    assert second.steps == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[override", "not valid TOML"),
        ("override = 3", "array of tables"),
        ('[[override]]\nversions = "==1"\n', "'versions' and 'reason'"),
        ('[[override]]\nversions = "bad"\nreason = "r"\n', "not a version specifier"),
        (
            '[[override]]\nversions = ""\nreason = "r"\nsteps = [{ run = "rm -rf /" }]\n',
            "a step is",
        ),
        (
            '[[override]]\nversions = ""\nreason = "r"\n'
            'steps = [{ gzip = "a", to = "b", level = 11 }]\n',
            "level",
        ),
    ],
)
def test_malformed_files_are_refused_with_their_name(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as info:
        parse_overrides(text, origin="demo.toml")
    assert info.value.path == "demo.toml"


def test_the_users_folder_comes_first_and_versions_select(tmp_path: Path) -> None:
    (tmp_path / "demo.toml").write_text(GOOD)
    assert find_override("Demo", "2.5", folders=[tmp_path]).reason.startswith("the release")  # type: ignore[union-attr]
    assert find_override("demo", "1.0", folders=[tmp_path]).reason == "older releases"  # type: ignore[union-attr]
    assert find_override("demo", "3.0", folders=[tmp_path]) is None
    assert find_override("other", "1.0", folders=[tmp_path]) is None


def test_the_shipped_ipython_recipe() -> None:
    override = find_override("ipython", "7.16.1")
    assert override is not None
    assert override.origin == "reprobuild/recipes/ipython.toml"
    assert find_override("ipython", "7.16.1", shipped=False) is None
    assert find_override("ipython", "7.15.0") is None


def test_gzip_step_writes_what_gnu_gzip_writes(tmp_path: Path) -> None:
    source = tmp_path / "man" / "demo.1"
    source.parent.mkdir()
    source.write_bytes(b".TH DEMO 1\n" + b"some text for the manual page\n" * 40)
    os.utime(source, (1574023017, 1574023017))
    GzipStep(source="man/demo.1", target="man/demo.1.gz").apply(tmp_path)
    ours = (tmp_path / "man" / "demo.1.gz").read_bytes()
    assert gzip.decompress(ours) == source.read_bytes()
    gnu = shutil.which("gzip")
    if gnu is None:
        pytest.skip("no gzip command to compare with")
    theirs = subprocess.run(
        [gnu, "-9c", "demo.1"], cwd=source.parent, capture_output=True, check=True
    ).stdout
    assert ours == theirs


def test_gzip_step_stays_inside_the_sdist(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="outside"):
        GzipStep(source="../etc/passwd", target="x.gz").apply(tmp_path)
    with pytest.raises(ProjectError, match="cannot read"):
        GzipStep(source="absent", target="x.gz").apply(tmp_path)


def test_gzip_bytes_header() -> None:
    data = gzip_bytes(b"x", name="a.1", mtime=7, level=9)
    assert data[:4] == b"\x1f\x8b\x08\x08"
    assert data[4:8] == (7).to_bytes(4, "little")
    assert data[8:10] == b"\x02\x03"
    assert data[10:14] == b"a.1\x00"
