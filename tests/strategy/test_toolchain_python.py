"""The Python a rebuild wants is one its inferred toolchain runs on: setuptools older than 66.1
cannot be imported on Python 3.12 or newer (``pkgutil.ImpImporter`` is gone), so a publisher
who used one built on 3.11 at the newest, whatever the newest Python of the day was."""

from __future__ import annotations

from datetime import UTC, datetime

from reprobuild.archive import parse_archive
from reprobuild.strategy import infer_recipe
from tests.factories import make_wheel, wheel_filename

#: a day when 3.13 was the newest CPython, after the setuptools releases METADATA tells apart
LATE = datetime(2025, 4, 24, tzinfo=UTC)
PYTHONS = ("3.11.7", "3.12.1", "3.13.0")
OLD_SETUPTOOLS_METADATA = (
    b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nPlatform: UNKNOWN\n\nText\n"
)


def _recipe(generator: str, metadata: bytes | None = None) -> tuple[str, str, str]:
    recipe = infer_recipe(
        parse_archive(make_wheel(generator=generator, metadata=metadata)),
        filename=wheel_filename(),
        upload_time=LATE,
        pythons=PYTHONS,
    )
    reason = " | ".join(e.reason for e in recipe.evidence if e.field == "wanted_python")
    return recipe.wanted_python or "", recipe.python or "", reason


def test_a_setuptools_bound_below_66_1_keeps_the_python_at_3_11() -> None:
    wanted, python, reason = _recipe("bdist_wheel (0.37.1)", OLD_SETUPTOOLS_METADATA)
    assert (wanted, python) == ("3.11", "3.11.7")
    assert "setuptools<62.2 runs on Python 3.11 at the newest" in reason
    assert "ImpImporter" in reason and "not 3.13" in reason


def test_a_setuptools_pin_below_66_1_keeps_the_python_at_3_11() -> None:
    assert _recipe("setuptools (65.5.0)")[:2] == ("3.11", "3.11.7")


def test_a_newer_setuptools_or_none_named_leaves_the_newest_python() -> None:
    assert _recipe("setuptools (66.1.0)")[:2] == ("3.13", "3.13.0")
    assert _recipe("setuptools (75.1.0)")[:2] == ("3.13", "3.13.0")
    # the wheel package's bdist_wheel alone bounds no setuptools
    assert _recipe("bdist_wheel (0.37.1)")[:2] == ("3.13", "3.13.0")
    assert _recipe("hatchling 1.21.0")[:2] == ("3.13", "3.13.0")
