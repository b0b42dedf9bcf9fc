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


def _many_members(tmp_path: Path, count: int = 150) -> Path:
    """A wheel of ``count`` distinct modules (more than a reading task takes), stored, so that
    a test can damage a member's bytes in place."""
    import zipfile

    files = {f"demo/m{n:03}.py": f"value = {n}\n".encode() * (n + 1) for n in range(count)}
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    wheel.write_bytes(make_wheel(files=files, method=zipfile.ZIP_STORED))
    return wheel


def test_with_threads_packages_read_the_same_as_without(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from reprobuild.dedup import ContentDigests
    from reprobuild.dedup.read import read_packages

    wheels = [_many_members(tmp_path)]
    for n in range(3):
        wheels.append(tmp_path / f"other-{n}-py3-none-any.whl")
        wheels[-1].write_bytes(make_wheel(files={"demo/__init__.py": b"x = %d\n" % n}))
    alone = [read_package(w) for w in wheels]
    with ThreadPoolExecutor(3) as ahead, ThreadPoolExecutor(3) as pool:
        shared = ContentDigests()
        side_by_side = list(read_packages(wheels * 2, digests=shared, ahead=ahead, depth=3))
        threaded = list(read_packages(wheels, digests=shared, pool=pool, ahead=ahead))
        again = [read_package(w, digests=shared, pool=pool) for w in wheels]  # all known now
    assert side_by_side == alone * 2 and threaded == alone and again == alone


def test_with_threads_the_first_damaged_member_is_the_one_named(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    wheel = _many_members(tmp_path)
    raw = bytearray(wheel.read_bytes())
    for n in (140, 90, 20):  # in three tasks: the first in file order is named
        raw[raw.index(b"value = %d\n" % n)] ^= 0x20
    wheel.write_bytes(bytes(raw))
    with ThreadPoolExecutor(3) as pool, pytest.raises(ArchiveError) as caught:
        read_package(wheel, pool=pool)
    assert caught.value.member == "demo/m020.py"
    assert "CRC-32" in str(caught.value)


def test_known_contents_are_held_in_a_table_of_fixed_size() -> None:
    from reprobuild.dedup import ContentDigests

    known = ContentDigests(size=4)  # two slots of two
    slot = b"\x08" + bytes(8)  # keys alike in the bytes that choose the slot
    a, b, c = (slot + bytes([n]) * 24 for n in (1, 2, 3))
    found = ("ab" * 32, 0xDEADBEEF, 1 << 40)
    known.put(a, found)
    known.put(b, ("cd" * 32, 1, 2))
    assert known.get(a) == found  # a is now the one used last
    known.put(c, ("ef" * 32, 3, 4))  # takes the place of b, used longest ago
    assert known.get(b) is None
    assert known.get(a) == found and known.get(c) == ("ef" * 32, 3, 4)
    with pytest.raises(ValueError, match="sha256"):
        known.put(b"short", found)


@pytest.mark.parametrize("given", ["{d}", "{d}/", "./{d}/./", "{d}//sub/..//"])
def test_package_files_are_spelled_as_path_objects_spell_them(tmp_path: Path, given: str) -> None:
    import os

    from reprobuild.dedup.read import find_package_files

    (tmp_path / "pkgs" / "sub").mkdir(parents=True)
    for name in ("pkgs/a-1.0-py3-none-any.whl", "pkgs/sub/b-1.0-py3-none-any.whl"):
        (tmp_path / name).write_bytes(make_wheel())
    here = Path.cwd()
    os.chdir(tmp_path)
    try:
        arg = given.format(d="pkgs")
        found = find_package_files([arg])
        assert found == [str(p) for p in find_packages([Path(arg)])]
        assert len(found) == 2
    finally:
        os.chdir(here)


def test_reading_wheels_does_not_load_the_conda_reader(tmp_path: Path) -> None:
    import subprocess
    import sys

    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    wheel.write_bytes(make_wheel())
    code = (
        "import sys; from reprobuild.dedup import read_package; "
        f"read_package({str(wheel)!r}); print('reprobuild.dedup.conda' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_packages_read_side_by_side_come_in_order_up_to_the_first_that_does_not_read(
    tmp_path: Path,
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from reprobuild.dedup.read import read_packages

    paths = []
    for n in range(5):
        paths.append(tmp_path / f"demo{n}-1.0-py3-none-any.whl")
        paths[-1].write_bytes(make_wheel(name=f"demo{n}")[: -30 if n == 3 else None])
    got: list[str] = []
    with ThreadPoolExecutor(3) as ahead, pytest.raises(ArchiveError) as caught:
        for package in read_packages(paths, ahead=ahead, depth=3):
            got.append(package.path)
    assert got == [str(p) for p in paths[:3]]
    assert caught.value.path == str(paths[3])
