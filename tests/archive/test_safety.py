"""The checks every archive passes before anything is written from it."""

from __future__ import annotations

import pytest

from reprobuild.archive import (
    DEFAULT_LIMITS,
    Archive,
    Container,
    Limits,
    Member,
    MemberKind,
    parse_archive,
)
from reprobuild.archive.safety import check_archive, check_name
from reprobuild.errors import UnsafeArchiveError
from tests.factories import make_tar


@pytest.mark.parametrize(
    "name", ["", "/etc/passwd", "\\evil", "C:/evil", "a/../../b", "..", "a\\..\\b", "a\x00b"]
)
def test_unsafe_names(name: str) -> None:
    with pytest.raises(UnsafeArchiveError):
        check_name(name)


@pytest.mark.parametrize("name", ["a", "a/b/c.py", "a..b", "...", "a/./b"])
def test_safe_names(name: str) -> None:
    check_name(name)


def _link(name: str, target: str, kind: MemberKind = MemberKind.SYMLINK) -> Archive:
    members = (
        Member(name="top/", kind=MemberKind.DIR),
        Member(name="top/file"),
        Member(name=name, kind=kind, link_target=target),
    )
    return Archive(container=Container.TAR, members=members)


@pytest.mark.parametrize("target", ["file", "./file", "sub/../file", "."])
def test_links_inside_are_accepted(target: str) -> None:
    check_archive(_link("top/link", target), DEFAULT_LIMITS)


@pytest.mark.parametrize("target", ["../../etc/passwd", "/etc/passwd", "../..", ""])
def test_symlinks_out_are_refused(target: str) -> None:
    with pytest.raises(UnsafeArchiveError) as caught:
        check_archive(_link("top/link", target), DEFAULT_LIMITS)
    assert caught.value.member == "top/link"


def test_hard_link_must_name_an_earlier_member() -> None:
    check_archive(_link("top/hard", "top/file", MemberKind.HARDLINK), DEFAULT_LIMITS)
    with pytest.raises(UnsafeArchiveError, match="not an earlier member"):
        check_archive(_link("top/hard", "top/other", MemberKind.HARDLINK), DEFAULT_LIMITS)


def test_member_count_and_total_size_limits() -> None:
    archive = Archive(
        container=Container.TAR,
        members=tuple(Member(name=f"m{i}", size=10) for i in range(5)),
    )
    with pytest.raises(UnsafeArchiveError, match="more than the limit"):
        check_archive(archive, Limits(max_members=4))
    with pytest.raises(UnsafeArchiveError, match="expand to more than"):
        check_archive(archive, Limits(max_total_size=45))


def test_duplicates_refused_unless_allowed() -> None:
    data = make_tar({"a.txt": b"1"})
    header_and_data = data[:1024]  # one header block and one data block
    twice = header_and_data + header_and_data + b"\x00" * 1024
    with pytest.raises(UnsafeArchiveError, match="duplicate member"):
        parse_archive(twice)
    archive = parse_archive(twice, allow_duplicates=True)
    assert [m.name for m in archive.members] == ["a.txt", "a.txt"]


def test_identical_duplicates_only_when_asked_and_only_when_identical() -> None:
    """An sdist that lists one file twice with the same bytes (pdm-backend has made such)
    unpacks the same whichever copy wins; two different copies stay ambiguous."""
    same = make_tar({"a.txt": b"1"})[:1024]
    other = make_tar({"a.txt": b"2"})[:1024]
    end = b"\x00" * 1024
    archive = parse_archive(same + same + end, identical_duplicates=True)
    assert [m.name for m in archive.members] == ["a.txt", "a.txt"]
    with pytest.raises(UnsafeArchiveError, match="duplicate member"):
        parse_archive(same + same + end)
    with pytest.raises(UnsafeArchiveError, match="duplicate member"):
        parse_archive(same + other + end, identical_duplicates=True)


def _archive(*members: Member) -> Archive:
    return Archive(
        container=Container.TAR, members=(Member(name="p/", kind=MemberKind.DIR), *members)
    )


def _symlink(name: str, target: str) -> Member:
    return Member(name=name, kind=MemberKind.SYMLINK, link_target=target)


@pytest.mark.parametrize(
    ("members", "refused"),
    [
        # each link inside by its own name; the second one, where the first leads, is not
        ((_symlink("p/a", ".."), _symlink("p/a/b", ".."), Member(name="p/a/b/x")), "p/a/b"),
        # a file written through a link that leads out
        ((_symlink("p/a", "."), Member(name="p/a/../../x")), "p/a/../../x"),
        # a link that is inside until a later link makes it lead out
        ((_symlink("p/l", "d/../../etc"), _symlink("p/d", "..")), "p/l"),
        # a hard link whose source goes through a link out
        (
            (
                _symlink("p/a", ".."),
                Member(name="p/f"),
                Member(name="p/h", kind=MemberKind.HARDLINK, link_target="p/a/p/a/../f"),
            ),
            "p/h",
        ),
        # a loop
        ((_symlink("p/x", "y"), _symlink("p/y", "x"), Member(name="p/x/f")), "p/x/f"),
    ],
)
def test_links_are_followed_through_earlier_links(
    members: tuple[Member, ...], refused: str
) -> None:
    with pytest.raises(UnsafeArchiveError) as caught:
        check_archive(_archive(*members), DEFAULT_LIMITS)
    assert caught.value.member == refused


def test_links_inside_through_links_inside_are_accepted() -> None:
    check_archive(
        _archive(
            Member(name="p/LICENSE"),
            Member(name="p/pkg/", kind=MemberKind.DIR),
            _symlink("p/pkg/LICENSE", "../LICENSE"),
            _symlink("p/docs", "pkg"),
            Member(name="p/docs/index.txt"),
            Member(name="p/h", kind=MemberKind.HARDLINK, link_target="p/docs/index.txt"),
            _symlink("p/dangling", "not/there/yet"),
        ),
        DEFAULT_LIMITS,
    )


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("p/" + "a/" * 10_000 + "x", "more than the limit of 4096"),
        ("p/" + "a/" * 300 + "x", "folders deep"),
        ("p/" + "x" * 256, "more than the limit of 255"),
        ("p/" + "é" * 128, "more than the limit of 255"),  # 256 bytes in UTF-8
    ],
)
def test_names_no_file_system_unpacks_are_refused(name: str, message: str) -> None:
    with pytest.raises(UnsafeArchiveError, match=message):
        check_name(name)
    check_name("p/" + "a/" * 200 + "x" * 255)
