"""The index client against real indexes on this machine: a file index and a local HTTP server."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from reprobuild.errors import NetworkError, UsageError
from reprobuild.frontend import IndexConfig
from reprobuild.index import JSON_TYPE, IndexClient, IndexFile, release_files

NO_CONFIG = IndexConfig()


def _file_index(root: Path, files: dict[str, bytes], *, wrong: str | None = None) -> str:
    """A PEP 503 file index with project ``demo`` holding ``files``; ``wrong`` gets a bad digest."""
    (root / "files").mkdir(parents=True)
    anchors = []
    for name, data in files.items():
        (root / "files" / name).write_bytes(data)
        digest = hashlib.sha256(data if name != wrong else b"other").hexdigest()
        anchors.append(f'<a href="../../files/{name}#sha256={digest}">{name}</a>')
    page = root / "simple" / "demo"
    page.mkdir(parents=True)
    (page / "index.html").write_text("<html><body>" + "".join(anchors) + "</body></html>")
    return (root / "simple").as_uri()


def test_file_index_pages_and_verified_downloads(tmp_path: Path) -> None:
    url = _file_index(
        tmp_path / "idx", {"demo-1.0.tar.gz": b"sdist", "demo-1.0-py3-none-any.whl": b"w"}
    )
    client = IndexClient(cache_dir=tmp_path / "cache", index_urls=[url], config=NO_CONFIG)
    files = client.project_files("Demo")  # names are normalized
    assert sorted(f.filename for f in files) == ["demo-1.0-py3-none-any.whl", "demo-1.0.tar.gz"]
    sdist = next(f for f in files if f.filename.endswith(".tar.gz"))
    path = client.download(sdist)
    assert path.read_bytes() == b"sdist"
    assert path.parent.name == hashlib.sha256(b"sdist").hexdigest()
    assert client.download(sdist) == path  # cached
    assert client.project_files("absent") == ()


def test_a_download_whose_digest_is_wrong_is_refused_and_not_kept(tmp_path: Path) -> None:
    url = _file_index(tmp_path / "idx", {"demo-1.0.tar.gz": b"sdist"}, wrong="demo-1.0.tar.gz")
    client = IndexClient(cache_dir=tmp_path / "cache", index_urls=[url], config=NO_CONFIG)
    (file,) = client.project_files("demo")
    with pytest.raises(NetworkError, match="sha256"):
        client.download(file)
    assert not any(p.is_file() for p in (tmp_path / "cache").rglob("*"))


def test_a_file_without_sha256_is_not_downloaded(tmp_path: Path) -> None:
    client = IndexClient(cache_dir=tmp_path, index_urls=["file:///nowhere/"], config=NO_CONFIG)
    with pytest.raises(NetworkError, match="no sha256"):
        client.download(IndexFile(filename="a.tar.gz", url="file:///nowhere/a.tar.gz", sha256=None))


def test_no_index_configuration_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no-index"):
        IndexClient(cache_dir=tmp_path, config=IndexConfig(no_index=True))


def test_extra_indexes_are_merged_first_one_wins(tmp_path: Path) -> None:
    one = _file_index(tmp_path / "one", {"demo-1.0.tar.gz": b"first"})
    two = _file_index(tmp_path / "two", {"demo-1.0.tar.gz": b"second", "demo-2.0.tar.gz": b"x"})
    client = IndexClient(
        cache_dir=tmp_path / "cache",
        config=IndexConfig(index_url=one, extra_index_urls=(two,)),
    )
    files = {f.filename: f for f in client.project_files("demo")}
    assert set(files) == {"demo-1.0.tar.gz", "demo-2.0.tar.gz"}
    assert client.download(files["demo-1.0.tar.gz"]).read_bytes() == b"first"


def test_release_files_picks_one_release() -> None:
    def f(name: str) -> IndexFile:
        return IndexFile(filename=name, url="u", sha256="0")

    files = [
        f("demo-1.0.tar.gz"),
        f("demo-1.0-py3-none-any.whl"),
        f("Demo-1.0.0-py2.py3-none-any.whl"),  # 1.0.0 == 1.0
        f("demo-1.1.tar.gz"),
        f("demo_extra-1.0.tar.gz"),
        f("garbage.txt"),
    ]
    got = [x.filename for x in release_files(files, "demo", "1.0")]
    assert got == [
        "demo-1.0.tar.gz",
        "demo-1.0-py3-none-any.whl",
        "Demo-1.0.0-py2.py3-none-any.whl",
    ]
    with pytest.raises(UsageError):
        release_files(files, "demo", "not a version")


class _Flaky(http.server.BaseHTTPRequestHandler):
    """Answers 503 to the first request of each path, then the JSON page or the file."""

    seen: ClassVar[dict[str, int]] = {}

    def do_GET(self) -> None:
        count = self.seen.get(self.path, 0)
        self.seen[self.path] = count + 1
        if count == 0:
            self.send_response(503)
            self.end_headers()
            return
        if self.path == "/simple/demo/":
            body = json.dumps(
                {
                    "meta": {"api-version": "1.1"},
                    "files": [
                        {
                            "filename": "demo-1.0.tar.gz",
                            "url": "/files/demo-1.0.tar.gz",
                            "hashes": {"sha256": hashlib.sha256(b"payload").hexdigest()},
                            "upload-time": "2024-01-02T03:04:05Z",
                        }
                    ],
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", JSON_TYPE)
        elif self.path == "/files/demo-1.0.tar.gz":
            body = b"payload"
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
        else:
            self.send_response(404)
            self.end_headers()
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def flaky_server() -> Iterator[str]:
    _Flaky.seen = {}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/"
    finally:
        server.shutdown()
        server.server_close()


def test_transient_errors_are_retried_and_json_is_read(flaky_server: str, tmp_path: Path) -> None:
    waits: list[float] = []
    client = IndexClient(
        cache_dir=tmp_path, index_urls=[flaky_server], config=NO_CONFIG, sleep=waits.append
    )
    (file,) = client.project_files("demo")
    assert file.upload_time is not None and file.upload_time.year == 2024
    assert client.download(file).read_bytes() == b"payload"
    assert waits == [0.5, 0.5]  # one retry for the page, one for the file


def test_errors_that_persist_end_as_network_errors(flaky_server: str, tmp_path: Path) -> None:
    client = IndexClient(cache_dir=tmp_path, index_urls=[flaky_server], config=NO_CONFIG, retries=1)
    with pytest.raises(NetworkError, match="HTTP 503"):
        client.project_files("demo")
    dead = IndexClient(
        cache_dir=tmp_path,
        index_urls=["http://127.0.0.1:9/simple/"],
        config=NO_CONFIG,
        retries=2,
        sleep=lambda _s: None,
    )
    with pytest.raises(NetworkError, match="cannot reach"):
        dead.project_files("demo")
