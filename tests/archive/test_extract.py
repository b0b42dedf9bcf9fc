"""The extractor writes nothing outside its folder, even handed an archive nobody checked.

Each hostile archive here is built as a model, never read through ``parse_archive``, so the
checks of :mod:`reprobuild.archive.safety` never see it: the extractor is the only layer left.
A canary folder beside the extraction folder must stay as it was, and a refused archive must
leave no extraction folder behind.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from reprobuild.archive import Archive, Container, Member, MemberKind
from reprobuild.archive.extract import extract_archive
from reprobuild.errors import UnsafeArchiveError


def _dir(name: str) -> Member:
    return Member(name=name, kind=MemberKind.DIR, mode=0o755)


def _link(name: str, target: str) -> Member:
    return Member(name=name, kind=MemberKind.SYMLINK, mode=0o777, link_target=target)


def _hard(name: str, target: str) -> Member:
    return Member(name=name, kind=MemberKind.HARDLINK, link_target=target)


def _tar(*members: Member) -> Archive:
    return Archive(container=Container.TAR, members=(_dir("p/"), *members))


def _snapshot(folder: Path) -> list[tuple[str, bool, bytes]]:
    """Every path below ``folder`` with whether it is a link and its content (or target)."""
    out = []
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            out.append((str(path.relative_to(folder)), True, str(path.readlink()).encode()))
        elif path.is_file():
            out.append((str(path.relative_to(folder)), False, path.read_bytes()))
        else:
            out.append((str(path.relative_to(folder)), False, b""))
    return out


@pytest.fixture
def place(tmp_path: Path) -> tuple[Path, Path]:
    """(extraction folder, not yet made; canary folder beside it, with a secret)."""
    canary = tmp_path / "canary"
    canary.mkdir()
    (canary / "secret").write_bytes(b"do not read me\n")
    work = tmp_path / "deep" / "er"
    work.mkdir(parents=True)
    return work / "unpacked", canary


def _mode(mode: int | None) -> int:
    return 0o644 if mode is None else mode & 0o777


CHAIN = (_link("p/a", ".."), _link("p/a/b", ".."), _link("p/a/b/c", ".."))

HOSTILE = {
    # the write case: each link looks inside, the chain leads three levels up
    "chain-write": _tar(*CHAIN, Member.from_bytes("p/a/b/c/PWNED", b"x\n")),
    # the read case: a hard link whose source goes through the chain
    "chain-hardlink": _tar(*CHAIN, _hard("p/stolen", "p/a/b/c/canary/secret")),
    # a link resolved later: its target goes through the chain
    "chain-symlink": _tar(*CHAIN, _link("p/stolen", "a/b/c/canary/secret")),
    # order: the first link looks inside until the second one is made
    "later-link": _tar(_link("p/l", "d/../../canary"), _link("p/d", "..")),
    "dotdot": _tar(Member.from_bytes("p/../../evil", b"x")),
    "absolute": _tar(Member.from_bytes("/tmp/evil", b"x")),
    "symlink-absolute": _tar(_link("p/l", "/etc")),
    "write-through-link": _tar(_link("p/l", "../../.."), Member.from_bytes("p/l/evil", b"x")),
    "file-over-link": _tar(_link("p/l", "x"), Member.from_bytes("p/l", b"x")),
    "hardlink-to-dir": _tar(_dir("p/d/"), _hard("p/h", "p/d")),
    "hardlink-to-nothing": _tar(_hard("p/h", "p/nothing")),
    "hardlink-absolute": _tar(_hard("p/h", "/etc/passwd")),
    "loop": _tar(_link("p/x", "y"), _link("p/y", "x"), Member.from_bytes("p/x/f", b"x")),
    "duplicate-different": _tar(Member.from_bytes("p/f", b"1"), Member.from_bytes("p/f", b"2")),
    "file-as-folder": _tar(Member.from_bytes("p/f", b"1"), Member.from_bytes("p/f/g", b"2")),
    "deep": _tar(Member.from_bytes("p/" + "a/" * 10_000 + "x", b"x")),
    "long-component": _tar(Member.from_bytes("p/" + "x" * 300, b"x")),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_archive_is_refused_and_nothing_is_left(
    case: str, place: tuple[Path, Path]
) -> None:
    target, canary = place
    before = _snapshot(target.parent.parent.parent)
    with pytest.raises(UnsafeArchiveError) as caught:
        extract_archive(HOSTILE[case], target, file_mode=_mode)
    assert caught.value.member  # the member is named
    assert not target.exists() and not target.is_symlink()  # nothing half-written
    assert _snapshot(target.parent.parent.parent) == before  # nothing outside either
    assert (canary / "secret").read_bytes() == b"do not read me\n"


def test_legitimate_links_inside_are_unpacked(place: tuple[Path, Path]) -> None:
    target, _ = place
    archive = _tar(
        Member.from_bytes("p/LICENSE", b"MIT\n"),
        _dir("p/pkg/"),
        _link("p/pkg/LICENSE", "../LICENSE"),
        _link("p/docs", "pkg"),
        Member.from_bytes("p/docs/index.txt", b"docs\n", mode=0o755),
        _hard("p/copy", "p/docs/index.txt"),
        _link("p/dangling", "not-yet/there"),
        Member.from_bytes("p/LICENSE", b"MIT\n"),  # an identical copy, as some sdists have
    )
    written = extract_archive(archive, target, file_mode=_mode)
    assert written[0] == target / "p"
    assert written[5] == target / "p" / "pkg" / "index.txt"  # through the link inside
    assert written[-1] == written[1]
    assert (target / "p" / "pkg" / "LICENSE").read_bytes() == b"MIT\n"
    assert (target / "p" / "pkg" / "index.txt").read_bytes() == b"docs\n"
    assert stat.S_IMODE((target / "p" / "pkg" / "index.txt").stat().st_mode) == 0o755
    copy = target / "p" / "copy"
    assert not copy.is_symlink() and copy.read_bytes() == b"docs\n"
    assert (target / "p" / "dangling").is_symlink()


def test_an_existing_folder_is_not_unpacked_into(place: tuple[Path, Path]) -> None:
    target, _ = place
    target.mkdir()
    with pytest.raises(FileExistsError):
        extract_archive(_tar(), target, file_mode=_mode)
