"""Invariants: ``compare(x, x)`` is None, and ``compare(x, y)`` never raises, for random bytes,
random archives from the factories, and archives with random bytes changed."""

from __future__ import annotations

import tarfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reprobuild.compare import CompareOptions, Difference
from tests.compare.helpers import diff
from tests.factories import RecordOrder, make_sdist, make_tar, make_tar_gz, make_wheel, make_zip

NAMES = [
    "x",
    "x.txt",
    "x.json",
    "x.pyc",
    "x.gz",
    "x.tar",
    "x.tar.gz",
    "x.tar.bz2",
    "x.zip",
    "demo-1.0-py3-none-any.whl",
    "demo-1.0.dist-info/RECORD",
    "demo-1.0.dist-info/METADATA",
    "demo-1.0.dist-info/WHEEL",
    "demo-1.0.dist-info/entry_points.txt",
    "demo-1.0/PKG-INFO",
]
#: Starts that send random bytes down each comparator's path.
MAGIC = [
    b"",
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"\x1f\x8b\x08\x00",
    b"BZh9",
    b"\xfd7zXZ\x00",
    b"{",
    b"[",
]

settings.register_profile(
    "compare", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=150
)
SETTINGS = settings.get_profile("compare")


def _well_formed(found: Difference | None) -> None:
    """Every node has names; every leaf, a category; counts and the summary work."""
    assert found is not None
    for node in found.walk():
        assert node.source_a and node.source_b
        if not node.children:
            assert node.category is not None or node.comment is not None
    assert found.counts() or found.comment
    assert found.summary()


random_bytes = st.builds(lambda m, tail: m + tail, st.sampled_from(MAGIC), st.binary(max_size=600))


@SETTINGS
@given(st.sampled_from(NAMES), random_bytes)
def test_random_bytes_equal_themselves(name: str, data: bytes) -> None:
    assert diff(data, data, name) is None


@SETTINGS
@given(st.sampled_from(NAMES), random_bytes, random_bytes)
def test_random_bytes_never_raise(name: str, a: bytes, b: bytes) -> None:
    found = diff(a, b, name)
    if a == b:
        assert found is None
    else:
        _well_formed(found)


paths = st.from_regex(r"[a-c]{1,3}(/[a-c]{1,3}){0,2}\.(py|txt|json|pyc)", fullmatch=True)
contents = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(str.encode),
    st.lists(st.sampled_from(["a", "b", "c", 1, 2]), max_size=6).map(
        lambda v: repr(v).replace("'", '"').encode()
    ),
)
files = st.dictionaries(paths, contents, min_size=1, max_size=5)


@st.composite
def archives(draw: st.DrawFn) -> tuple[str, bytes]:
    """A random archive from the factories, with a few random knobs."""
    chosen = draw(files)
    kind = draw(st.sampled_from(["zip", "wheel", "tar", "tar.gz", "sdist"]))
    mode = draw(st.sampled_from([0o644, 0o755, 0o600]))
    if kind == "zip":
        level = draw(st.sampled_from([1, 6, 9]))
        return "x.zip", make_zip(chosen, mode=mode, compress_level=level)
    if kind == "wheel":
        order: RecordOrder = draw(st.sampled_from(["sorted", "reverse", "as-written"]))
        return "demo-1.0-py3-none-any.whl", make_wheel(files=chosen, mode=mode, record_order=order)
    fmt = draw(st.sampled_from([tarfile.PAX_FORMAT, tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT]))
    mtime = draw(st.sampled_from([0, 1_700_000_000, 1_700_000_000.5]))
    if kind == "tar":
        return "x.tar", make_tar(chosen, mode=mode, fmt=fmt, mtime=mtime)
    uid = draw(st.sampled_from([0, 1000]))
    if kind == "tar.gz":
        return "x.tar.gz", make_tar_gz(chosen, mode=mode, fmt=fmt, uid=uid, mtime=mtime)
    return "demo-1.0.tar.gz", make_sdist(files=chosen, mode=mode, fmt=fmt, uid=uid, mtime=mtime)


@SETTINGS
@given(archives())
def test_an_archive_equals_itself(archive: tuple[str, bytes]) -> None:
    name, data = archive
    assert diff(data, data, name) is None


@SETTINGS
@given(archives(), archives())
def test_two_archives_never_raise(one: tuple[str, bytes], two: tuple[str, bytes]) -> None:
    found = diff(one[1], two[1], one[0], two[0], options=CompareOptions(max_diff_lines=20))
    if one[1] == two[1]:
        assert found is None
    else:
        _well_formed(found)


@SETTINGS
@given(
    archives(),
    st.lists(st.tuples(st.integers(min_value=0), st.integers(1, 255)), min_size=1, max_size=4),
)
def test_damaged_archives_never_raise(
    archive: tuple[str, bytes], damage: list[tuple[int, int]]
) -> None:
    name, data = archive
    damaged = bytearray(data)
    for position, flip in damage:
        damaged[position % len(damaged)] ^= flip
    found = diff(data, bytes(damaged), name)
    if bytes(damaged) == data:
        assert found is None
    else:
        _well_formed(found)


@SETTINGS
@given(archives())
def test_a_truncated_archive_never_raises(archive: tuple[str, bytes]) -> None:
    name, data = archive
    _well_formed(diff(data, data[: len(data) // 2], name))


@given(
    a=st.integers(min_value=0, max_value=2**33).map(lambda n: n / 4),
    b=st.integers(min_value=0, max_value=2**33).map(lambda n: n / 4),
)
def test_times_shown_reads_back_what_format_time_wrote(a: float, b: float) -> None:
    from reprobuild.compare.nodes import format_time, times_shown

    comment = f"mtime: {format_time(a)} vs {format_time(b)}; mode: 0o644 vs 0o600"
    assert times_shown(comment) == [(a, b)]
