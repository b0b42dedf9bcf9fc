"""Inferring a recipe from a published wheel: each field from one observation, with evidence."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from reprobuild.archive import parse_archive
from reprobuild.strategy import Recipe, infer_recipe, is_pure, parse_generator
from tests.factories import make_sdist, make_wheel, wheel_filename

UPLOAD = datetime(2020, 6, 26, 22, 45, tzinfo=UTC)
#: an upload after the setuptools releases that METADATA's and entry_points.txt's forms tell
#: apart (60.6, 60.9, 62.2), before setuptools' own bdist_wheel (70.1): their bounds are said
AFTER_MARKS = datetime(2023, 1, 1, tzinfo=UTC)
PYTHONS = ("3.8.18", "3.11.7", "3.12.1")


def _infer(
    data: bytes,
    *,
    upload: datetime | None = UPLOAD,
    pythons: tuple[str, ...] = PYTHONS,
    sdist: bytes | None = None,
) -> Recipe:
    return infer_recipe(
        parse_archive(data),
        filename=wheel_filename(),
        upload_time=upload,
        pythons=pythons,
        sdist=parse_archive(sdist) if sdist is not None else None,
    )


def _evidence(recipe: Recipe, field: str) -> str:
    return " | ".join(e.reason for e in recipe.evidence if e.field == field)


def _fitted(recipe: Recipe, field: str) -> str:
    return " | ".join(f.reason for f in recipe.fitted if f.field == field)


@pytest.mark.parametrize(
    ("line", "requirement"),
    [
        ("bdist_wheel (0.30.0)", "wheel==0.30.0"),
        ("setuptools (75.1.0)", "setuptools==75.1.0"),
        ("hatchling 1.21.0", "hatchling==1.21.0"),
        ("flit 3.9.0", "flit_core==3.9.0"),
        ("flit 1.3", "flit==1.3"),
        ("poetry-core 1.9.0", "poetry-core==1.9.0"),
        ("pdm-backend (2.1.8)", "pdm-backend==2.1.8"),
        ("uv 0.13.7", "uv_build==0.13.7"),
    ],
)
def test_the_backend_comes_from_the_generator_line(line: str, requirement: str) -> None:
    recipe = _infer(make_wheel(generator=line))
    assert recipe.requirements == (requirement,)
    assert line.split(maxsplit=1)[0] in _evidence(recipe, "requirements")


def test_an_unknown_generator_pins_nothing_and_says_so() -> None:
    recipe = _infer(make_wheel(generator="maturin (1.5.0)"))
    assert recipe.requirements == ()
    assert "not a backend reprobuild knows" in _evidence(recipe, "requirements")


def test_parse_generator() -> None:
    generator = parse_generator("Wheel-Version: 1.0\nGenerator: bdist_wheel (0.30.0)\n")
    assert generator is not None
    assert (generator.name, generator.version) == ("bdist_wheel", "0.30.0")
    assert parse_generator("Wheel-Version: 1.0\n") is None


def test_one_time_on_every_member_is_source_date_epoch() -> None:
    recipe = _infer(make_wheel(generator="bdist_wheel (0.30.0)", mtime=(2020, 6, 26, 22, 42, 20)))
    assert recipe.source_date_epoch == int(
        datetime(2020, 6, 26, 22, 42, 20, tzinfo=UTC).timestamp()
    )


def test_a_backends_own_default_time_means_it_was_unset() -> None:
    recipe = _infer(make_wheel(generator="hatchling 1.21.0", mtime=(2020, 2, 2, 0, 0, 0)))
    assert recipe.source_date_epoch is None
    assert "hatchling's own default" in _evidence(recipe, "source_date_epoch")
    # the same time from another backend is a chosen SOURCE_DATE_EPOCH
    other = _infer(make_wheel(generator="flit 3.9.0", mtime=(2020, 2, 2, 0, 0, 0)))
    assert other.source_date_epoch is not None


def test_differing_times_mean_no_source_date_epoch() -> None:
    name = "demo-1.0.dist-info/RECORD"
    recipe = _infer(make_wheel(mtime={name: (2021, 1, 1, 0, 0, 0)}))
    assert recipe.source_date_epoch is None
    assert "different times" in _evidence(recipe, "source_date_epoch")


def test_group_writable_modes_mean_umask_002() -> None:
    assert _infer(make_wheel(mode=0o644)).umask == 0o022
    assert _infer(make_wheel(mode=0o664)).umask == 0o002


@pytest.mark.parametrize(
    ("modes", "umask"),
    [
        ((0o644,), 0o022),
        ((0o664,), 0o002),
        ((0o600,), 0o077),
        ((0o640,), 0o027),
        ((0o660,), 0o007),
        ((0o644, 0o664), 0o022),
        ((0o755, 0o644), 0o022),
    ],
)
def test_the_umask_is_the_bits_the_written_files_lack(modes: tuple[int, ...], umask: int) -> None:
    """A publisher under umask 077 writes 600 (its sdist's files are 600 too)."""
    files = {f"demo/m{i}.py": b"x = 1\n" for i in range(len(modes))}
    wheel = make_wheel(files=files, mode=modes[0], modes=dict(zip(files, modes, strict=True)))
    assert _infer(wheel).umask == umask


def test_a_mode_without_a_file_type_is_a_writer_s_constant() -> None:
    """zipfile.writestr stores 600 with no file type (flit and pdm wrote .dist-info so): it
    shows no umask 077; the twin with the file type does."""
    files = {"demo/__init__.py": b"x = 1\n"}
    typed = make_wheel(files=files, mode=0o600)
    assert _infer(typed).umask == 0o077
    constant = dict.fromkeys(
        ["demo/__init__.py", *(f"demo-1.0.dist-info/{leaf}" for leaf in DIST_INFO)], 0o600
    )
    wheel = make_wheel(files=files, mode=0o600, modes=constant, file_type=False)
    recipe = _infer(wheel)
    assert recipe.umask == 0o022
    assert "with a writer's own mode (no file type) set aside" in _evidence(recipe, "umask")


def test_files_copied_with_the_sdist_s_mode_do_not_show_the_umask() -> None:
    """setuptools writes modules under the umask (664) but copies a license keeping its mode
    (644, as the sdist has it): the umask is 002."""
    license_ = {"demo-1.0.dist-info/LICENSE": b"MIT\n"}
    modes = {"demo-1.0.dist-info/LICENSE": 0o644}
    wheel = make_wheel(files=FILES | license_, mode=0o664, modes=modes)
    sdist = make_sdist(files=FILES | {"LICENSE": b"MIT\n"}, mode=0o644)
    recipe = _infer(wheel, sdist=sdist)
    assert recipe.umask == 0o002
    assert "not copied with the sdist's mode: 664" in _evidence(recipe, "umask")
    # without the sdist, the license's 644 says 022
    assert _infer(wheel).umask == 0o022


@pytest.mark.parametrize(("wheel_mode", "umask"), [(0o664, 0o002), (0o644, 0o022)])
def test_modes_a_setuptools_writer_fixes_do_not_show_the_umask(wheel_mode: int, umask: int) -> None:
    """setuptools gives METADATA 644 (PKG-INFO written through a temporary file) and RECORD
    664 (wheel's WheelFile) whatever the umask; the modules here are copies that kept the
    sdist's 664: WHEEL, written with open, alone shows the umask."""
    dist_info = "demo-1.0.dist-info/"
    modes = {
        dist_info + "METADATA": 0o644,
        dist_info + "WHEEL": wheel_mode,
        dist_info + "RECORD": 0o664,
    }
    wheel = make_wheel(files=FILES, generator="setuptools (80.9.0)", mode=0o664, modes=modes)
    sdist = make_sdist(files=FILES, mode=0o664)
    recipe = _infer(wheel, sdist=sdist)
    assert recipe.umask == umask
    said = _evidence(recipe, "umask")
    assert "METADATA (644), RECORD (664) set aside" in said
    assert f"not copied with the sdist's mode: {wheel_mode:o}" in said
    # another backend's files are all read as written under the umask
    other = make_wheel(files=FILES, generator="factory 1.0", mode=0o664, modes=modes)
    assert _infer(other, sdist=sdist).umask == 0o022


def test_the_cut_off_is_the_upload_time_else_the_newest_member() -> None:
    assert _infer(make_wheel()).exclude_newer == UPLOAD
    newest = {"demo/__init__.py": (2019, 5, 5, 0, 0, 0)}  # the others: 1980
    local = _infer(make_wheel(mtime=newest), upload=None)
    assert local.exclude_newer == datetime(2019, 5, 5, tzinfo=UTC)
    assert "local file" in _evidence(local, "exclude_newer")


def test_a_local_file_with_one_time_has_no_cut_off() -> None:
    """One time on every member is SOURCE_DATE_EPOCH (often a commit's time), not when the
    file was built: a cut-off there would hide the very backend the wheel names."""
    local = _infer(make_wheel(mtime=(2019, 5, 5, 0, 0, 0)), upload=None)
    assert local.source_date_epoch is not None
    assert local.exclude_newer is None
    assert "SOURCE_DATE_EPOCH" in _evidence(local, "exclude_newer")


def test_python_is_the_newest_at_upload_within_requires_python() -> None:
    recipe = _infer(make_wheel())
    assert (recipe.wanted_python, recipe.python) == ("3.8", "3.8.18")
    metadata = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Python: <3.8\n"
    older = _infer(make_wheel(metadata=metadata))
    assert older.wanted_python == "3.7"
    # this machine has no 3.7: the nearest is used, and the substitution is said
    assert older.python == "3.8.18"
    assert "substitution" in _evidence(older, "python")


def test_an_older_setuptools_is_told_by_its_metadata() -> None:
    """setuptools before 62.2 wrote 'Platform: UNKNOWN' for a project naming no platform."""
    metadata = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nPlatform: UNKNOWN\n\nText\n"
    older = _infer(
        upload=AFTER_MARKS, data=make_wheel(metadata=metadata, generator="bdist_wheel (0.37.1)")
    )
    assert older.requirements == ("wheel==0.37.1", "setuptools<62.2")
    assert "Platform: UNKNOWN" in _evidence(older, "requirements")
    # in the description it says nothing; nor from a backend other than setuptools
    described = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n\nPlatform: UNKNOWN\n"
    assert _infer(
        upload=AFTER_MARKS, data=make_wheel(metadata=described, generator="bdist_wheel (0.37.1)")
    ).requirements == ("wheel==0.37.1",)
    assert (
        "setuptools<62.2"
        not in _infer(upload=AFTER_MARKS, data=make_wheel(metadata=metadata)).requirements
    )


def test_license_unknown_is_an_older_setuptools_too() -> None:
    """setuptools 62.1 wrote 'License: UNKNOWN' for a project naming no license; a named
    license (its twin) says nothing."""
    unknown = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nLicense: UNKNOWN\n\nText\n"
    named = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nLicense: MIT\n\nText\n"
    older = _infer(
        upload=AFTER_MARKS, data=make_wheel(metadata=unknown, generator="bdist_wheel (0.37.1)")
    )
    assert older.requirements == ("wheel==0.37.1", "setuptools<62.2")
    assert "License: UNKNOWN" in _evidence(older, "requirements")
    assert _infer(
        upload=AFTER_MARKS, data=make_wheel(metadata=named, generator="bdist_wheel (0.37.1)")
    ).requirements == ("wheel==0.37.1",)


@pytest.mark.parametrize(
    ("headers", "bound"),
    [
        ("", "setuptools<57.0"),  # a license in .dist-info, none named: before 57.0
        ("License-File: LICENSE\n", None),  # named, as 57.0 and later write it
        # a License folded over a blank line still shows its License-File to a whole-text look
        ("License: MIT\n        \n        more\nLicense-File: LICENSE\n", None),
    ],
)
def test_an_older_setuptools_is_told_by_a_license_file_metadata_does_not_name(
    headers: str, bound: str | None
) -> None:
    """setuptools 57.0 names each license file (LICEN[CS]E*, COPYING*, NOTICE*, AUTHORS*) in a
    License-File field; 56.2 named none, while the wheel package still copied them."""
    metadata = f"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n{headers}\nText\n".encode()
    files = {"demo/__init__.py": b"", "demo-1.0.dist-info/LICENSE": b"MIT\n"}
    wheel = make_wheel(files=files, metadata=metadata, generator="bdist_wheel (0.37.1)")
    recipe = _infer(wheel, upload=AFTER_MARKS)
    assert ("setuptools<57.0" in recipe.requirements) is (bound is not None)
    if bound is not None:
        assert "names no License-File though .dist-info holds LICENSE" in _evidence(
            recipe, "requirements"
        )
    # a wheel without a license file says nothing of it
    bare = make_wheel(metadata=metadata, generator="bdist_wheel (0.37.1)")
    assert "setuptools<57.0" not in _infer(bare, upload=AFTER_MARKS).requirements


def test_an_older_setuptools_is_told_by_the_form_of_its_entry_points() -> None:
    """setuptools before 60.9 ended every section of entry_points.txt with a blank line, so the
    file ended with one; 60.9 and later end it with the last entry's newline."""
    older = b"[console_scripts]\ndemo = demo:main\n\n"
    newer = b"[console_scripts]\ndemo = demo:main\n"
    written = _infer(
        upload=AFTER_MARKS,
        data=make_wheel(
            files={"demo/__init__.py": b"", "demo-1.0.dist-info/entry_points.txt": older},
            generator="bdist_wheel (0.40.0)",
        ),
    )
    assert written.requirements == ("wheel==0.40.0", "setuptools<60.9")
    assert "entry_points.txt ends with a blank line" in _evidence(written, "requirements")
    # the twin: the same entry points as a later setuptools writes them tell nothing
    later = _infer(
        upload=AFTER_MARKS,
        data=make_wheel(
            files={"demo/__init__.py": b"", "demo-1.0.dist-info/entry_points.txt": newer},
            generator="bdist_wheel (0.40.0)",
        ),
    )
    assert later.requirements == ("wheel==0.40.0",)
    # with 'Platform: UNKNOWN' too, the lower bound of the two is the one required
    metadata = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nPlatform: UNKNOWN\n\nText\n"
    both = _infer(
        upload=AFTER_MARKS,
        data=make_wheel(
            files={"demo/__init__.py": b"", "demo-1.0.dist-info/entry_points.txt": older},
            metadata=metadata,
            generator="bdist_wheel (0.40.0)",
        ),
    )
    assert both.requirements == ("wheel==0.40.0", "setuptools<60.9")
    # another backend's entry points say nothing of setuptools
    flit = _infer(
        upload=AFTER_MARKS,
        data=make_wheel(
            files={"demo/__init__.py": b"", "demo-1.0.dist-info/entry_points.txt": older},
            generator="flit 3.9.0",
        ),
    )
    assert not any(r.startswith("setuptools") for r in flit.requirements)


def test_an_older_setuptools_is_told_by_where_its_metadata_puts_download_url() -> None:
    """setuptools before 60.6 wrote Download-URL after License; from 60.6 after Home-page."""
    head = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nHome-page: h\n"
    older = head + b"Author: a\nLicense: MIT\nDownload-URL: d\n\nText\n"
    newer = head + b"Download-URL: d\nAuthor: a\nLicense: MIT\n\nText\n"
    written = _infer(
        upload=AFTER_MARKS, data=make_wheel(metadata=older, generator="bdist_wheel (0.37.1)")
    )
    assert written.requirements == ("wheel==0.37.1", "setuptools<60.6")
    assert "Download-URL after License" in _evidence(written, "requirements")
    # the twin: the order setuptools writes from 60.6 tells nothing
    later = _infer(
        upload=AFTER_MARKS, data=make_wheel(metadata=newer, generator="bdist_wheel (0.37.1)")
    )
    assert later.requirements == ("wheel==0.37.1",)


def test_a_bound_the_cut_off_already_implies_is_not_said() -> None:
    """Uploaded before setuptools 60.9 was, the resolution is below it anyway: the bound read
    from entry_points.txt would change nothing, and the recipe does not carry it."""
    older = b"[console_scripts]\ndemo = demo:main\n\n"
    wheel = make_wheel(
        files={"demo/__init__.py": b"", "demo-1.0.dist-info/entry_points.txt": older},
        generator="bdist_wheel (0.34.2)",
    )
    assert _infer(wheel, upload=UPLOAD).requirements == ("wheel==0.34.2",)
    assert _infer(wheel, upload=AFTER_MARKS).requirements == ("wheel==0.34.2", "setuptools<60.9")


def test_the_wheel_packages_bdist_wheel_tells_a_setuptools_without_its_own() -> None:
    """setuptools 70.1 brought its own bdist_wheel, which writes 'Generator: setuptools (X)':
    a wheel whose WHEEL says 'bdist_wheel (X)' after it was released was made beside an older
    setuptools, and the rebuild resolves below 70.1 (else setuptools' command runs)."""
    later = datetime(2024, 11, 6, tzinfo=UTC)
    wheel = _infer(make_wheel(generator="bdist_wheel (0.42.0)"), upload=later)
    assert wheel.requirements == ("wheel==0.42.0", "setuptools<70.1")
    assert "Generator: bdist_wheel (0.42.0)" in _evidence(wheel, "requirements")
    # the twin: setuptools' own command wrote it, and setuptools is as at the cut-off
    own = _infer(make_wheel(generator="setuptools (75.3.0)"), upload=later)
    assert own.requirements == ("setuptools==75.3.0",)
    # uploaded before 70.1 existed: the cut-off already resolves below it, nothing is said
    assert _infer(make_wheel(generator="bdist_wheel (0.42.0)")).requirements == ("wheel==0.42.0",)
    # with an older mark, the lower bound is the one required
    metadata = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nPlatform: UNKNOWN\n\nText\n"
    older = _infer(make_wheel(metadata=metadata, generator="bdist_wheel (0.42.0)"), upload=later)
    assert older.requirements == ("wheel==0.42.0", "setuptools<62.2")


@pytest.mark.parametrize(
    ("generator", "lines", "wheel"),
    [
        # the wheel package from 0.44 rebuilt these through packaging's Requirement
        ("setuptools (73.0.1)", ["isodate>=0.6.1", 'pytest; extra == "dev"'], True),
        ("setuptools (75.3.2)", ['typing-extensions[x]; python_version < "3.8"'], True),
        # setuptools' own copy (wheel 0.43) writes these: its twin
        ("setuptools (73.0.1)", ["isodate >=0.6.1", "pytest ; extra == 'dev'"], False),
        # one line of each: not one writer's form
        ("setuptools (73.0.1)", ["isodate>=0.6.1", "pytest ; extra == 'dev'"], False),
        # names alone show no form
        ("setuptools (73.0.1)", ["isodate", "six"], False),
        # from 75.6 setuptools writes Requires-Dist itself, in packaging's form
        ("setuptools (75.6.0)", ["isodate>=0.6.1", 'pytest; extra == "dev"'], False),
        # before 70.1 the wheel package's own bdist_wheel ran
        ("bdist_wheel (0.44.0)", ["isodate>=0.6.1"], False),
    ],
)
def test_requires_dist_in_packaging_s_form_beside_setuptools_70_means_the_wheel_package(
    generator: str, lines: list[str], wheel: bool
) -> None:
    headers = "".join(f"Requires-Dist: {line}\n" for line in lines)
    metadata = f"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n{headers}\nText\n".encode()
    recipe = _infer(
        upload=datetime(2024, 9, 1, tzinfo=UTC),
        data=make_wheel(metadata=metadata, generator=generator),
    )
    assert ("wheel>=0.44" in recipe.requirements) is wheel
    if wheel:
        assert f"'Requires-Dist: {lines[0]}'" in _evidence(recipe, "requirements")
        assert "0.44" in _evidence(recipe, "requirements")


def test_a_namespace_package_s_pth_file_names_the_python_of_the_build() -> None:
    files = {
        "zope/event/__init__.py": b"x = 1\n",
        "zope.event-4.6-py3.9-nspkg.pth": b"import sys\n",
    }
    recipe = _infer(make_wheel(files=files, generator="bdist_wheel (0.37.1)"))
    assert recipe.wanted_python == "3.9"
    assert "zope.event-4.6-py3.9-nspkg.pth" in _evidence(recipe, "wanted_python")
    # its twin without the file: the newest Python at the upload
    del files["zope.event-4.6-py3.9-nspkg.pth"]
    assert _infer(make_wheel(files=files, generator="bdist_wheel (0.37.1)")).wanted_python == "3.8"


def test_without_a_cut_off_the_python_is_the_newest_within_requires_python() -> None:
    """A local file whose members all carry 1980 (a checkout with no date of its own) tells
    no time: the newest Python known is wanted, not one of 1980."""
    metadata = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Python: <3.10\n"
    recipe = _infer(make_wheel(metadata=metadata, mtime=(1980, 1, 1, 0, 0, 0)), upload=None)
    assert recipe.wanted_python == "3.9"
    assert "newest CPython known within Requires-Python <3.10" in _evidence(recipe, "wanted_python")


def test_a_requires_python_newer_than_the_cut_off_wants_its_oldest_python() -> None:
    metadata = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Python: >=3.11\n"
    upload = datetime(2020, 1, 1, tzinfo=UTC)
    recipe = _infer(make_wheel(metadata=metadata), upload=upload)
    assert recipe.wanted_python == "3.11"
    assert "oldest CPython within Requires-Python >=3.11" in _evidence(recipe, "wanted_python")


def test_no_interpreter_known() -> None:
    recipe = _infer(make_wheel(), pythons=())
    assert recipe.python is None


def test_the_recipe_holds_no_member_data() -> None:
    """The honesty rule: nothing per member goes into a recipe, however many members."""
    files = {f"demo/m{i}.py": b"x = %d\n" % i for i in range(50)}
    recipe = _infer(make_wheel(files=files, mtime=(2020, 6, 26, 22, 42, 20)))
    assert len(recipe.evidence) < 10
    assert not any("demo/m" in e.value or "demo/m" in e.reason for e in recipe.evidence)


def _zip_time(when: int, zone: timezone | ZoneInfo) -> tuple[int, int, int, int, int, int]:
    """``when`` as a zip writer in ``zone`` stores it (local time, 2-second steps)."""
    local = datetime.fromtimestamp(when, zone)
    return (local.year, local.month, local.day, local.hour, local.minute, local.second & ~1)


FILES = {"demo/__init__.py": b"x = 1\n", "demo/core.py": b"y = 2\n"}
WINTER = int(datetime(2023, 1, 10, 12, 0, 1, tzinfo=UTC).timestamp())
SUMMER = int(datetime(2023, 7, 10, 12, 0, 1, tzinfo=UTC).timestamp())
BUILT = int(datetime(2023, 11, 25, 15, 40, 7, tzinfo=UTC).timestamp())
DIST_INFO = ("METADATA", "WHEEL", "RECORD")


def _published(zone: timezone | ZoneInfo) -> tuple[Recipe, bytes]:
    """A wheel built in ``zone`` without SOURCE_DATE_EPOCH from an sdist whose two files
    carry WINTER and SUMMER, the build's own files BUILT; and the recipe inferred from it."""
    sdist = make_sdist(
        files=FILES, mtime={"demo/__init__.py": WINTER, "demo/core.py": SUMMER, "PKG-INFO": BUILT}
    )
    times = {"demo/__init__.py": _zip_time(WINTER, zone), "demo/core.py": _zip_time(SUMMER, zone)}
    times |= {f"demo-1.0.dist-info/{leaf}": _zip_time(BUILT, zone) for leaf in DIST_INFO}
    wheel = make_wheel(files=FILES, generator="bdist_wheel (0.36.2)", mtime=times)
    recipe = _infer(wheel, sdist=sdist)
    return recipe, wheel


def test_the_build_clock_is_the_time_the_generated_files_carry() -> None:
    recipe, _ = _published(UTC)
    assert recipe.source_date_epoch is None
    assert recipe.timezone == "UTC"
    assert recipe.build_clock == BUILT - 1  # the zip's 2-second step
    assert "publisher's clock" in _evidence(recipe, "build_clock")


def test_a_record_written_later_is_the_clock_at_the_build_s_end() -> None:
    """bdist_wheel stamps RECORD with the clock as it closes the wheel: 2 s after the other
    .dist-info files here, each a twin of the wheel above but for RECORD's time."""
    sdist = make_sdist(
        files=FILES, mtime={"demo/__init__.py": WINTER, "demo/core.py": SUMMER, "PKG-INFO": BUILT}
    )
    times = {"demo/__init__.py": _zip_time(WINTER, UTC), "demo/core.py": _zip_time(SUMMER, UTC)}
    times |= {f"demo-1.0.dist-info/{leaf}": _zip_time(BUILT, UTC) for leaf in DIST_INFO}
    same = make_wheel(files=FILES, generator="bdist_wheel (0.36.2)", mtime=times)
    times["demo-1.0.dist-info/RECORD"] = _zip_time(BUILT + 2, UTC)
    later = make_wheel(files=FILES, generator="bdist_wheel (0.36.2)", mtime=times)
    assert _infer(same, sdist=sdist).closing_clock is None
    recipe = _infer(later, sdist=sdist)
    assert recipe.build_clock == BUILT - 1
    assert recipe.closing_clock == BUILT + 1  # the zip's 2-second step
    assert "2 s after the other 2 .dist-info files" in _evidence(recipe, "closing_clock")
    # files written at other times besides: no one clock that RECORD's time ends
    times["demo-1.0.dist-info/WHEEL"] = _zip_time(BUILT + 6, UTC)
    apart = make_wheel(files=FILES, generator="bdist_wheel (0.36.2)", mtime=times)
    assert _infer(apart, sdist=sdist).closing_clock is None


def test_dist_info_written_after_the_egg_info_s_files_is_a_later_clock() -> None:
    """bdist_wheel copies the egg-info's files into .dist-info with their times and writes
    METADATA, WHEEL and the licenses later; RECORD last. Twins: one time on all of them."""
    egg = {"demo.egg-info/top_level.txt": b"demo\n", "demo.egg-info/entry_points.txt": b""}
    sdist = make_sdist(
        files=FILES | egg,
        mtime={"demo/__init__.py": WINTER, "demo/core.py": SUMMER, "PKG-INFO": WINTER},
    )
    copied = {"demo-1.0.dist-info/top_level.txt": b"demo\n"}
    times = {"demo/__init__.py": _zip_time(WINTER, UTC), "demo/core.py": _zip_time(SUMMER, UTC)}
    times |= {f"demo-1.0.dist-info/{leaf}": _zip_time(BUILT, UTC) for leaf in DIST_INFO}
    times["demo-1.0.dist-info/top_level.txt"] = _zip_time(BUILT, UTC)
    wheel = functools.partial(make_wheel, files=FILES | copied, generator="setuptools (80.9.0)")
    one = _infer(wheel(mtime=times), sdist=sdist)
    assert one.dist_info_clock is None and one.closing_clock is None
    for leaf in ("METADATA", "WHEEL", "RECORD"):
        times[f"demo-1.0.dist-info/{leaf}"] = _zip_time(BUILT + 12, UTC)
    two = _infer(wheel(mtime=times), sdist=sdist)
    assert two.build_clock == BUILT - 1
    assert two.dist_info_clock == BUILT + 11
    assert two.closing_clock == BUILT + 11  # RECORD's: the clock read then
    assert "METADATA, WHEEL in .dist-info carry a time 12 s after top_level.txt" in _evidence(
        two, "dist_info_clock"
    )
    times["demo-1.0.dist-info/RECORD"] = _zip_time(BUILT + 20, UTC)
    three = _infer(wheel(mtime=times), sdist=sdist)
    assert (three.dist_info_clock, three.closing_clock) == (BUILT + 11, BUILT + 19)
    # a file of no egg-info at the earlier time: not this writer's two steps
    times["demo-1.0.dist-info/WHEEL"] = _zip_time(BUILT, UTC)
    assert _infer(wheel(mtime=times), sdist=sdist).dist_info_clock is None


def test_a_fixed_offset_of_the_copied_files_is_the_time_zone() -> None:
    recipe, _ = _published(timezone(timedelta(hours=5, minutes=30)))
    assert recipe.timezone == "<+0530>-5:30"  # POSIX: hours west of UTC
    assert "UTC+05:30" in [e.value for e in recipe.evidence if e.field == "timezone"]
    assert recipe.fitted == ()  # one offset on every copied file: read, not fitted
    assert recipe.build_clock == BUILT - 1  # the zone's local clock, read back as UTC


def test_an_offset_that_follows_summer_time_names_a_zone() -> None:
    recipe, _ = _published(ZoneInfo("America/Los_Angeles"))
    assert recipe.timezone == "America/Los_Angeles"
    # scored against the member times: fitted, not read, with the number of zones tried
    assert "2 of 2 files" in _fitted(recipe, "timezone")
    assert not _evidence(recipe, "timezone")
    (fitted,) = recipe.fitted
    assert fitted.value == "America/Los_Angeles"
    assert fitted.tries > 100
    assert "member times" in fitted.against
    assert recipe.build_clock == BUILT - 1


def test_a_license_copied_in_the_other_season_names_the_zone() -> None:
    """Every module carries winter times, the license summer's: flit copies it into
    .dist-info with its sdist time, one hour further east than the modules'."""
    zone = ZoneInfo("America/Los_Angeles")
    sdist = make_sdist(
        files=FILES | {"LICENSE": b"MIT\n"},
        mtime={"demo/__init__.py": WINTER, "demo/core.py": WINTER, "LICENSE": SUMMER},
    )
    times = {name: _zip_time(WINTER, zone) for name in FILES}
    times |= {f"demo-1.0.dist-info/{leaf}": (2016, 1, 1, 0, 0, 0) for leaf in DIST_INFO}
    times["demo-1.0.dist-info/LICENSE"] = _zip_time(SUMMER, zone)
    files = FILES | {"demo-1.0.dist-info/LICENSE": b"MIT\n"}
    wheel = make_wheel(files=files, generator="flit 3.5.1", mtime=times)
    recipe = _infer(wheel, sdist=sdist)
    assert recipe.timezone == "America/Los_Angeles"
    assert "3 of 3 files" in _fitted(recipe, "timezone")
    assert recipe.build_clock is None  # the license is no clock reading


def test_the_zip_format_s_first_instant_is_no_clock_reading() -> None:
    """poetry-core gives the files it generates zipfile's default time, 1980-01-01."""
    sdist = make_sdist(files=FILES, mtime={"demo/__init__.py": WINTER, "demo/core.py": SUMMER})
    times = {"demo/__init__.py": _zip_time(WINTER, UTC), "demo/core.py": _zip_time(SUMMER, UTC)}
    times |= {f"demo-1.0.dist-info/{leaf}": (1980, 1, 1, 0, 0, 0) for leaf in DIST_INFO}
    wheel = make_wheel(files=FILES, generator="poetry-core 1.6.1", mtime=times)
    recipe = _infer(wheel, sdist=sdist)
    assert recipe.source_date_epoch is None
    assert recipe.build_clock is None


def test_the_zone_s_posix_value_gives_the_same_local_times() -> None:
    recipe, _ = _published(timezone(timedelta(hours=-7)))
    assert recipe.timezone == "<-0700>+7:00"
    hour = subprocess.run(
        [sys.executable, "-c", f"import time; print(time.localtime({WINTER}).tm_hour)"],
        env={**os.environ, "TZ": recipe.timezone},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert hour.strip() == "5"


def test_no_clock_without_an_sdist_or_with_source_date_epoch() -> None:
    _, wheel = _published(UTC)
    alone = _infer(wheel)
    assert alone.build_clock is None
    fixed = _infer(
        make_wheel(files=FILES, mtime=(2023, 1, 1, 0, 0, 0)),
        sdist=make_sdist(files=FILES, mtime=WINTER),
    )
    assert fixed.source_date_epoch is not None
    assert fixed.build_clock is None


def test_a_file_the_sdist_lacks_is_not_the_clock() -> None:
    """A module the publisher's checkout had but the sdist does not keeps its own old time:
    the clock is read from the files the build always writes, the .dist-info ones."""
    sdist = make_sdist(files=FILES, mtime=WINTER)
    extra = {**FILES, "stray.py": b"z = 3\n"}
    times = {name: _zip_time(WINTER, UTC) for name in FILES}
    times["stray.py"] = _zip_time(WINTER - 86400, UTC)
    times |= {f"demo-1.0.dist-info/{leaf}": _zip_time(BUILT, UTC) for leaf in DIST_INFO}
    recipe = _infer(
        make_wheel(files=extra, generator="bdist_wheel (0.31.1)", mtime=times), sdist=sdist
    )
    assert recipe.build_clock == BUILT - 1


@pytest.mark.parametrize(
    ("module_times", "sources_time"),
    [
        ((SUMMER, SUMMER), SUMMER - 1),  # written at one instant after the sdist's: read
        ((WINTER, SUMMER), None),  # the sdist's own times: copies that kept them
        ((SUMMER, SUMMER + 10), None),  # two times: no one instant to read
    ],
)
def test_one_time_on_every_module_and_none_its_sdist_s_is_when_the_sources_were_written(
    module_times: tuple[int, int], sources_time: int | None
) -> None:
    """A wheel built from a copy of the sources made at one instant (or a fresh checkout)
    carries that instant on every module, not the sdist's times: one build-level time, read."""
    sdist = make_sdist(files=FILES, mtime={"demo/__init__.py": WINTER, "demo/core.py": WINTER})
    times = {name: _zip_time(when, UTC) for name, when in zip(FILES, module_times, strict=True)}
    times |= {f"demo-1.0.dist-info/{leaf}": _zip_time(BUILT, UTC) for leaf in DIST_INFO}
    wheel = make_wheel(files=FILES, generator="bdist_wheel (0.36.2)", mtime=times)
    recipe = _infer(wheel, sdist=sdist)
    assert recipe.sources_time == sources_time
    assert recipe.build_clock == BUILT - 1
    said = _evidence(recipe, "sources_time")
    assert ("all 2 files of the package carry one time" in said) is (sources_time is not None)
    # without the sdist nothing tells the sources' time from a copy's
    assert _infer(wheel).sources_time is None


def test_a_backend_default_time_is_not_a_clock() -> None:
    sdist = make_sdist(files=FILES, mtime=WINTER)
    times = {name: _zip_time(WINTER, UTC) for name in FILES}
    times |= {f"demo-1.0.dist-info/{leaf}": (2016, 1, 1, 0, 0, 0) for leaf in DIST_INFO}
    recipe = _infer(make_wheel(files=FILES, generator="flit 3.9.0", mtime=times), sdist=sdist)
    assert recipe.build_clock is None
    assert recipe.timezone == "UTC"


def test_is_pure() -> None:
    assert is_pure("demo-1.0-py3-none-any.whl")
    assert is_pure("demo-1.0-py2.py3-none-any.whl")
    assert not is_pure("demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl")
    assert not is_pure("demo-1.0-cp311-abi3-any.whl")
    assert not is_pure("not-a-wheel.whl")


def test_an_egg_info_file_with_the_sdist_s_time_means_one_setup_py_run() -> None:
    """``setup.py sdist bdist_wheel`` runs egg_info once: the wheel's top_level.txt is the
    sdist's demo.egg-info/top_level.txt, time included, while METADATA is written later."""
    egg_time = BUILT - 4
    files = {**FILES, "demo.egg-info/top_level.txt": b"demo\n"}
    sdist_times = dict.fromkeys(FILES, WINTER) | {"demo.egg-info/top_level.txt": egg_time}
    sdist = make_sdist(files=files, mtime=sdist_times)
    times = {name: _zip_time(WINTER, UTC) for name in FILES}
    times |= {f"demo-1.0.dist-info/{leaf}": _zip_time(BUILT, UTC) for leaf in DIST_INFO}
    times["demo-1.0.dist-info/top_level.txt"] = _zip_time(egg_time, UTC)
    wheel_files = {**FILES, "demo-1.0.dist-info/top_level.txt": b"demo\n"}
    wheel = make_wheel(files=wheel_files, generator="bdist_wheel (0.36.2)", mtime=times)
    recipe = _infer(wheel, sdist=sdist)
    assert recipe.keep_egg_info
    assert "top_level.txt" in _evidence(recipe, "keep_egg_info")
    assert recipe.build_clock == BUILT - 1
    assert not _published(UTC)[0].keep_egg_info


def test_an_egg_info_time_2_s_before_the_sdist_s_is_the_build_s_own() -> None:
    """The wheel built first, its files all at :04, and the sdist's egg-info at :06 (an even
    second, which a copy keeps): top_level.txt at :04 is within _fits' tolerance of the sdist's
    time, but written before it, with the other build files: no kept copy."""
    egg_time = BUILT - 1  # :06
    files = {**FILES, "demo.egg-info/top_level.txt": b"demo\n"}
    sdist_times = dict.fromkeys(FILES, WINTER) | {"demo.egg-info/top_level.txt": egg_time}
    sdist = make_sdist(files=files, mtime=sdist_times)
    times = {name: _zip_time(WINTER, UTC) for name in FILES}
    times |= {f"demo-1.0.dist-info/{leaf}": _zip_time(BUILT - 3, UTC) for leaf in DIST_INFO}
    times["demo-1.0.dist-info/top_level.txt"] = _zip_time(BUILT - 3, UTC)
    wheel_files = {**FILES, "demo-1.0.dist-info/top_level.txt": b"demo\n"}
    wheel = make_wheel(files=wheel_files, generator="bdist_wheel (0.37.1)", mtime=times)
    recipe = _infer(wheel, sdist=sdist)
    assert not recipe.keep_egg_info
    assert recipe.build_clock == BUILT - 3


@pytest.mark.parametrize(("wheel_time", "kept"), [(BUILT - 3, True), (BUILT - 1, False)])
def test_an_egg_info_time_one_second_later_is_the_build_s_own(wheel_time: int, kept: bool) -> None:
    """`python -m build` makes the sdist and then the wheel within a second: top_level.txt
    written by the wheel build one second after the sdist's (at :06, the sdist's at :05) is
    the build's clock, not a kept copy, which rounds the sdist's time down (to :04)."""
    egg_time = BUILT - 2  # an odd second
    files = {**FILES, "demo.egg-info/top_level.txt": b"demo\n"}
    sdist_times = dict.fromkeys(FILES, WINTER) | {"demo.egg-info/top_level.txt": egg_time}
    sdist = make_sdist(files=files, mtime=sdist_times)
    times = {name: _zip_time(WINTER, UTC) for name in FILES}
    times |= {f"demo-1.0.dist-info/{leaf}": _zip_time(BUILT - 1, UTC) for leaf in DIST_INFO}
    times["demo-1.0.dist-info/top_level.txt"] = _zip_time(wheel_time, UTC)
    wheel_files = {**FILES, "demo-1.0.dist-info/top_level.txt": b"demo\n"}
    wheel = make_wheel(files=wheel_files, generator="setuptools (80.9.0)", mtime=times)
    recipe = _infer(wheel, sdist=sdist)
    assert recipe.keep_egg_info is kept
    assert recipe.build_clock == BUILT - 1


@pytest.mark.parametrize(
    ("backend", "setup_py"),
    [("poetry.core.masonry.api", True), ("setuptools.build_meta", False), ("", False)],
)
def test_a_bdist_wheel_wheel_of_a_poetry_project_was_built_by_setup_py(
    backend: str, setup_py: bool
) -> None:
    pyproject = f'[build-system]\nrequires = []\nbuild-backend = "{backend}"\n' if backend else ""
    files = {**FILES, "setup.py": b"from setuptools import setup\nsetup()\n"}
    sdist = make_sdist(files={**files, "pyproject.toml": pyproject.encode()})
    wheel = make_wheel(files=FILES, generator="bdist_wheel (0.37.1)")
    recipe = _infer(wheel, sdist=sdist)
    assert recipe.setup_py is setup_py
    if setup_py:
        assert backend in _evidence(recipe, "setup_py")
