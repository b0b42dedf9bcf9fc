"""Inferring a recipe from a published wheel: each field from one observation, with evidence."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reprobuild.archive import parse_archive
from reprobuild.strategy import Recipe, infer_recipe, is_pure, parse_generator
from tests.factories import make_wheel, wheel_filename

UPLOAD = datetime(2020, 6, 26, 22, 45, tzinfo=UTC)
PYTHONS = ("3.8.18", "3.11.7", "3.12.1")


def _infer(
    data: bytes, *, upload: datetime | None = UPLOAD, pythons: tuple[str, ...] = PYTHONS
) -> Recipe:
    return infer_recipe(
        parse_archive(data), filename=wheel_filename(), upload_time=upload, pythons=pythons
    )


def _evidence(recipe: Recipe, field: str) -> str:
    return " | ".join(e.reason for e in recipe.evidence if e.field == field)


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


def test_the_cut_off_is_the_upload_time_else_the_newest_member() -> None:
    assert _infer(make_wheel()).exclude_newer == UPLOAD
    local = _infer(make_wheel(mtime=(2019, 5, 5, 0, 0, 0)), upload=None)
    assert local.exclude_newer == datetime(2019, 5, 5, tzinfo=UTC)
    assert "local file" in _evidence(local, "exclude_newer")


def test_python_is_the_newest_at_upload_within_requires_python() -> None:
    recipe = _infer(make_wheel())
    assert (recipe.wanted_python, recipe.python) == ("3.8", "3.8.18")
    metadata = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Python: <3.8\n"
    older = _infer(make_wheel(metadata=metadata))
    assert older.wanted_python == "3.7"
    # this machine has no 3.7: the nearest is used, and the substitution is said
    assert older.python == "3.8.18"
    assert "substitution" in _evidence(older, "python")


def test_no_interpreter_known() -> None:
    recipe = _infer(make_wheel(), pythons=())
    assert recipe.python is None


def test_the_recipe_holds_no_member_data() -> None:
    """The honesty rule: nothing per member goes into a recipe, however many members."""
    files = {f"demo/m{i}.py": b"x = %d\n" % i for i in range(50)}
    recipe = _infer(make_wheel(files=files, mtime=(2020, 6, 26, 22, 42, 20)))
    assert len(recipe.evidence) < 10
    assert not any("demo/m" in e.value or "demo/m" in e.reason for e in recipe.evidence)


def test_is_pure() -> None:
    assert is_pure("demo-1.0-py3-none-any.whl")
    assert is_pure("demo-1.0-py2.py3-none-any.whl")
    assert not is_pure("demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl")
    assert not is_pure("demo-1.0-cp311-abi3-any.whl")
    assert not is_pure("not-a-wheel.whl")
