"""The action cache: records round-trip, and a record that does not hold is never used."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reprobuild.cache import (
    ActionResult,
    LocalCache,
    Output,
    Rejected,
    Status,
    parse_action_result,
    utc_now,
)
from reprobuild.errors import CacheError, UsageError
from tests.cache.helpers import blob_path, flip_byte, key, result_of

_hex = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
_outputs = st.lists(
    st.builds(
        Output,
        name=st.text(min_size=1).filter(lambda s: "\0" not in s),
        digest=_hex,
        size=st.integers(min_value=0, max_value=2**62),
    ),
    max_size=5,
    unique_by=lambda o: o.name,
).map(tuple)
_times = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(9999, 1, 1), timezones=st.just(UTC)
).map(lambda moment: moment.isoformat())
_results = st.builds(
    ActionResult,
    outputs=_outputs,
    status=st.sampled_from(Status),
    exit_code=st.none() | st.integers(min_value=-(2**31), max_value=2**31),
    log_digest=st.none() | _hex,
    timings=st.dictionaries(
        st.text(), st.floats(min_value=0, allow_nan=False, allow_infinity=False), max_size=5
    ),
    where=st.text(),
    created=_times,
    extra=st.dictionaries(st.text(), st.text(), max_size=5),
)


@given(_results)
def test_an_action_result_round_trips_through_json(result: ActionResult) -> None:
    data = result.to_json()
    assert ActionResult.from_json(data) == result
    assert parse_action_result(data).to_json() == data  # the same result, the same bytes


def test_the_record_is_sorted_compact_json_with_a_schema_version() -> None:
    data = result_of(created="2024-05-01T12:00:00Z").to_json()
    doc = json.loads(data)
    assert doc["schema_version"] == 1
    assert list(doc) == sorted(doc)
    assert b" " not in data


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[LocalCache]:
    with LocalCache(tmp_path / "store") as local:
        yield local


def test_put_then_get(cache: LocalCache) -> None:
    wheel = cache.store.put_bytes(b"wheel")
    log = cache.store.put_bytes(b"build log")
    result = result_of(wheel, log=log, created=utc_now())
    cache.actions.put(key(1), result)
    assert cache.actions.get(key(1)) == result
    assert cache.actions.get(key(1), verify=False) == result
    assert cache.actions.get(key(2)) is None
    assert cache.stats().actions == 1


def test_a_newer_record_replaces_the_older(cache: LocalCache) -> None:
    first = cache.store.put_bytes(b"first")
    second = cache.store.put_bytes(b"second")
    cache.actions.put(key(1), result_of(first))
    cache.actions.put(key(1), result_of(second))
    got = cache.actions.get(key(1))
    assert got is not None and got.outputs[0].digest == second.digest
    assert cache.stats().actions == 1
    assert list((cache.root / "tmp").iterdir()) == []


@pytest.mark.parametrize("bad", ["../" + "a" * 61, "A" * 64, "short"])
def test_a_bad_key_is_a_usage_error(cache: LocalCache, bad: str) -> None:
    with pytest.raises(UsageError, match="action key"):
        cache.actions.get(bad)
    with pytest.raises(UsageError, match="action key"):
        cache.actions.put(bad, result_of())


def test_a_record_pointing_at_a_missing_blob_is_rejected_and_reported(
    tmp_path: Path,
) -> None:
    seen: list[Rejected] = []
    with LocalCache(tmp_path / "store", on_reject=seen.append) as cache:
        wheel = cache.store.put_bytes(b"wheel")
        cache.actions.put(key(1), result_of(wheel))
        cache.store.remove(wheel.digest)
        assert cache.actions.get(key(1)) is None
        (rejected,) = seen
        assert rejected.key == key(1)
        assert wheel.digest in rejected.reason and "missing" in rejected.reason
        assert rejected.quarantined is not None and Path(rejected.quarantined).is_file()
        # set aside: the next look is a plain miss, not a second report
        assert cache.actions.get(key(1)) is None
        assert len(seen) == 1
        stats = cache.stats()
        assert (stats.actions, stats.rejected) == (0, 1)


def test_a_record_pointing_at_a_corrupt_blob_is_rejected(tmp_path: Path) -> None:
    seen: list[Rejected] = []
    with LocalCache(tmp_path / "store", on_reject=seen.append) as cache:
        wheel = cache.store.put_bytes(b"wheel bytes")
        cache.actions.put(key(1), result_of(wheel))
        flip_byte(cache.store, wheel.digest)
        assert cache.actions.lookup(key(1)) == seen[0]
        assert "corrupt" in seen[0].reason
        assert not blob_path(cache.store, wheel.digest).exists()


def test_a_record_whose_blob_has_another_size_is_rejected(tmp_path: Path) -> None:
    seen: list[Rejected] = []
    with LocalCache(tmp_path / "store", on_reject=seen.append) as cache:
        wheel = cache.store.put_bytes(b"wheel bytes")
        cache.actions.put(key(1), result_of(wheel))
        path = blob_path(cache.store, wheel.digest)
        path.chmod(0o644)
        path.write_bytes(b"wheel")
        assert cache.actions.get(key(1), verify=False) is None
        assert "has 5 bytes, not 11" in seen[0].reason


def _record_path(cache: LocalCache, k: str) -> Path:
    return cache.root / "ac" / k[:2] / k


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x00\xff garbage", "not JSON"),
        (b"[]", "not a JSON object"),
        (b'{"schema_version": 2}', "schema 2"),
        (b'{"schema_version": 1, "schema_version": 1}', "twice"),
        (b'{"schema_version": 1}', "missing"),
        (b"x" * (2**20 + 1), "at most"),
    ],
)
def test_a_malformed_record_is_rejected(tmp_path: Path, data: bytes, reason: str) -> None:
    seen: list[Rejected] = []
    with LocalCache(tmp_path / "store", on_reject=seen.append) as cache:
        path = _record_path(cache, key(7))
        path.parent.mkdir(parents=True)
        path.write_bytes(data)
        assert cache.actions.get(key(7)) is None
        (rejected,) = seen
        assert reason in rejected.reason
        assert not path.exists()
    with pytest.raises(CacheError, match=reason):
        parse_action_result(data)


def _good_doc() -> dict[str, object]:
    doc: dict[str, object] = json.loads(result_of(created="2024-05-01T12:00:00Z").to_json())
    return doc


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "maybe"),
        ("status", 1),
        ("exit_code", "0"),
        ("exit_code", True),
        ("log_digest", "../../etc/passwd"),
        ("timings", {"build": -1}),
        ("timings", {"build": "1"}),
        ("timings", []),
        ("created", "2024-05-01T12:00:00+02:00"),
        ("created", "yesterday"),
        ("extra", {"a": 1}),
        ("outputs", [{"name": "a", "digest": "0" * 64}]),
        ("outputs", [{"name": "a", "digest": "0" * 63, "size": 1}]),
        ("outputs", [{"name": "a", "digest": "0" * 64, "size": -1}]),
        ("outputs", [{"name": "a", "digest": "0" * 64, "size": True}]),
        ("outputs", [{"name": "a", "digest": "0" * 64, "size": 1}] * 2),
        ("outputs", [{"name": "", "digest": "0" * 64, "size": 1}]),
        ("unknown", "field"),
    ],
)
def test_the_parser_is_strict(field: str, value: object) -> None:
    doc = _good_doc()
    doc[field] = value
    with pytest.raises(CacheError):
        parse_action_result(json.dumps(doc).encode())


def test_nan_is_not_a_timing() -> None:
    text = result_of(created="2024-05-01T12:00:00Z").to_json().replace(b"1.25", b"NaN")
    with pytest.raises(CacheError, match="not a number"):
        parse_action_result(text)


def test_constructing_a_bad_result_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        Output(name="a", digest="nothex", size=1)
    with pytest.raises(UsageError):
        ActionResult(outputs=(), status=Status.FAILED, where="", created="not a time")
    with pytest.raises(UsageError):
        ActionResult(
            outputs=(), status=Status.FAILED, where="", created=utc_now(), timings={"x": -1.0}
        )


def test_a_result_copies_its_mappings_and_hashes() -> None:
    timings = {"build": 1.0}
    result = ActionResult(
        outputs=(), status=Status.FAILED, exit_code=1, where="w", created=utc_now(), timings=timings
    )
    timings["build"] = 2.0
    assert result.timings == {"build": 1.0}
    assert hash(result) == hash(result)
