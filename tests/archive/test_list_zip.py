"""``list_zip``: the short listing of a zip file agrees with ``parse_archive`` on every member,
and refuses the same corrupt and hostile input."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reprobuild.archive import Container, ZipEntry, list_zip, parse_archive, sniff
from reprobuild.archive.model import Member
from reprobuild.errors import ArchiveError
from tests.archive.test_zipformat import sample_entries, zipfile_bytes
from tests.hostile import HOSTILE_CASES


def _short(member: Member) -> tuple[object, ...]:
    assert member.zip is not None
    return (
        member.name,
        member.path,
        member.kind,
        member.mode,
        member.size,
        member.zip.crc32,
        member.payload.method,
        bytes(member.payload.raw),
        member.link_target,
    )


def _listed(entry: ZipEntry) -> tuple[object, ...]:
    return (
        entry.name,
        entry.path,
        entry.kind,
        entry.mode,
        entry.size,
        entry.crc32,
        entry.payload.method,
        bytes(entry.payload.raw),
        entry.link_target,
    )


@pytest.mark.parametrize("streaming", [False, True])
def test_every_member_as_parse_archive_reads_it(streaming: bool) -> None:
    data = zipfile_bytes(sample_entries(), comment=b"c", streaming=streaming)
    archive = parse_archive(data, digests=False)
    listed = list_zip(data)
    assert [_listed(e) for e in listed] == [_short(m) for m in archive.members]
    assert any(e.link_target for e in listed)  # the sample has a symbolic link, read here


def _outcome(read: object, data: bytes) -> tuple[object, ...]:
    try:
        assert callable(read)
        read(data)
    except ArchiveError as exc:
        return (type(exc), exc.member)
    return ()


@pytest.mark.parametrize("case", sorted(c for c in HOSTILE_CASES if c.startswith("zip-")))
def test_hostile_zips_are_refused_as_parse_archive_refuses_them(case: str) -> None:
    """The same error, of the same type, about the same member; and what parse_archive reads
    (without inflating members) reads here too."""
    _, data = HOSTILE_CASES[case]()
    expected = _outcome(lambda d: parse_archive(d, digests=False), data)
    assert _outcome(list_zip, data) == expected


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_mutated_zip_reads_or_is_refused_as_parse_archive_says(data: st.DataObject) -> None:
    source = bytearray(zipfile_bytes(sample_entries(), comment=b"c"))
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(source) - 1))
        source[pos] = data.draw(st.integers(0, 255))
    cut = bytes(source[: data.draw(st.integers(0, len(source)))])
    try:
        zip_file = sniff(cut)[0] is Container.ZIP
    except ArchiveError:
        zip_file = False
    if not zip_file:  # parse_archive reads it as something else, or not at all
        return
    try:
        archive = parse_archive(cut, digests=False)
    except ArchiveError as exc:
        with pytest.raises(ArchiveError) as info:
            list_zip(cut)
        assert (type(info.value), info.value.member) == (type(exc), exc.member)
        return
    assert [_listed(e) for e in list_zip(cut)] == [_short(m) for m in archive.members]
