"""The tar reader and writer, checked against the standard library's tarfile."""

from __future__ import annotations

import io
import tarfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reprobuild.archive import (
    DEFAULT_LIMITS,
    Archive,
    Container,
    Member,
    MemberKind,
    TarDetails,
    TarFormat,
)
from reprobuild.archive.tarformat import (
    encoded_length,
    looks_like_tar,
    parse_tar,
    record_padding,
    required_pax,
    write_tar,
)
from reprobuild.errors import ArchiveError


def _stdlib_tar(fmt: int, *, mtime: float = 1_600_000_000, long: bool = True) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        names = ["demo-1.0/PKG-INFO", "demo-1.0/é.txt"]
        if long:
            names.append("demo-1.0/" + "x" * 120 + ".py")
        for name in names:
            data = name.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), mtime, 0o664
            info.uid, info.gid, info.uname, info.gname = 1000, 100, "me", "users"
            tf.addfile(info, io.BytesIO(data))
        folder = tarfile.TarInfo("demo-1.0/pkg")
        folder.type, folder.mode, folder.mtime = tarfile.DIRTYPE, 0o755, int(mtime)
        tf.addfile(folder)
        link = tarfile.TarInfo("demo-1.0/link")
        link.type, link.linkname = tarfile.SYMTYPE, "PKG-INFO"
        tf.addfile(link)
        hard = tarfile.TarInfo("demo-1.0/hard")
        hard.type, hard.linkname = tarfile.LNKTYPE, "demo-1.0/PKG-INFO"
        tf.addfile(hard)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT])
def test_stdlib_archives_round_trip_byte_for_byte(fmt: int) -> None:
    raw = _stdlib_tar(fmt, long=fmt != tarfile.USTAR_FORMAT)
    archive = parse_tar(raw, limits=DEFAULT_LIMITS)
    assert write_tar(archive) == raw
    assert parse_tar(write_tar(archive), limits=DEFAULT_LIMITS) == archive


def test_fields_are_read() -> None:
    archive = parse_tar(
        _stdlib_tar(tarfile.PAX_FORMAT, mtime=1_600_000_000.5), limits=DEFAULT_LIMITS
    )
    first = archive.member("demo-1.0/PKG-INFO")
    assert first.kind is MemberKind.FILE
    assert first.mode == 0o664
    assert first.mtime == 1_600_000_000
    assert first.data() == b"demo-1.0/PKG-INFO"
    assert first.tar == TarDetails(
        format=TarFormat.PAX,
        uid=1000,
        gid=100,
        uname="me",
        gname="users",
        pax=(("mtime", "1600000000.5"),),
    )
    long = next(m for m in archive.members if m.name.endswith(".py"))
    assert long.name == "demo-1.0/" + "x" * 120 + ".py"
    assert archive.member("demo-1.0/pkg").kind is MemberKind.DIR
    assert archive.member("demo-1.0/pkg/").name == "demo-1.0/pkg/"
    link = archive.member("demo-1.0/link")
    assert (link.kind, link.link_target) == (MemberKind.SYMLINK, "PKG-INFO")
    hard = archive.member("demo-1.0/hard")
    assert (hard.kind, hard.link_target) == (MemberKind.HARDLINK, "demo-1.0/PKG-INFO")
    assert archive.trailer_size == record_padding(encoded_length(archive))


def test_gnu_long_names_are_read() -> None:
    archive = parse_tar(_stdlib_tar(tarfile.GNU_FORMAT), limits=DEFAULT_LIMITS)
    long = next(m for m in archive.members if m.name.endswith(".py"))
    assert long.name == "demo-1.0/" + "x" * 120 + ".py"
    assert long.tar is not None and long.tar.format is TarFormat.GNU


def test_required_pax_matches_tarfile() -> None:
    member = Member(name="a" * 101, tar=TarDetails(uname="é"), mtime=8**11)
    assert required_pax(member) == (("path", "a" * 101), ("uname", "é"), ("mtime", str(8**11)))
    assert required_pax(Member(name="short", tar=TarDetails())) == ()


