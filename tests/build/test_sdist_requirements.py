"""Build requirements published only as sdists are built in the sandbox, then installed from
the wheel built, pinned by its sha256.

The package index is a folder of files (``file:`` URLs, pages in the PEP 503 HTML form) named
by ``PIP_INDEX_URL``, with pip's configuration files switched off, so that uv, pip and
reprobuild's own index client all read it and nothing else. Every backend lives in its sdist
(``backend-path``), so no build needs anything from an index but what the test puts there.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import secrets
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest

from reprobuild.build import SDIST_DEPTH, BuildResult, BuildSpec, _chosen_sdist, build
from reprobuild.errors import BuildError
from reprobuild.frontend import (
    PinnedRequirement,
)
from reprobuild.frontend.wheelhouse import load_built
from reprobuild.index.pages import IndexFile
from tests.factories import make_sdist, make_wheel, sdist_filename, wheel_filename
from tests.sandboxes import machine_sandbox

#: The backend of every package here: it tries to leave a file at ``ESCAPE`` (outside its
#: build folder), imports each module of ``IMPORTS`` (its build requirements must be
#: installed), and hands back the wheel its sdist carries ready-made.
BACKEND = """\
import os
import pathlib
import shutil

ESCAPE = {escape!r}
IMPORTS = {imports!r}


