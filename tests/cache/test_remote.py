"""The remote cache client against a real HTTP cache: nginx with WebDAV, on the loopback."""

from __future__ import annotations

import hashlib
import socket
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reprobuild._fs import sha256_file
from reprobuild.cache.remote import (
    ACTION_SIZE_LIMIT,
    AccessDeniedError,
    PoisonedEntryError,
    RemoteCache,
    RemoteStats,
)
from reprobuild.errors import NetworkError, UsageError
from tests.cache.nginx import AUTH_HEADER, NginxCache, running_nginx

KEY = hashlib.sha256(b"an action").hexdigest()
SECRET = AUTH_HEADER["Authorization"].split()[1]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[NginxCache]:
    with running_nginx(tmp_path / "nginx") as running:
        yield running


@pytest.fixture(autouse=True)
def _no_proxy_for_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """A proxy set in the environment must not carry the tests' requests to 127.0.0.1."""
    monkeypatch.setenv("no_proxy", "127.0.0.1")


def _no_sleep(delay: float) -> None:
    """The backoff, skipped."""


def _blob(folder: Path, data: bytes, name: str = "blob") -> tuple[str, Path]:
    path = folder / name
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest(), path


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_an_action_result_round_trips(server: NginxCache) -> None:
    cache = RemoteCache(server.url + "/", sleep=_no_sleep)
    assert cache.get_action(KEY) is None
    cache.put_action(KEY, b'{"outputs": []}')
    assert (server.data / "ac" / KEY).read_bytes() == b'{"outputs": []}'
    assert cache.get_action(KEY) == b'{"outputs": []}'
    cache.put_action(KEY, b"{}")  # replaced
    assert cache.get_action(KEY) == b"{}"
    assert cache.stats == RemoteStats(hits=2, misses=1, uploads=2, bytes_down=17, bytes_up=17)


def test_a_blob_round_trips_and_head_tells_hit_from_miss(
    server: NginxCache, tmp_path: Path
) -> None:
    cache = RemoteCache(server.url, sleep=_no_sleep)
    digest, path = _blob(tmp_path, b"wheel bytes")
    assert not cache.has_blob(digest)
    assert not cache.get_blob(digest, tmp_path / "missing")
    assert not (tmp_path / "missing").exists()
    cache.put_blob(digest, path)
    assert cache.has_blob(digest)
    assert (server.data / "cas" / digest).read_bytes() == b"wheel bytes"
    assert cache.get_blob(digest, tmp_path / "copy")
    assert (tmp_path / "copy").read_bytes() == b"wheel bytes"
    cache.put_blob(digest, path)  # the cache has it: not sent again
    empty, empty_path = _blob(tmp_path, b"", "empty blob")
    cache.put_blob(empty, empty_path)
    assert cache.get_blob(empty, tmp_path / "empty")
    assert (tmp_path / "empty").read_bytes() == b""
    assert cache.stats == RemoteStats(hits=2, misses=1, uploads=2, bytes_down=11, bytes_up=11)


def test_a_poisoned_blob_is_refused_and_its_destination_untouched(
    server: NginxCache, tmp_path: Path
) -> None:
    digest = hashlib.sha256(b"the real bytes").hexdigest()
    (server.data / "cas").mkdir(parents=True)
    (server.data / "cas" / digest).write_bytes(b"other bytes")
    out = tmp_path / "out"
    out.mkdir()
    (out / "dest").write_bytes(b"what was there")
    cache = RemoteCache(server.url, sleep=_no_sleep)
    with pytest.raises(PoisonedEntryError, match="poisoned") as caught:
        cache.get_blob(digest, out / "dest")
    assert caught.value.key == digest
    assert caught.value.actual == hashlib.sha256(b"other bytes").hexdigest()
    assert _files(out) == [out / "dest"]
    assert (out / "dest").read_bytes() == b"what was there"
    assert cache.stats == RemoteStats(poisoned=1)


def test_a_file_that_is_not_its_digest_is_never_stored(server: NginxCache, tmp_path: Path) -> None:
    digest = hashlib.sha256(b"what the store claims").hexdigest()
    _, path = _blob(tmp_path, b"what the file holds" * 10_000)
    cache = RemoteCache(server.url, sleep=_no_sleep)
    with pytest.raises(PoisonedEntryError, match="not uploaded") as caught:
        cache.put_blob(digest, path)
    assert caught.value.path == str(path)
    assert not cache.has_blob(digest)
    assert _files(server.data) == []
    assert cache.stats == RemoteStats()


def test_an_action_result_past_the_limit_is_refused_both_ways(server: NginxCache) -> None:
    cache = RemoteCache(server.url, sleep=_no_sleep)
    with pytest.raises(UsageError, match="larger"):
        cache.put_action(KEY, b"x" * (ACTION_SIZE_LIMIT + 1))
    cache.put_action(KEY, b"x" * ACTION_SIZE_LIMIT)
    assert cache.get_action(KEY) == b"x" * ACTION_SIZE_LIMIT
    (server.data / "ac" / KEY).write_bytes(b"x" * (ACTION_SIZE_LIMIT + 1))
    with pytest.raises(PoisonedEntryError, match="larger"):
        cache.get_action(KEY)


