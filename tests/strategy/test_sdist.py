"""An sdist's recipe: read from the sdist, and inherited from the wheel's with its evidence."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime

import pytest

from reprobuild.archive import parse_archive
from reprobuild.strategy import Evidence, Fitted, Recipe, infer_sdist_recipe
from tests.factories import make_sdist

UPLOAD = datetime(2021, 3, 6, tzinfo=UTC)
FILES = {"demo/__init__.py": b"x = 1\n", "demo/core.py": b"y = 2\n"}
#: what no recipe field needs evidence for: the evidence and fitted records themselves
_HOW = {"evidence", "fitted"}

WHEEL_RECIPE = Recipe(
    requirements=("wheel==0.36.2",),
    python="3.11.7",
    wanted_python="3.11",
    build_clock=1_600_000_000,
    exclude_newer=datetime(2021, 3, 5, tzinfo=UTC),
    timezone="Europe/Berlin",
    setup_py=True,
    hash_seed=3,
    keep_egg_info=True,
    normalized=True,
    evidence=(
        Evidence(field="requirements", value="wheel==0.36.2", reason="WHEEL Generator"),
        Evidence(field="exclude_newer", value="2021-03-05", reason="uploaded 2021-03-05"),
        Evidence(field="wanted_python", value="3.11", reason="the newest CPython"),
        Evidence(field="python", value="3.11.7", reason="this machine has it"),
        Evidence(field="setup_py", value="yes", reason="setup.py beside flit"),
    ),
    fitted=(
        Fitted(field="timezone", value="Europe/Berlin", tries=400, against="t", reason="r"),
        Fitted(field="hash_seed", value="3", tries=4, against="b", reason="r"),
    ),
)


def _explained(recipe: Recipe) -> set[str]:
    return {e.field for e in recipe.evidence} | {f.field for f in recipe.fitted}


def _set_fields(recipe: Recipe) -> set[str]:
    """The fields whose value is not the default's."""
    default = Recipe()
    return {
        f.name
        for f in fields(Recipe)
        if f.name not in _HOW and getattr(recipe, f.name) != getattr(default, f.name)
    }


@pytest.mark.parametrize("base", [WHEEL_RECIPE, None], ids=["with a wheel", "without"])
@pytest.mark.parametrize("upload", [UPLOAD, None], ids=["uploaded", "local"])
@pytest.mark.parametrize("one_time", [True, False], ids=["one time", "checkout times"])
def test_every_field_an_sdist_recipe_sets_has_its_evidence(
    base: Recipe | None, upload: datetime | None, one_time: bool
) -> None:
    mtime = 1_600_000_000 if one_time else {"demo/__init__.py": 1_500_000_000}
    sdist = parse_archive(make_sdist(files=FILES, mtime=mtime, gzip_mtime=1_600_000_100))
    recipe = infer_sdist_recipe(sdist, upload_time=upload, base=base)
    assert _set_fields(recipe) <= _explained(recipe)


def test_only_the_backend_python_and_cut_off_are_inherited() -> None:
    sdist = parse_archive(make_sdist(files=FILES, mtime={"demo/__init__.py": 1_500_000_000}))
    recipe = infer_sdist_recipe(sdist, upload_time=None, base=WHEEL_RECIPE)
    assert recipe.requirements == WHEEL_RECIPE.requirements
    assert (recipe.python, recipe.wanted_python) == ("3.11.7", "3.11")
    assert recipe.exclude_newer == WHEEL_RECIPE.exclude_newer  # a local sdist: the wheel's
    (cutoff,) = [e for e in recipe.evidence if e.field == "exclude_newer"]
    assert cutoff.reason == (
        "no upload time (a local file): the wheel's cut-off (uploaded 2021-03-05)"
    )
    inherited = {e.field: e.reason for e in recipe.evidence if e.reason.startswith("from the")}
    assert inherited == {
        "requirements": "from the wheel: WHEEL Generator",
        "wanted_python": "from the wheel: the newest CPython",
        "python": "from the wheel: this machine has it",
    }
    # the wheel's build, its clock, zone and fitted seed are not the sdist's
    assert recipe.hash_seed == 0
    assert recipe.timezone == "UTC"
    assert not recipe.setup_py and not recipe.keep_egg_info and not recipe.normalized
    assert recipe.fitted == ()
    assert recipe.build_clock != WHEEL_RECIPE.build_clock


def test_inheriting_twice_marks_the_evidence_once() -> None:
    sdist = parse_archive(make_sdist(files=FILES, mtime=1_600_000_000))
    once = infer_sdist_recipe(sdist, upload_time=UPLOAD, base=WHEEL_RECIPE)
    twice = infer_sdist_recipe(sdist, upload_time=UPLOAD, base=once)
    assert [e for e in twice.evidence if e.field == "requirements"] == [
        e for e in once.evidence if e.field == "requirements"
    ]


def test_without_a_wheel_the_sdist_recipe_says_where_the_backend_comes_from() -> None:
    sdist = parse_archive(make_sdist(files=FILES, mtime=1_600_000_000))
    recipe = infer_sdist_recipe(sdist, upload_time=UPLOAD, base=None)
    (said,) = [e for e in recipe.evidence if e.field == "requirements"]
    assert "the project's own build requirements" in said.reason
