"""``reprobuild cache``: stats, gc and verify, in text and JSON, and their usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reprobuild import __version__
from reprobuild.cache import LocalCache
from reprobuild.cli.cache import parse_size
from reprobuild.cli.main import main
from tests.cache.helpers import flip_byte, key, result_of


def _filled(cache_dir: Path) -> tuple[str, str]:
    """A cache with two records; the digests of their own blobs."""
    with LocalCache(cache_dir / "store") as cache:
        shared = cache.store.put_bytes(b"s" * 100)
        first = cache.store.put_bytes(b"a" * 1000)
        second = cache.store.put_bytes(b"b" * 10)
        cache.actions.put(key(1), result_of(first, shared))
        cache.actions.put(key(2), result_of(second, shared))
    return first.digest, second.digest


def _json(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    doc: dict[str, object] = json.loads(capsys.readouterr().out)
    assert doc["schema_version"] == 1
    assert doc["tool"] == {"name": "reprobuild", "version": __version__}
    assert doc["command"] == "cache"
    return doc


def test_stats_of_a_cache_never_used(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cache", "stats", "--cache-dir", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert "blobs: 0 (0 bytes)" in out
    assert not (tmp_path / "c").exists()  # looking makes nothing


def test_stats_text_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _filled(tmp_path)
    assert main(["cache", "stats", "--cache-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "blobs: 3 (1.1 KiB)" in out
    assert "action records: 2" in out
    assert main(["cache", "stats", "--cache-dir", str(tmp_path), "--format", "json"]) == 0
    doc = _json(capsys)
    assert doc["subcommand"] == "stats"
    assert (doc["blobs"], doc["blob_bytes"], doc["actions"], doc["rejected"]) == (3, 1110, 2, 0)


def test_gc_text_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, _ = _filled(tmp_path)
    argv = ["cache", "gc", "--cache-dir", str(tmp_path), "--max-size", "1K"]
    assert main([*argv, "--format", "json"]) == 0
    doc = _json(capsys)
    assert doc["subcommand"] == "gc"
    assert doc["max_size"] == 1024
    assert doc["evicted_actions"] == [key(1)]
    assert doc["evicted_blobs"] == [first]
    assert (doc["bytes_freed"], doc["size_after"]) == (1000, 110)
    assert main(argv) == 0
    assert "freed 0 bytes: 0 action records and 0 blobs evicted" in capsys.readouterr().out
    assert main(["cache", "gc", "--cache-dir", str(tmp_path), "--max-size", "0"]) == 0
    assert "freed 110 bytes: 1 action record and 2 blobs" in capsys.readouterr().out


def test_verify_clean_then_corrupt(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, _ = _filled(tmp_path)
    assert main(["cache", "verify", "--cache-dir", str(tmp_path)]) == 0
    assert "checked 3 blobs and 2 action records: nothing wrong" in capsys.readouterr().out
    with LocalCache(tmp_path / "store") as cache:
        flip_byte(cache.store, first)
    assert main(["cache", "verify", "--cache-dir", str(tmp_path), "--format", "json"]) == 1
    doc = _json(capsys)
    assert doc["clean"] is False
    assert doc["corrupt_blobs"] == [first]
    broken = doc["broken_actions"]
    assert isinstance(broken, list) and [b["key"] for b in broken] == [key(1)]
    # what was wrong is set aside: the next check is clean
    assert main(["cache", "verify", "--cache-dir", str(tmp_path)]) == 0
    assert "nothing wrong" in capsys.readouterr().out


def test_verify_text_names_what_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, _ = _filled(tmp_path)
    with LocalCache(tmp_path / "store") as cache:
        flip_byte(cache.store, first)
    assert main(["cache", "verify", "--cache-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"corrupt blob {first}: set aside" in out
    assert f"broken action record {key(1)}" in out
    assert "2 entries wrong" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["cache", "gc", "--max-size", "12Q"], "not a size: '12Q'"),
        (["cache", "gc", "--max-size", "-1"], "not a size"),
        (["cache", "gc", "--max-size", "nan"], "not a size"),
        (["cache", "gc"], "--max-size"),
        (["cache"], "required"),
        (["cache", "purge"], "invalid choice"),
        (["cache", "stats", "--format", "html"], "invalid choice"),
    ],
)
def test_bad_usage_exits_2_with_an_error_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert "hint: " in err


def test_a_cache_that_cannot_be_used_exits_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    store.mkdir()
    (store / "index.sqlite").write_bytes(b"not a database" * 100)
    assert main(["cache", "stats", "--cache-dir", str(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "index.sqlite" in err
    assert "hint: " in err


@pytest.mark.parametrize("argv", [["cache", "--help"], ["cache", "gc", "--help"]])
def test_help_teaches_with_examples(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "reprobuild cache gc --max-size" in out
    assert "exit codes" in out


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("0", 0),
        ("123", 123),
        ("1K", 1024),
        ("512M", 512 << 20),
        ("1.5GiB", 3 << 29),
        ("2tb", 2 << 40),
    ],
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size