def test_auth_a_missing_header_is_refused_with_a_hint_and_the_header_is_never_shown(
    server: NginxCache, tmp_path: Path
) -> None:
    digest, path = _blob(tmp_path, b"blob")
    anonymous = RemoteCache(server.auth_url, sleep=_no_sleep)
    with pytest.raises(AccessDeniedError, match="401") as caught:
        anonymous.get_action(KEY)
    assert caught.value.hint is not None
    assert "auth header" in caught.value.hint
    assert "read-only" in caught.value.hint
    wrong = RemoteCache(
        server.auth_url, headers={"Authorization": "Bearer wrong-s3cret"}, sleep=_no_sleep
    )
    with pytest.raises(AccessDeniedError) as caught:
        wrong.put_blob(digest, path)
    shown = f"{caught.value} {caught.value.hint} {wrong!r}"
    assert "s3cret" not in shown
    assert str(caught.value).startswith(server.auth_url + "/cas/")

    cache = RemoteCache(server.auth_url, headers=server.headers, sleep=_no_sleep)
    assert SECRET not in repr(cache)
    cache.put_action(KEY, b"{}")
    cache.put_blob(digest, path)
    assert cache.get_action(KEY) == b"{}"
    assert cache.get_blob(digest, tmp_path / "copy")
    assert (server.auth_data / "cas" / digest).read_bytes() == b"blob"


def test_read_only_puts_are_skipped_and_counted(server: NginxCache, tmp_path: Path) -> None:
    digest, path = _blob(tmp_path, b"blob")
    cache = RemoteCache(server.url, read_only=True, sleep=_no_sleep)
    cache.put_action(KEY, b"{}")
    cache.put_blob(digest, path)
    assert _files(server.data) == []
    assert cache.get_action(KEY) is None
    RemoteCache(server.url, sleep=_no_sleep).put_action(KEY, b"{}")
    assert cache.get_action(KEY) == b"{}"  # reads still go out
    assert cache.stats == RemoteStats(hits=1, misses=1, skipped_puts=2, bytes_down=2)


def test_a_large_blob_streams_both_ways_in_bounded_memory(
    server: NginxCache, tmp_path: Path
) -> None:
    path = tmp_path / "big"
    with path.open("wb") as handle:
        handle.truncate(64 << 20)  # sparse: zeros that take no disk
    digest = sha256_file(path)
    cache = RemoteCache(server.url, sleep=_no_sleep)
    tracemalloc.start()
    try:
        cache.put_blob(digest, path)
        assert cache.get_blob(digest, tmp_path / "copy")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20
    assert (tmp_path / "copy").stat().st_size == 64 << 20
    assert cache.stats.bytes_up == cache.stats.bytes_down == 64 << 20


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        KEY.upper(),
        KEY[:-1],
        KEY + "0",
        KEY[:-1] + "\n",
        KEY + "/../x",
        "",
    ],
)
def test_a_bad_key_or_digest_is_refused_before_any_request(name: str, tmp_path: Path) -> None:
    def no_request(delay: float) -> None:
        raise AssertionError("a request was made")

    cache = RemoteCache(f"http://127.0.0.1:{_closed_port()}", retries=1, sleep=no_request)
    calls: list[Callable[[], object]] = [
        lambda: cache.get_action(name),
        lambda: cache.put_action(name, b"{}"),
        lambda: cache.has_blob(name),
        lambda: cache.get_blob(name, tmp_path / "dest"),
        lambda: cache.put_blob(name, tmp_path / "dest"),
    ]
    for call in calls:
        with pytest.raises(UsageError, match="not a valid"):
            call()
    assert cache.stats == RemoteStats()


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_refused_connection_is_retried_then_a_network_error(tmp_path: Path) -> None:
    delays: list[float] = []
    url = f"http://127.0.0.1:{_closed_port()}/cache"
    cache = RemoteCache(url, headers=AUTH_HEADER, sleep=delays.append)
    with pytest.raises(NetworkError, match="cannot reach the cache") as caught:
        cache.get_action(KEY)
    assert delays == [0.5, 1.0]
    assert caught.value.path == f"{url}/ac/{KEY}"
    assert SECRET not in f"{caught.value} {caught.value.hint}"


def test_a_server_error_is_retried_and_a_redirect_is_not_followed(server: NginxCache) -> None:
    delays: list[float] = []
    broken = RemoteCache(server.url + "/broken", retries=4, sleep=delays.append)
    with pytest.raises(NetworkError, match="HTTP 503"):
        broken.has_blob(KEY)
    assert delays == [0.5, 1.0, 2.0]
    moved = RemoteCache(server.url + "/moved", headers=AUTH_HEADER, sleep=delays.append)
    with pytest.raises(NetworkError, match="HTTP 302") as caught:
        moved.get_action(KEY)
    assert caught.value.hint is not None
    assert "redirect" in caught.value.hint
    assert len(delays) == 3  # not retried


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("ftp://127.0.0.1/cache", "http"),
        ("http:///cache", "host"),
        ("http://127.0.0.1/cache?x=1", "query"),
        ("https://user:s3cret@127.0.0.1/cache", "user or password"),
    ],
)
def test_a_base_url_that_is_not_plain_http_is_refused(url: str, match: str) -> None:
    with pytest.raises(UsageError, match=match) as caught:
        RemoteCache(url)
    assert "s3cret" not in f"{caught.value} {caught.value.hint}"


def test_a_header_that_would_break_the_request_is_refused_without_showing_it() -> None:
    with pytest.raises(UsageError, match="Authorization") as caught:
        RemoteCache("http://127.0.0.1", headers={"Authorization": "Bearer s3cret\r\nX-Evil: 1"})
    assert "s3cret" not in str(caught.value)
    with pytest.raises(UsageError, match="header name"):
        RemoteCache("http://127.0.0.1", headers={"Bad Name": "x"})


def test_a_server_that_never_answers_times_out_then_a_network_error() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # connections complete in the backlog; nothing ever answers them
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        delays: list[float] = []
        cache = RemoteCache(url, timeout=0.1, sleep=delays.append)
        with pytest.raises(NetworkError, match="cannot reach the cache"):
            cache.has_blob(KEY)
    assert delays == [0.5, 1.0]
