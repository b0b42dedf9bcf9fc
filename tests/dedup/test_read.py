"""Reading packages into the dedup model: conda (both formats), wheels, sdists, folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from reprobuild.archive import MemberKind
from reprobuild.dedup import PackageFormat, find_packages, read_package
from reprobuild.dedup.conda import PREFIX_TOKEN, prefix_digest
from reprobuild.errors import ArchiveError, UsageError
from tests.dedup.data import conda_data, make_conda
from tests.factories import make_sdist, make_wheel


def test_a_conda_package_in_both_formats_reads_as_the_same_members() -> None:
    folder = conda_data() / "hotfix" / "osx-64"
    a = read_package(folder / "remove_test-1.0-0.conda")
    b = read_package(folder / "remove_test-1.0-0.tar.bz2")
    assert a.format is PackageFormat.CONDA and b.format is PackageFormat.CONDA_TAR_BZ2
    assert a.sha256 != b.sha256
    assert sorted(a.entries, key=lambda e: e.path) == sorted(b.entries, key=lambda e: e.path)
    assert a.content("info/index.json") == b.content("info/index.json") is not None


def test_members_carry_kind_executable_bit_size_and_digest() -> None:
    package = read_package(
        conda_data() / "archives" / "conda-index-pkg-a-1.0-py27h5e241af_0.tar.bz2"
    )
    script = next(e for e in package.entries if e.path == "bin/conda-index-pkg-a")
    assert script.kind is MemberKind.FILE and script.executable and script.size == 247
    # listed in info/has_prefix: hashed a second way, with the prefix replaced
    assert script.prefix_sha256 is not None and script.prefix_sha256 != script.sha256
    source = next(e for e in package.entries if e.path.endswith("conda_index_pkg_a/__init__.py"))
    assert not source.executable and source.prefix_sha256 is None


def test_a_prefix_listed_after_the_file_is_found_in_a_second_pass(tmp_path: Path) -> None:
    prefix = "/build/_h_env_placehold_placehold"
    data = b"x" * 3 + prefix.encode() + b"tail" + bytes(2 << 20)  # not kept: too large
    for order in ("info-first", "info-last"):
        path = tmp_path / f"demo-{order}.tar.bz2"
        path.write_bytes(make_conda({"lib/big.bin": data}, prefix=prefix, order=order))
        entry = next(e for e in read_package(path).entries if e.path == "lib/big.bin")
        assert entry.prefix_sha256 == prefix_digest(data, prefix)


def test_prefix_digest_replaces_every_occurrence_across_blocks() -> None:
    holder = "/p/placehold"
    data = (b"a" * ((1 << 20) - 5) + holder.encode()) * 2
    expected = prefix_digest(data.replace(holder.encode(), PREFIX_TOKEN), "unused-prefix")
    assert prefix_digest(data, holder) == expected


def test_wheels_and_sdists_read_through_the_archive_reader(tmp_path: Path) -> None:
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    wheel.write_bytes(make_wheel(files={"demo/__init__.py": b"x = 1\n"}))
    sdist = tmp_path / "demo-1.0.tar.gz"
    sdist.write_bytes(make_sdist(files={"demo/__init__.py": b"x = 1\n"}))
    w, s = read_package(wheel), read_package(sdist)
    assert w.format is PackageFormat.WHEEL and s.format is PackageFormat.SDIST
    assert any(e.path == "demo/__init__.py" for e in w.entries)
    assert w.content("demo-1.0.dist-info/METADATA") is not None
    assert any(e.path == "demo-1.0/demo/__init__.py" for e in s.entries)


def test_folders_are_searched_for_packages_in_a_stable_order() -> None:
    found = find_packages([conda_data()])
    assert len(found) == 27
    assert len(set(found)) == 27 and find_packages([conda_data()]) == found
    assert all(p.name.endswith((".conda", ".tar.bz2")) for p in found)  # README.md passed over


def test_a_file_of_another_kind_or_a_missing_path_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("x")
    with pytest.raises(UsageError, match="not a package"):
        find_packages([other])
    with pytest.raises(UsageError, match="no such file"):
        find_packages([tmp_path / "missing.whl"])


@pytest.mark.parametrize("cut", [10, 200, 2000])
def test_a_damaged_conda_package_names_the_file(tmp_path: Path, cut: int) -> None:
    source = conda_data() / "archives" / "conda-index-pkg-a-1.0-py27h5e241af_0"
    for suffix in (".conda", ".tar.bz2"):
        path = tmp_path / f"broken{suffix}"
        path.write_bytes(Path(f"{source}{suffix}").read_bytes()[:cut])
        with pytest.raises(ArchiveError) as caught:
            read_package(path)
        assert caught.value.path == str(path)


def test_a_damaged_wheel_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "demo-1.0-py3-none-any.whl"
    path.write_bytes(make_wheel()[:-30])
    with pytest.raises(ArchiveError) as caught:
        read_package(path)
    assert caught.value.path == str(path)


def test_a_large_member_is_hashed_a_block_at_a_time_and_its_damage_is_found(
    tmp_path: Path,
) -> None:
    import hashlib
    import random

    noise = random.Random(7).randbytes(1 << 20)
    data = noise * 2 + b"x" * (1 << 20) + b"tail"  # above a block and above the whole limit
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    wheel.write_bytes(make_wheel(files={"demo/data.bin": data}))
    (entry,) = [e for e in read_package(wheel).entries if e.path == "demo/data.bin"]
    assert (entry.size, entry.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    raw = bytearray(wheel.read_bytes())
    raw[raw.index(noise[4096:4160]) + 8] ^= 0xFF  # one byte of the stored member changed
    wheel.write_bytes(bytes(raw))
    with pytest.raises(ArchiveError) as caught:
        read_package(wheel)
    assert caught.value.member == "demo/data.bin"