def get_requires_for_build_wheel(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    if ESCAPE:
        try:
            pathlib.Path(ESCAPE).write_text("written by a build requirement's backend")
        except OSError:
            pass
    for module in IMPORTS:
        __import__(module)
    name = {wheel!r}
    here = os.path.dirname(os.path.abspath(__file__))
    shutil.copyfile(os.path.join(here, "prebuilt", name), os.path.join(wheel_directory, name))
    return name
"""


def package_sdist(
    name: str, *, requires: tuple[str, ...] = (), escape: Path | None = None
) -> bytes:
    """The sdist of ``name`` 1.0: built by an in-tree backend that needs ``requires``."""
    module = name.replace("-", "_")
    wheel = wheel_filename(name, "1.0")
    backend = BACKEND.format(
        escape=str(escape) if escape else "",
        imports=[r.replace("-", "_") for r in requires],
        wheel=wheel,
    )
    pyproject = (
        f"[build-system]\nrequires = {list(requires)!r}\n"
        'build-backend = "backend"\nbackend-path = ["."]\n\n'
        f'[project]\nname = "{name}"\nversion = "1.0"\n'
    ).replace("'", '"')
    return make_sdist(
        name,
        "1.0",
        {
            "pyproject.toml": pyproject.encode(),
            "backend.py": backend.encode(),
            f"prebuilt/{wheel}": make_wheel(name, "1.0"),
            f"{module}/__init__.py": b"",
        },
        mtime=1_500_000_000,
    )


@dataclass(frozen=True)
class LocalIndex:
    root: Path

    def publish(self, filename: str, data: bytes) -> Path:
        """Put ``filename`` on the index (each project's page lists its files)."""
        files = self.root / "files"
        files.mkdir(parents=True, exist_ok=True)
        (files / filename).write_bytes(data)
        project = filename.split("-", 1)[0].replace("_", "-").lower()
        page = self.root / "simple" / project
        page.mkdir(parents=True, exist_ok=True)
        links = "".join(
            f'<a href="../../files/{f.name}#sha256={hashlib.sha256(f.read_bytes()).hexdigest()}">'
            f"{f.name}</a>\n"
            for f in sorted(files.iterdir())
            if f.name.split("-", 1)[0].replace("_", "-").lower() == project
        )
        (page / "index.html").write_text(f"<!DOCTYPE html><html><body>\n{links}</body></html>\n")
        return files / filename


@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalIndex]:
    local = LocalIndex(tmp_path / "index")
    (local.root / "simple").mkdir(parents=True)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    for variable in [v for v in os.environ if v.startswith(("PIP_", "UV_"))]:
        if variable != "PIP_CONFIG_FILE":
            monkeypatch.delenv(variable)
    monkeypatch.setenv("PIP_INDEX_URL", (local.root / "simple").as_uri())
    yield local


def _build(
    tmp_path: Path, sdist: Path, *, cache: Path, messages: list[str], **fields: object
) -> BuildResult:
    spec = BuildSpec(
        source=sdist,
        outdir=tmp_path / "out",
        cache_dir=cache,
        build_root=tmp_path / "root",
        sandbox=machine_sandbox(),
        **fields,  # type: ignore[arg-type]
    )
    return build(spec, progress=messages.append)


def _wheel_env(result: BuildResult) -> dict[str, Any]:
    """The buildinfo record's wheel environment (a JSON object, read as the test reads it)."""
    environments = cast(dict[str, Any], result.buildinfo["environments"])
    return cast(dict[str, Any], environments["wheel"])


def test_an_sdist_only_requirement_is_built_in_the_sandbox_and_pinned(
    tmp_path: Path, index: LocalIndex
) -> None:
    escape = Path(pwd.getpwuid(os.getuid()).pw_dir) / f"reprobuild-escape-{secrets.token_hex(6)}"
    index.publish(sdist_filename("sdonly", "1.0"), package_sdist("sdonly", escape=escape))
    app = tmp_path / sdist_filename("app", "1.0")
    app.write_bytes(package_sdist("app", requires=("sdonly",)))
    messages: list[str] = []
    try:
        result = _build(tmp_path, app, cache=tmp_path / "cache", messages=messages)
        assert not escape.exists()  # the requirement's backend ran, in the sandbox
    finally:
        escape.unlink(missing_ok=True)
    assert (
        "building the build requirement sdonly 1.0 from its sdist sdonly-1.0.tar.gz in the sandbox"
    ) in messages
    assert any(m.startswith("sdonly: calling build_wheel") for m in messages), messages
    # the app's backend imported sdonly: the wheel built was installed, pinned by its sha256
    env = _wheel_env(result)
    (built,) = env["built_from_sdist"]
    (pin,) = env["requirements"]
    assert (pin["name"], pin["version"]) == ("sdonly", "1.0")
    assert pin["hashes"] == [f"sha256:{built['sha256']}"]
    assert built["sdist"] == "sdonly-1.0.tar.gz"
    assert built["sandbox"]["kind"] in {"bwrap", "landlock"}
    kept = tmp_path / "cache" / "wheels" / built["sha256"] / "sdonly-1.0-py3-none-any.whl"
    assert hashlib.sha256(kept.read_bytes()).hexdigest() == built["sha256"]
    wheel = load_built(kept)
    assert (
        wheel is not None
        and wheel.sdist_sha256
        == hashlib.sha256((index.root / "files" / "sdonly-1.0.tar.gz").read_bytes()).hexdigest()
    )
    with zipfile.ZipFile(kept) as whl:
        assert whl.read("sdonly/__init__.py") == b'"""A demo package."""\n\n__version__ = "1.0"\n'

    # a second build takes the kept wheel, and installs the same pins
    again: list[str] = []
    second = _build(tmp_path, app, cache=tmp_path / "cache", messages=again)
    assert any(m.startswith("reusing sdonly-1.0-py3-none-any.whl") for m in again), again
    assert not any(m.startswith("building the build requirement") for m in again), again
    assert _wheel_env(second) == env


def test_a_rebuild_from_pins_builds_the_same_wheel_again(tmp_path: Path, index: LocalIndex) -> None:
    index.publish(sdist_filename("sdonly", "1.0"), package_sdist("sdonly"))
    app = tmp_path / sdist_filename("app", "1.0")
    app.write_bytes(package_sdist("app", requires=("sdonly",)))
    first = _build(tmp_path, app, cache=tmp_path / "cache", messages=[])
    env = _wheel_env(first)
    pins = tuple(
        PinnedRequirement(name=r["name"], version=r["version"], hashes=tuple(r["hashes"]))
        for r in env["requirements"]
    )
    messages: list[str] = []
    # a fresh cache: the pinned sha256 is that of a wheel reprobuild must build again
    second = _build(
        tmp_path, app, cache=tmp_path / "fresh", messages=messages, pins={"wheel": pins}
    )
    assert any("from its sdist sdonly-1.0.tar.gz in the sandbox" in m for m in messages)
    assert _wheel_env(second)["requirements"] == env["requirements"]
    assert second.outputs == first.outputs


def test_a_requirement_needed_to_build_itself_is_refused(tmp_path: Path, index: LocalIndex) -> None:
    index.publish(sdist_filename("first", "1.0"), package_sdist("first", requires=("second",)))
    index.publish(sdist_filename("second", "1.0"), package_sdist("second", requires=("first",)))
    app = tmp_path / sdist_filename("app", "1.0")
    app.write_bytes(package_sdist("app", requires=("first",)))
    with pytest.raises(BuildError) as info:
        _build(tmp_path, app, cache=tmp_path / "cache", messages=[])
    assert "needed to build itself: first › second › first" in info.value.reason
    assert not (tmp_path / "cache" / "wheels").exists()


def test_requirements_built_from_sdists_nest_only_so_deep(
    tmp_path: Path, index: LocalIndex
) -> None:
    names = [f"level{number}" for number in range(SDIST_DEPTH + 1)]
    for name, below in zip(names, [*names[1:], None], strict=True):
        requires = (below,) if below else ()
        index.publish(sdist_filename(name, "1.0"), package_sdist(name, requires=requires))
    app = tmp_path / sdist_filename("app", "1.0")
    app.write_bytes(package_sdist("app", requires=(names[0],)))
    with pytest.raises(BuildError) as info:
        _build(tmp_path, app, cache=tmp_path / "cache", messages=[])
    assert f"nest more than {SDIST_DEPTH} deep: " + " › ".join(names) in info.value.reason


def test_an_sdist_the_index_gives_no_sha256_for_is_not_built(
    tmp_path: Path, index: LocalIndex
) -> None:
    marker = tmp_path / "ran"
    index.publish(sdist_filename("sdonly", "1.0"), package_sdist("sdonly", escape=marker))
    page = index.root / "simple" / "sdonly" / "index.html"
    page.write_text(page.read_text().split("#sha256=")[0] + '">sdonly-1.0.tar.gz</a></body>')
    app = tmp_path / sdist_filename("app", "1.0")
    app.write_bytes(package_sdist("app", requires=("sdonly",)))
    with pytest.raises(BuildError) as info:
        _build(tmp_path, app, cache=tmp_path / "cache", messages=[])
    assert "sdonly has no wheel, and no sdist of it either (==1.0" in info.value.reason
    assert info.value.hint is not None and "sha256" in info.value.hint
    assert not (tmp_path / "cache" / "wheels").exists()


def _file(filename: str, *, uploaded: str | None = None, **fields: object) -> IndexFile:
    return IndexFile(
        filename=filename,
        url=f"file:///index/{filename}",
        sha256="0" * 64,
        upload_time=datetime.fromisoformat(uploaded) if uploaded else None,
        **fields,  # type: ignore[arg-type]
    )


FILES = (
    _file("pytoml-0.1.0.zip", uploaded="2015-03-15T15:03:14+00:00"),
    _file("pytoml-0.1.19.tar.gz", uploaded="2018-09-09T12:41:27+00:00"),
    _file("pytoml-0.1.20.zip", uploaded="2018-10-28T14:22:50+00:00"),
    _file("pytoml-0.1.20.tar.gz", uploaded="2018-10-28T14:22:53+00:00"),
    _file("pytoml-0.1.21-py2.py3-none-any.whl", uploaded="2019-07-21T17:58:12+00:00"),
    _file("pytoml-0.1.21.tar.gz", uploaded="2019-07-21T17:58:13+00:00"),
    _file("pytoml-0.1.22.tar.gz", uploaded="2018-01-01T00:00:00+00:00", yanked=True),
    _file("pytoml-0.1.23.tar.gz", uploaded="2018-01-01T00:00:00+00:00", requires_python=">=4"),
    _file("pytoml-0.1.0-py2.7.egg", uploaded="2015-03-15T14:33:43+00:00"),
)


@pytest.mark.parametrize(
    ("specifier", "cutoff", "chosen"),
    [
        ("", "2019-01-07T18:10:52+00:00", "pytoml-0.1.20.tar.gz"),  # newest before the cut-off
        ("", None, "pytoml-0.1.21.tar.gz"),
        ("<0.1.20", "2019-01-07T18:10:52+00:00", "pytoml-0.1.19.tar.gz"),
        ("==0.1.0", None, "pytoml-0.1.0.zip"),
        ("", "2018-10-28T14:22:52+00:00", "pytoml-0.1.20.zip"),  # only the zip was out yet
    ],
)
def test_the_sdist_chosen_is_the_one_a_resolver_would_pick(
    specifier: str, cutoff: str | None, chosen: str
) -> None:
    moment = datetime.fromisoformat(cutoff) if cutoff else None
    file, version = _chosen_sdist(FILES, "pytoml", specifier, moment, "3.11.7")
    assert file.filename == chosen
    assert version == chosen.removeprefix("pytoml-").removesuffix(".tar.gz").removesuffix(".zip")


def test_a_naive_cutoff_is_utc_and_nothing_chosen_is_an_error() -> None:
    naive = datetime(2018, 10, 28, 14, 22, 52)
    file, _ = _chosen_sdist(FILES, "pytoml", "", naive, "3.11.7")
    assert file.filename == "pytoml-0.1.20.zip"
    assert naive.replace(tzinfo=UTC) > FILES[2].upload_time  # type: ignore[operator]
    with pytest.raises(BuildError, match=r"no sdist of it either \(>=1"):
        _chosen_sdist(FILES, "pytoml", ">=1", None, "3.11.7")
