"""The wheels built from sdists are kept by sha256, each in a folder of its own, found again by
the key of their build, and never taken when their bytes changed."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from reprobuild._types import JSONValue
from reprobuild.frontend.wheelhouse import (
    find_built,
    kept_wheels,
    load_built,
    source_key,
    store_built,
)
from tests.factories import make_wheel, wheel_filename

BOX: JSONValue = {"kind": "bwrap", "version": "0.11.0"}


def _key(**changes: object) -> str:
    fields: dict[str, object] = {
        "sdist_sha256": "a" * 64,
        "implementation": "cpython",
        "python_version": "3.11.7",
        "exclude_newer": datetime(2019, 1, 7, tzinfo=UTC),
        "sandbox": BOX,
    }
    fields.update(changes)
    return source_key(**fields)  # type: ignore[arg-type]


def _store(tmp_path: Path, key: str, data: bytes) -> Path:
    wheel = tmp_path / "out" / wheel_filename("demo", "1.0")
    wheel.parent.mkdir(exist_ok=True)
    wheel.write_bytes(data)
    store_built(
        tmp_path / "cache",
        key,
        wheel,
        name="demo",
        version="1.0",
        sdist="demo-1.0.tar.gz",
        sdist_sha256="a" * 64,
        sdist_url="file:///index/demo-1.0.tar.gz",
        sandbox=BOX,
    )
    return wheel


def test_a_kept_wheel_is_found_by_its_key_in_a_folder_named_by_its_sha256(
    tmp_path: Path,
) -> None:
    data = make_wheel("demo", "1.0")
    _store(tmp_path, _key(), data)
    found = find_built(tmp_path / "cache", _key())
    assert found is not None
    digest = hashlib.sha256(data).hexdigest()
    assert found.sha256 == digest
    assert found.path == tmp_path / "cache" / "wheels" / digest / wheel_filename("demo", "1.0")
    assert found.path.read_bytes() == data
    assert [p.name for p in found.folder.iterdir()] == [found.path.name]  # nothing else offered
    assert kept_wheels(found.folder) == (found,)
    assert found.to_json()["sandbox"] == BOX
    assert find_built(tmp_path / "cache", _key(python_version="3.7.16")) is None


def test_the_key_changes_with_each_input_and_a_naive_cutoff_is_utc() -> None:
    keys = {
        _key(),
        _key(sdist_sha256="b" * 64),
        _key(implementation="pypy"),
        _key(python_version="3.12.0"),
        _key(exclude_newer=None),
        _key(sandbox={"kind": "none"}),
    }
    assert len(keys) == 6
    assert _key(exclude_newer=datetime(2019, 1, 7)) == _key()


def test_a_changed_wheel_is_not_taken_and_storing_again_repairs_it(tmp_path: Path) -> None:
    data = make_wheel("demo", "1.0")
    _store(tmp_path, _key(), data)
    kept = find_built(tmp_path / "cache", _key())
    assert kept is not None
    kept.path.write_bytes(data + b"planted")
    assert find_built(tmp_path / "cache", _key()) is None
    assert load_built(kept.path) is None
    assert kept_wheels(kept.folder) == ()
    _store(tmp_path, _key(), data)
    assert find_built(tmp_path / "cache", _key()) == kept
    assert sorted(p.name for p in kept.folder.iterdir()) == [kept.path.name]  # no temporary left


def test_a_path_outside_the_wheelhouse_is_not_a_kept_wheel(tmp_path: Path) -> None:
    wheel = tmp_path / wheel_filename("demo", "1.0")
    wheel.write_bytes(make_wheel("demo", "1.0"))
    assert load_built(wheel) is None
    assert kept_wheels(tmp_path / "missing") == ()