def test_our_canonical_layout_matches_tarfile() -> None:
    """A member written in PAX form with only the records it needs is what tarfile writes."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        info = tarfile.TarInfo("pkg/" + "y" * 150)
        info.size = 3
        tf.addfile(info, io.BytesIO(b"abc"))
    member = Member.from_bytes("pkg/" + "y" * 150, b"abc", mode=0o644)
    member = Member.from_bytes(
        member.name,
        b"abc",
        mode=0o644,
        tar=TarDetails(format=TarFormat.PAX, pax=required_pax(member)),
    )
    archive = Archive(container=Container.TAR, members=(member,))
    archive = Archive(
        container=Container.TAR,
        members=(member,),
        trailer_size=record_padding(encoded_length(archive)),
    )
    assert write_tar(archive) == buf.getvalue()


def test_corrupt_checksum_is_refused() -> None:
    raw = bytearray(_stdlib_tar(tarfile.PAX_FORMAT))
    raw[600] ^= 0xFF  # inside the second header block's name... or data: find a header
    raw[0] ^= 0x01
    with pytest.raises(ArchiveError, match="checksum"):
        parse_tar(bytes(raw), limits=DEFAULT_LIMITS)


def test_signed_checksum_is_accepted() -> None:
    # an old tar summed the header's bytes as signed chars: a name byte above 127 counts 256 less
    raw = bytearray(_stdlib_tar(tarfile.USTAR_FORMAT, long=False))
    raw[0:1] = b"\xe9"
    header = raw[:148] + b" " * 8 + raw[156:512]
    signed = sum(b - 256 if b > 127 else b for b in header)
    raw[148:156] = b"%06o\x00 " % signed
    assert parse_tar(bytes(raw), limits=DEFAULT_LIMITS).members[0].name.startswith("\udce9")
    raw[148:156] = b"%06o\x00 " % (signed - 2)  # neither sum
    with pytest.raises(ArchiveError, match="checksum"):
        parse_tar(bytes(raw), limits=DEFAULT_LIMITS)


def test_truncated_data_is_refused() -> None:
    raw = _stdlib_tar(tarfile.USTAR_FORMAT, long=False)
    with pytest.raises(ArchiveError, match="truncated"):
        parse_tar(raw[: 512 + 5], limits=DEFAULT_LIMITS)


def test_device_members_are_refused() -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo("dev/null")
        info.type = tarfile.CHRTYPE
        tf.addfile(info)
    with pytest.raises(ArchiveError, match="character device") as caught:
        parse_tar(buf.getvalue(), limits=DEFAULT_LIMITS)
    assert caught.value.member == "dev/null"


def test_looks_like_tar() -> None:
    assert looks_like_tar(_stdlib_tar(tarfile.USTAR_FORMAT, long=False))
    assert not looks_like_tar(b"\x00" * 1024)
    assert not looks_like_tar(b"hello")


_names = st.text(alphabet="abcdefgh_-.é", min_size=1, max_size=30).filter(
    lambda s: s not in {".", ".."}
)


@st.composite
def tar_archives(draw: st.DrawFn) -> Archive:
    fmt = draw(st.sampled_from([TarFormat.PAX, TarFormat.GNU, TarFormat.USTAR]))
    names = draw(st.lists(_names, min_size=0, max_size=6, unique=True))
    members: list[Member] = []
    for name in names:
        full = "top/" + name * draw(st.integers(1, 8 if fmt is not TarFormat.USTAR else 1))
        if fmt is TarFormat.USTAR and (len(full.encode()) > 100 or not full.isascii()):
            full = "top/" + "a" * len(name)
            if any(m.name == full for m in members):
                continue
        data = draw(st.binary(max_size=700))
        details = TarDetails(
            format=fmt,
            uid=draw(st.integers(0, 70000)),
            gid=draw(st.integers(0, 70000)),
            uname=draw(st.sampled_from(["", "root", "me"])),
            gname=draw(st.sampled_from(["", "wheel"])),
        )
        member = Member.from_bytes(
            full,
            data,
            mode=draw(st.sampled_from([0o644, 0o755, 0o600])),
            mtime=draw(st.integers(0, 8**11 - 1)),
            tar=details,
        )
        if fmt is TarFormat.PAX:
            member = Member.from_bytes(
                full,
                data,
                mode=member.mode,
                mtime=member.mtime,
                tar=TarDetails(
                    format=fmt,
                    uid=details.uid,
                    gid=details.gid,
                    uname=details.uname,
                    gname=details.gname,
                    pax=required_pax(member),
                ),
            )
            if not member.tar or not member.tar.pax:
                member = Member.from_bytes(
                    full,
                    data,
                    mode=member.mode,
                    mtime=member.mtime,
                    tar=TarDetails(
                        format=TarFormat.USTAR,
                        uid=details.uid,
                        gid=details.gid,
                        uname=details.uname,
                        gname=details.gname,
                    ),
                )
        members.append(member)
    archive = Archive(container=Container.TAR, members=tuple(members))
    return Archive(
        container=Container.TAR,
        members=tuple(members),
        trailer_size=record_padding(encoded_length(archive)),
    )


@settings(max_examples=150, deadline=None)
@given(tar_archives())
def test_read_of_write_is_identity(archive: Archive) -> None:
    written = write_tar(archive)
    assert len(written) % 10240 == 0
    again = parse_tar(written, limits=DEFAULT_LIMITS)
    assert again == archive
    assert [m.data() for m in again.members] == [m.data() for m in archive.members]
    with tarfile.open(fileobj=io.BytesIO(written)) as tf:
        assert [ti.name for ti in tf] == [m.name for m in archive.members]
