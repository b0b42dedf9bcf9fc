"""A pure wheel's tag names the Python that built it only when it names a minor version."""

from __future__ import annotations

import pytest

from reprobuild.strategy.tags import named_python, python2_only


@pytest.mark.parametrize(
    ("filename", "named"),
    [
        ("backrefs-8.3.1-py312-none-any.whl", ("3.12", "py312")),
        ("backrefs-8.3.1-py39-none-any.whl", ("3.9", "py39")),
        ("demo-1.0-cp311-none-any.whl", ("3.11", "cp311")),
        ("demo-1.0-py3-none-any.whl", None),
        ("demo-1.0-py2.py3-none-any.whl", None),
        ("demo-1.0-py310.py311-none-any.whl", None),
        ("demo-1.0-py310.py3-none-any.whl", None),
        ("not a wheel name", None),
    ],
)
def test_a_tag_names_a_python_only_with_its_minor(
    filename: str, named: tuple[str, str] | None
) -> None:
    assert named_python(filename) == named


@pytest.mark.parametrize(
    ("filename", "only"),
    [
        ("python3_saml-1.16.0-py2-none-any.whl", True),
        ("demo-1.0-py27-none-any.whl", True),
        ("demo-1.0-py2.py3-none-any.whl", False),
        ("python3_saml-1.16.0-py3-none-any.whl", False),
    ],
)
def test_a_python_2_wheel_is_told_by_its_tags(filename: str, only: bool) -> None:
    assert python2_only(filename) is only


def test_the_python_a_tag_names_is_the_one_the_rebuild_wants() -> None:
    from datetime import UTC, datetime

    from reprobuild.archive import parse_archive
    from reprobuild.strategy import infer_recipe
    from tests.factories import make_wheel, wheel_filename

    def wanted(tag: str) -> tuple[str | None, str]:
        recipe = infer_recipe(
            parse_archive(make_wheel(tag=tag)),
            filename=wheel_filename(tag=tag),
            upload_time=datetime(2025, 11, 1, tzinfo=UTC),
            pythons=("3.11.7", "3.12.1", "3.14.0"),
        )
        reason = " | ".join(e.reason for e in recipe.evidence if e.field == "wanted_python")
        return recipe.wanted_python, reason

    assert wanted("py312-none-any")[0] == "3.12"
    assert "the wheel's tag py312 names Python 3.12" in wanted("py312-none-any")[1]
    # py3 names no minor version: the newest Python of the day
    assert wanted("py3-none-any")[0] == "3.14"
