"""Grouping at the four levels, on the real conda packages and on packages made here."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reprobuild.compare import Category
from reprobuild.dedup import (
    DedupReport,
    Level,
    MemberClass,
    Package,
    dedup,
    find_packages,
    manifest_digest,
    read_package,
    view,
)
from tests.dedup.data import conda_data, make_conda


@functools.cache
def _real() -> tuple[Package, ...]:
    return tuple(read_package(p) for p in find_packages([conda_data()]))


@functools.cache
def _report() -> DedupReport:
    return dedup(_real())


def _groups(level: Level) -> list[set[str]]:
    return [
        {Path(p).name + ("@" + Path(p).parent.name) for p in g.packages}
        for g in _report().level(level).merged
    ]


def _digest(package: Package, level: Level) -> str:
    return manifest_digest(view(package, level).entries, level)


def test_the_conda_and_tar_bz2_files_of_one_package_group_at_members_not_bytes() -> None:
    merged = _groups(Level.MEMBERS)
    for name in ("remove_test-1.0-0", "revoke_test-1.0-0", "track_features_test-1.0-0"):
        assert {f"{name}.conda@osx-64", f"{name}.tar.bz2@osx-64"} in merged
    assert not _report().level(Level.BYTES).merged
    group = next(g for g in _report().level(Level.MEMBERS).merged if "remove_test" in g.packages[0])
    (why,) = group.why_apart_before
    assert why.members[0].category is Category.CONTAINER


def test_zlib_for_four_platforms_never_groups() -> None:
    for level in Level:
        for group in _report().level(level).merged:
            platforms = {Path(p).parent.name for p in group.packages if "zlib" in p}
            assert len(platforms) <= 1, (level, group.packages)
    apart = [c for c in _report().apart if "zlib" in c.a]
    assert apart and all(
        any(m.member_class is MemberClass.PAYLOAD for m in c.members) for c in apart
    )


def test_a_symlink_against_a_file_keeps_zlib_s_two_formats_apart() -> None:
    (found,) = [
        c for c in _report().apart if "linux-64" in c.a and "linux-64" in c.b and "zlib" in c.a
    ]
    assert {m.path for m in found.members} == {"lib/libz.so", "lib/libz.so.1"}
    assert all("symlink" in m.comment for m in found.members)


def test_the_py27_and_noarch_builds_group_by_payload_only() -> None:
    pair = {
        "conda-index-pkg-a-1.0-py27h5e241af_0.tar.bz2@archives",
        "conda-index-pkg-a-1.0-pyhed9eced_1.tar.bz2@archives",
    }
    assert pair in _groups(Level.PAYLOAD)
    assert not any(pair <= g for g in _groups(Level.CANONICAL))
    group = next(g for g in _report().level(Level.PAYLOAD).merged if "pkg-a" in g.packages[0])
    (why,) = group.why_apart_before
    rules = {m.rule for m in why.members}
    assert {"python-path", "entry-points", "bytecode", "package-metadata"} <= rules
    moved = [m for m in why.members if m.rule == "python-path"]
    assert all("the same content" in m.comment for m in moved)


def test_each_level_groups_at_least_what_the_one_before_groups() -> None:
    for package in _real():
        for other in _real():
            equal = False
            for level in Level:
                same = _digest(package, level) == _digest(other, level)
                assert same or not equal, (package.path, other.path, level)
                equal = same


def test_savings_count_all_but_the_smallest_of_each_group() -> None:
    members = _report().level(Level.MEMBERS)
    assert members.downloads_saved == len(members.merged) == 6
    assert members.bytes_saved == sum(g.bytes_saved for g in members.merged) > 200_000
    assert _report().level(Level.PAYLOAD).downloads_saved == 7
    assert _report().distinct_member_bytes < _report().member_bytes


def _write(tmp_path: Path, name: str, data: bytes) -> Package:
    path = tmp_path / name
    path.write_bytes(data)
    return read_package(path)


_FILES = {
    "lib/python3.8/site-packages/demo/__init__.py": b"VALUE = 1\n",
    "lib/python3.8/site-packages/demo/__pycache__/__init__.cpython-38.pyc": b"\x55\x0d\r\n...",
    "share/demo/data.txt": b"payload\n" * 10,
}


def test_two_builds_at_other_times_group_at_canonical_with_the_rules_named(
    tmp_path: Path,
) -> None:
    prefix_a, prefix_b = "/b/demo_1600/_h_env_placehold", "/b/demo_1700/_h_env_placehold"
    files_a = {**_FILES, "bin/demo-config": f"prefix={prefix_a}\n".encode()}
    files_b = {**_FILES, "bin/demo-config": f"prefix={prefix_b}\n".encode()}
    a = _write(tmp_path, "a.tar.bz2", make_conda(files_a, prefix=prefix_a))
    b = _write(
        tmp_path,
        "b.tar.bz2",
        make_conda(
            files_b,
            prefix=prefix_b,
            timestamp=1_700_000_000_000,
            mtime=1_700_000_000,
            about={"conda_build_version": "24.1.0", "license": "MIT"},
            order="info-last",
        ),
    )
    report = dedup([a, b])
    assert not report.level(Level.MEMBERS).merged
    (group,) = report.level(Level.CANONICAL).merged
    (why,) = group.why_apart_before
    found = {m.path: m for m in why.members}
    assert found["info/index.json"].rule == "conda-index"
    assert found["info/index.json"].member_class is MemberClass.VOLATILE
    assert found["info/about.json"].member_class is MemberClass.PROVENANCE
    assert found["bin/demo-config"].rule == "conda-prefix"
    assert found["info/paths.json"].member_class is MemberClass.DERIVED


def test_python_variants_group_by_payload(tmp_path: Path) -> None:
    py39 = {k.replace("python3.8", "python3.9").replace("38", "39"): v for k, v in _FILES.items()}
    a = _write(tmp_path, "a.tar.bz2", make_conda(_FILES, build="py38_0"))
    b = _write(tmp_path, "b.tar.bz2", make_conda(py39, build="py39_0"))
    report = dedup([a, b])
    assert not report.level(Level.CANONICAL).merged
    assert len(report.level(Level.PAYLOAD).merged) == 1


def test_packages_of_other_names_with_one_payload_stay_apart(tmp_path: Path) -> None:
    a = _write(tmp_path, "a.tar.bz2", make_conda({}, name="one"))
    b = _write(tmp_path, "b.tar.bz2", make_conda({}, name="two"))
    assert not dedup([a, b]).level(Level.PAYLOAD).merged


_PAYLOAD = "share/demo/data.txt"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    position=st.integers(min_value=0, max_value=len(_FILES[_PAYLOAD]) - 1),
    value=st.integers(min_value=0, max_value=255),
)
def test_changing_one_byte_of_payload_splits_the_group_at_every_level(
    tmp_path: Path, position: int, value: int
) -> None:
    data = _FILES[_PAYLOAD]
    if data[position] == value:
        return
    changed = {**_FILES, _PAYLOAD: data[:position] + bytes([value]) + data[position + 1 :]}
    a = _write(tmp_path, "a.tar.bz2", make_conda(_FILES))
    b = _write(tmp_path, "b.tar.bz2", make_conda(changed, timestamp=1))
    for level in Level:
        assert _digest(a, level) != _digest(b, level), level


@pytest.mark.parametrize("level", list(Level))
def test_a_package_groups_with_itself(level: Level) -> None:
    package = _real()[0]
    assert _digest(package, level) == _digest(package, level)


def test_a_level_holds_its_groups_of_one_package_as_a_count_and_makes_them_when_asked() -> None:
    order = [p.path for p in _report().packages]
    for level, count in ((Level.BYTES, 27), (Level.MEMBERS, 21), (Level.PAYLOAD, 20)):
        result = _report().level(level)
        groups = result.groups
        assert result.count == len(groups) == count
        assert [g for g in groups if len(g.packages) > 1] == list(result.merged)
        assert sorted(p for g in groups for p in g.packages) == sorted(order)
        firsts = [order.index(g.packages[0]) for g in groups]
        assert firsts == sorted(firsts)  # in the order of their first package
        alone = [g for g in groups if len(g.packages) == 1]
        assert all(g.bytes_saved == 0 == g.downloads_saved and not g.pairs for g in alone)
        assert all(g.digest == _summary_digest(g.packages[0], level) for g in alone)


def _summary_digest(path: str, level: Level) -> str:
    (summary,) = [p for p in _report().packages if p.path == path]
    return summary.digest(level).hex()
