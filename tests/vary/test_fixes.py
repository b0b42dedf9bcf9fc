"""The catalogue of fixes, on twin archives that differ in one knob."""

from __future__ import annotations

import time

from reprobuild.compare import Item, compare
from reprobuild.vary.fixes import (
    Evidence,
    differing_members,
    evidence_of,
    fixes_for,
    random_fix,
    suspects,
)
from tests.factories import make_sdist, make_wheel

MARKERS = {
    "build-path": ("/elsewhere",),
    "working-folder": ("/elsewhere/job/home/tmp",),
    "user-home": ("/elsewhere/job/home", "someone"),
    "user": ("someone",),
    "hostname": ("box",),
}


def _evidence(kind: str, name: str, a: bytes, b: bytes) -> Evidence:
    diff = compare(Item(name=name, data=a), Item(name=name, data=b))
    return evidence_of(diff, kind=kind, archive=name, markers=MARKERS)


def test_an_sdist_stamped_by_the_clock_gets_the_source_date_epoch_fix() -> None:
    ev = _evidence(
        "sdist",
        "demo-1.0.tar.gz",
        make_sdist(mtime=1_700_000_000, gzip_mtime=1_700_000_000),
        make_sdist(mtime=1_700_300_000, gzip_mtime=1_700_300_000),
    )
    assert "demo-1.0.tar.gz (gzip header)" in ev.members
    [fix] = fixes_for(("clock",), ev)
    assert "gzip header and member times come from the clock" in fix
    assert "SOURCE_DATE_EPOCH" in fix


def test_requires_dist_in_another_order_is_the_hash_seeds_doing() -> None:
    meta = "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n"
    one = (meta + "Requires-Dist: attrs\nRequires-Dist: six\n").encode()
    two = (meta + "Requires-Dist: six\nRequires-Dist: attrs\n").encode()
    ev = _evidence(
        "wheel",
        "demo-1.0-py3-none-any.whl",
        make_wheel(metadata=one),
        make_wheel(metadata=two),
    )
    [fix] = fixes_for(("hash-seed",), ev)
    assert "`Requires-Dist` order follows PYTHONHASHSEED" in fix
    assert "install_requires" in fix


def test_a_generated_module_holding_the_build_path() -> None:
    ev = _evidence(
        "wheel",
        "demo-1.0-py3-none-any.whl",
        make_wheel(files={"demo/_built.py": b"HERE = '/here'\n"}),
        make_wheel(files={"demo/_built.py": b"HERE = '/elsewhere'\n"}),
    )
    [fix] = fixes_for(("build-path",), ev)
    assert "embeds the build path in demo/_built.py" in fix
    assert "RECORD" not in fix  # a consequence, not a cause
    assert "__file__" in fix


def test_file_modes_and_the_umask() -> None:
    ev = _evidence(
        "wheel",
        "demo-1.0-py3-none-any.whl",
        make_wheel(mode=0o644),
        make_wheel(mode=0o600),
    )
    [fix] = fixes_for(("umask",), ev)
    assert "file modes follow the umask" in fix


def test_an_unknown_cause_gets_a_plain_sentence_and_a_random_build_its_own() -> None:
    ev = _evidence(
        "wheel",
        "demo-1.0-py3-none-any.whl",
        make_wheel(files={"demo/id.py": b"ID = 1\n"}),
        make_wheel(files={"demo/id.py": b"ID = 2\n"}),
    )
    [fix] = fixes_for(("umask", "locale"), ev)
    assert fix.startswith("varying umask and locale together changes demo/id.py")
    assert "random on its own" in random_fix(ev) and "demo/id.py" in random_fix(ev)


def test_differing_members_of_an_sdist() -> None:
    a = make_sdist(mtime=1, files={"a.py": b"1"})
    b = make_sdist(mtime=1, files={"a.py": b"2"})
    diff = compare(Item(name="demo-1.0.tar.gz", data=a), Item(name="demo-1.0.tar.gz", data=b))
    assert diff is not None
    members = differing_members(diff, "demo-1.0.tar.gz")
    assert list(members) == ["demo-1.0/a.py"]


def test_the_marks_a_difference_shows_name_its_suspects() -> None:
    wheel = "demo-1.0-py3-none-any.whl"
    times = _evidence("sdist", "demo-1.0.tar.gz", make_sdist(mtime=1), make_sdist(mtime=2))
    assert suspects(times) == {"clock", "source-times", "timezone"}
    modes = _evidence("wheel", wheel, make_wheel(mode=0o644), make_wheel(mode=0o600))
    assert suspects(modes) == {"umask"}
    meta = "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n"
    order = _evidence(
        "wheel",
        wheel,
        make_wheel(metadata=(meta + "Requires-Dist: a\nRequires-Dist: b\n").encode()),
        make_wheel(metadata=(meta + "Requires-Dist: b\nRequires-Dist: a\n").encode()),
    )
    assert "hash-seed" in suspects(order)


def test_the_experiments_own_strings_name_theirs() -> None:
    def built(text: str) -> bytes:
        return make_wheel(files={"demo/_built.py": text.encode()})

    def named(text: str) -> frozenset[str]:
        wheel = "demo-1.0-py3-none-any.whl"
        return suspects(_evidence("wheel", wheel, built("X = 1\n"), built(text)))

    assert named("HERE = '/elsewhere/job/sdist'\n") == {"build-path"}
    assert named("T = '/elsewhere/job/home/tmp/x'\n") == {
        "build-path",
        "working-folder",
        "user-home",
    }
    assert named("BY = 'someone'\nON = 'box'\n") == {"user-home", "hostname"}
    # content that differs without such a string points to no variation in particular
    assert named("ID = 2\n") == frozenset()


def test_the_time_zone_is_suspected_only_when_a_time_moved_by_its_share() -> None:
    from reprobuild.vary.variations import TIME_SHIFTS

    wheel = "demo-1.0-py3-none-any.whl"
    day, clock, zone = 86400, TIME_SHIFTS["clock"], TIME_SHIFTS["timezone"]
    base = 1_700_000_000

    def at(seconds: int) -> tuple[int, int, int, int, int, int]:
        t = time.gmtime(seconds)
        return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)

    def moved(by: int) -> Evidence:
        return _evidence(
            "wheel", wheel, make_wheel(mtime=at(base)), make_wheel(mtime=at(base + by))
        )

    # the clock's shift, a whole day more (a source file shown at the clock's instant)
    assert suspects(moved(clock), TIME_SHIFTS) == {"clock", "source-times"}
    assert suspects(moved(clock + day), TIME_SHIFTS) == {"clock", "source-times"}
    # written in local time: the zone's offset is in the move
    assert "timezone" in suspects(moved(clock + zone), TIME_SHIFTS)
    # a move no sum of the shifts makes, or no shifts given: the zone may be in it
    assert "timezone" in suspects(moved(4242), TIME_SHIFTS)
    assert "timezone" in suspects(moved(clock))
