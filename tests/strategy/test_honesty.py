"""The honesty rule: a recipe holds build-level facts, never per-member data of the published
file. Property: changing the published wheel's per-member data (names, contents, how many
files, their order, the compression, the times of files copied from the sdist) without
changing a build-level fact (the backend, the tags, the metadata, the one time or the build's
clock, the modes) changes nothing in the inferred recipe."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reprobuild.archive import parse_archive
from reprobuild.strategy import Recipe, infer_recipe
from tests.factories import make_sdist, make_wheel, wheel_filename

UPLOAD = datetime(2021, 6, 1, tzinfo=UTC)
GENERATOR = "bdist_wheel (0.36.2)"
#: the one time of a build with SOURCE_DATE_EPOCH
STAMP = (2021, 5, 4, 3, 2, 0)
#: the clock of a build without it: the time of the files the build writes
BUILT = int(datetime(2021, 5, 30, 12, 0, 1, tzinfo=UTC).timestamp())
DIST_INFO = ("METADATA", "WHEEL", "RECORD")

names = st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), min_size=1, max_size=6)
contents = st.binary(max_size=300)
#: times the publisher's checkout gave its files (2001 to 2021), even: a zip time's 2 seconds
times = st.integers(min_value=1_000_000_000 // 2, max_value=1_620_000_000 // 2).map(lambda t: t * 2)


def _facts(recipe: Recipe) -> tuple[Recipe, tuple[tuple[str, str], ...]]:
    """The recipe's fields and what each piece of evidence and fitting concluded (the reasons
    may count the files: a count is no member's data)."""
    said = tuple((e.field, e.value) for e in recipe.evidence)
    fitted = tuple((f.field, f.value) for f in recipe.fitted)
    return replace(recipe, evidence=(), fitted=()), said + fitted


def _infer(wheel: bytes, sdist: bytes | None = None) -> Recipe:
    return infer_recipe(
        parse_archive(wheel),
        filename=wheel_filename(),
        upload_time=UPLOAD,
        pythons=("3.9.18", "3.11.7"),
        sdist=parse_archive(sdist) if sdist is not None else None,
    )


def _zip_time(when: int) -> tuple[int, int, int, int, int, int]:
    moment = datetime.fromtimestamp(when, UTC)
    return (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)


BASE_FILES = {"demo/__init__.py": b"x = 1\n"}
#: the recipe of a wheel built with SOURCE_DATE_EPOCH
WITH_EPOCH = _facts(_infer(make_wheel(files=BASE_FILES, generator=GENERATOR, mtime=STAMP)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    files=st.dictionaries(names.map(lambda n: f"demo/{'/'.join(n)}.py"), contents, min_size=1),
    level=st.sampled_from([1, 6, 9]),
    reverse=st.booleans(),
)
def test_with_one_time_the_recipe_ignores_the_members(
    files: dict[str, bytes], level: int, reverse: bool
) -> None:
    order = sorted(files, reverse=reverse)
    wheel = make_wheel(
        files=files, generator=GENERATOR, mtime=STAMP, compress_level=level, order=order
    )
    assert _facts(_infer(wheel)) == WITH_EPOCH


def _built_without_epoch(files: dict[str, bytes], when: dict[str, int]) -> tuple[bytes, bytes]:
    """An sdist whose files carry ``when``, and the wheel built from it without
    SOURCE_DATE_EPOCH: the copied files keep those times, the build's own carry BUILT."""
    sdist = make_sdist(files=files, mtime={**when, "PKG-INFO": BUILT - 60})
    stamps = {name: _zip_time(when[name]) for name in files}
    stamps |= {f"demo-1.0.dist-info/{leaf}": _zip_time(BUILT) for leaf in DIST_INFO}
    return make_wheel(files=files, generator=GENERATOR, mtime=stamps), sdist


#: the recipe of a wheel built without SOURCE_DATE_EPOCH, from its sdist
WITHOUT_EPOCH = _facts(
    _infer(
        *_built_without_epoch(
            {"demo/__init__.py": b"x = 1\n", "demo/core.py": b"y = 2\n"},
            {"demo/__init__.py": 1_500_000_000, "demo/core.py": 1_500_000_100},
        )
    )
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    members=st.dictionaries(
        names.map(lambda n: f"demo/{'/'.join(n)}.py"),
        st.tuples(contents, times),
        min_size=2,
    ),
)
def test_without_source_date_epoch_the_recipe_ignores_the_copied_files_times(
    members: dict[str, tuple[bytes, int]],
) -> None:
    files = {name: data for name, (data, _) in members.items()}
    when = {name: moment for name, (_, moment) in members.items()}
    if len(set(when.values())) == 1:  # one time on every copied file is another build fact
        when[next(iter(when))] += 2
    recipe = _infer(*_built_without_epoch(files, when))
    assert recipe.build_clock == BUILT - 1  # the zip's 2-second step
    assert _facts(recipe) == WITHOUT_EPOCH
