"""_fs helpers outside the archive code: the default cache folder, mapped reads, writes of
pieces."""

from __future__ import annotations

from pathlib import Path

import pytest

from reprobuild._fs import default_cache_dir, read_bytes_mapped, write_chunks_atomic


def test_explicit_cache_dir_wins() -> None:
    env = {"REPROBUILD_CACHE_DIR": "/srv/cache", "XDG_CACHE_HOME": "/xdg", "HOME": "/home/u"}
    assert default_cache_dir(env) == Path("/srv/cache")


def test_xdg_cache_home() -> None:
    assert default_cache_dir({"XDG_CACHE_HOME": "/xdg", "HOME": "/home/u"}) == Path(
        "/xdg/reprobuild"
    )


def test_relative_xdg_is_ignored_as_the_spec_says() -> None:
    env = {"XDG_CACHE_HOME": "relative", "HOME": "/home/u"}
    assert default_cache_dir(env) == Path("/home/u/.cache/reprobuild")


def test_home_cache() -> None:
    assert default_cache_dir({"HOME": "/home/u"}) == Path("/home/u/.cache/reprobuild")


def test_mapped_read_gives_the_file_bytes(tmp_path: Path) -> None:
    path = tmp_path / "a.whl"
    path.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 64)
    assert bytes(read_bytes_mapped(path)) == path.read_bytes()


def test_mapped_read_of_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.whl"
    path.write_bytes(b"")
    assert bytes(read_bytes_mapped(path)) == b""


@pytest.mark.skipif(not Path("/dev/fd").is_dir(), reason="no /dev/fd to name a pipe by")
def test_a_pipe_is_read_not_mapped() -> None:
    import os

    read_end, write_end = os.pipe()
    try:
        os.write(write_end, b"PK\x05\x06" + bytes(18))
        os.close(write_end)
        assert bytes(read_bytes_mapped(Path(f"/dev/fd/{read_end}"))) == b"PK\x05\x06" + bytes(18)
    finally:
        os.close(read_end)


def test_mapped_bytes_outlive_the_file_being_replaced(tmp_path: Path) -> None:
    path = tmp_path / "a.whl"
    path.write_bytes(b"old content")
    data = read_bytes_mapped(path)
    write_chunks_atomic(path, [b"new ", memoryview(data)[:3]])  # in place, from a view of it
    assert path.read_bytes() == b"new old"
    assert bytes(data) == b"old content"


def test_chunks_are_written_one_after_the_other(tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    path.write_bytes(b"before")
    path.chmod(0o600)
    write_chunks_atomic(path, [b"ab", memoryview(b"xcdx")[1:3], b"", b"e" * 100_000])
    assert path.read_bytes() == b"abcd" + b"e" * 100_000
    assert path.stat().st_mode & 0o777 == 0o600  # an existing file's bits are kept
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]  # no temporary file left


def test_short_writes_go_on_from_where_they_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from reprobuild import _fs

    real = os.writev
    calls: list[int] = []

    def short(fd: int, buffers: list[bytes | memoryview]) -> int:
        calls.append(len(buffers))
        joined = b"".join(bytes(b) for b in buffers)
        return real(fd, [joined[:7]])  # at most 7 bytes a call

    monkeypatch.setattr(os, "writev", short)
    monkeypatch.setattr(_fs, "_iov_max", lambda: 3)
    chunks: list[bytes | memoryview] = [b"", b"abc", memoryview(b"-defghij-")[1:-1], b""]
    chunks += [b"", b"klmnopqrstu", b"v" * 20]
    path = tmp_path / "out.bin"
    write_chunks_atomic(path, chunks)
    assert path.read_bytes() == b"".join(bytes(c) for c in chunks)
    assert max(calls) <= 3
